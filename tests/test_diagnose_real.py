"""tgdeploy --diagnose against a real Apache, with Debian's own mod_wsgi (4.9.4 on Debian 12,
5.0.2 on Debian 13) and pip's 5.0.2 (Python 3.9) and 6.1.1 (Python 3.12): each fault is provoked for real in a deployment of the
CherryPy fixture (one process, one thread, short timeouts), then --diagnose reads the logs
the generated config names and must recognise the fault with its fix: a crashing request,
an exception escaping the application, a request stuck past request-timeout, a full queue,
oversized response headers, a daemon killed with SIGKILL, a thread holding the
interpreter's lock (the deadlock timer), a request ended by 6.x's interrupt-timeout, a
project the daemon user cannot read (start-up failure), an unreadable .wsgi."""
import os
import signal
import subprocess
import threading
import time
from http.client import HTTPConnection

import pytest

from support.projects import make_cherrypy
from conftest import LAB
from support.httpd import DEBIAN_WSGI
from support.reloading import daemon_pids
from support.venv import run
from tgdeploy.cli.deploy import deploy, settle
from tgdeploy.doctor.modwsgi_file import module_version
from tgdeploy.serve import diagnose

PAGES = '''
    @cherrypy.expose
    def slow(self, seconds='1'):
        time.sleep(float(seconds))
        return 'slept %s in %d' % (seconds, os.getpid())

    @cherrypy.expose
    def cookie(self):
        cherrypy.response.headers['X-Large'] = 'x' * 20000
        return 'large header'

    @cherrypy.expose
    def spin(self, seconds='1'):
        end = time.time() + float(seconds)
        while time.time() < end:  # Python running: where an injected exception lands
            pass
        return 'spun'

    @cherrypy.expose
    def stuck(self):
        import re
        re.match(r'(a+)+$', 'a' * 31 + 'b')  # one C call: the interpreter's lock for minutes
        return 'unstuck'

    def escape(self):
        yield 'started'
        raise ValueError('tgdeploy test: escaped')
    escape._cp_config = {'response.stream': True}
    escape.exposed = True
'''
OPTIONS = dict(processes='1', threads='1', request_timeout='2', queue_timeout='1',
               header_buffer_size='8192', mount='/m')


# line: (mod_wsgi module, virtualenv or None for the session's, server-wide config): Debian's
# own, read from the module ('debian-4.9.4' on Debian 12, 'debian-5.0.2' on 13: pip's 5.0.2 is
# another build), pip's 5.0.2 for Python 3.9 and its newest 6.x for Python 3.12
# (scripts/provision-pythons builds them).
DEBIAN_LINE = 'debian-' + '.'.join(str(n) for n in (
    os.path.exists(DEBIAN_WSGI) and module_version(DEBIAN_WSGI) or ['missing']))
LINES = {
    DEBIAN_LINE: (DEBIAN_WSGI, None, ''),
    '5.0.2': (str(LAB / 'pythons' / '3.9' / 'mod_wsgi.so'), LAB / 'pythons' / '3.9' / 'venv',
              'WSGIRestrictEmbedded On'),
    '6.1.1': (str(LAB / 'pythons' / '3.12' / 'mod_wsgi.so'), LAB / 'pythons' / '3.12' / 'venv',
              'WSGIRestrictEmbedded On'),
}


@pytest.fixture(params=sorted(LINES), ids=lambda line: 'mod_wsgi-' + line)
def site(request, www_tmp, deploy_venv, apache_factory):
    """(values, apache, given) of the fixture deployed with OPTIONS, served by mod_wsgi
    ``line`` and answering."""
    module, venv, extra = LINES[request.param]
    if not os.path.exists(module):
        pytest.fail('missing %s: run scripts/provision-pythons (scripts/test does)' % module)
    project = make_cherrypy(www_tmp / 'diagapp', package='diagapp')
    app = project / 'diagapp' / 'app.py'
    text = app.read_text().replace('from cherryapp import boot', 'from diagapp import boot')
    app.write_text(text.replace("\n\nif __name__ == '__main__':", PAGES + "\n\nif __name__ == "
                                "'__main__':"))
    logs = www_tmp / 'logs'
    logs.mkdir()
    subprocess.run(['chmod', '-R', 'a+rX', str(www_tmp)], check=True)
    given = dict(OPTIONS, python_home=str(venv or deploy_venv.prefix), log_dir=str(logs),
                 server_name='127.0.0.1')
    apache = apache_factory([project / 'apache' / 'cherryapp.conf'], wsgi_module=module,
                            extra=extra)
    given['port'] = str(apache.port)
    values = deploy(str(project), given)
    apache.start(None)
    # The first request may wait past queue-timeout (1 s) while the process imports.
    assert answer(apache, '/m/about') == 200, apache.error_log()[-3000:]
    assert 'mod_wsgi/%s ' % request.param.split('-')[-1] in apache.error_log()
    return values, apache, given


def get(apache, path, timeout=30):
    connection = HTTPConnection('127.0.0.1', apache.port, timeout=timeout)
    try:
        connection.request('GET', path)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, ConnectionError) as e:
        return type(e).__name__
    finally:
        connection.close()


def answer(apache, path, timeout=20):
    """The first answer to ``path`` that is not a 503/504 of a daemon still starting."""
    deadline = time.time() + timeout
    while True:
        status = get(apache, path)
        if status not in (503, 504, 'ConnectionRefusedError') or time.time() > deadline:
            return status
        time.sleep(0.2)


def in_background(apache, path):
    answers = []
    thread = threading.Thread(target=lambda: answers.append(get(apache, path)))
    thread.start()
    return thread, answers


def diagnosed(site, *ids, **kwargs):
    """(exit code, output) of --diagnose once every kind in ``ids`` is in it (the logs are
    written a moment after the answers)."""
    values, apache, given = site
    deadline = time.time() + kwargs.get('timeout', 10)
    while True:
        lines = []
        code = diagnose.diagnose(settle(values.paths.project_dir, given), lines.append,
                                 minutes=10, server_log=apache.error_log_path)
        text = '\n'.join(lines)
        if all('[%s' % i in text for i in ids) or time.time() > deadline:
            print(text)
            return code, text
        time.sleep(0.3)


def section(text, kind):
    """The lines of one kind in the report."""
    lines = text.splitlines()
    start = [i for i, line in enumerate(lines) if '[%s]' % kind in line][0]
    end = start + 1
    while end < len(lines) and lines[end].startswith('  '):
        end += 1
    return '\n'.join(lines[start:end])


def test_a_crashing_request_is_its_traceback_and_500s(site):
    values, apache, given = site
    for _ in range(5):
        assert get(apache, '/m/boom') == 500
    code, text = diagnosed(site, 'http-500')
    assert code == 3
    assert 'answers 500 in the access log: 5 times' in text
    assert 'sample: GET /m/boom HTTP/1.1' in section(text, 'http-500')
    assert 'a burst of 5 within 60 s' in section(text, 'http-500')
    traceback = [line for line in text.splitlines() if 'Python traceback: RuntimeError' in line]
    assert traceback and 'diagapp/app.py:' in traceback[0] and 'in boom' in traceback[0], text


def test_an_exception_escaping_the_application(site):
    values, apache, given = site
    get(apache, '/m/escape')
    code, text = diagnosed(site, 'request-exception')
    assert code == 3
    part = section(text, 'request-exception')
    # 4.9: Exception occurred processing WSGI script; 6.x: ValueError exception raised ...
    assert 'processing WSGI script' in part
    assert 'in escape' in text and 'ValueError' in text, text


def test_a_stuck_request_and_a_full_queue(site):
    values, apache, given = site
    stuck, answers = in_background(apache, '/m/slow?seconds=30')
    time.sleep(0.5)
    assert get(apache, '/m/about') in (503, 504)  # waited past queue-timeout (1 s)
    stuck.join(30)
    assert answers and answers[0] in (500, 502), answers  # 4.9: 500, 6.x: 502
    code, text = diagnosed(site, 'queue-timeout', 'request-timeout')
    assert code == 3
    assert 'more capacity: --processes and --threads' in section(text, 'queue-timeout')
    assert 'raise --request-timeout' in section(text, 'request-timeout')
    assert "Queue timeout expired for WSGI daemon process" in section(text, 'queue-timeout')


def test_oversized_response_headers(site):
    values, apache, given = site
    assert get(apache, '/m/cookie') == 500  # 20000 bytes, --header-buffer-size 8192
    code, text = diagnosed(site, 'header')
    assert code == 3
    # 4.9: Truncated or oversized response headers; 6.x: Response header line too long
    kind = 'header-too-long' if '[header-too-long]' in text else 'headers-truncated'
    assert 'raise --header-buffer-size' in section(text, kind)


def test_a_daemon_killed(site):
    values, apache, given = site
    stuck, answers = in_background(apache, '/m/slow?seconds=20')
    time.sleep(0.5)
    pids = daemon_pids(apache.pid())
    assert len(pids) == 1, pids
    os.kill(list(pids)[0], signal.SIGKILL)  # the daemon this test's Apache started
    stuck.join(20)
    assert answers and answers[0] in (500, 502), answers  # 4.9: 500, 6.x: 502
    assert answer(apache, '/m/about') == 200  # a new process answers, once it has started
    code, text = diagnosed(site, 'headers-truncated', 'daemon-died', 'daemon-start')
    assert code == 3
    assert 'dmesg | grep -i oom' in section(text, 'headers-truncated')
    assert 'signal 9' in section(text, 'daemon-died')
    assert 'daemon process started: 2 times' in section(text, 'daemon-start'), text


def test_a_stuck_thread_holding_the_interpreter(site):
    """The deadlock timer: 300 s unless told; the test's config tells 2 (and no
    request-timeout, which would act first)."""
    values, apache, given = site
    conf = values.paths.conf_file
    with open(conf) as f:
        text = f.read()
    assert text.count('request-timeout=2 ') == 1
    with open(conf, 'w') as f:
        f.write(text.replace('request-timeout=2 ', 'request-timeout=0 deadlock-timeout=2 '))
    apache.stop()
    apache.start(None)
    assert answer(apache, '/m/about') == 200
    started = time.time()
    assert get(apache, '/m/stuck') in (500, 502)
    assert time.time() - started < 20  # 2 s, then shutdown-timeout (5 s) and a kill
    code, text = diagnosed(site, 'deadlock')
    assert code == 3
    assert 'held Python\'s global lock' in section(text, 'deadlock')


@pytest.mark.parametrize('site', ['6.1.1'], indirect=True, ids=['mod_wsgi-6.1.1'])
def test_a_request_interrupted_with_interrupt_timeout(site):
    """6.x's --interrupt-timeout: the stuck request alone ends (504), the process goes on."""
    values, apache, given = site
    deploy(values.paths.project_dir, dict(given, interrupt_timeout='2'))
    apache.stop()
    apache.start(None)
    assert answer(apache, '/m/about') == 200
    assert get(apache, '/m/spin?seconds=30') == 504
    code, text = diagnosed(site, 'request-interrupted')
    assert code == 3  # the 504 in the access log
    assert 'the process went on serving' in section(text, 'request-interrupted')
    assert '[request-timeout]' not in text and '[daemon-died]' not in text


def test_a_project_the_daemon_user_cannot_read(site):
    values, apache, given = site
    module = os.path.join(values.paths.project_dir, 'diagapp', 'app.py')
    os.chmod(module, 0o600)  # root's alone: www-data cannot import it
    try:
        for pid in daemon_pids(apache.pid()):
            os.kill(pid, signal.SIGKILL)  # this test's daemon: restarted, it imports again
        time.sleep(0.5)
        assert answer(apache, '/m/about') == 500
    finally:
        os.chmod(module, 0o644)
    code, text = diagnosed(site, 'script-failed')
    assert code == 3
    assert 'tgdeploy --check' in section(text, 'script-failed')
    assert 'Python traceback: PermissionError' in text, text


def test_an_unreadable_wsgi_script(site):
    values, apache, given = site
    script = values.paths.wsgi_file
    os.chmod(script, 0o600)
    try:
        for pid in daemon_pids(apache.pid()):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        assert answer(apache, '/m/about') == 500
    finally:
        os.chmod(script, 0o644)
    code, text = diagnosed(site, 'script-unreadable')
    assert code == 3
    assert 'tgdeploy --doctor' in section(text, 'script-unreadable')


def test_the_command_line(site, deploy_venv):
    """`tgdeploy --diagnose` finds the logs from the deployed config alone."""
    values, apache, given = site
    assert get(apache, '/m/boom') == 500
    time.sleep(0.5)  # the access line is written after the answer
    command = [deploy_venv.bin('tgdeploy'), '--diagnose', '--since', '10',
               values.paths.project_dir]
    proc = run(command, check=False)
    assert proc.returncode == 3, proc
    assert '[http-500]' in proc.stdout and 'Python traceback: RuntimeError' in proc.stdout
    bad = run(command[:2] + ['--since', 'soon', command[-1]], check=False)
    assert bad.returncode == 2 and bad.stdout == ''
    assert bad.stderr.startswith('tgdeploy: error: --since soon: give a number of minutes')
    assert bad.stderr.count('\n') == 1
