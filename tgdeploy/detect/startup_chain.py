"""A CherryPy start-up that lives in a class (startup_script.py reads the others): the
method that mounts and starts the engine (``cherrypy.tree.mount(self, '/', conf)``,
``tree.mount(handler, path, config={...})`` + ``engine.start()/block()``) cannot run on
its own, so the replay runs what starts it: the script whose main block makes the class
(``App().start()``), or calls the module's function that does (``start_server()`` ->
``CherryMusic(cfg)``), a ``python`` script without a .py suffix included (``bin/app``).
Read from the text, never run.
"""
import os
import re

from tgdeploy.detect.projectfiles import module_of, python_files

CLASS_LINE = re.compile(r'^class\s+(\w+)', re.M)
TOP_DEF = re.compile(r'^def\s+(\w+)\s*\(', re.M)
SCRIPT_FOLDERS = ('', 'bin', 'scripts')
MAX_SCRIPT = 1024 * 1024


def find(directory, serving, read_text, main_block):
    """(script, server_start, line, the serving module's path) of a script that starts a class's
    serving method, or None. ``serving``: [(path, text, offset of the serving call)] of the
    project's modules whose serving call is in a class; a StartUp is made of it."""
    for path, text, offset in serving:
        cls = enclosing_class(text, offset)
        if not cls:
            continue
        module = module_of(directory, path)
        names = [cls] + functions_making(text, cls)
        start_line = text[offset:].split('\n', 1)[0].strip()
        what = '%s: %s' % (cls, start_line)
        for script in scripts(directory, path):
            script_text = text if script == path else read_text(script)
            block = main_block.search(script_text)
            if script_text is text and not block:
                continue
            body = script_text[block.end():] if block else script_text
            if script != path and not imports(script_text, module):
                continue
            call = starting_call(body, names)
            if call:
                start = (block.end() if block else 0) + call.start()
                return script, what, script_text[:start].count('\n') + 1, path
    return None


def enclosing_class(text, offset):
    """The top-level class whose body holds ``offset``, if any."""
    name = None
    for line in text[:offset].splitlines():
        if line[:1].strip() and not line.startswith(('#', '@', ')')):
            match = CLASS_LINE.match(line)
            name = match.group(1) if match else None
    return name


def functions_making(text, cls):
    """Top-level functions of ``text`` that make an instance of ``cls``."""
    found = []
    for match in TOP_DEF.finditer(text):
        rest = text[match.end():].split('\n', 1)[-1]  # after the def line
        body = re.match(r'.*?(?=^\S|\Z)', rest, re.M | re.S).group(0)
        if re.search(r'\b%s\s*\(' % re.escape(cls), body):
            found.append(match.group(1))
    return found


def starting_call(body, names):
    return re.search(r'(?<![\w.])(?:\w+\.)*(?:%s)\s*\(' % '|'.join(
        re.escape(n) for n in names), body)


def imports(text, module):
    """Whether ``text`` imports ``module`` (or names it from its package)."""
    package, _, last = module.rpartition('.')
    patterns = [r'^\s*import\s+%s\b' % re.escape(module),
                r'^\s*from\s+%s\s+import\b' % re.escape(module)]
    if package:
        patterns.append(r'^\s*from\s+%s\s+import\s+.*\b%s\b' % (re.escape(package),
                                                               re.escape(last)))
    return any(re.search(p, text, re.M) for p in patterns)


def scripts(directory, serving_path):
    """The module itself first, then the project's scripts: .py files and ``python``
    scripts without a suffix, at its top or in bin/ or scripts/."""
    found = [serving_path]
    py_files = set(python_files(directory, depth=0))
    for folder in SCRIPT_FOLDERS:
        base = os.path.join(directory, folder) if folder else directory
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            path = os.path.join(base, name)
            if path in found or not os.path.isfile(path):
                continue
            if path in py_files or name.endswith('.py') or python_script(path):
                found.append(path)
    return found


def python_script(path):
    """A file without a suffix whose first line runs Python."""
    if '.' in os.path.basename(path) or os.path.getsize(path) > MAX_SCRIPT:
        return False
    try:
        with open(path, 'rb') as f:
            first = f.readline(200)
    except (IOError, OSError):
        return False
    return first.startswith(b'#!') and b'python' in first
