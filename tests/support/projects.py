"""Small project trees with the files each framework's quickstart writes, for unit tests of
detection and options. End-to-end tests use real quickstarts instead."""
import os
import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / 'fixtures'


def write(path, text=''):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_tg2(directory, name='shop', package='shop'):
    """The layout `gearbox quickstart NAME -p PACKAGE` writes."""
    d = Path(directory)
    write(d / 'pyproject.toml', '[build-system]\nrequires = ["setuptools"]\n\n[project]\n'
                                'name = "%s"\nversion = "0.1"\n' % name)
    shutil.copy(str(FIXTURES / 'tg2_development.ini'), str(d / 'development.ini'))
    write(d / 'test.ini', '[app:main]\nuse = config:development.ini\n')
    write(d / package / '__init__.py')
    write(d / package / 'config' / '__init__.py')
    write(d / package / 'config' / 'app_cfg.py', 'from tg import FullStackApplicationConfigurator\n')
    write(d / package / 'public' / 'css' / 'style.css', 'body {}\n')
    write(d / package / 'public' / 'favicon.ico', 'icon')
    return d


def make_tg1(directory, package='mysite', requirement='TurboGears >= 1.1.3'):
    """The layout `tg-admin quickstart` writes (TurboGears 1.x), with its real config files."""
    d = Path(directory)
    write(d / 'setup.py', 'from setuptools import setup\nsetup(name="%s", version="1.0",\n'
          '      install_requires=["%s"])\n' % (package, requirement))
    shutil.copy(str(FIXTURES / 'tg1_dev.cfg'), str(d / 'dev.cfg'))
    shutil.copy(str(FIXTURES / 'tg1_sample-prod.cfg'), str(d / 'sample-prod.cfg'))
    write(d / ('start-%s.py' % package), 'import turbogears\n')
    write(d / package / '__init__.py')
    write(d / package / 'model.py', 'from turbogears.database import metadata\n')
    write(d / package / 'controllers.py', 'from turbogears import controllers\n'
                                          'class Root(controllers.RootController):\n    pass\n')
    write(d / package / 'config' / '__init__.py')
    shutil.copy(str(FIXTURES / 'tg1_app.cfg'), str(d / package / 'config' / 'app.cfg'))
    write(d / package / 'static' / 'css' / 'style.css', 'body {}\n')
    write(d / package / 'static' / 'images' / 'favicon.ico', 'icon')
    return d


def make_cherrypy(directory, package='cherryapp'):
    d = Path(directory)
    shutil.copytree(str(FIXTURES / 'cherryapp'), str(d))
    if package != 'cherryapp':
        os.rename(str(d / 'cherryapp'), str(d / package))
    return d


def make_venv_marker(directory, version='3.11.2'):
    """Just enough of a virtualenv for python-home checks (pyvenv.cfg)."""
    write(Path(directory) / 'pyvenv.cfg', 'home = /usr/bin\nversion = %s\n' % version)
    return Path(directory)


# What a Debian Apache loads once the generated README's a2enmod line has run: Debian's
# defaults that the generated configs use, and the ones the README names.
README_MODULES = ('alias', 'dir', 'mime', 'filter', 'deflate', 'headers', 'rewrite', 'ssl', 'md',
                  'substitute')


def make_apache_tree(root, wsgi_module):
    """An /etc/apache2-like tree that loads ``wsgi_module`` and README_MODULES."""
    root = Path(root)
    write(root / 'mods-enabled' / 'wsgi.load', 'LoadModule wsgi_module %s\n' % wsgi_module)
    for name in README_MODULES:
        write(root / 'mods-enabled' / ('%s.load' % name),
              'LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n' % (name, name))
    for folder in ('conf-enabled', 'sites-enabled'):
        (root / folder).mkdir(exist_ok=True)
    return root
