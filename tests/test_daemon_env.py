"""The environment a daemon process gets for where the project writes by its own rules
(tgdeploy/settle/daemon_env.py), and redirects kept under the mount for CherryPy
(tgdeploy/apps/mount_redirects.py): read from the code, then a CherryPy application that
reads $XDG_DATA_HOME when it is imported and redirects to an absolute path
(tests/fixtures/xdg_pad) served by a real Apache + mod_wsgi at / and at a sub-URL."""
import shutil
from pathlib import Path

import pytest

from support.projects import make_venv_marker
from support.venv import run
from test_e2e_apache import STOP_BOUND, assert_clean_log, deploy, prefix_of
from tgdeploy.apps import mount_redirects
from tgdeploy.detect.arbiter import detect
from tgdeploy.doctor import own_deployment
from tgdeploy.settle import daemon_env, options

FIXTURES = Path(__file__).parent / 'fixtures'


def test_xdg_folders_in_the_data_folder_when_the_code_reads_one():
    found = daemon_env.derived(str(FIXTURES / 'xdg_pad'), '/srv/pad/data')
    assert [(name, value) for name, value, _ in found] == [
        ('XDG_DATA_HOME', '/srv/pad/data/xdg-data'),
        ('XDG_CONFIG_HOME', '/srv/pad/data/xdg-config'),
        ('XDG_CACHE_HOME', '/srv/pad/data/xdg-cache'),
        ('XDG_STATE_HOME', '/srv/pad/data/xdg-state')]
    assert found[0][2].startswith('xdgpad/paths.py:5 reads XDG_DATA_HOME')
    # A name the user sets is the user's.
    taken = daemon_env.derived(str(FIXTURES / 'xdg_pad'), '/d', ['XDG_CONFIG_HOME'])
    assert 'XDG_CONFIG_HOME' not in [name for name, _, _ in taken] and len(taken) == 3


def settled(project, **given):
    given.setdefault('python_home', str(make_venv_marker(project.parent / 'venv')))
    return options.settle(detect(str(project)), given)


def test_the_doctor_names_a_variable_read_at_import_that_nobody_sets(tmp_path):
    project = tmp_path / 'xdg_pad'
    shutil.copytree(str(FIXTURES / 'xdg_pad'), str(project))
    values = settled(project)
    assert ('XDG_DATA_HOME', str(project / 'data' / 'xdg-data')) in values.apache.setenv
    assert 'environment: XDG_DATA_HOME=data/xdg-data, XDG_CONFIG_HOME=data/xdg-config, ' \
        'XDG_CACHE_HOME=data/xdg-cache, XDG_STATE_HOME=data/xdg-state (xdgpad/paths.py:5 ' \
        'reads XDG_DATA_HOME: the XDG folders are the data folder\'s)' in values.project.evidence
    assert not [t for _, t in own_deployment.findings(values) if 'reads' in t]
    paths = project / 'xdgpad' / 'paths.py'
    paths.write_text(paths.read_text().replace('XDG_DATA_HOME', 'PAD_HOME'))
    found = [(level, t) for level, t in own_deployment.findings(settled(project))
             if 'reads' in t]
    assert found == [('error', 'xdgpad/paths.py:5: the start-up reads PAD_HOME, the '
                      'deployment does not set it (KeyError at start-up): pass --env-file or '
                      '--setenv PAD_HOME=...')]
    assert not [t for _, t in own_deployment.findings(settled(project, setenv=['PAD_HOME=/p']))
                if 'reads' in t]


def test_a_comment_is_no_read_and_other_projects_get_nothing(tmp_path):
    (tmp_path / 'app.py').write_text('import os\n# keeps $XDG_DATA_HOME/app\n'
                                     'X = "no XDG_DATA_HOME here"\n')
    assert daemon_env.derived(str(tmp_path), '/d') == []
    assert daemon_env.derived(str(FIXTURES / 'class_start'), '/d') == []


def test_a_configargparse_default_in_a_system_folder_moves_by_its_variable(tmp_path):
    (tmp_path / 'config.py').write_text(
        'import configargparse\n\n\ndef get_parser():\n'
        '    parser = configargparse.ArgumentParser(\n'
        '        default_config_files=["/etc/app/app.conf"], auto_env_var_prefix="APP_")\n'
        '    parser.add("-f", "--config", is_config_file=True, default="/etc/app/app.conf")\n'
        '    parser.add(\n        "--database-uri", "--db",\n'
        '        help="where (default: /etc/app/app.db)",\n'
        '        default="/etc/app/app.db",\n    )\n'
        '    parser.add_argument("--cache", env_var="APP_CACHE_FOLDER", '
        'default="/var/cache/app")\n'
        '    parser.add_argument("--theme", default="/usr/share/app/theme")\n'
        '    return parser\n')
    found = daemon_env.derived(str(tmp_path), '/srv/app/data', ['PATH'])
    assert [(name, value) for name, value, _ in found] == [
        ('APP_DATABASE_URI', '/srv/app/data/app.db'),
        ('APP_CACHE_FOLDER', '/srv/app/data/app')]
    assert found[0][2] == ('config.py:8: --database-uri defaults to /etc/app/app.db, which the '
                           'daemon user cannot write (ConfigArgParse reads APP_DATABASE_URI)')


@pytest.mark.parametrize('location, expected', [
    ('http://h:8/login/', 'http://h:8/sub/login/'),
    ('/login/?next=%2F', '/sub/login/?next=%2F'),
    ('http://h:8/', 'http://h:8/sub/'),
    ('http://h:8/sub/login/', 'http://h:8/sub/login/'),    # already under the mount
    ('http://h:8/sub', 'http://h:8/sub'),
    ('http://h:8/subway/', 'http://h:8/sub/subway/'),      # another path, not the mount
    ('http://other.example/login/', 'http://other.example/login/'),  # another host
    ('login/', 'login/'),                                  # relative to the page
    ('mailto:x@example.org', 'mailto:x@example.org'),
    ('http://[::1/', 'http://[::1/'),                      # unreadable: as it is
])
def test_a_redirect_of_this_host_is_kept_under_the_mount(location, expected):
    environ = {'HTTP_HOST': 'h:8', 'SERVER_NAME': 'h', 'SERVER_PORT': '8'}
    assert mount_redirects.under_mount(location, '/sub', environ) == expected


def test_at_the_root_redirects_are_left_alone():
    def app(environ, start_response):
        start_response('302 Found', [('Location', '/login/')])
        return [b'']
    seen = []
    wrapped = mount_redirects.wrap(app)
    wrapped({'SCRIPT_NAME': '', 'HTTP_HOST': 'h'}, lambda s, h, e=None: seen.append(h))
    wrapped({'SCRIPT_NAME': '/sub', 'HTTP_HOST': 'h'}, lambda s, h, e=None: seen.append(h))
    assert seen == [[('Location', '/login/')], [('Location', '/sub/login/')]]


@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_served_with_its_xdg_folders_in_the_data_folder(deploy_venv, apache_factory, www_tmp,
                                                        mount):
    project = www_tmp / 'xdg_pad'
    shutil.copytree(str(FIXTURES / 'xdg_pad'), str(project))
    data = project / 'data'
    run(['install', '-d', '-o', 'www-data', '-g', 'www-data', data, data / 'egg-cache'])
    apache = apache_factory([project / 'apache' / 'xdgpad.conf'])
    deploy(deploy_venv, project, '--mount', mount, '--server-name', '127.0.0.1',
           '--port', str(apache.port))
    assert "os.environ['XDG_DATA_HOME'] = %r" % str(data / 'xdg-data') in (
        project / 'apache' / 'xdgpad.wsgi').read_text()
    prefix = prefix_of(mount)
    status, _, body = apache.start(prefix + '/')
    assert status == 200, apache.error_log()[-3000:]
    assert '<p>visits 1</p>' in body
    assert (data / 'xdg-data' / 'xdgpad' / 'visits').read_text() == '1'
    # HTTPRedirect('/hello'): CherryPy resolves it against the host; it stays in the mount.
    status, headers, _ = apache.get(prefix + '/go')
    assert status == 303 and headers['Location'] == apache.url + prefix + '/hello', headers
    assert apache.get(prefix + '/hello')[2] == '<p>hello from the pad</p>'
    assert apache.stop() < STOP_BOUND
    assert_clean_log(apache)


def test_the_doctor_names_a_program_the_project_runs_that_the_machine_lacks(tmp_path):
    project = tmp_path / 'xdg_pad'
    shutil.copytree(str(FIXTURES / 'xdg_pad'), str(project))
    (project / 'xdgpad' / 'backup.py').write_text(
        'import shutil\nimport subprocess\n\n\ndef backup(folder):\n'
        '    subprocess.check_call(["tar", "-czf", "b.tgz", folder])\n'
        '    cmd = shutil.which("tgdeploy-no-such-program")\n'
        '    subprocess.call(["python3", "-V"])\n')
    values = settled(project)
    found = [t for _, t in own_deployment.findings(values) if 'the program' in t]
    assert found == ['xdgpad/backup.py:7: the project runs the program '
                     'tgdeploy-no-such-program, which this machine lacks (not in %s/bin:'
                     '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin): install it '
                     '(its distribution package) before the application needs it'
                     % values.python.home]


MUSIC_PATHS = ('import os\nconfigFolderName = "tune"  # $XDG_CONFIG_HOME/tune\n'
               'configFileName = "tune.conf"\n\ndef config_path():\n'
               '    return os.path.join(os.environ["XDG_CONFIG_HOME"], configFolderName)\n')
MUSIC_START = ('import sys\nfrom tune import config\n\ndef start():\n'
               '    if config["media.basedir"] is None:\n'
               '        print("Invalid basedir")\n        sys.exit(1)\n'
               '    if config["server.port"] is None:\n        sys.exit(2)\n')


def music_project(tmp_path):
    root = tmp_path / 'tune'
    (root / 'tune').mkdir(parents=True)
    (root / 'tune' / '__init__.py').write_text('config = {}\n')
    (root / 'tune' / 'paths.py').write_text(MUSIC_PATHS)
    (root / 'tune' / 'server.py').write_text(MUSIC_START)
    return root


def test_a_folder_setting_its_start_up_stops_without_gets_a_folder_in_the_data_folder(
        tmp_path):
    """The rule: a setting ``section.key`` whose key names a folder (dir, folder, path), that
    the code exits without, in a settings file of the XDG config folder the deployment puts
    in the data folder, gets data/section-key, named in that file (README step 2)."""
    root = music_project(tmp_path)
    data = str(root / 'data')
    assert daemon_env.seeded_settings(str(root), data) == [{
        'setting': 'media.basedir', 'section': 'media', 'key': 'basedir',
        'folder': data + '/media-basedir', 'file': data + '/xdg-config/tune/tune.conf',
        'where': 'tune/server.py:7'}]  # server.port is no folder: the user's
    why = daemon_env.derived(str(root), data)[0][2]
    assert why.endswith('its start-up stops without media.basedir (tune/server.py:7), a '
                        'folder it cannot pick itself: README step 2 makes data/media-basedir '
                        'and names it in data/xdg-config/tune/tune.conf (when that file is '
                        'not there yet)'), why
    # A config folder the user names is the user's: nothing said, nothing written.
    assert 'media.basedir' not in daemon_env.derived(str(root), data, ['XDG_CONFIG_HOME'])[0][2]
    # No settings file in the XDG config folder: nothing to write it into.
    (root / 'tune' / 'paths.py').write_text(MUSIC_PATHS.replace('"tune.conf"', 'None'))
    assert daemon_env.seeded_settings(str(root), data) == []


def test_readme_step_two_makes_the_folder_and_writes_the_file_once(tmp_path):
    from tgdeploy.settle import own_steps
    from tgdeploy._compat import shell_quote
    root = music_project(tmp_path)
    (root / 'start-tune.py').write_text('import cherrypy\nfrom tune import server\n'
                                        'class Root(object):\n    pass\n'
                                        'server.start()\ncherrypy.quickstart(Root())\n')
    values = settled(root)
    data = values.paths.data_dir
    steps = own_steps.step_two(values.project, values.paths, values.python, values.config,
                               values.daemon, values.apache, shell_quote)
    assert steps.folders == [data + '/media-basedir', data + '/xdg-config',
                             data + '/xdg-config/tune']
    assert not steps.replaces_setup_app and len(steps.lines) == 1
    conf = tmp_path / 'tune.conf'
    line = steps.lines[0].replace(data + '/xdg-config/tune/tune.conf', str(conf)).replace(
        'chown www-data:www-data', 'true')
    run(['bash', '-c', line])
    assert conf.read_text() == '[media]\nbasedir = %s/media-basedir\n' % data
    conf.write_text('[media]\nbasedir = /srv/music\n')  # the user's own: kept
    run(['bash', '-c', line])
    assert conf.read_text() == '[media]\nbasedir = /srv/music\n'
    values = settled(root, setenv='XDG_CONFIG_HOME=/etc/tune')
    assert own_steps.step_two(values.project, values.paths, values.python, values.config,
                              values.daemon, values.apache, shell_quote).lines == []
    assert steps.notes[0].startswith('media.basedir, a folder its start-up stops without '
                                     '(tune/server.py:7): %s/media-basedir, named in '
                                     'tune.conf' % data), steps.notes
