"""Slow clients cannot starve the front (issue 25 item 5): a real Apache with 4 worker threads,
more slowloris connections than that (each sends its request one byte a second), and one
normal request to the application behind them.

With the generated RequestReadTimeout (here --header-timeout 3, so the test stays short; the
default is 15) the slow connections are cut within the bound and the normal request gets its
200 a few seconds later; with the timeout removed (--header-timeout 0, as a config without
mod_reqtimeout) the same normal request gets no answer at all while the slow clients last.
Bounded: each half ends within about 15 s; loopback only; everything started is stopped.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import FIXTURES, LAB_PY3
from support.httpd import Apache, free_port
from tgdeploy.cli.deploy import deploy

WORKERS = 4
SLOW = 6  # more slow connections than workers
HEADER_TIMEOUT = 3
# A small event MPM: one child of WORKERS threads, mod_reqtimeout loaded as Debian does.
SMALL_APACHE = '''LoadModule reqtimeout_module /usr/lib/apache2/modules/mod_reqtimeout.so
ServerLimit 1
ThreadLimit {0}
ThreadsPerChild {0}
MaxRequestWorkers {0}
MinSpareThreads 1
MaxSpareThreads {0}
Timeout 60
'''.format(WORKERS)
# The test's own copy of the fixture gets a page of 32 MiB, more than the sockets between the
# daemon, Apache and the client hold.
BIG_PAGE = '''

def big(self):
    return b'x' * (32 << 20)


Root.big = cherrypy.expose(big)
'''
REQUEST = b'GET /cp/about HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + b's' * 200


class Slowloris(threading.Thread):
    """One connection sending REQUEST a byte a second; ``cut`` is the seconds from its
    connect until the server answered or closed it (None: it held on to the end)."""

    def __init__(self, port, stop):
        super(Slowloris, self).__init__(daemon=True)
        self.port, self.stop, self.cut = port, stop, None

    def run(self):
        started = time.time()
        sock = socket.create_connection(('127.0.0.1', self.port), 5)
        sock.settimeout(1.0)  # the pace: a byte, then up to a second for the server to end it
        try:
            for byte in REQUEST:
                if self.stop.is_set():
                    return
                try:
                    sock.send(bytes([byte]))
                    sock.recv(1024)  # an answer (408) or the end: either way it is cut
                    self.cut = time.time() - started
                    return
                except socket.timeout:
                    continue
                except OSError:
                    self.cut = time.time() - started
                    return
        finally:
            sock.close()


def normal_request(port, timeout):
    """(status or None, seconds) of one plain GET of the application's page."""
    started = time.time()
    sock = socket.create_connection(('127.0.0.1', port), 5)
    sock.settimeout(timeout)
    try:
        sock.sendall(b'GET /cp/about HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
        head = sock.recv(64)
        return int(head.split()[1]), time.time() - started
    except (socket.timeout, OSError, IndexError, ValueError):
        return None, time.time() - started
    finally:
        sock.close()


@pytest.fixture(scope='module')
def served(www_root):
    """Serve a copy of the CherryPy fixture (run from the lab's Python 3, which has CherryPy)
    from a small private Apache with the generated config (a virtual host: where the
    hardening block is written) with the options ``given``."""
    project = os.path.join(tempfile.mkdtemp(dir=str(www_root)), 'cherryapp')
    shutil.copytree(str(FIXTURES / 'cherryapp'), project)
    app = os.path.join(project, 'cherryapp', 'app.py')
    with open(app) as f:
        text = f.read()
    with open(app, 'w') as f:  # before the start script's quickstart, which replay stops at
        f.write(text.replace("\nif __name__ == '__main__':", BIG_PAGE + "\nif __name__ == "
                                                                  "'__main__':"))
    subprocess.run(['chmod', '-R', 'a+rX', os.path.dirname(project)], check=True)
    started = []

    def serve(**given):
        root = tempfile.mkdtemp(dir=str(www_root))
        os.chmod(root, 0o755)
        port = free_port()
        given = dict(given, python_home=LAB_PY3.prefix, mount='/cp', server_name='127.0.0.1',
                     port=str(port), output_dir=os.path.join(root, 'apache'))
        given.setdefault('processes', '1')
        values = deploy(project, given)
        apache = Apache(root, [values.paths.conf_file], port=port, extra=SMALL_APACHE)
        started.append(apache)
        assert apache.start('/cp/about', timeout=60)[0] == 200, apache.error_log()[-2000:]
        return apache

    yield serve
    for apache in started:
        apache.stop()


def starve(apache, normal_timeout, wait=0):
    """Open SLOW slow connections, let them take every worker, then ask normally; the slow
    clients keep going up to ``wait`` seconds more (each to its own end) before they stop."""
    stop = threading.Event()
    slow = [Slowloris(apache.port, stop) for _ in range(SLOW)]
    for client in slow:
        client.start()
    time.sleep(1.0)
    try:
        return normal_request(apache.port, normal_timeout), slow
    finally:
        # Stopping them at once would end a client the server was about to cut (a race
        # the cut count lost under load: 3 of 4).
        deadline = time.time() + wait
        for client in slow:
            client.join(max(0.0, deadline - time.time()))
        stop.set()


def test_the_generated_timeout_cuts_slow_clients(served):
    apache = served(header_timeout=str(HEADER_TIMEOUT))
    (status, seconds), slow = starve(apache, normal_timeout=15, wait=HEADER_TIMEOUT * 2 + 2)
    assert status == 200, seconds
    # The first WORKERS slow connections are cut at the header timeout, freeing the workers
    # for the rest; the normal request is answered right after the first round.
    assert seconds < HEADER_TIMEOUT * 2 + 1, seconds
    for client in slow:
        client.join(HEADER_TIMEOUT * 2 + 2)
    cut = sorted(client.cut for client in slow if client.cut is not None)
    assert len(cut) >= WORKERS, cut
    assert all(HEADER_TIMEOUT - 0.5 < c <= HEADER_TIMEOUT * 2 + 1.5 for c in cut[:WORKERS]), cut
    assert apache.error_log().count('Request header read timeout') >= WORKERS


def test_without_the_timeout_they_starve_it(served):
    """The same slow clients, RequestReadTimeout header=0: no worker comes free (Apache's own
    Timeout, 60 s here and 300 on Debian, would be the only bound)."""
    apache = served(header_timeout='0')
    (status, seconds), slow = starve(apache, normal_timeout=HEADER_TIMEOUT * 2 + 1)
    assert status is None, (status, seconds)
    assert all(client.cut is None for client in slow)


def test_a_client_that_never_reads_frees_its_daemon_thread(served):
    """One daemon thread; a client asks for the big page and reads none of it, so the thread
    blocks writing it. --response-socket-timeout 2 cuts that client after 2 s of writes that
    do not move, and the next request gets the thread (with socket-timeout's 60 s instead, it
    would wait past this test's 10 s)."""
    apache = served(threads='1', response_socket_timeout='2')
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(('127.0.0.1', apache.port))
    try:
        sock.sendall(b'GET /cp/big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
        time.sleep(1.0)  # the thread is now stuck writing
        status, seconds = normal_request(apache.port, 10)
    finally:
        sock.close()
    assert status == 200, seconds
    assert seconds < 2 + 4, seconds
    assert 'Failed to proxy response to client' in apache.error_log()
