"""Always a production config (issue 20, item 3): a TurboGears 2 ini is derived (secrets of
its own, data in data/, debug off) whatever its debug setting says; only a production ini
of the user's own is served as it is, and the doctor still names the repository's secrets
in it."""
import pytest

from support.projects import make_tg2, make_venv_marker
from tgdeploy.settle import options, production
from tgdeploy.detect.arbiter import detect

DEV_SECRET = 'quickstart-secret-in-the-repository'


@pytest.fixture
def shop(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    project = make_tg2(tmp_path / 'shop')
    ini = project / 'development.ini'
    text = ini.read_text().replace('debug = true', 'debug = false')
    assert 'debug = false' in text
    ini.write_text(text)
    return project


def settle(project, **given):
    given.setdefault('python_home', str(project.parent / 'venv'))
    config = given.pop('config', None)
    return options.settle(detect(str(project), config=config), given)


def derived_settings(values):
    return dict((key, value) for _, key, value in production.settings_of(values.config.derived_ini))


def test_development_ini_saying_debug_false_is_derived(shop):
    values = settle(shop)
    assert values.config.write_ini and values.config.derived_ini
    assert values.config.file == str(shop / 'apache' / 'shop.ini')
    settings = derived_settings(values)
    repository = production.secrets_in(str(shop / 'development.ini'))
    assert repository
    for key, value in repository.items():
        assert settings[key] != value, key  # a secret of its own
    assert settings['sqlalchemy.url'] == 'sqlite:///%s/shop.db' % (shop / 'data')
    assert settings['debug'] == 'false'


@pytest.mark.parametrize('name', ['test.ini', 'dev.ini', 'development-local.ini'])
def test_development_and_test_inis_named_with_config_are_derived(shop, name):
    (shop / name).write_text((shop / 'development.ini').read_text())
    values = settle(shop, config=name)
    assert values.config.derived_ini and values.config.source == str(shop / name)


def test_own_production_ini_named_with_config_is_served_as_it_is(shop):
    (shop / 'site.ini').write_text((shop / 'development.ini').read_text())
    values = settle(shop, config='site.ini')
    assert not values.config.write_ini and not values.config.derived_ini
    assert values.config.file == str(shop / 'site.ini')
    # ...and the doctor names the secrets it shares with the repository's development.ini.
    found = [text for level, text in production.doctor(values) if level == 'warning']
    for key in production.secrets_in(str(shop / 'development.ini')):
        assert [text for text in found if text.startswith(
            '%s in %s is also in the project\'s own files (development.ini: '
            % (key, shop / 'site.ini'))], (key, found)


def test_development_ini_with_debug_on_is_derived_as_before(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    project = make_tg2(tmp_path / 'shop')
    assert settle(project).config.derived_ini
