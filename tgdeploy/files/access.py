"""What a user may do to a path: the owner, group and other bits that apply to it on
every folder on the way, as the kernel decides (the doctor asks for the daemon user, who
is not the one running tgdeploy)."""
import grp
import os
import pwd
import stat

from tgdeploy._compat import shell_quote


def user_ids(user):
    """(uid, the ids of every group it is in), or None if there is no such user."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, set([entry.pw_gid] + [g.gr_gid for g in grp.getgrall()
                                               if user in g.gr_mem])


def access_problem(path, uid, gids, need):
    """(blocking path, reason, fix) for what stops ``uid`` on the way to ``path``, or None;
    the fix is empty where only the caller knows it (ownership of a writable folder)."""
    if not os.path.exists(path):
        return (path, 'it does not exist',
                'run tgdeploy (or paster tgdeploy) again, or create it')
    parts = os.path.abspath(path).split(os.sep)
    for depth in range(2, len(parts)):
        folder = os.sep.join(parts[:depth])
        if not permitted(os.stat(folder), uid, gids, stat.S_IXUSR):
            return (folder, '%s is not searchable for it' % folder,
                    'chmod o+x %s' % shell_quote(folder))
    st = os.stat(path)
    if need == os.W_OK:
        if not permitted(st, uid, gids, stat.S_IWUSR):
            return (path, 'not writable for it', '')
        return None
    is_dir = os.path.isdir(path)
    if not permitted(st, uid, gids, stat.S_IRUSR) or \
            (is_dir and not permitted(st, uid, gids, stat.S_IXUSR)):
        return (path, 'not readable for it',
                'chmod o+%s %s' % ('rx' if is_dir else 'r', shell_quote(path)))
    return None


def permitted(st, uid, gids, user_bit):
    """Whether ``uid`` (in ``gids``) gets ``user_bit`` (an S_I?USR bit) on a file's mode."""
    if st.st_uid == uid:
        return bool(st.st_mode & user_bit)
    if st.st_gid in gids:
        return bool(st.st_mode & (user_bit >> 3))
    return bool(st.st_mode & (user_bit >> 6))
