"""Issue 21 item 11: the temporary logs of --check and --serve are the operator's alone. The
private Apache keeps them in a folder only its owner may enter (0700), as files only its owner
may read (0600): what requests carried (a reset token in a query string) and the application's
tracebacks are not for every local user. Proven with `tgdeploy --serve` on a CherryPy project,
served by a real Apache and mod_wsgi, looked at while it serves."""
import os
import re
import shutil
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.request

from conftest import FIXTURES, LAB
from support.httpd import DEBIAN_WSGI
from support.projects import make_apache_tree

PY3 = LAB / 'py3'


def mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def files_holding(folder, text, timeout=10):
    """The files below ``folder`` that hold ``text``, once there are any (Apache writes its
    access log after the answer, rotatelogs a moment later)."""
    deadline = time.time() + timeout
    while True:
        found = []
        for dirpath, dirnames, filenames in os.walk(folder):
            found += [os.path.join(dirpath, n) for n in filenames
                      if text in open(os.path.join(dirpath, n), errors='replace').read()]
        if found or time.time() > deadline:
            return found
        time.sleep(0.1)


def test_private_apache_logs_are_private(apache_factory):
    apache = apache_factory([])
    apache.start(wait_for=None)
    apache.get('/?token=secret-reset-token')
    assert mode(apache.log_dir) == 0o700
    assert os.path.dirname(apache.log_dir) == apache.root
    for name in ('error.log', 'access.log'):
        assert mode(os.path.join(apache.root, name)) == 0o600, name
    assert files_holding(apache.root, 'secret-reset-token') == [
        os.path.join(apache.root, 'access.log')]


def test_serve_keeps_its_logs_private(www_tmp):
    project = www_tmp / 'cherryapp'
    shutil.copytree(str(FIXTURES / 'cherryapp'), str(project))
    tree = make_apache_tree(www_tmp / 'etc-apache2', DEBIAN_WSGI)
    proc = subprocess.Popen([str(PY3 / 'bin' / 'tgdeploy'), '--serve', '--mount', '/cp',
                             '--python-home', str(PY3), '--apache-root', str(tree),
                             '--server-name', 'logs.test'],
                            cwd=str(project), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        url = log = None
        seen = []
        deadline = time.time() + 90
        while url is None and time.time() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            seen.append(line)
            match = re.match(r'Serving (http://127\.0\.0\.1:\d+/cp) .*\(Ctrl-C stops it; '
                             r'log: (\S+)\)', line)
            url, log = match.groups() if match else (None, None)
        assert url, ''.join(seen)
        request = urllib.request.Request(url + '/about?token=secret-reset-token',
                                         headers={'Host': 'logs.test:%s' % url.split(':')[2]
                                                  .split('/')[0]})
        try:  # whatever the application answers: the request is in the logs
            urllib.request.urlopen(request, timeout=30).close()
        except urllib.error.HTTPError:
            pass
        folder = os.path.dirname(log)
        logs = os.path.join(folder, 'logs')
        assert mode(logs) == 0o700
        # Everything below the logs folder (the virtual host's own logs, rotatelogs' files)
        # is out of others' reach; the server's own are 0600 too.
        assert files_holding(logs, 'secret-reset-token')
        for name in ('error.log', 'access.log'):
            assert mode(os.path.join(folder, name)) == 0o600
        # The config rendered for the private ports holds the deployment's secrets: 0700 too.
        assert mode(os.path.join(folder, 'conf')) == 0o700
        others = [n for n in os.listdir(folder) if n.endswith(('.log', '.ini'))]
        assert sorted(others) == ['access.log', 'error.log'], others
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert not os.path.exists(folder)
