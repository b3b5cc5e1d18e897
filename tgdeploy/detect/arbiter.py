"""Step 1: find out what kind of project a directory holds, and say what was seen.

One detector per flavor (tg2.py, tg1.py, cherrypy_root.py) reads the
project's files; this module arbitrates: --flavor, or the kind of --config file, or the
one flavor whose evidence is there. TurboGears projects are CherryPy applications too, so
TurboGears evidence wins over a CherryPy root; two TurboGears readings, or nothing at all,
stop with one line naming what was seen and the option that decides.
"""
import os
import re

from tgdeploy.detect import cherrypy_root, tg1, tg2
from tgdeploy.errors import TgDeployError
from tgdeploy.detect.project import FLAVOR_NAMES, FLAVORS
from tgdeploy.detect.projectfiles import check_small_file, packages_with, python_files, read_text

DETECTORS = {'tg2': tg2, 'tg1': tg1, 'cherrypy': cherrypy_root}
# The kind of project a --config file means, by its name.
CONFIG_FLAVORS = (('.ini', 'tg2'), ('.cfg', 'tg1'), ('.conf', 'cherrypy'))


def detect(directory, flavor=None, config=None, root=None):
    """Return the Project in ``directory``; ``flavor``, ``config`` and ``root`` override."""
    directory = os.path.abspath(directory)
    require_project_dir(directory, config)
    if flavor is not None and flavor not in FLAVORS:
        raise TgDeployError('unknown flavor %r: use one of %s' % (flavor, ', '.join(FLAVORS)))
    if root:
        cherrypy_root.check_root_spec(root)
    flavor = flavor or config_flavor(config, directory) or guess_flavor(directory, root)
    if flavor == 'tg2':
        if root:
            raise TgDeployError('--root does not apply to TurboGears 2, whose root controller '
                                'comes from the ini\'s application factory: drop it')
        return tg2.detect(directory, config)
    if flavor == 'tg1':
        return tg1.detect(directory, config, root)
    return cherrypy_root.detect(directory, config, root)


def require_project_dir(directory, config):
    if not os.path.isdir(directory):
        raise TgDeployError('%s is not a directory: run inside your project or name its folder'
                            % directory)
    markers = ('setup.py', 'setup.cfg', 'pyproject.toml')
    if any(os.path.isfile(os.path.join(directory, m)) for m in markers):
        return
    if config or python_files(directory):
        return  # an installed application, deployed by its ini alone, or bare code
    raise TgDeployError('%s is not a project directory (no setup.py, setup.cfg, pyproject.toml '
                        'or Python code): run tgdeploy inside your project, or pass --config '
                        'with the ini of an installed application' % directory)


def config_flavor(config, directory='.'):
    """--config steers the flavor, whatever the file's suffix: an .ini is TurboGears 2's (or
    any PasteDeploy app's), a .cfg TurboGears 1.x's, a .conf CherryPy's, read from the last
    of its suffixes that says (prod.cfg.sample, app.conf.example); a name that says nothing
    (deploy.txt, settings) is read: PasteDeploy sections make it an ini, a [global] section
    a TurboGears 1.x .cfg when the project has a TurboGears 1 package, else CherryPy's."""
    if not config:
        return None
    for part in reversed(os.path.basename(config).lower().split('.')[1:]):
        for suffix, flavor in CONFIG_FLAVORS:
            if part == suffix[1:]:
                return flavor
    return flavor_by_content(os.path.join(directory, config), directory)


PASTE_SECTION = re.compile(r'^\s*\[(app|composite|pipeline|filter-app):[^\]]+\]', re.M)
GLOBAL_SECTION = re.compile(r'^\s*\[global\]', re.M)


def flavor_by_content(path, directory):
    try:
        text = read_text(check_small_file('--config', path)) if os.path.isfile(path) else ''
    except (IOError, OSError):
        return None  # choose_config says what is wrong with it
    if PASTE_SECTION.search(text):
        return 'tg2'
    if GLOBAL_SECTION.search(text) or re.search(r'^\s*\[/[^\]]*\]', text, re.M):
        return 'tg1' if packages_with(directory, tg1.APP_CFGS) else 'cherrypy'
    return None


def guess_flavor(directory, root=None):
    seen = [(flavor, DETECTORS[flavor].evidence(directory)) for flavor in ('tg2', 'tg1')]
    readings = [(flavor, what) for flavor, what in seen if what]
    if len(readings) == 1:
        return readings[0][0]
    if len(readings) > 1:
        raise TgDeployError('%s reads as %s: pass --flavor %s' % (
            directory, ' and as '.join('%s (%s)' % (FLAVOR_NAMES[f], what) for f, what in readings),
            ' or --flavor '.join(f for f, _ in readings)))
    if root or cherrypy_root.evidence(directory):
        return 'cherrypy'
    half_seen(directory)
    raise TgDeployError(
        'cannot tell what kind of project %s is: found no TurboGears 2 ini with '
        '<package>/config/app_cfg.py, no TurboGears 1 .cfg with <package>/config/app.cfg, '
        'and no CherryPy root (a class Root, or an object given to cherrypy.quickstart or '
        'tree.mount); pass --flavor (and --root for CherryPy)' % directory)


def half_seen(directory):
    """A TurboGears package without the config a deployment runs with: say so, with the fix."""
    for flavor, relative, wanted in (
            ('tg2', tg2.APP_CFG, 'an ini (gearbox make-config, or a copy of '
                                        'development.ini)'),
            ('tg1', tg1.APP_CFGS[0], 'a .cfg with a [global] section (prod.cfg)')):
        packages = packages_with(directory, [relative])
        if packages:
            raise TgDeployError('%s holds %s/%s (%s) but no config to deploy: write %s and pass '
                                '--config' % (directory, packages[0][0].replace('.', '/'),
                                              relative, FLAVOR_NAMES[flavor], wanted))
