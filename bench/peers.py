"""The generated deployment against the hosts a user would otherwise run.

Three pages, the TurboGears 2 quickstart's /demo, the CherryPy test application's /about
and a bare WSGI hello-world (the ceiling: what each host costs by itself), each through the
ini tgdeploy generates (for the hello-world, the CherryPy project's deployment with its ini
pointed at the hello-world), under: Apache with the generated daemon config
(the baseline of every ratio) and embedded mode, mod_wsgi-express with its defaults,
gunicorn sync and gthread, waitress and cheroot. Interleaved rounds (every host once per
round) so the machine's drift spreads over all of them. Writes its tables into
BENCHMARKS.md and the chart bench/peers.png.

    bash bench/run peers      # or: /opt/tgdeploy-lab/py3/bin/python bench/peers.py
"""
import collections
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (CONNECTIONS, HERE, REPO, ROOT, machine, prepare, publish, rotated,  # noqa
                    span, wrk)
from support.httpd import Apache, free_port  # noqa: E402
from support.venv import run  # noqa: E402
from tgdeploy.settle.options import DEFAULT_THREADS, default_processes  # noqa: E402

ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
DURATION = os.environ.get('BENCH_DURATION', '6s')
BASELINE = 'tgdeploy default (Apache daemon, %d x %d)' % (default_processes(), DEFAULT_THREADS)
# ``retarget``: None, or a function applied to the generated ini after each `paster tgdeploy`.
Site = collections.namedtuple('Site', 'title key project slug page retarget')


def to_hello_world(ini):
    """The generated ini, its application swapped for the bare hello-world (logging and
    everything else as generated)."""
    generated = 'use = egg:tgdeploy#cherrypy'
    assert generated in ini, 'the generated ini changed: %s not found' % generated
    return ini.replace(generated, 'use = call:cherryapp.hello:make_app')


def deploy(venv, site, args=()):
    run([venv.bin('paster'), 'tgdeploy', '-q', '--overwrite', '--mount', '/'] + list(args),
        cwd=site.project)
    if site.retarget is not None:
        path = os.path.join(site.project, 'apache', site.slug + '.ini')
        with open(path) as f:
            ini = site.retarget(f.read())
        with open(path, 'w') as f:
            f.write(ini)


def apache_host(args):
    def start(venv, site, workdir):
        deploy(venv, site, args)
        apache = Apache(workdir, [os.path.join(site.project, 'apache', site.slug + '.conf')],
                        log_level='warn')
        apache.start(None)
        return apache.url, apache.stop
    return start


def process_host(command):
    def start(venv, site, workdir):
        port = free_port()
        ini = os.path.join(site.project, 'apache', site.slug + '.ini')
        proc = subprocess.Popen(command(venv, ini, port, workdir), cwd=site.project,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

        def stop():
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
        return 'http://127.0.0.1:%d' % port, stop
    return start


def python_server(code):
    """A host started as `python -c CODE`, CODE filled with the ini path and the port."""
    return process_host(lambda venv, ini, port, workdir: [
        venv.python, '-c', code.format(ini=ini, port=port)])


HOSTS = [
    (BASELINE, apache_host([])),
    ('Apache embedded (event MPM)', apache_host(['--mode', 'embedded'])),
    ('mod_wsgi-express defaults (1 x 5)', process_host(
        lambda venv, ini, port, workdir: [
            venv.bin('mod_wsgi-express'), 'start-server', '--application-type', 'paste', ini,
            '--host', '127.0.0.1', '--port', str(port), '--user', 'www-data', '--group',
            'www-data', '--locale', 'C.UTF-8', '--server-root', workdir + '/express'])),
    ('gunicorn sync, 2 workers', process_host(
        lambda venv, ini, port, workdir: [venv.bin('gunicorn'), '--paste', ini, '-b',
                                          '127.0.0.1:%d' % port, '-w', '2'])),
    ('gunicorn gthread, 2 x 8', process_host(
        lambda venv, ini, port, workdir: [venv.bin('gunicorn'), '--paste', ini, '-b',
                                          '127.0.0.1:%d' % port, '-w', '2', '-k', 'gthread',
                                          '--threads', '8'])),
    ('waitress, 8 threads', python_server(
        'from paste.deploy import loadapp; import waitress; waitress.serve(loadapp('
        '"config:{ini}"), host="127.0.0.1", port={port}, threads=8, _quiet=True)')),
    ('cheroot, 10 threads', python_server(
        'from paste.deploy import loadapp; from cheroot.wsgi import Server; Server(('
        '"127.0.0.1", {port}), loadapp("config:{ini}"), numthreads=10).start()')),
]


def wait_ok(url, timeout=60):
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.time() > deadline:
            raise AssertionError('no 200 from %s' % url)
        time.sleep(0.2)


def measure(host_start, venv, site, workdir):
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    base, stop = host_start(venv, site, workdir)
    try:
        wait_ok(base + site.page)
        wrk(base + site.page, '2s')
        return wrk(base + site.page, DURATION)
    finally:
        stop()


def chart(results, sites, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(sites), figsize=(6 * len(sites), 5.5), sharey=False)
    for ax, title in zip(axes, [site.title for site in sites]):
        labels = [label for label, _ in HOSTS]
        rps = [results[title][label] for label in labels]
        medians = [statistics.median(r['rps'] for r in runs) for runs in rps]
        lows = [m - min(r['rps'] for r in runs) for m, runs in zip(medians, rps)]
        highs = [max(r['rps'] for r in runs) - m for m, runs in zip(medians, rps)]
        colors = ['#c0392b' if label == BASELINE else '#7f8c8d' for label in labels]
        ax.barh(range(len(labels)), medians, xerr=[lows, highs], color=colors, capsize=3)
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
        ax.set_xlabel('requests/s (median, bar = min-max of rounds)')
    fig.suptitle('tgdeploy\'s generated Apache config (red) against other WSGI hosts, '
                 '%d cores, wrk -c%d' % (os.cpu_count(), CONNECTIONS), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    venv, project, cherry = prepare()
    venv.pip_install('gunicorn', 'waitress', 'cheroot', 'mod_wsgi')
    hello = os.path.join(ROOT, 'helloapp')
    shutil.copytree(os.path.join(REPO, 'tests', 'fixtures', 'cherryapp'), hello)
    sites = [Site('TurboGears 2 quickstart /demo', 'tg2', project, 'benchapp', '/demo', None),
             Site('CherryPy /about', 'cherrypy', cherry, 'cherryapp', '/about', None),
             Site('hello-world WSGI callable', 'hello', hello, 'cherryapp', '/', to_hello_world)]
    for site in sites:
        deploy(venv, site)  # the process hosts read the ini without deploying
    results = dict((site.title, dict((label, []) for label, _ in HOSTS)) for site in sites)
    measure(HOSTS[0][1], venv, sites[0], os.path.join(ROOT, 'warm-up'))  # cold machine
    for round_number in range(ROUNDS):
        for site in sites:
            for label, start in rotated(HOSTS, round_number):
                workdir = os.path.join(ROOT, 'peers', '%d-%s-%s' % (
                    round_number, site.key, ''.join(c for c in label if c.isalnum())))
                result = measure(start, venv, site, workdir)
                results[site.title][label].append(result)
                print('round %d %-30s %-38s %7.0f req/s p99 %.1f ms' % (
                    round_number + 1, site.title, label, result['rps'], result['p99']),
                    flush=True)
    chart(results, sites, os.path.join(HERE, 'peers.png'))
    lines = ['wrk -t2 -c%d -d%s, %d interleaved rounds (order rotated each round) after a '
             'warm-up, %s. Chart: `bench/peers.png`.' % (CONNECTIONS, DURATION, ROUNDS,
                                                         machine())]
    for site in sites:
        base = statistics.median(r['rps'] for r in results[site.title][BASELINE])
        lines += ['', '**%s**' % site.title, '',
                  '| host | req/s median (min–max) | ratio to tgdeploy default | p50 ms | '
                  'p99 ms | non-2xx |', '|---|---|---|---|---|---|']
        for label, _ in HOSTS:
            runs = results[site.title][label]
            lines.append('| %s | %s | %.2f | %s | %s | %d |' % (
                label, span([r['rps'] for r in runs], '%.0f'),
                statistics.median(r['rps'] for r in runs) / base,
                span([r['p50'] for r in runs], '%.1f'), span([r['p99'] for r in runs], '%.1f'),
                sum(r['bad'] for r in runs)))
    publish('peers.py', '\n'.join(lines))


if __name__ == '__main__':
    main()
