"""--container on a published application of the corpus (tests/corpus.txt), built into an
image as a user would: finitelycomputable-helloworld-cherrypy 25.7, the sdist the corpus
tests fetch (scripts/provision-py27) unpacked into a project folder, `tgdeploy --container`
run on it, and the Containerfile built by real podman on the base of
tests/test_container_cherrypy.py (so its first stage is shared in podman's cache); the
image installs the application's requirements (CherryPy~=18.10) from PyPI during the
build, and tgdeploy from the wheel of this checkout (its ini loads egg:tgdeploy#cherrypy).

Built at /sub only: the mount is in the image's httpd.conf (WSGIScriptAlias), a build-time
setting, and a sub-URL is the harder case for this application (it mounts its tree at its
own BASE_PATH, '' here). It has one page and no static file or link: the landing page
answers at /sub/ and at /sub/index (its handler by name), Apache's 403 outside the mount.
"""

import pytest

from support import containers, corpus
from support.containers import get, wait_answer
from test_container import BASE, mounts
from tgdeploy.cli import deploy
from tgdeploy.serve.private_apache import free_port
from tgdeploy.write import container

NAME, VERSION = 'finitelycomputable_helloworld_cherrypy', '25.7'
PAGE = 'CherryPy says "hello, world"\n'


@pytest.fixture(scope='module')
def podman(www_root):
    runner = containers.podman_for_tests(www_root / 'podman-corpus', BASE)
    yield runner
    runner.cleanup()


@pytest.fixture(scope='module')
def built(podman, www_root, wheel):
    archive = corpus.sdist(NAME, VERSION)
    assert archive, 'not fetched: run %s' % corpus.provisioner('corpus3/' + NAME)
    corpus.unpack(archive, str(www_root / 'corpus'))
    project = www_root / 'corpus' / ('%s-%s' % (NAME, VERSION))
    values = deploy.settle(str(project), {'mount': '/sub'})
    container.write(values, False)
    image, seconds = podman.build(project, 'corpus', BASE, wheels=wheel.parent)
    print('build of the %s %s image: %.0f s, %.0f MB' % (
        NAME, VERSION, seconds, podman.image_size(image) / 1e6))
    return project, image, podman.volume('corpus-data')


def test_the_corpus_application_is_served_from_its_image(podman, built):
    project, image, volume = built
    port = free_port()
    name = podman.start(image, 'corpus-serve', port, mounts=mounts(project, volume))
    base = 'http://127.0.0.1:%d' % port
    print('cold start to the first answer: %.1f s' % wait_answer(base + '/sub/'))
    for path in ('/sub/', '/sub/index'):
        status, page = get(base + path)
        assert (status, page) == (200, PAGE), (path, status, page)
    status, page = get(base + '/index')  # outside the mount: Apache refuses, not the application
    assert status == 403 and 'hello, world' not in page, (status, page)
    assert podman.run('healthcheck', 'run', name, check=False).returncode == 0
    users = podman.run('top', name, 'user').stdout.decode()
    assert 'root' not in users and 'www-data' in users, users
