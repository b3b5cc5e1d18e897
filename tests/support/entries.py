"""What a user keeps in apache/, and what "kept exactly" means (tests of the install)."""
import os
import pwd
import stat

WWW = pwd.getpwnam('www-data')

# Every kind of entry: files of other owners and modes, symlinks (one dangling), an empty
# folder, a nested one, a file in a folder tgdeploy generates.
USER_ENTRIES = ('ssl.conf', 'secret.key', 'link.conf', 'dangling', 'empty', 'nested',
                'nested/deeper', 'nested/deeper/note.txt', 'htdocs/robots.txt')


def add_entries_of_every_kind(apache):
    (apache / 'ssl.conf').write_text('# mine\n')
    key = apache / 'secret.key'
    key.write_bytes(os.urandom(64))
    os.chown(str(key), WWW.pw_uid, WWW.pw_gid)
    key.chmod(0o600)
    os.symlink('ssl.conf', str(apache / 'link.conf'))
    os.symlink('/nonexistent/target', str(apache / 'dangling'))
    (apache / 'empty').mkdir()
    (apache / 'nested' / 'deeper').mkdir(parents=True)
    (apache / 'nested' / 'deeper' / 'note.txt').write_text('deep\n')
    os.chown(str(apache / 'nested'), WWW.pw_uid, WWW.pw_gid)
    (apache / 'nested').chmod(0o750)
    (apache / 'htdocs' / 'robots.txt').write_text('User-agent: *\n')


def states(apache, names=USER_ENTRIES):
    """Kind, content or link target, owner, group and mode of each entry."""
    found = {}
    for name in names:
        path = apache / name
        st = os.lstat(str(path))
        if stat.S_ISLNK(st.st_mode):
            found[name] = ('link', os.readlink(str(path)), st.st_uid, st.st_gid)
        elif stat.S_ISDIR(st.st_mode):
            found[name] = ('dir', st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
        else:
            found[name] = ('file', path.read_bytes(), st.st_uid, st.st_gid,
                           stat.S_IMODE(st.st_mode))
    return found
