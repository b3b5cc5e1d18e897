"""The environment a daemon process needs for where the project writes by its own rules,
read from its code (never run), each value a place in the data folder (the one folder the
daemon user may write):

- the XDG base folders (``XDG_DATA_HOME``, ``XDG_CONFIG_HOME``, ``XDG_CACHE_HOME``,
  ``XDG_STATE_HOME``), when the project's code names one: a desktop session sets them, a
  daemon process of Apache has none (``os.environ['XDG_DATA_HOME']`` is a KeyError there)
  and its user's home is seldom writable;
- a ConfigArgParse option whose default is a file or folder the application writes in a
  system folder (``default='/etc/app/app.db'``, ``/var/lib/...``): the environment variable
  ConfigArgParse reads for it (``env_var=``, or ``auto_env_var_prefix`` + the option's name)
  points into the data folder instead.

Where that project keeps its settings in a file of its XDG config folder and its start-up
stops without a folder setting (``if config['media.basedir'] is None: sys.exit(1)``: a
folder it cannot pick itself, such as a music folder), the setting is given a folder of its
own in the data folder (``data/media-basedir``): README step 2 makes it and, when the
settings file is not there yet, writes it with that one setting (seeded_settings()).

A name the user sets (--setenv, --env-file) is left to the user. The pairs join --setenv's
in the .wsgi, set before the application is imported; the report says each one and why.
"""
import os
import re

from tgdeploy.detect.projectfiles import python_files

XDG_NAMES = ('XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME')
XDG_READ = re.compile(r'([\'"])(XDG_(?:DATA|CONFIG|CACHE|STATE)_HOME)\1')
ENV_PREFIX = re.compile(r'\bauto_env_var_prefix\s*=\s*(?:u|r)?([\'"])(\w+)\1')
OPTION_CALL = re.compile(r'\.add(?:_argument)?\s*\(')
LONG_OPTION = re.compile(r'([\'"])--([A-Za-z][\w-]*)\1')
ENV_VAR = re.compile(r'\benv_var\s*=\s*(?:u|r)?([\'"])(\w+)\1')
SYSTEM_DEFAULT = re.compile(r'\bdefault\s*=\s*(?:u|r)?([\'"])(/[^\'"\s]+)\1')
# A default the application writes: a database or log file anywhere, anything in the
# system's folders for variable data.
WRITTEN_FILE = re.compile(r'\.(?:db|sqlite3?|log)\Z')
WRITTEN_FOLDER = re.compile(r'^/var/(?:lib|log|cache|run|spool|tmp)/')
MAX_FILES = 400


def derived(project_dir, data_dir, taken=()):
    """[(name, value, why)] for the daemon's environment; names in ``taken`` are skipped."""
    sources = [(path, read_code(path)) for path in python_files(project_dir)[:MAX_FILES]]
    found, seen = [], set(taken)
    for name, value, why in xdg_homes(sources, project_dir, data_dir, taken) + \
            config_arg_defaults(sources, project_dir, data_dir):
        if name not in seen:
            seen.add(name)
            found.append((name, value, why))
    return found


def read_code(path):
    from tgdeploy.detect.startup_script import read_text
    try:
        return read_text(path)
    except (IOError, OSError, UnicodeError, ValueError):
        return ''


def where(path, text, offset, project_dir):
    return '%s:%d' % (os.path.relpath(path, project_dir), text[:offset].count('\n') + 1)


def xdg_homes(sources, project_dir, data_dir, taken=()):
    for path, text in sources:
        match = XDG_READ.search(text)
        if match:
            why = '%s reads %s: the XDG folders are the data folder\'s' % (
                where(path, text, match.start(), project_dir), match.group(2))
            # A config folder the user names (--setenv XDG_CONFIG_HOME) is the user's.
            seeds = [] if 'XDG_CONFIG_HOME' in taken else seeded_settings(
                project_dir, data_dir, sources)
            for seed in seeds:
                why += ('; its start-up stops without %s (%s), a folder it cannot pick '
                        'itself: README step 2 makes %s and names it in %s (when that file '
                        'is not there yet)' % (seed['setting'], seed['where'],
                                               shown(seed['folder'], project_dir),
                                               shown(seed['file'], project_dir)))
            return [(name, os.path.join(data_dir, name.lower().replace('_home', '').replace(
                '_', '-')), why) for name in XDG_NAMES]
    return []


def config_arg_defaults(sources, project_dir, data_dir):
    found = []
    for path, text in sources:
        prefix = ENV_PREFIX.search(text)
        for call in OPTION_CALL.finditer(text):
            args = call_text(text, call.end())
            default = SYSTEM_DEFAULT.search(args)
            if not default or 'is_config_file' in args or not written(default.group(2)):
                continue
            explicit, option = ENV_VAR.search(args), LONG_OPTION.search(args)
            if explicit:
                name = explicit.group(2)
            elif prefix and option:
                name = (prefix.group(2) + option.group(2)).replace('-', '_').upper()
            else:
                continue
            value = os.path.join(data_dir, os.path.basename(default.group(2).rstrip('/')))
            found.append((name, value, '%s: %s defaults to %s, which the daemon user cannot '
                          'write (ConfigArgParse reads %s)' % (
                              where(path, text, call.start(), project_dir),
                              option and '--' + option.group(2) or name, default.group(2),
                              name)))
    return found


def written(path):
    return bool(WRITTEN_FILE.search(path) or WRITTEN_FOLDER.match(path))


def call_text(text, start, limit=4000):
    """The arguments of the call whose '(' ends just before ``start`` (brackets balanced,
    strings not looked into: good enough for option declarations)."""
    depth, index, end = 1, start, min(len(text), start + limit)
    while index < end and depth:
        char = text[index]
        depth += (char in '([{') - (char in ')]}')
        index += 1
    return text[start:index]


def import_time_reads(project_dir):
    """[(name, False, path, line)]: ``os.environ['NAME']`` reads without a default at the top
    level of the project's modules, run when they are imported (a KeyError there, before the
    application serves anything, wherever the deployment does not set the name)."""
    from tgdeploy.detect.startup_script import ENV_READ, aside, enclosing_function
    found = []
    for path in python_files(project_dir)[:MAX_FILES]:
        if aside(project_dir, path):
            continue
        text = read_code(path)
        for match in ENV_READ.finditer(text):
            if match.group(1) and enclosing_function(text, match.start()) is None:
                found.append((match.group(1), False, path, text[:match.start()].count('\n') + 1))
    return found


CONFIG_FILE_NAME = re.compile(r'^[ \t]*\w+[ \t]*=[ \t]*(?:u|r)?[\'"]([\w.-]+\.(?:conf|cfg|ini))'
                              r'[\'"]', re.M)
CONFIG_FOLDER_NAME = re.compile(r'^[ \t]*\w*config\w*(?:folder|dir)\w*[ \t]*=[ \t]*(?:u|r)?'
                                r'[\'"]([\w.-]+)[\'"]', re.M | re.I)
FOLDER_SETTING = re.compile(r'(?:dir|directory|folder|path)\Z', re.I)


def xdg_config_file(sources):
    """(folder under XDG_CONFIG_HOME, file name) of the settings file of the module that
    reads XDG_CONFIG_HOME and names one (``configFileName = 'app.conf'``; the folder a
    ``config...Folder``/``...Dir`` name gives, else the file's stem), or None."""
    for path, text in sources:
        if '\'XDG_CONFIG_HOME\'' not in text and '"XDG_CONFIG_HOME"' not in text:
            continue
        name = CONFIG_FILE_NAME.search(text)
        if name:
            folder = CONFIG_FOLDER_NAME.search(text)
            return (folder.group(1) if folder else name.group(1).rsplit('.', 1)[0],
                    name.group(1))
    return None


def seeded_settings(project_dir, data_dir, sources=None, config_home=None):
    """[{'setting', 'section', 'key', 'folder', 'file', 'where'}]: each folder setting
    (``section.key``, its key ending in dir/folder/path) the project's code exits without
    (startup_exits.py reads the conditions), where its settings file lives in the XDG config
    folder (``config_home``: the deployment's XDG_CONFIG_HOME, by default the data
    folder's). Each gets ``data/section-key``."""
    from tgdeploy.detect.startup_exits import stops_in
    if sources is None:
        sources = [(path, read_code(path)) for path in python_files(project_dir)[:MAX_FILES]]
    found = xdg_config_file(sources)
    if not found:
        return []
    config_home = config_home or os.path.join(data_dir, 'xdg-config')
    seeds, seen = [], set()
    for path, text in sources:
        if 'exit' not in text:
            continue
        for stop in stops_in(text, os.path.relpath(path, project_dir)):
            setting = stop.setting
            if not setting or setting.count('.') != 1 or setting in seen or \
                    not FOLDER_SETTING.search(setting):
                continue
            seen.add(setting)
            section, key = setting.split('.')
            seeds.append({'setting': setting, 'section': section, 'key': key,
                          'folder': os.path.join(data_dir, setting.replace('.', '-')),
                          'file': os.path.join(config_home, found[0], found[1]),
                          'where': stop.where})
    return seeds


def shown(path, project_dir):
    """A path inside the project as the project's (data/x), else as it is."""
    relative = os.path.relpath(path, project_dir)
    return path if relative.startswith('..') else relative
