"""Preflight: the doctor's checks of a deployment against the machine, before Apache loads it.

Each finding is one line naming the problem and the exact fix. The checks are the
operator's worst hours with mod_wsgi: a virtualenv from another Python than the one
mod_wsgi embeds, a mod_wsgi too old for the daemon config, a daemon user who cannot read
the project or write its data, a daemon name, a shorter mount, the same mount or another
embedded Python home already in the Apache config tree, a project a document root or alias
exposes, a missing locale, RHEL's socket folder.
"""
import glob
import os
import subprocess

from tgdeploy.doctor import host_state, log_rotation, own_deployment

from tgdeploy.settle import inifile, production, tls
from tgdeploy.settle import exposure, proxies
from tgdeploy.doctor import modwsgi_lines
from tgdeploy._compat import shell_quote
from tgdeploy.files.access import access_problem, user_ids
from tgdeploy.settle.options import SYSTEM_DIRS
from tgdeploy.doctor.modwsgi_file import (linked_python_prefix, module_python, module_version,
                                   python_prefixes)
from tgdeploy.detect.projectfiles import pyvenv_cfg
from tgdeploy.doctor.apache_config import (
    VIRTUAL_HOST, config_text, default_apache_root, directives, include_rank, included_files,
    is_rhel_layout, loaded_mod_wsgi, loaded_modules, same_file, scoped_directives, words)

ERROR, WARNING = 'error', 'warning'

# Exit codes of --doctor and --check (2 stays "bad input", as for every tgdeploy command).
FINE, WARNINGS, WILL_NOT_WORK = 0, 1, 3

# The oldest mod_wsgi that takes every option of the generated daemon config: startup-timeout
# came in 4.5.6 (4.5.5 refuses the config: tests/test_e2e_tg1.py loads a real one).
DAEMON_MOD_WSGI = (4, 5, 6)

class Finding(object):
    def __init__(self, level, text):
        self.level = level
        self.text = text

    def __str__(self):
        return '%s: %s' % (self.level, self.text)


def exit_code(findings):
    levels = set(f.level for f in findings)
    return WILL_NOT_WORK if ERROR in levels else WARNINGS if WARNING in levels else FINE


def examine(values, apache_root=None, mod_wsgi=None):
    """Every finding for the deployment described by ``values`` (see options.settle)."""
    apache_root = apache_root or default_apache_root()
    config_files = included_files(apache_root) if apache_root else []
    mod_wsgi = mod_wsgi or loaded_mod_wsgi(config_files, apache_root)
    findings = []
    findings += python_findings(values, mod_wsgi)
    findings += version_findings(values, mod_wsgi)
    findings += embedded_python_findings(values, mod_wsgi, config_files)
    findings += access_findings(values)
    findings += write_location_findings(values)
    findings += daemon_name_findings(values, config_files)
    findings += mount_order_findings(values, apache_root, config_files)
    findings += same_mount_findings(values, config_files)
    findings += python_home_findings(values, config_files)
    findings += exposure_findings(values, apache_root, config_files)
    findings += [Finding(level, text) for level, text in exposure.findings(
        values, served_folders(values, apache_root, config_files, own=True), SYSTEM_DIRS,
        [(path, name, words(args)) for path in config_files for name in exposure.LOG_DIRECTIVES
         for args in directives(path, name)], apache_root)]
    findings += [Finding(level, text) for level, text in proxies.findings(
        [(path, directives(path, 'WSGITrustedProxyHeaders'),
          directives(path, 'WSGITrustedProxies')) for path in config_files])]
    findings += locale_findings(values)
    findings += socket_prefix_findings(values, apache_root, config_files)
    findings += module_findings(values, config_files)
    findings += rewrite_scope_findings(values, config_files)
    findings += [Finding(level, text) for level, text in log_rotation.findings(
        values, apache_root, is_rhel_layout(apache_root))]
    findings += [Finding(level, text) for level, text in production.doctor(values)]
    findings += [Finding(level, text) for level, text in tls.doctor(values, mod_wsgi)]
    findings += [Finding(level, text) for level, text in own_deployment.findings(values)]
    findings += [Finding(level, text) for level, text in host_state.findings(
        values, values['host_count'])]
    return findings


def python_findings(values, mod_wsgi):
    if not mod_wsgi or not os.path.isfile(mod_wsgi):
        return [Finding(WARNING, 'no mod_wsgi module found in the Apache config: install one '
                                 '(Debian: apt-get install libapache2-mod-wsgi-py3; a2enmod '
                                 'wsgi) or pass --mod-wsgi PATH to check it')]
    built_for = module_python(mod_wsgi)
    home = values['python_home']
    venv_version = '.'.join(values['python_version'].split('.')[:2]) or lib_python(home)
    findings = []
    if built_for and venv_version and built_for != venv_version:
        findings.append(Finding(ERROR, '%s is built for Python %s but the virtualenv %s is '
                                       'Python %s: make the virtualenv with python%s -m venv, or '
                                       'load a mod_wsgi built for %s (pip install mod_wsgi)'
                                % (mod_wsgi, built_for, home, venv_version, built_for,
                                   venv_version)))
    base = venv_base_prefix(home)
    linked = linked_python_prefix(mod_wsgi)
    if not findings and base and linked and not same_file(base, linked):
        findings.append(Finding(ERROR, 'the virtualenv %s was made from the Python in %s, but %s '
                                       'embeds the one in %s: make the virtualenv with '
                                       '%s/bin/python%s -m venv'
                                % (home, base, mod_wsgi, linked, linked, built_for)))
    return findings


def embedded_python_findings(values, mod_wsgi, config_files):
    """Apache's own processes start Python as well, unless told not to, from the prefix
    mod_wsgi's libpython was built for; where the Apache user cannot read that (a pyenv
    Python under root's home) each of them dies at start and no request is answered, even
    though the daemon processes, given python-home, are fine."""
    if not mod_wsgi or not os.path.isfile(mod_wsgi):
        return []
    if any([w.lower() for w in words(args)][:1] == ['on'] for path in config_files
           for args in directives(path, 'WSGIRestrictEmbedded')):
        return []
    version, ids = module_python(mod_wsgi), user_ids(values['user'])
    if not (version and ids):
        return []
    for prefix in python_prefixes(mod_wsgi, version):
        library = os.path.join(prefix, 'lib', 'python' + version)
        problem = access_problem(library, ids[0], ids[1], os.R_OK)
        if problem:
            break
    else:
        return []
    fix = ('add `WSGIRestrictEmbedded On` to the server config (every application on this '
           'server runs in daemon mode)' if values['mode'] == 'daemon' else
           'use a Python %s the Apache user can read, or --mode daemon with '
           '`WSGIRestrictEmbedded On` in the server config' % version)
    return [Finding(ERROR, '%s embeds the Python in %s, which %s cannot read (%s): Apache\'s '
                           'own processes start it and die ("failed to get the Python codec '
                           'of the filesystem encoding"), so no request is answered; %s'
                    % (mod_wsgi, prefix, values['user'], problem[1], fix))]


def version_findings(values, mod_wsgi):
    if not mod_wsgi or not os.path.isfile(mod_wsgi):
        return []
    version = module_version(mod_wsgi)
    found = [Finding(ERROR, '%s: %s' % (mod_wsgi, problem))
             for problem in modwsgi_lines.line_problems(version, values)]
    if values['mode'] != 'daemon' or not version or version >= DAEMON_MOD_WSGI:
        return found
    wanted = '.'.join(str(n) for n in DAEMON_MOD_WSGI)
    # The line pip can build for this Python (4.9.4 is the last for 2.7, 5.0.2 for 3.8/3.9).
    requirement = modwsgi_lines.pip_requirement(values['python_version'])
    bin_dir = os.path.join(values['python_home'], 'bin')
    return found + [Finding(
        ERROR, '%s is mod_wsgi %s, and Apache refuses the daemon config before %s '
               '(startup-timeout): %s/pip install %s, then load the module that '
               '%s/mod_wsgi-express module-location prints; or use --mode embedded'
        % (mod_wsgi, '.'.join(str(n) for n in version), wanted, bin_dir,
           shell_quote(requirement), bin_dir))]


def lib_python(home):
    found = glob.glob(os.path.join(home, 'lib', 'python*.*'))
    return os.path.basename(found[0])[len('python'):] if found else None


def venv_base_prefix(home):
    """The prefix of the Python a virtualenv was made from, read from its pyvenv.cfg."""
    keys = pyvenv_cfg(home)
    # virtualenv writes base-prefix; venv only home, the folder of the python binary (.../bin).
    # virtualenv 20 for Python 2.7 writes the prefix itself as home.
    if keys.get('base-prefix'):
        return os.path.realpath(keys['base-prefix'])
    if not keys.get('home'):
        return None
    home = os.path.realpath(keys['home'])
    return os.path.dirname(home) if os.path.basename(home) == 'bin' else home


def access_findings(values):
    user = values['user']
    ids = user_ids(user)
    if ids is None:
        return [Finding(ERROR, 'user %s does not exist on this machine: create it or pass '
                               '--user' % user)]
    uid, groups = ids
    findings = []
    blocked = set()  # one finding per folder that stops the user, however many paths below
    readable = [values['project_dir'], values['wsgi_file'], values['config_file'],
                values['python_home']]
    readable.extend(values['static_dirs'])
    for path in readable:
        problem = access_problem(path, uid, groups, os.R_OK)
        if problem and problem[0] not in blocked:
            blocked.add(problem[0])
            findings.append(Finding(ERROR, '%s cannot read %s (%s): %s'
                                    % (user, path, problem[1], problem[2])))
    data = values['data_dir']
    needs_data = values['flavor'] in ('tg2', 'tg1')
    if not os.path.isdir(data):
        findings.append(Finding(ERROR if needs_data else WARNING,
                                'the data folder %s does not exist: install -d -o %s -g %s %s'
                                % (data, user, values['group'], shell_quote(data))))
        return findings
    problem = access_problem(data, uid, groups, os.W_OK)
    if problem and problem[0] not in blocked:
        fix = problem[2] or 'chown -R %s:%s %s' % (user, values['group'], shell_quote(data))
        findings.append(Finding(ERROR, '%s cannot write %s (%s): %s'
                                % (user, data, problem[1], fix)))
    return findings


def write_location_findings(values):
    """The places the TurboGears 2 ini has the application write (its SQLite database,
    caches, sessions, uploads...) outside the data folder that the daemon user cannot write:
    a PermissionError on the first request that writes there."""
    ids = user_ids(values['user'])
    if values['flavor'] != 'tg2' or ids is None:
        return []
    findings, said = [], set()
    for key, path in inifile.write_locations(*inifile.deployed_ini(values)):
        database = key.startswith('sqlalchemy.') or key.endswith('.url')
        # SQLite writes a journal beside its database: the folder must be writable too.
        folder = os.path.dirname(path) if database else path
        if under(folder, values['data_dir']):
            continue  # the data folder's own finding covers it
        folder = nearest_existing(folder)
        if folder in said:
            continue
        problem = access_problem(folder, ids[0], ids[1], os.W_OK)
        if problem:
            said.add(folder)
            fix = problem[2] or 'chown -R %s:%s %s, or point it into the data folder %s' % (
                values['user'], values['group'], shell_quote(folder), values['data_dir'])
            what = ('%s keeps its SQLite database %s' if database else
                    '%s = %s has the application write') % (key, path)
            findings.append(Finding(ERROR, '%s cannot write %s, where %s (%s): %s'
                                    % (values['user'], folder, what, problem[1], fix)))
    return findings


def nearest_existing(path):
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def daemon_name_findings(values, config_files):
    if values['mode'] != 'daemon':
        return []
    name = values['daemon_name']
    for path in config_files:
        if same_file(path, values['conf_file']):
            continue
        for args in directives(path, 'WSGIDaemonProcess'):
            if args.split()[0] == name:
                return [Finding(ERROR, 'the daemon process name %s is already used in %s: '
                                       'Apache refuses two daemons of one name; remove that '
                                       'config or deploy with another --mount' % (name, path))]
    return []


def mount_order_findings(values, apache_root, config_files):
    """A shorter WSGIScriptAlias read before a longer one hides it (every page is a 404)."""
    ours = values['conf_file']
    if not any(same_file(p, ours) for p in config_files) and apache_root and \
            not is_rhel_layout(apache_root):
        # Not enabled yet: place it where README.txt's a2enconf/a2ensite would.
        folder = 'sites-enabled' if values['server_name'] else 'conf-enabled'
        config_files = sorted(config_files + [os.path.join(apache_root, folder,
                                                           values['slug'] + '.conf')],
                              key=lambda p: include_rank(apache_root, p))
    mounts = []
    for path in config_files:
        if same_file(path, ours) or os.path.basename(path) == values['slug'] + '.conf':
            mounts.append((values['mount'], path, True))
            continue
        for args in directives(path, 'WSGIScriptAlias'):
            mounts.append((args.split()[0].rstrip('/') or '/', path, False))
    findings = []
    for index, (first, first_path, first_ours) in enumerate(mounts):
        for later, later_path, later_ours in mounts[index + 1:]:
            if (first_ours or later_ours) and hides(first, later):
                findings.append(Finding(ERROR, 'WSGIScriptAlias %s in %s comes before %s in %s: '
                                               'every %s page would be a 404; give the config '
                                               'with the longer mount a name that sorts first'
                                        % (first, first_path, later, later_path, later)))
    return findings


def hides(first, later):
    return first != later and (first == '/' or later.startswith(first + '/'))


def same_mount_findings(values, config_files):
    """Another WSGIScriptAlias at our mount where our requests go: one of the two is never
    reached, without a word in the error log (tried on mod_wsgi 4.9.4)."""
    ours = (values['server_name'].lower(), set([str(values['port'])])) \
        if values['server_name'] else None
    findings = []
    for path in config_files:
        if same_file(path, values['conf_file']):
            continue
        for args, host in scoped_directives(path, 'WSGIScriptAlias'):
            mount = (words(args) or [''])[0].rstrip('/') or '/'
            why = mount == values['mount'] and mount_conflict(ours, host)
            if why:
                findings.append(Finding(ERROR, '%s mounts another application at %s%s too '
                                               '(WSGIScriptAlias): %s, with no line in the '
                                               'error log; deploy one of them with another '
                                               '--mount, or remove the other config'
                                        % (path, mount, host_text(host), why)))
    return findings


def mount_conflict(ours, theirs):
    """Why two WSGIScriptAlias of one mount clash, by their scopes (None: server level, else
    (ServerName, ports) of the virtual host), or None where they take different requests."""
    if ours is None and theirs is not None:
        return ('that virtual host\'s own mount wins over this server-wide one, so no request '
                'it takes reaches this application')
    if same_host(ours, theirs):
        return 'Apache serves only the one it reads first and never reaches the other'
    return None


def same_host(ours, theirs):
    """Whether two scopes take the same requests. A virtual host without a ServerName, or on
    any port, may: it counts as the same."""
    if ours is None or theirs is None:
        return ours is theirs
    other_name = ours[0] and theirs[0] and ours[0] != theirs[0]
    shared_port = '*' in ours[1] | theirs[1] or ours[1] & theirs[1]
    return not other_name and bool(shared_port)


def host_text(host):
    if host is None:
        return ''
    return ' in the virtual host %s' % host[0] if host[0] else \
        ' in a virtual host without a ServerName'


def python_home_findings(values, config_files):
    """One WSGIPythonHome per server, the last one read: a second embedded app loses."""
    if values['mode'] != 'embedded':
        return []
    for path in config_files:
        if same_file(path, values['conf_file']):
            continue
        for args in directives(path, 'WSGIPythonHome'):
            home = (words(args) or [''])[0]
            if home and not same_file(home, values['python_home']):
                return [Finding(ERROR, 'WSGIPythonHome %s in %s is another virtualenv than this '
                                       'embedded deployment\'s %s: Apache keeps one '
                                       'WSGIPythonHome for the whole server (the last one it '
                                       'reads), so one of the two applications gets '
                                       'ModuleNotFoundError; deploy with --mode daemon (each '
                                       'daemon has its own python-home), or make both use one '
                                       'virtualenv' % (home, path, values['python_home']))]
    return []


# Each folder that must not be served: what it is called, the fix, and how to name a place.
EXPOSED = (
    ('project_dir', 'the project folder', 'move the project out of %(root)s%(example)s so no '
                                          'other config can serve its ini and data',
     ' (for example to %s)'),
    ('apache_dir', 'the output folder', 'deploy with --output-dir outside %(root)s%(example)s '
                                        'so no other config can serve its ini',
     ' (for example --output-dir %s)'),
    ('data_dir', 'the data folder', 'deploy with --data-dir outside %(root)s%(example)s and '
                                    'move the data there, so no other config can serve it',
     ' (for example --data-dir %s)'),
)

# The directives that serve a folder, and which of their arguments names it.
SERVING = (('DocumentRoot', 0), ('Alias', 1), ('AliasMatch', 1))


def exposure_findings(values, apache_root, config_files):
    """The project, apache/ or data folder under a folder another config serves. Ours denies
    them, but any config that grants that folder again (or a copy of the tree) serves the
    ini's secrets and the data: a warning, one per folder, none for one inside another."""
    served = served_folders(values, apache_root, config_files)
    findings = []
    reported = []
    for key, name, fix, example in EXPOSED:
        folder = values[key]
        found = [s for s in served if under(folder, s[0])]
        if not found or any(under(folder, done) for done in reported):
            continue
        reported.append(folder)
        root, how, path = found[0]
        place = safe_place(values, key, served)
        text = fix % {'root': root, 'example': example % place if place else ''}
        findings.append(Finding(WARNING, '%s %s lies under %s (in %s): the generated config '
                                         'denies it, but %s' % (name, folder, how, path, text)))
    return findings


def served_folders(values, apache_root, config_files, own=False):
    """(folder, how, config file) of each DocumentRoot and Alias target in the other configs
    (``own``: ours too, as edited by hand), except aliases into the project's own static
    folders."""
    statics = [path for _, path in values['static_urls']] + values['static_dirs']
    found = []
    for path in config_files:
        if same_file(path, values['conf_file']) and not own:
            continue
        for name, index in SERVING:
            for args in directives(path, name):
                parts = words(args)
                folder = len(parts) > index and served_folder(apache_root, name, parts[index])
                if folder and not any(under(folder, s) for s in statics if s):
                    how = '%s %s' % (name, ' '.join(parts))
                    found.append((folder, how if name == 'DocumentRoot' else
                                  'the folder of ' + how, path))
    return found


def served_folder(apache_root, name, target):
    """The folder a DocumentRoot or Alias serves, relative ones from the ServerRoot; for an
    AliasMatch with $1 in its target, the folder above the $1."""
    if name == 'AliasMatch' and '$' in target:
        head = target[:target.index('$')]
        target = head if head.endswith('/') else os.path.dirname(head)
    return os.path.normpath(os.path.join(apache_root, target))


def under(path, folder):
    """Whether ``path`` is ``folder`` or inside it, symlinks resolved."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def safe_place(values, key, served):
    """A place for the folder ``key`` that no served folder contains, or None."""
    project, slug = values['project_dir'], values['slug']
    name = os.path.basename(project)
    places = {'project_dir': ['/srv/' + name, '/opt/' + name],
              'apache_dir': [os.path.join(project, 'apache'), '/srv/%s/apache' % slug],
              'data_dir': [os.path.join(project, 'data'), '/var/lib/' + slug]}[key]
    for place in places:
        if not any(under(place, s[0]) for s in served):
            return place
    return None


def locale_findings(values):
    try:
        out = subprocess.Popen(['locale', '-a'], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE).communicate()[0].decode('utf-8', 'replace')
    except OSError:
        return []
    installed = set(normal_locale(name) for name in out.split())
    if normal_locale(values['locale']) not in installed:
        return [Finding(WARNING, 'the locale %s is not installed here (locale -a): pass --locale '
                                 'C.UTF-8 or install it (Debian: dpkg-reconfigure locales)'
                        % values['locale'])]
    return []


def normal_locale(name):
    return name.lower().replace('utf-8', 'utf8')


def socket_prefix_findings(values, apache_root, config_files):
    if values['mode'] != 'daemon' or not is_rhel_layout(apache_root):
        return []
    if any(directives(path, 'WSGISocketPrefix') for path in config_files):
        return []
    return [Finding(ERROR, 'RHEL\'s Apache cannot create mod_wsgi daemon sockets in its logs '
                           'folder: echo "WSGISocketPrefix run/wsgi" > %s/conf.d/wsgi-socket.conf'
                    % apache_root)]


# The modules the generated config uses beyond mod_wsgi: (module, needed when, whether Apache
# refuses the config without it; what a missing one costs otherwise). RHEL ships some as
# packages of their own.
RHEL_PACKAGED = ('ssl', 'md')


def needed_modules(values):
    static_root = values.get('static_root')
    return [
        ('alias', values.get('static_urls') or values.get('https_only'), True, ''),
        ('headers', values.get('hsts') or values.get('static_max_age') is not None, True, ''),
        ('headers', values.get('trust_proxy') and not values.get('hsts') and
         values.get('static_max_age') is None, False, 'the forwarding headers the proxies are '
         'not trusted for (X-Forwarded-Host, Forwarded...) reach the application'),
        ('filter', values.get('compress'), True, ''),
        ('deflate', values.get('compress'), False, 'answers are not compressed'),
        ('ssl', values.get('https'), True, ''),
        ('md', values.get('https') == 'acme', True, ''),
        ('rewrite', static_root, False, 'files added to %s later are served by the '
                                        'application, not Apache' % static_root),
        ('substitute', values.get('link_prefixes'), False, 'the framework\'s resource links '
                                                         'leave the mount: 404'),
    ]


def module_findings(values, config_files):
    if not config_files:
        return []
    loaded = loaded_modules(config_files)
    rhel = any('/conf.modules.d/' in path for path in config_files)
    found = []
    for name, needed, refused, cost in needed_modules(values):
        if not needed or name + '_module' in loaded:
            continue
        fix = 'a2enmod %s' % name
        if rhel:
            fix = ('dnf install mod_%s' % name if name in RHEL_PACKAGED else
                   'LoadModule %s_module modules/mod_%s.so in conf.modules.d' % (name, name))
        if refused:
            found.append(Finding(ERROR, 'the config uses mod_%s, which Apache does not load '
                                        '(it refuses the config): %s' % (name, fix)))
        else:
            found.append(Finding(WARNING, 'Apache does not load mod_%s: %s; %s'
                                 % (name, cost, fix)))
    return found


def rewrite_scope_findings(values, config_files):
    """mod_rewrite rules at server level do not reach virtual hosts (unless those inherit
    them), while the aliases and the WSGIScriptAlias do: with a catch-all virtual host such
    as Debian's 000-default, the rule for files added to public/ later never runs."""
    if not values.get('static_root') or values['server_name']:
        return []
    hosts = [path for path in config_files if VIRTUAL_HOST.search(config_text(path))]
    if not hosts:
        return []
    return [Finding(WARNING, 'without --server-name this config is server-wide, and %s has a '
                             'virtual host, which does not inherit server-wide mod_rewrite rules: '
                             'there, files added to %s later are served by the application, not '
                             'Apache; pass --server-name for a virtual host of its own'
                    % (hosts[0], values['static_root']))]
