"""A real TurboGears 1.5 quickstart (`tg-admin quickstart` in the 2.7 lab) whose dev.cfg has a
French comment and an accented value, in UTF-8 and in Latin-1: `paster tgdeploy --simulate`
and the deploy run on Python 2.7 without a traceback, README step 2's `tg-admin sql create`
reads the derived config, and Apache + mod_wsgi for 2.7 serves the application at a sub-URL
with the value exactly as the application read it from its own dev.cfg."""
import os
import shutil
from pathlib import Path

import pytest

from conftest import LAB, REPO
from support.sites import PY27_ENV, setup_tg1_data
from support.venv import Venv, run

PY27 = LAB / 'py27'
MOD_WSGI_27 = PY27 / 'mod_wsgi-py27.so'
COMMENT = u'# Paramètres de l\u2019application : à régler avant la mise en production\n'
VALUE = u'Café crème à Noël'
# The page the test adds, the way a user adds one: the value as TurboGears read it.
PAGE = u'''

@expose()
def titre(self):
    from turbogears import config as _config
    return repr(_config.get('encsite.titre'))


Root.titre = titre
'''
# What a change in these makes the lab's copy of tgdeploy stale for this test.
NEEDED = ('files/textfiles.py', 'write/render.py', 'detect/projectfiles.py', 'settle/tg1config.py',
          '_compat.py')


@pytest.fixture(scope='module')
def quickstart(www_root):
    venv = Venv(PY27 / 'tg15')
    if not (os.path.exists(venv.python) and MOD_WSGI_27.exists()):
        pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % PY27)
    site = run([venv.python, '-c', 'import os, tgdeploy; '
                'print(os.path.dirname(tgdeploy.__file__))'], env=PY27_ENV).stdout.strip()
    stale = [n for n in NEEDED if (Path(site) / n).exists() is False or
             (Path(site) / n).read_bytes() != (REPO / 'tgdeploy' / n).read_bytes()]
    if stale:
        pytest.fail('the 2.7 lab has an older tgdeploy (%s): run scripts/provision-py27'
                    % ', '.join(stale))
    parent = www_root / 'encodings-tg15'
    parent.mkdir(mode=0o755)
    run([venv.bin('tg-admin'), 'quickstart', '-s', '--no-identity', '-p', 'encsite', 'encsite'],
        cwd=parent, input='no\n', env=PY27_ENV)
    project = parent / 'encsite'
    # Quickstart from pip-installed TG writes an invalid `; extra == "sqlalchemy"` marker.
    for name in ('setup.py', 'encsite/model.py'):
        path = project / name
        path.write_text(path.read_text().replace('; extra == "sqlalchemy"', ''))
    run([venv.python, 'setup.py', '-q', 'egg_info'], cwd=project, env=PY27_ENV)
    with (project / 'encsite' / 'controllers.py').open('a') as f:
        f.write(PAGE)
    original = (project / 'dev.cfg').read_text()
    yield venv, project, original
    shutil.rmtree(str(parent), ignore_errors=True)


@pytest.mark.parametrize('codec', ['utf-8', 'latin-1'])
def test_accented_dev_cfg_served_under_apache_on_python27(quickstart, codec, apache_factory):
    venv, project, original = quickstart
    comment = COMMENT if codec == 'utf-8' else COMMENT.replace(u'\u2019', u"'")
    text = original.replace('[global]\n', u'[global]\n%sencsite.titre = "%s"\n'
                            % (comment, VALUE), 1)
    (project / 'dev.cfg').write_bytes(text.encode(codec))
    shutil.rmtree(str(project / 'apache'), ignore_errors=True)
    shutil.rmtree(str(project / 'data'), ignore_errors=True)
    apache = apache_factory([project / 'apache' / 'encsite.conf'], wsgi_module=str(MOD_WSGI_27))
    args = [venv.bin('paster'), 'tgdeploy', '--mount', '/encsite', '--server-name', '127.0.0.1',
            '--port', str(apache.port)]
    simulated = run(args + ['--simulate'], cwd=project, env=PY27_ENV, check=False)
    assert simulated.returncode == 0 and 'Traceback' not in simulated.stderr, \
        simulated.stdout + simulated.stderr
    assert not (project / 'apache').exists()
    deployed = run(args, cwd=project, env=PY27_ENV, check=False)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    cfg = (project / 'apache' / 'encsite.cfg').read_bytes()
    # Every line the deployment keeps is byte for byte the user's, in the user's encoding.
    assert (u'encsite.titre = "%s"' % VALUE).encode(codec) in cfg.splitlines()
    assert comment.rstrip('\n').encode(codec) in cfg.splitlines()
    setup_tg1_data(venv, project, project / 'apache' / 'encsite.cfg', PY27_ENV)

    status, _, page = apache.start('/encsite/')
    assert status == 200, apache.error_log()[-3000:]
    assert '/encsite/static/' in page
    status, _, body = apache.get('/encsite/titre')
    # Python 2.7's repr of the bytes ConfigObj read from the file: the value as the application
    # read it from its own dev.cfg, in its encoding.
    assert status == 200 and body == repr(VALUE.encode(codec))[1:], (body, apache.error_log())
    apache.stop()
    assert 'Traceback' not in apache.error_log(), apache.error_log()
