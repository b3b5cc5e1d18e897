"""TurboGears 1.x quickstarts made into images by ``tgdeploy --container`` (the container
tests of Python 2.7: tests/test_container_tg1*.py).

The one exception to "the real thing" there: PEAK-Rules (TurboGears 1.1/1.5) and
RuleDispatch (1.0) are not obtainable (PyPI lists them with no files), so a build finds
the lab's stand-in (tests/standins/, as an sdist) in a folder mounted for the build only,
beside tgdeploy's wheel; nothing else comes from anywhere but PyPI and Debian.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import LAB, LAB_PY3
from support.containers import get, wait_answer
from support.sites import PY27_ENV, quickstart_tg1
from support.venv import Venv, run
from tgdeploy.serve.private_apache import free_port

BASE = os.environ.get('TGDEPLOY_CONTAINER_BASE_PY27', 'localhost/tgdeploy-base:bullseye')
STANDINS = Path(__file__).parent.parent / 'standins'
# The lab's virtualenv of each TurboGears 1 line, and the stand-in it needs.
LINES = {'1.0': ('tg10', 'ruledispatch'), '1.1': ('tg11', 'peak-rules'),
         '1.5': ('tg15', 'peak-rules')}
SECRET_LINE = 'visit.cookie.secret = "changeme"\n'


def lab_venv(line):
    venv = Venv(LAB / 'py27' / LINES[line][0])
    if not os.path.exists(venv.python):
        pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27'
                    % venv.python)
    return venv


def wheels(folder, wheel, line):
    """``folder`` holding tgdeploy's ``wheel`` and the sdist of the stand-in ``line``
    needs (see the module's doc)."""
    folder.mkdir()
    shutil.copy(str(wheel), str(folder))
    source = folder.parent / ('standin-%s-%s' % (LINES[line][1], folder.name))
    shutil.copytree(str(STANDINS / LINES[line][1]), str(source))
    run([lab_venv(line).python, 'setup.py', '-q', 'sdist', '-d', folder], cwd=source,
        env=PY27_ENV)
    shutil.rmtree(str(source))
    return folder


def quickstart(parent, line, extra='', model=''):
    """The ``line``'s own `tg-admin quickstart` 'mysite' in ``parent`` (with the pages of
    tests/fixtures/tg1_controllers_extra.py, then ``extra``; ``model`` added to its
    model.py), its configs carrying a secret for tgdeploy to replace."""
    parent.mkdir(mode=0o755)
    project = Path(quickstart_tg1(lab_venv(line), parent, line, PY27_ENV))
    for name, text in (('controllers.py', extra), ('model.py', model)):
        with open(str(project / 'mysite' / name), 'a') as f:
            f.write(text)
    for name in ('dev.cfg', 'sample-prod.cfg'):
        cfg = project / name
        cfg.write_text(cfg.read_text().replace('[global]\n', '[global]\n' + SECRET_LINE, 1))
    return project


def container(project, line, mount):
    """``tgdeploy --container --mount MOUNT`` in ``project`` for the lab's ``line``."""
    home = LAB / 'py27' / LINES[line][0]
    result = subprocess.run([LAB_PY3.bin('tgdeploy'), '--container', '--mount', mount,
                             '--python-home', str(home)], cwd=str(project),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr.decode()
    return result


def build(podman, project, what, wheels_folder, volume=None):
    """(image, volume) built from ``project`` on BASE, the volume set up by the image's
    `setup` (README step 2: `tg-admin sql create`); prints the build's time and size."""
    image, seconds = podman.build(project, what, BASE, wheels=wheels_folder)
    print('build of %s: %.0f s, %.0f MB' % (what, seconds, podman.image_size(image) / 1e6))
    if volume is None:
        volume = podman.volume(what + '-data')
        result = podman.one_shot(image, 'setup', mounts=mounts(project, volume))
        assert result.returncode == 0, result.stderr.decode()[-3000:]
    return image, volume


def mounts(project, volume):
    return ['%s:/srv/app/data' % volume,
            '%s:/srv/config:ro' % (project / 'apache' / 'container' / 'config')]


def start(podman, project, image, volume, what):
    """(container name, base URL) of ``image`` serving on 127.0.0.1 at a free port."""
    port = free_port()
    name = podman.start(image, what, port, mounts=mounts(project, volume))
    return name, 'http://127.0.0.1:%d' % port


def assert_pages(podman, name, base, project, mount):
    """The quickstart's pages at ``mount``: the welcome page and its static links, a
    JSON page and a validated one (links through turbogears.url() carry the mount),
    Apache's static alias, nothing outside a sub-URL, the image's health check; returns
    the seconds to the first answer."""
    prefix = mount.rstrip('/')
    seconds = wait_answer(base + prefix + '/')
    status, page = get(base + prefix + '/')
    assert status == 200 and prefix + '/static/css/style.css' in page, page[:800]
    status, body = get(base + prefix + '/data')
    assert status == 200 and '"about": "%s/about"' % prefix in body, body
    assert get(base + prefix + '/about')[1].endswith('<a href="%s/">home</a>' % prefix)
    assert get(base + prefix + '/number?n=21') == (200, 'twice 42')
    assert get(base + prefix + '/number?n=abc') == (200, 'invalid n')
    status, css = get(base + prefix + '/static/css/style.css')  # Apache's static alias
    assert status == 200
    assert css == (project / 'mysite/static/css/style.css').read_bytes().decode()  # 1.0: CRLF
    if prefix:
        assert get(base + '/')[0] == 403  # outside the mount: nothing is served
    assert podman.run('healthcheck', 'run', name, check=False).returncode == 0
    return seconds


def assert_no_secret_in_layers(podman, project, image):
    """The secret tgdeploy put in place of the quickstart's 'changeme' is in the mounted
    config and in no layer of ``image`` (nor in its history or environment)."""
    cfg = (project / 'apache' / 'mysite.cfg').read_text()
    secrets = re.findall(r'^visit\.cookie\.secret\s*=\s*"?([^"\s]+)"?\s*$', cfg, re.M)
    assert len(secrets) == 1 and secrets[0] != 'changeme', cfg
    needle = secrets[0].encode()
    assert needle in (project / 'apache/container/config/mysite.cfg').read_bytes()
    assert podman.layers_hold(image, [needle]) == set()
