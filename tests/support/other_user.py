"""Acting as another user: the owner of a project that root deploys (issue 21).

The tests run as root; ``nobody`` plays the project's owner: a tree chowned to it, and
Python snippets run as it through setpriv (its own uid and group, no supplementary ones).
"""
import pwd
import subprocess

from conftest import LAB_PY3

NOBODY = pwd.getpwnam('nobody')
AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--']


def chown_to_nobody(*paths):
    subprocess.run(['chown', '-R', 'nobody:nogroup'] + [str(p) for p in paths], check=True)


def run_as_nobody(code, *args, timeout=60):
    """Run the Python ``code`` as nobody (argv[1:] = ``args``); raise if it fails."""
    proc = subprocess.run(AS_NOBODY + [LAB_PY3.python, '-c', code] + [str(a) for a in args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def start_as_nobody(code, *args):
    """Start the Python ``code`` as nobody; it prints 'ready' once set up (waited for)."""
    proc = subprocess.Popen(AS_NOBODY + [LAB_PY3.python, '-u', '-c', code] +
                            [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if line != 'ready':
        proc.kill()
        raise AssertionError('the other user\'s process did not start: %r %s'
                             % (line, proc.stderr.read()))
    return proc


def stop(proc):
    proc.kill()
    proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()

