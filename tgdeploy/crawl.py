"""--check's requests through the private Apache: the application's landing page (its
redirects followed), every same-origin link under the mount that page shows (at most
MAX_LINKS), and one file under every static alias. Each answer of 400 or more is a finding
with the error-log lines that request caused."""
import os
import re
import stat
import time

from tgdeploy import preflight
from tgdeploy.access import access_problem, user_ids
from tgdeploy._compat import urljoin, urlsplit

MAX_REDIRECTS = 5
MAX_LINKS = 30
LINK = re.compile(r'''(?:href|src)\s*=\s*["']([^"'#]+)''', re.I)
# A form is followed only when a browser would GET its action: posting it takes input the
# crawler does not have, and a GET of a POST handler is a 500 of the crawler's making.
FORM = re.compile(r'<form\b([^>]*)>', re.I)
ATTRIBUTE = re.compile(r'''\b(method|action)\s*=\s*["']([^"'#]*)''', re.I)
# A name Apache serves as it is: no URL quoting needed, and no dot file (many configs deny
# those, Debian's .ht* for one), so the probe never reports a 403 or 404 of its own making.
PLAIN_NAME = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9._~-]*$')


def crawl(apache, values, out):
    """The findings of the crawl; every request is printed with its status and time."""
    findings = []
    host = values['server_name'] and '%s:%d' % (values['server_name'], apache.port)
    start = values['mount'] if values['mount'] == '/' else values['mount'] + '/'
    landing, body = follow(apache, start, host, values, out, findings)
    links = [p for p in links_under(body, landing, values) if p != start][:MAX_LINKS]
    for path in links + [p for p in static_probes(values) if p not in links]:
        request(apache, path, host, values, out, findings)
    return findings


def follow(apache, path, host, values, out, findings):
    """GET ``path``, following redirects under the mount; (final path, body)."""
    for _ in range(MAX_REDIRECTS + 1):
        status, headers, body = request(apache, path, host, values, out, findings, wait=True)
        location = headers.get('Location') or headers.get('location')
        target = location and same_origin_path(urljoin(path, location), values)
        if status not in (301, 302, 303, 307, 308) or not target:
            return path, body
        path = target
    return path, ''


def request(apache, path, host, values, out, findings, wait=False):
    before = len(apache.error_log())
    started = time.time()
    get = apache.wait_for_answer if wait else apache.get
    try:
        status, headers, body = get(path, host=host)
    except (IOError, OSError) as error:  # no answer at all: refused, reset, timed out
        out('check: GET %s -> no answer in %.3f s (%s)' % (path, time.time() - started, error))
        findings.append(preflight.Finding(
            preflight.ERROR, 'GET %s got no answer (%s): see the error log lines above and %s'
            % (path, error, values['conf_file'])))
        show_log_since(apache, before, out)
        return 0, {}, ''
    out('check: GET %s -> %d in %.3f s' % (path, status, time.time() - started))
    if status >= 400:
        findings.append(preflight.Finding(
            preflight.ERROR, 'GET %s answered %d: see the error log lines above and %s'
            % (path, status, values['conf_file'])))
        show_log_since(apache, before, out)
    return status, headers, body


def show_log_since(apache, before, out):
    for line in apache.error_log()[before:].strip().splitlines()[-8:]:
        out('  | ' + line)


def links_under(body, page, values):
    """Same-origin links of an HTML page under the mount, in page order, each once."""
    found = []
    for link in LINK.findall(body) + get_form_actions(body):
        path = same_origin_path(urljoin(page, link.strip()), values)
        if path and path not in found and path != page:
            found.append(path)
    return found


def get_form_actions(body):
    actions = []
    for attributes in FORM.findall(body):
        form = dict((name.lower(), value) for name, value in ATTRIBUTE.findall(attributes))
        if form.get('action') and form.get('method', 'get').strip().lower() == 'get':
            actions.append(form['action'])
    return actions


def same_origin_path(url, values):
    """The path (and query) of ``url`` if it stays on this server under the mount."""
    parts = urlsplit(url)
    hosts = ('127.0.0.1', 'localhost', values['server_name'])
    if parts.scheme not in ('', 'http', 'https') or (parts.netloc and
                                                     parts.hostname not in hosts):
        return None
    mount, path = values['mount'], parts.path or '/'
    if mount != '/' and path != mount and not path.startswith(mount + '/'):
        return None
    return path + ('?' + parts.query if parts.query else '')


def static_probes(values):
    """For every static alias, the URL of its first file (name order) Apache will serve:
    readable by the daemon user and reached through no symlink, which Options None refuses."""
    ids = user_ids(values['user'])
    probes = []
    for url, top in values['static_urls']:
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
