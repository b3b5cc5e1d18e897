"""The no-follow file operations (tgdeploy/files/nofollow.py), as properties: whatever tree of
files, folders and symlinks (into the tree, out of it, dangling) a project's owner builds,
reading below an anchor never returns a byte from outside the tree, and a removal removes
the tree and nothing else. Also with the Python 2.7 fallback (no dir_fd: fchdir and an
lstat/fstat compare), forced here on Python 3; and a removal raced by a thread that keeps
swapping a folder for a symlink to a victim folder.
"""
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tgdeploy.files import nofollow

NAMES = st.sampled_from(['a', 'b', 'c'])
KINDS = st.sampled_from(['file', 'dir', 'readonly', 'link-out', 'link-in', 'dangling'])
TREES = st.lists(st.tuples(st.lists(NAMES, min_size=1, max_size=3), KINDS), max_size=12)
OUTSIDE = b'OUTSIDE'


@pytest.fixture(params=[True, False], ids=['dir_fd', 'py27-fallback'])
def mode(request, monkeypatch):
    if not request.param:
        monkeypatch.setattr(nofollow, 'HAS_DIR_FD', False)
    return request.param


def build(root, entries):
    """The tree under root/tree; root/outside holds what no operation may reach."""
    outside = root / 'outside'
    outside.mkdir()
    (outside / 'a').write_bytes(OUTSIDE)
    (outside / 'b').mkdir()
    (outside / 'b' / 'c').write_bytes(OUTSIDE)
    tree = root / 'tree'
    tree.mkdir()
    made = {}
    for parts, kind in entries:
        path = tree.joinpath(*parts)
        if os.path.lexists(str(path)) or not path.parent.is_dir() or path.parent.is_symlink():
            continue
        if kind == 'file':
            path.write_bytes(('/'.join(parts)).encode())
        elif kind in ('dir', 'readonly'):
            path.mkdir()
        elif kind == 'link-out':
            os.symlink(str(outside / parts[-1]), str(path))
        elif kind == 'link-in':
            os.symlink(str(tree / parts[0]), str(path))
        else:
            os.symlink('/nonexistent/x', str(path))
        made['/'.join(parts)] = kind
    for name, kind in made.items():
        if kind == 'readonly':
            (tree / name).chmod(0o555)
    return tree, outside


def outside_state(outside):
    return sorted((str(p.relative_to(outside)), p.read_bytes() if p.is_file() else None,
                   stat.S_IMODE(p.lstat().st_mode)) for p in outside.rglob('*'))


def through_no_symlink(tree, relative):
    """True when every component of ``relative`` below ``tree`` is a real entry."""
    path = tree
    for part in relative.split('/'):
        path = path / part
        if path.is_symlink():
            return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=TREES, probes=st.lists(st.lists(NAMES, min_size=1, max_size=4), max_size=8))
def test_reads_below_an_anchor_never_leave_the_tree(mode, entries, probes):
    root = Path(tempfile.mkdtemp())
    cwd = os.getcwd()
    try:
        tree, outside = build(root, entries)
        fd = nofollow.open_dir(str(tree))
        anchored = nofollow.anchor(fd, str(tree))
        try:
            for parts in probes:
                relative = '/'.join(parts)
                path = os.path.join(anchored, relative)
                try:
                    data = nofollow.read_regular(path)
                except OSError:
                    data = None
                assert data != OUTSIDE
                if data is not None:
                    assert through_no_symlink(tree, relative)
                    assert data == relative.encode()
                try:
                    names = nofollow.listdir(path)
                except OSError:
                    names = None
                if names is not None:
                    assert through_no_symlink(tree, relative)
                    assert sorted(names) == sorted(os.listdir(str(tree / relative)))
                try:
                    kind = nofollow.lstat(path).st_mode
                except OSError:
                    continue
                assert not stat.S_ISLNK(kind) or (tree / relative).is_symlink()
        finally:
            nofollow.forget(anchored)
            os.close(fd)
        assert os.getcwd() == cwd  # the fallback put the working directory back
    finally:
        shutil.rmtree(str(root), ignore_errors=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=TREES)
def test_a_removal_removes_the_tree_and_nothing_else(mode, entries):
    root = Path(tempfile.mkdtemp())
    cwd = os.getcwd()
    try:
        tree, outside = build(root, entries)
        before = outside_state(outside)
        nofollow.remove_tree(str(tree))
        assert not os.path.lexists(str(tree))
        assert outside_state(outside) == before
        assert os.getcwd() == cwd
    finally:
        shutil.rmtree(str(root), ignore_errors=True)


def test_a_removal_raced_by_symlink_swaps_stays_inside(www_tmp):
    """A thread keeps swapping the folder being walked for a symlink to a victim folder
    (what the owner of a project can do while root removes a staging folder there)."""
    victim = www_tmp / 'victim'
    victim.mkdir()
    for number in range(50):
        (victim / ('v%d' % number)).write_text('keep\n')
    victim.chmod(0o755)
    for attempt in range(5):
        tree = www_tmp / ('tree%d' % attempt)
        big = tree / 'big'
        big.mkdir(parents=True)
        for number in range(1000):
            (big / ('f%d' % number)).write_text('')
        stop = threading.Event()

        def swap():
            while not stop.is_set():
                try:
                    os.rename(str(big), str(tree / 'real'))
                    os.symlink(str(victim), str(big))
                    os.unlink(str(big))
                    os.rename(str(tree / 'real'), str(big))
                except OSError:
                    pass

        thread = threading.Thread(target=swap)
        thread.start()
        try:
            nofollow.remove_tree(str(tree))
        finally:
            stop.set()
            thread.join()
        shutil.rmtree(str(tree), ignore_errors=True)
        assert sorted(os.listdir(str(victim))) == sorted('v%d' % n for n in range(50))
        assert stat.S_IMODE(victim.stat().st_mode) == 0o755
