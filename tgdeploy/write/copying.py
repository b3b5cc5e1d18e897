"""Copying the user's entries into the new folder: never through a symlink, with their
owners, groups, modes and times (install.py's carry-over, and the .bak of an edit)."""
import errno
import io
import os
import shutil
import stat

from tgdeploy.files import nofollow
from tgdeploy.errors import TgDeployError

FILE, LINK, FOLDER, SPECIAL = 'file', 'symlink', 'folder', 'special'


def kind_of(mode):
    if stat.S_ISLNK(mode):
        return LINK
    if stat.S_ISDIR(mode):
        return FOLDER
    if stat.S_ISREG(mode):
        return FILE
    return SPECIAL


def copy_tree(src, dst):
    copy_entry(src, dst)
    if kind_of(nofollow.lstat(src).st_mode) == FOLDER:
        for name in sorted(nofollow.listdir(src)):
            copy_tree(os.path.join(src, name), os.path.join(dst, name))
        copy_stat(src, dst)


def copy_entry(src, dst, links=None):
    """One entry, not following symlinks: a file's bytes (or a hard link to the copy of a
    file already copied, in ``links``), a link's target, a folder (its mode comes last:
    a read-only one must still receive its contents)."""
    st = nofollow.lstat(src)
    kind = kind_of(st.st_mode)
    if kind == LINK:
        os.symlink(os.readlink(src), dst)
    elif kind == FOLDER:
        if not os.path.isdir(dst):
            os.mkdir(dst)
        return
    elif links is not None and st.st_nlink > 1 and (st.st_dev, st.st_ino) in links:
        os.link(links[(st.st_dev, st.st_ino)], dst)
        return
    else:
        copy_bytes(src, dst, st)
        if links is not None and st.st_nlink > 1:
            links[(st.st_dev, st.st_ino)] = dst
    copy_stat(src, dst)


def copy_bytes(src, dst, st):
    """The bytes of the file ``src`` that lstat saw as ``st`` (opened no-follow, the same
    inode: never what a symlink swapped in since leads to) into a new file ``dst``."""
    fd = nofollow.open_file(src)
    try:
        if not nofollow.same(os.fstat(fd), st):
            raise OSError(errno.ELOOP, 'changed while being copied', nofollow.shown(src))
        with io.open(fd, 'rb', closefd=False) as source:
            with open(dst, 'xb' if str is not bytes else 'wb') as copy:
                shutil.copyfileobj(source, copy)
    finally:
        os.close(fd)


def copy_stat(src, dst, times=True):
    """Owner, group, mode and times of ``src`` onto ``dst`` (links: owner only)."""
    st = nofollow.lstat(src)
    try:
        os.lchown(dst, st.st_uid, st.st_gid)
    except OSError as e:
        if e.errno != errno.EPERM:
            raise
        raise TgDeployError('cannot keep the owner of %s (uid %d, gid %d) in the new folder: '
                            'only root can; run tgdeploy as root or as that user, or move the '
                            'file out of %s' % (nofollow.shown(src), st.st_uid, st.st_gid,
                                                os.path.dirname(nofollow.shown(src))))
    if stat.S_ISLNK(st.st_mode):
        return
    os.chmod(dst, stat.S_IMODE(st.st_mode))  # from what lstat saw: src is never followed
    if times and hasattr(st, 'st_mtime_ns'):
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif times:  # Python 2.7
        os.utime(dst, (st.st_atime, st.st_mtime))


def free_name(directory, name):
    """``name``, or name1, name2... if taken: an older backup is never replaced."""
    candidate, number = name, 0
    while os.path.lexists(os.path.join(directory, candidate)):
        number += 1
        candidate = '%s%d' % (name, number)
    return candidate
