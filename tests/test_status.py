"""--status-endpoint and `tgdeploy --status` against a real Apache and Debian's mod_wsgi.

One deployment for the module: the CherryPy fixture with its slow page, 2 daemon processes of
3 threads, mounted at /st, in a private Apache that also loads mod_status. Under N slow
requests `tgdeploy --status` shows exactly N threads busy and 6 - N idle (and with one more
than the threads, the last one's wait in the queue); requests are counted one by one, a reload
as restarts; its Prometheus text passes Debian's `promtool check metrics`; a client that is
not this machine gets 403.

"Not this machine", honestly: Apache's `Require local` lets in 127.0.0.0/8, ::1 and a client
whose address is the server's own, so no loopback client can prove a refusal. The module puts
two TEST-NET-2 addresses (RFC 5737, routed nowhere) on the loopback interface for its run and
removes them after: Apache listens on the first only, the client binds the second, a
different address of no loopback range, which is what a client of another host is to Apache.
"""
import json
import shutil
import subprocess
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest

from conftest import LAB_PY3
from support.httpd import Apache
from support.projects import make_cherrypy, make_venv_marker
from support.reloading import add_slow_page
from tgdeploy.cli.command import main

SERVER, STRANGER = '198.51.100.7', '198.51.100.8'
MOD_STATUS = 'LoadModule status_module /usr/lib/apache2/modules/mod_status.so'
THREADS, PROCESSES = 3, 2


def ip(*args, check=True):
    return subprocess.run(['ip'] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=10, check=check)


@pytest.fixture(scope='module')
def addresses():
    added = []
    for address in (SERVER, STRANGER):
        if address + '/32' not in ip('-o', 'addr', 'show', 'dev', 'lo').stdout:
            ip('addr', 'add', address + '/32', 'dev', 'lo')
            added.append(address)
    yield
    for address in added:
        ip('addr', 'del', address + '/32', 'dev', 'lo', check=False)


@pytest.fixture(scope='module')
def site(addresses):
    """(Apache, project) of the module's deployment, stopped at the end."""
    root = Path(tempfile.mkdtemp(prefix='tgdeploy-status-', dir='/tmp'))
    root.chmod(0o755)
    project = make_cherrypy(root / 'cherryapp')
    add_slow_page(project)
    data = project / 'data'
    data.mkdir()
    shutil.chown(str(data), 'www-data', 'www-data')
    tgdeploy(project, '--status-endpoint', '--mount', '/st', '--processes', str(PROCESSES),
             '--threads', str(THREADS), '--python-home', LAB_PY3.prefix)
    (root / 'httpd').mkdir(mode=0o755)
    apache = Apache(str(root / 'httpd'), [str(project / 'apache' / 'cherryapp.conf')],
                    extra=MOD_STATUS, address=SERVER)
    try:
        assert apache.start('/st/about')[0] == 200
        yield apache, project
    finally:
        apache.stop()
        shutil.rmtree(str(root), ignore_errors=True)


def tgdeploy(project, *args, check=True):
    proc = subprocess.run([LAB_PY3.bin('tgdeploy')] + list(args), cwd=str(project),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def get(port, path, source=SERVER, timeout=10, headers=None):
    connection = HTTPConnection(SERVER, port, timeout=timeout, source_address=(source, 0))
    try:
        connection.request('GET', path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


class InFlight(object):
    """One GET of a slow page on its own thread (to the module's address, which
    support.reloading's 127.0.0.1 client cannot reach); outcome() waits for its status."""

    def __init__(self, port, path):
        self.status = None
        self.thread = threading.Thread(target=self.run, args=(port, path))
        self.thread.start()

    def run(self, port, path):
        self.status = get(port, path, timeout=60)[0]

    def outcome(self):
        self.thread.join(90)
        return self.status


def status_until(project, wanted, timeout=15):
    """`tgdeploy --status` once its text holds ``wanted`` (the reports come every 0.5 s)."""
    deadline = time.time() + timeout
    while True:
        text = tgdeploy(project, '--status').stdout
        if wanted in text or time.time() > deadline:
            return text
        time.sleep(0.3)


def test_busy_threads_are_the_slow_requests_in_flight(site):
    apache, project = site
    # (6 s and more: on a loaded machine one `tgdeploy --status` takes 3 s, imports included)
    slow = [InFlight(apache.port, '/st/slow?seconds=7') for _ in range(4)]
    text = status_until(project, '4 busy')
    assert 'threads          4 busy, 2 idle (6)' in text, text
    assert 'processes        2 running (2 configured)' in text
    assert 'oldest request   ' in text and 'none running' not in text
    assert 'apache: ' in text  # mod_status, read at <url>/apache?auto
    assert [s.outcome() for s in slow] == [200] * 4
    # One request more than the threads: 6 busy, none idle, and the 7th waits its turn in
    # the queue (about 4 s, which the average over the last 10 s shows).
    # (Read from the endpoint, quicker than the command: the figures are the same.)
    slow = [InFlight(apache.port, '/st/slow?seconds=4') for _ in range(7)]
    deadline = time.time() + 3.5
    while figures(apache.port)['busy'] < 6 and time.time() < deadline:
        time.sleep(0.2)
    group = figures(apache.port)
    assert (group['busy'], group['idle'], group['threads']) == (6, 0, 6), group
    assert [s.outcome() for s in slow] == [200] * 7
    text = status_until(project, '0 busy')
    assert 'threads          0 busy, 6 idle (6)' in text, text
    assert 'oldest request   none running' in text
    assert 'restarts         0' in text
    wait = float(text.split('queue wait')[1].split()[0])
    assert wait > 250, text  # ms


def test_prometheus_text_passes_promtool(site):
    apache, project = site
    slow = InFlight(apache.port, '/st/slow?seconds=8')
    deadline = time.time() + 4
    while figures(apache.port)['busy'] != 1 and time.time() < deadline:
        time.sleep(0.2)
    text = tgdeploy(project, '--status', '--format', 'prometheus').stdout
    assert 'tgdeploy_daemon_threads{group="cherryapp-st",state="busy"} 1\n' in text, text
    assert 'tgdeploy_daemon_processes{group="cherryapp-st"} 2\n' in text
    # What Prometheus itself scrapes: the endpoint's /metrics, the same text.
    status, scraped = get(apache.port, '/st/.tgdeploy-status/metrics')
    assert status == 200 and scraped.startswith('# HELP tgdeploy_daemon_processes')
    promtool = shutil.which('promtool')
    if not promtool:
        pytest.fail('promtool is missing: apt-get install prometheus (scripts/provision)')
    for body in (text, scraped):
        check = subprocess.run([promtool, 'check', 'metrics'], input=body, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        assert (check.returncode, check.stdout) == (0, ''), check.stdout
    assert slow.outcome() == 200


def test_a_client_of_another_address_is_refused(site):
    apache, _ = site
    for path in ('/st/.tgdeploy-status', '/st/.tgdeploy-status/metrics',
                 '/st/.tgdeploy-status/apache?auto', '/st/.tgdeploy-status?format=json'):
        assert get(apache.port, path, source=STRANGER)[0] == 403, path
        assert get(apache.port, path, source=SERVER)[0] == 200, path
    # The application itself answers that client: the refusal is the endpoint's alone.
    assert get(apache.port, '/st/about', source=STRANGER)[0] == 200
    # What a proxy on this machine forwards looks local to Apache: refused by its header.
    for header in ('X-Forwarded-For', 'Forwarded'):
        assert get(apache.port, '/st/.tgdeploy-status', headers={header: 'for=203.0.113.9'})[
            0] == 403, header


def figures(port):
    """The endpoint's JSON (what tgdeploy --status reads), asked directly: quicker."""
    status, body = get(port, '/st/.tgdeploy-status?format=json')
    assert status == 200, body
    return json.loads(body)['groups'][0]


def settled_total(port, wanted=None, timeout=10):
    """The requests counted, once two reads 0.6 s apart agree (and equal ``wanted``)."""
    deadline = time.time() + timeout
    last = None
    while True:
        total = figures(port)['requests']
        if total == last and (wanted is None or total == wanted) or time.time() > deadline:
            return total
        last = total
        time.sleep(0.6)


def test_requests_are_counted_one_by_one(site):
    apache, _ = site
    before = settled_total(apache.port)
    for _ in range(10):
        assert get(apache.port, '/st/about')[0] == 200
    # The endpoint's own requests are not among them (they run in its own group).
    assert settled_total(apache.port, before + 10) == before + 10
    assert figures(apache.port)['requests_per_second'] > 0


def test_a_reload_shows_as_restarts(site):
    apache, project = site
    assert 'restarts         0' in status_until(project, 'restarts')
    tgdeploy(project, '--reload')  # each of the 2 processes replaced: 2 starts more
    text = status_until(project, 'restarts         2')
    assert 'restarts         2' in text and '2 running (2 configured)' in text, text
    assert get(apache.port, '/st/about')[0] == 200


# -- bad input: one line, exit code 2, nothing written ---------------------------------------

@pytest.fixture
def cherry(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    return make_cherrypy(tmp_path / 'cherryapp')


@pytest.mark.parametrize('args, message', [
    (['--status-endpoint', '--mode', 'embedded'], 'embedded mode has none'),
    (['--status-endpoint', '--mount', '/a/.tgdeploy-status'], 'the name tgdeploy reserves'),
    (['--mount', '/.tgdeploy-status/x'], 'the name tgdeploy reserves for status endpoints'),
    (['--status-endpoint', '--mount', '/a', '--alias', '/a/.tgdeploy-status/x=PUB'],
     'lies in /a/.tgdeploy-status'),
    (['--format', 'prometheus'], '--format applies to --status only'),
    (['--status'], 'deploy first, with --status-endpoint'),
    (['--status', '--format', 'xml'], "--format 'xml' is not one of text, prometheus"),
])
def test_refused_in_one_line(cherry, capsys, args, message):
    (cherry.parent / 'pub').mkdir()  # a folder outside the project, for --alias
    args = [a.replace('PUB', str(cherry.parent / 'pub')) for a in args]
    code = main(['--python-home', str(cherry.parent / 'venv'), str(cherry)] + args)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith('tgdeploy: error: ') and message in err, err
    assert not (cherry / 'apache').exists()


def test_status_of_a_deployment_without_endpoint(cherry, capsys):
    assert main(['-q', '--python-home', str(cherry.parent / 'venv'), str(cherry)]) == 0
    assert not (cherry / 'apache' / 'cherryapp-status.wsgi').exists()
    assert '.tgdeploy-status' not in (cherry / 'apache' / 'cherryapp.conf').read_text()
    assert main(['--python-home', str(cherry.parent / 'venv'), str(cherry), '--status']) == 2
    assert 'has no status endpoint: deploy again with --status-endpoint' in \
        capsys.readouterr().err
