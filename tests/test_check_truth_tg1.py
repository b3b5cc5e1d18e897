"""--check on a real TurboGears 1.5 application with identity (`tg-admin quickstart -i` in the
2.7 lab), the whole application behind a login as real ones are: TurboGears answers its login
form with status 403 by design; --check reports it as such and passes, served by Apache with
mod_wsgi for 2.7. A copy whose start-up fails gets the failure's own traceback."""
import os
import re
import shutil

import pytest

from conftest import LAB
from support.projects import make_apache_tree
from support.sites import PY27_ENV, setup_tg1_data
from support.venv import Venv, run

PY27 = LAB / 'py27'
MOD_WSGI_27 = PY27 / 'mod_wsgi-py27.so'
TGDEPLOY = LAB / 'py3' / 'bin' / 'tgdeploy'  # this checkout, on a project of Python 2.7


@pytest.fixture(scope='module')
def idsite(www_root):
    venv = Venv(PY27 / 'tg15')
    if not (os.path.exists(venv.python) and MOD_WSGI_27.exists()):
        pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % PY27)
    parent = www_root / 'check-tg15-identity'
    parent.mkdir(mode=0o755)
    run([venv.bin('tg-admin'), 'quickstart', '-s', '-i', '-p', 'idsite', 'idsite'],
        cwd=parent, input='', env=PY27_ENV)
    project = parent / 'idsite'
    # Quickstart from pip-installed TG writes an invalid `; extra == "sqlalchemy"` marker.
    for name in ('setup.py', 'idsite/model.py'):
        path = project / name
        path.write_text(path.read_text().replace('; extra == "sqlalchemy"', ''))
    run([venv.python, 'setup.py', '-q', 'egg_info'], cwd=project, env=PY27_ENV)
    # The whole application behind the login, as quickstart's own comment offers.
    controllers = project / 'idsite' / 'controllers.py'
    text = controllers.read_text()
    assert "    # @identity.require(identity.in_group('admin'))\n" in text
    controllers.write_text(text.replace("    # @identity.require(identity.in_group('admin'))\n",
                                        "    @identity.require(identity.in_group('admin'))\n"))
    yield venv, project
    shutil.rmtree(str(parent), ignore_errors=True)


def tgdeploy(venv, project, tree, *args):
    return run([TGDEPLOY, '--python-home', venv.prefix, '--apache-root', tree,
                '--overwrite', '--startup-script', 'no'] + list(args),
               cwd=project, check=False)


@pytest.mark.parametrize('mount', ['/', '/idsite'])
def test_the_login_form_at_403_is_no_error(idsite, www_tmp, mount):
    venv, project = idsite
    tree = make_apache_tree(www_tmp / 'etc-apache2', MOD_WSGI_27)
    deployed = tgdeploy(venv, project, tree, '--mount', mount)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    if not (project / 'data' / 'idsite.sqlite').exists():  # README step 2, as written
        setup_tg1_data(venv, project, project / 'apache' / 'idsite.cfg', PY27_ENV)
    proc = tgdeploy(venv, project, tree, '--mount', mount, '--check')
    out = proc.stdout
    start = mount if mount == '/' else mount + '/'
    assert re.search(r'check: GET %s -> 403 in [\d.]+ s: a login form \(the framework answers '
                     r'it with 403 by design\)' % re.escape(start), out), out
    errors = [line for line in out.splitlines() if line.startswith('error: ')]
    if mount == '/':
        assert errors == [] and proc.returncode in (0, 1), out + proc.stderr
    else:
        # The truth at a sub-URL: quickstart's master template has a mock menu whose
        # "Welcome" entry is a bare '/' (not tg.url('/')), which leaves the mount.
        assert errors == [
            'error: /idsite/ links to /, outside the mount /idsite: it is not this '
            'application\'s at that URL (a browser gets another site\'s answer or a 404); the '
            'application or its framework writes it without the mount'], out
        assert proc.returncode == 3
    # The login page's own assets were fetched, under the mount.
    assert re.search(r'check: GET %sstatic/css/login.css -> 200' % re.escape(start), out), out


def test_a_start_up_that_fails_shows_its_own_traceback(idsite, www_tmp):
    """A copy whose model fails at import: the traceback --check shows is that one."""
    venv, project = idsite
    broken = www_tmp / 'idsite'
    shutil.copytree(str(project), str(broken), ignore=shutil.ignore_patterns('apache', 'data'))
    with (broken / 'idsite' / 'model.py').open('a') as f:
        f.write('\nraise RuntimeError("tgdeploy test: the model cannot load")\n')
    tree = make_apache_tree(www_tmp / 'etc-apache2', MOD_WSGI_27)
    proc = tgdeploy(venv, broken, tree, '--mount', '/idsite', '--check')
    out = proc.stdout
    assert proc.returncode == 3, out + proc.stderr
    assert re.search(r'error: GET /idsite/ answered 500', out), out
    shown = [line for line in out.splitlines() if line.startswith('  | ')]
    causes = [i for i, line in enumerate(shown) if 'the model cannot load' in line]
    assert causes and 'RuntimeError: tgdeploy test: the model cannot load' in shown[causes[-1]], \
        out
    assert shown.index('  | Traceback (most recent call last):') < causes[-1], out
