"""`--reload` touches only its own deployment (issue 21, item 4): only the daemons of the
Apache that loaded this very conf are signalled and waited for (not a staging copy's beside
production under another Apache, not a process dressed as a daemon), and the conf is read
bounded (a FIFO or a symlink to /dev/zero in its place is one line, exit 2, no hang). A
`--serve` of the same .conf beside production is left alone."""
import os
import queue
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import paster
from support.httpd import APACHE, DEBIAN_WSGI
from support.projects import make_apache_tree, make_cherrypy
from support.reloading import PYTHON, LookAlike, daemon_pids

RUN_LIMIT = 60  # today's code waits 100 s for a look-alike and forever on a FIFO


def copy_of_project(parent):
    parent.mkdir(exist_ok=True)
    parent.chmod(0o755)
    return make_cherrypy(parent / 'cherryapp')


def deployed_and_served(deploy_venv, apache_factory, folder):
    """A copy of the CherryPy fixture deployed at / (daemon "cherryapp", shown whole, so
    the name alone cannot tell the copies apart) and served by an Apache of its own."""
    project = copy_of_project(folder)
    paster(deploy_venv, 'tgdeploy', '-q', cwd=project)
    apache = apache_factory([project / 'apache' / 'cherryapp.conf'])
    assert apache.start('/about')[0] == 200
    return project, apache


def reload_in(deploy_venv, project):
    started = time.time()
    done = subprocess.run([deploy_venv.bin('tgdeploy'), '--reload'], cwd=str(project),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=RUN_LIMIT)
    return done, time.time() - started


def test_staging_beside_production_reloads_only_its_own_apache(
        deploy_venv, apache_factory, www_tmp):
    production, production_apache = deployed_and_served(
        deploy_venv, apache_factory, www_tmp / 'production')
    staging, staging_apache = deployed_and_served(
        deploy_venv, apache_factory, www_tmp / 'staging')
    spared = sorted(daemon_pids(production_apache.pid()))
    before = sorted(daemon_pids(staging_apache.pid()))
    assert len(spared) == 2 and len(before) == 2
    done, took = reload_in(deploy_venv, staging)
    print('staging reload: %.2f s' % took)
    assert done.returncode == 0, done.stderr
    assert 'sent SIGUSR1 to 2 processes (daemon "cherryapp", pid %s)' % ', '.join(
        str(pid) for pid in before) in done.stdout, done.stdout
    assert sorted(daemon_pids(production_apache.pid())) == spared  # never signalled
    after = daemon_pids(staging_apache.pid())
    assert len(after) == 2 and not set(after) & set(before)
    assert 'answered 200' in done.stdout and took < 20
    assert 'Process eviction requested' not in production_apache.error_log()
    # And the other way round.
    done, _ = reload_in(deploy_venv, production)
    assert done.returncode == 0, done.stderr
    assert 'sent SIGUSR1 to 2 processes' in done.stdout
    assert not set(daemon_pids(production_apache.pid())) & set(spared)
    assert sorted(daemon_pids(staging_apache.pid())) == sorted(after)


@pytest.mark.parametrize('user', ['www-data', 'nobody'])
def test_a_process_dressed_as_a_daemon_is_ignored(deploy_venv, apache_factory, www_tmp, user):
    # www-data is the daemon user itself (a compromised application could do this);
    # nobody is any other account on the machine.
    project, apache = deployed_and_served(deploy_venv, apache_factory, www_tmp / 'p')
    before = sorted(daemon_pids(apache.pid()))
    look_alike = LookAlike('cherryapp', user)
    try:
        done, took = reload_in(deploy_venv, project)
        print('reload beside a look-alike run by %s: %.2f s' % (user, took))
        assert done.returncode == 0, done.stderr
        assert 'sent SIGUSR1 to 2 processes (daemon "cherryapp", pid %s)' % ', '.join(
            str(pid) for pid in before) in done.stdout, done.stdout
        assert str(look_alike.child) not in done.stdout
        assert took < 20, took  # not waiting for the look-alike's successor
        assert look_alike.alive()
    finally:
        look_alike.stop()


def conf_replaced(deploy_venv, www_tmp, plant):
    """A deployment whose project the user nobody owns, and where nobody then replaced the
    .conf (``plant``: Python run as nobody, the .conf's path in ``path``)."""
    project = copy_of_project(www_tmp)
    paster(deploy_venv, 'tgdeploy', '-q', cwd=project)
    subprocess.run(['chown', '-R', 'nobody:nogroup', str(project)], check=True)
    conf = project / 'apache' / 'cherryapp.conf'
    subprocess.run(['setpriv', '--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups',
                    PYTHON, '-c', 'import os, sys\npath = sys.argv[1]\nos.unlink(path)\n'
                    + plant, str(conf)], check=True, timeout=60)
    return project, conf


@pytest.mark.parametrize('plant, said', [
    ('os.mkfifo(path)', 'is not a regular file (a FIFO)'),
    ('os.symlink("/dev/zero", path)', 'is a symlink'),
    ('os.symlink("/nowhere/at/all.conf", path)', 'is a symlink'),
])
def test_a_conf_that_is_no_regular_file_is_one_line(deploy_venv, www_tmp, plant, said):
    project, conf = conf_replaced(deploy_venv, www_tmp, plant)
    done, took = reload_in(deploy_venv, project)
    print('%s: exit %d after %.2f s' % (said, done.returncode, took))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('tgdeploy: error: %s %s' % (conf, said)), \
        done.stderr
    assert took < 20


def test_a_conf_too_large_is_one_line(deploy_venv, www_tmp):
    project, conf = conf_replaced(deploy_venv, www_tmp, 'with open(path, "w") as f:\n'
                                  '    f.write("# padding\\n" * 1200000)')  # 12 MB
    done, _ = reload_in(deploy_venv, project)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('tgdeploy: error: %s is larger than 1 MiB'
                                                   % conf), done.stderr


def serving(deploy_venv, project, tree):
    """`tgdeploy --serve` of ``project`` (its own private Apache, including the very same
    .conf): (the process, the private Apache's pid). Its output is read on a thread of its
    own, so that waiting for the "Serving" line has a deadline."""
    proc = subprocess.Popen([deploy_venv.bin('tgdeploy'), '--serve', '--apache-root', str(tree)],
                            cwd=str(project), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED='1'))
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in iter(proc.stdout.readline, '')]
                     + [lines.put('')], daemon=True).start()
    deadline = time.time() + 120
    seen = []
    while time.time() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            break
        seen.append(line)
        # The log is in the private Apache's folder (or a folder inside it).
        match = re.search(r'log: (/tmp/tgdeploy-check-[^/]+)/', line)
        if match:
            with open(os.path.join(match.group(1), 'httpd.pid')) as f:
                return proc, int(f.read())
        if not line:
            break
    proc.send_signal(signal.SIGINT)
    proc.wait(60)
    raise AssertionError('no "Serving" line within 120 s: %s' % ''.join(seen))


def daemons_of(apache_pid, count=2, timeout=30):
    deadline = time.time() + timeout
    while len(daemon_pids(apache_pid)) != count and time.time() < deadline:
        time.sleep(0.1)
    return sorted(daemon_pids(apache_pid))


def test_a_serve_beside_production_is_left_alone(deploy_venv, apache_factory, www_tmp):
    project = copy_of_project(www_tmp / 'p')
    paster(deploy_venv, 'tgdeploy', '-q', cwd=project)
    tree = make_apache_tree(www_tmp / 'etc-apache2', DEBIAN_WSGI)
    proc, serve_pid = serving(deploy_venv, project, tree)
    try:
        # Alone, the --serve Apache is the one running this .conf: reloaded.
        before = daemons_of(serve_pid)
        done, _ = reload_in(deploy_venv, project)
        assert done.returncode == 0, done.stderr
        assert 'sent SIGUSR1 to 2 processes' in done.stdout and 'left alone' not in done.stdout
        serving_now = daemons_of(serve_pid)
        assert len(serving_now) == 2 and not set(serving_now) & set(before)
        # Beside production (an Apache including the same .conf), production only.
        production = apache_factory([project / 'apache' / 'cherryapp.conf'])
        assert production.start('/about')[0] == 200
        before = daemons_of(production.pid())
        done, _ = reload_in(deploy_venv, project)
        assert done.returncode == 0, done.stderr
        assert 'sent SIGUSR1 to 2 processes (daemon "cherryapp", pid %s)' % ', '.join(
            str(pid) for pid in before) in done.stdout, done.stdout
        assert 'left alone: the daemons of the private Apache of tgdeploy --check/--serve ' \
               '(pid %d)' % serve_pid in done.stdout
        assert daemons_of(serve_pid) == serving_now
        assert not set(daemons_of(production.pid())) & set(before)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)


def test_a_site_enabled_the_debian_way_is_found(deploy_venv, apache_factory, www_tmp):
    """Apache started as Debian's apache2ctl starts it (-d ServerRoot, the default
    apache2.conf, sites enabled as symlinks, a relative IncludeOptional glob): the chain
    from its command line reaches the project's .conf; a copy never enabled is not."""
    project = copy_of_project(www_tmp / 'enabled')
    paster(deploy_venv, 'tgdeploy', '-q', cwd=project)
    copy = copy_of_project(www_tmp / 'never-enabled')
    paster(deploy_venv, 'tgdeploy', '-q', cwd=copy)
    apache = apache_factory(['sites-enabled/*.conf'])
    root = apache.root
    os.mkdir(os.path.join(root, 'sites-enabled'))
    os.symlink(str(project / 'apache' / 'cherryapp.conf'),
               os.path.join(root, 'sites-enabled', 'cherryapp.conf'))
    with open(apache.config) as f:
        text = f.read().replace('Include "sites-enabled', 'IncludeOptional "sites-enabled')
    with open(os.path.join(root, 'apache2.conf'), 'w') as f:
        f.write(text)
    apache.started = True  # stopped by the fixture whatever happens next
    subprocess.run([APACHE, '-d', root, '-k', 'start'], check=True, timeout=60)
    assert apache.wait_for_answer('/about')[0] == 200
    before = daemons_of(apache.wait_for_pid(10))
    done, _ = reload_in(deploy_venv, project)
    assert done.returncode == 0, done.stderr
    assert 'sent SIGUSR1 to 2 processes (daemon "cherryapp", pid %s)' % ', '.join(
        str(pid) for pid in before) in done.stdout, done.stdout
    done, _ = reload_in(deploy_venv, copy)
    assert done.returncode == 2
    assert 'no daemon process "cherryapp" is running' in done.stderr
    assert not set(daemons_of(apache.pid())) & set(before)


def test_one_conf_in_two_apaches_of_the_operator_reloads_both(
        deploy_venv, apache_factory, www_tmp):
    """The very same .conf included by two Apaches (neither a --check/--serve): each runs
    this deployment, so each one's daemons are reloaded, each counted under its own parent."""
    project = copy_of_project(www_tmp / 'p')
    paster(deploy_venv, 'tgdeploy', '-q', cwd=project)
    apaches = [apache_factory([project / 'apache' / 'cherryapp.conf']) for _ in range(2)]
    for apache in apaches:
        assert apache.start('/about')[0] == 200
    before = [daemons_of(apache.pid()) for apache in apaches]
    done, _ = reload_in(deploy_venv, project)
    assert done.returncode == 0, done.stderr
    assert 'sent SIGUSR1 to 4 processes' in done.stdout
    assert 'reload: the daemons of 2 Apaches (pid %s), which all load %s' % (
        ', pid '.join(str(pid) for pid in sorted(apache.pid() for apache in apaches)),
        project / 'apache' / 'cherryapp.conf') in done.stdout, done.stdout
    for apache, old in zip(apaches, before):
        assert not set(daemons_of(apache.pid())) & set(old)


def test_the_daemon_user_reloads_under_roots_apache(deploy_venv, apache_factory, www_tmp):
    """As www-data (the daemon user) rather than root: root's Apache parent still counts
    (its command line is anyone's to read, its environment is not), the daemons are
    signalled and replaced."""
    project, apache = deployed_and_served(deploy_venv, apache_factory, www_tmp / 'p')
    before = daemons_of(apache.pid())
    done = subprocess.run(['setpriv', '--reuid', 'www-data', '--regid', 'www-data',
                           '--clear-groups', deploy_venv.bin('tgdeploy'), '--reload'],
                          cwd=str(project), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=RUN_LIMIT, env=dict(os.environ, HOME='/tmp'))
    assert done.returncode == 0, done.stderr
    assert 'sent SIGUSR1 to 2 processes (daemon "cherryapp", pid %s)' % ', '.join(
        str(pid) for pid in before) in done.stdout, done.stdout
    assert not set(daemons_of(apache.pid())) & set(before)
