"""Detection, issue 20 item 6: --config steers every flavor whatever the file's suffix (a
sample, an example, a name that says nothing); a TurboGears 2 app_cfg.py outside
<package>/config/ is recognised; tgdeploy's own files (apache/wsgi-server.conf, anything its
manifest lists, in any output folder) are never "the project's own deployment files"."""
import pytest

from support.projects import make_cherrypy, make_tg1, make_tg2, make_venv_marker, write
from tgdeploy.cli.deploy import deploy
from tgdeploy.detect.arbiter import detect
from tgdeploy.errors import TgDeployError
from tgdeploy.doctor.own_files import deployment_files

INI = '[app:main]\nuse = egg:shop\n'


@pytest.fixture
def both(tmp_path):
    """A TurboGears 1 project that also carries a TurboGears 2 development.ini: without
    --config it reads both ways."""
    site = make_tg1(tmp_path / 'mysite')
    make_tg2(site, name='mysite', package='mysite')
    (site / 'sample-prod.cfg').rename(site / 'prod.cfg.sample')
    return site


def test_a_sample_cfg_steers_turbogears1(both):
    with pytest.raises(TgDeployError, match='pass --flavor'):
        detect(str(both))
    project = detect(str(both), config='prod.cfg.sample')
    assert project.flavor == 'tg1'
    assert project.config_file == str(both / 'prod.cfg.sample')


@pytest.mark.parametrize('name, text, flavor', [
    ('production.ini.dist', INI, 'tg2'),
    ('deploy.txt', INI, 'tg2'),
    ('settings', '[global]\nserver.socket_port = 8080\n', 'tg1'),
    ('prod.CFG.in', '[global]\n', 'tg1'),
])
def test_config_steers_whatever_its_suffix(both, name, text, flavor):
    write(both / name, text)
    assert detect(str(both), config=name).flavor == flavor


def test_a_config_that_says_nothing_in_a_cherrypy_project(tmp_path):
    site = make_cherrypy(tmp_path / 'cp')
    write(site / 'server.settings', '[global]\nserver.socket_port = 8080\n[/]\n')
    assert detect(str(site), config='server.settings').flavor == 'cherrypy'
    write(site / 'app.conf.example', '[global]\nserver.socket_port = 8080\n')
    assert detect(str(site), config='app.conf.example').flavor == 'cherrypy'


def tg2_elsewhere(directory, where):
    """A TurboGears 2 project whose app_cfg.py is at ``where`` instead of shop/config/."""
    site = make_tg2(directory)
    (site / 'shop' / 'config' / 'app_cfg.py').unlink()
    (site / 'shop' / 'config' / '__init__.py').unlink()
    (site / 'shop' / 'config').rmdir()
    write(site / where, 'from tg import FullStackApplicationConfigurator\n')
    return site


@pytest.mark.parametrize('where, package', [
    ('app_cfg.py', 'shop'),                # at the repository root, the package beside it
    ('shop/app_cfg.py', 'shop'),           # in the package's own folder
    ('config/app_cfg.py', 'shop'),         # a config/ folder at the top, not a package
])
def test_app_cfg_outside_the_package_config(tmp_path, where, package):
    site = tg2_elsewhere(tmp_path / 'shop', where)
    project = detect(str(site))
    assert (project.flavor, project.package) == ('tg2', package)
    assert project.static_root == str(site / 'shop' / 'public')
    assert 'TurboGears 2: development.ini (%s)' % where in project.evidence[0]


def test_the_repository_is_the_package(tmp_path):
    site = tmp_path / 'blog'
    write(site / 'setup.py', 'from setuptools import setup\nsetup(name="blog")\n')
    write(site / '__init__.py')
    write(site / 'app_cfg.py', 'from tg import FullStackApplicationConfigurator\n')
    write(site / 'development.ini', INI.replace('shop', 'blog'))
    write(site / 'public' / 'style.css', 'body {}\n')
    project = detect(str(site))
    assert (project.flavor, project.package) == ('tg2', 'blog')
    assert project.static_root == str(site / 'public')


@pytest.mark.parametrize('output', ['apache', 'deploy/apache-prod'])
def test_tgdeploy_s_own_files_are_never_the_project_s(tmp_path, output):
    make_venv_marker(tmp_path / 'venv')
    site = make_cherrypy(tmp_path / 'cp')
    write(site / 'conf' / 'site.conf', 'WSGIScriptAlias / /srv/cp/cp.wsgi\n')
    (site / 'deploy').mkdir()
    given = {'python_home': str(tmp_path / 'venv'), 'output_dir': output}
    values = deploy(str(site), dict(given), out=lambda line: None)
    out = site / output
    assert (out / 'wsgi-server.conf').is_file()
    # The operator edited a generated file: still tgdeploy's, never the project's own.
    with (out / 'cherryapp.conf').open('a') as f:
        f.write('# my edit\nWSGIPassAuthorization On\n')
    (out / 'wsgi-server.conf').write_text((out / 'wsgi-server.conf').read_text().replace(
        'written by\n# tgdeploy', 'made by\n# someone'))
    found = [str(path.relative_to(site)) if hasattr(path, 'relative_to') else
             path[len(str(site)) + 1:] for path, kind, text in deployment_files(values)]
    assert found == ['conf/site.conf'], found
