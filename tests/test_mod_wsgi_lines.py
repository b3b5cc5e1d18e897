"""Every mod_wsgi line a user can get here, under the config tgdeploy writes: Debian's own (4.9.4
on Debian 12, 5.0.2 on Debian 13), pip's 5.0.2 (the last for 3.8/3.9) and pip's newest 6.x
(3.10+). What the generated config and README say of each is measured:

- a stuck request: with request-timeout T and N threads, 4.9 and 5.0 restart the process
  once the running requests' time averaged over the threads passes T (one stuck request
  alone: N x T); 6.x looks at each request and acts at T x (1 + ln N); either way the
  process then has shutdown-timeout to end before it is killed, and the client gets its
  answer only then (measured: 500 from 4.9.4 and 5.0.2, 502 from 6.1.1);
- large POST bodies with the README's CPU-bound profile (`--queue-timeout 0 --script-reloading
  no`), the settings under which mod_wsgi 6.0.0-6.0.4 can cut request bodies short: every
  byte arrives with the three lines above; with 6.0.4 (built by scripts/provision-pythons
  for this test) a 4 MiB body arrives cut short under a 200, which is why the doctor
  refuses those versions with that profile (tgdeploy/doctor/modwsgi_lines.py).
"""
import math
import os
import shutil
import subprocess
import time
from http.client import HTTPConnection

import pytest

from conftest import LAB, LAB_PY3
from support.httpd import DEBIAN_WSGI
from support.projects import make_cherrypy
from support.venv import Venv, run
from tgdeploy.doctor import modwsgi_lines
from tgdeploy.doctor.modwsgi_file import module_version
from tgdeploy.settle.settled import Settled

PAGES = '''
    @cherrypy.expose
    def slow(self, seconds='1'):
        time.sleep(float(seconds))
        return 'slept %s in %d' % (seconds, os.getpid())

    @cherrypy.expose
    def spin(self, seconds='1'):
        end = time.time() + float(seconds)
        while time.time() < end:  # Python running: where an injected exception lands
            pass
        return 'spun %s in %d' % (seconds, os.getpid())

    @cherrypy.expose
    def pid(self):
        return str(os.getpid())

    @cherrypy.expose
    def size(self):
        return str(len(cherrypy.request.body.read()))
'''

# line: (mod_wsgi module, virtualenv or None for the session's deploy virtualenv). Debian's own
# is read from the module: 'debian-4.9.4' on Debian 12, 'debian-5.0.2' on 13 (pip's 5.0.2 is
# another build).
DEBIAN_LINE = 'debian-' + '.'.join(str(n) for n in (
    os.path.exists(DEBIAN_WSGI) and module_version(DEBIAN_WSGI) or ['missing']))
LINES = {
    DEBIAN_LINE: (DEBIAN_WSGI, None),
    '5.0.2': (LAB / 'pythons' / '3.9' / 'mod_wsgi.so', LAB / 'pythons' / '3.9' / 'venv'),
    '6.1.1': (LAB / 'pythons' / '3.12' / 'mod_wsgi.so', LAB / 'pythons' / '3.12' / 'venv'),
}
FAULTY = '6.0.4'
LINES[FAULTY] = (LAB / 'pythons' / '3.12' / 'mod_wsgi-6.0.4.so', LAB / 'pythons' / '3.12' / 'venv')
GOOD_LINES = sorted(set(LINES) - set([FAULTY]))
THREADS = 4
REQUEST_TIMEOUT = 3
SHUTDOWN_TIMEOUT = 5  # the generated config's: the process is killed that long after
# A daemon built against a copy of pyenv's Python needs this server-wide (test_pythons.py).
SERVER_CONFIG = 'WSGIRestrictEmbedded On'


def make_lineapp(parent):
    project = make_cherrypy(parent / 'lineapp', package='lineapp')  # its setup.py: cherryapp
    app = project / 'lineapp' / 'app.py'
    text = app.read_text().replace('from cherryapp import boot', 'from lineapp import boot')
    app.write_text(text.replace("\n\nif __name__ == '__main__':",
                                PAGES + "\n\nif __name__ == '__main__':"))
    subprocess.run(['chmod', '-R', 'a+rX', str(parent)], check=True)
    return project


@pytest.fixture
def served(www_tmp, apache_factory, deploy_venv):
    """serve(line): the fixture app deployed with the CPU-bound profile and a short
    request-timeout, served by a private Apache loading mod_wsgi ``line``."""
    return lambda line, *options: serve(line, www_tmp, apache_factory, deploy_venv, options)


def serve(line, www_tmp, apache_factory, deploy_venv, options=()):
    module, prefix = LINES[line]
    venv = Venv(prefix) if prefix else deploy_venv
    missing = [str(p) for p in (module, venv.bin('tgdeploy')) if not os.path.exists(str(p))]
    if missing:
        pytest.fail('missing %s: run scripts/provision-pythons (scripts/test does)'
                    % ', '.join(missing))
    project = make_lineapp(www_tmp)
    apache = apache_factory([project / 'apache' / 'cherryapp.conf'], wsgi_module=str(module),
                            extra=SERVER_CONFIG if prefix else '')
    run([venv.bin('tgdeploy'), '-q', '--mount', '/m', '--server-name', '127.0.0.1',
         '--port', str(apache.port), '--processes', '1', '--threads', str(THREADS),
         '--request-timeout', str(REQUEST_TIMEOUT), '--queue-timeout', '0',
         '--script-reloading', 'no'] + list(options) + [str(project)], cwd=str(www_tmp))
    status, _, _ = apache.start('/m/')
    assert status == 200, apache.error_log()[-3000:]
    assert 'mod_wsgi/%s ' % version(line) in apache.error_log(), apache.error_log()[-2000:]
    return apache


def timed_get(apache, path, timeout=60):
    conn = HTTPConnection('127.0.0.1', apache.port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.request('GET', path)
        response = conn.getresponse()
        response.read()
        status = response.status
    except (OSError, ConnectionError) as e:
        status = type(e).__name__
    finally:
        conn.close()
    return status, time.monotonic() - started


def version(line):
    return line.split('-')[-1]


def stuck_limit(line):
    """When mod_wsgi gives up on one stuck request, by its own rule for ``line``."""
    if version(line).startswith('6.'):
        return REQUEST_TIMEOUT * (1 + math.log(THREADS))
    return REQUEST_TIMEOUT * THREADS


@pytest.mark.parametrize('line', GOOD_LINES, ids=lambda line: 'mod_wsgi-' + line)
def test_a_stuck_request_is_cut_when_the_line_says(served, line):
    apache = served(line)
    status, seconds = timed_get(apache, '/m/slow?seconds=40')
    limit = stuck_limit(line)
    print('mod_wsgi %s: a stuck request ended after %.1f s with %s (its rule: %.1f s, then '
          'shutdown-timeout %d s)' % (line, seconds, status, limit, SHUTDOWN_TIMEOUT))
    assert status in (500, 502), (status, seconds)
    # mod_wsgi looks once a second or so.
    assert limit + SHUTDOWN_TIMEOUT - 0.5 <= seconds <= limit + SHUTDOWN_TIMEOUT + 2.5, \
        (line, status, seconds, limit)
    status, _ = timed_get(apache, '/m/slow?seconds=0')
    assert status == 200  # the replacement process answers



INTERRUPT_TIMEOUT = 2


def test_interrupt_timeout_ends_the_stuck_request_alone_on_mod_wsgi_6(served):
    """--interrupt-timeout on 6.1.1: at request-timeout x (1 + ln threads) the request that
    runs Python is ended by itself with 504, and the same process answers the next one."""
    apache = served('6.1.1', '--interrupt-timeout', str(INTERRUPT_TIMEOUT))
    status, body = get_body(apache, '/m/pid')
    assert status == 200, body
    before = body
    status, seconds = timed_get(apache, '/m/spin?seconds=40')
    limit = stuck_limit('6.1.1')
    print('mod_wsgi 6.1.1 with interrupt-timeout %d: a spinning request ended after %.1f s '
          'with %s (its rule: %.1f s)' % (INTERRUPT_TIMEOUT, seconds, status, limit))
    assert status == 504, (status, seconds, apache.error_log()[-2000:])
    assert limit - 0.5 <= seconds <= limit + INTERRUPT_TIMEOUT + 2.5, (seconds, limit)
    assert get_body(apache, '/m/pid') == (200, before)  # not restarted


def test_interrupt_timeout_is_refused_without_request_timeout(tmp_path):
    project = make_lineapp(tmp_path)
    proc = run([LAB_PY3.bin('tgdeploy'), '--request-timeout', '0', '--interrupt-timeout', '10',
                '--simulate', str(project)], check=False)
    assert proc.returncode == 2 and '--interrupt-timeout acts when request-timeout fires' \
        in proc.stderr, proc


def get_body(apache, path):
    conn = HTTPConnection('127.0.0.1', apache.port, timeout=30)
    try:
        conn.request('GET', path)
        response = conn.getresponse()
        return response.status, response.read().decode('utf-8', 'replace')
    finally:
        conn.close()

def post_sizes(apache, size, count):
    """(status, the size the application read) of ``count`` POSTs of ``size`` bytes."""
    body = os.urandom(size)
    answers = []
    for attempt in range(count):
        conn = HTTPConnection('127.0.0.1', apache.port, timeout=60)
        try:
            conn.request('POST', '/m/size', body=body,
                         headers={'Content-Type': 'application/octet-stream'})
            response = conn.getresponse()
            answers.append((response.status, response.read().decode()))
        finally:
            conn.close()
    return answers


@pytest.mark.parametrize('line', GOOD_LINES, ids=lambda line: 'mod_wsgi-' + line)
def test_large_posts_arrive_whole_with_the_cpu_profile(served, line):
    size = 4 * 1024 * 1024
    assert post_sizes(served(line), size, 12) == [(200, str(size))] * 12


def test_mod_wsgi_6_0_4_cuts_bodies_short_with_the_cpu_profile(served):
    """The fault the doctor refuses is real: bodies arrive cut short, under a 200."""
    size = 4 * 1024 * 1024
    apache = served(FAULTY)
    answers = []
    while len(answers) < 60 and not [1 for status, read in answers if int(read) < size]:
        answers += post_sizes(apache, size, 6)  # measured: 1 to 3 of 12 cut short
    short = [read for status, read in answers if status == 200 and int(read) < size]
    print('mod_wsgi %s: %d of %d bodies of %d bytes arrived cut short under a 200: %s'
          % (FAULTY, len(short), len(answers), size, ', '.join(short)))
    assert short, answers


# ---- what the doctor knows of each line ---------------------------------------------------

@pytest.mark.parametrize('line', (FAULTY, '6.1.1'))
def test_the_doctor_reads_the_module_and_refuses_the_faulty_one(line, www_tmp):
    module, prefix = LINES[line]
    venv = Venv(prefix)
    project = make_lineapp(www_tmp)
    doctor = run([venv.bin('tgdeploy'), '--doctor', '--mod-wsgi', str(module),
                  '--queue-timeout', '0', '--script-reloading', 'no', str(project)],
                 cwd=str(www_tmp), check=False)
    refusal = ('%s: mod_wsgi %s can fail or cut short request bodies with --script-reloading '
               'no and --queue-timeout 0 (fixed in 6.0.5)' % (module, line))
    if line == FAULTY:
        assert doctor.returncode == 3 and refusal in doctor.stdout + doctor.stderr, doctor
    else:
        assert 'cut short request bodies' not in doctor.stdout + doctor.stderr, doctor


def profile(**changes):
    values = {'apache': '2.4', 'mode': 'daemon', 'script_reloading': False, 'queue_timeout': 0,
              'interrupt_timeout': 0}
    values.update(changes)
    return Settled.from_flat(values)


def test_the_faulty_6_0_versions_are_refused_with_the_cpu_profile():
    for version in ((6, 0, 0), (6, 0, 4)):
        problems = modwsgi_lines.line_problems(version, profile())
        assert len(problems) == 1 and 'cut short request bodies' in problems[0], problems
        assert 'pip install "mod_wsgi>=6.0.5"' in problems[0]
    for version in ((4, 9, 4), (5, 0, 2), (6, 0, 5), (6, 1, 1)):
        assert modwsgi_lines.line_problems(version, profile()) == []
    for fits in (profile(script_reloading=True), profile(queue_timeout=45),
                 profile(mode='embedded')):
        assert modwsgi_lines.line_problems((6, 0, 4), fits) == []


def test_mod_wsgi_6_needs_apache_2_4():
    problems = modwsgi_lines.line_problems((6, 1, 1), profile(apache='2.2', queue_timeout=45))
    assert len(problems) == 1 and 'needs Apache 2.4' in problems[0], problems
    assert modwsgi_lines.line_problems((4, 9, 4), profile(apache='2.2', queue_timeout=45)) == []


def test_interrupt_timeout_needs_mod_wsgi_6():
    for version in ((4, 9, 4), (5, 0, 2)):
        problems = modwsgi_lines.line_problems(version, profile(interrupt_timeout=10,
                                                                queue_timeout=45))
        assert len(problems) == 1 and 'does not know interrupt-timeout' in problems[0], problems
    assert modwsgi_lines.line_problems((6, 1, 1), profile(interrupt_timeout=10)) == []


def test_the_line_pip_gives_each_python():
    assert modwsgi_lines.pip_requirement('2.7.18') == 'mod_wsgi==4.9.4'
    assert modwsgi_lines.pip_requirement('3.8.18') == 'mod_wsgi==5.0.2'
    assert modwsgi_lines.pip_requirement('3.9.18') == 'mod_wsgi==5.0.2'
    assert modwsgi_lines.pip_requirement('3.10.13') == 'mod_wsgi>=6.0.5'
    assert modwsgi_lines.pip_requirement('3.13.5') == 'mod_wsgi>=6.0.5'
