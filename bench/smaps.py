"""What a mod_wsgi daemon process holds that a gunicorn worker does not: smaps, mapping by
mapping.

The generated default (Apache + mod_wsgi daemon mode) and nginx -> gunicorn sync serve the
TurboGears 2 quickstart's /demo (bench/stacks.py's stacks, lab and cgroups); after the
warm-up and N requests, one daemon process and one gunicorn worker (the Python process of
each stack that has served the most CPU) are read from /proc/<pid>/smaps, and their
mappings summed by kind: the Python executable or libpython, Python's extension modules,
Apache and its libraries (mod_wsgi, APR...), the C library and other shared libraries, the
heap, anonymous memory (pymalloc arenas, thread stacks, malloc's arenas), other files. PSS
(shared pages divided among the processes mapping them) and USS (the process's own pages),
in MB; then the mappings only the daemon has. Prints, and writes its table into
BENCHMARKS.md.

    bash bench/run memory     # or: flock /tmp/tgdeploy-bench.lock \
                              #   /opt/tgdeploy-lab/py3/bin/python bench/smaps.py [--reuse]
"""
import argparse
import collections
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import machine, publish  # noqa: E402
from cost import CpuGroup, ab  # noqa: E402
from peers import Site, deploy, wait_ok  # noqa: E402
import stacks  # noqa: E402
import tail  # noqa: E402
from stacks import empty, readings  # noqa: E402

REQUESTS = int(os.environ.get('BENCH_REQUESTS', '2000'))
KINDS = ('python executable / libpython', 'Python extension modules', 'Apache, APR, mod_wsgi',
         'C library and other shared libraries', '[heap]', 'anonymous (arenas, stacks)',
         'other files', '[stack], [vdso]...')


def kind(path):
    if not path:
        return 'anonymous (arenas, stacks)'
    if path == '[heap]':
        return path
    if path.startswith('['):
        return '[stack], [vdso]...'
    name = os.path.basename(path)
    if re.match(r'(libpython|python)3', name):
        return 'python executable / libpython'
    if '/lib-dynload/' in path or '-packages/' in path:
        return 'Python extension modules'
    if '/apache2/' in path or name.startswith(('libapr', 'apache2', 'mod_')):
        return 'Apache, APR, mod_wsgi'
    if '.so' in name:
        return 'C library and other shared libraries'
    return 'other files'


def mappings(pid):
    """{path or '': (PSS kB, USS kB)} of one process."""
    found = collections.defaultdict(lambda: [0, 0])
    path = ''
    with open('/proc/%d/smaps' % pid) as f:
        for line in f:
            head = re.match(r'^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$', line)
            if head:
                path = head.group(1).strip()
                continue
            field = re.match(r'^(Pss|Private_Clean|Private_Dirty):\s+(\d+) kB', line)
            if field:
                found[path][0 if field.group(1) == 'Pss' else 1] += int(field.group(2))
    return found


def busiest_python(group, before):
    after = readings(group)
    python = [(cpu - before.get(pid, (None, 0.0, 0))[1], pid)
              for pid, (part, cpu, _) in after.items() if part == 'python']
    return max(python)[1]


def sample(stack, venv, site, workdir):
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    group = CpuGroup('tgdeploy-smaps-%d-%s' % (os.getpid(), os.path.basename(workdir)))
    try:
        with group:
            base, stop = stack.start(venv, site, workdir)
        try:
            wait_ok(base + site.page)
            before = readings(group)
            ab(base + site.page, REQUESTS)
            time.sleep(1)
            pid = busiest_python(group, before)
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                command = f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
            return command, mappings(pid)
        finally:
            stop()
    finally:
        empty(group)


def by_kind(maps):
    sums = dict((k, [0, 0]) for k in KINDS)
    for path, (pss, uss) in maps.items():
        sums[kind(path)][0] += pss
        sums[kind(path)][1] += uss
    return sums


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reuse', action='store_true')
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(1))
    venv, project, _, _ = stacks.lab(options.reuse)
    site = Site('TurboGears 2 quickstart /demo', 'tg2', project, 'benchapp', '/demo', None)
    deploy(venv, site)
    daemon_stack, worker_stack = stacks.stacks()[0], stacks.stacks()[3]
    daemon_cmd, daemon = sample(daemon_stack, venv, site, os.path.join(
        common.ROOT, 'smaps', 'daemon'))
    worker_cmd, worker = sample(worker_stack, venv, site, os.path.join(
        common.ROOT, 'smaps', 'worker'))
    # The same daemon with one thread: what the other seven threads hold (their stacks and
    # glibc's per-thread malloc arenas are anonymous memory).
    one_stack = tail.candidates()['2x1']
    one_cmd, one = sample(one_stack, venv, site, os.path.join(common.ROOT, 'smaps', 'one'))
    d, w, o = by_kind(daemon), by_kind(worker), by_kind(one)
    lines = ['TurboGears 2 /demo, after %d requests (`ab -c 16 -k`), %s, on a loaded machine. '
             'One process of each: `%s` (%s) and `%s` (%s). MB.' % (
                 REQUESTS, machine(), daemon_cmd, daemon_stack.label, worker_cmd,
                 worker_stack.label), '',
             '| mappings | daemon PSS | daemon USS | worker PSS | worker USS | USS, daemon '
             'minus worker |', '|---|---|---|---|---|---|']
    for k in KINDS + ('all',):
        dk = [sum(v[i] for v in d.values()) for i in (0, 1)] if k == 'all' else d[k]
        wk = [sum(v[i] for v in w.values()) for i in (0, 1)] if k == 'all' else w[k]
        lines.append('| %s | %.1f | %.1f | %.1f | %.1f | %+.1f |' % (
            k, dk[0] / 1024.0, dk[1] / 1024.0, wk[0] / 1024.0, wk[1] / 1024.0,
            (dk[1] - wk[1]) / 1024.0))
    anon = KINDS[5]
    lines += ['', 'The same daemon process with 1 thread instead of 8 (`%s`, %s): anonymous '
              'memory PSS %.1f MB / USS %.1f MB against %.1f / %.1f with 8; all mappings PSS '
              '%.1f MB against %.1f.' % (
                  one_cmd, one_stack.label, o[anon][0] / 1024.0, o[anon][1] / 1024.0,
                  d[anon][0] / 1024.0, d[anon][1] / 1024.0,
                  sum(v[0] for v in o.values()) / 1024.0,
                  sum(v[0] for v in d.values()) / 1024.0)]
    only = sorted(((uss, pss, path) for path, (pss, uss) in daemon.items()
                   if path and path not in worker), reverse=True)
    lines += ['', 'Mapped only by the daemon (USS / PSS kB): ' + '; '.join(
        '`%s` %d / %d' % (os.path.basename(path), uss, pss) for uss, pss, path in only[:15]
        if pss >= 4)]
    publish('smaps.py', '\n'.join(lines))


if __name__ == '__main__':
    main()
