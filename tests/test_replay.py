"""The project's own start-up, minus the server: which one detection finds (a CherryPy start
script ending in quickstart or engine.start/block, a TurboGears 1 start script and its
command.start()), --startup-script, --env-file, and what the report and the doctor say
about a start-up a replay cannot carry or environment variables nobody sets. End to end
under Apache: tests/test_replay_e2e.py."""
import os
import shutil
import stat
from pathlib import Path

import pytest

from support.projects import make_tg1, make_venv_marker, write
from tgdeploy.settle import envfile, options
from tgdeploy.doctor import own_deployment, registry
from tgdeploy.doctor.finding import WILL_NOT_WORK, exit_code
from tgdeploy.detect import startup_script
from tgdeploy.cli.deploy import deploy
from tgdeploy.detect.arbiter import detect
from tgdeploy.errors import TgDeployError

FIXTURES = Path(__file__).parent / 'fixtures'

# TurboGears 1 command.start() of a project that takes its database from compose's
# environment (modelled on the failure in issue 20; written for these tests).
TG1_COMMAND = '''\
import os
import sys

import turbogears


def _read_config(args):
    turbogears.update_config(configfile=args[0], modulename="mysite.config")


def start():
    _read_config(sys.argv[1:])
    dburi = 'postgres://%s:%s@%s/%s' % (os.environ['DB_USER'], os.environ['DB_PASSWORD'],
                                        os.environ.get('DB_HOST', 'db'), os.environ['DB_NAME'])
    turbogears.update_config({'global': {'sqlalchemy.dburi': dburi}})
    from mysite.controllers import Root
    return turbogears.start_server(Root())
'''
TG1_START = '''\
import sys
from mysite.command import start

if __name__ == '__main__':
    start()
'''


def copy_fixture(name, target):
    shutil.copytree(str(FIXTURES / name), str(target))
    return target


def settle(project, **given):
    given.setdefault('python_home', str(make_venv_marker(project.parent / 'venv')))
    return options.settle(detect(str(project)), given)


def doctor_texts(values):
    return [(level, text) for level, text in own_deployment.findings(values)]


@pytest.fixture
def notes(tmp_path):
    return copy_fixture('replay_notes', tmp_path / 'notes')


@pytest.fixture
def shelf(tmp_path):
    return copy_fixture('replay_shelf', tmp_path / 'shelf')


def test_the_root_handed_to_quickstart_wins_over_another_class_root(notes):
    assert '\nclass Root(object):' in (notes / 'notes' / 'admin.py').read_text()
    assert detect(str(notes)).root == 'notes.pages:Root'


def test_a_quickstart_start_script_is_replayed(notes):
    values = settle(notes)
    assert values.startup.script == str(notes / 'start-notes.py')
    assert values.startup.call is None
    seen = '\n'.join(values.project.evidence)
    assert "minus the server: start-notes.py:43 (quickstart(Root(), '/', conf))" in seen
    assert 'its options keep their defaults' in seen  # optparse, no command line
    assert 'not carried over' not in seen


def test_the_ini_names_the_start_script_instead_of_a_root(notes, tmp_path):
    deploy(str(notes), {'python_home': str(make_venv_marker(tmp_path / 'venv'))})
    ini = (notes / 'apache' / 'notes.ini').read_text()
    assert 'startup_script = %s\n' % (notes / 'start-notes.py') in ini
    assert '\nroot = ' not in ini


def test_two_mounted_trees_need_no_root_but_their_start_up(shelf):
    project = detect(str(shelf))
    assert project.root is None
    values = settle(shelf)
    assert values.startup.script == str(shelf / 'run.py')
    seen = '\n'.join(values.project.evidence)
    assert 'the roots run.py mounts (shelf.web:Api, shelf.web:Shelf)' in seen
    assert 'PIDFile (Apache keeps the pids)' in seen and 'signal handlers' in seen
    with pytest.raises(TgDeployError, match='--root'):
        settle(shelf, startup_script='no')


def test_startup_script_option(notes, shelf):
    assert settle(notes, startup_script='no').startup.script is None
    values = settle(shelf, startup_script='run.py')
    assert values.startup.script == str(shelf / 'run.py')
    assert '(--startup-script)' in '\n'.join(values.project.evidence)
    write(shelf / 'shelf' / 'serve.py', 'import cherrypy\nfrom shelf.web import Shelf\n\n'
          'def main():\n    cherrypy.quickstart(Shelf())\n')
    values = settle(shelf, startup_script='shelf.serve:main')
    assert values.startup.call == 'shelf.serve:main' and values.startup.script is None
    for wrong in ('nothing.py', 'setup.cfg', 'shelf.nothing:main'):
        with pytest.raises(TgDeployError, match='--startup-script'):
            settle(shelf, startup_script=wrong)


def test_a_package_function_that_starts_the_server_is_called(tmp_path):
    project = copy_fixture('replay_shelf', tmp_path / 'shelf')
    (project / 'run.py').unlink()
    write(project / 'shelf' / 'server.py', 'import cherrypy\nfrom shelf.web import Shelf\n\n\n'
          'def serve():\n    cherrypy.tree.mount(Shelf(), "/")\n    cherrypy.engine.start()\n'
          '    cherrypy.engine.block()\n')
    values = settle(project)
    assert values.startup.call == 'shelf.server:serve'
    ini_text = 'startup_call = shelf.server:serve'
    deploy(str(project), {'python_home': str(tmp_path / 'venv')})
    assert ini_text in (project / 'apache' / 'shelf.ini').read_text()


def test_the_doctor_names_environment_the_start_up_reads_and_nobody_sets(notes, tmp_path):
    found = doctor_texts(settle(notes))
    assert ('error', 'start-notes.py:27: the start-up reads NOTES_DB, the deployment does not '
                     'set it (KeyError at start-up): pass --env-file or --setenv NOTES_DB=...') \
        in found
    assert not [t for _, t in doctor_texts(settle(notes, setenv=['NOTES_DB=/srv/n.db']))
                if 'NOTES_DB' in t]
    write(notes / '.env', 'NOTES_DB=/srv/notes.db\n')
    assert not [t for _, t in doctor_texts(settle(notes, env_file='.env')) if 'NOTES_DB' in t]


def test_a_default_is_a_warning(shelf):
    found = doctor_texts(settle(shelf))
    assert ('warning', 'run.py:16: the start-up reads SHELF_DB, the deployment does not set it '
                       '(its default applies): pass --env-file or --setenv SHELF_DB=...') in found


BROKEN_START = '''\
import os
import sys

import cherrypy
from notes.pages import Root

port = int(sys.argv[1])
if os.fork():
    sys.exit(0)
cherrypy.config.update({'server.socket_port': port})
cherrypy.quickstart(Root())
'''


def test_a_start_up_a_replay_cannot_carry_is_reported_and_a_doctor_error(notes):
    (notes / 'start-notes.py').write_text(BROKEN_START)
    values = settle(notes)
    seen = '\n'.join(values.project.evidence)
    assert 'not carried over: it forks (os.fork) (--doctor: an error)' in seen
    assert 'not carried over: it reads sys.argv[1]' in seen
    errors = [t for level, t in doctor_texts(values) if level == 'error']
    assert any(t.startswith('start-notes.py: the start-up forks (os.fork); replayed in each '
                            'daemon process it cannot do that') for t in errors), errors
    assert any('sys.argv[1]' in t for t in errors), errors
    findings = registry.examine(values, apache_root=None, mod_wsgi=None)
    assert exit_code(findings) == WILL_NOT_WORK


def test_an_argument_parser_that_wants_positional_arguments_is_an_error(notes):
    (notes / 'start-notes.py').write_text(
        'import argparse\nimport cherrypy\nfrom notes.pages import Root\n'
        'parser = argparse.ArgumentParser()\nparser.add_argument("config")\n'
        'parser.add_argument("--port", default=8080)\nargs = parser.parse_args()\n'
        'cherrypy.quickstart(Root(), "/", args.config)\n')
    errors = [t for level, t in doctor_texts(settle(notes)) if level == 'error']
    assert any('wants the argument config' in t for t in errors), errors


def test_turbogears1_start_script_and_its_command_start(tmp_path):
    project = make_tg1(tmp_path / 'mysite', requirement='TurboGears >= 1.5')
    write(project / 'start-mysite.py', TG1_START)
    write(project / 'mysite' / 'command.py', TG1_COMMAND)
    values = settle(project, tg_version='1.5')
    assert values.startup.script == str(project / 'start-mysite.py')
    assert 'minus the server: start-mysite.py:5 (start())' in '\n'.join(values.project.evidence)
    errors = [t for level, t in doctor_texts(values) if level == 'error']
    named = sorted(t.split(' reads ')[1].split(',')[0] for t in errors if ' reads ' in t)
    assert named == ['DB_NAME', 'DB_PASSWORD', 'DB_USER'], errors
    # The replayed start-up's update_config and root are its own: no warning about them.
    assert not [t for _, t in doctor_texts(values) if 'command.py' in t and 'start_server'
                in t]
    assert values.startup.sets_config  # README step 2: python apache/mysite.wsgi sql create
    write(project / '.env', 'DB_USER=shop\nDB_PASSWORD="s3cr#t"\nDB_NAME=shop\n')
    values = settle(project, tg_version='1.5', env_file='.env')
    assert not [t for level, t in doctor_texts(values) if level == 'error']


def test_env_file_values_go_into_the_wsgi_readable_by_the_group_only(notes, tmp_path):
    write(notes / '.env', '# compose\nexport NOTES_DB="/srv/notes \\"db\\".db"\n'
                          'SECRET=\'a b#c\' # note\n')
    deploy(str(notes), {'python_home': str(make_venv_marker(tmp_path / 'venv')),
                        'env_file': '.env', 'setenv': ['SECRET=from-setenv']})
    wsgi = notes / 'apache' / 'notes.wsgi'
    text = wsgi.read_text()
    assert "os.environ['NOTES_DB'] = '/srv/notes \"db\".db'\n" in text
    # --setenv comes after the env file, and wins.
    assert text.index("os.environ['SECRET'] = 'a b#c'") < \
        text.index("os.environ['SECRET'] = 'from-setenv'")
    assert stat.S_IMODE(os.stat(str(wsgi)).st_mode) == 0o640
    compile(text, str(wsgi), 'exec')


@pytest.mark.parametrize('text, pairs', [
    ('A=1\n', [('A', '1')]),
    ('export A=1\n# comment\n\n  B = two words  \n', [('A', '1'), ('B', 'two words')]),
    ('A="x # y"\nB=\'$HOME\\n\'\nC=z # comment\n', [('A', 'x # y'), ('B', '$HOME\\n'),
                                                       ('C', 'z')]),
    ('A="line\\nbreak \\"q\\""\n', [('A', 'line\nbreak "q"')]),
    ('A=1\nA=2\n', [('A', '2')]),
    ('A=\n', [('A', '')]),
    ('PASSWORD=caf\u00e9\n', [('PASSWORD', 'caf\u00e9')]),
])
def test_env_file_format(tmp_path, text, pairs):
    path = tmp_path / '.env'
    path.write_text(text, encoding='utf-8')
    assert envfile.read(str(path)) == pairs


@pytest.mark.parametrize('text, message', [
    ('A\n', 'A has no value'),
    ('A="open\n', 'quote is not closed'),
    ('1A=x\n', 'is not NAME=value'),
    ('A="x" y\n', 'text after the closing quote'),
])
def test_env_file_mistakes_are_one_line(tmp_path, text, message):
    path = tmp_path / '.env'
    path.write_text(text)
    with pytest.raises(TgDeployError, match=message):
        envfile.read(str(path))


def test_env_file_must_exist(notes):
    with pytest.raises(TgDeployError, match='--env-file .* is not a file'):
        settle(notes, env_file='missing.env')


def test_startup_script_does_not_apply_to_turbogears2(tmp_path):
    from support.projects import make_tg2
    shop = make_tg2(tmp_path / 'shop')
    with pytest.raises(TgDeployError, match='--startup-script applies to CherryPy'):
        settle(shop, startup_script='start.py')


QUICKSTART_START = '''\
import sys
import turbogears


def _read_config(args):
    turbogears.update_config(configfile=args[0], modulename="mysite.config")


def start():
    _read_config(sys.argv[1:])
    from mysite.controllers import Root
    return turbogears.start_server(Root())
'''


def test_a_quickstart_start_up_keeps_tg_admin_in_the_readme(tmp_path):
    project = make_tg1(tmp_path / 'mysite', requirement='TurboGears >= 1.5')
    write(project / 'start-mysite.py', TG1_START)
    write(project / 'mysite' / 'command.py', QUICKSTART_START)
    values = settle(project, tg_version='1.5')
    assert values.startup.script and not values.startup.sets_config
    deploy(str(project), {'python_home': str(tmp_path / 'venv'), 'tg_version': '1.5'})
    readme = (project / 'apache' / 'README.txt').read_text()
    assert 'tg-admin\' -c' in readme or '/bin/tg-admin -c' in readme
    wsgi = (project / 'apache' / 'mysite.wsgi').read_text()
    assert "if __name__ == '__main__':" in wsgi  # python mysite.wsgi sql create works too
    assert wsgi.index("__name__ == '__main__'") < wsgi.index('application = loadapp(')


@pytest.mark.parametrize('text', [
    # A method of a class (CherryMusic's way): not a start-up that can be replayed alone.
    'import cherrypy\n\nclass Server(object):\n    def start(self):\n'
    '        cherrypy.tree.mount(object())\n        cherrypy.engine.start()\n',
    # A library's helper that serves in a thread (dowser's), not the project's start-up.
    'import cherrypy\n\ndef launch_memory_usage_server(port=8080):\n'
    '    cherrypy.tree.mount(object(), "/dowser")\n    cherrypy.engine.start()\n',
])
def test_what_is_not_taken_for_the_start_up(shelf, text):
    (shelf / 'run.py').unlink()
    write(shelf / 'shelf' / 'engine.py', text)
    write(shelf / 'shelf' / 'root.py', 'import cherrypy\n\nclass Root(object):\n    pass\n')
    assert startup_script.find(str(shelf), 'cherrypy') is None


def test_tests_and_examples_are_not_the_start_up(shelf):
    (shelf / 'run.py').unlink()
    serving = 'import cherrypy\nfrom shelf.web import Shelf\nif __name__ == "__main__":\n' \
              '    cherrypy.quickstart(Shelf())\n'
    for name in ('tests/serve_it.py', 'examples/run.py', 'docs/run.py', 'test_server.py'):
        write(shelf / name, serving)
    assert startup_script.find(str(shelf), 'cherrypy') is None
    write(shelf / 'serve.py', serving)
    assert startup_script.find(str(shelf), 'cherrypy').path == str(shelf / 'serve.py')


def test_reads_for_requests_are_not_the_start_ups(shelf):
    """A page reading os.environ, or the WSGI environ, is no start-up setting."""
    with open(str(shelf / 'shelf' / 'web.py'), 'a') as f:
        f.write('\n\nclass Env(object):\n    def page(self):\n        import os\n'
                '        return os.environ.get("PAGE_ONLY", "") + '
                'cherrypy.request.wsgi_environ["SERVER_ADDR"]\n'
                '\n\ndef helper():\n    return os.environ["AT_START"]\n')
    found = settle(shelf, setenv=['SHELF_DB=/srv/shelf.db']).startup.replay
    assert sorted(set(name for name, _, _, _ in found.env_reads)) == ['AT_START', 'SHELF_DB']
