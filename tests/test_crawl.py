"""--check's crawler (tgdeploy/serve/crawl.py, crawl_links.py, error_log.py) against a real Apache:
a login form answered 401/403 by design is no error; at a sub-URL every same-origin link or
asset outside the mount, and every asset answering 4xx, is an error naming the URL and the page;
a failure shows the first traceback (a daemon's failed start-up before a later secondary one);
and whatever hrefs a page holds, the crawler never raises (hypothesis, real requests)."""
import json
import re
import textwrap
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from support.httpd import DEBIAN_WSGI
from tgdeploy.serve import crawl, crawl_links, error_log
from tgdeploy.settle.settled import Settled
from tgdeploy._compat import HTTPConnection

HOSTILE = ['/+ image +', 'http://[::1', 'http://[::1]:80/x', '//evil', '//evil/x', 'javascript:',
           'javascript:alert(1)', 'mailto:a@b', 'data:text/html,<a>', '/a\x00b', '/a\tb\nc',
           '/\x7f', 'http://127.0.0.1:99999999999/x', 'http://127.0.0.1:-1/', '/café/ü',
           '/\udcff', '\u2028', '%', '/%zz', '?', '#', '../../../../etc/passwd', '/sub/../x',
           'http://localhost/sub/ok.html', 'HTTP://127.0.0.1/sub/x', '/sub/' + 'a' * 9000,
           '&#99999999999;', '&#x110000;', '&amp;', ' /sub/ok.html ', 'http://@/', 'http://:80/',
           'https://127.0.0.1:0/', '/sub/ok.html?q=' + '\u00e9' * 3, '\\\\evil\\x']
HREFS = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40),
                  st.text(st.sampled_from('/:?#[]@!$&\'()*+,;=%.-_~ \x00\té\udcff'), max_size=20))
TAGS = ('<a href="%s">x</a>', "<img src='%s'>", '<script src="%s"></script>',
        '<link rel="stylesheet" href="%s">', '<form action="%s"></form>', '<iframe src=%s>',
        '<script>var a = \'<img src="%s">\';</script>')


def html_attribute(value):
    return value.replace('"', '&quot;').replace("'", '&#39;').replace('>', '&gt;')


@given(st.lists(st.tuples(st.sampled_from(TAGS), HREFS), max_size=12), st.sampled_from(
    ['/', '/sub/', '/sub/page', 'http://[::1', '']))
@settings(max_examples=500, deadline=None)
def test_reading_any_page_never_raises(items, page_url):
    body = ''.join(tag % html_attribute(href) for tag, href in items)
    page = crawl_links.Page(body, page_url)
    for url in page.links + page.assets:
        path = crawl_links.on_this_server(url, ('127.0.0.1', 'localhost'), (8080,))
        if path is None:
            continue
        assert path.startswith('/')
        crawl_links.under_mount(path, '/sub')
        target = crawl_links.request_target(path)
        if target is not None:
            assert not re.search(r'[\x00-\x20\x7f-\uffff]', target)
            # http.client takes it (it refused '/+ image +' with InvalidURL).
            HTTPConnection('127.0.0.1', 9).putrequest('GET', target)


def test_what_a_page_links():
    page = crawl_links.Page(
        '<a href="/sub/a?x=1&amp;y=2">a</a><img src="/+ image +">'
        '<script src=/sub/js/x.js></script><script>var s = \'<a href="/nope">\';</script>'
        '<!-- <a href="/commented"> --><link rel="stylesheet" href="/tg_widgets/x.css">'
        '<link rel="alternate" href="/feed"><form method="post" action="/sub/post"></form>'
        '<form action="search"></form><a href="#top">top</a>', '/sub/')
    assert page.links == ['/sub/a?x=1&y=2', '/sub/search']
    assert page.assets == ['/+ image +', '/sub/js/x.js', '/tg_widgets/x.css']
    hosts = ('127.0.0.1', 'localhost')
    assert crawl_links.on_this_server('http://127.0.0.1:8080/x', hosts, (8080,)) == '/x'
    assert crawl_links.on_this_server('http://127.0.0.1:8081/x', hosts, (8080,)) is None
    assert crawl_links.on_this_server('http://127.0.0.1:99999999/x', hosts, (8080,)) is None
    assert crawl_links.on_this_server('//evil/x', hosts) is None
    assert crawl_links.request_target('/+ image +') == '/+%20image%20+'
    assert crawl_links.request_target('/café') == '/caf%C3%A9'


LOG = textwrap.dedent('''\
    [Thu Dec 03 09:00:00.1 2026] [wsgi:error] [pid 11:tid 1] mod_wsgi (pid=11): Failed to exec Python script file '/x/app.wsgi'.
    [Thu Dec 03 09:00:00.1 2026] [wsgi:error] [pid 11:tid 1] mod_wsgi (pid=11): Exception occurred processing WSGI script '/x/app.wsgi'.
    [Thu Dec 03 09:00:00.1 2026] [wsgi:error] [pid 11:tid 1] Traceback (most recent call last):
    [Thu Dec 03 09:00:00.1 2026] [wsgi:error] [pid 12:tid 1] [remote 127.0.0.1:1] another process
    [Thu Dec 03 09:00:00.1 2026] [wsgi:error] [pid 11:tid 1]   File "/x/app.wsgi", line 3, in <module>
    [Thu Dec 03 09:00:00.1 2026] [wsgi:error] [pid 11:tid 1]     connect()
    [Thu Dec 03 09:00:00.1 2026] [wsgi:error] [pid 11:tid 1] RuntimeError: the database is down
    [Thu Dec 03 09:00:00.1 2026] [wsgi:error] [pid 11:tid 1] Traceback (most recent call last):
    [Thu Dec 03 09:00:00.1 2026] [wsgi:error] [pid 11:tid 1] ValueError: class Visit is already in the registry
    ''')


def test_first_traceback_of_a_log():
    assert error_log.first_traceback(LOG) == [
        "mod_wsgi (pid=11): Exception occurred processing WSGI script '/x/app.wsgi'.",
        'Traceback (most recent call last):', '  File "/x/app.wsgi", line 3, in <module>',
        '    connect()', 'RuntimeError: the database is down']
    assert error_log.first_traceback('no traceback\n') == []


@pytest.fixture
def site(www_tmp, apache_factory):
    """A private Apache serving the folder site/ at /sub, a WSGI script at /sub/app (a daemon
    whose start-up fails: once with the real cause, then, as every later request imports it
    again, with a secondary error), with 401 and 403 pages that are login forms."""
    folder = www_tmp / 'site'
    folder.mkdir()
    (folder / 'ok.html').write_text('<p>ok</p><img src="ok-missing.png">')
    (folder / 'notes.txt').write_text('<img src="/sub/not-an-asset.png">')
    (folder / 'login.html').write_text(
        '<form method="post" action="/sub/login"><input name="user">'
        '<input type="password" name="password"></form>')
    (folder / 'denied.html').write_text('<p>no</p>')
    for name in ('private', 'members', 'forbidden'):
        (folder / name).mkdir()
        (folder / name / 'index.html').write_text('secret')
    lib = www_tmp / 'lib'
    lib.mkdir()
    (lib / 'registry.py').write_text(
        'CLASSES = set()\n\ndef register(name):\n    if name in CLASSES:\n'
        '        raise ValueError("class %s is already in the registry" % name)\n'
        '    CLASSES.add(name)\n')
    (folder / 'app').write_text(
        'import registry\nregistry.register("Visit")\n'
        'raise RuntimeError("the database is down: the real cause")\n')
    extra = textwrap.dedent('''\
        LoadModule auth_basic_module /usr/lib/apache2/modules/mod_auth_basic.so
        LoadModule authn_file_module /usr/lib/apache2/modules/mod_authn_file.so
        LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
        WSGIDaemonProcess crawltest processes=1 threads=2 python-path=%(tmp)s/lib
        WSGIImportScript %(tmp)s/site/app process-group=crawltest application-group=%%{GLOBAL}
        RedirectMatch 302 ^/sub/moved/$ /elsewhere
        Alias /sub %(tmp)s/site
        <Directory %(tmp)s/site>
            Require all granted
            <Files app>
                SetHandler wsgi-script
                Options +ExecCGI
                WSGIProcessGroup crawltest
                WSGIApplicationGroup %%{GLOBAL}
            </Files>
        </Directory>
        <Directory %(tmp)s/site/private>
            Require all denied
            ErrorDocument 403 /sub/login.html
        </Directory>
        <Directory %(tmp)s/site/forbidden>
            Require all denied
            ErrorDocument 403 /sub/denied.html
        </Directory>
        <Directory %(tmp)s/site/members>
            AuthType Basic
            AuthName members
            AuthUserFile /dev/null
            Require valid-user
            ErrorDocument 401 /sub/login.html
        </Directory>
        ''') % {'tmp': www_tmp}
    return apache_factory([], wsgi_module=DEBIAN_WSGI, extra=extra), folder


def run_crawl(apache, folder, index, mount='/sub'):
    (folder / 'index.html').write_bytes(index.encode('utf-8', 'surrogatepass'))
    lines = []
    values = Settled.from_flat({'server_name': None, 'mount': mount, 'conf_file': 'site.conf',
                                'static_urls': [], 'user': 'www-data'})
    findings = crawl.crawl(apache, values, lines.append)
    return lines, [str(f) for f in findings]


def test_the_crawl_tells_the_truth(site):
    apache, folder = site
    apache.start(wait_for=None)
    # The daemon preloads the script as it starts: its start-up fails before any request.
    deadline = time.time() + 20
    while 'RuntimeError: the database is down' not in apache.error_log():
        assert time.time() < deadline, apache.error_log()
        time.sleep(0.1)
    lines, findings = run_crawl(apache, folder, (
        '<link rel="stylesheet" href="/sub/missing.css"><script src="/tg_widgets/MochiKit.js">'
        '</script><img src="/sub/forbidden/logo.png"><a href="/sub/ok.html">ok</a>'
        '<a href="/sub/private/">private</a><a href="/sub/members/">members</a>'
        '<a href="/sub/forbidden/">forbidden</a><a href="/about">about</a>'
        '<a href="http://127.0.0.1:%d/sub/ok.html">same</a><a href="/sub/app">app</a>'
        '<a href="/sub/notes.txt">notes</a><a href="//evil/x">evil</a>'
        '<script>var u = \'<img src="/\' + image + \'">\';</script>'
        % apache.port))
    text = '\n'.join(lines)
    assert re.search(r'check: GET /sub/private/ -> 403 in [\d.]+ s: a login form \(the '
                     r'framework answers it with 403 by design\)', text), text
    assert re.search(r'check: GET /sub/members/ -> 401 in [\d.]+ s: a login form', text), text
    assert [f for f in findings if 'private' in f or 'members' in f] == []
    assert sorted(findings)[:2] == [
        'error: /sub/ links the asset /tg_widgets/MochiKit.js, outside the mount /sub: it is '
        'not this application\'s at that URL (a browser gets another site\'s answer or a 404); '
        'the application or its framework writes it without the mount',
        'error: /sub/ links to /about, outside the mount /sub: it is not this application\'s '
        'at that URL (a browser gets another site\'s answer or a 404); the application or its '
        'framework writes it without the mount']
    assert 'error: GET /sub/forbidden/ answered 403: see the error log lines above and ' \
        'site.conf' in findings
    assert 'error: GET /sub/missing.css answered 404 (an asset of /sub/): see the error log ' \
        'lines above and site.conf' in findings
    assert 'error: GET /sub/forbidden/logo.png answered 403 (an asset of /sub/): see the ' \
        'error log lines above and site.conf' in findings
    assert 'error: GET /sub/app answered 500: see the error log lines above and site.conf' in \
        findings, text
    # The assets of every page fetched, not what a text file holds.
    assert 'error: GET /sub/ok-missing.png answered 404 (an asset of /sub/ok.html): see the ' \
        'error log lines above and site.conf' in findings
    assert 'not-an-asset' not in text
    assert len(findings) == 7, findings
    # The real cause, from the daemon's start-up, comes first; the request's own (secondary)
    # traceback after it.
    shown = [line for line in lines if line.startswith('  | ')]
    first = shown.index('  | the first traceback since Apache started:')
    cause = [i for i, line in enumerate(shown) if 'the database is down: the real cause' in line]
    secondary = [i for i, line in enumerate(shown) if 'already in the registry' in line]
    assert cause and secondary and first < cause[0] < secondary[0], text
    assert 'GET /sub/ok.html' in text and text.count('GET /sub/ok.html ') == 1
    # A redirect out of the mount is the same mistake.
    lines, findings = run_crawl(apache, folder, '', mount='/sub/moved')
    assert findings == [
        'error: /sub/moved/ redirects to /elsewhere, outside the mount /sub/moved: it is not '
        'this application\'s at that URL (a browser gets another site\'s answer or a 404); the '
        'application or its framework writes it without the mount'], lines
    assert '/evil' not in text and "' + image + '" not in text


@given(st.lists(st.tuples(st.sampled_from(TAGS), HREFS), min_size=1, max_size=8))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_the_crawl_never_raises_on_a_real_server(site, items):
    apache, folder = site
    if not apache.started:
        apache.start(wait_for=None)
    lines, findings = run_crawl(apache, folder, ''.join(tag % html_attribute(href)
                                                 for tag, href in items))
    assert lines[0].startswith('check: GET /sub/ -> 200 in ')
    assert all('\n' not in f for f in findings)


# Runs under the 2.7 lab's Python: every page through what the crawler reads of it.
READ_ALL = r'''
import io, json, sys, traceback
from tgdeploy.serve import crawl_links
failures = []
with io.open(sys.argv[1], encoding='utf-8') as f:
    cases = json.load(f)
for body, page_url in cases:
    try:
        page = crawl_links.Page(body, page_url)
        for url in page.links + page.assets:
            path = crawl_links.on_this_server(url, ('127.0.0.1', 'localhost'), (8080,))
            if path is not None:
                crawl_links.under_mount(path, '/sub')
                target = crawl_links.request_target(path)
                assert target is None or isinstance(target, str), repr(target)
                assert target is None or not [c for c in target if ord(c) <= 32 or ord(c) >= 127]
    except BaseException:
        failures.append([body, page_url, traceback.format_exc()])
print(json.dumps(failures))
'''


def test_reading_any_page_never_raises_under_python27(tmp_path):
    """The same fuzz under Python 2.7 (urlparse, HTMLParser and str differ there)."""
    from support.venv import run
    from test_pythons import env_for, lab_venv
    venv = lab_venv('2.7')
    cases = []

    @given(st.lists(st.tuples(st.sampled_from(TAGS), HREFS), max_size=12), st.sampled_from(
        ['/', '/sub/', '/sub/page', 'http://[::1', '']))
    @settings(max_examples=300, deadline=None, database=None)
    def collect(items, page_url):
        cases.append([''.join(tag % html_attribute(href) for tag, href in items), page_url])

    collect()
    cases += [[tag % html_attribute(href), '/sub/'] for tag in TAGS for href in HOSTILE]
    data = tmp_path / 'cases.json'
    data.write_text(json.dumps(cases), encoding='utf-8')  # lone surrogates as \\u escapes
    script = tmp_path / 'read_all.py'
    script.write_text(READ_ALL)
    proc = run([venv.python, script, data], cwd=tmp_path, env=env_for(venv))
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
