"""A private Apache httpd on 127.0.0.1 (or another loopback address): the deployment's real
config, run without touching the system's Apache (for --check, --serve and the tests).

It loads the system's modules by absolute path, writes its pid file, logs and mod_wsgi
sockets under its own folder, and stops what it started: stop() waits until the parent
process is gone and returns how long that took.
"""
import copy
import glob
import io
import os
import socket
import ssl
import subprocess
import time

from paste.util.template import paste_script_template_renderer

from tgdeploy import __version__
from tgdeploy._compat import HTTPConnection, HTTPSConnection
from tgdeploy.errors import TgDeployError
from tgdeploy.write.render import template_dir

LAYOUTS = (  # (binary, modules folder): Debian, then RHEL
    ('/usr/sbin/apache2', '/usr/lib/apache2/modules'),
    ('/usr/sbin/httpd', '/usr/lib64/httpd/modules'),
)
# mod_filter and mod_deflate for --compress, mod_headers for --static-max-age and HSTS,
# mod_rewrite for the files added to TurboGears 2's public/ later.
MODULES = ('mpm_event', 'authz_core', 'authz_host', 'authn_core', 'alias', 'mime', 'dir',
           'access_compat', 'filter', 'deflate', 'headers', 'rewrite')
# With an HTTPS port: mod_ssl and its session cache (as Debian's ssl.conf sets it up),
# mod_md (ACME; mod_watchdog, which it needs, is built into httpd).
TLS_MODULES = ('socache_shmcb', 'ssl', 'md')


def find_apache():
    for binary, modules_dir in LAYOUTS:
        if os.path.exists(binary):
            return binary, modules_dir
    raise TgDeployError('no Apache httpd found (%s): install apache2 (Debian) or httpd (RHEL)'
                        % ', '.join(binary for binary, _ in LAYOUTS))


def free_port():
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


class PrivateApache(object):
    """One httpd around ``includes``. ``root`` must be a folder ``user`` can traverse."""

    scheme = 'http'

    def __init__(self, root, includes, wsgi_module, port=None, extra='', log_level='info',
                 user='www-data', group='www-data', document_root=None, https_port=None,
                 address='127.0.0.1'):
        self.binary, modules_dir = find_apache()
        self.root = root
        # Another loopback address (127.0.0.2...) stands for another host (tests/test_balancer.py).
        self.address = address
        self.port = port or free_port()
        self.http_port = self.port
        self.https_port = https_port
        self.config = os.path.join(root, 'httpd.conf')
        self.pid_file = os.path.join(root, 'httpd.pid')
        # The logs may hold what requests carried (tokens in query strings) and the
        # application's tracebacks: for the one who ran the check (issue 21). The server's
        # own are files only the owner reads, the virtual hosts' (${APACHE_LOG_DIR}, where
        # rotatelogs makes files of its own) are in a folder only the owner enters; the
        # folder above stays open to the daemon user, who must reach its sockets.
        self.log_dir = private_folder(os.path.join(root, 'logs'))
        self.error_log_path = os.path.join(root, 'error.log')
        for name in ('error.log', 'access.log'):
            private_file(os.path.join(root, name))
        self.started = False  # a start was issued and no stop has seen the parent gone
        values = dict(tgdeploy_version=__version__, root=root, log_dir=self.log_dir,
                      port=self.port,
                      log_level=log_level, user=user, group=group,
                      modules=MODULES + (TLS_MODULES if https_port else ()),
                      https_port=https_port, modules_dir=modules_dir, wsgi_module=wsgi_module,
                      address=address,
                      includes=list(includes), extra=extra, document_root=document_root)
        path = os.path.join(template_dir('private_apache'), 'httpd.conf_tmpl')
        with io.open(path, encoding='utf-8') as f:
            text = paste_script_template_renderer(f.read(), values, filename=path)
        with io.open(self.config, 'w', encoding='utf-8') as f:
            f.write(text)

    @property
    def url(self):
        return '%s://%s:%d' % (self.scheme, self.address, self.port)

    def over_https(self):
        """The same Apache, its get() and url on the HTTPS port. The certificate is not
        verified there (a loopback check of our own config; tests verify with curl)."""
        view = copy.copy(self)
        view.scheme, view.port = 'https', self.https_port
        return view

    def apachectl(self, *args):
        """(exit code, output) of the httpd binary run on this config."""
        proc = subprocess.Popen([self.binary, '-f', self.config] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = proc.communicate()[0].decode('utf-8', 'replace')
        return proc.returncode, out

    def configtest(self):
        return self.apachectl('-t')

    def start(self, timeout=30):
        self.started = True  # before the command: an interrupt during it still gets a stop()
        code, out = self.apachectl('-k', 'start')
        if code != 0:
            self.started = False
            raise TgDeployError('Apache did not start: %s' % ' '.join(out.split()))
        deadline = time.time() + timeout
        # Apache listens before it writes its pid file: wait for both, so that whoever stops
        # it once it is "started" finds the pid to stop.
        while not (self.listening() and self.pid()):
            if time.time() > deadline:
                raise TgDeployError('Apache did not listen on %s:%d within %ds: see %s'
                                    % (self.address, self.port, timeout, self.error_log_path))
            time.sleep(0.05)

    def listening(self):
        try:
            socket.create_connection((self.address, self.port), 0.5).close()
            return True
        except (IOError, OSError):
            return False

    def get(self, path, host=None, timeout=30):
        """(status, headers dict, body text) of one GET, redirects not followed."""
        connection = self.connection(host, timeout)
        try:
            connection.request('GET', path, headers={'Host': host or '%s:%d' % (self.address, self.port)})
            response = connection.getresponse()
            body = response.read().decode('utf-8', 'replace')
            return response.status, dict(response.getheaders()), body
        finally:
            connection.close()

    def connection(self, host, timeout):
        if self.scheme == 'http':
            return HTTPConnection(self.address, self.port, timeout=timeout)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return HTTPSConnection(self.address, self.port, timeout=timeout, context=context)

    def served_certificate(self):
        """The certificate the HTTPS port presents, in DER."""
        connection = self.over_https().connection(None, 10)
        try:
            connection.connect()
            return connection.sock.getpeercert(binary_form=True)
        finally:
            connection.close()

    def wait_for_answer(self, path, timeout=30, host=None):
        """The first response to ``path``, retried while connections fail."""
        deadline = time.time() + timeout
        while True:
            try:
                return self.get(path, host=host)
            except (IOError, OSError):
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip())
        except (IOError, OSError, ValueError):
            return None

    def wait_for_pid(self, timeout):
        deadline = time.time() + timeout
        while self.pid() is None and time.time() < deadline:
            time.sleep(0.05)
        return self.pid()

    def graceful(self):
        return self.apachectl('-k', 'graceful')

    def stop(self, timeout=60, graceful=False):
        """Stop Apache; return the seconds until its parent process was gone."""
        # Stopped in the middle of start(), the pid file may be a moment away.
        pid = self.wait_for_pid(5) if self.started else self.pid()
        self.started = False
        if pid is None or not process_alive(pid):
            return 0.0
        started = time.time()
        self.apachectl('-k', 'graceful-stop' if graceful else 'stop')
        while process_alive(pid):
            if time.time() - started > timeout:
                os.kill(pid, 9)
                raise TgDeployError('Apache did not stop within %ds' % timeout)
            time.sleep(0.02)
        return time.time() - started

    def error_log(self):
        """The server's error log, then those of the virtual hosts, which write their own
        into ${APACHE_LOG_DIR}, the logs folder (each only grows, so offsets into the text stay
        valid as long as the set of files does)."""
        text = []
        for path in [self.error_log_path] + sorted(glob.glob(os.path.join(self.log_dir,
                                                                          '*-error.log'))):
            try:
                with open(path, 'rb') as f:
                    text.append(f.read().decode('utf-8', 'replace'))
            except (IOError, OSError):
                continue
        return ''.join(text)


def private_folder(path):
    """``path``, a folder only its owner may enter (0700)."""
    if not os.path.isdir(path):
        os.mkdir(path, 0o700)
    os.chmod(path, 0o700)
    return path


def private_file(path):
    """An empty file at ``path`` only its owner may read (0600), for Apache to append to."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600))
    os.chmod(path, 0o600)


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except (IOError, OSError):
        return False
