"""Step 2: settle every value the templates need, from the project and the user's options.

Names that reach Apache (mount, user, host, locale) are checked against a strict pattern
here, so the templates write them as they are. Paths are quoted instead (apache_quote,
directory_pattern, expr_string: Apache's own rules), so a project under "My Projects" or
"shop \u00e9" deploys; check_path refuses only what no quoting carries. Values that reach
Python are written with repr() by the templates themselves.
"""
import glob
import grp
import os
import pwd
import re
import shlex
import sys

from tgdeploy import __version__

from tgdeploy.settle import (inifile,

    production,

    proxies,

    replay_settle,

    tg1config,

    tls,

    write_locations)
from tgdeploy.settle import mount_links
from tgdeploy.settle import settled
from tgdeploy.files import ownership
from tgdeploy.settle import exposure
from tgdeploy._compat import shell_quote
from tgdeploy.detect.project import FLAVOR_NAMES
from tgdeploy.detect.projectfiles import import_root, pyvenv_cfg, read_text
from tgdeploy.errors import TgDeployError
# The option table: each option's default, kind and help (re-exported for settle's readers).
from tgdeploy.settle.table import (DEFAULT_BODY_LIMIT, DEFAULT_LOCALE,  # noqa: F401
                                   DEFAULT_THREADS, MAX_PROCESSES, OPTION_DEFAULTS,
                                   default_processes)

DEFAULT_USERS = ('www-data', 'apache', 'httpd')  # Debian, RHEL, others
MAX_HOST_NAME = 253

# Folders that must never become the data folder (the README chowns it to the daemon
# user) nor the output folder (it is swapped whole); folders below them are fine.
SYSTEM_DIRS = ('/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64',
               '/libx32', '/media', '/mnt', '/opt', '/proc', '/root', '/run', '/sbin', '/srv',
               '/sys', '/tmp', '/usr', '/usr/bin', '/usr/lib', '/usr/local', '/usr/sbin',
               '/usr/share', '/var', '/var/lib', '/var/log', '/var/tmp', '/var/www',
               '/etc/apache2', '/etc/httpd')

MODES = ('daemon', 'embedded')
APACHE_VERSIONS = ('2.4', '2.2')

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

# The daemon options tgdeploy sets, with mod_wsgi-express's defaults as the reference:
# request-timeout 60, queue-timeout 45 and socket-timeout 60 are express's own; the leak
# guards (maximum-requests, restart-interval, inactivity-timeout) are off there and here,
# because a restart costs the preload (0.56 s for a TurboGears 2 quickstart, BENCHMARKS.md)
# and only a project that leaks needs one; header-buffer-size 0 keeps mod_wsgi's 32768
# bytes for the response headers a daemon hands back (a large Set-Cookie needs more).
# (option, low, high): 0 turns a guard or timeout off; mod_wsgi refuses a header buffer
# under 8192 bytes other than 0.
DAEMON_LIMITS = (
    ('maximum_requests', 0, 2 ** 31 - 1),
    ('restart_interval', 0, 365 * 24 * 3600),
    ('inactivity_timeout', 0, 365 * 24 * 3600),
    ('request_timeout', 0, 365 * 24 * 3600),
    ('queue_timeout', 0, 365 * 24 * 3600),
    ('socket_timeout', 0, 365 * 24 * 3600),
    ('header_buffer_size', 0, 2 ** 31 - 1),
)
# Where Apache's logs live: Debian's envvars sets APACHE_LOG_DIR (/var/log/apache2); RHEL's
# ServerRoot /etc/httpd holds logs -> /var/log/httpd. (The folder as Apache config says it,
# as a path, the distribution's rotation of it, Apache's rotatelogs, the owner, group and
# mode the distribution gives its log folder.)
DEBIAN_LOGS = ('${APACHE_LOG_DIR}', '/var/log/apache2', '/etc/logrotate.d/apache2',
               '/usr/bin/rotatelogs', ('root', 'adm', '0750'))
RHEL_LOGS = ('logs', '/var/log/httpd', '/etc/logrotate.d/httpd', '/usr/sbin/rotatelogs',
             ('root', 'root', '0700'))
# Days a log file is kept (systemd-tmpfiles removes older ones: apache/<slug>.tmpfiles).
LOG_DAYS = 14
# The project's config asks CherryPy for one request thread (code that is not thread-safe).
ONE_THREAD = re.compile(r'^\s*server\.thread_pool\s*=\s*1\s*(#.*)?$', re.M)
HTTPS_CHOICES = ('no', 'own', 'acme')
# The options that mean something only with --https, and with which kind of it.
HTTPS_ONLY_OPTIONS = ('ssl_certificate', 'ssl_key', 'ssl_chain', 'https_port', 'https_only',
                      'hsts', 'acme_email', 'acme_ca')
OWN_OPTIONS = ('ssl_certificate', 'ssl_key', 'ssl_chain')
ACME_OPTIONS = ('acme_email', 'acme_ca')
MAX_HSTS = 10 * 365 * 24 * 3600  # ten years; browsers cap it lower
# The headers a trusted proxy may set, as mod_wsgi names them (proxies.py).
TRUSTED_PROXY_HEADERS = proxies.TRUSTED_HEADERS
TG1_LINES = ('1.0', '1.1', '1.5')


def settle(project, given):
    """Return the template variables for ``project``; ``given`` maps option names to strings."""
    given = dict((k, v) for k, v in given.items() if v not in (None, ''))
    unknown = sorted(set(given) - set(OPTION_DEFAULTS))
    if unknown:
        raise TgDeployError('unknown option(s) %s: see tgdeploy --help' % ', '.join(unknown))
    opts = dict(OPTION_DEFAULTS)
    if project.uses_sqlobject or project.memory_sessions:
        # State kept per process (SQLObject's row cache, sessions in memory): one process,
        # many threads (see the README).
        opts.update(processes='1', threads='15')
    if one_thread_pool(project):
        opts['threads'] = '1'
    if project.flavor == 'tg1':
        # Where the project was served behind its proxy: the mount unless told otherwise
        # (the derived config drops server.webpath, as the mount comes from Apache).
        opts['mount'] = tg1config.webpath(project.config_file) or opts['mount']
    opts.update(given)

    mount = check_mount(opts['mount'])
    mode = check_choice('mode', opts['mode'], MODES)
    elsewhere = check_choice('elsewhere', opts['elsewhere'], ('yes', 'no')) == 'yes'
    refuse_what_does_not_apply(given, project.flavor, mode)
    apache = check_choice('apache', opts['apache'], APACHE_VERSIONS)
    user = check_user(opts['user'] or default_user(elsewhere), elsewhere)
    group = check_group(opts['group'] or default_group(user), elsewhere)
    python_home = check_python_home(opts['python_home'] or sys.prefix, elsewhere)
    server_name = opts['server_name'] and check_host(opts['server_name'])
    slug = file_slug(check_project_name(project.name))
    project_dir = check_path('project directory', project.directory)
    apache_dir = check_path('output directory', folder(opts['output_dir'], project_dir, 'apache'))
    data_dir = check_path('data directory', folder(opts['data_dir'], project_dir, 'data'))
    static_urls, static_skipped = apache_static(project.static_urls, mount)
    static_root = rewritable(project.static_root)
    served = folders_of(static_urls, static_root)
    check_data_dir(data_dir, project_dir, python_home)
    check_output_dir(apache_dir, project_dir)
    ownership.check_output_folder(apache_dir, 'output_dir' in given)
    check_placement(apache_dir, data_dir, served)
    aliases = check_aliases(opts['alias'], static_urls, (project_dir, apache_dir, data_dir),
                            served, project_dir, elsewhere)
    static_urls = aliases + static_urls
    static_dirs = folders_of(static_urls, static_root)

    values = {
        'tgdeploy_version': __version__,
        'flavor': project.flavor,
        'flavor_name': FLAVOR_NAMES[project.flavor],
        'project': project.name,
        'slug': slug,
        'package': project.package,
        'package_dir': project.package_dir,
        'evidence': project.evidence + (
            ['server.thread_pool = 1 in %s: one thread per daemon process' % project.config_file]
            if one_thread_pool(project) and 'threads' not in given else []),
        'memory_sessions': project.memory_sessions,
        'project_dir': project_dir,
        'import_dir': import_root(project_dir),
        'apache_dir': apache_dir,
        'htdocs_dir': os.path.join(apache_dir, 'htdocs'),
        'wsgi_file': os.path.join(apache_dir, slug + '.wsgi'),
        'conf_file': os.path.join(apache_dir, slug + '.conf'),
        'data_dir': data_dir,
        'egg_cache': os.path.join(data_dir, 'egg-cache'),
        'mount': mount,
        'mode': mode,
        'apache': apache,
        'processes': check_count('processes', opts['processes'] or str(default_processes()),
                                 1, MAX_PROCESSES),
        'threads': check_count('threads', opts['threads'], 1, 1000),
        # How many hosts will serve this deployment alike (the doctor then finds the state
        # that lives on one: host_state.py); 'hosts' names the virtual hosts.
        'host_count': check_count('hosts', opts['hosts'], 1, 1000),
        'user': user,
        'group': group,
        'python_home': python_home,
        'python_version': venv_python_version(python_home),
        'paster_era': project.paster_era,
        # Python 2.7 (TurboGears 1.x, or 2.x of its day): no distribution's mod_wsgi serves
        # it, the README has one built into the virtualenv.
        'python2': project.flavor == 'tg1' or venv_python_version(python_home).startswith('2.'),
        'server_name': server_name,
        'port': check_count('port', opts['port'], 1, 65535),
        'locale': check_locale(opts['locale']),
        'daemon_name': daemon_name(slug, mount),
        'process_group': daemon_name(slug, mount) if mode == 'daemon' else '%{GLOBAL}',
        'preload': check_choice('preload', opts['preload'], ('yes', 'no')) == 'yes',
        'static_urls': static_urls,
        'static_dirs': static_dirs,
        'static_root': static_root,
        # A mount holds only letters, digits and ._~-/: "." is the one regex character, and
        # goes in brackets (mod_rewrite's quoted arguments keep a backslash as written).
        'static_root_pattern': static_root and '^%s/(.+)$' % mount.rstrip('/').replace('.', '[.]'),
        # Denied to every client: the project, and the data folder wherever it is.
        'private_dirs': [project_dir] + ([] if within(data_dir, project_dir) else [data_dir]),
        'static_skipped': static_skipped,
        'limit_request_body': check_count('limit-request-body', opts['limit_request_body'], 0,
                                          2147483647),
        'elsewhere': elsewhere,
        'rotate_secrets': check_choice('rotate-secrets', opts['rotate_secrets'],
                                       ('yes', 'no')) == 'yes',
        'secrets_from': opts['secrets_from'] and check_path(
            'secrets file', folder(opts['secrets_from'], project_dir, '')),
        'error_email': opts['error_email'] and production.check_email('error-email',
                                                                      opts['error_email']),
        'smtp': production.check_smtp(opts['smtp_server']),
        'sentry_dsn': opts['sentry_dsn'] and production.check_dsn(opts['sentry_dsn']),
        'startup': opts['startup'] and check_function(opts['startup']),
        'setenv': check_setenv(opts['setenv']),
        'root': project.root,
        'source_config': project.config_file and check_path('config file', project.config_file),
        'cherrypy_config': None,
        'uses_sqlobject': project.uses_sqlobject,
        'legacy_stdout': check_choice('legacy-stdout', opts['legacy_stdout'],
                                      ('yes', 'no')) == 'yes',
        'tg_version': None,
        'tg_cfg': '',
        'tg_cfg_file': None,
    }
    if project.flavor == 'tg1':
        values['tg_version'] = tg1_line(opts['tg_version'], project, python_home)
    values.update(settle_https(opts, given, values))
    values.update(settle_day_two(opts, given, values, project))
    exposure.refuse(values, SYSTEM_DIRS)
    values.update(app_config(project, values))
    values.update(replay_settle.settle(opts, values, project))
    return settled.Settled.from_flat(values)


def settle_day_two(opts, given, values, project):
    """Logs of its own, the daemon's leak guards and timeouts, and what real deployments
    set: the Authorization header, compression, cache headers for static files."""
    explicit = set(k for k, v in given.items() if v != OPTION_DEFAULTS.get(k))
    daemon_only = [name for name, _, _ in DAEMON_LIMITS if name in explicit]
    if daemon_only and values['mode'] == 'embedded':
        raise TgDeployError('--%s applies to daemon mode only (a WSGIDaemonProcess option): '
                            'drop it, or use --mode daemon' % dashed(daemon_only[0]))
    limits = dict((name, check_count(name, opts[name], low, high))
                  for name, low, high in DAEMON_LIMITS)
    if 0 < limits['header_buffer_size'] < 8192:
        raise TgDeployError('--header-buffer-size %d: mod_wsgi takes 8192 bytes or more (0 '
                            'keeps its 32768)' % limits['header_buffer_size'])
    log_text, log_path, system_rotation, rotatelogs, log_owner = platform_logs()
    if opts['log_dir']:
        log_path = log_text = check_path('--log-dir', folder(opts['log_dir'],
                                                             values['project_dir'], ''))
        if re.search(r'[\'"\\{}\[\]*?\x00-\x1f]', log_path):
            raise TgDeployError('--log-dir %s: quotes, backslashes, control characters and '
                                '{}[]*? cannot reach rotatelogs, logrotate and systemd-tmpfiles '
                                'intact: choose a folder without them' % log_path)
        if not values['elsewhere'] and not os.path.isdir(log_path):
            # Apache refuses to start without it (AH02291).
            raise TgDeployError('--log-dir %s is not a folder: create it (root may own it: '
                                'Apache opens its logs before it drops root)' % log_path)
    return dict(limits, **{
        # The optional daemon options, in the order the WSGIDaemonProcess line gives them.
        'leak_guards': [(dashed(name), limits[name]) for name in (
            'maximum_requests', 'restart_interval', 'inactivity_timeout') if limits[name]],
        'log_dir': log_text,
        'log_path': log_path,
        'system_rotation': system_rotation,
        'rotatelogs': rotatelogs,
        'log_owner': log_owner,
        'log_days': LOG_DAYS,
        # The access logs' folder of its own in the log folder: the distribution's rotation
        # of *.log there (with its nightly restart) must not take rotatelogs' files too.
        'log_folder': values['daemon_name'],
        # Relative to the log folder: the error log, a plain file (the application's last
        # lines as its processes exit reach it; a piped one lost them), and the access log:
        # in daemon mode piped through rotatelogs (today's file a link it moves along; the
        # HTTPS virtual host's: https-access.log), in embedded mode a plain file, since
        # Apache's processes run the application and finish requests after a graceful
        # restart has ended the old piped loggers (bench/logs.py).
        'piped_access': values['mode'] == 'daemon',
        'error_log': values['daemon_name'] + '-error.log',
        'access_log': values['daemon_name'] + ('/access.log' if values['mode'] == 'daemon'
                                               else '-access.log'),
        'thread_pool_one': one_thread_pool(project) and 'threads' not in given,
        'pass_authorization': check_choice('pass-authorization', opts['pass_authorization'],
                                           ('yes', 'no')) == 'yes',
        'script_reloading': check_choice('script-reloading', opts['script_reloading'],
                                         ('yes', 'no')) == 'yes',
        'compress': check_choice('compress', opts['compress'], ('yes', 'no')) == 'yes',
        'static_max_age': opts['static_max_age'] and check_count(
            'static-max-age', opts['static_max_age'], 0, MAX_HSTS),
        'q': apache_quote,
        'qdir': directory_pattern,
        'qexpr': expr_string,
        'sh': shell_quote,
        'shq': piped_argument,
        'tmpfiles_path': tmpfiles_path,
    })


def platform_logs():
    """DEBIAN_LOGS or RHEL_LOGS, by the Apache tree this machine has."""
    if os.path.isdir('/etc/httpd') and not os.path.isdir('/etc/apache2'):
        return RHEL_LOGS
    return DEBIAN_LOGS


def one_thread_pool(project):
    """Whether the TurboGears 1.x or CherryPy config sets server.thread_pool = 1."""
    if project.flavor not in ('tg1', 'cherrypy') or not project.config_file:
        return False
    try:
        return bool(ONE_THREAD.search(read(project.config_file)))
    except (IOError, OSError):
        return False


def check_aliases(given, static_urls, private, static_dirs, project_dir, elsewhere):
    """[(url, path)] from --alias URL=PATH (repeatable): Apache serves PATH at URL."""
    if not given:
        return []
    try:
        items = list(given) if isinstance(given, (list, tuple)) else shlex.split(given)
    except ValueError as e:
        raise TgDeployError('--alias %r: %s; quote each URL=PATH as a shell would' % (given, e))
    aliases = []
    for item in items:
        url, sep, path = item.partition('=')
        if not sep or not url.startswith('/') or not path:
            raise TgDeployError('--alias %r is not URL=PATH, such as /media=/srv/shop/media'
                                % item)
        check_url_path(url, item)
        path = check_path('--alias ' + url, folder(path, project_dir, ''))
        if not elsewhere and not os.path.exists(path):
            raise TgDeployError('--alias %s: %s does not exist: create it, or pass '
                                '--elsewhere yes if these files are for another machine'
                                % (url, path))
        for taken, _ in static_urls + aliases:
            if within(url.rstrip('/'), taken.rstrip('/')) or within(taken, url.rstrip('/')):
                raise TgDeployError('--alias %s clashes with the static alias %s the project '
                                    'already has: choose another URL' % (url, taken))
        if any(either_within(path, p) or either_within(p, path) for p in private) and \
                not any(either_within(path, s) for s in static_dirs):
            raise TgDeployError('--alias %s=%s would open a private folder of the project '
                                '(its sources, apache/ or data): serve a folder outside it'
                                % (url, path))
        aliases.append((url.rstrip('/') or '/', path))
    return aliases


def check_url_path(url, item):
    if re.search(r'[\x00-\x20\x7f"\\<>%]', url) or '${' in url or \
            set(url.split('/')) & set(['.', '..']):
        raise TgDeployError('--alias %r: the URL may hold letters, digits and ._~-/ '
                            'such as /media' % item)


def apache_quote(text):
    """One Apache config argument: in double quotes, where Apache reads \\ and \" as
    escapes (ap_getword_conf)."""
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def piped_argument(path):
    """``path`` as one word of a piped logger's command inside a double-quoted Apache
    argument: in single quotes, which Apache 2.4 (apr_tokenize_to_argv) and the shell of 2.2
    both read as one word (settle_day_two refuses a log folder with quotes or backslashes)."""
    return "'%s'" % path


def tmpfiles_path(path):
    """A path in a tmpfiles.d line: in double quotes (systemd 252 reads "\\x20" unquoted as
    "x20"), % doubled (its specifiers); settle_day_two refuses quotes and backslashes."""
    return '"%s"' % path.replace('%', '%%')


def glob_escape(path):
    # <Directory> and -strmatch read * ? [ as wildcards (apr_fnmatch); in brackets they are
    # themselves (a backslash escape is not enough for "[": measured, 403).
    return re.sub(r'([*?[])', r'[\1]', path)


def directory_pattern(path):
    """A <Directory> argument that matches ``path`` only."""
    return apache_quote(glob_escape(path))


def expr_string(path):
    """``path`` as a -strmatch pattern inside a single-quoted ap_expr string, inside a
    double-quoted Apache argument: escaped for each of the three, innermost first. An
    ap_expr string has no escape for its own quote (measured: a syntax error), so a "'"
    is matched by "?", any one character, in its place."""
    inner = glob_escape(path).replace('\\', '\\\\').replace("'", '?')
    return apache_quote(inner)[1:-1]


def settle_https(opts, given, values):
    """The HTTPS and proxy values: which virtual hosts the config holds and what each does."""
    explicit = set(k for k, v in given.items() if v != OPTION_DEFAULTS.get(k))
    https = check_choice('https', opts['https'], HTTPS_CHOICES)
    refuse_https_mismatch(https, explicit, values)
    https = None if https == 'no' else https
    https_only = check_choice('https-only', opts['https_only'], ('yes', 'no')) == 'yes'
    https_port = check_count('https-port', opts['https_port'], 1, 65535)
    if https and https_port == values['port']:
        raise TgDeployError('--https-port %d is also the HTTP --port: give them different ports '
                            '(the defaults are 80 and 443)' % https_port)
    files = dict((name, https == 'own' and opts[name] and check_path(
        '--' + dashed(name), folder(opts[name], values['project_dir'], '')))
        for name in OWN_OPTIONS)
    if https == 'own' and not values['elsewhere']:
        tls.check_files(files['ssl_certificate'], files['ssl_key'], files['ssl_chain'])
    return dict(files, **{
        'https': https,
        'https_port': https_port,
        'https_only': https_only,
        'https_url': https and 'https://%s%s' % (values['server_name'], '' if https_port == 443
                                                 else ':%d' % https_port),
        'hsts': opts['hsts'] and check_count('hsts', opts['hsts'], 1, MAX_HSTS),
        'acme_email': https == 'acme' and tls.check_acme_email(opts['acme_email']),
        'acme_ca': https == 'acme' and opts['acme_ca'] and tls.check_acme_ca(opts['acme_ca']),
        'trust_proxy': check_proxies(opts['trust_proxy'], check_choice(
            'trust-wide-networks', opts['trust_wide_networks'], ('yes', 'no')) == 'yes'),
        'trusted_proxy_headers': TRUSTED_PROXY_HEADERS,
        # Unset before the application runs: from a trusted proxy too (proxies.py).
        'untrusted_headers': proxies.untrusted_headers(
            TRUSTED_PROXY_HEADERS if opts['trust_proxy'] else ()),
        # Session and login cookies marked Secure: only where no page is served over HTTP.
        'secure_cookies': https_only,
        'hosts': virtual_hosts(https, https_only, values['port'], https_port),
    })


def virtual_hosts(https, https_only, port, https_port):
    """[(port, tls, redirect, daemon)] of the virtual hosts the config holds: the HTTP one,
    which only redirects with --https-only, and the HTTPS one. The daemon processes are
    defined in the first host that serves the application (both share one ServerName, so
    both may use them)."""
    if not https:
        return [(port, False, False, True)]
    return [(port, False, https_only, not https_only), (https_port, True, False, https_only)]


def refuse_https_mismatch(https, explicit, values):
    """HTTPS options that would be ignored, or that cannot work together."""
    extra = sorted(explicit & set(HTTPS_ONLY_OPTIONS))
    if https == 'no' and extra:
        raise TgDeployError('--%s applies to HTTPS only: add --https own (with '
                            '--ssl-certificate and --ssl-key) or --https acme (with '
                            '--acme-email), or drop it' % dashed(extra[0]))
    if https == 'no':
        return
    if not values['server_name']:
        raise TgDeployError('--https needs --server-name: a certificate is for a host name, and '
                            'the HTTPS virtual host answers to it')
    if values['apache'] != '2.4':
        raise TgDeployError('--https writes for Apache 2.4 (TLS 1.3, mod_md): drop --apache %s'
                            % values['apache'])
    other, needed = (ACME_OPTIONS, ('ssl_certificate', 'ssl_key')) if https == 'own' else \
        (OWN_OPTIONS, ('acme_email',))
    extra = sorted(explicit & set(other))
    if extra:
        raise TgDeployError('--%s does not apply to --https %s: drop it%s' % (
            dashed(extra[0]), https, ' (mod_md obtains the certificate)' if https == 'acme'
            else ''))
    missing = [name for name in needed if name not in explicit]
    if missing:
        raise TgDeployError('--https %s needs %s' % (https, ' and '.join(
            '--' + dashed(name) for name in missing)))


def dashed(name):
    return name.replace('_', '-')


def check_proxies(given, wide=False):
    """--trust-proxy CIDR[,CIDR...]: addresses or networks, IPv4 or IPv6 (proxies.py)."""
    return proxies.check_proxies(given, wide)


def app_config(project, values):
    """Which ini the .wsgi loads, the text of the configs tgdeploy writes, and what they
    change for production (production.py)."""
    ini_path = os.path.join(values['apache_dir'], values['slug'] + '.ini')
    repository = production.repository_secrets(production.repository_files(
        values['project_dir'], project.package_dir, project.config_file))
    common = {'repository_secrets': repository, 'production_changes': [], 'secret_files': []}
    # Folders the application writes that README step 2 creates (write_locations.py).
    common['runtime_dirs'] = write_locations.runtime_dirs(
        project.config_file, project.package_dir, project.flavor, values['data_dir'])
    # URL prefixes of framework resources linked without the mount (mount_links.py).
    common['link_prefixes'] = mount_links.link_prefixes(project, values['mount'])
    if project.flavor == 'tg2':
        if inifile.is_own_production(project.config_file):
            return dict(common, config_file=check_path('config file', project.config_file),
                        write_ini=False, derived_ini='',
                        has_logging=inifile.has_logging(project.config_file))
        app_cfg = production.app_cfg_path(project.package_dir)
        secrets, origins = settle_secrets(values, project.config_file, app_cfg, ini_path,
                                          repository)
        forced = production.tg2_settings(secrets, values['error_email'], values['smtp'],
                                         values['sentry_dsn'], values['secure_cookies'])
        if values['startup']:
            forced.append(('filter-with', 'startup', '--startup runs [filter:startup] once'))
        forced += write_locations.webassets_settings(project.config_file, project.package_dir,
                                                     values['data_dir'], values['mount'])
        derived = inifile.derive_production(project.config_file,
                                            os.path.dirname(project.config_file),
                                            values['data_dir'], values['slug'] + '.db', forced)
        return dict(common, config_file=ini_path, write_ini=True, derived_ini=derived,
                    has_logging=inifile.has_logging(project.config_file),
                    production_changes=production.changes(read(project.config_file), derived,
                                                          origins),
                    secret_files=[os.path.basename(ini_path)] if secrets else [])
    if project.flavor == 'cherrypy':
        cherrypy_config = project.config_file and check_path('config file', project.config_file)
        return dict(common, config_file=ini_path, write_ini=True, derived_ini='',
                    cherrypy_config=cherrypy_config, has_logging=True,
                    cherrypy_production=production.cherrypy_settings(values['secure_cookies']),
                    production_changes=production.cherrypy_changes(cherrypy_config,
                                                                   values['secure_cookies']))
    cfg_path = os.path.join(values['apache_dir'], values['slug'] + '.cfg')
    secrets, origins = settle_secrets(values, project.config_file, None, cfg_path, repository)
    added = production.TG1_SECURE_COOKIES[values['tg_version']] if values['secure_cookies'] \
        else ()
    cfg_text = tg1config.derive_deployment(project.config_file, values['project_dir'],
                                           values['data_dir'], values['slug'], secrets, added)
    return dict(common, config_file=ini_path, write_ini=True, derived_ini='', has_logging=False,
                tg_cfg_file=cfg_path, tg_cfg=cfg_text,
                production_changes=production.changes(read(project.config_file), cfg_text,
                                                      origins),
                secret_files=[os.path.basename(cfg_path)] if secrets else [])


def settle_secrets(values, config_file, app_cfg, installed, repository):
    wanted = production.secrets_wanted(config_file, app_cfg)
    return production.settle_secrets(wanted, installed, repository,
                                     rotate=values['rotate_secrets'],
                                     secrets_from=values['secrets_from'])


def read(path):
    return read_text(path)  # in any encoding (textfiles.py)


# -- defaults ---------------------------------------------------------------------------

def default_user(elsewhere=False):
    if elsewhere:
        return DEFAULT_USERS[0]
    for name in DEFAULT_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise TgDeployError('none of the usual Apache users (%s) exists here: pass --user'
                        % ', '.join(DEFAULT_USERS))


def default_group(user):
    try:
        return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    except KeyError:
        return user


def file_slug(name):
    slug = re.sub(r'[^A-Za-z0-9_.-]+', '-', name).strip('-.')
    if not slug:
        raise TgDeployError('project name %r gives no usable file name: rename the project'
                            % name)
    return slug


def daemon_name(slug, mount):
    # Daemon names must be unique in the whole Apache server: one per project and mount.
    if mount == '/':
        return slug
    return slug + '-' + mount.strip('/').replace('/', '-')


def join_url(mount, url):
    return url if mount == '/' else mount + url


def folder(given, project_dir, default_name):
    """An output or data folder: relative ones are taken from the project, not the cwd."""
    return os.path.abspath(os.path.join(project_dir, given or default_name))


def apache_static(urls, mount):
    """(Aliases Apache can carry, paths it cannot): quoted, a file named "my file.txt" or
    "r\u00e9sum\u00e9.pdf" is served by Apache; only names UNCARRIED holds are left to the
    application, which serves the static folder too."""
    usable, skipped = [], []
    for url, path in urls:
        if UNCARRIED.search(url.replace('%', '')) or UNCARRIED.search(path.replace('%', '')):
            skipped.append(path)
        else:
            usable.append((join_url(mount, url), path))
    return usable, skipped


def rewritable(static_root):
    """The folder the application serves at its root, if mod_rewrite can name it: it reads
    $N, %N and backslashes in its strings as its own, has no escape for a double quote, and
    cuts a substitution at "?" (its query) or "#". Elsewhere the application serves the
    folder, and the aliases its entries."""
    if static_root and not re.search(r'[$\\"?#]', static_root) and \
            not UNCARRIED.search(static_root):
        return static_root
    return None


def folders_of(static_urls, static_root=None):
    """The folders Apache serves: each aliased folder, or the folder of an aliased file,
    and the application's static root."""
    folders = sorted(set([path if os.path.isdir(path) else os.path.dirname(path)
                          for _, path in static_urls] + ([static_root] if static_root else [])))
    return [f for f in folders if not any(within(f, other) and f != other for other in folders)]


def within(path, folder):
    """Whether ``path`` is ``folder`` or lies below it (both absolute, normalised)."""
    return path == folder or path.startswith(folder.rstrip('/') + '/')


def either_within(path, folder):
    # Symlinks are compared both as written and resolved.
    return within(path, folder) or within(os.path.realpath(path), os.path.realpath(folder))


def tg1_line(given, project, python_home):
    """'1.0', '1.1' or '1.5': --tg-version, else the installed TurboGears, else setup.py."""
    line = given or installed_tg_line(python_home) or project.tg_requirement
    if line is None:
        raise TgDeployError('cannot tell which TurboGears 1.x line %s uses (not installed in %s, '
                            'no version in setup.py): pass --tg-version 1.0, 1.1 or 1.5'
                            % (project.directory, python_home))
    return check_choice('tg-version', line, TG1_LINES)


def installed_tg_line(python_home):
    pattern = os.path.join(python_home, 'lib', 'python*', 'site-packages', 'TurboGears-*')
    for path in sorted(glob.glob(pattern)):
        version = os.path.basename(path)[len('TurboGears-'):]
        parts = version.split('.')
        if len(parts) >= 2 and parts[0] == '1':
            return '1.%s' % parts[1].split('-')[0]
    return None


def venv_python_version(python_home):
    """The version of the Python the venv was made from ('2.7.18'), if pyvenv.cfg says."""
    keys = pyvenv_cfg(python_home)
    # venv writes version, virtualenv 20 version_info (2.7.18.final.0).
    version = keys.get('version') or keys.get('version_info') or ''
    return '.'.join(version.split('.')[:3])


# -- checks -----------------------------------------------------------------------------

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


def check_output_dir(apache_dir, project_dir):
    # Checked as written and as resolved: a symlink (apache -> /etc, /proc/1/root) must not
    # lead the swap to a system folder or to the folder that holds the project.
    for path in (apache_dir, os.path.realpath(apache_dir)):
        if system_folder(path) or either_within(project_dir, path):
            raise TgDeployError('--output-dir %s%s would be swapped whole, and it is %s: use a '
                                'folder of its own such as %s' % (
                                    apache_dir, '' if path == apache_dir else ' (%s)' % path,
                                    'a system folder' if system_folder(path) else
                                    'the project folder or holds it',
                                    os.path.join(project_dir, 'apache')))


def system_folder(path):
    return path in SYSTEM_DIRS or any(within(path, top) for top in ('/proc', '/sys', '/dev'))


def check_data_dir(data_dir, project_dir, python_home):
    homes = set(entry.pw_dir.rstrip('/') or '/' for entry in pwd.getpwall())
    real = os.path.realpath(data_dir)
    if system_folder(data_dir) or system_folder(real) or data_dir in homes or real in homes:
        raise TgDeployError('--data-dir %s is a system or home folder, and the README would '
                            'have you chown it to the daemon user: use a folder of its own such '
                            'as %s' % (data_dir, os.path.join(project_dir, 'data')))
    for folder, what in ((project_dir, 'the project'), (python_home, 'the virtualenv')):
        if either_within(folder, data_dir):
            raise TgDeployError('--data-dir %s holds %s (%s), and the README would have you '
                                'chown it to the daemon user: use %s'
                                % (data_dir, what, folder, os.path.join(project_dir, 'data')))


def check_placement(apache_dir, data_dir, static_dirs):
    """Neither the output nor the data folder inside a folder that exposes it."""
    exposing = [(static, 'the static folder %s, which Apache serves to anyone' % static)
                for static in static_dirs]
    for path, option, others in (
            (data_dir, 'data-dir', exposing + [(apache_dir, 'the output folder %s' % apache_dir)]),
            (apache_dir, 'output-dir', exposing + [(data_dir, 'the data folder %s, which the '
                                                   'daemon user may write (it could rewrite '
                                                   'its own .wsgi)' % data_dir)])):
        for folder, what in others:
            if either_within(path, folder):
                raise TgDeployError('--%s %s lies inside %s: choose a folder outside it'
                                    % (option, path, what))


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

