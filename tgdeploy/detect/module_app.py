"""A CherryPy module that makes its WSGI application when it is imported: ``application =
...`` at its top level (the name mod_wsgi and the other WSGI servers look for) in a module
that mounts its apps there (``tree.mount``, ``tree.graft``, ``Application(...)``). Its
console script or ``run()`` starts CherryPy's own server, which the host replaces; the
start-up to replay is importing that module (apps/replay_cherrypy.py serves what it assigns
to ``application``: every app it mounted, each under the host's mount), not one root class
of it. Read from the text, never run.
"""
import re

APPLICATION = re.compile(r'^application\s*=\s*(\S.*)$', re.M)
MOUNTS = re.compile(r'\btree\.(?:mount|graft)\s*\(|\bApplication\s*\(')
IMPORTS_CHERRYPY = re.compile(r'^\s*(?:import|from)\s+cherrypy\b', re.M)
TOP_DEF = re.compile(r'^(?:async\s+)?def\s+(\w+)|^class\s+(\w+)')


def find(directory, paths, read_text, module_of):
    """(path, module, line, the assignment) of the first such module, or None."""
    for path in sorted(paths, key=lambda p: (p.count('/'), p)):
        text = read_text(path)
        match = APPLICATION.search(text)
        if not match or not IMPORTS_CHERRYPY.search(text):
            continue
        if not MOUNTS.search(top_level(text)):
            continue
        line = text[:match.start()].count('\n') + 1
        return path, module_of(directory, path), line, match.group(0).strip()[:80]
    return None


def top_level(text):
    """What runs when the module is imported: its top-level lines and the bodies of the
    top-level functions those lines call (methods, other functions blanked; line numbers
    kept)."""
    lines = text.split('\n')
    owner = [None] * len(lines)  # the def/class a line belongs to, None at the top level
    current = None
    for number, line in enumerate(lines):
        match = TOP_DEF.match(line)
        if match:
            current = ('def', match.group(1)) if match.group(1) else ('class', match.group(2))
        elif line[:1].strip() and not line.startswith(('#', '@', ')', ']', '}')):
            current = None
        owner[number] = current
    top = '\n'.join(line for line, who in zip(lines, owner) if who is None)
    called = set(name for kind, name in set(o for o in owner if o) if kind == 'def' and
                 re.search(r'\b%s\s*\(' % re.escape(name), top))
    return '\n'.join(line if who is None or who[1] in called else ''
                     for line, who in zip(lines, owner))
