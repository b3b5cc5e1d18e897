"""Ready to publish: `python -m build` makes an sdist and a universal wheel (`py2.py3`) that
`twine check` accepts, the long description is the README, and both the sdist and the wheel
install into a fresh virtualenv of every Python tgdeploy claims, where `paster tgdeploy
--help` and `tgdeploy --help` work.

The sdist is built from a copy of the working tree (the build writes tgdeploy.egg-info next
to the sources; the checkout stays as it is). Fresh virtualenvs: Python 2.7 through the
lab's virtualenv 20.15.1 (scripts/provision-py27), 3.8-3.13 from the lab's copies of pyenv's
Pythons (scripts/provision-pythons). Requirements come from PyPI, not the machine's pip
configuration, as the labs get them.
"""
import email
import io
import os
import re
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import LAB, LAB_PY3, REPO
from support.sites import PY27_ENV
from support.venv import Venv, run

PYTHONS = ('2.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13')
PY27 = LAB / 'py27'
# Straight from PyPI (pip 20 on 2.7 also trips over this machine's pip configuration).
PYPI_ENV = dict(PY27_ENV, PIP_DISABLE_PIP_VERSION_CHECK='1', PIP_NO_PYTHON_VERSION_WARNING='1')
for name in ('PIP_CONSTRAINT', 'PIP_EXTRA_INDEX_URL'):
    PYPI_ENV.pop(name, None)
TEMPLATES = ('tgdeploy/paste_templates/tg_modwsgi/apache/+slug+.conf_tmpl',
             'tgdeploy/paste_templates/tg_modwsgi/apache/+slug+.wsgi_tmpl',
             'tgdeploy/paste_templates/private_apache/httpd.conf_tmpl')
NOT_SOURCES = shutil.ignore_patterns('.git', 'build', 'dist', '*.egg-info', '__pycache__',
                                     '*.pyc', '.pytest_cache', '.hypothesis')


@pytest.fixture(scope='module')
def dists(tmp_path_factory):
    """(sdist, wheel) from `python -m build` on a copy of this checkout."""
    tmp = tmp_path_factory.mktemp('publish')
    source = tmp / 'tgdeploy'
    shutil.copytree(str(REPO), str(source), ignore=NOT_SOURCES)
    run([LAB_PY3.python, '-m', 'build', '--outdir', tmp / 'dist', source])
    sdists = list((tmp / 'dist').glob('tgdeploy-*.tar.gz'))
    wheels = list((tmp / 'dist').glob('tgdeploy-*.whl'))
    assert len(sdists) == 1 and len(wheels) == 1, os.listdir(str(tmp / 'dist'))
    return sdists[0], wheels[0]


def test_the_wheel_is_universal(dists):
    """A 2.7 user's pip takes only a wheel tagged for Python 2 (py3-none-any before)."""
    wheel = dists[1]
    assert wheel.name.endswith('-py2.py3-none-any.whl'), wheel.name
    with zipfile.ZipFile(str(wheel)) as whl:
        info = [n for n in whl.namelist() if n.endswith('.dist-info/WHEEL')][0]
        tags = re.findall(r'^Tag: (\S+)$', whl.read(info).decode('utf-8'), re.M)
    assert sorted(tags) == ['py2-none-any', 'py3-none-any'], tags


def test_twine_accepts_both(dists):
    twine = LAB_PY3.bin('twine')
    if not os.path.exists(twine):
        pytest.fail('twine is not in the Python 3 lab (%s): run scripts/provision '
                    '(tests/requirements.txt names it)' % twine)
    proc = run([twine, 'check', '--strict'] + list(dists))
    assert proc.stdout.count('PASSED') == 2, proc.stdout


def sdist_file(sdist, name):
    with tarfile.open(str(sdist)) as tar:
        top = tar.getnames()[0].split('/')[0]
        return tar.extractfile('%s/%s' % (top, name)).read().decode('utf-8')


def wheel_metadata(wheel):
    with zipfile.ZipFile(str(wheel)) as whl:
        return whl.read([n for n in whl.namelist() if n.endswith('.dist-info/METADATA')][0]) \
            .decode('utf-8')


def test_long_description_is_the_readme(dists):
    readme = io.open(str(REPO / 'README.md'), encoding='utf-8').read()
    sdist, wheel = dists
    for text in (sdist_file(sdist, 'PKG-INFO'), wheel_metadata(wheel)):
        metadata = email.message_from_string(text)
        assert metadata['Description-Content-Type'] == 'text/markdown'
        assert metadata.get_payload().strip() == readme.strip()


def test_metadata_claims_what_is_proven(dists):
    """The Pythons tests/test_pythons.py runs, no more, no fewer."""
    metadata = email.message_from_string(wheel_metadata(dists[1]))
    claimed = set(re.findall(r'^Programming Language :: Python :: (\d+\.\d+)$',
                             '\n'.join(metadata.get_all('Classifier')), re.M))
    assert claimed == set(PYTHONS)
    requires = metadata['Requires-Python'].replace(' ', '').split(',')
    assert '>=2.7' in requires and '<3.14' in requires, requires
    for minor in range(0, 8):
        assert '!=3.%d.*' % minor in requires, requires


def test_sdist_ships_sources_and_templates(dists):
    sdist, wheel = dists
    with tarfile.open(str(sdist)) as tar:
        names = set(n.split('/', 1)[1] for n in tar.getnames() if '/' in n)
    for name in ('README.md', 'setup.cfg', 'setup.py', 'pyproject.toml', 'PKG-INFO',
                 'tgdeploy/__init__.py', 'tgdeploy/cli/command.py'):
        assert name in names, sorted(names)
    # The templates live in paste_templates/ in the source, mapped into the package.
    assert 'paste_templates/tg_modwsgi/apache/+slug+.conf_tmpl' in names, sorted(names)
    assert not [n for n in names if n.endswith('.pyc') or '__pycache__' in n]
    wheel_names = zipfile.ZipFile(str(wheel)).namelist()
    for name in TEMPLATES:
        assert name in wheel_names


def fresh_venv(xy, path):
    """A fresh virtualenv of Python ``xy`` the way each lab makes its own."""
    if xy == '2.7':
        tool = PY27 / 'tool' / 'bin' / 'virtualenv'
        if not tool.exists():
            pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % tool)
        run([tool, '-q', '-p', '/usr/bin/python2.7', '--app-data', PY27 / 'app-data',
             '--pip', '20.3.4', '--setuptools', '44.1.1', '--wheel', '0.37.1', path],
            env=PYPI_ENV)
    else:
        python = LAB / 'pythons' / xy / 'python' / 'bin' / ('python' + xy)
        if not python.exists():
            pytest.fail('the Python %s lab is missing (%s): run scripts/provision-pythons'
                        % (xy, python))
        run([python, '-m', 'venv', path])
    return Venv(path)


@pytest.mark.slow
@pytest.mark.parametrize('kind', ('sdist', 'wheel'))
@pytest.mark.parametrize('xy', PYTHONS, ids=['py' + xy for xy in PYTHONS])
def test_installs_and_runs(xy, kind, dists, tmp_path):
    dist = dists[0] if kind == 'sdist' else dists[1]
    venv = fresh_venv(xy, tmp_path / 'venv')
    run([venv.bin('pip'), 'install', '-q', dist], cwd=tmp_path, env=PYPI_ENV)
    if kind == 'wheel':  # pip took the wheel as it is, built nothing
        record = run([venv.python, '-m', 'pip', 'show', '-f', 'tgdeploy'], cwd=tmp_path,
                     env=PYPI_ENV).stdout
        assert 'tgdeploy/paste_templates/tg_modwsgi/apache/+slug+.conf_tmpl' in record, record
    where = run([venv.python, '-c', 'import sys, tgdeploy; print("%d.%d" % sys.version_info[:2]);'
                 ' print(tgdeploy.__file__)'], cwd=tmp_path).stdout.split()
    assert where[0] == xy
    package = Path(where[1]).parent
    assert package.parent.name == 'site-packages', package  # installed, not this checkout
    for name in TEMPLATES:
        assert (package.parent / name).is_file(), name
    paster = run([venv.bin('paster'), 'tgdeploy', '--help'], cwd=tmp_path, env=PYPI_ENV)
    assert 'Usage: paster tgdeploy [options] [PROJECT_DIR]' in paster.stdout
    assert '--mount=MOUNT' in paster.stdout
    assert 'tg_modwsgi' in run([venv.bin('paster'), 'create', '--list-templates'],
                               cwd=tmp_path, env=PYPI_ENV).stdout
    script = run([venv.bin('tgdeploy'), '--help'], cwd=tmp_path, env=PYPI_ENV)
    assert '--mount=MOUNT' in script.stdout
