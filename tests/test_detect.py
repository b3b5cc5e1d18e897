"""Detection reads project files only; these trees mirror what each quickstart writes."""
import pytest

from conftest import LAB_PY3
from support.projects import make_cherrypy, make_tg1, make_tg2, write
from support.venv import run
from tgdeploy.detect import detect
from tgdeploy.errors import TgDeployError


def test_tg2(tmp_path):
    project = detect(make_tg2(tmp_path / 'shop'))
    assert (project.flavor, project.name, project.package) == ('tg2', 'shop', 'shop')
    assert project.config_file == str(tmp_path / 'shop' / 'development.ini')
    assert project.static_dir == str(tmp_path / 'shop' / 'shop' / 'public')
    assert [url for url, _ in project.static_urls] == ['/css', '/favicon.ico']


def test_tg2_production_ini_is_preferred(tmp_path):
    d = make_tg2(tmp_path / 'shop')
    write(d / 'production.ini', '[app:main]\nuse = egg:shop\n')
    assert detect(d).config_file == str(d / 'production.ini')


def test_real_quickstart_with_another_package_name(tmp_path):
    """`gearbox quickstart NAME -p PACKAGE`: project and package names differ."""
    run([LAB_PY3.bin('gearbox'), 'quickstart', 'Big-Shop', '-p', 'bigshop'], cwd=tmp_path,
        input='')
    project = detect(tmp_path / 'Big-Shop')
    assert (project.flavor, project.name, project.package) == ('tg2', 'Big-Shop', 'bigshop')
    assert project.static_dir.endswith('/bigshop/public')


def test_tg1(tmp_path):
    project = detect(make_tg1(tmp_path / 'mysite'))
    assert (project.flavor, project.name, project.package) == ('tg1', 'mysite', 'mysite')
    assert project.config_file.endswith('/sample-prod.cfg')
    static = tmp_path / 'mysite' / 'mysite' / 'static'
    assert project.static_urls == [('/static', str(static)),
                                   ('/favicon.ico', str(static / 'images' / 'favicon.ico'))]
    assert project.root == 'mysite.controllers:Root'
    assert project.tg_requirement == '1.1' and not project.uses_sqlobject


def test_tg1_config_that_cannot_be_parsed(tmp_path):
    d = make_tg1(tmp_path / 'mysite')
    write(d / 'sample-prod.cfg', '[global\nserver.environment="production"\n')
    with pytest.raises(TgDeployError, match='cannot parse .*sample-prod.cfg'):
        detect(d)


def test_cherrypy_found_by_convention(tmp_path):
    project = detect(make_cherrypy(tmp_path / 'cherryapp'))
    assert (project.flavor, project.name, project.root) == (
        'cherrypy', 'cherryapp', 'cherryapp.app:Root')
    assert project.config_file == str(tmp_path / 'cherryapp' / 'app.conf')
    assert project.static_urls == [('/static', str(tmp_path / 'cherryapp' / 'cherryapp' / 'static'))]


def test_cherrypy_single_module_without_packaging(tmp_path):
    write(tmp_path / 'site' / 'hello.py', 'import cherrypy\n\nclass Root:\n    pass\n')
    project = detect(tmp_path / 'site')
    assert (project.flavor, project.name, project.root) == ('cherrypy', 'site', 'hello:Root')


def test_cherrypy_static_dirs_from_its_config(tmp_path):
    d = make_cherrypy(tmp_path / 'cherryapp')
    write(d / 'assets' / 'site.css', 'body {}\n')
    write(d / 'app.conf', '[/]\nx = 1\n\n[/assets/]\ntools.staticdir.on = True\n'
                          'tools.staticdir.dir = "assets"\n')
    project = detect(d)
    assert project.static_urls == [('/assets', str(d / 'assets'))]


def test_cherrypy_two_roots_need_root_option(tmp_path):
    d = make_cherrypy(tmp_path / 'cherryapp')
    write(d / 'cherryapp' / 'other.py', 'import cherrypy\nclass Root: pass\n')
    with pytest.raises(TgDeployError, match='--root'):
        detect(d)
    assert detect(d, root='cherryapp.other:Root').root == 'cherryapp.other:Root'


def test_virtualenv_and_apache_folders_are_not_searched(tmp_path):
    d = make_cherrypy(tmp_path / 'cherryapp')
    write(d / 'venv' / 'pyvenv.cfg', 'home = /usr/bin\n')
    write(d / 'venv' / 'lib' / '__init__.py')
    write(d / 'venv' / 'lib' / 'cp.py', 'import cherrypy\nclass Root: pass\n')
    assert detect(d).root == 'cherryapp.app:Root'


@pytest.mark.parametrize('make, message', [
    (lambda d: d, 'is not a directory'),
    (lambda d: write(d / 'notes.txt').parent, 'is not a project directory'),
    (lambda d: write(d / 'setup.py', 'from setuptools import setup\n').parent,
     'cannot tell what kind of project'),
])
def test_not_a_project(tmp_path, make, message):
    with pytest.raises(TgDeployError, match=message):
        detect(make(tmp_path / 'p'))


def test_missing_config(tmp_path):
    with pytest.raises(TgDeployError, match=r'config file .*nope.ini not found: pass --config'):
        detect(make_tg2(tmp_path / 'shop'), config='nope.ini')


def test_unparsable_config(tmp_path):
    d = make_tg2(tmp_path / 'shop')
    write(d / 'development.ini', 'this is not an ini file\n[app:main\n')
    with pytest.raises(TgDeployError, match='cannot parse .*development.ini'):
        detect(d)
