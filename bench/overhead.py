"""What tgdeploy itself costs.

1. `paster tgdeploy` wall time against `paster create -t basic_package` (PasteScript's own
   template, the baseline), interleaved runs in the same virtualenv.
2. The CherryPy entry point (`egg:tgdeploy#cherrypy` through the generated ini) against the
   bare `cherrypy.Application` of the same root object, both under gunicorn sync with 2
   workers, interleaved wrk rounds.

    bash bench/run overhead      # or: /opt/tgdeploy-lab/py3/bin/python bench/overhead.py
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import ROOT, machine, prepare, publish, span, wrk  # noqa: E402
from support.httpd import free_port  # noqa: E402
from support.venv import run  # noqa: E402

RUNS = int(os.environ.get('BENCH_RUNS', '10'))
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
DURATION = os.environ.get('BENCH_DURATION', '6s')
BARE_APP = '''import os, cherrypy
from cherryapp.app import Root
cherrypy.config.update({"environment": "embedded"})
cherrypy.server.unsubscribe()
application = cherrypy.Application(Root(), script_name=None,
                                   config=os.path.join(os.path.dirname(__file__), "app.conf"))
cherrypy.engine.start()
'''


def timed(args, cwd):
    started = time.time()
    run(args, cwd=cwd)
    return time.time() - started


def command_times(venv, cherry):
    scratch = os.path.join(ROOT, 'create')
    tgdeploy, basic = [], []
    for number in range(RUNS):
        shutil.rmtree(os.path.join(cherry, 'apache'), ignore_errors=True)
        tgdeploy.append(timed([venv.bin('paster'), 'tgdeploy', '-q'], cherry))
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(scratch)
        basic.append(timed([venv.bin('paster'), 'create', '-q', '--no-interactive', '-t',
                            'basic_package', 'pkg%d' % number], scratch))
    return tgdeploy, basic


def gunicorn_rps(venv, cherry, app_args):
    port = free_port()
    proc = subprocess.Popen([venv.bin('gunicorn'), '-b', '127.0.0.1:%d' % port, '-w', '2']
                            + app_args, cwd=cherry, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = 'http://127.0.0.1:%d/about' % port
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                assert time.time() < deadline, 'gunicorn did not answer'
                time.sleep(0.2)
        wrk(url, '2s')
        return wrk(url, DURATION)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def main():
    venv, _, cherry = prepare()
    venv.pip_install('gunicorn')
    tgdeploy, basic = command_times(venv, cherry)
    with open(os.path.join(cherry, 'bare_app.py'), 'w') as f:
        f.write(BARE_APP)
    variants = [('egg:tgdeploy#cherrypy (generated ini)', ['--paste', 'apache/cherryapp.ini']),
                ('bare cherrypy.Application', ['bare_app:application'])]
    results = dict((label, []) for label, _ in variants)
    for _ in range(ROUNDS):
        for label, args in variants:
            results[label].append(gunicorn_rps(venv, cherry, args))
    base = statistics.median(r['rps'] for r in results[variants[1][0]])
    lines = [machine() + '.', '',
             '| command (%d interleaved runs) | wall time, s median (min–max) | ratio |' % RUNS,
             '|---|---|---|',
             '| paster tgdeploy (CherryPy app) | %s | %.2f |' % (
                 span(tgdeploy, '%.2f'), statistics.median(tgdeploy) / statistics.median(basic)),
             '| paster create -t basic_package | %s | 1.00 |' % span(basic, '%.2f'),
             '',
             '| CherryPy /about under gunicorn sync -w 2 (%d rounds, wrk -d%s) | req/s median '
             '(min–max) | ratio to bare | p99 ms |' % (ROUNDS, DURATION), '|---|---|---|---|']
    for label, _ in variants:
        runs = results[label]
        lines.append('| %s | %s | %.2f | %s |' % (
            label, span([r['rps'] for r in runs], '%.0f'),
            statistics.median(r['rps'] for r in runs) / base,
            span([r['p99'] for r in runs], '%.1f')))
    publish('overhead.py', '\n'.join(lines))


if __name__ == '__main__':
    main()
