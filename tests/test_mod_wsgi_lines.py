"""Every mod_wsgi line a user can get here, under the config tgdeploy writes: Debian 12's 4.9.4
(Debian 13's 5.0.2 is proven in tests/test_debian13.py), pip's 5.0.2 (the last for 3.8/3.9)
and pip's newest 6.x (3.10+). What the generated config and README say of each is measured:

- a stuck request: with request-timeout T and N threads, 4.9 and 5.0 restart the process
  once the running requests' time averaged over the threads passes T (one stuck request
  alone: N x T); 6.x looks at each request and acts at T x (1 + ln N); either way the
  process then has shutdown-timeout to end before it is killed, and the client gets its
  answer only then (measured: 500 from 4.9.4 and 5.0.2, 502 from 6.1.1);
- large POST bodies with the README's CPU-bound profile (`--queue-timeout 0 --script-reloading
  no`), the settings under which mod_wsgi 6.0.0-6.0.4 can cut request bodies short: every
  byte arrives.
"""
import math
import os
import shutil
import subprocess
import time
from http.client import HTTPConnection

import pytest

from conftest import LAB
from support.httpd import DEBIAN_WSGI
from support.projects import make_cherrypy
from support.venv import Venv, run

PAGES = '''
    @cherrypy.expose
    def slow(self, seconds='1'):
        time.sleep(float(seconds))
        return 'slept %s in %d' % (seconds, os.getpid())

    @cherrypy.expose
    def size(self):
        return str(len(cherrypy.request.body.read()))
'''

# line: (mod_wsgi module, virtualenv or None for the session's deploy virtualenv)
LINES = {
    '4.9.4': (DEBIAN_WSGI, None),
    '5.0.2': (LAB / 'pythons' / '3.9' / 'mod_wsgi.so', LAB / 'pythons' / '3.9' / 'venv'),
    '6.1.1': (LAB / 'pythons' / '3.12' / 'mod_wsgi.so', LAB / 'pythons' / '3.12' / 'venv'),
}
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


@pytest.fixture(params=sorted(LINES), ids=lambda line: 'mod_wsgi-' + line)
def served(request, www_tmp, apache_factory, deploy_venv):
    """The fixture app deployed with the CPU-bound profile and a short request-timeout,
    served by a private Apache loading mod_wsgi ``line``."""
    line = request.param
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
         '--script-reloading', 'no', str(project)], cwd=str(www_tmp))
    status, _, _ = apache.start('/m/')
    assert status == 200, apache.error_log()[-3000:]
    assert 'mod_wsgi/%s ' % line in apache.error_log(), apache.error_log()[-2000:]
    yield line, apache


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


def stuck_limit(line):
    """When mod_wsgi gives up on one stuck request, by its own rule for ``line``."""
    if line.startswith('6.'):
        return REQUEST_TIMEOUT * (1 + math.log(THREADS))
    return REQUEST_TIMEOUT * THREADS


def test_a_stuck_request_is_cut_when_the_line_says(served):
    line, apache = served
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


def test_large_posts_arrive_whole_with_the_cpu_profile(served):
    line, apache = served
    size = 4 * 1024 * 1024
    body = os.urandom(size)
    for attempt in range(12):
        conn = HTTPConnection('127.0.0.1', apache.port, timeout=60)
        try:
            conn.request('POST', '/m/size', body=body,
                         headers={'Content-Type': 'application/octet-stream'})
            response = conn.getresponse()
            answer = response.read().decode()
        finally:
            conn.close()
        assert (response.status, answer) == (200, str(size)), (line, attempt)
