"""What a request costs each host: CPU time and memory for a fixed number of requests.

The hosts of bench/peers.py (the generated Apache daemon config, embedded mode,
mod_wsgi-express's defaults, gunicorn sync and gthread, waitress, cheroot), and the
CPU-bound profile of the generated config that this benchmark led to (profile_host), serve
the TurboGears 2 quickstart's /demo and the CherryPy application's /about: the same sites
and the same generated ini as peers.py. Each measurement starts the host, warms it up, then
serves exactly N requests (`ab -n N -c 16 -k`) and reads, before and after:
- the CPU time (utime + stime, /proc/<pid>/stat) of every process of the server: the
  process that holds the listening socket first (Apache's parent, gunicorn's master, or the
  one process of waitress and cheroot) and all its descendants, by kind: Python (mod_wsgi
  daemon processes, display name "(wsgi:...)", which do not hold the listening socket;
  Apache children in embedded mode; gunicorn workers; waitress and cheroot), Apache relay
  (Apache children in daemon mode: they read the request, hand it to a daemon process over a
  Unix socket and send back the answer), log pipe (a piped logger such as rotatelogs) and
  parent/master; and of that, the kernel's share (stime). A process that exits during the
  run is counted too: its parent reaps it, and the parent's cutime + cstime grow by all its
  CPU time (minus what it had used before the run, which the first reading held). As a
  cross-check the server runs in a cgroup of its own (cgroup v1 cpuacct, when this machine
  has it) whose total (cpuacct.usage) must agree;
- the memory: PSS and USS (/proc/<pid>/smaps_rollup) of every process, at rest after the
  warm-up and right after the load, by kind and per Python process;
- from the client: req/s, p50, p99, failures, and ab's own CPU per request.
CPU time per request is far less sensitive to the machine's drift (and to other load on it)
than requests per second. Interleaved rounds, the order rotated each round; medians with
the min-max of the rounds. Writes its tables into BENCHMARKS.md. Run it under
`flock /tmp/tgdeploy-bench.lock` (bench/run does) so that no other benchmark overlaps it.

    bash bench/run cost       # or: /opt/tgdeploy-lab/py3/bin/python bench/cost.py

`--set NAME` measures another set of configurations instead (candidate changes of the
generated config, post-processed after `paster tgdeploy`: see candidate_sets) and prints its
tables without writing BENCHMARKS.md; `--reuse` keeps the virtualenv and projects in
/tmp/tgdeploy-bench-cost between such runs. BENCH_ROUNDS (default 7) and BENCH_REQUESTS
(default 3000; the CherryPy page gets twice as many) change the run's size.
"""
import argparse
import collections
import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
from common import CONNECTIONS, machine, prepare, publish, rotated, span  # noqa: E402
from peers import BASELINE, HOSTS, Site, deploy, process_host, wait_ok  # noqa: E402
from support.httpd import Apache  # noqa: E402
from support.venv import Venv, run  # noqa: E402

ROUNDS = int(os.environ.get('BENCH_ROUNDS', '7'))
# Requests per measurement on the TurboGears 2 page; the CherryPy page, about 3x faster,
# gets twice as many.
REQUESTS = int(os.environ.get('BENCH_REQUESTS', '3000'))
WARM_UP = 800
REUSED_ROOT = '/tmp/tgdeploy-bench-cost'
CPUACCT = '/sys/fs/cgroup/cpuacct'
TICK = os.sysconf('SC_CLK_TCK')
GUNICORN = 'gunicorn sync, 2 workers'
KINDS = ('python', 'relay', 'logger', 'parent')

# How the processes of each host divide into kinds (see kind_of).
LAYOUT = {BASELINE: 'daemon', 'Apache embedded (event MPM)': 'embedded',
          'mod_wsgi-express defaults (1 x 5)': 'daemon'}


# -- reading the processes ---------------------------------------------------------------

def listener(port):
    """The pid of the topmost process holding 127.0.0.1:port's listening socket, and the
    pids of all that hold it."""
    local = '0100007F:%04X' % port
    inodes = set()
    with open('/proc/net/tcp') as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[3] == '0A':
                inodes.add('socket:[%s]' % fields[9])
    holders = {}
    for pid in all_pids():
        try:
            fds = os.listdir('/proc/%d/fd' % pid)
            if any(os.readlink('/proc/%d/fd/%s' % (pid, fd)) in inodes for fd in fds):
                holders[pid] = stat(pid)['ppid']
        except OSError:
            continue
    roots = [pid for pid, ppid in holders.items() if ppid not in holders]
    if len(roots) != 1:
        raise RuntimeError('no single process listens on port %d: %r' % (port, holders))
    return roots[0], set(holders)


def all_pids():
    return [int(name) for name in os.listdir('/proc') if name.isdigit()]


def stat(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    # Fields 4 (ppid), 14-17 (utime, stime, cutime, cstime) of proc(5), counted from 3.
    return {'ppid': int(fields[1]),
            'own': (int(fields[11]) + int(fields[12])) / TICK,
            'system': int(fields[12]) / TICK,
            'reaped': (int(fields[13]) + int(fields[14])) / TICK}


def cmdline(pid):
    with open('/proc/%d/cmdline' % pid, 'rb') as f:
        return f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()


def pss_uss_kb(pid):
    """PSS (shared pages divided among the processes that map them) and USS (the pages
    this process alone maps: what it frees when it exits), in kB."""
    with open('/proc/%d/smaps_rollup' % pid) as f:
        text = f.read()

    def field(name):
        return int(re.search(r'^%s:\s+(\d+) kB' % name, text, re.M).group(1))

    return field('Pss'), field('Private_Clean') + field('Private_Dirty')


def descendants(root):
    parents = {}
    for pid in all_pids():
        try:
            parents[pid] = stat(pid)['ppid']
        except OSError:
            continue
    found, todo = {root}, [root]
    while todo:
        parent = todo.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.update(children)
        todo.extend(children)
    return sorted(found)


def kind_of(pid, root, layout, pids, holders):
    """python, relay, logger or parent; ``holders``: the pids that hold the listening
    socket."""
    if layout in ('daemon', 'embedded'):
        if pid == root:
            return 'parent'
        if os.readlink('/proc/%d/exe' % pid) != os.readlink('/proc/%d/exe' % root):
            return 'logger'  # a piped log (rotatelogs) Apache writes every request's line to
        if layout == 'embedded':  # the Apache children run the application
            return 'python'
        # Daemon mode: the Apache children accept connections and relay them; the mod_wsgi
        # daemon processes (display name "(wsgi:...)") do not hold the listening socket.
        return 'relay' if pid in holders else 'python'
    # A Python server: a master with workers (gunicorn), or one process.
    return 'parent' if pid == root and len(pids) > 1 else 'python'


def snapshot(root, layout, holders):
    """{pid: (kind, stat, (PSS, USS) in kB)} of every process of the server."""
    pids = descendants(root)
    found = {}
    for pid in pids:
        try:
            found[pid] = (kind_of(pid, root, layout, pids, holders), stat(pid),
                          pss_uss_kb(pid))
        except (OSError, AttributeError):  # exited meanwhile
            continue
    return found


def cpu_delta(before, after):
    """CPU seconds by kind between two snapshots, and of it in the kernel (kind + '/sys');
    'exited': what processes that exited in between used during the run (their reapers'
    cutime + cstime grew by all of it)."""
    spent = dict((kind, 0.0) for kind in KINDS + ('exited',) + tuple(k + '/sys' for k in KINDS))
    for pid, (kind, now, _) in after.items():
        then = before.get(pid, (kind, {'own': 0.0, 'system': 0.0, 'reaped': 0.0}, None))[1]
        spent[kind] += now['own'] - then['own']
        spent[kind + '/sys'] += now['system'] - then['system']
        spent['exited'] += now['reaped'] - then['reaped']
    for pid, (kind, then, _) in before.items():
        if pid not in after:
            spent['exited'] -= then['own']
    return spent


def memory(snap):
    """PSS in MB by kind; PSS and USS in MB of each Python process."""
    by_kind = dict((kind, 0.0) for kind in KINDS)
    python, private = [], []
    for kind, _, (pss, uss) in snap.values():
        by_kind[kind] += pss / 1024.0
        if kind == 'python':
            python.append(pss / 1024.0)
            private.append(uss / 1024.0)
    return by_kind, python, private


class CpuGroup(object):
    """A cgroup v1 cpuacct group of its own for the server: this process joins it while it
    starts the server (whose processes stay in it), then goes back where it was."""

    def __init__(self, name):
        self.path = None
        if not os.access(CPUACCT, os.W_OK):
            return
        with open('/proc/self/cgroup') as f:
            mine = [line.strip().split(':', 2)[2] for line in f
                    if 'cpuacct' in line.split(':')[1].split(',')]
        self.home = os.path.join(CPUACCT, mine[0].lstrip('/'))
        self.path = os.path.join(CPUACCT, name)
        os.mkdir(self.path)

    def __enter__(self):
        if self.path:
            self.move(self.path)

    def __exit__(self, *exc):
        if self.path:
            self.move(self.home)

    @staticmethod
    def move(group):
        with open(os.path.join(group, 'cgroup.procs'), 'w') as f:
            f.write(str(os.getpid()))

    def usage(self):
        if not self.path:
            return None
        with open(os.path.join(self.path, 'cpuacct.usage')) as f:
            return int(f.read()) / 1e9

    def remove(self):
        """Removes the group, once the server's last process is gone (else: raises)."""
        if not self.path:
            return
        for _ in range(100):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)
        with open(os.path.join(self.path, 'cgroup.procs')) as f:
            raise RuntimeError('processes left in %s: %s' % (self.path, f.read().split()))


# -- the client ----------------------------------------------------------------------------

def ab(url, requests):
    """Exactly ``requests`` GETs over CONNECTIONS keep-alive connections: req/s, p50, p99
    (ms), non-2xx and failed requests, and the CPU ms per request of ab itself."""
    with tempfile.NamedTemporaryFile(suffix='.csv') as csv:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = run(['ab', '-q', '-r', '-k', '-n', str(requests), '-c', str(CONNECTIONS),
                   '-e', csv.name, url]).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(csv.name) as f:
            percent = dict(line.strip().split(',') for line in f.readlines()[1:])
    complete = int(re.search(r'Complete requests:\s+(\d+)', out).group(1))
    assert complete == requests, out
    failures = re.search(r'\(Connect: (\d+), Receive: (\d+), Length: \d+, Exceptions: (\d+)\)',
                         out)
    non_2xx = re.search(r'Non-2xx responses:\s+(\d+)', out)
    client = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {'rps': float(re.search(r'Requests per second:\s+([\d.]+)', out).group(1)),
            'client': client * 1000.0 / requests,
            'p50': float(percent['50']), 'p99': float(percent['99']),
            'bad': (int(non_2xx.group(1)) if non_2xx else 0) +
            (sum(int(n) for n in failures.groups()) if failures else 0)}


# -- hosts and candidate configurations ----------------------------------------------------

Host = collections.namedtuple('Host', 'label start layout')


def peer_hosts():
    return [Host(label, start, LAYOUT.get(label, 'process')) for label, start in HOSTS]


def apache_variant(args=(), conf=None, httpd=None, extra='', wrap=None, snippet=False):
    """Apache with the generated config as `paster tgdeploy ARGS` writes it, then
    post-processed: ``conf`` edits the text of apache/<slug>.conf, ``httpd`` that of the
    private Apache's httpd.conf, ``extra`` adds server-level directives; ``wrap`` may change
    the Apache object before it starts (its binary: bench/cost_profile.py); ``snippet``
    includes the generated server-level apache/wsgi-server.conf too, as README says."""
    def start(venv, site, workdir):
        deploy(venv, site, args)
        folder = os.path.join(site.project, 'apache')
        path = os.path.join(folder, site.slug + '.conf')
        if conf is not None:
            edit(path, conf)
        includes = ([os.path.join(folder, 'wsgi-server.conf')] if snippet else []) + [path]
        apache = Apache(workdir, includes, log_level='warn', extra=extra)
        if httpd is not None:
            edit(apache.config, httpd)
        if wrap is not None:
            wrap(apache)
        apache.start(None, timeout=600 if wrap else 30)
        return apache.url, apache.stop
    return start


def edit(path, change):
    with open(path) as f:
        text = f.read()
    new = change(text)
    assert new != text, 'nothing changed in %s' % path
    with open(path, 'w') as f:
        f.write(new)


def daemon_options(options):
    """Adds ``options`` to the generated WSGIDaemonProcess."""
    return lambda text: text.replace('display-name=%{GROUP} \\',
                                     'display-name=%%{GROUP} %s \\' % options, 1)


def no_reloading(text):
    """WSGIScriptReloading Off for the application's .wsgi: no stat() of it per request, and
    (with no queue-timeout either) no "200 Continue" round trip from the daemon to the relay
    before each answer (mod_wsgi 4.9.4 sends one when either is on)."""
    anchor = '    WSGIPassAuthorization Off\n'
    assert anchor in text
    return text.replace(anchor, anchor + '    WSGIScriptReloading Off\n', 1)


def no_queue_timeout(text):
    return re.sub(r'queue-timeout=\d+ ', '', text, count=1)


def lean(text):
    """The generated config without the per-request reload check and queue timeout."""
    return no_queue_timeout(no_reloading(text))



def no_access_logs(text):
    return re.sub(r'^(GlobalLog|CustomLog) .*$', '', text, flags=re.M)


SHARED_LAUNCHER = '#include <Python.h>\nint main(int argc, char **argv) ' \
                  '{ return Py_BytesMain(argc, argv); }\n'


def shared_python(venv):
    """venv/bin/python-shared: Debian's Python 3.11 as /usr/bin/python3.11 runs it, but
    linked to libpython3.11.so (as mod_wsgi is) instead of the static copy."""
    path = venv.bin('python-shared')
    if not os.path.exists(path):
        source = path + '.c'
        with open(source, 'w') as f:
            f.write(SHARED_LAUNCHER)
        flags = run(['python3.11-config', '--cflags', '--ldflags', '--embed']).stdout.split()
        run(['gcc', '-O2', '-o', path, source] +
            [f for f in flags if f.startswith(('-I', '-L', '-l'))])
        assert 'libpython3.11.so' in run(['ldd', path]).stdout
    return path


def gunicorn(args, python=None):
    """gunicorn --paste INI with ``args``; run by ``python`` (a function of the venv)."""
    def command(venv, ini, port, workdir):
        head = [python(venv)] if python else []
        return head + [venv.bin('gunicorn'), '--paste', ini, '-b', '127.0.0.1:%d' % port] + args
    return process_host(command)


# The event MPM as Debian's /etc/apache2/mods-available/mpm_event.conf sets it (the private
# Apache of the benchmarks otherwise runs with httpd's compiled-in defaults, StartServers 1).
DEBIAN_EVENT = '''StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150
MaxConnectionsPerChild 0'''
# Server-level lines of the lean profile: no Python in Apache's own processes (the relay
# children and the parent), and the event MPM as Debian ships it.
LEAN_SERVER = 'WSGIRestrictEmbedded On\n' + DEBIAN_EVENT
# One Apache child with 32 relay threads (more than the 16 clients), never retired.
ONE_CHILD = '''StartServers 1
ServerLimit 1
ThreadLimit 32
ThreadsPerChild 32
MaxRequestWorkers 32
MinSpareThreads 1
MaxSpareThreads 32'''


def embedded_mpm(threads):
    """Two Apache children (one per core) of ``threads`` threads each, never retired."""
    return '''StartServers 2
ServerLimit 2
ThreadLimit %d
ThreadsPerChild %d
MaxRequestWorkers %d
MinSpareThreads 1
MaxSpareThreads %d''' % (threads, threads, 2 * threads, 2 * threads)


PROFILE = 'tgdeploy CPU-bound profile (2 x 2, lean)'
# The options of README's profile for CPU-bound applications.
PROFILE_OPTIONS = ['--threads', '2', '--queue-timeout', '0', '--script-reloading', 'no']


def profile_host():
    """The profile this benchmark found for CPU-bound applications (BENCHMARKS.md), as
    README gives it: two threads per process, no per-request reload check or queue timeout
    (PROFILE_OPTIONS), and the generated server-level wsgi-server.conf (no Python in
    Apache's own processes). Nothing else differs from the default row."""
    return Host(PROFILE, apache_variant(PROFILE_OPTIONS, snippet=True), 'daemon')


def candidate_sets():
    """Named sets of configurations for --set: each a list of Hosts, gunicorn sync first."""
    sync = Host(GUNICORN, gunicorn(['-w', '2']), 'process')
    default = Host('default 2 x 8', apache_variant(), 'daemon')
    return {
        'threads': [sync, default,
                    Host('2 x 1', apache_variant(['--threads', '1']), 'daemon'),
                    Host('2 x 2', apache_variant(['--threads', '2']), 'daemon'),
                    Host('2 x 4', apache_variant(['--threads', '4']), 'daemon')],
        'libpython': [sync,
                      Host('gunicorn sync on shared libpython', gunicorn(
                          ['-w', '2'], shared_python), 'process'), default],
        'logs': [sync, default,
                 Host('default, no access logs', apache_variant(
                     conf=no_access_logs, httpd=no_access_logs), 'daemon'),
                 Host('+ BufferedLogs On', apache_variant(extra='BufferedLogs On'), 'daemon')],
        'continue': [sync, default,
                     Host('+ WSGIScriptReloading Off', apache_variant(conf=no_reloading),
                          'daemon'),
                     Host('+ WSGIScriptReloading Off, no queue-timeout', apache_variant(
                         conf=lambda text: no_queue_timeout(no_reloading(text))), 'daemon')],
        'mpm': [sync, default,
                Host('+ Debian\'s mpm_event.conf', apache_variant(extra=DEBIAN_EVENT), 'daemon'),
                Host('+ one relay child', apache_variant(extra=ONE_CHILD), 'daemon'),
                Host('+ WSGIRestrictEmbedded On', apache_variant(
                    extra='WSGIRestrictEmbedded On'), 'daemon')],
        'embedded': [sync, default,
                     Host('embedded, as generated', apache_variant(['--mode', 'embedded']),
                          'embedded')] + [
            Host('embedded, 2 children x %d threads' % n, apache_variant(
                ['--mode', 'embedded'], extra=embedded_mpm(n)), 'embedded') for n in (1, 2, 4)],
        'profiles': [sync, default] + [
            Host('lean 2 x %d' % n, apache_variant(['--threads', str(n)], conf=lean,
                                                   extra=LEAN_SERVER), 'daemon')
            for n in (8, 2, 1)] + [
            Host('lean 2 x 2, no access logs', apache_variant(
                ['--threads', '2'], conf=lambda text: no_access_logs(lean(text)),
                httpd=no_access_logs, extra=LEAN_SERVER), 'daemon')],
        'buffers': [sync, default,
                    Host('send/receive-buffer-size 262144', apache_variant(
                        conf=daemon_options('send-buffer-size=262144 '
                                            'receive-buffer-size=262144')), 'daemon'),
                    Host('response-buffer-size 1048576', apache_variant(
                        conf=daemon_options('response-buffer-size=1048576')), 'daemon')],
    }


# -- measuring -----------------------------------------------------------------------------

def measure(host, venv, site, workdir, requests):
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    group = CpuGroup('tgdeploy-cost-%d-%s' % (os.getpid(), os.path.basename(workdir)))
    try:
        with group:
            base, stop = host.start(venv, site, workdir)
        try:
            url = base + site.page
            wait_ok(url)
            port = int(base.rsplit(':', 1)[1])
            ab(url, WARM_UP)  # every process and thread has answered
            time.sleep(1)
            root, holders = listener(port)
            before, usage = snapshot(root, host.layout, holders), group.usage()
            result = ab(url, requests)
            # Apache may have started children meanwhile: the holders again.
            after, used = snapshot(root, host.layout, listener(port)[1]), group.usage()
        finally:
            stop()
    finally:
        group.remove()
    spent = cpu_delta(before, after)
    result.update(requests=requests, cpu=dict((kind, seconds * 1000.0 / requests)
                                              for kind, seconds in spent.items()),
                  cgroup=None if usage is None else (used - usage) * 1000.0 / requests,
                  rest=memory(before), load=memory(after),
                  processes=collections.Counter(kind for kind, _, _ in after.values()))
    result['cpu']['total'] = sum(result['cpu'][k] for k in KINDS + ('exited',))
    result['cpu']['total/sys'] = sum(result['cpu'][k + '/sys'] for k in KINDS)
    return result


def run_rounds(hosts, sites, venv, name):
    results = dict((site.key, dict((host.label, []) for host in hosts)) for site in sites)
    measure(hosts[0], venv, sites[0], os.path.join(common.ROOT, name, 'warm-up'), WARM_UP)
    for round_number in range(ROUNDS):
        for site in sites:
            for host in rotated(hosts, round_number):
                workdir = os.path.join(common.ROOT, name, '%d-%s-%s' % (
                    round_number, site.key, re.sub(r'\W', '', host.label)))
                requests = REQUESTS * (2 if site.key == 'cherrypy' else 1)
                r = measure(host, venv, site, workdir, requests)
                results[site.key][host.label].append(r)
                print('round %d %-8s %-44s %.3f ms/req (kernel %.3f; python %.3f relay %.3f '
                      'logger %.3f parent %.3f exited %.3f; cgroup %s) %5.0f req/s p99 %.1f '
                      'ms, PSS python %s MB' % (
                          round_number + 1, site.key, host.label, r['cpu']['total'],
                          r['cpu']['total/sys'],
                          r['cpu']['python'], r['cpu']['relay'], r['cpu']['logger'],
                          r['cpu']['parent'], r['cpu']['exited'],
                          '-' if r['cgroup'] is None else '%.3f' % r['cgroup'],
                          r['rps'], r['p99'],
                          '/'.join('%.0f' % m for m in sorted(r['load'][1]))), flush=True)
    return results


# -- tables --------------------------------------------------------------------------------

def med(values):
    return statistics.median(values)


def cpu_table(hosts, results, reference):
    ref = med(r['cpu']['total'] for r in results[reference])
    lines = ['| host | CPU ms/request, all processes | of which in the kernel | Python | Apache '
             'relay | log pipe (rotatelogs) | parent/master | cgroup total (cross-check) | '
             'ratio to %s |' % reference, '|---|---|---|---|---|---|---|---|---|']
    for host in hosts:
        runs = results[host.label]
        cells = [span([r['cpu'][k] for r in runs], '%.3f') +
                 '; kernel %.3f' % med(r['cpu'][k + '/sys'] for r in runs)
                 if any(r['cpu'][k] > 0.0005 for r in runs) else '–' for k in KINDS]
        cgroup = ('–' if runs[0]['cgroup'] is None
                  else span([r['cgroup'] for r in runs], '%.3f'))
        lines.append('| %s | %s | %s | %s | %s | %.2f |' % (
            host.label, span([r['cpu']['total'] for r in runs], '%.3f'),
            span([r['cpu']['total/sys'] for r in runs], '%.3f'), ' | '.join(cells), cgroup,
            med(r['cpu']['total'] for r in runs) / ref))
    return '\n'.join(lines)


def speed_table(hosts, results, reference):
    ref = med(r['rps'] for r in results[reference])
    lines = ['| host | req/s (ab) | ratio to %s | p50 ms | p99 ms | non-2xx or failed | '
             'the client\'s CPU ms/request |' % reference, '|---|---|---|---|---|---|---|']
    for host in hosts:
        runs = results[host.label]
        lines.append('| %s | %s | %.2f | %s | %s | %d | %s |' % (
            host.label, span([r['rps'] for r in runs], '%.0f'), med(r['rps'] for r in runs) / ref,
            span([r['p50'] for r in runs], '%.1f'), span([r['p99'] for r in runs], '%.1f'),
            sum(r['bad'] for r in runs), span([r['client'] for r in runs], '%.3f')))
    return '\n'.join(lines)


def memory_table(hosts, results):
    lines = ['| host | processes: Python + relay + log pipe + parent | PSS, all processes, at '
             'rest | after load | Python processes | Apache relay | log pipe | parent/master | '
             'PSS of each Python process, at rest | after load | USS of each Python process, '
             'after load |', '|---|---|---|---|---|---|---|---|---|---|---|']
    for host in hosts:
        runs = results[host.label]
        counts = runs[-1]['processes']
        lines.append('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
            host.label, ' + '.join(str(counts.get(k, 0)) for k in KINDS),
            span([sum(r['rest'][0].values()) for r in runs], '%.1f'),
            span([sum(r['load'][0].values()) for r in runs], '%.1f'),
            ' | '.join(span([r['load'][0][k] for r in runs], '%.1f') if counts.get(k) else '–'
                       for k in KINDS),
            span([m for r in runs for m in r['rest'][1]], '%.1f'),
            span([m for r in runs for m in r['load'][1]], '%.1f'),
            span([m for r in runs for m in r['load'][2]], '%.1f')))
    return '\n'.join(lines)


def exited_note(results):
    exited = [r['cpu']['exited'] * r['requests'] for site in results.values()
              for runs in site.values() for r in runs]
    gaps = [abs(r['cgroup'] - r['cpu']['total']) / r['cpu']['total'] for site in results.values()
            for runs in site.values() for r in runs if r['cgroup'] is not None]
    note = ('CPU of processes that exited during a run (from their parent\'s cutime + '
            'cstime): %.0f ms over all %d measurements' % (sum(exited), len(exited)))
    if gaps:
        note += ('; the cgroup total differs from the /proc sum by %.1f%% at the median, '
                 '%.1f%% at most' % (100 * med(gaps), 100 * max(gaps)))
    return note + '.'


def tables(hosts, sites, results, reference):
    lines = []
    for site in sites:
        res = results[site.key]
        lines += ['', '**%s** (%d requests per measurement)' % (
            site.title, res[hosts[0].label][0]['requests']), '',
            'CPU time per request, median (min–max) over the rounds:', '',
            cpu_table(hosts, res, reference), '',
            'Memory, MB (PSS: shared pages divided among the processes that map them; USS: '
            'the process\'s own pages), after the load unless noted:', '',
            memory_table(hosts, res), '', 'The same runs, as seen by the client:', '',
            speed_table(hosts, res, reference)]
    return '\n'.join(lines)


def lab(reuse):
    """The virtualenv and the two projects: fresh (common.prepare), or with ``reuse`` kept in
    REUSED_ROOT between runs (tgdeploy reinstalled from this checkout each time)."""
    if not reuse:
        venv, project, cherry = prepare()
        venv.pip_install('gunicorn', 'waitress', 'cheroot', 'mod_wsgi')
        return venv, project, cherry
    common.ROOT = REUSED_ROOT  # prepare() builds there
    venv = Venv(os.path.join(REUSED_ROOT, 'venv'))
    if not os.path.exists(venv.bin('gunicorn')):
        venv, project, cherry = prepare()
        venv.pip_install('gunicorn', 'waitress', 'cheroot', 'mod_wsgi')
        return venv, project, cherry
    venv.pip_install('--no-deps', '--force-reinstall', common.REPO)
    for name in os.listdir(REUSED_ROOT):
        if name not in ('venv', 'benchapp', 'cherryapp'):
            shutil.rmtree(os.path.join(REUSED_ROOT, name))
    return venv, os.path.join(REUSED_ROOT, 'benchapp'), os.path.join(REUSED_ROOT, 'cherryapp')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--set', choices=sorted(candidate_sets()), help='candidate configs')
    parser.add_argument('--sites', default='tg2,cherrypy')
    parser.add_argument('--reuse', action='store_true')
    options = parser.parse_args()
    venv, project, cherry = lab(options.reuse)
    sites = [s for s in [Site('TurboGears 2 quickstart /demo', 'tg2', project, 'benchapp',
                              '/demo', None),
                         Site('CherryPy /about', 'cherrypy', cherry, 'cherryapp', '/about', None)]
             if s.key in options.sites.split(',')]
    for site in sites:
        deploy(venv, site)  # the process hosts read the ini without deploying
    started = time.time()
    if options.set:
        hosts = candidate_sets()[options.set]
        results = run_rounds(hosts, sites, venv, 'cost-' + options.set)
        print(tables(hosts, sites, results, GUNICORN))
        print(exited_note(results))
        print('%.0f s' % (time.time() - started))
        return
    hosts = peer_hosts() + [profile_host()]
    results = run_rounds(hosts, sites, venv, 'cost')
    head = ('`ab -n N -c %d -k` after %d requests of warm-up, %d interleaved rounds (order '
            'rotated each round), %s; the whole run took %.0f s. ' % (
                CONNECTIONS, WARM_UP, ROUNDS, machine(), time.time() - started)
            + exited_note(results))
    publish('cost.py', head + '\n' + tables(hosts, sites, results, GUNICORN))


if __name__ == '__main__':
    main()
