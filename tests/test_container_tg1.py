"""--container on a real TurboGears 1.5 quickstart on Python 2.7 (the py27 lab's
`tg-admin quickstart`), built by real podman on a Debian 11 (bullseye) base made by
scripts/provision-containers: mod_wsgi 4.9.4 built for Python 2.7 in the image's first
stage, the virtualenv holding what the lab's tg15 virtualenv holds. Two images of the
same quickstart, at /mysite and at / (the mount is in the image's httpd.conf: a
build-time setting; the second build differs in the last stage's `COPY .` alone and
reuses the cached stages), run on 127.0.0.1: their pages at the mount, README step 2
(`tg-admin sql create`) as the image's one-shot `setup`, the deployed secret in no
layer, the data volume across a restart, a stop that lets the request in flight finish.
Every container, image and volume made is removed at the end. Stand-ins (PEAK-Rules):
tests/support/tg1_images.py's doc.
"""
import shutil
import threading
import time

import pytest

from support import containers, tg1_images
from support.containers import get, wait_answer

MOUNT = '/mysite'

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
    runner = containers.podman_for_tests(www_root / 'podman-tg1', tg1_images.BASE)
    yield runner
    runner.cleanup()


@pytest.fixture(scope='module')
def wheels(www_root, wheel):
    return tg1_images.wheels(www_root / 'wheels-tg1', wheel, '1.5')


@pytest.fixture(scope='module')
def quickstarts(www_root):
    """The same quickstart in two folders: (for /mysite, for /)."""
    project = tg1_images.quickstart(www_root / 'container-tg1', '1.5', HITS)
    (www_root / 'container-tg1-root').mkdir(mode=0o755)
    copy = www_root / 'container-tg1-root' / project.name
    shutil.copytree(str(project), str(copy))
    return project, copy


@pytest.fixture(scope='module')
def built(podman, quickstarts, wheels):
    """(project, image, data volume) at /mysite, the volume set up by the image's `setup`."""
    project = quickstarts[0]
    tg1_images.container(project, '1.5', MOUNT)
    image, volume = tg1_images.build(podman, project, 'tg1', wheels)
    return project, image, volume


@pytest.fixture(scope='module')
def built_at_root(podman, quickstarts, wheels, built):
    """(project, image, data volume) at /, built after /mysite's image (on its cached
    stages: only httpd.conf and the entry script differ) and run on its volume."""
    project = quickstarts[1]
    tg1_images.container(project, '1.5', '/')
    image, volume = tg1_images.build(podman, project, 'tg1-root', wheels, volume=built[2])
    return project, image, volume


def start(podman, built, what):
    project, image, volume = built
    name, base = tg1_images.start(podman, project, image, volume, what)
    return name, base, wait_answer(base + MOUNT + '/')


def test_the_files_name_python_27_and_its_mod_wsgi(built):
    project, _, _ = built
    text = (project / 'Containerfile').read_text()
    assert 'ARG BASE=debian:bullseye-slim\n' in text
    assert 'mod_wsgi==4.9.4' in text and 'python2.7' in text
    assert 'libapache2-mod-wsgi-py3' not in text.split('\nARG BASE=')[-1]
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


@pytest.mark.parametrize('which', ['built', 'built_at_root'])
def test_the_image_serves_its_pages_at_the_mount(podman, request, which):
    project, image, volume = request.getfixturevalue(which)
    mount = MOUNT if which == 'built' else '/'
    name, base = tg1_images.start(podman, project, image, volume, 'tg1-serve-' + which)
    seconds = tg1_images.assert_pages(podman, name, base, project, mount)
    print('cold start to the first answer at %s: %.1f s' % (mount, seconds))
    users = podman.run('top', name, 'user', 'comm').stdout.decode()
    assert 'root' not in users and 'www-data' in users, users
    # Python 2.7 in the daemons, through the mod_wsgi built for it.
    version = podman.run('exec', name, '/srv/venv/bin/python', '-c',
                         'import sys; print(sys.version[:3])')
    assert (version.stdout + version.stderr).decode().strip() == '2.7'
    podman.run('rm', '-f', '-t', '5', name, check=False)


def test_no_deployed_secret_is_in_any_layer(podman, built):
    project, image, _ = built
    tg1_images.assert_no_secret_in_layers(podman, project, image)


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
