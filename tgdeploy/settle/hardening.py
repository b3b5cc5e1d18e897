"""The front's defences against slow clients: how long a client may take to send its request
(mod_reqtimeout), how long an idle keep-alive connection is kept, and how long a client that
stops reading its answer may hold a daemon thread (mod_wsgi's response-socket-timeout).

The first three are written into the virtual host (--server-name): they are directives of the
server or a virtual host, and a config without a virtual host is server-wide, where they
would change every other site of the server; there the server's own settings stay (the
doctor says when mod_reqtimeout is not loaded). The last one is a WSGIDaemonProcess option.
The defaults and the reasons for them are in table.py's rows; README: Running it.
"""
from tgdeploy.errors import TgDeployError
from tgdeploy.settle.checks import check_count, dashed
from tgdeploy.settle.table import OPTION_DEFAULTS

DAY = 24 * 3600
# (option, its settled group, low, high); 0 turns the timeout or limit off.
HARDENING_LIMITS = (
    ('header_timeout', 'apache', 0, DAY),
    ('body_timeout', 'apache', 0, DAY),
    ('keep_alive_timeout', 'apache', 0, DAY),
    ('max_keep_alive_requests', 'apache', 0, 2 ** 31 - 1),
    ('response_socket_timeout', 'daemon', 0, 365 * DAY),
)
VIRTUAL_HOST_ONLY = ('header_timeout', 'body_timeout', 'keep_alive_timeout',
                     'max_keep_alive_requests')


def settle_hardening(opts, given, values):
    """Fill HARDENING_LIMITS into ``values.apache`` and ``values.daemon``, checked; an option
    given for what this deployment does not write (no virtual host, no daemon) is refused."""
    explicit = [name for name, _, _, _ in HARDENING_LIMITS
                if name in given and given[name] != OPTION_DEFAULTS.get(name)]
    for name in explicit:
        if name in VIRTUAL_HOST_ONLY and not values.apache.server_name:
            raise TgDeployError('--%s is written into the virtual host, and without '
                                '--server-name this config has none (it is server-wide, and '
                                'the server\'s own setting stays): add --server-name, or set '
                                'it in the server\'s config' % dashed(name))
        if name == 'response_socket_timeout' and values.apache.mode == 'embedded':
            raise TgDeployError('--response-socket-timeout applies to daemon mode only (a '
                                'WSGIDaemonProcess option): drop it, or use --mode daemon')
    for name, group, low, high in HARDENING_LIMITS:
        setattr(getattr(values, group), name, check_count(name, opts[name], low, high))
