"""TurboGears 1.x settings: the TG line, the deployment config, SQLObject, bad input."""
import pytest

from support.projects import FIXTURES, make_tg1, make_venv_marker, write
from tgdeploy.settle import options, tg1config
from tgdeploy.detect.arbiter import detect
from tgdeploy.errors import TgDeployError


@pytest.fixture
def site(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    return make_tg1(tmp_path / 'mysite')


def settle(project_dir, config=None, **given):
    given.setdefault('python_home', str(project_dir.parent / 'venv'))
    return options.settle(detect(str(project_dir), config=config), given)


def test_line_from_setup_py_then_installed_then_option(site):
    assert settle(site).tg1.version == '1.1'
    write(site.parent / 'venv' / 'lib' / 'python2.7' / 'site-packages' / 'TurboGears-1.5.1-py2.7.egg-info')
    assert settle(site).tg1.version == '1.5'  # what is installed wins over setup.py
    assert settle(site, tg_version='1.0').tg1.version == '1.0'


def test_line_that_cannot_be_determined(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    site = make_tg1(tmp_path / 'mysite', requirement='TurboGears')
    with pytest.raises(TgDeployError, match='pass --tg-version 1.0, 1.1 or 1.5'):
        settle(site)
    with pytest.raises(TgDeployError, match="--tg-version '2.0' is not one of 1.0, 1.1, 1.5"):
        settle(site, tg_version='2.0')


def test_the_config_the_project_runs_with_is_chosen(site):
    """dev.cfg (what start-mysite.py runs with in a checkout) over the untouched
    sample-prod.cfg; the keys only the sample sets are named in the report."""
    values = settle(site)
    assert values.config.source == str(site / 'dev.cfg')
    assert any(line.startswith('sample-prod.cfg sets keys dev.cfg does not, not carried over: ')
               and 'formatter' in line for line in values.project.evidence)
    assert 'server.environment="production"' in values.tg1.cfg


def test_places_the_application_writes_go_to_the_data_folder(site):
    """Session files and uploads, under %(current_dir_uri)s or relative: into --data-dir;
    static folders stay, and a storage type is no path."""
    cfg = site / 'dev.cfg'
    cfg.write_text(cfg.read_text().replace('[global]\n', '[global]\n'
                   'session_filter.storage_type = "file"\n'
                   'session_filter.storage_path = "%(current_dir_uri)s/sessions"\n'
                   "mysite.upload_dir = 'uploads/'\n"
                   'mysite.static_dir = "%(current_dir_uri)s/extra"\n', 1))
    text = settle(site, data_dir=str(site.parent / 'var')).tg1.cfg
    assert 'session_filter.storage_type = "file"' in text
    assert 'session_filter.storage_path="%s/var/sessions"' % site.parent in text
    assert "mysite.upload_dir='%s/var/uploads'" % site.parent in text
    assert 'mysite.static_dir="%s/extra"' % site in text


def test_deployment_cfg_has_absolute_paths_in_the_data_folder(site):
    values = settle(site, config='sample-prod.cfg')
    text = values.tg1.cfg
    assert 'sqlalchemy.dburi="sqlite:///%s/data/mysite.sqlite"' % site in text
    assert 'args="(\'%s/data/server.log\',)"' % site in text
    assert '%(current_dir_uri)s' not in '\n'.join(
        line for line in text.splitlines() if not line.lstrip().startswith('#'))
    original = (FIXTURES / 'tg1_sample-prod.cfg').read_text().splitlines()
    changed = [a for a, b in zip(original, text.splitlines()) if a != b]
    assert len(changed) == 2 and len(original) == len(text.splitlines())
    assert values.config.file == str(site / 'apache' / 'mysite.ini')
    assert values.tg1.cfg_file == str(site / 'apache' / 'mysite.cfg')


def test_sqlobject_projects_get_one_process(site):
    assert settle(site).daemon.processes == options.default_processes()
    write(site / 'mysite' / 'model.py', 'from sqlobject import SQLObject\n')
    values = settle(site)
    assert (values.daemon.processes, values.daemon.threads) == (1, 15)
    assert values.project.uses_sqlobject
    assert settle(site, processes='3').daemon.processes == 3  # the user may still choose


def test_webpath_is_the_default_mount_and_is_dropped(site):
    """gibe 0.12.4's dev.cfg says server.webpath = "/blog": served there by default, at any
    --mount when told; the derived config drops it (with the mount from Apache as well, every
    page was a 404)."""
    cfg = site / 'dev.cfg'
    cfg.write_text(cfg.read_text().replace('[global]', '[global]\nserver.webpath="/shop"', 1))
    for given, mount in (({}, '/shop'), ({'mount': '/mysite'}, '/mysite')):
        values = settle(site, **given)
        assert values.apache.mount == mount
        assert '# server.webpath="/shop"  (tgdeploy: the mount comes from Apache)' in \
            values.tg1.cfg
        assert any(line.startswith('[global] server.webpath: removed') for line in
                   values.production.changes)


def test_rewrite_leaves_unrelated_lines_alone():
    line = "tools.proxy.on = True"
    assert tg1config.rewrite(line, '/p', '/p/data', 'x') == line
    assert tg1config.rewrite("sqlobject.dburi='sqlite:///devdata.sqlite'", '/p', '/d', 'x') == \
        'sqlobject.dburi="sqlite:////d/x.sqlite"'
    absolute = 'sqlalchemy.dburi="sqlite:////var/lib/x.db"'
    assert tg1config.rewrite(absolute, '/p', '/d', 'x') == absolute
