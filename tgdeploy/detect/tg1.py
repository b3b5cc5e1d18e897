"""TurboGears 1.x: a package with config/app.cfg (or a templated app.cfg.in) and the
deployment's .cfg; its root controller as the start script names it."""
import os
import re

from tgdeploy.errors import TgDeployError
from tgdeploy.detect.project import Project
from tgdeploy.detect.projectfiles import (choose_config, imported_from, literal,
                                   module_of, packages_with, project_name, read_config,
                                   read_text)

# prod.cfg is what users make of quickstart's sample-prod.cfg; dev.cfg is what a project
# actually runs with, so it beats an untouched sample-prod.cfg.
CFG_NAMES = ('prod.cfg', 'dev.cfg', 'sample-prod.cfg')
NOT_DEPLOYMENT_CFGS = ('setup.cfg', 'test.cfg')
APP_CFGS = [os.path.join('config', 'app.cfg'), os.path.join('config', 'app.cfg.in')]


def evidence(directory):
    packages = packages_with(directory, APP_CFGS)
    configs = deployment_configs(directory)
    if packages and configs:
        return '%s/config/%s, %s' % (packages[0][1][len(directory) + 1:],
                                     app_cfg_name(packages[0][1]),
                                     os.path.basename(configs[0]))
    return ''


def deployment_configs(directory):
    """The .cfg files a TurboGears 1.x project could run with, best first."""
    named = [os.path.join(directory, n) for n in CFG_NAMES
             if os.path.isfile(os.path.join(directory, n))]
    if named:
        return named
    others = sorted(os.path.join(directory, n) for n in os.listdir(directory)
                    if n.endswith('.cfg') and n not in NOT_DEPLOYMENT_CFGS and
                    os.path.isfile(os.path.join(directory, n)))
    return [path for path in others if re.search(r'^\s*\[global\]', read_text(path), re.M)]


def app_cfg_name(package_dir):
    return 'app.cfg' if os.path.isfile(os.path.join(package_dir, APP_CFGS[0])) else 'app.cfg.in'


def detect(directory, config, root=None):
    packages = packages_with(directory, APP_CFGS)
    if not packages:
        raise TgDeployError('no TurboGears 1 package in %s (expected <package>/config/app.cfg '
                            'or app.cfg.in): pass --flavor with the right kind of project'
                            % directory)
    package, package_dir = packages[0]
    config_file = choose_tg1_config(directory, config)
    read_config(config_file)  # fails early, with the fix, on a config that cannot be parsed
    root, root_seen = (root, '--root') if root else find_root(directory, package, package_dir)
    urls = static_urls(package_dir, directory)
    seen = ['TurboGears 1.x: %s/config/%s, %s, root %s (%s)' % (
        package.replace('.', '/'), app_cfg_name(package_dir), os.path.basename(config_file),
        root, root_seen)]
    if app_cfg_name(package_dir) == 'app.cfg.in':
        seen.append('%s/config/app.cfg.in is a template: install the package (setup.py build '
                    'writes app.cfg) before Apache loads it' % package.replace('.', '/'))
    seen += keys_not_carried(directory, config_file)
    return Project(directory, 'tg1', project_name(directory, package), package,
                   config_file=config_file, static_urls=urls, root=root, tg_requirement=tg_requirement(directory),
                   uses_sqlobject=uses_sqlobject(package_dir, config_file),
                   memory_sessions=memory_sessions(config_file, package_dir),
                   package_dir=package_dir, evidence=seen)


def choose_tg1_config(directory, config):
    if config:
        return choose_config(directory, config, CFG_NAMES, 'cfg')
    configs = deployment_configs(directory)
    if not configs:
        raise TgDeployError('no deployment config in %s (looked for %s and any *.cfg with a '
                            '[global] section): pass --config' % (directory, ', '.join(CFG_NAMES)))
    return configs[0]


def keys_not_carried(directory, chosen):
    """The keys a sample-prod.cfg sets that the chosen config does not (reported)."""
    other = os.path.join(directory, 'sample-prod.cfg')
    if chosen == other or not os.path.isfile(other):
        return []
    mine = set(re.findall(r'^\s*([\w.]+)\s*=', read_text(chosen), re.M))
    theirs = set(re.findall(r'^\s*([\w.]+)\s*=', read_text(other), re.M))
    missing = sorted(theirs - mine)
    if not missing:
        return []
    return ['sample-prod.cfg sets keys %s does not, not carried over: %s' % (
        os.path.basename(chosen), ', '.join(missing))]


# -- the root controller --------------------------------------------------------------

START_CALL = re.compile(r'start_server\(\s*([A-Za-z_]\w*)\s*\(')


def find_root(directory, package, package_dir):
    """(package.module:Root, where it was read): the start script's start_server(X()),
    else the one class Root of the controllers, else the quickstart's place."""
    for path in start_scripts(directory, package_dir):
        text = read_text(path)
        match = START_CALL.search(text)
        if match:
            name = match.group(1)
            module = imported_from(text, name, module_of(directory, path),
                                   path.endswith('__init__.py'))
            if module:
                return '%s:%s' % (module, name), os.path.basename(path)
    roots = controller_roots(directory, package_dir)
    if len(roots) == 1:
        return roots[0], 'class Root'
    if len(roots) > 1:
        raise TgDeployError('several root controllers in %s (%s): pass --root with the one '
                            'to serve' % (package_dir, ', '.join(roots)))
    return '%s.controllers:Root' % package, 'the quickstart\'s place'


def start_scripts(directory, package_dir):
    names = sorted(n for n in os.listdir(directory) if n.startswith('start-') and n.endswith('.py'))
    paths = [os.path.join(directory, n) for n in names]
    paths.append(os.path.join(package_dir, 'commands.py'))
    return [p for p in paths if os.path.isfile(p)]


def controller_roots(directory, package_dir):
    files = [os.path.join(package_dir, 'controllers.py')]
    folder = os.path.join(package_dir, 'controllers')
    if os.path.isdir(folder):
        files += [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith('.py')]
    return ['%s:Root' % module_of(directory, path) for path in files
            if os.path.isfile(path) and re.search(r'^class\s+Root\b', read_text(path), re.M)]


# -- static files ---------------------------------------------------------------------

# (switch, folder key, file key) of TurboGears 1.0/1.1 (CherryPy 2) and 1.5 (CherryPy 3).
STATIC_KEYS = (('static_filter.on', 'static_filter.dir', 'static_filter.file'),
               ('tools.staticdir.on', 'tools.staticdir.dir', None),
               ('tools.staticfile.on', None, 'tools.staticfile.filename'))


def static_urls(package_dir, directory):
    """The [/url] static sections of app.cfg, with TurboGears' %(top_level_dir)s and
    %(package_dir)s resolved; the quickstart's /static and /favicon.ico if it has none."""
    path = os.path.join(package_dir, 'config', app_cfg_name(package_dir))
    found = config_static_urls(path, package_dir, directory) if os.path.isfile(path) else []
    if found:
        return found
    static_dir = os.path.join(package_dir, 'static')
    urls = [('/static', static_dir)] if os.path.isdir(static_dir) else []
    favicon = os.path.join(static_dir, 'images', 'favicon.ico')
    if os.path.isfile(favicon):
        urls.append(('/favicon.ico', favicon))
    return urls


def config_static_urls(path, package_dir, directory):
    parser = read_config(path)
    found = []
    for section in parser.sections():
        if not section.startswith('/'):
            continue
        options = dict(parser.items(section))
        for on, folder_key, file_key in STATIC_KEYS:
            if not literal(options.get(on)):
                continue
            targets = [literal(options.get(key)) for key in (folder_key, file_key) if key]
            target = next((t for t in targets if t and hasattr(t, 'replace')), None)
            if target is None:
                continue
            for name in ('%(top_level_dir)s', '%(package_dir)s'):
                target = target.replace(name, package_dir)
            target = target.replace('%(current_dir_uri)s', directory)
            if os.path.exists(target):
                found.append((section.rstrip('/') or '/', os.path.normpath(target)))
    return found


# -- facts for the options ------------------------------------------------------------

def tg_requirement(directory):
    """The TurboGears version setup.py names (``TurboGears >= 1.1`` gives '1.1'), if any."""
    path = os.path.join(directory, 'setup.py')
    if not os.path.isfile(path):
        return None
    match = re.search(r'''["']TurboGears\s*(?:==|>=|~=)\s*(1\.\d+)''', read_text(path))
    return match.group(1) if match else None


def uses_sqlobject(package_dir, config_file):
    model = os.path.join(package_dir, 'model.py')
    in_model = os.path.isfile(model) and \
        re.search(r'^\s*(from|import)\s+sqlobject\b', read_text(model), re.M)
    in_config = re.search(r'^\s*sqlobject\.dburi\s*=', read_text(config_file), re.M)
    return bool(in_model or in_config)


SESSIONS_ON = re.compile(r'^\s*(session_filter|tools\.sessions)\.on\s*=\s*True', re.M)
SESSIONS_STORED = re.compile(r'^\s*(session_filter|tools\.sessions)\.storage_(type|class)\s*=\s*'
                             r'(?![\'"]?ram\b)', re.M)


def memory_sessions(config_file, package_dir):
    """Where CherryPy sessions are on without a storage (kept in the process's memory)."""
    app_cfg = os.path.join(package_dir, 'config', app_cfg_name(package_dir))
    for path in (config_file, app_cfg):
        text = read_text(path) if os.path.isfile(path) else ''
        if SESSIONS_ON.search(text) and not SESSIONS_STORED.search(text):
            return '%s switches CherryPy sessions on, kept in memory' % os.path.basename(path)
    return None
