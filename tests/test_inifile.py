"""The production ini derived from a real gearbox quickstart development.ini."""
import configparser

from support.projects import FIXTURES, write
from tgdeploy.settle import inifile

DEV_INI = FIXTURES / 'tg2_development.ini'


def derive(path=DEV_INI):
    return inifile.derive_production(str(path), '/srv/shop', '/srv/shop/data', 'shop.db')


def parse(text):
    parser = configparser.RawConfigParser(strict=True)  # duplicate keys would raise
    parser.read_string(text)
    return parser


def test_quickstart_ini_is_development():
    assert inifile.is_development(str(DEV_INI))


def test_derived_ini_is_production_with_absolute_paths():
    text = derive()
    parser = parse(text)
    assert parser.get('DEFAULT', 'debug') == 'false'
    assert parser.get('app:main', 'auto_reload_templates') == 'false'
    assert parser.get('app:main', 'sqlalchemy.url') == 'sqlite:////srv/shop/data/shop.db'
    assert parser.get('app:main', 'cache_dir') == '/srv/shop/data'
    assert parser.get('logger_shop', 'level') == 'INFO'
    settings = [line for line in text.splitlines() if not line.lstrip().startswith('#')]
    assert not [line for line in settings if '%(here)s' in line]


def test_derived_ini_keeps_everything_else_verbatim():
    original = DEV_INI.read_text().splitlines()
    derived = derive().splitlines()
    # Two lines added after [DEFAULT]: "here" keeps meaning the original ini's folder.
    at = derived.index('[DEFAULT]') + 1
    assert derived[at + 1] == 'here = /srv/shop'
    del derived[at:at + 2]
    assert len(derived) == len(original)
    changed = [(a, b) for a, b in zip(original, derived) if a != b]
    assert len(changed) == 5, changed  # debug, cache_dir, auto_reload, url, one logger level
    assert 'toscawidgets.framework.resource_variant=debug' in derived


def test_derived_ini_is_not_development(tmp_path):
    path = write(tmp_path / 'prod.ini', derive())
    assert not inifile.is_development(str(path))


def test_missing_auto_reload_setting_is_added(tmp_path):
    path = write(tmp_path / 'dev.ini', '[DEFAULT]\ndebug = true\n\n[app:main]\nuse = egg:x\n'
                                       'set debug = true\n\n[server:main]\nuse = egg:y\n')
    parser = parse(derive(path))
    assert parser.get('app:main', 'auto_reload_templates') == 'false'
    assert parser.get('app:main', 'set debug') == 'false'
    assert not parser.has_option('server:main', 'auto_reload_templates') or \
        parser.get('server:main', 'auto_reload_templates') == 'false'  # DEFAULT-free section


def test_here_is_the_folder_of_an_ini_kept_in_a_sub_folder(tmp_path):
    """`--config conf/development.ini`: its %(here)s meant conf/, not the project."""
    ini = write(tmp_path / 'shop' / 'conf' / 'development.ini',
                '[app:main]\nuse = egg:shop\ndebug = true\n'
                'who.config_file = %(here)s/who.ini\n')
    from tgdeploy.detect.arbiter import detect
    from tgdeploy.settle.options import settle
    from support.projects import make_tg2, make_venv_marker
    make_venv_marker(tmp_path / 'venv')
    make_tg2(tmp_path / 'shop')
    values = settle(detect(str(tmp_path / 'shop'), config='conf/development.ini'),
                    {'python_home': str(tmp_path / 'venv')})
    assert 'who.config_file = %s/who.ini' % ini.parent in values.config.derived_ini


def test_places_the_application_writes_go_under_the_data_folder(tmp_path):
    """Under %(here)s/data or named for what is written there (caches, sessions, uploads,
    indexes, compiled templates): moved with the data folder, wherever --data-dir puts it;
    what the application only reads stays in the project."""
    ini = write(tmp_path / 'development.ini', '\n'.join([
        '[app:main]', 'use = egg:shop',
        'cache_dir = %(here)s/data/',
        'beaker.session.data_dir = %(here)s/data/sessions',
        'index_dir = %(here)s/data/index',
        'depot.storage_path = %(here)s/depot',
        'templating.mako.compiled_templates_dir = %(here)s/compiled',
        'upload_folder = %(here)s/uploads/',
        'public_dir = %(here)s/public1',
        'static_files_dir = %(here)s/static-cache',
        'who.config_file = %(here)s/who.ini',
        'sqlalchemy.url = sqlite:///%(here)s/kallithea.db?timeout=60', '']))
    parser = parse(inifile.derive_production(str(ini), '/srv/shop', '/var/lib/shop', 'shop.db'))
    assert dict(parser.items('app:main')) == dict(parser.defaults(), **{
        'use': 'egg:shop',
        'cache_dir': '/var/lib/shop',
        'beaker.session.data_dir': '/var/lib/shop/sessions',
        'index_dir': '/var/lib/shop/index',
        'depot.storage_path': '/var/lib/shop/depot',
        'templating.mako.compiled_templates_dir': '/var/lib/shop/compiled',
        'upload_folder': '/var/lib/shop/uploads',
        'public_dir': '/srv/shop/public1',
        'static_files_dir': '/srv/shop/static-cache',
        'who.config_file': '/srv/shop/who.ini',
        'sqlalchemy.url': 'sqlite:////var/lib/shop/shop.db?timeout=60',
        'auto_reload_templates': 'false'})
