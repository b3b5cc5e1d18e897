"""--reload: a new copy of the application in every daemon process of this deployment,
without failing a request.

Apache's own restarts (even `apachectl graceful`) send the daemon processes SIGTERM and
remove their socket, so a request can be cut or refused (README: known limits). SIGUSR1 to a
daemon process is mod_wsgi's eviction: it lets the requests in progress finish (up to
eviction-timeout), exits, and the Apache parent starts a new one on the same socket, which
it keeps open all along; a request arriving meanwhile waits in the socket's queue.

The processes are found in /proc by what mod_wsgi shows of their name and by the Apache
parent that started them, which must be one whose Include chain loads the very .conf read
here (apache_includes: not a staging copy's Apache, not a process dressed as a daemon);
see apache_processes.find_daemons() for how another project's are told apart under it.
Only those parents' new daemons are counted as successors.
"""
import errno
import os
import pwd
import signal
import sys
import time

from tgdeploy.serve.apache_includes import started_by_check
from tgdeploy.serve.apache_processes import alive, apache_parents, find_daemons
from tgdeploy._compat import print_line
from tgdeploy.errors import TgDeployError
from tgdeploy.serve.release_check import check_release
from tgdeploy.serve.reload_conf import deployed
from tgdeploy.serve.reload_probe import probe

# The action as the front ends offer it: --reload in settle/table.py.
# eviction-timeout + shutdown-timeout + startup-timeout of the generated config, and a margin.
TIMEOUT = 100


def reload(values, out, timeout=TIMEOUT, simulate=False, import_check=True):
    """Signal this deployment's daemon processes, wait for their successors; exit code 0.
    First the new code is checked (release_check.py; not with ``import_check`` False): a
    refused release signals nothing, exit code 3. ``simulate``: the check alone."""
    target = deployed(values)
    if simulate:
        return 0 if checked(target, out) else 3
    check_permission(target)
    if import_check:
        running(target, values, lambda line: None)  # nothing to reload: said before checking
        if not checked(target, out):
            return 3
    parents, old, sockets = running(target, values, out)  # as they are after the check
    started = time.time()
    for pid in old:
        send(pid, signal.SIGUSR1)
    out('reload: sent SIGUSR1 to %s (daemon "%s", pid %s)' % (
        plural(len(old), 'process', 'processes'), target['name'],
        ', '.join(str(pid) for pid in sorted(old))))
    if len(set(old.values())) > 1:  # the very .conf in several Apaches: this deployment each
        out('reload: the daemons of %s (%s), which all load %s' % (
            plural(len(set(old.values())), 'Apache', 'Apaches'),
            ', '.join('pid %d' % pid for pid in sorted(set(old.values()))), values.paths.conf_file))
    new = wait_replaced(target, old, sockets, started + timeout)
    replaced = time.time() - started
    out('reload: replaced by pid %s after %.2f s' % (
        ', '.join(str(pid) for pid in sorted(new)), replaced))
    answer = probe(target, set(old.values()), started + timeout)
    if answer:
        out('reload: %s answered %d after %.2f s' % (answer[0], answer[1],
                                                     time.time() - started))
    else:  # Apache's listening sockets are root's to see
        out('reload: not checked through Apache (run as root to have it find the address)')
    return 0


def running(target, values, out):
    """(Apache parents, {daemon pid: parent}, sockets) of this deployment's daemons."""
    parents = apache_parents(target['file'])
    old, sockets = find_daemons(target, parents)
    old = leave_checks_alone(old, parents, out)
    if not old:
        raise TgDeployError('no daemon process "%s" is running (is Apache running? the config '
                            '%s enabled?): nothing reloaded' % (target['name'],
                                                                 values.paths.conf_file))
    return parents, old, sockets


def checked(target, out):
    """Whether the release check accepts the new code; a refusal shows its traceback and
    one line of what to do on stderr."""
    verdict = check_release(target)
    if verdict.accepted:
        out('reload: the new code loads and %s (checked as %s in %.1f s)' % (
            verdict.said.replace('answered', 'answers'), checked_as(target), verdict.took))
        return True
    for line in verdict.traceback:
        print_line(line, sys.stderr)
    print_line('tgdeploy: error: release refused, nothing signalled (the daemons keep '
               'running the old code): %s. Fix it, then --reload again (--reload --simulate '
               'checks without reloading)' % verdict.summary, sys.stderr)
    return False


def checked_as(target):
    return target['user'] if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def leave_checks_alone(old, parents, out):
    """The daemons of ``old`` without those of a --check/--serve Apache, unless it is the
    only one running this .conf (apache_includes.started_by_check)."""
    checks = set(pid for pid in set(old.values()) if started_by_check(parents[pid]))
    if not checks or not set(old.values()) - checks:
        return old
    out('reload: left alone: the daemons of the private Apache of tgdeploy --check/--serve '
        '(%s)' % ', '.join('pid %d' % pid for pid in sorted(checks)))
    return dict((pid, parent) for pid, parent in old.items() if parent not in checks)


def plural(count, one, many):
    return '%d %s' % (count, one if count == 1 else many)


def send(pid, number):
    try:
        os.kill(pid, number)
    except OSError as e:
        if e.errno != errno.ESRCH:  # gone already: it was leaving anyway
            raise


def check_permission(target):
    try:
        uid = pwd.getpwnam(target['user']).pw_uid
    except KeyError:
        raise TgDeployError('the daemon user %s does not exist on this machine: nothing to '
                            'reload' % target['user'])
    if os.geteuid() not in (0, uid):
        raise TgDeployError('--reload signals the daemon processes of "%s", which run as %s: '
                            'run it as root (sudo) or as %s' % (target['name'], target['user'],
                                                                target['user']))
    target['uid'] = uid


# -- waiting for the new processes -------------------------------------------------------

def wait_replaced(target, old, sockets, deadline):
    """The new pids, once every old process is gone and as many new ones run under the
    same Apache parents (on the same sockets): only theirs are counted."""
    wanted = len(old)
    parents = set(old.values())
    while True:
        now = find_daemons(target, parents, sockets, refuse=False)[0]
        new = [pid for pid in now if pid not in old]
        if not [pid for pid in old if alive(pid)] and len(new) >= wanted:
            return new
        if time.time() > deadline:
            left = sorted(pid for pid in old if alive(pid))
            raise TgDeployError('daemon "%s" not replaced within %d s (still running: %s; new: '
                                '%s): see Apache\'s error log' % (
                                    target['name'], TIMEOUT, left or 'none', sorted(new)
                                    or 'none'))
        time.sleep(0.05)
