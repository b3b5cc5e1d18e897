"""The values of a container deployment (``--container``), from the host's settled values.

Inside the image the project lives at APP_DIR, its virtualenv at VENV, and the production
config tgdeploy derives (the ini, the .wsgi; the .cfg of TurboGears 1) in CONFIG_DIR,
mounted when the container starts, never copied into a layer: it holds the secrets. The
same templates as on a host render those files, with every host path moved to its place
in the image (``moved``); the container's own Apache config, entry script, Containerfile
and Kubernetes manifest are paste_templates/tg_container's.
"""
import os
import re

from tgdeploy import __version__
from tgdeploy.errors import TgDeployError
from tgdeploy.settle import container_py27 as py27

APP_DIR = '/srv/app'
VENV = '/srv/venv'
CONFIG_DIR = '/srv/config'
OUTSIDE_DATA = '/srv/data'  # a --data-dir outside the project
PORT = 8080  # unprivileged: Apache starts as www-data, never as root
USER = GROUP = 'www-data'  # uid 33 in every Debian image
GRACE = 25  # seconds Apache's graceful stop lets requests run (Kubernetes gives 30)
FOLDER = 'container'  # inside apache/: what the image and its runs need
CONFIG_FOLDER = 'container/config'  # inside apache/: mounted at CONFIG_DIR

# The Debian release whose python3 is the project's Python: its Apache's mod_wsgi is built
# for that Python (libapache2-mod-wsgi-py3). Python 2.7: bullseye, the last with python2.7,
# and a mod_wsgi built for it from PyPI in a build stage (container_py27.py).
DEBIAN_PYTHONS = (('3.13', 'trixie'), ('3.11', 'bookworm'), ('3.9', 'bullseye'),
                  ('2.7', 'bullseye'))
DEFAULT_RELEASE = 'bookworm'

# Files of the project's root that name its requirements: copied first, alone, so the
# virtualenv's layer is rebuilt only when they change.
METADATA_FILES = ('setup.py', 'setup.cfg', 'pyproject.toml', 'requirements.txt', 'MANIFEST.in')
README_NAME = re.compile(r'^README(\.[A-Za-z0-9]+)?\Z')
# A setup.py that reads its package's release.py (TurboGears 1's quickstart does).
RELEASE_READ = re.compile(r'''["']release\.py["']''')


def moved_values(values):
    """The host's settled values (a Settled), every path moved to its place in the image:
    what tg_modwsgi's templates render the container's .wsgi, ini and .cfg from."""
    moves = path_moves(values)
    return values.map(lambda value: moved(value, moves)).replace(
        python={'home': VENV}, daemon={'user': USER, 'group': GROUP})


class Container(object):
    """The container's own values, read by attribute: ``{{container.base}}`` in the
    templates of paste_templates/tg_container (beside the moved Settled's groups)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def replace(self, **changes):
        return Container(**dict(self.__dict__, **changes))

    def map(self, function):
        return Container(**dict((k, function(v)) for k, v in self.__dict__.items()))

    def __repr__(self):
        return '<Container %s>' % ' '.join(sorted(self.__dict__))


def settle(values, inside):
    """The container's own values (a Container: base image, metadata files, set-up
    command...), from the host's ``values`` and their ``moved_values``, ``inside``."""
    version = '.'.join(values.python.version.split('.')[:2])
    release = dict(DEBIAN_PYTHONS).get(version)
    return Container(
        app_dir=APP_DIR,
        venv=VENV,
        config_dir=CONFIG_DIR,
        config_folder=CONFIG_FOLDER,
        dir=os.path.join(APP_DIR, 'apache', FOLDER),
        port=PORT,
        grace=GRACE,
        base='debian:%s-slim' % (release or DEFAULT_RELEASE),
        base_matches=bool(release),
        host_python=version,
        metadata_files=metadata_files(values),
        requirements_txt=os.path.isfile(os.path.join(values.paths.project_dir,
                                                     'requirements.txt')),
        setup_tools=setup_tools(values),
        setup_command=setup_command(inside),
        ignored=ignored(values),
        config_names=config_names(values),
        wsgi_name=os.path.basename(inside.paths.wsgi_file),
        one_replica=one_replica(values),
        kube_name=kube_name(values.project.slug),
        config_data=None,  # the Kubernetes Secret's files: write/container.py
        python2=bool(values.python.python2),
        mod_wsgi=py27.MOD_WSGI_SO if values.python.python2 else py27.DEBIAN_MOD_WSGI,
        mod_wsgi_version=py27.MOD_WSGI,
        virtualenv=py27.VIRTUALENV,
        seed=py27.seed_options(),
        host_venv=values.python.home,
        lock_name=py27.LOCK_NAME,
        locked=py27.locked(values) if values.python.python2 else [],
    )


def path_moves(values):
    """(host path, its place in the image), longest first: a path below another moves
    with the deeper one's rule."""
    project = values.paths.project_dir
    data = values.paths.data_dir
    moves = [(values.paths.apache_dir, CONFIG_DIR), (values.python.home, VENV),
             (project, APP_DIR)]
    if not is_below(data, project):
        moves.append((data, OUTSIDE_DATA))
    return sorted(moves, key=lambda move: -len(move[0]))


def is_below(path, folder):
    return path == folder or path.startswith(folder.rstrip('/') + '/')


def moved(value, moves):
    """``value`` with each host path of ``moves`` replaced by its place in the image (in
    texts, lists, tuples and dicts; anything else as it is)."""
    if isinstance(value, (list, tuple)):
        return type(value)(moved(item, moves) for item in value)
    if isinstance(value, dict):
        return dict((key, moved(item, moves)) for key, item in value.items())
    if not isinstance(value, type(u'')) and not isinstance(value, str):
        return value
    for host, inside in moves:
        # A whole path only: /srv/shop must not move /srv/shop2.
        value = re.sub(re.escape(host.rstrip('/')) + r'(?=/|$|[^A-Za-z0-9._-])',
                       inside.replace('\\', '\\\\'), value)
    return value


def metadata_files(values):
    """[(path relative to the project, the folder it goes to)] of the files that name the
    project's requirements, in a stable order."""
    project = values.paths.project_dir
    names = [n for n in METADATA_FILES if os.path.isfile(os.path.join(project, n))]
    names += sorted(n for n in os.listdir(project)
                    if README_NAME.match(n) and os.path.isfile(os.path.join(project, n)))
    if not [n for n in names if n in ('setup.py', 'pyproject.toml', 'requirements.txt')]:
        raise TgDeployError('--container: %s has no setup.py, pyproject.toml or '
                            'requirements.txt to install it from; add one' % project)
    found = [(n, './') for n in names]
    setup_py = os.path.join(project, 'setup.py')
    if os.path.isfile(setup_py) and values.project.package:
        with open(setup_py, 'rb') as f:
            reads_release = RELEASE_READ.search(f.read().decode('utf-8', 'replace'))
        release = os.path.join(values.project.package, 'release.py')
        if reads_release and os.path.isfile(os.path.join(project, release)):
            found.append((release, './%s/' % values.project.package))
    return found


def setup_tools(values):
    """What the image needs beside the project's requirements: README step 2's tools, and
    tgdeploy itself where the config loads its parts (egg:tgdeploy#cherrypy, #startup; a
    replayed start-up), in the version that wrote the config."""
    project, startup = values.project, values.startup
    tools = []
    if project.flavor == 'tg2' and project.package_dir and not project.paster_era:
        tools += ['gearbox', 'alembic']
    if project.flavor != 'tg2' or startup.function or startup.replay or startup.script:
        tools.append('tgdeploy==%s' % __version__)
    return tools


def setup_command(inside):
    """README step 2 as a command in the image (a list of words), or None."""
    venv_bin = VENV + '/bin/'
    project = inside.project
    if project.flavor == 'tg1':
        return py27.setup_command(inside, VENV)
    if project.flavor != 'tg2' or not project.package_dir:
        return None
    if project.paster_era:
        return [venv_bin + 'paster', 'setup-app', inside.config.file]
    return [venv_bin + 'gearbox', 'setup-app', '-c', inside.config.file]


def ignored(values):
    """Project-relative paths the image must not hold: secrets, state, other builds."""
    project = values.paths.project_dir
    found = []
    for key in ('production.secrets_from', 'startup.env_file'):
        path = values.lookup(key)
        if path and is_below(os.path.abspath(path), project):
            found.append(os.path.relpath(os.path.abspath(path), project))
    data = values.paths.data_dir
    if is_below(data, project) and data != project:
        found.append(os.path.relpath(data, project))
    return found


def config_names(values):
    """The files of apache/ the container needs, rendered for CONFIG_DIR."""
    names = [os.path.basename(values.paths.wsgi_file)]
    if values.config.write_ini:
        names.append(os.path.basename(values.config.file))
    if values.tg1.cfg:
        names.append(values.project.slug + '.cfg')
    # --status-endpoint, --service: the container's httpd.conf loads them from CONFIG_DIR.
    if values.apache.status_url:
        names.append(values.project.slug + '-status.wsgi')
    if values.daemon.services:
        names += [values.project.slug + '-services.conf', values.project.slug + '-services.py']
    return names


def one_replica(values):
    """Why the Deployment keeps one replica, or None when several may share the work."""
    url = moved(py27.tg1_database(values), path_moves(values))
    for line in (values.config.derived_ini or '').splitlines():
        if line.strip().startswith('sqlalchemy.url'):
            url = moved(line.split('=', 1)[1].strip(), path_moves(values))
    if url.startswith('sqlite:'):
        return ('its database is SQLite (%s), a file one process writes at a time; with a '
                'database server, raise replicas' % url)
    if values.project.memory_sessions:
        return ('its sessions live in process memory: each replica would have its own')
    return None


def kube_name(slug):
    """A Kubernetes object name (RFC 1123 label) for ``slug``."""
    name = re.sub(r'[^a-z0-9-]+', '-', slug.lower()).strip('-')
    return (name or 'app')[:50]
