"""HTTPS front door, against a real Apache with mod_ssl: a CA and a server certificate made
here with openssl; a `gearbox quickstart` project and the CherryPy fixture served over
HTTPS at / and at a sub-URL and verified with `curl --cacert`; the application sees https
(redirects, qualified URLs); --https-only redirects (not the ACME challenges) and marks
login cookies Secure; --hsts; --trust-proxy through a real reverse proxy (a second Apache
with mod_proxy) and a forged-header request from an untrusted address; `apache2 -t` over
combinations of the options; bad values refused; --check over HTTPS.
"""
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import LAB_PY3, paster
from support.httpd import Apache, free_port
from support.projects import make_cherrypy, make_tg2, make_venv_marker, write
from support.sites import quickstart_tg2, setup_tg2_data
from support.venv import run
from test_check import apache_tree, site  # noqa: F401 (fixtures)
from tgdeploy.settle import options
from tgdeploy.write import render
from tgdeploy.detect.arbiter import detect

HOST = 'localhost'  # the virtual host's name; the certificate is for it and 127.0.0.1
CURL_TIMEOUT = '20'

# Pages added to the quickstart, as a user adds them: what the application sees of the
# request (scheme, client, host, a qualified URL) and a redirect.
WHOAMI = '''

def _whoami(self):
    import json
    from tg import request, url
    environ = request.environ
    return json.dumps({
        'scheme': environ['wsgi.url_scheme'], 'remote_addr': environ.get('REMOTE_ADDR'),
        'host': environ.get('HTTP_HOST'), 'url': url('/about', qualified=True),
        'forwarded': sorted(k for k in environ if k.startswith('HTTP_X_FORWARDED'))})


def _jump(self):
    from tg import redirect
    redirect('/about')


RootController.whoami = expose()(_whoami)
RootController.jump = expose()(_jump)
'''


# -- certificates -----------------------------------------------------------------------

def openssl(*args, cwd):
    return run(['openssl'] + list(args), cwd=cwd)


def make_ca(folder, name='tgdeploy test CA'):
    """A CA certificate and key in ``folder`` (ca.pem, ca.key)."""
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out',
            'ca.pem', '-days', '2', '-subj', '/CN=%s' % name, cwd=folder)
    return folder / 'ca.pem'


def make_server_cert(folder, stem='server', names=(HOST,), ca='ca'):
    """``stem``.pem signed by the CA in ``folder``, for ``names`` and 127.0.0.1, and its key
    ``stem``.key, readable by root only (as an operator keeps it)."""
    write(folder / (stem + '.ext'), 'subjectAltName=%s,IP:127.0.0.1\n'
          % ','.join('DNS:' + n for n in names))
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', stem + '.key', '-out',
            stem + '.csr', '-subj', '/CN=%s' % names[0], cwd=folder)
    openssl('x509', '-req', '-in', stem + '.csr', '-CA', ca + '.pem', '-CAkey', ca + '.key',
            '-CAcreateserial', '-out', stem + '.pem', '-days', '2', '-extfile', stem + '.ext',
            cwd=folder)
    os.chmod(str(folder / (stem + '.key')), 0o600)
    return folder / (stem + '.pem'), folder / (stem + '.key')


@pytest.fixture(scope='module')
def pki(www_root):
    """(ca.pem, server.pem, server.key) in a folder www-data may not enter."""
    folder = Path(tempfile.mkdtemp(dir=str(www_root)))
    folder.chmod(0o700)
    ca = make_ca(folder)
    cert, key = make_server_cert(folder)
    return ca, cert, key


# -- requests ---------------------------------------------------------------------------

def curl(url, *args, ca=None, interface=None):
    """(status, headers dict (lower-case names; Set-Cookie lines joined), body) of one
    request by curl, redirects not followed; over HTTPS the chain is verified against ``ca``."""
    port = re.match(r'^https?://[^:/]+:(\d+)', url).group(1)
    command = ['curl', '-sS', '-D', '-', '--max-time', CURL_TIMEOUT,
               '--resolve', '%s:%s:127.0.0.1' % (HOST, port)]
    if ca:
        command += ['--cacert', str(ca)]
    if interface:
        command += ['--interface', interface]
    proc = run(command + list(args) + [url])
    head, _, body = proc.stdout.replace('\r\n', '\n').partition('\n\n')
    lines = head.splitlines()
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(':')
        name = name.strip().lower()
        headers[name] = (headers[name] + '\n' if name in headers else '') + value.strip()
    return status, headers, body


def whoami(url, *args, **kwargs):
    status, _, body = curl(url, *args, **kwargs)
    assert status == 200, (status, body[:500])
    return json.loads(body)


def prefix_of(mount):
    return '' if mount == '/' else mount


def https_args(pki, apache, *more):
    _, cert, key = pki
    return ['--server-name', HOST, '--port', str(apache.http_port), '--https', 'own',
            '--ssl-certificate', str(cert), '--ssl-key', str(key),
            '--https-port', str(apache.https_port)] + list(more)


def https_apache(apache_factory, conf, **kwargs):
    return apache_factory([conf], https_port=free_port(), **kwargs)


def deploy(venv, project, *args):
    return paster(venv, 'tgdeploy', '-q', '--overwrite', *args, cwd=project)


# -- TurboGears 2 -----------------------------------------------------------------------

@pytest.fixture(scope='module')
def tlsapp(www_root, deploy_venv):
    """A fresh quickstart with the pages above, its database made with the deployed ini."""
    src = www_root / 'tls'
    src.mkdir()
    src.chmod(0o755)
    project = Path(quickstart_tg2(deploy_venv, src, 'tlsapp'))
    with open(str(project / 'tlsapp' / 'controllers' / 'root.py'), 'a') as f:
        f.write(WHOAMI)
    paster(deploy_venv, 'tgdeploy', '-q', cwd=project)
    setup_tg2_data(deploy_venv, project, project / 'apache' / 'tlsapp.ini')
    return project


@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_tg2_over_https(tlsapp, deploy_venv, apache_factory, pki, mount):
    ca = pki[0]
    apache = https_apache(apache_factory, tlsapp / 'apache' / 'tlsapp.conf')
    deploy(deploy_venv, tlsapp, '--mount', mount, *https_args(pki, apache))
    prefix = prefix_of(mount)
    apache.start(None)
    base = 'https://%s:%d%s' % (HOST, apache.https_port, prefix)
    seen = whoami(base + '/whoami', ca=ca)
    assert seen['scheme'] == 'https' and seen['url'] == base + '/about', seen
    status, headers, _ = curl(base + '/jump', ca=ca)
    assert status == 302 and headers['location'] == base + '/about'
    status, _, page = curl(base + '/demo', ca=ca)
    assert status == 200 and prefix + '/css/style.css' in page
    assert curl(base + '/css/style.css', ca=ca)[0] == 200  # Apache's static alias, over TLS
    assert 'strict-transport-security' not in curl(base + '/demo', ca=ca)[1]  # never by default
    # Plain HTTP still serves the application (no --https-only), and it says http there.
    http = 'http://%s:%d%s' % (HOST, apache.http_port, prefix)
    assert whoami(http + '/whoami')['url'] == http + '/about'
    # TLS 1.2 and 1.3 only.
    assert run(['curl', '-sS', '--tls-max', '1.1', '--cacert', str(ca), '--resolve',
                '%s:%d:127.0.0.1' % (HOST, apache.https_port), base + '/'],
               check=False).returncode != 0
    apache.stop()
    assert 'Traceback' not in apache.error_log()


def test_tg2_https_only_hsts_and_secure_cookies(tlsapp, deploy_venv, apache_factory, pki):
    ca = pki[0]
    apache = https_apache(apache_factory, tlsapp / 'apache' / 'tlsapp.conf')
    deploy(deploy_venv, tlsapp, '--mount', '/sub',
           *https_args(pki, apache, '--https-only', '--hsts', '600'))
    ini = (tlsapp / 'apache' / 'tlsapp.ini').read_text()
    assert 'session.secure = true' in ini and 'sa_auth.authtkt.secure = true' in ini
    apache.start(None)
    https = 'https://%s:%d' % (HOST, apache.https_port)
    http = 'http://%s:%d' % (HOST, apache.http_port)
    # Same path and query, on HTTPS, mount kept.
    status, headers, _ = curl(http + '/sub/page?x=1&y=%C3%A9')
    assert status == 301 and headers['location'] == https + '/sub/page?x=1&y=%C3%A9'
    assert curl(http + '/')[1]['location'] == https + '/'
    # The ACME challenge path stays on HTTP (a 404 here: no file, no mod_md domain).
    assert curl(http + '/.well-known/acme-challenge/token123')[0] == 404
    status, headers, _ = curl(https + '/sub/whoami', ca=ca)
    assert status == 200 and headers['strict-transport-security'] == 'max-age=600'
    # Logging in over HTTPS sets the login cookie with the Secure attribute.
    status, headers, _ = curl(https + '/sub/login_handler', '--data',
                              'login=manager&password=managepass&came_from=/sub/', ca=ca)
    assert status == 302, headers
    cookies = [c for c in headers.get('set-cookie', '').splitlines() if c.startswith('authtkt=')
               and 'INVALID' not in c and not c.startswith('authtkt=;')]
    assert cookies and all(re.search(r';\s*secure', c, re.I) for c in cookies), headers
    apache.stop()


# -- CherryPy ---------------------------------------------------------------------------

@pytest.mark.parametrize('mount', ['/', '/shop/cp'])
def test_cherrypy_over_https(cherry_project, deploy_venv, apache_factory, pki, mount):
    ca = pki[0]
    apache = https_apache(apache_factory, cherry_project / 'apache' / 'cherryapp.conf')
    deploy(deploy_venv, cherry_project, '--mount', mount, *https_args(pki, apache,
                                                                       '--https-only'))
    assert 'tools.sessions.secure = True' in (cherry_project / 'apache' /
                                              'cherryapp.ini').read_text()
    apache.start(None)
    base = 'https://%s:%d%s' % (HOST, apache.https_port, prefix_of(mount))
    status, _, page = curl(base + '/', ca=ca)
    assert status == 200 and 'href="%s/about"' % base in page  # cherrypy.url()
    status, headers, _ = curl(base + '/go', ca=ca)
    assert status == 303 and headers['location'] == base + '/about'
    assert curl('http://%s:%d%s/about' % (HOST, apache.http_port, prefix_of(mount)))[1][
        'location'] == base + '/about'
    apache.stop()
    deploy(deploy_venv, cherry_project)  # back to the default for the other tests


# -- behind a reverse proxy -------------------------------------------------------------

PROXY_CONF = '''LoadModule proxy_module {modules}/mod_proxy.so
LoadModule proxy_http_module {modules}/mod_proxy_http.so
<VirtualHost *:{port}>
ServerName {host}
SSLEngine on
SSLCertificateFile {cert}
SSLCertificateKeyFile {key}
# What a TLS-terminating load balancer does: X-Forwarded-For comes from mod_proxy_http,
# the scheme is said here, the Host header is passed on as the client sent it.
ProxyPreserveHost On
RequestHeader set X-Forwarded-Proto https
ProxyPass / http://127.0.0.1:{backend}/
</VirtualHost>
'''


def test_trust_proxy_through_a_real_reverse_proxy(tlsapp, deploy_venv, apache_factory, pki,
                                                  www_tmp):
    ca, cert, key = pki
    backend = apache_factory([tlsapp / 'apache' / 'tlsapp.conf'])
    # The proxy connects from 127.0.0.1; clients come from other loopback addresses.
    deploy(deploy_venv, tlsapp, '--mount', '/sub', '--server-name', HOST, '--port',
           str(backend.port), '--trust-proxy', '127.0.0.1/32,::1')
    backend.start(None)
    front_port = free_port()
    front_conf = www_tmp / 'front.conf'
    write(front_conf, PROXY_CONF.format(modules='/usr/lib/apache2/modules', port=front_port,
                                        host=HOST, cert=cert, key=key, backend=backend.port))
    front = apache_factory([front_conf], https_port=front_port)
    front.start(None)
    front_url = 'https://%s:%d' % (HOST, front_port)

    seen = whoami(front_url + '/sub/whoami', ca=ca, interface='127.0.0.3')
    assert seen['remote_addr'] == '127.0.0.3', seen  # the client, not the proxy
    assert seen['scheme'] == 'https' and seen['host'] == '%s:%d' % (HOST, front_port), seen
    assert seen['url'] == front_url + '/sub/about', seen
    # A client's own X-Forwarded-For is passed on by the proxy, but only the address the
    # proxy saw is believed: the rightmost one not in the trusted list.
    seen = whoami(front_url + '/sub/whoami', '-H', 'X-Forwarded-For: 6.6.6.6', ca=ca,
                  interface='127.0.0.3')
    assert seen['remote_addr'] == '127.0.0.3', seen

    # Straight to the back end from an untrusted address, forged headers are dropped.
    seen = whoami('http://127.0.0.1:%d/sub/whoami' % backend.port,
                  '-H', 'X-Forwarded-For: 6.6.6.6', '-H', 'X-Forwarded-Proto: https',
                  '-H', 'X-Forwarded-Host: evil.example', interface='127.0.0.2')
    assert seen['remote_addr'] == '127.0.0.2' and seen['scheme'] == 'http', seen
    assert seen['host'] == '127.0.0.1:%d' % backend.port and seen['forwarded'] == [], seen
    assert seen['url'] == 'http://127.0.0.1:%d/sub/about' % backend.port
    front.stop()
    backend.stop()


def test_without_trust_proxy_the_proxy_is_the_client(tlsapp, deploy_venv, apache_factory):
    """The default: forwarded headers reach the application as plain headers, and mod_wsgi
    changes nothing (what --trust-proxy is for)."""
    backend = apache_factory([tlsapp / 'apache' / 'tlsapp.conf'])
    deploy(deploy_venv, tlsapp, '--mount', '/sub', '--server-name', HOST, '--port',
           str(backend.port))
    backend.start(None)
    seen = whoami('http://127.0.0.1:%d/sub/whoami' % backend.port,
                  '-H', 'X-Forwarded-Proto: https', interface='127.0.0.2')
    assert seen['remote_addr'] == '127.0.0.2' and seen['scheme'] == 'http', seen
    backend.stop()


# -- --check and --serve ----------------------------------------------------------------

def test_check_over_https(site, deploy_venv, apache_tree, pki):
    _, cert, key = pki
    proc = paster(deploy_venv, 'tgdeploy', '--check', '--overwrite', '--mount', '/cp',
                  '--apache-root', apache_tree, '--server-name', HOST, '--https', 'own',
                  '--ssl-certificate', str(cert), '--ssl-key', str(key), '--https-only',
                  '--error-email', 'ops@example.org', cwd=site, check=False)
    out = proc.stdout
    assert 'Syntax OK' in out, out
    assert re.search(r'check: GET /cp/ -> 200', out), out
    assert re.search(r'check: GET /cp/static/style.css -> 200', out), out
    assert 'check: GET http://%s/cp -> 301 https://%s/cp' % (HOST, HOST) in out, out
    assert proc.returncode == 0 and 'tgdeploy: 0 error(s), 0 warning(s)' in out, out
    deploy(deploy_venv, site)


def test_check_with_acme_never_asks_the_authority(site, deploy_venv, apache_tree):
    """--check of an --https acme deployment serves HTTPS with a stand-in certificate: the
    private Apache's mod_md must not register an account or start validations with the CA
    the real config names (here a listener that counts who knocks)."""
    import socket
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(5)
    listener.settimeout(0)
    ca = 'https://127.0.0.1:%d/dir' % listener.getsockname()[1]
    try:
        proc = paster(deploy_venv, 'tgdeploy', '--check', '--overwrite', '--mount', '/cp',
                      '--apache-root', apache_tree, '--server-name', HOST, '--https', 'acme',
                      '--acme-email', 'ops@example.org', '--acme-ca', ca, '--https-only',
                      '--error-email', 'ops@example.org', cwd=site, check=False)
        out = proc.stdout
        assert 'self-signed stand-in for the certificate mod_md will obtain' in out, out
        assert re.search(r'check: GET /cp/ -> 200', out), out
        assert 'check: GET http://%s/cp -> 301 https://%s/cp' % (HOST, HOST) in out, out
        assert proc.returncode == 0, out + proc.stderr
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    assert 'MDCertificateAuthority %s' % ca in (site / 'apache' / 'cherryapp.conf').read_text()
    deploy(deploy_venv, site)


def test_serve_over_https(site, deploy_venv, apache_tree, pki):
    _, cert, key = pki
    proc = subprocess.Popen([deploy_venv.bin('paster'), 'tgdeploy', '--serve', '--overwrite',
                             '--apache-root', str(apache_tree),
                             '--mount', '/cp', '--server-name', HOST, '--https', 'own',
                             '--ssl-certificate', str(cert), '--ssl-key', str(key)],
                            cwd=str(site), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            match = re.match(r'Over HTTPS: https://127\.0\.0\.1:(\d+)/cp', line)
            if match:
                break
        assert match, ''.join(lines)
        url = 'https://%s:%s/cp/about' % (HOST, match.group(1))
        assert curl(url, ca=pki[0])[2] == 'about cherryapp'
    finally:
        proc.terminate()
        assert proc.wait(60) == 0
    deploy(deploy_venv, site)


# -- configs Apache accepts, values it would not ----------------------------------------

COMBINATIONS = [
    {'https': 'own'},
    {'https': 'own', 'https_only': 'yes'},
    {'https': 'own', 'https_only': 'yes', 'hsts': '31536000', 'mount': '/shop'},
    {'https': 'own', 'ssl_chain': 'CA', 'https_port': '8443', 'mode': 'embedded'},
    {'https': 'own', 'trust_proxy': '10.0.0.0/8,192.168.1.7,fd00::/16', 'preload': 'no'},
    {'https': 'own', 'https_only': 'yes', 'trust_proxy': '127.0.0.1,::1,10.1.0.0/16'},
    {'https': 'own', 'https_only': 'yes', 'trust_proxy': '10.0.0.0/8', 'mode': 'embedded'},
    {'https': 'acme', 'acme_email': 'ops@example.org'},
    {'https': 'acme', 'acme_email': 'ops@example.org', 'https_only': 'yes', 'hsts': '300',
     'acme_ca': 'https://acme-staging-v02.api.letsencrypt.org/directory'},
    {'trust_proxy': '127.0.0.1'},
    {'trust_proxy': '10.1.2.0/24', 'mode': 'embedded', 'mount': '/a/b'},
]


@pytest.fixture(scope='module')
def offline_shop(www_root, pki):
    base = Path(tempfile.mkdtemp(dir=str(www_root)))
    base.chmod(0o755)
    make_tg2(base / 'shop')
    make_cherrypy(base / 'cherryapp')
    make_venv_marker(base / 'venv')
    return base


@pytest.mark.parametrize('given', COMBINATIONS, ids=lambda g: ','.join(
    '%s=%s' % item for item in sorted(g.items())))
def test_apache_accepts_the_combinations(offline_shop, pki, given, tmp_path):
    ca, cert, key = pki
    https = 'https' in given
    values = dict(given, python_home=str(offline_shop / 'venv'))
    if given.get('https') == 'own':
        values.update(ssl_certificate=str(cert), ssl_key=str(key))
    if given.get('ssl_chain'):
        values['ssl_chain'] = str(ca)
    if https or 'mount' in given:
        values['server_name'] = HOST
    settled = options.settle(detect(str(offline_shop / 'shop')), values)
    out = tmp_path / 'out'
    render.render(settled, str(out))
    root = Path(tempfile.mkdtemp(dir=str(offline_shop)))
    root.chmod(0o755)
    apache = Apache(str(root), [str(out / 'shop.conf')], https_port=free_port() if https
                    else None)
    result = apache.configtest()
    assert result.returncode == 0, result.stdout
    text = (out / 'shop.conf').read_text()
    aliases = [line for line in text.splitlines() if line.startswith('WSGIScriptAlias ')]
    # With --https-only the HTTP host only redirects, unless a trusted proxy may forward
    # HTTPS requests to it.
    only = given.get('https_only') and not given.get('trust_proxy')
    assert len(aliases) == (1 if only or not https else 2)
    assert ('Strict-Transport-Security' in text) == ('hsts' in given)


def shop_args(pki, *args):
    _, cert, key = pki
    return ['--server-name', HOST, '--https', 'own', '--ssl-certificate', str(cert),
            '--ssl-key', str(key)] + list(args)


def bad_cases(pki, folder):
    """(arguments, what the one line must say)."""
    ca, cert, key = pki
    other_cert, other_key = make_server_cert(folder, stem='other')
    write(folder / 'encrypted.key', '')
    openssl('genpkey', '-algorithm', 'RSA', '-aes256', '-pass', 'pass:x', '-out',
            'encrypted.key', cwd=folder)
    write(folder / 'not-a-cert.pem', 'hello\n')
    return [
        (['--server-name', HOST, '--https', 'own', '--ssl-certificate', str(folder / 'nope.pem'),
          '--ssl-key', str(key)], 'nope.pem: no such file'),
        (shop_args(pki)[:-1] + [str(other_key)], 'does not belong to --ssl-certificate'),
        (['--server-name', HOST, '--https', 'own', '--ssl-certificate', str(other_cert),
          '--ssl-key', str(folder / 'encrypted.key')], 'is encrypted'),
        (['--server-name', HOST, '--https', 'own', '--ssl-certificate',
          str(folder / 'not-a-cert.pem'), '--ssl-key', str(key)], 'is not a PEM certificate'),
        (['--server-name', HOST, '--https', 'own', '--ssl-key', str(key)],
         '--https own needs --ssl-certificate'),
        (['--https', 'own', '--ssl-certificate', str(cert), '--ssl-key', str(key)],
         '--https needs --server-name'),
        (['--hsts', '600'], '--hsts applies to HTTPS only'),
        (['--https-only'], '--https-only applies to HTTPS only'),
        (shop_args(pki, '--hsts', 'forever'), "--hsts 'forever' must be a whole number"),
        (['--trust-proxy', '10.0.0.0/33'], "--trust-proxy '10.0.0.0/33' is not an address"),
        (['--trust-proxy', '10.0.0.1,evil host'], "--trust-proxy 'evil host' is not"),
        (['--trust-proxy', '0.0.0.0/0'], 'trusts every address'),
        (['--server-name', HOST, '--https', 'acme'], '--https acme needs --acme-email'),
        (['--server-name', HOST, '--https', 'acme', '--acme-email', 'ops@example.org',
          '--acme-ca', 'https://ca.example/"x'], 'is not a URL'),
        (shop_args(pki, '--acme-email', 'ops@example.org'),
         '--acme-email does not apply to --https own'),
        (shop_args(pki, '--https-port', '80'), 'is also the HTTP --port'),
        (['--server-name', HOST, '--https', 'yes'], "--https 'yes' is not one of no, own, acme"),
        (shop_args(pki, '--apache', '2.2'), '--https writes for Apache 2.4'),
    ]


def test_bad_values_are_one_line_and_write_nothing(pki, tmp_path):
    folder = tmp_path / 'pki'
    folder.mkdir()
    for name in ('ca.pem', 'ca.key'):
        (folder / name).write_bytes((pki[0].parent / name).read_bytes())
    make_venv_marker(tmp_path / 'venv')
    project = make_tg2(tmp_path / 'shop')
    for args, message in bad_cases(pki, folder):
        proc = run([LAB_PY3.bin('paster'), 'tgdeploy', '--python-home', str(tmp_path / 'venv')]
                   + args, cwd=project, check=False)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, (args, proc.stdout, proc.stderr)
        assert lines[0].startswith('tgdeploy: error: ') and message in lines[0], (args, lines)
        assert not (project / 'apache').exists(), args


def test_doctor_checks_the_key(pki, tmp_path, www_tmp, tree):
    """The doctor: a key the daemon user can read is a warning (Apache reads it as root);
    a certificate for another name is an error."""
    folder = www_tmp / 'pki'  # every folder above it open to www-data
    folder.mkdir()
    folder.chmod(0o755)
    for name in ('ca.pem', 'ca.key'):
        (folder / name).write_bytes((pki[0].parent / name).read_bytes())
    cert, key = make_server_cert(folder, stem='open')
    make_venv_marker(tmp_path / 'venv')
    project = make_tg2(tmp_path / 'shop')

    def doctor(name=HOST):
        proc = run([LAB_PY3.bin('paster'), 'tgdeploy', '--doctor', '--apache-root', str(tree),
                    '--python-home', str(tmp_path / 'venv'), '--server-name', name,
                    '--https', 'own', '--ssl-certificate', str(cert), '--ssl-key', str(key),
                    '--error-email', 'ops@example.org'], cwd=project, check=False)
        return proc.stdout

    assert 'can read the private key' not in doctor()
    key.chmod(0o644)
    assert 'warning: www-data can read the private key %s' % key in doctor()
    key.chmod(0o600)
    assert 'error: the certificate %s is not for shop.example.org' % cert in \
        doctor('shop.example.org')
