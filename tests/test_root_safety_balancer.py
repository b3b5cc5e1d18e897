"""The balancer's writes (issue 21 item 10): `tgdeploy-balancer` and `paster create -t
tg_balancer` write through install.py as apache/ does. Measured before: root wrote through
a symlink the folder's owner planted, a full disk left a 0-byte config while the message
said nothing was changed (a traceback on the paster path), one of 15 concurrent first runs
failed with `File exists`.
"""
import os
import subprocess
import time

import pytest

from conftest import LAB_PY3
from support.other_user import chown_to_nobody, run_as_nobody
from test_nothing_lost import fill
from tgdeploy.write import seams

BACKENDS = ['--backend', 'http://10.0.0.2:8080', '--backend', 'http://10.0.0.3:8080']
EXPECTED = ['README.txt', 'front.cfg']


def balancer(cwd, *args, name='front'):
    return subprocess.run([LAB_PY3.bin('tgdeploy-balancer'), name, '--engine', 'haproxy']
                          + list(args), cwd=str(cwd), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def paster_create(cwd, *variables, name='front'):
    return subprocess.run([LAB_PY3.bin('paster'), 'create', '-t', 'tg_balancer', name,
                           'engine=haproxy', 'backends=http://10.0.0.2:8080 http://10.0.0.3:8080',
                           '--no-interactive'] + list(variables), cwd=str(cwd),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)


def one_line(proc, prefix):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith(prefix), proc.stderr
    assert 'Traceback' not in proc.stdout + proc.stderr
    return lines[0]


def staging_left(folder):
    return [n for n in os.listdir(str(folder)) if n.startswith('.tgdeploy')]


@pytest.fixture
def owned_by_nobody(www_tmp):
    """A folder nobody owns, holding the balancer's folder nobody made, with a dangling
    symlink where root will write the config."""
    parent = www_tmp / 'nb'
    (parent / 'front').mkdir(parents=True)
    chown_to_nobody(parent)
    victim = www_tmp / 'victim.cfg'
    run_as_nobody('import os, sys; os.symlink(sys.argv[2], sys.argv[1])',
                  parent / 'front' / 'front.cfg', victim)
    return parent, victim


@pytest.mark.parametrize('command', ['script', 'paster'])
def test_no_write_through_a_symlink_planted_in_the_folder(owned_by_nobody, command):
    parent, victim = owned_by_nobody
    if command == 'script':
        refused = one_line(balancer(parent, *BACKENDS), 'tgdeploy-balancer: error: ')
        replaced = balancer(parent, *(BACKENDS + ['--overwrite']))
    else:
        refused = one_line(paster_create(parent), 'tgdeploy: error: ')
        replaced = paster_create(parent, '--overwrite')
    assert 'front.cfg exists and differs' in refused and '--overwrite' in refused
    assert not os.path.lexists(str(victim))
    assert replaced.returncode == 0, replaced.stderr
    assert not os.path.lexists(str(victim))
    config = parent / 'front' / 'front.cfg'
    assert not config.is_symlink() and 'server b1 10.0.0.2:8080' in config.read_text()
    assert os.readlink(str(parent / 'front' / 'front.cfg.bak')) == str(victim)
    assert not staging_left(parent)


def test_a_symlinked_folder_of_another_user_is_refused(www_tmp):
    parent, root_only = www_tmp / 'nb', www_tmp / 'root-only'
    parent.mkdir()
    root_only.mkdir(mode=0o700)
    chown_to_nobody(parent)
    run_as_nobody('import os, sys; os.symlink(sys.argv[2], sys.argv[1])', parent / 'front',
                  root_only)
    line = one_line(balancer(parent, *BACKENDS), 'tgdeploy-balancer: error: ')
    assert 'front is a symlink (to %s) made by nobody' % root_only in line, line
    one_line(paster_create(parent), 'tgdeploy: error: ')
    assert os.listdir(str(root_only)) == []
    named = balancer(parent, *(BACKENDS + ['--output-dir', str(root_only)]))
    assert named.returncode == 0, named.stderr  # named by the operator: the operator's choice
    assert sorted(os.listdir(str(root_only))) == EXPECTED


@pytest.fixture
def small_disk(www_tmp):
    mount = www_tmp / 'disk'
    mount.mkdir()
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tgdeploy-test',
                    str(mount)], check=True)
    yield mount
    subprocess.run(['umount', '-l', str(mount)], check=False)


def test_a_full_disk_is_one_line_and_changes_nothing(small_disk):
    assert balancer(small_disk, *BACKENDS).returncode == 0
    config = small_disk / 'front' / 'front.cfg'
    before = config.read_bytes()
    fill(small_disk, 0)
    other = ['--backend', 'http://10.0.0.4:8080', '--overwrite']
    line = one_line(balancer(small_disk, *other), 'tgdeploy-balancer: error: ')
    assert 'No space left on device (ENOSPC)' in line and 'nothing was changed' in line
    assert config.read_bytes() == before
    line = one_line(paster_create(small_disk, '--overwrite',
                                  'backends=http://10.0.0.4:8080'), 'tgdeploy: error: ')
    assert 'No space left on device (ENOSPC)' in line
    assert config.read_bytes() == before
    # A first run on the full disk leaves no empty config behind.
    line = one_line(balancer(small_disk, *BACKENDS, name='second'), 'tgdeploy-balancer: error: ')
    assert not (small_disk / 'second').exists()
    assert not staging_left(small_disk)


def test_fifteen_concurrent_first_runs_all_succeed(www_tmp):
    start = time.time() + 2.0  # all of them imported by then
    barrier = 'import sys, time; from tgdeploy.balancer.front import main; ' \
              'time.sleep(max(0, %r - time.time())); sys.exit(main(sys.argv[1:]))' % start
    runs = [subprocess.Popen([LAB_PY3.python, '-c', barrier, 'front', '--engine', 'haproxy']
                             + BACKENDS, cwd=str(www_tmp), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(15)]
    results = [(proc.wait(timeout=120), proc.communicate()[1]) for proc in runs]
    assert [code for code, _ in results] == [0] * 15, [err for _, err in results if err]
    assert sorted(os.listdir(str(www_tmp / 'front'))) == EXPECTED
    assert not staging_left(www_tmp)


KILLS = [step for step in seams.STEPS if step != 'moved-aside']


@pytest.mark.parametrize('step', KILLS)
def test_killed_at_every_step_then_a_normal_run(www_tmp, step):
    assert balancer(www_tmp, *BACKENDS).returncode == 0
    folder = www_tmp / 'front'
    (folder / 'mine.txt').write_text('mine\n')
    other = ['--backend', 'http://10.0.0.4:8080', '--overwrite']
    killed = subprocess.run([LAB_PY3.bin('tgdeploy-balancer'), 'front', '--engine', 'haproxy']
                            + other, cwd=str(www_tmp), env=dict(os.environ, **{
                                seams.VARIABLE: 'kill-at:' + step}), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=60)
    assert killed.returncode == -9, killed.stderr
    text = (folder / 'front.cfg').read_text()  # the old or the new one, whole
    assert ('10.0.0.4:8080' in text) == (step in ('swapped', 'cleaned')), text
    again = balancer(www_tmp, *other)
    assert again.returncode == 0, again.stderr
    assert '10.0.0.4:8080' in (folder / 'front.cfg').read_text()
    assert (folder / 'mine.txt').read_text() == 'mine\n'
    assert not staging_left(www_tmp)


def test_a_planted_staging_folder_is_left_alone_and_named(www_tmp):
    parent = www_tmp / 'nb'
    parent.mkdir()
    chown_to_nobody(parent)
    victim = www_tmp / 'victim'
    victim.mkdir(mode=0o755)
    run_as_nobody('import os, sys; os.mkdir(sys.argv[1]); os.symlink(sys.argv[2], '
                  'os.path.join(sys.argv[1], "previous")); open(os.path.join(sys.argv[1], '
                  '"target"), "w").write("front\\n")', parent / '.tgdeploy-swap-planted', victim)
    run = balancer(parent, *BACKENDS)
    assert run.returncode == 0, run.stderr
    assert 'left alone %s' % (parent / '.tgdeploy-swap-planted') in run.stdout
    assert os.path.islink(str(parent / '.tgdeploy-swap-planted' / 'previous'))
    assert sorted(os.listdir(str(parent / 'front'))) == EXPECTED and not os.listdir(str(victim))
