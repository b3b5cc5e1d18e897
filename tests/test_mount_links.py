"""Framework links under the mount (issue 20, item 2), TurboGears 2, end to end.

A `gearbox quickstart` project with ToscaWidgets 2 (tgext.tw2, a tw2.forms form whose
stylesheet the tw2 middleware injects) and webassets (tgext.webassets, a bundle built at run
time into public/assets/) switched on as a real application does (tests/fixtures/links_tg2),
deployed by `paster tgdeploy` at / and at /sub, README step 2 run as written, served by a
real Apache (with mod_substitute, README step 3): every local link of the page carries the
mount and every asset answers 200.
Before: at /sub the page linked /tw2/resources/... and /assets/js_all.js (404), and the
page itself was a 500 since webassets could not write in public/ (the daemon user may not).
The application also writes uploads into the folder its ini names beside itself
(upload_dir = %(here)s/uploads): the derived ini moves it into the data folder.
ToscaWidgets 2 registers a resource when the widget class is defined, and TurboGears 2
imports the root controller (where the fixture's form is defined) at its first request:
a process that had not served a page answered 404 for the stylesheet of a page another
process rendered; the .wsgi now imports the root controller in each process after loadapp.
The project is deployed with --startup: README step 2's `gearbox setup-app` refused the
ini while its [app:main] had `filter-with = startup` ("not the application (probably a
filter)"); the start-up runs once per process under Apache (the .wsgi) and under gunicorn
(the ini's [pipeline:serve]).
"""
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import paster
from support.corpus import readme_step
from support.httpd import free_port
from support.sites import quickstart_tg2
from support.venv import run
from test_hosts import serve

FIXTURE = Path(__file__).parent / 'fixtures' / 'links_tg2'
PACKAGES = ('tw2.core==2.3.0', 'tw2.forms==2.2.6', 'tgext.tw2==0.1', 'webassets==3.0.0',
            'tgext.webassets==0.0.2')
TIMEOUT = 60
MODULES = '/usr/lib/apache2/modules'
STARTUP = 'linksapp.boot:start'


@pytest.fixture(scope='module')
def links_project(www_root, deploy_venv):
    deploy_venv.pip_install(*PACKAGES)
    src = www_root / 'links-src'
    src.mkdir(exist_ok=True)
    src.chmod(0o755)
    project = Path(quickstart_tg2(deploy_venv, src, 'linksapp'))
    package = project / 'linksapp'
    with open(str(package / 'config' / 'app_cfg.py'), 'a') as f:
        f.write((FIXTURE / 'app_cfg_extra.py').read_text())
    with open(str(package / 'controllers' / 'root.py'), 'a') as f:
        f.write((FIXTURE / 'root_extra.py').read_text().replace('PACKAGE', 'linksapp'))
    shutil.copy(str(FIXTURE / 'templates' / 'widgets.xhtml'), str(package / 'templates'))
    shutil.copy(str(FIXTURE / 'boot.py'), str(package / 'boot.py'))
    shutil.copytree(str(FIXTURE / 'public' / 'javascript'), str(package / 'public' / 'javascript'))
    ini = project / 'development.ini'
    ini.write_text(ini.read_text().replace('[app:main]\n', '[app:main]\n'
                                           'upload_dir = %(here)s/uploads\n', 1))
    return project


def run_readme_step_2(project):
    for line in readme_step(str(project / 'apache' / 'README.txt'), 2):
        subprocess.run(['bash', '-c', line], check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)


def local_links(page):
    return sorted(set(link for link in re.findall(r'(?:href|src|action)="(/[^"]*)"', page)
                      if not link.startswith('//')))


@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_tw2_and_webassets_links_carry_the_mount(links_project, deploy_venv, apache_factory,
                                                 www_tmp, mount):
    project = links_project
    shutil.rmtree(str(project / 'linksapp' / 'public' / 'assets'), ignore_errors=True)
    shutil.rmtree(str(project / 'data'), ignore_errors=True)
    # What README step 3's `a2enmod ... substitute` loads (the tests' Apache loads a fixed set).
    substitute = www_tmp / 'substitute.load'
    substitute.write_text('LoadModule substitute_module %s/mod_substitute.so\n' % MODULES)
    apache = apache_factory([substitute, project / 'apache' / 'linksapp.conf'])
    marks = www_tmp / 'marks'
    marks.mkdir()
    shutil.chown(str(marks), 'www-data')
    # Two processes of one thread each, and the project's own start-up (--startup).
    paster(deploy_venv, 'tgdeploy', '-q', '--overwrite', '--mount', mount, '--server-name',
           '127.0.0.1', '--port', str(apache.port), '--processes', '2', '--threads', '1',
           '--startup', STARTUP, '--setenv', 'TGDEPLOY_BOOT_MARK=%s' % marks, cwd=project)
    readme = (project / 'apache' / 'README.txt').read_text()
    conf = (project / 'apache' / 'linksapp.conf').read_text()
    assert ('Substitute' in conf) == (mount != '/')
    assert 'install -d -o www-data -g www-data %s' % (
        project / 'linksapp' / 'public' / 'assets') in readme
    run_readme_step_2(project)  # gearbox setup-app, with --startup
    prefix = '' if mount == '/' else mount
    css = prefix + '/tw2/resources/tw2.forms/static/forms.css'
    # Fresh processes: the stylesheet before any page, then the page from one process
    # (it waits 2 s in its one thread) while the other, which has rendered nothing, serves
    # the stylesheet the page links.
    assert apache.start(css, timeout=TIMEOUT)[0] == 200, apache.error_log()[-3000:]
    with ThreadPoolExecutor(2) as pool:
        rendering = pool.submit(apache.get, prefix + '/widgets?wait=2', timeout=TIMEOUT)
        time.sleep(0.8)
        statuses = [apache.get(css, timeout=TIMEOUT)[0] for _ in range(3)]
        other = apache.get(prefix + '/pid', timeout=TIMEOUT)[2]
        status, _, page = rendering.result()
    assert statuses == [200] * 3, (statuses, apache.error_log()[-3000:])
    assert status == 200 and css in page, (status, apache.error_log()[-3000:])
    assert re.search(r'<span id="pid">(\d+)</span>', page).group(1) != other, other
    # The start-up ran once in each process (the .wsgi; the ini's [app:main] is not filtered).
    started = sorted(p.name for p in marks.iterdir())
    assert len(started) == 2 and all(name.endswith('-1') for name in started), started
    links = local_links(page)
    assert prefix + '/tw2/resources/tw2.forms/static/forms.css' in links, links
    assert [link for link in links if link.startswith(prefix + '/assets/js_all.js')], links
    assert all(link.startswith(prefix + '/') for link in links), links
    for link in links:
        if re.search(r'\.(css|js)(\?|$)', link):
            status, _, body = apache.get(link, timeout=TIMEOUT)
            assert status == 200, (link, status)
    bundle = next(link for link in links if '/assets/js_all.js' in link)
    assert 'var one = 1;' in apache.get(bundle)[2] and 'var two = 2;' in apache.get(bundle)[2]
    # The cache went to the data folder; nothing was written into public/ but the bundle.
    assert (project / 'data' / 'webassets-cache').is_dir()
    assert not (project / 'linksapp' / 'public' / '.webassets-cache').exists()
    # An upload folder beside the ini went to the data folder, where the daemon may write.
    assert apache.get(prefix + '/upload?name=a.txt')[:3:2] == (200, 'stored a.txt')
    assert (project / 'data' / 'uploads' / 'a.txt').read_text() == 'hello'
    doctor = paster(deploy_venv, 'tgdeploy', '--doctor', '--mount', mount, cwd=project,
                    check=False)
    assert 'where the application writes at run time' not in doctor.stdout, doctor.stdout
    apache.stop()
    assert 'Traceback' not in apache.error_log()


def test_doctor_names_a_runtime_folder_the_daemon_cannot_write(links_project, deploy_venv):
    project = links_project
    paster(deploy_venv, 'tgdeploy', '-q', '--overwrite', '--mount', '/sub', cwd=project)
    assets = project / 'linksapp' / 'public' / 'assets'
    shutil.rmtree(str(assets), ignore_errors=True)
    assets.mkdir()  # root's, mode 0755: www-data cannot write there
    try:
        doctor = paster(deploy_venv, 'tgdeploy', '--doctor', '--mount', '/sub', cwd=project,
                        check=False)
    finally:
        shutil.rmtree(str(assets), ignore_errors=True)
    assert 'error: www-data cannot write %s, where the application writes at run time ' \
           '(not writable for it): install -d -o www-data -g www-data %s' % (assets, assets) \
        in doctor.stdout, doctor.stdout



def test_startup_under_gunicorn_and_a_controller_error_at_load(links_project, deploy_venv,
                                                                 www_tmp):
    """Other hosts run --startup through the ini's [pipeline:serve] (its [app:main] stays
    what setup-app sets up), once in each worker. The .wsgi imports the root controller
    unguarded: an error in the project's controllers fails the load with its own traceback
    (what mod_wsgi logs), not a later 404."""
    project = links_project
    deploy_venv.pip_install('gunicorn')
    marks = www_tmp / 'marks'
    marks.mkdir()
    paster(deploy_venv, 'tgdeploy', '-q', '--overwrite', '--startup', STARTUP, cwd=project)
    ini = project / 'apache' / 'linksapp.ini'
    port = free_port()
    serve([deploy_venv.bin('gunicorn'), '--paste', '%s#serve' % ini, '-b',
           '127.0.0.1:%d' % port, '-w', '2', '--env', 'TGDEPLOY_BOOT_MARK=%s' % marks],
          project, 'http://127.0.0.1:%d/pid' % port, '')
    started = [p.name for p in marks.iterdir()]
    assert 1 <= len(started) <= 2 and all(name.endswith('-1') for name in started), started
    root = project / 'linksapp' / 'controllers' / 'root.py'
    text = root.read_text()
    root.write_text(text + '\nimport linksapp_no_such_module  # noqa\n')
    try:
        proc = run([deploy_venv.python, project / 'apache' / 'linksapp.wsgi'], cwd='/',
                   check=False)
    finally:
        root.write_text(text)
    assert proc.returncode == 1, proc.stderr
    assert 'import linksapp.controllers.root' in proc.stderr, proc.stderr
    assert "No module named 'linksapp_no_such_module'" in proc.stderr, proc.stderr
