"""A CherryPy module that makes its WSGI application when imported (tests/fixtures/wsgi_module,
modelled on a published microsite): importing it is the start-up replayed, every app it
mounts is served (not only its class Root), at / and at a sub-URL, by a real Apache +
mod_wsgi; its run(), which nothing in it calls, is not read as the start-up. And a start
script whose argument parser requires an option is reported as one a replay cannot carry."""
import shutil
from pathlib import Path

import pytest

from support.venv import run
from test_e2e_apache import STOP_BOUND, assert_clean_log, deploy, prefix_of
from tgdeploy.apps import replay
from tgdeploy.detect import cherrypy_root, module_app, startup_script

FIXTURES = Path(__file__).parent / 'fixtures'


def test_the_module_that_makes_application_is_the_start_up():
    project = str(FIXTURES / 'wsgi_module')
    found = startup_script.find(project, 'cherrypy')
    assert found.imports_module and found.call == 'guides.portal' and found.script is None
    assert found.describe(project) == (
        'guides.portal in guides/portal.py:21 (application = setup())')
    # Its run() starts a server and exits without an argument: not what importing runs.
    assert found.left_out == [] and found.stops == [] and not found.impossible
    detected = cherrypy_root.detect(project, None, None)
    assert detected.root is None and detected.package == 'guides'
    assert detected.evidence == [
        'CherryPy: the apps guides/portal.py mounts (application = setup())']


@pytest.mark.parametrize('text', [
    # application made in a function only, or no mount where it is made: not this shape
    'import cherrypy\n\ndef make():\n    application = cherrypy.tree\n'
    '    cherrypy.tree.mount(None, "/")\n',
    'import cherrypy\n\ndef later():\n    cherrypy.tree.mount(None, "/")\n\n'
    'application = cherrypy.tree\n',
    'application = object()\n',
])
def test_what_is_not_a_module_application(tmp_path, text):
    (tmp_path / 'site.py').write_text(text)
    assert module_app.find(str(tmp_path), [str(tmp_path / 'site.py')],
                           startup_script.read_text, lambda d, p: 'site') is None


def test_top_level_keeps_what_importing_runs():
    text = ('import sys\n\ndef build():\n    mount()\n\ndef run():\n    sys.exit(1)\n\n'
            'class Page(object):\n    def index(self):\n        sys.exit(2)\n\n'
            'application = build()\n')
    kept = module_app.top_level(text).split('\n')
    assert kept[3] == '    mount()' and kept[6] == '' and kept[10] == ''
    assert kept[12] == 'application = build()' and len(kept) == len(text.split('\n'))


def test_a_required_option_is_an_argument_a_replay_cannot_give(tmp_path):
    (tmp_path / 'server.py').write_text(
        'import argparse\nimport cherrypy\n\n\nclass Root(object):\n    pass\n\n\n'
        'def main():\n    parser = argparse.ArgumentParser()\n'
        '    parser.add_argument("-p", "--page", type=str,\n'
        '                        help="the page (required)", required=True)\n'
        '    parser.add_argument("--port", type=int, default=8080)\n'
        '    args = parser.parse_args()\n'
        '    cherrypy.quickstart(Root(), "/", {})\n\n\n'
        'if __name__ == "__main__":\n    main()\n')
    found = startup_script.find(str(tmp_path), 'cherrypy')
    assert found.impossible == ['wants the option --page (required=True; server.py): under '
                                'Apache it has no command line']
    assert found.argv_note is None  # not "its options keep their defaults"


def test_environment_read_through_from_os_import(tmp_path):
    """``from os import environ, getenv`` reads are the start-up's too (the doctor names
    those the deployment does not set); a WSGI environ in a method is not; ``.get`` and
    ``getenv`` without a default give None, no KeyError (a warning, not an error)."""
    (tmp_path / 'site.py').write_text(
        'from os import environ, getenv\nimport cherrypy\n\n'
        'prefix = environ.get("SITE_PREFIX", "")\nkey = environ["SITE_KEY"]\n'
        'level = getenv("SITE_LEVEL")\n\n\nclass Root(object):\n'
        '    def index(self):\n        return environ.get("HTTP_HOST")\n\n\n'
        'application = cherrypy.tree.mount(Root(), prefix)\n')
    found = startup_script.find(str(tmp_path), 'cherrypy')
    assert [(name, default, line) for name, default, _, line in found.env_reads] == [
        ('SITE_PREFIX', True, 4), ('SITE_KEY', False, 5), ('SITE_LEVEL', True, 6)]


def test_an_exit_in_argparse_names_the_project_line(tmp_path, monkeypatch):
    """Where argparse exits for the script, the log names the script's parse_args line,
    not argparse's own."""
    script = tmp_path / 'serve.py'
    script.write_text('import argparse\n\nparser = argparse.ArgumentParser()\n'
                      'parser.add_argument("--page", required=True)\n'
                      'args = parser.parse_args()\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(replay.StartupExit) as failed:
        replay.run(str(script))
    assert str(failed.value).startswith(
        'the start-up serve.py exited (sys.exit, code 2) at serve.py:5 (args = '
        'parser.parse_args()) before it started its server; '), str(failed.value)


@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_every_app_the_module_mounts_is_served(deploy_venv, apache_factory, www_tmp, mount):
    project = www_tmp / 'wsgi_module'
    shutil.copytree(str(FIXTURES / 'wsgi_module'), str(project))
    data = project / 'data'
    run(['install', '-d', '-o', 'www-data', '-g', 'www-data', data, data / 'egg-cache'])
    apache = apache_factory([project / 'apache' / 'guides.conf'])
    deploy(deploy_venv, project, '--mount', mount, '--server-name', '127.0.0.1',
           '--port', str(apache.port))
    assert 'startup_call = guides.portal' in (project / 'apache' / 'guides.ini').read_text()
    prefix = prefix_of(mount)
    status, _, body = apache.start(prefix + '/')
    assert status == 200, apache.error_log()[-3000:]
    assert '<h1>Guides</h1><a href="%s%s/tours/">' % (apache.url, prefix) in body, body
    status, _, body = apache.get(prefix + '/tours/')  # the app mounted beside the root
    assert status == 200 and '<h1>Tours</h1>' in body, (status, body)
    assert apache.get(prefix + '/no/such/page')[0] == 404
    assert apache.stop() < STOP_BOUND
    assert_clean_log(apache)
