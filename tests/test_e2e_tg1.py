"""TurboGears 1.x on Python 2.7, end to end: a real `tg-admin quickstart` project per TG line,
deployed by the 2.7 env's `paster tgdeploy`, served by Apache with mod_wsgi 4.9.4 built for
Python 2.7 (scripts/provision-py27). TurboGears 1.1/1.5 need PEAK-Rules and 1.0 needs
RuleDispatch, neither obtainable: the lab uses the stand-ins in tests/standins (test fixtures);
the rest is the real thing.
"""
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import LAB
from support.httpd import free_port
from support.projects import make_apache_tree
from support.sites import PY27_ENV, quickstart_tg1, setup_tg1_data
from support.venv import Venv, run
from test_e2e_apache import STOP_BOUND, assert_served_by_apache, graceful_keeps_serving

PY27 = LAB / 'py27'
MOD_WSGI_27 = PY27 / 'mod_wsgi-py27.so'
MOD_WSGI_TOO_OLD = PY27 / 'mod_wsgi-4.5.5-py27.so'  # no startup-timeout yet
LINES = {'tg15': '1.5', 'tg11': '1.1', 'tg10': '1.0'}


@pytest.fixture(scope='module', params=sorted(LINES))
def tg1_site(request, www_root):
    """(venv, project) for one TG line: quickstart, the known quickstart fix, installed."""
    venv = Venv(PY27 / request.param)
    if not (os.path.exists(venv.python) and MOD_WSGI_27.exists()):
        pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % PY27)
    # The lab's virtualenv outlives the test: take out any project a previous run installed.
    uninstall = [venv.bin('pip'), 'uninstall', '-q', '-y', 'mysite']
    run(uninstall, env=PY27_ENV, check=False)
    parent = www_root / request.param
    parent.mkdir(mode=0o755)
    project = Path(quickstart_tg1(venv, parent, LINES[request.param], PY27_ENV))
    # Where the added shutdown hook leaves its mark, in the config the project runs with.
    cfg = project / 'dev.cfg'
    cfg.write_text(cfg.read_text().replace(
        '[global]\n', '[global]\ntgdeploy_tests.shutdown_dir = "%s"\n' % (project / 'data'), 1))
    run([venv.bin('pip'), 'install', '-q', '-e', project], env=PY27_ENV)
    yield request.param, venv, project
    run(uninstall, env=PY27_ENV, check=False)


def deploy(venv, project, *args):
    run([venv.bin('paster'), 'tgdeploy', '-q'] + list(args), cwd=project, env=PY27_ENV)
    if not (project / 'data' / 'mysite.sqlite').exists():
        setup_tg1_data(venv, project, project / 'apache' / 'mysite.cfg', PY27_ENV)


@pytest.mark.parametrize('mode', ['daemon', 'embedded'])
@pytest.mark.parametrize('mount', ['/', '/mysite'])
def test_turbogears1(tg1_site, apache_factory, mount, mode):
    line, venv, project = tg1_site
    apache = apache_factory([project / 'apache' / 'mysite.conf'], wsgi_module=str(MOD_WSGI_27))
    deploy(venv, project, '--mount', mount, '--mode', mode, '--server-name', '127.0.0.1',
           '--port', str(apache.port), '--overwrite')
    for old in (project / 'data').glob('shutdown-*'):
        old.unlink()
    prefix = '' if mount == '/' else mount
    base = apache.url + prefix
    status, _, page = apache.start(prefix + '/')
    assert status == 200, apache.error_log()[-3000:]
    assert prefix + '/static/css/style.css' in page  # the welcome template, through tg.url()
    status, _, body = apache.get(prefix + '/data')
    assert status == 200 and '"about": "%s/about"' % prefix in body
    status, headers, _ = apache.get(prefix + '/go')
    assert status in (302, 303) and headers['Location'] == base + '/about'
    assert apache.get(prefix + '/about')[2].endswith('<a href="%s/">home</a>' % prefix)
    assert apache.get(prefix + '/number?n=21')[2] == 'twice 42'
    assert apache.get(prefix + '/number?n=abc')[2] == 'invalid n'  # the error handler
    assert apache.get(prefix + '/no/such/page')[0] == 404
    assert_served_by_apache(apache, prefix + '/static/css/style.css',
                            project / 'mysite' / 'static' / 'css' / 'style.css')
    # Two cookies in one response (CherryPy 2.3 joins them with CRLF): a redirect, not a 500.
    assert apache.get(prefix + '/cookies')[0] in (302, 303)
    assert apache.get(prefix + '/boom')[0] == 500
    graceful_keeps_serving(apache, prefix + '/about', mode)
    assert_request_in_flight_survives_graceful(apache, prefix + '/slow')
    assert apache.stop() < STOP_BOUND
    log = apache.error_log()
    # The one failing page's traceback reached the error log, and nothing else failed.
    assert 'RuntimeError: tgdeploy test: boom' in log, log[-3000:]
    assert log.count('Traceback (most recent call last)') == 1, log
    # TurboGears' own shutdown ran in the processes that served the application.
    assert list((project / 'data').glob('shutdown-*')), log[-3000:]


def assert_request_in_flight_survives_graceful(apache, url):
    """A request running while Apache restarts gracefully still completes: TurboGears is
    stopped only after the process has finished its requests."""
    answers = []
    thread = threading.Thread(target=lambda: answers.append(apache.get(url)))
    thread.start()
    time.sleep(0.5)  # the request is in the application now
    apache.graceful()
    thread.join()
    assert answers[0][0] == 200 and answers[0][2] == 'slow done', answers[0][:1]


@pytest.mark.parametrize('mount', ['', '/mysite'])
def test_gunicorn_with_the_tg1_entry_point(tg1_site, mount):
    """The same ini under gunicorn 19 (Python 2.7), at the root and at a sub-URL."""
    line, venv, project = tg1_site
    deploy(venv, project, '--overwrite')
    for old in (project / 'data').glob('shutdown-*'):
        old.unlink()
    port = free_port()
    env = ['--env', 'SCRIPT_NAME=%s' % mount] if mount else []
    proc = subprocess.Popen([venv.bin('gunicorn'), '--paste', 'apache/mysite.ini', '-b',
                             '127.0.0.1:%d' % port, '-w', '2'] + env, cwd=str(project),
                            env=PY27_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        body = fetch('http://127.0.0.1:%d%s/data' % (port, mount), proc)
        assert '"about": "%s/about"' % mount in body
    finally:
        proc.send_signal(signal.SIGTERM)
        # gunicorn's graceful timeout is 30 s: a worker that ignores SIGTERM shows as a hang.
        out = proc.communicate(timeout=25)[0]
    assert proc.returncode == 0, out
    assert list((project / 'data').glob('shutdown-*')), out  # TurboGears stopped in a worker


def fetch(url, proc, timeout=60):
    """The body of ``url`` once the server started by ``proc`` answers it."""
    import urllib.request
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            assert proc.poll() is None and time.time() < deadline, proc.communicate()[0]
            time.sleep(0.2)


def test_paster_serve_with_the_tg1_entry_point(tg1_site, www_tmp):
    line, venv, project = tg1_site
    deploy(venv, project, '--overwrite')
    port = free_port()
    ini = www_tmp / 'serve.ini'
    ini.write_text((project / 'apache' / 'mysite.ini').read_text().replace(
        'port = 8080', 'port = %d' % port))
    proc = subprocess.Popen([venv.bin('paster'), 'serve', str(ini)], cwd=str(www_tmp),
                            env=PY27_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        assert '"name": "mysite"' in fetch('http://127.0.0.1:%d/data' % port, proc)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_check_in_front_of_the_python27_mod_wsgi(tg1_site, www_tmp):
    """`paster tgdeploy --check` with an Apache tree that loads the 2.7 mod_wsgi: the preflight
    reads the lab's virtualenv (virtualenv 20 writes the prefix itself as pyvenv.cfg's home)
    as made from the Python mod_wsgi embeds, and the private Apache serves the project."""
    line, venv, project = tg1_site
    deploy(venv, project, '--overwrite')  # the data folder and database the check needs
    tree = make_apache_tree(www_tmp / ('etc-apache2-' + line), MOD_WSGI_27)
    proc = run([venv.bin('paster'), 'tgdeploy', '--mount', '/mysite', '--apache-root', tree,
                '--check', '--overwrite'], cwd=project, env=PY27_ENV, check=False)
    # The 1.1 and 1.5 quickstarts' master template has a mock menu linking a bare '/' (not
    # tg.url('/')): at /mysite it leaves the mount, and --check says so; nothing else fails.
    errors = [l for l in proc.stdout.splitlines() if l.startswith('error: ')]
    assert all(l.startswith('error: /mysite/ links to /, outside the mount /mysite: ')
               for l in errors), proc.stdout
    assert proc.returncode == (3 if errors else 0), proc.stdout + proc.stderr
    assert 'check: GET /mysite/ -> 200 in' in proc.stdout, proc.stdout
    assert 'tgdeploy: %d error(s), 0 warning(s)' % len(errors) in proc.stdout, proc.stdout


def test_check_in_front_of_a_mod_wsgi_too_old_for_the_daemon_config(tg1_site, www_tmp):
    """A real mod_wsgi 4.5.5 (old distributions ship such, and older): the doctor names its
    version and the fix, and Apache's own configtest agrees; embedded mode still serves."""
    line, venv, project = tg1_site
    if not MOD_WSGI_TOO_OLD.exists():
        pytest.fail('%s is missing: run scripts/provision-py27' % MOD_WSGI_TOO_OLD)
    deploy(venv, project, '--overwrite')
    tree = make_apache_tree(www_tmp / ('etc-apache2-old-' + line), MOD_WSGI_TOO_OLD)
    check = [venv.bin('paster'), 'tgdeploy', '--apache-root', tree, '--check', '--overwrite']
    proc = run(check, cwd=project, env=PY27_ENV, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert ("error: %s is mod_wsgi 4.5.5, and Apache refuses the daemon config before 4.5.6 "
            "(startup-timeout): %s install mod_wsgi==4.9.4, then load the module" % (
                MOD_WSGI_TOO_OLD, venv.bin('pip'))) in proc.stdout, proc.stdout
    assert 'Invalid option to WSGI daemon process definition' in proc.stdout, proc.stdout
    proc = run(check + ['--mode', 'embedded'], cwd=project, env=PY27_ENV, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'check: GET / -> 200 in' in proc.stdout, proc.stdout


@pytest.mark.parametrize('name', ['tg10', 'tg11'])
def test_cherrypy2_does_not_take_sigterm_from_the_host(name):
    """Importing CherryPy 2.3 installs a SIGTERM handler that fails (AttributeError on
    cherrypy.engine); the TG1 entry point imports it with SIGTERM left to the host."""
    script = '''
import signal
host = signal.getsignal(signal.SIGTERM)
from tgdeploy.apps.tg1_app import sigterm_left_to_host
with sigterm_left_to_host():
    import cherrypy
assert signal.getsignal(signal.SIGTERM) is host, signal.getsignal(signal.SIGTERM)
import cherrypy._cpengine
reload(cherrypy._cpengine)  # what the import alone would have done
assert signal.getsignal(signal.SIGTERM) is not host
print("ok")
'''
    venv = Venv(PY27 / name)
    if not os.path.exists(venv.python):
        pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % PY27)
    proc = run([venv.python, '-c', script], cwd='/', env=PY27_ENV, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == 'ok', proc.stdout + proc.stderr
