"""The house rules of the package's layout (issue 22): no module over 400 lines, and no
import cycle between tgdeploy's modules, counting the imports made inside functions (a
cycle hidden in a lazy import is still one; a module's ``if __name__ == '__main__'`` block
is not imported, so it does not count)."""
import ast
import io
import os

import tgdeploy

PACKAGE = os.path.dirname(tgdeploy.__file__)
MAX_LINES = 400


def modules():
    """{dotted name: path} of every module of the package."""
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(folder, name)
                dotted = 'tgdeploy.' + os.path.relpath(path, PACKAGE)[:-3].replace(os.sep, '.')
                found[dotted[:-len('.__init__')] if dotted.endswith('.__init__') else dotted] \
                    = path
    return found


def imports(path, known):
    """The tgdeploy modules ``path`` imports, anywhere in it."""
    with io.open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    found = set()
    # What runs as a script (``python -m``) is no import of the module.
    tree.body = [node for node in tree.body if not is_main_block(node)]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = node.module + '.' + alias.name
                found.add(name if name in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return set(name for name in found if name in known and name != 'tgdeploy')


def is_main_block(node):
    return isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and \
        isinstance(node.test.left, ast.Name) and node.test.left.id == '__name__'


def cycles(graph):
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                group.append(other)
                if other == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_over_400_lines():
    long = {}
    for name, path in modules().items():
        with io.open(path, encoding='utf-8') as f:
            count = len(f.read().splitlines())
        if count > MAX_LINES:
            long[name] = count
    assert long == {}


def test_no_import_cycle():
    known = modules()
    graph = dict((name, set(other for other in imports(path, known)
                            if other != name and not name.startswith(other + '.')))
                 for name, path in known.items())
    assert cycles(graph) == []


def test_the_cycle_finder_finds_one():
    """The check above could fail: a lazy import back up is a cycle."""
    graph = {'a': set(['b']), 'b': set(['c']), 'c': set(['a']), 'd': set(['a'])}
    assert cycles(graph) == [['a', 'b', 'c']]


def test_settle_validators_import_nothing_that_settles():
    """checks.py, quoting.py and paths.py lie below every settling step: a step may take a
    validator from them without importing the pipeline back (options.py)."""
    known = modules()
    for low in ('checks', 'quoting', 'paths', 'config_settings'):
        name = 'tgdeploy.settle.' + low
        assert imports(known[name], known) <= set(
            ['tgdeploy.errors', 'tgdeploy.settle.table', 'tgdeploy.detect.project']), name
