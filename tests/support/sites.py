"""Deployable sites made the way an operator makes them; shared by the tests, the demo and
the benchmark."""
import os

from support.venv import Venv, run

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures')

FRAMEWORKS = ('TurboGears2', 'tg.devtools', 'alembic', 'CherryPy')


def make_venv(path, tgdeploy):
    """A virtualenv from /usr/bin/python3 (the distribution's) with today's pip, ``tgdeploy`` (a wheel or a
    source folder) and the frameworks."""
    venv = Venv(path).create()
    venv.pip_install('--upgrade', 'pip')
    venv.pip_install(str(tgdeploy), *FRAMEWORKS)
    return venv


def quickstart_tg2(venv, parent, name):
    """`gearbox quickstart NAME` in ``parent``, installed into ``venv``."""
    run([venv.bin('gearbox'), 'quickstart', name], cwd=parent, input='')
    project = os.path.join(str(parent), name)
    venv.pip_install('-e', project)
    return project


def setup_tg2_data(venv, project, ini):
    """The README's steps: data folder, `gearbox setup-app` with the deployed ini, ownership."""
    data = os.path.join(str(project), 'data')
    run(['install', '-d', '-o', 'www-data', '-g', 'www-data', data, os.path.join(data, 'egg-cache')])
    run([venv.bin('gearbox'), 'setup-app', '-c', str(ini)], cwd=project)
    run(['chown', '-R', 'www-data:www-data', data])
    return data


# pip 20 on Python 2.7 trips over this machine's pip configuration (FIELD-NOTES).
PY27_ENV = dict(os.environ, PIP_CONFIG_FILE='/dev/null')
PY27_ENV.pop('PIP_FIND_LINKS', None)

# 1.0's quickstart has no --no-identity (it asks on stdin); 1.1/1.5 take the flag.
TG1_QUICKSTART_FLAGS = {'1.0': ['-s'], '1.1': ['-s', '--no-identity'],
                        '1.5': ['-s', '--no-identity']}


def quickstart_tg1(venv, parent, line, env):
    """`tg-admin quickstart` of a SQLAlchemy project 'mysite' in ``parent`` with the TG ``line``
    installed in ``venv``, plus the pages tests/fixtures/tg1_controllers_extra.py adds."""
    # The egg_info step of 1.0/1.1 fails on the marker fixed below, hence check=False.
    run([venv.bin('tg-admin'), 'quickstart'] + TG1_QUICKSTART_FLAGS[line] +
        ['-p', 'mysite', 'mysite'], cwd=parent, input='no\n', env=env, check=False)
    project = os.path.join(str(parent), 'mysite')
    # Quickstart from pip-installed TG writes an invalid `; extra == "sqlalchemy"` marker.
    for name in ('setup.py', os.path.join('mysite', 'model.py')):
        with open(os.path.join(project, name)) as f:
            text = f.read()
        with open(os.path.join(project, name), 'w') as f:
            f.write(text.replace('; extra == "sqlalchemy"', ''))
    with open(os.path.join(FIXTURES, 'tg1_controllers_extra.py')) as f:
        extra = f.read()
    with open(os.path.join(project, 'mysite', 'controllers.py'), 'a') as f:
        f.write(extra)
    return project


def setup_tg1_data(venv, project, cfg, env):
    """The README's steps: data folder, `tg-admin sql create` with the deployed cfg, ownership."""
    data = os.path.join(str(project), 'data')
    run(['install', '-d', '-o', 'www-data', '-g', 'www-data', data, os.path.join(data, 'egg-cache')])
    run([venv.bin('tg-admin'), '-c', str(cfg), 'sql', 'create'], cwd=project, env=env)
    run(['chown', '-R', 'www-data:www-data', data])
    return data
