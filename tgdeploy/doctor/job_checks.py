"""TGD-W040: jobs that every daemon process starts for itself.

A scheduler or a background thread started while the application is imported or starts up
runs once per process: with N daemon processes, every job runs N times (a mail sent N times,
a clean-up racing itself). The project's modules are read (never run, through
projectfiles.scan_text) and parsed with ast; what runs is followed from:
- the module level of every module of the project (tests, docs, set-up scripts aside), and
  the ``if __name__ == '__main__'`` block of the replayed start script (--startup-script);
- the functions that code calls, in the project, and the ones it hands to a start-up hook:
  TurboGears 2's ``call_on_startup`` and ``register_hook('startup', f)`` /
  ``hooks.register('startup', f)``, CherryPy's ``engine.subscribe('start', f)``, and the
  replayed start-up function (--startup-script module:function).
A start is a call of TurboGears 1's and TGScheduler's scheduler (``start_scheduler``,
``add_interval_task``...), a ``threading.Thread`` or ``Timer``, an APScheduler scheduler, or
CherryPy's ``BackgroundTask``, ``Monitor`` and ``PerpetualTimer`` plugins. Code in a file
that reads TGDEPLOY_SERVICES, or reached from one, is taken as guarded (README: Jobs that
run once). Nothing is said with one daemon process.
"""
import ast
import os

from tgdeploy.detect.projectfiles import python_files, scan_text
from tgdeploy.detect.startup_script import aside
from tgdeploy.doctor.finding import finding

CHECK_ID = 'TGD-W040'
GUARD = 'TGDEPLOY_SERVICES'
# A start: the name called -> (what it starts, a word the file must hold for it to count).
STARTS = dict(
    [(name, ('a scheduler (%s)' % name, 'schedul')) for name in (
        'start_scheduler', 'add_interval_task', 'add_daily_task', 'add_weekday_task',
        'add_monthday_task', 'add_cron_like_task', 'add_single_task')] +
    [(name, ('a threading.%s' % name, 'threading')) for name in ('Thread', 'Timer')] +
    [(name, ('an APScheduler %s' % name, 'apscheduler')) for name in (
        'BackgroundScheduler', 'AsyncIOScheduler', 'GeventScheduler', 'TornadoScheduler',
        'TwistedScheduler', 'QtScheduler')] +
    [(name, ('a CherryPy %s plugin' % name, 'cherrypy')) for name in (
        'BackgroundTask', 'Monitor', 'PerpetualTimer')])
# Calls that hand a function to a start-up: (name called, the first argument it needs).
HOOKS = {'register_hook': ('startup', 'before_config', 'after_config', 'configure_new_app'),
         'register': ('startup', 'configure_new_app'), 'subscribe': ('start',)}
HOOK_LISTS = ('call_on_startup',)
MAX_FILES = 400
MAX_SHOWN = 10


def findings(values):
    """[Finding] for each start every daemon process would make (none with one process)."""
    if values.apache.mode == 'daemon' and (values.daemon.processes or 1) <= 1:
        return []
    project_dir = values.paths.project_dir
    processes = values.daemon.processes if values.apache.mode == 'daemon' else None
    found = starts(values.paths.import_dir or project_dir, values.startup.script,
                   values.startup.call, bool(values.daemon.services))
    return [finding(CHECK_ID, text(start, project_dir, processes)) for start in
            found[:MAX_SHOWN]]


def text(start, project_dir, processes):
    path, line, what, how, module, function = start
    where = '%s:%d' % (os.path.relpath(path, project_dir), line)
    many = ('each of the %d daemon processes (the job runs %d times)' % (processes, processes)
            if processes else 'each of Apache\'s own processes (embedded mode)')
    target = module + (':' + function if function else '')
    return ('%s: %s, started %s, runs in %s: run it once with --service NAME=%s, and have the '
            'application skip it where %s names it (README: Running it: jobs that run '
            'once)' % (where, what, how, many, target, GUARD))


def starts(import_dir, script=None, call=None, guards_hold=False):
    """[(path, line, what, how it is reached, its module, the top-level function holding
    it or None)], in the order found. With ``guards_hold`` (--service given), code that
    reads TGDEPLOY_SERVICES, or is reached from such code, is left out."""
    modules = Modules(import_dir, script)
    work = [(path, module.tree.body, 'at import', False) for path, module in
            modules.by_path.items()]
    if call:
        name, _, function = call.partition(':')
        target = modules.function(name, function)
        if target:
            work.append(target + ('in the start-up %s' % call, False))
    found, done, seen = [], set(), set()
    while work:
        path, body, how, guarded = work.pop(0)
        module = modules.by_path[path]
        guarded = guarded or (guards_hold and GUARD in module.text)
        for node in calls(body, path == script):
            if isinstance(node, ast.Assign):
                for target in hook_list(node, module, modules):
                    key = (target[0], id(target[1]))
                    if key not in done:
                        done.add(key)
                        work.append(target[:2] + ('in %s(), a start-up hook (%s)' % (
                            target[2], HOOK_LISTS[0]), guarded))
                continue
            name = called_name(node)
            start = STARTS.get(name)
            if start and start[1] in module.text.lower() and not guarded and \
                    (path, module.top_function(node.lineno) or node.lineno) not in seen:
                seen.add((path, module.top_function(node.lineno) or node.lineno))
                found.append((path, node.lineno, start[0], how, module.name,
                              module.top_function(node.lineno)))
            for target, via in reached(node, name, module, modules):
                key = (target[0], id(target[1]))
                if key not in done:
                    done.add(key)
                    work.append(target + (via, guarded))
    return found


def reached(node, name, module, modules):
    """[((path, body), how)]: the project functions this call runs or hands to a start-up."""
    out = []
    target = module.resolve(node.func, modules)
    if target:
        out.append((target, 'in %s(), called at import or start-up' % name))
    hook = HOOKS.get(name)
    if hook and node.args and literal(node.args[0]) in hook:
        handed = node.args[1:2]
    elif name == 'append' and isinstance(node.func, ast.Attribute) and \
            called_name(node.func.value) in HOOK_LISTS:
        handed = node.args[:1]
    else:
        handed = []
    for arg in handed:
        target = module.resolve(arg, modules)
        if target:
            out.append((target, 'in %s(), a start-up hook (%s)' % (called_name(arg), name)))
    return out


def hook_list(node, module, modules):
    """[(path, body)] of the functions ``x.call_on_startup = [f, ...]`` (or
    ``x['call_on_startup'] = ...``) hands to the start-up."""
    names = [getattr(t, 'attr', None) or getattr(t, 'id', None) or subscript_key(t)
             for t in node.targets]
    if not set(names) & set(HOOK_LISTS) or not isinstance(node.value, (ast.List, ast.Tuple)):
        return []
    return [t + (called_name(e),) for t, e in ((module.resolve(e, modules), e)
                                               for e in node.value.elts) if t]


class Module(object):
    def __init__(self, name, text, tree):
        self.name, self.text, self.tree = name, text, tree
        self.functions = dict((n.name, n) for n in tree.body if isinstance(n, FUNCTIONS))
        self.imports = {}  # local name -> (module, name or None)
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (alias.name, None)

    def top_function(self, line):
        holding = [n.name for n in self.functions.values()
                   if n.lineno <= line <= max(getattr(c, 'lineno', 0) for c in ast.walk(n))]
        return holding[0] if holding else None

    def resolve(self, node, modules):
        """(path, body) of the project function ``node`` (a name or module.name) names."""
        if isinstance(node, ast.Name):
            if node.id in self.functions:
                return modules.path_of(self.name), self.functions[node.id].body
            module, name = self.imports.get(node.id, (None, None))
            return modules.function(module, name) if name else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module, name = self.imports.get(node.value.id, (None, None))
            if module and name is None:
                return modules.function(module, node.attr)
            if module:
                return modules.function(module + '.' + name, node.attr)
        return None


FUNCTIONS = (ast.FunctionDef, getattr(ast, 'AsyncFunctionDef', ast.FunctionDef))


class Modules(object):
    """The project's modules that parse, by path and by dotted name."""

    def __init__(self, import_dir, script=None):
        self.by_path, self.by_name = {}, {}
        paths = [p for p in python_files(import_dir)[:MAX_FILES] if not skipped(import_dir, p)]
        if script and script not in paths and os.path.isfile(script):
            paths.append(script)
        for path in paths:
            text = scan_text(path)
            try:
                tree = ast.parse(text.encode('utf-8') if str is bytes else text, path)
            except (SyntaxError, ValueError, TypeError, RuntimeError, MemoryError):
                continue  # another Python's syntax (a Python 2 print): nothing to follow
            name = module_name(import_dir, path)
            self.by_path[path] = self.by_name[name] = Module(name, text, tree)

    def path_of(self, name):
        return next(p for p, m in self.by_path.items() if m.name == name)

    def function(self, module, name):
        found = self.by_name.get(module)
        node = found and found.functions.get(name)
        return (self.path_of(module), node.body) if node else None


def skipped(import_dir, path):
    name = os.path.basename(path)
    parts = os.path.relpath(path, import_dir).split(os.sep)
    return aside(import_dir, path) or name in ('setup.py', 'websetup.py') or \
        'websetup' in parts or 'migration' in parts


def module_name(import_dir, path):
    parts = os.path.relpath(path, import_dir)[:-len('.py')].split(os.sep)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def calls(body, main_block_runs):
    """The calls (and assignments) ``body`` makes when it runs: nested functions, classes'
    methods and lambdas are not entered; ``if __name__ == '__main__'`` only where the file
    is run as __main__."""
    todo = list(body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, FUNCTIONS + (ast.Lambda,)):
            continue
        if isinstance(node, ast.ClassDef):
            todo.extend(n for n in node.body if not isinstance(n, FUNCTIONS))
            continue
        if isinstance(node, ast.If) and is_main_test(node.test) and not main_block_runs:
            todo.extend(node.orelse)
            continue
        if isinstance(node, (ast.Call, ast.Assign)):
            yield node
        todo.extend(ast.iter_child_nodes(node))


def is_main_test(test):
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and \
        test.left.id == '__name__' and any(literal(c) == '__main__' for c in test.comparators)


def called_name(node):
    func = getattr(node, 'func', node)
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def subscript_key(node):
    key = getattr(node, 'slice', None)
    if key is not None and not literal(key):  # ast.Index, before Python 3.9
        key = getattr(key, 'value', None)
    return key is not None and literal(key) or None


def literal(node):
    value = getattr(node, 'value', getattr(node, 's', None))
    return value if isinstance(value, str) else None
