"""Day two, against the real Apache and Debian's mod_wsgi 4.9.4: logs of its own and their
rotation, the leak guards and timeouts (what the module really answers), the settings real
deployments set (Authorization, compression, cache headers, extra aliases, one thread).

The application is the CherryPy fixture under another package name (so that the editable
install of the session's cherryapp cannot shadow it), with a few pages of its own: a slow
one, one that shows the Authorization header it received, and a large HTML page.
"""
import grp
import gzip
import os
import pwd
import subprocess
import threading
import time
from http.client import HTTPConnection, HTTPException

import pytest

from support.projects import make_cherrypy, make_venv_marker
from support.reloading import daemon_pids
from tgdeploy.settle import options
from tgdeploy.write import render
from tgdeploy.cli.deploy import deploy
from tgdeploy.detect.arbiter import detect
from tgdeploy.serve.private_apache import free_port

PAGES = '''
    @cherrypy.expose
    def slow(self, seconds='1'):
        time.sleep(float(seconds))
        return 'slept %s in %d' % (seconds, os.getpid())

    @cherrypy.expose
    def auth(self):
        return 'authorization=%s' % cherrypy.request.headers.get('Authorization', '-')

    @cherrypy.expose
    def big(self):
        return '<html><body>%s</body></html>' % ('<p>compress me</p>' * 500)

    @cherrypy.expose
    def pid(self):
        return str(os.getpid())
'''


def make_dayapp(parent, thread_pool=None):
    project = make_cherrypy(parent / 'dayapp', package='dayapp')
    app = project / 'dayapp' / 'app.py'
    text = app.read_text().replace('from cherryapp import boot', 'from dayapp import boot')
    app.write_text(text.replace("\n\nif __name__ == '__main__':", PAGES + "\n\nif __name__ == "
                                "'__main__':"))
    if thread_pool:
        conf = project / 'app.conf'
        conf.write_text(conf.read_text().replace('[global]\n', '[global]\nserver.thread_pool = '
                                                 '%d\n' % thread_pool))
    subprocess.run(['chmod', '-R', 'a+rX', str(parent)], check=True)
    return project


def deployed(www_tmp, venv, **given):
    project = make_dayapp(www_tmp)
    given.setdefault('python_home', venv.prefix)
    values = deploy(str(project), given)
    data = project / 'data'
    subprocess.run(['install', '-d', '-o', 'www-data', '-g', 'www-data', str(data),
                    str(data / 'egg-cache')], check=True)
    return values


def request(apache, path, headers=None, host=None, timeout=60):
    """(status, headers, body bytes, seconds) of one GET."""
    started = time.time()
    connection = HTTPConnection('127.0.0.1', apache.port, timeout=timeout)
    try:
        connection.request('GET', path, headers=dict(headers or {}, Host=host or '127.0.0.1'))
        response = connection.getresponse()
        return (response.status, dict(response.getheaders()), response.read(),
                time.time() - started)
    finally:
        connection.close()


def wait_for_line(path, text, timeout=10):
    """Apache writes the access line after the response has gone: wait for it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and text in path.read_text():
            return True
        time.sleep(0.1)
    return False


def in_background(call):
    """Run ``call`` in a thread; the returned list receives its result."""
    result = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.daemon = True
    thread.start()
    return result, thread


# -- apache2 -t over the options ---------------------------------------------------------

COMBINATIONS = [
    {},
    {'maximum_requests': '1000', 'restart_interval': '86400', 'inactivity_timeout': '600',
     'request_timeout': '120', 'queue_timeout': '10', 'socket_timeout': '30',
     'header_buffer_size': '65536'},
    {'request_timeout': '0', 'queue_timeout': '0', 'socket_timeout': '0'},
    {'pass_authorization': 'yes', 'compress': 'yes', 'static_max_age': '86400',
     'alias': ['/media=/usr/share/doc', '/robots.txt=/etc/hostname'], 'mount': '/shop'},
    {'server_name': 'shop.example.org', 'port': 'PORT', 'log_dir': 'LOGS', 'compress': 'yes',
     'maximum_requests': '500'},
    {'mode': 'embedded', 'pass_authorization': 'yes', 'static_max_age': '0', 'mount': '/e'},
    # The CPU-bound profile of README.
    {'threads': '2', 'queue_timeout': '0', 'script_reloading': 'no'},
    {'mode': 'embedded', 'script_reloading': 'no'},
]


@pytest.mark.parametrize('given', COMBINATIONS, ids=[','.join(sorted(g)) or 'defaults'
                                                     for g in COMBINATIONS])
def test_every_option_passes_configtest(www_tmp, apache_factory, given):
    project = make_dayapp(www_tmp)
    venv = make_venv_marker(www_tmp / 'venv')
    port = free_port()
    marks = {'PORT': str(port), 'LOGS': str(www_tmp / 'logs')}
    given = dict((k, marks.get(v, v) if isinstance(v, str) else v) for k, v in given.items())
    (www_tmp / 'logs').mkdir()
    values = options.settle(detect(str(project)), dict(given, python_home=str(venv)))
    render.render(values, values.paths.apache_dir)
    result = apache_factory([values.paths.conf_file], port=port).configtest()
    assert result.returncode == 0, result.stdout


# -- timeouts: what mod_wsgi 4.9.4 really does --------------------------------------------

def test_a_request_past_the_queue_timeout_gets_504(www_tmp, deploy_venv, apache_factory):
    """One thread, held by a 6 s request: the request queued behind it waited past
    --queue-timeout 2, and gets 504 once the thread takes it up (not 503, and not at 2 s)."""
    values = deployed(www_tmp, deploy_venv, processes='1', threads='1', queue_timeout='2')
    assert 'queue-timeout=2 ' in open(values.paths.conf_file).read()
    apache = apache_factory([values.paths.conf_file])
    assert apache.start('/pid')[0] == 200
    slow, slow_thread = in_background(lambda: request(apache, '/slow?seconds=6'))
    time.sleep(0.5)
    status, _, _, seconds = request(apache, '/about')
    slow_thread.join(30)
    assert slow[0][0] == 200
    assert status == 504 and 5 < seconds < 9, (status, seconds)
    assert 'Queue timeout expired for WSGI daemon process' in apache.error_log()
    assert request(apache, '/about')[0] == 200  # and the next one is served


def test_a_request_past_the_request_timeout_restarts_its_process(www_tmp, deploy_venv,
                                                                  apache_factory):
    """One thread, --request-timeout 3: mod_wsgi's monitor (once a second) stops the process
    once the request has run 3 s; the request runs on until shutdown-timeout (5 s) has
    passed too, then the process is killed: the client gets 500 after about 9 s, the error
    log says why, and a new process serves the next request."""
    values = deployed(www_tmp, deploy_venv, processes='1', threads='1', request_timeout='3')
    apache = apache_factory([values.paths.conf_file])
    assert apache.start('/pid')[0] == 200
    first_pid = request(apache, '/pid')[2]
    status, _, _, seconds = request(apache, '/slow?seconds=30')
    assert status == 500 and 3 + 5 <= seconds < 3 + 5 + 4, (status, seconds)
    log = apache.error_log()
    assert 'Daemon process request time limit exceeded, stopping process' in log, log[-3000:]
    answer = apache.wait_for_answer('/pid')
    assert answer[0] == 200 and answer[2] != first_pid.decode()


def test_the_request_timeout_is_averaged_over_the_threads(www_tmp, deploy_venv,
                                                           apache_factory):
    """Two threads, --request-timeout 2, one request alone: the process is stopped only
    once its time over the two threads passes 2 s, at 4 s, and killed 5 s later
    (shutdown-timeout): 500 after about 10 s (mod_wsgi 4.x)."""
    values = deployed(www_tmp, deploy_venv, processes='1', threads='2', request_timeout='2')
    apache = apache_factory([values.paths.conf_file])
    assert apache.start('/pid')[0] == 200
    status, _, _, seconds = request(apache, '/slow?seconds=30')
    assert status == 500 and 4 + 5 <= seconds < 4 + 5 + 4, (status, seconds)


# -- logs of its own ---------------------------------------------------------------------

def test_logs_of_its_own_rotate_and_keep_receiving(www_tmp, deploy_venv, apache_factory):
    logs = www_tmp / 'logs'
    logs.mkdir()
    port = free_port()
    values = deployed(www_tmp, deploy_venv, server_name='day.test', port=str(port),
                      log_dir=str(logs))
    apache = apache_factory([values.paths.conf_file], port=port)
    assert apache.start(None) is None
    assert apache.wait_for_answer('/about', host='day.test')[0] == 200
    assert request(apache, '/boom', host='day.test')[0] == 500
    access, error = logs / values.logs.access_log, logs / values.logs.error_log
    assert wait_for_line(access, 'GET /boom')
    line = [l for l in access.read_text().splitlines() if 'GET /boom' in l][-1]
    # combined format, then the duration in microseconds
    assert '"GET /boom HTTP/1.1" 500 ' in line and line.split()[-1].isdigit(), line
    assert 'tgdeploy test: boom' in error.read_text()

    # Rotations under load. The generated line starts a file a day; here the same line starts
    # one every 2 seconds (its interval and file names changed, nothing else), so that
    # rotations happen while clients run: no request fails (nothing restarts), and every
    # request the clients made is one line in the logs.
    conf = values.paths.conf_file
    with open(conf) as f:
        text = f.read()
    assert text.count(' 86400"') == 1, text
    with open(conf, 'w') as f:
        f.write(text.replace(' 86400"', ' 2"').replace('%Y-%m-%d', '%Y-%m-%d-%H%M%S'))
    apache.stop()
    assert apache.start(None) is None
    assert apache.wait_for_answer('/about', host='day.test')[0] == 200
    counts, stop = [], threading.Event()

    def client(number):
        done = failed = 0
        connection = HTTPConnection('127.0.0.1', apache.port, timeout=30)
        while not stop.is_set():
            try:
                connection.request('GET', '/pid', headers={'Host': 'day.test',
                                                           'User-Agent': 'load-%d' % number})
                response = connection.getresponse()
                response.read()
                done, failed = done + 1, failed + (response.status != 200)
            except (OSError, HTTPException):
                failed += 1
                connection.close()
                connection = HTTPConnection('127.0.0.1', apache.port, timeout=30)
        connection.close()
        counts.append((done, failed))

    clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(7)
    finally:
        stop.set()
        for thread in clients:
            thread.join(60)
    done, failed = sum(c[0] for c in counts), sum(c[1] for c in counts)
    assert failed == 0 and done > 100, (done, failed)
    assert request(apache, '/pid', host='day.test',
                   headers={'User-Agent': 'after-rotation'})[0] == 200
    assert wait_for_line(access, '"after-rotation"')
    dated = sorted(access.parent.glob('access.*-*.log'))
    assert len(dated) >= 3, dated  # rotated at least twice under load
    logged = sum(path.read_text().count('"load-') for path in dated)
    print('logs under load: %d requests, %d failed, %d lines missing, %d files'
          % (done, failed, done - logged, len(dated)))
    assert logged == done, (logged, done)
    # The error log, a plain file, rotated by the generated logrotate file (copytruncate):
    # the lines go on into the same file, and Apache was never restarted.
    rotation = os.path.join(values.paths.apache_dir, values.project.slug + '.logrotate')
    subprocess.run(['logrotate', '-f', '-s', str(www_tmp / 'logrotate.state'), rotation],
                   check=True, timeout=60)
    with open(str(error) + '.1') as f:
        assert 'tgdeploy test: boom' in f.read()
    assert request(apache, '/boom', host='day.test')[0] == 500
    assert wait_for_line(error, 'tgdeploy test: boom')
    assert 'SIGUSR1' not in apache.error_log() and 'SIGHUP' not in apache.error_log()
    # Stopping Apache ends its rotatelogs too.
    apache.stop()
    time.sleep(0.5)
    assert str(logs) not in subprocess.run(['ps', '-eo', 'args'], stdout=subprocess.PIPE,
                                           universal_newlines=True).stdout


def test_embedded_mode_logs_plain_files_rotated_without_restart(www_tmp, deploy_venv,
                                                                apache_factory):
    """In embedded mode Apache's processes run the application and finish their requests
    after a graceful restart has ended a piped logger (bench/logs.py): the access log is a
    plain file there, rotated by the generated logrotate file (copytruncate)."""
    logs = www_tmp / 'logs'
    logs.mkdir()
    port = free_port()
    values = deployed(www_tmp, deploy_venv, server_name='day.test', port=str(port),
                      log_dir=str(logs), mode='embedded')
    assert not values.logs.piped_access and 'rotatelogs' not in open(values.paths.conf_file).read()
    apache = apache_factory([values.paths.conf_file], port=port)
    assert apache.start(None) is None
    assert apache.wait_for_answer('/about', host='day.test')[0] == 200
    access = logs / values.logs.access_log
    assert wait_for_line(access, 'GET /about')
    rotation = os.path.join(values.paths.apache_dir, values.project.slug + '.logrotate')
    subprocess.run(['logrotate', '-f', '-s', str(www_tmp / 'logrotate.state'), rotation],
                   check=True, timeout=60)
    with open(str(access) + '.1') as f:
        assert 'GET /about' in f.read()
    assert request(apache, '/pid', host='day.test', headers={'User-Agent': 'after'})[0] == 200
    assert wait_for_line(access, '"after"')
    assert 'SIGUSR1' not in apache.error_log()


def test_the_log_retention_file_parses_and_makes_the_folder(www_tmp, deploy_venv):
    """apache/<slug>.tmpfiles, as systemd-tmpfiles reads it: the folder is made with the
    distribution's owner and mode (in a log folder whose name has a space and an accent),
    and a clean-up keeps today's files."""
    logs = www_tmp / 'my logs é'
    logs.mkdir()
    values = deployed(www_tmp, deploy_venv, server_name='day.test', log_dir=str(logs))
    retention = os.path.join(values.paths.apache_dir, values.project.slug + '.tmpfiles')
    made = subprocess.run(['systemd-tmpfiles', '--create', retention], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    assert made.returncode == 0 and not made.stdout.strip(), made.stdout
    folder = logs / values.logs.folder
    owner, group, mode = values.logs.owner
    info = folder.stat()
    assert (pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name,
            '%04o' % (info.st_mode & 0o7777)) == (owner, group, mode)
    today = folder / 'access.2026-12-01.log'
    today.write_text('a line\n')
    cleaned = subprocess.run(['systemd-tmpfiles', '--clean', retention], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True)
    assert cleaned.returncode == 0 and not cleaned.stdout.strip(), cleaned.stdout
    assert today.exists()
    with open(retention) as f:
        assert ' %dd\n' % values.logs.days in f.read()


def test_a_mount_without_virtual_host_gets_its_own_access_log(www_tmp, deploy_venv,
                                                              apache_factory):
    """Without --server-name: a GlobalLog of the requests under the mount only."""
    logs = www_tmp / 'logs'
    logs.mkdir()
    values = deployed(www_tmp, deploy_venv, mount='/sub', log_dir=str(logs))
    apache = apache_factory([values.paths.conf_file])
    assert apache.start('/sub/about')[0] == 200
    assert request(apache, '/elsewhere')[0] in (403, 404)
    assert request(apache, '/sub/pid')[0] == 200
    assert wait_for_line(logs / values.logs.access_log, 'GET /sub/pid')
    text = (logs / values.logs.access_log).read_text()
    assert 'GET /sub/about' in text and '/elsewhere' not in text


# -- what real deployments set -----------------------------------------------------------

def test_authorization_compression_and_cache_headers(www_tmp, deploy_venv, apache_factory):
    """Each only with its option: the defaults first, then a deployment with all three."""
    auth = {'Authorization': 'Bearer t0ken'}
    for given, seen in (({}, False), ({'pass_authorization': 'yes', 'compress': 'yes',
                                       'static_max_age': '600'}, True)):
        folder = www_tmp / ('with' if seen else 'without')
        folder.mkdir()
        values = deployed(folder, deploy_venv, **given)
        apache = apache_factory([values.paths.conf_file])
        assert apache.start('/about')[0] == 200
        body = request(apache, '/auth', auth)[2].decode()
        assert body == ('authorization=Bearer t0ken' if seen else 'authorization=-')
        status, headers, body, _ = request(apache, '/big', {'Accept-Encoding': 'gzip'})
        assert status == 200 and (headers.get('Content-Encoding') == 'gzip') == seen, headers
        if seen:
            assert b'compress me' in gzip.decompress(body)
        status, headers, _, _ = request(apache, '/static/style.css')
        assert status == 200
        assert headers.get('Cache-Control') == ('public, max-age=600' if seen else None)
        apache.stop()


def test_an_extra_alias_is_served(www_tmp, deploy_venv, apache_factory):
    media = www_tmp / 'media files'
    media.mkdir()
    (media / 'logo é.txt').write_text('logo\n')
    values = deployed(www_tmp, deploy_venv, alias=['/media=%s' % media])
    apache = apache_factory([values.paths.conf_file])
    assert apache.start('/about')[0] == 200
    assert request(apache, '/media/logo%20%C3%A9.txt')[:3:2] == (200, b'logo\n')


def test_without_script_reloading_a_touch_reloads_nothing(www_tmp, deploy_venv,
                                                           apache_factory):
    """--script-reloading no: the .wsgi's time is not looked at, so touching it leaves the
    daemon processes alone (they are replaced with it); tgdeploy --reload still works."""
    values = deployed(www_tmp, deploy_venv, script_reloading='no', threads='2',
                      queue_timeout='0')
    assert 'WSGIScriptReloading Off' in open(values.paths.conf_file).read()
    apache = apache_factory([values.paths.conf_file])
    assert apache.start('/about')[0] == 200
    before = set(daemon_pids(apache.pid()))
    for _ in range(6):
        assert request(apache, '/pid')[0] == 200
    os.utime(values.paths.wsgi_file, (time.time() + 5, time.time() + 5))
    for _ in range(6):
        assert request(apache, '/pid')[0] == 200
    assert set(daemon_pids(apache.pid())) == before
    assert 'Shutdown requested' not in apache.error_log()


def test_a_single_thread_pool_is_honoured(www_tmp):
    project = make_dayapp(www_tmp, thread_pool=1)
    venv = make_venv_marker(www_tmp / 'venv')
    values = options.settle(detect(str(project)), {'python_home': str(venv)})
    assert values.daemon.threads == 1
    assert [line for line in values.project.evidence if 'server.thread_pool = 1' in line]
    render.render(values, values.paths.apache_dir)
    readme = open(os.path.join(values.paths.apache_dir, 'README.txt')).read()
    assert "the project's config sets\n  server.thread_pool = 1" in readme
    assert options.settle(detect(str(project)), {'python_home': str(venv),
                                                 'threads': '4'}).daemon.threads == 4


# -- paths Apache must quote --------------------------------------------------------------

@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_a_project_under_spaces_and_accents_is_served(www_tmp, deploy_venv, apache_factory,
                                                      mount):
    """The CherryPy fixture in "My Projects/shop \u00e9\u00e9/", its static files included,
    and an extra alias to a folder whose name needs Apache's quoting and glob escapes."""
    parent = www_tmp / 'My Projects' / 'shop \u00e9\u00e9'
    parent.mkdir(parents=True)
    odd = www_tmp / 'My Projects' / "it's [x] *?"
    odd.mkdir()
    (odd / 'a b.txt').write_text('odd\n')
    values = deployed(parent, deploy_venv, mount=mount, alias=['/odd=%s' % odd])
    conf = open(values.paths.conf_file, encoding='utf-8').read()
    assert '"%s"' % values.paths.project_dir in conf
    apache = apache_factory([values.paths.conf_file])
    prefix = '' if mount == '/' else mount
    assert apache.start(prefix + '/about')[:3:2] == (200, 'about cherryapp')
    status, _, body, _ = request(apache, prefix + '/static/style.css')
    with open(str(parent / 'dayapp' / 'dayapp' / 'static' / 'style.css'), 'rb') as f:
        assert (status, body) == (200, f.read())
    assert request(apache, '/odd/a%20b.txt')[:3:2] == (200, b'odd\n')
    assert request(apache, prefix + '/apache/cherryapp.ini')[0] in (403, 404)
    assert 'Traceback' not in apache.error_log()
