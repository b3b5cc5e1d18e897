"""Reading a config file whose folder someone else may control, bounded: a regular file only
(a FIFO would block the open or the read for ever, /dev/zero never ends), at most ``limit``
bytes, and, unless told to follow, never through a symlink in its last component (a link
planted there points wherever its maker likes). Nothing else is opened: the file's type is
looked at before the open (opening some devices acts) and checked again on what was opened.
"""
import errno
import os
import stat

MIB = 1024 * 1024


class NotRegular(Exception):
    """``path`` is not a regular file of at most the limit; ``why`` says what it is, in the
    words of a message: "is a symlink", "is not a regular file", "is larger than 1 MiB"."""

    def __init__(self, path, why):
        Exception.__init__(self, '%s %s' % (path, why))
        self.path, self.why = path, why


def read_regular(path, limit=MIB, follow=False):
    """The bytes of the regular file at ``path``; NotRegular otherwise; OSError/IOError as
    the file system says (ENOENT...)."""
    return read_with_identity(path, limit, follow)[0]


def read_with_identity(path, limit=MIB, follow=False):
    """(bytes, (device, inode)) of what read_regular reads: the identity of the very file
    that was read, to look for elsewhere."""
    info = os.stat(path) if follow else os.lstat(path)
    refuse_unless_regular(path, info, limit)
    flags = os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_NOCTTY', 0)
    if not follow:
        flags |= getattr(os, 'O_NOFOLLOW', 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP and not follow:  # swapped for a symlink since the lstat
            raise NotRegular(path, 'is a symlink')
        raise
    try:
        opened = os.fstat(fd)
        refuse_unless_regular(path, opened, limit)  # what was opened, not what was seen
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:  # grown since the fstat
        raise NotRegular(path, too_large(limit))
    return b''.join(chunks), (opened.st_dev, opened.st_ino)


def refuse_unless_regular(path, info, limit):
    if stat.S_ISLNK(info.st_mode):
        raise NotRegular(path, 'is a symlink')
    if not stat.S_ISREG(info.st_mode):
        raise NotRegular(path, 'is not a regular file (%s)' % kind(info.st_mode))
    if info.st_size > limit:
        raise NotRegular(path, too_large(limit))


def too_large(limit):
    return 'is larger than %s' % ('%d MiB' % (limit // MIB) if limit % MIB == 0
                                  else '%d bytes' % limit)


def kind(mode):
    for test, name in ((stat.S_ISFIFO, 'a FIFO'), (stat.S_ISCHR, 'a character device'),
                       (stat.S_ISBLK, 'a block device'), (stat.S_ISSOCK, 'a socket'),
                       (stat.S_ISDIR, 'a folder')):
        if test(mode):
            return name
    return 'of another kind'
