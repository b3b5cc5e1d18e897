"""`--reload`'s release check (issue 25, item 3) against a real Apache on 127.0.0.1: a broken
release (a syntax error in a controller, an import of a missing module, a start-up that
raises) is refused while the old code keeps answering 200 and no daemon is signalled; a
good one is accepted and served; `--reload --simulate` is the check alone (exit 0 or 3);
`--no-import-check` skips it. One Apache serves a copy of the CherryPy fixture and a copy of
the session's TurboGears 2 quickstart for the whole module."""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import paster
from support.httpd import Apache
from support.projects import make_cherrypy
from support.reloading import Load, daemon_pids

RUN_LIMIT = 120


@pytest.fixture(scope='module')
def site(www_root, deploy_venv, tg2_project):
    root = Path(tempfile.mkdtemp(dir=str(www_root)))
    root.chmod(0o755)
    cherry = make_cherrypy(root / 'cherryapp')
    # The session's quickstart, copied: its .wsgi puts the copy first on sys.path, so the
    # installed entry point (egg:tg2app) imports the copy's package.
    tg2 = Path(shutil.copytree(str(tg2_project), str(root / 'tg2app'), ignore=shutil.
                               ignore_patterns('apache', 'data', '__pycache__', '*.db')))
    subprocess.run(['chmod', '-R', 'a+rX', str(tg2)], check=True)
    paster(deploy_venv, 'tgdeploy', '-q', '--mount', '/rc', cwd=cherry)
    paster(deploy_venv, 'tgdeploy', '-q', '--mount', '/rt', cwd=tg2)
    (root / 'httpd').mkdir()
    (root / 'httpd').chmod(0o755)
    apache = Apache(str(root / 'httpd'), [str(cherry / 'apache' / 'cherryapp.conf'),
                                          str(tg2 / 'apache' / 'tg2app.conf')])
    try:
        assert apache.start('/rc/about')[0] == 200
        assert apache.wait_for_answer('/rt/login')[0] == 200
        # TurboGears 2 imports the controllers at each process's first request: every
        # process must have loaded the old code before a broken file is put in its place.
        for path in POLLED.values():
            load = Load(apache.port, path, clients=4).start()
            time.sleep(1)
            assert len(load.stop()) > 8 and load.failures() == []
        yield SimpleNamespace(apache=apache, cherry=cherry, tg2=tg2, venv=deploy_venv)
    finally:
        apache.stop()


def tgdeploy(site, project, *args):
    started = time.time()
    done = subprocess.run([site.venv.bin('tgdeploy')] + list(args), cwd=str(project),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=RUN_LIMIT)
    print('tgdeploy %s: exit %d in %.2f s\n%s%s' % (' '.join(args), done.returncode,
                                                  time.time() - started, done.stdout,
                                                  done.stderr))
    return done


class Broken(object):
    """One file of a project changed for a broken release; undo() puts it back."""

    def __init__(self, path, change):
        self.path = Path(path)
        self.text = self.path.read_text()
        self.broken = change(self.text)
        assert self.broken != self.text
        self.path.write_text(self.broken)

    def line_of(self, needle):
        lines = self.broken.splitlines()
        return [i for i, line in enumerate(lines, 1) if needle in line][0]

    def undo(self):
        self.path.write_text(self.text)


def syntax_error(text):
    return text.replace('    def index(self', '    def index(self,,', 1)


def missing_import(text):
    return text.replace('import cherrypy\n', 'import cherrypy\nimport no_such_module_h3\n', 1)


def start_up_raises(text):
    return text + '\nraise RuntimeError("the start-up fails")\n'


# (project, file, change, the line the traceback must name by its text)
BREAKAGES = {
    'cherrypy-syntax-error': ('cherry', 'cherryapp/app.py', syntax_error, 'def index(self,,'),
    'cherrypy-missing-module': ('cherry', 'cherryapp/app.py', missing_import,
                                'import no_such_module_h3'),
    'tg2-controller-syntax-error': ('tg2', 'tg2app/controllers/root.py', syntax_error,
                                    'def index(self,,'),
    'tg2-start-up-raises': ('tg2', 'tg2app/config/app_cfg.py', start_up_raises,
                            'raise RuntimeError("the start-up fails")'),
}
POLLED = {'cherry': '/rc/about', 'tg2': '/rt/login'}  # /rt/demo needs the database


@pytest.mark.parametrize('name', sorted(BREAKAGES))
def test_a_broken_release_is_refused_while_the_old_code_answers(site, name):
    which, relative, change, needle = BREAKAGES[name]
    project = getattr(site, which)
    before = sorted(daemon_pids(site.apache.pid()))
    evictions = site.apache.error_log().count('Process eviction requested')
    load = Load(site.apache.port, POLLED[which], clients=1).start()
    broken = Broken(project / relative, change)
    try:
        time.sleep(0.3)
        done = tgdeploy(site, project, '--reload')
        # --simulate: the same check alone (once: each run costs a start-up)
        dry = tgdeploy(site, project, '--reload', '--simulate') if which == 'tg2' else done
        time.sleep(0.3)
    finally:
        broken.undo()
        results = load.stop()
    assert done.returncode == 3 and dry.returncode == 3
    # The traceback names the broken file and line; the last line says what to do.
    assert 'File "%s", line %d' % (broken.path, broken.line_of(needle)) in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith('tgdeploy: error: release refused, nothing signalled'), last
    assert 'Fix it, then --reload again' in last
    assert dry.stderr == done.stderr  # the same check, alone
    assert 'sent SIGUSR1' not in done.stdout
    # Nothing signalled: the same daemons, no eviction; the old code answered 200 all along.
    assert sorted(daemon_pids(site.apache.pid())) == before
    assert site.apache.error_log().count('Process eviction requested') == evictions
    assert len(results) >= 5 and set(status for _, status in results) == {200}, results[-5:]
    assert site.apache.get(POLLED[which])[0] == 200


def test_a_good_release_is_accepted_and_served(site):
    before = sorted(daemon_pids(site.apache.pid()))
    app = site.cherry / 'cherryapp' / 'app.py'
    text = app.read_text()
    assert site.apache.get('/rc/')[2].count('Hello from CherryPy') == 1
    app.write_text(text.replace('Hello from CherryPy', 'Hello from release two'))
    try:
        dry = tgdeploy(site, site.cherry, '--reload', '--simulate')
        assert dry.returncode == 0 and dry.stderr == ''
        assert 'reload: the new code loads and GET /rc/ answers 200 OK (checked as www-data' \
            in dry.stdout
        assert sorted(daemon_pids(site.apache.pid())) == before  # --simulate signals nothing
        done = tgdeploy(site, site.cherry, '--reload')
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].startswith('reload: the new code loads'), lines
        assert lines[1].startswith('reload: sent SIGUSR1 to 2 processes'), lines
        after = sorted(daemon_pids(site.apache.pid()))
        assert len(set(after) - set(before)) == 2  # the CherryPy group's two, replaced
        assert 'Hello from release two' in site.apache.get('/rc/')[2]
    finally:
        app.write_text(text)
    done = tgdeploy(site, site.cherry, '--reload', '--no-import-check')
    assert done.returncode == 0, done.stderr
    assert 'the new code loads' not in done.stdout and 'sent SIGUSR1' in done.stdout
    assert 'Hello from CherryPy' in site.apache.get('/rc/')[2]


def test_tg2_good_release_checked_alone(site):
    done = tgdeploy(site, site.tg2, '--reload', '--simulate')
    assert done.returncode == 0, done.stderr
    # The quickstart's landing page sends visitors to its demo: a redirect is no failure.
    assert 'GET /rt/ answers 302' in done.stdout


def test_no_import_check_without_reload_is_bad_input(deploy_venv, www_tmp):
    for command in (['tgdeploy'], ['gearbox', 'tgdeploy']):
        done = subprocess.run([deploy_venv.bin(command[0])] + command[1:] +
                              ['--no-import-check'], cwd=str(www_tmp), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=RUN_LIMIT)
        assert done.returncode == 2, command
        assert done.stderr.strip() == ('tgdeploy: error: --no-import-check applies to --reload '
                                       'only: add --reload, or drop it'), done.stderr
        assert not os.path.exists(str(www_tmp / 'apache'))
