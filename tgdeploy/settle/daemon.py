"""The processes that run the application: daemon or embedded mode, the user and group,
the virtualenv's Python, the daemon's name, and its leak guards and timeouts.

The defaults of processes and threads (one process per core, 8 threads) are in table.py
with the other options' defaults.
"""
import grp
import pwd
import re

from tgdeploy.detect.projectfiles import pyvenv_cfg, read_text
from tgdeploy.errors import TgDeployError
from tgdeploy.settle.checks import check_count, dashed
from tgdeploy.settle.table import OPTION_DEFAULTS

DEFAULT_USERS = ('www-data', 'apache', 'httpd')  # Debian, RHEL, others
MODES = ('daemon', 'embedded')
APACHE_VERSIONS = ('2.4', '2.2')

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
    ('interrupt_timeout', 0, 365 * 24 * 3600),
    ('queue_timeout', 0, 365 * 24 * 3600),
    ('socket_timeout', 0, 365 * 24 * 3600),
    ('header_buffer_size', 0, 2 ** 31 - 1),
)
# The project's config asks CherryPy for one request thread (code that is not thread-safe).
ONE_THREAD = re.compile(r'^\s*server\.thread_pool\s*=\s*1\s*(#.*)?$', re.M)


def daemon_limits(opts, given, values):
    """Fill the daemon's leak guards and timeouts (DAEMON_LIMITS) into ``values.daemon``,
    checked; refused in embedded mode, where no daemon runs."""
    explicit = set(k for k, v in given.items() if v != OPTION_DEFAULTS.get(k))
    daemon_only = [name for name, _, _ in DAEMON_LIMITS if name in explicit]
    if daemon_only and values.apache.mode == 'embedded':
        raise TgDeployError('--%s applies to daemon mode only (a WSGIDaemonProcess option): '
                            'drop it, or use --mode daemon' % dashed(daemon_only[0]))
    limits = dict((name, check_count(name, opts[name], low, high))
                  for name, low, high in DAEMON_LIMITS)
    if limits['interrupt_timeout'] and not limits['request_timeout']:
        raise TgDeployError('--interrupt-timeout acts when request-timeout fires, which '
                            '--request-timeout 0 turns off: give --request-timeout seconds, or '
                            'drop --interrupt-timeout')
    if 0 < limits['header_buffer_size'] < 8192:
        raise TgDeployError('--header-buffer-size %d: mod_wsgi takes 8192 bytes or more (0 '
                            'keeps its 32768)' % limits['header_buffer_size'])
    values.daemon.update(limits)
    # The optional daemon options, in the order the WSGIDaemonProcess line gives them.
    values.daemon.leak_guards = [(dashed(name), limits[name]) for name in (
        'maximum_requests', 'restart_interval', 'inactivity_timeout') if limits[name]]


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


def daemon_name(slug, mount):
    # Daemon names must be unique in the whole Apache server: one per project and mount.
    if mount == '/':
        return slug
    return slug + '-' + mount.strip('/').replace('/', '-')


def one_thread_pool(project):
    """Whether the TurboGears 1.x or CherryPy config sets server.thread_pool = 1."""
    if project.flavor not in ('tg1', 'cherrypy') or not project.config_file:
        return False
    try:
        # In any encoding (textfiles.py).
        return bool(ONE_THREAD.search(read_text(project.config_file)))
    except (IOError, OSError):
        return False


def venv_python_version(python_home):
    """The version of the Python the venv was made from ('2.7.18'), if pyvenv.cfg says."""
    keys = pyvenv_cfg(python_home)
    # venv writes version, virtualenv 20 version_info (2.7.18.final.0).
    version = keys.get('version') or keys.get('version_info') or ''
    return '.'.join(version.split('.')[:3])
