"""Put a freshly built folder in place of the old one: under a lock, with no moment where
the target is missing, and with whatever a killed run left behind put right by the next.

- Lock: an exclusive flock on the target's parent folder, held for the whole run, so two
  runs (a deploy script and a person, two CI jobs) take turns. Locking the folder itself
  writes nothing; /proc/locks names the holder when a run has to give up waiting.
- Staging: ``.tgdeploy-swap-XXXX`` beside the target (one file system, so renames are
  atomic), holding ``new`` (the folder being built) and a ``target`` file naming what it is for.
- Swap: Linux's renameat2(RENAME_EXCHANGE) exchanges the two folders in one step; the old
  one ends up in staging and is removed with it. Where the file system cannot exchange, the
  old folder is first renamed to ``previous`` inside staging, then the new one into place.
  That staging folder is its own journal: a later run that finds ``previous`` while the
  target is missing renames it back; if the target is there, the swap finished.
"""
import ctypes
import errno
import fcntl
import io
import os
import stat
import sys
import tempfile
import time

from tgdeploy.files import nofollow

from tgdeploy.write import seams
from tgdeploy.errors import TgDeployError

STAGING_PREFIX = '.tgdeploy-swap-'
NEW, PREVIOUS, TARGET_NOTE = 'new', 'previous', 'target'
LOCK_WAIT = 60  # seconds; a whole run takes well under one
STAGING_MODE = 0o700  # what tempfile.mkdtemp gives: the mark of tgdeploy's own staging

AT_FDCWD = -100
RENAME_EXCHANGE = 2


class Lock(object):
    """``with Lock(target):`` holds the exclusive lock of ``target``'s parent folder."""

    def __init__(self, target, wait=None):
        self.target = target
        self.parent = os.path.dirname(target)
        self.wait = seams.number('lock-wait', LOCK_WAIT) if wait is None else wait
        self.fd = None
        self.anchor = self.parent

    def __enter__(self):
        self.fd = os.open(self.parent, os.O_RDONLY | nofollow.O_DIRECTORY | nofollow.O_CLOEXEC)
        deadline = time.time() + self.wait
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                # The folder locked, whatever is renamed later: every path of the run
                # starts here (the project's owner could swap its path for a symlink).
                self.anchor = nofollow.anchor(self.fd, self.parent)
                return self
            except (IOError, OSError) as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
            if time.time() > deadline:
                holder = lock_holder(self.fd)
                os.close(self.fd)
                raise TgDeployError('another run (%s) has been writing %s for %g s: wait for it '
                                    'to finish, or stop it and run again'
                                    % (holder, self.target, self.wait))
            time.sleep(0.05)

    def __exit__(self, *exc):
        nofollow.forget(self.anchor)
        os.close(self.fd)  # closing the descriptor releases the flock

    def path(self, target):
        """``target`` (a child of the locked folder) as seen from the locked folder."""
        return os.path.join(self.anchor, os.path.basename(target))


def lock_holder(fd):
    """'pid 123: paster tgdeploy' for the process holding the flock on ``fd``, if Linux says."""
    inode = os.fstat(fd).st_ino
    try:
        with io.open('/proc/locks', encoding='ascii', errors='replace') as f:
            lines = f.read().splitlines()
    except (IOError, OSError):
        lines = []
    for line in lines:
        fields = line.split()
        if len(fields) > 5 and fields[1] == 'FLOCK' and fields[5].split(':')[-1] == str(inode):
            return 'pid %s: %s' % (fields[4], command_line(fields[4]))
    return 'another process'


def command_line(pid):
    try:
        with open('/proc/%s/cmdline' % pid, 'rb') as f:
            words = f.read().split(b'\0')
    except (IOError, OSError):
        return '?'
    return b' '.join(w for w in words if w).decode('utf-8', 'replace')[:200]


# -- staging --------------------------------------------------------------------------

def make_staging(target):
    """A fresh staging folder for ``target``; returns the path where the new folder goes:
    below the staging folder's own descriptor, so renaming it (its parent may be another
    user's to write) cannot send the rendering elsewhere."""
    parent = os.path.dirname(target)
    staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent)
    try:
        fd = nofollow.open_dir(staging)
    except EnvironmentError:
        raise TgDeployError('%s was replaced while tgdeploy made it: another user can write '
                            '%s; run tgdeploy as that user, or make the folder yours'
                            % (nofollow.shown(staging), nofollow.shown(parent)))
    anchored = nofollow.anchor(fd, staging)
    STAGED[anchored] = (staging, fd)
    try:
        if not ours(anchored):
            raise TgDeployError('%s is not the folder tgdeploy made: another user can write '
                                '%s; run tgdeploy as that user, or make the folder yours'
                                % (nofollow.shown(staging), nofollow.shown(parent)))
        with io.open(os.path.join(anchored, TARGET_NOTE), 'w', encoding='utf-8') as f:
            f.write(u'%s\n' % os.path.basename(target))
    except (EnvironmentError, TgDeployError):
        discard(anchored)  # a full disk: nothing of it is worth keeping
        raise
    return os.path.join(anchored, NEW)


STAGED = {}  # anchored staging path -> (its path in the locked folder, its descriptor)


def staging_of(new_dir):
    return os.path.dirname(new_dir)


def ours(staging):
    """tgdeploy's own staging: a folder of the running user's with the mode it was given."""
    return nofollow.is_ours(staging, STAGING_MODE)


def recover(parent, foreign=None):
    """Put right what killed runs left in ``parent`` (call with the lock held): every
    staging folder of tgdeploy's own is discarded; any other (not the running user's, or
    not the mode tgdeploy gave it) is left alone and its path added to ``foreign``.
    Returns the targets that were restored."""
    restored = []
    for name in sorted(os.listdir(parent)):
        staging = os.path.join(parent, name)
        if not name.startswith(STAGING_PREFIX):
            continue
        if ours(staging):
            restored.extend(discard(staging))
        elif foreign is not None:
            foreign.append(nofollow.shown(staging))
    return restored


def discard(staging):
    """Remove a staging folder; first, a target moved aside and never replaced goes back.
    Returns the restored target, if any, in a list."""
    where, fd = STAGED.pop(staging, (staging, None))
    previous = os.path.join(staging, PREVIOUS)
    target = read_target_note(staging, os.path.dirname(where))
    restored = []
    if target and nofollow.is_ours(staging, STAGING_MODE) and os.path.isdir(previous) and \
            not os.path.islink(previous) and not os.path.lexists(target):
        os.rename(previous, target)
        restored.append(nofollow.shown(target))
    if fd is not None:
        nofollow.forget(staging)
        os.close(fd)
    remove_tree(where)  # nothing of the user's is left in it
    return restored


def remove_tree(path):
    """Remove a staging folder, read-only folders in it too (a user's 0555 folder copied in
    or swapped out), never following a symlink (nofollow.remove_tree); what still cannot
    go (another user's, as non-root) must not turn a finished swap into an error or wedge
    later runs: it stays, a hidden leftover."""
    nofollow.remove_tree(path)


def read_target_note(staging, parent=None):
    try:
        name = nofollow.read_regular(os.path.join(staging, TARGET_NOTE), 4096)
        name = name.decode('utf-8').strip()
    except (IOError, OSError, UnicodeError):
        return None
    if not name or os.sep in name or name in ('.', '..'):
        return None
    return os.path.join(parent or os.path.dirname(staging), name)


# -- the swap -------------------------------------------------------------------------

def swap(new_dir, target):
    """Put ``new_dir`` (from make_staging) in place of ``target``, then remove the staging."""
    staging = staging_of(new_dir)
    # Moving a folder to another parent rewrites its "..": the user needs write permission
    # on it (a read-only apache/ of the user's own, when not root). Lent for the swap only.
    mode = stat.S_IMODE(os.lstat(new_dir).st_mode)
    for folder in (new_dir, target):
        lend_write_permission(folder)
    if not os.path.lexists(target):
        os.rename(new_dir, target)
    elif not exchange(new_dir, target):
        move_in(new_dir, target, os.path.join(staging, PREVIOUS))
    nofollow.chmod_dir(target, mode)
    seams.reached('swapped')
    discard(staging)
    seams.reached('cleaned')


def lend_write_permission(folder):
    if os.path.isdir(folder) and not os.path.islink(folder) and not os.access(folder, os.W_OK):
        try:
            nofollow.chmod_dir(folder, stat.S_IMODE(os.lstat(folder).st_mode) | stat.S_IWUSR)
        except OSError:
            pass  # another user's: the rename will say so


def move_in(new_dir, target, previous):
    """The fallback: two renames, undone at once if the second fails."""
    os.rename(target, previous)
    seams.reached('moved-aside')
    try:
        os.rename(new_dir, target)
    except OSError:
        os.rename(previous, target)
        raise


def exchange(a, b):
    """Swap two paths in one step (renameat2 RENAME_EXCHANGE); False where unsupported."""
    renameat2 = None if seams.enabled('no-exchange') else libc_renameat2()
    if renameat2 is None:
        return False
    if renameat2(AT_FDCWD, fs_bytes(a), AT_FDCWD, fs_bytes(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # the file system (or kernel) cannot exchange: fall back
    raise OSError(code, os.strerror(code), b)


def libc_renameat2():
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2  # glibc >= 2.28
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def fs_bytes(path):
    if isinstance(path, bytes):
        return path
    return path.encode(sys.getfilesystemencoding() or 'utf-8')
