"""Where the CPU of a request goes, process by process and function by function: the
finer view behind bench/cost.py.

    /opt/tgdeploy-lab/py3/bin/python bench/cost_profile.py callgrind [--site tg2|cherrypy]
    /opt/tgdeploy-lab/py3/bin/python bench/cost_profile.py perf [--site tg2|cherrypy]
    /opt/tgdeploy-lab/py3/bin/python bench/cost_profile.py pyspy [--site tg2|cherrypy]

(`--edit NAME`, repeatable, changes the generated config first: see EDITS.)

callgrind: the generated daemon config (Apache and every process it forks) and gunicorn sync
(2 workers), each run under `valgrind --tool=callgrind` twice, serving a small and a large
fixed number of requests after the same warm-up; the difference of the two runs' counts,
divided by the difference in requests, is the instructions one request costs, by process
kind (Apache relay, mod_wsgi daemon, gunicorn worker...) and by function (start-up and
warm-up cancel out). Instruction counts are repeatable where CPU time is not; they do not
weigh cache misses or system calls' time in the kernel.

perf: `perf stat` (task clock, context switches, CPU migrations, page faults, system calls)
and `perf record -e cpu-clock` (the software clock: this machine has no hardware counters)
per process kind while the same two hosts serve a fixed number of requests, per request;
the user and kernel functions the samples fall in.

pyspy: `py-spy record --gil` on the daemon processes and on gunicorn's workers while they
serve the same fixed number of requests: the Python functions that hold the GIL most, on
their own and with what they call, in ms per request (samples / rate / requests).

Both print their tables; nothing is written to BENCHMARKS.md (the numbers are quoted in its
cost section). Uses the kept lab of `bench/cost.py --reuse` (/tmp/tgdeploy-bench-cost).
Wrap it in `flock /tmp/tgdeploy-bench.lock` like every benchmark.
"""
import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from cost import (Host, ab, apache_variant, daemon_options, descendants, gunicorn,  # noqa
                  kind_of, lab, lean, listener, no_access_logs)
from peers import Site, deploy, process_host, wait_ok  # noqa: E402

WARM_UP = 64
PYSPY_REQUESTS = {'tg2': 3000, 'cherrypy': 6000}
PYSPY_RATE = 1000


def slow_timeouts(text):
    """Under valgrind a daemon process needs more than startup-timeout=15 to load the
    application, and more than shutdown-timeout=5 to exit (and write its counts)."""
    return text.replace('startup-timeout=15', 'startup-timeout=900').replace(
        'shutdown-timeout=5', 'shutdown-timeout=300')


def valgrind_apache(out):
    """Runs `apache2 -k start` under callgrind: every process Apache forks is counted."""
    def wrap(apache):
        wrapper = os.path.join(apache.root, 'apache2-callgrind')
        with open(wrapper, 'w') as f:
            f.write('#!/bin/sh\ncase "$*" in *"-k start"*) exec valgrind -q '
                    '--log-file=%s/vg.%%p.log --tool=callgrind '
                    '--callgrind-out-file=%s/callgrind.out.%%p %s "$@";; esac\n'
                    'exec %s "$@"\n' % (out, out, apache.binary, apache.binary))
        os.chmod(wrapper, 0o755)
        apache.binary = wrapper
    return wrap


def valgrind_python(out):
    return lambda venv: 'valgrind -q --log-file=%s/vg.%%p.log --tool=callgrind ' \
                        '--callgrind-out-file=%s/callgrind.out.%%p %s' % (out, out, venv.python)


def profiled_hosts(out, conf_edits=()):
    """The generated default (under callgrind, shutdown-timeout raised), gunicorn sync."""
    def conf(text):
        text = slow_timeouts(text)
        for change in conf_edits:
            text = change(text)
        return text
    return [Host('default 2 x 8', apache_variant(conf=conf, wrap=valgrind_apache(out)),
                 'daemon'),
            Host('gunicorn sync, 2 workers', gunicorn_under(out), 'process')]


def gunicorn_under(out):
    return process_host(lambda venv, ini, port, workdir: valgrind_python(out)(venv).split() + [
        venv.bin('gunicorn'), '--paste', ini, '-b', '127.0.0.1:%d' % port, '-w', '2',
        '--graceful-timeout', '300', '--timeout', '600'])


def serve_under_callgrind(host, venv, site, requests, out):
    """One run: start under callgrind, warm up, serve ``requests``, stop; returns the kind
    of each pid (its counts are in out/callgrind.out.<pid>)."""
    os.makedirs(out)
    os.chmod(out, 0o777)
    workdir = out + '-work'
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    base, stop = host.start(venv, site, workdir)
    try:
        url = base + site.page
        wait_ok(url, timeout=900)
        ab(url, WARM_UP)
        root, holders = listener(int(base.rsplit(':', 1)[1]))
        pids = descendants(root)
        kinds = dict((pid, kind_of(pid, root, host.layout, pids, holders)) for pid in pids)
        ab(url, requests)
        holders = listener(int(base.rsplit(':', 1)[1]))[1]  # children Apache added meanwhile
        pids = descendants(root)
        kinds.update((pid, kind_of(pid, root, host.layout, pids, holders)) for pid in pids
                     if pid not in kinds)
        if host.layout == 'daemon':
            # Apache's stop kills daemon processes that take long to exit (as they do under
            # valgrind) before they write their counts: end them first, one by one.
            for pid in [p for p, kind in kinds.items() if kind == 'python']:
                os.kill(pid, signal.SIGTERM)
                deadline = time.time() + 300
                while os.path.exists('/proc/%d' % pid) and time.time() < deadline:
                    time.sleep(0.2)
    finally:
        stop()
    with open(os.path.join(out, 'kinds.json'), 'w') as f:
        json.dump(kinds, f)
    return kinds


def functions(path):
    """{function: exclusive instructions} and the total of one callgrind output file."""
    out = subprocess.run(['callgrind_annotate', '--threshold=100', '--inclusive=no', path],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    counts = collections.Counter()
    total = int(re.search(r'^([\d,]+) \(100.0%\)\s+PROGRAM TOTALS', out, re.M).group(1)
                .replace(',', ''))
    for line in out.splitlines():
        m = re.match(r'^\s*([\d,]+) \([\s\d.]+%\)\s+(\S.*?)(?: \[(.*)\])?$', line)
        if m and 'PROGRAM TOTALS' not in line:
            name = m.group(2).split(':', 1)[-1]
            obj = os.path.basename(m.group(3) or '?')
            counts['%s [%s]' % (name, obj)] += int(m.group(1).replace(',', ''))
    return counts, total


def per_kind(out):
    with open(os.path.join(out, 'kinds.json')) as f:
        kinds = dict((int(pid), kind) for pid, kind in json.load(f).items())
    totals, funcs, missing = collections.Counter(), {}, []
    for pid, kind in kinds.items():
        path = os.path.join(out, 'callgrind.out.%d' % pid)
        if not os.path.exists(path):
            missing.append((pid, kind))
            continue
        counts, total = functions(path)
        totals[kind] += total
        funcs.setdefault(kind, collections.Counter()).update(counts)
    return totals, funcs, missing


def callgrind(options):
    venv, project, cherry = lab(True)
    site = site_of(options.site, project, cherry)
    deploy(venv, site)
    small, large = options.requests
    edits = [EDITS[name] for name in options.edit]
    report = []
    for label_index in range(2):
        runs = []
        for n in (small, large):
            out = os.path.join(common.ROOT, 'callgrind-%d-%d' % (label_index, n))
            host = profiled_hosts(out, edits)[label_index]
            print('%s: %d requests under callgrind...' % (host.label, n), flush=True)
            serve_under_callgrind(host, venv, site, n, out)
            runs.append(per_kind(out))
        (t1, f1, m1), (t2, f2, m2) = runs
        label = host.label
        report.append('## %s, %s: instructions per request ((run of %d - run of %d) / %d)'
                      % (label, site.title, large, small, large - small))
        if m1 or m2:
            report.append('(no counts from %s: killed before they could write them)' % (m1 + m2))
        for kind in sorted(set(t1) | set(t2)):
            per = (t2[kind] - t1[kind]) / float(large - small)
            report.append('\n### %s: %.0f instructions per request\n' % (kind, per))
            delta = f2.get(kind, collections.Counter())
            delta.subtract(f1.get(kind, collections.Counter()))
            for name, count in delta.most_common(options.top):
                report.append('%12.0f  %5.1f%%  %s' % (count / float(large - small),
                                                       100.0 * count / (per * (large - small)),
                                                       name))
        print('\n'.join(report), flush=True)
    print('\n\n' + '\n'.join(report))


def default_and_gunicorn(options):
    """(venv, site, requests, hosts) for perf and pyspy: the generated default (with the
    --edit changes) and gunicorn sync, on the site --site names."""
    venv, project, cherry = lab(True)
    site = site_of(options.site, project, cherry)
    deploy(venv, site)
    edits = [EDITS[name] for name in options.edit]

    def conf(text):
        for change in edits:
            text = change(text)
        return text
    hosts = [Host('default 2 x 8', apache_variant(conf=conf if edits else None), 'daemon'),
             Host('gunicorn sync, 2 workers', gunicorn(['-w', '2']), 'process')]
    return venv, site, PYSPY_REQUESTS[site.key], hosts


def host_workdir(prefix, host):
    workdir = os.path.join(common.ROOT, prefix + re.sub(r'\W', '', host.label))
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    return workdir


def warmed_up(base, site):
    """(the page's URL, the listening process, the pids holding the socket, the server's
    processes) once the host answers and has served the warm-up."""
    url = base + site.page
    wait_ok(url)
    ab(url, 800)
    time.sleep(1)
    root, holders = listener(int(base.rsplit(':', 1)[1]))
    return url, root, holders, descendants(root)


# -- perf (software clock: no hardware counters here) --------------------------------------

def perf(options):
    """perf stat (context switches, migrations, page faults) and perf record -e cpu-clock
    (user and kernel functions) on each kind of process while it serves a fixed number of
    requests."""
    venv, site, requests, hosts = default_and_gunicorn(options)
    for host in hosts:
        workdir = host_workdir('perf-', host)
        base, stop = host.start(venv, site, workdir)
        watchers = []
        try:
            url, root, holders, pids = warmed_up(base, site)
            by_kind = collections.defaultdict(list)
            for pid in pids:
                by_kind[kind_of(pid, root, host.layout, pids, holders)].append(str(pid))
            for kind, members in sorted(by_kind.items()):
                data = os.path.join(workdir, 'perf-%s.data' % kind)
                watchers.append((kind, 'record', subprocess.Popen(
                    ['perf', 'record', '-q', '-e', 'cpu-clock', '-F', '4000', '-o', data,
                     '--pid', ','.join(members)], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL), data))
                watchers.append((kind, 'stat', subprocess.Popen(
                    ['perf', 'stat', '-x', ',', '-e',
                     'task-clock,context-switches,cpu-migrations,page-faults,'
                     'raw_syscalls:sys_enter',
                     '--pid',
                     ','.join(members)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    text=True), None))
            time.sleep(1)
            ab(url, requests)
        finally:
            for _, _, proc, _ in watchers:
                proc.send_signal(signal.SIGINT)
            stats = {}
            for kind, what, proc, _ in watchers:
                out = proc.communicate(timeout=120)[1]
                if what == 'stat':
                    stats[kind] = out
            stop()
        print('\n## %s, %s: per request (%d requests)\n' % (host.label, site.title, requests))
        for kind, out in sorted(stats.items()):
            counts = {}
            for line in out.splitlines():
                fields = line.split(',')
                if len(fields) > 3 and fields[0].replace('.', '').isdigit():
                    counts[fields[2]] = float(fields[0])
            print('%-8s %s' % (kind, ', '.join('%s %.3f' % (name, value / requests) for name, value
                                                in sorted(counts.items()))))
        for kind, what, _, data in watchers:
            if what != 'record':
                continue
            report = subprocess.run(
                ['perf', 'report', '-i', data, '--stdio', '--no-children', '--sort', 'dso,sym',
                 '--percent-limit', '0.7'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True).stdout
            print('\n### %s: where the cpu-clock samples fall\n' % kind)
            print('\n'.join([line for line in report.splitlines()
                             if line.strip() and not line.startswith('#')][:options.top]))


# -- py-spy --------------------------------------------------------------------------------

def pyspy(options):
    venv, site, requests, hosts = default_and_gunicorn(options)
    spy = venv.bin('py-spy')
    if not os.path.exists(spy):
        venv.pip_install('py-spy')
    for host in hosts:
        workdir = host_workdir('pyspy-', host)
        base, stop = host.start(venv, site, workdir)
        spies = []
        try:
            url, root, holders, pids = warmed_up(base, site)
            python = [p for p in pids
                      if kind_of(p, root, host.layout, pids, holders) == 'python']
            for pid in python:
                path = os.path.join(workdir, 'pyspy-%d.txt' % pid)
                spies.append((subprocess.Popen(
                    [spy, 'record', '--pid', str(pid), '--rate', str(PYSPY_RATE), '--gil',
                     '--nonblocking', '--format', 'raw', '--output', path],
                    stdout=subprocess.DEVNULL, stderr=open(path + '.err', 'w')), path))
            time.sleep(2)
            ab(url, requests)
        finally:
            for proc, _ in spies:
                proc.send_signal(signal.SIGINT)
            for proc, _ in spies:
                proc.wait(timeout=60)
            stop()
        for _, path in spies:
            if not os.path.exists(path):
                with open(path + '.err') as f:
                    raise RuntimeError('py-spy wrote nothing: %s' % f.read()[-2000:])
        summarize(host.label, site.title, [path for _, path in spies], options.top, requests)


def summarize(label, title, paths, top, requests):
    leaf, inclusive, samples = collections.Counter(), collections.Counter(), 0
    for path in paths:
        with open(path) as f:
            # One stack a line ("frame;frame;... COUNT"), but a frame's name may hold a
            # newline (functions made by decorator libraries).
            records = re.findall(r'(.*?) (\d+)\n', f.read(), re.S)
            for stack, count in records:
                stack = stack.replace('\n', ' ')
                count = int(count)
                frames = [frame_name(frame) for frame in stack.split(';')]
                frames = [f for f in frames if f]
                samples += count
                if frames:
                    leaf[frames[-1]] += count
                for name in set(frames):
                    inclusive[name] += count

    def ms(count):  # samples taken at PYSPY_RATE per second while the GIL was held
        return 1000.0 * count / PYSPY_RATE / requests

    print('\n## %s, %s: %d samples holding the GIL (py-spy --gil, %d/s) over %d requests: '
          '%.3f ms of Python per request' % (label, title, samples, PYSPY_RATE, requests,
                                             ms(samples)))
    print('\n### on their own (leaf): ms per request, share\n')
    for name, count in leaf.most_common(top):
        print('%7.3f %6.1f%%  %s' % (ms(count), 100.0 * count / samples, name))
    print('\n### with what they call (inclusive): ms per request, share\n')
    for name, count in inclusive.most_common(top * 2):
        print('%7.3f %6.1f%%  %s' % (ms(count), 100.0 * count / samples, name))


def frame_name(frame):
    """'function (file:line)' -> 'function (file)'; thread and process labels dropped."""
    frame = frame.strip()
    if frame.startswith(('process ', 'thread ')):
        return None
    m = re.match(r'^(.*?) \((.*?)(?::\d+)?\)$', frame)
    if not m:
        return frame
    return '%s (%s)' % (m.group(1), shorten(m.group(2)))


def shorten(path):
    for marker in ('site-packages/', 'lib/python3.11/', '/tmp/tgdeploy-bench-cost/'):
        if marker in path:
            return path.split(marker, 1)[1]
    return os.path.basename(path)


def site_of(key, project, cherry):
    return {'tg2': Site('TurboGears 2 quickstart /demo', 'tg2', project, 'benchapp', '/demo',
                        None),
            'cherrypy': Site('CherryPy /about', 'cherrypy', cherry, 'cherryapp', '/about',
                             None)}[key]


EDITS = {'no-access-logs': no_access_logs,
         'lean': lean,
         'restrict-embedded': lambda text: 'WSGIRestrictEmbedded On\n' + text,
         'threads-1': lambda text: text.replace('threads=8', 'threads=1'),
         'buffers': daemon_options('send-buffer-size=262144 receive-buffer-size=262144')}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('mode', choices=['callgrind', 'perf', 'pyspy'])
    parser.add_argument('--site', default='cherrypy', choices=['tg2', 'cherrypy'])
    parser.add_argument('--requests', type=int, nargs=2, default=[100, 600],
                        help='callgrind: the two runs\' request counts')
    parser.add_argument('--edit', action='append', default=[], choices=sorted(EDITS),
                        help='change the generated config first (repeatable)')
    parser.add_argument('--top', type=int, default=25)
    options = parser.parse_args()
    {'callgrind': callgrind, 'perf': perf, 'pyspy': pyspy}[options.mode](options)


if __name__ == '__main__':
    main()
