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
    """Which ini the .wsgi loads, the text of the configs tgdeploy writes, and what they
    change for production (production.py)."""
    ini_path = os.path.join(values['apache_dir'], values['slug'] + '.ini')
    repository = production.repository_secrets(production.repository_files(
        values['project_dir'], project.package_dir, project.config_file))
    common = {'repository_secrets': repository, 'production_changes': [], 'secret_files': []}
    # Folders the application writes that README step 2 creates (write_locations.py).
    common['runtime_dirs'] = write_locations.runtime_dirs(
        project.config_file, project.package_dir, project.flavor, values['data_dir'])
    # URL prefixes of framework resources linked without the mount (mount_links.py).
    common['link_prefixes'] = mount_links.link_prefixes(project, values['mount'])
    if project.flavor == 'tg2':
        if inifile.is_own_production(project.config_file):
            return dict(common, config_file=check_path('config file', project.config_file),
                        write_ini=False, derived_ini='',
                        has_logging=inifile.has_logging(project.config_file))
        app_cfg = production.app_cfg_path(project.package_dir)
        secrets, origins = settle_secrets(values, project.config_file, app_cfg, ini_path,
                                          repository)
        forced = production.tg2_settings(secrets, values['error_email'], values['smtp'],
                                         values['sentry_dsn'], values['secure_cookies'])
        if values['startup']:
            forced.append(('filter-with', 'startup', '--startup runs [filter:startup] once'))
        forced += write_locations.webassets_settings(project.config_file, project.package_dir,
                                                     values['data_dir'], values['mount'])
        derived = inifile.derive_production(project.config_file,
                                            os.path.dirname(project.config_file),
                                            values['data_dir'], values['slug'] + '.db', forced)
        return dict(common, config_file=ini_path, write_ini=True, derived_ini=derived,
                    has_logging=inifile.has_logging(project.config_file),
                    production_changes=production.changes(read(project.config_file), derived,
                                                          origins),
                    secret_files=[os.path.basename(ini_path)] if secrets else [])
    if project.flavor == 'cherrypy':
        cherrypy_config = project.config_file and check_path('config file', project.config_file)
        return dict(common, config_file=ini_path, write_ini=True, derived_ini='',
                    cherrypy_config=cherrypy_config, has_logging=True,
                    cherrypy_production=production.cherrypy_settings(values['secure_cookies']),
                    production_changes=production.cherrypy_changes(cherrypy_config,
                                                                   values['secure_cookies']))
    cfg_path = os.path.join(values['apache_dir'], values['slug'] + '.cfg')
    secrets, origins = settle_secrets(values, project.config_file, None, cfg_path, repository)
    added = production.TG1_SECURE_COOKIES[values['tg_version']] if values['secure_cookies'] \
        else ()
    cfg_text = tg1config.derive_deployment(project.config_file, values['project_dir'],
                                           values['data_dir'], values['slug'], secrets, added)
    return dict(common, config_file=ini_path, write_ini=True, derived_ini='', has_logging=False,
                tg_cfg_file=cfg_path, tg_cfg=cfg_text,
                production_changes=production.changes(read(project.config_file), cfg_text,
                                                      origins),
                secret_files=[os.path.basename(cfg_path)] if secrets else [])


def settle_secrets(values, config_file, app_cfg, installed, repository):
    wanted = production.secrets_wanted(config_file, app_cfg)
    return production.settle_secrets(wanted, installed, repository,
                                     rotate=values['rotate_secrets'],
                                     secrets_from=values['secrets_from'])


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
