"""Proxies and forwarding headers (issue 21, items 5, 6, 9, 12), against real parts: a real
CherryPy application (tests/fixtures/echoapp: it echoes what it sees and redirects) deployed
by `paster tgdeploy` and served by a private Apache with Debian's mod_wsgi 4.9.4 on
127.0.0.2; in front, what tg_balancer writes (HAProxy, Apache mod_proxy_balancer) or a
TLS-terminating Apache, on 127.0.0.1 (the address the back end trusts); clients come from
127.0.0.5, an address nobody trusts. Every server is started and stopped here.

Measured first, on mod_wsgi itself (a hello-world script): which forwarding headers it
drops from untrusted clients by itself, and that WSGITrustedProxyHeaders without
WSGITrustedProxies trusts every client.
"""
import contextlib
import json
import os
import shutil
import tempfile
from http.client import HTTPConnection, HTTPSConnection
from pathlib import Path

import pytest

from conftest import FIXTURES, LAB_PY3, paster
from support.balancing import HAProxy, load_modules, render, wait_for
from support.httpd import Apache, free_port
from support.projects import make_tg2, make_venv_marker, write
from support.venv import run
from tgdeploy.settle import proxies

BACKEND = '127.0.0.2'
FRONT = '127.0.0.1'   # what the back ends trust
CLIENT = '127.0.0.5'  # nobody trusts it
HEALTH = '/static/style.css'  # served by the back end's Apache
EVIL = 'evil.example'

# What a client forges: each forwarding header a framework or mod_wsgi may believe.
FORGED = {
    'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': EVIL,
    'Forwarded': 'for=6.6.6.6;proto=https;host=%s' % EVIL, 'X-Forwarded-Server': EVIL,
    'X-Url-Scheme': 'https', 'Front-End-Https': 'on', 'X-Forwarded-Port': '443',
    'X-Real-IP': '6.6.6.6', 'X-Client-IP': '6.6.6.6', 'X-Host': EVIL,
    'X-Forwarded-Prefix': '/evil', 'X-Script-Name': '/evil', 'X-Forwarded-Ssl': 'on',
    'X-Forwarded-Scheme': 'https', 'X-Scheme': 'https', 'X-Https': 'on',
}


def environ_name(header):
    return 'HTTP_' + header.upper().replace('-', '_')


def ask(address, port, path, headers=None, source=CLIENT, tls=False):
    """(status, headers dict with lower-case names, body) of one GET from ``source``."""
    if tls:
        import ssl
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        connection = HTTPSConnection(address, port, timeout=20, source_address=(source, 0),
                                     context=context)
    else:
        connection = HTTPConnection(address, port, timeout=20, source_address=(source, 0))
    try:
        connection.request('GET', path, headers=dict(headers or {}))
        response = connection.getresponse()
        body = response.read().decode('utf-8', 'replace')
        return response.status, dict((k.lower(), v) for k, v in response.getheaders()), body
    finally:
        connection.close()


def echo(address, port, headers=None, source=CLIENT, tls=False, path='/echo'):
    status, _, body = ask(address, port, path, headers, source, tls)
    assert status == 200, (status, body[:300])
    return json.loads(body)


def forwarded_seen(seen):
    """The forwarding headers that reached the application."""
    names = set(environ_name(h) for h in proxies.FORWARDING_HEADERS)
    return sorted(set(seen['headers']) & names)


# -- mod_wsgi 4.9.4, as it is ------------------------------------------------------------

HELLO = '''import json
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [json.dumps(dict((k, v) for k, v in environ.items() if k.startswith('HTTP_')
                            or k == 'REMOTE_ADDR')).encode()]
'''


def raw_backend(folder, apache_factory, trusted=''):
    """HELLO under Apache with mod_wsgi at /echo, with only the WSGITrusted* lines given:
    what mod_wsgi itself passes on. /static/style.css for the fronts' health checks."""
    script = write(folder / 'hello.wsgi', HELLO)
    style = write(folder / 'static' / 'style.css', 'body {}')
    conf = write(folder / 'hello.conf', 'WSGIDaemonProcess hello threads=2\n'
                 'WSGIScriptAlias /echo %s process-group=hello application-group=%%{GLOBAL}\n'
                 'Alias /static/style.css %s\n'
                 '<Directory %s>\n    Require all granted\n%s</Directory>\n'
                 '<Directory %s>\n    Require all granted\n</Directory>\n'
                 % (script, style, folder, trusted, style.parent))
    apache = apache_factory([conf], address=BACKEND)
    apache.start(None)
    return apache


@pytest.mark.parametrize('trusted', ['', 'WSGITrustedProxies 127.0.0.1\n'])
def test_what_mod_wsgi_drops_by_itself(www_tmp, apache_factory, trusted):
    """With WSGITrustedProxyHeaders X-Forwarded-For X-Forwarded-Proto, an untrusted client's
    headers of those two kinds are dropped by mod_wsgi, and nothing else: the reason the
    generated config unsets the rest. Without WSGITrustedProxies, every client is trusted."""
    apache = raw_backend(www_tmp, apache_factory, trusted +
                         'WSGITrustedProxyHeaders X-Forwarded-For X-Forwarded-Proto\n')
    status, _, body = ask(BACKEND, apache.port, '/echo', FORGED)
    seen = set(json.loads(body)) & set(environ_name(h) for h in FORGED)
    if trusted:
        dropped = set(environ_name(h) for h in ['X-Forwarded-For', 'X-Forwarded-Proto'] +
                      [h for kind in proxies.KINDS.values() for h in kind])
        assert seen == set(environ_name(h) for h in FORGED) - dropped, seen
        assert set(proxies.untrusted_headers(proxies.TRUSTED_HEADERS)) >= \
            set(h for h in FORGED if environ_name(h) in seen)
    else:
        assert environ_name('X-Forwarded-For') in seen  # believed from anyone


# -- the back end tgdeploy writes --------------------------------------------------------

@pytest.fixture(scope='module')
def echo_project(www_root, deploy_venv):
    """tests/fixtures/echoapp, installed in the deploy virtualenv like a user's project."""
    parent = Path(tempfile.mkdtemp(dir=str(www_root)))
    parent.chmod(0o755)
    project = parent / 'echoapp'
    shutil.copytree(str(FIXTURES / 'echoapp'), str(project))
    deploy_venv.pip_install('-e', str(project))
    return project


def deploy(venv, project, *args):
    return paster(venv, 'tgdeploy', '-q', '--overwrite', *args, cwd=project)


@pytest.fixture
def backend(echo_project, deploy_venv, apache_factory):
    """A function: deploy with these options, start the back end on BACKEND, return it."""
    def start(*args, **kwargs):  # noqa: E306
        apache = apache_factory([echo_project / 'apache' / 'echoapp.conf'], address=BACKEND,
                                **kwargs)
        port = ['--port', str(apache.port)] if '--server-name' in args else []
        deploy(deploy_venv, echo_project, *(port + list(args)))
        apache.start(None)
        return apache
    return start


def test_untrusted_forwarding_headers_never_reach_the_application(backend):
    apache = backend()
    seen = echo(BACKEND, apache.port, FORGED)
    assert forwarded_seen(seen) == [] and seen['remote_addr'] == CLIENT, seen
    assert seen['scheme'] == 'http' and seen['host'] == '%s:%d' % (BACKEND, apache.port)
    status, headers, _ = ask(BACKEND, apache.port, '/jump', FORGED)
    assert status in (302, 303) and headers['location'] == \
        'http://%s:%d/echo' % (BACKEND, apache.port), headers


def test_a_trusted_proxy_is_believed_for_address_and_scheme_never_for_the_host(backend):
    apache = backend('--trust-proxy', FRONT)
    # From the trusted address: the client's address and scheme, not the host it names.
    seen = echo(BACKEND, apache.port, FORGED, source=FRONT)
    assert seen['remote_addr'] == '6.6.6.6' and seen['scheme'] == 'https', seen
    assert seen['host'] == '%s:%d' % (BACKEND, apache.port), seen
    assert forwarded_seen(seen) == ['HTTP_X_FORWARDED_FOR', 'HTTP_X_FORWARDED_PROTO'], seen
    status, headers, _ = ask(BACKEND, apache.port, '/jump', FORGED, source=FRONT)
    assert headers['location'] == 'https://%s:%d/echo' % (BACKEND, apache.port), headers
    # From anyone else: nothing.
    seen = echo(BACKEND, apache.port, FORGED)
    assert forwarded_seen(seen) == [] and seen['remote_addr'] == CLIENT, seen
    assert seen['scheme'] == 'http', seen


# -- through the fronts tg_balancer writes ----------------------------------------------

@contextlib.contextmanager
def running_front(engine, backend_url, folder):
    """The front tg_balancer writes for ``engine`` over one back end, on FRONT."""
    folder = Path(folder)
    values = render(engine, [backend_url], folder / 'front', health=HEALTH,
                    **({'admin_socket': str(folder / 'admin.sock')} if engine == 'haproxy'
                       else {}))
    port = int(values['listen'].split(':')[1])
    if engine == 'apache':
        server = Apache(str(folder), [str(folder / 'front' / 'front.conf')], port=port,
                        extra=load_modules(), log_level='warn')
        server.start(None)
    else:
        server = HAProxy(str(folder / 'front' / 'front.cfg'), values['admin_socket'])
    try:
        wait_for(lambda: answers(port), 20)
        yield port
    finally:
        server.stop()


def answers(port):
    try:
        return ask(FRONT, port, '/echo')[0] == 200
    except OSError:
        return False


@pytest.mark.parametrize('engine', ['haproxy', 'apache'])
def test_a_client_behind_the_front_cannot_choose_host_address_or_scheme(engine, backend,
                                                                         www_tmp):
    apache = backend('--trust-proxy', FRONT)
    with running_front(engine, apache.url, www_tmp) as port:
        front = '%s:%d' % (FRONT, port)
        seen = echo(FRONT, port, FORGED)
        assert seen['remote_addr'] == CLIENT and seen['scheme'] == 'http', seen
        assert seen['host'] == front and seen['url'] == 'http://%s/echo' % front, seen
        assert forwarded_seen(seen) == ['HTTP_X_FORWARDED_FOR', 'HTTP_X_FORWARDED_PROTO'], seen
        status, headers, _ = ask(FRONT, port, '/jump', FORGED)
        assert status in (302, 303) and headers['location'] == 'http://%s/echo' % front, \
            headers
        assert EVIL not in json.dumps(headers)


@pytest.mark.parametrize('engine', ['haproxy', 'apache'])
def test_the_front_drops_what_the_client_forged(engine, apache_factory, www_tmp):
    """The front alone, over a back end that removes nothing (one written by hand, or by
    an older tgdeploy): what the client forged never arrives there; what the front says
    does."""
    folder = www_tmp / 'raw'
    folder.mkdir(mode=0o755)
    apache = raw_backend(folder, apache_factory)
    with running_front(engine, apache.url, www_tmp) as port:
        status, _, body = ask(FRONT, port, '/echo', FORGED)
    assert status == 200, body
    seen = json.loads(body)
    assert EVIL not in body and '6.6.6.6' not in body and '/evil' not in body, seen
    assert seen['HTTP_X_FORWARDED_FOR'] == CLIENT and seen['HTTP_X_FORWARDED_PROTO'] == 'http'
    assert seen['HTTP_HOST'] == '%s:%d' % (FRONT, port), seen
    assert not set(seen) & set(environ_name(h) for h in (
        'Forwarded', 'X-Url-Scheme', 'Front-End-Https', 'X-Forwarded-Port', 'X-Real-IP',
        'X-Client-IP', 'X-Forwarded-Ssl', 'X-Script-Name', 'X-Scheme', 'X-Https')), seen


# -- --https-only behind a TLS-terminating proxy ----------------------------------------

TLS_FRONT = '''LoadModule proxy_module {modules}/mod_proxy.so
LoadModule proxy_http_module {modules}/mod_proxy_http.so
<VirtualHost *:{port}>
ServerName localhost
SSLEngine on
SSLCertificateFile {cert}
SSLCertificateKeyFile {key}
ProxyPreserveHost On
RequestHeader set X-Forwarded-Proto https
ProxyPass / http://{backend}/
</VirtualHost>
'''


@pytest.fixture(scope='module')
def pki(www_root):
    from test_https import make_ca, make_server_cert
    folder = Path(tempfile.mkdtemp(dir=str(www_root)))
    folder.chmod(0o700)
    make_ca(folder)
    return make_server_cert(folder)


def test_https_only_serves_what_a_trusted_tls_proxy_forwards(backend, apache_factory, pki,
                                                             www_tmp):
    cert, key = pki
    https_port = free_port()
    apache = backend('--server-name', 'localhost', '--https', 'own', '--ssl-certificate',
                     str(cert), '--ssl-key', str(key), '--https-port', str(https_port),
                     '--https-only', '--trust-proxy', FRONT, https_port=https_port)
    front_port = free_port()
    conf = write(www_tmp / 'tls-front.conf', TLS_FRONT.format(
        modules='/usr/lib/apache2/modules', port=front_port, cert=cert, key=key,
        backend='%s:%d' % (BACKEND, apache.port)))
    front = apache_factory([conf], https_port=front_port)
    front.start(None)
    host = {'Host': 'localhost:%d' % front_port}
    # Through the proxy: served (not 301 round and round), the application sees https.
    status, _, body = ask(FRONT, front_port, '/echo', host, tls=True)
    assert status == 200, (status, body[:300])
    seen = json.loads(body)
    assert seen['scheme'] == 'https' and seen['remote_addr'] == CLIENT, seen
    status, headers, _ = ask(FRONT, front_port, '/jump', host, tls=True)
    assert headers['location'] == 'https://localhost:%d/echo' % front_port, headers
    # Straight to the HTTP port, the scheme claimed by anyone else still gets the redirect.
    for source, claim in ((CLIENT, {'X-Forwarded-Proto': 'https'}), (FRONT, {})):
        status, headers, _ = ask(BACKEND, apache.port, '/echo?x=1', dict(claim, Host='localhost'),
                                 source=source)
        assert status == 301 and headers['location'] == 'https://localhost:%d/echo?x=1' \
            % https_port, (source, status, headers)
    # And the HTTPS host serves as before.
    assert echo(BACKEND, https_port, {'Host': 'localhost'}, tls=True)['scheme'] == 'https'


# -- networks too wide to trust ---------------------------------------------------------

@pytest.mark.parametrize('networks, message', [
    ('0.0.0.0/1,128.0.0.0/1', 'wider than /8 (IPv4)'),
    ('::/1,8000::/1', 'wider than /16 (IPv6)'),
    ('10.0.0.0/7', 'wider than /8 (IPv4)'),
    ('fd00::/8', 'wider than /16 (IPv6)'),
    ('::ffff:0.0.0.0/96', 'trusts every address'),
    ('::ffff:0:0/97', 'wider than /8 (IPv4)'),
    ('0.0.0.0/0', 'trusts every address'),
    ('::/0', 'trusts every address'),
    (','.join('%d.0.0.0/8' % n for n in range(256)), 'together trust every IPv4 address'),
])
def test_networks_too_wide_are_refused_in_one_line(networks, message, tmp_path):
    make_venv_marker(tmp_path / 'venv')
    project = make_tg2(tmp_path / 'shop')
    proc = run([LAB_PY3.bin('tgdeploy'), '--python-home', str(tmp_path / 'venv'),
                '--trust-proxy', networks], cwd=project, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
    assert '--trust-wide-networks yes' in lines[0] or 'every' in lines[0]
    assert not (project / 'apache').exists()


def test_wide_networks_with_consent(tmp_path):
    assert proxies.check_proxies('10.0.0.0/7,fd00::/8', wide=True) == ['10.0.0.0/7', 'fd00::/8']
    for networks in ('0.0.0.0/1,128.0.0.0/1', '::/1,8000::/1', '0.0.0.0/0'):
        with pytest.raises(Exception, match='every'):
            proxies.check_proxies(networks, wide=True)
    make_venv_marker(tmp_path / 'venv')
    project = make_tg2(tmp_path / 'shop')
    run([LAB_PY3.bin('tgdeploy'), '-q', '--python-home', str(tmp_path / 'venv'),
         '--trust-proxy', '10.0.0.0/7', '--trust-wide-networks', 'yes'], cwd=project)
    assert 'WSGITrustedProxies 10.0.0.0/7\n' in (project / 'apache' / 'shop.conf').read_text()


def test_the_narrowest_networks_still_pass():
    assert proxies.check_proxies('10.0.0.0/8,2001:db8::/16,127.0.0.1,::1') == [
        '10.0.0.0/8', '2001:db8::/16', '127.0.0.1', '::1']
    assert proxies.covers_all([(0, 1), (1 << 31, 1)], 32)
    assert not proxies.covers_all([(0, 1), (1 << 31, 2)], 32)


# -- the doctor ---------------------------------------------------------------------------

def test_the_doctor_reads_the_trusted_proxy_lines_of_every_config(tmp_path, tree):
    from tgdeploy.settle import options
    from tgdeploy.doctor import registry
    from tgdeploy.detect.arbiter import detect
    from support.httpd import DEBIAN_WSGI
    make_venv_marker(tmp_path / 'venv')
    values = options.settle(detect(str(make_tg2(tmp_path / 'shop'))),
                            {'python_home': str(tmp_path / 'venv'), 'trust_proxy': '10.0.0.7'})

    def texts():
        return [str(f) for f in registry.examine(values, str(tree), DEBIAN_WSGI)
                if 'WSGITrustedProxyHeaders in' in f.text]
    assert texts() == []
    everyone = write(tree / 'conf-enabled' / 'everyone.conf',
                     'WSGITrustedProxyHeaders X-Forwarded-For\n')
    older = write(tree / 'sites-enabled' / 'older.conf', 'WSGITrustedProxies 10.0.0.7\n'
                  'WSGITrustedProxyHeaders X-Forwarded-For X-Forwarded-Proto X-Forwarded-Host\n')
    assert texts() == [
        'warning: WSGITrustedProxyHeaders in %s, and no WSGITrustedProxies there: where none '
        'applies, mod_wsgi believes these headers from every client (any client sets its '
        'address and scheme); add WSGITrustedProxies with the proxies\' addresses beside it'
        % everyone,
        'warning: WSGITrustedProxyHeaders in %s trusts x-forwarded-host: a proxy that passes '
        'on what the client sent lets any client choose the host or path of every link and '
        'redirect; have the proxy pass the Host header on (ProxyPreserveHost On) and drop '
        'x-forwarded-host' % older]


def test_without_mod_headers_behind_a_proxy_the_doctor_warns(tmp_path, tree):
    from tgdeploy.settle import options
    from tgdeploy.doctor.apache_config import included_files
    from tgdeploy.doctor.tree_checks import module_findings
    from tgdeploy.detect.arbiter import detect
    make_venv_marker(tmp_path / 'venv')
    project = make_tg2(tmp_path / 'shop')
    write(tree / 'mods-enabled' / 'wsgi.load', 'LoadModule wsgi_module x\n')
    for name in ('alias', 'rewrite'):
        write(tree / 'mods-enabled' / ('%s.load' % name), 'LoadModule %s_module x\n' % name)
    values = options.settle(detect(str(project)), {'python_home': str(tmp_path / 'venv'),
                                                   'trust_proxy': '10.0.0.7'})
    found = [str(f) for f in module_findings(values, included_files(str(tree)))]
    assert found == ['warning: Apache does not load mod_headers: the forwarding headers the '
                     'proxies are not trusted for (X-Forwarded-Host, Forwarded...) reach the '
                     'application; a2enmod headers'], found


def test_check_with_https_only_behind_a_proxy(echo_project, deploy_venv, pki, www_tmp):
    """--check of the HTTP host that serves the proxy and redirects everyone else: Apache
    takes the config, the pages answer over HTTPS, plain HTTP still redirects."""
    from support.projects import make_apache_tree
    from support.httpd import DEBIAN_WSGI
    cert, key = pki
    tree = make_apache_tree(www_tmp / 'etc-apache2', DEBIAN_WSGI)
    proc = paster(deploy_venv, 'tgdeploy', '--check', '--overwrite', '--apache-root', tree,
                  '--server-name', 'localhost', '--https', 'own', '--ssl-certificate',
                  str(cert), '--ssl-key', str(key), '--https-only', '--trust-proxy',
                  '127.0.0.1', cwd=echo_project, check=False)
    out = proc.stdout
    assert 'Syntax OK' in out and 'check: GET http://localhost/ -> 301 https://localhost/' in out, \
        out + proc.stderr
    assert 'error:' not in out, out
    deploy(deploy_venv, echo_project)
