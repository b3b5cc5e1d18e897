"""--container on a real TurboGears 1.5 quickstart on Python 2.7 (the py27 lab's
`tg-admin quickstart`), built by real podman on a Debian 11 (bullseye) base made by
scripts/provision-containers: mod_wsgi 4.9.4 built for Python 2.7 in the image's first
stage, the virtualenv holding what the lab's tg15 virtualenv holds. One image, built at
/mysite (the mount is in the image's httpd.conf: a build-time setting), run on
127.0.0.1: its pages at the mount, README step 2 (`tg-admin sql create`) as the image's
one-shot `setup`, the deployed secret in no layer, the data volume across a restart, a
stop that lets the request in flight finish. Every container, image and volume made is
removed at the end.

The one exception to "the real thing": PEAK-Rules is not obtainable (PyPI lists it with
no files), so the build finds the lab's stand-in (tests/standins/peak-rules, as an sdist)
in a folder mounted for the build only, beside tgdeploy's wheel; nothing else comes from
anywhere but PyPI and Debian.
"""
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import LAB, LAB_PY3
from support import containers
from support.containers import get, wait_answer
from support.sites import PY27_ENV, quickstart_tg1
from support.venv import Venv, run
from tgdeploy.serve.private_apache import free_port

BASE = os.environ.get('TGDEPLOY_CONTAINER_BASE_PY27', 'localhost/tgdeploy-base:bullseye')
TG15 = LAB / 'py27' / 'tg15'
STANDIN = Path(__file__).parent / 'standins' / 'peak-rules'
MOUNT = '/mysite'
SECRET_LINE = 'visit.cookie.secret = "changeme"\n'

# A page that counts its hits in a file of the data folder (the project is /srv/app).
HITS = '''

@_tg.expose()
def hits(self):
    path = _os.path.join(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))),
                         'data', 'hits.txt')
    count = 1
    if _os.path.exists(path):
        count = int(open(path).read()) + 1
    open(path, 'w').write(str(count))
    return 'hits %d' % count


Root.hits = hits
'''


@pytest.fixture(scope='module')
def podman(www_root):
    runner = containers.podman_for_tests(www_root / 'podman-tg1', BASE)
    yield runner
    runner.cleanup()


@pytest.fixture(scope='module')
def wheels(www_root, wheel):
    """tgdeploy's wheel and the PEAK-Rules stand-in's sdist (see the module's doc)."""
    folder = www_root / 'wheels-tg1'
    folder.mkdir()
    shutil.copy(str(wheel), str(folder))
    source = www_root / 'standin-peak-rules'
    shutil.copytree(str(STANDIN), str(source))
    run([Venv(TG15).python, 'setup.py', '-q', 'sdist', '-d', folder], cwd=source, env=PY27_ENV)
    return folder


@pytest.fixture(scope='module')
def built(podman, www_root, wheels):
    """(project, image, data volume), the volume set up by the image's `setup`."""
    venv = Venv(TG15)
    if not os.path.exists(venv.python):
        pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % TG15)
    parent = www_root / 'container-tg1'
    parent.mkdir(mode=0o755)
    project = Path(quickstart_tg1(venv, parent, '1.5', PY27_ENV))
    with open(str(project / 'mysite' / 'controllers.py'), 'a') as f:
        f.write(HITS)
    for name in ('dev.cfg', 'sample-prod.cfg'):
        cfg = project / name
        cfg.write_text(cfg.read_text().replace('[global]\n', '[global]\n' + SECRET_LINE, 1))
    result = subprocess.run([LAB_PY3.bin('tgdeploy'), '--container', '--mount', MOUNT,
                             '--python-home', str(TG15)], cwd=str(project),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr.decode()
    image, seconds = podman.build(project, 'tg1', BASE, wheels=wheels)
    print('build of the TurboGears 1.5 image: %.0f s, %.0f MB' % (
        seconds, podman.image_size(image) / 1e6))
    volume = podman.volume('tg1-data')
    result = podman.one_shot(image, 'setup', mounts=mounts(project, volume))
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return project, image, volume


def mounts(project, volume):
    return ['%s:/srv/app/data' % volume,
            '%s:/srv/config:ro' % (project / 'apache' / 'container' / 'config')]


def start(podman, built, what):
    project, image, volume = built
    port = free_port()
    name = podman.start(image, what, port, mounts=mounts(project, volume))
    base = 'http://127.0.0.1:%d' % port
    return name, base, wait_answer(base + MOUNT + '/')


def test_the_files_name_python_27_and_its_mod_wsgi(built):
    project, _, _ = built
    text = (project / 'Containerfile').read_text()
    assert 'ARG BASE=debian:bullseye-slim\n' in text
    assert 'mod_wsgi==4.9.4' in text and 'python2.7' in text
    assert 'libapache2-mod-wsgi-py3' not in text.split('\nFROM ${BASE}\n')[-1]
    lock = (project / 'apache' / 'container' / 'requirements-py27.txt').read_text()
    for pin in ('TurboGears==1.5.1', 'CherryPy==3.2.2', 'SQLAlchemy==0.7.10',
                'PEAK-Rules===0.5a1.dev-r2713'):
        assert '\n%s\n' % pin in lock, lock
    pins = [line for line in lock.splitlines() if line and not line.startswith('#')]
    assert not [line for line in pins if line.lower().startswith(('tgdeploy', 'mysite'))]
    httpd = (project / 'apache' / 'container' / 'httpd.conf').read_text()
    assert 'LoadModule wsgi_module /usr/local/lib/mod_wsgi-py27.so\n' in httpd
    entry = (project / 'apache' / 'container' / 'entrypoint.sh').read_text()
    assert 'exec /srv/venv/bin/tg-admin -c /srv/config/mysite.cfg sql create' in entry


def test_the_image_serves_its_pages_at_the_mount(podman, built):
    name, base, seconds = start(podman, built, 'tg1-serve')
    print('cold start to the first answer: %.1f s' % seconds)
    status, page = get(base + MOUNT + '/')
    assert status == 200 and MOUNT + '/static/css/style.css' in page, page[:500]
    status, body = get(base + MOUNT + '/data')
    assert status == 200 and '"about": "%s/about"' % MOUNT in body, body
    assert get(base + MOUNT + '/number?n=21') == (200, 'twice 42')
    status, css = get(base + MOUNT + '/static/css/style.css')  # Apache's own static alias
    project = built[0]
    assert status == 200 and css == (project / 'mysite/static/css/style.css').read_text()
    assert get(base + '/')[0] == 403  # outside the mount: nothing is served
    users = podman.run('top', name, 'user', 'comm').stdout.decode()
    assert 'root' not in users and 'www-data' in users, users
    assert podman.run('healthcheck', 'run', name, check=False).returncode == 0
    # Python 2.7 in the daemons, through the mod_wsgi built for it.
    version = podman.run('exec', name, '/srv/venv/bin/python', '-c',
                         'import sys; print(sys.version[:3])')
    assert (version.stdout + version.stderr).decode().strip() == '2.7'


def test_no_deployed_secret_is_in_any_layer(podman, built):
    project, image, _ = built
    cfg = (project / 'apache' / 'mysite.cfg').read_text()
    secrets = re.findall(r'^visit\.cookie\.secret\s*=\s*"?([^"\s]+)"?\s*$', cfg, re.M)
    assert len(secrets) == 1 and secrets[0] != 'changeme', cfg
    needle = secrets[0].encode()
    assert needle in (project / 'apache/container/config/mysite.cfg').read_bytes()
    assert podman.layers_hold(image, [needle]) == set()


def test_the_data_outlives_a_restart_and_a_stop_finishes_the_request(podman, built):
    name, base, _ = start(podman, built, 'tg1-data')
    assert podman.run('exec', name, 'test', '-s', '/srv/app/data/mysite.sqlite',
                      check=False).returncode == 0  # README step 2 made the database
    assert get(base + MOUNT + '/hits') == (200, 'hits 1')
    podman.run('restart', '-t', '30', name, timeout=120)
    wait_answer(base + MOUNT + '/')
    assert get(base + MOUNT + '/hits') == (200, 'hits 2')
    answers = []
    request = threading.Thread(
        target=lambda: answers.append(get(base + MOUNT + '/slow', timeout=60)))
    request.start()
    time.sleep(1)
    started = time.monotonic()
    podman.run('stop', '-t', '40', name, timeout=120)
    stopped = time.monotonic() - started
    request.join(60)
    print('stop with a 2 s request in flight: %.1f s' % stopped)
    assert answers == [(200, 'slow done')]
    state = podman.run('inspect', name, '--format', '{{.State.ExitCode}}').stdout.decode()
    assert state.strip() == '0' and stopped < 30
