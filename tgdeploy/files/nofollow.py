"""File operations that never follow a symlink: what root may do inside a folder that
another user can write (issue 21).

A project folder owned by someone else can change under a root run at any moment: a
folder swapped for a symlink between a check and a use would have root chmod, write or
read wherever the link leads. So:

- Folders are opened once (``O_DIRECTORY | O_NOFOLLOW``) and used through their
  descriptor: ``anchor()`` names an opened folder ``/proc/self/fd/N``, a path that leads
  to that very folder whatever is renamed later; ``shown()`` turns it back into the
  path the user knows, for messages.
- Below an anchor, files are opened one component at a time with ``O_NOFOLLOW`` from
  the descriptor of the folder above (``dir_fd``); what was opened is checked with
  ``fstat`` and changed with ``fchmod``.
- Python 2.7 has no ``dir_fd``: there each folder is opened ``O_NOFOLLOW``, compared by
  device and inode with what ``lstat`` saw, and relative names are used from it after
  ``fchdir`` (the working directory is put back afterwards). That is the fallback.
"""
import errno
import os
import stat

O_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
O_DIRECTORY = getattr(os, 'O_DIRECTORY', 0)
O_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)
O_NONBLOCK = getattr(os, 'O_NONBLOCK', 0)
DIR_FLAGS = os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK  # a FIFO never blocks

# Python 3.3+: the *at() system calls behind dir_fd; Python 2.7: the fchdir fallback.
HAS_DIR_FD = getattr(os, 'supports_dir_fd', None) is not None and os.open in os.supports_dir_fd

PROC_FD = '/proc/self/fd'
ANCHORS = {}  # '/proc/self/fd/N' -> the path it was opened as
TEXT = (str, type(u''))


# -- anchors ----------------------------------------------------------------------------

def open_dir(path, dir_fd=None):
    """A descriptor of the folder ``path`` (a symlink at its last component is ELOOP),
    checked by device and inode against lstat: the same folder, not one swapped in."""
    if dir_fd is None and is_anchor(path):
        return os.open(path, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)  # the folder it leads to
    before = lstat_at(path, dir_fd)
    if not stat.S_ISDIR(before.st_mode):
        raise OSError(errno.ENOTDIR if not stat.S_ISLNK(before.st_mode) else errno.ELOOP,
                      'is a symlink' if stat.S_ISLNK(before.st_mode) else 'not a folder',
                      shown(path))
    fd = open_at(path, DIR_FLAGS, dir_fd)
    if not same(os.fstat(fd), before):
        os.close(fd)
        raise OSError(errno.ELOOP, 'changed while being opened', shown(path))
    return fd


def anchor(fd, path):
    """A path leading to the folder open as ``fd`` itself, whatever is renamed later
    (``path`` where /proc is not mounted)."""
    if not os.path.isdir(PROC_FD):
        return path
    anchored = '%s/%d' % (PROC_FD, fd)
    ANCHORS[anchored] = shown(path)
    return anchored


def forget(anchored):
    ANCHORS.pop(anchored, None)


def shown(path):
    """``path`` as the user knows it: an anchor replaced by the path it was opened as."""
    if not isinstance(path, TEXT) or not path.startswith(PROC_FD + '/'):
        return path
    head, sep, rest = path[len(PROC_FD) + 1:].partition('/')
    real = ANCHORS.get('%s/%s' % (PROC_FD, head))
    if real is None:
        return path
    return os.path.join(real, rest) if rest else real


def split_anchor(path):
    """(the anchor, the rest below it) for an anchored path, else (None, path)."""
    if isinstance(path, TEXT) and path.startswith(PROC_FD + '/'):
        head, _, rest = path[len(PROC_FD) + 1:].partition('/')
        if head.isdigit() and os.path.join(PROC_FD, head) in ANCHORS:
            return int(head), rest
    return None, path


def is_anchor(path):
    return path in ANCHORS


def lstat(path):
    """os.lstat, but an anchor is the folder it leads to (not /proc's magic link), and
    below one no folder on the way is a symlink followed."""
    if is_anchor(path):
        return os.stat(path)
    top, rest = split_anchor(path)
    rest = rest.strip('/')
    if top is not None and '/' in rest:
        head, name = rest.rsplit('/', 1)
        fd = open_below(top, head, DIR_FLAGS)
        try:
            with kept_cwd():
                return lstat_at(name, fd)
        finally:
            os.close(fd)
    return os.lstat(path)


def is_link(path):
    try:
        return stat.S_ISLNK(lstat(path).st_mode)
    except OSError:
        return False


def is_dir(path):
    """A folder, not a symlink to one."""
    try:
        return stat.S_ISDIR(lstat(path).st_mode)
    except OSError:
        return False


# -- reading ----------------------------------------------------------------------------

def open_file(path):
    """A descriptor of the regular file ``path``, opened read-only without following a
    symlink: below an anchor, at no component; elsewhere, at the last one. OSError
    (ELOOP for a symlink, EINVAL for a FIFO, socket or device) otherwise."""
    fd, rest = split_anchor(path)
    opened = os.open(path, FILE_FLAGS) if fd is None else open_below(fd, rest)
    st = os.fstat(opened)
    if not stat.S_ISREG(st.st_mode):
        os.close(opened)
        raise OSError(errno.EINVAL, 'not a regular file', shown(path))
    return opened


def open_below(top, relative, flags=FILE_FLAGS):
    """Open ``relative`` below the folder open as ``top``, one component at a time, none
    of them followed if a symlink."""
    parts = [p for p in relative.split('/') if p and p != '.']
    if not parts or '..' in parts:
        raise OSError(errno.EINVAL, 'not a plain relative path', relative)
    current, owned = top, []
    with kept_cwd():
        try:
            for part in parts[:-1]:
                current = open_at(part, DIR_FLAGS, current)
                owned.append(current)
            return open_at(parts[-1], flags, current)
        finally:
            for fd in owned:
                os.close(fd)


def listdir(path):
    """The names in the folder ``path``, entered without following a symlink."""
    top, rest = split_anchor(path)
    if top is not None and not rest:
        return os.listdir(path)
    fd = open_dir(path) if top is None else open_below(top, rest, DIR_FLAGS)
    try:
        with kept_cwd():
            return listdir_fd(fd)
    finally:
        os.close(fd)


def read_regular(path, limit=None):
    """The bytes of the regular file ``path`` (see open_file); at most ``limit`` + 1."""
    fd = open_file(path)
    try:
        chunks, size = [], 0
        while limit is None or size <= limit:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b''.join(chunks)
    finally:
        os.close(fd)


# -- ownership --------------------------------------------------------------------------

def is_ours(path, mode):
    """True for a folder (not a symlink) owned by the running user with exactly ``mode``:
    one tgdeploy made (staging, journals). Anything else is another user's to keep."""
    try:
        st = lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and
            stat.S_IMODE(st.st_mode) == mode)


def others_may_write(st):
    """True when a user other than the running one may change what ``st`` describes."""
    return st.st_uid != os.geteuid() or bool(st.st_mode & 0o022)


def chmod_dir(path, mode):
    """chmod of the folder ``path`` itself, never of where a symlink leads."""
    fd = open_dir(path)
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


# -- removing ---------------------------------------------------------------------------

def remove_tree(path):
    """Remove ``path`` and everything below it, following no symlink: every folder is
    opened no-follow and entered by its descriptor; one swapped after it was seen is left
    where it is. A read-only folder of the running user's own is opened up (fchmod on the
    descriptor) when not root; what still cannot go stays, silently."""
    parent, name = os.path.split(path.rstrip('/'))
    try:
        top = open_dir(parent or '.')
    except OSError:
        return
    try:
        with kept_cwd():
            remove_entry(top, name)
    except RuntimeError:
        pass  # deeper than Python recurses (RecursionError): left, a hidden leftover
    finally:
        os.close(top)


def remove_entry(parent_fd, name):
    try:
        st = lstat_at(name, parent_fd)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode):
        ignore_errors(unlink_at, name, parent_fd)
        return
    open_up(parent_fd, name, st)
    try:
        fd = open_at(name, DIR_FLAGS, parent_fd)
    except OSError:
        return
    try:
        if not same(os.fstat(fd), st):
            return  # swapped under us: not ours to walk
        for child in listdir_fd(fd):
            remove_entry(fd, child)
    finally:
        os.close(fd)
    ignore_errors(rmdir_at, name, parent_fd)


def open_up(parent_fd, name, st):
    """As non-root, a read-only folder of one's own needs rwx to be emptied."""
    if os.geteuid() == 0 or st.st_uid != os.geteuid() or \
            stat.S_IMODE(st.st_mode) & 0o700 == 0o700:
        return
    try:
        fd = open_at(name, os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, parent_fd)
    except OSError:
        return  # not even readable: chmod only through a descriptor, never by name
    try:
        if same(os.fstat(fd), st):
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def ignore_errors(function, *args):
    try:
        function(*args)
    except OSError:
        pass


# -- the *at() calls, or their Python 2.7 fallback ---------------------------------------

class kept_cwd(object):
    """Python 2.7's fallback moves the working directory (fchdir): put it back after."""

    def __enter__(self):
        self.saved = None if HAS_DIR_FD else os.open('.', os.O_RDONLY | O_CLOEXEC)

    def __exit__(self, *exc):
        if self.saved is not None:
            os.fchdir(self.saved)
            os.close(self.saved)


def same(a, b):
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def at(dir_fd):
    """Python 2.7: make ``dir_fd`` the working directory, so relative names resolve in it."""
    if dir_fd is not None and not HAS_DIR_FD:
        os.fchdir(dir_fd)


def lstat_at(name, dir_fd=None):
    if dir_fd is not None and HAS_DIR_FD:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    at(dir_fd)
    return os.lstat(name)


def open_at(name, flags, dir_fd=None):
    if dir_fd is not None and HAS_DIR_FD:
        return os.open(name, flags, dir_fd=dir_fd)
    at(dir_fd)
    return os.open(name, flags)


def unlink_at(name, dir_fd):
    if HAS_DIR_FD:
        return os.unlink(name, dir_fd=dir_fd)
    at(dir_fd)
    return os.unlink(name)


def rmdir_at(name, dir_fd):
    if HAS_DIR_FD:
        return os.rmdir(name, dir_fd=dir_fd)
    at(dir_fd)
    return os.rmdir(name)


def listdir_fd(fd):
    if HAS_DIR_FD:
        return os.listdir(fd)
    os.fchdir(fd)
    return os.listdir('.')
