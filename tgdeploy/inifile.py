"""Read PasteDeploy ini files, and derive a production ini from a development one.

gearbox quickstart ships only development.ini. The derived copy keeps every line of the
user's file (comments included) and changes just what production needs: debug off,
template auto-reload off, quieter loggers, and absolute paths, since the copy lives in
apache/ and Apache's working directory is "/".
"""
import io
import re

from tgdeploy.detect import read_config

SECTION = re.compile(r'^\s*\[([^\]]+)\]\s*$')
SETTING = re.compile(r'^(?P<key>[^\s#;\[][^=:]*?)\s*(?P<sep>[=:])\s*(?P<value>.*)$')
TRUE = ('true', 'yes', 'on', '1')


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


def has_logging(ini_path):
    return read_config(ini_path).has_section('loggers')


def derive_production(ini_path, here, data_dir, db_name):
    """Return the text of a production ini made from the development ini at ``ini_path``;
    ``here`` is that ini's folder, what its ``%(here)s`` meant."""
    with io.open(ini_path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    out = []
    section = None
    pending = []  # settings production needs that the section did not have
    for line in lines:
        header = SECTION.match(line)
        if header:
            out.extend(pending)
            section = header.group(1).strip()
            pending = missing_settings(section, lines)
            out.append(line)
            continue
        out.append(rewrite(line, section, here, data_dir, db_name))
    out.extend(pending)
    return '\n'.join(out).rstrip('\n')


def missing_settings(section, lines):
    if section != 'app:main':
        return []
    text = '\n'.join(lines)
    if re.search(r'^[#;]?\s*auto_reload_templates\s*=', text, re.M):
        return []
    return ['# added by tgdeploy: templates are not re-read on every request in production',
            'auto_reload_templates = false', '']


def rewrite(line, section, here, data_dir, db_name):
    setting = SETTING.match(line)
    commented = re.match(r'^#\s*(auto_reload_templates\s*=.*)$', line)
    if commented:
        return 'auto_reload_templates = false'
    if not setting:
        return line
    key = setting.group('key').strip()
    old = value = setting.group('value')
    if key in ('debug', 'set debug'):
        value = 'false'
    elif key == 'auto_reload_templates':
        value = 'false'
    elif section and section.startswith('logger_') and key == 'level' and \
            value.strip().upper() == 'DEBUG':
        value = 'INFO'
    elif value.startswith('sqlite:///%(here)s/'):
        value = 'sqlite:///%s/%s' % (data_dir, db_name)
    elif value.strip() in ('%(here)s/data', '%(here)s/data/'):
        value = data_dir
    value = value.replace('%(here)s', here)
    if value == old:
        return line
    return '%s %s %s' % (setting.group('key'), setting.group('sep'), value)
