"""`--reload` against a real Apache on 127.0.0.1: the application reloaded under load with a
2-second request in flight loses nothing, only this project's daemon processes are
signalled (not another project's whose name shows alike), and with nothing running, or
without the right to signal, it says so in one line."""
import os
import re
import subprocess
import time

import pytest

from conftest import paster
from support.projects import make_cherrypy
from support.reloading import InFlight, Load, add_slow_page, daemon_pids
from tgdeploy.serve.apache_processes import listening_socket
from tgdeploy.serve.reload_conf import apache_words


def cherry_copy(parent, name='cherryapp'):
    """A copy of the CherryPy fixture with the 2-s /slow page, www-data readable."""
    parent.mkdir(exist_ok=True)
    parent.chmod(0o755)
    project = make_cherrypy(parent / name)
    add_slow_page(project)
    return project


def deploy(venv, project, mount, *args):
    paster(venv, 'tgdeploy', '-q', '--mount', mount, *args, cwd=project)


def pids_of(apache, number):
    """The daemon pids of the ``number``th daemon group (1, 2... in config order): the
    names shown are cut alike, so the group is told by mod_wsgi's socket, whose name
    ends with the group's number."""
    return sorted(pid for pid in daemon_pids(apache.pid())
                  if (listening_socket(pid) or '').endswith('.%d.sock' % number))


def tgdeploy_cli(venv, *args, cwd=None):
    return subprocess.run([venv.bin(args[0])] + list(args[1:]), cwd=str(cwd),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=120)


@pytest.mark.slow
def test_reload_under_load_loses_nothing_and_spares_the_other_project(
        deploy_venv, apache_factory, www_tmp):
    # Daemon names cherryapp-r and cherryapp-rr: both show as "(wsgi:cherryapp-r" (cut to
    # the 17 characters of /usr/sbin/apache2), the first a prefix of the second.
    one = cherry_copy(www_tmp / 'one')
    other = cherry_copy(www_tmp / 'other')
    deploy(deploy_venv, one, '/r')
    deploy(deploy_venv, other, '/rr')
    confs = [one / 'apache' / 'cherryapp.conf', other / 'apache' / 'cherryapp.conf']
    apache = apache_factory(confs)
    assert apache.start('/r/about')[0] == 200
    assert apache.wait_for_answer('/rr/about')[0] == 200
    load = Load(apache.port, '/r/about', clients=4).start()
    other_load = Load(apache.port, '/rr/about', clients=1).start()
    try:
        time.sleep(0.5)
        for _ in range(3):
            before, spared = pids_of(apache, 1), pids_of(apache, 2)
            assert len(before) == 2 and len(spared) == 2
            slow = InFlight(apache.port, '/r/slow')
            time.sleep(0.5)
            started = time.time()
            done = paster(deploy_venv, 'tgdeploy', '--reload', cwd=one)
            took = time.time() - started
            print(done.stdout)
            assert slow.outcome() == 200  # the request in flight finished in its old process
            after = pids_of(apache, 1)
            assert len(after) == 2 and not set(after) & set(before), (before, after)
            assert pids_of(apache, 2) == spared  # never signalled
            assert 'sent SIGUSR1 to 2 processes (daemon "cherryapp-r"' in done.stdout
            # The release check (a start-up of the application) comes first: not counted.
            checked = float(re.search(r'checked as \S+ in ([\d.]+) s', done.stdout).group(1))
            assert 'answered' in done.stdout and took - checked < 15
        # The other project's own reload, by the script without paster, spares the first.
        before, spared = pids_of(apache, 2), pids_of(apache, 1)
        done = tgdeploy_cli(deploy_venv, 'tgdeploy', '--reload', cwd=other)
        assert done.returncode == 0, done.stderr
        assert 'daemon "cherryapp-rr"' in done.stdout
        assert not set(pids_of(apache, 2)) & set(before)
        assert pids_of(apache, 1) == spared
    finally:
        results = load.stop()
        other_results = other_load.stop()
    print('%d requests on /r, %d on /rr' % (len(results), len(other_results)))
    assert len(results) > 100 and len(other_results) > 20
    assert load.failures() == [] and other_load.failures() == []
    log = apache.error_log()
    assert log.count('Process eviction requested') >= 8  # SIGUSR1 reached mod_wsgi
    assert 'Traceback' not in log


def test_two_mounts_of_one_project_that_show_alike_are_not_guessed(
        deploy_venv, apache_factory, www_tmp):
    project = cherry_copy(www_tmp)
    deploy(deploy_venv, project, '/r1', '--output-dir', 'apache-r1')
    deploy(deploy_venv, project, '/r2', '--output-dir', 'apache-r2')
    confs = [project / 'apache-r1' / 'cherryapp.conf', project / 'apache-r2' / 'cherryapp.conf']
    apache = apache_factory(confs)
    assert apache.start('/r1/about')[0] == 200
    before = daemon_pids(apache.pid())
    assert len(before) == 4
    done = tgdeploy_cli(deploy_venv, 'paster', 'tgdeploy', '--reload', '--output-dir',
                        'apache-r1', cwd=project)
    assert done.returncode != 0
    assert 'cannot tell which is this one; nothing signalled' in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert daemon_pids(apache.pid()) == before
    assert 'Process eviction requested' not in apache.error_log()


def test_reload_with_nothing_running(deploy_venv, www_tmp):
    project = cherry_copy(www_tmp)
    deploy(deploy_venv, project, '/nothing-runs-here')
    for command in (['paster', 'tgdeploy'], ['tgdeploy'], ['gearbox', 'tgdeploy']):
        done = tgdeploy_cli(deploy_venv, *(command + ['--reload']), cwd=project)
        assert done.returncode != 0, command
        assert done.stderr.strip().splitlines() == [
            'tgdeploy: error: no daemon process "cherryapp-nothing-runs-here" is running (is '
            'Apache running? the config %s enabled?): nothing reloaded'
            % (project / 'apache' / 'cherryapp.conf')], (command, done.stderr)


def test_reload_refused_to_a_user_who_may_not_signal(deploy_venv, www_tmp):
    project = cherry_copy(www_tmp)
    deploy(deploy_venv, project, '/r')
    done = subprocess.run(['setpriv', '--reuid', 'nobody', '--regid', 'nogroup',
                           '--clear-groups', deploy_venv.bin('tgdeploy'), '--reload'],
                          cwd=str(project), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=120, env=dict(os.environ, HOME='/tmp'))
    assert done.returncode != 0
    assert done.stderr.strip() == (
        'tgdeploy: error: --reload signals the daemon processes of "cherryapp-r", which run '
        'as www-data: run it as root (sudo) or as www-data')


def test_simulate_signals_nothing(deploy_venv, www_tmp):
    """--reload --simulate is the release check alone (tests/test_reload_release.py): with
    nothing running it still says whether the new code would be accepted."""
    project = cherry_copy(www_tmp)
    deploy(deploy_venv, project, '/sim')
    done = tgdeploy_cli(deploy_venv, 'tgdeploy', '--reload', '--simulate', cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('reload: the new code loads and GET /sim/ answers 200 OK')
    assert 'SIGUSR1' not in done.stdout


def test_config_words_as_apache_splits_them():
    assert apache_words('WSGIScriptAlias "/my mount" "/a b/x.wsgi" process-group=x') == [
        'WSGIScriptAlias', '/my mount', '/a b/x.wsgi', 'process-group=x']
    assert apache_words('    home="/tmp/My Projects/shop \\"x\\" éé" user=www-data') == [
        'home=/tmp/My Projects/shop "x" éé', 'user=www-data']
    assert apache_words("home='/a b'") == ['home=/a b']
    assert apache_words('  # WSGIDaemonProcess x') == []


def test_generated_server_snippet_passes_configtest(deploy_venv, apache_factory, www_tmp):
    project = cherry_copy(www_tmp)
    deploy(deploy_venv, project, '/s')
    snippet = project / 'apache' / 'wsgi-server.conf'
    assert 'WSGISocketRotation Off' in snippet.read_text()
    conf = (project / 'apache' / 'cherryapp.conf').read_text()
    assert 'wsgi-server.conf' not in conf  # opt-in: never included by the project's config
    assert 'eviction-timeout=60' in conf
    apache = apache_factory([snippet, project / 'apache' / 'cherryapp.conf'])
    result = apache.configtest()
    assert result.returncode == 0, result.stdout
