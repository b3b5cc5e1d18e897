"""The doctor asks Apache what it loads (-D DUMP_INCLUDES, DUMP_MODULES, DUMP_RUN_CFG) where it
can, and reads the files by the layout's patterns where it cannot. Each case is a copy of this
machine's real /etc/apache2 with one thing the file reader guesses wrong, answered by the real
apache2ctl: an IncludeOptional of a folder no layout names, an Include under a false
<IfDefine>, a section under <IfModule> of a module that is not loaded, a Define'd path."""
import os
import pwd
import shutil
import time

import pytest

from support.projects import make_tg2, write
from conftest import LAB_PY3
from support.venv import run
from tgdeploy.doctor import apache_asked, apache_config


@pytest.fixture
def machine_tree(www_tmp):
    """A copy of this machine's Apache tree, which passes its own configtest, readable by the
    user nobody (a copy is asked as nobody when tgdeploy runs as root)."""
    if not os.path.isfile('/etc/apache2/apache2.conf') or \
            not os.access(apache_asked.DEBIAN_CONTROL, os.X_OK):
        pytest.fail('Debian\'s apache2 is not installed: run scripts/provision')
    if os.geteuid() != 0:
        pytest.fail('these tests run as root (as CI does): a copy is asked only by root')
    root = www_tmp / 'etc-apache2'
    shutil.copytree('/etc/apache2', str(root), symlinks=True)
    os.chmod(str(root), 0o755)
    return root


def add_to_apache2_conf(root, text):
    with open(str(root / 'apache2.conf'), 'a') as f:
        f.write('\n' + text)


def test_apache_is_asked_for_a_tree_it_can_read(machine_tree):
    asked = apache_asked.ask(str(machine_tree))
    assert asked is not None
    assert asked.files[0] == str(machine_tree / 'apache2.conf')
    assert 'core_module' in asked.modules and 'wsgi_module' in asked.modules
    assert apache_config.read_as(str(machine_tree)) == 'asked'


def test_a_folder_no_layout_names_is_read_where_apache_reads_it(machine_tree):
    extra = write(machine_tree / 'conf-custom' / 'shop.conf', '# the shop\n')
    add_to_apache2_conf(machine_tree, 'IncludeOptional conf-custom/*.conf\n')
    assert str(extra) in apache_config.included_files(str(machine_tree))
    assert str(extra) not in apache_config.files_by_layout(str(machine_tree))


def test_an_include_under_a_false_ifdefine_is_not_read(machine_tree):
    never = write(machine_tree / 'never' / 'ghost.conf', 'WSGIScriptAlias /ghost /x.wsgi\n')
    add_to_apache2_conf(machine_tree, '<IfDefine NEVER_DEFINED>\n'
                                      '    Include never/ghost.conf\n</IfDefine>\n')
    assert str(never) not in apache_config.included_files(str(machine_tree))


def test_sections_apache_skips_are_skipped(machine_tree):
    conf = write(machine_tree / 'conf-enabled' / 'sections.conf', (
        'Define SHOP_HOME /srv/shop\n'
        '<IfModule !wsgi_module>\n    WSGIScriptAlias /never /never.wsgi\n</IfModule>\n'
        '<IfModule mod_wsgi.c>\n    WSGIScriptAlias /wsgi ${SHOP_HOME}/shop.wsgi\n</IfModule>\n'
        '<IfModule nosuch_module>\n    WSGIScriptAlias /nosuch /x.wsgi\n</IfModule>\n'
        '<IfDefine SHOP_HOME>\n  <IfDefine !SHOP_HOME>\n    WSGIScriptAlias /nested /x.wsgi\n'
        '  </IfDefine>\n    WSGIScriptAlias /defined /y.wsgi\n</IfDefine>\n'))
    files = apache_config.included_files(str(machine_tree))
    assert str(conf) in files
    assert apache_config.directives(str(conf), 'WSGIScriptAlias') == [
        '/wsgi /srv/shop/shop.wsgi', '/defined /y.wsgi']
    # Read as plain text, all five would count.
    assert len(apache_config.find_directives(conf.read_text(), 'WSGIScriptAlias')) == 5


def test_a_tree_another_user_can_write_is_not_asked(machine_tree):
    os.chmod(str(machine_tree / 'apache2.conf'), 0o666)
    assert apache_asked.control_command(str(machine_tree)) is None
    assert apache_config.read_as(str(machine_tree)) == 'files'
    assert apache_config.included_files(str(machine_tree)) == \
        apache_config.files_by_layout(str(machine_tree))


def test_a_tree_that_fails_its_configtest_is_read_as_files(machine_tree):
    add_to_apache2_conf(machine_tree, 'NoSuchDirective here\n')
    assert apache_asked.ask(str(machine_tree)) is None
    assert apache_config.included_files(str(machine_tree)) == \
        apache_config.files_by_layout(str(machine_tree))


def test_the_doctor_command_reads_the_tree_apache_reads(machine_tree, tmp_path):
    """Another application at our mount, in a config folder that no layout pattern names, is
    found because Apache was asked; its twin under a false <IfDefine> is not."""
    add_to_apache2_conf(machine_tree, 'IncludeOptional conf-custom/*.conf\n')
    other = write(machine_tree / 'conf-custom' / 'old.conf',
                  'WSGIScriptAlias /shop /srv/old/old.wsgi\n')
    off = write(machine_tree / 'conf-enabled' / 'off.conf',
                '<IfDefine NEVER_DEFINED>\nWSGIScriptAlias /shop /srv/off/off.wsgi\n</IfDefine>\n')
    project = make_tg2(tmp_path / 'shop')
    proc = run([LAB_PY3.bin('paster'), 'tgdeploy', '--doctor', '--mount', '/shop',
                '--apache-root', str(machine_tree)], cwd=str(project), check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert '%s mounts another application at /shop too' % other in out
    assert str(off) not in out


def test_modules_built_into_apache_count_as_loaded(machine_tree):
    files = apache_config.included_files(str(machine_tree))
    loaded = apache_config.loaded_modules(files)
    assert 'log_config_module' in loaded and loaded['log_config_module'] is None  # static
    assert loaded['wsgi_module'].endswith('mod_wsgi.so')
    assert apache_config.loaded_mod_wsgi(files, str(machine_tree)).endswith('mod_wsgi.so')


def test_root_asks_a_copy_as_nobody_never_as_root(machine_tree, www_tmp):
    """The copy's envvars (and any module it loads) run as nobody: whoever could write a file
    of the tree gains nothing from the operator's root."""
    marker = www_tmp / 'who-asked'
    os.chmod(str(www_tmp), 0o777)
    with open(str(machine_tree / 'envvars'), 'a') as f:
        f.write('\nid -u > %s\n' % marker)
    assert apache_asked.ask(str(machine_tree)) is not None
    assert marker.read_text().strip() == str(pwd.getpwnam('nobody').pw_uid)


def test_this_machines_own_tree_is_asked_as_the_running_user():
    assert apache_asked.asking_user('/etc/apache2') is None
    assert apache_config.read_as('/etc/apache2') == 'asked'


def test_a_copy_nobody_cannot_read_is_read_as_files(machine_tree):
    os.chmod(str(machine_tree), 0o700)
    assert apache_asked.ask(str(machine_tree)) is None
    assert apache_config.read_as(str(machine_tree)) == 'files'


def test_a_hanging_envvars_is_stopped_with_all_it_started(machine_tree, monkeypatch):
    monkeypatch.setattr(apache_asked, 'TIMEOUT', 2)
    with open(str(machine_tree / 'envvars'), 'a') as f:
        f.write('\nsleep 60\n')
    started = time.monotonic()
    assert apache_asked.ask(str(machine_tree)) is None
    assert time.monotonic() - started < 10
