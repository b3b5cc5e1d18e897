"""TurboGears 1.x: the deployment config, derived from the project's own .cfg.

Under Apache the working directory is "/" (embedded mode), so quickstart's
``%(current_dir_uri)s`` and relative file names would point into the root folder. The copy
written to apache/ keeps every line of the user's file but makes those paths absolute, puts
SQLite databases and log files in the data folder the daemon user may write, and keeps a
server.environment setting at "production". The user's own file is never edited.
"""
import io
import re

from tgdeploy.projectfiles import read_config

SETTING = re.compile(r'^(?P<indent>\s*)(?P<key>[\w.]+)\s*=\s*(?P<value>.*)$')
RELATIVE_SQLITE = re.compile(r'''^(["']?)sqlite:///(?!/)''')
RELATIVE_LOG_FILE = re.compile(r'''^(["'])\((['"])(?!/)([^'"]+)\2''')


def derive_deployment(cfg_path, project_dir, data_dir, slug, secrets=None):
    """The deployment .cfg text; ``secrets`` maps secret keys to the values to write."""
    with io.open(cfg_path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    return '\n'.join(rewrite(line, project_dir, data_dir, slug, secrets or {})
                     for line in lines)


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


def rewrite(line, project_dir, data_dir, slug, secrets=None):
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
    elif key in (secrets or {}):
        value = '"%s"' % secrets[key]
    elif key == 'level' and value.strip().strip('"\'').upper() == 'DEBUG':
        value = "'INFO'"
    elif key.endswith('.dburi') and 'sqlite:' in value and (
            '%(current_dir_uri)s' in value or RELATIVE_SQLITE.match(value)):
        value = '"sqlite:///%s/%s.sqlite"' % (data_dir, slug)
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
