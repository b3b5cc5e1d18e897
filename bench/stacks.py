"""The generated deployment against the production stacks users actually run (issue 26).

Each stack serves the same generated ini with the configuration its own documentation
recommends (bench/stack_configs.py says which advice), on 127.0.0.1 with a free port (back
ends on a Unix socket in the stack's folder): tgdeploy's default and README's CPU-bound
profile; nginx -> gunicorn sync and gthread (gunicorn's deploy docs; (2 x cores) + 1
workers, threads 2 x cores, the low end of its "2-4 x cores"); Apache mod_proxy -> the same
gunicorn sync (no mod_wsgi loaded); nginx -> uWSGI over the uwsgi protocol; mod_wsgi-express
with its defaults.
Pages: the TurboGears 2 quickstart's /demo, the CherryPy application's /about, its /io (an
I/O-bound page: it sleeps 20 ms, a stand-in for a database call, then renders a short list;
the page bench/threads.py sweeps) and the bare hello-world (bench/peers.py's sites). Every
process a stack starts (nginx too) runs in one cgroup v1 cpuacct group: CPU ms per request
is that group's usage over a fixed number of requests (`ab -n N -c 16 -k`), split into the
front (nginx, Apache's parent and relay children, its piped logger) and Python (workers,
masters, mod_wsgi daemons) from /proc/<pid>/stat; PSS is the sum of /proc/<pid>/smaps_rollup
over the group's processes, after the warm-up ("at rest") and after the load. Interleaved
rounds (order rotated each round); medians with the min-max of the rounds; ratios to the
generated default of the same round. Writes its tables into BENCHMARKS.md.

    bash bench/run stacks     # or: flock /tmp/tgdeploy-bench.lock \
                              #   /opt/tgdeploy-lab/py3/bin/python bench/stacks.py [--reuse]

Needs scripts/provision-bench (bench/run runs it). BENCH_ROUNDS (default 3) and BENCH_REQUESTS
(default 2000 on the TurboGears 2 page, a quarter of that on /io, whose 20 ms wait bounds a
sync worker to 50 requests a second, and twice that on the others) change the run's size.
`--sites tg2,cherrypy,io,hello` chooses the pages (all four by default).
"""
import argparse
import collections
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import REPO, machine, prepare, publish, rotated, span  # noqa: E402
from cost import CpuGroup, ab, apache_variant, edit, profile_host, pss_uss_kb  # noqa: E402
from peers import Site, deploy, to_hello_world, wait_ok  # noqa: E402
from support.httpd import Apache, free_port  # noqa: E402
from support.venv import Venv  # noqa: E402
import stack_configs  # noqa: E402

ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
REQUESTS = int(os.environ.get('BENCH_REQUESTS', '2000'))
WARM_UP = 800
LAB = os.environ.get('TGDEPLOY_LAB', '/opt/tgdeploy-lab')
WHEELS = os.path.join(LAB, 'bench', 'wheels')
STACKS_ROOT = '/tmp/tgdeploy-bench-stacks'
CORES = os.cpu_count()
GUNICORN_WORKERS = 2 * CORES + 1
GTHREADS = 2 * CORES
DEFAULT = 'tgdeploy default'
Stack = collections.namedtuple('Stack', 'label start')


def io_site(cherry):
    """The CherryPy application's /io page: it sleeps 20 ms (a stand-in for a database
    call) and renders a 50-row list; the threads of a daemon process are for such pages."""
    return Site('CherryPy /io (sleeps 20 ms: a stand-in for a database call)', 'io', cherry,
                'cherryapp', '/io', None)


def nginx_binary():
    """Debian's nginx, or its package unpacked by scripts/provision-bench."""
    unpacked = os.path.join(LAB, 'bench', 'nginx', 'usr', 'sbin', 'nginx')
    found = shutil.which('nginx') or (os.path.exists(unpacked) and unpacked)
    if not found:
        raise SystemExit('no nginx: run scripts/provision-bench')
    return found


# -- starting and stopping -----------------------------------------------------------------

def spawn(command, cwd, log):
    """A server process in a session of its own; its stop() ends the whole session."""
    with open(log, 'ab') as out:
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def stop():
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    return stop


def wait_socket(path, timeout=60):
    deadline = time.time() + timeout
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.05)
    if not os.path.exists(path):
        raise RuntimeError('no socket %s after %d s' % (path, timeout))


def chained(*stops):
    """One stop() for a stack: every part is stopped even if one of them fails."""
    def stop():
        errors = []
        for one in stops:
            try:
                one()
            except Exception as error:  # noqa: BLE001 - the others must still stop
                errors.append(error)
        if errors:
            raise errors[0]
    return stop


def gunicorn(venv, site, workdir, args):
    sock = os.path.join(workdir, 'gunicorn.sock')
    ini = os.path.join(site.project, 'apache', site.slug + '.ini')
    stop = spawn([venv.bin('gunicorn'), '--paste', ini, '-b', 'unix:' + sock] + args,
                 site.project, os.path.join(workdir, 'gunicorn.log'))
    try:
        wait_socket(sock)
    except Exception:
        stop()
        raise
    return sock, stop


def nginx(workdir, upstream_block, location):
    port = free_port()
    path = stack_configs.write_nginx(workdir, port, upstream_block, location)
    stop = spawn([nginx_binary(), '-p', workdir, '-e', os.path.join(workdir, 'nginx-error.log'),
                  '-c', path, '-g', 'daemon off;'], workdir, os.path.join(workdir, 'nginx.log'))
    return 'http://127.0.0.1:%d' % port, stop


def nginx_gunicorn(args):
    def start(venv, site, workdir):
        sock, stop_back = gunicorn(venv, site, workdir, args)
        try:
            url, stop_front = nginx(workdir, stack_configs.gunicorn_upstream(sock),
                                    stack_configs.GUNICORN_LOCATION)
        except Exception:
            stop_back()
            raise
        return url, chained(stop_front, stop_back)
    return start


def apache_proxy_gunicorn(args):
    def start(venv, site, workdir):
        sock, stop_back = gunicorn(venv, site, workdir, args)
        try:
            conf = stack_configs.write_apache_proxy(workdir, sock)
            apache = Apache(workdir, [conf], log_level='warn',
                            extra=stack_configs.PROXY_MODULES)
            # No mod_wsgi in a proxy's Apache (the private Apache's template loads it).
            edit(apache.config, lambda text: re.sub(r'^(LoadModule wsgi_module|WSGISocketPrefix)'
                                                    r' .*\n', '', text, flags=re.M))
            apache.start(None)
        except Exception:
            stop_back()
            raise
        return apache.url, chained(apache.stop, stop_back)
    return start


def nginx_uwsgi(venv, site, workdir):
    sock = os.path.join(workdir, 'uwsgi.sock')
    ini = os.path.join(site.project, 'apache', site.slug + '.ini')
    config = stack_configs.write_uwsgi(workdir, sock, venv.prefix, ini, site.project)
    stop_back = spawn([venv.bin('uwsgi'), '--ini', config], site.project,
                      os.path.join(workdir, 'uwsgi.log'))
    try:
        wait_socket(sock)
        url, stop_front = nginx(workdir, '', stack_configs.uwsgi_location(sock))
    except Exception:
        stop_back()
        raise
    return url, chained(stop_front, stop_back)


def express(venv, site, workdir):
    port = free_port()
    ini = os.path.join(site.project, 'apache', site.slug + '.ini')
    stop = spawn([venv.bin('mod_wsgi-express'), 'start-server', '--application-type', 'paste',
                  ini, '--host', '127.0.0.1', '--port', str(port), '--user', 'www-data',
                  '--group', 'www-data', '--locale', 'C.UTF-8', '--server-root',
                  os.path.join(workdir, 'express')], site.project,
                 os.path.join(workdir, 'express.log'))
    return 'http://127.0.0.1:%d' % port, stop


def stacks():
    sync = ['-w', str(GUNICORN_WORKERS)]
    return [
        Stack(DEFAULT, apache_variant()),
        Stack('tgdeploy CPU-bound profile', profile_host().start),
        Stack('nginx -> gunicorn sync %d' % GUNICORN_WORKERS, nginx_gunicorn(sync)),
        Stack('nginx -> gunicorn sync 2 (the issue\'s)', nginx_gunicorn(['-w', '2'])),
        Stack('nginx -> gunicorn gthread %d x %d' % (GUNICORN_WORKERS, GTHREADS),
              nginx_gunicorn(sync + ['-k', 'gthread', '--threads', str(GTHREADS)])),
        Stack('Apache mod_proxy -> gunicorn sync %d' % GUNICORN_WORKERS,
              apache_proxy_gunicorn(sync)),
        Stack('nginx -> uWSGI 4 x 2 (uwsgi protocol)', nginx_uwsgi),
        Stack('mod_wsgi-express defaults (1 x 5)', express),
    ]


# -- measuring -----------------------------------------------------------------------------

def group_pids(group):
    with open(os.path.join(group.path, 'cgroup.procs')) as f:
        return [int(pid) for pid in f.read().split()]


def part_of(pid):
    """front (nginx, Apache's parent and relays, its piped logger) or python."""
    exe = os.path.basename(os.readlink('/proc/%d/exe' % pid))
    with open('/proc/%d/cmdline' % pid, 'rb') as f:
        command = f.read().split(b'\0')[0].decode('utf-8', 'replace')
    if command.startswith('(wsgi:'):
        return 'python'  # a mod_wsgi daemon process
    return 'front' if exe in ('nginx', 'apache2', 'httpd', 'rotatelogs') else 'python'


def readings(group):
    """{pid: (part, CPU seconds, PSS kB)} of the group's processes."""
    found = {}
    for pid in group_pids(group):
        try:
            with open('/proc/%d/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
            found[pid] = (part_of(pid), cpu, pss_uss_kb(pid)[0])
        except (OSError, AttributeError):
            continue
    return found


def empty(group):
    """Kills what a stop left in the group (nothing, normally), then removes it."""
    for pid in group_pids(group):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    group.remove()


def measure(stack, venv, site, workdir, requests):
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    group = CpuGroup('tgdeploy-stacks-%d-%s' % (os.getpid(), os.path.basename(workdir)))
    if not group.path:
        raise SystemExit('cgroup v1 cpuacct not writable here: run as root')
    try:
        with group:
            base, stop = stack.start(venv, site, workdir)
        try:
            url = base + site.page
            wait_ok(url)
            ab(url, WARM_UP)
            time.sleep(1)
            before, usage = readings(group), group.usage()
            result = ab(url, requests)
            after, used = readings(group), group.usage()
        finally:
            stop()
    finally:
        empty(group)
    per_request = 1000.0 / requests
    cpu = dict(total=(used - usage) * per_request)
    for part in ('front', 'python'):
        cpu[part] = per_request * sum(seconds - before.get(pid, (part, 0.0, 0))[1] for pid, (
            kind, seconds, _) in after.items() if kind == part)
    result.update(cpu=cpu, requests=requests,
                  pss_rest=sum(r[2] for r in before.values()) / 1024.0,
                  pss_load=sum(r[2] for r in after.values()) / 1024.0,
                  processes=len(after))
    return result


def run_rounds(all_stacks, sites, venv):
    results = dict((site.key, dict((s.label, []) for s in all_stacks)) for site in sites)
    measure(all_stacks[0], venv, sites[0], os.path.join(common.ROOT, 'stacks', 'warm-up'),
            WARM_UP)
    for round_number in range(ROUNDS):
        for site in sites:
            for stack in rotated(all_stacks, round_number):
                workdir = os.path.join(common.ROOT, 'stacks', '%d-%s-%s' % (
                    round_number, site.key, re.sub(r'\W', '', stack.label)[:24]))
                r = measure(stack, venv, site, workdir, requests_for(site))
                results[site.key][stack.label].append(r)
                print('round %d %-8s %-44s %.3f ms/req (front %.3f python %.3f) %5.0f req/s '
                      'p50 %.1f p99 %.1f ms bad %d, PSS %.0f/%.0f MB' % (
                          round_number + 1, site.key, stack.label, r['cpu']['total'],
                          r['cpu']['front'], r['cpu']['python'], r['rps'], r['p50'], r['p99'],
                          r['bad'], r['pss_rest'], r['pss_load']), flush=True)
    return results


def requests_for(site):
    """Requests per measurement: REQUESTS on the TurboGears 2 page, a quarter on the
    I/O-bound page (its 20 ms sleep, not the CPU, sets the pace), twice on the fast pages."""
    return {'tg2': REQUESTS, 'io': max(REQUESTS // 4, 100)}.get(site.key, 2 * REQUESTS)


def med(values):
    return statistics.median(values)


def ratio(runs, base_runs, key):
    """The median over the rounds of this stack's figure / the default's in the same round."""
    return med([key(r) / key(b) for r, b in zip(runs, base_runs)])


def table(all_stacks, res):
    base = res[DEFAULT]
    lines = ['| stack | CPU ms/request, all processes | front | Python | ratio to default | '
             'req/s | ratio | p50 ms | p99 ms | ratio | PSS MB at rest | after load | '
             'processes | non-2xx or failed |', '|---' * 14 + '|']
    for stack in all_stacks:
        runs = res[stack.label]
        lines.append('| %s | %s | %s | %s | %.2f | %s | %.2f | %s | %s | %.2f | %s | %s | %d | '
                     '%d |' % (
                         stack.label, span([r['cpu']['total'] for r in runs], '%.3f'),
                         span([r['cpu']['front'] for r in runs], '%.3f'),
                         span([r['cpu']['python'] for r in runs], '%.3f'),
                         ratio(runs, base, lambda r: r['cpu']['total']),
                         span([r['rps'] for r in runs], '%.0f'),
                         ratio(runs, base, lambda r: r['rps']),
                         span([r['p50'] for r in runs], '%.1f'),
                         span([r['p99'] for r in runs], '%.1f'),
                         ratio(runs, base, lambda r: r['p99']),
                         span([r['pss_rest'] for r in runs], '%.0f'),
                         span([r['pss_load'] for r in runs], '%.0f'),
                         runs[-1]['processes'], sum(r['bad'] for r in runs)))
    return '\n'.join(lines)


def lab(reuse):
    """The virtualenv and the projects under STACKS_ROOT (fresh, or kept with ``reuse``),
    with the pinned servers from scripts/provision-bench's wheels."""
    common.ROOT = STACKS_ROOT
    venv = Venv(os.path.join(STACKS_ROOT, 'venv'))
    if reuse and os.path.exists(venv.bin('uwsgi')):
        for name in os.listdir(STACKS_ROOT):
            if name not in ('venv', 'benchapp', 'cherryapp', 'helloapp'):
                shutil.rmtree(os.path.join(STACKS_ROOT, name))
    else:
        prepare()
        venv.pip_install('--no-index', '--find-links', WHEELS, 'gunicorn', 'uwsgi', 'mod_wsgi')
        shutil.copytree(os.path.join(REPO, 'tests', 'fixtures', 'cherryapp'),
                        os.path.join(STACKS_ROOT, 'helloapp'))
    # tgdeploy as committed (BENCH_TGDEPLOY_REF, default HEAD), not the working tree.
    source = os.path.join(STACKS_ROOT, 'tgdeploy-head')
    os.makedirs(source)
    subprocess.run('git -C "%s" archive "%s" | tar -x -C "%s"' % (
        REPO, os.environ.get('BENCH_TGDEPLOY_REF', 'HEAD'), source), shell=True, check=True)
    venv.pip_install('--no-deps', '--force-reinstall', source)
    return venv, *(os.path.join(STACKS_ROOT, name) for name in ('benchapp', 'cherryapp',
                                                               'helloapp'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reuse', action='store_true', help='keep the lab in ' + STACKS_ROOT)
    parser.add_argument('--sites', default='tg2,cherrypy,io,hello')
    parser.add_argument('--only', help='comma-separated stack numbers (1-based) to run, '
                                       'the default always included; prints, writes nothing')
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(1))  # stops run in finally blocks
    venv, project, cherry, hello = lab(options.reuse)
    sites = [s for s in [
        Site('TurboGears 2 quickstart /demo', 'tg2', project, 'benchapp', '/demo', None),
        Site('CherryPy /about', 'cherrypy', cherry, 'cherryapp', '/about', None),
        io_site(cherry),
        Site('hello-world WSGI callable', 'hello', hello, 'cherryapp', '/', to_hello_world)]
        if s.key in options.sites.split(',')]
    for site in sites:
        deploy(venv, site)  # the other stacks read the ini without deploying
    all_stacks = stacks()
    if options.only:
        wanted = set(int(n) for n in options.only.split(',')) | {1}
        all_stacks = [s for n, s in enumerate(all_stacks, 1) if n in wanted]
    started = time.time()
    results = run_rounds(all_stacks, sites, venv)
    head = ('`ab -n N -c 16 -k` after %d requests of warm-up, %d interleaved rounds (order '
            'rotated each round), %s, **on a loaded machine** (other work ran on both cores '
            'throughout: req/s and p99 are noisy, CPU per request and PSS much less); the '
            'whole run took %.0f s. Ratios are medians of the per-round ratios to the default '
            'measured in the same round.' % (WARM_UP, ROUNDS, machine(), time.time() - started))
    text = [head]
    for site in sites:
        text += ['', '**%s** (%d requests per measurement)' % (
            site.title, results[site.key][DEFAULT][0]['requests']), '',
            table(all_stacks, results[site.key])]
    if options.only:
        print('\n'.join(text))
    else:
        publish('stacks.py', '\n'.join(text))


if __name__ == '__main__':
    main()
