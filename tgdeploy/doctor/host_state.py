"""State that lives on one host, found before a balancer spreads requests over several
(--hosts N): sessions in a process's memory or in files, SQLite databases, local caches and
secrets generated per host. Read from the configs the deployment runs with, never by
importing the project. One finding each, naming the keys to change."""
import os
import re

from tgdeploy.settle import inifile

from tgdeploy.files import textfiles

ERROR, WARNING = 'error', 'warning'

# What breaks when the next request lands on another host (an error), and what only
# duplicates work there (a warning).
# The client libraries are Beaker's own choice (1.14: python-memcached, python-binary-memcached
# or cmemcache for ext:memcached; pylibmc and pymemcache are not among them).
SHARED_SESSIONS = ('set %(key)s = ext:memcached and %(url)s = HOST:11211 (Beaker needs '
                   'python-memcached in the virtualenv), or ext:redis and redis://HOST:6379/0 '
                   '(needs redis), or ext:database and a database URL; the same on every host')
SHARED_DATABASE = 'point %s at a database server every host reaches (postgresql://...)'
SECRETS = ('each host deployed on its own gets secrets of its own, and refuses the cookies the '
           'others sign: deploy every host with --secrets-from the same file')

FILES = {'file': 'files', 'dbm': 'dbm files', 'memory': 'each process\'s memory'}
TG1_SQLITE = re.compile(r'^\s*(\w+\.dburi)\s*=\s*["\']?sqlite:', re.M)
TG1_SESSION_FILES = re.compile(
    r'^\s*((?:session_filter|tools\.sessions)\.storage_type)\s*=\s*["\']?file', re.M | re.I)
CHERRYPY_SESSION_FILES = re.compile(
    r'^\s*(tools\.sessions\.storage_(?:type|class))\s*=\s*\S*file', re.M | re.I)


def findings(values, hosts):
    """[(level, text)] for a deployment that ``hosts`` hosts will serve alike."""
    if hosts < 2:
        return []
    found = []
    # tg2: with its keys below
    if values.project.memory_sessions and values.project.flavor != 'tg2':
        found.append((ERROR, 'sessions kept in each process\'s memory (%s) are on one host '
                             'only: keep them in a shared store' % values.project.memory_sessions))
    reader = {'tg2': tg2_findings, 'tg1': tg1_findings, 'cherrypy': cherrypy_findings}
    found += reader[values.project.flavor](values)
    if values.project.flavor != 'cherrypy' and not values.production.secrets_from:
        found.append((ERROR, SECRETS))
    return [(level, '%d hosts: %s' % (hosts, text)) for level, text in found]


def tg2_findings(values):
    settings = dict(inifile.app_settings(*inifile.deployed_ini(values)))
    found = []
    for prefix in ('session.', 'beaker.session.'):
        kind = settings.get(prefix + 'type', '').strip()
        if kind in FILES:
            found.append((ERROR, 'Beaker keeps sessions in %s on this host (%stype = %s): '
                                 % (FILES[kind], prefix, kind) + SHARED_SESSIONS % {
                                     'key': prefix + 'type', 'url': prefix + 'url'}))
    for prefix in ('cache.', 'beaker.cache.'):
        kind = settings.get(prefix + 'type', '').strip()
        if kind in ('memory', 'file', 'dbm'):
            found.append((WARNING, 'Beaker caches in %s on each host (%stype = %s): each host '
                                   'fills its own; for a cache every host must agree on, %s'
                          % (kind, prefix, kind, SHARED_SESSIONS % {'key': prefix + 'type',
                                                                    'url': prefix + 'url'})))
    for key, value in sorted(settings.items()):
        if key.endswith('.url') and value.strip().startswith('sqlite:'):
            found.append((ERROR, 'the SQLite database of %s exists on one host only: %s'
                                 % (key, SHARED_DATABASE % key)))
    return found


def tg1_findings(values):
    text = values.tg1.cfg
    found = [(ERROR, 'the SQLite database of %s exists on one host only: %s'
              % (key, SHARED_DATABASE % key)) for key in TG1_SQLITE.findall(text)]
    found += [(ERROR, 'sessions in files on this host (%s): keep them in the database every '
                      'host shares, or turn them off' % key)
              for key in TG1_SESSION_FILES.findall(text)]
    return found


def cherrypy_findings(values):
    path = values.config.cherrypy
    if not path or not os.path.isfile(path):
        return []
    text = textfiles.read_text(path)
    return [(ERROR, 'CherryPy keeps sessions in files on this host (%s): keep them in a store '
                    'every host shares (a session class backed by memcached or the database)'
                    % key) for key in CHERRYPY_SESSION_FILES.findall(text)]
