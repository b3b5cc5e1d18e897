"""The TurboGears 2 root controller the .wsgi imports in each process after loadapp (issue 20,
items 1 and 3; settle/app_config.py), and the derived ini with --startup that README step
2's setup-app accepts (item 2), without Apache. End to end: tests/test_mount_links_tw1.py
(TurboGears 2.1, paster setup-app) and tests/test_mount_links.py (2.5, gearbox setup-app,
gunicorn)."""
import configparser

import pytest

from support.projects import make_tg2, make_venv_marker, write
from tgdeploy.detect.arbiter import detect
from tgdeploy.settle import options
from tgdeploy.write.render import render


@pytest.fixture
def shop(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    return make_tg2(tmp_path / 'shop')


def rendered(project, **given):
    given.setdefault('python_home', str(project.parent / 'venv'))
    values = options.settle(detect(str(project)), given)
    out = project / 'out'
    out.mkdir()
    render(values, str(out))
    return values, (out / 'shop.wsgi').read_text(), (out / 'shop.ini').read_text()


@pytest.mark.parametrize('layout', ['controllers/root.py', 'controllers/root/__init__.py'])
def test_the_wsgi_imports_the_root_controller_after_loadapp(shop, layout):
    write(shop / 'shop' / 'controllers' / '__init__.py')
    write(shop / 'shop' / layout, 'class RootController(object):\n    pass\n')
    values, wsgi, _ = rendered(shop)
    assert values.project.root == 'shop.controllers.root:RootController'
    loaded = wsgi.index("application = loadapp('config:' + CONFIG_FILE)")
    assert wsgi.index('\n    import shop.controllers.root\n') > loaded, wsgi
    compile(wsgi, 'shop.wsgi', 'exec')


def test_no_root_controller_module_no_import(shop):
    """A project laid out otherwise deploys as before (nothing to import, nothing to fail)."""
    values, wsgi, _ = rendered(shop)
    assert values.project.root is None
    assert 'controllers' not in wsgi


def test_with_startup_the_ini_stays_an_app_setup_app_accepts(shop):
    """[app:main] without filter-with (setup-app reads its distribution: a filtered one is
    "not the application (probably a filter)"); [pipeline:serve] runs the start-up for other
    hosts; the .wsgi runs it once, before importing the root controller."""
    write(shop / 'shop' / 'controllers' / 'root.py', 'class RootController(object):\n    pass\n')
    _, wsgi, ini = rendered(shop, startup='shop.boot:start')
    parser = configparser.RawConfigParser(strict=False)
    parser.read_string(ini)
    assert not parser.has_option('app:main', 'filter-with'), ini
    assert parser.get('pipeline:serve', 'pipeline') == 'startup main'
    assert parser.get('filter:startup', 'use') == 'egg:tgdeploy#startup'
    assert parser.get('filter:startup', 'function') == 'shop.boot:start'
    assert "run_once('shop.boot:start')" in wsgi
    assert wsgi.index("run_once('shop.boot:start')") < wsgi.index('import shop.controllers.root')
