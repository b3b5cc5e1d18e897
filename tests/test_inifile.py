"""The production ini derived from a real gearbox quickstart development.ini."""
import configparser

from support.projects import FIXTURES, write
from tgdeploy import inifile

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
                'templating.mako.compiled_templates_dir = %(here)s/compiled\n')
    from tgdeploy.detect import detect
    from tgdeploy.options import settle
    from support.projects import make_tg2, make_venv_marker
    make_venv_marker(tmp_path / 'venv')
    make_tg2(tmp_path / 'shop')
    values = settle(detect(str(tmp_path / 'shop'), config='conf/development.ini'),
                    {'python_home': str(tmp_path / 'venv')})
    assert 'compiled_templates_dir = %s/compiled' % ini.parent in values['derived_ini']
