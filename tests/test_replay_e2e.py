"""End to end: CherryPy 18 applications that keep their settings in their start script,
deployed by `paster tgdeploy` with no hand edit and served by a real Apache + mod_wsgi at /
and at a sub-URL. The start-up runs in each daemon process minus the server: the session
tool, the static folder and the custom config namespace of the config handed to quickstart,
the engine start hook that makes the table the pages read, the database path from
--env-file (tests/fixtures/replay_notes); two trees mounted by hand with engine.start() and
block(), a PID file and signal handlers left to Apache (tests/fixtures/replay_shelf)."""
import http.cookiejar
import shutil
import urllib.request
from pathlib import Path

import pytest

from support.venv import run
from test_e2e_apache import STOP_BOUND, assert_clean_log, deploy, prefix_of

FIXTURES = Path(__file__).parent / 'fixtures'


def project_copy(www_tmp, name):
    project = www_tmp / name
    shutil.copytree(str(FIXTURES / name), str(project))
    data = project / 'data'
    # README.txt step 2: the data folder, the daemon user's.
    run(['install', '-d', '-o', 'www-data', '-g', 'www-data', data, data / 'egg-cache'])
    return project


def browser():
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def page(opener, url):
    with opener.open(url, timeout=30) as answer:
        return answer.status, answer.read().decode('utf-8')


@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_quickstart_with_its_config_hook_and_environment(deploy_venv, apache_factory, www_tmp,
                                                         mount):
    project = project_copy(www_tmp, 'replay_notes')
    (project / '.env').write_text('# as compose passes it\nexport NOTES_DB="%s"\n'
                                  % (project / 'data' / 'notes.db'))
    apache = apache_factory([project / 'apache' / 'notes.conf'])
    deploy(deploy_venv, project, '--mount', mount, '--env-file', '.env',
           '--server-name', '127.0.0.1', '--port', str(apache.port))
    prefix = prefix_of(mount)
    status, _, body = apache.start(prefix + '/')
    assert status == 200, apache.error_log()[-3000:]
    base = apache.url + prefix
    # The custom namespace and the session tool of the config handed to quickstart.
    assert '<h1>Notes kept by the start script</h1>' in body
    opener = browser()
    assert 'visit 1' in page(opener, base + '/')[1]
    assert 'visit 2' in page(opener, base + '/')[1]
    # The table the engine's start hook made, in the database --env-file names.
    status, text = page(opener, base + '/add?text=replayed')
    assert status == 200 and '<li>replayed</li>' in text
    assert 'href="%s/static/notes.css"' % base in text
    status, _, css = apache.get(prefix + '/static/notes.css')  # the script's tools.staticdir
    assert status == 200 and css == (project / 'assets' / 'notes.css').read_text()
    assert apache.get(prefix + '/no/such/page')[0] == 404
    assert apache.stop() < STOP_BOUND
    log = apache.error_log()
    assert_clean_log(apache)
    assert 'Serving on' not in log  # its own HTTP server never started
    assert 'ENGINE Bus EXITED' in log


@pytest.mark.parametrize('mount', ['/', '/shelf'])
@pytest.mark.parametrize('mode', ['daemon', 'embedded'])
def test_tree_mount_and_engine_block(deploy_venv, apache_factory, www_tmp, mount, mode):
    project = project_copy(www_tmp, 'replay_shelf')
    apache = apache_factory([project / 'apache' / 'shelf.conf'])
    deploy(deploy_venv, project, '--mount', mount, '--mode', mode,
           '--setenv', 'SHELF_DB=%s' % (project / 'data' / 'shelf.db'),
           '--server-name', '127.0.0.1', '--port', str(apache.port))
    prefix = prefix_of(mount)
    status, _, body = apache.start(prefix + '/')
    assert status == 200, apache.error_log()[-3000:]
    base = apache.url + prefix
    assert '<li>Mrs Dalloway</li>' in body  # the start hook's table
    assert 'href="%s/api/"' % base in body and 'href="%s/static/shelf.css"' % base in body
    opener = browser()
    assert 'seen 1' in page(opener, base + '/')[1]
    if mode == 'daemon':  # sessions in memory: one daemon process holds them
        assert 'seen 2' in page(opener, base + '/')[1]
    # The second tree, mounted at /api with its own dispatcher, under the mount.
    status, text = page(opener, base + '/api/')
    assert status == 200 and text == '{"books": ["Mrs Dalloway"], "base": "%s/api/"}' % base
    assert apache.get(prefix + '/static/shelf.css')[0] == 200
    assert apache.stop() < STOP_BOUND
    log = apache.error_log()
    assert_clean_log(apache)
    assert 'run.py: PIDFile, SignalHandler left to the host' in log
    assert not (project / 'shelf.pid').exists()
    assert 'Serving on' not in log
