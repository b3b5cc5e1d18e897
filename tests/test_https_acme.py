"""--https acme end to end: Debian's pebble (a real ACME server) on 127.0.0.1, the generated
config pointed at it with --acme-ca, the private Apache's mod_md obtaining a certificate
(real HTTP-01 validation: pebble fetches the challenge from the Apache's HTTP port, through
the --https-only redirect's exception), a graceful restart to put it in use (what
MDNotifyCmd would do), and the application fetched over HTTPS with the chain verified
against pebble's own root.

Pebble's configuration takes the ports it validates on (httpPort, tlsPort): they are the
private Apache's, and mod_md learns the mapping from MDPortMap (the private Apache's
config). The name is "localhost", which pebble resolves through /etc/hosts. Pebble serves
its ACME API over HTTPS with a certificate the test makes (its transport only; mod_md
trusts it through MDCACertificateFile); the site's certificate is pebble's alone.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from support.httpd import free_port
from support.projects import write
from test_https import HOST, curl, deploy, make_ca, make_server_cert, prefix_of

ISSUE_TIMEOUT = 60  # seconds; it takes about one here
PEBBLE = shutil.which('pebble') or '/usr/bin/pebble'


@pytest.fixture
def pebble(www_tmp):
    """A running pebble: (directory URL, its own transport CA, management port)."""
    if not os.path.exists(PEBBLE):
        pytest.fail('pebble (the ACME test server) is missing: run scripts/provision '
                    '(apt-get install pebble)')
    folder = Path(tempfile.mkdtemp(dir=str(www_tmp)))
    folder.chmod(0o755)  # mod_md reads the transport CA in a child process, as www-data
    make_ca(folder, 'pebble transport CA')
    cert, key = make_server_cert(folder, stem='pebble', names=('localhost',))
    ports = dict(acme=free_port(), management=free_port(), http=free_port(), https=free_port())
    write(folder / 'pebble.json', json.dumps({'pebble': {
        'listenAddress': '127.0.0.1:%d' % ports['acme'],
        'managementListenAddress': '127.0.0.1:%d' % ports['management'],
        'certificate': str(cert), 'privateKey': str(key),
        'httpPort': ports['http'], 'tlsPort': ports['https'],
        'ocspResponderURL': '', 'externalAccountBindingRequired': False}}))
    # No random validation delays, no nonces rejected on purpose: a test that takes the
    # same path every run (mod_md does retry a rejected nonce).
    env = dict(os.environ, PEBBLE_VA_NOSLEEP='1', PEBBLE_WFE_NONCEREJECT='0')
    log = open(str(folder / 'pebble.log'), 'w')
    proc = subprocess.Popen([PEBBLE, '-config', str(folder / 'pebble.json')], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while 'Listening on' not in (folder / 'pebble.log').read_text():
            assert proc.poll() is None and time.time() < deadline, \
                (folder / 'pebble.log').read_text()
            time.sleep(0.1)
        yield dict(ports, directory='https://127.0.0.1:%d/dir' % ports['acme'],
                   transport_ca=folder / 'ca.pem', folder=folder)
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def pebble_root(pebble):
    """The root pebble issues under, from its management interface."""
    path = pebble['folder'] / 'issuer-root.pem'
    status, _, body = curl('https://127.0.0.1:%d/roots/0' % pebble['management'],
                           ca=pebble['transport_ca'])
    assert status == 200 and 'BEGIN CERTIFICATE' in body
    path.write_text(body)
    return path


def wait_for_log(apache, text, since=0, timeout=ISSUE_TIMEOUT):
    deadline = time.time() + timeout
    while text not in apache.error_log()[since:]:
        assert time.time() < deadline, '%r not logged in %d s\n%s\n%s' % (
            text, timeout, apache.error_log()[-4000:], processes(apache))
        time.sleep(0.2)


def processes(apache):
    """Apache's processes as ps sees them, with what each waits in (seen twice in whole
    runs on Debian 13: no "resuming normal operations" 60 s after a graceful restart)."""
    parent = apache.pid()
    try:
        out = subprocess.run(['ps', '-eo', 'pid,ppid,stat,wchan:30,etimes,args'],
                             stdout=subprocess.PIPE, universal_newlines=True).stdout.splitlines()
    except OSError as error:  # a minimal Debian has no procps
        out = ['ps: %s' % error]
    mine = [line for line in out[1:] if str(parent) in line.split()[:2]]
    threads = ''
    if parent:
        task = '/proc/%d/task' % parent
        for tid in sorted(os.listdir(task)) if os.path.isdir(task) else []:
            try:
                with open('%s/%s/wchan' % (task, tid)) as f:
                    threads += ' %s:%s' % (tid, f.read().strip() or '-')
            except OSError:  # the thread has ended meanwhile
                pass
    return 'parent %s, threads%s\n%s\n%s' % (parent, threads, out[0], '\n'.join(mine))


def test_acme_certificate_from_pebble(cherry_project, deploy_venv, apache_factory, pebble):
    conf = cherry_project / 'apache' / 'cherryapp.conf'
    apache = apache_factory([conf], port=pebble['http'], https_port=pebble['https'],
                            extra='MDCACertificateFile %s' % pebble['transport_ca'])
    mount = '/cp'
    deploy(deploy_venv, cherry_project, '--mount', mount, '--server-name', HOST,
           '--port', str(pebble['http']), '--https', 'acme', '--acme-email', 'ops@example.org',
           '--acme-ca', pebble['directory'], '--https-port', str(pebble['https']),
           '--https-only')
    text = conf.read_text()
    assert '<MDomainSet localhost>' in text and 'SSLCertificateFile' not in text
    apache.start(None)
    # Until then mod_md serves a stand-in certificate and answers 503.
    wait_for_log(apache, 'AH10059')  # "...has been setup and changes will be activated..."
    apache.graceful()
    # Then the certificate pebble issued is served: waited for by asking, not by the log
    # (in whole runs on Debian 13 the new generation served while "resuming normal
    # operations" never reached the log).
    root = pebble_root(pebble)
    base = 'https://%s:%d%s' % (HOST, pebble['https'], prefix_of(mount))
    deadline = time.time() + ISSUE_TIMEOUT
    while not curl_ok(base + '/', root):
        assert time.time() < deadline, 'no answer with pebble\'s certificate in %d s\n%s\n%s' % (
            ISSUE_TIMEOUT, apache.error_log()[-4000:], processes(apache))
        time.sleep(0.5)
    status, _, page = curl(base + '/', ca=root)  # verified against pebble's root only
    assert status == 200 and 'href="%s/about"' % base in page
    status, _, body = curl(base + '/status', ca=root)
    assert status == 200 and '"script_name": "%s"' % mount in body
    # The stand-in is gone, and the test's own CA vouches for nothing here.
    assert not curl_ok(base + '/', pebble['transport_ca'])
    status, headers, _ = curl('http://%s:%d%s/about' % (HOST, pebble['http'], mount))
    assert status == 301 and headers['location'] == base + '/about'
    apache.stop()
    deploy(deploy_venv, cherry_project)


def curl_ok(url, ca):
    try:
        curl(url, ca=ca)
        return True
    except AssertionError:
        return False
