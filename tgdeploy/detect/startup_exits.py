"""Where the start-up to replay (startup_script.py) stops itself before it serves: a
``sys.exit(...)`` (or ``raise SystemExit``) under an ``if`` whose condition is not about its
command line (under Apache it has none, its options keep their defaults). Such a start-up
answers every request with a 500 until the user gives it what it stops for, most often a
setting in its own config file (``config['media.basedir'] is None``) or the file itself
(``not os.path.exists(CONFIG)``). Read from the text, never run: the report and the doctor
name each such condition, where it is and the setting it reads, so the user learns it
before serving and not from the error log.
"""
import os
import re

EXIT = re.compile(r'(?<![\w.])(?:sys\.exit|exit|quit)\s*\(|\braise\s+SystemExit\b')
PARSED = re.compile(r'^[ \t]*\(?[ \t]*([\w \t,]+?)[ \t]*\)?[ \t]*=(?!=)[^=\n]*?'
                    r'\bparse_(?:known_)?args\s*\(', re.M)
GUARD = re.compile(r'^(if|elif)\s+(.*?)\s*:\s*(#.*)?$')
# A setting read by name: config['section.key'], config.get('key'), conf['a']['b'].
SETTING = re.compile(r'\[\s*[\'"]([\w.-]+)[\'"]\s*\](?:\s*\[\s*[\'"]([\w.-]+)[\'"]\s*\])?'
                     r'|\.get\s*\(\s*[\'"]([\w.-]+)[\'"](?:\s*,\s*[\'"]([\w.-]+)[\'"])?')
MAX_STOPS = 6


class Stop(object):
    """One condition under which the start-up exits: its text, the file:line of the exit,
    and the setting the condition reads (or None)."""

    def __init__(self, condition, where, setting):
        self.condition = condition
        self.where = where
        self.setting = setting

    def describe(self):
        if self.setting:
            return 'when its setting %s is missing or empty (%s, at %s)' % (
                self.setting, self.condition, self.where)
        return 'when %s (at %s)' % (self.condition, self.where)


def find(found, project_dir, read_text, module_file, serving):
    """[Stop] of a StartUp: its own file (the main block, or the function called), and where
    a class's method serves, that class in the serving module (``serving``: the pattern of
    its serving call)."""
    sources = [(found.path, read_text(found.path))]
    if found.in_class and found.serving_module:
        path = module_file(project_dir, found.serving_module)
        if path and path != found.path:
            sources.append((path, serving_class(read_text(path), serving)))
    stops, seen = [], set()
    for path, text in sources:
        for stop in stops_in(text, os.path.relpath(path, project_dir)):
            if stop.condition not in seen:
                seen.add(stop.condition)
                stops.append(stop)
    return stops[:MAX_STOPS]


def serving_class(text, serving):
    """Only the body of the class whose method serves (other lines blanked, numbers kept):
    the rest of that module runs for other commands, not for this start-up."""
    match = serving.search(text)
    if not match:
        return ''
    lines = text.splitlines()
    start = text[:match.start()].count('\n')
    while start > 0 and not re.match(r'^class\s', lines[start]):
        start -= 1
    end = start + 1
    while end < len(lines) and (not lines[end][:1].strip() or lines[end][:1] in '#)'):
        end += 1
    return '\n'.join(line if start <= n < end else '' for n, line in enumerate(lines))


def stops_in(text, name):
    lines = text.splitlines()
    parsed = command_line_names(text)
    found = []
    for match in EXIT.finditer(text):
        number = text[:match.start()].count('\n')  # 0-based
        condition = guard(lines, number)
        if not condition or about(condition, parsed):
            continue
        found.append(Stop(condition, '%s:%d' % (name, number + 1), setting_of(condition)))
    return found


def command_line_names(text):
    """The names the parsed command line is kept in (``args = parser.parse_args()``)."""
    names = set()
    for match in PARSED.finditer(text):
        names.update(n.strip() for n in match.group(1).split(',') if n.strip())
    return names


def about(condition, parsed):
    """Whether a condition is about the command line or the module's name: not a stop."""
    if re.search(r'\b__name__\b|\bsys\.argv\b', condition):
        return True
    return any(re.search(r'(?<![\w.])%s\b' % re.escape(name), condition) for name in parsed)


def guard(lines, number):
    """The condition of the innermost ``if``/``elif`` holding line ``number`` (through
    ``try``, ``with``, ``for`` blocks; ``else:`` is its ``if``'s condition negated), or None
    when a ``def``/``class`` or the top level comes first."""
    indent = indent_of(lines[number])
    negate = False
    for index in range(number - 1, -1, -1):
        line = lines[index]
        if not line.strip() or indent_of(line) > indent or (
                indent_of(line) == indent and not negate):
            continue
        if negate and indent_of(line) == indent:
            match = GUARD.match(line.strip())  # the if of that else
            if match:
                return negated(' '.join(match.group(2).split()))
            continue
        if negate:
            return None
        indent = indent_of(line)
        stripped = line.strip()
        if stripped.startswith(('def ', 'class ', 'async def ')):
            return None
        if re.match(r'^else\s*:', stripped):
            negate = True
            continue
        match = GUARD.match(stripped)
        if match:
            return ' '.join(match.group(2).split())
    return None


def negated(condition):
    if condition.startswith('not '):
        return condition[4:].strip()
    return 'not (%s)' % condition


def indent_of(line):
    return len(line) - len(line.lstrip())


def setting_of(condition):
    """The setting a condition reads by name, dotted (``media.basedir``), or None."""
    match = SETTING.search(condition)
    if not match:
        return None
    parts = [p for p in match.groups() if p]
    return '.'.join(parts)
