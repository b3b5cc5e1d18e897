"""TurboGears 2 on Python 2.7, end to end: each era that still installs on 2.7 (2.4.3 and
2.3.12 with `gearbox quickstart`, 2.2.2 and 2.1.5 on Pylons with `paster quickstart`, and
2.0.4 on Pylons 0.9.7 with the PEAK-Rules stand-in of tests/standins), its own
quickstart project deployed by the `tgdeploy` console script of that era's virtualenv
(scripts/provision-tg2-py27), README step 2 run as written, and served by Apache with the
mod_wsgi 4.9.4 built for Python 2.7 (scripts/provision-py27) at / and at /sub, in daemon
and embedded mode, where the login page and a real login of the quickstart's manager work;
the era's own front end (`gearbox tgdeploy`, `paster tgdeploy`) and `--check` in front of the
2.7 mod_wsgi; the generated README's steps for these projects (paster's setup-app for the
Pylons eras, a mod_wsgi built for Python 2.7).
"""
import html
import http.cookiejar
import os
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import LAB
from support.corpus import readme_step
from support.projects import make_apache_tree
from support.sites import PY27_ENV
from support.venv import Venv, run
from test_e2e_apache import STOP_BOUND, assert_clean_log, assert_served_by_apache

PY27 = LAB / 'py27'
MOD_WSGI_27 = PY27 / 'mod_wsgi-py27.so'
# The era's quickstart command, non-interactive: a SQLAlchemy project with authentication.
QUICKSTART = {
    'tg2-24': ['gearbox', 'quickstart', 'myapp'],
    'tg2-23': ['gearbox', 'quickstart', 'myapp'],
    'tg2-22': ['paster', 'quickstart', '-a', '-s', '--noinput', 'myapp'],
    'tg2-21': ['paster', 'quickstart', '-a', '-s', '--noinput', 'myapp'],
    'tg2-20': ['paster', 'quickstart', '-a', '-s', '--noinput', 'myapp'],
}
PASTER_ERAS = ('tg2-22', 'tg2-21', 'tg2-20')  # on Pylons: paster, no gearbox
# tg.devtools 2.0.4 (the only 2.0 on PyPI) ships its quickstart template without
# websetup/__init__.py and websetup/schema.py, so README step 2's `paster setup-app` finds no
# websetup and does nothing. After checking that it made no tables, the test runs what those
# two files do in the next Pylons era (tg.devtools 2.1.5's template): load the
# environment, create the model's tables, commit, then the quickstart's own
# websetup/bootstrap.py (the manager and its group), loaded from its file since websetup/ is
# no package. The application is not edited.
NO_WEBSETUP = ('tg2-20',)
REDIRECT_PREFIXES_TWICE = ('tg2-20',)  # see the failed login below
SCHEMA_AND_BOOTSTRAP = '''
import imp
import sys
import transaction
from paste.deploy import appconfig
from tg import config
from myapp.config.environment import load_environment
conf = appconfig('config:' + sys.argv[1])
load_environment(conf.global_conf, conf.local_conf)
from myapp import model
bootstrap = imp.load_source('bootstrap', 'myapp/websetup/bootstrap.py')  # not a package
model.metadata.create_all(bind=config['pylons.app_globals'].sa_engine)
transaction.commit()
bootstrap.bootstrap(None, conf, {})
'''


@pytest.fixture(scope='module', params=sorted(QUICKSTART))
def tg2_py27_site(request, www_root):
    """(line, venv, project): the era's own quickstart, installed into the lab's virtualenv."""
    line = request.param
    venv = Venv(PY27 / line)
    if not (os.path.exists(venv.bin('tgdeploy')) and MOD_WSGI_27.exists()):
        pytest.fail('the TurboGears 2 lab for Python 2.7 is missing (%s): run '
                    'scripts/provision-py27, then scripts/provision-tg2-py27' % venv.prefix)
    # The lab's virtualenv outlives the test: take out any project a previous run installed.
    uninstall = [venv.bin('pip'), 'uninstall', '-q', '-y', 'myapp']
    run(uninstall, env=PY27_ENV, check=False)
    parent = www_root / line
    parent.mkdir(mode=0o755)
    command = QUICKSTART[line]
    run([venv.bin(command[0])] + command[1:], cwd=parent, input='', env=PY27_ENV)
    project = parent / 'myapp'
    # Everything it requires is in the lab: no download here.
    run([venv.bin('pip'), 'install', '-q', '--no-index', '-e', project], env=PY27_ENV)
    yield line, venv, project
    run(uninstall, env=PY27_ENV, check=False)


def deploy(line, venv, project, *args):
    """The era's `tgdeploy`, then README.txt's step 2 as written (data folder, tables, owner)."""
    run([venv.bin('tgdeploy'), '-q', '--overwrite'] + list(args), cwd=project, env=PY27_ENV)
    if (project / 'data').exists():
        return
    for command in readme_step(str(project / 'apache' / 'README.txt'), 2):
        step = subprocess.run(['bash', '-c', command], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=PY27_ENV, timeout=300)
        assert step.returncode == 0, (command, step.stdout[-3000:])
        if line in NO_WEBSETUP and ' setup-app ' in command:
            assert not (project / 'myapp' / 'websetup' / '__init__.py').exists()
            assert not (project / 'data' / 'myapp.db').exists(), 'setup-app made tables'
            run([venv.bin('python'), '-c', SCHEMA_AND_BOOTSTRAP,
                 str(project / 'apache' / 'myapp.ini')], cwd=project, env=PY27_ENV)


class Browser(object):
    """urllib with cookies, following redirects; answers (status, final path, body)."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path, data=None):
        body = data and urllib.parse.urlencode(data).encode('ascii')
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as response:
                return (response.status, urllib.parse.urlparse(response.geturl()).path,
                        response.read().decode('utf-8'))
        except urllib.error.HTTPError as e:
            return e.code, urllib.parse.urlparse(e.geturl()).path, e.read().decode('utf-8')


@pytest.mark.parametrize('mode', ['daemon', 'embedded'])
@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_tg2_quickstart_on_python27(tg2_py27_site, apache_factory, mount, mode):
    line, venv, project = tg2_py27_site
    apache = apache_factory([project / 'apache' / 'myapp.conf'], wsgi_module=str(MOD_WSGI_27))
    deploy(line, venv, project, '--mount', mount, '--mode', mode, '--server-name', '127.0.0.1',
           '--port', str(apache.port))
    conf = (project / 'apache' / 'myapp.conf').read_text()
    assert venv.prefix in conf, conf  # python-home, or WSGIPythonHome when embedded
    prefix = '' if mount == '/' else mount
    status, _, page = apache.start(prefix + '/')
    assert status == 200, apache.error_log()[-3000:]
    # Every link of the welcome page carries the mount, and the stylesheet comes from Apache.
    links = set(re.findall(r'(?:href|src|action)="(/[^"]*)"', page))
    assert links and all(link.startswith(prefix + '/') for link in links), links
    assert prefix + '/css/style.css' in links, links
    assert_served_by_apache(apache, prefix + '/css/style.css',
                            project / 'myapp' / 'public' / 'css' / 'style.css')
    assert apache.get(prefix + '/no/such/page')[0] == 404
    assert apache.get(prefix + '/myapp.wsgi')[0] == 404  # the app's 404, not the file

    browser = Browser(apache.url)
    # A stranger asking for the managers' page lands on the login form, whose action
    # carries the mount; it is posted as a browser would, to that action (which carries
    # came_from in its query), with the form's hidden fields if any.
    status, path, page = browser.open(prefix + '/manage_permission_only')
    assert (status, path) == (200, prefix + '/login'), (status, path, page[:500])
    action = html.unescape(re.search(r'<form[^>]*\saction="([^"]*)"', page).group(1))
    assert action.startswith(prefix + '/login_handler'), action
    fields = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page))
    fields.update(login='manager', password='wrong')
    status, path, _ = browser.open(action, fields)
    if line in REDIRECT_PREFIXES_TWICE and prefix:
        # TurboGears 2.0.4's redirect() passes its argument through url() again, and the
        # quickstart's post_login redirects to url('/login', ...): at /sub a failed login
        # lands on /sub/sub/login, a 404 (fixed in 2.1). The era's own code; not a deployment's.
        assert (status, path) == (404, prefix + prefix + '/login')
    else:
        assert (status, path) == (200, prefix + '/login')
    assert not [c for c in browser.jar if c.name == 'authtkt']
    status, path, page = browser.open(action, dict(fields, password='managepass'))
    assert (status, path) == (200, prefix + '/manage_permission_only'), (status, path,
                                                                         page[:500])
    assert [c for c in browser.jar if c.name == 'authtkt']
    assert browser.open(prefix + '/manage_permission_only')[:2] == \
        (200, prefix + '/manage_permission_only')
    assert apache.stop() < STOP_BOUND
    assert_clean_log(apache)
    # Python 2.7 ran it: the daemon's interpreter is the era's virtualenv.
    assert 'Python/2.7' in apache.error_log(), apache.error_log()[-2000:]


# The era's own command line: gearbox for 2.3/2.4 (gearbox 0.2.2), paster for 2.0-2.2.
FRONT_END = {'tg2-24': 'gearbox', 'tg2-23': 'gearbox', 'tg2-22': 'paster', 'tg2-21': 'paster',
             'tg2-20': 'paster'}


def test_the_eras_own_front_end(tg2_py27_site):
    """`gearbox tgdeploy` (2.3, 2.4) or `paster tgdeploy` (2.0-2.2) writes the same deployment as
    the console script. (gearbox 0.2 answers `gearbox tgdeploy --help` with its own help;
    `gearbox help tgdeploy` shows the command's.)"""
    line, venv, project = tg2_py27_site
    tool = venv.bin(FRONT_END[line])
    conf = project / 'apache' / 'myapp.conf'
    run([venv.bin('tgdeploy'), '-q', '--overwrite', '--mount', '/sub'], cwd=project,
        env=PY27_ENV)
    expected = conf.read_text()
    conf.unlink()
    run([tool, 'tgdeploy', '-q', '--mount', '/sub'], cwd=project, env=PY27_ENV)
    assert conf.read_text() == expected
    assert 'WSGIScriptAlias /sub ' in expected and 'python-home="%s"' % venv.prefix in expected
    helped = run([tool, 'help', 'tgdeploy'], cwd=project, env=PY27_ENV).stdout
    assert 'tgdeploy' in helped and '--mount' in helped, helped


def test_check_in_front_of_the_python27_mod_wsgi(tg2_py27_site, www_tmp):
    """`tgdeploy --check` with an Apache tree that loads the 2.7 mod_wsgi: the doctor accepts
    the era's virtualenv for it, and its private Apache serves and crawls the project at /sub
    with no error."""
    line, venv, project = tg2_py27_site
    deploy(line, venv, project, '--mount', '/sub')  # the data folder and database
    tree = make_apache_tree(www_tmp / ('etc-apache2-' + line), MOD_WSGI_27)
    proc = run([venv.bin('tgdeploy'), '--mount', '/sub', '--apache-root', tree, '--check',
                '--overwrite'], cwd=project, env=PY27_ENV, check=False)
    assert 'check: GET /sub/ -> 200 in' in proc.stdout, proc.stdout
    assert 'check: GET /sub/login -> 200 in' in proc.stdout, proc.stdout
    # The one warning: no error reports configured (the test passes no --error-email).
    warnings = [l for l in proc.stdout.splitlines() if l.startswith('warning: ')]
    assert [w.startswith('warning: no error reports are configured') for w in warnings] == \
        [True], proc.stdout
    assert 'tgdeploy: 0 error(s), 1 warning(s)' in proc.stdout, proc.stdout
    assert proc.returncode == 1, proc.stdout + proc.stderr  # warnings only


def test_readme_step2_names_the_eras_setup_app(tg2_py27_site):
    """A 2.0/2.1/2.2 project (paster quickstart; no gearbox in its era) gets `paster setup-app`
    and no `pip install gearbox alembic` (alembic would pull SQLAlchemy 1.4 over the era's
    0.7); a 2.3/2.4 project gets gearbox's."""
    line, venv, project = tg2_py27_site
    run([venv.bin('tgdeploy'), '-q', '--overwrite', '--mount', '/sub'], cwd=project,
        env=PY27_ENV)
    step = ' '.join(readme_step(str(project / 'apache' / 'README.txt'), 2))
    ini = project / 'apache' / 'myapp.ini'
    if line in PASTER_ERAS:
        assert '%s setup-app %s' % (venv.bin('paster'), ini) in step, step
        assert 'gearbox' not in step, step
    else:
        assert '%s setup-app -c %s' % (venv.bin('gearbox'), ini) in step, step


def test_readme_names_a_mod_wsgi_for_python27(tg2_py27_site):
    """Steps 1 and 3 for a Python 2.7 virtualenv: build mod_wsgi 4.9.4 into it and load that,
    as for TurboGears 1, not Debian's libapache2-mod-wsgi-py3 (built for Python 3)."""
    line, venv, project = tg2_py27_site
    run([venv.bin('tgdeploy'), '-q', '--overwrite', '--mount', '/sub'], cwd=project,
        env=PY27_ENV)
    readme = (project / 'apache' / 'README.txt').read_text()
    assert 'install mod_wsgi==4.9.4' in readme, readme
    assert 'libapache2-mod-wsgi-py3' not in readme.split('4. ')[0].split('3. Enable it.')[1]
