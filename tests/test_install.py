"""Writing apache/: user edits are never lost, --simulate writes nothing, failures leave the
previous folder intact."""
import errno
import fcntl
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from support.entries import add_entries_of_every_kind, states
from support.projects import make_tg2, make_venv_marker
from tgdeploy.write import install, seams, swap
from tgdeploy.cli.deploy import deploy
from tgdeploy.errors import TgDeployError


@pytest.fixture
def project(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    return make_tg2(tmp_path / 'shop')


def run(project, simulate=False, overwrite=False, **given):
    lines = []
    given.setdefault('python_home', str(project.parent / 'venv'))
    deploy(str(project), given, simulate=simulate, overwrite=overwrite, out=lines.append)
    return lines


def snapshot(directory):
    return dict((str(p.relative_to(directory)), p.read_bytes())
                for p in sorted(directory.rglob('*')) if p.is_file())


def leftovers(project):
    return [name for name in os.listdir(str(project)) if name.startswith('.tgdeploy')]


def test_first_run_writes_files_and_manifest(project):
    lines = run(project)
    apache = project / 'apache'
    assert sorted(snapshot(apache)) == [install.MANIFEST, 'README.txt', 'shop.conf', 'shop.ini',
                                        'shop.logrotate', 'shop.tmpfiles', 'shop.wsgi', 'wsgi-server.conf']
    assert any(line.startswith('  created ') and line.endswith('shop.wsgi') for line in lines)
    assert 'Next steps' in lines
    assert not leftovers(project)


def test_rerun_with_new_options_updates_our_files(project):
    run(project)
    lines = run(project, mount='/shop')
    assert 'WSGIScriptAlias /shop ' in (project / 'apache' / 'shop.conf').read_text()
    assert any(line.startswith('  updated ') for line in lines)


def test_user_edit_is_kept_and_nothing_written(project):
    run(project)
    conf = project / 'apache' / 'shop.conf'
    conf.write_text(conf.read_text() + '# my tuning\n')
    before = snapshot(project / 'apache')
    with pytest.raises(TgDeployError, match='you edited .*shop.conf .*nothing was written.*'
                                            '--overwrite'):
        run(project, mount='/other')
    assert snapshot(project / 'apache') == before
    assert not leftovers(project)


def test_overwrite_replaces_the_edit_and_keeps_a_backup(project):
    run(project)
    conf = project / 'apache' / 'shop.conf'
    edited = conf.read_text() + '# my tuning\n'
    conf.write_text(edited)
    run(project, overwrite=True)
    assert '# my tuning' not in conf.read_text()
    assert (project / 'apache' / 'shop.conf.bak').read_text() == edited
    run(project)  # the .bak is the user's file now: kept, and no complaint
    assert (project / 'apache' / 'shop.conf.bak').exists()
    conf.write_text(conf.read_text() + '# second tuning\n')
    run(project, overwrite=True)  # a second backup does not replace the first
    assert (project / 'apache' / 'shop.conf.bak').read_text() == edited
    assert (project / 'apache' / 'shop.conf.bak1').read_text().endswith('# second tuning\n')


def test_simulate_writes_nothing_and_shows_the_diff(project):
    assert run(project, simulate=True)[0].startswith('would create ')
    assert not (project / 'apache').exists()
    run(project)
    before = snapshot(project / 'apache')
    lines = run(project, simulate=True, mount='/shop')
    assert snapshot(project / 'apache') == before
    assert any(line.startswith('would update ') and line.endswith('shop.conf') for line in lines)
    assert any(line.startswith('    +WSGIScriptAlias /shop ') for line in lines)
    assert not leftovers(project)


def test_files_the_user_added_are_carried_over(project):
    run(project)
    (project / 'apache' / 'ssl.conf').write_text('# mine\n')
    run(project, mount='/shop')
    assert (project / 'apache' / 'ssl.conf').read_text() == '# mine\n'


def test_files_no_longer_generated_are_removed(project):
    run(project)
    (project / 'production.ini').write_text('[DEFAULT]\ndebug = false\n[app:main]\nuse = egg:shop\n')
    lines = run(project)
    assert not (project / 'apache' / 'shop.ini').exists()
    assert any(line.startswith('  removed ') for line in lines)


def test_failure_half_way_leaves_previous_folder(project, monkeypatch):
    """Without an atomic exchange (the fallback), a failing second rename is undone at once."""
    run(project)
    (project / 'apache' / 'mine.txt').write_text('mine\n')
    before = snapshot(project / 'apache')
    monkeypatch.setenv(seams.VARIABLE, 'no-exchange')
    real_rename = os.rename
    calls = []

    def failing_rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the new folder going into place
            raise OSError(errno.ENOSPC, 'No space left on device', dst)
        return real_rename(src, dst)

    monkeypatch.setattr(os, 'rename', failing_rename)
    with pytest.raises(TgDeployError, match=r'apache: No space left on device \(ENOSPC\): free '):
        run(project, mount='/shop')
    monkeypatch.undo()
    assert len(calls) == 3  # aside, in (failed), back
    assert snapshot(project / 'apache') == before
    assert not leftovers(project)


def test_template_error_leaves_previous_folder(project, monkeypatch):
    run(project)
    before = snapshot(project / 'apache')
    from tgdeploy.write import render

    def broken_render(values, staging):
        os.makedirs(os.path.join(staging, 'apache'))
        raise RuntimeError('disk gone')

    monkeypatch.setattr(render, 'render', broken_render)
    with pytest.raises(RuntimeError):
        run(project, mount='/shop')
    assert snapshot(project / 'apache') == before
    assert not leftovers(project)


def test_damaged_manifest_vouches_for_nothing(project):
    run(project)
    (project / 'apache' / install.MANIFEST).write_text('{not json')
    conf = project / 'apache' / 'shop.conf'
    with pytest.raises(TgDeployError, match='you edited'):
        run(project, mount='/shop')
    assert 'WSGIScriptAlias / ' in conf.read_text()


# -- the user's own entries, kept exactly ---------------------------------------------

def test_user_entries_of_every_kind_are_kept_exactly(project):
    run(project)
    apache = project / 'apache'
    add_entries_of_every_kind(apache)
    apache.chmod(0o750)
    before = states(apache)
    lines = run(project, mount='/shop')
    assert states(apache) == before
    assert stat.S_IMODE(apache.stat().st_mode) == 0o750
    assert 'WSGIScriptAlias /shop ' in (apache / 'shop.conf').read_text()
    kept = [line for line in lines if line.startswith('  kept your ')]
    assert len(kept) == 7, kept  # the nested folders are named by their contents
    assert not leftovers(project)


@pytest.mark.parametrize('make', [os.mkfifo, lambda p: socket_file(p)], ids=['fifo', 'socket'])
def test_special_files_are_refused_never_opened(project, make):
    run(project)
    make(str(project / 'apache' / 'pipe'))
    before = sorted(os.listdir(str(project / 'apache')))
    signal.alarm(20)  # opening the FIFO would block for ever
    try:
        with pytest.raises(TgDeployError, match='pipe is not a file, folder or symlink'):
            run(project, mount='/shop')
    finally:
        signal.alarm(0)
    assert sorted(os.listdir(str(project / 'apache'))) == before
    assert not leftovers(project)


def socket_file(path):
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()


def test_a_symlink_in_place_of_a_generated_file_is_an_edit(project):
    run(project)
    conf = project / 'apache' / 'shop.conf'
    (project / 'mine.conf').write_text('# mine\n')
    conf.unlink()
    os.symlink(str(project / 'mine.conf'), str(conf))
    with pytest.raises(TgDeployError, match='you edited .*shop.conf'):
        run(project, mount='/shop')
    run(project, mount='/shop', overwrite=True)
    assert os.readlink(str(project / 'apache' / 'shop.conf.bak')) == str(project / 'mine.conf')
    assert not conf.is_symlink()


def test_a_symlinked_apache_folder_stays_a_symlink(project, tmp_path):
    elsewhere = tmp_path / 'confs' / 'shop'
    elsewhere.parent.mkdir()
    run(project, output_dir=str(elsewhere))
    os.symlink(str(elsewhere), str(project / 'apache'))
    run(project, mount='/shop')
    assert (project / 'apache').is_symlink()
    assert 'WSGIScriptAlias /shop ' in (elsewhere / 'shop.conf').read_text()


# -- the swap and its journal ---------------------------------------------------------

def test_a_folder_moved_aside_by_a_killed_run_comes_back(project):
    """The fallback's state between its two renames: the target missing, the old folder in
    staging. The next run renames it back before anything else."""
    run(project)
    (project / 'apache' / 'mine.txt').write_text('mine\n')
    before = snapshot(project / 'apache')
    new_dir = swap.make_staging(str(project / 'apache'))
    os.rename(str(project / 'apache'), os.path.join(os.path.dirname(new_dir), swap.PREVIOUS))
    assert not (project / 'apache').exists()
    assert swap.recover(str(project)) == [str(project / 'apache')]
    assert snapshot(project / 'apache') == before
    assert not leftovers(project)


def test_staging_that_names_no_target_is_only_removed(project):
    run(project)
    staging = project / (swap.STAGING_PREFIX + 'x')
    (staging / swap.PREVIOUS).mkdir(parents=True)
    staging.chmod(0o700)  # as tgdeploy makes it: any other mode is not tgdeploy's
    (staging / swap.TARGET_NOTE).write_text('../../etc\n')
    assert swap.recover(str(project)) == []
    assert not staging.exists()


def test_a_second_run_waits_then_names_the_holder(project, monkeypatch):
    run(project)
    holder = subprocess.Popen([sys.executable, '-c', HOLD_LOCK, str(project)],
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b'locked'
        monkeypatch.setenv(seams.VARIABLE, 'lock-wait:0.5')
        started = time.time()
        with pytest.raises(TgDeployError) as error:
            run(project, mount='/shop')
        assert 0.5 <= time.time() - started < 5
        assert 'another run (pid %d: %s -c' % (holder.pid, sys.executable) in str(error.value)
        assert 'apache for 0.5 s: wait for it' in str(error.value)
    finally:
        holder.kill()
        holder.wait()
    run(project, mount='/shop')  # the lock went with the process
    assert 'WSGIScriptAlias /shop ' in (project / 'apache' / 'shop.conf').read_text()


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print('locked', flush=True)
time.sleep(60)
"""


def test_the_lock_is_the_parent_folder_and_writes_nothing(project):
    with swap.Lock(str(project / 'apache')):
        fd = os.open(str(project), os.O_RDONLY)
        try:
            with pytest.raises(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    assert not leftovers(project) and not (project / 'apache').exists()
