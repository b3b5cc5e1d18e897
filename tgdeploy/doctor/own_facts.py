"""The facts a project's own Apache config, Dockerfile, compose file, systemd unit,
supervisor config or shell start script states (own_python.py reads the Python ones).

Each reader returns [(line number, fact name, details...)]; own_findings.py judges them.
Facts: ('locale', name), ('env', name, value or None), ('path', folder, how),
('pass_authorization',), ('maximum_requests', n), ('threads', n), ('processes', n),
('user', name), ('group', name), ('alias', directive, url, target, mount),
('script_alias', directive), ('mount', url), ('limit_request_body', n).
"""
import re

LOCALE_ENV = ('LANG', 'LC_ALL', 'LC_CTYPE')


def logical_lines(text, comment='#'):
    """[(first line number, line)] with backslash continuations joined, comments dropped."""
    found, pending, start = [], '', 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
            if line.strip().startswith(comment):
                continue
        if line.endswith('\\'):
            pending += line[:-1] + ' '
            continue
        found.append((start, pending + line))
        pending = ''
    if pending:
        found.append((start, pending))
    return found


def words(text):
    """Words as Apache, a shell or a Dockerfile splits them: quotes removed, backslash
    escapes applied. (shlex cannot: on Python 2.7 it fails on non-ASCII text.)"""
    return [QUOTED_PIECE.sub(unescape, word) for word in WORD.findall(text)]


WORD = re.compile(r'(?:"(?:[^"\\]|\\.)*"|\'[^\']*\'|\\.|[^\s"\'\\])+')
QUOTED_PIECE = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|\\(.)')


def unescape(piece):
    double, single, escaped = piece.groups()
    if double is not None:
        return re.sub(r'\\([\\"$`])', r'\1', double)
    return single if single is not None else escaped


def env_facts(number, pairs):
    """The facts (name, value) pairs of the environment state; a value that is not a
    literal (None, or naming another variable) is not shown."""
    facts = []
    for name, value in pairs:
        literal = value if value and '$' not in value else None
        if name == 'PYTHONPATH':
            facts += [(number, 'path', p, 'PYTHONPATH') for p in (value or '').split(':')
                      if p and '$' not in p]
        elif name in LOCALE_ENV:
            facts.append((number, 'locale', literal))
        else:
            facts.append((number, 'env', name, literal))
    return facts


def apache_facts(text):
    facts, mount, unused = [], None, 0
    for number, line in logical_lines(text):
        parts = words(line)
        if not parts:
            continue
        name, args = parts[0].lower(), parts[1:]
        # <IfModule !mod_wsgi.c> holds what Apache does without mod_wsgi: never here.
        if unused or name == '<ifmodule' and args[:1] and \
                args[0].startswith(('!mod_wsgi', '!wsgi_module')):
            unused += (name == '<ifmodule') - (name == '</ifmodule>')
            continue
        if name == 'wsgidaemonprocess':
            facts += daemon_facts(number, args[1:])
        elif name == 'wsgipassauthorization' and args and args[0].lower() == 'on':
            facts.append((number, 'pass_authorization'))
        elif name == 'wsgipythonpath' and args:
            facts += [(number, 'path', p, 'WSGIPythonPath') for p in args[0].split(':') if p]
        elif name == 'setenv' and args:
            facts += env_facts(number, [(args[0], ' '.join(args[1:]))])
        elif name in ('alias', 'aliasmatch') and len(args) >= 2:
            facts.append((number, 'alias', ' '.join(parts[:3]), args[0], args[1]))
        elif name == 'wsgiscriptalias' and args and mount is None:
            mount = args[0].rstrip('/') or '/'
            facts.append((number, 'mount', mount))
        elif name in ('wsgiscriptalias', 'wsgiscriptaliasmatch') and len(args) >= 2:
            facts.append((number, 'script_alias', ' '.join(parts[:3])))
        elif name == 'limitrequestbody' and args and args[0].isdigit():
            facts.append((number, 'limit_request_body', int(args[0])))
    # Aliases are compared under the file's own mount: /accounts/static there is /static here.
    return [f + (mount,) if f[1] == 'alias' else f for f in facts]


def daemon_facts(number, options):
    facts = []
    for option in options:
        key, _, value = option.partition('=')
        key = key.lower()
        if key in ('threads', 'processes', 'maximum-requests') and value.isdigit():
            facts.append((number, key.replace('-', '_'), int(value)))
        elif key == 'python-path':
            facts += [(number, 'path', p, 'python-path=') for p in value.split(':') if p]
        elif key in ('lang', 'locale') and value:
            facts.append((number, 'locale', value))
        elif key in ('user', 'group') and value:
            facts.append((number, key, value))
    return facts


def docker_facts(text):
    facts = []
    for number, line in logical_lines(text):
        match = re.match(r'^\s*ENV\s+(.*)$', line, re.I)
        if not match:
            continue
        rest = match.group(1).strip()
        if re.match(r'^[A-Za-z_]\w*=', rest):
            pairs = [w.partition('=')[::2] for w in words(rest)]
        else:  # ENV NAME the rest of the line
            name, _, value = rest.partition(' ')
            pairs = [(name, ' '.join(words(value)))]
        facts += env_facts(number, pairs)
    return facts


def compose_facts(text):
    """The environment of the services the compose file builds from the project (of all
    when it builds none): a database service's POSTGRES_PASSWORD is not the application's."""
    found, built, keys, service, in_environment = [], set(), [], None, None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        depth = len(line) - len(line.lstrip())
        if in_environment is not None and depth > in_environment:
            item = re.match(r'^\s*-\s*(.*)$', line)
            if item:
                name, sep, value = yaml_scalar(item.group(1)).partition('=')
            else:
                name, sep, value = line.partition(':')
                value = yaml_scalar(value)
            found += [(service, f) for f in env_facts(number, [(name.strip(), value)])
                      if re.match(r'^[A-Za-z_]\w*$', name.strip())]
            continue
        in_environment = None
        key = re.match(r'^\s*([\w.-]+)\s*:\s*(.*)$', line)
        if not key:
            continue
        while keys and keys[-1][0] >= depth:
            keys.pop()
        keys.append((depth, key.group(1)))
        names = [k for _, k in keys]
        service = names[1] if names[0] == 'services' and len(names) > 1 else names[0]
        if key.group(1) == 'build':
            built.add(service)
        elif key.group(1) == 'environment' and not key.group(2):
            in_environment = depth
    return [f for service, f in found if service in built or not built]


def yaml_scalar(value):
    """A YAML value without its quotes or a trailing comment."""
    value = value.strip()
    quoted = re.match(r'^"([^"]*)"|^\'([^\']*)\'', value)
    if quoted:
        return quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
    return re.sub(r'(^|\s+)#.*$', '', value)


def systemd_facts(text):
    facts = []
    for number, line in logical_lines(text):
        match = re.match(r'^\s*Environment\s*=\s*(.*)$', line)
        if match:
            pairs = [w.partition('=') for w in words(match.group(1))]
            facts += env_facts(number, [(n, v) for n, sep, v in pairs if sep])
    return facts


def supervisor_facts(text):
    facts = []
    for number, line in logical_lines(text, comment=';'):
        match = re.match(r'^\s*environment\s*=\s*(.*?)(\s+;.*)?$', line)
        if match:
            pairs = [(n, unquote(v.rstrip(','))) for n, v in
                     re.findall(r'([A-Za-z_]\w*)=("[^"]*"|\'[^\']*\'|[^,]*)', match.group(1))]
            facts += env_facts(number, pairs)
    return facts


def unquote(value):
    if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
        return value[1:-1]
    return value


def shell_facts(text):
    """What a shell start script puts in the environment: exported assignments, those
    before a command (LANG=C exec ...), and the locale (exported already)."""
    exported = set(re.findall(r'^\s*export\s+([A-Za-z_]\w*)\s*$', text, re.M))
    facts = []
    for number, line in logical_lines(text):
        match = re.match(r'^\s*(export\s+)?([A-Za-z_]\w*=.*)$', line)
        if not match:
            continue
        parts = words(match.group(2))
        pairs = []
        for word in parts:
            name, sep, value = word.partition('=')
            if not sep or not re.match(r'^[A-Za-z_]\w*$', name):
                break  # the command the assignments are for
            pairs.append((name, value))
        command = len(pairs) < len(parts)
        facts += env_facts(number, [(n, v) for n, v in pairs if match.group(1) or command or
                                    n in exported or n in LOCALE_ENV])
    return facts
