"""TurboGears 2: a package with config/app_cfg.py and a PasteDeploy ini (or, for an
application installed from PyPI, the ini alone: `--config my.ini`)."""
import os
import re

from tgdeploy.errors import TgDeployError
from tgdeploy.detect.project import Project
from tgdeploy.detect.projectfiles import (NOT_THE_APPLICATION, choose_config, find_first,
                                   is_package, module_of, packages_with, project_name,
                                   python_files, read_config, read_text, require_section)

# The ini files gearbox quickstart and its users name, best first.
INI_NAMES = ('production.ini', 'deployment.ini', 'development.ini')
APP_CFG = os.path.join('config', 'app_cfg.py')


def evidence(directory):
    """What makes ``directory`` look like a TurboGears 2 project ('' when nothing does)."""
    found = find_app_cfg(directory)
    ini = find_first(directory, INI_NAMES)
    if found and ini:
        return '%s, %s' % (os.path.relpath(found[2], directory), os.path.basename(ini))
    return ''


def paster_era(directory):
    """Whether the project is of TurboGears 2.0-2.2 (Pylons, paster): its setup.py lists
    paster_plugins, and its setup-app command is paster's, not gearbox's (2.3 on)."""
    setup_py = os.path.join(directory, 'setup.py')
    return os.path.isfile(setup_py) and \
        re.search(r'^\s*paster_plugins\s*=', read_text(setup_py), re.M) is not None


def find_app_cfg(directory):
    """(package, package folder, app_cfg.py) of the project: <package>/config/app_cfg.py as
    quickstart writes it, else an app_cfg.py elsewhere (the repository root, a package's own
    folder, a config/ folder beside the package); None if there is none."""
    packages = packages_with(directory, [APP_CFG]) or packages_with(directory, [APP_CFG], 6)
    if packages:
        package, package_dir = packages[0]
        return package, package_dir, os.path.join(package_dir, APP_CFG)
    for path in app_cfg_files(directory):
        folder = os.path.dirname(path)
        package_dir = os.path.dirname(folder) if os.path.basename(folder) == 'config' and \
            not is_package(folder) else folder
        if package_dir != directory and is_package(package_dir):
            return module_of(directory, os.path.join(package_dir, '__init__.py')), \
                package_dir, path
        # At the top: the repository is the package itself, or holds it beside app_cfg.py.
        beside = [n for n in sorted(os.listdir(directory)) if is_package(os.path.join(
            directory, n)) and n not in NOT_THE_APPLICATION]
        if is_package(directory) or not beside:
            return os.path.basename(directory), directory, path
        return beside[0], os.path.join(directory, beside[0]), path
    return None


def app_cfg_files(directory, depth=2):
    """The app_cfg.py files of the project, shallowest first."""
    return [path for path in python_files(directory, depth)
            if os.path.basename(path) == 'app_cfg.py']


def detect(directory, config):
    config_file = choose_config(directory, config, INI_NAMES, 'ini')
    require_section(config_file, 'app:main')
    found = find_app_cfg(directory)
    if found:
        package, package_dir, app_cfg = found
        seen = '%s (%s)' % (os.path.basename(config_file), os.path.relpath(app_cfg, directory))
    else:
        package, package_dir = installed_application(config_file, directory), None
        seen = '%s (the application it names is installed, not in %s)' % (
            os.path.basename(config_file), directory)
    static_dir = package_dir and os.path.join(package_dir, 'public')
    name = project_name(directory, package) if package_dir else package
    project = Project(directory, 'tg2', name, package,
                      config_file=config_file,
                      static_urls=static_entries(static_dir) if static_dir else [],
                      package_dir=package_dir, evidence=['TurboGears 2: ' + seen],
                      memory_sessions=memory_sessions(config_file),
                      static_root=static_dir if static_dir and os.path.isdir(static_dir)
                      else None)
    project.paster_era = bool(package_dir) and paster_era(directory)
    return project


def installed_application(config_file, directory):
    """The distribution an ini-only deployment names (``use = egg:kallithea``)."""
    parser = read_config(config_file)
    use = parser.get('app:main', 'use') if parser.has_option('app:main', 'use') else ''
    match = re.match(r'^\s*egg:([A-Za-z0-9_.-]+)', use)
    if not match:
        raise TgDeployError('%s names no application (use = egg:NAME in [app:main]) and %s holds '
                            'no package with %s: pass --config with the ini that defines it'
                            % (config_file, directory, APP_CFG))
    return match.group(1)


def static_entries(static_dir):
    """TG2 serves public/ at the application root: map each of its entries."""
    if not os.path.isdir(static_dir):
        return []
    return [('/' + name, os.path.join(static_dir, name))
            for name in sorted(os.listdir(static_dir)) if not name.startswith('.')]


def memory_sessions(config_file):
    """Beaker sessions kept in the process's memory (session.type = memory)."""
    text = read_text(config_file)
    match = re.search(r'^\s*((?:beaker\.)?session\.type)\s*=\s*memory\s*$', text, re.M)
    if match:
        return '%s sets %s = memory' % (os.path.basename(config_file), match.group(1))
    return None
