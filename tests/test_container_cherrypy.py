"""--container on the CherryPy fixture (tests/fixtures/cherryapp, its own start script
replayed), built by real podman on the Debian base of scripts/provision-containers and run
on 127.0.0.1: its pages at / and, built again with --mount /sub, at /sub, with the config
its start-up passes, Apache's static files, the health check. tgdeploy is in the image
(its ini loads egg:tgdeploy#cherrypy): pip finds it in the wheel built from this checkout.
"""
import json
import shutil

import pytest

from conftest import FIXTURES
from support import containers
from support.containers import get, wait_answer
from test_container import BASE, mounts
from tgdeploy.cli import deploy
from tgdeploy.serve.private_apache import free_port
from tgdeploy.write import container


@pytest.fixture(scope='module')
def podman(www_root):
    runner = containers.podman_for_tests(www_root / 'podman-cherrypy', BASE)
    yield runner
    runner.cleanup()


@pytest.fixture(scope='module')
def built(podman, www_root, wheel):
    made = {}
    for mount, what in (('/', 'root'), ('/sub', 'sub')):
        project = www_root / ('cherrypy-' + what) / 'cherryapp'
        shutil.copytree(str(FIXTURES / 'cherryapp'), str(project))
        values = deploy.settle(str(project), {'mount': mount})
        container.write(values, False)
        image, seconds = podman.build(project, 'cherrypy-' + what, BASE, wheels=wheel.parent)
        print('build of the CherryPy %s image: %.0f s, %.0f MB' % (
            mount, seconds, podman.image_size(image) / 1e6))
        volume = podman.volume('cherrypy-data-' + what)
        result = podman.one_shot(image, 'setup', mounts=mounts(project, volume))
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        made[mount] = (project, image, volume)
    return made


@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_the_cherrypy_image_serves_its_pages(podman, built, mount):
    project, image, volume = built[mount]
    port = free_port()
    name = podman.start(image, 'cherrypy-serve-' + (mount.strip('/') or 'root'), port,
                        mounts=mounts(project, volume))
    base = 'http://127.0.0.1:%d' % port
    prefix = mount.rstrip('/')
    print('cold start to the first answer: %.1f s' % wait_answer(base + prefix + '/'))
    status, page = get(base + prefix + '/')
    assert status == 200 and 'Hello from CherryPy' in page, page
    assert 'href="%s%s/about"' % (base, prefix) in page, page
    status, body = get(base + prefix + '/status')
    assert status == 200, body
    state = json.loads(body)
    assert state['script_name'] == prefix
    assert state['greeting'] == 'hello from app.conf'  # the config its start script passes
    status, css = get(base + prefix + '/static/style.css')
    assert status == 200 and css == (project / 'cherryapp' / 'static' / 'style.css').read_text()
    assert podman.run('healthcheck', 'run', name, check=False).returncode == 0
    users = podman.run('top', name, 'user').stdout.decode()
    assert 'root' not in users and 'www-data' in users, users
