"""CherryPy: the root object, as a module that imports cherrypy defines it (class Root) or
hands it to cherrypy.quickstart(...) / cherrypy.tree.mount(...); the application's config."""
import os
import re

from tgdeploy.detect import startup_chain, startup_script
from tgdeploy.errors import TgDeployError
from tgdeploy.detect.project import Project
from tgdeploy.detect.projectfiles import (choose_config, imported_from, literal, module_of,
                                   project_name, python_files, read_config, read_text)

CONF_NAMES = ('production.conf', 'prod.conf', 'app.conf', 'site.conf')
IMPORTS_CHERRYPY = re.compile(r'^\s*(import|from)\s+cherrypy\b', re.M)
ROOT_CALL = re.compile(r'\b(?:quickstart|tree\.mount|Application)\(\s*(?:root\s*=\s*)?'
                       r'([A-Za-z_]\w*)\s*\(')
# quickstart(root, ...) where the file says root = Root(...) first.
ROOT_NAME_CALL = re.compile(r'\b(?:quickstart|tree\.mount|Application)\(\s*(?:root\s*=\s*)?'
                            r'([A-Za-z_]\w*)\s*[,)]')


def evidence(directory):
    roots = find_roots(directory)
    return 'CherryPy: root %s' % ', '.join(roots) if roots else ''


def detect(directory, config, root):
    found = None
    if root:
        seen = 'root %s (--root)' % root
    else:
        roots = find_roots(directory)
        found = startup_script.find(directory, 'cherrypy')
        if found is not None and found.in_class:
            # A class's method mounts what it makes there: the replay serves that, not
            # another root the project hands to quickstart (a first-run setup page).
            root, seen = None, 'the roots %s mounts (%s)' % (
                os.path.relpath(found.path, directory), found.server_start.split(':')[0])
        elif found is not None and found.imports_module:
            # Its WSGI application, made when the module is imported: every app it mounts.
            root, seen = None, 'the apps %s mounts (%s)' % (
                os.path.relpath(found.path, directory), found.server_start)
        elif len(roots) == 1:
            root, seen = roots[0], 'root %s' % roots[0]
        else:
            root, seen = root_of_startup(directory, roots)
    in_class = found is not None and (found.in_class or found.imports_module) and not root
    package = found.serving_module.split('.')[0] if in_class else package_of(directory, root)
    config_file = choose_config(directory, config, CONF_NAMES, 'conf', required=False)
    static_urls = static_folders(directory, package, config_file)
    sessions = memory_sessions(directory, config_file)
    return Project(directory, 'cherrypy', project_name(directory, package), package,
                   config_file=config_file, static_urls=static_urls, root=root,
                   package_dir=os.path.join(directory, package), memory_sessions=sessions,
                   evidence=['CherryPy: %s%s' % (seen, config_file and ', %s'
                                                 % os.path.basename(config_file) or '')])


def root_of_startup(directory, roots):
    """No one root, but a start-up that mounts its own (replayed: replay_settle.py)."""
    found = startup_script.find(directory, 'cherrypy')
    if found is None:
        raise TgDeployError('cannot choose the CherryPy root object (found: %s): pass '
                            '--root module:Root' % (', '.join(roots) or 'none'))
    return None, 'the roots %s mounts (%s)' % (os.path.relpath(found.path, directory),
                                               ', '.join(roots) or 'none named')


def package_of(directory, root):
    if root:
        return root.split(':')[0].split('.')[0]
    packages = sorted(n for n in os.listdir(directory) if os.path.isfile(
        os.path.join(directory, n, '__init__.py')))
    return packages[0] if packages else os.path.basename(directory)


def check_root_spec(root):
    if not re.match(r'^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*\Z', root):
        raise TgDeployError('--root %r is not of the form package.module:Root' % root)


def find_roots(directory):
    """``module:Name`` of the objects handed to quickstart(...), tree.mount(...) or
    Application(...) in modules that import cherrypy; where none is, of every class Root
    there. What the project mounts wins over other root classes."""
    handed, classes = set(), set()
    for path in python_files(directory):
        text = read_text(path)
        if not IMPORTS_CHERRYPY.search(text):
            continue
        module = module_of(directory, path)
        if re.search(r'^class\s+Root\b', text, re.M):
            classes.add(module + ':Root')
        names = ROOT_CALL.findall(text) + [assigned_class(text, n) for n in
                                           ROOT_NAME_CALL.findall(text)]
        for match in re.finditer(r'\b(?:quickstart|tree\.mount)\(\s*(?:root\s*=\s*)?self\b', text):
            cls = startup_chain.enclosing_class(text, match.start())
            if cls:
                handed.add('%s:%s' % (module, cls))
        for name in names:
            if not name:
                continue
            if re.search(r'^class\s+%s\b' % name, text, re.M):
                handed.add('%s:%s' % (module, name))
            else:
                source = imported_from(text, name, module, path.endswith('__init__.py'))
                if source:
                    handed.add('%s:%s' % (source, name))
    return sorted(handed or classes)


def assigned_class(text, name):
    """The class a variable is made from (root = Root(...)), if the text says so once."""
    made = set(re.findall(r'^\s*%s\s*=\s*([A-Za-z_]\w*)\s*\(' % re.escape(name), text, re.M))
    return made.pop() if len(made) == 1 else None


def static_folders(directory, package, config_file):
    """Those the CherryPy config declares, else a conventional static/."""
    urls = config_static_dirs(config_file) if config_file else []
    if urls:
        return urls
    for candidate in (os.path.join(directory, package, 'static'),
                      os.path.join(directory, 'static')):
        if os.path.isdir(candidate):
            return [('/static', candidate)]
    return []


def config_static_dirs(config_file):
    """``[/url] tools.staticdir.dir`` sections whose folder can be resolved absolutely."""
    parser = read_config(config_file)
    found = []
    for section in parser.sections():
        if not section.startswith('/'):
            continue
        options = dict(parser.items(section))
        if not literal(options.get('tools.staticdir.on')):
            continue
        folder = literal(options.get('tools.staticdir.dir'))
        base = literal(options.get('tools.staticdir.root'))
        base = base if hasattr(base, 'replace') else os.path.dirname(config_file)
        if folder and hasattr(folder, 'replace'):
            path = os.path.normpath(os.path.join(base, folder))
            if os.path.isdir(path):
                found.append((section.rstrip('/') or '/', path))
    return found


SESSIONS_ON = re.compile(r'''['"]?tools\.sessions\.on['"]?\s*[:=]\s*True''')
SESSIONS_STORED = re.compile(r'tools\.sessions\.storage_(type|class)\s*[:=]\s*(?![\'"]?ram)')


def memory_sessions(directory, config_file):
    """Where sessions are switched on without a storage (CherryPy keeps them in the
    process's memory), or None."""
    for path in ([config_file] if config_file else []) + python_files(directory):
        text = read_text(path)
        if SESSIONS_ON.search(text) and not SESSIONS_STORED.search(text):
            return '%s switches tools.sessions on, kept in memory' % os.path.relpath(
                path, directory)
    return None
