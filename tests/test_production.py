"""Production settings on a real `gearbox quickstart` under Apache at /sub: secrets of its own
(logging in works, a cookie made with the repository's secret does not), kept by a re-run,
replaced by --rotate-secrets; error reports by mail to a real SMTP sink; bad values."""
import email
import http.cookiejar
import os
import re
import stat
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import paster
from support.sites import quickstart_tg2, setup_tg2_data
from support.smtp_sink import SmtpSink
from tgdeploy.settle import production

# A page that fails, added to the quickstart: error reports need a 500.
BOOM = '''

def _boom(self):
    raise RuntimeError('tgdeploy test: boom')


RootController.boom = expose()(_boom)
'''


@pytest.fixture(scope='module')
def prodapp(www_root, deploy_venv):
    src = www_root / 'prod'
    src.mkdir()
    src.chmod(0o755)
    project = quickstart_tg2(deploy_venv, src, 'prodapp')
    with open(os.path.join(project, 'prodapp', 'controllers', 'root.py'), 'a') as f:
        f.write(BOOM)
    from pathlib import Path
    return Path(project)


def deploy(venv, project, *args):
    proc = paster(venv, 'tgdeploy', '--mount', '/sub', *args, cwd=project)
    return proc.stdout + proc.stderr


def ini_secrets(path):
    return production.secrets_in(str(path))


class Browser(object):
    """urllib with cookies, following redirects; answers (status, final URL, body)."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path, data=None, cookie=None):
        request = urllib.request.Request(self.base + path, data=data and
                                         urllib.parse.urlencode(data).encode('ascii'))
        if cookie:
            request.add_header('Cookie', cookie)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.geturl(), response.read().decode('utf-8')
        except urllib.error.HTTPError as e:
            return e.code, e.geturl(), e.read().decode('utf-8', 'replace')

    def login(self, password):
        return self.open('/sub/login_handler', {'login': 'manager', 'password': password,
                                                'came_from': '/sub/demo/protected'})

    def auth_cookie(self):
        return [c for c in self.jar if c.name == 'authtkt']


def forged_cookie(venv, secret):
    """An auth_tkt cookie for 'manager' signed with ``secret``, made by the app's own
    repoze.who (in the deploy virtualenv)."""
    code = ('import sys; from repoze.who._auth_tkt import AuthTicket; '
            'print(AuthTicket(sys.argv[1], "manager", "0.0.0.0").cookie_value())')
    out = subprocess.run([venv.python, '-c', code, secret], stdout=subprocess.PIPE, text=True,
                         check=True).stdout.strip()
    return 'authtkt="%s"' % out


def protected(browser, cookie=None):
    """Status and final URL of the managers-only page (a stranger ends on the login page)."""
    status, url, _ = Browser(browser.base).open('/sub/demo/protected', cookie=cookie) \
        if cookie else browser.open('/sub/demo/protected')
    return status, urllib.parse.urlparse(url).path


def test_secrets_login_rerun_and_rotation(prodapp, deploy_venv, apache_factory):
    ini = prodapp / 'apache' / 'prodapp.ini'
    conf = prodapp / 'apache' / 'prodapp.conf'
    apache = apache_factory([conf])
    vhost = ['--server-name', '127.0.0.1', '--port', str(apache.port),
             '--error-email', 'ops@example.org']
    out = deploy(deploy_venv, prodapp, *vhost)
    setup_tg2_data(deploy_venv, prodapp, ini)

    # Fresh secrets, none of them the repository's, none printed.
    deployed = ini_secrets(ini)
    assert sorted(deployed) == ['sa_auth.cookie_secret', 'session.secret',
                                'session.validate_key']
    repository = production.repository_secrets(
        [str(prodapp / 'development.ini'), str(prodapp / 'prodapp' / 'config' / 'app_cfg.py')])
    assert len(repository) == 1  # the quickstart uses one value for all three
    assert not set(deployed.values()) & set(repository)
    assert len(set(deployed.values())) == 3 and all(len(v) == 64 for v in deployed.values())
    assert not [v for v in deployed.values() if v in out]
    assert 'session.secret: a secret of its own (new)' in out

    # The ini is readable by the daemon's group only; the README says how to keep it so.
    st = os.stat(str(ini))
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_gid == 33  # www-data
    assert 'chgrp www-data %s && chmod 640 %s' % (ini, ini) in \
        (prodapp / 'apache' / 'README.txt').read_text()

    assert apache.start('/sub/')[0] == 302
    browser = Browser(apache.url)
    assert protected(browser) == (200, '/sub/login')
    status, url, _ = browser.login('wrong')
    assert (status, urllib.parse.urlparse(url).path) == (200, '/sub/login')
    assert 'failure=invalid-password' in url and not browser.auth_cookie()
    status, url, page = browser.login('managepass')
    assert (status, urllib.parse.urlparse(url).path) == (200, '/sub/demo/protected'), page[:300]
    assert browser.auth_cookie()

    # A cookie signed with the deployed secret gets in; with the repository's it does not.
    repo_secret = next(iter(repository))
    assert protected(browser, forged_cookie(deploy_venv, deployed['sa_auth.cookie_secret'])) \
        == (200, '/sub/demo/protected')
    assert protected(browser, forged_cookie(deploy_venv, repo_secret)) == (200, '/sub/login')

    # A re-run keeps the secrets: the logged-in browser stays logged in.
    out = deploy(deploy_venv, prodapp, *vhost)
    assert ini_secrets(ini) == deployed
    assert 'kept from the last deploy' in out
    os.utime(str(prodapp / 'apache' / 'prodapp.wsgi'))  # reload the application
    assert apache.wait_for_answer('/sub/')[0] == 302
    assert protected(browser) == (200, '/sub/demo/protected')

    # --rotate-secrets: new values, and the old cookie no longer opens the page.
    out = deploy(deploy_venv, prodapp, *vhost, '--rotate-secrets')
    rotated = ini_secrets(ini)
    assert not set(rotated.values()) & set(deployed.values())
    assert not [v for v in list(rotated.values()) + list(deployed.values()) if v in out]
    os.utime(str(prodapp / 'apache' / 'prodapp.wsgi'))
    assert apache.wait_for_answer('/sub/')[0] == 302
    # Each daemon process reloads on its own next request; one of the two may not have
    # seen one yet (under load, the touch and its check can fall in the same second).
    deadline = time.time() + 15
    while protected(browser) != (200, '/sub/login'):
        assert time.time() < deadline, 'the rotated secrets never took effect'
        os.utime(str(prodapp / 'apache' / 'prodapp.wsgi'))
        time.sleep(0.5)


def decoded(text):
    """A mail's text, every MIME part decoded."""
    message = email.message_from_string(text)
    parts = [message.get('Subject', '')]
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if payload:
            parts.append(payload.decode('utf-8', 'replace'))
    return '\n'.join(parts)


def test_a_500_is_mailed_with_its_traceback(prodapp, deploy_venv, apache_factory):
    with SmtpSink() as sink:
        apache = apache_factory([prodapp / 'apache' / 'prodapp.conf'])
        deploy(deploy_venv, prodapp, '--server-name', '127.0.0.1', '--port', str(apache.port),
               '--error-email', 'ops@example.org', '--smtp-server', '127.0.0.1:%d' % sink.port)
        setup_tg2_data(deploy_venv, prodapp, prodapp / 'apache' / 'prodapp.ini')
        apache.start('/sub/')
        status, _, body = apache.get('/sub/boom')
        assert status == 500
        assert 'tgdeploy test: boom' not in body  # no traceback for the visitor
        sender, recipients, text = sink.wait_for(1)[0]
        assert recipients == ['ops@example.org']
        text = decoded(text)
        assert 'Traceback' in text and 'RuntimeError: tgdeploy test: boom' in text


def test_cherrypy_500_is_mailed_with_its_traceback(cherry_project, deploy_venv, apache_factory):
    with SmtpSink() as sink:
        apache = apache_factory([cherry_project / 'apache' / 'cherryapp.conf'])
        paster(deploy_venv, 'tgdeploy', '-q', '--mount', '/cp', '--error-email',
               'ops@example.org', '--smtp-server', '127.0.0.1:%d' % sink.port, cwd=cherry_project)
        apache.start('/cp/about')
        status, _, body = apache.get('/cp/boom')
        assert status == 500 and 'tgdeploy test: boom' not in body
        sender, recipients, text = sink.wait_for(1)[0]
        assert recipients == ['ops@example.org']
        text = decoded(text)
        assert 'Traceback' in text and 'tgdeploy test: boom' in text
    paster(deploy_venv, 'tgdeploy', '-q', '--mount', '/cp', '--overwrite', cwd=cherry_project)


BAD = [
    (['--secrets-from', '/nonexistent/secrets.ini'], '--secrets-from /nonexistent/secrets.ini: '
                                                     'no such file'),
    (['--secrets-from', 'development.ini'], 'development.ini has no sa_auth.cookie_secret'),
    (['--secrets-from', 'repository-secrets.ini'], 'the value of sa_auth.cookie_secret is also in '
                                                   'the project\'s own files'),
    (['--error-email', 'ops at example.org'], 'is not a mail address'),
    (['--error-email', 'ops@example.org\nBcc: x@y'], 'is not a mail address'),
    (['--smtp-server', 'mail.example.org'], '--smtp-server is where error mails go'),
    (['--error-email', 'a@b.org', '--smtp-server', 'mail:99999'], 'is not HOST or HOST:PORT'),
    (['--sentry-dsn', 'not a url'], 'is not a Sentry DSN'),
]


@pytest.mark.parametrize('args, message', BAD, ids=[' '.join(a)[:40] for a, _ in BAD])
def test_bad_values(prodapp, deploy_venv, args, message, tmp_path):
    if 'repository-secrets.ini' in args:  # an operator's file that copied the repository's
        value = production.secrets_in(str(prodapp / 'development.ini'))['session.secret']
        args = ['--secrets-from', str(tmp_path / 'repository-secrets.ini')]
        (tmp_path / 'repository-secrets.ini').write_text(''.join(
            '%s = %s\n' % (key, value) for key in ('session.secret', 'session.validate_key',
                                                   'sa_auth.cookie_secret')))
    before = sorted(os.listdir(str(prodapp)))
    proc = paster(deploy_venv, 'tgdeploy', '--output-dir', str(tmp_path / 'apache'), *args,
                  cwd=prodapp, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert message in lines[0], lines[0]
    assert not (tmp_path / 'apache').exists()
    assert sorted(os.listdir(str(prodapp))) == before


def test_unreadable_secrets_file(prodapp, deploy_venv, www_tmp):
    secrets = www_tmp / 'secrets.ini'
    secrets.write_text('session.secret = %s\n' % ('x' * 20))
    secrets.chmod(0o600)
    out = www_tmp / 'out'
    out.mkdir()
    subprocess.run(['chown', 'nobody', str(out)], check=True)
    proc = subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--',
                           deploy_venv.bin('paster'), 'tgdeploy', '--output-dir',
                           str(out / 'apache'), '--secrets-from', str(secrets)],
                          cwd=str(prodapp), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    assert proc.returncode == 2, proc.stderr
    assert re.match(r'^tgdeploy: error: .*secrets\.ini.*(cannot read|Permission denied)',
                    proc.stderr.strip()), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (out / 'apache').exists()


def test_doctor_warns_of_secrets_from_the_repository(prodapp, deploy_venv, www_tmp):
    """A production.ini written by hand, deployed as it is, that kept the quickstart's
    secrets: the doctor names each one, and app_cfg.py's unoverridden cookie secret."""
    ini = prodapp / 'production.ini'
    text = (prodapp / 'development.ini').read_text().replace('debug = true', 'debug = false')
    ini.write_text(text.replace('%(here)s/devdata.db', '/tmp/x.db'))
    try:
        proc = paster(deploy_venv, 'tgdeploy', '--doctor', '--apache-root', str(www_tmp),
                      cwd=prodapp, check=False)
    finally:
        ini.unlink()
    for key in ('session.secret', 'session.validate_key'):
        assert 'warning: %s in %s is also in the project\'s own files' % (key, ini) in proc.stdout
    assert 'app_cfg.py sets sa_auth.cookie_secret and %s does not override it' % ini \
        in proc.stdout
    assert 'warning: no error reports are configured' in proc.stdout
    secret = production.secrets_in(str(prodapp / 'development.ini'))['session.secret']
    assert secret not in proc.stdout + proc.stderr


def test_doctor_warns_of_a_secrets_file_others_may_read(prodapp, deploy_venv, www_tmp):
    secrets = www_tmp / 'secrets.ini'
    secrets.write_text(''.join('%s = %s-%s\n' % (key, key, 'x' * 24) for key in (
        'session.secret', 'session.validate_key', 'sa_auth.cookie_secret')))
    warning = ('warning: --secrets-from: %s is readable by every user on this machine: '
               'chmod o-r %s' % (secrets, secrets))
    for mode, warned in ((0o644, True), (0o640, False)):
        secrets.chmod(mode)
        proc = paster(deploy_venv, 'tgdeploy', '--doctor', '--apache-root', str(www_tmp),
                      '--secrets-from', str(secrets), cwd=prodapp, check=False)
        assert (warning in proc.stdout) == warned, (oct(mode), proc.stdout, proc.stderr)


# -- without Apache ---------------------------------------------------------------------

def in_process(project, **given):
    from tgdeploy.cli.deploy import deploy as deploy_here
    lines = []
    given.setdefault('python_home', str(project.parent / 'venv'))
    deploy_here(str(project), given, simulate=given.pop('simulate', False), out=lines.append)
    return '\n'.join(lines)


def test_simulate_shows_no_secret(tmp_path):
    from support.projects import make_tg2, make_venv_marker
    make_venv_marker(tmp_path / 'venv')
    project = make_tg2(tmp_path / 'shop')
    in_process(project)
    installed = production.secrets_in(str(project / 'apache' / 'shop.ini'))
    text = in_process(project, rotate_secrets='yes', simulate=True)
    assert '-session.secret = (secret, not shown)' in text
    assert '+session.secret = (secret, not shown)' in text
    assert not re.search(r'[0-9a-f]{64}', text)
    assert not [v for v in installed.values() if v in text]


def test_turbogears1_secrets_are_replaced_and_kept(tmp_path):
    from support.projects import make_tg1, make_venv_marker
    make_venv_marker(tmp_path / 'venv')
    project = make_tg1(tmp_path / 'mysite')
    cfg = project / 'dev.cfg'
    cfg.write_text(cfg.read_text().replace('[global]', '[global]\nbeaker.session.secret = '
                                           '"committed-secret-0123"', 1))
    out = in_process(project, tg_version='1.5')
    first = production.secrets_in(str(project / 'apache' / 'mysite.cfg'))
    assert list(first) == ['beaker.session.secret']
    assert first['beaker.session.secret'] != 'committed-secret-0123'
    assert 'beaker.session.secret: a secret of its own (new)' in out
    assert first['beaker.session.secret'] not in out
    in_process(project, tg_version='1.5')
    assert production.secrets_in(str(project / 'apache' / 'mysite.cfg')) == first
    mode = stat.S_IMODE(os.stat(str(project / 'apache' / 'mysite.cfg')).st_mode)
    assert mode == 0o640
