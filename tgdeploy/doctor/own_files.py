"""Finding the project's own deployment files and reading them safely.

Files are read, never imported or run, and only small plain files inside the project: a
FIFO, a device, a symlink out of the project, a huge, unreadable or binary file is passed
over without a word.
"""
import json
import os
import re
import stat

from tgdeploy.files import textfiles

# The project's own files are near its top; a deeper or bigger search would read vendored
# trees and slow every doctor run.
MAX_DEPTH = 3
MAX_ENTRIES = 5000
MAX_FILES = 60
MAX_BYTES = 256 * 1024
# A folder holding more names than this is data (uploads, a cache), not deployment files:
# listing it whole would use up MAX_ENTRIES before the folders after it.
MAX_FOLDER_ENTRIES = 1000

SKIP_DIRS = ('node_modules', 'build', 'dist', '__pycache__', 'site-packages', 'tests', 'test',
             'htmlcov', 'bower_components')

KIND_NAMES = {'python': 'mod_wsgi script', 'start': 'start script', 'shell': 'start script',
              'apache': 'Apache config', 'docker': 'Dockerfile', 'compose': 'compose file',
              'systemd': 'systemd unit', 'supervisor': 'supervisor config'}

# tgdeploy's own mark, wherever its files are: the header of the files it writes...
GENERATED = re.compile(r'written\s+by\s+(?:#\s*)?tgdeploy\b', re.I)
# ... and the manifest it keeps beside them (install.py), listing every file it wrote there.
MANIFEST = '.tgdeploy-manifest'
APACHE_DIRECTIVE = re.compile(
    r'^\s*(WSGI[A-Z]\w+|Alias|AliasMatch|ScriptAlias|SetEnv|LoadModule|<VirtualHost|<Location'
    r'|<Directory|ServerName)\b', re.M)


def deployment_files(values):
    """[(path, kind, text)] of the project's own deployment files, by name and content."""
    top = os.path.realpath(values.paths.project_dir)
    skip = set(os.path.realpath(path) for path in (values.paths.data_dir, values.python.home)
               if path)
    found, read, manifests = [], set(), {}
    for path in candidates(values.paths.project_dir, skip,
                           os.path.realpath(values.paths.apache_dir)):
        real = os.path.realpath(path)
        if real in read or tgdeploy_wrote(path, real, top, manifests):
            continue  # a symlink to a file already read, or one of tgdeploy's own
        read.add(real)
        text = read_small(real, top)
        kind = text is not None and kind_of(path, text)
        if kind:
            found.append((path, kind, text))
        if len(found) >= MAX_FILES:
            break
    return found


def candidates(directory, skip, output):
    """Files whose names look like deployment files, breadth first, bounded. In the output
    folder only the .conf and .wsgi files: the project's own apache/ (Beaker keeps its
    config there) is carried over into the generated one, whose files kind_of() passes
    over."""
    found, pending, entries = [], [(directory, 0)], 0
    while pending:
        folder, depth = pending.pop(0)
        try:
            names = sorted(os.listdir(folder))
        except (IOError, OSError, UnicodeError):
            continue
        if depth and len(names) > MAX_FOLDER_ENTRIES:
            continue
        in_output = os.path.realpath(folder) == output
        for name in names:
            entries += 1
            if entries > MAX_ENTRIES:
                return found
            path = os.path.join(folder, name)
            if os.path.islink(path) or not os.path.isdir(path):
                if name.endswith(('.conf', '.wsgi')) if in_output else named_like_deployment(
                        name, os.path.basename(folder).lower()):
                    found.append(path)
            elif depth < MAX_DEPTH and not in_output and wanted_folder(path, name, skip):
                pending.append((path, depth + 1))
    return found


def wanted_folder(path, name, skip):
    if name.startswith('.') or name in SKIP_DIRS or name.endswith(('.egg-info', '.egg')):
        return False
    if os.path.realpath(path) in skip:
        return False
    # Virtualenvs: venv and virtualenv 20 write pyvenv.cfg, older ones activate_this.py.
    return not (os.path.exists(os.path.join(path, 'pyvenv.cfg')) or
                os.path.exists(os.path.join(path, 'bin', 'activate_this.py')))


def named_like_deployment(name, folder):
    lower = name.lower()
    return (lower.endswith(('.wsgi', '.conf', '.service', '.conf.in')) or
            name in ('commands.py', 'Containerfile') or
            (name.startswith('start-') and (name.endswith('.py') or '.' not in name)) or
            name.endswith('-start') or lower.startswith('dockerfile') or
            lower.endswith('.dockerfile') or
            re.match(r'^(docker-)?compose([.-][\w.-]+)?\.ya?ml$', lower) is not None or
            ((folder.startswith(('apache', 'httpd')) or
              folder in ('conf.d', 'sites-available', 'sites-enabled')) and
             not lower.endswith(('.py', '.pyc'))))


def read_small(real, top):
    """The text of the plain file ``real`` (symlinks resolved) if it is at most MAX_BYTES
    and lies inside ``top``, else None. FIFOs and devices are never opened (opening either
    can block or act), and nothing here raises."""
    try:
        if not inside(real, top) or not small_file(os.stat(real)):
            return None
        # Non-blocking and checked again once open: the file may have been replaced.
        fd = os.open(real, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) |
                     getattr(os, 'O_NOFOLLOW', 0))
        try:
            data = os.read(fd, MAX_BYTES + 1) if small_file(os.fstat(fd)) else None
        finally:
            os.close(fd)
    except (IOError, OSError, UnicodeError, ValueError):
        return None
    if data is None or b'\0' in data or len(data) > MAX_BYTES:
        return None
    return textfiles.decode(data)[0]


def tgdeploy_wrote(path, real, top, manifests):
    """Whether the manifest tgdeploy keeps in the file's folder (the link's or the
    target's) lists it: then it is tgdeploy's, edited or not, in apache/ or any output folder."""
    for where in set([path, real]):
        folder = os.path.dirname(where)
        if folder not in manifests:
            manifests[folder] = written_there(folder, top)
        if os.path.basename(where) in manifests[folder]:
            return True
    return False


def written_there(folder, top):
    text = read_small(os.path.join(os.path.realpath(folder), MANIFEST), top)
    try:
        files = json.loads(text)['files'] if text else {}
    except (ValueError, KeyError, TypeError):
        return set()
    return set(files) if isinstance(files, dict) else set()


def small_file(st):
    return stat.S_ISREG(st.st_mode) and st.st_size <= MAX_BYTES


def inside(real, top):
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def kind_of(path, text):
    """What the file is, read from its name and its first lines; None if it is none of the
    deployment files read here (or one tgdeploy wrote)."""
    if GENERATED.search(text[:2000]):
        return None
    name = os.path.basename(path)
    lower = name.lower()
    if lower.endswith('.service') and re.search(r'^\[Service\]', text, re.M):
        return 'systemd'
    if re.search(r'^\[program:', text, re.M):
        return 'supervisor'
    if lower.startswith('dockerfile') or lower.endswith('.dockerfile') or \
            name == 'Containerfile':
        return 'docker'
    if lower.endswith(('.yml', '.yaml')):
        return 'compose'
    if lower.endswith('.wsgi'):
        # fas.conf.wsgi in the FAS repository is an Apache config.
        if re.search(r'^\s*(import|from)\s', text, re.M):
            return 'python'
        return 'apache' if APACHE_DIRECTIVE.search(text) else None
    if lower.endswith('.py'):
        return 'start'
    if name.endswith('-start') or name.startswith('start-'):
        return 'start' if re.match(r'#!.*python', text) else 'shell'
    return 'apache' if APACHE_DIRECTIVE.search(text) else None
