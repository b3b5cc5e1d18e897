"""A job started at import, served by a real Apache with Debian's mod_wsgi 4.9.4 and three
daemon processes: without --service every process runs it (the problem is real, and the
doctor says so); with --service one process of its own runs it, once per tick, and the
application still answers.

The application is the CherryPy fixture under another package name, whose start script
imports a module that starts a thread writing "second pid" to data/ticks.log once a second,
unless TGDEPLOY_SERVICES names it (README: Running it: jobs that run once).
"""
import collections
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from support.projects import make_cherrypy, write
from tgdeploy.cli.deploy import deploy, settle as cli_settle
from tgdeploy.doctor import job_checks
from tgdeploy.settle import services
from tgdeploy.write import install, render

TICKS = '''"""Once a second, "second pid" into data/ticks.log: a job started at import."""
import os
import threading
import time

LOG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'data',
                   'ticks.log')


def loop():
    while True:
        time.sleep(1.3 - time.time() % 1)  # 0.3 s into each second: no doubt which one
        with open(LOG, 'a') as log:
            log.write('%d %d\\n' % (int(time.time()), os.getpid()))


def start():
    thread = threading.Thread(target=loop, name='ticks')
    thread.daemon = True
    thread.start()


if 'ticks' not in os.environ.get('TGDEPLOY_SERVICES', '').split():
    start()
'''
SERVED = 4.5  # seconds the job is left to tick


@pytest.fixture(scope='module')
def jobapp(www_root):
    parent = Path(tempfile.mkdtemp(dir=str(www_root)))
    project = make_cherrypy(parent / 'jobapp', package='jobapp')
    app = project / 'jobapp' / 'app.py'
    app.write_text(app.read_text().replace('from cherryapp import boot', 'from jobapp import boot')
                   .replace('import cherrypy\n', 'import cherrypy\n\nimport jobapp.ticks  # '
                            'noqa: F401 (starts the job)\n', 1))
    write(project / 'jobapp' / 'ticks.py', TICKS)
    subprocess.run(['chmod', '-R', 'a+rX', str(parent)], check=True)
    data = project / 'data'
    subprocess.run(['install', '-d', '-o', 'www-data', '-g', 'www-data', str(data),
                    str(data / 'egg-cache')], check=True)
    yield project
    shutil.rmtree(str(parent), ignore_errors=True)


def deployed(project, venv, service=None):
    """Three processes of two threads, written as the command line would (services.settle
    is called here when settle does not call it itself yet: the wiring in options.py)."""
    given = {'python_home': venv.prefix, 'processes': '3', 'threads': '2'}
    if service:
        given['service'] = service
    values = cli_settle(str(project), given)
    if service and not values.daemon.services:
        services.settle({'service': service}, values)
        install.write(values, True, render.render)
    else:
        deploy(str(project), given, overwrite=True)
    return values


def ticks(project, apache):
    """{second: [pid, ...]} of the job's lines while Apache serves for SERVED seconds."""
    log = project / 'data' / 'ticks.log'
    if log.exists():
        log.unlink()
    assert apache.start('/about')[0] == 200
    time.sleep(SERVED)
    assert apache.get('/about')[0] == 200
    seen = collections.defaultdict(list)
    for line in log.read_text().splitlines() if log.exists() else []:
        second, pid = line.split()
        seen[int(second)].append(int(pid))
    return seen


def inner(seen):
    """The seconds between the first and the last (a process may start mid-second)."""
    return [seen[s] for s in sorted(seen)[1:-1]]


def test_without_a_service_every_process_runs_the_job(jobapp, deploy_venv, apache_factory):
    values = deployed(jobapp, deploy_venv)
    found = job_checks.findings(values)
    assert [f.id for f in found] == ['TGD-W040'] and 'jobapp/ticks.py:' in found[0].text and \
        'each of the 3 daemon processes' in found[0].text, found
    seen = ticks(jobapp, apache_factory([values.paths.conf_file]))
    middle = inner(seen)
    assert len(middle) >= 2, seen
    # Each tick written by two processes or more (all three once they are up).
    assert all(len(set(pids)) >= 2 for pids in middle), seen
    assert len(set(p for pids in seen.values() for p in pids)) == 3, seen


def test_with_a_service_one_process_runs_it_once_per_tick(jobapp, deploy_venv,
                                                          apache_factory):
    values = deployed(jobapp, deploy_venv, ['ticks=jobapp.ticks'])
    assert job_checks.findings(values) == []  # guarded, and --service given
    apache = apache_factory([values.paths.conf_file])
    seen = ticks(jobapp, apache)
    pids = set(p for pids in seen.values() for p in pids)
    assert len(pids) == 1, seen
    assert len(inner(seen)) >= 2 and all(len(p) == 1 for p in seen.values()), seen
    # Once per tick: no second missing between the first and the last.
    assert sorted(seen) == list(range(min(seen), max(seen) + 1)), seen
    # The process writing is the service's own, not one of the application's.
    app_pids = set(json.loads(apache.get('/status')[2])['pid'] for _ in range(12))
    assert pids.isdisjoint(app_pids), (pids, app_pids)
    # Its name (display-name=%{GROUP}, cut to the length of Apache's own command line):
    # unlike the application's, which tgdeploy --reload looks for.
    title = subprocess.run(['ps', '-o', 'args=', '-p', str(pids.pop())],
                           stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert title.startswith('(wsgi:service-ti'), title
    # And it stops with Apache, as the application's processes do.
    assert apache.stop() < 10
