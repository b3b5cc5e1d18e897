"""--reload: after the daemons were replaced, one request through the Apache parent's own
listening address shows the application answers again."""
import socket
import ssl
import time

from tgdeploy._compat import HTTPConnection, HTTPSConnection
from tgdeploy.serve.apache_processes import read_file, socket_inodes
from tgdeploy.errors import TgDeployError


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
