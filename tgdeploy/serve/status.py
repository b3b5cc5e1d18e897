"""tgdeploy --status: ask this deployment's status endpoint (--status-endpoint,
settle/status.py) how busy it is, and print per daemon group its processes, threads busy and
idle, requests per second, queue wait, restarts and oldest running request; with
``--format prometheus``, the text Prometheus scrapes from the endpoint's /metrics.

Where to ask is read from the generated .conf (reload_conf: its mount, virtual host and
port) and, run as root, from the sockets of the Apache that loads it (reload_probe); the
endpoint answers this machine only (Require local), which is where this runs.
"""
import json
import socket
import ssl

from tgdeploy._compat import HTTPConnection, HTTPException, HTTPSConnection
from tgdeploy.errors import TgDeployError
from tgdeploy.serve.apache_processes import apache_parents
from tgdeploy.serve.reload_conf import conf_text, deployed
from tgdeploy.serve.reload_probe import listening_address
from tgdeploy.settle.status import APACHE, METRICS, NAME, status_url

FORMATS = ('text', 'prometheus')
TIMEOUT = 10
# mod_status's ?auto lines worth a line of their own (Apache's own workers: the relays).
APACHE_FIELDS = ('BusyWorkers', 'IdleWorkers')


def run(action, values, out, format=None):
    """--status [--format F]: prints the figures; exit code 0."""
    if action != 'status':
        raise TgDeployError('--format applies to --status only: add --status, or drop it')
    format = format or 'text'
    if format not in FORMATS:
        raise TgDeployError('--format %r is not one of %s' % (format, ', '.join(FORMATS)))
    where = endpoint(values)
    if format == 'prometheus':
        for line in fetch(where, METRICS).rstrip('\n').splitlines():
            out(line)
        return 0
    try:
        figures = json.loads(fetch(where, '?format=json'))
    except ValueError:
        raise TgDeployError('%s answered something else than its figures: is it tgdeploy\'s '
                            'status endpoint? Deploy again with --status-endpoint' % where['url'])
    for line in describe(figures):
        out(line)
    workers = apache_workers(where)
    if workers:
        out('apache: ' + workers)
    return 0


def endpoint(values):
    """{url, host, port, tls, path, host_header} of the endpoint the deployed .conf names."""
    path = values.paths.conf_file
    try:
        text = conf_text(path)[0]
    except EnvironmentError as e:
        raise TgDeployError('cannot read %s (%s): deploy first, with --status-endpoint'
                            % (path, e.strerror or e))
    if '/' + NAME not in text:
        raise TgDeployError('%s has no status endpoint: deploy again with --status-endpoint '
                            '(then restart Apache gracefully)' % path)
    target = deployed(values)
    address = listening_address(apache_parents(target['file']), target) if target['file'] \
        else None
    if address is None:  # not root: Apache's sockets are not ours to see
        host, port, tls = '127.0.0.1', target['port'] or 80, target['tls']
    else:
        host, port, tls = address
    name = host if ':' not in host else '[%s]' % host
    url = '%s://%s:%d%s' % ('https' if tls else 'http', name, port,
                            status_url(target['mount']))
    return {'url': url, 'host': host, 'port': port, 'tls': tls,
            'path': status_url(target['mount']),
            'host_header': target['server_name'] or name}


def fetch(where, suffix, refuse=True):
    """The body of GET endpoint + suffix as text; None when not 200 and not ``refuse``."""
    if where['tls']:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # our own server, asked on its own address
        connection = HTTPSConnection(where['host'], where['port'], timeout=TIMEOUT,
                                     context=context)
    else:
        connection = HTTPConnection(where['host'], where['port'], timeout=TIMEOUT)
    try:
        connection.request('GET', where['path'] + suffix,
                           headers={'Host': where['host_header']})
        response = connection.getresponse()
        body = response.read().decode('utf-8', 'replace')
    except (IOError, OSError, socket.error, HTTPException) as e:
        if not refuse:
            return None
        raise TgDeployError('%s did not answer (%s): is Apache running with %s?' % (
            where['url'], e, 'this deployment\'s config'))
    finally:
        connection.close()
    if response.status != 200:
        if not refuse:
            return None
        raise TgDeployError('%s answered %d%s' % (where['url'] + suffix, response.status, {
            403: ': it answers this machine only, and Apache saw another address',
            404: ': is the config with --status-endpoint the one Apache loaded? (restart it '
                 'gracefully after deploying)'}.get(response.status, ': see Apache\'s '
                                                    'error log')))
    return body


def describe(figures):
    """Lines of text, a block per daemon group."""
    lines = []
    for group in figures.get('groups', ()):
        oldest = group.get('oldest_request')
        lines.extend([
            'daemon group %s:' % group['group'],
            '  processes        %d running (%d configured)' % (
                group['processes'], group['processes_configured']),
            '  threads          %d busy, %d idle (%d)' % (group['busy'], group['idle'],
                                                          group['threads']),
            '  requests/s       %.1f (the last 10 s)' % group['requests_per_second'],
            '  queue wait       %.1f ms on average (the last 10 s)' % (
                group['queue_wait'] * 1000),
            '  restarts         %d (processes started since Apache started, beyond the first '
            '%d)' % (group['restarts'], group['processes_configured']),
            '  oldest request   %s' % ('%.1f s running' % oldest if oldest is not None
                                       else 'none running')])
        if not group['processes']:
            lines.append('  (no process has reported: see Apache\'s error log for "tgdeploy '
                         'status")')
    return lines


def apache_workers(where):
    """mod_status's count of Apache's busy and idle workers, when it is loaded."""
    text = fetch(where, APACHE + '?auto', refuse=False)
    if not text:
        return None
    fields = dict(line.split(': ', 1) for line in text.splitlines() if ': ' in line)
    if not all(name in fields for name in APACHE_FIELDS):
        return None
    return '%s workers busy, %s idle (mod_status, the whole server)' % (
        fields['BusyWorkers'].strip(), fields['IdleWorkers'].strip())
