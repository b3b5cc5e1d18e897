"""Rotating the logs under load: which method loses requests, and which loses lines.

The CherryPy test application at /cp with the generated default daemon config and a
virtual host of its own (`--server-name 127.0.0.1 --port PORT --log-dir ...`), in a private
Apache on 127.0.0.1. Four clients GET /cp/about back to back (a new connection each) while
the access and error logs are rotated ROTATIONS times, one second apart, by each method:
- logrotate with a `postrotate` graceful restart (what tgdeploy generated before, and what
  the distributions' own rotation of Apache's logs does), the access log a plain file;
- logrotate with `copytruncate` (no restart), the access log a plain file;
- the generated config: the access log piped through Apache's rotatelogs, its interval set
  to one second (and its file names to the second) instead of a day, nothing else changed.
(The error log is a plain file in all three.) Then no rotation, ten graceful restarts, with
the access log as generated and the other way, in daemon and in embedded mode (whose
generated access log is a plain file).
A failed request is a status of 500 or more, or a connection error; a missing line is a
request that got an answer but has no line in the access logs (rotated or current). Each
method gets its own fresh Apache. Writes its table into BENCHMARKS.md.

    bash bench/run logs     # or: /opt/tgdeploy-lab/py3/bin/python bench/logs.py
"""
import glob
import gzip
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import machine, publish  # noqa: E402
from reload import ROOT, prepare  # noqa: E402
from support.httpd import Apache, free_port  # noqa: E402
from support.reloading import Load, failed  # noqa: E402
from support.venv import run  # noqa: E402

ROTATIONS = int(os.environ.get('BENCH_ROTATIONS', '10'))
CLIENTS = 4
MOUNT = '/cp'
PAGE = MOUNT + '/about'
PLAIN = 'CustomLog "{logs}/access.log" "%h %l %u %t \\"%r\\" %>s %O %D"\n'
LOGROTATE = '''"{logs}/*.log" {{
    rotate 1000
    missingok
    compress
    delaycompress
{how}
}}
'''
GRACEFUL = ('    sharedscripts\n    postrotate\n        /usr/sbin/apache2 -f {config} -k graceful\n'
            '    endscript')


def deploy(venv, project, port, logs, mode='daemon'):
    run([venv.bin('paster'), 'tgdeploy', '-q', '--overwrite', '--mount', MOUNT, '--mode', mode,
         '--server-name', '127.0.0.1', '--port', str(port), '--log-dir', logs], cwd=project)
    return os.path.join(project, 'apache', 'cherryapp.conf')


def plain_files(conf, logs):
    """The generated config with its piped access log written as a plain file instead."""
    with open(conf) as f:
        text = f.read()
    text, count = re.subn(r'^CustomLog "\|.*\n', PLAIN.format(logs=logs), text, flags=re.M)
    assert count == 1, 'the generated log lines changed'
    with open(conf, 'w') as f:
        f.write(text)


def every_second(conf):
    """The generated config with rotatelogs starting a file every second, not every day."""
    with open(conf) as f:
        text = f.read()
    assert text.count(' 86400"') == 1, 'the generated log line changed'
    with open(conf, 'w') as f:
        f.write(text.replace(' 86400"', ' 1"').replace('%Y-%m-%d', '%Y-%m-%d-%H%M%S'))


def by_logrotate(how):
    def prepare_method(conf, logs, apache):
        plain_files(conf, logs)
        rule = os.path.join(os.path.dirname(logs), 'logrotate.conf')
        with open(rule, 'w') as f:
            f.write(LOGROTATE.format(logs=logs, how=how.format(config=apache.config)))

        def rotate():
            subprocess.run(['logrotate', '-f', '-s', rule + '.state', rule], check=True,
                           timeout=120)
        return rotate
    return prepare_method


def by_rotatelogs(conf, logs, apache):
    every_second(conf)
    return lambda: None  # rotatelogs rotates by itself


METHODS = [
    ('logrotate, `postrotate` graceful restart (plain files)', by_logrotate(GRACEFUL)),
    ('logrotate `copytruncate` (plain files)', by_logrotate('    copytruncate')),
    ('generated: piped through `rotatelogs`', by_rotatelogs),
]


def piped_files(conf, logs):
    """The generated embedded-mode config with its plain access log piped through rotatelogs
    instead, as daemon mode's is."""
    with open(conf) as f:
        text = f.read()
    text, count = re.subn(r'^CustomLog "[^|"][^"]*"', 'CustomLog "|/usr/bin/rotatelogs -l -f '
                          '%s/piped.%%Y-%%m-%%d-access.log 86400"' % logs, text, flags=re.M)
    assert count == 1, 'the generated log line changed'
    with open(conf, 'w') as f:
        f.write(text)


def graceful_only(change):
    """No rotation: a graceful restart each time, as a config change or the distribution's
    nightly rotation of the server's own logs makes one; the access log as generated, or
    changed by ``change``."""
    def prepare_method(conf, logs, apache):
        if change:
            change(conf, logs)
        return apache.graceful
    return prepare_method


RESTARTS = [
    ('daemon', 'generated: piped through `rotatelogs`', graceful_only(None)),
    ('daemon', 'a plain file instead', graceful_only(plain_files)),
    ('embedded', 'generated: a plain file', graceful_only(None)),
    ('embedded', 'piped through `rotatelogs` instead', graceful_only(piped_files)),
]


def access_lines(logs):
    """Lines for PAGE in every access log file under ``logs``: current, rotated, gzipped
    (not the links rotatelogs keeps to today's file)."""
    count = 0
    for path in glob.glob(os.path.join(logs, '**', '*'), recursive=True):
        name = os.path.basename(path)
        if 'access' not in name or name == 'access.log' and os.stat(path).st_nlink > 1 or \
                not os.path.isfile(path):
            continue
        opener = gzip.open if name.endswith('.gz') else open
        with opener(path, 'rt') as f:
            count += f.read().count('GET %s ' % PAGE)
    return count


def measure(venv, project, prepare_method, workdir, mode='daemon'):
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    logs = os.path.join(workdir, 'logs')
    os.makedirs(logs)
    port = free_port()
    conf = deploy(venv, project, port, logs, mode)
    os.makedirs(os.path.join(workdir, 'apache'), 0o755)
    apache = Apache(os.path.join(workdir, 'apache'), [conf], port=port, log_level='warn')
    rotate = prepare_method(conf, logs, apache)
    apache.start(PAGE)
    try:
        time.sleep(1)
        before = access_lines(logs)  # start()'s own requests
        load = Load(apache.port, PAGE, CLIENTS).start()
        started = time.time()
        try:
            for _ in range(ROTATIONS):
                time.sleep(1)
                rotate()
            time.sleep(1.5)
        finally:
            results = load.stop()
        elapsed = time.time() - started
        time.sleep(1)  # Apache writes a line once its answer has gone
        answered = [s for _, s in results if isinstance(s, int)]
        return {'requests': len(results), 'failed': sum(1 for _, s in results if failed(s)),
                'missing': len(answered) - (access_lines(logs) - before),
                'rps': len(results) / elapsed}
    finally:
        apache.stop()


def table(rows, elapsed):
    lines = [
        'CherryPy application at %s, generated default daemon config with a virtual host of its '
        'own (mod_wsgi 4.9.4, Apache 2.4 event); %d clients GETting /about on new connections '
        'throughout; %d rotations per method, a second apart; %s; the whole run took %.0f s.'
        % (MOUNT, CLIENTS, ROTATIONS, machine(), elapsed),
        '',
        '| method | requests | failed (≥ 500 or connection error) | answered but missing from '
        'the access logs | requests/s (same run, drift ±30%) |',
        '|---|---|---|---|---|',
    ]
    for name, result in rows:
        lines.append('| %s | %d | **%d** | **%d** | %.0f |' % (
            name, result['requests'], result['failed'], result['missing'], result['rps']))
    return '\n'.join(lines)


def restart_table(rows):
    lines = [
        'No rotation, %d graceful restarts (`apache2 -k graceful`) a second apart, same load: '
        'what a graceful restart does to the access log.' % ROTATIONS,
        '',
        '| configuration | requests | failed (≥ 500 or connection error) | answered but missing '
        'from the access log |',
        '|---|---|---|---|',
    ]
    for name, result in rows:
        lines.append('| %s | %d | %d | **%d** |' % (name, result['requests'], result['failed'],
                                                   result['missing']))
    return '\n'.join(lines)


def main():
    started = time.time()
    venv, project = prepare()
    rows = []
    work = os.path.join(ROOT, 'logs')
    shutil.rmtree(work, ignore_errors=True)
    for number, (name, prepare_method) in enumerate(METHODS):
        result = measure(venv, project, prepare_method, os.path.join(work, str(number)))
        print('%s: %s' % (name, result), flush=True)
        rows.append((name, result))
    restarts = []
    for number, (mode, name, prepare_method) in enumerate(RESTARTS):
        result = measure(venv, project, prepare_method,
                         os.path.join(work, 'restart-%d' % number), mode)
        print('graceful, %s, %s: %s' % (mode, name, result), flush=True)
        restarts.append(('%s mode, access log %s' % (mode, name), result))
    publish('logs.py', table(rows, time.time() - started) + '\n\n' + restart_table(restarts))


if __name__ == '__main__':
    main()
