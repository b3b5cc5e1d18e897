"""Detection reads project files only; these trees mirror what each quickstart writes."""
import pytest

from conftest import LAB_PY3
from support.projects import make_cherrypy, make_tg1, make_tg2, write
from support.venv import run
from tgdeploy.detect.arbiter import detect
from tgdeploy.errors import TgDeployError


def test_tg2(tmp_path):
    project = detect(make_tg2(tmp_path / 'shop'))
    assert (project.flavor, project.name, project.package) == ('tg2', 'shop', 'shop')
    assert project.config_file == str(tmp_path / 'shop' / 'development.ini')
    assert project.package_dir == str(tmp_path / 'shop' / 'shop')
    assert [url for url, _ in project.static_urls] == ['/css', '/favicon.ico']
    assert project.evidence == ['TurboGears 2: development.ini (shop/config/app_cfg.py)']


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
    assert project.package_dir.endswith('/bigshop')


def test_tg1(tmp_path):
    project = detect(make_tg1(tmp_path / 'mysite'))
    assert (project.flavor, project.name, project.package) == ('tg1', 'mysite', 'mysite')
    assert project.config_file.endswith('/dev.cfg')  # what it runs with, not the sample
    static = tmp_path / 'mysite' / 'mysite' / 'static'
    assert project.static_urls == [('/static', str(static)),
                                   ('/favicon.ico', str(static / 'images' / 'favicon.ico'))]
    assert project.root == 'mysite.controllers:Root'
    assert project.tg_requirement == '1.1' and not project.uses_sqlobject


def test_tg1_config_that_cannot_be_parsed(tmp_path):
    d = make_tg1(tmp_path / 'mysite')
    write(d / 'dev.cfg', '[global\nserver.environment="production"\n')
    with pytest.raises(TgDeployError, match='cannot parse .*dev.cfg'):
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
    app = d / 'cherryapp' / 'app.py'  # nothing handed to quickstart(): two class Roots
    app.write_text(app.read_text().split("\n\nif __name__ == '__main__':")[0] + '\n')
    write(d / 'cherryapp' / 'other.py', 'import cherrypy\nclass Root: pass\n')
    with pytest.raises(TgDeployError, match='--root'):
        detect(d)
    assert detect(d, root='cherryapp.other:Root').root == 'cherryapp.other:Root'


def test_cherrypy_the_root_handed_to_quickstart_wins(tmp_path):
    d = make_cherrypy(tmp_path / 'cherryapp')
    write(d / 'cherryapp' / 'other.py', 'import cherrypy\nclass Root: pass\n')
    assert detect(d).root == 'cherryapp.app:Root'


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


# -- real layouts (modelled on published TurboGears applications) -----------------------

def test_tg1_namespace_package_with_templated_app_cfg_and_its_own_cfg_name(tmp_path):
    """Beaker's bkr/server/config/app.cfg (a namespace package) and Fedora's account
    system (app.cfg.in until setup.py build, the config named <name>.cfg)."""
    d = tmp_path / 'beaker'
    write(d / 'setup.py', 'from setuptools import setup\nsetup(name="beaker-server")\n')
    write(d / 'bkr' / '__init__.py', '__import__("pkg_resources").declare_namespace(__name__)\n')
    write(d / 'bkr' / 'server' / '__init__.py')
    write(d / 'bkr' / 'server' / 'config' / '__init__.py')
    write(d / 'bkr' / 'server' / 'config' / 'app.cfg.in', '[global]\nx = 1\n')
    write(d / 'bkr' / 'server' / 'controllers.py', 'class Root(object):\n    pass\n')
    write(d / 'server.cfg', '[global]\nserver.environment="production"\n')
    project = detect(d)
    assert (project.flavor, project.package, project.root) == (
        'tg1', 'bkr.server', 'bkr.server.controllers:Root')
    assert project.config_file == str(d / 'server.cfg')
    assert project.evidence[0] == ('TurboGears 1.x: bkr/server/config/app.cfg.in, server.cfg, '
                                   'root bkr.server.controllers:Root (class Root)')
    assert 'app.cfg.in is a template' in project.evidence[1]


def test_config_steers_the_flavor(tmp_path):
    """A TurboGears 1.x project that also has a CherryPy-looking module, named by --config."""
    d = make_tg1(tmp_path / 'fas')
    (d / 'dev.cfg').rename(d / 'fas.cfg')
    (d / 'sample-prod.cfg').unlink()
    write(d / 'tools' / '__init__.py')
    write(d / 'tools' / 'standalone.py', 'import cherrypy\nclass Root: pass\n')
    assert detect(d, config='fas.cfg').flavor == 'tg1'
    assert detect(d).config_file == str(d / 'fas.cfg')  # any *.cfg with [global]


def test_tg1_root_from_the_start_script(tmp_path):
    d = make_tg1(tmp_path / 'mysite')
    write(d / 'mysite' / 'controllers.py', '# moved\n')
    write(d / 'mysite' / 'web' / '__init__.py')
    write(d / 'mysite' / 'web' / 'root.py', 'class Website(object):\n    pass\n')
    write(d / 'start-mysite.py', 'from turbogears import start_server\n'
                                 'from mysite.web.root import Website\n'
                                 'start_server(Website())\n')
    project = detect(d)
    assert project.root == 'mysite.web.root:Website'
    assert 'root mysite.web.root:Website (start-mysite.py)' in project.evidence[0]


def test_tg1_root_in_a_controllers_package(tmp_path):
    """controllers/__init__.py does `import root`: the class lives in controllers.root."""
    d = make_tg1(tmp_path / 'mysite')
    (d / 'mysite' / 'controllers.py').unlink()
    write(d / 'mysite' / 'controllers' / '__init__.py', 'import root\n')
    write(d / 'mysite' / 'controllers' / 'root.py', 'class Root(object):\n    pass\n')
    assert detect(d).root == 'mysite.controllers.root:Root'
    assert detect(d, root='mysite.other:Home').root == 'mysite.other:Home'  # --root wins


def test_cherrypy_root_handed_to_quickstart(tmp_path):
    write(tmp_path / 'site' / 'setup.py', '')
    write(tmp_path / 'site' / 'blog' / '__init__.py')
    write(tmp_path / 'site' / 'blog' / 'pages.py', 'class Blog(object):\n    pass\n')
    write(tmp_path / 'site' / 'blog' / 'main.py', 'import cherrypy\nfrom .pages import Blog\n'
                                                  'cherrypy.quickstart(Blog(), "/")\n')
    project = detect(tmp_path / 'site')
    assert (project.flavor, project.root) == ('cherrypy', 'blog.pages:Blog')


def test_cherrypy_memory_sessions_are_seen(tmp_path):
    d = make_cherrypy(tmp_path / 'cherryapp')
    write(d / 'app.conf', "[/]\ntools.sessions.on = True\n")
    assert 'app.conf switches tools.sessions on' in detect(d).memory_sessions
    write(d / 'app.conf', "[/]\ntools.sessions.on = True\n"
                          "tools.sessions.storage_class = cherrypy.lib.sessions.FileSession\n")
    assert detect(d).memory_sessions is None


def test_two_turbogears_readings_stop_with_both(tmp_path):
    d = make_tg2(tmp_path / 'shop')
    write(d / 'legacy' / '__init__.py')
    write(d / 'legacy' / 'config' / '__init__.py')
    write(d / 'legacy' / 'config' / 'app.cfg', '[global]\n')
    write(d / 'prod.cfg', '[global]\n')
    with pytest.raises(TgDeployError, match=r'reads as TurboGears 2 \(.*\) and as TurboGears '
                                            r'1.x \(.*\): pass --flavor tg2 or --flavor tg1'):
        detect(d)
    assert detect(d, flavor='tg1').flavor == 'tg1'


def test_an_installed_application_deployed_by_its_ini_alone(tmp_path):
    """Kallithea's way: pip install kallithea, kallithea-cli config-create my.ini."""
    write(tmp_path / 'kal' / 'my.ini', '[app:main]\nuse = egg:kallithea\ndebug = false\n')
    project = detect(tmp_path / 'kal', config='my.ini')
    assert (project.flavor, project.package, project.package_dir) == ('tg2', 'kallithea', None)
    assert project.static_urls == []
    with pytest.raises(TgDeployError, match='is not a project directory'):
        detect(tmp_path / 'kal')


def test_src_layout(tmp_path):
    """Packages under src/ (dowser 0.2 on PyPI, most new projects): imported as `dowser`,
    not `src.dowser`, for CherryPy roots and TurboGears packages alike."""
    write(tmp_path / 'cp' / 'setup.py', 'from setuptools import setup\n'
          'setup(name="dowser", package_dir={"": "src"}, packages=["dowser"])\n')
    write(tmp_path / 'cp' / 'src' / 'dowser' / '__init__.py',
          'import cherrypy\n\nclass Root:\n    pass\n\n\ndef main():\n'
          '    cherrypy.quickstart(Root())\n')
    assert detect(str(tmp_path / 'cp')).root == 'dowser:Root'
    make_tg2(tmp_path / 'tg2')
    (tmp_path / 'tg2' / 'src').mkdir()
    (tmp_path / 'tg2' / 'shop').rename(tmp_path / 'tg2' / 'src' / 'shop')
    write(tmp_path / 'tg2' / 'tests' / '__init__.py')
    project = detect(str(tmp_path / 'tg2'))
    assert (project.flavor, project.package) == ('tg2', 'shop')
    assert project.package_dir == str(tmp_path / 'tg2' / 'src' / 'shop')
    # A package beside src/: src/ holds something else, the project is imported from its top.
    write(tmp_path / 'cp' / 'src' / 'vendored' / '__init__.py')
    write(tmp_path / 'cp' / 'site' / '__init__.py', 'import cherrypy\n\nclass Root:\n    pass\n')
    (tmp_path / 'cp' / 'src' / 'dowser' / '__init__.py').unlink()
    assert detect(str(tmp_path / 'cp')).root == 'site:Root'
