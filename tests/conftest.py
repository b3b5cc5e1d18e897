"""Fixtures shared by the whole suite: the lab, a temp root www-data can enter, a wheel of
tgdeploy, a deploy virtualenv, and real projects made by their frameworks' own tools."""
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.httpd import APACHE, DEBIAN_WSGI, Apache  # noqa: E402
from support.sites import make_venv, quickstart_tg2, setup_tg2_data  # noqa: E402
from support.venv import SYSTEM_PYTHON, Venv, run  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / 'fixtures'
LAB = Path(os.environ.get('TGDEPLOY_LAB', '/opt/tgdeploy-lab'))
LAB_PY3 = Venv(LAB / 'py3')


def pytest_sessionstart(session):
    needed = [(APACHE, 'Apache httpd'), (DEBIAN_WSGI, "Debian's mod_wsgi"),
              (SYSTEM_PYTHON, "the distribution's Python 3"), (LAB_PY3.python, 'the Python 3 lab')]
    missing = ['%s (%s)' % (what, path) for path, what in needed if not os.path.exists(path)]
    if missing:
        pytest.exit('missing: %s. Run scripts/provision (or scripts/test, which calls it).'
                    % ', '.join(missing), returncode=3)


@pytest.fixture(scope='session')
def www_root():
    """A temp folder the www-data daemon user can traverse (pytest's tmp_path is 0700)."""
    root = Path(tempfile.mkdtemp(prefix='tgdeploy-tests-', dir='/tmp'))
    root.chmod(0o755)
    yield root
    shutil.rmtree(str(root), ignore_errors=True)


@pytest.fixture
def www_tmp(www_root):
    path = Path(tempfile.mkdtemp(dir=str(www_root)))
    path.chmod(0o755)
    return path


@pytest.fixture(scope='session')
def wheel(www_root):
    """tgdeploy built from this checkout, the way it is published."""
    dist = www_root / 'dist'
    run([LAB_PY3.python, '-m', 'pip', 'wheel', '-q', '--no-deps', '-w', dist, REPO])
    wheels = list(dist.glob('tgdeploy-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope='session')
def deploy_venv(www_root, wheel):
    """The virtualenv Apache runs the test projects in: tgdeploy's wheel plus the frameworks."""
    return make_venv(www_root / 'venv', wheel)


@pytest.fixture(scope='session')
def tg2_project(www_root, deploy_venv):
    """A real `gearbox quickstart` project, installed in the deploy virtualenv."""
    src = www_root / 'src'
    src.mkdir(exist_ok=True)
    src.chmod(0o755)
    return Path(quickstart_tg2(deploy_venv, src, 'tg2app'))


@pytest.fixture(scope='session')
def tg2_data(tg2_project, deploy_venv):
    """The quickstart's database, made once with the production ini, owned by www-data."""
    paster(deploy_venv, 'tgdeploy', '-q', cwd=tg2_project)
    return setup_tg2_data(deploy_venv, tg2_project, tg2_project / 'apache' / 'tg2app.ini')


@pytest.fixture(scope='session')
def cherry_project(www_root, deploy_venv):
    """A CherryPy 18 application (tests/fixtures/cherryapp), installed like a user's."""
    project = www_root / 'src' / 'cherryapp'
    project.parent.mkdir(exist_ok=True)
    project.parent.chmod(0o755)
    shutil.copytree(str(FIXTURES / 'cherryapp'), str(project))
    deploy_venv.pip_install('-e', str(project))
    return project


@pytest.fixture
def tree(tmp_path):
    """An empty /etc/apache2-like tree."""
    root = tmp_path / 'etc-apache2'
    for folder in ('mods-enabled', 'conf-enabled', 'sites-enabled'):
        (root / folder).mkdir(parents=True)
    return root


@pytest.fixture
def apache_factory(www_tmp):
    """Make private Apaches (started by the test); all of them are stopped afterwards."""
    made = []

    def make(includes, **kwargs):
        root = Path(tempfile.mkdtemp(dir=str(www_tmp)))
        root.chmod(0o755)
        apache = Apache(str(root), [str(i) for i in includes], **kwargs)
        made.append(apache)
        return apache

    yield make
    for apache in made:
        apache.stop()


def paster(venv, *args, cwd=None, check=True):
    return run([venv.bin('paster')] + list(args), cwd=cwd, check=check)
