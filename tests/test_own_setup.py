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
        'documentation says forge-cli db-create -c my.ini (docs/setup.rst:6): README step 2 '
        'runs it with -c apache/forge.ini']


def test_nothing_where_setup_app_has_a_websetup_to_run(tmp_path):
    root = project(tmp_path, websetup=True)
    assert own_setup.documented(str(root), str(root / 'forge')) is None


def test_only_a_set_up_command_of_its_own_scripts(tmp_path):
    root = project(tmp_path)
    (root / 'docs' / 'setup.rst').write_text('    other-cli db-create -c my.ini\n')
    (root / 'docs' / 'contributing.rst').write_text('    forge-cli serve -c my.ini\n')
    assert own_setup.documented(str(root), str(root / 'forge')) is None


def test_readme_step_two_runs_it_non_interactively_and_the_front_end_build(tmp_path):
    """The fullest documented form of the set-up in the user's guide (not a contributors'
    note), each option given by what it is for, its "yes" flag, once; then the front-end
    build the guide names, into the deployed tree."""
    from types import SimpleNamespace as Group
    from tgdeploy._compat import shell_quote
    from tgdeploy.settle import own_steps
    root = project(tmp_path)
    guide = root / 'docs' / 'setup.rst'
    guide.write_text(guide.read_text() + (
        'Or all at once::\n\n    forge-cli db-create -c my.ini --user=nn --password=secret '
        '--email=nn@example.com --repos=/srv/repos\n\nFinally::\n\n    forge-cli '
        'front-end-build\n'))
    write(root / 'forge' / 'bin' / 'cli.py', "option('--force-yes', is_flag=True)\n")
    write(root / 'forge' / 'front-end' / 'package.json', '{}\n')
    found = own_setup.documented_steps(str(root), str(root / 'forge'))
    assert found == {'setup': ('forge-cli', 'db-create', [
        ('-c', 'my.ini'), ('--user', 'nn'), ('--password', 'secret'),
        ('--email', 'nn@example.com'), ('--repos', '/srv/repos'), ('--force-yes', None)],
        'docs/setup.rst', 13), 'build': ('forge-cli', 'front-end-build', 'docs/setup.rst', 17)}
    top, data = str(root), str(root / 'data')
    steps = own_steps.step_two(
        Group(flavor='tg2', package_dir=top + '/forge'),
        Group(project_dir=top, data_dir=data, apache_dir=top + '/apache', import_dir=top),
        Group(home='/venv'), Group(file=top + '/apache/forge.ini'),
        Group(user='www-data', group='www-data'), Group(setenv=[]), shell_quote)
    assert steps.replaces_setup_app and steps.folders == [data + '/repos']
    assert steps.lines[0].endswith(' -m tgdeploy.files.secret_file %s/apache/admin-password'
                                   % top)
    assert steps.lines[1:] == [
        'cd %s && test -e %s/.forge-cli-db-create.done || { /venv/bin/forge-cli db-create -c '
        '%s/apache/forge.ini --user=admin --password="$(cat %s/apache/admin-password)" '
        '--email=admin@localhost --repos=%s/repos --force-yes && touch '
        '%s/.forge-cli-db-create.done; }' % (top, data, top, top, data, data),
        'cd %s && test -d %s/forge/front-end/node_modules || PATH=/venv/bin:"$PATH" '
        'PYTHONPATH=%s /venv/bin/forge-cli front-end-build' % (top, top, top)]
    assert '=secret' not in ' '.join(steps.lines)  # the docs' example password: never


def test_the_administrator_password_is_made_once_and_kept(tmp_path):
    from tgdeploy.files import secret_file
    path = tmp_path / 'admin-password'
    assert secret_file.main([str(path)]) == 0
    password = path.read_text()
    assert len(password.strip()) >= 20 and oct(path.stat().st_mode & 0o777) == '0o600'
    assert secret_file.main([str(path)]) == 0 and path.read_text() == password
    assert secret_file.main([str(tmp_path / 'no' / 'such')]) == 2
    # Run as root in a folder the project's owner can change: a link or an empty file
    # planted there is refused, never opened (no truncation, no write through it).
    target = tmp_path / 'target'
    target.write_text('keep')
    (tmp_path / 'link').symlink_to(target)
    (tmp_path / 'empty').write_text('')
    for planted in ('link', 'empty'):
        assert secret_file.main([str(tmp_path / planted)]) == 2
    assert target.read_text() == 'keep' and (tmp_path / 'empty').read_text() == ''
