"""Where a dynamic request's instructions go: Apache's front, mod_wsgi's relay, the Python
daemon, against nginx -> gunicorn sync for the same page (issue 26, item 2).

Instruction counts do not move with the machine's load, where CPU time does. Each stack is
run twice under `valgrind --tool=callgrind` (every process it forks is counted): warm-up,
then a small and a large fixed number of requests (`ab -c 16 -k`); the difference of the two
runs' counts divided by the difference in requests is what one request costs, by process
(Apache's relay children, its parent, the mod_wsgi daemons; nginx's workers, gunicorn's
workers and master) and, inside each, by the part of the code the instructions run in
(PARTS: mod_wsgi, per-directory merging, the walks, mod_rewrite, the access log, other
modules, Apache's core, APR, libc, libpython, extension modules...). Counts are exclusive
(memcpy is libc's, whoever calls it). The piped access logger (rotatelogs) is exec'd, so
callgrind does not follow it: its cost is in the system-call table. Then `strace -c -f`
(bench/syscalls.py's trace) counts system calls per request of the same stacks, front and
Python apart.

    bash bench/run profile    # or: flock /tmp/tgdeploy-bench.lock \
                              #   /opt/tgdeploy-lab/py3/bin/python bench/profile.py [--reuse]

Stacks (`--stacks`, comma-separated): default (the generated config, default options, as
bench/stacks.py runs it), debian (the same with every module Debian's apache2 enables by
default, bench/syscalls.py's debian_modules), lean (WSGIScriptReloading Off and no
queue-timeout: README's CPU profile edits), nginx (nginx -> gunicorn sync, 2 workers, as
bench/stack_configs.py configures them). BENCH_PROFILED (default 500) is the difference in
requests between the two runs (the small run serves 100), BENCH_TRACED the requests under
strace. Uses bench/stacks.py's lab (/tmp/tgdeploy-bench-stacks; --reuse keeps it) and
writes its tables into BENCHMARKS.md (--print: only prints them).
"""
import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import machine, publish  # noqa: E402
from cost import (ab, apache_variant, descendants, kind_of, listener, lean,  # noqa: E402
                  shared_python)
from cost_profile import functions, slow_timeouts, valgrind_apache  # noqa: E402
from peers import Site, deploy, wait_ok  # noqa: E402
from support.httpd import free_port  # noqa: E402
from support.venv import Venv  # noqa: E402
import stack_configs  # noqa: E402
import stacks  # noqa: E402
import syscalls  # noqa: E402

SMALL = 100
PROFILED = int(os.environ.get('BENCH_PROFILED', '500'))
WARM_UP = 64
VALGRIND = ['valgrind', '-q', '--tool=callgrind']
# Apache's graceful-stop waits this long for its children to exit (each writes its counts).
GRACEFUL = 'GracefulShutdownTimeout 800\n'
# The counts per request of each stack's last run (stacks.lab(reuse) empties its lab).
SAVED = '/tmp/tgdeploy-bench-profile'

# (part, test on (function, object file)): the first that matches names an instruction's part.
PARTS = (
    ('mod_wsgi', lambda fn, obj: obj.startswith('mod_wsgi.so')),
    ('per-directory config merging', lambda fn, obj: 'merge' in fn and obj != 'libpython'),
    ('directory/location/file walks', lambda fn, obj: re.search(
        r'ap_(directory|location|file|if)_walk|prep_walk_cache|resolve_symlink', fn)),
    ('mod_rewrite', lambda fn, obj: obj == 'mod_rewrite.so'),
    ('regular expressions (PCRE: the generated RewriteRule/RewriteCond)',
     lambda fn, obj: obj.startswith('libpcre')),
    ('access log (mod_log_config)', lambda fn, obj: obj == 'mod_log_config.so'),
    ('other Apache modules', lambda fn, obj: obj.startswith('mod_')),
    ('Apache core (apache2)', lambda fn, obj: obj in ('apache2', 'httpd')),
    ('APR / APR-util', lambda fn, obj: obj.startswith('libapr')),
    ('nginx', lambda fn, obj: obj == 'nginx'),
    ('libpython (the application, WSGI, gunicorn)', lambda fn, obj: obj.startswith(
        'libpython') or obj.startswith('python3')),
    ('Python extension modules', lambda fn, obj: '.cpython-' in obj or obj.startswith('_')),
    ('libc', lambda fn, obj: obj.startswith('libc.') or obj.startswith('libc-')),
    ('dynamic linker', lambda fn, obj: obj.startswith('ld-linux')),
)
PROCESS_NAMES = {'relay': 'Apache relay children (front)', 'parent': 'Apache parent',
                 'python': 'mod_wsgi daemon processes (Python)',
                 'nginx': 'nginx workers (front)', 'nginx master': 'nginx master',
                 'gunicorn': 'gunicorn workers (Python)', 'gunicorn master': 'gunicorn master'}


def part_of(name):
    """The PARTS name of a callgrind_annotate 'function [object]' key."""
    match = re.match(r'^(.*) \[(.*)\]$', name)
    fn, obj = (match.group(1), match.group(2)) if match else (name, '?')
    for part, test in PARTS:
        if test(fn, obj):
            return part
    return 'other (%s)' % obj if obj != '?' else 'other'


# -- the stacks, each started under callgrind ------------------------------------------------

def apache_stack(out, conf=None, httpd=None):
    """start(venv, site, workdir) -> (url, kinds(), stop()) of the generated config (``conf``
    and ``httpd`` edit it as bench/cost.py's apache_variant does) with Apache under callgrind."""
    def edited(text):
        text = conf(slow_timeouts(text)) if conf else slow_timeouts(text)
        # A request may wait long for a daemon under valgrind: the same per-request work
        # (a queue timeout still set means the same Continue exchange), no 504s.
        return re.sub(r'\b(queue|request|socket)-timeout=[1-9]\d*', r'\1-timeout=900', text)

    def start(venv, site, workdir):
        url, stop = apache_variant(conf=edited, httpd=httpd, wrap=valgrind_apache(out),
                                   extra=GRACEFUL)(venv, site, workdir)
        port = int(url.rsplit(':', 1)[1])

        def kinds():
            root, holders = listener(port)
            pids = descendants(root)
            return dict((pid, kind_of(pid, root, 'daemon', pids, holders)) for pid in pids)

        def stop_all():
            # Apache kills processes that take long to exit (as under valgrind) before they
            # write their counts: end the daemons first, one by one, then stop gracefully
            # (the relay children exit by themselves, GRACEFUL gives them the time).
            now = kinds()
            for pid, kind in now.items():
                if kind == 'python':
                    os.kill(pid, signal.SIGTERM)
                    gone(pid, 300)
            parent = [pid for pid, kind in now.items() if kind == 'parent'][0]
            os.kill(parent, signal.SIGWINCH)  # graceful-stop
            gone(parent, 900)
            stop()
        return url, kinds, stop_all
    return start


def nginx_gunicorn_stack(out, workers=2, shared=False):
    """nginx -> gunicorn sync (Unix socket), both under callgrind, as bench/stacks.py's
    nginx_gunicorn configures them; ``shared``: gunicorn run by a Python linked to
    libpython3.11.so, as mod_wsgi is (bench/cost.py's shared_python), not the static one."""
    def start(venv, site, workdir):
        sock = os.path.join(workdir, 'gunicorn.sock')
        ini = os.path.join(site.project, 'apache', site.slug + '.ini')
        python = shared_python(venv) if shared else venv.python
        back = spawn(traced(out, [python, venv.bin('gunicorn'), '--paste', ini, '-b',
                                  'unix:' + sock, '-w', str(workers), '--timeout', '900',
                                  '--graceful-timeout', '300']),
                     site.project, os.path.join(workdir, 'gunicorn.log'))
        stacks.wait_socket(sock, timeout=900)
        port = free_port()
        conf = stack_configs.write_nginx(workdir, port, stack_configs.gunicorn_upstream(sock),
                                         stack_configs.GUNICORN_LOCATION)
        front = spawn(traced(out, [stacks.nginx_binary(), '-p', workdir, '-e',
                                   os.path.join(workdir, 'nginx-error.log'), '-c', conf, '-g',
                                   'daemon off;']), workdir, os.path.join(workdir, 'nginx.log'))

        def kinds():
            found = {}
            for root, name in ((front.pid, 'nginx'), (back.pid, 'gunicorn')):
                for pid in descendants(root):
                    found[pid] = name + (' master' if pid == root else '')
            return found

        def stop_all():
            for proc in (front, back):  # both graceful: every process writes its counts
                proc.send_signal(signal.SIGQUIT if proc is front else signal.SIGTERM)
            for proc in (front, back):
                try:
                    proc.wait(timeout=300)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)
        return 'http://127.0.0.1:%d' % port, kinds, stop_all
    return start


def traced(out, command):
    return VALGRIND + ['--log-file=%s/vg.%%p.log' % out,
                       '--callgrind-out-file=%s/callgrind.out.%%p' % out] + command


def spawn(command, cwd, log):
    with open(log, 'ab') as f:
        return subprocess.Popen(command, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)


def gone(pid, timeout):
    deadline = time.time() + timeout
    while os.path.exists('/proc/%d' % pid) and time.time() < deadline:
        time.sleep(0.2)


def profiled_stacks(name, out):
    return {
        'default': lambda: apache_stack(out),
        'debian': lambda: apache_stack(out, httpd=lambda text: syscalls.loaded_once(
            syscalls.debian_modules(text))),
        'lean': lambda: apache_stack(out, conf=lean),
        'nginx': lambda: nginx_gunicorn_stack(out),
        'shared': lambda: nginx_gunicorn_stack(out, shared=True),
    }[name]()


LABELS = {'default': stacks.DEFAULT,
          'debian': 'tgdeploy default + Debian\'s default modules',
          'lean': 'tgdeploy default, WSGIScriptReloading Off + queue-timeout 0',
          'nginx': 'nginx -> gunicorn sync 2',
          'shared': 'nginx -> gunicorn sync 2, its Python linked to libpython3.11.so'}


# -- counting ------------------------------------------------------------------------------

def one_run(name, venv, site, requests, out):
    """Serve WARM_UP then ``requests`` under callgrind; {kind: Counter(function: count)}."""
    os.makedirs(out)
    os.chmod(out, 0o777)
    workdir = out + '-work'
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    url, kinds, stop = profiled_stacks(name, out)(venv, site, workdir)
    seen = {}
    try:
        wait_ok(url + site.page, timeout=900)
        ab(url + site.page, WARM_UP)
        seen.update(kinds())
        ab(url + site.page, requests)
        seen.update(kinds())
    finally:
        stop()
    with open(os.path.join(out, 'kinds.json'), 'w') as f:
        json.dump(seen, f)
    counts, missing = {}, []
    for pid, kind in seen.items():
        path = os.path.join(out, 'callgrind.out.%d' % pid)
        if not os.path.exists(path):
            missing.append('%s %d' % (kind, pid))
            continue
        counts.setdefault(kind, collections.Counter()).update(functions(path)[0])
    return counts, missing


def per_request(name, venv, site):
    """{kind: Counter(function: instructions per request)} from a small and a large run."""
    (small, m1), (large, m2) = [one_run(name, venv, site, n, os.path.join(
        SAVED, '%s-%s-%d' % (site.key, name, n))) for n in (SMALL, SMALL + PROFILED)]
    result = {}
    for kind in set(small) | set(large):
        delta = collections.Counter(large.get(kind, {}))
        delta.subtract(small.get(kind, collections.Counter()))
        result[kind] = collections.Counter(dict(
            (fn, n / float(PROFILED)) for fn, n in delta.items()))
    return result, m1 + m2


# Apache's request phases in the relay, by the core functions that run them (named in
# apache2; Debian strips the modules' own): inclusive instructions per request.
PHASES = (
    ('reading and parsing the request', 'ap_read_request'),
    ('before the handler: mapping, walks, merging, access, fixups',
     'ap_process_request_internal'),
    ('- URL to file: mod_rewrite, mod_alias', 'ap_run_translate_name'),
    ('- directory walk', 'ap_directory_walk'),
    ('- location walk', 'ap_location_walk'),
    ('- per-directory config merging (all walks)', 'ap_merge_per_dir_configs'),
    ('- fixups (mod_rewrite per-directory rules, mod_headers...)', 'ap_run_fixups'),
    ('the handler: mod_wsgi relays to the daemon and back', 'ap_invoke_handler'),
    ('- CGI environment (ap_add_common_vars)', 'ap_add_common_vars'),
    ('- CGI environment (ap_add_cgi_vars, with its PATH_TRANSLATED sub-request)',
     'ap_add_cgi_vars'),
    ('access logging (mod_log_config: the file and the rotatelogs pipe)',
     'ap_run_log_transaction'),
    ('the connection loop, all of it', 'ap_run_process_connection'),
)


def inclusive(path):
    """{function name: inclusive instructions} of one callgrind output file."""
    out = subprocess.run(['callgrind_annotate', '--threshold=100', '--inclusive=yes', path],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    found = collections.Counter()
    for line in out.splitlines():
        m = re.match(r'^\s*([\d,]+) \([\s\d.]+%\)\s+(\S.*?)(?: \[(.*)\])?$', line)
        if m and 'PROGRAM TOTALS' not in line:
            name = m.group(2).split(':', 1)[-1]
            if "'" not in name:  # the outermost call of a recursive function only
                found[name] = max(found[name], int(m.group(1).replace(',', '')))
    return found


def phases(site, name, kind='relay'):
    """{core function: inclusive instructions per request} of ``kind``'s processes, from
    the small and the large run's files (SAVED)."""
    totals = []
    for n in (SMALL, SMALL + PROFILED):
        out = os.path.join(SAVED, '%s-%s-%d' % (site.key, name, n))
        with open(os.path.join(out, 'kinds.json')) as f:
            kinds = json.load(f)
        total = collections.Counter()
        for pid, what in kinds.items():
            path = os.path.join(out, 'callgrind.out.%s' % pid)
            if what == kind and os.path.exists(path):
                total.update(inclusive(path))
        totals.append(total)
    return dict((fn, (totals[1][fn] - totals[0][fn]) / float(PROFILED))
                for _, fn in PHASES)


def phase_table(names, site):
    apache = [n for n in names if n not in ('nginx', 'shared')]
    found = dict((n, phases(site, n)) for n in apache)
    lines = ['| Apache relay, by phase (inclusive) | %s |' % ' | '.join(
        LABELS[n] for n in apache), '|---' * (len(apache) + 1) + '|']
    for label, fn in PHASES:
        lines.append('| %s (`%s`) | %s |' % (label, fn, ' | '.join(
            '%.1f' % (found[n][fn] / 1000.0) for n in apache)))
    return '\n'.join(lines)


def by_part(counter):
    parts = collections.Counter()
    for fn, n in counter.items():
        parts[part_of(fn)] += n
    return parts


def instruction_table(names, results):
    """Rows: process kind, then its parts; columns: the stacks (instructions per request,
    in thousands)."""
    rows = collections.OrderedDict()
    for name in names:
        for kind, counter in results[name].items():
            rows.setdefault((kind, None), {})[name] = sum(counter.values())
            for part, n in by_part(counter).items():
                rows.setdefault((kind, part), {})[name] = n
    order = ['relay', 'parent', 'nginx', 'nginx master', 'python', 'gunicorn',
             'gunicorn master']
    lines = ['| process, part | %s |' % ' | '.join(LABELS[n] for n in names),
             '|---' * (len(names) + 1) + '|',
             '| **all processes** | %s |' % ' | '.join(
                 '**%.0f**' % (sum(sum(c.values()) for c in results[n].values()) / 1000.0)
                 for n in names)]
    for kind in sorted(set(k for k, _ in rows), key=lambda k: order.index(k)
                       if k in order else 99):
        lines.append('| **%s** | %s |' % (PROCESS_NAMES.get(kind, kind), ' | '.join(
            '**%.0f**' % (rows[(kind, None)][n] / 1000.0) if n in rows[(kind, None)] else ''
            for n in names)))
        parts = sorted((p for k, p in rows if k == kind and p), key=lambda p: -max(
            rows[(kind, p)].values()))
        for part in parts:
            if max(rows[(kind, part)].values()) < 2000:
                continue  # under 2,000 instructions a request
            lines.append('| &nbsp;&nbsp;%s | %s |' % (part, ' | '.join(
                '%.0f' % (rows[(kind, part)][n] / 1000.0) if n in rows[(kind, part)] else ''
                for n in names)))
    return '\n'.join(lines)


def top_functions(names, results, kinds=('relay', 'python', 'nginx', 'gunicorn'), n=12):
    out = []
    for name in names:
        for kind in kinds:
            if kind not in results[name]:
                continue
            total = sum(results[name][kind].values())
            out += ['', '%s, %s: %.0f instructions per request; the top functions (exclusive):'
                    % (LABELS[name], PROCESS_NAMES.get(kind, kind), total), '']
            for fn, count in results[name][kind].most_common(n):
                out.append('    %9.0f  %5.1f%%  %s' % (count, 100.0 * count / total, fn))
    return out


def syscall_table(names, venv, site):
    """System calls per request (strace -c -f, bench/syscalls.py) of the same stacks."""
    plain = {'default': stacks.Stack(LABELS['default'], apache_variant()),
             'debian': stacks.Stack(LABELS['debian'], apache_variant(
                 httpd=lambda text: syscalls.loaded_once(syscalls.debian_modules(text)))),
             'lean': stacks.Stack(LABELS['lean'], apache_variant(conf=lean)),
             'nginx': stacks.Stack(LABELS['nginx'], stacks.nginx_gunicorn(['-w', '2']))}
    lines = ['| stack | system calls per request, futex aside: front | Python | futex | '
             'front, most frequent | Python, most frequent |', '|---' * 6 + '|']
    for name in [n for n in names if n in plain]:  # the libpython build changes no call
        calls = syscalls.trace(plain[name], venv, site, os.path.join(
            common.ROOT, 'profile', 'strace-%s-%s' % (site.key, name)))['calls']
        front = sum(v for k, v in calls['front'].items() if k != 'futex')
        python = sum(v for k, v in calls['python'].items() if k != 'futex')
        futex = calls['front'].get('futex', 0) + calls['python'].get('futex', 0)
        lines.append('| %s | %.1f | %.1f | %.1f | %s | %s |' % (
            LABELS[name], front, python, futex, syscalls.top(calls['front']),
            syscalls.top(calls['python'])))
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reuse', action='store_true')
    parser.add_argument('--site', default='tg2', choices=('tg2', 'cherrypy'))
    parser.add_argument('--stacks', default='default,lean,debian,nginx')
    parser.add_argument('--no-strace', action='store_true')
    parser.add_argument('--print', action='store_true', help='print only; BENCHMARKS.md as is')
    parser.add_argument('--as-is', action='store_true',
                        help='use the lab as it stands (no reinstall, no deploy): beside a '
                             'run of other stacks')
    parser.add_argument('--saved', action='store_true',
                        help='no callgrind run: the counts the last runs of these stacks saved')
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(1))
    names = options.stacks.split(',')
    if options.as_is:  # the lab as it stands: nothing reinstalled, nothing deployed
        venv, project, cherry = Venv(os.path.join(stacks.STACKS_ROOT, 'venv')), *(
            os.path.join(stacks.STACKS_ROOT, name) for name in ('benchapp', 'cherryapp'))
    else:
        venv, project, cherry, _ = stacks.lab(options.reuse or options.saved)
    site = {'tg2': Site('TurboGears 2 quickstart /demo', 'tg2', project, 'benchapp', '/demo',
                        None),
            'cherrypy': Site('CherryPy /about', 'cherrypy', cherry, 'cherryapp', '/about',
                             None)}[options.site]
    if not options.as_is:
        deploy(venv, site)
    if not options.saved:  # this run's folders; the counts of other stacks stay
        for name in names:
            for n in (SMALL, SMALL + PROFILED):
                shutil.rmtree(os.path.join(SAVED, '%s-%s-%d' % (site.key, name, n)),
                              ignore_errors=True)
                shutil.rmtree(os.path.join(SAVED, '%s-%s-%d-work' % (site.key, name, n)),
                              ignore_errors=True)
    os.makedirs(SAVED, exist_ok=True)
    started = time.time()
    results, missing = {}, []
    for name in names:
        saved = os.path.join(SAVED, '%s-%s.json' % (site.key, name))
        if options.saved:
            with open(saved) as f:
                results[name] = dict((kind, collections.Counter(counts))
                                     for kind, counts in json.load(f).items())
            continue
        print('%s: %d and %d requests under callgrind...' % (name, SMALL, SMALL + PROFILED),
              flush=True)
        results[name], lost = per_request(name, venv, site)
        missing += lost
        with open(saved, 'w') as f:
            json.dump(results[name], f)
        print(instruction_table([name], results), flush=True)
    text = ['Instructions per request (thousands; callgrind, exclusive counts; the run of %d '
            'requests minus the run of %d, over %d; `ab -c 16 -k` after %d of warm-up) on %s, '
            '%s. Instruction counts do not move with the machine\'s load.' % (
                SMALL + PROFILED, SMALL, PROFILED, WARM_UP, site.title, machine()),
            '', instruction_table(names, results)]
    if missing:
        text += ['', 'No counts from (exited before writing them): %s.' % ', '.join(missing)]
    text += ['', 'The relay\'s instructions by the phase of the request that runs them '
             '(thousands per request, inclusive: a phase counts what it calls; the walks and '
             'merges run again inside the CGI sub-request, so the rows overlap):', '',
             phase_table(names, site)]
    if not options.no_strace:
        text += ['', 'System calls per request (`strace -c -f` over %d requests after %d of '
                 'warm-up; bench/syscalls.py\'s trace):' % (syscalls.TRACED, syscalls.WARM_UP),
                 '', syscall_table(names, venv, site)]
    text[0] += (' Tables from the counts the last runs of these stacks saved (about 9 minutes '
                 'a stack on 2 loaded cores).' if options.saved else
                 ' The whole run took %.0f s.' % (time.time() - started))
    text += ['', '<details><summary>The top functions of each process kind</summary>', '',
             '```'] + top_functions(names, results)[1:] + ['```', '', '</details>']
    if options.print:
        print('\n'.join(text))
    else:
        print('\n'.join(text))
        publish('profile.py', '\n'.join(text))


if __name__ == '__main__':
    main()
