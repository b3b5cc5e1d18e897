"""The doctor's look at the server's own defences, which a deployment's config does not set for
the whole server: the Server header and Apache's own pages naming its version (ServerTokens,
ServerSignature), TRACE answered (TraceEnable), no mod_reqtimeout against slow clients; and
the generated response-socket-timeout with a mod_wsgi too old to know it.

The server-wide value of a directive is the last one Apache reads outside any <VirtualHost>
(apache_config.py reads the files in Apache's order, as Apache itself says where it can be
asked); where none is set, Apache's built-in default holds. Only a tree whose main file
(apache2.conf, conf/httpd.conf) is read is judged: a copy of the enabled folders alone says
nothing of the server's settings. The fix names the file to edit:
the one that sets the value, else the distribution's place for it (Debian 12 and 13 ship
conf-available/security.conf, enabled, with ServerTokens OS, ServerSignature On and
TraceEnable Off).
"""
import os

from tgdeploy.doctor.apache_config import is_rhel_layout, loaded_modules, scoped_directives, words
from tgdeploy.doctor.finding import finding
from tgdeploy.doctor.modwsgi_file import module_version

# mod_wsgi's release notes: response-socket-timeout came with 4.5.13.
RESPONSE_SOCKET_TIMEOUT = (4, 5, 13)

# (directive, Apache's built-in value, the values that are fine (lower case), the line to
# write, the finding's id, what a value not fine gives away).
SETTINGS = (
    ('ServerTokens', 'Full', ('prod', 'productonly'), 'ServerTokens Prod', 'TGD-W041',
     'the Server header of every answer names %s, which tells a scanner which known flaws '
     'to try'),
    ('ServerSignature', 'Off', ('off',), 'ServerSignature Off', 'TGD-W042',
     'Apache\'s own pages (404, 500, listings) end with its version and the host name'),
    ('TraceEnable', 'On', ('off',), 'TraceEnable Off', 'TGD-W043',
     'Apache answers TRACE by echoing the request, its headers (cookies) included'),
)

# What each ServerTokens value shows (Apache's documentation).
TOKENS = {
    'full': 'Apache\'s version, the system and its modules ("Apache/2.4.71 (Debian) '
            'mod_wsgi/4.9.4 Python/3.11")',
    'os': 'Apache\'s version and the system ("Apache/2.4.71 (Debian)")',
    'minimal': 'Apache\'s version ("Apache/2.4.71")',
}


def server_wide(config_files, name):
    """(value, file) of the last ``name`` directive outside every <VirtualHost>, or
    (None, None) where none is set."""
    found = (None, None)
    for path in config_files:
        for args, host in scoped_directives(path, name):
            value = words(args)
            if host is None and value:
                found = (value[0], path)
    return found


def whole_server(apache_root, config_files):
    """Whether ``config_files`` hold the server's main config file."""
    main = os.path.join(apache_root or '', 'conf', 'httpd.conf') if is_rhel_layout(
        apache_root) else os.path.join(apache_root or '', 'apache2.conf')
    return any(os.path.realpath(path) == os.path.realpath(main) for path in config_files)


def where_to_write(apache_root):
    """The file a server-wide line belongs in where no file sets it yet."""
    if is_rhel_layout(apache_root):
        return os.path.join(apache_root, 'conf.d', 'security.conf'), ''
    return os.path.join(apache_root, 'conf-available', 'security.conf'), ' (a2enconf security)'


def setting_findings(apache_root, config_files):
    if not whole_server(apache_root, config_files):
        return []
    found = []
    for name, default, fine, line, check_id, cost in SETTINGS:
        value, path = server_wide(config_files, name)
        if (value or default).lower() in fine:
            continue
        if '%s' in cost:
            cost %= TOKENS.get((value or default).lower(), 'Apache\'s version')
        if path:
            where = '%s %s in %s (server-wide): %s; change that line to `%s`' % (
                name, value, os.path.realpath(path), cost, line)
        else:
            target, enable = where_to_write(apache_root)
            where = 'no %s in the server config, so Apache\'s default %s holds: %s; add the ' \
                    'line `%s` to %s%s' % (name, default, cost, line, target, enable)
        found.append(finding(check_id, where + ', then apachectl graceful'))
    return found


def reqtimeout_findings(apache_root, config_files):
    """mod_reqtimeout missing: the generated RequestReadTimeout (<IfModule>) does nothing."""
    if not whole_server(apache_root, config_files) or \
            'reqtimeout_module' in loaded_modules(config_files):
        return []
    rhel = any('/conf.modules.d/' in path for path in config_files)
    fix = ('LoadModule reqtimeout_module modules/mod_reqtimeout.so in conf.modules.d' if rhel
           else 'a2enmod reqtimeout')
    return [finding('TGD-W007', 'Apache does not load mod_reqtimeout: a client that sends its '
                                'request slowly holds one of Apache\'s workers until Timeout, '
                                'and a few such clients per worker take them all (slowloris); '
                                '%s' % fix)]


def response_socket_findings(values, mod_wsgi):
    if values.apache.mode != 'daemon' or not values.daemon.response_socket_timeout or \
            not mod_wsgi or not os.path.isfile(mod_wsgi):
        return []
    version = module_version(mod_wsgi)
    if not version or version >= RESPONSE_SOCKET_TIMEOUT:
        return []
    return [finding('TGD-E043', '%s is mod_wsgi %s, which does not know response-socket-timeout '
                                '(4.5.13 added it), and Apache refuses the config: install a '
                                'newer mod_wsgi, or deploy with --response-socket-timeout 0'
                    % (mod_wsgi, '.'.join(str(n) for n in version)))]


def findings(values, apache_root, config_files, mod_wsgi):
    """Every finding of this module, in the order the doctor shows them."""
    return (response_socket_findings(values, mod_wsgi) + reqtimeout_findings(apache_root, config_files) +
            setting_findings(apache_root, config_files))
