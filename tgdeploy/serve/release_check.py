"""--reload's release check: before any daemon is signalled, the new code is loaded the way
a daemon process would load it, in a throwaway process, and asked for its landing page.

The process (release_child.py) runs
- in the deployment's own Python: the python-home of the WSGIDaemonProcess line, so
  TurboGears 1 on 2.7 is checked by 2.7, whatever Python tgdeploy runs on;
- as the daemon user and group when tgdeploy runs as root (the user's groups, as mod_wsgi
  sets them; never as root); else as the running user (who may be that user);
- with the daemon's environment: its working folder (home=), lang=/locale=, the user's
  HOME, a plain PATH; the .wsgi itself sets sys.path, --setenv and --env-file values;
- in a session of its own, killed whole at the time limit; it writes no bytecode.
A 5xx answer, an exception, a timeout or a crash refuses the release (Verdict.accepted).
"""
import grp
import io
import os
import pwd
import select
import signal
import subprocess
import threading
import time

from tgdeploy.errors import TgDeployError
from tgdeploy.serve import release_child
from tgdeploy.serve.release_trace import exception_line, first_traceback, trimmed

TIMEOUT = 60  # seconds: a TurboGears start-up takes one or two
OUTPUT_LIMIT = 1024 * 1024  # what is kept of the check's output (a chatty start-up)
PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
VERDICTS = {
    3: 'the new code fails to load',
    4: 'the new code loads, but its landing page raised',
    5: 'the new code loads, but its landing page answers with a server error',
    6: 'the daemon user cannot enter the daemon\'s working folder',
    7: 'the .wsgi defines no "application"',
}
SKIP = 'or, if the check itself cannot run here, --reload --no-import-check'


class Verdict(object):
    """What the check found: ``accepted``, a one-line ``summary``, the child's last line
    (``said``), the trimmed first ``traceback`` (lines) and the seconds it ``took``."""

    def __init__(self, accepted, summary, said, traceback, took):
        self.accepted = accepted
        self.summary = summary
        self.said = said
        self.traceback = traceback
        self.took = took


def check_release(target, timeout=TIMEOUT):
    """Run the check for the deployment ``target`` (reload_conf.deployed()); a Verdict.
    TgDeployError when the check cannot run at all (no such Python, no such user)."""
    python = deployment_python(target['python_home'])
    user = run_as(target)
    wsgi_file = target['wsgi_file']
    if not os.path.isfile(wsgi_file):
        raise TgDeployError('%s is missing: deploy again (tgdeploy), then --reload' % wsgi_file)
    port = str(target['port'] or (443 if target['tls'] else 80))
    command = [python, '-c', child_source(), wsgi_file, target['home'], target['mount'],
               target['server_name'] or 'localhost', port,
               'https' if target['tls'] else 'http']
    started = time.time()
    code, output, timed_out = run_bounded(command, daemon_env(target, user), user, timeout)
    took = time.time() - started
    said = last_said(output)
    places = [target['home'], os.path.dirname(wsgi_file)]
    trace = trimmed(first_traceback(output), places)
    if timed_out:
        summary = 'the check did not finish within %d s (stopped)' % timeout
    elif code == 0:
        return Verdict(True, 'accepted', said, [], took)
    elif code in VERDICTS:
        summary = VERDICTS[code]
    else:
        summary = 'the check\'s process ended with %s' % (
            'signal %d' % -code if code < 0 else 'exit code %d' % code)
    if trace:
        summary = '%s: %s' % (summary, exception_line(trace))
    else:  # no traceback: the last lines it wrote say most
        trace = [line for line in output.splitlines() if line.strip()][-12:]
        if code in (5, 6, 7):
            summary = '%s (%s)' % (summary, said)
    return Verdict(False, summary, said, trace, took)


def deployment_python(home):
    """The interpreter of the python-home the daemons run with."""
    if not home:
        raise TgDeployError('the deployment names no python-home: deploy again, or --reload '
                            '--no-import-check')
    for name in ('python', 'python3', 'python2.7', 'python2'):
        path = os.path.join(home, 'bin', name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise TgDeployError('the deployment\'s Python (python-home %s) has no bin/python on this '
                        'machine, so the new code cannot be checked: fix python-home, %s'
                        % (home, SKIP))


def run_as(target):
    """The daemon user's uid, gid, groups, home and name as root; None: run as the
    running user."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(target['user'])
    except KeyError:
        raise TgDeployError('the daemon user %s does not exist on this machine: nothing to '
                            'reload' % target['user'])
    gid = user.pw_gid
    if target.get('group'):
        try:
            gid = grp.getgrnam(target['group']).gr_gid
        except KeyError:
            raise TgDeployError('the daemon group %s does not exist on this machine: deploy '
                                'again' % target['group'])
    if user.pw_uid == 0:
        raise TgDeployError('the daemon user is root, which mod_wsgi refuses: deploy with '
                            '--user')
    groups = sorted(set([gid] + [g.gr_gid for g in grp.getgrall()
                                 if user.pw_name in g.gr_mem]))
    return {'uid': user.pw_uid, 'gid': gid, 'groups': groups, 'home': user.pw_dir or '/',
            'name': user.pw_name}


def daemon_env(target, user):
    home_dir = user['home'] if user else os.environ.get('HOME', '/')
    name = user['name'] if user else pwd.getpwuid(os.geteuid()).pw_name
    env = {'PATH': PATH, 'HOME': home_dir, 'USER': name, 'LOGNAME': name,
           'PYTHONDONTWRITEBYTECODE': '1', 'PYTHONIOENCODING': 'utf-8:backslashreplace'}
    if target.get('lang'):
        env['LANG'] = target['lang']
    if target.get('locale'):
        env['LC_ALL'] = target['locale']
    return env


def child_source():
    """release_child.py's text, given to ``python -c``: no file of tgdeploy need be
    readable by the daemon user, nor importable by the deployment's Python."""
    path = os.path.splitext(release_child.__file__)[0] + '.py'
    with io.open(path, encoding='utf-8') as f:
        return f.read()


def run_bounded(command, env, user, timeout):
    """(exit code, output, timed out): stdout and stderr together, the first OUTPUT_LIMIT
    bytes kept; the process's session killed at ``timeout``, and the output no longer
    waited for soon after (a process that left the session may hold the pipe)."""
    def child():
        os.setsid()
        if user:
            os.setgroups(user['groups'])
            os.setgid(user['gid'])
            os.setuid(user['uid'])
    try:
        with io.open(os.devnull, 'rb') as nothing:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=nothing, env=env, close_fds=True, cwd='/',
                                    preexec_fn=child)
    except (OSError, IOError) as e:
        raise TgDeployError('the release check could not start %s (%s): %s' % (
            command[0], e.strerror or e, SKIP))
    timed_out = []
    timer = threading.Timer(timeout, stop, [proc, timed_out])
    timer.start()
    try:
        output, ended = read_bounded(proc.stdout.fileno(), time.time() + timeout + 5)
        if not ended:
            stop(proc, timed_out)
        proc.wait()  # the output ended: the process is leaving, or the timer stops it
    finally:
        timer.cancel()
        proc.stdout.close()
    return proc.returncode, output.decode('utf-8', 'replace'), bool(timed_out)


def read_bounded(fd, deadline):
    """(what was read, whether the output ended before ``deadline``)."""
    kept, size = [], 0
    while True:
        left = deadline - time.time()
        if left <= 0:
            return b''.join(kept), False
        if not select.select([fd], [], [], min(left, 1.0))[0]:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return b''.join(kept), True
        if size < OUTPUT_LIMIT:
            kept.append(chunk[:OUTPUT_LIMIT - size])
            size += len(kept[-1])


def stop(proc, timed_out):
    timed_out.append(True)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def last_said(output):
    said = [line for line in output.splitlines() if line.startswith(release_child.MARK)]
    return said[-1][len(release_child.MARK):].strip() if said else ''
