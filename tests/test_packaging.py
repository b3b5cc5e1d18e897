"""tgdeploy as users install it: the wheel, `pip install .` with today's pip, and editable."""
import zipfile

import pytest

from conftest import REPO
from support.projects import make_tg2, make_venv_marker
from support.venv import Venv, run

TEMPLATE_FILES = ['+slug+.conf_tmpl', '+slug+.wsgi_tmpl', '+slug+.ini_tmpl', 'README.txt_tmpl',
                  'htdocs/.keep']


def test_wheel_ships_templates_inside_the_package(wheel):
    names = zipfile.ZipFile(str(wheel)).namelist()
    for name in TEMPLATE_FILES:
        assert 'tgdeploy/paste_templates/tg_modwsgi/apache/' + name in names
    assert not [n for n in names if n.startswith('paste_templates/')]
    entry_points = zipfile.ZipFile(str(wheel)).read(
        [n for n in names if n.endswith('entry_points.txt')][0]).decode()
    for line in ('tg_modwsgi = tgdeploy.cli.template:TgModWsgiTemplate',
                 'tgdeploy = tgdeploy.cli.command:TgDeployCommand',
                 'cherrypy = tgdeploy.apps.cherrypy_app:make_app'):
        assert line in entry_points


def test_wheel_ships_every_template_file(wheel):
    """Each file of paste_templates/ (every template tree: tg_modwsgi, tg_balancer,
    tg_container, private_apache) is in the wheel, so no front end meets a missing one."""
    names = set(zipfile.ZipFile(str(wheel)).namelist())
    source = [p.relative_to(REPO / 'paste_templates') for p in (REPO / 'paste_templates').rglob('*')
              if p.is_file() and '__pycache__' not in p.parts and p.suffix != '.pyc']
    missing = [str(p) for p in source
               if 'tgdeploy/paste_templates/%s' % p.as_posix() not in names]
    assert source and not missing, missing


def assert_paster_works(venv, tmp_path):
    """paster finds both plugins, prints no warning, and renders a project."""
    listing = run([venv.bin('paster'), 'create', '--list-templates'], cwd=tmp_path)
    assert 'tg_modwsgi' in listing.stdout and listing.stderr == ''
    help_text = run([venv.bin('paster'), 'help'], cwd=tmp_path)
    assert 'tgdeploy' in help_text.stdout and help_text.stderr == ''
    make_venv_marker(tmp_path / 'home')
    project = make_tg2(tmp_path / 'shop')
    run([venv.bin('paster'), 'tgdeploy', '-q', '--python-home', tmp_path / 'home'], cwd=project)
    assert (project / 'apache' / 'shop.conf').is_file()
    site = list((tmp_path / 'venv' / 'lib').glob('python*/site-packages'))[0]
    assert not (site / 'paste_templates').exists()  # no generic top-level package


@pytest.fixture
def fresh_venv(tmp_path):
    venv = Venv(tmp_path / 'venv').create()
    venv.pip_install('--upgrade', 'pip')  # today's pip, not the one venv bundles
    return venv


def test_pip_install_into_a_fresh_venv(fresh_venv, tmp_path):
    fresh_venv.pip_install(str(REPO))
    # setuptools 81+ has no pkg_resources, which paster imports: our requirement pins it.
    version = run([fresh_venv.python, '-c', 'import setuptools; print(setuptools.__version__)'])
    assert tuple(int(x) for x in version.stdout.split('.')[:2]) < (80, 9)
    assert_paster_works(fresh_venv, tmp_path)


def test_editable_install(fresh_venv, tmp_path):
    fresh_venv.pip_install('-e', str(REPO))
    assert_paster_works(fresh_venv, tmp_path)
