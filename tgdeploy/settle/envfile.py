"""--env-file FILE: the environment the project's start-up reads, in the ``.env`` format
compose files use (``NAME=value``, ``export NAME=value``, single or double quotes, ``#``
comments).

Read when tgdeploy runs, not when the daemons start: the values are written into the
generated .wsgi (with repr, before the application is imported), which then holds them as
it holds secrets elsewhere: mode 0640, group of the daemon user. So the daemon user needs no
access to the project's .env (often the operator's own, mode 0600), the deployment does not
change behind the operator's back when the file is edited for another purpose, and the
doctor judges what is deployed. Changing the file means running tgdeploy again.
"""
import os
import re

from tgdeploy.files import textfiles
from tgdeploy._compat import PY2
from tgdeploy.errors import TgDeployError

LINE = re.compile(r'^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(=)?\s*(.*?)\s*$')
DOUBLE_ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', '"': '"', '\\': '\\', '$': '$'}
MAX_SIZE = 1024 * 1024


def read(path):
    """[(name, value)] in the file's order (a name given twice: the last value)."""
    if not os.path.isfile(path):
        raise TgDeployError('--env-file %s is not a file: name the .env file the project\'s '
                            'compose file or start-up uses' % path)
    if os.path.getsize(path) > MAX_SIZE:
        raise TgDeployError('--env-file %s is larger than 1 MiB: name a .env file' % path)
    # textfiles: any encoding, and as root no symlink followed where the owner could plant one
    # (the values end up in the .wsgi).
    text = textfiles.read_text(path, MAX_SIZE)
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        pairs.append(parse_line(path, number, line))
    if PY2:  # os.environ takes native strings there
        pairs = [(str(name), value.encode('utf-8')) for name, value in pairs]
    named = dict(pairs)
    seen, ordered = set(), []
    for name, _ in pairs:
        if name not in seen:
            seen.add(name)
            ordered.append((name, named[name]))
    return ordered


def parse_line(path, number, line):
    match = LINE.match(line)
    if not match:
        raise TgDeployError('--env-file %s line %d is not NAME=value: %s' % (
            path, number, line.strip()[:60]))
    name, equals, rest = match.groups()
    if not equals:
        raise TgDeployError('--env-file %s line %d: %s has no value (compose would take it '
                            'from its own environment, Apache has none): write %s=value'
                            % (path, number, name, name))
    return name, value_of(path, number, rest)


def value_of(path, number, rest):
    if rest.startswith('"'):
        value, end = double_quoted(rest)
    elif rest.startswith("'"):
        end = rest.find("'", 1)
        value = rest[1:end] if end > 0 else None
    else:
        # Unquoted: a " #" starts a comment.
        return re.sub(r'\s+#.*$', '', rest)
    if value is None:
        raise TgDeployError('--env-file %s line %d: a quote is not closed (values on several '
                            'lines are not read): close it on the same line' % (path, number))
    tail = rest[end + 1:].strip()
    if tail and not tail.startswith('#'):
        raise TgDeployError('--env-file %s line %d: text after the closing quote: %s'
                            % (path, number, tail[:40]))
    return value


def double_quoted(rest):
    """(value, index of the closing quote) of a double-quoted value, escapes applied."""
    out, index = [], 1
    while index < len(rest):
        char = rest[index]
        if char == '\\' and index + 1 < len(rest):
            following = rest[index + 1]
            out.append(DOUBLE_ESCAPES.get(following, '\\' + following))
            index += 2
            continue
        if char == '"':
            return ''.join(out), index
        out.append(char)
        index += 1
    return None, -1
