"""A replayed start-up that stops itself (sys.exit) before it serves
(tests/fixtures/exit_start, modelled on a published music server that exits until its config
file names a music folder): detection names each condition it stops on and the setting it
reads, before serving; under Apache the exit is never a bare SystemExit 500 but one line in
the error log naming the script's line and the exit code; and once the user gives it the
setting, the way its documentation says (its own config file, under the XDG folder the
deployment gives it), it serves. `--check` shows that line and fails."""
import re
import shutil
import sys
from pathlib import Path

import pytest

from conftest import paster
from support.venv import run
from test_e2e_apache import deploy
from tgdeploy.apps import replay, startup
from tgdeploy.detect import startup_exits, startup_script

FIXTURES = Path(__file__).parent / 'fixtures'


def stops(text, tmp_path):
    (tmp_path / 'run.py').write_text(text)
    return [(s.condition, s.where, s.setting)
            for s in startup_exits.stops_in(startup_script.read_text(str(tmp_path / 'run.py')),
                                            'run.py')]


def test_the_conditions_it_stops_on_are_named_with_the_setting_they_read():
    project = str(FIXTURES / 'exit_start')
    found = startup_script.find(project, 'cherrypy')
    assert found.script.endswith('start-jukebox.py')
    assert [s.describe() for s in found.stops] == [
        'when not os.path.exists(CONFIG) (at start-jukebox.py:43)',
        "when its setting media.library is missing or empty (config['media']['library'] == "
        "'None', at start-jukebox.py:48)"]  # not --version's exit: no command line here


def test_what_is_not_a_stop(tmp_path):
    assert stops('import sys\n\ndef main():\n    sys.exit(main())\n\n'
                 'if __name__ == "__main__":\n    sys.exit(main())\n', tmp_path) == []
    assert stops('import optparse, sys\n(opts, rest) = optparse.OptionParser().parse_args()\n'
                 'if opts.info:\n    sys.exit(0)\nif len(sys.argv) > 3:\n    exit(2)\n',
                 tmp_path) == []


def test_else_try_and_nested_blocks(tmp_path):
    text = ('import os, sys\nif os.path.exists("/etc/app.conf"):\n    pass\nelse:\n'
            '    raise SystemExit("no config")\n'
            'if conf.get("db", "url"):\n    try:\n        with open(x) as f:\n'
            '            sys.exit(1)\n    except OSError:\n        pass\n')
    assert stops(text, tmp_path) == [
        ('not (os.path.exists("/etc/app.conf"))', 'run.py:5', None),
        ('conf.get("db", "url")', 'run.py:9', 'db.url')]
    assert stops('if not ready:  # first run\n    quit()\n', tmp_path) == [
        ('not ready', 'run.py:2', None)]


@pytest.mark.parametrize('body, code, said', [
    ('sys.exit(3)', '3', ''), ('sys.exit("Invalid basedir. Name one.")', '1',
                               ': Invalid basedir. Name one.'),
    ('raise SystemExit', '0', '')])
def test_a_replayed_exit_is_one_line_naming_where_and_the_code(tmp_path, monkeypatch, body,
                                                                code, said):
    script = tmp_path / 'start-app.py'
    script.write_text('import sys\n\n\ndef check():\n    %s\n\n\ncheck()\n' % body)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(replay.StartupExit) as failed:
        replay.run(str(script))
    message = str(failed.value)
    assert message.startswith(
        'the start-up %s exited (sys.exit, code %s) at start-app.py:5 (%s) before it started '
        'its server%s; ' % ('start-app.py', code, body, said)), message
    assert failed.value.__suppress_context__  # the first traceback is this one
    assert sys.argv[0] != str(script)


def test_a_startup_function_that_exits_is_one_line_too(tmp_path, monkeypatch):
    (tmp_path / 'boot_exits.py').write_text('import sys\n\n\ndef boot():\n'
                                            '    sys.exit("no database configured")\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(replay.StartupExit) as failed:
        startup.run_once('boot_exits:boot')
    assert str(failed.value).startswith(
        'the start-up --startup boot_exits:boot exited (sys.exit, code 1) at boot_exits.py:5 '
        '(sys.exit("no database configured")) before the first request: no database '
        'configured; '), str(failed.value)
    assert 'boot_exits:boot' not in startup._done


def test_served_once_the_user_names_what_it_stops_for(deploy_venv, apache_factory, www_tmp):
    """At /sub: a clear error in the log (first run: the default config written; then the
    missing setting), never a bare SystemExit; the user names the folder in the file the
    application wrote, under the deployment's XDG_CONFIG_HOME, and the next request serves."""
    project = www_tmp / 'exit_start'
    shutil.copytree(str(FIXTURES / 'exit_start'), str(project))
    data, music = project / 'data', www_tmp / 'music'
    run(['install', '-d', '-o', 'www-data', '-g', 'www-data', data, data / 'egg-cache'])
    music.mkdir()
    (music / 'track-1.ogg').write_text('')
    music.chmod(0o755)
    apache = apache_factory([project / 'apache' / 'jukebox.conf'])
    deploy(deploy_venv, project, '--mount', '/sub', '--server-name', '127.0.0.1',
           '--port', str(apache.port))
    status, _, _ = apache.start('/sub/')
    assert status == 500
    assert apache.get('/sub/')[0] == 500
    log = apache.error_log()
    assert ('StartupExit: the start-up start-jukebox.py exited (sys.exit, code 0) at '
            'start-jukebox.py:43 (sys.exit(0)) before it started its server') in log
    assert 'exited (sys.exit, code 1) at start-jukebox.py:48 (sys.exit(1))' in log
    assert 'Invalid library folder' in log  # what it printed, in the log too
    assert 'SystemExit' not in log, log
    config = data / 'xdg-config' / 'jukebox' / 'jukebox.conf'
    config.write_text(config.read_text().replace('library = None', 'library = %s' % music))
    status, _, body = apache.get('/sub/')
    assert status == 200 and '<li>track-1.ogg</li>' in body, apache.error_log()[-2000:]


def test_check_shows_the_exit_and_fails(deploy_venv, www_tmp):
    """`--check` (its own private Apache): the first traceback it shows for the failed
    request ends in the one line naming the script's line and the exit code."""
    project = www_tmp / 'exit_check'
    shutil.copytree(str(FIXTURES / 'exit_start'), str(project))
    data = project / 'data'
    run(['install', '-d', '-o', 'www-data', '-g', 'www-data', data, data / 'egg-cache'])
    proc = paster(deploy_venv, 'tgdeploy', '--mount', '/sub', '--check', cwd=project,
                  check=False)
    out = proc.stdout
    assert proc.returncode == 3, out + proc.stderr  # will not work
    assert re.search(r'check: GET /sub/ -> 500 in', out), out
    assert ('StartupExit: the start-up start-jukebox.py exited (sys.exit, code 0) at '
            'start-jukebox.py:43 (sys.exit(0)) before it started its server') in out, out
    assert 'SystemExit' not in out, out


def test_the_report_and_the_doctor_name_each_stop_before_serving(tmp_path):
    from support.projects import make_venv_marker
    from tgdeploy.detect.arbiter import detect
    from tgdeploy.doctor.registry import examine
    from tgdeploy.settle import options, replay_settle
    project = tmp_path / 'exit_start'
    shutil.copytree(str(FIXTURES / 'exit_start'), str(project))
    values = options.settle(detect(str(project)),
                            {'python_home': str(make_venv_marker(tmp_path / 'venv'))})
    lines = replay_settle.seen(values.startup.replay, str(project))
    assert ('start-up: stops itself (sys.exit) when its setting media.library is missing or '
            'empty' in '\n'.join(lines)), lines
    stops = [f for f in examine(values) if f.id == "TGD-W045"]
    assert len(stops) == 2, [(f.id, f.text) for f in examine(values)]
    assert 'start-jukebox.py:48' in stops[1].text and 'give it that setting' in stops[1].text
