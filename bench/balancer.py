"""Several hosts behind a balancer: what the front costs, and what more back ends give.

The back ends of tests/test_balancer.py: a TurboGears 2 quickstart with the pages of
tests/fixtures/tg2_hosts.py, deployed by `paster tgdeploy --trust-proxy 127.0.0.1` once per
host (folders of its own, one secrets file; the generated default daemon config), served by
private Apaches on 127.0.0.2, .3 and .4. In front, what tg_balancer writes, over 1, 2 and 3
of them: HAProxy, and Apache's mod_proxy_balancer in a private Apache on 127.0.0.1; and,
for the ratios, the first back end asked directly. The page is /hosts/whoami, a small JSON
answer, so that the front's share of the work shows.

Per configuration: wrk -t2 -c16 (requests/s, p99); then `ab -k -n REQUESTS -c 16` between
two reads of /proc/<pid>/stat (utime + stime; for an Apache parent, its reaped children's
too) of the front's processes and of each back end's (Apache and its mod_wsgi daemons):
CPU milliseconds per request, the front's and the back ends', and how the back ends' work
was split. Interleaved rounds, the order rotated each round; the back ends stay up for the
whole run, each front is started for its measurement and stopped after it.

Other benchmarks must not run at the same time; bench/run takes the lock for it:

    bash bench/run balancer
    flock /tmp/tgdeploy-bench.lock /opt/tgdeploy-lab/py3/bin/python bench/balancer.py
"""
import contextlib
import os
import re
import shutil
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import CONNECTIONS, REPO, machine, publish, rotated, span, wrk  # noqa: E402
from support.balancing import (apache_pids, make_hosts_project, running_front,  # noqa: E402
                               running_hosts, write_secrets)
from support.sites import make_venv  # noqa: E402
from support.venv import run  # noqa: E402

ROOT = '/tmp/tgdeploy-bench-balancer'
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '5'))
DURATION = os.environ.get('BENCH_DURATION', '6s')
REQUESTS = int(os.environ.get('BENCH_REQUESTS', '8000'))  # the fixed count CPU is read over
PAGE = '/hosts/whoami'
TICK_MS = 1000.0 / os.sysconf('SC_CLK_TCK')
DIRECT = ('direct', 1)
ENGINE_NAMES = {'direct': 'back end directly, no front', 'haproxy': 'HAProxy',
                'apache': 'Apache mod_proxy_balancer'}
CONFIGS = [DIRECT] + [(engine, n) for engine in ('haproxy', 'apache') for n in (1, 2, 3)]


def label(config):
    engine, n = config
    if config == DIRECT:
        return ENGINE_NAMES[engine]
    return '%s, %d back end%s' % (ENGINE_NAMES[engine], n, 's' if n > 1 else '')


def prepare():
    """A fresh folder: a virtualenv with tgdeploy from this checkout and the frameworks, the
    quickstart with the /hosts pages, and the secrets file every host shares."""
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)
    os.chmod(ROOT, 0o755)
    venv = make_venv(os.path.join(ROOT, 'venv'), REPO)
    project = make_hosts_project(venv, ROOT, 'benchhosts')
    return venv, project, write_secrets(os.path.join(ROOT, 'secrets'))


# -- CPU time from /proc ----------------------------------------------------------------

def cpu_ticks(pid, with_children=False):
    """utime + stime of one process in clock ticks (with its reaped children's: a child
    that exits between two reads still counts); 0 for one that is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0
    # After the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    used = int(fields[11]) + int(fields[12])
    if with_children:
        used += int(fields[13]) + int(fields[14])
    return used


def apache_ticks(apache):
    pids = apache_pids(apache)
    return cpu_ticks(pids[0], True) + sum(cpu_ticks(pid) for pid in pids[1:])


def front_ticks(front):
    pids = front.pids()
    if front.engine == 'apache':
        return cpu_ticks(pids[0], True) + sum(cpu_ticks(pid) for pid in pids[1:])
    return sum(cpu_ticks(pid) for pid in pids)


def ab(url):
    """Complete and failed requests of `ab -k -n REQUESTS -c CONNECTIONS`."""
    out = run(['ab', '-q', '-k', '-n', str(REQUESTS), '-c', str(CONNECTIONS), url]).stdout
    complete = int(re.search(r'Complete requests:\s+(\d+)', out).group(1))
    failed = int(re.search(r'Failed requests:\s+(\d+)', out).group(1))
    non_2xx = re.search(r'Non-2xx responses:\s+(\d+)', out)
    return complete, failed + (int(non_2xx.group(1)) if non_2xx else 0)


# -- one measurement --------------------------------------------------------------------

@contextlib.contextmanager
def target(config, hosts, workdir):
    """(URL, front or None) of one configuration, its front running meanwhile."""
    engine, n = config
    if config == DIRECT:
        yield hosts[0].url, None
        return
    with running_front(engine, [h.url for h in hosts[:n]], workdir) as front:
        yield front.url, front


def wait_ok(url, times, timeout=60):
    """``times`` answers 200 in a row (each back end behind the front has answered)."""
    deadline = time.time() + timeout
    ok = 0
    while ok < times:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                ok = ok + 1 if response.status == 200 else 0
        except OSError:
            ok = 0
        if time.time() > deadline:
            raise AssertionError('no %d answers 200 in a row from %s' % (times, url))


def measure(config, hosts, workdir):
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    with target(config, hosts, workdir) as (base, front):
        wait_ok(base + PAGE, 6)
        wrk(base + PAGE, '2s')
        result = wrk(base + PAGE, DURATION)
        front_before = front_ticks(front) if front else 0
        hosts_before = [apache_ticks(h.apache) for h in hosts]
        complete, failed = ab(base + PAGE)
        front_used = (front_ticks(front) - front_before) if front else None
        hosts_used = [apache_ticks(h.apache) - before for h, before in zip(hosts, hosts_before)]
    result.update(
        front_ms=front_used * TICK_MS / complete if front else None,
        backends_ms=sum(hosts_used) * TICK_MS / complete,
        split=[used / float(sum(hosts_used) or 1) for used in hosts_used],
        ab_failed=failed)
    return result


# -- the table --------------------------------------------------------------------------

def row(config, runs, direct_rps):
    rps = statistics.median(r['rps'] for r in runs)
    front = ([r['front_ms'] for r in runs] if config != DIRECT else None)
    split = '/'.join('%.0f' % (100 * statistics.median(r['split'][i] for r in runs))
                     for i in range(len(runs[0]['split'])))
    return '| %s | %s | %.2f | %s | %s | %s | %s | %d |' % (
        label(config), span([r['rps'] for r in runs], '%.0f'), rps / direct_rps,
        span([r['p99'] for r in runs], '%.1f'),
        span(front, '%.2f') if front else '–', span([r['backends_ms'] for r in runs], '%.2f'),
        split, sum(r['bad'] + r['ab_failed'] for r in runs))


def table(results, elapsed):
    direct_rps = statistics.median(r['rps'] for r in results[DIRECT])
    lines = [
        'TurboGears 2 quickstart /hosts/whoami (small JSON) on 3 back ends (private Apaches on '
        '127.0.0.2-4, generated default daemon config), fronts as tg_balancer writes them; '
        'wrk -t2 -c%d -d%s per configuration, %d interleaved rounds (order rotated) after a '
        'warm-up; CPU per request from /proc/<pid>/stat over `ab -k -n %d -c %d`; %s; the '
        'whole run took %.0f s. Median (min–max).' % (
            CONNECTIONS, DURATION, ROUNDS, REQUESTS, CONNECTIONS, machine(), elapsed),
        '',
        '| configuration | requests/s | ratio to direct | p99 ms | front CPU ms/request | '
        'back ends CPU ms/request | back-end share, % (127.0.0.2/.3/.4) | failed |',
        '|---|---|---|---|---|---|---|---|']
    lines += [row(config, results[config], direct_rps) for config in CONFIGS]
    return '\n'.join(lines)


def main():
    started = time.time()
    venv, project, secrets_file = prepare()
    results = dict((config, []) for config in CONFIGS)
    with running_hosts(venv, project, secrets_file, ROOT) as hosts:
        measure(DIRECT, hosts, os.path.join(ROOT, 'warm-up'))  # a cold machine
        for round_number in range(ROUNDS):
            for config in rotated(CONFIGS, round_number):
                workdir = os.path.join(ROOT, 'runs', '%d-%s-%d' % ((round_number,) + config))
                result = measure(config, hosts, workdir)
                results[config].append(result)
                print('round %d %-42s %7.0f req/s p99 %6.1f ms front %s ms/req back ends '
                      '%.2f ms/req split %s' % (
                          round_number + 1, label(config), result['rps'], result['p99'],
                          '%.2f' % result['front_ms'] if result['front_ms'] is not None
                          else '-', result['backends_ms'],
                          '/'.join('%.0f' % (100 * s) for s in result['split'])), flush=True)
    publish('balancer.py', table(results, time.time() - started))


if __name__ == '__main__':
    main()
