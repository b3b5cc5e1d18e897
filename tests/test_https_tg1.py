"""One TurboGears 1.x line over HTTPS (1.1, CherryPy 2.3, Python 2.7 with mod_wsgi 4.9.4 from
the lab): its redirects say https with the mount, its .cfg marks the visit and session
cookies Secure, plain HTTP redirects. The lab's virtualenv carries a copy of tgdeploy:
scripts/provision-py27 installs this checkout there."""
import os
from pathlib import Path

import pytest

from support.httpd import free_port
from support.sites import PY27_ENV, quickstart_tg1, setup_tg1_data
from support.venv import run
from test_e2e_tg1 import MOD_WSGI_27, PY27
from test_https import HOST, curl, https_args, pki  # noqa: F401 (pki: a fixture)
from support.venv import Venv


@pytest.fixture(scope='module')
def tg11_site(www_root):
    venv = Venv(PY27 / 'tg11')
    if not (os.path.exists(venv.python) and MOD_WSGI_27.exists()):
        pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % PY27)
    uninstall = [venv.bin('pip'), 'uninstall', '-q', '-y', 'mysite']
    run(uninstall, env=PY27_ENV, check=False)
    parent = www_root / 'tls-tg11'
    parent.mkdir(mode=0o755)
    project = Path(quickstart_tg1(venv, parent, '1.1', PY27_ENV))
    run([venv.bin('pip'), 'install', '-q', '-e', project], env=PY27_ENV)
    yield venv, project
    run(uninstall, env=PY27_ENV, check=False)


def test_turbogears11_over_https(tg11_site, apache_factory, pki):  # noqa: F811
    venv, project = tg11_site
    ca = pki[0]
    apache = apache_factory([project / 'apache' / 'mysite.conf'], wsgi_module=str(MOD_WSGI_27),
                            https_port=free_port())
    run([venv.bin('paster'), 'tgdeploy', '-q', '--overwrite', '--mount', '/mysite']
        + https_args(pki, apache, '--https-only'), cwd=project, env=PY27_ENV)
    cfg = (project / 'apache' / 'mysite.cfg').read_text()
    assert 'visit.cookie.secure = True' in cfg and 'session_filter.cookie_secure = True' in cfg
    setup_tg1_data(venv, project, project / 'apache' / 'mysite.cfg', PY27_ENV)
    apache.start(None)
    base = 'https://%s:%d/mysite' % (HOST, apache.https_port)
    status, _, body = curl(base + '/data', ca=ca)
    assert status == 200 and '"about": "/mysite/about"' in body, body
    status, headers, _ = curl(base + '/go', ca=ca)  # turbogears.redirect()
    assert status in (302, 303) and headers['location'] == base + '/about', headers
    status, headers, _ = curl('http://%s:%d/mysite/about?x=1' % (HOST, apache.http_port))
    assert status == 301 and headers['location'] == base + '/about?x=1'
    apache.stop()
    assert 'Traceback' not in apache.error_log()
