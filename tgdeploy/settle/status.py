"""--status-endpoint: where this deployment answers how busy it is (serve/status.py reads it).

The endpoint is ``<mount>/.tgdeploy-status``, mapped by a WSGIScriptAlias of its own placed
before the application's: Apache gives the longest alias the request, so the application
cannot shadow it, whatever routes it has. What the endpoint would take from the application
is refused here, before anything is written: a --mount or an --alias at or under that URL.
The reports of the daemon processes go into ``<data_dir>/status`` (the daemon user writes
there already); the endpoint runs in a daemon group of its own, named after the
application's (apache/<slug>-status.wsgi says why).
"""
import posixpath

from tgdeploy.errors import TgDeployError
from tgdeploy.settle.checks import check_choice

NAME = '.tgdeploy-status'
# Under the endpoint: Prometheus's format, and mod_status (when Apache loads it).
METRICS, APACHE = '/metrics', '/apache'


def status_url(mount):
    return (mount or '/').rstrip('/') + '/' + NAME


def settle_status(opts, values):
    """Fill the apache.status_* fields of ``values`` (None when the option is off): a step
    of options.settle(), after the mount, mode, aliases and data folder are settled."""
    wanted = check_choice('status-endpoint', opts.get('status_endpoint') or 'no',
                          ('yes', 'no')) == 'yes'
    refuse_reserved_mount(values.apache.mount)
    if not wanted:
        values.apache.update(status_url=None, status_dir=None, status_daemon=None)
        return values
    if values.apache.mode != 'daemon':
        raise TgDeployError('--status-endpoint reads the daemon processes\' own figures, and '
                            'embedded mode has none: drop --mode embedded, or drop '
                            '--status-endpoint')
    url = status_url(values.apache.mount)
    refuse_collisions(url, values)
    values.apache.update(status_url=url,
                         status_dir=posixpath.join(values.paths.data_dir, 'status'),
                         status_daemon=values.daemon.name + '-status')
    return values


def refuse_reserved_mount(mount):
    """A mount holding the name, with the endpoint or without: the status endpoint of a
    deployment at a shorter mount on the same server would take its requests."""
    if NAME in (mount or '/').split('/'):
        raise TgDeployError('--mount %s holds %s, the name tgdeploy reserves for status '
                            'endpoints (--status-endpoint): choose another mount' % (mount, NAME))


def refuse_collisions(url, values):
    """An alias at or under the endpoint would be taken from the application, or would take
    the endpoint: bad input, said in one line."""
    for alias_url, _ in values.static.urls or ():
        path = alias_url.rstrip('/')
        if path == url or path.startswith(url + '/'):
            raise TgDeployError('--alias %s lies in %s, the status endpoint\'s URL: choose '
                                'another URL for it, or drop --status-endpoint'
                                % (alias_url, url))
