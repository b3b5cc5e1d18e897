"""Run-time write locations and framework prefixes in the derived TurboGears 2 ini (issue 20,
items 2 and 3), without Apache: relative SQLite URLs into data/, webassets' cache into
data/ and its bundles' folders named for README step 2, webassets.base_url and the
ToscaWidgets 2 links rewritten at a sub-URL (tests/test_mount_links.py serves them)."""
import configparser

import pytest

from support.projects import make_tg2, make_venv_marker, write
from tgdeploy.settle import inifile, options
from tgdeploy.settle.settled import Settled
from tgdeploy.detect.arbiter import detect

WEBASSETS_APP_CFG = '''
import tgext.webassets
from webassets import Bundle
tgext.webassets.plugme(base_config, bundles={
    'js_all': Bundle('javascript/one.js', output='assets/js_all.js'),
    'css_all': Bundle('css/style.css', output="gen/css/all.css"),
})
'''
TW2_APP_CFG = '\nimport tgext.tw2\ntgext.tw2.plugme(base_config)\n'


@pytest.fixture
def shop(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    return make_tg2(tmp_path / 'shop')


def add_to_app_cfg(project, text):
    with open(str(project / 'shop' / 'config' / 'app_cfg.py'), 'a') as f:
        f.write(text)


def settle(project, **given):
    given.setdefault('python_home', str(project.parent / 'venv'))
    return options.settle(detect(str(project)), given)


def settings(values, section='app:main'):
    parser = configparser.RawConfigParser(strict=False)
    parser.read_string(values.config.derived_ini)
    return dict((key, value) for key, value in parser.items(section)
                if key not in parser.defaults())


@pytest.mark.parametrize('url, moved', [
    ('sqlite:///devdata.db', True),
    ('sqlite:///devdata.db?timeout=60', True),
    ('sqlite:///%(here)s/devdata.db', True),
    ('sqlite:////srv/db/shop.db', False),
    ('sqlite:///:memory:', False),
    ('postgresql://u@h/db', False),
])
def test_sqlite_urls_relative_to_the_working_folder_go_to_data(tmp_path, url, moved):
    ini = write(tmp_path / 'development.ini', '[app:main]\nuse = egg:shop\n'
                                              'sqlalchemy.url = %s\n' % url)
    derived = inifile.derive_production(str(ini), str(tmp_path), '/srv/data', 'shop.db')
    value = dict(inifile.app_settings(derived, str(tmp_path)))['sqlalchemy.url']
    if moved:
        assert value.startswith('sqlite:////srv/data/shop.db'), value
        assert value.endswith('?timeout=60') == url.endswith('?timeout=60')
    else:
        assert value == url


def test_webassets_cache_goes_to_data_and_bundles_are_linked_under_the_mount(shop):
    add_to_app_cfg(shop, WEBASSETS_APP_CFG)
    values = settle(shop, mount='/sub')
    derived = settings(values)
    assert derived['webassets.cache'] == str(shop / 'data' / 'webassets-cache')
    assert derived['webassets.base_url'] == '/sub/'
    assert values.paths.runtime_dirs == sorted([
        str(shop / 'data' / 'webassets-cache'),
        str(shop / 'shop' / 'public' / 'assets'),
        str(shop / 'shop' / 'public' / 'gen' / 'css')])
    assert 'filter-with' not in derived  # no ToscaWidgets 2 here
    readme_lines = ['install -d -o %s -g %s %s' % (values.daemon.user, values.daemon.group, folder)
                    for folder in values.paths.runtime_dirs]
    from tgdeploy.write.render import render
    out = shop / 'out'
    out.mkdir()
    render(values, str(out))
    readme = (out / 'README.txt').read_text()
    for line in readme_lines:
        assert line in readme


def test_webassets_at_the_root_keeps_its_base_url(shop):
    add_to_app_cfg(shop, WEBASSETS_APP_CFG)
    derived = settings(settle(shop))
    assert 'webassets.base_url' not in derived
    assert derived['webassets.cache'] == str(shop / 'data' / 'webassets-cache')


def test_webassets_settings_of_the_ini_are_kept_or_moved(shop):
    add_to_app_cfg(shop, WEBASSETS_APP_CFG)
    ini = shop / 'development.ini'
    ini.write_text(ini.read_text().replace(
        '[app:main]\n', '[app:main]\nwebassets.cache = %(here)s/wa-cache\n'
                        'webassets.base_url = static\n', 1))
    values = settle(shop, mount='/sub')
    derived = settings(values)
    assert derived['webassets.cache'] == str(shop / 'data' / 'wa-cache')
    assert derived['webassets.base_url'] == '/sub/static'
    assert str(shop / 'data' / 'wa-cache') in values.paths.runtime_dirs


def test_a_project_without_webassets_gets_nothing_of_it(shop):
    values = settle(shop, mount='/sub')
    assert not [key for key in settings(values) if key.startswith('webassets.')]
    assert values.paths.runtime_dirs == []


def test_tw2_at_a_sub_url_gets_its_links_rewritten(shop):
    add_to_app_cfg(shop, TW2_APP_CFG)
    values = settle(shop, mount='/sub')
    assert values.project.link_prefixes == ['tw2/resources', 'tw2/controllers']
    assert 'filter-with' not in settings(values)  # the ini stays an app gearbox can set up
    assert settle(shop).project.link_prefixes == []  # at / nothing to do
    out = shop / 'out'
    out.mkdir()
    from tgdeploy.write.render import render
    render(values, str(out))
    conf = (out / 'shop.conf').read_text()
    assert '<LocationMatch "^/sub(/|$)">' in conf
    assert 'Substitute "s#([\\"\'])/tw2/resources/#$1/sub/tw2/resources/#"' in conf
    assert 'a2enmod wsgi rewrite substitute' in (out / 'README.txt').read_text()


def test_a_project_without_tw2_gets_no_rewriting(shop):
    assert settle(shop, mount='/sub').project.link_prefixes == []


def test_tg1_widgets_at_a_sub_url_get_their_links_rewritten(tmp_path):
    """A quickstart's app.cfg names widgets in comments only: nothing to rewrite; once
    dev.cfg includes MochiKit on every page, /tg_widgets/... and TurboGears' other resource
    paths are rewritten under the mount."""
    from support.projects import make_tg1
    make_venv_marker(tmp_path / 'venv')
    project = make_tg1(tmp_path / 'mysite')
    assert settle(project, mount='/mysite', tg_version='1.5').project.link_prefixes == []
    cfg = project / 'dev.cfg'
    cfg.write_text(cfg.read_text().replace(
        '[global]\n', '[global]\ntg.include_widgets = [\'turbogears.mochikit\']\n', 1))
    values = settle(project, mount='/mysite', tg_version='1.5')
    assert values.project.link_prefixes == ['tg_widgets', 'tg_js', 'tg_static', 'tg_toolbox']
    assert settle(project, mount='/', tg_version='1.5').project.link_prefixes == []


def test_tg1_write_locations_are_read_from_the_deployment_config():
    from tgdeploy.settle.write_locations import tg1_write_locations
    cfg = ('[global]\nsqlobject.dburi="sqlite:///srv/db/site.sqlite"\n'
           'sqlalchemy.dburi="sqlite:////var/lib/site/site.db"\n'
           '# session_filter.storage_path = "/nowhere"\n'
           'session_filter.storage_path = "/srv/sessions"\n'
           'static_filter.dir = "/srv/static"\n'
           '[[[access_out]]]\nargs="(\'/var/log/site/access.log\', \'a\')"\n'
           'args=(\'/var/log/site/server.log\', \'a\')\n')
    assert tg1_write_locations(cfg) == [
        ('sqlobject.dburi', '/srv/db'), ('sqlalchemy.dburi', '/var/lib/site'),
        ('session_filter.storage_path', '/srv/sessions'),
        ("a log handler's file", '/var/log/site')]


def test_doctor_names_a_tg1_write_location_the_daemon_cannot_write(www_tmp):
    from tgdeploy.settle import write_locations
    folder = www_tmp / 'db'
    folder.mkdir()
    values = Settled.from_flat({
        'user': 'www-data', 'group': 'www-data', 'data_dir': str(www_tmp / 'data'),
        'runtime_dirs': [],
        'tg_cfg': '[global]\nsqlalchemy.dburi="sqlite:///%s/site.db"\n' % folder})
    found = write_locations.findings(values)
    assert found == [('error', 'www-data cannot write %s, where sqlalchemy.dburi has the '
                               'application write (not writable for it): chown www-data:www-data'
                               ' %s, or point it into %s' % (folder, folder, www_tmp / 'data'))]
    values.tg1.cfg = '[global]\nsqlalchemy.dburi="sqlite:///%s/data/site.db"\n' % www_tmp
    assert write_locations.findings(values) == []


def test_upload_depot_beaker_and_log_files_under_here_go_to_data(tmp_path):
    ini = write(tmp_path / 'development.ini', '\n'.join([
        '[app:main]', 'use = egg:shop',
        'depot.storage_path = %(here)s/storage',
        'upload_dir = %(here)s/uploads/',
        'session.data_dir = %(here)s/data/sessions',
        'beaker.cache.lock_dir = %(here)s/locks',
        'templating.genshi.dir = %(here)s/shop/templates',
        '', '[handler_file]', 'class = FileHandler',
        "args = ('%(here)s/app.log', 'a')", '']))
    derived = inifile.derive_production(str(ini), str(tmp_path), '/srv/data', 'shop.db')
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.read_string(derived)
    assert parser.get('app:main', 'depot.storage_path') == '/srv/data/storage'
    assert parser.get('app:main', 'upload_dir') == '/srv/data/uploads'
    assert parser.get('app:main', 'session.data_dir') == '/srv/data/sessions'
    assert parser.get('app:main', 'beaker.cache.lock_dir') == '/srv/data/locks'
    assert parser.get('app:main', 'templating.genshi.dir') == str(tmp_path / 'shop/templates')
    assert parser.get('handler_file', 'args') == "('/srv/data/app.log', 'a')"


def test_an_own_production_ini_with_webassets_is_checked_not_changed(shop):
    """Served as it is, its webassets cache stays webassets' default in public/ (named for
    README step 2 and the doctor), and a base_url outside the mount is a warning."""
    from tgdeploy.settle import production
    add_to_app_cfg(shop, WEBASSETS_APP_CFG)
    text = (shop / 'development.ini').read_text().replace('debug = true', 'debug = false')
    (shop / 'site.ini').write_text(text)
    values = options.settle(detect(str(shop), config='site.ini'),
                            {'python_home': str(shop.parent / 'venv'), 'mount': '/sub'})
    assert not values.config.derived_ini
    assert str(shop / 'shop' / 'public' / '.webassets-cache') in values.paths.runtime_dirs
    assert str(shop / 'data' / 'webassets-cache') not in values.paths.runtime_dirs
    found = [text for level, text in production.doctor(values) if level == 'warning']
    assert '%s links the webassets bundles at /, outside the mount /sub (404): set ' \
           'webassets.base_url = /sub/ there' % (shop / 'site.ini') in found, found
