"""A CherryPy start-up that lives in a class's methods, reached from a script without a .py
suffix through a function of the package (tests/fixtures/class_start, modelled on a published
music server): detected as the start-up to replay, preferred over the first-run setup page
the project also hands to quickstart, and served by a real Apache + mod_wsgi at / and at a
sub-URL with the config its method gives each path (sessions, a static folder at /res)."""
import os
import shutil
from pathlib import Path

import pytest

from support.venv import run
from test_e2e_apache import STOP_BOUND, assert_clean_log, deploy, prefix_of
from tgdeploy.detect import cherrypy_root, startup_script
from tgdeploy.errors import TgDeployError

FIXTURES = Path(__file__).parent / 'fixtures'


def test_the_script_that_starts_the_class_is_the_start_up():
    project = str(FIXTURES / 'class_start')
    found = startup_script.find(project, 'cherrypy')
    assert found.script.endswith('/tunes-server') and found.call is None
    assert found.in_class and found.serving_module == 'tunes'
    assert found.describe(project) == 'tunes-server:17 (Tunes: engine.start())'
    assert 'blocking to serve' in found.left_out and not found.impossible
    detected = cherrypy_root.detect(project, None, None)
    # Not the setup page handed to quickstart: what the class mounts.
    assert detected.root is None and detected.package == 'tunes'
    assert detected.evidence == ['CherryPy: the roots tunes-server mounts (Tunes)']


def test_startup_script_names_a_python_script_without_a_suffix(tmp_path):
    project = str(FIXTURES / 'class_start')
    found = startup_script.given(project, 'tunes-server', 'cherrypy')
    assert found.script == os.path.join(project, 'tunes-server') and found.how == 'option'
    (tmp_path / 'run').write_text('#!/bin/sh\nexec python3 -m app\n')
    with pytest.raises(TgDeployError, match='is not a Python file'):
        startup_script.given(str(tmp_path), 'run', 'cherrypy')


def test_a_method_mounting_self_names_its_class_as_root(tmp_path):
    (tmp_path / 'pad.py').write_text(
        'import cherrypy\n\n\nclass Pad(object):\n    @cherrypy.expose\n'
        '    def index(self):\n        return "pad"\n\n    def start(self):\n'
        '        cherrypy.tree.mount(self, "/", {})\n        cherrypy.engine.start()\n'
        '        cherrypy.engine.block()\n\n\nif __name__ == "__main__":\n'
        '    Pad().start()\n')
    assert cherrypy_root.find_roots(str(tmp_path)) == ['pad:Pad']
    found = startup_script.find(str(tmp_path), 'cherrypy')
    assert found.script == str(tmp_path / 'pad.py') and found.line == 16


def test_a_class_nothing_starts_is_no_start_up(tmp_path):
    (tmp_path / 'lib.py').write_text(
        'import cherrypy\n\n\nclass Server(object):\n    def run(self, root):\n'
        '        cherrypy.tree.mount(root, "/")\n        cherrypy.engine.start()\n')
    assert startup_script.find(str(tmp_path), 'cherrypy') is None


@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_served_with_the_config_its_method_mounts(deploy_venv, apache_factory, www_tmp, mount):
    project = www_tmp / 'class_start'
    shutil.copytree(str(FIXTURES / 'class_start'), str(project))
    data = project / 'data'
    run(['install', '-d', '-o', 'www-data', '-g', 'www-data', data, data / 'egg-cache'])
    apache = apache_factory([project / 'apache' / 'tunes.conf'])
    deploy(deploy_venv, project, '--mount', mount, '--server-name', '127.0.0.1',
           '--port', str(apache.port))
    prefix = prefix_of(mount)
    status, _, body = apache.start(prefix + '/')
    assert status == 200, apache.error_log()[-3000:]
    assert '<h1>Tunes</h1>' in body and '<p>visit 1</p>' in body  # its sessions tool
    assert 'href="%s%s/res/tunes.css"' % (apache.url, prefix) in body
    status, _, css = apache.get(prefix + '/res/tunes.css')  # the /res config of its mount
    assert status == 200 and css == (project / 'tunes' / 'res' / 'tunes.css').read_text()
    assert apache.get(prefix + '/no/such/page')[0] == 404
    assert apache.stop() < STOP_BOUND
    log = apache.error_log()
    assert_clean_log(apache)
    assert 'Serving on' not in log and 'Set up the tunes' not in body
