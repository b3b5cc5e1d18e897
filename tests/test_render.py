"""The rendered files, byte for byte against tests/golden/ (UPDATE_GOLDEN=1 rewrites them,
so a template change shows up as a readable diff in review)."""
import difflib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support.projects import make_cherrypy, make_tg1, make_tg2, make_venv_marker
from tgdeploy.settle import options
from tgdeploy.write import render
from tgdeploy.detect.arbiter import detect

GOLDEN = Path(__file__).parent / 'golden'
# Fixed paths, so the golden files are the same on every machine.
BASE = Path('/tmp/tgdeploy-golden')

# Secrets are random unless an operator's file gives them: the goldens take them from one.
SECRETS = BASE / 'secrets.ini'

CASES = {
    'tg2-daemon-root': ('shop', {'secrets_from': str(SECRETS), 'error_email': 'ops@example.org',
                                 'smtp_server': 'mail.example.org:587'}),
    'tg2-embedded-vhost-apache22': ('shop', {
        'mode': 'embedded', 'mount': '/store', 'server_name': 'shop.example.com',
        'port': '8080', 'apache': '2.2', 'secrets_from': str(SECRETS)}),
    'tg1-daemon-sub': ('mysite', {'mount': '/mysite', 'legacy_stdout': 'yes'}),
    'cherrypy-daemon-sub': ('cherryapp', {
        'mount': '/cp', 'processes': '3', 'threads': '8', 'user': 'nobody',
        'group': 'nogroup', 'locale': 'en_US.UTF-8', 'preload': 'no',
        'error_email': 'ops@example.org'}),
    # HTTPS: an own certificate with a chain, --https-only, HSTS, proxies trusted...
    'tg2-https-own-sub': ('shop', {
        'mount': '/sub', 'server_name': 'shop.example.com', 'https': 'own',
        'ssl_certificate': str(BASE / 'pki' / 'server.pem'),
        'ssl_key': str(BASE / 'pki' / 'server.key'), 'ssl_chain': str(BASE / 'pki' / 'ca.pem'),
        'https_only': 'yes', 'hsts': '31536000', 'trust_proxy': '10.0.0.0/8,fd00::1',
        'secrets_from': str(SECRETS)}),
    # ...a certificate from mod_md, HTTP kept, on other ports...
    'cherrypy-https-acme': ('cherryapp', {
        'mount': '/cp', 'server_name': 'shop.example.com', 'port': '8080',
        'https': 'acme', 'https_port': '8443', 'acme_email': 'ops@example.org',
        'acme_ca': 'https://acme-staging-v02.api.letsencrypt.org/directory'}),
    # ...and TurboGears 1.x with Secure cookies in its .cfg.
    'tg1-https-only': ('mysite', {
        'mount': '/mysite', 'server_name': 'shop.example.com', 'https': 'acme',
        'acme_email': 'ops@example.org', 'https_only': 'yes', 'tg_version': '1.0'}),
}


@pytest.fixture(scope='module')
def projects():
    shutil.rmtree(str(BASE), ignore_errors=True)
    make_tg2(BASE / 'shop')
    make_cherrypy(BASE / 'cherryapp')
    make_tg1(BASE / 'mysite')
    make_venv_marker(BASE / 'venv')
    make_pki(BASE / 'pki')
    SECRETS.write_text('[secrets]\nsession.secret = golden-session-secret-0123456789\n'
                       'session.validate_key = golden-validate-key-0123456789\n')
    yield BASE
    shutil.rmtree(str(BASE), ignore_errors=True)


def make_pki(folder):
    """A CA and a certificate signed by it, at fixed paths (their bytes are not in the
    goldens, only their paths)."""
    folder.mkdir(parents=True)
    for args in (
            ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out',
             'ca.pem', '-days', '2', '-subj', '/CN=golden CA'],
            ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out',
             'server.csr', '-subj', '/CN=shop.example.com'],
            ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
             '-CAcreateserial', '-out', 'server.pem', '-days', '2']):
        subprocess.run(['openssl'] + args, cwd=str(folder), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rendered(project_name, given, staging):
    values = options.settle(detect(str(BASE / project_name)),
                            dict(given, python_home=str(BASE / 'venv')))
    return Path(render.render(values, str(staging)))


@pytest.mark.parametrize('case', sorted(CASES))
def test_files_match_golden(projects, case, tmp_path, monkeypatch):
    monkeypatch.setattr(options, 'default_processes', lambda: 2)  # the same on every machine
    output = rendered(*CASES[case], staging=tmp_path)
    expected_dir = GOLDEN / case
    if os.environ.get('UPDATE_GOLDEN'):
        shutil.rmtree(str(expected_dir), ignore_errors=True)
        shutil.copytree(str(output), str(expected_dir))
    names = sorted(str(p.relative_to(output)) for p in output.rglob('*') if p.is_file())
    expected = sorted(str(p.relative_to(expected_dir)) for p in expected_dir.rglob('*')
                      if p.is_file())
    assert names == expected
    for name in names:
        got, want = (output / name).read_text(), (expected_dir / name).read_text()
        diff = '\n'.join(difflib.unified_diff(want.splitlines(), got.splitlines(),
                                              'golden/' + name, 'rendered/' + name, lineterm=''))
        assert got == want, diff


@pytest.mark.parametrize('case', sorted(CASES))
def test_wsgi_script_is_valid_python(projects, case, tmp_path):
    output = rendered(*CASES[case], staging=tmp_path)
    for script in output.glob('*.wsgi'):
        compile(script.read_text(), str(script), 'exec')


def test_no_blank_line_left_by_template_logic(projects, tmp_path):
    """Template directives leave no stray blank lines inside Apache blocks."""
    for case in CASES.values():
        output = rendered(*case, staging=tmp_path / case[0] / str(len(case[1])))
        lines = next(output.glob('*.conf')).read_text().splitlines()
        for blank, following in zip(lines, lines[1:]):
            if not blank:
                assert following and not following[0].isspace(), lines
                assert not following.startswith('</'), lines


def test_only_the_template_tree_is_rendered(projects, tmp_path):
    output = rendered('shop', {}, staging=tmp_path)
    assert sorted(os.listdir(str(output))) == ['README.txt', 'htdocs', 'shop.conf', 'shop.ini',
                                               'shop.logrotate', 'shop.tmpfiles', 'shop.wsgi',
                                               'wsgi-server.conf']
    assert os.listdir(str(output / 'htdocs')) == []
