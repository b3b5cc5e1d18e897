"""Every option tgdeploy takes, once: its name, default, kind, group, help and check.

Everything else is made from TABLE: the paster parser and the ``tgdeploy`` console script
(cli/command.py), the gearbox parser (cli/gearbox_command.py), the ``paster create -t
tg_modwsgi`` variables and ``--list-variables`` (cli/template.py), ``--help`` grouped by
GROUPS, the defaults settle starts from (OPTION_DEFAULTS), and the README's option reference
(``python -m tgdeploy.settle.option_reference --markdown``, checked by
tests/test_option_table.py).

A row is ``Option(name, default, kind, group, help, check, now)``:
- name: the option as settle reads it (``python_home``); front ends spell it
  ``--python-home`` and paster create ``python_home=...``.
- default: the string settle starts from, or None (worked out from the project, or off).
- kind: ``value`` (--name VALUE), ``flag`` (--name alone sets it to yes), ``repeated``
  (--name VALUE, as often as needed: a list; paster create: space-separated) or ``action``
  (--name chooses what the run does: doctor, check, serve, reload).
- group: the group of settle/settled.py the option settles into (``daemon`` for
  --processes: values.daemon.processes), else ``doctor`` (read by the doctor, not settled)
  or ``action``. --help and the README show the options by group, in GROUPS' order.
- help: full sentences for ``--help`` and the README; they name the default. A default
  worked out at run time says how; ``now`` (a function) adds this machine's value to
  ``--help`` (help_text()).
- check: the name of the function in tgdeploy.settle that validates the value, or None.

To add an option: add its row here, under its group, then
- a settled option (value, flag, repeated): read it in settle, where it arrives in
  ``given`` under its name with OPTION_DEFAULTS' default filled in, and validate it with
  the function its row names;
- a ``doctor`` option: cli/deploy.run() receives it as a keyword argument of its name;
- an ``action``: cli/deploy.run_action() receives its name as ``action``;
then ``python -m tgdeploy.settle.option_reference --markdown README.md`` rewrites the README's
reference (tests/test_option_table.py fails until it is). No front end needs a change:
paster, the console script, gearbox and paster create all offer the new row.
"""
import collections
import multiprocessing
import os

# Chosen from bench/threads.py (BENCHMARKS.md has the figures and the reasons): one daemon
# process per CPU core, 8 threads each.
DEFAULT_THREADS = 8
MAX_PROCESSES = 64
DEFAULT_LOCALE = 'C.UTF-8'
# mod_wsgi-express's default: a 100 MB POST grew a daemon process from 67 to 375 MB.
DEFAULT_BODY_LIMIT = 10 * 1024 * 1024


def default_processes():
    """One per CPU core this process may run on (capped at MAX_PROCESSES)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # Python 2, or no sched_getaffinity on this system
        cores = multiprocessing.cpu_count()
    return max(1, min(cores, MAX_PROCESSES))


class Option(collections.namedtuple('Option', 'name default kind group help check now')):
    """One row of TABLE (see the module's docstring)."""

    __slots__ = ()

    @property
    def flag(self):
        """How the command line spells it: --python-home."""
        return '--' + self.name.replace('_', '-')


def option(name, default, kind, group, help, check=None, now=None):
    return Option(name, default, kind, group, help, check, now)


KINDS = ('value', 'flag', 'repeated', 'action')
# (group, its title in --help and the README), in the order they are shown: the groups of
# the settled values (settle/settled.py) an option settles into, then doctor and action.
GROUPS = (
    ('project', 'The project'),
    ('config', 'Its config file'),
    ('tg1', 'TurboGears 1.x'),
    ('startup', 'Its start-up'),
    ('paths', 'Folders'),
    ('python', 'Python'),
    ('apache', 'Apache'),
    ('daemon', 'Daemon processes'),
    ('static', 'Static files'),
    ('https', 'HTTPS'),
    ('proxies', 'Proxies in front'),
    ('logs', 'Logs'),
    ('production', 'Production settings'),
    ('doctor', 'The doctor (--doctor, --check)'),
    ('action', 'Actions (instead of only writing apache/)'),
)

V, F, R, A = 'value', 'flag', 'repeated', 'action'

TABLE = (
    # -- The project
    option('flavor', None, V, 'project', 'tg2, tg1 or cherrypy (default: detected from the '
           'project files)'),
    option('root', None, V, 'project', 'CherryPy root object as package.module:Root (default: '
           'the one module that imports cherrypy and defines class Root)'),
    # -- Its config file
    option('config', None, V, 'config', 'the config file to deploy, relative to the project '
           '(default: production.ini, else development.ini for TG2; prod.cfg, sample-prod.cfg, '
           'dev.cfg for TG1; production.conf, prod.conf, app.conf for CherryPy)'),
    # -- TurboGears 1.x
    option('tg_version', None, V, 'tg1', 'TurboGears 1.x line: 1.0, 1.1 or 1.5 (default: '
           'the installed TurboGears, else the version setup.py asks for)', 'check_choice'),
    # -- Its start-up
    option('startup', None, V, 'startup', 'package.module:function, the project\'s own '
           'start-up code, called without arguments once per process when the application '
           'is loaded (needs tgdeploy in the virtualenv; default: none)', 'check_function'),
    option('startup_script', None, V, 'startup', 'the project\'s own start script '
           '(start-NAME.py) or package.module:function that each daemon process replays '
           'minus the server (its config, engine hooks, update_config calls), or no (default: '
           'the one the project starts with, for CherryPy and TurboGears 1.x)'),
    option('env_file', None, V, 'startup', 'a .env file (NAME=value lines, as compose files '
           'use) whose variables the application gets, read now and written into the .wsgi '
           '(mode 0640; default: none)', 'check_path'),
    # -- Folders
    option('output_dir', None, V, 'paths', 'folder to write (default: <project>/apache)',
           'check_output_dir'),
    option('data_dir', None, V, 'paths', 'folder the daemon user may write: database, cache, '
           'egg cache (default: <project>/data)', 'check_data_dir'),
    option('elsewhere', 'no', V, 'paths', 'yes: the files are for another machine, so --user, '
           '--group and --python-home need not exist here (default no)', 'check_choice'),
    # -- Python
    option('python_home', None, V, 'python', 'the virtualenv to run in, made from the Python '
           'mod_wsgi was built for (default: the running Python\'s sys.prefix)',
           'check_python_home'),
    # -- Apache
    option('mount', '/', V, 'apache', 'URL path the application answers at, like / or '
           '/myapp (default /)', 'check_mount'),
    option('mode', 'daemon', V, 'apache', 'daemon (own processes, the default) or embedded '
           '(inside Apache\'s workers)', 'check_choice'),
    option('apache', '2.4', V, 'apache', 'Apache version to write for: 2.4 (default) or 2.2',
           'check_choice'),
    option('server_name', None, V, 'apache', 'wrap the config in a <VirtualHost> for this host '
           'name (default: none, the config applies to every host)', 'check_host'),
    option('port', '80', V, 'apache', 'port of that virtual host (default 80)', 'check_count'),
    option('setenv', None, R, 'apache', 'NAME=VALUE put into os.environ before the '
           'application is imported; repeat it for several (default: none)', 'check_setenv'),
    option('limit_request_body', str(DEFAULT_BODY_LIMIT), V, 'apache', 'largest request body '
           'Apache passes to the application, in bytes; 0 for no limit (default %d, 10 MiB, '
           'as mod_wsgi-express)' % DEFAULT_BODY_LIMIT, 'check_count'),
    option('pass_authorization', 'no', V, 'apache', 'yes: the application sees the '
           'Authorization header (token APIs, its own HTTP authentication); default no, '
           'Apache keeps it', 'check_choice'),
    option('compress', 'no', F, 'apache', 'gzip HTML, CSS, JavaScript, JSON, SVG and plain '
           'text answers (mod_deflate) for clients that accept it (default: off)',
           'check_choice'),
    option('script_reloading', 'yes', V, 'apache', 'no: mod_wsgi stops checking the .wsgi '
           'file\'s time on every request (touching it then reloads nothing; tgdeploy '
           '--reload does); with --queue-timeout 0 that also saves a round trip per request '
           'between Apache and the daemon (the CPU-bound profile: README); default yes',
           'check_choice'),
    option('hosts', '1', V, 'apache', 'how many hosts serve this deployment alike behind '
           'a balancer: --doctor then names the state that lives on one host (sessions in '
           'memory or files, SQLite, local caches, per-host secrets) and the keys to change '
           '(default 1)', 'check_count'),
    option('status_endpoint', 'no', F, 'apache', 'a status endpoint at <mount>/.tgdeploy-status, '
           'refused to every client but this machine: per daemon group its processes, threads '
           'busy and idle, requests per second, queue wait, restarts and oldest running request '
           '(tgdeploy --status reads it; /metrics there for Prometheus; mod_status at /apache '
           'there when loaded); daemon mode only (default: off)', 'check_choice'),
    option('header_timeout', '15', V, 'apache', 'seconds a client may take to send its '
           'request line and headers, one more for each 500 bytes it sends, at most twice '
           'this (mod_reqtimeout; the virtual host of --server-name): a client that sends them '
           'slowly holds an Apache worker that long (default 15, as mod_wsgi-express; Apache\'s '
           'and Debian\'s 20; 0: no limit)', 'check_count'),
    option('body_timeout', '15', V, 'apache', 'seconds a client may take to start sending its '
           'request body, one more for each 500 bytes it sends (mod_reqtimeout; the virtual '
           'host of --server-name; default 15, as mod_wsgi-express; Apache\'s 20, Debian\'s '
           '10; 0: no limit)', 'check_count'),
    option('keep_alive_timeout', '2', V, 'apache', 'seconds an idle connection is kept open '
           'for the client\'s next request (the virtual host of --server-name; default 2, as '
           'mod_wsgi-express; Apache\'s and Debian\'s 5; 0: no keep-alive)', 'check_count'),
    option('max_keep_alive_requests', '100', V, 'apache', 'requests one connection may '
           'carry before Apache closes it (the virtual host of --server-name; default 100, '
           'Apache\'s; 0: no limit)', 'check_count'),
    # -- Daemon processes
    option('processes', None, V, 'daemon', 'daemon processes (default: one per CPU core, '
           'at most %d)' % MAX_PROCESSES, 'check_count', now=default_processes),
    option('threads', str(DEFAULT_THREADS), V, 'daemon', 'threads per daemon process '
           '(default %d)' % DEFAULT_THREADS, 'check_count'),
    option('user', None, V, 'daemon', 'user the daemon processes run as; never root '
           '(default: www-data or apache)', 'check_user'),
    option('group', None, V, 'daemon', 'group of the daemon processes (default: the user\'s '
           'primary group)', 'check_group'),
    option('locale', DEFAULT_LOCALE, V, 'daemon', 'locale of the daemon processes (default '
           '%s)' % DEFAULT_LOCALE, 'check_locale'),
    option('preload', 'yes', V, 'daemon', 'yes: load the application when its process starts '
           '(default); no: on the first request into each process', 'check_choice'),
    option('legacy_stdout', 'no', V, 'daemon', 'yes: send sys.stdout to the error log, as '
           'mod_wsgi 1.x/2.x needed (default no)', 'check_choice'),
    option('maximum_requests', '0', V, 'daemon', 'restart each daemon process gracefully '
           'after this many requests, a guard against memory leaks (default 0: never, as '
           'mod_wsgi-express)', 'check_count'),
    option('restart_interval', '0', V, 'daemon', 'restart each daemon process gracefully '
           'after this many seconds (default 0: never)', 'check_count'),
    option('inactivity_timeout', '0', V, 'daemon', 'restart a daemon process that has had no '
           'request for this many seconds, to give its memory back (default 0: never; the '
           'application is loaded again on restart)', 'check_count'),
    option('request_timeout', '60', V, 'daemon', 'seconds after which a daemon process whose '
           'requests run too long is restarted; mod_wsgi 4.x averages the running requests\' '
           'time over the process\'s threads (default 60, as mod_wsgi-express; 0: never)',
           'check_count'),
    option('interrupt_timeout', '0', V, 'daemon', 'mod_wsgi 6.x only: when a request has run '
           'past request-timeout, first end that request alone (504; the process and its other '
           'requests go on) and give it this many seconds to unwind before the process is '
           'restarted (default 0: off, as mod_wsgi-express; mod_wsgi advises 10 or more)',
           'check_count'),
    option('queue_timeout', '45', V, 'daemon', 'a request that waited this many seconds for a '
           'free daemon thread is answered 504 (default 45, as mod_wsgi-express; 0: waits on)',
           'check_count'),
    option('socket_timeout', '60', V, 'daemon', 'seconds Apache waits on the daemon\'s socket '
           'before it gives up on a request (default 60, as mod_wsgi-express; 0: Apache\'s '
           'Timeout)', 'check_count'),
    option('response_socket_timeout', '20', V, 'daemon', 'seconds a write of the answer to '
           'a client that reads none of it may wait before Apache gives up on that client and '
           'frees the daemon thread that produced the answer (mod_wsgi 4.5.13 and later; default '
           '20; 0: socket-timeout\'s)', 'check_count'),
    option('header_buffer_size', '0', V, 'daemon', 'largest response header the daemon may '
           'hand back, in bytes, for large cookies (default 0: mod_wsgi\'s 32768; at least '
           '8192)', 'check_count'),
    option('service', None, R, 'daemon', 'NAME=package.module[:function]: code that must run '
           'once, not once per process (a scheduler, a background job), run in a daemon '
           'process of its own: the module is imported, and the function called, when Apache '
           'starts; the application\'s processes get TGDEPLOY_SERVICES=NAME and must not start '
           'it (README: Running it: jobs that run once); repeat it for several (default: '
           'none)',
           'check_services'),
    # -- Static files
    option('alias', None, R, 'static', 'URL=PATH: Apache serves the file or folder PATH at '
           'URL, granted to every client; repeat it for several (default: none)',
           'check_aliases'),
    option('static_max_age', None, V, 'static', 'Cache-Control max-age in seconds for the '
           'static files Apache serves (default: none; needs mod_headers)', 'check_count'),
    # -- HTTPS
    option('https', 'no', V, 'https', 'own: serve HTTPS with --ssl-certificate and --ssl-key; '
           'acme: with a certificate Apache\'s mod_md obtains and renews (--acme-email); needs '
           '--server-name (default no)', 'check_choice'),
    option('ssl_certificate', None, V, 'https', 'the PEM certificate for --https own (the '
           'chain may follow it in the same file; default: none)', 'check_files'),
    option('ssl_key', None, V, 'https', 'its PEM private key, unencrypted, readable by root '
           'only (default: none)', 'check_files'),
    option('ssl_chain', None, V, 'https', 'a PEM file of intermediate certificates, if not in '
           '--ssl-certificate (default: none)', 'check_files'),
    option('https_port', '443', V, 'https', 'port of the HTTPS virtual host (default 443)',
           'check_count'),
    option('https_only', 'no', F, 'https', 'answer plain HTTP with 301 to HTTPS (except ACME '
           'challenges) and mark session and login cookies Secure (default: off)',
           'check_choice'),
    option('hsts', None, V, 'https', 'send Strict-Transport-Security with this max-age in '
           'seconds (default: none; browsers remember it, so start small)', 'check_count'),
    option('acme_email', None, V, 'https', 'contact address for the ACME account (--https '
           'acme; default: none, needed there)', 'check_acme_email'),
    option('acme_ca', None, V, 'https', 'ACME directory URL of the certificate authority '
           '(default Let\'s Encrypt; its staging directory to try things out)', 'check_acme_ca'),
    # -- Proxies in front
    option('trust_proxy', None, V, 'proxies', 'CIDR[,CIDR...] of the proxies or load balancers in '
           'front: their X-Forwarded-For and -Proto are believed, nobody else\'s (default: '
           'none; networks wider than IPv4 /8 or IPv6 /16 need --trust-wide-networks yes)',
           'check_proxies'),
    option('trust_wide_networks', 'no', V, 'proxies', 'yes: --trust-proxy may name a network '
           'wider than IPv4 /8 or IPv6 /16, every machine of which is then believed (default '
           'no)', 'check_choice'),
    # -- Logs
    option('log_dir', None, V, 'logs', 'folder of the error and access logs of its own '
           '(default: Apache\'s, ${APACHE_LOG_DIR} on Debian, logs/ under /etc/httpd on RHEL)',
           'check_path'),
    # -- Production settings
    option('secrets_from', None, V, 'production', 'a file of "KEY = VALUE" lines with the '
           'secrets to deploy (session.secret, sa_auth.cookie_secret...), kept by the operator '
           'so that several hosts share them (default: fresh ones on the first deploy, kept '
           'after)', 'check_path'),
    option('rotate_secrets', 'no', F, 'production', 'replace the secrets the deployed config '
           'holds with fresh ones (logs every user out; default: off, they are kept)',
           'check_choice'),
    option('error_email', None, V, 'production', 'mail every error report to this address '
           '(TurboGears 2: trace_errors; CherryPy: a mail handler on the cherrypy logger; '
           'default: none)', 'check_email'),
    option('smtp_server', 'localhost', V, 'production', 'the mail server for --error-email, '
           'HOST or HOST:PORT (default localhost)', 'check_smtp'),
    option('sentry_dsn', None, V, 'production', 'send error reports to this Sentry DSN '
           '(TurboGears 2; needs raven in the virtualenv; default: none)', 'check_dsn'),
    # -- The doctor (--doctor, --check)
    option('apache_root', None, V, 'doctor', 'the Apache config tree the doctor reads (default '
           '/etc/apache2, else /etc/httpd)'),
    option('mod_wsgi', None, V, 'doctor', 'the mod_wsgi module to check against and run '
           '(default: the one that Apache config loads)'),
    option('since', None, V, 'doctor', '--diagnose reads the log lines of the last this many '
           'minutes (default 1440, a day; 0: as far back as the logs go)'),
    option('fail_level', None, V, 'doctor', 'the level of finding that fails --doctor, '
           '--check and --serve: warning (exit code 1 with warnings, 3 with errors) or error '
           '(warnings are shown, and exit code 0 without errors: a CI gate) (default warning)'),
    option('silence', None, R, 'doctor', 'a finding id (TGD-W016) that the doctor leaves '
           'out of its lines, counts and exit code: a known, accepted finding; several '
           'separated by commas; for good, silence = IDS in [tgdeploy] of the project\'s '
           'setup.cfg (default: none; README: The doctor\'s findings)'),
    option('format', None, V, 'doctor', 'how --status prints the figures: text (default) or '
           'prometheus (the text format Prometheus scrapes)'),
    option('no_import_check', 'no', F, 'doctor', '--reload without its release check (the '
           'new code loaded as the daemon user and its landing page asked before any daemon '
           'is signalled): only when that check cannot run here (default: off, checked first; '
           'README: Running it: reloading new code)'),
    # -- Actions (instead of only writing apache/)
    option('doctor', None, A, 'action', 'check the deployment against this machine and its '
           'Apache; write nothing'),
    option('check', None, A, 'action', 'write apache/, run the doctor, then the generated '
           'config in a private Apache on 127.0.0.1: configtest, the application root and a '
           'static file, then stop'),
    option('serve', None, A, 'action', 'write apache/ and serve it from a private Apache on '
           '127.0.0.1 until Ctrl-C'),
    option('reload', None, A, 'action', 'reload the application in its running daemon '
           'processes (SIGUSR1: the requests in progress finish first) and wait until new ones '
           'answer; as root or the daemon user. First the new code is loaded as a daemon would '
           'load it and its landing page asked: a failure signals nothing (exit 3); with '
           '--simulate that check alone'),
    option('diagnose', None, A, 'action', 'read the deployment\'s error and access logs '
           '(those its config names, rotated ones included, bounded) and say, per kind of '
           'line, how often, when, the cause and the fix; write nothing (exit 0: nothing '
           'found, 1: warnings, 3: errors)'),
    option('status', None, A, 'action', 'ask this deployment\'s status endpoint '
           '(--status-endpoint) how busy it is and print, per daemon group, processes, threads '
           'busy and idle, requests per second, queue wait, restarts and the oldest running '
           'request; write nothing'),
    option('container', None, A, 'action', 'write apache/ and, for an image of the project, '
           'a Containerfile and .containerignore beside it, the container\'s Apache config and '
           'entry script (apache/container/), its production config, mounted at run time '
           '(apache/container/config/) and a Kubernetes manifest (apache/NAME.kube.yaml)'),
)

# Options that steer detection rather than the generated files (cli/deploy.py hands them to
# detect; settle never sees them).
DETECT_OPTIONS = ('flavor', 'config', 'root')
# The options a front end hands to the run as ``given`` (detection's and settle's).
GIVEN = tuple(o for o in TABLE if o.kind != 'action' and o.group != 'doctor')
# Every option settle takes, with its default (None: worked out from the project).
OPTION_DEFAULTS = dict((o.name, o.default) for o in GIVEN if o.name not in DETECT_OPTIONS)
REPEATED = tuple(o.name for o in TABLE if o.kind == 'repeated')
FLAGS = tuple(o.name for o in TABLE if o.kind == 'flag')
ACTIONS = tuple(o.name for o in TABLE if o.kind == 'action')


def help_text(row):
    """The row's help for --help: with this machine's value of a default worked out now."""
    if row.now is None:
        return row.help
    return '%s, %s on this machine)' % (row.help.rstrip(')'), row.now())


def grouped(rows=TABLE):
    """[(group, title, [rows])] in GROUPS' order, empty groups left out."""
    return [(group, title, [o for o in rows if o.group == group]) for group, title in GROUPS
            if any(o.group == group for o in rows)]

