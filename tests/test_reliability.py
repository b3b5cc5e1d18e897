"""Reliability of the generated deployment under a real Apache: what is never served, a
daemon killed under load, an application that fails at import, sustained load, and 200+
generated option combinations through `apache2 -t`. Bounded in time and count; loopback."""
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import LAB_PY3, paster
from support.projects import make_cherrypy, make_tg1, make_tg2, write
from tgdeploy.cli.deploy import deploy

LEAKS = ('[app:main]', 'WSGIDaemonProcess', 'import cherrypy', 'loadapp', '[global]')


def serve_cherryapp(deploy_venv, project, apache_factory, mount='/cp', mode='daemon'):
    apache = apache_factory([project / 'apache' / 'cherryapp.conf'])
    paster(deploy_venv, 'tgdeploy', '-q', '--mount', mount, '--mode', mode, '--server-name',
           '127.0.0.1', '--port', str(apache.port), cwd=project)
    assert apache.start(mount + '/about')[0] == 200
    return apache


def test_sources_and_folders_are_not_served(cherry_project, deploy_venv, apache_factory):
    apache = serve_cherryapp(deploy_venv, cherry_project, apache_factory)
    probes = ['/', '/cherryapp.ini', '/apache/', '/apache/cherryapp.ini', '/htdocs/',
              '/cp/../apache/cherryapp.conf', '/cp/static/../app.py',
              '/cp/static/../../app.conf', '/cp/static/', '/cp/cherryapp.wsgi',
              '/cp/static/%2e%2e/app.py', '/.tgdeploy-manifest', '/cp/.tgdeploy-manifest']
    for path in probes:
        status, _, body = apache.get(path)
        assert status in (400, 403, 404), (path, status)
        assert not [leak for leak in LEAKS if leak in body], (path, body[:200])
    assert apache.get('/cp/about')[0] == 200
    assert apache.get('/cp/static/style.css')[0] == 200


def post(apache, path, size):
    """Status of a POST of ``size`` bytes (the connection may close once Apache answers)."""
    from http.client import HTTPConnection
    connection = HTTPConnection('127.0.0.1', apache.port, timeout=60)
    try:
        connection.putrequest('POST', path)
        connection.putheader('Content-Length', str(size))
        connection.putheader('Content-Type', 'application/octet-stream')
        connection.endheaders()
        chunk = b'x' * 65536
        try:
            for _ in range(size // len(chunk)):
                connection.send(chunk)
            connection.send(b'x' * (size % len(chunk)))
        except (BrokenPipeError, ConnectionResetError):
            pass  # Apache answered early and closed
        return connection.getresponse().status
    finally:
        connection.close()


def test_request_bodies_over_the_limit_never_reach_the_application(
        cherry_project, deploy_venv, apache_factory):
    apache = serve_cherryapp(deploy_venv, cherry_project, apache_factory)
    assert post(apache, '/cp/about', 64 * 1024) == 200
    assert post(apache, '/cp/about', 11 * 1024 * 1024) == 413  # the 10 MiB default
    assert 'Traceback' not in apache.error_log()


def daemon_pids(apache):
    """mod_wsgi daemon processes: children of Apache's parent named "(wsgi:<group>" (the
    name is cut to the length of Apache's own argv[0])."""
    out = subprocess.run(['ps', '-eo', 'pid=,ppid=,args='], stdout=subprocess.PIPE,
                         text=True).stdout
    rows = [line.split(None, 2) for line in out.splitlines()]
    return sorted(int(pid) for pid, ppid, args in rows
                  if int(ppid) == apache.pid() and args.startswith('(wsgi:'))


def test_daemon_killed_during_load(cherry_project, deploy_venv, apache_factory):
    apache = serve_cherryapp(deploy_venv, cherry_project, apache_factory)
    before = daemon_pids(apache)
    assert len(before) == 2, before
    results = []
    done = threading.Event()

    def client():
        while not done.is_set():
            try:
                results.append((time.time(), apache.get('/cp/about', timeout=10)[0]))
            except OSError:
                results.append((time.time(), 'socket error'))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        killed_at = time.time()
        os.kill(before[0], signal.SIGKILL)
        deadline = killed_at + 10
        while len(set(daemon_pids(apache)) - set(before)) < 1:
            assert time.time() < deadline, 'mod_wsgi did not restart the daemon process'
            time.sleep(0.05)
        restarted_in = time.time() - killed_at
        time.sleep(2)
    finally:
        done.set()
        for thread in threads:
            thread.join()
    failed = [(t, s) for t, s in results if s != 200]
    after_two_seconds = [s for t, s in results if t > killed_at + 2]
    print('daemon restarted in %.2f s; %d of %d requests failed around the kill'
          % (restarted_in, len(failed), len(results)))
    assert restarted_in < 2
    assert after_two_seconds and set(after_two_seconds) == {200}
    assert len(failed) <= 4  # at most the requests in flight in the killed process
    assert os.path.exists('/proc/%d' % apache.pid())


def test_application_failing_at_import(cherry_project, deploy_venv, apache_factory, www_tmp):
    broken = www_tmp / 'brokenapp'
    shutil.copytree(str(cherry_project / 'cherryapp'), str(broken / 'brokenapp'))
    write(broken / 'setup.py', 'from setuptools import setup\nsetup(name="brokenapp")\n')
    app = broken / 'brokenapp' / 'app.py'
    app.write_text('raise RuntimeError("boom at import")\n' + app.read_text())
    broken.chmod(0o755)
    paster(deploy_venv, 'tgdeploy', '-q', '--mount', '/broken', cwd=broken)
    paster(deploy_venv, 'tgdeploy', '-q', '--mount', '/cp', cwd=cherry_project)
    apache = apache_factory([cherry_project / 'apache' / 'cherryapp.conf',
                             broken / 'apache' / 'brokenapp.conf'])
    assert apache.start('/cp/about')[0] == 200
    for _ in range(3):
        assert apache.get('/broken/')[0] == 500
    assert apache.get('/cp/about')[0] == 200  # the other mount keeps serving
    log = apache.error_log()
    assert 'Traceback' in log and 'RuntimeError: boom at import' in log
    assert os.path.exists('/proc/%d' % apache.pid())


@pytest.mark.slow
def test_sixty_seconds_of_load(cherry_project, deploy_venv, apache_factory):
    apache = serve_cherryapp(deploy_venv, cherry_project, apache_factory)
    out = subprocess.run(['wrk', '-t2', '-c16', '-d60s', '--timeout', '10s',
                          apache.url + '/cp/about'], stdout=subprocess.PIPE, text=True,
                         timeout=120).stdout
    print(out)
    requests = int(re.search(r'(\d+) requests in', out).group(1))
    assert requests > 1000, out
    assert 'Non-2xx' not in out and 'Socket errors' not in out, out
    assert 'Traceback' not in apache.error_log()


# -- any combination of options is a config Apache accepts ------------------------------

MOUNTS = st.lists(st.text('abcxyz019-_.~', min_size=1, max_size=6).filter(
    lambda s: s not in ('.', '..')), max_size=3).map(lambda parts: '/' + '/'.join(parts))
OPTIONS = st.fixed_dictionaries({
    'mount': MOUNTS,
    'mode': st.sampled_from(['daemon', 'embedded']),
    'apache': st.sampled_from(['2.4', '2.2']),
    'processes': st.integers(1, 64).map(str),
    'threads': st.integers(1, 1000).map(str),
    'locale': st.sampled_from(['C.UTF-8', 'C', 'en_US.UTF-8', 'de_DE.ISO-8859-1']),
    'server_name': st.one_of(st.none(), st.from_regex(r'\A[a-z]([a-z0-9-]{0,10}[a-z0-9])?'
                                                      r'(\.[a-z]{2,5}){0,2}\Z')),
    'port': st.integers(1, 65535).map(str),
    'user': st.sampled_from(['www-data', 'nobody', 'daemon']),
    'preload': st.sampled_from(['yes', 'no']),
}, optional={'group': st.sampled_from(['www-data', 'nogroup', 'daemon'])})


@pytest.fixture(scope='module')
def projects(tmp_path_factory):
    base = tmp_path_factory.mktemp('projects')
    return [make_tg2(base / 'shop'), make_cherrypy(base / 'cherryapp'), make_tg1(base / 'mysite')]


@settings(max_examples=210, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(options=OPTIONS, which=st.integers(0, 2))
def test_generated_configs_pass_configtest(projects, options, which, www_root):
    out = www_root / ('hyp-%d' % os.getpid())
    shutil.rmtree(str(out), ignore_errors=True)
    out.mkdir()
    out.chmod(0o755)
    given = dict((k, v) for k, v in options.items() if v is not None)
    # Options that do not apply are refused: --port needs a virtual host, --processes and
    # --threads daemon mode.
    if 'server_name' not in given:
        given.pop('port')
    if given['mode'] == 'embedded':
        given.pop('processes')
        given.pop('threads')
    given.update(python_home=LAB_PY3.prefix, output_dir=str(out / 'apache'))
    conf = deploy(str(projects[which]), given).paths.conf_file
    from support.httpd import Apache
    (out / 'httpd').mkdir()
    proc = Apache(str(out / 'httpd'), [conf]).configtest()
    assert proc.returncode == 0 and 'Syntax OK' in proc.stdout, (given, proc.stdout)


# -- injection: refused before anything is written --------------------------------------

PAYLOADS = ['x\nWSGIPassAuthorization On', 'x\r\nInclude /etc/passwd', 'x"y', "x'y", 'x<y',
            'x>y', 'x%{ENV:SECRET}', 'x y']
USER_VALUES = ['mount', 'user', 'group', 'server_name', 'locale', 'python_home', 'output_dir',
               'data_dir', 'mode', 'apache', 'port', 'processes', 'threads', 'tg_version',
               'root', 'config']
PATH_VALUES = ('mount', 'python_home', 'output_dir', 'data_dir')


# Folders the deployment writes may hold these: Apache reads them back quoted.
QUOTED = ['x"y', "x'y", 'x<y', 'x>y', 'x y']
WRITTEN_FOLDERS = ('output_dir', 'data_dir')


@pytest.mark.parametrize('payload', PAYLOADS, ids=repr)
@pytest.mark.parametrize('name', USER_VALUES)
def test_injection_is_refused_before_writing(tmp_path, name, payload):
    if name in WRITTEN_FOLDERS and payload in QUOTED:
        return test_odd_folder_names_are_quoted(tmp_path, name, payload)
    from tgdeploy.errors import TgDeployError
    project = make_tg1(tmp_path / 'mysite') if name == 'tg_version' else \
        make_cherrypy(tmp_path / 'cherryapp') if name == 'root' else make_tg2(tmp_path / 'shop')
    value = ('/tmp/' + payload) if name in PATH_VALUES else payload
    given = {'python_home': LAB_PY3.prefix, name: value}
    with pytest.raises(TgDeployError) as error:
        deploy(str(project), given)
    assert '\n' not in str(error.value) and '\r' not in str(error.value)
    assert not (project / 'apache').exists()
    assert not [n for n in os.listdir(str(project)) if n.startswith('.tgdeploy')]


def test_odd_folder_names_are_quoted(tmp_path, name, payload):
    """A quote, an angle bracket or a space in a folder name is no injection once quoted:
    the deployment is written, and Apache reads the same config back."""
    from support.httpd import Apache
    project = make_tg2(tmp_path / 'shop')
    conf = deploy(str(project), {'python_home': LAB_PY3.prefix,
                                 name: str(tmp_path / payload)}).paths.conf_file
    (tmp_path / 'httpd').mkdir()
    proc = Apache(str(tmp_path / 'httpd'), [conf]).configtest()
    assert proc.returncode == 0 and 'Syntax OK' in proc.stdout, (name, payload, proc.stdout)


test_odd_folder_names_are_quoted.__test__ = False  # run through the parametrized test above
