"""TurboGears 1.0, 1.1 and 1.5 under the generated config, one line against another.

For each line, a real `tg-admin quickstart` project from the Python 2.7 lab
(scripts/provision-py27; the RuleDispatch/PEAK-Rules stand-ins are test fixtures, every
rule is evaluated on each call, so TG's own dispatching is slower here than with the real
libraries), deployed with `paster tgdeploy` (daemon mode, its default size) under Apache with mod_wsgi
4.9.4 built for Python 2.7. Interleaved rounds; reports the welcome page (a Kid or Genshi
template) and a JSON page, the first 200 after start, graceful-restart and stop times
against Apache alone; writes its table into BENCHMARKS.md.

    bash bench/run tg1     # or: /opt/tgdeploy-lab/py3/bin/python bench/tg1.py
"""
import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (CONNECTIONS, ROOT, apache_alone, graceful_time, machine, publish,  # noqa
                    rotated, span, wrk)
from support.httpd import Apache  # noqa: E402
from support.sites import PY27_ENV, quickstart_tg1, setup_tg1_data  # noqa: E402
from support.venv import Venv, run  # noqa: E402
from tgdeploy.settle.options import DEFAULT_THREADS, default_processes  # noqa: E402

LAB = os.environ.get('TGDEPLOY_LAB', '/opt/tgdeploy-lab')
MOD_WSGI_27 = os.path.join(LAB, 'py27', 'mod_wsgi-py27.so')
LINES = [('TurboGears 1.0.10', 'tg10', '1.0'), ('TurboGears 1.1.3', 'tg11', '1.1'),
         ('TurboGears 1.5.1', 'tg15', '1.5')]
PAGES = [('welcome page /', '/'), ('JSON /data', '/data')]
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
DURATION = os.environ.get('BENCH_DURATION', '6s')


def make_site(venv_name, line, parent):
    """(venv, project): the quickstart, installed, deployed, with its database."""
    venv = Venv(os.path.join(LAB, 'py27', venv_name))
    if not os.path.exists(venv.python):
        sys.exit('the Python 2.7 lab is missing (%s): run scripts/provision-py27' % venv.prefix)
    os.makedirs(parent, mode=0o755)
    project = quickstart_tg1(venv, parent, line, PY27_ENV)
    run([venv.bin('pip'), 'install', '-q', '-e', project], env=PY27_ENV)
    run([venv.bin('paster'), 'tgdeploy', '-q'], cwd=project, env=PY27_ENV)
    setup_tg1_data(venv, project, os.path.join(project, 'apache', 'mysite.cfg'), PY27_ENV)
    return venv, project


def measure(project, workdir):
    os.makedirs(workdir)
    apache = Apache(workdir, [os.path.join(project, 'apache', 'mysite.conf')],
                    wsgi_module=MOD_WSGI_27, log_level='warn')
    started = time.time()
    status = apache.start('/')[0]
    result = {'first_200': time.time() - started}
    assert status == 200, apache.error_log()[-3000:]
    for title, page in PAGES:
        wrk(apache.url + page, '2s')
        result[title] = wrk(apache.url + page, DURATION)
    result['graceful'] = graceful_time(apache, '/')
    result['stop'] = apache.stop()
    return result


def table(results, alone):
    base = dict((title, statistics.median(r[title]['rps'] for r in results[LINES[-1][0]]))
                for title, _ in PAGES)
    lines = ['| TurboGears line | %s | first 200 after start, s | graceful, s | stop, s |' % (
        ' | '.join('%s req/s (ratio to 1.5) | p99 ms' % title for title, _ in PAGES)),
        '|---|' + '---|---|' * len(PAGES) + '---|---|---|']
    for label, _, _ in LINES:
        rs = results[label]
        cells = []
        for title, _ in PAGES:
            rps = [r[title]['rps'] for r in rs]
            cells.append('%s (%.2f) | %s' % (span(rps, '%.0f'),
                                             statistics.median(rps) / base[title],
                                             span([r[title]['p99'] for r in rs], '%.1f')))
        lines.append('| %s | %s | %s | %s | %s |' % (
            label, ' | '.join(cells), span([r['first_200'] for r in rs], '%.2f'),
            span([r['graceful'] for r in rs], '%.2f'), span([r['stop'] for r in rs], '%.2f')))
    lines.append('| Apache alone (no mod_wsgi app) |%s %s | %s |' % (
        ' |' * (2 * len(PAGES) + 1), span([a['graceful'] for a in alone], '%.2f'),
        span([a['stop'] for a in alone], '%.2f')))
    return '\n'.join(lines)


def main():
    root = os.path.join(ROOT, 'tg1')
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    os.chmod(ROOT, 0o755)
    os.chmod(root, 0o755)
    sites = dict((label, make_site(name, line, os.path.join(root, name)))
                 for label, name, line in LINES)
    try:
        results = dict((label, []) for label, _, _ in LINES)
        measure(sites[LINES[0][0]][1], os.path.join(root, 'warm-up'))  # a cold machine
        for round_number in range(ROUNDS):
            for label, name, _ in rotated(LINES, round_number):
                results[label].append(
                    measure(sites[label][1], os.path.join(root, '%d-%s' % (round_number, name))))
                print('round %d %s %s' % (round_number + 1, label, results[label][-1]),
                      flush=True)
        alone = [apache_alone(os.path.join(root, 'alone-%d' % n))
                 for n in range(ROUNDS)]
    finally:
        for venv, _ in sites.values():
            run([venv.bin('pip'), 'uninstall', '-q', '-y', 'mysite'], env=PY27_ENV, check=False)
    publish('tg1.py', 'Quickstart projects (SQLAlchemy), Apache daemon mode %d x %d (the '
            'default) with mod_wsgi 4.9.4 for Python 2.7; wrk -t2 -c%d -d%s per page, %d '
            'interleaved rounds (order rotated) after a warm-up, %s.\n\n%s' % (
                default_processes(), DEFAULT_THREADS, CONNECTIONS, DURATION, ROUNDS, machine(),
                table(results, alone)))


if __name__ == '__main__':
    main()
