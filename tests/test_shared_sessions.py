"""A session across hosts (issue 13): kept in files on each host, it is lost when the next
request lands on another; kept in a shared memcached, as the doctor's finding says, every
host sees it.

Three hosts of a TurboGears 2 quickstart with Beaker sessions (tests/support/balancing.py;
its pages at /hosts remember and recall a session value), each with a data folder of its own
as on separate machines, behind each engine's front, no sticky sessions. Debian's memcached
is started and stopped here. The quickstart itself keeps its sessions in signed cookies,
which travel with the client: the test first switches it to files, the store people move
to when a session outgrows a cookie.
"""
import os
import secrets
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from support.balancing import (BACKEND_ADDRESSES, Host, get_json, make_hosts_project,
                               running_front, running_hosts, wait_for, write_secrets)
from support.httpd import free_port

MEMCACHED = '/usr/bin/memcached'
ENGINES = ('haproxy', 'apache')
SESSIONS_IN_FILES = 'Beaker keeps sessions in files on this host (session.type = file): '
THE_FIX = 'set session.type = ext:memcached and session.url = HOST:11211'
CLIENT_LIBRARY = 'python-memcached'  # what the finding says Beaker needs in the virtualenv
SQLITE = 'the SQLite database of sqlalchemy.url exists on one host only'


@pytest.fixture(scope='module')
def memcached():
    """Debian's memcached on a free loopback port: its port."""
    if not os.path.exists(MEMCACHED):
        pytest.fail('%s is missing: run scripts/provision (it installs memcached)' % MEMCACHED)
    port = free_port()
    # As root, memcached wants a user to run as; Debian's package makes "memcache".
    proc = subprocess.Popen([MEMCACHED, '-l', '127.0.0.1', '-p', str(port), '-U', '0',
                             '-m', '16', '-u', 'memcache'], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: proc.poll() is None and answers(port), 10)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def answers(port):
    try:
        socket.create_connection(('127.0.0.1', port), 1).close()
        return True
    except OSError:
        return False


def memcached_stats(port):
    """memcached's own counters (its text protocol's "stats")."""
    with socket.create_connection(('127.0.0.1', port), 5) as s:
        s.sendall(b'stats\r\n')
        data = b''
        while not data.endswith(b'END\r\n'):
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk
    return dict(line.split()[1:3] for line in data.decode().splitlines()
                if line.startswith('STAT '))


@pytest.fixture(scope='module')
def site(www_root, deploy_venv):
    """(project, secrets file, folder) of the quickstart the hosts serve."""
    folder = Path(tempfile.mkdtemp(dir=str(www_root)))
    folder.chmod(0o755)
    project = make_hosts_project(deploy_venv, folder, 'sessionsapp')
    return project, write_secrets(folder / 'secrets'), folder


def set_session_store(project, old, new):
    """Edit the project's own development.ini, which every host's deployment derives from."""
    ini = project / 'development.ini'
    text = ini.read_text()
    assert old in text, old
    ini.write_text(text.replace(old, new))


def doctor(deploy_venv, host, site):
    """The doctor's exit code, and its findings about three hosts."""
    project, secrets_file, _ = site
    proc = host.doctor(deploy_venv, project, secrets_file, hosts=3)
    said = proc.stdout + proc.stderr
    return proc.returncode, [line for line in said.splitlines() if ': 3 hosts: ' in line]


def cookie_of(set_cookie):
    # Beaker's cookie is named after the package (the quickstart's session.key).
    assert set_cookie and set_cookie.startswith('sessionsapp='), set_cookie
    return set_cookie.split(';')[0]


def remember(base):
    """A fresh value put in a new session through ``base``: (value, cookie, server)."""
    value = secrets.token_hex(8)
    answer, set_cookie = get_json(base, '/hosts/remember?value=' + value)
    assert answer['value'] == value, answer
    return value, cookie_of(set_cookie), answer['server'].split(':')[0]


def recall(base, cookie, times):
    """[(server address, value the session holds there)] for ``times`` requests."""
    answers = [get_json(base, '/hosts/recall', cookie)[0] for _ in range(times)]
    return [(a['server'].split(':')[0], a['value']) for a in answers]


def restart_with_new_deployment(hosts, deploy_venv, site):
    project, secrets_file, _ = site
    for host in hosts:
        host.stop()
        host.deploy(deploy_venv, project, secrets_file)
        host.start()


def test_a_session_is_seen_by_every_host_once_its_store_is_shared(deploy_venv, site,
                                                                   memcached):
    project, secrets_file, folder = site
    started = time.time()

    # The quickstart as made: sessions in signed cookies, which travel with the client; the
    # doctor has nothing to say about them.
    code, found = doctor(deploy_venv, Host(folder, BACKEND_ADDRESSES[0], project.name), site)
    assert len(found) == 1 and SQLITE in found[0], found
    set_session_store(project, 'session.type = cookie', 'session.type = file')
    with running_hosts(deploy_venv, project, secrets_file, folder) as hosts:
        # Sessions in files: the doctor names them, with the fix ...
        code, found = doctor(deploy_venv, hosts[0], site)
        assert code == 3 and len(found) == 2, found
        finding = [line for line in found if SESSIONS_IN_FILES in line]
        assert len(finding) == 1 and THE_FIX in finding[0], found
        assert CLIENT_LIBRARY in finding[0], finding
        print('\nthe doctor: %s' % finding[0].strip())

        # ... and the failure is real: a value put in the session through one back end is
        # not there through the others, directly or through either front.
        value, cookie, _ = remember(hosts[0].url)
        assert recall(hosts[0].url, cookie, 1) == [(BACKEND_ADDRESSES[0], value)]
        for host in hosts[1:]:
            assert recall(host.url, cookie, 1) == [(host.address, None)]
        for engine in ENGINES:
            with running_front(engine, [h.url for h in hosts], folder / ('files-' + engine)) \
                    as front:
                value, cookie, keeper = remember(front.url)
                seen = recall(front.url, cookie, 9)
                assert set(server for server, _ in seen) == set(BACKEND_ADDRESSES), seen
                # Only the host that stored it knows it.
                assert all((v == value) == (server == keeper) for server, v in seen), seen
                print('%s, sessions in files: %d of 9 requests saw the value' % (
                    engine, sum(1 for _, v in seen if v == value)))

        # The fix, as the finding names it: the store's keys in the project's config, the
        # client library in the virtualenv; then every host deployed again.
        set_session_store(project, 'session.type = file', 'session.type = ext:memcached\n'
                          'session.url = 127.0.0.1:%d' % memcached)
        deploy_venv.pip_install(CLIENT_LIBRARY)
        restart_with_new_deployment(hosts, deploy_venv, site)
        code, found = doctor(deploy_venv, hosts[0], site)
        # What it still says is true: the quickstart's SQLite database is on one host.
        assert code == 3 and len(found) == 1 and SQLITE in found[0], found

        for engine in ENGINES:
            with running_front(engine, [h.url for h in hosts], folder / ('shared-' + engine)) \
                    as front:
                value, cookie, _ = remember(front.url)
                seen = recall(front.url, cookie, 12)
                assert set(server for server, _ in seen) == set(BACKEND_ADDRESSES), seen
                assert all(v == value for _, v in seen), seen
                print('%s, sessions in memcached: %d of 12 requests saw the value' % (
                    engine, sum(1 for _, v in seen if v == value)))
        for host in hosts:
            assert recall(host.url, cookie, 1) == [(host.address, value)]
    stats = memcached_stats(memcached)
    assert int(stats['cmd_set']) >= 2 and int(stats['get_hits']) >= 12, stats
    print('memcached: %s sets, %s hits; %.1f s' % (stats['cmd_set'], stats['get_hits'],
                                                   time.time() - started))
