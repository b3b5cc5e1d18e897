"""Production settings for the configs tgdeploy derives: secrets that are not in the
repository, debug-only settings off, error reports that reach someone.

Secrets are the settings whose name ends in secret, secret_key, validate_key, encrypt_key or
cookie_secret (TurboGears 2: session.secret, session.validate_key, sa_auth.cookie_secret;
older ones: beaker.session.*; any such key in a TurboGears 1.x .cfg). Checked and found to
hold none by default: TurboGears 1.x quickstarts (visit and identity keys are random per
visit), CherryPy (session ids are random, nothing is signed). The first deploy writes fresh
random values; a later run keeps the ones the installed config holds, unless they are the
repository's own; --rotate-secrets makes new ones; --secrets-from FILE takes them from a
file the operator keeps (several hosts must share them). TurboGears 2.4+ reads the ini
after app_cfg.py's blueprint, so the ini's sa_auth.cookie_secret wins over app_cfg.py's.
"""
import binascii
import glob
import os
import re

from tgdeploy.settle import installed as installed_files, write_locations
from tgdeploy.settle.config_settings import SETTING, app_cfg_path, is_secret, unquote
from tgdeploy.errors import TgDeployError
from tgdeploy.detect.projectfiles import check_small_file, read_text

# app_cfg.py: the blueprint's 'sa_auth.cookie_secret': "..." (TG 2.4+), or the older
# base_config.sa_auth.cookie_secret = "..." (TG 2.1-2.3).
APP_CFG_SECRETS = (
    re.compile(r'''['"](sa_auth\.cookie_secret)['"]\s*:\s*['"]([^'"]*)['"]'''),
    re.compile(r'''^\s*base_config\.(sa_auth\.cookie_secret)\s*=\s*['"]([^'"]*)['"]''', re.M),
)
# What an operator's secret may hold: it lands in ini and .cfg lines, so no quote,
# backslash, space or "%" (PasteDeploy interpolation).
USABLE_SECRET = re.compile(r'^[A-Za-z0-9!#$&()*+,./:;<=>?@\[\]^_{|}~-]{16,}\Z')
SECRET_BYTES = 32


def new_secret():
    return binascii.hexlify(os.urandom(SECRET_BYTES)).decode('ascii')


# -- reading ----------------------------------------------------------------------------

def settings_in(path):
    """[(key, value)] of the uncommented settings of an ini or TurboGears 1.x .cfg file,
    values without their quotes; [] for a file that is not there."""
    if not path or not os.path.isfile(path):
        return []
    found = []
    for line in read_text(path).splitlines(True):  # in any encoding (textfiles.py)
        match = SETTING.match(line)
        if match and not line.lstrip().startswith(('#', ';', '[')):
            found.append((match.group('key'), unquote(match.group('value'))))
    return found


def secrets_in(path):
    return dict((key, value) for key, value in settings_in(path) if is_secret(key))


def app_cfg_secrets(path):
    """Secrets a TurboGears 2 app_cfg.py sets in its blueprint."""
    if not path or not os.path.isfile(path):
        return {}
    text = read_text(path)  # in any encoding (textfiles.py)
    found = {}
    for pattern in APP_CFG_SECRETS:
        found.update(pattern.findall(text))
    return found


def repository_files(project_dir, package_dir, config_file):
    """The project's own files that may hold secrets: its top-level configs, the one it
    deploys from, and TurboGears 2's app_cfg.py (all normally committed)."""
    names = sorted(n for n in os.listdir(project_dir) if n.endswith(('.ini', '.cfg', '.conf')))
    paths = [os.path.join(project_dir, n) for n in names]
    if config_file and config_file not in paths:
        paths.append(config_file)
    return paths + ([app_cfg_path(package_dir)] if package_dir else [])


def repository_secrets(paths):
    """{value: 'file: key'} of every secret the project's own files hold."""
    found = {}
    for path in paths:
        pairs = app_cfg_secrets(path) if path.endswith('.py') else secrets_in(path)
        for key, value in pairs.items():
            if value:
                found.setdefault(value, '%s: %s' % (os.path.basename(path), key))
    return found


# -- deciding ---------------------------------------------------------------------------

def settle_secrets(wanted, installed, repository, rotate=False, secrets_from=None):
    """({key: value}, {key: where it came from}) for every secret key in ``wanted``:
    ``secrets_from``'s, else the ``installed`` config's (unless ``rotate``, or the value
    is one of the ``repository``'s), else a fresh one."""
    if secrets_from:
        given = read_secrets_file(secrets_from, wanted)
        for key in sorted(given):
            if given[key] in repository:
                raise TgDeployError('--secrets-from %s: the value of %s is also in the project\'s '
                                    'own files (%s), so anyone who reads the repository has it: '
                                    'put a fresh one in the file' % (secrets_from, key,
                                                                      repository[given[key]]))
        return given, dict((key, 'from %s' % secrets_from) for key in given)
    # Only from a file tgdeploy wrote (installed.py): never through another user's symlink.
    found, why = ({}, None) if rotate else installed_files.installed_secrets(installed)
    kept = dict(
        (key, value) for key, value in found.items()
        if key in wanted and value and value not in repository and USABLE_SECRET.match(value))
    values, origins = {}, {}
    for key in sorted(wanted):
        values[key] = kept.get(key) or new_secret()
        origins[key] = 'kept from the last deploy' if key in kept else (
            'new, as %s' % why if why else 'new')
    return values, origins


def read_secrets_file(path, wanted):
    if not os.path.isfile(path):
        raise TgDeployError('--secrets-from %s: no such file; write one with a "KEY = VALUE" '
                            'line for each of %s (the first host\'s apache/ ini holds them)'
                            % (path, ', '.join(sorted(wanted))))
    check_small_file('--secrets-from', path)
    try:
        given = secrets_in(path)
    except (IOError, OSError) as e:
        raise TgDeployError('--secrets-from %s: cannot read it (%s): run as a user who may, '
                            'or fix its permissions' % (path, e.strerror))
    missing = sorted(set(wanted) - set(given))
    if missing:
        raise TgDeployError('--secrets-from %s has no %s: add a "KEY = VALUE" line for each'
                            % (path, ', '.join(missing)))
    for key in sorted(wanted):
        if not USABLE_SECRET.match(given[key]):
            raise TgDeployError('--secrets-from %s: the value of %s is not a usable secret: use '
                                '16 or more letters, digits and punctuation other than quotes, '
                                'backslash and %%' % (path, key))
    return dict((key, given[key]) for key in wanted)


def secrets_wanted(config_file, app_cfg):
    """The secret keys the derived config must carry: those of the config it derives from,
    and app_cfg.py's (overridden from the ini)."""
    return sorted(set(secrets_in(config_file)) | set(app_cfg_secrets(app_cfg)))


# -- what production changes ------------------------------------------------------------

WHY = (  # (key pattern, why), first match wins; secrets are told apart by is_secret()
    (r'^(set )?debug$', 'the interactive debugger would let anyone run code on an error'),
    (r'^auto_reload_templates$', 'templates are not re-read on every request'),
    (r'^toscawidgets\.framework\.resource_variant$', 'minified widget resources, not the '
                                                     'debug variant'),
    (r'^trace_errors\.', 'error reports (--error-email, --sentry-dsn)'),
    (r'^server\.environment$', 'production environment: no tracebacks shown to visitors'),
    (r'autoreload\.on$', 'under mod_wsgi a reload re-executes Python: every request fails'),
    (r'^level$', 'INFO rather than DEBUG: logs of a size production can keep'),
    (r'(^|\.)echo$', 'SQL statements not logged'),
    (r'^base_url_filter\.', 'the host comes from Apache, not from an old proxy\'s base_url'),
    (r'(^|\.)(secure|cookie_secure)$', 'cookies sent over HTTPS only (--https-only)'),
    (r'^server\.webpath$', 'the mount comes from Apache (SCRIPT_NAME); a webpath as well made '
                           'every page a 404'),
    (r'^webassets\.cache$', 'webassets\' cache in the data folder: the daemon user cannot '
                            'write public/'),
    (r'^webassets\.base_url$', 'bundles linked under the mount'),
    (r'^(use|script_name)$', 'ToscaWidgets 2 resources linked under the mount '
                             '(tgdeploy.settle.mount_links)'),
)
TG2_DEBUG_OFF = (
    ('toscawidgets.framework.resource_variant', 'min', 'minified widget resources'),
)


def why(key):
    for pattern, reason in WHY:
        if re.search(pattern, key):
            return reason
    return 'absolute paths and the data folder: Apache runs with "/" as working directory'


def settings_of(text):
    """[(section, key, value)] of the uncommented settings in an ini or .cfg text."""
    found, section = [], ''
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith('['):
            section = stripped.strip('[]')
            continue
        match = SETTING.match(line)
        if match and not stripped.startswith(('#', ';')):
            found.append((section, match.group('key'), match.group('value')))
    return found


def changes(source_text, derived_text, origins):
    """One line per setting the derived config changes or adds, secrets never shown."""
    before = dict(((section, key), value) for section, key, value in settings_of(source_text))
    after = settings_of(derived_text)
    lines = ['[%s] %s: removed: %s' % (section, key, why(key)) if section else
             '%s: removed: %s' % (key, why(key))
             for (section, key) in sorted(set(before) - set((s, k) for s, k, _ in after))]
    for section, key, value in after:
        old = before.get((section, key))
        if old == value:
            continue
        where = '[%s] %s' % (section, key) if section else key
        if is_secret(key):
            lines.append('%s: a secret of its own (%s), not the repository\'s'
                         % (where, origins.get(key, 'new')))
        else:
            lines.append('%s = %s (%s): %s' % (where, value, 'added' if old is None else
                                               'was %s' % old, why(key)))
    return lines


# CherryPy global settings the generated ini forces (egg:tgdeploy#cherrypy applies its
# settings after the application's own config file).
CHERRYPY_PRODUCTION = (
    ('engine.autoreload.on', 'False'),
    ('request.show_tracebacks', 'False'),
    ('request.show_mismatched_params', 'False'),
    ('log.screen', 'False'),
)


# Session and login cookies marked Secure under --https-only, per framework: TurboGears 2
# (Beaker's session, repoze.who's auth_tkt through TG's sa_auth.authtkt.*), CherryPy 3+
# (its session tool), TurboGears 1.x (its visit cookie; 1.0/1.1 sessions are CherryPy 2's
# session filter, 1.5's CherryPy 3's session tool).
TG2_SECURE_COOKIES = (('session.secure', 'true'), ('sa_auth.authtkt.secure', 'true'))
CHERRYPY_SECURE_COOKIES = (('tools.sessions.secure', 'True'),)
TG1_SECURE_COOKIES = {
    '1.0': (('visit.cookie.secure', 'True'), ('session_filter.cookie_secure', 'True')),
    '1.1': (('visit.cookie.secure', 'True'), ('session_filter.cookie_secure', 'True')),
    '1.5': (('visit.cookie.secure', 'True'), ('tools.sessions.secure', 'True')),
}


def cherrypy_settings(secure_cookies):
    """The CherryPy global settings the generated ini forces."""
    return CHERRYPY_PRODUCTION + (CHERRYPY_SECURE_COOKIES if secure_cookies else ())


def cherrypy_changes(config_file, secure_cookies=False):
    """What the generated ini overrides of the CherryPy config's [global] (or adds)."""
    given = dict(settings_in(config_file))
    lines = []
    for key, value in cherrypy_settings(secure_cookies):
        old = given.get(key)
        if old is None or old.strip() != value:
            lines.append('[app:main] %s = %s (%s): %s' % (
                key, value, 'added' if old is None else 'was %s' % old.strip(),
                why(key) if key in dict(CHERRYPY_SECURE_COOKIES) else
                'production: no reloader, no tracebacks or parameters shown to visitors'))
    return lines


def tg2_settings(secrets, error_email=None, smtp=None, sentry_dsn=None, secure_cookies=False):
    """(key, value, why) a TurboGears 2 production ini must carry."""
    forced = [(key, secrets[key], 'a secret of its own, not the repository\'s')
              for key in sorted(secrets)]
    forced += list(TG2_DEBUG_OFF)
    if secure_cookies:
        forced += [(key, value, why(key)) for key, value in TG2_SECURE_COOKIES]
    if error_email:
        host, port = smtp
        forced += [('trace_errors.enable', 'true', 'error reports by mail'),
                   ('trace_errors.error_email', error_email, 'error reports by mail'),
                   ('trace_errors.smtp_server', host, 'error reports by mail'),
                   ('trace_errors.smtp_port', str(port), 'error reports by mail')]
    if sentry_dsn:
        forced += [('trace_errors.enable', 'true', 'error reports to Sentry'),
                   ('trace_errors.sentry_dsn', sentry_dsn, 'error reports to Sentry')]
    return forced


def redact(line):
    """A line of a config or of a diff, with the value of a secret setting hidden."""
    prefix = ''
    if line[:1] in ('+', '-', ' ') and not line.startswith(('+++', '---')):
        prefix, line = line[:1], line[1:]
    match = SETTING.match(line)
    if match and is_secret(match.group('key')):
        return '%s%s = (secret, not shown)' % (prefix, match.group('key'))
    return prefix + line


# -- the doctor -------------------------------------------------------------------------

def deployed_text(values):
    """The text of the config the deployment runs with (the one tgdeploy derives, or the
    project's own ini deployed as it is)."""
    if values.tg1.cfg:
        return values.tg1.cfg
    if values.config.derived_ini:
        return values.config.derived_ini
    path = values.config.file
    if values.project.flavor == 'tg2' and path and os.path.isfile(path):
        return read_text(path)  # in any encoding (textfiles.py)
    return ''


def doctor(values):
    """[(level, text)]: secrets the repository holds too; no error reports configured."""
    text = deployed_text(values)
    deployed = dict((key, value) for _, key, value in settings_of(text) if is_secret(key))
    where = values.tg1.cfg_file or values.config.file
    found = []
    for key in sorted(deployed):
        origin = values.production.repository_secrets.get(unquote(deployed[key]))
        if origin:
            found.append(('warning', '%s in %s is also in the project\'s own files (%s): anyone '
                                     'who can read the repository can forge its cookies; '
                                     'deploy with secrets of their own (tgdeploy derives '
                                     'them from development.ini; --rotate-secrets, or '
                                     '--secrets-from a file outside the project)'
                          % (key, where, origin)))
    found += unset_app_cfg_secrets(values, deployed, where)
    readable = values.production.secrets_from and installed_files.others_may_read(
        values.production.secrets_from)
    if readable:
        found.append(('warning', '--secrets-from: ' + readable))
    found += write_locations.findings(values)
    if values.production.sentry_dsn and not glob.glob(os.path.join(
            values.python.home, 'lib', 'python*', 'site-packages', 'raven')):
        found.append(('warning', '--sentry-dsn needs raven, which is not installed in %s: '
                                 '%s/bin/pip install raven' % (values.python.home,
                                                              values.python.home)))
    if not reports_errors(values, text):
        found.append(('warning', 'no error reports are configured: a 500 reaches no one but '
                                 'Apache\'s error log; pass --error-email ADDRESS'
                                 '%s' % (' (or --sentry-dsn)' if values.project.flavor == 'tg2'
                                         else '')))
    return found


def unset_app_cfg_secrets(values, deployed, where):
    if values.project.flavor != 'tg2':
        return []
    app_cfg = app_cfg_path(values.project.package_dir)
    return [('warning', '%s sets %s and %s does not override it: the repository\'s value signs '
                        'the login cookies; set %s in [app:main] (TurboGears 2.4+ reads it '
                        'after app_cfg.py)' % (app_cfg, key, where, key))
            for key in sorted(app_cfg_secrets(app_cfg)) if key not in deployed]


def reports_errors(values, text):
    if values.project.flavor == 'tg1':
        return True  # no such settings exist: nothing to advise
    if values.project.flavor == 'cherrypy':
        return bool(values.production.error_email)
    settings = dict((key, value.strip().lower()) for _, key, value in settings_of(text))
    if settings.get('trace_errors.enable') in ('false', 'no', 'off', '0'):
        return False
    return bool(settings.get('trace_errors.error_email') or settings.get('trace_errors.sentry_dsn'))
