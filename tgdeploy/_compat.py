"""Every difference between Python 2.7 and 3.x that tgdeploy cares about, in one place."""
import sys

PY2 = sys.version_info[0] == 2

if PY2:  # pragma: no cover - exercised by the Python 2.7 lab
    from ConfigParser import RawConfigParser, Error as ConfigParserError  # noqa: F401
    from pipes import quote as shell_quote  # noqa: F401
    from httplib import HTTPConnection, HTTPException, HTTPSConnection  # noqa: F401
    from urlparse import urljoin, urlsplit  # noqa: F401
    from HTMLParser import HTMLParser
    html_unescape = HTMLParser().unescape
    NOT_STRICT = {}
else:
    from configparser import RawConfigParser, Error as ConfigParserError  # noqa: F401
    from shlex import quote as shell_quote  # noqa: F401
    from http.client import HTTPConnection, HTTPException, HTTPSConnection  # noqa: F401
    from urllib.parse import urljoin, urlsplit  # noqa: F401
    from html import unescape as html_unescape  # noqa: F401
    # Python 3 refuses a key repeated in a section; 2.7 (and ConfigObj files) allow it.
    NOT_STRICT = {'strict': False}


def print_line(line, stream=None):
    """print() that never fails on what the terminal cannot show: a file name the file
    system's encoding cannot decode, on a stdout with a strict encoding."""
    stream = stream or sys.stdout
    try:
        stream.write(line + '\n')
    except UnicodeError:
        # Python 2.7 writes text to a pipe as ASCII (the stream has no encoding): UTF-8 there.
        encoding = getattr(stream, 'encoding', None) or 'utf-8'
        data = (line + '\n').encode(encoding, 'backslashreplace')
        stream.write(data if PY2 else data.decode(encoding))
    try:  # a pipe (tee, a test, a service manager) sees each line as it is printed
        stream.flush()
    except (IOError, OSError, ValueError):
        pass
