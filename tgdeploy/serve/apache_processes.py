"""--reload: the mod_wsgi daemon processes of a deployment, found in /proc by what mod_wsgi
shows of their name, their user, their Apache parent (one that loaded this deployment's
.conf: apache_includes), their working folder and socket."""
import os

from tgdeploy.serve.apache_includes import loads
from tgdeploy.errors import TgDeployError

APACHE_NAMES = ('apache2', 'httpd')


def apache_parents(conf):
    """{pid: argv} of the Apache parents, run by root or by the user running this, whose
    configuration includes the file of (device, inode) ``conf`` (apache_includes says why
    these); none for None (no .conf)."""
    mine = (0, os.geteuid())
    found = {}
    if conf is None:
        return found
    for pid in all_pids():
        if comm(pid) not in APACHE_NAMES or not is_apache_parent(pid) or owner(pid) not in mine:
            continue
        argv = [arg.decode('utf-8', 'replace')
                for arg in read_proc(pid, 'cmdline').rstrip(b'\0').split(b'\0')]
        if loads(argv, environment(pid), conf):
            found[pid] = argv
    return found


def environment(pid):
    pairs = (item.decode('utf-8', 'replace').partition('=')
             for item in read_proc(pid, 'environ').split(b'\0') if item)
    return dict((key, value) for key, _, value in pairs)


def find_daemons(target, parents, sockets=None, refuse=True):
    """{pid: Apache parent pid} of the daemon processes of ``target`` under ``parents``
    (apache_parents(): the Apaches that loaded this very .conf).

    mod_wsgi writes "(wsgi:NAME)" over the Apache binary's argv[0] and cuts it to that
    length (17 characters for /usr/sbin/apache2), so a longer name shows only its start,
    and another project's name may start the same way. A process counts when its parent is
    one of ``parents``, it runs as the daemon user, what it shows is the start
    of our name, and, when the name is cut, its working folder is the deployment's home=
    and it listens on one socket with the others: two daemon groups that still look alike
    (two mounts of one project with names alike up to the cut) are told apart by the
    socket mod_wsgi gives each group, and if that leaves two, nothing is signalled.
    Returns them and the sockets they listen on; given those ``sockets`` (and refuse
    False), it keeps to the group already told apart.
    """
    wanted = '(wsgi:%s)' % target['name']
    found, listening = {}, {}
    for pid in all_pids():
        shown = argv0(pid)
        if not shown.startswith('(wsgi:') or shown != (wanted + ' ' * len(shown))[:len(shown)]:
            continue
        if owner(pid) != target['uid'] or parent_pid(pid) not in parents:
            continue
        if len(wanted) > len(shown):  # cut: the name alone does not say it is ours
            if working_folder(pid) != os.path.realpath(target['home'] or '/'):
                continue
            listening[pid] = listening_socket(pid)
            if sockets and listening[pid] not in sockets:
                continue
        found[pid] = parent_pid(pid)
    if refuse:
        refuse_look_alikes(found, listening, target)
    return found, set(path for path in listening.values() if path)


def refuse_look_alikes(found, listening, target):
    groups = {}
    for pid, parent in found.items():
        if listening.get(pid):  # None: a process closing down, its sockets already closed
            groups.setdefault(parent, set()).add(listening[pid])
    for parent, sockets in groups.items():
        if len(sockets) > 1:
            raise TgDeployError(
                'Apache %d runs %d daemon groups whose names start like "%s" and whose home is '
                '%s, and shows only the start of each name: cannot tell which is this one; '
                'nothing signalled. Give the mounts names that differ earlier, or touch the '
                '.wsgi file (unless deployed with --script-reloading no)'
                % (parent, len(sockets), target['name'], target['home']))


def all_pids():
    return [int(name) for name in os.listdir('/proc') if name.isdigit()]


def read_proc(pid, name):
    return read_file('/proc/%d/%s' % (pid, name))


def read_file(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except (IOError, OSError):
        return b''


def argv0(pid):
    return read_proc(pid, 'cmdline').split(b'\0')[0].decode('utf-8', 'replace')


def owner(pid):
    for line in read_proc(pid, 'status').decode('ascii', 'replace').splitlines():
        if line.startswith('Uid:'):
            return int(line.split()[2])  # the effective uid
    return None


def parent_pid(pid):
    stat = read_proc(pid, 'stat').decode('ascii', 'replace')
    try:
        return int(stat.rsplit(')', 1)[1].split()[1])
    except (IndexError, ValueError):
        return None


def state(pid):
    stat = read_proc(pid, 'stat').decode('ascii', 'replace')
    parts = stat.rsplit(')', 1)
    return parts[1].split()[0] if len(parts) == 2 and parts[1].split() else None


def comm(pid):
    return read_proc(pid, 'comm').decode('utf-8', 'replace').strip()


def is_apache_parent(pid):
    """An Apache binary whose own parent is not one: the process that forks the daemons."""
    if not pid or comm(pid) not in APACHE_NAMES:
        return False
    return comm(parent_pid(pid) or 0) not in APACHE_NAMES


def working_folder(pid):
    try:
        return os.path.realpath(os.readlink('/proc/%d/cwd' % pid))
    except (IOError, OSError):
        return None


def socket_inodes(pid):
    inodes = set()
    folder = '/proc/%d/fd' % pid
    try:
        names = os.listdir(folder)
    except (IOError, OSError):
        return inodes
    for name in names:
        try:
            link = os.readlink(os.path.join(folder, name))
        except (IOError, OSError):
            continue
        if link.startswith('socket:['):
            inodes.add(link[8:-1])
    return inodes


def listening_socket(pid):
    """The path of the Unix socket the daemon process accepts on (its group's)."""
    mine = socket_inodes(pid)
    for line in read_file('/proc/net/unix').decode('utf-8', 'replace').splitlines()[1:]:
        fields = line.split()
        # Num RefCount Protocol Flags Type St Inode Path; flag 0x10000: listening
        if len(fields) >= 8 and fields[6] in mine and int(fields[3], 16) & 0x10000:
            return fields[7]
    return None


def alive(pid):
    return state(pid) not in (None, 'Z')
