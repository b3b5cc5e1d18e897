"""--reload's release check runs the deployment's Python, not tgdeploy's: a real TurboGears
1.5 quickstart deployed by the Python 3 tgdeploy with the 2.7 lab's virtualenv as python-home
is checked by that Python 2.7 (its TurboGears start-up and one request, in-process), and a
syntax error in controllers.py is refused, naming the file and line."""
import subprocess
from pathlib import Path

import pytest

from conftest import LAB
from support.sites import PY27_ENV, quickstart_tg1
from support.venv import Venv

TG15 = LAB / 'py27' / 'tg15'


def test_a_tg1_release_is_checked_by_python_2_7(deploy_venv, www_tmp):
    if not (TG15 / 'bin' / 'python').exists():
        pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % TG15)
    project = Path(quickstart_tg1(Venv(TG15), www_tmp, '1.5', PY27_ENV))
    subprocess.run(['chmod', '-R', 'a+rX', str(project)], check=True)
    # paster dies inside a TurboGears 1 quickstart (README: Known limits): the script.
    subprocess.run([deploy_venv.bin('tgdeploy'), '-q', '--mount', '/t1', '--python-home',
                    str(TG15)], cwd=str(project), check=True, timeout=120)

    def check():
        return subprocess.run([deploy_venv.bin('tgdeploy'), '--reload', '--simulate'],
                              cwd=str(project), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    done = check()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('reload: the new code loads and GET /t1/ answers 200 OK')
    controllers = project / 'mysite' / 'controllers.py'
    text = controllers.read_text()
    line = text[:text.index('    def index(self')].count('\n') + 1
    controllers.write_text(text.replace('    def index(self', '    def index(self,,', 1))
    done = check()
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert '  File "%s", line %d' % (controllers, line) in lines, done.stderr
    assert lines[-2:-1] == ['SyntaxError: invalid syntax']  # as Python 2.7 words it
    assert lines[-1].startswith('tgdeploy: error: release refused, nothing signalled')
