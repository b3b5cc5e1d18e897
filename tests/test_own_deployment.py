"""The doctor's reading of the project's own deployment files: what a project's .wsgi,
Apache config, start script, Dockerfile, compose file, systemd unit or supervisor config
does that the generated deployment does not, one warning each with the option that covers
it. The fixtures are modelled on real projects (Fedora's account system's fas.wsgi and
Apache config, TurboGears 1.x commands.py); files the doctor must pass over (FIFOs,
symlinks out of the project, huge, unreadable or undecodable files) give no traceback."""
import os
import time

import pytest

from conftest import LAB_PY3
from support.httpd import DEBIAN_WSGI
from support.projects import make_tg2, make_venv_marker, write
from support.venv import run
from tgdeploy.settle import options
from tgdeploy.doctor import own_deployment, registry
from tgdeploy.cli.deploy import deploy
from tgdeploy.detect.arbiter import detect

FAS_WSGI = '''\
#!/usr/bin/python
import __main__
if not hasattr(__main__, '_requires__'):
    __main__.__requires__ = []
__main__.__requires__.append('SQLAlchemy >= 0.5, <= 0.6')
__main__.__requires__.append('TurboGears[future]')

import sys
sys.stdout = sys.stderr
sys.path.append('/usr/share/fas')
sys.path.insert(0, os.path.dirname(__file__))

import pkg_resources
pkg_resources.require('CherryPy <= 3.0alpha')

import locale
locale.setlocale(locale.LC_ALL, 'de_DE.UTF-8')

import os
os.environ['PYTHON_EGG_CACHE'] = '/var/www/.python-eggs'
os.environ['DB_HOST'] = 'db.example.org'
os.environ['FAS_SECRET_KEY'] = 'not-for-your-eyes'
os.environ.setdefault('TZ', 'Europe/Berlin')
# os.environ['COMMENTED'] = 'out'

import turbogears
import turbogears.startup
import fedora.tg.utils
turbogears.update_config(configfile="/etc/fas.cfg", modulename="fas.config")
turbogears.startup.call_on_startup.append(fedora.tg.utils.enable_csrf)

def application(environ, start_response):
    environ['SCRIPT_NAME'] = ''
    return cherrypy._cpwsgi.wsgiApp(environ, start_response)
'''

FAS_CONF = '''\
WSGISocketPrefix run/wsgi
WSGIRestrictStdout On
#WSGIDaemonProcess old processes=1 threads=1
WSGIDaemonProcess fas processes=2 threads=1 \\
    maximum-requests=1000 user=fas display-name=fas inactivity-timeout=30
WSGIPythonPath /srv/fas/lib:/srv/fas/vendor
WSGIPassAuthorization On
SetEnv MAIL_HOST smtp.example.org

WSGIScriptAlias /accounts /usr/share/fas/fas.wsgi/accounts
Alias /accounts/css/ /usr/share/fas/public/css/
Alias /media/ /srv/fas-media/

<Location /accounts>
    WSGIProcessGroup fas
</Location>
'''

COMMANDS = '''\
# -*- coding: utf-8 -*-
"""Start-up of the shop: console script entry points.

    turbogears.start_server(Root())    # in a docstring: not code
"""
import sys
import resource
import turbogears
from shop.logs import init_syslog


def _read_config(args):
    turbogears.update_config(configfile=args[0], modulename="shop.config")


def setup_logging():
    pass


def start():
    """Start the CherryPy application server."""
    _read_config(sys.argv[1:])
    setup_logging()
    init_syslog()
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    from shop.controllers import Root
    turbogears.start_server(Root())
    after_the_server()
'''


@pytest.fixture
def shop(tmp_path):
    return make_tg2(tmp_path / 'shop')


def settle(project, **given):
    given.setdefault('python_home', str(make_venv_marker(project.parent / 'venv')))
    return options.settle(detect(str(project)), given)


def texts(values):
    found = own_deployment.findings(values)
    assert all(level == 'warning' for level, _ in found)
    return [text for _, text in found]


def test_a_fas_like_wsgi(shop):
    write(shop / 'fas.wsgi', FAS_WSGI)
    venv = shop.parent / 'venv'
    assert texts(settle(shop)) == [
        "fas.wsgi:5: asks for SQLAlchemy >= 0.5, <= 0.6 (__main__.__requires__), the generated "
        ".wsgi takes what the virtualenv holds: install that version there (%s/bin/pip install "
        "'SQLAlchemy >= 0.5, <= 0.6')" % venv,
        "fas.wsgi:10: adds /usr/share/fas to the Python path (sys.path), the generated .wsgi "
        "adds only the project folder: install that code into the virtualenv (pip install -e "
        "/usr/share/fas) or add it from --startup",
        "fas.wsgi:14: asks for CherryPy <= 3.0alpha (pkg_resources.require), the generated .wsgi "
        "takes what the virtualenv holds: install that version there (%s/bin/pip install "
        "'CherryPy <= 3.0alpha')" % venv,
        'fas.wsgi:17: sets the locale de_DE.UTF-8, the generated deployment runs in C.UTF-8: '
        'pass --locale de_DE.UTF-8',
        'fas.wsgi:21: sets DB_HOST in the environment, the generated .wsgi does not: pass '
        '--setenv DB_HOST=db.example.org',
        'fas.wsgi:22: sets FAS_SECRET_KEY in the environment, the generated .wsgi does not: '
        'pass --setenv FAS_SECRET_KEY=...',
        'fas.wsgi:23: sets TZ in the environment, the generated .wsgi does not: pass --setenv '
        'TZ=Europe/Berlin',
        'fas.wsgi:29: loads the config /etc/fas.cfg, the generated deployment derives its own '
        'from %s: pass --config /etc/fas.cfg if that is the one to run with'
        % (shop / 'development.ini'),
        'fas.wsgi:30: calls fedora.tg.utils.enable_csrf() at TurboGears start-up '
        '(call_on_startup), the generated deployment does not: pass --startup '
        'fedora.tg.utils:enable_csrf',
    ]


def test_sys_path_entries_worked_out(shop):
    write(shop / 'app.wsgi', "import os, sys\n"
                             "here = os.path.dirname(os.path.abspath(__file__))\n"
                             "sys.path.insert(0, here)\n"
                             "sys.path.append(os.path.join(here, 'vendor'))\n"
                             "sys.path.append(find_plugins())\n"
                             "site.addsitedir('%s/lib/python3.11/site-packages')\n"
                             % (shop.parent / 'venv'))
    assert texts(settle(shop)) == [
        'app.wsgi:4: adds %s/vendor to the Python path (sys.path), the generated .wsgi adds '
        'only the project folder: install that code into the virtualenv (pip install -e '
        '%s/vendor) or add it from --startup' % (shop, shop),
        'app.wsgi:5: adds find_plugins() to the Python path (sys.path), the generated .wsgi '
        'adds only the project folder: install that code into the virtualenv (pip install -e '
        'its folder) or add it from --startup',
    ]


def test_secret_values_are_never_shown(shop):
    write(shop / 'app.wsgi', "import os\nos.environ['DATABASE_URL'] = "
                             "'postgresql://shop:hunter2@db/shop'\n"
                             "os.environ['API_TOKEN'] = 'hunter2'\n")
    found = ' '.join(texts(settle(shop)))
    assert '--setenv DATABASE_URL=...' in found and '--setenv API_TOKEN=...' in found
    assert 'hunter2' not in found


def test_what_the_options_cover_is_not_reported(shop):
    write(shop / 'fas.wsgi', FAS_WSGI)
    values = settle(shop, locale='de_DE.UTF-8', setenv=['DB_HOST=other', 'TZ=UTC'],
                    startup='fedora.tg.utils:enable_csrf')
    found = texts(values)
    for gone in ('sets the locale', 'DB_HOST', ' TZ ', 'enable_csrf'):
        assert not [t for t in found if gone in t], (gone, found)
    assert len(found) == 5  # the requirements, sys.path, the secret, the config


def test_an_apache_config_of_the_project(shop):
    write(shop / 'deploy' / 'fas.conf', FAS_CONF)
    assert texts(settle(shop)) == [
        'deploy/fas.conf:4: runs one thread per process (threads=1: code that is not '
        'thread-safe), the generated config runs 8 threads: pass --threads 1',
        'deploy/fas.conf:4: restarts each daemon process after 1000 requests '
        '(maximum-requests=1000), the generated config does not: pass --maximum-requests 1000',
        'deploy/fas.conf:4: runs the daemon as fas, the generated config as www-data: pass '
        '--user fas',
        'deploy/fas.conf:6: adds /srv/fas/lib to the Python path (WSGIPythonPath), the '
        'generated .wsgi adds only the project folder: install that code into the virtualenv '
        '(pip install -e /srv/fas/lib) or add it from --startup',
        'deploy/fas.conf:6: adds /srv/fas/vendor to the Python path (WSGIPythonPath), the '
        'generated .wsgi adds only the project folder: install that code into the virtualenv '
        '(pip install -e /srv/fas/vendor) or add it from --startup',
        'deploy/fas.conf:7: passes the Authorization header to the application '
        '(WSGIPassAuthorization On), the generated config does not: pass '
        '--pass-authorization yes',
        'deploy/fas.conf:8: sets MAIL_HOST in the environment, the generated .wsgi does not: '
        'pass --setenv MAIL_HOST=smtp.example.org',
        'deploy/fas.conf:10: mounts the application at /accounts, the generated config at /: '
        'pass --mount /accounts',
        'deploy/fas.conf:12: serves /media/ (Alias /media/ /srv/fas-media/), the generated '
        'config does not: pass --alias /media=/srv/fas-media/',
    ]


def test_the_apache_findings_go_with_the_options(shop):
    write(shop / 'deploy' / 'fas.conf', FAS_CONF)
    found = texts(settle(shop, threads='1', mount='/accounts', setenv=['MAIL_HOST=x']))
    assert not [t for t in found if 'threads=1' in t or '--mount' in t or 'MAIL_HOST' in t]
    media = shop.parent / 'fas-media'
    media.mkdir()
    write(shop / 'deploy' / 'fas.conf', FAS_CONF.replace('/srv/fas-media/', str(media) + '/'))
    found = texts(settle(shop, pass_authorization='yes', maximum_requests='1000',
                         alias=['/media=%s' % media]))
    assert not [t for t in found if 'Authorization' in t or 'maximum-requests' in t or
                '/media' in t], found
    # /accounts/css/ is the generated /css under the mount: it was never reported.
    assert not [t for t in found if "/css" in t]


def test_an_apache_config_named_like_a_wsgi_script(shop):
    """fas.conf.wsgi in the FAS repository is an Apache config."""
    write(shop / 'fas.conf.wsgi', 'WSGIDaemonProcess fas processes=1 threads=2\n'
                                  'WSGIScriptAlias / /usr/share/fas/fas.wsgi\n')
    assert texts(settle(shop)) == [
        'fas.conf.wsgi:1: runs one daemon process (processes=1: state kept in one process), '
        'the generated config runs %d processes: pass --processes 1'
        % options.default_processes()]
    assert texts(settle(shop, processes='1')) == []


def test_a_dockerfile_and_its_compose_file(shop):
    write(shop / 'Dockerfile', 'FROM python:3.11\n'
                               'ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1\n'
                               'ENV LANG de_DE.UTF-8\n'
                               'ENV TZ=Europe/Berlin \\\n    SHOP_MODE="production mode"\n'
                               'ENV PATH=/venv/bin:$PATH PYTHONPATH=/opt/shop-plugins\n'
                               'ENV DB_PASSWORD=hunter2\n'
                               'CMD ["gearbox", "serve"]\n')
    write(shop / 'docker-compose.yml', 'services:\n  web:\n    build: .\n    environment:\n'
                                       '      - TZ=Europe/Berlin\n      - WORKERS=4\n'
                                       '    ports:\n      - "8080:8080"\n')
    assert texts(settle(shop)) == [
        'Dockerfile:3: sets the locale de_DE.UTF-8, the generated deployment runs in C.UTF-8: '
        'pass --locale de_DE.UTF-8',
        'Dockerfile:4: sets TZ in the environment, the generated .wsgi does not: pass --setenv '
        'TZ=Europe/Berlin',
        "Dockerfile:4: sets SHOP_MODE in the environment, the generated .wsgi does not: pass "
        "--setenv 'SHOP_MODE=production mode'",
        'Dockerfile:6: adds /opt/shop-plugins to the Python path (PYTHONPATH), the generated '
        '.wsgi adds only the project folder: install that code into the virtualenv (pip '
        'install -e /opt/shop-plugins) or add it from --startup',
        'Dockerfile:7: sets DB_PASSWORD in the environment, the generated .wsgi does not: '
        'pass --setenv DB_PASSWORD=...',
        'docker-compose.yml:6: sets WORKERS in the environment, the generated .wsgi does not: '
        'pass --setenv WORKERS=4',
    ]


def test_systemd_and_supervisor(shop):
    write(shop / 'contrib' / 'shop.service', '[Unit]\nDescription=shop\n[Service]\n'
                                             'Environment="SHOP_ENV=prod" LC_ALL=fr_FR.UTF-8\n'
                                             'ExecStart=/srv/venv/bin/gearbox serve\n')
    write(shop / 'contrib' / 'supervisor.conf', '[program:shop]\ncommand=gearbox serve\n'
                                                 'environment=REDIS_URL="redis://cache:6379",'
                                                 'WORKERS="2"\n')
    assert texts(settle(shop)) == [
        'contrib/shop.service:4: sets SHOP_ENV in the environment, the generated .wsgi does '
        'not: pass --setenv SHOP_ENV=prod',
        'contrib/shop.service:4: sets the locale fr_FR.UTF-8, the generated deployment runs in '
        'C.UTF-8: pass --locale fr_FR.UTF-8',
        'contrib/supervisor.conf:3: sets REDIS_URL in the environment, the generated .wsgi '
        'does not: pass --setenv REDIS_URL=redis://cache:6379',
        'contrib/supervisor.conf:3: sets WORKERS in the environment, the generated .wsgi does '
        'not: pass --setenv WORKERS=2',
    ]


def test_what_a_start_script_calls_before_starting_the_server(shop):
    write(shop / 'shop' / 'commands.py', COMMANDS)
    assert texts(settle(shop)) == [
        'shop/commands.py:23: start() calls setup_logging() before starting the server, the '
        'generated deployment does not: pass --startup shop.commands:setup_logging',
        'shop/commands.py:24: start() calls init_syslog() before starting the server, the '
        'generated deployment does not: pass --startup shop.logs:init_syslog',
        'shop/commands.py:25: start() calls resource.setrlimit(...) before starting the '
        'server, the generated deployment does not: put that call in a function of the '
        'project\'s package and pass --startup package.module:function',
    ]
    found = texts(settle(shop, startup='shop.logs:init_syslog'))
    assert [t for t in found if 'init_syslog' in t] == []


def test_a_start_script_beside_setup_py(shop):
    write(shop / 'start-shop.py', 'import turbogears\nfrom shop import hooks\n'
                                  'turbogears.update_config(configfile="dev.cfg")\n'
                                  'hooks.prepare()\nsetup_here()\n'
                                  'from shop.controllers import Root\n'
                                  'turbogears.start_server(Root())\n')
    write(shop / 'shop-start', '#!/bin/sh\nexport SHOP_HOME=/srv/shop\n'
                               'exec python start-shop.py "$@"\n')
    assert texts(settle(shop)) == [
        'shop-start:2: sets SHOP_HOME in the environment, the generated .wsgi does not: pass '
        '--setenv SHOP_HOME=/srv/shop',
        'start-shop.py:4: the script calls hooks.prepare() before starting the server, the '
        'generated deployment does not: pass --startup shop.hooks:prepare',
        'start-shop.py:5: the script calls setup_here() before starting the server, the '
        'generated deployment does not: put that call in a function of the project\'s '
        'package and pass --startup package.module:function',
    ]


def test_the_projects_own_apache_folder(shop):
    """Beaker keeps its Apache config and .wsgi in apache/, where tgdeploy writes by default:
    they are read, the generated files beside them are not."""
    write(shop / 'apache' / 'beaker-server.wsgi',
          "import sys\nsys.stdout = sys.stderr\nimport __main__\n"
          "__main__.__requires__ = ['TurboGears', 'Flask']\n"
          "from bkr.server.wsgi import application\n"
          "from bkr.log import log_to_syslog\nlog_to_syslog('beaker-server')\n")
    write(shop / 'apache' / 'beaker-server.conf',
          '# a thread safety issue in TurboGears: threads=1\n'
          'WSGIDaemonProcess beaker-server user=apache group=apache display-name=beaker-server '
          'maximum-requests=1000 processes=8 threads=1\n'
          'WSGIScriptAlias /bkr/ /usr/share/bkr/beaker-server.wsgi/bkr/\n')
    deploy(str(shop), {'python_home': str(make_venv_marker(shop.parent / 'venv')),
                       'mount': '/bkr', 'threads': '1'})
    assert (shop / 'apache' / 'shop.conf').exists()
    assert texts(settle(shop, mount='/bkr', threads='1')) == [
        'apache/beaker-server.conf:2: restarts each daemon process after 1000 requests '
        '(maximum-requests=1000), the generated config does not: pass --maximum-requests '
        '1000',
        'apache/beaker-server.wsgi:7: the .wsgi calls log_to_syslog(...) when loaded, the '
        'generated deployment does not: put that call in a function of the project\'s '
        'package and pass --startup package.module:function',
    ]


def test_quickstart_start_scripts_say_nothing(shop):
    """TurboGears 1.x quickstart scripts: only config loading and the server start."""
    write(shop / 'start-shop.py', 'import sys\nfrom shop.commands import start, '
                                  'ConfigurationError\nif __name__ == "__main__":\n'
                                  '    try:\n        start()\n'
                                  '    except ConfigurationError, exc:\n'
                                  '        sys.stderr.write(str(exc))\n        sys.exit(1)\n')
    write(shop / 'shop' / 'commands.py', 'import pkg_resources\nimport cherrypy\n'
                                         'pkg_resources.require("TurboGears>=1.1b1")\n'
                                         'import turbogears\n'
                                         'def _read_config(args):\n'
                                         '    turbogears.update_config(configfile=args[0])\n'
                                         'def start():\n    _read_config(sys.argv[1:])\n'
                                         '    from shop.controllers import Root\n'
                                         '    turbogears.start_server(Root())\n')
    assert texts(settle(shop)) == []


def test_nothing_for_a_fresh_project_nor_the_generated_folder(shop):
    assert texts(settle(shop)) == []
    deploy(str(shop), {'python_home': str(make_venv_marker(shop.parent / 'venv'))})
    assert (shop / 'apache' / 'shop.wsgi').exists()
    assert texts(settle(shop)) == []
    # Written elsewhere inside the project, and edited: still tgdeploy's own files.
    deploy(str(shop), {'python_home': str(shop.parent / 'venv'), 'output_dir': 'deploy-out',
                       'setenv': ['X=1'], 'threads': '1'})
    assert texts(settle(shop)) == []


def test_files_the_doctor_passes_over(shop, tmp_path, monkeypatch):
    outside = write(tmp_path / 'outside' / 'Dockerfile', 'ENV OUTSIDE=1\n')
    os.symlink(str(outside), str(shop / 'Dockerfile'))
    os.symlink(str(outside.parent), str(shop / 'deploy'))  # a folder out of the project
    os.mkfifo(str(shop / 'fifo.wsgi'))
    os.symlink(str(shop / 'nowhere'), str(shop / 'dangling.wsgi'))
    os.symlink('loop-b.wsgi', str(shop / 'loop-a.wsgi'))
    os.symlink('loop-a.wsgi', str(shop / 'loop-b.wsgi'))
    (shop / 'folder.wsgi').mkdir()
    write(shop / 'huge.wsgi', "import os\nos.environ['HUGE'] = '1'\n" + '#' * (1 << 20))
    write(shop / 'binary.wsgi', "import os\nos.environ['BINARY'] = '1'\n\0\0")
    (shop / 'latin1.wsgi').write_bytes(b"import os\nos.environ['LATIN'] = 'caf\xe9'\n")
    write(shop / 'locked.wsgi', "import os\nos.environ['LOCKED'] = '1'\n")
    real_open = os.open

    def refuse(path, *args):
        if str(path).endswith('locked.wsgi'):
            raise OSError(13, 'Permission denied', path)
        return real_open(path, *args)
    monkeypatch.setattr(os, 'open', refuse)
    started = time.time()
    found = texts(settle(shop))
    assert time.time() - started < 5  # the FIFO was never opened
    assert found == ['latin1.wsgi:2: sets LATIN in the environment, the generated .wsgi does '
                     'not: pass --setenv \'LATIN=caf\xe9\'']


def test_a_symlink_inside_the_project_is_read(shop):
    write(shop / 'deploy' / 'real.wsgi', "import os\nos.environ['INSIDE'] = '1'\n")
    os.symlink('deploy/real.wsgi', str(shop / 'link.wsgi'))
    # Read once, by the first name found.
    assert [t.split(':')[0] for t in texts(settle(shop))] == ['link.wsgi']


def test_the_search_is_bounded(shop):
    deep = shop / 'a' / 'b' / 'c' / 'd'
    write(deep / 'deep.wsgi', "import os\nos.environ['DEEP'] = '1'\n")
    write(shop / '.git' / 'x.wsgi', "import os\nos.environ['GIT'] = '1'\n")
    write(shop / 'node_modules' / 'x.wsgi', "import os\nos.environ['NODE'] = '1'\n")
    write(shop / 'env' / 'pyvenv.cfg', 'home = /usr/bin\n')
    write(shop / 'env' / 'x.wsgi', "import os\nos.environ['VENV'] = '1'\n")
    write(shop / '.tgdeploy-swap-1234' / 'x.wsgi', "import os\nos.environ['SWAP'] = '1'\n")
    assert texts(settle(shop)) == []


def test_seen_notes(shop):
    assert own_deployment.seen(settle(shop)) == []
    write(shop / 'fas.wsgi', FAS_WSGI)
    write(shop / 'deploy' / 'fas.conf', FAS_CONF)
    assert own_deployment.seen(settle(shop)) == [
        'own deployment files: fas.wsgi (mod_wsgi script), deploy/fas.conf (Apache config)']


def test_part_of_the_doctor(shop, tree):
    write(shop / 'fas.wsgi', FAS_WSGI)
    findings = registry.examine(settle(shop), str(tree), DEBIAN_WSGI)
    assert 'warning: fas.wsgi:21: sets DB_HOST in the environment, the generated .wsgi does ' \
           'not: pass --setenv DB_HOST=db.example.org' in [str(f) for f in findings]


def test_tgdeploy_doctor_prints_the_lines(shop, tree):
    write(shop / 'fas.wsgi', FAS_WSGI)
    write(shop / 'deploy' / 'fas.conf', FAS_CONF)
    venv = make_venv_marker(shop.parent / 'venv')
    proc = run([LAB_PY3.bin('tgdeploy'), '--doctor', '--python-home', venv, '--apache-root',
                tree, '--mod-wsgi', DEBIAN_WSGI, '--setenv', 'TZ=UTC'], cwd=shop, check=False)
    assert proc.returncode in (1, 3), proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert 'warning: fas.wsgi:17: sets the locale de_DE.UTF-8, the generated deployment runs ' \
           'in C.UTF-8: pass --locale de_DE.UTF-8' in lines
    assert 'warning: deploy/fas.conf:4: runs one thread per process (threads=1: code that is ' \
           'not thread-safe), the generated config runs 8 threads: pass --threads 1' in lines
    assert not [line for line in lines if ' TZ ' in line]
    assert 'not-for-your-eyes' not in proc.stdout + proc.stderr


# -- odd inputs met on real trees -----------------------------------------------------------

def test_a_big_data_folder_does_not_hide_the_rest(shop):
    uploads = shop / 'uploads'
    uploads.mkdir()
    for number in range(6000):  # more than the whole search reads
        (uploads / ('%05d.txt' % number)).write_bytes(b'x')
    write(shop / 'zz' / 'app.wsgi', "import os\nos.environ['AFTER'] = '1'\n")
    assert [t.split(':')[0] for t in texts(settle(shop))] == ['zz/app.wsgi']


def test_python_path_values_that_are_not_literals(shop):
    """A computed PYTHONPATH gave a traceback; a nesting too deep for Python 2.7's parser
    (MemoryError) is not worked out; an empty sys.path.append() adds nothing."""
    write(shop / 'app.wsgi', "import os, sys\nos.environ['PYTHONPATH'] = os.pathsep.join(d)\n"
                             "sys.path.append()\n"
                             "sys.path.append(%s__file__%s)\n" % ('f(' * 300, ')' * 300))
    found = texts(settle(shop))
    assert len(found) == 1 and found[0].startswith('app.wsgi:4: adds f(f(f(')


def test_several_paths_in_one_pythonpath(shop):
    write(shop / 'deploy' / 'a.conf', 'SetEnv PYTHONPATH /srv/a:/srv/b:$PYTHONPATH\n')
    assert [t.split(' to the')[0] for t in texts(settle(shop))] == [
        'deploy/a.conf:1: adds /srv/a', 'deploy/a.conf:1: adds /srv/b']


def test_dockerfile_quotes_and_escapes(shop):
    (shop / 'Dockerfile').write_bytes(
        b'FROM python\r\nENV A=1 B="two words" \\\r\n    C=four\\ five D="say \\"hi\\""\r\n'
        b'RUN echo \\\r\n    ENV NOT=this\r\nENV E $A\r\n')
    assert [t.split('--setenv ')[1] for t in texts(settle(shop))] == [
        'A=1', "'B=two words'", "'C=four five'", '\'D=say "hi"\'', 'E=...']


def test_compose_environment_of_the_application_only(shop):
    write(shop / 'docker-compose.yml',
          'services:\n  db:\n    image: postgres\n    environment:\n'
          '      POSTGRES_PASSWORD: secret\n  web:\n    environment:\n'
          '      - "MODE=two words"\n      - WORKERS=4  # per core\n      - FROM_HOST\n'
          '      TZ: Europe/Paris # here\n    build: .\n')
    assert [t.split('--setenv ')[1] for t in texts(settle(shop))] == [
        "'MODE=two words'", 'WORKERS=4', 'FROM_HOST=...', 'TZ=Europe/Paris']


def test_supervisor_comment_and_shell_assignments(shop):
    write(shop / 'supervisord.conf', '[program:shop]\nenvironment=A="1",B=plain ; a comment\n')
    write(shop / 'shop-start', '#!/bin/sh\nHERE=/srv/shop\nexport MODE="two words"\n'
                               'LEVEL=debug\nexport LEVEL\nLC_ALL=C exec gearbox serve\n')
    assert [t.split('--setenv ')[-1].split('--locale ')[-1] for t in texts(settle(shop))] == [
        "'MODE=two words'", 'LEVEL=debug', 'C', 'A=1', 'B=plain']


def test_apache_blocks_for_apache_without_mod_wsgi(shop):
    write(shop / 'deploy' / 'site.conf', '<IfModule !mod_wsgi.c>\n  <IfModule x>\n'
                                         '  </IfModule>\n  SetEnv NO 1\n</IfModule>\n'
                                         'Include /etc/apache2/other.conf\n'
                                         '<IfModule mod_wsgi.c>\n  SetEnv YES 1\n</IfModule>\n')
    assert [t.split(': ')[0] for t in texts(settle(shop))] == ['deploy/site.conf:8']
