"""``python -m tgdeploy.files.secret_file PATH``: a password for an account the project's own
set-up creates (README step 2), made once into PATH, readable by its owner alone (mode
0600), and kept by later runs; never printed. Exit 2 with one line when PATH cannot be made.
"""
import base64
import os
import sys


def make(path):
    """Write a new random password into ``path`` unless it holds one already."""
    if os.path.lexists(path):
        if os.path.isfile(path) and not os.path.islink(path) and os.path.getsize(path) > 0:
            return False
        raise ValueError('it exists and is not a password file (empty, a link or not a '
                         'regular file): remove it and run this again')
    password = base64.urlsafe_b64encode(os.urandom(18)).decode('ascii')
    # O_EXCL: never opens what is there (a link or a file planted since the check), as root.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                         getattr(os, 'O_NOFOLLOW', 0), 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, (password + '\n').encode('ascii'))
    finally:
        os.close(descriptor)
    return True


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write('usage: python -m tgdeploy.files.secret_file PATH\n')
        return 2
    try:
        make(args[0])
    except ValueError as error:
        sys.stderr.write('tgdeploy.files.secret_file: %s: %s\n' % (args[0], error))
        return 2
    except (IOError, OSError) as error:
        sys.stderr.write('tgdeploy.files.secret_file: cannot write %s: %s: make its folder '
                         'writable, or run it as root\n' % (args[0], error.strerror or error))
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
