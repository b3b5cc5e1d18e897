"""Read PasteDeploy ini files, and derive a production ini from a development one.

gearbox quickstart ships only development.ini. The derived copy keeps every line of the
user's file (comments included) and changes just what production needs: debug off,
template auto-reload off, quieter loggers, and absolute paths, since the copy lives in
apache/ and Apache's working directory is "/". The places the application writes go under
the data folder, the one folder the daemon user may write.
"""
import io
import os
import re

from tgdeploy._compat import NOT_STRICT, ConfigParserError, RawConfigParser
from tgdeploy.detect.projectfiles import read_config, read_text

SECTION = re.compile(r'^\s*\[([^\]]+)\]\s*$')
SETTING = re.compile(r'^(?P<key>[^\s#;\[][^=:]*?)\s*(?P<sep>[=:])\s*(?P<value>.*)$')
TRUE = ('true', 'yes', 'on', '1')
IN_DATA = re.compile(r'^%\(here\)s/data(/|$)')
IN_PROJECT = re.compile(r'^%\(here\)s/')
# sqlite:///name.db: relative to the working folder, which Apache sets (daemon mode: the
# project, embedded mode: "/").
HANDLER_FILE = re.compile(r'''(['"])%\(here\)s/(?:data/)?''')
RELATIVE_SQLITE = re.compile(r'^sqlite:///(?![/%]|:memory:)[^?]')
# Keys naming a place the application writes (Beaker caches and sessions, depot uploads,
# search indexes, compiled templates...), and the ones it only reads, which stay put.
# ("templating.*" is no temporary folder.)
WRITTEN = re.compile(r'cache|session|lock|upload|depot|storage|index|archive|compiled|'
                     r'te?mp(?!lat)', re.I)
READ_ONLY = re.compile(r'public|static|i18n|locale|lang', re.I)


def is_development(ini_path):
    """True when the ini turns debug on for the application (the interactive debugger)."""
    parser = read_config(ini_path)
    for section in ('app:main', 'DEFAULT'):
        for key in ('set debug', 'debug'):
            if section == 'DEFAULT':
                value = parser.defaults().get(key)
            elif parser.has_section(section) and parser.has_option(section, key):
                value = parser.get(section, key)
            else:
                value = None
            if value is not None:
                return value.strip().lower() in TRUE
    return False


# Ini files named for development or tests: never served as they are, whatever their
# debug setting says (a development.ini with debug = false still holds the repository's
# secrets and puts its SQLite database next to the code).
DEVELOPMENT_NAME = re.compile(r'^(development|develop|dev|debug|test|testing)([._-]|$)', re.I)


def is_own_production(ini_path):
    """True for a production ini of the user's own (production.ini, deployment.ini, or any
    other named with --config): debug off, and not named for development or tests. It is
    served as it is; any other ini gets a derived production copy."""
    return not DEVELOPMENT_NAME.match(os.path.basename(ini_path)) and \
        not is_development(ini_path)


def write_locations(text, here):
    """[(key, path)] of [app:main] in the ini ``text``: where its SQLite database lies and the
    folders it names for writing (caches, sessions, uploads...)."""
    found = []
    for key, value in app_settings(text, here):
        if value.startswith('sqlite:///') and value[len('sqlite:///'):].startswith('/'):
            found.append((key, value[len('sqlite:///'):].partition('?')[0]))
        elif value.startswith('/') and WRITTEN.search(key) and not READ_ONLY.search(key):
            found.append((key, value))
    return found


def deployed_ini(values):
    """(text, here) of the ini a deployment runs with: the derived one, or the project's own
    used as it is."""
    if values.config.write_ini and values.config.derived_ini:
        return values.config.derived_ini, os.path.dirname(values.config.source)
    return read_text(values.config.file), os.path.dirname(values.config.file)


def app_settings(text, here):
    """[(key, value)] of [app:main] in the ini ``text``, ``%(here)s`` being ``here`` unless
    the ini sets it; [] for a text that does not parse."""
    parser = RawConfigParser(**NOT_STRICT)
    try:
        (getattr(parser, 'read_file', None) or parser.readfp)(io.StringIO(text))
    except ConfigParserError:
        return []  # the same text is parsed, and refused, before it is ever written
    if not parser.has_section('app:main'):
        return []
    here = parser.defaults().get('here', here)
    return [(key, value.replace('%(here)s', here).strip())
            for key, value in parser.items('app:main')]


def has_logging(ini_path):
    return read_config(ini_path).has_section('loggers')


def derive_production(ini_path, here, data_dir, db_name, forced=()):
    """Return the text of a production ini made from the development ini at ``ini_path``;
    ``here`` is that ini's folder, what its ``%(here)s`` meant. ``forced`` lists (key, value,
    why) settings production needs: a key set in the file gets the value where it stands,
    a commented-out one is set in its place, any other is added to [app:main]."""
    lines = read_text(ini_path).splitlines()  # in any encoding (textfiles.py)
    forced = list(forced) + [AUTO_RELOAD_OFF]
    values = dict((key, value) for key, value, _ in forced)
    present = set(key for key in values if set_in(key, lines))
    placed = set()
    out = []
    section = None
    for line in lines:
        header = SECTION.match(line)
        if header:
            if section == 'app:main':
                insert_before_trailing_comments(out, additions(forced, present | placed))
                placed.update(key for key, _, _ in forced)
            section = header.group(1).strip()
            out.append(line)
            continue
        commented = COMMENTED.match(line)
        key = commented and commented.group('key').strip()
        if key in values and key not in present and key not in placed:
            out.append('%s = %s' % (key, values[key]))
            placed.add(key)
            continue
        out.append(rewrite(line, section, here, data_dir, db_name, values))
    if section == 'app:main':
        insert_before_trailing_comments(out, additions(forced, present | placed))
    return '\n'.join(keep_here(out, here)).rstrip('\n')


def keep_here(lines, here):
    """PasteDeploy sets ``here`` to the folder of the ini it loads, now apache/: the
    application's global_conf['here'] keeps meaning the original ini's folder."""
    setting = ['# added by tgdeploy: "here" stays the folder of the ini this one derives from',
               'here = %s' % here]
    for index, line in enumerate(lines):
        if SECTION.match(line) and SECTION.match(line).group(1).strip() == 'DEFAULT':
            return lines[:index + 1] + setting + lines[index + 1:]
    first = next((i for i, line in enumerate(lines) if SECTION.match(line)), len(lines))
    return lines[:first] + ['[DEFAULT]'] + setting + [''] + lines[first:]


AUTO_RELOAD_OFF = ('auto_reload_templates', 'false',
                   'templates are not re-read on every request in production')
COMMENTED = re.compile(r'^[#;]\s*(?P<key>[^\s#;\[][^=:]*?)\s*[=:]')


def set_in(key, lines):
    for line in lines:
        setting = SETTING.match(line)
        if setting and setting.group('key').strip() == key:
            return True
    return False


def additions(forced, done):
    """Lines for the settings not yet in the file, one comment per reason."""
    lines, last_why = [], None
    for key, value, why in forced:
        if key in done:
            continue
        if why != last_why:
            lines += ([''] if lines else []) + ['# added by tgdeploy: %s' % why]
            last_why = why
        lines.append('%s = %s' % (key, value))
    return lines


def insert_before_trailing_comments(out, lines):
    """Add ``lines`` after the section's last setting: the comments that end a section
    usually introduce the next one."""
    if not lines:
        return
    end = len(out)
    while end > 0 and (not out[end - 1].strip() or out[end - 1].lstrip()[:1] in '#;'):
        end -= 1
    out[end:end] = [''] + lines


def rewrite(line, section, here, data_dir, db_name, forced):
    setting = SETTING.match(line)
    if not setting:
        return line
    key = setting.group('key').strip()
    old = value = setting.group('value')
    if key in ('debug', 'set debug'):
        value = 'false'
    elif key in forced:
        value = forced[key]
    elif section and section.startswith('logger_') and key == 'level' and \
            value.strip().upper() == 'DEBUG':
        value = 'INFO'
    elif value.startswith('sqlite:///%(here)s/') or RELATIVE_SQLITE.match(value):
        # Its options (Kallithea's ?timeout=60) stay with it.
        value = 'sqlite:///%s/%s' % (data_dir, db_name) + value.partition('?')[1] + \
            value.partition('?')[2]
    elif IN_DATA.match(value.strip()):
        value = data_dir + IN_DATA.sub('/', value.strip()).rstrip('/')
    elif IN_PROJECT.match(value.strip()) and WRITTEN.search(key) and not READ_ONLY.search(key):
        value = data_dir + IN_PROJECT.sub('/', value.strip()).rstrip('/')
    elif section and section.startswith('handler_') and key == 'args':
        # A file handler's log file beside the ini: the daemon user may not write there.
        value = HANDLER_FILE.sub(lambda m: m.group(1) + data_dir + '/', value)
    value = value.replace('%(here)s', here)
    if value == old:
        return line
    return '%s %s %s' % (setting.group('key'), setting.group('sep'), value)
