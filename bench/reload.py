"""Reloading the application under load: which method loses requests.

The CherryPy test application (tests/fixtures/cherryapp, plus a /slow page that answers
after 2 s) deployed at /cp with the generated default daemon config, in a private Apache on
127.0.0.1. Four clients GET /cp/about back to back (a new connection each) for the whole
run; the application is reloaded 20 times by each method, each time 0.5 s after a GET of
/cp/slow was sent (so that a 2-second request is in flight), then the next reload waits
until that request has its answer; then one more reload with an 8-second request in flight
(longer than the generated shutdown-timeout). Methods:
- `paster tgdeploy --reload` (SIGUSR1 to the daemon processes; it waits for their
  successors to answer);
- touching the .wsgi file (done when every daemon process has been replaced and /cp/about
  answers 200);
- `apache2 -k graceful` (done when the error log says "resuming normal operations" again and
  the daemon processes have been replaced), without and with the opt-in wsgi-server.conf
  (`WSGISocketRotation Off`).
A failed request is a status of 500 or more, or a connection error. Each method gets its
own fresh Apache. Writes its table into BENCHMARKS.md.

    bash bench/run reload     # or: /opt/tgdeploy-lab/py3/bin/python bench/reload.py
"""
import collections
import os
import re
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import REPO, machine, publish  # noqa: E402
from support.httpd import Apache  # noqa: E402
from support.reloading import (InFlight, Load, add_slow_page, daemon_pids,  # noqa: E402
                               failed, status_of)
from support.sites import make_venv  # noqa: E402
from support.venv import Venv, run  # noqa: E402

ROOT = '/tmp/tgdeploy-bench-reload'
RELOADS = int(os.environ.get('BENCH_RELOADS', '20'))
CLIENTS = 4
MOUNT = '/cp'
LONG = 8  # seconds: a request longer than the generated shutdown-timeout (5 s)


def prepare():
    """A virtualenv with tgdeploy from this checkout and the frameworks (kept between runs;
    tgdeploy reinstalled each time), and a fresh copy of the CherryPy application."""
    os.makedirs(ROOT, exist_ok=True)
    os.chmod(ROOT, 0o755)
    venv = Venv(os.path.join(ROOT, 'venv'))
    if not os.path.exists(venv.bin('paster')):
        shutil.rmtree(venv.prefix, ignore_errors=True)
        venv = make_venv(venv.prefix, REPO)
    venv.pip_install('--no-deps', '--force-reinstall', REPO)
    project = os.path.join(ROOT, 'cherryapp')
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(os.path.join(REPO, 'tests', 'fixtures', 'cherryapp'), project)
    add_slow_page(project)
    venv.pip_install('--no-deps', '-e', project)
    run([venv.bin('paster'), 'tgdeploy', '-q', '--mount', MOUNT], cwd=project)
    return venv, project


def wait(condition, timeout, what):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise RuntimeError('timed out waiting for ' + what)
        time.sleep(0.02)


def replaced(apache, before):
    now = daemon_pids(apache.pid())
    return len(now) >= len(before) and not set(now) & set(before)


def by_reload(apache, venv, project):
    out = run([venv.bin('paster'), 'tgdeploy', '--reload'], cwd=project).stdout
    answered = re.search(r'answered \d+ after ([\d.]+) s', out)
    return float(answered.group(1)) if answered else None


def by_touch(apache, venv, project):
    before = daemon_pids(apache.pid())
    started = time.time()
    os.utime(os.path.join(project, 'apache', 'cherryapp.wsgi'))
    # mod_wsgi notices the change on a process's next request: the load provides them.
    wait(lambda: replaced(apache, before), 60, 'the daemon processes to be replaced')
    wait(lambda: status_of(apache.port, MOUNT + '/about') == 200, 30, MOUNT + '/about')
    return time.time() - started


def by_graceful(apache, venv, project):
    before = daemon_pids(apache.pid())
    generations = apache.error_log().count('resuming normal operations')
    started = time.time()
    apache.graceful()
    wait(lambda: apache.error_log().count('resuming normal operations') > generations, 60,
         'Apache to resume')
    wait(lambda: replaced(apache, before), 60, 'the daemon processes to be replaced')
    wait(lambda: status_of(apache.port, MOUNT + '/about') == 200, 30, MOUNT + '/about')
    return time.time() - started


METHODS = [
    ('`paster tgdeploy --reload`', by_reload, False),
    ('touch the .wsgi', by_touch, False),
    ('`apachectl graceful`', by_graceful, False),
    ('`apachectl graceful` + `WSGISocketRotation Off`', by_graceful, True),
]


def measure(venv, project, method, snippet, workdir):
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    apache_dir = os.path.join(project, 'apache')
    includes = [os.path.join(apache_dir, 'cherryapp.conf')]
    if snippet:
        includes.insert(0, os.path.join(apache_dir, 'wsgi-server.conf'))
    apache = Apache(workdir, includes, log_level='info')
    apache.start(MOUNT + '/about')
    try:
        for _ in range(8):  # every daemon process has loaded the application and served
            assert status_of(apache.port, MOUNT + '/about') == 200
        load = Load(apache.port, MOUNT + '/about', CLIENTS).start()
        times, in_flight = [], []
        try:
            time.sleep(1)
            for _ in range(RELOADS):
                slow = InFlight(apache.port, MOUNT + '/slow')
                time.sleep(0.5)
                took = method(apache, venv, project)
                in_flight.append(slow.outcome())
                time.sleep(0.3)
                times.append(took)
            # One more, with a request longer than shutdown-timeout (5 s) in flight.
            slow = InFlight(apache.port, MOUNT + '/slow?seconds=%d' % LONG)
            time.sleep(0.5)
            method(apache, venv, project)
            long_outcome = slow.outcome()
            time.sleep(0.3)
        finally:
            results = load.stop()
        failures = [s for _, s in results if failed(s)]
        signals = re.findall(r'mod_wsgi \(pid=\d+\): (Process eviction requested|'
                             r'Shutdown requested)', apache.error_log())
        return {'requests': len(results), 'failed': len(failures),
                'kinds': collections.Counter(failures), 'times': [t for t in times if t],
                'in_flight': collections.Counter(in_flight), 'long': long_outcome,
                'bad_reloads': count_bad_reloads(results),
                'log': collections.Counter(signals)}
    finally:
        apache.stop()


def count_bad_reloads(results):
    """Failed requests come in bursts around a reload: bursts more than 1.5 s apart."""
    times = sorted(t for t, s in results if failed(s))
    bursts, last = 0, None
    for t in times:
        if last is None or t - last > 1.5:
            bursts += 1
        last = t
    return bursts


def describe(counter):
    return ', '.join('%s × %s' % (n, status) for status, n in sorted(
        counter.items(), key=lambda item: str(item[0]))) or '—'


def table(rows, elapsed):
    lines = [
        'CherryPy application (tests/fixtures/cherryapp + a 2-s /slow page) at %s, generated '
        'default daemon config (2 processes x 8 threads, mod_wsgi 4.9.4, Apache 2.4 event); '
        '%d clients GETting /about on new connections throughout; %d reloads per method, each '
        'with a GET of /slow (2 s) sent 0.5 s before, then one with an %d-s request; requests '
        'and failures count all %d; %s; the whole run took %.0f s.'
        % (MOUNT, CLIENTS, RELOADS, LONG, RELOADS + 1, machine(), elapsed),
        '',
        '| method | requests | failed (≥ 500 or connection error) | reloads with a failure '
        '| the 2-s request in flight | an %d-s request in flight (one more reload) '
        '| until the new processes answer, s: median (max) |' % LONG,
        '|---|---|---|---|---|---|---|',
    ]
    for name, result in rows:
        times = result['times']
        timing = '%.2f (%.2f)' % (statistics.median(times), max(times)) if times else '—'
        failed_text = '**%d**' % result['failed']
        if result['failed']:
            failed_text += ' (%s)' % describe(result['kinds'])
        lines.append('| %s | %d | %s | %d of %d | %s | %s | %s |' % (
            name, result['requests'], failed_text, result['bad_reloads'], RELOADS + 1,
            describe(result['in_flight']), result['long'], timing))
    return '\n'.join(lines)


def main():
    started = time.time()
    venv, project = prepare()
    print('prepared in %.0f s' % (time.time() - started))
    rows = []
    work = os.path.join(ROOT, 'apaches')
    shutil.rmtree(work, ignore_errors=True)
    for number, (name, method, snippet) in enumerate(METHODS):
        result = measure(venv, project, method, snippet, os.path.join(work, str(number)))
        print('%s: %d requests, %d failed %s, in flight %s, times %s, log %s' % (
            name, result['requests'], result['failed'], dict(result['kinds']),
            dict(result['in_flight']), ['%.2f' % t for t in result['times']],
            dict(result['log'])))
        rows.append((name, result))
    publish('reload.py', table(rows, time.time() - started))


if __name__ == '__main__':
    main()
