"""What the file system says (EACCES, ENOSPC, EROFS, ELOOP...) as the one line of a
TgDeployError: the path as the user knows it (nofollow.shown), the error, and the fix.
"""
import errno

from tgdeploy.files.nofollow import shown


# What to do about each operating-system error a run can meet, by errno name.
OS_ERROR_FIXES = {
    'EACCES': 'run tgdeploy as a user who may, or fix the permissions',
    'EPERM': 'run tgdeploy as a user who may, or fix the permissions',
    'ENOENT': 'it disappeared while tgdeploy ran (another program?): run again',
    'ENOTDIR': 'a file stands where a folder belongs: move it away',
    'ENOSPC': 'free some space on that file system and run again; nothing was changed',
    'EDQUOT': 'your disk quota is used up: free some space and run again',
    'EROFS': 'that file system is read-only: pass --output-dir on a writable one',
    'ELOOP': 'a symlink is in the way (tgdeploy follows none where another user could have '
             'put it) or points back at itself: remove it',
    'ENAMETOOLONG': 'use a shorter path',
    'EISDIR': 'a folder stands where a file belongs: move it away',
    'EMFILE': 'too many open files: raise ulimit -n',
    'EIO': 'the disk reported an I/O error: check it (dmesg) before running again',
}


def describe_os_error(error, where=None):
    """One line for an OSError/IOError: what failed, on which path (``where`` if the error
    names none), and what to do."""
    name = errno.errorcode.get(error.errno, '')
    where = shown(error.filename) or where or 'a file'
    if getattr(error, 'filename2', None):
        where = '%s -> %s' % (shown(error.filename), shown(error.filename2))
    fix = OS_ERROR_FIXES.get(name, 'fix the cause and run again')
    return '%s: %s (%s): %s' % (where, error.strerror or error, name or 'error', fix)
