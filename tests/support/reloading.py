"""What the reload test and benchmark share: a slow page for the CherryPy fixture, a
bounded client load, and the daemon processes of one Apache."""
import os
import threading
import time
from http.client import HTTPConnection

SLOW_PAGE = '''
    @cherrypy.expose
    def slow(self, seconds='2'):
        """Answers after 2 s (or ?seconds=N): the request in flight during a reload."""
        time.sleep(float(seconds))
        return 'slow done'
'''


def add_slow_page(project, package='cherryapp'):
    """Adds /slow (2 s, or ?seconds=N) to the fixture's Root class in ``project``."""
    app = os.path.join(str(project), package, 'app.py')
    with open(app) as f:
        text = f.read()
    if 'def slow(' not in text:
        anchor = '\n    @cherrypy.expose\n    def go(self):'
        assert anchor in text
        text = text.replace(anchor, SLOW_PAGE + anchor, 1)
        with open(app, 'w') as f:
            f.write(text)


def status_of(port, path, timeout=30):
    """The status of one GET on a new connection, or the name of the error it met."""
    connection = HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        connection.request('GET', path)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, IOError) as e:
        return type(e).__name__
    finally:
        connection.close()


def failed(status):
    return not isinstance(status, int) or status >= 500


class Load(object):
    """``clients`` threads GETting ``path`` back to back until stop(); every outcome kept
    as (time, status or error name)."""

    def __init__(self, port, path, clients=4):
        self.port, self.path = port, path
        self.results = []
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self.client) for _ in range(clients)]

    def client(self):
        while not self.done.is_set():
            self.results.append((time.time(), status_of(self.port, self.path, timeout=60)))

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def stop(self):
        self.done.set()
        for thread in self.threads:
            thread.join(90)
        return self.results

    def failures(self, since=0):
        return [(t, s) for t, s in list(self.results) if t >= since and failed(s)]


class InFlight(object):
    """One GET of a slow page on its own thread; outcome() waits for its answer."""

    def __init__(self, port, path):
        self.status = None
        self.thread = threading.Thread(target=self.run, args=(port, path))
        self.thread.start()

    def run(self, port, path):
        self.status = status_of(port, path, timeout=60)

    def outcome(self):
        self.thread.join(90)
        return self.status


def daemon_pids(apache_pid):
    """{pid: what it shows as argv[0]} of the mod_wsgi daemon processes of one Apache."""
    found = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            with open('/proc/%s/cmdline' % name, 'rb') as f:
                argv0 = f.read().split(b'\0')[0].decode('utf-8', 'replace')
        except (OSError, IOError, IndexError, ValueError):
            continue
        if ppid == apache_pid and argv0.startswith('(wsgi:'):
            found[int(name)] = argv0.rstrip()
    return found


# A process dressed as a mod_wsgi daemon: its parent calls itself apache2 (comm), it shows
# "(wsgi:NAME)" as argv[0] (set by exec) and apache2 as comm (prctl PR_SET_NAME), and it
# ignores SIGUSR1, so a --reload that waited for it would wait until its deadline.
LOOK_ALIKE = r'''
import ctypes, os, signal, sys, time
def named(name):
    ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name.encode()), 0, 0, 0)  # PR_SET_NAME
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
named('apache2')
if sys.argv[1] == 'parent':
    if os.fork() == 0:
        os.execv(sys.executable, [sys.argv[2], '-c', sys.argv[3], 'child'])
    sys.stdout.write('%d\n' % os.getpid())
    sys.stdout.flush()
time.sleep(120)
'''

PYTHON = '/usr/bin/python3'  # the distribution's: 3.11 on Debian 12, 3.13 on Debian 13


class LookAlike(object):
    """A parent named apache2 and its child showing ``(wsgi:NAME)``, run as ``user``;
    stop() ends both (they are in a session of their own)."""

    def __init__(self, name, user):
        import pwd
        import subprocess
        gid = pwd.getpwnam(user).pw_gid
        self.process = subprocess.Popen(
            ['setpriv', '--reuid', user, '--regid', str(gid), '--clear-groups', PYTHON, '-c',
             LOOK_ALIKE, 'parent', '(wsgi:%s)' % name, LOOK_ALIKE],
            cwd='/', stdout=subprocess.PIPE, start_new_session=True)
        self.parent = int(self.process.stdout.readline())
        self.child = self.wait_for_child()

    def wait_for_child(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for pid, shown in daemon_pids(self.parent).items():
                with open('/proc/%d/comm' % pid) as f:
                    if f.read().strip() == 'apache2':  # dressed in full
                        return pid
            time.sleep(0.05)
        raise AssertionError('the look-alike did not start')

    def alive(self):
        try:
            with open('/proc/%d/stat' % self.child) as f:
                return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
        except (OSError, IOError):
            return False

    def stop(self):
        import signal
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        self.process.wait(10)
        self.process.stdout.close()
        deadline = time.time() + 10
        while self.alive() and time.time() < deadline:
            time.sleep(0.05)
