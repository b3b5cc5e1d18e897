"""The application's own config as deployed: which ini the .wsgi loads, the text of the
configs tgdeploy derives (TurboGears 2 ini, TurboGears 1.x .cfg, the CherryPy settings),
their secrets, and the TurboGears 1.x line they are written for.
"""
import glob
import os

from tgdeploy.detect.projectfiles import read_text
from tgdeploy.errors import TgDeployError
from tgdeploy.settle import inifile, mount_links, production, tg1config, write_locations
from tgdeploy.settle.checks import check_choice, check_path

TG1_LINES = ('1.0', '1.1', '1.5')


def app_config(project, values):
    """Fill ``values.config`` (which ini the .wsgi loads, the text of the configs tgdeploy
    writes), what they change for production and their secrets (``values.production``,
    production.py), TurboGears 1.x's .cfg (``values.tg1``), the folders the application
    writes (``paths.runtime_dirs``), the framework links without the mount
    (``project.link_prefixes``) and TurboGears 2's root controller (``project.root``)."""
    paths, production_values = values.paths, values.production
    ini_path = os.path.join(paths.apache_dir, values.project.slug + '.ini')
    repository = production.repository_secrets(production.repository_files(
        paths.project_dir, project.package_dir, project.config_file))
    production_values.update(repository_secrets=repository, changes=[], secret_files=[])
    # Folders the application writes that README step 2 creates (write_locations.py).
    paths.runtime_dirs = write_locations.runtime_dirs(
        project.config_file, project.package_dir, project.flavor, paths.data_dir)
    # URL prefixes of framework resources linked without the mount (mount_links.py).
    values.project.link_prefixes = mount_links.link_prefixes(project, values.apache.mount)
    if project.flavor == 'tg2':
        values.project.root = tg2_root_controller(project.package, project.package_dir)
        tg2_config(project, values, ini_path, repository)
    elif project.flavor == 'cherrypy':
        secure = production_values.secure_cookies
        cherrypy_config = project.config_file and check_path('config file', project.config_file)
        values.config.update(file=ini_path, write_ini=True, derived_ini='',
                             cherrypy=cherrypy_config, has_logging=True)
        production_values.update(
            cherrypy_settings=production.cherrypy_settings(secure),
            changes=production.cherrypy_changes(cherrypy_config, secure))
    else:
        tg1_config(project, values, ini_path, repository)


def tg2_config(project, values, ini_path, repository):
    """The TurboGears 2 ini the .wsgi loads: the project's own production ini as it is, or
    one derived from its development ini with production's settings forced."""
    if inifile.is_own_production(project.config_file):
        values.config.update(file=check_path('config file', project.config_file),
                             write_ini=False, derived_ini='',
                             has_logging=inifile.has_logging(project.config_file))
        return
    prod, data_dir = values.production, values.paths.data_dir
    app_cfg = production.app_cfg_path(project.package_dir)
    secrets, origins = settle_secrets(values, project.config_file, app_cfg, ini_path,
                                      repository)
    forced = production.tg2_settings(secrets, prod.error_email, prod.smtp, prod.sentry_dsn,
                                     prod.secure_cookies)
    forced += write_locations.webassets_settings(project.config_file, project.package_dir,
                                                 data_dir, values.apache.mount)
    derived = inifile.derive_production(project.config_file,
                                        os.path.dirname(project.config_file),
                                        data_dir, values.project.slug + '.db', forced)
    values.config.update(file=ini_path, write_ini=True, derived_ini=derived,
                         has_logging=inifile.has_logging(project.config_file))
    prod.update(changes=production.changes(read(project.config_file), derived, origins),
                secret_files=[os.path.basename(ini_path)] if secrets else [])


def tg2_root_controller(package, package_dir):
    """``package.controllers.root:RootController`` where the project has that module (the
    .wsgi imports it in each process: TurboGears 2 imports it at the first request, and what
    it registers at import, ToscaWidgets resources, would be unknown until then); None for an
    application laid out otherwise or installed (no package folder here)."""
    if not package_dir:
        return None
    base = os.path.join(package_dir, 'controllers', 'root')
    if os.path.isfile(base + '.py') or os.path.isfile(os.path.join(base, '__init__.py')):
        return package + '.controllers.root:RootController'
    return None


def tg1_config(project, values, ini_path, repository):
    """The TurboGears 1.x .cfg derived from the project's, for the line it is written for."""
    slug, prod = values.project.slug, values.production
    cfg_path = os.path.join(values.paths.apache_dir, slug + '.cfg')
    secrets, origins = settle_secrets(values, project.config_file, None, cfg_path, repository)
    added = production.TG1_SECURE_COOKIES[values.tg1.version] if prod.secure_cookies else ()
    cfg_text = tg1config.derive_deployment(project.config_file, values.paths.project_dir,
                                           values.paths.data_dir, slug, secrets, added)
    values.config.update(file=ini_path, write_ini=True, derived_ini='', has_logging=False)
    values.tg1.update(cfg_file=cfg_path, cfg=cfg_text)
    prod.update(changes=production.changes(read(project.config_file), cfg_text, origins),
                secret_files=[os.path.basename(cfg_path)] if secrets else [])


def settle_secrets(values, config_file, app_cfg, installed, repository):
    wanted = production.secrets_wanted(config_file, app_cfg)
    return production.settle_secrets(wanted, installed, repository,
                                     rotate=values.production.rotate_secrets,
                                     secrets_from=values.production.secrets_from)


def read(path):
    return read_text(path)  # in any encoding (textfiles.py)


def tg1_line(given, project, python_home):
    """'1.0', '1.1' or '1.5': --tg-version, else the installed TurboGears, else setup.py."""
    line = given or installed_tg_line(python_home) or project.tg_requirement
    if line is None:
        raise TgDeployError('cannot tell which TurboGears 1.x line %s uses (not installed in %s, '
                            'no version in setup.py): pass --tg-version 1.0, 1.1 or 1.5'
                            % (project.directory, python_home))
    return check_choice('tg-version', line, TG1_LINES)


def installed_tg_line(python_home):
    pattern = os.path.join(python_home, 'lib', 'python*', 'site-packages', 'TurboGears-*')
    for path in sorted(glob.glob(pattern)):
        version = os.path.basename(path)[len('TurboGears-'):]
        parts = version.split('.')
        if len(parts) >= 2 and parts[0] == '1':
            return '1.%s' % parts[1].split('-')[0]
    return None
