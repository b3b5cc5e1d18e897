"""The facts a project's own .wsgi script or Python start script (commands.py,
start-*.py) states, read from its text: never imported or run.

Besides own_facts.py's facts: ('requires', requirement, how), ('config', path),
('root', spec), ('call', name, spec or None, when) and ('statement', text, when), where
``when`` says when the script runs it, with %s for what it does.
"""
import ast
import os
import re

from tgdeploy.doctor.own_facts import env_facts
from tgdeploy.detect.projectfiles import code_lines, imported_from, module_of

SETLOCALE = re.compile(r'setlocale\(\s*(?:locale\.)?LC_\w+\s*,\s*(?:[uUrR]?["\']([^"\']*)["\']'
                       r'|\(\s*["\']([^"\']*)["\']\s*,\s*["\']([^"\']*)["\']\s*\))')
ENVIRON_SET = re.compile(r'os\.environ\[\s*["\'](\w+)["\']\s*\]\s*=(?!=)\s*(.*?)\s*$')
ENVIRON_CALL = re.compile(r'os\.(?:environ\.setdefault|putenv)\(\s*["\'](\w+)["\']\s*,\s*'
                          r'(.*?)\s*\)\s*$')
SYS_PATH = re.compile(r'(?:sys\.path\.(?:insert|append)|site\.addsitedir)\(\s*(?:-?\d+\s*,\s*)?'
                      r'(.+?)\s*\)\s*$')
REQUIRES = re.compile(r'__requires__\s*(?:\.append\(|\+?=)\s*(.*)$')
PKG_REQUIRE = re.compile(r'pkg_resources\.require\((.*)\)')
ON_STARTUP = re.compile(r'call_on_startup\.append\(\s*([A-Za-z_][\w.]*)\s*\)')
UPDATE_CONFIG = re.compile(r'(?:update_config\(\s*(?:configfile\s*=\s*)?|loadapp\(\s*)'
                           r'["\'](?:config:)?([^"\']+)["\']')
CHERRYPY_ROOT = re.compile(r'^cherrypy\.root\s*=\s*([A-Za-z_][\w.]*)\s*\(')
ROOT_ATTRIBUTE = re.compile(r'^(cherrypy\.root\.\w+)\s*=(?!=)')
STRING = re.compile(r'[uUrR]?("([^"\\]*)"|\'([^\'\\]*)\')\s*$')
QUOTED = re.compile(r'["\']([^"\']+)["\']')
VERSIONED = re.compile(r'[<>=!~]')
# Longer path expressions are not worked out: Python's parser runs out of memory on deep
# nesting (a MemoryError on 2.7 and 3.8), and no real sys.path line is that long.
MAX_EXPRESSION = 500

# Where a start script starts its server: what it calls before that is its start-up.
SERVER_START = re.compile(r'\b(start_server|quickstart|serve_forever|run_simple|make_server)\s*\('
                          r'|\bcherrypy\.(engine|server)\.(start|block)\s*\(|\bserve\(')
CALL_STATEMENT = re.compile(r'^([A-Za-z_][\w.]*)\s*\((\s*\)\s*$)?')
KEYWORDS = ('if', 'elif', 'while', 'for', 'return', 'print', 'assert', 'not', 'del', 'yield',
            'raise', 'exec', 'with', 'lambda', 'except', 'and', 'or', 'in', 'is', 'else')
# Calls whose effect the generated deployment has already: loading the config, mounting
# and starting the server, requirement checks, argument parsing, output.
ROUTINE = re.compile(r'^(turbogears|cherrypy|tg|paste|pkg_resources|sys|os|optparse|argparse|'
                     r'optparser|parser|warnings|atexit|locale|site|super|exit|main|start)\b'
                     r'|(^|\.)(update_config|load_project_config|_?read_config|load_config|'
                     r'setdefault|append|insert|extend|add_option|add_argument|parse_args|'
                     r'write|flush|setlocale)$')
# Calls that change the process and cannot be named as a function: they go into one.
SIDE_EFFECT = re.compile(r'^(resource\.setrlimit|os\.umask|os\.nice|socket\.setdefaulttimeout|'
                         r'signal\.signal|time\.tzset|sys\.setrecursionlimit|'
                         r'sys\.setdefaultencoding|logging\.[\w.]+|gc\.[\w.]+|mimetypes\.\w+|'
                         r'[\w.]*addHandler)$')
PATH_CALLS = {'dirname': os.path.dirname, 'abspath': os.path.normpath,
              'realpath': os.path.normpath, 'normpath': os.path.normpath}


def python_facts(text, path, project_dir, start_script):
    lines = code_lines(text)
    facts, names = [], {}
    for number, line in lines:
        facts += line_facts(number, line.strip(), path, start_script, names)
        remember_path(line, path, names)
    return facts + startup_facts(lines, text, path, project_dir, start_script)


def line_facts(number, line, path, start_script, names):
    facts = []
    match = SETLOCALE.search(line)
    if match:
        name = match.group(1) if match.group(1) is not None else \
            '%s.%s' % (match.group(2), match.group(3))
        facts.append((number, 'locale', name))
    match = ENVIRON_SET.search(line) or ENVIRON_CALL.search(line)
    if match:
        facts += env_facts(number, [(match.group(1), string_value(match.group(2)))])
    match = SYS_PATH.search(line)
    if match:
        facts.append((number, 'path', path_value(match.group(1), path, names), 'sys.path'))
    match = REQUIRES.search(line)
    if match:
        facts += requirements(number, match.group(1), '__main__.__requires__')
    match = not start_script and PKG_REQUIRE.search(line)
    if match:
        facts += requirements(number, match.group(1), 'pkg_resources.require')
    match = ON_STARTUP.search(line)
    if match:
        facts.append((number, 'call', match.group(1) + '()', dotted_spec(match.group(1)),
                      '%s at TurboGears start-up (call_on_startup)'))
    match = not start_script and UPDATE_CONFIG.search(line)
    if match and os.path.isabs(match.group(1)):
        facts.append((number, 'config', match.group(1)))
    match = not start_script and CHERRYPY_ROOT.search(line)
    if match and '.' in match.group(1):
        facts.append((number, 'root', dotted_spec(match.group(1))))
    return facts


def requirements(number, text, how):
    # An unversioned requirement asks for nothing the virtualenv does not already decide.
    return [(number, 'requires', r, how) for r in QUOTED.findall(text) if VERSIONED.search(r)]


def string_value(text):
    match = STRING.match(text)
    if not match:
        return None
    return match.group(2) if match.group(2) is not None else match.group(3)


def dotted_spec(name):
    """fedora.tg.utils.enable_csrf -> fedora.tg.utils:enable_csrf."""
    module, _, function = name.rpartition('.')
    return '%s:%s' % (module, function) if module else None


def path_value(expression, path, names):
    """The folder a sys.path expression names, __file__, os.path calls and the script's
    own top-level names (here = os.path.dirname(__file__)) worked out; the expression
    itself where it cannot be."""
    expression = expression.strip()
    value = None
    if len(expression) <= MAX_EXPRESSION:
        try:
            value = evaluate(ast.parse(expression, mode='eval').body, path, names)
        except (SyntaxError, ValueError, TypeError, RuntimeError, MemoryError):
            pass  # RuntimeError: RecursionError on 3, its base class on 2.7
    return os.path.normpath(value) if value else expression


def remember_path(line, path, names):
    """Note a top-level ``name = <path expression>`` for later sys.path lines."""
    match = re.match(r'^([A-Za-z_]\w*)\s*=(?!=)\s*(.+)$', line)
    if not match:
        return
    value = path_value(match.group(2), path, names)
    if os.path.isabs(value):
        names[match.group(1)] = value
    else:
        names.pop(match.group(1), None)


def evaluate(node, path, names):
    """A path expression made of strings, __file__ and os.path calls; None otherwise."""
    text = getattr(node, 'value', getattr(node, 's', None))
    if isinstance(text, (str, type(u''))):
        return text
    if isinstance(node, ast.Name) and node.id == '__file__':
        return os.path.abspath(path)
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    func = node.func.attr if isinstance(node.func, ast.Attribute) else \
        getattr(node.func, 'id', None)
    args = [evaluate(a, path, names) for a in node.args]
    if not args or None in args:
        return None
    if func == 'join':
        return os.path.join(*args)
    if func in PATH_CALLS and len(args) == 1:
        return PATH_CALLS[func](args[0])
    return None


def startup_facts(lines, text, path, project_dir, start_script):
    """Calls the start script makes before it starts the server (the top level of a .wsgi):
    ('call', name, spec, when) and ('statement', text, when)."""
    region, when = start_region(lines, text, start_script)
    module = package_module(project_dir, path) if path.endswith('.py') else None
    local = set(re.findall(r'^def\s+(\w+)\s*\(', text, re.M))
    routine = config_functions(text)
    facts = []
    for number, line in region:
        line = line.strip()
        match = ROOT_ATTRIBUTE.match(line)
        if match:
            facts.append((number, 'statement', match.group(1), when))
            continue
        match = CALL_STATEMENT.match(line)
        if not match or match.group(1).split('.')[0] in KEYWORDS:
            continue
        name = match.group(1)
        if SIDE_EFFECT.match(name):
            facts.append((number, 'call', name + '(...)', None, when))
        elif not ROUTINE.search(name) and name not in routine:
            # --startup calls its function without arguments: one called with some needs
            # a function of its own around the call.
            spec = call_spec(name, text, module, local, path) if match.group(2) else None
            facts.append((number, 'call', name + ('()' if match.group(2) else '(...)'), spec,
                          when))
    return facts


def start_region(lines, text, start_script):
    """(lines, how to say when they run): a start script's start()/main() body, else its
    top level, up to the server start; a .wsgi's top level."""
    if not start_script:
        return [(n, l) for n, l in lines if not l[:1].isspace()], 'the .wsgi %s when loaded'
    function = re.search(r'^def\s+(start|main)\s*\(', text, re.M)
    if function:
        first = text[:function.start()].count('\n') + 1
        body = function_body(lines, first)
        name = function.group(1) + '()'
    else:
        body = top_level(lines)
        name = 'the script'
    for index, (number, line) in enumerate(body):
        if SERVER_START.search(line):
            return body[:index], name + ' %s before starting the server'
    return [], ''


def function_body(lines, first):
    body = []
    for number, line in lines:
        if number <= first:
            continue
        if not line[:1].isspace():
            break
        body.append((number, line))
    return body


def top_level(lines):
    """The lines outside top-level def and class bodies (an if __name__ block is in)."""
    found, in_definition = [], False
    for number, line in lines:
        if not line[:1].isspace():
            in_definition = bool(re.match(r'^(def|class|@)', line))
            if in_definition:
                continue
        if not in_definition:
            found.append((number, line))
    return found


def config_functions(text):
    """Functions of the script that load its config (their job is the derived config's)."""
    found = set()
    for match in re.finditer(r'^def\s+(\w+)\s*\(.*?(?=^\S|\Z)', text, re.M | re.S):
        if 'update_config(' in match.group(0) or 'load_project_config(' in match.group(0):
            found.add(match.group(1))
    return found


def package_module(project_dir, path):
    """The dotted module of a .py file in a package of the project, or None (a script beside
    setup.py would start its server when imported)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isfile(os.path.join(folder, '__init__.py')):
        return None
    module = module_of(os.path.abspath(project_dir), os.path.abspath(path))
    return module if re.match(r'^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\Z', module) else None


def call_spec(name, text, module, local, path):
    """package.module:function for a call, when the function can be named that way."""
    is_init = path.endswith('__init__.py')
    parts = name.split('.')
    if len(parts) == 1:
        if name in local:
            return module and '%s:%s' % (module, name)
        origin = imported_from(text, name, module or '', is_init)
        return origin and '%s:%s' % (origin, name)
    first = parts[0]
    alias = re.search(r'^\s*import\s+([\w.]+)\s+as\s+%s\s*$' % re.escape(first), text, re.M)
    if alias:
        return '%s:%s' % ('.'.join([alias.group(1)] + parts[1:-1]), parts[-1])
    if re.search(r'^\s*import\s+[^\n]*\b%s\b' % re.escape(first), text, re.M):
        return dotted_spec(name)
    origin = imported_from(text, first, module or '', is_init)
    # from fedora.tg import utils; utils.enable_csrf(): a lower-case name is a module.
    if origin and first[:1].islower():
        return '%s.%s' % (origin, dotted_spec(name))
    return None
