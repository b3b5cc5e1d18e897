"""Start-up: what the first requests cost, preloaded (the default) against lazy loading.

For the TurboGears 2 quickstart's /demo page and the CherryPy application's /about page,
the generated default (the application imported when each daemon process starts) against
`--preload no` (imported by the first request each process receives), in interleaved
rounds, each from a fresh `apache2 -k start`:
- listening: until Apache accepts connections;
- first request: the latency of the first GET of the page once Apache listens (preloaded,
  it waits for an import already under way; lazy, it runs the import);
- first 200: from `apache2 -k start` to that answer;
- first burst: 16 concurrent GETs right after, the slowest of them (lazily, a request that
  lands on a process that has not served yet pays that process's import);
- steady p50 and p99, from wrk once every process has served.
Writes its table into BENCHMARKS.md.

    bash bench/run startup     # or: /opt/tgdeploy-lab/py3/bin/python bench/startup.py
"""
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import CONNECTIONS, ROOT, machine, prepare, publish, rotated, span, wrk  # noqa
from support.httpd import Apache  # noqa: E402
from support.venv import run  # noqa: E402

ROUNDS = int(os.environ.get('BENCH_ROUNDS', '5'))
DURATION = os.environ.get('BENCH_DURATION', '4s')
CONFIGS = [('preloaded (default)', []), ('lazy (--preload no)', ['--preload', 'no'])]


def timed_get(apache, page):
    started = time.time()
    status = apache.get(page)[0]
    return status, (time.time() - started) * 1000


def measure(venv, site, args, workdir):
    project, slug, page = site
    os.makedirs(workdir)
    run([venv.bin('paster'), 'tgdeploy', '-q'] + args, cwd=project)
    apache = Apache(workdir, [os.path.join(project, 'apache', slug + '.conf')],
                    log_level='warn')
    started = time.time()
    apache.start(wait_for=None)
    listening = time.time() - started
    status, first_request = timed_get(apache, page)
    first_200 = time.time() - started
    assert status == 200, apache.error_log()[-3000:]
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        burst = list(pool.map(lambda _: timed_get(apache, page), range(CONNECTIONS)))
    assert all(status == 200 for status, _ in burst), burst
    steady = wrk(apache.url + page, DURATION)
    apache.stop()
    return {'listening': listening, 'first_request': first_request, 'first_200': first_200,
            'burst_max': max(ms for _, ms in burst), 'p50': steady['p50'], 'p99': steady['p99']}


def table(results):
    lines = ['| config | listening after start, s | first request, ms | first 200 after '
             'start, s | first burst of %d, slowest ms | steady p50 ms | steady p99 ms |'
             % CONNECTIONS, '|---|---|---|---|---|---|---|']
    for label, _ in CONFIGS:
        rs = results[label]
        lines.append('| %s | %s | %s | %s | %s | %s | %s |' % (
            label, span([r['listening'] for r in rs], '%.2f'),
            span([r['first_request'] for r in rs], '%.0f'),
            span([r['first_200'] for r in rs], '%.2f'),
            span([r['burst_max'] for r in rs], '%.0f'),
            span([r['p50'] for r in rs], '%.1f'), span([r['p99'] for r in rs], '%.1f')))
    return '\n'.join(lines)


def main():
    venv, project, cherry = prepare()
    sites = [('TurboGears 2 quickstart /demo', (project, 'benchapp', '/demo')),
             ('CherryPy /about', (cherry, 'cherryapp', '/about'))]
    results = dict((title, dict((label, []) for label, _ in CONFIGS)) for title, _ in sites)
    measure(venv, sites[0][1], [], os.path.join(ROOT, 'startup', 'warm-up'))  # cold machine
    for round_number in range(ROUNDS):
        for title, site in sites:
            for label, args in rotated(CONFIGS, round_number):
                workdir = os.path.join(ROOT, 'startup', '%d-%s-%s' % (
                    round_number, site[1], 'lazy' if args else 'preloaded'))
                results[title][label].append(measure(venv, site, args, workdir))
                print('round %d %-30s %-20s %s' % (round_number + 1, title, label,
                                                   results[title][label][-1]), flush=True)
    text = ['Generated default daemon config, Apache started %d times per config and page '
            '(interleaved, order rotated), %s; steady figures from wrk -t2 -c%d -d%s.'
            % (ROUNDS, machine(), CONNECTIONS, DURATION)]
    for title, _ in sites:
        text += ['', '**%s**' % title, '', table(results[title])]
    publish('startup.py', '\n'.join(text))


if __name__ == '__main__':
    main()
