"""A private Apache httpd for tests: its own config, pid file and logs, on 127.0.0.1.

It loads Debian's modules by absolute path and includes the config tgdeploy generated,
exactly as an operator's Apache would. Every start is paired with a stop; stop() waits
until the parent process is gone and returns how long that took.
"""
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

APACHE = '/usr/sbin/apache2'
MODULES_DIR = '/usr/lib/apache2/modules'
DEBIAN_WSGI = os.path.join(MODULES_DIR, 'mod_wsgi.so')
BASE_MODULES = ('mpm_event', 'authz_core', 'authz_host', 'authn_core', 'alias', 'mime', 'dir',
                'access_compat')

MAIN_CONFIG = """\
# Test Apache written by tests/support/httpd.py
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {root}/httpd.pid
DefaultRuntimeDir {root}
ErrorLog {root}/error.log
LogLevel {log_level}
LogFormat "%h %l %u %t \\"%r\\" %>s %b %D" timed
CustomLog {root}/access.log timed
User www-data
Group www-data
TypesConfig /etc/mime.types
StartServers 1
{modules}
LoadModule wsgi_module {wsgi_module}
WSGISocketPrefix {root}/wsgi
{extra}
<Directory />
    AllowOverride None
    Require all denied
</Directory>
{includes}
"""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Apache(object):
    """One private httpd. ``root`` must be a folder www-data can traverse."""

    def __init__(self, root, includes, wsgi_module=DEBIAN_WSGI, extra='', log_level='info'):
        self.root = root
        self.port = free_port()
        self.includes = list(includes)
        self.wsgi_module = wsgi_module
        self.extra = extra
        self.log_level = log_level
        self.config = os.path.join(root, 'httpd.conf')
        self.pid_file = os.path.join(root, 'httpd.pid')
        self.error_log_path = os.path.join(root, 'error.log')
        self.write_config()

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def write_config(self):
        modules = '\n'.join('LoadModule %s_module %s/mod_%s.so' % (m, MODULES_DIR, m)
                            for m in BASE_MODULES)
        includes = '\n'.join('Include %s' % path for path in self.includes)
        with open(self.config, 'w') as f:
            f.write(MAIN_CONFIG.format(port=self.port, root=self.root, modules=modules,
                                       wsgi_module=self.wsgi_module, extra=self.extra,
                                       includes=includes, log_level=self.log_level))

    def apachectl(self, *args, check=True):
        proc = subprocess.run([APACHE, '-f', self.config] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError('apache2 %s failed (%d):\n%s\n%s' % (
                ' '.join(args), proc.returncode, proc.stdout, self.error_log()))
        return proc

    def configtest(self):
        return self.apachectl('-t', check=False)

    def start(self, wait_for='/', timeout=30):
        self.apachectl('-k', 'start')
        self.wait_until_listening(timeout)
        if wait_for is not None:
            return self.wait_for_answer(wait_for, timeout)

    def wait_until_listening(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                socket.create_connection(('127.0.0.1', self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError('Apache did not listen on %d in %ss:\n%s'
                             % (self.port, timeout, self.error_log()))

    def wait_for_answer(self, path, timeout):
        """First response to ``path`` (any status), retried while the connection fails."""
        deadline = time.time() + timeout
        while True:
            try:
                return self.get(path)
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def get(self, path, headers=None, timeout=30):
        """(status, headers, body text) of a GET, without following redirects."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=timeout) as response:
                return response.status, response.headers, response.read().decode('utf-8', 'replace')
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode('utf-8', 'replace')

    def pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def graceful(self):
        old_pid = self.pid()
        self.apachectl('-k', 'graceful')
        return old_pid

    def stop(self, timeout=60, graceful=False):
        """Stop Apache; return the seconds until its parent process was gone."""
        pid = self.pid()
        if pid is None or not process_alive(pid):
            return 0.0
        started = time.time()
        self.apachectl('-k', 'graceful-stop' if graceful else 'stop', check=False)
        while process_alive(pid):
            if time.time() - started > timeout:
                os.kill(pid, 9)
                raise AssertionError('Apache did not stop within %ss' % timeout)
            time.sleep(0.02)
        return time.time() - started

    def error_log(self):
        try:
            with open(self.error_log_path, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (already exited, not yet reaped by its parent) counts as gone.
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
