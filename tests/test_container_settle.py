"""The container's values (settle/container.py) and the edit stamp of the files beside
apache/ (write/container.py), without podman: paths moved into the image whole, the base
image whose Python is the project's, the one-replica reason, what is refused."""
import pytest

from support.projects import make_tg1, make_tg2, make_venv_marker
from tgdeploy.cli import deploy
from tgdeploy.settle.container import kube_name, moved
from tgdeploy.settle.settled import GROUP_NAMES
from tgdeploy.write import container


def settled(project, python='3.11.2', **given):
    venv = make_venv_marker(project.parent / ('venv-' + python), python)
    given.update(python_home=str(venv), elsewhere='yes')
    return deploy.settle(str(project), given)


def test_a_path_moves_whole():
    moves = [('/srv/shop', '/srv/app')]
    assert moved('sqlite:////srv/shop/data/x.db', moves) == 'sqlite:////srv/app/data/x.db'
    assert moved('/srv/shop2/x /srv/shop', moves) == '/srv/shop2/x /srv/app'
    assert moved([('/css', '/srv/shop/public/css')], moves) == [('/css', '/srv/app/public/css')]
    assert moved({'a': ('/srv/shop',)}, moves) == {'a': ('/srv/app',)}
    assert moved(8, moves) == 8


def test_kubernetes_names():
    assert kube_name('My_Shop.2') == 'my-shop-2'
    assert kube_name('__') == 'app'


@pytest.mark.parametrize('python, base, matches', [
    ('3.13.5', 'debian:trixie-slim', True),
    ('3.11.2', 'debian:bookworm-slim', True),
    ('3.9.2', 'debian:bullseye-slim', True),
    ('3.12.1', 'debian:bookworm-slim', False),
])
def test_the_base_is_the_debian_whose_python_is_the_projects(tmp_path, python, base, matches):
    values = settled(make_tg2(tmp_path / 'shop'), python)
    moved_values, box = container.settle(values)
    assert (box.base, box.base_matches) == (base, matches)
    # Every path of the host is the image's: the venv, the project, the config folder.
    assert moved_values.python.home == '/srv/venv'
    assert moved_values.config.file == '/srv/config/shop.ini'
    assert moved_values.paths.data_dir == '/srv/app/data'
    fields = [getattr(moved_values, group).fields() for group in GROUP_NAMES if group != 'quote']
    assert str(tmp_path) not in repr(fields)


def test_what_the_image_installs_and_why_one_replica(tmp_path):
    values = settled(make_tg2(tmp_path / 'shop'))
    _, box = container.settle(values)
    assert box.metadata_files == [('pyproject.toml', './')]
    assert box.setup_tools == ['gearbox', 'alembic']
    assert box.setup_command == ['/srv/venv/bin/gearbox', 'setup-app', '-c',
                                 '/srv/config/shop.ini']
    assert box.one_replica.startswith('its database is SQLite '
                                      '(sqlite:////srv/app/data/shop.db)')
    assert box.ignored == ['data']


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_turbogears_1_on_python_27_installs_what_its_virtualenv_holds(tmp_path):
    project = make_tg1(tmp_path / 'mysite', requirement='TurboGears >= 1.5.1')
    venv = make_venv_marker(tmp_path / 'venv27', '2.7.18')
    site = venv / 'lib' / 'python2.7' / 'site-packages'
    write(site / 'TurboGears-1.5.1-py2.7.egg-info' / 'PKG-INFO',
          'Metadata-Version: 1.1\nName: TurboGears\nVersion: 1.5.1\n\nVersion: 9 (body)\n')
    write(site / 'PEAK_Rules-0.5a1.dev_r2713-py2.7.egg-info',  # a file, as distutils writes
          'Metadata-Version: 1.0\nName: PEAK-Rules\nVersion: 0.5a1.dev-r2713\n')
    write(site / 'CherryPy-3.2.2.dist-info' / 'METADATA',
          'Metadata-Version: 2.1\nName: CherryPy\nVersion: 3.2.2\n')
    for own in ('pip-20.3.4', 'setuptools-44.1.1', 'tgdeploy-0.1.0', 'mysite-1.0'):
        name, version = own.split('-')
        write(site / (own + '.dist-info') / 'METADATA', 'Name: %s\nVersion: %s\n' % (name, version))
    write(site / 'local-1.0.dist-info' / 'METADATA', 'Name: local\nVersion: 1.0\n')
    write(site / 'local-1.0.dist-info' / 'direct_url.json', '{"url": "file:///src/local"}')
    values = deploy.settle(str(project), dict(python_home=str(venv), elsewhere='yes',
                                              tg_version='1.5'))
    moved_values, box = container.settle(values)
    assert (box.base, box.python2) == ('debian:bullseye-slim', True)
    assert box.mod_wsgi == '/usr/local/lib/mod_wsgi-py27.so'
    assert box.locked == ['CherryPy==3.2.2', 'PEAK-Rules===0.5a1.dev-r2713',
                          'TurboGears==1.5.1']
    assert box.setup_command == ['/srv/venv/bin/tg-admin', '-c', '/srv/config/mysite.cfg',
                                 'sql', 'create']
    assert box.one_replica.startswith('its database is SQLite (sqlite:////srv/app/data/')
    assert 'mysite.cfg' in box.config_names
    assert str(tmp_path) not in moved_values.tg1.cfg


def test_the_stamp_sees_an_edit():
    text = container.stamped(u'FROM x\nRUN y\n', '0.1.0')
    assert not container.edited(text.encode('utf-8'))
    assert container.edited(text.replace('RUN y', 'RUN z').encode('utf-8'))
    assert container.edited(b'FROM x\n')  # no stamp: the user's own file
