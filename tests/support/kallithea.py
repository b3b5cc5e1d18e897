"""Kallithea 0.7.0, a TurboGears 2 application installed from PyPI, deployed the way its
own documentation deploys it: a folder holding only the ini `kallithea-cli config-create`
writes, the database `kallithea-cli db-create` makes, and tgdeploy run on that ini alone
(`--config my.ini`). Apache serves it with mod_wsgi built for Python 3.9 (the lab of
scripts/provision-kallithea), as the daemon user www-data.

Shared by tests/test_kallithea.py and the REAL-PROJECTS.md table (row())."""
import os
import re
import shutil
import tempfile
import time
from http.client import HTTPConnection
from urllib.parse import urlencode, urljoin, urlsplit

from support import venv
from tgdeploy.serve import crawl as tgdeploy_crawl
from tgdeploy.serve.private_apache import PrivateApache
from tgdeploy.settle.settled import Settled

LAB = os.environ.get('TGDEPLOY_LAB', '/opt/tgdeploy-lab')
PY39 = os.path.join(LAB, 'py39')
VENV = os.path.join(PY39, 'kallithea')
MOD_WSGI = os.path.join(PY39, 'mod_wsgi-py39.so')
NAME, VERSION = 'Kallithea', '0.7.0'
ADMIN = {'user': 'admin', 'email': 'admin@example.com', 'password': 'Kallithea-admin-1'}
USER = GROUP = 'www-data'
# The server-wide line a daemon-mode-only Apache needs with this mod_wsgi: without it every
# Apache child (running as www-data) also starts an embedded Python, from the home compiled
# into libpython3.9 (pyenv's, under root's 0700 home), fails ("failed to get the Python
# codec of the filesystem encoding") and dies with a segmentation fault: no request is ever
# answered. mod_wsgi's own advice for daemon mode; the daemons themselves use python-home.
SERVER_CONFIG = 'WSGIRestrictEmbedded On'


def missing():
    """Why the lab cannot serve Kallithea, or None."""
    for path in (os.path.join(VENV, 'bin', 'kallithea-cli'), os.path.join(VENV, 'bin', 'tgdeploy'),
                 MOD_WSGI):
        if not os.path.exists(path):
            return ('the Kallithea lab is not provisioned (%s is missing): run '
                    'scripts/provision-kallithea' % path)
    return None


def run(args, cwd=None, check=True, timeout=300):
    """Run a lab command (the machine's pip configuration left out, as provisioning did)."""
    env = dict(os.environ, PIP_CONFIG_FILE='/dev/null')
    env.pop('PIP_FIND_LINKS', None)
    return venv.run(args, cwd=cwd, env=env, check=check, timeout=timeout)


def tool(name):
    return os.path.join(VENV, 'bin', name)


def make_site(parent):
    """``parent``/site holding only my.ini from `kallithea-cli config-create`; its path."""
    site = os.path.join(str(parent), 'site')
    os.mkdir(site)
    os.chmod(site, 0o755)
    run([tool('kallithea-cli'), 'config-create', 'my.ini', 'host=127.0.0.1', 'port=5000'],
        cwd=site)
    assert os.listdir(site) == ['my.ini'], os.listdir(site)
    return os.path.join(site, 'my.ini')


def deploy(ini, mount, out, *options, check=True):
    """`tgdeploy --config my.ini` in the ini's folder, into ``out``: the finished process."""
    site = os.path.dirname(ini)
    return run([tool('tgdeploy'), '--config', os.path.basename(ini), '--python-home', VENV,
                '--mount', mount, '--output-dir', str(out)] + list(options) + [site],
               cwd=site, check=check)


def create_db(ini, repos):
    """`kallithea-cli db-create` with the admin account, then the instance made the daemon
    user's, as Kallithea's own documentation has it (its SQLite database, cache and search
    index live next to the ini, and are written as pages are served)."""
    os.makedirs(str(repos), exist_ok=True)
    # The data folder of tgdeploy's README (its egg cache; Kallithea's cache_dir is there too).
    os.makedirs(os.path.join(os.path.dirname(ini), 'data', 'egg-cache'), exist_ok=True)
    run([tool('kallithea-cli'), 'db-create', '-c', ini, '--user=' + ADMIN['user'],
         '--email=' + ADMIN['email'], '--password=' + ADMIN['password'],
         '--repos=' + str(repos), '--force-yes'], cwd=os.path.dirname(ini))
    for path in (os.path.dirname(ini), str(repos)):
        run(['chown', '-R', '%s:%s' % (USER, GROUP), path])


def make_apache(root, conf, **kwargs):
    """The private Apache (tgdeploy's own) around ``conf``, loading the Python 3.9 mod_wsgi."""
    os.chmod(str(root), 0o755)
    return PrivateApache(str(root), [str(conf)], MOD_WSGI, extra=SERVER_CONFIG, **kwargs)


def prefix_of(mount):
    return '' if mount == '/' else mount


class Browser(object):
    """GET and POST through ``apache`` with a cookie jar; redirects followed on request."""

    def __init__(self, apache):
        self.apache = apache
        self.cookies = {}

    def request(self, method, path, fields=None):
        connection = HTTPConnection('127.0.0.1', self.apache.port, timeout=60)
        headers = {'Host': '127.0.0.1:%d' % self.apache.port}
        if self.cookies:
            headers['Cookie'] = '; '.join('%s=%s' % item for item in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode('utf-8', 'replace')
            for name, value in response.getheaders():
                if name.lower() == 'set-cookie':
                    cookie = value.split(';')[0]
                    key, _, val = cookie.partition('=')
                    self.cookies[key.strip()] = val.strip()
            return response.status, dict((k.lower(), v) for k, v in response.getheaders()), text
        finally:
            connection.close()

    def get(self, path, follow=True):
        """(final path, status, headers, body); every hop's (status, path) in self.hops."""
        return self.follow('GET', path, None, follow)

    def post(self, path, fields, follow=True):
        return self.follow('POST', path, fields, follow)

    def follow(self, method, path, fields, follow):
        self.hops = []
        for _ in range(10):
            status, headers, body = self.request(method, path, fields)
            self.hops.append((status, path))
            location = headers.get('location')
            if not follow or status not in (301, 302, 303, 307, 308) or not location:
                return path, status, headers, body
            parts = urlsplit(urljoin('http://127.0.0.1:%d%s' % (self.apache.port, path),
                                     location))
            assert parts.port == self.apache.port, location
            path = parts.path + ('?' + parts.query if parts.query else '')
            method, fields = 'GET', None
        raise AssertionError('too many redirects: %s' % self.hops)


LINK = re.compile(r'''(?:href|src|action)\s*=\s*["']([^"'#]+)''', re.I)


def local_links(body):
    """The server-absolute paths an HTML page links to (not other hosts, not data: URLs)."""
    return sorted(set(link for link in LINK.findall(body)
                      if link.startswith('/') and not link.startswith('//')))


def crawl(apache, conf, mount):
    """tgdeploy's own crawler (what --check runs) against the served deployment:
    (the GET lines it printed, its findings)."""
    lines = []
    values = Settled.from_flat({'server_name': None, 'mount': mount, 'conf_file': str(conf),
                                'static_urls': [], 'user': USER})
    findings = tgdeploy_crawl.crawl(apache, values, lines.append)
    return lines, findings


GET_LINE = re.compile(r'^check: GET (\S+) -> (\d+) in ')


def statuses(lines):
    """[(path, status)] of the crawl's printed GET lines."""
    return [(m.group(1), int(m.group(2))) for m in map(GET_LINE.match, lines) if m]


def wait_until_served(apache, path, timeout=90):
    """The first answer to ``path`` that is not a connection failure (Kallithea's first
    import takes a few seconds); AssertionError with the error log if none comes."""
    deadline = time.time() + timeout
    while True:
        try:
            return apache.get(path, timeout=timeout)
        except (IOError, OSError) as error:
            if time.time() > deadline:
                raise AssertionError('no answer to %s within %ds (%r); error log:\n%s'
                                     % (path, timeout, error, apache.error_log()[-6000:]))
            time.sleep(0.2)


def served_summary(work, mount):
    """Deploy a fresh instance at ``mount`` under ``work``, serve it from the private
    Apache and crawl it with tgdeploy's crawler. A dict: detected (the report's `seen:`),
    configtest, landing (status), links (how many the crawl requested), failed ([(path,
    status)] of 5xx), error (why nothing was served, or None)."""
    folder = os.path.join(work, 'at' + (mount.replace('/', '-') if mount != '/' else '-root'))
    os.makedirs(folder)
    os.chmod(folder, 0o755)
    result = {'detected': '', 'configtest': '', 'landing': None, 'links': 0, 'failed': [],
              'error': None}
    ini = make_site(folder)
    proc = deploy(ini, mount, os.path.join(folder, 'out'), check=False)
    if proc.returncode != 0:
        result['error'] = 'refused: ' + proc.stderr.strip().replace('tgdeploy: error: ', '')
        return result
    result['detected'] = '; '.join(line[len('  seen: '):] for line in proc.stdout.splitlines()
                                   if line.startswith('  seen: '))
    create_db(ini, os.path.join(folder, 'repos'))
    conf = os.path.join(folder, 'out', 'kallithea.conf')
    root = os.path.join(folder, 'apache')
    os.mkdir(root)
    apache = make_apache(root, conf)
    code, text = apache.configtest()
    result['configtest'] = 'apache2 -t: ' + (' '.join(text.split()) if code else 'Syntax OK')
    if code:
        return result
    try:
        apache.start()
        start = prefix_of(mount) + '/'
        wait_until_served(apache, start)
        path, status, _, _ = Browser(apache).get(start)
        result['landing'] = status
        lines, _ = crawl(apache, conf, mount)
        seen = statuses(lines)
        result['links'] = len(seen) - 1 if seen else 0  # the landing page is not a link
        result['failed'] = [(p, s) for p, s in seen if s >= 500]
    except (AssertionError, IOError, OSError) as error:
        result['error'] = 'not served: %s' % str(error).splitlines()[0]
    finally:
        apache.stop()
    return result


def row():
    """The REAL-PROJECTS.md row of Kallithea (tests/support/corpus.py COLUMNS): detected,
    `apache2 -t` at / and at /sub, and what the private Apache served at both."""
    application = '%s %s' % (NAME, VERSION)
    why = missing()
    if why:
        return [application, why, '', '', '']
    work = tempfile.mkdtemp(prefix='tgdeploy-kallithea-', dir='/tmp')
    os.chmod(work, 0o755)
    try:
        results = [served_summary(work, mount) for mount in ('/', '/sub')]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def clean(text):
        return re.sub(r'/tmp/tgdeploy-kallithea-\w+/at-\w+/', '', text).replace('|', '/')

    detected = clean(results[0]['detected'] or results[1]['detected'])
    at = [clean(r['error'] if r['error'] and not r['configtest'] else r['configtest'])
          for r in results]
    return [application, detected, at[0], at[1], served_cell(results)]


def served_cell(results):
    mounts = ('/', '/sub')
    problems = []
    for mount, r in zip(mounts, results):
        if r['error']:
            problems.append('%s: %s' % (mount, r['error']))
        elif r['landing'] != 200:
            problems.append('%s: landing page %s' % (mount, r['landing']))
        elif r['failed']:
            problems.append('%s: %s' % (mount, ', '.join('%s %d' % f for f in r['failed'])))
    if problems:
        return '; '.join(problems).replace('|', '/')
    links = [r['links'] for r in results]
    count = str(links[0]) if links[0] == links[1] else '%d and %d' % tuple(links)
    return 'at / and /sub: landing page 200, %s links crawled, no 5xx' % count
