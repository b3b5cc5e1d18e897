"""A TurboGears 2 project's own documented set-up (tgdeploy/detect/own_setup.py), where
gearbox setup-app (README step 2) does nothing for it: read from its console scripts and its
documentation, and named by the report."""
from support.projects import write
from tgdeploy.detect import own_setup
from tgdeploy.settle import replay_settle

SETUP_PY = ('from setuptools import setup\n\nsetup(name="forge", entry_points="""\n'
            '    [console_scripts]\n    forge-cli =    forge.bin.cli:cli\n\n'
            '    [paste.app_factory]\n    main = forge.config.middleware:make_app\n    """)\n')


def project(tmp_path, websetup=False):
    root = tmp_path / 'forge'
    write(root / 'setup.py', SETUP_PY)
    write(root / 'forge' / '__init__.py', '')
    write(root / 'forge' / 'config' / 'app_cfg.py', 'base_config = None\n')
    if websetup:
        write(root / 'forge' / 'websetup' / '__init__.py', '')
    write(root / 'docs' / 'contributing.rst', 'Tests::\n\n    forge-cli db-create -c test.ini '
          '--force-yes\n')
    write(root / 'docs' / 'install_iis.rst', 'IIS::\n\n    forge-cli iis-install -c my.ini\n')
    write(root / 'docs' / 'setup.rst', 'Setup\n=====\n\nCreate the database::\n\n'
          '    $ forge-cli db-create -c my.ini\n\nThen serve it::\n\n'
          '    gearbox serve -c my.ini\n')
    return root


def test_the_set_up_its_documentation_gives_for_its_own_console_script(tmp_path):
    root = project(tmp_path)
    assert own_setup.console_scripts(str(root)) == ['forge-cli']
    assert own_setup.documented(str(root), str(root / 'forge')) == (
        'forge-cli db-create -c my.ini', 'docs/setup.rst', 6)
    assert replay_settle.own_set_up(str(root), str(root / 'forge'),
                                    str(root / 'apache' / 'forge.ini')) == [
        'its own set-up: gearbox setup-app does nothing for it (no websetup in forge/); its '
        'documentation says forge-cli db-create -c my.ini (docs/setup.rst:6): run that with '
        '-c apache/forge.ini']


def test_nothing_where_setup_app_has_a_websetup_to_run(tmp_path):
    root = project(tmp_path, websetup=True)
    assert own_setup.documented(str(root), str(root / 'forge')) is None


def test_only_a_set_up_command_of_its_own_scripts(tmp_path):
    root = project(tmp_path)
    (root / 'docs' / 'setup.rst').write_text('    other-cli db-create -c my.ini\n')
    (root / 'docs' / 'contributing.rst').write_text('    forge-cli serve -c my.ini\n')
    assert own_setup.documented(str(root), str(root / 'forge')) is None
