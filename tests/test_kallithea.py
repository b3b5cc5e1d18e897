"""Kallithea 0.7.0 (TurboGears 2, installed from PyPI, deployed by its ini alone) served by
tgdeploy's deployment under a real Apache with mod_wsgi for Python 3.9, at / and at /sub:
the landing page, links carrying the mount, tgdeploy's crawler finding no 5xx, and the admin
made by `kallithea-cli db-create` logging in through the CSRF-protected form.

The lab is scripts/provision-kallithea (scripts/test runs it); without it these tests fail."""
import re

import pytest

from support import kallithea
from support.kallithea import ADMIN, Browser, prefix_of

STOP_BOUND = 15.0


def require_lab():
    why = kallithea.missing()
    if why:
        pytest.fail(why, pytrace=False)


def deployed(www_tmp, mount):
    """A fresh Kallithea instance deployed at ``mount``: (ini, generated conf, report)."""
    ini = kallithea.make_site(www_tmp)
    out = www_tmp / 'apache-out'
    proc = kallithea.deploy(ini, mount, out)
    kallithea.create_db(ini, www_tmp / 'repos')
    return ini, out / 'kallithea.conf', proc.stdout


def hidden_inputs(form):
    """{name: value} of a form's hidden inputs, attributes in any order."""
    fields = {}
    for tag in re.findall(r'<input\b[^>]*>', form):
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        if attributes.get('type') == 'hidden' and 'name' in attributes:
            fields[attributes['name']] = attributes.get('value', '')
    return fields


@pytest.fixture
def served(www_tmp, request):
    """Start the private Apache for a deployment; stopped whatever the test does."""
    made = []

    def serve(conf):
        root = www_tmp / 'httpd'
        root.mkdir()
        apache = kallithea.make_apache(root, conf)
        made.append(apache)
        code, text = apache.configtest()
        assert code == 0, text
        apache.start()
        return apache

    yield serve
    for apache in made:
        apache.stop()


@pytest.mark.slow
@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_kallithea_served_by_apache_with_python39(www_tmp, served, mount):
    require_lab()
    prefix = prefix_of(mount)
    ini, conf, report = deployed(www_tmp, mount)
    assert '  seen: TurboGears 2: my.ini (the application it names is installed' in report
    apache = served(conf)
    kallithea.wait_until_served(apache, prefix + '/')

    # The landing page: Kallithea's repository list, every local link under the mount.
    browser = Browser(apache)
    path, status, headers, page = browser.get(prefix + '/')
    assert status == 200, (browser.hops, apache.error_log()[-4000:])
    assert 'mod_wsgi/5.0.2 Python/3.9' in apache.get(prefix + '/')[1].get('Server', '')
    assert '<title>' in page and 'Repositories' in page
    links = kallithea.local_links(page)
    assert len(links) > 10, links
    assert all(link.startswith(prefix + '/') for link in links), links
    assert prefix + '/css/style.css?ver=0.7.0' in links  # the front end npm built
    assert apache.get(prefix + '/css/style.css')[0] == 200

    # tgdeploy's own crawler (what --check runs): every link of the landing page, no 5xx.
    lines, findings = kallithea.crawl(apache, conf, mount)
    seen = kallithea.statuses(lines)
    assert len(seen) > 10, lines
    assert all(p == prefix + '/' or p.startswith(prefix + '/') for p, _ in seen), seen
    assert [(p, s) for p, s in seen if s >= 500] == [], (lines, apache.error_log()[-6000:])
    assert seen[0] == (prefix + '/', 200), seen

    # A page that needs a login sends the anonymous visitor to the login form...
    path, status, _, login_page = browser.get(prefix + '/_admin/my_account')
    assert status == 200, browser.hops
    assert path.startswith(prefix + '/_admin/login'), browser.hops
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', login_page, re.S)
    assert form, login_page
    action = form.group(1).replace('&amp;', '&')
    assert action.startswith(prefix + '/_admin/login'), action
    fields = hidden_inputs(form.group(2))
    assert any('csrf' in name for name in fields), form.group(2)  # Kallithea's CSRF token

    # ...a wrong password stays there...
    _, status, _, body = browser.post(action, dict(fields, username=ADMIN['user'],
                                                   password='wrong'))
    assert status == 200 and 'Invalid username or password' in body, (browser.hops, body[-2000:])

    # ...and the admin from `kallithea-cli db-create` gets in, and back to the page asked for.
    path, status, _, body = browser.post(action, dict(fields, username=ADMIN['user'],
                                                      password=ADMIN['password']))
    assert status == 200, (browser.hops, apache.error_log()[-6000:])
    assert path == prefix + '/_admin/my_account', browser.hops
    assert ADMIN['email'] in body
    # An administrator's page, and the links of a logged-in page carry the mount too.
    path, status, _, body = browser.get(prefix + '/_admin/settings')
    assert status == 200 and path.startswith(prefix + '/_admin/settings'), browser.hops
    assert all(link.startswith(prefix + '/') for link in kallithea.local_links(body))
    # Logged out, the same page is refused again.
    browser.get(prefix + '/_admin/logout')
    path, _, _, _ = browser.get(prefix + '/_admin/settings')
    assert path.startswith(prefix + '/_admin/login'), browser.hops

    assert apache.stop() < STOP_BOUND
    log = apache.error_log()
    assert 'Traceback' not in log, log[-6000:]
    assert 'Segmentation fault' not in log, log[-6000:]


@pytest.mark.slow
def test_tgdeploy_check_serves_kallithea(www_tmp):
    """`tgdeploy --check` with the Python 3.9 mod_wsgi: its private Apache answers the
    landing page and every crawled link, and the run ends without errors (warnings allowed:
    no error reports are configured)."""
    require_lab()
    ini, conf, _ = deployed(www_tmp, '/sub')
    # The server's config as the doctor asks for it with this Python (its libpython starts
    # from a prefix under root's home): without it, --check says so and fails.
    tree = www_tmp / 'etc-apache2'
    for folder in ('mods-enabled', 'conf-enabled', 'sites-enabled'):
        (tree / folder).mkdir(parents=True)
    check = ['--check', '--mod-wsgi', kallithea.MOD_WSGI, '--apache-root', str(tree)]
    proc = kallithea.deploy(ini, '/sub', www_tmp / 'apache-out', *check, check=False)
    assert proc.returncode == 3 and 'WSGIRestrictEmbedded On' in proc.stdout, proc.stdout
    (tree / 'conf-enabled' / 'wsgi.conf').write_text('WSGIRestrictEmbedded On\n')
    proc = kallithea.deploy(ini, '/sub', www_tmp / 'apache-out', *check, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), output
    seen = kallithea.statuses(proc.stdout.splitlines())
    assert seen and seen[0] == ('/sub/', 200), output
    assert len(seen) > 10, output
    assert [(p, s) for p, s in seen if s >= 500] == [], output
