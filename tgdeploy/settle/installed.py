"""What a run may keep from the installed folder: values (the secrets) only from a file
tgdeploy wrote.

A later run keeps the secrets the installed ini holds, so that logins survive a re-deploy.
But the folder may belong to another user, who could put a symlink (or a hard link) to a
root-only file there, say another application's ini: root's run would copy its secrets
into a config that user can read. So the installed config counts only when it is, opened
without following a symlink:

- a regular file with one link;
- owned by the running user, or by the owner of the folder holding it (who ran tgdeploy
  before);
- of the mode tgdeploy gives secret files (0640) or stricter: nothing for others, no
  write or execute for the group;
- and byte for byte what tgdeploy's manifest in that folder says it wrote.

Otherwise the run makes fresh secrets and says why.
"""
import hashlib
import io
import json
import os
import stat

from tgdeploy.files import nofollow
from tgdeploy.settle.config_settings import SETTING, is_secret, unquote

MANIFEST = '.tgdeploy-manifest'  # install.MANIFEST (install imports production, which us)
MAX_BYTES = 1024 * 1024


def trusted_text(path):
    """(the text of the installed file ``path``, None) when tgdeploy wrote it as it is,
    else (None, why not); (None, None) when there is no such file."""
    folder = os.path.dirname(path)
    try:
        os.lstat(path)
    except OSError:
        return None, None
    try:
        fd = nofollow.open_dir(folder)
    except OSError:
        return None, '%s is not a plain folder' % folder
    anchored = nofollow.anchor(fd, folder)
    try:
        return check_and_read(anchored, os.path.basename(path), os.fstat(fd))
    finally:
        nofollow.forget(anchored)
        os.close(fd)


def check_and_read(folder, name, folder_st):
    path = os.path.join(folder, name)
    try:
        fd = nofollow.open_file(path)
    except OSError:
        return None, '%s is not a regular file (a symlink?)' % nofollow.shown(path)
    try:
        st = os.fstat(fd)
        data = read_fd(fd)
    finally:
        os.close(fd)
    shown = nofollow.shown(path)
    if st.st_nlink != 1:
        return None, '%s has other hard links' % shown
    if st.st_uid not in (os.geteuid(), folder_st.st_uid):
        return None, '%s belongs to uid %d, neither the running user nor the folder\'s owner' \
            % (shown, st.st_uid)
    if stat.S_IMODE(st.st_mode) & 0o037:
        return None, '%s has mode %04o, not the 0640 tgdeploy gives it' \
            % (shown, stat.S_IMODE(st.st_mode))
    if len(data) > MAX_BYTES or hashlib.sha256(data).hexdigest() != manifest_digest(folder, name):
        return None, '%s is not what tgdeploy wrote there (its manifest says otherwise)' % shown
    return data.decode('utf-8', 'replace'), None


def read_fd(fd):
    with io.open(fd, 'rb', closefd=False) as f:
        return f.read(MAX_BYTES + 1)


def manifest_digest(folder, name):
    try:
        data = nofollow.read_regular(os.path.join(folder, MANIFEST), MAX_BYTES)
        files = json.loads(data.decode('utf-8'))['files']
        return files.get(name) if isinstance(files, dict) else None
    except (OSError, IOError, ValueError, KeyError, TypeError, AttributeError, RuntimeError):
        return None


def installed_secrets(path):
    """({key: value}, None) of the secrets in the installed config ``path`` when tgdeploy
    wrote it, else ({}, why they are not kept)."""
    text, why = trusted_text(path)
    if text is None:
        return {}, why
    found = {}
    for line in text.splitlines():
        match = SETTING.match(line)
        if match and not line.lstrip().startswith(('#', ';', '[')) and \
                is_secret(match.group('key')):
            found[match.group('key')] = unquote(match.group('value'))
    return found, None


def others_may_read(path):
    """A one-line warning when users other than the owner and group may read ``path``."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if mode & 0o004:
        return '%s is readable by every user on this machine: chmod o-r %s' % (path, path)
    return None
