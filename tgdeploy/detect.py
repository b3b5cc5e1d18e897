"""Step 1: find out what kind of project a directory holds.

Detection reads files and never imports or runs the project: the project may need a
different Python than the one running tgdeploy, and importing it could have side effects.
"""
import ast
import io
import os
import re

from tgdeploy._compat import NOT_STRICT, RawConfigParser, ConfigParserError
from tgdeploy.errors import TgDeployError

FLAVORS = ('tg2', 'tg1', 'cherrypy')
FLAVOR_NAMES = {'tg2': 'TurboGears 2', 'tg1': 'TurboGears 1.x', 'cherrypy': 'CherryPy'}

# TurboGears 2: the ini files gearbox quickstart and its users name, best first.
TG2_INI_NAMES = ('production.ini', 'deployment.ini', 'development.ini')
# TurboGears 1.x: prod.cfg is what users make of quickstart's sample-prod.cfg.
TG1_CFG_NAMES = ('prod.cfg', 'sample-prod.cfg', 'dev.cfg')
CHERRYPY_CONF_NAMES = ('production.conf', 'prod.conf', 'app.conf', 'site.conf')

# Folders that never hold the project's own code.
SKIP_DIRS = ('apache', 'build', 'dist', 'docs', 'tests', 'test', 'migration', 'node_modules')


class Project(object):
    """What tgdeploy knows about a project: facts read from its files, nothing chosen."""

    def __init__(self, directory, flavor, name, package, config_file=None,
                 static_dir=None, static_urls=(), root=None, tg_requirement=None,
                 uses_sqlobject=False):
        self.directory = directory
        self.flavor = flavor
        self.name = name
        self.package = package
        self.config_file = config_file
        self.static_dir = static_dir
        # (URL below the mount, absolute path) pairs that Apache can serve itself.
        self.static_urls = list(static_urls)
        self.root = root
        # TurboGears 1.x only: the version setup.py asks for, and whether the model
        # uses SQLObject (whose per-process caches want a single process).
        self.tg_requirement = tg_requirement
        self.uses_sqlobject = uses_sqlobject

    def __repr__(self):
        return '<Project %s (%s) in %s>' % (self.name, self.flavor, self.directory)


def detect(directory, flavor=None, config=None, root=None):
    """Return the Project in ``directory``; ``flavor``, ``config`` and ``root`` override."""
    directory = os.path.abspath(directory)
    require_project_dir(directory)
    if flavor is not None and flavor not in FLAVORS:
        raise TgDeployError('unknown flavor %r: use one of %s' % (flavor, ', '.join(FLAVORS)))
    if root:
        check_root_spec(root)
    flavor = flavor or guess_flavor(directory, fallback='cherrypy' if root else None)
    if flavor == 'tg2':
        if root:
            raise TgDeployError('--root does not apply to TurboGears 2, whose root controller '
                                'comes from the ini\'s application factory: drop it')
        return detect_tg2(directory, config)
    if flavor == 'tg1':
        return detect_tg1(directory, config, root)
    return detect_cherrypy(directory, config, root)


def require_project_dir(directory):
    if not os.path.isdir(directory):
        raise TgDeployError('%s is not a directory: run inside your project or name its folder'
                            % directory)
    markers = ('setup.py', 'setup.cfg', 'pyproject.toml')
    if any(os.path.isfile(os.path.join(directory, m)) for m in markers):
        return
    if python_files(directory):
        return
    raise TgDeployError('%s is not a project directory (no setup.py, setup.cfg, pyproject.toml '
                        'or Python code): run tgdeploy inside your project' % directory)


def guess_flavor(directory, fallback=None):
    if find_packages_with(directory, os.path.join('config', 'app_cfg.py')) and \
            find_first(directory, TG2_INI_NAMES):
        return 'tg2'
    if find_packages_with(directory, os.path.join('config', 'app.cfg')) and \
            find_first(directory, TG1_CFG_NAMES):
        return 'tg1'
    if find_cherrypy_roots(directory) or fallback:
        return 'cherrypy'
    raise TgDeployError(
        'cannot tell what kind of project %s is: found no TurboGears 2 ini with '
        '<package>/config/app_cfg.py, no TurboGears 1 dev.cfg with <package>/config/app.cfg, '
        'and no CherryPy Root class; pass --flavor (and --root for CherryPy)' % directory)


# -- TurboGears 2 ---------------------------------------------------------------------

def detect_tg2(directory, config):
    packages = find_packages_with(directory, os.path.join('config', 'app_cfg.py'))
    if not packages:
        raise TgDeployError('no TurboGears 2 package in %s (expected <package>/config/app_cfg.py)'
                            % directory)
    package = packages[0]
    config_file = choose_config(directory, config, TG2_INI_NAMES, 'ini')
    require_section(config_file, 'app:main')
    static_dir = os.path.join(directory, package, 'public')
    return Project(directory, 'tg2', project_name(directory, package), package,
                   config_file=config_file, static_dir=existing_dir(static_dir),
                   static_urls=static_entries(static_dir))


def static_entries(static_dir):
    """TG2 serves public/ at the application root: map each of its entries."""
    if not os.path.isdir(static_dir):
        return []
    return [('/' + name, os.path.join(static_dir, name))
            for name in sorted(os.listdir(static_dir)) if not name.startswith('.')]


# -- TurboGears 1.x -------------------------------------------------------------------

def detect_tg1(directory, config, root=None):
    packages = find_packages_with(directory, os.path.join('config', 'app.cfg'))
    if not packages:
        raise TgDeployError('no TurboGears 1 package in %s (expected <package>/config/app.cfg)'
                            % directory)
    package = packages[0]
    config_file = choose_config(directory, config, TG1_CFG_NAMES, 'cfg')
    read_config(config_file)  # fails early, with the fix, on a config that cannot be parsed
    static_dir = os.path.join(directory, package, 'static')
    urls = [('/static', static_dir)] if os.path.isdir(static_dir) else []
    favicon = os.path.join(static_dir, 'images', 'favicon.ico')  # quickstart's app.cfg maps it
    if os.path.isfile(favicon):
        urls.append(('/favicon.ico', favicon))
    return Project(directory, 'tg1', project_name(directory, package), package,
                   config_file=config_file, static_dir=existing_dir(static_dir),
                   static_urls=urls, root=root or '%s.controllers:Root' % package,
                   tg_requirement=tg_requirement(directory),
                   uses_sqlobject=uses_sqlobject(directory, package, config_file))


def tg_requirement(directory):
    """The TurboGears version setup.py names (``TurboGears >= 1.1`` gives '1.1'), if any."""
    path = os.path.join(directory, 'setup.py')
    if not os.path.isfile(path):
        return None
    match = re.search(r'''["']TurboGears\s*(?:==|>=|~=)\s*(1\.\d+)''', read_text(path))
    return match.group(1) if match else None


def uses_sqlobject(directory, package, config_file):
    model = os.path.join(directory, package, 'model.py')
    in_model = os.path.isfile(model) and \
        re.search(r'^\s*(from|import)\s+sqlobject\b', read_text(model), re.M)
    in_config = re.search(r'^\s*sqlobject\.dburi\s*=', read_text(config_file), re.M)
    return bool(in_model or in_config)


# -- CherryPy -------------------------------------------------------------------------

def detect_cherrypy(directory, config, root):
    if not root:
        roots = find_cherrypy_roots(directory)
        if len(roots) != 1:
            found = ', '.join(roots) or 'none'
            raise TgDeployError('cannot choose the CherryPy root object (found: %s): pass '
                                '--root module:Root' % found)
        root = roots[0]
    check_root_spec(root)
    package = root.split(':')[0].split('.')[0]
    config_file = choose_config(directory, config, CHERRYPY_CONF_NAMES, 'conf', required=False)
    static_dir, static_urls = cherrypy_static(directory, package, config_file)
    return Project(directory, 'cherrypy', project_name(directory, package), package,
                   config_file=config_file, static_dir=static_dir, static_urls=static_urls,
                   root=root)


def check_root_spec(root):
    if not re.match(r'^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*\Z', root):
        raise TgDeployError('--root %r is not of the form package.module:Root' % root)


def find_cherrypy_roots(directory):
    """``module:Root`` for every module that imports cherrypy and defines class Root."""
    roots = []
    for path in python_files(directory):
        text = read_text(path)
        if re.search(r'^\s*(import|from)\s+cherrypy\b', text, re.M) and \
                re.search(r'^class\s+Root\b', text, re.M):
            module = os.path.relpath(path, directory)[:-3].replace(os.sep, '.')
            if module.endswith('.__init__'):
                module = module[:-len('.__init__')]
            roots.append(module + ':Root')
    return sorted(roots)


def cherrypy_static(directory, package, config_file):
    """Static folders: those the CherryPy config declares, else a conventional static/."""
    urls = config_static_dirs(config_file) if config_file else []
    if urls:
        return os.path.commonprefix([path for _, path in urls]).rstrip(os.sep) or None, urls
    for candidate in (os.path.join(directory, package, 'static'),
                      os.path.join(directory, 'static')):
        if os.path.isdir(candidate):
            return candidate, [('/static', candidate)]
    return None, []


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
        base = literal(options.get('tools.staticdir.root')) or os.path.dirname(config_file)
        if isinstance(folder, str) and folder:
            path = os.path.normpath(os.path.join(base, folder))
            if os.path.isdir(path):
                found.append((section.rstrip('/') or '/', path))
    return found


def literal(value):
    """CherryPy config values are Python literals; anything else counts as absent."""
    if value is None:
        return None
    try:
        return ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return None


# -- shared helpers -------------------------------------------------------------------

def choose_config(directory, config, names, kind, required=True):
    if config and re.search(r'[\x00-\x1f\x7f]', config):
        raise TgDeployError('--config %r holds control characters: name the file plainly'
                            % config)
    if config:
        path = os.path.abspath(os.path.join(directory, config))
        if not os.path.isfile(path):
            raise TgDeployError('config file %s not found: pass --config with an existing %s file'
                                % (path, kind))
        return path
    found = find_first(directory, names)
    if found is None and required:
        raise TgDeployError('no config file in %s (looked for %s): pass --config'
                            % (directory, ', '.join(names)))
    return found


def require_section(config_file, section):
    if not read_config(config_file).has_section(section):
        raise TgDeployError('%s has no [%s] section: pass --config with the ini that defines '
                            'your application' % (config_file, section))


def read_config(path):
    # Not strict: TurboGears 1.x .cfg files are ConfigObj files, where the same key may
    # appear in several nested [[sections]].
    parser = RawConfigParser(**NOT_STRICT)
    try:
        with io.open(path, encoding='utf-8') as f:
            read_file = getattr(parser, 'read_file', None) or parser.readfp
            read_file(f, path)
    except (ConfigParserError, UnicodeDecodeError) as e:
        first_line = str(e).strip().splitlines()[0]
        raise TgDeployError('cannot parse %s (%s): fix the file or pass --config' % (
            path, first_line))
    return parser


def find_first(directory, names):
    for name in names:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def find_packages_with(directory, relative_file):
    """Top-level packages of ``directory`` that contain ``relative_file``."""
    return [name for name in sorted(os.listdir(directory))
            if name not in SKIP_DIRS and
            os.path.isfile(os.path.join(directory, name, '__init__.py')) and
            os.path.isfile(os.path.join(directory, name, relative_file))]


def python_files(directory, depth=3):
    """The project's own .py files, a few levels deep, skipping virtualenvs and build output."""
    found = []
    for dirpath, dirnames, filenames in os.walk(directory):
        level = os.path.relpath(dirpath, directory).count(os.sep)
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith('.') and d not in SKIP_DIRS and level < depth and
            not os.path.isfile(os.path.join(dirpath, d, 'pyvenv.cfg')) and
            (dirpath == directory or os.path.isfile(os.path.join(dirpath, d, '__init__.py'))))
        found.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith('.py'))
    return found


def project_name(directory, package):
    """The distribution name from the packaging files, else the folder's name."""
    for reader in (name_from_pyproject, name_from_setup_cfg, name_from_setup_py):
        name = reader(directory)
        if name:
            return name
    return os.path.basename(directory) or package


def name_from_pyproject(directory):
    path = os.path.join(directory, 'pyproject.toml')
    if not os.path.isfile(path):
        return None
    # Python 2.7 has no TOML parser; [project] name is always a plain string line.
    section = None
    for line in read_text(path).splitlines():
        header = re.match(r'^\s*\[([^\]]+)\]\s*$', line)
        if header:
            section = header.group(1).strip()
            continue
        match = re.match(r'''^\s*name\s*=\s*["']([^"']+)["']''', line)
        if section == 'project' and match:
            return match.group(1)
    return None


def name_from_setup_cfg(directory):
    path = os.path.join(directory, 'setup.cfg')
    if not os.path.isfile(path):
        return None
    parser = read_config(path)
    if parser.has_option('metadata', 'name'):
        return parser.get('metadata', 'name').strip() or None
    return None


def name_from_setup_py(directory):
    path = os.path.join(directory, 'setup.py')
    if not os.path.isfile(path):
        return None
    match = re.search(r'''\bname\s*=\s*["']([^"']+)["']''', read_text(path))
    return match.group(1) if match else None


def existing_dir(path):
    return path if os.path.isdir(path) else None


def read_text(path):
    with io.open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def pyvenv_cfg(python_home):
    """The keys of a virtualenv's pyvenv.cfg ({} when there is none)."""
    path = os.path.join(python_home, 'pyvenv.cfg')
    keys = {}
    if os.path.isfile(path):
        with io.open(path, encoding='utf-8') as f:
            for line in f:
                key, _, value = line.partition('=')
                keys[key.strip()] = value.strip()
    return keys
