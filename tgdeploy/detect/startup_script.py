"""Which start-up of the project's own the deployment replays (apps/replay.py), read from
its text, never run: a CherryPy script or function that ends in ``cherrypy.quickstart(...)``
or ``tree.mount(...)`` + ``engine.start()/block()``, a TurboGears 1 start script or
``command(s).start()`` ending in ``start_server(Root())``.

Also what such a start-up does that a replay cannot carry (it forks or daemonizes itself,
it wants command-line arguments), what it does that the host does instead (left out), and
the environment variables it reads.
"""
import os
import re

from tgdeploy.detect import module_app, startup_chain, startup_exits
from tgdeploy.errors import TgDeployError
from tgdeploy.detect.projectfiles import code_lines, module_of, python_files, read_text as read_file

CHERRYPY_START = re.compile(r'\b(?:cherrypy\.)?quickstart\s*\(|\btree\.mount\s*\(')
CHERRYPY_SERVE = re.compile(r'\bquickstart\s*\(|\bengine\.(?:start|block)\s*\(')
TG1_START = re.compile(r'\bstart_server\s*\(')
MAIN_BLOCK = re.compile(r'^if\s+__name__\s*==\s*[\'"]__main__[\'"]\s*:', re.M)
SCRIPT_NAMES = re.compile(r'^(start[-_].*|run.*|serve.*|server|main|app|manage|'
                          r'__main__)\.py$')
# What a replay cannot carry: the start-up would run in every daemon process of Apache.
IMPOSSIBLE = (
    (re.compile(r'\bos\.fork\s*\('), 'forks (os.fork)'),
    (re.compile(r'\bos\.setsid\s*\('), 'starts a session of its own (os.setsid)'),
    (re.compile(r'\bDaemonContext\s*\('), 'daemonizes itself (python-daemon)'),
    (re.compile(r'\bos\.exec\w*\s*\(|\bsubprocess\.\w+\s*\([^)]*sys\.argv'),
     'runs itself again (os.exec*)'),
)
# What the host does instead: dropped from the replay, said in the report.
LEFT_OUT = (
    (re.compile(r'\bDaemonizer\s*\('), 'Daemonizer (Apache starts the processes)'),
    (re.compile(r'\bPIDFile\s*\('), 'PIDFile (Apache keeps the pids)'),
    (re.compile(r'\bDropPrivileges\s*\('), 'DropPrivileges (the daemons run as --user)'),
    (re.compile(r'\bsignal_handler\b|\bengine\.signals\b'), 'signal handlers (Apache\'s)'),
    (re.compile(r'\bserver\.socket_(?:host|port)\b|\bsocket_(?:host|port)\s*[\'"]?\s*[:=]'),
     'the listening address (Apache\'s)'),
    (re.compile(r'\bengine\.block\s*\(|\bquickstart\s*\('), 'blocking to serve'),
)
ARGV_INDEX = re.compile(r'\bsys\.argv\s*\[\s*(\d+)\s*\]')
ARGV_GUARD = re.compile(r'\blen\s*\(\s*sys\.argv\s*\)|\bsys\.argv\s*\[\s*\d*\s*:')
PARSERS = re.compile(r'\b(?:optparse|argparse|OptionParser|ArgumentParser|getopt)\b')
POSITIONAL = re.compile(r'\badd_argument\s*\(\s*[\'"]([A-Za-z_]\w*)[\'"]\s*(\)|,(?![^)]*nargs'
                        r'\s*=\s*[\'"][?*][\'"]))')
ADD_ARGUMENT = re.compile(r'\badd_argument\s*\(')
REQUIRED = re.compile(r'\brequired\s*=\s*True\b')
ENV_READ = re.compile(r'\bos\.environ\s*\[\s*[\'"](\w+)[\'"]\s*\](?!\s*=[^=])'
                      r'|\b(?:os\.environ\.get|os\.getenv)\s*\(\s*[\'"](\w+)[\'"]\s*(,)?')
FROM_OS = re.compile(r'^\s*from\s+os\s+import\s+[^\n]*\b(?:environ|getenv)\b', re.M)
BARE_ENV_READ = re.compile(r'(?<![\w.])environ\s*\[\s*[\'"](\w+)[\'"]\s*\](?!\s*=[^=])'
                           r'|(?<![\w.])(?:environ\.get|getenv)\s*\(\s*[\'"](\w+)[\'"]\s*(,)?')
CONFIG_IN_CODE = re.compile(r'\bupdate_config\(\s*\{|\bconfig\.update\(')
LOCAL_IMPORT = re.compile(r'^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))', re.M)


class StartUp(object):
    """The start-up to replay: ``script`` (run as __main__) or ``call`` (module:function),
    the file it was read from, and what was seen in it."""

    def __init__(self, path, call, server_start, line, how):
        self.path = path
        self.call = call
        self.script = None if call else path
        self.server_start = server_start
        self.line = line
        self.how = how  # 'option' or 'detected'
        self.impossible = []
        self.left_out = []
        self.argv_note = None
        self.env_reads = []  # [(name, has a default, file, line)]
        self.imported = []  # the project modules the start-up file imports
        # Settings made in code (update_config({...}), config.update, the environment):
        # what only a replay of the start-up sees (README step 2, TurboGears 1.x).
        self.sets_config = False
        self.in_class = False  # started by a class's method (startup_chain.py)
        self.serving_module = None  # the module of that class
        self.stops = []  # [startup_exits.Stop]: where it exits before serving, and why
        # The start-up is importing ``call`` (a module making its WSGI ``application``:
        # module_app.py); the application served is what it assigns there.
        self.imports_module = False

    def describe(self, directory):
        where = '%s:%d' % (os.path.relpath(self.path, directory), self.line)
        what = self.server_start and '%s (%s)' % (where, self.server_start) or where
        return '%s%s%s' % (self.call and self.call + ' in ' or '', what,
                           self.how == 'option' and ' (--startup-script)' or '')


def read_text(path):
    """The file's code: comments and docstrings blanked, line numbers kept."""
    lines = read_file(path).splitlines()
    kept = dict(code_lines('\n'.join(lines)))
    return '\n'.join(kept.get(n, '') for n in range(1, len(lines) + 1)) + '\n'


def find(directory, flavor, package_dir=None):
    """The StartUp the project starts itself with, or None."""
    if flavor == 'cherrypy':
        found = module_application(directory)
        if found is not None:
            return found
        candidates = [p for p in python_files(directory) if not aside(directory, p) and
                      serves_cherrypy(read_text(p))]
    elif flavor == 'tg1':
        candidates = tg1_candidates(directory, package_dir)
    else:
        return None
    candidates.sort(key=lambda p: (not is_script(directory, p), p.count(os.sep), p))
    for path in candidates:
        found = read_startup(directory, path, flavor, 'detected')
        if found:
            return found
    if flavor == 'cherrypy':
        return in_class(directory, candidates)
    return None


def module_application(directory):
    """The module that makes the project's WSGI ``application`` when imported
    (module_app.py), as the StartUp to replay, or None."""
    made = module_app.find(directory, [p for p in python_files(directory)
                                       if not aside(directory, p)], read_text, module_of)
    if made is None:
        return None
    path, module, line, statement = made
    found = StartUp(path, module, statement, line, 'detected')
    found.imports_module = True
    found.serving_module = module
    imported = module_app.top_level(read_text(path))
    inspect(found, imported, 'cherrypy', directory)
    # What importing it runs, not its run()/main(): that starts the server it replaces.
    found.left_out = [what for pattern, what in LEFT_OUT if pattern.search(imported)]
    found.stops = startup_exits.stops_in(imported, os.path.relpath(path, directory))
    return found


def in_class(directory, candidates):
    """The script that starts a class's serving method (startup_chain.py), or None."""
    serving = []
    for path in candidates:
        text = read_text(path)
        match = CHERRYPY_SERVE.search(text)
        if match and enclosing_function(text, match.start()) is IN_CLASS:
            serving.append((path, text, match.start()))
    chain = startup_chain.find(directory, serving, read_text, MAIN_BLOCK)
    if chain is None:
        return None
    script, server_start, line, serving_path = chain
    found = StartUp(script, None, server_start, line, 'detected')
    found.in_class = True
    found.serving_module = module_of(directory, serving_path)
    return inspect(found, read_text(script), 'cherrypy', directory)


def aside(directory, path):
    """Tests, documentation and examples: they start servers of their own."""
    parts = os.path.relpath(path, directory).split(os.sep)
    return bool(set(p.lower() for p in parts[:-1]) & set(ASIDE)) or \
        parts[-1].startswith(('test_', 'tests.', 'conftest'))


ASIDE = ('test', 'tests', 'doc', 'docs', 'example', 'examples', 'demo', 'demos', 'tutorial',
         'tutorials', 'benchmark', 'bench')


def serves_cherrypy(text):
    return bool(re.search(r'^\s*(import|from)\s+cherrypy\b', text, re.M) and
                CHERRYPY_START.search(text) and CHERRYPY_SERVE.search(text))


def tg1_candidates(directory, package_dir):
    names = sorted(n for n in os.listdir(directory) if n.startswith('start-') and
                   n.endswith('.py'))
    paths = [os.path.join(directory, n) for n in names]
    if package_dir:
        paths += [os.path.join(package_dir, n) for n in ('command.py', 'commands.py')]
    return [p for p in paths if os.path.isfile(p)]


def is_script(directory, path):
    """A file run by name: not in a package, or named like a start script."""
    return not os.path.isfile(os.path.join(os.path.dirname(path), '__init__.py')) or \
        bool(SCRIPT_NAMES.match(os.path.basename(path)))


def given(directory, value, flavor):
    """--startup-script PATH (a script, run as __main__) or package.module:function."""
    if re.match(r'^[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z', value) and not os.path.exists(
            os.path.join(directory, value)):
        module, _, function = value.partition(':')
        path = module_file(directory, module)
        if not path:
            raise TgDeployError('--startup-script %s: no module %s in %s: name a script or '
                                'package.module:function of the project' % (value, module,
                                                                            directory))
        found = StartUp(path, value, None, 1, 'option')
        return inspect(found, read_text(path), flavor, directory)
    path = os.path.abspath(os.path.join(directory, value))
    if not os.path.isfile(path) or not (path.endswith('.py') or
                                        startup_chain.python_script(path)):
        raise TgDeployError('--startup-script %s is not a Python file: name the script the '
                            'project starts with (start-NAME.py), package.module:function, '
                            'or no' % value)
    found = read_startup(directory, path, flavor, 'option')
    if found is None:
        found = inspect(StartUp(path, None, None, 1, 'option'), read_text(path), flavor,
                        directory)
    return found


def module_file(directory, module):
    for root in (os.path.join(directory, 'src'), directory):
        base = os.path.join(root, *module.split('.'))
        for path in (base + '.py', os.path.join(base, '__init__.py')):
            if os.path.isfile(path):
                return path
    return None


def read_startup(directory, path, flavor, how):
    """The StartUp ``path`` holds: run as __main__ if it has a main block or is a script,
    else the top-level function that starts the server, called."""
    text = read_text(path)
    pattern = TG1_START if flavor == 'tg1' else CHERRYPY_SERVE
    match = pattern.search(text)
    if flavor == 'tg1' and not match:
        match = re.search(r'^\s+(?:\w+\.)?start\s*\(\s*\)', text, re.M) if MAIN_BLOCK.search(
            text) else None
    if not match:
        return None
    line = text[:match.start()].count('\n') + 1
    start_line = text[match.start():].split('\n', 1)[0].strip()
    function = enclosing_function(text, match.start())
    if function is IN_CLASS:
        return None
    call = None
    in_package = os.path.isfile(os.path.join(os.path.dirname(path), '__init__.py'))
    if not MAIN_BLOCK.search(text) and in_package and function:
        if how != 'option' and not START_FUNCTIONS.match(function):
            return None
        call = '%s:%s' % (module_of(directory, path), function)
    elif function and not MAIN_BLOCK.search(text) and not re.search(
            r'^%s\s*\(' % re.escape(function), text, re.M):
        return None  # a function nobody calls when the file runs
    found = StartUp(path, call, start_line, line, how)
    return inspect(found, text, flavor, directory)


def enclosing_function(text, offset):
    """The top-level def holding ``offset``, if any; IN_CLASS inside a class (a method
    cannot be replayed on its own)."""
    name = None
    for line in text[:offset].splitlines():
        if line[:1].strip() and not line.startswith(('#', '@', ')')):
            match = re.match(r'^(def|class)\s+(\w+)', line)
            name = match and (match.group(2) if match.group(1) == 'def' else IN_CLASS)
    return name


IN_CLASS = object()
# A package's function that is the project's start-up by its name (else one that starts a
# server in a thread, a library's helper such as dowser's, is not).
START_FUNCTIONS = re.compile(r'^(main|start|run|serve|server|start_server|run_server|'
                             r'runserver|start_app|run_app|serve_forever)$')


def region(text, pattern):
    """The part of ``text`` that starts the server: the top-level function holding the
    first ``pattern`` match, else the whole text."""
    match = pattern.search(text)
    function = match and enclosing_function(text, match.start())
    if not function or function is IN_CLASS:
        return text
    body = re.search(r'^def\s+%s\b.*?(?=^\S|\Z)' % re.escape(function), text, re.M | re.S)
    return body.group(0) if body else text


def inspect(found, text, flavor, directory):
    """What the start-up does that the replay cannot carry, leaves out, and reads from the
    environment: its own file and the project modules it imports (of those, for what it
    cannot carry, only the one that starts the server)."""
    pattern = TG1_START if flavor == 'tg1' else CHERRYPY_SERVE
    found.imported = imported_files(directory, text, found.path)
    imported = [(p, read_text(p)) for p in found.imported]
    starting = [(found.path, region(text, pattern))] + [
        (p, region(t, pattern)) for p, t in imported if pattern.search(t)]
    for path, source in starting:
        for pattern_, what in IMPOSSIBLE:
            if pattern_.search(source) and what not in found.impossible:
                found.impossible.append(what)
        for pattern_, what in LEFT_OUT:
            if pattern_.search(source) and what not in found.left_out:
                found.left_out.append(what)
    for path, source in [(found.path, text)] + imported:
        found.env_reads += env_reads(source, path)
    found.sets_config = bool(found.env_reads) or any(
        CONFIG_IN_CODE.search(source) for _, source in starting)
    argv_problems(found, starting, flavor)
    found.stops = startup_exits.find(found, directory, read_text, module_file, pattern)
    return found


def argv_problems(found, texts, flavor):
    """Arguments it wants: the replay gives sys.argv = [script] (TurboGears 1: the
    deployment's .cfg as its one argument)."""
    given_count = 2 if flavor == 'tg1' else 1
    for path, source in texts:
        wanted = [int(n) for n in ARGV_INDEX.findall(source)]
        if wanted and max(wanted) >= given_count and not ARGV_GUARD.search(source):
            found.impossible.append('reads sys.argv[%d] (%s): under Apache it has no command '
                                    'line' % (max(wanted), os.path.basename(path)))
        positional = POSITIONAL.findall(source)
        required = required_options(source)
        if required:
            found.impossible.append('wants the option%s %s (required=True; %s): under Apache '
                                    'it has no command line' % (
                                        's' if len(required) > 1 else '', ', '.join(required),
                                        os.path.basename(path)))
        if positional:
            found.impossible.append('wants the argument%s %s (%s): under Apache it has no '
                                    'command line' % ('s' if len(positional) > 1 else '',
                                                      ', '.join(p for p, _ in positional),
                                                      os.path.basename(path)))
        elif PARSERS.search(source) and not found.argv_note and not required:
            found.argv_note = ('%s parses a command line: under Apache it gets none, its '
                               'options keep their defaults' % os.path.basename(path))


def required_options(source):
    """The options an argparse call marks required=True (the longest name of each): a
    start-up run without them exits before it serves."""
    found = []
    for match in ADD_ARGUMENT.finditer(source):
        depth, end = 1, match.end()
        while end < len(source) and depth:
            depth += {'(': 1, ')': -1}.get(source[end], 0)
            end += 1
        call = source[match.end():end]
        if REQUIRED.search(call):
            names = re.findall(r'[\'"](-{1,2}[A-Za-z][\w-]*)[\'"]', call)
            if names:
                found.append(max(names, key=len))
    return found


def env_reads(text, path):
    """os.environ reads at the top level and in functions: not in methods, which run for
    requests, not at start-up (and a WSGI environ is not os.environ)."""
    found = []
    matches = list(ENV_READ.finditer(text))
    if FROM_OS.search(text):  # from os import environ: environ.get('X'), environ['X']
        matches += list(BARE_ENV_READ.finditer(text))
    for match in sorted(matches, key=lambda m: m.start()):
        if enclosing_function(text, match.start()) is IN_CLASS:
            continue
        name = match.group(1) or match.group(2)
        # environ.get('X') and getenv('X') give None where X is unset: a default, no KeyError.
        has_default = match.group(1) is None
        found.append((name, has_default, path, text[:match.start()].count('\n') + 1))
    return found


def imported_files(directory, text, path):
    """The project's own modules that ``text`` imports (one level)."""
    found = []
    for match in LOCAL_IMPORT.finditer(text):
        module = match.group(1) or match.group(2)
        candidate = module_file(directory, module)
        if candidate and candidate != path and candidate not in found:
            found.append(candidate)
    return found
