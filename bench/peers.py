"""The generated deployment against the hosts a user would otherwise run.

Two pages, the TurboGears 2 quickstart's /demo and the CherryPy test application's /about,
each through the ini tgdeploy generates, under: Apache with the generated daemon config
(the baseline of every ratio) and embedded mode, mod_wsgi-express with its defaults,
gunicorn sync and gthread, waitress and cheroot. Interleaved rounds (every host once per
round) so the machine's drift spreads over all of them. Prints a markdown table and
writes bench/peers.png.

    bash bench/run peers      # or: /opt/tgdeploy-lab/py3/bin/python bench/peers.py
"""
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import CONNECTIONS, HERE, ROOT, prepare, rotated, span, wrk  # noqa: E402
from support.httpd import Apache, free_port  # noqa: E402
from support.venv import run  # noqa: E402

ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
DURATION = os.environ.get('BENCH_DURATION', '6s')
BASELINE = 'tgdeploy default (Apache daemon, 2 x 4)'


def apache_host(args):
    def start(venv, project, slug, workdir):
        run([venv.bin('paster'), 'tgdeploy', '-q', '--mount', '/'] + args, cwd=project)
        apache = Apache(workdir, [os.path.join(project, 'apache', slug + '.conf')],
                        log_level='warn')
        apache.start(None)
        return apache.url, apache.stop
    return start


def process_host(command):
    def start(venv, project, slug, workdir):
        port = free_port()
        ini = os.path.join(project, 'apache', slug + '.ini')
        proc = subprocess.Popen(command(venv, ini, port, workdir), cwd=project,
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
    project, slug, page = site
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    base, stop = host_start(venv, project, slug, workdir)
    try:
        wait_ok(base + page)
        wrk(base + page, '2s')
        return wrk(base + page, DURATION)
    finally:
        stop()


def chart(results, sites, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(sites), figsize=(13, 5.5), sharey=False)
    for ax, (title, _) in zip(axes, sites):
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
    run([venv.bin('paster'), 'tgdeploy', '-q'], cwd=cherry)
    sites = [('TurboGears 2 quickstart /demo', (project, 'benchapp', '/demo')),
             ('CherryPy /about', (cherry, 'cherryapp', '/about'))]
    results = dict((title, dict((label, []) for label, _ in HOSTS)) for title, _ in sites)
    measure(HOSTS[0][1], venv, sites[0][1], os.path.join(ROOT, 'warm-up'))  # cold machine
    for round_number in range(ROUNDS):
        for title, site in sites:
            for label, start in rotated(HOSTS, round_number):
                workdir = os.path.join(ROOT, 'peers', '%d-%s-%s' % (
                    round_number, site[1], ''.join(c for c in label if c.isalnum())))
                result = measure(start, venv, site, workdir)
                results[title][label].append(result)
                print('round %d %-30s %-38s %7.0f req/s p99 %.1f ms' % (
                    round_number + 1, title, label, result['rps'], result['p99']), flush=True)
    lines = []
    for title, _ in sites:
        base = statistics.median(r['rps'] for r in results[title][BASELINE])
        lines += ['', '%s, wrk -t2 -c%d -d%s, %d interleaved rounds, order rotated:' % (
            title, CONNECTIONS, DURATION, ROUNDS), '',
            '| host | req/s median (min–max) | ratio to tgdeploy default | p50 ms | p99 ms | '
            'non-2xx |', '|---|---|---|---|---|---|']
        for label, _ in HOSTS:
            runs = results[title][label]
            lines.append('| %s | %s | %.2f | %s | %s | %d |' % (
                label, span([r['rps'] for r in runs], '%.0f'),
                statistics.median(r['rps'] for r in runs) / base,
                span([r['p50'] for r in runs], '%.1f'), span([r['p99'] for r in runs], '%.1f'),
                sum(r['bad'] for r in runs)))
    print('\n'.join(lines))
    chart(results, sites, os.path.join(HERE, 'peers.png'))
    print('\nchart: %s' % os.path.join(HERE, 'peers.png'))


if __name__ == '__main__':
    main()
