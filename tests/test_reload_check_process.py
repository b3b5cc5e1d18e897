"""The throwaway process of --reload's release check (tgdeploy/serve/release_check.py), without
Apache: it runs as the daemon user in the daemon's working folder with the deployment's
Python, its one request reaches the mount's landing page, it is killed whole at its time
limit, and the traceback shown is cut to the project's frames."""
import os
import pwd
import time

import pytest

from tgdeploy.errors import TgDeployError
from tgdeploy.serve.release_check import check_release
from tgdeploy.serve.release_trace import exception_line, first_traceback, trimmed

FACTS = '''import os, pwd, sys
def application(environ, start_response):
    sys.stderr.write('facts: %r\\n' % ([pwd.getpwuid(os.getuid()).pw_name, os.getcwd(),
                     '' in sys.path, os.environ.get('LANG'), environ['SCRIPT_NAME'],
                     environ['PATH_INFO'], environ['HTTP_HOST'], sys.prefix],))
    start_response('503 Service Unavailable', [('Content-Type', 'text/plain')])
    return [b'not yet']
'''

HANGS = '''import subprocess, time
child = subprocess.Popen(['sleep', '300'])
with open(%r, 'w') as f:
    f.write(str(child.pid))
time.sleep(300)
'''


def target(project, wsgi_text, **more):
    wsgi = project / 'app.wsgi'
    wsgi.write_text(wsgi_text)
    found = {'python_home': '/usr', 'user': 'www-data', 'group': 'www-data',
             'home': str(project), 'mount': '/shop', 'server_name': 'shop.example', 'port': 8080,
             'tls': False, 'wsgi_file': str(wsgi), 'lang': 'C.UTF-8', 'locale': 'C.UTF-8'}
    found.update(more)
    return found


def test_runs_as_the_daemon_user_in_its_folder_and_asks_the_landing_page(www_tmp):
    verdict = check_release(target(www_tmp, FACTS))
    assert not verdict.accepted
    assert verdict.summary == ('the new code loads, but its landing page answers with a '
                               'server error (GET /shop/ answered 503 Service Unavailable)')
    facts = [line for line in verdict.traceback if line.startswith('facts: ')]
    user = 'www-data' if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    assert facts == ['facts: %r' % ([user, str(www_tmp), False, 'C.UTF-8', '/shop', '/',
                                     'shop.example:8080', '/usr'],)], verdict.traceback


def test_a_start_up_that_hangs_is_stopped_whole_at_the_time_limit(www_tmp):
    os.chown(str(www_tmp), pwd.getpwnam('www-data').pw_uid, -1)
    pid_file = www_tmp / 'sleep.pid'
    started = time.time()
    verdict = check_release(target(www_tmp, HANGS % str(pid_file)), timeout=2)
    assert time.time() - started < 10
    assert not verdict.accepted
    assert verdict.summary == 'the check did not finish within 2 s (stopped)'
    sleeper = int(pid_file.read_text())
    deadline = time.time() + 5
    while not gone(sleeper) and time.time() < deadline:
        time.sleep(0.05)
    assert gone(sleeper)  # its grandchild too: the process group was killed


def gone(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except (IOError, OSError):
        return True


def test_a_python_home_without_python_cannot_be_checked(www_tmp):
    with pytest.raises(TgDeployError) as raised:
        check_release(target(www_tmp, FACTS, python_home=str(www_tmp)))
    assert str(raised.value).endswith('or, if the check itself cannot run here, --reload '
                                      '--no-import-check')


SAMPLE = '''[Thu Dec 03 16:31:58 2026] logged before
Traceback (most recent call last):
  File "<string>", line 120, in main
  File "<string>", line 40, in load
  File "/srv/shop/apache/shop.wsgi", line 25, in <module>
    application = loadapp('config:' + CONFIG_FILE)
  File "/venv/lib/python3.11/site-packages/paste/deploy/loadwsgi.py", line 253, in loadapp
    return loadobj(APP, uri, name=name, **kw)
  File "/venv/lib/python3.11/site-packages/tg/wsgiapp.py", line 219, in lookup_controller
    __import__(full_module_name)
File "/srv/shop/shop/controllers/root.py", line 21
    def index(self,,):
                   ^
SyntaxError: invalid syntax

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/other.py", line 1, in x
KeyError: 'second'
'''


def test_the_first_traceback_cut_to_the_projects_frames():
    lines = trimmed(first_traceback(SAMPLE), ['/srv/shop', '/srv/shop/apache'])
    assert lines == [
        'Traceback (most recent call last):',
        '  File "/srv/shop/apache/shop.wsgi", line 25, in <module>',
        "    application = loadapp('config:' + CONFIG_FILE)",
        '  ... 2 frames outside the project',
        '  File "/srv/shop/shop/controllers/root.py", line 21',
        '    def index(self,,):',
        '                   ^',
        'SyntaxError: invalid syntax']
    assert exception_line(lines) == 'SyntaxError: invalid syntax'
    # A project installed elsewhere: every frame but the check's own.
    whole = trimmed(first_traceback(SAMPLE), ['/elsewhere'])
    assert len(whole) == 11 and '<string>' not in '\n'.join(whole)
