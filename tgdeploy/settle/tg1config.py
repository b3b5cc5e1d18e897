"""TurboGears 1.x: the deployment config, derived from the project's own .cfg.

Under Apache the working directory is "/" (embedded mode), so quickstart's
``%(current_dir_uri)s`` and relative file names would point into the root folder. The copy
written to apache/ keeps every line of the user's file but makes those paths absolute, puts
SQLite databases, log files and the folders it writes (session files, uploads) in the data
folder the daemon user may write, and keeps a server.environment setting at "production".
The user's own file is never edited.
"""
import re

from tgdeploy.settle.inifile import READ_ONLY, WRITTEN
from tgdeploy.detect.projectfiles import read_config, read_text

SETTING = re.compile(r'^(?P<indent>\s*)(?P<key>[\w.]+)\s*=\s*(?P<value>.*)$')
RELATIVE_SQLITE = re.compile(r'''^(["']?)sqlite:///(?!/)''')
RELATIVE_LOG_FILE = re.compile(r'''^(["'])\((['"])(?!/)([^'"]+)\2''')
# A quoted path in the project: under %(current_dir_uri)s, or relative (not a URL), the
# latter only for keys that name a folder (storage_type = "file" is no path).
FOLDER_KEY = re.compile(r'(path|dir|directory|folder)$', re.I)
PROJECT_PATH = re.compile(r'''^(["'])(?:%\(current_dir_uri\)s/|(?![/%]|\w+:))([^"']+)\1\s*$''')


def derive_deployment(cfg_path, project_dir, data_dir, slug, secrets=None, added=()):
    """The deployment .cfg text; ``secrets`` maps secret keys to the values to write;
    ``added`` lists (key, value) settings production needs (Secure cookies): set where the
    file sets them, else added at the top of [global]."""
    lines = read_text(cfg_path).splitlines()  # in any encoding (textfiles.py)
    derived = [rewrite(line, project_dir, data_dir, slug, secrets or {}, dict(added))
               for line in lines]
    present = set(m.group('key') for m in (SETTING.match(line) for line in lines)
                  if m)
    missing = ['%s = %s' % (key, value) for key, value in added if key not in present]
    if missing:
        derived = add_to_global(derived, missing)
    return '\n'.join(derived)


def add_to_global(lines, settings):
    """``settings`` lines right after the [global] header (a file without one gets one)."""
    for number, line in enumerate(lines):
        if line.strip() == '[global]':
            return lines[:number + 1] + settings + lines[number + 1:]
    return ['[global]'] + settings + lines


# Debug-only settings of a dev.cfg, and others that break under Apache, with the values
# production needs.
PRODUCTION = {
    'server.environment': '"production"',
    'autoreload.on': 'False',
    'engine.autoreload.on': 'False',
    'sqlalchemy.echo': 'False',
    # The host comes from Apache, not from the base_url of the proxy the app sat behind.
    'base_url_filter.on': 'False',
}
# Settings that must go: the mount comes from Apache's SCRIPT_NAME (by default the webpath
# itself), and a webpath as well made every page a 404.
DROPPED = ('server.webpath',)


def rewrite(line, project_dir, data_dir, slug, secrets=None, added=None):
    setting = SETTING.match(line)
    if not setting or line.lstrip().startswith('#'):
        return line
    key = setting.group('key')
    old = value = setting.group('value')
    if key in DROPPED:
        return '%s# %s=%s  (tgdeploy: the mount comes from Apache)' % (
            setting.group('indent'), key, value)
    if key in PRODUCTION:
        value = PRODUCTION[key]
    elif key in (added or {}):
        value = added[key]
    elif key in (secrets or {}):
        value = '"%s"' % secrets[key]
    elif key == 'level' and value.strip().strip('"\'').upper() == 'DEBUG':
        value = "'INFO'"
    elif key.endswith('.dburi') and 'sqlite:' in value and (
            '%(current_dir_uri)s' in value or RELATIVE_SQLITE.match(value)):
        value = '"sqlite:///%s/%s.sqlite"' % (data_dir, slug)
    elif WRITTEN.search(key) and not READ_ONLY.search(key) and PROJECT_PATH.match(value) and \
            ('%(current_dir_uri)s' in value or FOLDER_KEY.search(key)):
        # A place the application writes (session files, uploads...): in the data folder.
        match = PROJECT_PATH.match(value)
        value = '%s%s/%s%s' % (match.group(1), data_dir, match.group(2).rstrip('/'),
                               match.group(1))
    elif key == 'args':
        value = RELATIVE_LOG_FILE.sub(
            lambda m: '%s(%s%s/%s%s' % (m.group(1), m.group(2), data_dir, m.group(3),
                                          m.group(2)), value)
    value = value.replace('%(current_dir_uri)s', project_dir)
    if value == old:
        return line
    return '%s%s=%s' % (setting.group('indent'), key, value)


def webpath(cfg_path):
    """The server.webpath the config sets ('' for none): the mount it was served at."""
    parser = read_config(cfg_path)
    for section in parser.sections():
        if parser.has_option(section, 'server.webpath'):
            return parser.get(section, 'server.webpath').strip().strip('"\'').rstrip('/')
    return ''
