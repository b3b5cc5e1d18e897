"""Reading a project's files: configs, packages, names, imports. Never importing them.

Shared by the detectors (detect_tg2.py, detect_tg1.py, detect_cherrypy.py), which read and
never import or run the project: it may need another Python than the one running
tgdeploy, and importing it could have side effects.
"""
import ast
import io
import os
import re

from tgdeploy.files import textfiles
from tgdeploy._compat import NOT_STRICT, RawConfigParser, ConfigParserError
from tgdeploy.errors import TgDeployError

# Folders that never hold the project's own code.
SKIP_DIRS = ('apache', 'build', 'dist', 'docs', 'tests', 'test', 'migration', 'node_modules')


def choose_config(directory, config, names, kind, required=True):
    if config and re.search(r'[\x00-\x1f\x7f]', config):
        raise TgDeployError('--config %r holds control characters: name the file plainly'
                            % config)
    if config:
        path = os.path.abspath(os.path.join(directory, config))
        if not os.path.isfile(path):
            raise TgDeployError('config file %s not found: pass --config with an existing %s file'
                                % (path, kind))
        return check_small_file('--config', path)
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
        read_file = getattr(parser, 'read_file', None) or parser.readfp
        read_file(io.StringIO(textfiles.read_text(path)), path)
    except ConfigParserError as e:
        first_line = str(e).strip().splitlines()[0]
        raise TgDeployError('cannot parse %s (%s): fix the file or pass --config' % (
            path, first_line))
    return parser


# Configs and secrets files are small; a bigger one is a mistake (and would be read whole).
MAX_FILE = 16 * 1024 * 1024


def check_small_file(option, path):
    """``path``, if it is a plain file of a sane size outside /proc, /sys and /dev (where a
    "file" may block the reader for ever, /proc/kmsg)."""
    real = os.path.realpath(path)
    if any(real == top or real.startswith(top + '/') for top in ('/proc', '/sys', '/dev')):
        raise TgDeployError('%s %s is not a file of the project: name a config file'
                            % (option, path))
    size = os.path.getsize(path)
    if size > MAX_FILE:
        raise TgDeployError('%s %s is %d MB, not a config file: name the right file'
                            % (option, path, size // (1024 * 1024)))
    return path


def find_first(directory, names):
    for name in names:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


NOT_THE_APPLICATION = ('tests', 'test', 'docs', 'doc')


def import_root(directory):
    """The folder the project's packages are imported from: ``src/`` in a src layout (a
    plain folder holding packages), else the project folder itself."""
    src = os.path.join(directory, 'src')
    if not os.path.isdir(src) or os.path.islink(src) or is_package(src):
        return directory
    # A package beside src/ (tests aside) means src/ is something else: sources of a
    # bundled library, a C extension's...
    if any(is_package(os.path.join(directory, name)) for name in os.listdir(directory)
           if name not in NOT_THE_APPLICATION):
        return directory
    if any(is_package(os.path.join(src, name)) for name in os.listdir(src)):
        return src
    return directory


def packages_with(directory, relative_files, depth=3):
    """[(dotted name, folder)] of the packages below ``directory`` (or its src/) holding one
    of ``relative_files`` (namespace packages too: bkr/server/config/app.cfg is bkr.server)."""
    found = []
    pending = [((), import_root(directory))]
    while pending:
        names, folder = pending.pop(0)
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if name.startswith('.') or name in SKIP_DIRS or not is_package(path):
                continue
            dotted = names + (name,)
            if any(os.path.isfile(os.path.join(path, f)) for f in relative_files):
                found.append(('.'.join(dotted), path))
            elif len(dotted) < depth:
                pending.append((dotted, path))
    return found


def is_package(path):
    return os.path.isfile(os.path.join(path, '__init__.py')) and not os.path.islink(path)


def module_of(directory, path):
    """The dotted module name of a .py file of the project (src/ is no part of it)."""
    root = import_root(directory)
    if not path.startswith(root + os.sep):
        root = directory
    module = os.path.relpath(path, root)[:-3].replace(os.sep, '.')
    return module[:-len('.__init__')] if module.endswith('.__init__') else module


def imported_from(text, name, module, is_init=False):
    """The module ``name`` is imported from in ``text``, the source of ``module`` (a package's
    __init__ when ``is_init``), relative imports resolved; None if not imported there."""
    for match in re.finditer(r'^\s*from\s+(\.*)([\w.]*)\s+import\s+\(?([^)\n]*)', text, re.M):
        imported = [part.split(' as ')[0].strip() for part in match.group(3).split(',')]
        if name not in imported:
            continue
        dots, target = match.group(1), match.group(2)
        if not dots:
            return target
        base = module.split('.') if is_init else module.split('.')[:-1]
        base = base[:len(base) - (len(dots) - 1)]
        return '.'.join(base + ([target] if target else []))
    return None


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
        found.extend(os.path.join(dirpath, f) for f in sorted(filenames)
                     if f.endswith('.py') and os.path.isfile(os.path.join(dirpath, f)))
    return found


def project_name(directory, package):
    """The distribution name from the packaging files, else the folder's name."""
    for reader in (name_from_pyproject, name_from_setup_cfg, name_from_setup_py,
                   name_from_pkg_info):
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


def literal(value):
    """CherryPy config values are Python literals; anything else counts as absent."""
    if value is None:
        return None
    try:
        value = ast.literal_eval(value.strip())
    except Exception:  # any value that is not a plain literal counts as absent
        return None
    return value if isinstance(value, (bool, int, float)) or hasattr(value, 'replace') \
        else None


def name_from_pkg_info(directory):
    """Name: of an sdist's PKG-INFO, or of the egg-info setup.py egg_info wrote (where
    setup.py computes the name, name=release.name)."""
    candidates = [os.path.join(directory, 'PKG-INFO')] + sorted(
        os.path.join(directory, n, 'PKG-INFO') for n in os.listdir(directory)
        if n.endswith('.egg-info'))
    for path in candidates:
        if os.path.isfile(path):
            match = re.search(r'^Name:\s*(\S+)', read_text(path), re.M)
            if match:
                return match.group(1)
    return None


def read_text(path):
    """The text of a project's file, in whatever encoding it has (textfiles.py)."""
    return textfiles.read_text(path)


# Package code and configs scanned for a setting are read no further than this.
SCAN_BYTES = 512 * 1024


def scan_text(path):
    """The first SCAN_BYTES of a project's file as text (textfiles.py: any encoding, no
    symlink followed as root where the owner could plant one); '' if unreadable."""
    try:
        return textfiles.read_text(path, SCAN_BYTES)
    except (IOError, OSError):
        return ''


def pyvenv_cfg(python_home):
    """The keys of a virtualenv's pyvenv.cfg ({} when there is none)."""
    path = os.path.join(python_home, 'pyvenv.cfg')
    keys = {}
    if os.path.isfile(path):
        for line in textfiles.read_text(path).splitlines():
            key, _, value = line.partition('=')
            keys[key.strip()] = value.strip()
    return keys


def code_lines(text):
    """[(number, line)] of Python code: comment lines and the insides of triple-quoted
    strings (docstrings) dropped."""
    found, in_string = [], None
    for number, line in enumerate(text.splitlines(), 1):
        quotes = re.findall(r'"""|\'\'\'', line)
        if in_string:
            if quotes.count(in_string) % 2:  # """ + x + """ closes and opens again
                in_string = None
            continue
        if line.strip().startswith('#') or not line.strip():
            continue
        if quotes and quotes.count(quotes[0]) % 2:
            in_string = quotes[0]
            head = line.split(quotes[0])[0]
            if head.strip():
                found.append((number, head))
            continue
        found.append((number, line))
    return found
