"""What the benchmark scripts share: the sites they measure and how they measure."""
import datetime
import os
import re
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests'))

from support.httpd import Apache  # noqa: E402
from support.sites import make_venv, quickstart_tg2, setup_tg2_data  # noqa: E402
from support.venv import run  # noqa: E402

ROOT = '/tmp/tgdeploy-bench'
CONNECTIONS = 16
BENCHMARKS = os.path.join(REPO, 'BENCHMARKS.md')


def wrk(url, duration, cpus=None):
    """req/s, p50 and p99 (ms), non-2xx count and socket errors of one wrk run (on ``cpus``,
    a taskset list, when given)."""
    pin = ['taskset', '-c', cpus] if cpus else []
    out = run(pin + ['wrk', '-t2', '-c%d' % CONNECTIONS, '-d' + duration, '--latency',
                     url]).stdout
    rps = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
    p50 = to_ms(re.search(r'50%\s+([\d.]+\w+)', out).group(1))
    p99 = to_ms(re.search(r'99%\s+([\d.]+\w+)', out).group(1))
    errors = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    socket_errors = re.search(r'Socket errors: (.*)', out)
    return {'rps': rps, 'p50': p50, 'p99': p99,
            'bad': int(errors.group(1)) if errors else 0,
            'socket_errors': socket_errors.group(1) if socket_errors else ''}


def to_ms(text):
    number, unit = re.match(r'([\d.]+)(\w+)', text).groups()
    return float(number) * {'us': 0.001, 'ms': 1.0, 's': 1000.0}[unit]


def prepare():
    """A fresh bench folder: a virtualenv with tgdeploy and the frameworks, the TurboGears 2
    quickstart (deployed, with its data) and the CherryPy test application."""
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)
    os.chmod(ROOT, 0o755)
    venv = make_venv(os.path.join(ROOT, 'venv'), REPO)
    project = quickstart_tg2(venv, ROOT, 'benchapp')
    run([venv.bin('paster'), 'tgdeploy', '-q'], cwd=project)
    setup_tg2_data(venv, project, os.path.join(project, 'apache', 'benchapp.ini'))
    cherry = os.path.join(ROOT, 'cherryapp')
    shutil.copytree(os.path.join(REPO, 'tests', 'fixtures', 'cherryapp'), cherry)
    venv.pip_install('-e', cherry)
    return venv, project, cherry


def span(values, fmt):
    return (fmt + ' (' + fmt + '–' + fmt + ')') % (statistics.median(values), min(values),
                                                  max(values))


def rotated(items, round_number):
    """The round's order: each round starts one further along, so that no configuration is
    always measured first (right after a stop, which showed up as a position effect)."""
    shift = round_number % len(items)
    return list(items[shift:]) + list(items[:shift])


def graceful_time(apache, page):
    """From `apache2 -k graceful` until ``page`` answers 200 from the new generation."""
    started = time.time()
    apache.graceful()
    while 'resuming normal operations' not in apache.error_log().split('SIGUSR1')[-1]:
        time.sleep(0.01)
    while apache.get(page)[0] != 200:
        time.sleep(0.01)
    return time.time() - started


def apache_alone(workdir):
    """Stop and graceful times of the same Apache with no application, as the baseline."""
    os.makedirs(os.path.join(workdir, 'www'), exist_ok=True)
    with open(os.path.join(workdir, 'www', 'index.html'), 'w') as f:
        f.write('ok\n')
    apache = Apache(workdir, [], log_level='warn',
                    extra='DocumentRoot %s/www\n<Directory %s/www>\nRequire all granted\n'
                          '</Directory>' % (workdir, workdir))
    apache.start('/')
    graceful = graceful_time(apache, '/')
    return {'graceful': graceful, 'stop': apache.stop()}


def machine():
    return '%d cores, %s' % (os.cpu_count(), datetime.date.today().isoformat())


def publish(script, text):
    """Print ``text`` and put it in BENCHMARKS.md between the markers of ``script``
    (appended at the end the first time); the prose around the markers is left alone."""
    print('\n' + text)
    begin = '<!-- begin output of bench/%s: rewritten by each run -->' % script
    end = '<!-- end output of bench/%s -->' % script
    with open(BENCHMARKS) as f:
        document = f.read()
    block = '%s\n%s\n%s' % (begin, text.strip('\n'), end)
    if begin in document and end in document:
        head, rest = document.split(begin, 1)
        document = head + block + rest.split(end, 1)[1]
    else:
        document = document.rstrip('\n') + '\n\n' + block + '\n'
    with open(BENCHMARKS, 'w') as f:
        f.write(document)
    print('written to %s' % BENCHMARKS)
