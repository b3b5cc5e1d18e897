"""Deployable sites made the way an operator makes them; shared by the tests, the demo and
the benchmark."""
import os

from support.venv import Venv, run

FRAMEWORKS = ('TurboGears2', 'tg.devtools', 'alembic', 'CherryPy')


def make_venv(path, tgdeploy):
    """A virtualenv from /usr/bin/python3.11 with today's pip, ``tgdeploy`` (a wheel or a
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
