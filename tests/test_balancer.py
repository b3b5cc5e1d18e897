"""Several hosts behind a real load balancer (issue 13), loopback only.

Three back ends: a TurboGears 2 quickstart (`gearbox quickstart`, with the pages of
tests/fixtures/tg2_hosts.py) deployed by `paster tgdeploy --trust-proxy 127.0.0.1` once per
host, each with folders of its own, served in daemon mode by private Apaches on 127.0.0.2,
.3 and .4 (tests/support/balancing.py); in front, what tg_balancer writes, run by the engine
as installed: Apache mod_proxy_balancer (a private Apache on 127.0.0.1) or HAProxy. Clients
come from 127.0.0.5. Measured per engine: requests spread over the three; the application
sees the client's address, scheme and host; under load, a `kill -9` of one back end's Apache
(failed requests counted, at most those in flight); a rolling restart of the three, each
drained at the balancer first (balancer-manager, HAProxy's admin socket): no failed request.
Also the tgdeploy-balancer console script. Every server is started and stopped here.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest

from conftest import paster
from support.balancing import (BACKEND_ADDRESSES, CLIENT, HAPROXY, get, get_json,
                               load_modules, make_hosts_project, running_front, running_hosts,
                               wait_for, write_secrets)
from support.httpd import Apache
from support.venv import run
from tgdeploy.balancer import front as balancer
from tgdeploy.errors import TgDeployError

THREADS = 4
WHOAMI = '/hosts/whoami'


# -- the parts --------------------------------------------------------------------------

@pytest.fixture(scope='module')
def backends(www_root, deploy_venv):
    """Three hosts of one deployment, each its own Apache on its own address."""
    parent = Path(tempfile.mkdtemp(dir=str(www_root)))
    parent.chmod(0o755)
    project = make_hosts_project(deploy_venv, parent)
    with running_hosts(deploy_venv, project, write_secrets(parent / 'secrets'),
                       parent) as hosts:
        yield hosts


@pytest.fixture(params=['apache', 'haproxy'])
def front(request, backends, www_tmp):
    """A running front of the engine over the three back ends."""
    with running_front(request.param, [b.url for b in backends], www_tmp) as running:
        yield running
    # A back end killed by a test is started again for the next engine.
    for b in backends:
        if not b.apache.listening():
            b.start()


# -- clients ----------------------------------------------------------------------------

def whoami(base):
    status, body, _ = get(base, WHOAMI)
    return status, body


class Load(object):
    """THREADS clients asking /hosts/whoami in a loop until stopped: answers and failures."""

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


def ready(base):
    """Every back end answers through the front (and has loaded the application)."""
    wait_for(lambda: whoami(base)[0] == 200, 30)
    for _ in range(6):
        get_json(base, WHOAMI)


# -- the tests --------------------------------------------------------------------------

@pytest.mark.slow
def test_spread_client_address_and_scheme(front, backends):
    ready(front.url)
    seen = [get_json(front.url, WHOAMI)[0] for _ in range(30)]
    servers = set(s['server'].split(':')[0] for s in seen)
    assert servers == set(BACKEND_ADDRESSES), servers
    for s in seen:
        # The client's address and scheme, and the host it asked for, not the balancer's.
        assert s['remote_addr'] == CLIENT and s['scheme'] == 'http', s
        assert s['host'] == front.url.split('//')[1], s
    # Straight to a back end from an address it does not trust, forged headers are dropped.
    connection = HTTPConnection(BACKEND_ADDRESSES[0], backends[0].apache.port, timeout=10,
                                source_address=(CLIENT, 0))
    connection.request('GET', WHOAMI, headers={'X-Forwarded-For': '6.6.6.6',
                                               'X-Forwarded-Proto': 'https'})
    direct = json.loads(connection.getresponse().read().decode())
    connection.close()
    assert direct['remote_addr'] == CLIENT and direct['scheme'] == 'http', direct


@pytest.mark.slow
def test_kill_9_of_one_back_end_under_load(front, backends):
    ready(front.url)
    load = Load(front.url)
    time.sleep(2)
    kill_9(backends[1].apache)
    time.sleep(6)  # three health-check intervals: the balancer has taken it out
    ok, failed = load.stop()
    print('\n%s: kill -9 of one back end after 2 s of load, 6 s more: %d answered, '
          '%d failed %s' % (front.engine, ok, len(failed), failed[:5]))
    assert ok > 100
    # At most the requests in flight on the killed host; HAProxy retries even those.
    assert len(failed) <= THREADS, failed


@pytest.mark.slow
def test_rolling_restart_loses_nothing(front, backends):
    wait_for(lambda: all(b.apache.listening() for b in backends), 15)
    ready(front.url)
    time.sleep(4.5)  # every back end passed its health checks (hcpasses/rise 2, every 2 s)
    load = Load(front.url)
    started = time.time()
    for i, host in enumerate(backends):
        front.drain(i)
        host.stop()
        host.start()
        front.enable(i)
        time.sleep(4.5)  # back in service before the next one leaves
    ok, failed = load.stop()
    print('\n%s: rolling restart of 3 back ends in %.1fs: %d answered, %d failed %s'
          % (front.engine, time.time() - started, ok, len(failed), failed[:5]))
    assert ok > 100
    assert failed == []


# -- the template's variables (no server) -----------------------------------------------

@pytest.mark.parametrize('given, message', [
    ({'backends': ''}, 'no back ends'),
    ({'backends': 'ftp://h:1'}, "back end 'ftp://h:1' is not http://HOST:PORT"),
    ({'backends': 'http://h:1/shop'}, 'has a path'),
    ({'backends': 'http://h:1 http://h:1'}, 'given twice'),
    ({'backends': 'http://h:99999'}, 'is not http://HOST:PORT'),
    ({'backends': 'http://h:0'}, 'is not http://HOST:PORT'),  # not port 80
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


# -- tgdeploy-balancer: the template without paster -------------------------------------

def balancer_script(venv, *args, cwd=None):
    return run([venv.bin('tgdeploy-balancer')] + list(args), cwd=cwd, check=False)


@pytest.mark.parametrize('engine', ['apache', 'haproxy'])
def test_console_script_writes_what_paster_create_writes(engine, deploy_venv, www_tmp):
    backends = ['http://10.0.0.2:8080', 'https://10.0.0.3:8443']
    paster(deploy_venv, 'create', '-t', 'tg_balancer', 'shopfront', 'engine=' + engine,
           'backends=' + ' '.join(backends), 'sticky=yes', 'listen=8080',
           'server_name=shop.example.org', '--no-interactive', cwd=www_tmp)
    args = ['shopfront', '--engine', engine, '--sticky', '--listen', '8080',
            '--server-name', 'shop.example.org', '--output-dir', 'script']
    for url in backends:
        args += ['--backend', url]
    proc = balancer_script(deploy_venv, *args, cwd=www_tmp)
    assert proc.returncode == 0 and proc.stderr == '', proc.stderr
    assert 'wrote script/README.txt' in proc.stdout, proc.stdout
    names = sorted(os.listdir(str(www_tmp / 'script')))
    assert names == sorted(os.listdir(str(www_tmp / 'shopfront'))), names
    for name in names:
        # The same files, but for the line that says which command wrote them.
        written = (www_tmp / 'script' / name).read_text()
        assert '(tgdeploy-balancer)' in written
        assert written.replace('(tgdeploy-balancer)', '(paster create -t tg_balancer)') == \
            (www_tmp / 'shopfront' / name).read_text()
    # Again: nothing to change; with other back ends, only with --overwrite.
    again = balancer_script(deploy_venv, *args, cwd=www_tmp)
    assert again.returncode == 0 and 'script is up to date' in again.stdout, again.stdout
    other = args[:-4] + ['--backend', 'http://10.0.0.4:8080']
    refused = balancer_script(deploy_venv, *other, cwd=www_tmp)
    assert refused.returncode == 2 and '--overwrite' in refused.stderr, refused.stderr
    replaced = balancer_script(deploy_venv, *(other + ['--overwrite', '-q']), cwd=www_tmp)
    assert replaced.returncode == 0 and replaced.stdout == '', replaced.stdout
    config = 'shopfront.conf' if engine == 'apache' else 'shopfront.cfg'
    text = (www_tmp / 'script' / config).read_text()
    assert '10.0.0.4:8080' in text and '10.0.0.2' not in text


@pytest.mark.parametrize('args, message', [
    (['--backend', 'http://h:1'], 'the following arguments are required: NAME: '
                                  'tgdeploy-balancer --help lists the options'),
    (['front', '--backend', 'http://h:1', '--bogus'],
     'unrecognized arguments: --bogus: tgdeploy-balancer --help lists the options'),
    (['front'], 'no back ends: give --backend http://HOST:PORT for each host'),
    (['front', '--backend', 'ftp://x'],
     "back end 'ftp://x' is not http://HOST:PORT or https://HOST:PORT"),
    (['front', '--backend', 'http://h:1', '--engine', 'nginx'],
     "--engine 'nginx': use --engine apache or --engine haproxy"),
    (['front', '--backend', 'http://h:1', '--listen', '80;x'],
     "--listen '80;x': use PORT or ADDRESS:PORT, such as *:80 or 10.0.0.1:80"),
    (['front', '--backend', 'http://h:1', '--health', 'favicon.ico'],
     "--health 'favicon.ico' is not a plain URL path such as /favicon.ico"),
    (['a b', '--backend', 'http://h:1'],
     '\'a b\' cannot name a balancer: use letters, digits, "_", "." and "-"'),
    (['front', '--backend', 'http://h:1', '--output-dir', 'a-file'],
     'a-file is not a folder: pass --output-dir DIR'),
])
def test_console_script_bad_input_is_one_line_exit_2(args, message, deploy_venv, www_tmp):
    (www_tmp / 'a-file').write_text('mine\n')
    proc = balancer_script(deploy_venv, *args, cwd=www_tmp)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == ['tgdeploy-balancer: error: ' + message]
    assert proc.stdout == ''
    assert sorted(os.listdir(str(www_tmp))) == ['a-file']  # nothing written
    assert (www_tmp / 'a-file').read_text() == 'mine\n'
