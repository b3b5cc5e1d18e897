"""The tail latency of the generated default against nginx -> gunicorn sync 2 (issue 26).

Hypothesis: the default's p99 on a CPU-bound page comes from the GIL hand-off among the
8 threads of each daemon process (CPython forces a switch after sys.getswitchinterval(),
5 ms, and the waiting threads are woken in no fixed order), not from mod_wsgi's protocol.
Candidates, each against the generated default and nginx -> gunicorn sync 2 in the same
interleaved rounds (order rotated each round), on the TurboGears 2 quickstart's /demo and
the CherryPy application's /io (sleeps 20 ms: what the threads are for):
- the GIL switch interval set in each daemon process (`sys.setswitchinterval` at the top
  of the generated .wsgi; Debian's mod_wsgi 4.9.4 has no `switch-interval=` option);
- fewer threads in more processes (the same 16 threads in all);
- 2 x 1 and 2 x 2 (no or little GIL contention: the share of the gap the threads make);
  --candidates names them (the keys of candidates()).
Measured as bench/stacks.py measures (`ab -n N -c 16 -k`, every process of a stack in one
cpuacct cgroup: CPU ms per request of the whole stack); medians with the min-max of the
rounds, ratios as medians of the per-round ratios to the default. Prints the tables and the
load average (`uptime`) before and after; --publish writes them into BENCHMARKS.md.

    flock /tmp/tgdeploy-bench.lock /opt/tgdeploy-lab/py3/bin/python bench/tail.py \
        [--reuse] [--candidates default,si0.5,si2,...] [--publish]

Needs scripts/provision-bench. BENCH_ROUNDS (default 5), BENCH_REQUESTS (default 1500 on
the TurboGears 2 page, a quarter of it on /io) change the run's size.
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import machine, publish, rotated, span  # noqa: E402
from peers import Site, deploy  # noqa: E402
from support.httpd import Apache  # noqa: E402
import stacks  # noqa: E402
from stacks import Stack, io_site, nginx_gunicorn  # noqa: E402

ROUNDS = int(os.environ.get('BENCH_ROUNDS', '5'))
REQUESTS = int(os.environ.get('BENCH_REQUESTS', '1500'))
ROOT = '/tmp/tgdeploy-bench-tail'
DEFAULT = 'tgdeploy default'
GUNICORN = 'nginx -> gunicorn sync 2'


def switch_interval(seconds):
    """The generated .wsgi with sys.setswitchinterval(seconds) right after `import sys`."""
    def change(text):
        return text.replace('import sys\n', 'import sys\nsys.setswitchinterval(%r)\n' %
                            seconds, 1)
    return change


def variant(args=(), wsgi=None):
    """Apache with the generated config as `paster tgdeploy ARGS` writes it; ``wsgi``
    edits the text of the generated .wsgi (run at start-up in every daemon process)."""
    def start(venv, site, workdir):
        deploy(venv, site, args)
        folder = os.path.join(site.project, 'apache')
        if wsgi is not None:
            path = os.path.join(folder, site.slug + '.wsgi')
            with open(path) as f:
                text = f.read()
            new = wsgi(text)
            assert new != text, 'nothing changed in %s' % path
            with open(path, 'w') as f:
                f.write(new)
        apache = Apache(workdir, [os.path.join(folder, site.slug + '.conf')], log_level='warn')
        apache.start(None)
        return apache.url, apache.stop
    return start


def candidates():
    """{key: Stack}: --candidates picks them by key (the default and gunicorn always run)."""
    found = {
        'default': Stack(DEFAULT, variant()),
        'gunicorn': Stack(GUNICORN, nginx_gunicorn(['-w', '2'])),
        '4x4': Stack('4 x 4 (default switch interval)', variant(['--processes', '4',
                                                                '--threads', '4'])),
        '2x2': Stack('2 x 2 (README\'s CPU-bound threads)', variant(['--threads', '2'])),
        '2x1': Stack('2 x 1 (no GIL contention)', variant(['--threads', '1'])),
        '8x2': Stack('8 x 2', variant(['--processes', '8', '--threads', '2'])),
    }
    for ms in ('0.25', '0.5', '1', '2', '10', '20', '50'):
        found['si' + ms] = Stack('default, switch interval %s ms' % ms,
                                 variant(wsgi=switch_interval(float(ms) / 1000)))
        found['4x4si' + ms] = Stack('4 x 4, switch interval %s ms' % ms, variant(
            ['--processes', '4', '--threads', '4'], wsgi=switch_interval(float(ms) / 1000)))
    return found


def uptime():
    return subprocess.run(['uptime'], stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.strip()


def run_rounds(chosen, sites, venv):
    results = dict((site.key, dict((s.label, []) for s in chosen)) for site in sites)
    stacks.measure(chosen[0], venv, sites[0], os.path.join(ROOT, 'runs', 'warm-up'), 400)
    for round_number in range(ROUNDS):
        for site in sites:
            stacks.WARM_UP = 100 if site.key == 'io' else 600
            for stack in rotated(chosen, round_number):
                workdir = os.path.join(ROOT, 'runs', '%d-%s-%s' % (
                    round_number, site.key, re.sub(r'\W', '', stack.label)[:32]))
                requests = REQUESTS if site.key == 'tg2' else max(REQUESTS // 4, 100)
                r = stacks.measure(stack, venv, site, workdir, requests)
                results[site.key][stack.label].append(r)
                print('round %d %-4s %-40s %.3f ms/req %5.0f req/s p50 %.1f p99 %.1f ms '
                      'bad %d' % (round_number + 1, site.key, stack.label, r['cpu']['total'],
                                  r['rps'], r['p50'], r['p99'], r['bad']), flush=True)
    return results


def ratio(runs, base_runs, key):
    return statistics.median([key(r) / key(b) for r, b in zip(runs, base_runs)])


def table(chosen, res):
    base, ref = res[DEFAULT], res[GUNICORN]
    lines = ['| stack | CPU ms/request | ratio to default | req/s | ratio | p50 ms | p99 ms | '
             'ratio to default | p99 ratio to gunicorn | non-2xx |', '|---' * 10 + '|']
    for stack in chosen:
        runs = res[stack.label]
        lines.append('| %s | %s | %.2f | %s | %.2f | %s | %s | %.2f | %.2f | %d |' % (
            stack.label, span([r['cpu']['total'] for r in runs], '%.3f'),
            ratio(runs, base, lambda r: r['cpu']['total']),
            span([r['rps'] for r in runs], '%.0f'), ratio(runs, base, lambda r: r['rps']),
            span([r['p50'] for r in runs], '%.1f'), span([r['p99'] for r in runs], '%.1f'),
            ratio(runs, base, lambda r: r['p99']), ratio(runs, ref, lambda r: r['p99']),
            sum(r['bad'] for r in runs)))
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reuse', action='store_true', help='keep the lab in ' + ROOT)
    parser.add_argument('--candidates', default='si1,si20,2x1',
                        help='comma-separated keys of candidates() besides the default and '
                             'gunicorn: ' + ', '.join(sorted(candidates())))
    parser.add_argument('--sites', default='tg2,io')
    parser.add_argument('--publish', action='store_true', help='write into BENCHMARKS.md')
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(1))
    stacks.STACKS_ROOT = ROOT
    venv, project, cherry, _ = stacks.lab(options.reuse)
    sites = [s for s in [
        Site('TurboGears 2 quickstart /demo', 'tg2', project, 'benchapp', '/demo', None),
        io_site(cherry)] if s.key in options.sites.split(',')]
    for site in sites:
        deploy(venv, site)
    table_of = candidates()
    keys = ['default', 'gunicorn'] + [k for k in options.candidates.split(',')
                                      if k not in ('default', 'gunicorn')]
    chosen = [table_of[k] for k in keys]
    load_before, started = uptime(), time.time()
    results = run_rounds(chosen, sites, venv)
    head = ('`ab -n N -c 16 -k` after a warm-up, %d interleaved rounds (order rotated each '
            'round), %s, %.0f s; load before: `%s`; after: `%s`. Ratios are medians of the '
            'per-round ratios.' % (ROUNDS, machine(), time.time() - started, load_before,
                                   uptime()))
    text = [head]
    for site in sites:
        text += ['', '**%s** (%d requests per measurement)' % (
            site.title, results[site.key][DEFAULT][0]['requests']), '',
            table(chosen, results[site.key])]
    if options.publish:
        publish('tail.py', '\n'.join(text))
    else:
        print('\n'.join(text))


if __name__ == '__main__':
    common.ROOT = ROOT
    main()
