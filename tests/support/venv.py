"""Virtualenvs for deployed test projects, made the way an operator must make them."""
import os
import subprocess

# Debian's mod_wsgi is linked against the distribution's libpython (3.11 on Debian 12, 3.13 on
# Debian 13): python-home must be a venv made from this Python (FIELD-NOTES), not from the
# pyenv Python that may run the tests.
SYSTEM_PYTHON = '/usr/bin/python3'


class Venv(object):
    def __init__(self, prefix):
        self.prefix = str(prefix)

    def bin(self, name):
        return os.path.join(self.prefix, 'bin', name)

    @property
    def python(self):
        return self.bin('python')

    def create(self):
        run([SYSTEM_PYTHON, '-m', 'venv', self.prefix])
        return self

    def pip_install(self, *args):
        run([self.bin('pip'), 'install', '-q', '--disable-pip-version-check'] + list(args))


def run(args, cwd=None, env=None, check=True, timeout=600, input=None):
    """Run a command; on failure, raise with its whole output in the message."""
    proc = subprocess.run([str(a) for a in args], cwd=cwd and str(cwd), env=env, input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError('%s failed with %d\n--- stdout\n%s\n--- stderr\n%s' % (
            ' '.join(map(str, args)), proc.returncode, proc.stdout, proc.stderr))
    return proc
