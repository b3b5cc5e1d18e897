"""Framework links under the mount (issue 20, item 2), ToscaWidgets 1: a TurboGears 2.1
project (`paster quickstart` of the Python 2.7 lab's tg2-21 line, ToscaWidgets 0.9.12 and
tw.forms 0.9.9) with a page that injects a tw.forms stylesheet and script
(tests/fixtures/links_tw1), deployed by that line's `tgdeploy` at / and at /sub, README step 2
run as written, served by Apache with the mod_wsgi for Python 2.7 (one Apache per mount):
ToscaWidgets 1 links its resources from each request's SCRIPT_NAME, so they carry the
mount, are served from it, and need no rewrite (no mod_substitute block in the config).

Measured on the way: ToscaWidgets 1 registers a resource when the widget is made, at the
import of the module that defines it, and TurboGears 2.1 (Pylons) imports its controllers
at their first request: a daemon process that has not yet served a page answered the
resources of widgets defined in a controller 404 (the first four of thirty at once, two
processes). The .wsgi now imports the root controller's module in each process after
loadapp: with no --startup, every resource request into fresh processes (a new Apache at
each mount, two processes of one thread) is a 200.
With --startup, the derived ini's [app:main] had `filter-with = startup`, which this era's
`paster setup-app` refuses ("not the application (probably a filter)"): the fixture deploys
with --startup and runs README step 2 as written.
"""
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import LAB
from support.sites import PY27_ENV
from support.venv import Venv, run
from test_tg2_py27 import MOD_WSGI_27, deploy

FIXTURE = Path(__file__).parent / 'fixtures' / 'links_tw1'
LINE = 'tg2-21'
TIMEOUT = 60


@pytest.fixture(scope='module')
def tw1_site(www_root):
    venv = Venv(LAB / 'py27' / LINE)
    if not (os.path.exists(venv.bin('tgdeploy')) and MOD_WSGI_27.exists()):
        pytest.fail('the TurboGears 2 lab for Python 2.7 is missing (%s): run '
                    'scripts/provision-py27, then scripts/provision-tg2-py27' % venv.prefix)
    uninstall = [venv.bin('pip'), 'uninstall', '-q', '-y', 'tw1app']
    run(uninstall, env=PY27_ENV, check=False)
    parent = www_root / 'tw1'
    parent.mkdir(mode=0o755)
    run([venv.bin('paster'), 'quickstart', '-a', '-s', '--noinput', 'tw1app'], cwd=parent,
        input='', env=PY27_ENV)
    project = parent / 'tw1app'
    with open(str(project / 'tw1app' / 'controllers' / 'root.py'), 'a') as f:
        f.write((FIXTURE / 'root_extra.py').read_text())
    shutil.copy(str(FIXTURE / 'boot.py'), str(project / 'tw1app' / 'boot.py'))
    run([venv.bin('pip'), 'install', '-q', '--no-index', '-e', project], env=PY27_ENV)
    # README step 2 as written (data folder, tables: `paster setup-app` on the derived ini),
    # once, with --startup: this era's setup-app accepts the ini (no filter-with in [app:main]).
    deploy(LINE, venv, project, '--mount', '/sub', '--startup', 'tw1app.boot:start')
    ini = (project / 'apache' / 'tw1app.ini').read_text()
    app_main = ini[ini.index('[app:main]'):].split('\n[', 1)[0]
    assert 'filter-with' not in app_main and '[pipeline:serve]' in ini, ini
    assert (project / 'data' / 'tw1app.db').exists()
    yield venv, project
    run(uninstall, env=PY27_ENV, check=False)


@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_tw1_resources_are_linked_and_served_under_the_mount(tw1_site, apache_factory, mount):
    venv, project = tw1_site
    apache = apache_factory([project / 'apache' / 'tw1app.conf'], wsgi_module=str(MOD_WSGI_27))
    deploy(LINE, venv, project, '--mount', mount, '--server-name', '127.0.0.1', '--port',
           str(apache.port), '--processes', '2', '--threads', '1')
    assert 'Substitute' not in (project / 'apache' / 'tw1app.conf').read_text()
    wsgi = (project / 'apache' / 'tw1app.wsgi').read_text()
    assert '\n    import tw1app.controllers.root\n' in wsgi, wsgi  # after loadapp, each process
    prefix = '' if mount == '/' else mount
    base = prefix + '/toscawidgets/resources/tw.forms/static/'
    # Fresh daemon processes, before any page: the resources, from both processes (one
    # thread each, requests at once).
    assert apache.start(base + 'grid.css', timeout=TIMEOUT)[0] == 200
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: apache.get(base + 'calendar/calendar.js',
                                                      timeout=TIMEOUT)[0], range(12)))
    assert statuses == [200] * 12, statuses
    status, _, page = apache.get(prefix + '/widgets', timeout=TIMEOUT)
    assert status == 200, (status, apache.error_log()[-3000:])
    links = sorted(re.findall(r'(?:href|src)="(/[^"]*)"', page))
    assert links == [base + 'calendar/calendar.js', base + 'grid.css'], links
    for link in links:
        status, _, body = apache.get(link, timeout=TIMEOUT)
        assert status == 200 and body, (link, status)
    assert apache.get('/toscawidgets/resources/tw.forms/static/grid.css')[0] == 404 or \
        mount == '/'
    apache.stop()
    assert 'Traceback' not in apache.error_log()
