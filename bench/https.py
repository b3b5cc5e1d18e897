"""What HTTPS costs: the TurboGears 2 quickstart's /demo page through the generated default
config, over HTTP and over HTTPS (--https own, an RSA 2048 certificate, TLS 1.3 as wrk's
OpenSSL negotiates it), with keep-alive (one handshake per connection) and without
(`Connection: close`: a full TLS handshake per request, no session resumption by wrk).
The four are measured in interleaved rounds, each round starting one further along.

    /opt/tgdeploy-lab/py3/bin/python bench/https.py   # BENCH_ROUNDS, BENCH_DURATION
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import CONNECTIONS, ROOT, machine, prepare, publish, rotated, span, to_ms  # noqa: E402
from support.httpd import Apache, free_port  # noqa: E402
from support.venv import run  # noqa: E402

ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
DURATION = os.environ.get('BENCH_DURATION', '6s')
PAGE = '/demo'
CASES = (('HTTP', 'keep-alive'), ('HTTPS', 'keep-alive'), ('HTTP', 'close'),
         ('HTTPS', 'close'))


def certificate(folder):
    """A self-signed certificate for localhost and its key (the client does not verify)."""
    run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key',
         '-out', 'server.pem', '-days', '2', '-subj', '/CN=localhost'], cwd=folder)
    os.chmod(os.path.join(folder, 'server.key'), 0o600)
    return os.path.join(folder, 'server.pem'), os.path.join(folder, 'server.key')


def measure(apache, case):
    scheme, connection = case
    port = apache.https_port if scheme == 'HTTPS' else apache.http_port
    url = '%s://127.0.0.1:%d%s' % (scheme.lower(), port, PAGE)
    extra = ['-H', 'Connection: close'] if connection == 'close' else []
    return wrk(url, extra)


def wrk(url, extra):
    """req/s, p99 (ms), non-2xx count and socket errors of one wrk run, as common.wrk
    reads them, with extra wrk arguments (a header)."""
    out = run(['wrk', '-t2', '-c%d' % CONNECTIONS, '-d' + DURATION, '--latency'] + extra +
              [url]).stdout
    errors = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    socket_errors = re.search(r'Socket errors: (.*)', out)
    return {'rps': float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1)),
            'p99': to_ms(re.search(r'99%\s+([\d.]+\w+)', out).group(1)),
            'bad': int(errors.group(1)) if errors else 0,
            'socket_errors': socket_errors.group(1) if socket_errors else ''}


def main():
    venv, project, _ = prepare()
    folder = tempfile.mkdtemp(dir=ROOT)
    cert, key = certificate(folder)
    root = tempfile.mkdtemp(dir=ROOT)
    os.chmod(root, 0o755)
    apache = Apache(root, [os.path.join(project, 'apache', 'benchapp.conf')], log_level='warn',
                    https_port=free_port())
    run([venv.bin('paster'), 'tgdeploy', '-q', '--overwrite', '--server-name', 'localhost',
         '--port', str(apache.http_port), '--https', 'own', '--ssl-certificate', cert,
         '--ssl-key', key, '--https-port', str(apache.https_port)], cwd=project)
    results = dict((case, []) for case in CASES)
    try:
        apache.start(PAGE)
        apache.over_https().wait_for_answer(PAGE)
        for case in CASES:  # warm every process and path once
            measure(apache, case)
        for number in range(ROUNDS):
            for case in rotated(CASES, number):
                result = measure(apache, case)
                assert result['bad'] == 0 and not result['socket_errors'], (case, result)
                results[case].append(result)
                print(case, result)
    finally:
        apache.stop()
    publish('https.py', table(results))


def table(results):
    lines = ['HTTPS against HTTP, TG2 quickstart %s, generated default config (daemon mode), '
             'wrk -t2 -c%d %s, %d interleaved rounds, %s; median (min–max):'
             % (PAGE, CONNECTIONS, DURATION, ROUNDS, machine()), '',
             '| scheme | connections | requests/s | p99 ms |', '|---|---|---|---|']
    for case in CASES:
        runs = results[case]
        lines.append('| %s | %s | %s | %s |' % (case[0], case[1],
                                                  span([r['rps'] for r in runs], '%.0f'),
                                                  span([r['p99'] for r in runs], '%.1f')))
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
