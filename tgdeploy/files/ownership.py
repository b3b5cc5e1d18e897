"""Who owns what: the rule a run applies before it writes where another user could steer it.

The operator may run tgdeploy as root on a project another user owns (the developer, a
deploy account, a compromised application). That user must gain nothing from it:

- an output folder (``apache/``, the balancer's folder) that is a symlink another user
  could have made or could change, or that leads to another user's folder, is refused
  unless the operator named it with ``--output-dir`` (then it is the operator's choice);
- everything inside is read and written through descriptors that follow no symlink
  (nofollow.py), staging and journals are tgdeploy's only when its own (swap.py);
- values kept from the installed folder (secrets) come only from a file tgdeploy wrote
  (installed.py).
"""
import os
import pwd
import stat

from tgdeploy.errors import TgDeployError


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return 'uid %d' % uid


def check_output_folder(path, explicit, option='--output-dir', default_hint=None):
    """Refuse an output folder that is a symlink another user made, can replace, or whose
    target another user owns, unless ``explicit`` (the operator named the folder)."""
    if explicit:
        return
    try:
        link = os.lstat(path)
    except OSError:
        return  # nothing there yet: made by this run, as the running user
    if not stat.S_ISLNK(link.st_mode):
        return
    me = os.geteuid()
    parent = os.lstat(os.path.dirname(path) or '.')
    try:
        target_owner = os.stat(path).st_uid
    except OSError:
        target_owner = me  # dangling or a loop: the checks that follow say so
    why = None
    if link.st_uid != me:
        why = 'made by %s' % user_name(link.st_uid)
    elif parent.st_uid != me or parent.st_mode & 0o022:
        why = 'in %s, which %s can write' % (
            os.path.dirname(path), user_name(parent.st_uid) if parent.st_uid != me
            else 'other users')
    elif target_owner != me:
        why = 'leading to a folder of %s' % user_name(target_owner)
    if why:
        raise TgDeployError(
            '%s is a symlink (to %s) %s: tgdeploy would write where another user points it; '
            'remove the symlink, or name the folder yourself with %s %s'
            % (path, os.readlink(path), why, option, default_hint or os.path.realpath(path)))
