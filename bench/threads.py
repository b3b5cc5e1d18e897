"""How many processes and threads should the generated daemon config default to?

Three sweeps, each in interleaved rounds (A B C ... A B C ..., the order rotated each round)
so machine drift spreads over every configuration, against the generated default:
1. CPU-bound: the TurboGears 2 quickstart's templated /demo page, all of this machine's cores.
2. I/O-bound: the CherryPy application's /io page, which waits 20 ms as if on a database.
3. One core: the /demo sweep again with Apache pinned to one core (wrk on another), as a
   smaller machine would run it.
Reports req/s and latency as ratios to the generated default, the first 200 after start,
and Apache's stop and graceful-restart times with and without the application; writes its
tables into BENCHMARKS.md.

    bash bench/run threads     # or: /opt/tgdeploy-lab/py3/bin/python bench/threads.py
"""
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (CONNECTIONS, ROOT, apache_alone, graceful_time, machine, prepare,  # noqa
                    publish, rotated, span, wrk)
from support.httpd import Apache  # noqa: E402
from support.venv import run  # noqa: E402
from tgdeploy.settle.options import DEFAULT_THREADS, default_processes  # noqa: E402

ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
DURATION = os.environ.get('BENCH_DURATION', '8s')
CPU_CONFIGS = [  # label, tgdeploy options; the first is the generated default
    ('default', []),
    ('2 x 1', ['--processes', '2', '--threads', '1']),
    ('2 x 2', ['--processes', '2', '--threads', '2']),
    ('2 x 4', ['--processes', '2', '--threads', '4']),
    ('2 x 15', ['--processes', '2', '--threads', '15']),
    ('1 x 15', ['--processes', '1', '--threads', '15']),
    ('4 x 4', ['--processes', '4', '--threads', '4']),
    ('embedded', ['--mode', 'embedded']),
    ('default, lazy (--preload no)', ['--preload', 'no']),
]
IO_CONFIGS = [
    ('default', []),
    ('2 x 2', ['--processes', '2', '--threads', '2']),
    ('2 x 4', ['--processes', '2', '--threads', '4']),
    ('2 x 15', ['--processes', '2', '--threads', '15']),
    ('1 x 15', ['--processes', '1', '--threads', '15']),
]
ONE_CORE_CONFIGS = [  # `paster tgdeploy` runs on the one core too, so its default follows
    ('default', []),
    ('1 x 4', ['--processes', '1', '--threads', '4']),
    ('1 x 2', ['--processes', '1', '--threads', '2']),
    ('2 x 4', ['--processes', '2', '--threads', '4']),
    ('2 x 2', ['--processes', '2', '--threads', '2']),
]


class OneCoreApache(Apache):
    """Apache and everything it forks (the daemon processes) confined to CPU 0."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wrapper = os.path.join(self.root, 'apache2-on-cpu0')
        with open(wrapper, 'w') as f:
            f.write('#!/bin/sh\nexec taskset -c 0 %s "$@"\n' % self.binary)
        os.chmod(wrapper, 0o755)
        self.binary = wrapper


def measure(venv, site, args, workdir, apache_class=Apache, wrk_cpus=None, server_cpus=None):
    project, slug, page = site
    os.makedirs(workdir)
    pin = ['taskset', '-c', server_cpus] if server_cpus else []
    run(pin + [venv.bin('paster'), 'tgdeploy', '-q', '--mount', '/'] + args, cwd=project)
    apache = apache_class(workdir, [os.path.join(project, 'apache', slug + '.conf')],
                          log_level='warn')
    started = time.time()
    status = apache.start(page)[0]
    first = time.time() - started
    assert status == 200, apache.error_log()
    wrk(apache.url + page, '2s', wrk_cpus)  # warm every process and thread
    result = wrk(apache.url + page, DURATION, wrk_cpus)
    result['first_200'] = first
    result['graceful'] = graceful_time(apache, page)
    result['stop'] = apache.stop()
    return result


def sweep(name, venv, site, configs, **how):
    results = dict((label, []) for label, _ in configs)
    # The first measurement of a sweep runs on a cold machine: do one and drop it.
    measure(venv, site, [], os.path.join(ROOT, name, 'warm-up'), **how)
    for round_number in range(ROUNDS):
        for label, args in rotated(configs, round_number):
            workdir = os.path.join(ROOT, name, '%d-%s' % (round_number, re.sub(r'\W', '', label)))
            results[label].append(measure(venv, site, args, workdir, **how))
            print('%s round %d %-9s %s' % (name, round_number + 1, label, results[label][-1]),
                  flush=True)
    return results


def table(results, configs, alone):
    base = statistics.median(r['rps'] for r in results['default'])
    lines = ['| config | req/s median (min–max) | ratio to default | p50 ms | p99 ms | '
             'non-2xx | first 200 after start, s | graceful, s | stop, s |',
             '|---|---|---|---|---|---|---|---|---|']
    for label, _ in configs:
        rs = results[label]
        lines.append('| %s | %s | %.2f | %s | %s | %d | %s | %s | %s |' % (
            label, span([r['rps'] for r in rs], '%.0f'),
            statistics.median(r['rps'] for r in rs) / base,
            span([r['p50'] for r in rs], '%.1f'), span([r['p99'] for r in rs], '%.1f'),
            sum(r['bad'] for r in rs), span([r['first_200'] for r in rs], '%.2f'),
            span([r['graceful'] for r in rs], '%.2f'), span([r['stop'] for r in rs], '%.2f')))
    if alone:
        lines.append('| Apache alone (no mod_wsgi app) | | | | | | | %s | %s |' % (
            span([a['graceful'] for a in alone], '%.2f'),
            span([a['stop'] for a in alone], '%.2f')))
    return '\n'.join(lines)


def main():
    venv, project, cherry = prepare()
    run([venv.bin('paster'), 'tgdeploy', '-q'], cwd=cherry)
    tg2 = (project, 'benchapp', '/demo')
    rounds = ('wrk -t2 -c%d -d%s, %d interleaved rounds (order rotated each round) after a '
              'warm-up, %s; the default is %d x %d here (one process per core, %d threads), '
              '1 x %d on one core' % (CONNECTIONS, DURATION, ROUNDS, machine(),
                                      default_processes(), DEFAULT_THREADS, DEFAULT_THREADS,
                                      DEFAULT_THREADS))
    cpu = sweep('cpu', venv, tg2, CPU_CONFIGS)
    alone = [apache_alone(os.path.join(ROOT, 'alone-%d' % n)) for n in range(ROUNDS)]
    io = sweep('io', venv, (cherry, 'cherryapp', '/io'), IO_CONFIGS)
    one = sweep('one-core', venv, tg2, ONE_CORE_CONFIGS, apache_class=OneCoreApache,
                wrk_cpus='1', server_cpus='0')
    publish('threads.py', '\n\n'.join([
        '### CPU-bound: TurboGears 2 quickstart /demo, all cores\n\n' + rounds + '. Apache '
        'daemon mode unless noted.\n\n' + table(cpu, CPU_CONFIGS, alone),
        '### I/O-bound: CherryPy /io (waits 20 ms per request)\n\n' + rounds + '.\n\n' +
        table(io, IO_CONFIGS, None),
        '### One core: TurboGears 2 /demo, Apache pinned to CPU 0, wrk on CPU 1\n\n' + rounds +
        '.\n\n' + table(one, ONE_CORE_CONFIGS, None)]))


if __name__ == '__main__':
    main()
