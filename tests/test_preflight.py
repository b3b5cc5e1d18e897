"""The doctor's reading of a virtualenv: which Python it was made from, for each way
pyvenv.cfg is written (venv, virtualenv 20 on Python 3, virtualenv 20 on Python 2.7); and of
a mod_wsgi module: its own version."""
import pytest

from support.httpd import DEBIAN_WSGI
from support.projects import write
from support.venv import run
from tgdeploy.options import venv_python_version
from tgdeploy.preflight import module_version, venv_base_prefix

STYLES = {
    'venv': ('home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n',
             '/usr', '3.11.2'),
    'virtualenv, Python 3': ('home = /opt/py/bin\nimplementation = CPython\n'
                             'version_info = 3.11.7.final.0\nvirtualenv = 20.15.1\n'
                             'base-prefix = /opt/py\nbase-exec-prefix = /opt/py\n',
                             '/opt/py', '3.11.7'),
    'virtualenv, Python 2.7': ('home = /usr\nimplementation = CPython\n'
                               'version_info = 2.7.18.final.0\nvirtualenv = 20.15.1\n',
                               '/usr', '2.7.18'),
}


@pytest.mark.parametrize('style', sorted(STYLES))
def test_the_python_a_virtualenv_was_made_from(style, tmp_path):
    text, prefix, version = STYLES[style]
    write(tmp_path / 'pyvenv.cfg', text)
    assert venv_base_prefix(str(tmp_path)) == prefix
    assert venv_python_version(str(tmp_path)) == version


def test_no_pyvenv_cfg(tmp_path):
    assert venv_base_prefix(str(tmp_path)) is None
    assert venv_python_version(str(tmp_path)) == ''


def test_the_version_of_debians_mod_wsgi_as_dpkg_knows_it():
    package = run(['dpkg-query', '-W', '-f', '${Version}', 'libapache2-mod-wsgi-py3']).stdout
    upstream = package.split(':')[-1].split('-')[0]  # 4.9.4-1+b2 -> 4.9.4
    assert module_version(DEBIAN_WSGI) == tuple(int(n) for n in upstream.split('.'))


def test_a_file_that_is_no_mod_wsgi_has_no_version():
    assert module_version('/usr/lib/apache2/modules/mod_alias.so') is None
