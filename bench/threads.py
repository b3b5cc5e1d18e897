"""How many processes and threads should the generated daemon config default to?

Deploys a real `gearbox quickstart` project with `paster tgdeploy` under a private Apache
on 127.0.0.1 and drives it with wrk, in interleaved rounds (A B C ... A B C ...) so machine
drift spreads over every configuration. Reports req/s and latency as ratios to the generated
default, plus Apache's stop and graceful-restart times with and without the application.

    bash bench/run            # or: /opt/tgdeploy-lab/py3/bin/python bench/threads.py
"""
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests'))

from common import ROOT, prepare, rotated, span, wrk  # noqa: E402
from support.httpd import Apache  # noqa: E402
from support.venv import run  # noqa: E402

PAGE = '/demo'  # the quickstart's templated demo page
CONFIGS = [  # label, tgdeploy options; the first is the generated default
    ('default', []),
    ('2 x 2', ['--processes', '2', '--threads', '2']),
    ('2 x 8', ['--processes', '2', '--threads', '8']),
    ('2 x 15', ['--processes', '2', '--threads', '15']),
    ('1 x 15', ['--processes', '1', '--threads', '15']),
    ('4 x 4', ['--processes', '4', '--threads', '4']),
    ('embedded', ['--mode', 'embedded']),
    ('default, lazy (--preload no)', ['--preload', 'no']),
]
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
DURATION = os.environ.get('BENCH_DURATION', '8s')


def measure(venv, project, label, args, workdir):
    run([venv.bin('paster'), 'tgdeploy', '-q', '--mount', '/'] + args, cwd=project)
    apache = Apache(workdir, [os.path.join(project, 'apache', 'benchapp.conf')], log_level='warn')
    started = time.time()
    status = apache.start(PAGE)[0]
    first = time.time() - started
    assert status == 200, apache.error_log()
    wrk(apache.url + PAGE, '2s')  # warm every process and thread
    result = wrk(apache.url + PAGE, DURATION)
    result['first_200'] = first
    result['graceful'] = graceful_time(apache)
    result['stop'] = apache.stop()
    return result


def graceful_time(apache):
    """From `apache2 -k graceful` until the page answers 200 from the new generation."""
    started = time.time()
    apache.graceful()
    while 'resuming normal operations' not in apache.error_log().split('SIGUSR1')[-1]:
        time.sleep(0.01)
    while apache.get(PAGE)[0] != 200:
        time.sleep(0.01)
    return time.time() - started


def apache_alone(workdir):
    """Stop and graceful times of the same Apache with no application, as the baseline."""
    os.makedirs(os.path.join(workdir, 'www'), exist_ok=True)
    with open(os.path.join(workdir, 'www', 'index.html'), 'w') as f:
        f.write('ok\n')
    apache = Apache(workdir, [], log_level='warn',
                    extra='DocumentRoot %s/www\n<Directory %s/www>\nRequire all granted\n'
                          '</Directory>' % (workdir, workdir))
    apache.start('/')
    started = time.time()
    apache.graceful()
    while 'resuming normal operations' not in apache.error_log().split('SIGUSR1')[-1]:
        time.sleep(0.01)
    graceful = time.time() - started
    return {'graceful': graceful, 'stop': apache.stop()}


def report(results, alone):
    base = statistics.median(r['rps'] for r in results['default'])
    lines = ['| config | req/s median (min–max) | ratio to default | p50 ms | p99 ms | '
             'non-2xx | first 200 after start, s | graceful, s | stop, s |',
             '|---|---|---|---|---|---|---|---|---|']
    for label, _ in CONFIGS:
        rs = results[label]
        lines.append('| %s | %s | %.2f | %s | %s | %d | %s | %s | %s |' % (
            label, span([r['rps'] for r in rs], '%.0f'),
            statistics.median(r['rps'] for r in rs) / base,
            span([r['p50'] for r in rs], '%.1f'), span([r['p99'] for r in rs], '%.1f'),
            sum(r['bad'] for r in rs), span([r['first_200'] for r in rs], '%.2f'),
            span([r['graceful'] for r in rs], '%.2f'), span([r['stop'] for r in rs], '%.2f')))
    lines.append('| Apache alone (no mod_wsgi app) | | | | | | | %s | %s |' % (
        span([a['graceful'] for a in alone], '%.2f'), span([a['stop'] for a in alone], '%.2f')))
    return '\n'.join(lines)


def main():
    cores = os.cpu_count()
    venv, project, _ = prepare()
    results = dict((label, []) for label, _ in CONFIGS)
    alone = []
    # The first measurement after setting up runs on a cold machine: do one and drop it.
    warmup = os.path.join(ROOT, 'httpd-warmup')
    os.makedirs(warmup)
    measure(venv, project, 'warm-up', [], warmup)
    for round_number in range(ROUNDS):
        for label, args in rotated(CONFIGS, round_number):
            workdir = os.path.join(ROOT, 'httpd-%d-%s' % (round_number, re.sub(r'\W', '', label)))
            os.makedirs(workdir)
            results[label].append(measure(venv, project, label, args, workdir))
            print('round %d %-9s %s' % (round_number + 1, label, results[label][-1]), flush=True)
        alone.append(apache_alone(os.path.join(ROOT, 'alone-%d' % round_number)))
    table = report(results, alone)
    header = ('TurboGears 2 quickstart %s, wrk -t2 -c%d -d%s, %d interleaved rounds (order '
              'rotated each round), %d cores, Apache daemon mode unless noted.'
              % (PAGE, 16, DURATION, ROUNDS, cores))
    print('\n' + header + '\n\n' + table)
    return header, table


if __name__ == '__main__':
    main()
