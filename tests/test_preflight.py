"""The doctor's reading of a virtualenv: which Python it was made from, for each way
pyvenv.cfg is written (venv, virtualenv 20 on Python 3, virtualenv 20 on Python 2.7)."""
import pytest

from support.projects import write
from tgdeploy.options import venv_python_version
from tgdeploy.preflight import venv_base_prefix

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
