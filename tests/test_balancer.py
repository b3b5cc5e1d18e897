"""Several hosts behind a real load balancer (issue 13), loopback only.

Three back ends: private Apaches on 127.0.0.2, .3 and .4 serving the CherryPy fixture as
`paster tgdeploy --trust-proxy 127.0.0.1` deployed it (daemon mode); in front, what
`paster create -t tg_balancer` writes, run by the engine as installed: Apache
mod_proxy_balancer (a private Apache on 127.0.0.1) or HAProxy. Clients come from 127.0.0.5.
Measured per engine: requests spread over the three; the application sees the client's
address, scheme and host; under load, a `kill -9` of one back end's Apache (failed requests
counted, at most those in flight); a rolling restart of the three, each drained at the
balancer first (balancer-manager, HAProxy's admin socket): no failed request.
Every server is started and stopped here.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

import pytest

from conftest import paster
from support.httpd import Apache, free_port
from tgdeploy import balancer
from tgdeploy.errors import TgDeployError
from tgdeploy.private_apache import MODULES

BACKEND_ADDRESSES = ('127.0.0.2', '127.0.0.3', '127.0.0.4')
CLIENT = '127.0.0.5'   # not trusted by the back ends: what they must see as the client
HEALTH = '/static/style.css'  # served by each back end's Apache, not the application
HAPROXY = '/usr/sbin/haproxy'
# What the README's a2enmod line loads, for the private Apache in front (watchdog is built in).
FRONT_MODULES = ('proxy', 'proxy_http', 'proxy_balancer', 'lbmethod_byrequests',
                 'lbmethod_bybusyness', 'slotmem_shm', 'proxy_hcheck', 'headers', 'status')
THREADS = 4
results = {}  # engine -> what was measured, printed at the end (pytest -s)


# -- the parts --------------------------------------------------------------------------

@pytest.fixture(scope='module')
def backends(cherry_project, deploy_venv, www_root):
    """Three back ends of one deployment, each its own Apache on its own address."""
    out = Path(tempfile.mkdtemp(dir=str(www_root)))
    out.chmod(0o755)
    paster(deploy_venv, 'tgdeploy', '-q', '--output-dir', out / 'apache', '--trust-proxy',
           '127.0.0.1', cwd=cherry_project)
    made = []
    for address in BACKEND_ADDRESSES:
        root = Path(tempfile.mkdtemp(dir=str(www_root)))
        root.chmod(0o755)
        made.append(Apache(str(root), [str(out / 'apache' / 'cherryapp.conf')],
                           address=address))
    try:
        for apache in made:
            apache.start(HEALTH)
        yield made
    finally:
        for apache in made:
            apache.stop()


def render(engine, backends, folder, **extra):
    values = balancer.settle(dict(dict(
        project='front', engine=engine, health=HEALTH, listen='127.0.0.1:%d' % free_port(),
        backends=' '.join(b.url for b in backends)), **extra))
    balancer.write(values, str(folder), verbosity=0)
    return values


class HAProxy(object):
    """haproxy in the foreground (-db) on the generated config; its admin socket."""

    def __init__(self, config, socket_path):
        if not os.path.exists(HAPROXY):
            pytest.fail('%s is missing: run scripts/provision (it installs haproxy)' % HAPROXY)
        self.socket_path = socket_path
        check = subprocess.run([HAPROXY, '-c', '-f', config], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        self.proc = subprocess.Popen([HAPROXY, '-db', '-f', config], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)

    def command(self, line):
        s = socket.socket(socket.AF_UNIX)
        try:
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

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(params=['apache', 'haproxy'])
def front(request, backends, www_tmp):
    """(engine, base URL, drain(i), enable(i)) of a running front over the three back ends."""
    engine = request.param
    folder = www_tmp / 'front'
    if engine == 'apache':
        values = render(engine, backends, folder)
        apache = Apache(str(www_tmp), [str(folder / 'front.conf')],
                        port=int(values['listen'].split(':')[1]), extra=load_modules())
        assert apache.configtest().returncode == 0, apache.configtest().stdout
        apache.start(None)
        manager = BalancerManager(apache.url)
        yield engine, apache.url, manager.drain, manager.enable
        apache.stop()
    else:
        values = render(engine, backends, folder, admin_socket=str(www_tmp / 'admin.sock'))
        proxy = HAProxy(str(folder / 'front.cfg'), values['admin_socket'])
        try:
            wait_for(lambda: os.path.exists(values['admin_socket']), 10)
            yield (engine, 'http://%s' % values['listen'],
                   lambda i: haproxy_drain(proxy, 'b%d' % (i + 1)),
                   lambda i: proxy.command('set server front/b%d state ready' % (i + 1)))
        finally:
            proxy.stop()
    # A back end killed by a test is started again for the next engine.
    for b in backends:
        if not b.listening():
            b.start(HEALTH)


def load_modules():
    return ''.join('LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n' % (m, m)
                   for m in FRONT_MODULES if m not in MODULES)


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


def haproxy_drain(proxy, server):
    proxy.command('set server front/%s state drain' % server)
    wait_for(lambda: proxy.stats(server)[1] == 0, 10)


def wait_for(condition, timeout):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, 'still waiting after %ss' % timeout
        time.sleep(0.1)


# -- clients ----------------------------------------------------------------------------

def whoami(base):
    host, port = base.split('//')[1].split(':')
    connection = HTTPConnection(host, int(port), timeout=30, source_address=(CLIENT, 0))
    try:
        connection.request('GET', '/whoami')
        response = connection.getresponse()
        body = response.read().decode()
        return response.status, body
    finally:
        connection.close()


class Load(object):
    """THREADS clients asking /whoami in a loop until stopped: answers and failures."""

    def __init__(self, base):
        self.base, self.ok, self.failed = base, 0, []
        self.running = True
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.client) for _ in range(THREADS)]
        for t in self.threads:
            t.start()

    def client(self):
        while self.running:
            try:
                status, body = whoami(self.base)
                failure = None if status == 200 else '%d %s' % (status, body[:100])
            except (IOError, OSError) as e:
                failure = repr(e)
            with self.lock:
                if failure:
                    self.failed.append(failure)
                else:
                    self.ok += 1

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(60)
        return self.ok, self.failed


def kill_9(apache):
    """kill -9 of the back end's whole Apache (parent, children, mod_wsgi daemons): a host
    that dies, not one that stops."""
    group = os.getpgid(apache.pid())
    assert group != os.getpgrp()  # Apache made its own process group when it detached
    os.killpg(group, signal.SIGKILL)
    wait_for(lambda: not apache.listening(), 10)


# -- the tests --------------------------------------------------------------------------

@pytest.mark.slow
def test_spread_client_address_and_scheme(front, backends):
    engine, base, _, _ = front
    wait_for(lambda: whoami(base)[0] == 200, 15)
    seen = [json.loads(whoami(base)[1]) for _ in range(30)]
    servers = set(s['server'].split(':')[0] for s in seen)
    assert servers == set(BACKEND_ADDRESSES), servers
    for s in seen:
        # The client's address and scheme, and the host it asked for, not the balancer's.
        assert s['remote_addr'] == CLIENT and s['scheme'] == 'http', s
        assert s['host'] == base.split('//')[1], s
    # Straight to a back end from an address it does not trust, forged headers are dropped.
    connection = HTTPConnection(BACKEND_ADDRESSES[0], backends[0].port, timeout=10,
                                source_address=(CLIENT, 0))
    connection.request('GET', '/whoami', headers={'X-Forwarded-For': '6.6.6.6',
                                                   'X-Forwarded-Proto': 'https'})
    direct = json.loads(connection.getresponse().read().decode())
    connection.close()
    assert direct['remote_addr'] == CLIENT and direct['scheme'] == 'http', direct


@pytest.mark.slow
def test_kill_9_of_one_back_end_under_load(front, backends):
    engine, base, _, _ = front
    wait_for(lambda: whoami(base)[0] == 200, 15)
    load = Load(base)
    time.sleep(2)
    kill_9(backends[1])
    time.sleep(6)  # three health-check intervals: the balancer has taken it out
    ok, failed = load.stop()
    results.setdefault(engine, {})['kill -9'] = (ok, len(failed), failed[:5])
    print('\n%s: kill -9 of one back end after 2 s of load, 6 s more: %d answered, '
          '%d failed %s' % (engine, ok, len(failed), failed[:5]))
    assert ok > 100
    # At most the requests in flight on the killed host; HAProxy retries even those.
    assert len(failed) <= THREADS, failed


@pytest.mark.slow
def test_rolling_restart_loses_nothing(front, backends):
    engine, base, drain, enable = front
    wait_for(lambda: all(b.listening() for b in backends), 15)
    wait_for(lambda: whoami(base)[0] == 200, 15)
    time.sleep(4.5)  # every back end passed its health checks (hcpasses/rise 2, every 2 s)
    load = Load(base)
    started = time.time()
    for i, apache in enumerate(backends):
        drain(i)
        apache.stop()
        apache.start(HEALTH)
        enable(i)
        time.sleep(4.5)  # back in service before the next one leaves
    ok, failed = load.stop()
    results.setdefault(engine, {})['rolling restart'] = (ok, len(failed), failed[:5])
    print('\n%s: rolling restart of 3 back ends in %.1fs: %d answered, %d failed %s'
          % (engine, time.time() - started, ok, len(failed), failed[:5]))
    assert ok > 100
    assert failed == []


# -- the template's variables (no server) -----------------------------------------------

@pytest.mark.parametrize('given, message', [
    ({'backends': ''}, 'no back ends'),
    ({'backends': 'ftp://h:1'}, "back end 'ftp://h:1' is not http://HOST:PORT"),
    ({'backends': 'http://h:1/shop'}, 'has a path'),
    ({'backends': 'http://h:1 http://h:1'}, 'given twice'),
    ({'backends': 'http://h:99999'}, 'is not http://HOST:PORT'),
    ({'backends': 'http://h"x:1'}, 'is not http://HOST:PORT'),
    ({'backends': 'http://h:1', 'engine': 'nginx'}, 'engine=apache or engine=haproxy'),
    ({'backends': 'http://h:1', 'sticky': 'maybe'}, 'sticky=yes or sticky=no'),
    ({'backends': 'http://h:1', 'health': 'favicon.ico'}, 'not a plain URL path'),
    ({'backends': 'http://h:1', 'health': '/a b'}, 'not a plain URL path'),
    ({'backends': 'http://h:1', 'listen': '80;x'}, 'use PORT or ADDRESS:PORT'),
    ({'backends': 'http://h:1', 'bogus': 'x'}, 'unknown variable(s) bogus'),
])
def test_bad_variables_refused(given, message):
    with pytest.raises(TgDeployError) as e:
        balancer.settle(given)
    assert message in str(e.value) and '\n' not in str(e.value)


@pytest.mark.parametrize('engine', ['apache', 'haproxy'])
@pytest.mark.parametrize('sticky', ['yes', 'no'])
def test_paster_create_writes_a_config_the_engine_accepts(engine, sticky, deploy_venv, www_tmp):
    paster(deploy_venv, 'create', '-t', 'tg_balancer', 'shopfront', 'engine=' + engine,
           'backends=http://10.0.0.2:8080 https://10.0.0.3:8443', 'sticky=' + sticky,
           'server_name=shop.example.org', '--no-interactive', cwd=www_tmp)
    folder = www_tmp / 'shopfront'
    names = sorted(os.listdir(str(folder)))
    config = 'shopfront.conf' if engine == 'apache' else 'shopfront.cfg'
    assert names == sorted(['README.txt', config])
    text = (folder / config).read_text()
    assert ('ROUTEID' in text or 'cookie SERVERID' in text) == (sticky == 'yes')
    if engine == 'haproxy':
        check = subprocess.run([HAPROXY, '-c', '-f', str(folder / config)],
                               capture_output=True, text=True)
    else:
        apache = Apache(str(www_tmp), [str(folder / config)], extra=load_modules()
                        + 'LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n')
        check = apache.configtest()
        check = subprocess.CompletedProcess([], check.returncode, check.stdout, '')
    assert check.returncode == 0, check.stdout + check.stderr
    shutil.rmtree(str(folder))


def test_paster_create_bad_input_is_one_line_exit_2(deploy_venv, www_tmp):
    proc = paster(deploy_venv, 'create', '-t', 'tg_balancer', 'bad', 'backends=ftp://x',
                  '--no-interactive', cwd=www_tmp, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "tgdeploy: error: back end 'ftp://x' is not http://HOST:PORT or https://HOST:PORT"]
    assert not (www_tmp / 'bad' / 'README.txt').exists()
