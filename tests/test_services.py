"""--service and the doctor's TGD-W040, without a running Apache: the values settle refuses
(one line each), what the templates write for a service (and nothing without one), Apache's
own configtest of it, and the jobs the doctor finds in a project's code and where it stays
silent. tests/test_services_e2e.py serves a job under a real Apache."""
import os
from pathlib import Path

import pytest

from support.projects import make_cherrypy, make_tg2, make_venv_marker, write
from support.sites import PY27_ENV
from support.venv import run
from tgdeploy.cli.deploy import settle as cli_settle
from tgdeploy.doctor import job_checks
from tgdeploy.errors import TgDeployError
from tgdeploy.settle import services
from tgdeploy.write import render

JOB = '''import os
import threading
import time


def loop():
    while True:
        time.sleep(1)


def start():
    thread = threading.Thread(target=loop)
    thread.daemon = True
    thread.start()

%s
'''
UNGUARDED = 'start()'
REPO = Path(__file__).resolve().parents[1]
LAB = Path(os.environ.get('TGDEPLOY_LAB', '/opt/tgdeploy-lab'))
GUARDED = "if 'ticks' not in os.environ.get('TGDEPLOY_SERVICES', '').split():\n    start()"


def settled(project, service=None, **given):
    """The settled values with --service; services.settle is called here when settle does
    not call it itself yet (the wiring in settle/options.py)."""
    given.setdefault('python_home', str(make_venv_marker(project.parent / 'venv')))
    if service is not None:
        given['service'] = service
    values = cli_settle(str(project), given)
    if not values.daemon.services:
        services.settle({'service': service}, values)
    return values


@pytest.fixture
def cherry(tmp_path):
    project = make_cherrypy(tmp_path / 'jobs', package='jobs')
    write(project / 'jobs' / 'ticks.py', JOB % UNGUARDED)
    return project


# -- settle: what --service takes ---------------------------------------------------------

@pytest.mark.parametrize('value, said', [
    ('ticks', 'is not NAME=package.module[:function]'),
    ('ticks=jobs/ticks.py', "'jobs/ticks.py' is not package.module[:function]"),
    ('ticks=jobs.ticks:', "is not package.module[:function]"),
    ('ticks=jobs.ticks:start()', "is not package.module[:function]"),
    ('ticks=jobs..ticks', "is not package.module[:function]"),
    ('=jobs.ticks', "the name '' must be letters"),
    ('tick s=jobs.ticks', "must be letters"),
    ('ticks=jobs.tikcs', 'the project has jobs but no jobs/tikcs.py in it'),
])
def test_a_bad_service_is_one_line(cherry, value, said):
    with pytest.raises(TgDeployError) as raised:
        settled(cherry, [value])
    message = str(raised.value)
    assert said in message and '\n' not in message, message


def test_a_name_given_twice_is_refused(cherry):
    with pytest.raises(TgDeployError) as raised:
        settled(cherry, ['ticks=jobs.ticks', 'Ticks=jobs.ticks:start'])
    assert '--service Ticks is given twice' in str(raised.value)


def test_a_service_needs_daemon_mode_and_its_names_are_tgdeploys(cherry):
    with pytest.raises(TgDeployError) as raised:
        settled(cherry, ['ticks=jobs.ticks'], mode='embedded')
    assert 'use it with --mode daemon' in str(raised.value)
    with pytest.raises(TgDeployError) as raised:
        settled(cherry, ['ticks=jobs.ticks'], setenv=['TGDEPLOY_SERVICES=x'])
    assert '--setenv TGDEPLOY_SERVICES: tgdeploy sets that name itself' in str(raised.value)


def test_services_settle_into_groups_of_their_own(cherry):
    values = settled(cherry, ['ticks=jobs.ticks', 'mail=jobs.ticks:start',
                              'other=installed.elsewhere:run'], setenv=['A=b'])
    name = values.daemon.name
    assert values.daemon.services == [
        ('ticks', 'jobs.ticks', None, 'service-ticks-' + name),
        ('mail', 'jobs.ticks', 'start', 'service-mail-' + name),
        ('other', 'installed.elsewhere', 'run', 'service-other-' + name)]
    assert values.apache.setenv[0] == ('A', 'b')
    assert ('TGDEPLOY_SERVICES', 'ticks mail other') in values.apache.setenv
    assert settled(cherry).daemon.services == []


# -- what is written --------------------------------------------------------------------

def test_the_service_files_are_written_only_with_a_service(cherry, tmp_path):
    plain = settled(cherry)
    slug = plain.project.slug
    render.render(plain, str(tmp_path / 'plain'))
    assert not list((tmp_path / 'plain').glob('*-services.*'))
    assert '-services.conf' not in (tmp_path / 'plain' / (slug + '.conf')).read_text()

    values = settled(cherry, ['ticks=jobs.ticks:start'], processes='3')
    out, group = tmp_path / 'with', 'service-ticks-' + values.daemon.name
    render.render(values, str(out))
    conf = (out / (slug + '.conf')).read_text()
    assert 'Include "%s/%s-services.conf"' % (values.paths.apache_dir, slug) in conf
    included = (out / (slug + '-services.conf')).read_text()
    assert 'WSGIDaemonProcess %s \\' % group in included
    assert 'processes=1 threads=1' in included
    assert 'user=%s group=%s' % (values.daemon.user, values.daemon.group) in included
    assert 'WSGIImportScript "%s/%s-services.py" process-group=%s application-group=' \
           '%%{GLOBAL}' % (values.paths.apache_dir, slug, group) in included
    script = (out / (slug + '-services.py')).read_text()
    compile(script, 'services.py', 'exec')
    assert "%r: ('ticks', 'jobs.ticks', 'start')," % group in script
    assert "os.environ['TGDEPLOY_SERVICE_PROCESS'] = NAME" in script
    assert "os.environ['TGDEPLOY_SERVICES'] = 'ticks'" in (out / (slug + '.wsgi')).read_text()
    assert "os.environ['TGDEPLOY_SERVICES']" not in script


def test_apache_takes_the_service_config(cherry, apache_factory):
    values = settled(cherry, ['ticks=jobs.ticks', 'mail=jobs.ticks:start'], processes='3')
    render.render(values, values.paths.apache_dir)
    result = apache_factory([values.paths.conf_file]).configtest()
    assert result.returncode == 0, result.stdout


# -- the doctor: TGD-W040 ----------------------------------------------------------------

def texts(values):
    found = job_checks.findings(values)
    assert all(f.id == 'TGD-W040' and f.level == 'warning' for f in found)
    return [f.text for f in found]


def test_a_thread_started_at_import_is_found_with_its_fix(cherry):
    found = texts(settled(cherry, processes='3'))
    assert found == [
        'jobs/ticks.py:12: a threading.Thread, started in start(), called at import or '
        'start-up, runs in each of the 3 daemon processes (the job runs 3 times): run it once '
        'with --service NAME=jobs.ticks:start, and have the application skip it where '
        'TGDEPLOY_SERVICES names it (README: Running it: jobs that run once)']


def test_nothing_is_said_with_one_process_or_a_guarded_service(cherry):
    assert texts(settled(cherry, processes='1')) == []
    write(cherry / 'jobs' / 'ticks.py', JOB % GUARDED)
    # Guarded, but without --service nothing sets TGDEPLOY_SERVICES: every process starts it.
    assert len(texts(settled(cherry, processes='2'))) == 1
    assert texts(settled(cherry, ['ticks=jobs.ticks'], processes='2')) == []


def test_the_start_ups_of_each_framework_are_followed(tmp_path):
    project = make_tg2(tmp_path / 'shop')
    write(project / 'shop' / 'lib' / '__init__.py')
    write(project / 'shop' / 'lib' / 'jobs.py',
          'from tgscheduler import start_scheduler\n'
          'from tgscheduler.scheduler import add_interval_task\n\n\n'
          'def tick():\n    pass\n\n\n'
          'def schedule():\n    start_scheduler()\n'
          '    add_interval_task(action=tick, interval=60)\n\n\n'
          'def never_called():\n    start_scheduler()\n')
    write(project / 'shop' / 'config' / 'app_cfg.py',
          'from tg import FullStackApplicationConfigurator\n'
          'from shop.lib.jobs import schedule\n'
          'import cherrypy\n'
          'from apscheduler.schedulers.background import BackgroundScheduler\n'
          'base_config = FullStackApplicationConfigurator()\n'
          'base_config.call_on_startup = [schedule]\n\n\n'
          'def on_start():\n    BackgroundScheduler().start()\n\n\n'
          'cherrypy.engine.subscribe("start", on_start)\n')
    write(project / 'shop' / 'tests' / 'test_jobs.py',
          'import threading\nthreading.Thread(target=print).start()\n')
    found = texts(settled(project, processes='4'))
    assert sorted(t.split(' runs in ')[0] for t in found) == [
        'shop/config/app_cfg.py:10: an APScheduler BackgroundScheduler, started in '
        'on_start(), a start-up hook (subscribe),',
        'shop/lib/jobs.py:10: a scheduler (start_scheduler), started in schedule(), a '
        'start-up hook (call_on_startup),'], found
    assert '--service NAME=shop.lib.jobs:schedule,' in ' '.join(found)


def test_a_start_script_block_counts_only_where_it_is_replayed(tmp_path):
    project = tmp_path / 'p'
    write(project / 'run.py', 'import threading\n\n'
          "if __name__ == '__main__':\n    threading.Timer(5, print).start()\n")
    write(project / 'lib.py', 'import threading\n\n'
          "if __name__ == '__main__':\n    threading.Timer(5, print).start()\n")
    assert [s[:3] for s in job_checks.starts(str(project), str(project / 'run.py'))] == [
        (str(project / 'run.py'), 4, 'a threading.Timer')]
    assert job_checks.starts(str(project)) == []


def test_the_scan_and_the_checks_run_on_python_2_7(cherry):
    """TurboGears 1.x projects are read by tgdeploy on Python 2.7: the same findings there."""
    python = LAB / 'py27' / 'tg15' / 'bin' / 'python'
    if not python.exists():
        pytest.fail('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % python)
    code = ('import sys; sys.path.insert(0, sys.argv[1])\n'
            'from tgdeploy.doctor import job_checks\n'
            'from tgdeploy.settle import services\n'
            'print([s[1:] for s in job_checks.starts(sys.argv[2])])\n'
            'print(services.check_services([u"ticks=jobs.ticks:start"], u"app", sys.argv[2]))\n')
    out = run([str(python), '-c', code, str(REPO), str(cherry)], env=PY27_ENV).stdout
    assert out.splitlines() == [
        "[(12, 'a threading.Thread', 'in start(), called at import or start-up', "
        "'jobs.ticks', 'start')]",
        "[(u'ticks', u'jobs.ticks', u'start', u'service-ticks-app')]"], out


def test_nothing_is_found_in_the_frameworks_own_quickstarts(tg2_project):
    """No false alarm on what gearbox quickstart writes (app_cfg.py, its hooks, websetup)
    nor on the CherryPy fixture."""
    assert job_checks.starts(str(tg2_project)) == []
    fixture = Path(__file__).parent / 'fixtures' / 'cherryapp'
    assert job_checks.starts(str(fixture), str(fixture / 'cherryapp' / 'app.py')) == []
