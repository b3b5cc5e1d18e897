"""What --check's crawler reads in a page: its links, its assets (scripts, stylesheets,
images) and the GET forms, each as a path on this server; and the request target a path is
sent as. Total functions: whatever a page holds (``'/+ image +'`` built by JavaScript,
``http://[::1``, ``//evil``, ``javascript:``, control characters, huge ports, any script),
nothing here raises."""
import re

from tgdeploy._compat import html_unescape, urljoin, urlsplit

TAG = re.compile(r'<(a|area|link|script|img|iframe|source|form|input)\b([^>]*)>', re.I)
ATTRIBUTE = re.compile(r'''([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))''')
# What a script writes, and what a comment holds, is no link of the page.
SCRIPT_BODY = re.compile(r'(<script\b[^>]*>).*?(</script\s*>|\Z)', re.I | re.S)
COMMENT = re.compile(r'<!--.*?(-->|\Z)', re.S)
ASSET_RELS = ('stylesheet', 'icon', 'shortcut', 'apple-touch-icon', 'preload', 'modulepreload')
LOGIN_FORM = re.compile(r'<input\b[^>]*\btype\s*=\s*["\']?password', re.I)
# Longer request targets are no link a user follows (and Apache refuses them: 8190 bytes).
MAX_TARGET = 4000
# Bytes a request target carries as they are; the rest is percent-encoded as browsers do.
UNRESERVED = re.compile(r'''[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%\[\]]''')


class Page(object):
    """The links (pages to visit) and assets of an HTML page, as absolute URLs in page
    order, each once."""

    def __init__(self, body, page_url):
        self.links, self.assets = [], []
        text = COMMENT.sub('', SCRIPT_BODY.sub(r'\1\2', body or ''))
        for tag, attributes in TAG.findall(text):
            self.add(tag.lower(), dict(attribute_pairs(attributes)), page_url)

    def add(self, tag, attributes, page_url):
        if tag in ('script', 'img', 'source', 'iframe') or (tag == 'input' and
                                                             attributes.get('src')):
            self.found(self.assets if tag != 'iframe' else self.links,
                       attributes.get('src'), page_url)
        elif tag == 'link':
            rels = attributes.get('rel', '').lower().split()
            if any(rel in ASSET_RELS for rel in rels):
                self.found(self.assets, attributes.get('href'), page_url)
        elif tag == 'form':
            if attributes.get('action') and \
                    attributes.get('method', 'get').strip().lower() == 'get':
                self.found(self.links, attributes['action'], page_url)
        else:
            self.found(self.links, attributes.get('href'), page_url)

    def found(self, where, link, page_url):
        url = absolute(page_url, link)
        if url and url not in where:
            where.append(url)


def attribute_pairs(text):
    for name, double, single, bare in ATTRIBUTE.findall(text):
        yield name.lower(), unescape(double or single or bare).strip()


def unescape(value):
    try:
        return html_unescape(value)
    except (ValueError, OverflowError):  # Python 2.7's, on a character reference out of range
        return value


def absolute(page_url, link):
    """``link`` resolved against ``page_url``, without its fragment; None for none."""
    if not link:
        return None
    link = link.split('#', 1)[0]
    if not link:
        return None
    try:
        return urljoin(page_url, link)
    except ValueError:  # http://[::1 and its kind: no URL at all
        return None


def is_login_form(body):
    """A page with a password field: a login form, whatever the status it comes with."""
    return bool(body and re.search(r'<form\b', body, re.I) and LOGIN_FORM.search(body))


def on_this_server(url, hosts, ports=(None,)):
    """The path (and query) of ``url`` if it names this server (a path, or an http(s) URL of
    one of ``hosts`` on no port or one of ``ports``); None otherwise."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:  # http://[::1, a port out of range
        return None
    if parts.scheme.lower() not in ('', 'http', 'https'):
        return None  # javascript:, mailto:, data: ...
    if parts.netloc and (host not in hosts or port not in tuple(ports) + (None,)):
        return None
    if port is None and re.search(r':\d+$', parts.netloc):
        return None  # Python 2.7's urlsplit gives no port for one out of range
    if not parts.netloc and url.startswith('//'):
        return None
    path = parts.path or '/'
    if not path.startswith('/'):
        return None
    return path + ('?' + parts.query if parts.query else '')


def under_mount(path, mount):
    if mount == '/':
        return True
    plain = path.split('?', 1)[0]
    return plain == mount or plain.startswith(mount + '/')


def request_target(path):
    """``path`` as an HTTP request target: every character outside what a URL carries as it
    is percent-encoded in UTF-8, as a browser sends it; None when too long to be a link."""
    def quote(match):
        char = match.group(0)
        try:
            data = char.encode('utf-8')
        except UnicodeError:  # a lone surrogate
            data = b'?'
        return ''.join('%%%02X' % byte for byte in bytearray(data))
    target = UNRESERVED.sub(quote, path)
    return str(target) if len(target) <= MAX_TARGET else None
