"""Several hosts behind a real load balancer, for tests/test_balancer.py and
tests/test_shared_sessions.py (and bench/balancer.py), loopback only.

The back ends are one TurboGears 2 quickstart (made by `gearbox quickstart`, plus the pages
of tests/fixtures/tg2_hosts.py at /hosts), deployed by `paster tgdeploy` once per host, as
on separate machines: each host its own apache/ and data/ folders, every host the same
secrets file and `--trust-proxy` for the balancer; each served by a private Apache on an
address of its own (127.0.0.2, .3, .4). The front is what tg_balancer writes, run by the
engine as installed: HAProxy, or a private Apache with mod_proxy_balancer.
"""
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

from support.httpd import Apache, free_port
from support.sites import quickstart_tg2
from support.venv import run
from tgdeploy.balancer import front as balancer
from tgdeploy.serve.private_apache import MODULES

BACKEND_ADDRESSES = ('127.0.0.2', '127.0.0.3', '127.0.0.4')
BALANCER = '127.0.0.1'  # the address the back ends trust for forwarded headers
CLIENT = '127.0.0.5'    # not trusted by the back ends: what they must see as the client
HEALTH = '/favicon.ico'  # the quickstart's, served by each back end's Apache, not by TG
HAPROXY = '/usr/sbin/haproxy'
# What the README's a2enmod line loads, for the private Apache in front (watchdog is built in).
FRONT_MODULES = ('proxy', 'proxy_http', 'proxy_balancer', 'lbmethod_byrequests',
                 'lbmethod_bybusyness', 'slotmem_shm', 'proxy_hcheck', 'headers', 'status')
PAGES = Path(__file__).resolve().parents[1] / 'fixtures' / 'tg2_hosts.py'
# Linux: the source port is chosen at connect(), per destination, so that the many short
# connections of a load test from one source address do not run out of ports while the
# earlier ones sit in TIME_WAIT (bind() alone would reserve a port for every destination).
IP_BIND_ADDRESS_NO_PORT = getattr(socket, 'IP_BIND_ADDRESS_NO_PORT', 24)


# -- the project and its hosts ----------------------------------------------------------

def make_hosts_project(venv, parent, name='hostsapp'):
    """`gearbox quickstart NAME` in ``parent``, installed in ``venv``, with the /hosts pages
    (a NAME not yet installed there: gearbox refuses the name of an importable package)."""
    project = Path(quickstart_tg2(venv, parent, name))
    controllers = project / name / 'controllers'
    shutil.copy(str(PAGES), str(controllers / 'hosts.py'))
    with (controllers / 'root.py').open('a') as f:
        f.write('\n\n# Added by tgdeploy\'s tests: the pages of several hosts behind a balancer.\n'
                'from .hosts import HostsController  # noqa: E402\n'
                'RootController.hosts = HostsController()\n')
    return project


def write_secrets(path):
    """One secrets file for every host (--secrets-from): the keys a quickstart signs with."""
    keys = ('session.secret', 'session.validate_key', 'sa_auth.cookie_secret')
    Path(path).write_text(''.join('%s = %s\n' % (key, secrets.token_hex(24)) for key in keys))
    Path(path).chmod(0o600)
    return Path(path)


class Host(object):
    """One back end: its own folders (its disk) and its own Apache on ``address``."""

    def __init__(self, parent, address, slug):
        self.folder = Path(tempfile.mkdtemp(dir=str(parent), prefix='host-%s-' % address))
        self.folder.chmod(0o755)
        self.address = address
        self.apache_dir = self.folder / 'apache'
        self.data_dir = self.folder / 'data'
        self.apache = None
        self.slug = slug

    def options(self, secrets_file):
        return ['--output-dir', self.apache_dir, '--data-dir', self.data_dir,
                '--secrets-from', secrets_file, '--trust-proxy', BALANCER]

    def deploy(self, venv, project, secrets_file, *extra):
        """`paster tgdeploy` for this host, its data folder the daemon user's (README step 2)."""
        run(['install', '-d', '-o', 'www-data', '-g', 'www-data', self.data_dir,
             self.data_dir / 'egg-cache'])
        run([venv.bin('paster'), 'tgdeploy', '-q', '--overwrite'] +
            self.options(secrets_file) + list(extra), cwd=project)
        if self.apache is None:
            root = self.folder / 'httpd'
            root.mkdir(mode=0o755)
            self.apache = Apache(str(root), [str(self.apache_dir / (self.slug + '.conf'))],
                                 address=self.address)

    def doctor(self, venv, project, secrets_file, hosts):
        """`paster tgdeploy --doctor --hosts N` with this host's options."""
        return run([venv.bin('paster'), 'tgdeploy', '--doctor', '--hosts', str(hosts)] +
                   self.options(secrets_file), cwd=project, check=False)

    @property
    def url(self):
        return self.apache.url

    def start(self):
        try:
            self.apache.start(HEALTH)
        except Exception as e:  # the reason is in the log, not in apache2's output
            raise AssertionError('%s; its error log ends:\n%s'
                                 % (e, self.apache.error_log()[-3000:]))

    def stop(self):
        if self.apache is not None:
            self.apache.stop()


@contextlib.contextmanager
def running_hosts(venv, project, secrets_file, parent, count=3):
    """``count`` hosts deployed and started; all of them stopped at the end."""
    hosts = [Host(parent, address, project.name) for address in BACKEND_ADDRESSES[:count]]
    try:
        for host in hosts:
            host.deploy(venv, project, secrets_file)
            host.start()
        yield hosts
    finally:
        for host in hosts:
            host.stop()


# -- the fronts -------------------------------------------------------------------------

def render(engine, backend_urls, folder, **extra):
    values = balancer.settle(dict(dict(
        project='front', engine=engine, health=HEALTH, listen='%s:%d' % (BALANCER, free_port()),
        backends=' '.join(backend_urls)), **extra))
    balancer.write(values, str(folder), verbosity=0)
    return values


def load_modules():
    return ''.join('LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n' % (m, m)
                   for m in FRONT_MODULES if m not in MODULES)


class HAProxy(object):
    """haproxy in the foreground (-db) on the generated config; its admin socket."""

    def __init__(self, config, socket_path):
        if not os.path.exists(HAPROXY):
            raise AssertionError('%s is missing: run scripts/provision (it installs haproxy)'
                                 % HAPROXY)
        self.socket_path = socket_path
        check = subprocess.run([HAPROXY, '-c', '-f', config], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        self.proc = subprocess.Popen([HAPROXY, '-db', '-f', config], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def command(self, line):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.settimeout(10)
            s.connect(self.socket_path)
            s.sendall(line.encode() + b'\n')
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return b''.join(chunks).decode()
                chunks.append(chunk)
        finally:
            s.close()

    def stats(self, server):
        """(status, current sessions) of one server of the 'front' back end."""
        for row in self.command('show stat').splitlines():
            fields = row.split(',')
            if fields[:2] == ['front', server]:
                return fields[17], int(fields[4] or 0)
        raise AssertionError('no server %s in show stat' % server)

    def pids(self):
        return [self.proc.pid]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class BalancerManager(object):
    """Apache's balancer-manager, driven as its form does (the page's nonce, a Referer)."""

    def __init__(self, url):
        self.url = url + '/balancer-manager'
        self.host, self.port = url.split('//')[1].split(':')

    def request(self, method, body=None):
        connection = HTTPConnection(self.host, int(self.port), timeout=10)
        try:
            headers = {'Referer': self.url}
            if body:
                headers['Content-Type'] = 'application/x-www-form-urlencoded'
            connection.request(method, '/balancer-manager', body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def set_drain(self, i, on):
        status, page = self.request('GET')
        assert status == 200, page
        nonce = re.search(r'nonce=([0-9a-f-]+)', page).group(1)
        member = 'http://%s' % re.findall(r'>http://([0-9.:]+)<', page)[i]
        status, page = self.request('POST', urlencode(
            {'b': 'front', 'w': member, 'w_status_N': int(on), 'nonce': nonce}))
        assert status == 200, page

    def drain(self, i):
        self.set_drain(i, True)
        time.sleep(1)  # the requests it was serving are answered in milliseconds

    def enable(self, i):
        self.set_drain(i, False)


class Front(object):
    """A running front: its URL, how to drain and put back back end ``i``, its processes."""

    def __init__(self, engine, url, drain, enable, pids, stop):
        self.engine, self.url, self.drain, self.enable = engine, url, drain, enable
        self.pids, self.stop = pids, stop


@contextlib.contextmanager
def running_front(engine, backend_urls, folder):
    """The front tg_balancer writes for ``engine`` over ``backend_urls``, started in
    ``folder`` (a folder www-data can enter) and stopped at the end."""
    folder = Path(folder)
    if engine == 'apache':
        values = render(engine, backend_urls, folder / 'front')
        apache = Apache(str(folder), [str(folder / 'front' / 'front.conf')],
                        port=int(values['listen'].split(':')[1]), extra=load_modules(),
                        log_level='warn')
        check = apache.configtest()
        assert check.returncode == 0, check.stdout
        try:
            apache.start(None)
            manager = BalancerManager(apache.url)
            yield Front(engine, apache.url, manager.drain, manager.enable,
                        lambda: apache_pids(apache), apache.stop)
        finally:
            apache.stop()
    else:
        values = render(engine, backend_urls, folder / 'front',
                        admin_socket=str(folder / 'admin.sock'))
        proxy = HAProxy(str(folder / 'front' / 'front.cfg'), values['admin_socket'])
        try:
            wait_for(lambda: os.path.exists(values['admin_socket']), 10)
            yield Front(engine, 'http://%s' % values['listen'],
                        lambda i: haproxy_drain(proxy, 'b%d' % (i + 1)),
                        lambda i: proxy.command('set server front/b%d state ready' % (i + 1)),
                        proxy.pids, proxy.stop)
        finally:
            proxy.stop()


def apache_pids(apache):
    """The parent and its children: the processes that relay the requests, the mod_wsgi
    daemons, the piped loggers (any of the parent's threads may have forked them)."""
    parent = apache.pid()
    children = set()
    for task in Path('/proc/%d/task' % parent).iterdir():
        children.update(int(pid) for pid in (task / 'children').read_text().split())
    return [parent] + sorted(children)


def haproxy_drain(proxy, server):
    proxy.command('set server front/%s state drain' % server)
    wait_for(lambda: proxy.stats(server)[1] == 0, 10)


def wait_for(condition, timeout):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, 'still waiting after %ss' % timeout
        time.sleep(0.1)


# -- clients ----------------------------------------------------------------------------

class ClientConnection(HTTPConnection):
    """An HTTP connection from CLIENT (an address nobody trusts)."""

    def connect(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.settimeout(self.timeout)
            sock.bind((CLIENT, 0))
            sock.connect((self.host, self.port))
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def get(base, path, cookie=None, timeout=30):
    """(status, body text, Set-Cookie header or None) of one GET from CLIENT."""
    host, port = base.split('//')[1].split(':')
    connection = ClientConnection(host, int(port), timeout=timeout)
    try:
        connection.request('GET', path, headers={'Cookie': cookie} if cookie else {})
        response = connection.getresponse()
        body = response.read().decode()
        return response.status, body, response.getheader('Set-Cookie')
    finally:
        connection.close()


def get_json(base, path, cookie=None):
    status, body, set_cookie = get(base, path, cookie)
    assert status == 200, '%s%s: %d %s' % (base, path, status, body[:300])
    return json.loads(body), set_cookie
