"""Reading a file as root when a folder on its way belongs to another user (issue 21).

A project owned by someone else may hold a symlink planted to make root read a file its
owner cannot (another application's ini with its secrets, /etc/shadow) and copy what it
finds into a file the owner can read (the derived config). So, as root, the path is walked
from /: while each folder is one only root may change, symlinks there are the system's and
are followed; from the first folder another user may change, every component is opened
without following a symlink (nofollow.open_below), and the file must be a regular file.
Other users than root read as themselves: the kernel already stops them.
"""
import errno
import os
import pwd
import stat

from tgdeploy.files import nofollow
from tgdeploy.errors import TgDeployError


def read_bytes(path, limit=None):
    """The bytes of the file at ``path`` (the first ``limit`` when given), read as above."""
    if os.geteuid() != 0 or nofollow.split_anchor(path)[0] is not None:
        return plain_read(path, limit)
    boundary, rest = trust_boundary(os.path.abspath(path))
    if not rest:
        return plain_read(path, limit)
    fd = open_from(path, boundary, rest)
    try:
        return read_fd(fd, limit)
    finally:
        os.close(fd)


def open_guarded(path):
    """A read-only descriptor of the regular file at ``path``, never through a symlink at
    the file itself, and as root through none from the first folder on its way that another
    user may change (a log folder an application's user owns, say)."""
    if os.geteuid() != 0 or nofollow.split_anchor(path)[0] is not None:
        return nofollow.open_file(path)
    boundary, rest = trust_boundary(os.path.abspath(path))
    if not rest:
        return nofollow.open_file(path)
    return open_from(path, boundary, rest)


def open_from(path, boundary, rest):
    """``rest`` opened below the trusted folder ``boundary``, one component at a time."""
    top = nofollow.open_dir(boundary)
    try:
        try:
            fd = nofollow.open_below(top, rest)
        except OSError as e:
            # A symlinked file gives ELOOP; a symlinked folder on the way, ENOTDIR.
            if e.errno == errno.ELOOP or (e.errno == errno.ENOTDIR and
                                          symlink_on_the_way(boundary, rest)):
                raise TgDeployError(planted_message(path, boundary))
            raise OSError(e.errno, e.strerror, path)
    finally:
        os.close(top)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, 'not a regular file', path)
    return fd


def symlink_on_the_way(boundary, rest):
    current = boundary
    for part in rest.split('/')[:-1]:
        current = os.path.join(current, part)
        if os.path.islink(current):
            return True
    return False


def trust_boundary(path):
    """(the deepest folder of ``path`` reached through folders only root may change, the
    rest of the path below it); symlinks met before it are resolved."""
    parts = [p for p in path.split('/') if p]
    current = '/'
    for index, part in enumerate(parts):
        child = os.path.join(current, part)
        if not trusted_entry(os.lstat(current), child):
            return current, '/'.join(parts[index:])
        if index < len(parts) - 1:
            current = os.path.realpath(child)
    return current, ''


def trusted_entry(folder_st, child):
    """Whether only root may change what the name ``child`` in that folder leads to: a
    folder nobody else may write, or a sticky one (/tmp) where root owns the entry."""
    if not nofollow.others_may_write(folder_st):
        return True
    if folder_st.st_uid == os.geteuid() and folder_st.st_mode & stat.S_ISVTX:
        try:
            return os.lstat(child).st_uid == os.geteuid()
        except OSError:
            return False
    return False


def planted_message(path, boundary):
    try:
        owner = 'the user ' + pwd.getpwuid(os.lstat(boundary).st_uid).pw_name
    except (OSError, KeyError):
        owner = 'another user'
    return ('%s leads through a symlink below %s, which %s can change: as root, tgdeploy '
            'follows no such link (it could lead to any file on this machine); put the file '
            'itself there, or run tgdeploy as %s' % (path, boundary, owner,
                                                     owner.replace('the user ', '')))


def plain_read(path, limit):
    with open(path, 'rb') as f:
        return f.read() if limit is None else f.read(limit)


def read_fd(fd, limit):
    chunks, size = [], 0
    while limit is None or size < limit:
        chunk = os.read(fd, 65536 if limit is None else min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b''.join(chunks)
