"""--check's requests through the private Apache: the application's landing page (its
redirects followed), every same-origin link under the mount that page shows (at most
MAX_LINKS), the assets (scripts, stylesheets, images) of every page fetched (at most
MAX_ASSETS), and one file under every static alias.

What counts as an error, and what does not:
- a page answering 400 or more, but not a 401 or 403 that shows a login form: that status is
  the framework's by design (TurboGears 1's identity answers its login form with 403);
- an asset answering 400 or more, whatever it is;
- at a sub-URL, a same-origin link or asset outside the mount (the framework wrote it without
  the mount), named with the page that links it.
Each failure shows the first traceback of its request in the error log, and before it the first
one since Apache started if not shown yet (a daemon's start-up that failed). Whatever the pages
hold, the crawler itself never raises (crawl_links.py)."""
import os
import re
import stat
import time

from tgdeploy.serve import crawl_links, error_log

from tgdeploy.doctor.finding import ERROR, Finding
from tgdeploy.files.access import access_problem, user_ids
from tgdeploy._compat import HTTPException

MAX_REDIRECTS = 5
MAX_LINKS = 30
MAX_ASSETS = 60
# A name Apache serves as it is: no URL quoting needed, and no dot file (many configs deny
# those, Debian's .ht* for one), so the probe never reports a 403 or 404 of its own making.
PLAIN_NAME = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9._~-]*$')
REDIRECTS = (301, 302, 303, 307, 308)


def crawl(apache, values, out):
    """The findings of the crawl; every request is printed with its status and time."""
    return Crawl(apache, values, out).run()


class Crawl(object):

    def __init__(self, apache, values, out):
        self.apache, self.values, self.out = apache, values, out
        self.findings = []
        self.host = values.apache.server_name and '%s:%d' % (values.apache.server_name, apache.port)
        self.hosts = ('127.0.0.1', 'localhost', values.apache.server_name)
        self.ports = (apache.port, values.apache.port, values.https.port)
        self.mount = values.apache.mount
        self.requested, self.assets, self.outside = set(), [], set()
        self.shown = set()  # the tracebacks shown, by their text

    def run(self):
        start = self.mount if self.mount == '/' else self.mount + '/'
        landing, body = self.follow(start)
        links = [p for p in self.read_page(body, landing) if p != start][:MAX_LINKS]
        for path in links:
            if path not in self.requested:
                status, headers, page = self.request(path)
                if status and status < 300 and is_html(headers):
                    self.read_page(page, path)
        for path, linked_from in self.assets[:MAX_ASSETS]:
            if path not in self.requested:
                self.request(path, asset=linked_from)
        for path in static_probes(self.values):
            if path not in self.requested:
                self.request(path)
        return self.findings

    def follow(self, path):
        """GET ``path``, following redirects under the mount; (final path, body)."""
        for _ in range(MAX_REDIRECTS + 1):
            status, headers, body = self.request(path, wait=True)
            location = headers.get('Location') or headers.get('location')
            target = location and self.local(crawl_links.absolute(path, location))
            if status not in REDIRECTS or not target:
                return path, body
            if not crawl_links.under_mount(target, self.mount):
                self.left_mount(path, target, 'redirect')
                return path, body
            path = target
        return path, ''

    def local(self, url):
        return url and crawl_links.on_this_server(url, self.hosts, self.ports)

    def read_page(self, body, page):
        """The page's links under the mount (to visit); its assets are queued, and what it
        links outside the mount is an error."""
        found = crawl_links.Page(body, page)
        links = []
        for url, is_asset in [(u, False) for u in found.links] + [(u, True) for u in
                                                                  found.assets]:
            path = self.local(url)
            if path is None:
                continue
            if not crawl_links.under_mount(path, self.mount):
                self.left_mount(page, path, is_asset)
            elif is_asset:
                if path not in [p for p, _ in self.assets]:
                    self.assets.append((path, page))
            elif path not in links and path != page:
                links.append(path)
        return links

    def left_mount(self, page, path, kind):
        if (page, path) in self.outside:
            return
        self.outside.add((page, path))
        how = {True: 'links the asset', False: 'links to', 'redirect': 'redirects to'}[kind]
        self.findings.append(Finding(
            ERROR, '%s %s %s, outside the mount %s: it is not this '
            'application\'s at that URL (a browser gets another site\'s answer or a 404); the '
            'application or its framework writes it without the mount' % (
                page, how, path, self.mount)))

    def request(self, path, wait=False, asset=None):
        """(status, headers, body) of one GET (0, {}, '' without an answer)."""
        self.requested.add(path)
        target = crawl_links.request_target(path)
        if target is None:
            return 0, {}, ''
        before = len(self.apache.error_log())
        started = time.time()
        get = self.apache.wait_for_answer if wait else self.apache.get
        try:
            status, headers, body = get(target, host=self.host)
        except (IOError, OSError, ValueError, HTTPException) as error:
            # No answer at all: refused, reset, timed out, or no HTTP.
            self.out('check: GET %s -> no answer in %.3f s (%s)' % (
                target, time.time() - started, error))
            self.fail('GET %s got no answer (%s)' % (target, error), before)
            return 0, {}, ''
        took = time.time() - started
        if status in (401, 403) and not asset and crawl_links.is_login_form(body):
            self.out('check: GET %s -> %d in %.3f s: a login form (the framework answers it '
                     'with %d by design)' % (target, status, took, status))
        else:
            self.out('check: GET %s -> %d in %.3f s' % (target, status, took))
            if status >= 400:
                self.fail('GET %s answered %d%s' % (
                    target, status, ' (an asset of %s)' % asset if asset else ''), before)
        return status, headers, body

    def fail(self, what, before):
        self.findings.append(Finding(
            ERROR, '%s: see the error log lines above and %s'
            % (what, self.values.paths.conf_file)))
        self.show_log_since(before)

    def show_log_since(self, before):
        """The first traceback of the request (the first since Apache started before it, if
        not shown yet), else the last lines it logged."""
        log = self.settled_log(before)
        first = error_log.first_traceback(log)
        own = error_log.first_traceback(log[before:])
        if first and first != own and '\n'.join(first) not in self.shown:
            self.shown.add('\n'.join(first))
            self.out('  | the first traceback since Apache started:')
            for line in first:
                self.out('  | ' + line)
        if own:
            self.shown.add('\n'.join(own))
        for line in own or log[before:].strip().splitlines()[-8:]:
            self.out('  | ' + line)


    def settled_log(self, before, timeout=2.0):
        """The error log once the tracebacks in it are whole (a daemon writes its lines
        after the answer has gone), waiting at most ``timeout`` seconds."""
        deadline = time.time() + timeout
        while True:
            log = self.apache.error_log()
            blocks = [error_log.first_traceback(log), error_log.first_traceback(log[before:])]
            if all(error_log.complete(b) for b in blocks if b) or time.time() > deadline:
                return log
            time.sleep(0.05)


def is_html(headers):
    """Whether an answer is a page whose links a browser shows (not a script or a feed,
    whose text may hold anything that looks like a link)."""
    kind = dict((k.lower(), v) for k, v in headers.items()).get('content-type', '')
    return 'html' in kind.lower()


def static_probes(values):
    """For every static alias, the URL of its first file (name order) Apache will serve:
    readable by the daemon user and reached through no symlink, which Options None refuses."""
    ids = user_ids(values.daemon.user)
    probes = []
    for url, top in values.static.urls:
        for relative in plain_files(top):
            path = os.path.join(top, relative) if relative else top
            if ids and access_problem(path, ids[0], ids[1], os.R_OK) is None:
                probes.append(url + ('/' + relative if relative else ''))
                break
    return probes


def plain_files(top):
    """Relative paths of the regular files below ``top`` ('' for ``top`` itself) in name
    order, with plain names, symlinks neither taken nor followed."""
    if is_regular(top):
        yield ''
    for folder, dirs, files in os.walk(top):  # symlinked folders are listed, not entered
        dirs[:] = sorted(d for d in dirs if PLAIN_NAME.match(d))
        for name in sorted(files):
            path = os.path.join(folder, name)
            if PLAIN_NAME.match(name) and is_regular(path):
                yield os.path.relpath(path, top).replace(os.sep, '/')


def is_regular(path):
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
