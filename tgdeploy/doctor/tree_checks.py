"""The doctor's checks of the server's Apache tree against this deployment: the daemon name,
the mounts (a shorter one read first, the same one elsewhere), another WSGIPythonHome, RHEL's
socket folder, the modules the config needs, the scope of its rewrite rules.
"""
import os

from tgdeploy.doctor.apache_config import (
    VIRTUAL_HOST, config_text, directives, include_rank, is_rhel_layout, loaded_modules,
    same_file, scoped_directives, words)
from tgdeploy.doctor.finding import finding


def daemon_name_findings(values, config_files):
    if values.apache.mode != 'daemon':
        return []
    name = values.daemon.name
    for path in config_files:
        if same_file(path, values.paths.conf_file):
            continue
        for args in directives(path, 'WSGIDaemonProcess'):
            if args.split()[0] == name:
                return [finding('TGD-E012', 'the daemon process name %s is already used in %s: '
                                            'Apache refuses two daemons of one name; remove that '
                                            'config or deploy with another --mount'
                                % (name, path))]
    return []


def mount_order_findings(values, apache_root, config_files):
    """A shorter WSGIScriptAlias read before a longer one hides it (every page is a 404)."""
    ours = values.paths.conf_file
    if not any(same_file(p, ours) for p in config_files) and apache_root and \
            not is_rhel_layout(apache_root):
        # Not enabled yet: place it where README.txt's a2enconf/a2ensite would.
        folder = 'sites-enabled' if values.apache.server_name else 'conf-enabled'
        config_files = sorted(config_files + [os.path.join(apache_root, folder,
                                                           values.project.slug + '.conf')],
                              key=lambda p: include_rank(apache_root, p))
    mounts = []
    for path in config_files:
        if same_file(path, ours) or os.path.basename(path) == values.project.slug + '.conf':
            mounts.append((values.apache.mount, path, True))
            continue
        for args in directives(path, 'WSGIScriptAlias'):
            mounts.append((args.split()[0].rstrip('/') or '/', path, False))
    findings = []
    for index, (first, first_path, first_ours) in enumerate(mounts):
        for later, later_path, later_ours in mounts[index + 1:]:
            if (first_ours or later_ours) and hides(first, later):
                findings.append(finding('TGD-E013', 'WSGIScriptAlias %s in %s comes before %s in '
                                                    '%s: every %s page would be a 404; give the '
                                                    'config with the longer mount a name that '
                                                    'sorts first'
                                             % (first, first_path, later, later_path, later)))
    return findings


def hides(first, later):
    return first != later and (first == '/' or later.startswith(first + '/'))


def same_mount_findings(values, config_files):
    """Another WSGIScriptAlias at our mount where our requests go: one of the two is never
    reached, without a word in the error log (tried on mod_wsgi 4.9.4)."""
    ours = (values.apache.server_name.lower(), set([str(values.apache.port)])) \
        if values.apache.server_name else None
    findings = []
    for path in config_files:
        if same_file(path, values.paths.conf_file):
            continue
        for args, host in scoped_directives(path, 'WSGIScriptAlias'):
            mount = (words(args) or [''])[0].rstrip('/') or '/'
            why = mount == values.apache.mount and mount_conflict(ours, host)
            if why:
                findings.append(finding('TGD-E014', '%s mounts another application at %s%s too '
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
    if values.apache.mode != 'embedded':
        return []
    for path in config_files:
        if same_file(path, values.paths.conf_file):
            continue
        for args in directives(path, 'WSGIPythonHome'):
            home = (words(args) or [''])[0]
            if home and not same_file(home, values.python.home):
                return [finding('TGD-E015', 'WSGIPythonHome %s in %s is another virtualenv than '
                                            'this embedded deployment\'s %s: Apache keeps one '
                                            'WSGIPythonHome for the whole server (the last one it '
                                            'reads), so one of the two applications gets '
                                            'ModuleNotFoundError; deploy with --mode daemon (each '
                                            'daemon has its own python-home), or make both use '
                                            'one virtualenv'
                                % (home, path, values.python.home))]
    return []


def socket_prefix_findings(values, apache_root, config_files):
    if values.apache.mode != 'daemon' or not is_rhel_layout(apache_root):
        return []
    if any(directives(path, 'WSGISocketPrefix') for path in config_files):
        return []
    return [finding('TGD-E018', 'RHEL\'s Apache cannot create mod_wsgi daemon sockets in its logs '
                                'folder: echo "WSGISocketPrefix run/wsgi" > '
                                '%s/conf.d/wsgi-socket.conf'
                         % apache_root)]


# The modules the generated config uses beyond mod_wsgi: (module, needed when, whether Apache
# refuses the config without it; what a missing one costs otherwise). RHEL ships some as
# packages of their own.
RHEL_PACKAGED = ('ssl', 'md')


def needed_modules(values):
    static_root = values.static.root
    return [
        ('alias', values.static.urls or values.https.only, True, ''),
        ('headers', values.https.hsts or values.static.max_age is not None, True, ''),
        ('headers', values.proxies.trusted and not values.https.hsts and
         values.static.max_age is None, False, 'the forwarding headers the proxies are '
         'not trusted for (X-Forwarded-Host, Forwarded...) reach the application'),
        ('filter', values.apache.compress, True, ''),
        ('deflate', values.apache.compress, False, 'answers are not compressed'),
        ('ssl', values.https.kind, True, ''),
        ('md', values.https.kind == 'acme', True, ''),
        ('rewrite', static_root, False, 'files added to %s later are served by the '
                                        'application, not Apache' % static_root),
        ('substitute', values.project.link_prefixes, False, 'the framework\'s resource links '
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
            found.append(finding('TGD-E019', 'the config uses mod_%s, which Apache does not load '
                                             '(it refuses the config): %s' % (name, fix)))
        else:
            found.append(finding('TGD-W007', 'Apache does not load mod_%s: %s; %s'
                                    % (name, cost, fix)))
    return found


def rewrite_scope_findings(values, config_files):
    """mod_rewrite rules at server level do not reach virtual hosts (unless those inherit
    them), while the aliases and the WSGIScriptAlias do: with a catch-all virtual host such
    as Debian's 000-default, the rule for files added to public/ later never runs."""
    if not values.static.root or values.apache.server_name:
        return []
    hosts = [path for path in config_files if VIRTUAL_HOST.search(config_text(path))]
    if not hosts:
        return []
    return [finding('TGD-W008', 'without --server-name this config is server-wide, and %s has a '
                                'virtual host, which does not inherit server-wide mod_rewrite '
                                'rules: there, files added to %s later are served by the '
                                'application, not Apache; pass --server-name for a virtual host '
                                'of its own'
                       % (hosts[0], values.static.root))]
