"""`paster tgdeploy --check` / `--doctor` / `--serve` on a real deployment (the CherryPy app in
its deploy virtualenv), and on each way such a deployment breaks. The Apache config trees
the doctor reads are small test trees in Debian's and RHEL's layouts."""
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

from conftest import LAB, paster
from support.httpd import DEBIAN_WSGI
from support.venv import SYSTEM_PYTHON, run
from support.projects import make_apache_tree, write
from tgdeploy.serve.private_apache import process_alive

MOD_WSGI_27 = LAB / 'py27' / 'mod_wsgi-py27.so'


@pytest.fixture
def apache_tree(www_tmp):
    """An /etc/apache2-like tree that loads Debian's mod_wsgi and the modules the generated
    README has an operator enable (a2enmod ...)."""
    return make_apache_tree(www_tmp / 'etc-apache2', DEBIAN_WSGI)


@pytest.fixture
def site(cherry_project, deploy_venv):
    """The CherryPy project with its data folder owned by the daemon user."""
    data = cherry_project / 'data'
    data.mkdir(exist_ok=True)
    run(['chown', 'www-data:www-data', data])
    yield cherry_project
    cherry_project.chmod(0o755)


def tgdeploy(venv, project, tree, *args):
    """A deployment with error reports configured, so that a good one has no warning."""
    return paster(venv, 'tgdeploy', '--mount', '/cp', '--apache-root', tree,
                  '--error-email', 'ops@example.org', *args, cwd=project, check=False)


def test_check_passes_on_a_good_deployment(site, deploy_venv, apache_tree):
    proc = tgdeploy(deploy_venv, site, apache_tree, '--check')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert 'check: /usr/sbin/apache2 -t: Syntax OK' in out
    assert re.search(r'check: GET /cp/ -> 200 in [\d.]+ s', out), out
    assert re.search(r'check: GET /cp/static/style.css -> 200 in [\d.]+ s', out), out
    assert 'tgdeploy: 0 error(s), 0 warning(s)' in out
    assert not [p for p in os.listdir('/tmp') if p.startswith('tgdeploy-check-')]


def test_no_error_reports_is_a_warning(site, deploy_venv, apache_tree):
    proc = paster(deploy_venv, 'tgdeploy', '--mount', '/cp', '--apache-root', apache_tree,
                  '--check', cwd=site, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'warning: no error reports are configured: a 500 reaches no one but Apache\'s ' \
           'error log; pass --error-email ADDRESS' in proc.stdout


def test_doctor_writes_nothing(site, deploy_venv, apache_tree):
    before = sorted(os.listdir(str(site / 'apache'))) if (site / 'apache').exists() else None
    proc = tgdeploy(deploy_venv, site, apache_tree, '--doctor', '--output-dir',
                    site / 'not-written')
    assert not (site / 'not-written').exists()
    assert proc.returncode == 3  # its .wsgi does not exist: "will not work"
    assert (sorted(os.listdir(str(site / 'apache'))) if before is not None else None) == before


def system_minor():
    """The distribution's Python, '3.11' (Debian 12) or '3.13' (Debian 13): the deploy
    virtualenv's, and the one Debian's mod_wsgi links."""
    return run([SYSTEM_PYTHON, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])']
               ).stdout.strip()


def test_wrong_python(site, deploy_venv, apache_tree):
    """mod_wsgi built for Python 2.7 in front of a virtualenv of the distribution's Python 3."""
    write(apache_tree / 'mods-enabled' / 'wsgi.load', 'LoadModule wsgi_module %s\n' % MOD_WSGI_27)
    proc = tgdeploy(deploy_venv, site, apache_tree, '--check')
    assert proc.returncode == 3
    assert 'error: %s is built for Python 2.7 but the virtualenv %s is Python %s: make the ' \
           'virtualenv with python2.7 -m venv' % (MOD_WSGI_27, deploy_venv.prefix,
                                                  system_minor()) in proc.stdout


def test_virtualenv_from_another_python_build(site, deploy_venv, apache_tree, www_tmp):
    """Same version, other build: a venv from the pyenv Python on PATH, or else from the
    pythons lab's copy of pyenv's (a fresh Debian 13 has no pyenv on PATH), which Debian's
    mod_wsgi is not."""
    minor = system_minor()
    python = 'python3'
    other = run([python, '-c', 'import sys; print(sys.base_prefix)']).stdout.strip()
    if os.path.realpath(other) == '/usr':
        python = str(LAB / 'pythons' / minor / 'python' / 'bin' / ('python' + minor))
        if not os.path.exists(python):
            pytest.fail('this test needs a python3 other than /usr/bin/python3 on PATH (pyenv '
                        'here) or %s: run scripts/provision-pythons (scripts/test does)' % python)
        other = run([python, '-c', 'import sys; print(sys.base_prefix)']).stdout.strip()
    venv = www_tmp / 'pyenv-venv'
    run([python, '-m', 'venv', '--without-pip', venv])
    proc = tgdeploy(deploy_venv, site, apache_tree, '--doctor', '--python-home', venv)
    assert proc.returncode == 3
    assert 'error: the virtualenv %s was made from the Python in %s, but %s embeds the one in ' \
           '/usr: make the virtualenv with /usr/bin/python%s -m venv' % (
               venv, os.path.realpath(other), DEBIAN_WSGI, minor) in proc.stdout


@pytest.fixture
def awkward_statics(site):
    """Static files that sort before style.css and Apache will not serve as named: a symlink
    (Options None: 403), a file in a symlinked folder, a file www-data cannot read, a name
    that needs URL quoting, a dot file. Removed afterwards: the project is shared."""
    static = site / 'cherryapp' / 'static'
    made = [static / 'a-link.css', static / 'a-linked-dir', static / 'aa-secret.css',
            static / 'a b.css', static / '.hidden.css']
    made[0].symlink_to(static / 'style.css')
    made[1].symlink_to(site / 'cherryapp')  # holds __init__.py, which sorts first
    write(made[2], 'secret {}\n').chmod(0o600)
    write(made[3], 'spaced {}\n')
    write(made[4], 'hidden {}\n')
    yield static
    for path in made:
        path.unlink()


def test_check_probes_a_static_file_apache_serves(site, deploy_venv, apache_tree,
                                                  awkward_statics):
    proc = tgdeploy(deploy_venv, site, apache_tree, '--check')
    assert re.search(r'check: GET /cp/static/style.css -> 200 in [\d.]+ s', proc.stdout), \
        proc.stdout
    assert proc.returncode == 0, proc.stdout
    # The root, the links its page shows, one file under the one static alias.
    assert re.findall(r'check: GET (\S+) ->', proc.stdout) == [
        '/cp/', '/cp/about', '/cp/static/style.css'], proc.stdout


def test_unreadable_project(site, deploy_venv, apache_tree):
    site.chmod(0o700)
    proc = tgdeploy(deploy_venv, site, apache_tree, '--check')
    assert proc.returncode == 3
    assert 'error: www-data cannot read %s (not readable for it): chmod o+rx %s' % (
        site, site) in proc.stdout
    assert proc.stdout.count('cannot read') == 1  # one finding for the one folder in the way
    assert re.search(r'check: GET /cp/ -> (403|404|500|503) in', proc.stdout), proc.stdout


def test_data_folder_the_daemon_cannot_write(site, deploy_venv, apache_tree):
    run(['chown', 'root:root', site / 'data'])
    proc = tgdeploy(deploy_venv, site, apache_tree, '--doctor')
    assert proc.returncode == 3
    assert 'error: www-data cannot write %s/data (not writable for it): chown -R ' \
           'www-data:www-data %s/data' % (site, site) in proc.stdout


def test_duplicate_daemon_name(site, deploy_venv, apache_tree):
    write(apache_tree / 'sites-enabled' / 'old.conf',
          'WSGIDaemonProcess cherryapp-cp threads=5\n')
    proc = tgdeploy(deploy_venv, site, apache_tree, '--check')
    assert proc.returncode == 3
    assert 'error: the daemon process name cherryapp-cp is already used in %s/sites-enabled/' \
           'old.conf' % apache_tree in proc.stdout


def test_shorter_mount_read_first(site, deploy_venv, apache_tree):
    write(apache_tree / 'conf-enabled' / '000-root.conf',
          'WSGIScriptAlias / /srv/root/app.wsgi process-group=root\n')
    proc = tgdeploy(deploy_venv, site, apache_tree, '--check')
    assert proc.returncode == 3
    assert 'error: WSGIScriptAlias / in %s/conf-enabled/000-root.conf comes before /cp' % (
        apache_tree) in proc.stdout
    assert 'every /cp page would be a 404' in proc.stdout


def test_longer_mount_read_first_is_fine(site, deploy_venv, apache_tree):
    write(apache_tree / 'conf-enabled' / 'zzz-root.conf', 'WSGIScriptAlias / /srv/root/app.wsgi\n')
    assert tgdeploy(deploy_venv, site, apache_tree, '--doctor').returncode == 0


def test_another_application_at_the_same_mount(site, deploy_venv, apache_tree):
    old = write(apache_tree / 'conf-enabled' / 'old.conf', 'WSGIScriptAlias /cp/ /srv/old.wsgi\n')
    proc = tgdeploy(deploy_venv, site, apache_tree, '--check')
    assert proc.returncode == 3
    assert 'error: %s mounts another application at /cp too (WSGIScriptAlias): Apache serves ' \
           'only the one it reads first' % old in proc.stdout


def test_project_under_a_document_root(site, deploy_venv, apache_tree):
    default = write(apache_tree / 'sites-enabled' / '000-default.conf',
                    '<VirtualHost *:80>\n    DocumentRoot "%s"\n</VirtualHost>\n' % site.parent)
    proc = tgdeploy(deploy_venv, site, apache_tree, '--check')
    assert proc.returncode == 1, proc.stdout  # a warning: the generated config still works
    assert 'warning: the project folder %s lies under DocumentRoot %s (in %s): the generated ' \
           'config denies it, but move the project out of %s (for example to /srv/cherryapp)' \
           % (site, site.parent, default, site.parent) in proc.stdout
    assert proc.stdout.count(' lies under ') == 1  # not again for apache/ and data/
    assert re.search(r'check: GET /cp/ -> 200 in', proc.stdout), proc.stdout


def test_missing_locale(site, deploy_venv, apache_tree):
    proc = tgdeploy(deploy_venv, site, apache_tree, '--check', '--locale', 'xx_YY.UTF-8')
    assert proc.returncode == 1  # a warning: mod_wsgi falls back, with a log line
    assert 'warning: the locale xx_YY.UTF-8 is not installed here (locale -a)' in proc.stdout


def test_rhel_needs_a_socket_prefix(site, deploy_venv, www_tmp):
    tree = www_tmp / 'etc-httpd'
    write(tree / 'conf' / 'httpd.conf', 'ServerRoot /etc/httpd\n')
    # RHEL names modules relative to the ServerRoot, where modules/ links to the real folder.
    (tree / 'modules').symlink_to(os.path.dirname(DEBIAN_WSGI))
    write(tree / 'conf.modules.d' / '10-wsgi.conf', 'LoadModule wsgi_module modules/%s\n'
          % os.path.basename(DEBIAN_WSGI))
    write(tree / 'conf.modules.d' / '00-base.conf', ''.join(  # a few of RHEL's defaults
        'LoadModule %s_module modules/mod_%s.so\n' % (name, name)
        for name in ('alias', 'dir', 'mime', 'headers', 'rewrite', 'deflate', 'filter',
                     'reqtimeout')))
    proc = tgdeploy(deploy_venv, site, tree, '--doctor')
    assert proc.returncode == 3
    assert 'error: RHEL\'s Apache cannot create mod_wsgi daemon sockets' in proc.stdout
    assert 'no mod_wsgi module found' not in proc.stdout
    write(tree / 'conf.d' / 'wsgi-socket.conf', 'WSGISocketPrefix run/wsgi\n')
    proc = tgdeploy(deploy_venv, site, tree, '--doctor')
    # Left: RHEL's own defaults (no ServerTokens, TraceEnable On), which the doctor names.
    assert proc.returncode == 1, proc.stdout
    assert 'tgdeploy: 0 error(s), 2 warning(s)' in proc.stdout, proc.stdout
    assert 'TGD-W041' in proc.stdout and 'TGD-W043' in proc.stdout, proc.stdout


def test_serve_until_interrupted(site, deploy_venv, apache_tree):
    proc = subprocess.Popen([deploy_venv.bin('paster'), 'tgdeploy', '--serve', '--mount', '/cp',
                             '--apache-root', str(apache_tree)], cwd=str(site),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        deadline = time.time() + 60
        while url is None and time.time() < deadline:
            line = proc.stdout.readline()
            match = re.match(r'Serving (http://127\.0\.0\.1:\d+/cp) ', line)
            url = match and match.group(1)
        assert url, 'no "Serving" line'
        with urllib.request.urlopen(url + '/about', timeout=30) as response:
            assert response.read() == b'about cherryapp'
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert 'Stopping' in out
    with pytest.raises(OSError):
        urllib.request.urlopen(url + '/about', timeout=5)


def test_a_private_apache_stopped_right_after_start_is_gone(apache_factory):
    """Apache listens before it writes its pid file: start() waits for both, else a stop
    that comes at once (a signal during --serve's start) finds no pid and leaves it up."""
    for _ in range(3):
        apache = apache_factory([])
        apache.start(wait_for=None)
        pid = apache.pid()
        assert pid and process_alive(pid)
        apache.stop()
        assert not process_alive(pid)


def read_serving_line(proc, timeout=60):
    """The URL and private Apache folder of a --serve run's "Serving" line, once it is up."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        match = re.match(r'Serving (http://127\.0\.0\.1:\d+/cp) .*log: (/tmp/tgdeploy-check-'
                         r'[^/]+)/error\.log\)', line)
        if match:
            return match.group(1), match.group(2)
        assert line, 'no "Serving" line'
    raise AssertionError('no "Serving" line within %ds' % timeout)


@pytest.mark.parametrize('signame', ['SIGTERM', 'SIGHUP'])
def test_serve_stops_on_a_stop_signal_as_on_ctrl_c(site, deploy_venv, apache_tree, signame):
    """A service manager's stop (SIGTERM) or a closed terminal (SIGHUP): Apache stopped, its
    folder removed, exit code 0, as for Ctrl-C."""
    proc = subprocess.Popen([deploy_venv.bin('paster'), 'tgdeploy', '--serve', '--mount', '/cp',
                             '--apache-root', str(apache_tree)], cwd=str(site),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED='1'))
    folder = None
    try:
        url, folder = read_serving_line(proc)
        pid = read_pid(folder)  # there once "Serving" is printed: start() waits for it
        assert process_alive(pid)
        with urllib.request.urlopen(url + '/about', timeout=30) as response:
            assert response.read() == b'about cherryapp'
        started = time.time()
        proc.send_signal(getattr(signal, signame))
        out = proc.communicate(timeout=60)[0]
        took = time.time() - started
    finally:
        stop_leftovers(proc, folder)
    assert proc.returncode == 0, out
    assert 'Stopping' in out and 'Traceback' not in out, out
    assert took < 30, took
    assert not process_alive(pid)
    assert not os.path.exists(folder)


def read_pid(folder):
    with open(os.path.join(folder, 'httpd.pid')) as f:
        return int(f.read())


def stop_leftovers(proc, folder):
    """After a failed assertion: Ctrl-C for paster, then SIGTERM for an Apache still up."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    if folder and os.path.exists(os.path.join(folder, 'httpd.pid')):
        pid = read_pid(folder)
        if process_alive(pid):
            os.kill(pid, signal.SIGTERM)


LINKED_APP = '''import cherrypy


class Root(object):
    @cherrypy.expose
    def index(self):
        raise cherrypy.HTTPRedirect(cherrypy.url('/home'))

    @cherrypy.expose
    def home(self):
        return ('<a href="%s">ok</a> <a href="broken">broken</a> <a href="broken">again</a> '
                '<a href="http://example.org/x">away</a> <a href="mailto:a@example.org">m</a> '
                '<a href="/elsewhere">outside the mount</a> <a href="%s">start</a> '
                '<form method="POST" action="post-only"></form> <FORM ACTION="search"></FORM>'
                % (cherrypy.url('/ok'), cherrypy.url('/')))

    @cherrypy.expose
    def search(self):
        return 'found'

    @cherrypy.expose
    def ok(self):
        return 'ok'

    @cherrypy.expose
    def broken(self):
        raise RuntimeError('crawl test: broken')
'''


def test_check_crawls_the_landing_page(deploy_venv, apache_tree, www_tmp):
    """The root's redirect is followed; every same-origin link under the mount is requested
    once (the start page and a form that posts are not); a failing one is an error, shown
    with the error-log lines it caused."""
    project = www_tmp / 'linked'
    write(project / 'setup.py', 'from setuptools import setup\nsetup(name="linked")\n')
    write(project / 'linked' / '__init__.py')
    write(project / 'linked' / 'app.py', LINKED_APP)
    proc = paster(deploy_venv, 'tgdeploy', '--mount', '/l', '--apache-root', apache_tree,
                  '--check', cwd=project, check=False)
    out = proc.stdout
    assert proc.returncode == 3, out + proc.stderr
    requested = re.findall(r'check: GET (\S+) -> (\d+)', out)
    assert requested == [('/l/', '303'), ('/l/home', '200'), ('/l/ok', '200'),
                         ('/l/broken', '500'), ('/l/search', '200')], out
    assert 'error: GET /l/broken answered 500' in out
    assert re.search(r'  \| .*crawl test: broken', out), out
