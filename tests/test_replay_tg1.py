"""End to end, Python 2.7: a real TurboGears 1.5 quickstart (`tg-admin quickstart` in the
lab's tg15 virtualenv) whose command.start() builds its sqlalchemy.dburi from DB_*
environment variables, as compose-run projects do. Deployed by `paster tgdeploy --env-file
.env` with no hand edit, README.txt step 2 run as written (its `sql create` replays the
start-up, so the tables land in the database the environment names), served by Apache with
mod_wsgi for 2.7 at / and at a sub-URL. PEAK-Rules is the lab's stand-in (tests/standins)."""
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import LAB
from support.sites import PY27_ENV
from support.venv import Venv, run
from test_e2e_apache import STOP_BOUND, prefix_of

PY27 = LAB / 'py27'
MOD_WSGI_27 = PY27 / 'mod_wsgi-py27.so'

START = '''def start():
    """Start the CherryPy application server."""
    _read_config(sys.argv[1:])
    # The database the compose file's environment names.
    import os
    turbogears.config.update({'global': {'sqlalchemy.dburi': 'sqlite:///%s/%s.sqlite' % (
        os.environ['DB_DIR'], os.environ['DB_NAME'])}})
    from envsite.controllers import Root
    return turbogears.start_server(Root())
'''
MODEL = '''

notes_table = Table('envsite_notes', metadata, Column('id', Integer, primary_key=True),
                    Column('text', Unicode(100)))
'''
CONTROLLERS = '''

import turbogears as _tg


@_tg.expose()
def dbinfo(self):
    from envsite.model import notes_table
    from turbogears.database import get_engine
    count = get_engine().execute(notes_table.count()).scalar()
    return '%s rows=%d' % (_tg.config.get('sqlalchemy.dburi'), count)


Root.dbinfo = dbinfo
'''


def edit(path, change):
    path.write_text(change(path.read_text()))


@pytest.fixture(scope='module')
def envsite(www_root):
    venv = Venv(PY27 / 'tg15')
    if not (os.path.exists(venv.python) and MOD_WSGI_27.exists()):
        pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % PY27)
    uninstall = [venv.bin('pip'), 'uninstall', '-q', '-y', 'envsite']
    run(uninstall, env=PY27_ENV, check=False)
    parent = www_root / 'replay-tg15'
    parent.mkdir(mode=0o755)
    run([venv.bin('tg-admin'), 'quickstart', '-s', '--no-identity', '-p', 'envsite',
         'envsite'], cwd=parent, input='', env=PY27_ENV, check=False)
    project = parent / 'envsite'
    for name in ('setup.py', 'envsite/model.py'):  # the known quickstart fix (FIELD-NOTES)
        edit(project / name, lambda text: text.replace('; extra == "sqlalchemy"', ''))
    edit(project / 'envsite' / 'command.py', lambda text: text.split('def start():')[0] + START)
    edit(project / 'envsite' / 'model.py', lambda text: text + MODEL)
    edit(project / 'envsite' / 'controllers.py', lambda text: text + CONTROLLERS)
    run([venv.bin('pip'), 'install', '-q', '-e', project], env=PY27_ENV)
    yield venv, project
    run(uninstall, env=PY27_ENV, check=False)


def readme_step_2(readme):
    """The command lines of README.txt step 2, as written."""
    text = readme.read_text()
    step = text[text.index('\n2. '):text.index('\n3. ')]
    return [line.strip() for line in step.splitlines()
            if re.match(r'^     (install|cd|chown|chgrp) ', line)]


@pytest.mark.parametrize('mount', ['/', '/envsite'])
def test_command_start_with_its_database_from_the_environment(envsite, apache_factory, mount):
    venv, project = envsite
    data = project / 'data'
    (project / '.env').write_text('# what compose passes\nexport DB_DIR=%s\nDB_NAME="compose"\n'
                                  % data)
    apache = apache_factory([project / 'apache' / 'envsite.conf'], wsgi_module=str(MOD_WSGI_27))
    out = subprocess.run([venv.bin('paster'), 'tgdeploy', '--env-file', '.env', '--mount',
                          mount, '--server-name', '127.0.0.1', '--port', str(apache.port),
                          '--overwrite'], cwd=str(project), env=PY27_ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert out.returncode == 0, out.stdout
    assert 'minus the server: start-envsite.py' in out.stdout, out.stdout
    assert 'environment from .env: DB_DIR, DB_NAME' in out.stdout
    steps = readme_step_2(project / 'apache' / 'README.txt')
    assert any(line.endswith('envsite.wsgi sql create') for line in steps), steps
    for line in steps:
        run(['bash', '-c', line], env=PY27_ENV)
    assert (data / 'compose.sqlite').exists()  # where the environment says, not the .cfg
    prefix = prefix_of(mount)
    status, _, page = apache.start(prefix + '/')
    assert status == 200, apache.error_log()[-3000:]
    assert prefix + '/static/css/style.css' in page
    status, _, body = apache.get(prefix + '/dbinfo')
    assert status == 200, apache.error_log()[-3000:]
    assert body == 'sqlite:///%s/compose.sqlite rows=0' % data
    assert apache.get(prefix + '/static/css/style.css')[0] == 200
    assert apache.stop() < STOP_BOUND
    log = apache.error_log()
    assert 'Traceback' not in log, log[-3000:]
    assert 'Serving on' not in log


READS_FIRST = '''    from envsite.model import notes_table
    from turbogears.database import get_engine
    get_engine().execute(notes_table.select()).fetchall()  # the database must be there
'''


def test_a_start_up_that_reads_its_database_before_serving(envsite, apache_factory):
    """gibe's start script serves RootBlogController(Blog.get(1)): README step 2's replay
    stops there, before the tables exist, and creates them with the settings made so far."""
    venv, project = envsite
    command = project / 'envsite' / 'command.py'
    original = command.read_text()
    command.write_text(original.replace('    from envsite.controllers import Root\n',
                                        READS_FIRST + '    from envsite.controllers import Root\n'))
    try:
        data = project / 'data'
        (project / '.env').write_text('DB_DIR=%s\nDB_NAME=first\n' % data)
        apache = apache_factory([project / 'apache' / 'envsite.conf'],
                                wsgi_module=str(MOD_WSGI_27))
        run([venv.bin('paster'), 'tgdeploy', '-q', '--env-file', '.env', '--server-name',
             '127.0.0.1', '--port', str(apache.port), '--overwrite'], cwd=project, env=PY27_ENV)
        said = ''
        for line in readme_step_2(project / 'apache' / 'README.txt'):
            out = subprocess.run(['bash', '-c', line], env=PY27_ENV, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
            assert out.returncode == 0, out.stdout
            said += out.stdout
        assert 'stopped before it started its server (OperationalError' in said, said
        status, _, body = apache.start('/dbinfo')
        assert status == 200, apache.error_log()[-3000:]
        assert body == 'sqlite:///%s/first.sqlite rows=0' % data
        assert apache.stop() < STOP_BOUND
    finally:
        command.write_text(original)
