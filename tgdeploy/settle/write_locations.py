"""Places a TurboGears application writes at run time, read from its config, and what the
deployment does about each: moved into the data folder (the one folder the daemon user may
write) where nothing else depends on where it lies, else kept where it is, named in README
step 2 with the `install -d -o` line that makes it the daemon user's, and checked by the
doctor.

What inifile.rewrite moves by itself: SQLite URLs under %(here)s or relative to the working
folder, and folders under %(here)s whose key names a written place (Beaker's cache_dir,
session.data_dir, lock_dir, depot and upload storage...). What this module adds:
- webassets (tgext.webassets): its cache (by default a .webassets-cache folder inside
  public/, which the daemon user cannot write: a 500 on the first page that links a bundle)
  goes into the data folder (README step 2 makes the folder: webassets does not). The
  bundles it builds (``output='assets/js_all.js'``) must stay in public/, since their URL is
  the folder's: those folders are kept in place and named.
- file log handlers of the ini (inifile.rewrite) and, for TurboGears 1.x, the folders its
  deployment config names (tg1config.py moves them): checked by the doctor.
- its base_url gets the mount (mount_links.py says why).
"""
import os
import re

from tgdeploy.settle import inifile, tg1config
from tgdeploy._compat import shell_quote
from tgdeploy.files.access import access_problem, user_ids
from tgdeploy.settle.config_settings import app_cfg_path
from tgdeploy.detect.projectfiles import scan_text

TRUE = ('true', 'yes', 'on', '1', 'y', 't')
BUNDLE_OUTPUT = re.compile(r'''\boutput\s*=\s*(?:u|r)?(['"])([^'"\\]+)\1''')
MAX_FILES = 400


def settings(config_file):
    """{key: value} of the ini's [app:main], %(here)s being the ini's folder."""
    return dict(inifile.app_settings(scan_text(config_file), os.path.dirname(config_file)))


def package_sources(package_dir):
    """The text of the package's Python files (a bounded walk)."""
    if not package_dir or not os.path.isdir(package_dir):
        return []
    texts = []
    for folder, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.') and d not in (
            'public', 'static', 'templates', 'tests', 'i18n', '__pycache__'))
        for name in sorted(files):
            if name.endswith('.py') and len(texts) < MAX_FILES:
                texts.append(scan_text(os.path.join(folder, name)))
    return texts


def uses_webassets(config_file, package_dir):
    if any(key.startswith('webassets.') for key in settings(config_file)):
        return True
    return 'webassets' in scan_text(app_cfg_path(package_dir) or '')


def webassets_settings(config_file, package_dir, data_dir, mount):
    """(key, value, why) the derived ini forces for webassets; () for a project without."""
    if not uses_webassets(config_file, package_dir):
        return []
    given = settings(config_file)
    forced = []
    cache = given.get('webassets.cache')
    if cache is None or cache.strip().lower() in TRUE:
        forced.append(('webassets.cache', data_dir + '/webassets-cache',
                       'webassets keeps its cache in the data folder, not in public/'))
    base_url = given.get('webassets.base_url', '/')
    if mount != '/' and '://' not in base_url and not base_url.startswith(mount + '/'):
        forced.append(('webassets.base_url', mount + '/' + base_url.lstrip('/'),
                       'bundles are linked under the mount'))
    return forced


def runtime_dirs(config_file, package_dir, flavor, data_dir):
    """Folders the application writes that must exist before it runs, each made the daemon
    user's in README step 2: webassets' cache (webassets does not create it) and the folders
    of the bundles it builds inside public/, which cannot move (their URL is the folder's)."""
    if flavor != 'tg2' or not config_file or not uses_webassets(config_file, package_dir):
        return []
    given = settings(config_file)
    # A production ini of the user's own is served as it is (options.app_config).
    derived = not inifile.is_own_production(config_file)
    folders = set()
    cache = given.get('webassets.cache')
    base_dir = given.get('webassets.base_dir') or (
        package_dir and os.path.join(package_dir, 'public'))
    if (cache is None or cache.strip().lower() in TRUE) and derived:
        folders.add(data_dir + '/webassets-cache')
    elif cache is None or cache.strip().lower() in TRUE:
        if base_dir:  # webassets' own default
            folders.add(os.path.join(base_dir, '.webassets-cache'))
    elif os.path.isabs(cache):
        folders.add(moved(cache, os.path.dirname(config_file), data_dir) if derived else cache)
    for text in package_sources(package_dir) if base_dir else ():
        for _, output in BUNDLE_OUTPUT.findall(text):
            if not os.path.isabs(output) and '..' not in output.split('/'):
                folders.add(os.path.normpath(os.path.join(base_dir, os.path.dirname(output))))
    return sorted(folders)


def moved(path, here, data_dir):
    """Where inifile.rewrite puts a written folder of the ini's: under %(here)s, into the
    data folder."""
    path = os.path.normpath(path)
    for folder in (os.path.join(here, 'data'), here):
        if path == folder or path.startswith(folder + os.sep):
            return os.path.normpath(data_dir + '/' + path[len(folder):])
    return path


TG1_SQLITE = re.compile(r'''^["']?sqlite:///?(/[^"'?]+)''')
TG1_PATH = re.compile(r'''^(["'])(/[^"']+)\1\s*$''')
TG1_LOG_FILE = re.compile(r'''^\(\s*(["'])(/[^"']+)\1''')


def tg1_write_locations(cfg_text):
    """[(key, folder)] the TurboGears 1.x deployment config has the application write in:
    its SQLite databases' folders (SQLite writes a journal beside them), the folders it names
    for writing (sessions, uploads...), its log files' folders."""
    found = []
    for line in cfg_text.splitlines():
        setting = tg1config.SETTING.match(line)
        if not setting or line.lstrip().startswith('#'):
            continue
        key, value = setting.group('key'), setting.group('value').strip()
        sqlite, path, log = TG1_SQLITE.match(value), TG1_PATH.match(value), \
            TG1_LOG_FILE.match(value)
        if key.endswith('.dburi') and sqlite:
            found.append((key, os.path.dirname(sqlite.group(1))))
        elif path and inifile.WRITTEN.search(key) and not inifile.READ_ONLY.search(key):
            found.append((key, path.group(2)))
        elif key == 'args' and log:
            found.append(('a log handler\'s file', os.path.dirname(log.group(2))))
    return found


def findings(values):
    """[(level, text)]: a folder of runtime_dirs(), or one the TurboGears 1.x config has the
    application write in outside the data folder, that the daemon user cannot write."""
    ids = user_ids(values.daemon.user)
    if ids is None:
        return []
    found = []
    data = os.path.normpath(values.paths.data_dir)
    for key, folder in tg1_write_locations(values.tg1.cfg or ''):
        folder = os.path.normpath(folder)
        if folder == data or folder.startswith(data + os.sep):
            continue  # the doctor's data folder finding covers it
        problem = access_problem(folder, ids[0], ids[1], os.W_OK)
        if problem:
            found.append(('error', '%s cannot write %s, where %s has the application write (%s): '
                                   '%s' % (values.daemon.user, folder, key, problem[1],
                                           problem[2] or
                                           'chown %s:%s %s, or point it into %s' % (
                                               values.daemon.user, values.daemon.group,
                                               shell_quote(folder), data))))
    found += base_url_findings(values)
    for folder in values.paths.runtime_dirs or ():
        problem = access_problem(folder, ids[0], ids[1], os.W_OK)
        if problem:
            found.append(('error', '%s cannot write %s, where the application writes at run '
                                   'time (%s): install -d -o %s -g %s %s' % (
                                       values.daemon.user, folder, problem[1], values.daemon.user,
                                       values.daemon.group, shell_quote(folder))))
    return found


def base_url_findings(values):
    """An ini served as it is whose webassets bundles are linked outside the mount."""
    config_file = values.config.file
    if values.project.flavor != 'tg2' or values.config.derived_ini or \
            values.apache.mount == '/' or not config_file or \
            not uses_webassets(config_file, values.project.package_dir):
        return []
    base_url = settings(config_file).get('webassets.base_url', '/')
    if '://' in base_url or base_url.startswith(values.apache.mount + '/'):
        return []
    return [('warning', '%s links the webassets bundles at %s, outside the mount %s (404): set '
                        'webassets.base_url = %s/%s there' % (
                            config_file, base_url, values.apache.mount, values.apache.mount,
                            base_url.lstrip('/')))]
