"""--reload: a new copy of the application in every daemon process of this deployment,
without failing a request.

Apache's own restarts (even `apachectl graceful`) send the daemon processes SIGTERM and
remove their socket, so a request can be cut or refused (README: known limits). SIGUSR1 to a
daemon process is mod_wsgi's eviction: it lets the requests in progress finish (up to
eviction-timeout), exits, and the Apache parent starts a new one on the same socket, which
it keeps open all along; a request arriving meanwhile waits in the socket's queue.

The processes are found in /proc by what mod_wsgi shows of their name and by the Apache
parent that started them; see find_daemons() for how another project's are told apart.
"""
import errno
import os
import pwd
import signal
import socket
import ssl
import time

from tgdeploy._compat import HTTPConnection, HTTPSConnection
from tgdeploy.errors import TgDeployError

# The action as the front ends offer it (beside options.ACTIONS).
ACTIONS = (
    ('reload', 'reload the application in its running daemon processes (SIGUSR1: the requests '
               'in progress finish first) and wait until new ones answer; as root or the '
               'daemon user'),
)
APACHE_NAMES = ('apache2', 'httpd')
# eviction-timeout + shutdown-timeout + startup-timeout of the generated config, and a margin.
TIMEOUT = 100


def reload(values, out, timeout=TIMEOUT):
    """Signal this deployment's daemon processes, wait for their successors; exit code 0."""
    target = deployed(values)
    check_permission(target)
    old, sockets = find_daemons(target)
    if not old:
        raise TgDeployError('no daemon process "%s" is running (is Apache running? the config '
                            '%s enabled?): nothing reloaded' % (target['name'],
                                                                 values['conf_file']))
    started = time.time()
    for pid in old:
        send(pid, signal.SIGUSR1)
    out('reload: sent SIGUSR1 to %s (daemon "%s", pid %s)' % (
        plural(len(old), 'process', 'processes'), target['name'],
        ', '.join(str(pid) for pid in sorted(old))))
    new = wait_replaced(target, old, sockets, started + timeout)
    replaced = time.time() - started
    out('reload: replaced by pid %s after %.2f s' % (
        ', '.join(str(pid) for pid in sorted(new)), replaced))
    answer = probe(target, set(old.values()), started + timeout)
    if answer:
        out('reload: %s answered %d after %.2f s' % (answer[0], answer[1],
                                                     time.time() - started))
    else:  # Apache's listening sockets are root's to see
        out('reload: not checked through Apache (run as root to have it find the address)')
    return 0


def plural(count, one, many):
    return '%d %s' % (count, one if count == 1 else many)


def send(pid, number):
    try:
        os.kill(pid, number)
    except OSError as e:
        if e.errno != errno.ESRCH:  # gone already: it was leaving anyway
            raise


# -- what was deployed: read from the generated .conf ------------------------------------

def deployed(values):
    """Name, user, home and mount of the daemon as the generated .conf says (the options of
    this run may differ from the deploy's: --mount changes the name), with this run's
    values where the file is missing."""
    target = {'name': values.get('daemon_name'), 'user': values.get('user'),
              'home': values.get('project_dir'), 'mount': values.get('mount') or '/',
              'server_name': values.get('server_name'), 'port': None, 'tls': False}
    if values.get('mode') != 'daemon' and not os.path.exists(values['conf_file']):
        raise TgDeployError('--reload is for daemon mode; this deployment runs embedded in '
                            'Apache: apachectl graceful')
    if os.path.exists(values['conf_file']):
        read_conf(values['conf_file'], target)
    return target


def read_conf(path, target):
    daemon = None
    host = {}
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8', 'replace').replace('\\\n', ' ')
    for line in text.splitlines():
        words = apache_words(line)
        if not words:
            continue
        key = words[0].lower()
        if key == 'wsgidaemonprocess' and daemon is None and len(words) > 1:
            daemon = words
        elif key == '<virtualhost' and len(words) > 1:
            host = {'port': words[1].rstrip('>').rsplit(':', 1)[-1], 'tls': False}
        elif key == 'sslengine' and words[1:2] == ['on']:
            host['tls'] = True
        elif key == 'servername' and len(words) > 1:
            target['server_name'] = words[1]
        elif key == 'wsgiscriptalias' and len(words) > 1:
            target['mount'] = words[1]
            if host.get('port', '').isdigit():
                target['port'], target['tls'] = int(host['port']), host['tls']
    if daemon is None:
        raise TgDeployError('%s has no WSGIDaemonProcess: --reload is for daemon mode (embedded '
                            'mode lives in Apache\'s processes: apachectl graceful)' % path)
    target['name'] = daemon[1]
    for word in daemon[2:]:
        key, _, value = word.partition('=')
        if key in ('user', 'home'):
            target[key] = value


def apache_words(line):
    """The words of one config line as Apache (ap_getword_conf) and mod_wsgi's name=value
    options split them: a quoted stretch keeps its spaces, and inside it a backslash escapes
    the quote character only."""
    words, word, quote, i = [], None, None, 0
    line = line.strip()
    if line.startswith('#'):
        return []
    while i < len(line):
        c = line[i]
        if quote:
            if c == '\\' and line[i + 1:i + 2] == quote:
                i += 1
                word += quote
            elif c == quote:
                quote = None
            else:
                word += c
        elif c in '"\'':
            quote, word = c, word or ''
        elif c.isspace():
            if word is not None:
                words.append(word)
            word = None
        else:
            word = (word or '') + c
        i += 1
    if word is not None:
        words.append(word)
    return words


def check_permission(target):
    try:
        uid = pwd.getpwnam(target['user']).pw_uid
    except KeyError:
        raise TgDeployError('the daemon user %s does not exist on this machine: nothing to '
                            'reload' % target['user'])
    if os.geteuid() not in (0, uid):
        raise TgDeployError('--reload signals the daemon processes of "%s", which run as %s: '
                            'run it as root (sudo) or as %s' % (target['name'], target['user'],
                                                                target['user']))
    target['uid'] = uid


# -- finding the processes ---------------------------------------------------------------

def find_daemons(target, sockets=None, refuse=True):
    """{pid: Apache parent pid} of the daemon processes of ``target``.

    mod_wsgi writes "(wsgi:NAME)" over the Apache binary's argv[0] and cuts it to that
    length (17 characters for /usr/sbin/apache2), so a longer name shows only its start,
    and another project's name may start the same way. A process counts when its parent is
    an Apache parent (not a child), it runs as the daemon user, what it shows is the start
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
        if owner(pid) != target['uid'] or not is_apache_parent(parent_pid(pid)):
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
                '.wsgi file (unless deployed with --script-reloading no)' % (parent, len(sockets), target['name'], target['home']))


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


# -- waiting for the new processes -------------------------------------------------------

def wait_replaced(target, old, sockets, deadline):
    """The new pids, once every old process is gone and as many new ones run under the
    same Apache parents (on the same sockets)."""
    wanted = len(old)
    while True:
        now = find_daemons(target, sockets, refuse=False)[0]
        new = [pid for pid in now if pid not in old]
        if not [pid for pid in old if alive(pid)] and len(new) >= wanted:
            return new
        if time.time() > deadline:
            left = sorted(pid for pid in old if alive(pid))
            raise TgDeployError('daemon "%s" not replaced within %d s (still running: %s; new: '
                                '%s): see Apache\'s error log' % (
                                    target['name'], TIMEOUT, left or 'none', sorted(new)
                                    or 'none'))
        time.sleep(0.05)


def probe(target, parents, deadline):
    """(URL, status) of the mount's first answer through the Apache parent's own listening
    address, retried while it fails; None when that address cannot be found (not root)."""
    address = listening_address(parents, target)
    if address is None:
        return None
    host, port, tls = address
    name = host if ':' not in host else '[%s]' % host
    url = '%s://%s:%d%s' % ('https' if tls else 'http', name, port, target['mount'])
    while True:
        try:
            status = get(host, port, tls, target['mount'], target['server_name'] or name)
            if status < 500:
                return url, status
            problem = 'status %d' % status
        except (IOError, OSError, socket.error) as e:
            problem = str(e)
        if time.time() > deadline:
            raise TgDeployError('%s did not answer after the reload (%s): see Apache\'s error '
                                'log' % (url, problem))
        time.sleep(0.1)


def get(host, port, tls, path, host_header):
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # our own server, asked on its own address
        connection = HTTPSConnection(host, port, timeout=30, context=context)
    else:
        connection = HTTPConnection(host, port, timeout=30)
    try:
        connection.request('GET', path, headers={'Host': host_header})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def listening_address(parents, target):
    """(host, port, tls) where the Apache parent listens: the virtual host's port when the
    config has one, else port 80, else the first it listens on."""
    ports = {}
    for parent in parents:
        inodes = socket_inodes(parent)
        for table, any_host in (('tcp', '0.0.0.0'), ('tcp6', '::')):
            for host, port, inode in listeners(table):
                if inode in inodes:
                    ports.setdefault(port, loopback(host) if host == any_host else host)
    if not ports:
        return None
    if target['port'] in ports:
        return ports[target['port']], target['port'], target['tls']
    port = 80 if 80 in ports else sorted(ports)[0]
    return ports[port], port, port == 443


def loopback(any_host):
    return '127.0.0.1' if any_host == '0.0.0.0' else '::1'


def listeners(table):
    """(address, port, inode) of the listening sockets in /proc/net/tcp or tcp6."""
    rows = []
    for line in read_file('/proc/net/' + table).decode('ascii', 'replace').splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != '0A':  # 0A: LISTEN
            continue
        address, port = fields[1].split(':')
        rows.append((hex_address(address), int(port, 16), fields[9]))
    return rows


def hex_address(text):
    """An address of /proc/net/tcp[6]: 32-bit words in host (little-endian) order."""
    raw = bytearray.fromhex(text)
    words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]
    packed = bytes(bytearray().join(words))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, packed)
