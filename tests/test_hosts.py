"""Any WSGI host: the ini tgdeploy generates, through its egg entry points, under gunicorn,
uWSGI, mod_wsgi-express, `paster serve` and `gearbox serve`. Each host is started on a free
127.0.0.1 port with the project as its working directory (FIELD-NOTES: started from the
parent of a folder named like its package, `import pkg` finds the folder) and stopped."""
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import paster
from support.httpd import free_port


@pytest.fixture(scope='module')
def host_venv(deploy_venv):
    """The deploy virtualenv plus the hosts (uWSGI and mod_wsgi compile here: Debian's apxs)."""
    deploy_venv.pip_install('gunicorn', 'uwsgi', 'mod_wsgi')
    return deploy_venv


@pytest.fixture
def generated(tg2_data, tg2_project, cherry_project, deploy_venv, www_tmp):
    """{name: (project, ini with a free port)} for both flavors."""
    made = {}
    for name, project in (('tg2app', tg2_project), ('cherryapp', cherry_project)):
        out = www_tmp / name
        paster(deploy_venv, 'tgdeploy', '-q', '--output-dir', out, cwd=project)
        made[name] = (project, out / (name + '.ini'))
    return made


def with_port(ini, port):
    """A copy of the generated ini whose [server:main] listens on ``port``."""
    text = ini.read_text()
    for old in ('port = 8080',):
        text = text.replace(old, 'port = %d' % port)
    copy = ini.with_name('serve-%d.ini' % port)
    copy.write_text(text)
    return copy


PAGES = {'tg2app': ('/demo', 'TurboGears Demo'), 'cherryapp': ('/about', 'about cherryapp')}


def serve(args, cwd, url, expect):
    proc = subprocess.Popen([str(a) for a in args], cwd=str(cwd), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    body = response.read().decode()
                    assert response.status == 200 and expect in body, body[:300]
                    return body
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.time() > deadline:
                    raise AssertionError('%s did not answer %s:\n%s' % (
                        args[0], url, stop(proc)))
                time.sleep(0.2)
    finally:
        stop(proc)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            return proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.communicate()[0]


@pytest.mark.parametrize('app', sorted(PAGES))
@pytest.mark.parametrize('mount', ['', '/sub'])
def test_gunicorn(host_venv, generated, app, mount):
    project, ini = generated[app]
    port = free_port()
    env = ['--env', 'SCRIPT_NAME=%s' % mount] if mount else []
    page, text = PAGES[app]
    serve([host_venv.bin('gunicorn'), '--paste', ini, '-b', '127.0.0.1:%d' % port, '-w', '2']
          + env, project, 'http://127.0.0.1:%d%s%s' % (port, mount, page), text)


@pytest.mark.parametrize('app', sorted(PAGES))
def test_uwsgi(host_venv, generated, app):
    project, ini = generated[app]
    port = free_port()
    page, text = PAGES[app]
    serve([host_venv.bin('uwsgi'), '--http', '127.0.0.1:%d' % port, '--paste',
           'config:%s' % ini, '--master', '--processes', '1', '--threads', '2',
           '--die-on-term', '--need-app'],
          project, 'http://127.0.0.1:%d%s' % (port, page), text)


@pytest.mark.parametrize('app', sorted(PAGES))
@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_mod_wsgi_express(host_venv, generated, app, mount, www_tmp):
    project, ini = generated[app]
    port = free_port()
    page, text = PAGES[app]
    prefix = '' if mount == '/' else mount
    serve([host_venv.bin('mod_wsgi-express'), 'start-server', '--application-type', 'paste',
           ini, '--host', '127.0.0.1', '--port', port, '--mount-point', mount,
           '--user', 'www-data', '--group', 'www-data', '--locale', 'C.UTF-8',
           '--server-root', www_tmp / ('express-%d' % port), '--working-directory', project,
           '--log-to-terminal'],
          project, 'http://127.0.0.1:%d%s%s' % (port, prefix, page), text)


@pytest.mark.parametrize('app', sorted(PAGES))
def test_paster_serve(host_venv, generated, app):
    project, ini = generated[app]
    port = free_port()
    page, text = PAGES[app]
    serve([host_venv.bin('paster'), 'serve', with_port(ini, port)], project,
          'http://127.0.0.1:%d%s' % (port, page), text)


def test_gearbox_serve(host_venv, generated):
    project, ini = generated['tg2app']
    port = free_port()
    serve([host_venv.bin('gearbox'), 'serve', '-c', with_port(ini, port)], project,
          'http://127.0.0.1:%d/demo' % port, 'TurboGears Demo')


# -- the project's own start-up and environment -----------------------------------------

STARTUP = ['--startup', 'cherryapp.boot:start', '--setenv', 'TGDEPLOY_GREETING=hello there']


def test_startup_and_setenv_under_apache(cherry_project, deploy_venv, apache_factory, www_tmp):
    """--setenv reaches os.environ before the import; --startup runs once in every daemon
    process, before the first request (preloaded: at process start)."""
    marks = www_tmp / 'marks'
    marks.mkdir()
    subprocess.run(['chown', 'www-data', str(marks)], check=True)
    out = www_tmp / 'apache'
    paster(deploy_venv, 'tgdeploy', '-q', '--output-dir', out, '--mount', '/cp', *STARTUP,
           '--setenv', 'TGDEPLOY_BOOT_MARK=%s' % marks, '--processes', '2', cwd=cherry_project)
    apache = apache_factory([out / 'cherryapp.conf'])
    apache.start('/cp/about')
    bodies = set(apache.get('/cp/env')[2] for _ in range(20))
    assert bodies == {'hello there started=1'}
    deadline = time.time() + 10
    while len(list(marks.iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.1)
    started = sorted(p.name for p in marks.iterdir())
    assert len(started) == 2 and all(name.endswith('-1') for name in started), started


def test_startup_under_gunicorn(host_venv, cherry_project, www_tmp):
    """Other hosts get the start-up from the ini (filter-with); the environment is theirs."""
    marks = www_tmp / 'marks'
    marks.mkdir()
    out = www_tmp / 'apache'
    paster(host_venv, 'tgdeploy', '-q', '--output-dir', out, *STARTUP, cwd=cherry_project)
    port = free_port()
    serve([host_venv.bin('gunicorn'), '--paste', out / 'cherryapp.ini', '-b',
           '127.0.0.1:%d' % port, '-w', '2', '--env', 'TGDEPLOY_BOOT_MARK=%s' % marks,
           '--env', 'TGDEPLOY_GREETING=from gunicorn'], cherry_project,
          'http://127.0.0.1:%d/env' % port, 'from gunicorn started=1')
    # Once in each worker that loaded the application before gunicorn was stopped.
    started = [p.name for p in marks.iterdir()]
    assert 1 <= len(started) <= 2 and all(name.endswith('-1') for name in started), started
