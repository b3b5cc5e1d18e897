"""Symlinks added to a static folder after the deployment (issue 21, item 12): Apache refuses
to follow them (Options None), and a request it refuses must not fall through to the
application's own static handler, which would follow them. Two links are planted as the
owner of the project could plant them, one at the secrets ini and one at the folder that
holds it, in TurboGears 2's public/ (the generated mod_rewrite rule, TG2's static middleware
behind it) and in a CherryPy tools.staticdir folder (Apache's alias for it, CherryPy's
staticdir behind it). Neither is served by anyone: the choice is "never", whatever the link
points at, as Apache itself decides for the files it serves."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import FIXTURES, paster

SECRET = 'session.secret'


def plant(folder, target_file):
    """A symlink to the file and one to the folder holding it, in ``folder``."""
    links = [folder / 'planted.txt', folder / 'planted-dir']
    links[0].symlink_to(target_file)
    links[1].symlink_to(target_file.parent)
    return links, ['planted.txt', 'planted-dir/' + target_file.name]


def unplant(links):
    for link in links:
        if os.path.lexists(str(link)):
            link.unlink()


def assert_never_served(apache, prefix, names, secret_text):
    for name in names:
        status, _, body = apache.get(prefix + '/' + name)
        assert secret_text not in body and status in (403, 404), (name, status, body[:200])


@pytest.mark.parametrize('mount', ['/', '/sub'])
def test_tg2_public_symlinks_are_served_by_no_one(tg2_project, tg2_data, deploy_venv,
                                                   apache_factory, mount):
    apache = apache_factory([tg2_project / 'apache' / 'tg2app.conf'])
    paster(deploy_venv, 'tgdeploy', '-q', '--overwrite', '--mount', mount, cwd=tg2_project)
    ini = tg2_project / 'apache' / 'tg2app.ini'
    secret = [line for line in ini.read_text().splitlines() if line.startswith(SECRET)][0]
    links, names = plant(tg2_project / 'tg2app' / 'public', ini)
    try:
        prefix = '' if mount == '/' else mount
        assert apache.start(prefix + '/css/style.css')[0] == 200
        assert_never_served(apache, prefix, names, secret)
        # The application still serves what is not a file there.
        assert apache.get(prefix + '/demo')[0] == 200
    finally:
        unplant(links)
        apache.stop()


@pytest.fixture(scope='module')
def staticdir_project(www_root, deploy_venv):
    """tests/fixtures/echoapp as the package 'echostatic', whose CherryPy config serves its
    static/ folder with tools.staticdir (absolute root, as CherryPy needs)."""
    parent = Path(tempfile.mkdtemp(dir=str(www_root)))
    parent.chmod(0o755)
    project = parent / 'echostatic'
    shutil.copytree(str(FIXTURES / 'echoapp'), str(project))
    (project / 'echoapp').rename(project / 'echostatic')
    setup = project / 'setup.py'
    setup.write_text(setup.read_text().replace('echoapp', 'echostatic'))
    (project / 'app.conf').write_text(
        '[global]\nlog.screen = False\n\n[/static]\ntools.staticdir.on = True\n'
        'tools.staticdir.root = "%s"\ntools.staticdir.dir = "static"\n'
        % (project / 'echostatic'))
    deploy_venv.pip_install('-e', str(project))
    return project


def test_cherrypy_staticdir_symlinks_are_served_by_no_one(staticdir_project, deploy_venv,
                                                          apache_factory):
    project = staticdir_project
    apache = apache_factory([project / 'apache' / 'echostatic.conf'])
    paster(deploy_venv, 'tgdeploy', '-q', '--overwrite', '--mount', '/cp', cwd=project)
    secret = 'a secret of the project owner\'s choosing'
    target = project / 'apache' / 'kept.ini'
    target.write_text(secret + '\n')
    links, names = plant(project / 'echostatic' / 'static', target)
    try:
        assert apache.start('/cp/static/style.css')[0] == 200
        assert_never_served(apache, '/cp/static', names, secret)
        assert apache.get('/cp/echo')[0] == 200
    finally:
        unplant(links)
        apache.stop()
