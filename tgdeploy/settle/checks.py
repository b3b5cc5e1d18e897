"""The validators of what reaches Apache, the ini and the daemon: names, counts, choices,
users and groups, paths, and the refusal of options a deployment would ignore.

Names that reach Apache (mount, user, host, locale) are checked against a strict pattern
here, so the templates write them as they are. Paths are quoted instead (quoting.py), so a
project under "My Projects" or "shop \u00e9" deploys; check_path refuses only what no
quoting carries. Each refusal is one line naming the problem and the fix (TgDeployError).
"""
import grp
import os
import pwd
import re
import shlex

from tgdeploy.detect.project import FLAVOR_NAMES
from tgdeploy.errors import TgDeployError
from tgdeploy.settle.table import OPTION_DEFAULTS

MAX_HOST_NAME = 253

# What no quoting carries into Apache config or the ini (each proven in tests/test_day_two.py
# and tests/test_options.py): the config is read line by line (newline, carriage return),
# C strings end at NUL, Apache expands ${NAME} on every line before it parses it (quoted or
# not), and PasteDeploy's ini reads % as the start of an interpolation.
UNCARRIED = re.compile(r'[\n\r\x00%]|\$\{')
SAFE_MOUNT = re.compile(r'^/([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?\Z')
# ASCII only, spelt out: with re.I, [a-z] would also match the Kelvin sign (U+212A).
SAFE_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_.-]*\$?\Z')
SAFE_HOST = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\Z')
SAFE_LOCALE = re.compile(r'^[A-Za-z0-9_.@-]+\Z')


def check_mount(mount):
    if not mount.startswith('/'):
        raise TgDeployError('mount %r must start with "/": use for example --mount /%s'
                            % (mount, mount.strip('/')))
    if mount != '/' and mount.endswith('/'):
        raise TgDeployError('mount %r must not end with "/": use --mount %s'
                            % (mount, mount.rstrip('/') or '/'))
    if not SAFE_MOUNT.match(mount):
        raise TgDeployError('mount %r may hold only letters, digits and ._~- between slashes'
                            % mount)
    if set(mount.split('/')) & set(['.', '..']):
        raise TgDeployError('mount %r holds a "." or ".." segment, which no URL reaches: use '
                            'plain names such as /shop' % mount)
    return mount


def check_choice(name, value, choices):
    if value not in choices:
        raise TgDeployError('--%s %r is not one of %s' % (name, value, ', '.join(choices)))
    return value


def check_count(name, value, low, high):
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise TgDeployError('--%s %r must be a whole number from %d to %d'
                            % (name.replace('_', '-'), value, low, high))
    return number


def check_name(name, value):
    if not SAFE_NAME.match(value) or len(value) > 32:
        raise TgDeployError('--%s %r is not a valid user or group name' % (name, value))
    return value


def check_user(user, elsewhere=False):
    if account_is_root('user', user, lambda name: pwd.getpwnam(name).pw_uid, elsewhere):
        raise TgDeployError('--user %s: mod_wsgi refuses to run an application as root; '
                            'use an unprivileged user such as www-data' % user)
    return user


def check_group(group, elsewhere=False):
    if account_is_root('group', group, lambda name: grp.getgrnam(name).gr_gid, elsewhere):
        raise TgDeployError('--group %s is the root group: the daemons would run with gid 0; use '
                            'the daemon user\'s own group such as www-data' % group)
    return group


def account_is_root(kind, name, number_of, elsewhere):
    """Whether the user or group ``name`` is root (id 0); it must exist here unless the
    files are for another machine."""
    check_name(kind, name)
    try:
        return number_of(name) == 0
    except KeyError:
        if not elsewhere and name != 'root':
            raise TgDeployError('--%s %s does not exist on this machine (Apache would refuse '
                                'to start): create it, choose another, or pass --elsewhere yes '
                                'if these files are for another machine' % (kind, name))
        return name == 'root'


def refuse_what_does_not_apply(given, flavor, mode):
    """An option the deployment would ignore is refused, so no one believes it took effect."""
    explicit = set(k for k, v in given.items() if v != OPTION_DEFAULTS.get(k))
    if 'tg_version' in explicit and flavor != 'tg1':
        raise TgDeployError('--tg-version applies to TurboGears 1.x only, and this is a %s '
                            'project: drop it (or pass --flavor tg1)' % FLAVOR_NAMES[flavor])
    if 'port' in explicit and 'server_name' not in explicit:
        raise TgDeployError('--port sets the port of the virtual host, and there is none without '
                            '--server-name: pass --server-name too, or drop --port')
    if 'sentry_dsn' in explicit and flavor != 'tg2':
        raise TgDeployError('--sentry-dsn applies to TurboGears 2 only (its trace_errors '
                            'settings); %s has no Sentry setting: use --error-email'
                            % FLAVOR_NAMES[flavor])
    if 'error_email' in explicit and flavor == 'tg1':
        raise TgDeployError('--error-email: TurboGears 1.x has no error-report settings of its '
                            'own: drop it (its tracebacks go to the error log)')
    if 'smtp_server' in explicit and 'error_email' not in explicit:
        raise TgDeployError('--smtp-server is where error mails go, and there are none without '
                            '--error-email: pass --error-email too, or drop --smtp-server')
    if ('rotate_secrets' in explicit or 'secrets_from' in explicit) and flavor == 'cherrypy':
        raise TgDeployError('--rotate-secrets and --secrets-from apply to the TurboGears configs '
                            'tgdeploy writes; CherryPy has no secret settings: drop them')
    for name in ('processes', 'threads'):
        if name in explicit and mode == 'embedded':
            raise TgDeployError('--%s applies to daemon mode only (embedded mode runs in '
                                'Apache\'s own workers, sized by its MPM): drop it, or use '
                                '--mode daemon' % name)


def check_project_name(name):
    # The name also appears in comment lines of the Apache config: one printable line only.
    if not re.match(r'^[^\x00-\x1f\x7f]+\Z', name):
        raise TgDeployError('project name %r holds control characters: fix the name in '
                            'setup.py, setup.cfg or pyproject.toml' % name)
    return name


def check_host(host):
    if len(host) > MAX_HOST_NAME or not SAFE_HOST.match(host) or \
            any(len(label) > 63 or label.startswith('-') or label.endswith('-')
                for label in host.split('.')):
        raise TgDeployError('--server-name %r is not a host name (letters, digits, dots and '
                            'hyphens; labels of at most 63, in all at most %d)'
                            % (host[:80], MAX_HOST_NAME))
    return host


def check_function(spec):
    dotted = r'[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*'
    if not re.match(r'^%s:%s\Z' % (dotted, dotted), spec):
        raise TgDeployError('--startup %r is not of the form package.module:function' % spec)
    return spec


def check_setenv(given):
    """[(name, value)] from --setenv NAME=VALUE (repeatable; paster create: space-separated)."""
    if not given:
        return []
    if isinstance(given, (list, tuple)):
        items = list(given)
    else:
        try:
            items = shlex.split(given)
        except ValueError as e:
            raise TgDeployError('--setenv %r: %s; quote each NAME=VALUE as a shell would'
                                % (given, e))
    pairs = []
    for item in items:
        name, sep, value = item.partition('=')
        if not sep or not re.match(r'^[A-Za-z_][A-Za-z0-9_]*\Z', name):
            raise TgDeployError('--setenv %r is not NAME=VALUE with a name of letters, digits '
                                'and _' % item)
        if re.search(r'[\x00-\x1f\x7f]', value):
            raise TgDeployError('--setenv %s: the value holds control characters' % name)
        pairs.append((name, value))
    return pairs


def check_locale(locale):
    if not SAFE_LOCALE.match(locale):
        raise TgDeployError('--locale %r is not a locale name such as C.UTF-8' % locale)
    return locale


def check_path(what, path):
    """Any absolute path Apache and the ini can carry once quoted (see UNCARRIED)."""
    found = UNCARRIED.search(path)
    if found:
        raise TgDeployError('%s %r holds %r, which %s: rename the folder' % (
            what, path, found.group(0), 'PasteDeploy reads in an ini as an interpolation'
            if found.group(0) == '%' else 'Apache expands on every config line'
            if found.group(0) == '${' else 'an Apache config line cannot carry'))
    return path


def check_python_home(path, elsewhere=False):
    path = os.path.abspath(path)
    check_path('python home', path)
    if elsewhere:
        return path
    # venv and virtualenv >= 20 write pyvenv.cfg; older virtualenvs leave activate_this.py.
    markers = ('pyvenv.cfg', os.path.join('bin', 'activate_this.py'))
    if not any(os.path.isfile(os.path.join(path, m)) for m in markers):
        raise TgDeployError('python home %s is not a virtualenv: make one with the Python '
                            'mod_wsgi was built for and pass --python-home' % path)
    return path


def dashed(name):
    return name.replace('_', '-')


# -- error reports (production.py writes them into the derived configs) ----------------

EMAIL = re.compile(r'^[A-Za-z0-9.!#$&*+/=?^_{|}~-]+@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\Z')
DSN = re.compile(r'^https?://[A-Za-z0-9._~:@/+-]+\Z')


def check_email(name, value):
    if not EMAIL.match(value) or len(value) > 254:
        raise TgDeployError('--%s %r is not a mail address such as ops@example.org'
                            % (name, value))
    return value


def check_smtp(value):
    """'host' or 'host:port' -> (host, port)."""
    host, _, port = value.partition(':')
    if not re.match(r'^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\Z', host) or \
            (port and not (re.match(r'^[0-9]{1,5}\Z', port) and 0 < int(port) < 65536)):
        raise TgDeployError('--smtp-server %r is not HOST or HOST:PORT, such as '
                            'localhost or mail.example.org:587' % value)
    return host, int(port or 25)


def check_dsn(value):
    if not DSN.match(value):
        raise TgDeployError('--sentry-dsn %r is not a Sentry DSN such as '
                            'https://KEY@sentry.example.org/1' % value)
    return value
