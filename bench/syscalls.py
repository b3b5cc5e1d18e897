"""System calls per request: where Apache spends its extra time on a dynamic request.

Each configuration (the generated default, one candidate change of it at a time, and nginx
-> gunicorn for reference) is started as bench/stacks.py starts it (one cgroup for all its
processes), warmed up, then `strace -c -f` is attached to every process of the stack, split
in two tracers (the front: Apache's parent, relays and log pipe, or nginx; and Python: the
mod_wsgi daemons or gunicorn), while exactly N requests are served (`ab -n N -c 16 -k`).
System calls per request are the counts / N: they do not move with the machine's load,
which is why they matter on a shared machine. The candidates edit the deployed .conf (or
the private Apache's httpd.conf) in the bench's own copy after `paster tgdeploy`, never the
templates. Separately, without strace, each configuration's CPU ms per request (cgroup
cpuacct, bench/stacks.py's measure) is taken in interleaved rounds, as a ratio to the
default of the same round. Prints its tables and writes them into BENCHMARKS.md.

    bash bench/run syscalls   # or: flock /tmp/tgdeploy-bench.lock \
                              #   /opt/tgdeploy-lab/py3/bin/python bench/syscalls.py [--reuse]

BENCH_ROUNDS (default 3: CPU rounds) and BENCH_TRACED (default 1000 requests under
strace) change the run's size; --sites tg2,cherrypy chooses the pages.
"""
import argparse
import collections
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import machine, publish, rotated, span  # noqa: E402
from cost import (CpuGroup, ab, apache_variant, daemon_options, edit, no_queue_timeout,  # noqa
                  no_reloading, DEBIAN_EVENT, ONE_CHILD)
from peers import Site, deploy, wait_ok  # noqa: E402
import stacks  # noqa: E402
from stacks import Stack, empty, measure, med, readings, nginx_gunicorn  # noqa: E402

ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
TRACED = int(os.environ.get('BENCH_TRACED', '1000'))
WARM_UP = 400
DEFAULT = stacks.DEFAULT


def plain_access_log(text):
    """The generated access log written by Apache itself into a file: no rotatelogs pipe."""
    new = re.sub(r'^GlobalLog "\|/usr/bin/rotatelogs [^"]*" ',
                 'GlobalLog "${APACHE_LOG_DIR}/access-plain.log" ', text, flags=re.M)
    return new


def follow_symlinks(text):
    """Options FollowSymLinks on the .wsgi's own folder (the generated config says None):
    Apache then no longer lstat()s each path component of every request's walk there."""
    anchor = '    Options None\n    AllowOverride None\n    # Credentials stay with Apache'
    assert anchor in text
    return text.replace(anchor, anchor.replace('None', 'FollowSymLinks', 1), 1)


def debian_modules(text):
    """The private Apache's httpd.conf with every module Debian's apache2 package enables by
    default (/etc/apache2/mods-enabled: auth_basic, authn_file, authz_user, autoindex, env,
    negotiation, reqtimeout, setenvif, status... and their .conf files), as on a Debian host."""
    anchor = 'LoadModule wsgi_module'
    lines = ['LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so' % (name, name)
             for name in sorted(debian_enabled()) if name not in ('wsgi', 'mpm_event')]
    confs = ['Include /etc/apache2/mods-enabled/%s.conf' % name
             for name in sorted(debian_enabled())
             if name not in ('wsgi', 'mpm_event', 'alias', 'mime', 'dir', 'deflate')
             and os.path.exists('/etc/apache2/mods-enabled/%s.conf' % name)]
    return text.replace(anchor, '\n'.join(lines + confs) + '\n' + anchor, 1)


def debian_enabled():
    return set(name[:-5] for name in os.listdir('/etc/apache2/mods-enabled')
               if name.endswith('.load'))


def loaded_once(text):
    """httpd.conf edits must not load a module twice: the private Apache's own list wins."""
    seen, out = set(), []
    for line in text.split('\n'):
        match = re.match(r'LoadModule (\w+) ', line)
        if match and match.group(1) in seen:
            continue
        if match:
            seen.add(match.group(1))
        out.append(line)
    return '\n'.join(out)


def candidates():
    lean = lambda text: no_queue_timeout(no_reloading(text))  # noqa: E731
    return [
        Stack(DEFAULT, apache_variant()),
        Stack('+ Debian\'s default modules', apache_variant(
            httpd=lambda text: loaded_once(debian_modules(text)))),
        Stack('access log to a plain file (no pipe)', apache_variant(conf=plain_access_log)),
        Stack('WSGIScriptReloading Off', apache_variant(conf=no_reloading)),
        Stack('WSGIScriptReloading Off + queue-timeout 0', apache_variant(conf=lean)),
        Stack('send/receive-buffer-size 262144', apache_variant(conf=daemon_options(
            'send-buffer-size=262144 receive-buffer-size=262144'))),
        Stack('response-buffer-size 1048576', apache_variant(conf=daemon_options(
            'response-buffer-size=1048576'))),
        Stack('event MPM: Debian\'s mpm_event.conf', apache_variant(extra=DEBIAN_EVENT)),
        Stack('event MPM: one relay child x 32 threads', apache_variant(extra=ONE_CHILD)),
        Stack('threads=2', apache_variant(['--threads', '2'])),
        Stack('Options FollowSymLinks on the .wsgi folder', apache_variant(conf=follow_symlinks)),
        Stack('all winners: reloading off, queue-timeout 0, plain log, one child',
              apache_variant(conf=lambda text: plain_access_log(lean(text)), extra=ONE_CHILD)),
        Stack('nginx -> gunicorn sync 2', nginx_gunicorn(['-w', '2'])),
        Stack('nginx -> gunicorn sync %d' % stacks.GUNICORN_WORKERS,
              nginx_gunicorn(['-w', str(stacks.GUNICORN_WORKERS)])),
    ]


# -- tracing -------------------------------------------------------------------------------

def strace(pids, out):
    command = ['strace', '-c', '-f', '-qq', '-U', 'name,calls', '-o', out]
    for pid in pids:
        command += ['-p', str(pid)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def counts(path):
    """{syscall: calls} from an `strace -c -U name,calls` summary."""
    found = {}
    with open(path) as f:
        for line in f:
            match = re.match(r'^\s*(\w+)\s+(\d+)\s*$', line)
            if match and match.group(1) != 'total':
                found[match.group(1)] = int(match.group(2))
    return found


def trace(stack, venv, site, workdir):
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    group = CpuGroup('tgdeploy-syscalls-%d-%s' % (os.getpid(), os.path.basename(workdir)))
    tracers = []
    try:
        with group:
            base, stop = stack.start(venv, site, workdir)
        try:
            url = base + site.page
            wait_ok(url)
            ab(url, WARM_UP)
            time.sleep(1)
            parts = collections.defaultdict(list)
            for pid, (part, _, _) in readings(group).items():
                parts[part].append(pid)
            for part in ('front', 'python'):
                tracers.append((part, os.path.join(workdir, part + '.strace'),
                                strace(parts[part], os.path.join(workdir, part + '.strace'))))
            time.sleep(2)  # attached to every thread
            result = ab(url, TRACED)
        finally:
            for _, _, proc in tracers:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=60)
            stop()
    finally:
        empty(group)
    result['calls'] = dict((part, dict((name, n / float(TRACED))
                                       for name, n in counts(path).items()))
                           for part, path, _ in tracers)
    return result


def top(calls, n=7):
    ranked = sorted(((k, v) for k, v in calls.items() if k != 'futex'),
                    key=lambda item: -item[1])[:n]
    return ', '.join('%s %.1f' % (name, value) for name, value in ranked if value >= 0.05)


def syscall_table(all_stacks, traced, cpu):
    """futex is apart: how often threads wait on a lock (the GIL, Apache's queues) depends on
    the timing of the run; the other calls are the work each request asks for."""
    def total(calls, futex=False):
        return sum(n for name, n in calls.items() if (name == 'futex') == futex)

    base_calls = sum(total(c) for c in traced[DEFAULT]['calls'].values())
    lines = ['| configuration | system calls per request, futex aside: all | front | Python | '
             'ratio to default | futex | CPU ms/request (no strace) | CPU ratio to default | '
             'p99 ms | front, most frequent | Python, most frequent |', '|---' * 11 + '|']
    for stack in all_stacks:
        calls = traced[stack.label]['calls']
        front, python = total(calls['front']), total(calls['python'])
        futex = total(calls['front'], True) + total(calls['python'], True)
        runs, base = cpu[stack.label], cpu[DEFAULT]
        lines.append('| %s | %.1f | %.1f | %.1f | %.2f | %.1f | %s | %.2f | %s | %s | %s |' % (
            stack.label, front + python, front, python, (front + python) / base_calls, futex,
            span([r['cpu']['total'] for r in runs], '%.3f'),
            med([r['cpu']['total'] / b['cpu']['total'] for r, b in zip(runs, base)]),
            span([r['p99'] for r in runs], '%.1f'), top(calls['front']), top(calls['python'])))
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reuse', action='store_true')
    parser.add_argument('--sites', default='tg2,cherrypy')
    parser.add_argument('--only', help='comma-separated candidate numbers (1-based); prints, '
                                       'writes nothing')
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(1))
    venv, project, cherry, _ = stacks.lab(options.reuse)
    sites = [s for s in [
        Site('TurboGears 2 quickstart /demo', 'tg2', project, 'benchapp', '/demo', None),
        Site('CherryPy /about', 'cherrypy', cherry, 'cherryapp', '/about', None)]
        if s.key in options.sites.split(',')]
    for site in sites:
        deploy(venv, site)
    all_stacks = candidates()
    if options.only:
        wanted = set(int(n) for n in options.only.split(',')) | {1}
        all_stacks = [s for n, s in enumerate(all_stacks, 1) if n in wanted]
    started = time.time()
    text = ['`strace -c -f` on every process of the stack over %d requests (`ab -c 16 -k`, '
            'after %d of warm-up); CPU from the cgroup over %d requests without strace, '
            '%d interleaved rounds; %s, **on a loaded machine** (the system-call counts do not '
            'move with the load; CPU per request moves a little, p99 a lot).' % (
                TRACED, WARM_UP, stacks.REQUESTS, ROUNDS, machine())]
    for site in sites:
        traced, cpu = {}, dict((s.label, []) for s in all_stacks)
        for stack in all_stacks:
            workdir = os.path.join(common.ROOT, 'syscalls', '%s-%s' % (
                site.key, re.sub(r'\W', '', stack.label)[:24]))
            traced[stack.label] = trace(stack, venv, site, workdir)
            calls = traced[stack.label]['calls']
            print('%-8s %-60s %.1f front + %.1f python syscalls/request' % (
                site.key, stack.label, sum(calls['front'].values()),
                sum(calls['python'].values())), flush=True)
        for round_number in range(ROUNDS):
            for stack in rotated(all_stacks, round_number):
                workdir = os.path.join(common.ROOT, 'syscalls', '%d-%s-%s-cpu' % (
                    round_number, site.key, re.sub(r'\W', '', stack.label)[:24]))
                requests = stacks.REQUESTS * (1 if site.key == 'tg2' else 2)
                r = measure(stack, venv, site, workdir, requests)
                cpu[stack.label].append(r)
                print('round %d %-8s %-60s %.3f ms/req p99 %.1f' % (
                    round_number + 1, site.key, stack.label, r['cpu']['total'], r['p99']),
                    flush=True)
        text += ['', '**%s**' % site.title, '', syscall_table(all_stacks, traced, cpu)]
    text[0] += ' The whole run took %.0f s.' % (time.time() - started)
    if options.only:
        print('\n'.join(text))
    else:
        publish('syscalls.py', '\n'.join(text))


if __name__ == '__main__':
    main()
