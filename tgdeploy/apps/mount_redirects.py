"""Redirects under the mount, for a CherryPy application served at a sub-URL.

CherryPy resolves ``raise cherrypy.HTTPRedirect('/login/')`` against the host, not against
the application's mount (``urljoin(cherrypy.url(), '/login/')``): run by itself at / the
application means its own /login/, and that is what it wrote; mounted at /sub, the browser
is sent to /login/ on the same host, another site's URL (a 404 or someone else's page).
Apache's ProxyPassReverse does the same mending for a proxied application: a ``Location``
on this host whose path is outside the mount gets the mount put in front. Links in page
bodies are left alone (``--check`` names those that leave the mount).
"""
try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # Python 2.7
    from urlparse import urlsplit, urlunsplit


def wrap(app):
    """``app`` with its redirects kept under the mount (SCRIPT_NAME, per request)."""
    def application(environ, start_response):
        mount = environ.get('SCRIPT_NAME', '').rstrip('/')
        if not mount:
            return app(environ, start_response)

        def start(status, headers, exc_info=None):
            headers = [(name, under_mount(value, mount, environ)
                        if name.lower() == 'location' else value) for name, value in headers]
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)
        return app(environ, start)
    return application


def under_mount(location, mount, environ):
    """``location`` with ``mount`` in front of its path, when it points at this host outside
    the mount; else as it is."""
    try:
        parts = urlsplit(location)
    except ValueError:
        return location
    if parts.netloc and parts.netloc.lower() not in hosts(environ):
        return location
    if not parts.netloc and (parts.scheme or not parts.path.startswith('/')):
        return location  # relative to the page: already under the mount
    path = parts.path or '/'
    if path == mount or path.startswith(mount + '/'):
        return location
    return urlunsplit((parts.scheme, parts.netloc, mount + path, parts.query, parts.fragment))


def hosts(environ):
    """The names this request reached the application by."""
    found = set()
    for key in ('HTTP_HOST', 'HTTP_X_FORWARDED_HOST'):
        for value in (environ.get(key) or '').split(','):
            if value.strip():
                found.add(value.strip().lower())
    name, port = environ.get('SERVER_NAME', ''), environ.get('SERVER_PORT', '')
    if name:
        found.add(name.lower())
        found.add(('%s:%s' % (name, port)).lower())
    return found
