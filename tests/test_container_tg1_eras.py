"""--container on the TurboGears 1.0.10 and 1.1.3 quickstarts of the py27 lab (CherryPy
2.3, kid, TurboGears 1.0's older tg-admin and SQLAlchemy 0.5), built by real podman on
the Debian 11 base as test_container_tg1.py builds 1.5: one image per line, 1.0 at
/mysite and 1.1 at /, each run on 127.0.0.1 after README step 2 (`tg-admin sql create`)
as the image's one-shot `setup`: the root page and its static links, Apache's static
alias, a JSON page and a validated one, Python 2.7 and CherryPy 2.3 in the daemons, no
traceback in the logs, the deployed secret in no layer. What the 1.5 module proves of
every image (the data across a restart, a graceful stop) is not repeated here. Every
container, image and volume made is removed at the end.

The runtime stage (Debian's Apache and Python 2.7) and the build stage's apt, virtualenv
and mod_wsgi layers are the 1.5 image's, layer for layer: a build after it starts at the
lock's COPY. Stand-ins: tests/support/tg1_images.py's doc.
"""
import pytest

from support import containers, tg1_images

# line: (mount, pins the lock must hold)
ERAS = {
    '1.0': ('/mysite', ('TurboGears==1.0.10', 'CherryPy==2.3.0', 'SQLAlchemy==0.5.8',
                        'kid==0.9.6', 'TurboJson==1.1.4', 'RuleDispatch===0.5a1.dev-r2713')),
    '1.1': ('/', ('TurboGears==1.1.3', 'CherryPy==2.3.0', 'SQLAlchemy==0.7.10',
                  'kid==0.9.6', 'TurboJson==1.3.2', 'PEAK-Rules===0.5a1.dev-r2713')),
}

# A table, as any real model has (the quickstart's has none without identity): README
# step 2 has something to make.
MODEL = """

visits_table = Table('tgdeploy_visits', metadata, Column('id', Integer, primary_key=True))
"""


@pytest.fixture(scope='module')
def podman(www_root):
    runner = containers.podman_for_tests(www_root / 'podman-tg1-eras', tg1_images.BASE)
    yield runner
    runner.cleanup()


@pytest.fixture(scope='module', params=sorted(ERAS))
def built(request, podman, www_root, wheel):
    """(line, mount, project, image, data volume) of one TurboGears 1 line."""
    line = request.param
    mount = ERAS[line][0]
    tag = 'tg' + line.replace('.', '')
    folder = tg1_images.wheels(www_root / ('wheels-%s' % tag), wheel, line)
    project = tg1_images.quickstart(www_root / ('container-%s' % tag), line, model=MODEL)
    tg1_images.container(project, line, mount)
    image, volume = tg1_images.build(podman, project, tag, folder)
    return line, mount, project, image, volume


def test_the_lock_holds_the_lines_own_pins(built):
    line, _, project, _, _ = built
    lock = (project / 'apache' / 'container' / 'requirements-py27.txt').read_text()
    for pin in ERAS[line][1]:
        assert '\n%s\n' % pin in lock, lock
    entry = (project / 'apache' / 'container' / 'entrypoint.sh').read_text()
    assert 'exec /srv/venv/bin/tg-admin -c /srv/config/mysite.cfg sql create' in entry


def test_the_image_serves_the_lines_pages(podman, built):
    line, mount, project, image, volume = built
    name, base = tg1_images.start(podman, project, image, volume,
                                  'tg%s-serve' % line.replace('.', ''))
    seconds = tg1_images.assert_pages(podman, name, base, project, mount)
    print('TurboGears %s: cold start to the first answer: %.1f s' % (line, seconds))
    # README step 2 (`setup`) made the database in the data volume.
    found = podman.run('exec', name, '/srv/venv/bin/python', '-c',
                       'import sqlite3, sys, cherrypy; print(sys.version[:3]); '
                       'print(cherrypy.__version__); print(sqlite3.connect('
                       '"/srv/app/data/mysite.sqlite").execute("select name from '
                       'sqlite_master").fetchall())')
    assert found.stdout.decode().split('\n') == [
        '2.7', '2.3.0', "[(u'tgdeploy_visits',)]", ''], found
    logs = podman.run('logs', name)
    assert b'Traceback' not in logs.stdout + logs.stderr, logs.stderr.decode()[-3000:]
    podman.run('rm', '-f', '-t', '5', name, check=False)


def test_no_deployed_secret_is_in_any_layer(podman, built):
    _, _, project, image, _ = built
    tg1_images.assert_no_secret_in_layers(podman, project, image)
