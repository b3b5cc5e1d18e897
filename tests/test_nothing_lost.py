"""Nothing lost: real `paster tgdeploy` runs, two at once, killed at every step of the install,
on a full or read-only disk, as a user who may not read everything, against every bad value.

Kills use tgdeploy's one fault seam (tgdeploy/write/seams.py): with TGDEPLOY_SEAM=kill-at:STEP the
run sends itself SIGKILL on reaching STEP, so no `finally` and no cleanup runs, as with
`kill -9` or a power cut.
"""
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import LAB_PY3
from support.entries import add_entries_of_every_kind, states
from support.projects import make_tg2, make_venv_marker
from tgdeploy.write import install, seams



def paster(project, *args, env=None, user=None, timeout=60):
    """One real `paster tgdeploy` run on ``project`` (as ``user`` when given)."""
    command = [LAB_PY3.bin('paster'), 'tgdeploy', '--python-home', str(venv_of(project))]
    command += list(args)
    if user:
        command = ['setpriv', '--reuid=%s' % user, '--regid=nogroup', '--clear-groups',
                   '--'] + command
    full_env = dict(os.environ)
    full_env.pop(seams.VARIABLE, None)
    full_env.update(env or {})
    return subprocess.run(command, cwd=str(project), env=full_env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def venv_of(project):
    return project.parent / 'venv'


@pytest.fixture
def project(www_tmp):
    make_venv_marker(www_tmp / 'venv')
    return make_tg2(www_tmp / 'shop')


def leftovers(folder):
    return sorted(n for n in os.listdir(str(folder)) if n.startswith('.tgdeploy'))


def assert_complete(apache, mount):
    """apache/ is whole and the manifest matches every generated file: one run's output."""
    manifest = install.read_manifest(str(apache), install.entries_below(str(apache)))
    assert sorted(manifest) == ['README.txt', 'shop.conf', 'shop.ini', 'shop.logrotate', 'shop.tmpfiles',
                                'shop.wsgi', 'wsgi-server.conf']
    for name, digest in manifest.items():
        assert install.checksum(str(apache / name)) == digest, name
    assert 'WSGIScriptAlias %s ' % mount in (apache / 'shop.conf').read_text()


# -- two runs at once -------------------------------------------------------------------

# A real paster run whose imports are done before the barrier, so both runs reach the
# install together: argv = start time, then paster's arguments.
AFTER_BARRIER = """
import sys, time
from paste.script import command
import tgdeploy.cli.command
time.sleep(max(0, float(sys.argv[1]) - time.time()))
command.run(sys.argv[2:])
"""


def start_behind_barrier(project, start, mount):
    return subprocess.Popen(
        [LAB_PY3.python, '-c', AFTER_BARRIER, repr(start), 'tgdeploy', '-q', '--python-home',
         str(venv_of(project)), '--mount', mount], cwd=str(project), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_hundred_pairs_of_concurrent_runs_lose_nothing(project):
    assert paster(project).returncode == 0
    apache = project / 'apache'
    add_entries_of_every_kind(apache)
    before = states(apache)
    pairs, failures = 100, []
    for number in range(pairs):
        start = time.time() + 0.8  # both are imported by then
        runs = [start_behind_barrier(project, start, mount) for mount in ('/a', '/b')]
        for proc in runs:
            out, err = proc.communicate(timeout=120)
            if proc.returncode != 0 or err:
                failures.append((number, proc.returncode, err))
        mount = '/a' if '/a ' in (apache / 'shop.conf').read_text() else '/b'
        assert_complete(apache, mount)
        assert states(apache) == before, number
        assert not leftovers(project), number
    assert not failures, failures[:3]


# -- killed at every step ----------------------------------------------------------------

# An atomic exchange never moves the folder aside: that step exists in the fallback only.
KILLS = [(step, mode) for mode in ('exchange', 'no-exchange') for step in seams.STEPS
         if not (step == 'moved-aside' and mode == 'exchange')]


@pytest.mark.parametrize('step, swap_mode', KILLS, ids=['%s-%s' % k for k in KILLS])
def test_killed_at_every_step_then_a_normal_run(project, step, swap_mode):
    assert paster(project).returncode == 0
    apache = project / 'apache'
    add_entries_of_every_kind(apache)
    before = states(apache)
    words = 'kill-at:%s' % step + (',no-exchange' if swap_mode == 'no-exchange' else '')
    killed = paster(project, '--mount', '/killed', env={seams.VARIABLE: words})
    assert killed.returncode == -9, (killed.stdout, killed.stderr)
    if step == 'moved-aside':
        assert not apache.exists()  # the one moment the fallback has: the next run repairs it
    else:
        assert_complete(apache, '/killed' if step in ('swapped', 'cleaned') else '/')
        assert states(apache) == before
    again = paster(project, '--mount', '/after')
    assert again.returncode == 0, again.stderr
    assert_complete(apache, '/after')
    assert states(apache) == before
    assert not leftovers(project)


# -- full and read-only disks -------------------------------------------------------------

@pytest.fixture
def small_disk(www_tmp):
    """A 512 KiB tmpfs of our own (CI runs as root), unmounted afterwards."""
    mount = www_tmp / 'disk'
    mount.mkdir()
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=512k,mode=0755', 'tgdeploy-test',
                    str(mount)], check=True)
    yield mount
    subprocess.run(['umount', '-l', str(mount)], check=False)


def fill(disk, leave):
    """Fill ``disk`` but for about ``leave`` bytes."""
    st = os.statvfs(str(disk))
    free = st.f_bavail * st.f_frsize
    with open(str(disk / 'filler'), 'wb') as f:
        f.write(b'\0' * max(0, free - leave))


def one_error_line(proc):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith('tgdeploy: error: '), proc.stderr
    assert 'Traceback' not in proc.stderr + proc.stdout
    return lines[0]


def test_disk_full_gives_one_line_and_keeps_the_old_folder(small_disk):
    make_venv_marker(small_disk / 'venv')
    project = make_tg2(small_disk / 'shop')
    assert paster(project).returncode == 0
    (project / 'apache' / 'mine.txt').write_text('mine\n')
    apache_before = snapshot(project / 'apache')
    fill(small_disk, 8 * 1024)  # less than a rendering needs
    line = one_error_line(paster(project, '--mount', '/full'))
    assert 'No space left on device (ENOSPC): free some space' in line
    assert snapshot(project / 'apache') == apache_before
    assert not leftovers(project)


def test_read_only_file_system(small_disk):
    make_venv_marker(small_disk / 'venv')
    project = make_tg2(small_disk / 'shop')
    assert paster(project).returncode == 0
    apache_before = snapshot(project / 'apache')
    subprocess.run(['mount', '-o', 'remount,ro', str(small_disk)], check=True)
    line = one_error_line(paster(project, '--mount', '/ro'))
    assert 'Read-only file system (EROFS)' in line and '--output-dir' in line
    assert snapshot(project / 'apache') == apache_before


def snapshot(folder):
    return dict((str(p.relative_to(folder)), p.read_bytes() if p.is_file() else None)
                for p in sorted(Path(folder).rglob('*')))


# -- a user who may not read or write everything ------------------------------------------

@pytest.fixture
def nobodys_project(www_tmp):
    """A project owned by nobody, run as nobody (not root: permissions apply)."""
    make_venv_marker(www_tmp / 'venv')
    project = make_tg2(www_tmp / 'shop')
    subprocess.run(['chown', '-R', 'nobody:nogroup', str(project), str(www_tmp / 'venv')],
                   check=True)
    return project


def test_unreadable_development_ini(nobodys_project):
    ini = nobodys_project / 'development.ini'
    os.chown(str(ini), 0, 0)
    ini.chmod(0o600)
    line = one_error_line(paster(nobodys_project, user='nobody'))
    assert '%s: Permission denied (EACCES): run tgdeploy as a user who may' % ini in line
    assert not (nobodys_project / 'apache').exists()
    assert not leftovers(nobodys_project)


def test_unreadable_generated_conf(nobodys_project):
    assert paster(nobodys_project, user='nobody').returncode == 0
    conf = nobodys_project / 'apache' / 'shop.conf'
    os.chown(str(conf), 0, 0)
    conf.chmod(0o600)
    before = snapshot_as_root(nobodys_project / 'apache')
    line = one_error_line(paster(nobodys_project, '--mount', '/x', user='nobody'))
    assert 'shop.conf: Permission denied (EACCES)' in line
    assert snapshot_as_root(nobodys_project / 'apache') == before
    assert not leftovers(nobodys_project)


def test_apache_folder_of_another_owner(nobodys_project):
    assert paster(nobodys_project, user='nobody').returncode == 0
    apache = nobodys_project / 'apache'
    subprocess.run(['chown', '-R', 'root:root', str(apache)], check=True)
    subprocess.run(['chmod', '-R', 'a+r', str(apache)], check=True)  # readable, not ownable
    (apache / 'mine.txt').write_text('mine\n')
    before = snapshot_as_root(apache)
    line = one_error_line(paster(nobodys_project, '--mount', '/x', user='nobody'))
    assert 'cannot keep the owner of' in line and 'run tgdeploy as root' in line
    assert snapshot_as_root(apache) == before
    assert os.stat(str(apache)).st_uid == 0
    assert not leftovers(nobodys_project)


def snapshot_as_root(folder):
    return dict((str(p.relative_to(folder)), (p.read_bytes() if p.is_file() else None,
                                              p.stat().st_uid, p.stat().st_mode))
                for p in sorted(Path(folder).rglob('*')))


def test_fifo_in_apache_is_refused_not_opened(project):
    assert paster(project).returncode == 0
    os.mkfifo(str(project / 'apache' / 'pipe'))
    line = one_error_line(paster(project, '--mount', '/x', timeout=30))
    assert 'pipe is not a file, folder or symlink' in line


def test_symlink_loop_as_apache_folder(project):
    os.symlink('apache', str(project / 'apache'))
    line = one_error_line(paster(project))
    assert 'apache' in line
    assert os.path.islink(str(project / 'apache'))


# -- bad values: one line, exit 2, nothing written ------------------------------------------

BAD_VALUES = [
    (['--mount', '/.'], 'holds a "." or ".." segment'),
    (['--mount', '/sub/..'], 'holds a "." or ".." segment'),
    (['--user', 'nosuchuser'], '--user nosuchuser does not exist on this machine'),
    (['--group', 'nosuchgroup'], '--group nosuchgroup does not exist on this machine'),
    (['--user', 'www-data\u212a'], 'is not a valid user or group name'),
    (['--group', 'root'], 'is the root group'),
    (['--data-dir', '/'], 'is a system or home folder'),
    (['--data-dir', '/var/www'], 'is a system or home folder'),
    (['--data-dir', '.'], 'holds the project'),
    (['--data-dir', 'apache/data'], 'lies inside the output folder'),
    (['--data-dir', 'shop/public/data'], 'lies inside the static folder'),
    (['--output-dir', '.'], 'the project folder or holds it'),
    (['--output-dir', '/etc'], 'a system folder'),
    (['--output-dir', 'shop/public/apache'], 'lies inside the static folder'),
    (['--output-dir', 'data/apache'], 'lies inside the data folder'),
    (['--config', 'development.ini\nInclude /etc/passwd'], 'holds control characters'),
    (['--server-name', 'a' * 10000], 'is not a host name'),
    (['--server-name', 'a' * 64 + '.example'], 'is not a host name'),
    (['--tg-version', '1.5'], '--tg-version applies to TurboGears 1.x only'),
    (['--root', 'shop.controllers.root:RootController'], '--root does not apply to TurboGears 2'),
    (['--port', '8080'], '--port sets the port of the virtual host'),
    (['--mode', 'embedded', '--threads', '4'], '--threads applies to daemon mode only'),
    (['--limit-request-body', '-1'], '--limit-request-body'),
]


@pytest.mark.parametrize('args, message', BAD_VALUES, ids=[' '.join(a)[:40] for a, _ in BAD_VALUES])
def test_bad_values_one_line_nothing_written(project, args, message):
    line = one_error_line(paster(project, *args))
    assert message in line, line
    assert not (project / 'apache').exists()
    assert not leftovers(project)


def test_elsewhere_writes_for_another_machine(project):
    proc = paster(project, '--elsewhere', 'yes', '--user', 'shopd', '--group', 'shopd',
                  '--python-home', '/srv/shop/venv')
    assert proc.returncode == 0, proc.stderr
    conf = (project / 'apache' / 'shop.conf').read_text()
    assert 'user=shopd group=shopd' in conf and 'python-home="/srv/shop/venv"' in conf


def test_paster_create_errors_go_to_stderr(project):
    proc = subprocess.run([LAB_PY3.bin('paster'), 'create', '-t', 'tg_modwsgi', 'shop',
                           '--no-interactive', 'bogus=1', 'python_home=%s' % venv_of(project)],
                          cwd=str(project.parent), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    line = one_error_line(proc)
    assert 'unknown variable(s) bogus' in line
    assert 'error' not in proc.stdout
    assert not (project / 'apache').exists()


def test_gearbox_quiet_is_quiet(project):
    proc = subprocess.run([LAB_PY3.bin('gearbox'), 'tgdeploy', '-q', '--python-home',
                           str(venv_of(project))], cwd=str(project), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, '', '')
    assert (project / 'apache' / 'shop.conf').is_file()


def test_static_files_with_odd_names_are_aliased_quoted(project):
    """A space, a '%' or accented letters in a static file's name: aliased, quoted (UTF-8);
    only what Apache cannot carry ('${', which it expands everywhere) is left to the
    application."""
    (project / 'shop' / 'public' / 'my file.txt').write_text('x')
    (project / 'shop' / 'public' / 'r\u00e9sum\u00e9.pdf').write_text('x')
    (project / 'shop' / 'public' / 'a${b}.txt').write_text('x')
    proc = paster(project)
    assert proc.returncode == 0, proc.stderr
    conf = (project / 'apache' / 'shop.conf').read_text(encoding='utf-8')
    assert 'Alias "/my file.txt" "%s/shop/public/my file.txt"' % project in conf, conf
    assert 'Alias "/r\u00e9sum\u00e9.pdf" ' in conf
    assert 'a${b}' not in conf
    readme = (project / 'apache' / 'README.txt').read_text()
    assert "Left to the application" in readme and "a${b}.txt" in readme


def test_relative_output_dir_is_taken_from_the_project(project, www_tmp):
    (project / 'deploy').mkdir()
    proc = subprocess.run([LAB_PY3.bin('paster'), 'tgdeploy', '--python-home',
                           str(venv_of(project)), '--output-dir', 'deploy/apache', str(project)],
                          cwd=str(www_tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert (project / 'deploy' / 'apache' / 'shop.conf').is_file()
    assert not (www_tmp / 'deploy').exists()


# -- found by an adversarial pass ---------------------------------------------------------

@pytest.mark.parametrize('link_to', ['/etc', 'parent', '/proc/1/root'])
def test_a_symlinked_output_folder_is_checked_where_it_leads(project, link_to):
    """apache -> /etc (or to the folder holding the project) would have the swap exchange
    /etc itself: the checks follow the symlink."""
    target = str(project.parent) if link_to == 'parent' else link_to
    os.symlink(target, str(project / 'apache'))
    before = sorted(os.listdir(str(project.parent)))
    line = one_error_line(paster(project))
    # (/proc/1/root may be unreadable even for root, in a container: refused all the same.)
    assert 'would be swapped whole' in line or link_to.startswith('/proc'), line
    assert sorted(os.listdir(str(project.parent))) == before
    assert os.path.islink(str(project / 'apache'))


def test_read_only_folders_as_non_root(nobodys_project):
    """A user's 0555 folder (certs/) and a 0555 apache/: carried over as they are, and no
    staging folder left to wedge the next run."""
    nb = 'nobody'
    assert paster(nobodys_project, user=nb).returncode == 0
    apache = nobodys_project / 'apache'
    (apache / 'certs').mkdir()
    (apache / 'certs' / 'site.pem').write_text('pem\n')
    subprocess.run(['chown', '-R', 'nobody:nogroup', str(apache)], check=True)
    (apache / 'certs').chmod(0o555)
    apache.chmod(0o555)
    for mount in ('/a', '/b'):
        proc = paster(nobodys_project, '--mount', mount, user=nb)
        assert proc.returncode == 0, proc.stderr
        assert 'WSGIScriptAlias %s ' % mount in (apache / 'shop.conf').read_text()
        assert not leftovers(nobodys_project)
    assert stat.S_IMODE(os.stat(str(apache / 'certs')).st_mode) == 0o555
    assert stat.S_IMODE(os.stat(str(apache)).st_mode) == 0o555
    assert (apache / 'certs' / 'site.pem').read_text() == 'pem\n'


def test_hard_links_in_apache_stay_linked(project):
    assert paster(project).returncode == 0
    apache = project / 'apache'
    (apache / 'h1').write_text('a\n')
    os.link(str(apache / 'h1'), str(apache / 'h2'))
    assert paster(project, '--mount', '/n').returncode == 0
    assert os.stat(str(apache / 'h1')).st_ino == os.stat(str(apache / 'h2')).st_ino


@pytest.mark.parametrize('case', ['manifest-nesting', 'proc-config', 'unicode-port',
                                  'undecodable-name'])
def test_odd_inputs_are_one_line_or_fine(project, case):
    assert paster(project).returncode == 0
    env = None
    args = []
    if case == 'manifest-nesting':
        (project / 'apache' / '.tgdeploy-manifest').write_text('[' * 100000)
        args = ['--overwrite']
    elif case == 'proc-config':
        args = ['--config', '/proc/kmsg']
    elif case == 'unicode-port':
        args = ['--error-email', 'a@b.org', '--smtp-server', 'mail:\u00b2']
    else:
        with open(os.path.join(str(project / 'apache').encode(), b'caf\xe9'), 'w') as f:
            f.write('x')
        env = {'PYTHONIOENCODING': 'utf-8'}
    proc = paster(project, *args, env=env, timeout=30)
    assert 'Traceback' not in proc.stdout + proc.stderr
    if case in ('proc-config', 'unicode-port'):
        one_error_line(proc)
    else:
        assert proc.returncode == 0, proc.stderr
