"""A new image rolled out under light load: what each way loses.

The application: the TurboGears 2 quickstart of tests/test_container.py (its /slow and /hits
pages) with a /version page, written by `tgdeploy --container` and built with podman on the
Debian 13 base scripts/provision-containers makes (localhost/tgdeploy-base:trixie), twice:
v1, then v2 after a change of code (the cached virtualenv stage; only the last stage is
rebuilt). The load: one request to /version every 1/RATE s for DURATION s, each in a
thread of its own (timeout 10 s), the roll-out started LEAD s in. Counted: failed requests
(an error or a status other than 200) and the gap, the longest time between two answered
requests (the load's own spacing is 1/RATE s).

(a) Two replicas (containers of v1 on two ports, one data volume) behind the front
    `tgdeploy-balancer --engine haproxy` writes (health check on /favicon.ico, served by
    each container's Apache), replaced one at a time: drained at HAProxy (admin socket),
    `podman stop` (the entry script's graceful stop), a v2 container on the same port, back
    in the front once HAProxy's health check finds it up, then the next.
(b) The Kubernetes manifest under `podman kube play` (as tests/test_container.py plays it on
    podman 4.3): `podman kube play --replace` of the v2 manifest (podman 4.3 refuses it:
    the error is printed), then what works instead: `podman kube down` and `kube play` of
    v2.

The builds run under nice at once; the measurements wait for /tmp/tgdeploy-bench.lock,
the lock the other benchmarks take, so that none overlaps them:

    nice -n 10 /opt/tgdeploy-lab/py3/bin/python bench/rollout.py

Prints the table and writes it into BENCHMARKS.md (between its markers).
"""
import fcntl
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests'))

import test_container as tc  # noqa: E402
from common import machine, publish  # noqa: E402
from support import balancing  # noqa: E402
from support.containers import get, podman_for_tests, wait_answer  # noqa: E402
from tgdeploy.serve.private_apache import free_port  # noqa: E402

ROOT = Path('/tmp/tgdeploy-bench-rollout')
BASE = os.environ.get('TGDEPLOY_CONTAINER_BASE', 'localhost/tgdeploy-base:trixie')
RATE = float(os.environ.get('BENCH_RATE', '20'))  # requests per second
DURATION = float(os.environ.get('BENCH_DURATION', '30'))  # seconds of load
LEAD = 3.0  # seconds of load before the roll-out starts
VERSION_PAGE = '''
    @expose(content_type='text/plain')
    def version(self):
        return 'v1'

'''


def make_project(parent):
    """The test's quickstart with a /version page, its container files written."""
    project = tc.quickstart(parent)
    root = project / 'tg2app' / 'controllers' / 'root.py'
    anchor = '    @expose()\n    def index(self):'
    root.write_text(root.read_text().replace(anchor, VERSION_PAGE + anchor, 1))
    tc.write_container(project)
    return project


def build_two(podman, project):
    """(v1 image, v2 image): v2 after a change of code."""
    v1, seconds = podman.build(project, 'rollout-v1', BASE)
    print('v1 built in %.0f s' % seconds, flush=True)
    root = project / 'tg2app' / 'controllers' / 'root.py'
    root.write_text(root.read_text().replace("return 'v1'", "return 'v2'"))
    v2, seconds = podman.build(project, 'rollout-v2', BASE)
    print('v2 built in %.0f s (a change of code)' % seconds, flush=True)
    return v1, v2


class Load(object):
    """RATE requests per second to ``url`` in a background thread."""

    def __init__(self, url):
        self.url = url
        self.results = []  # (sent, answered, status or error text, body)
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.send_all)
        self.started = None

    def one(self, sent):
        try:
            status, body = get(self.url, timeout=10)
        except Exception as e:  # a refused or reset connection is a failed request
            status, body = type(e).__name__, ''
        with self.lock:
            self.results.append((sent, time.monotonic(), status, body.strip()))

    def send_all(self):
        workers = []
        self.started = time.monotonic()
        count = int(RATE * DURATION)
        for i in range(count):
            due = self.started + i / RATE
            time.sleep(max(0.0, due - time.monotonic()))
            worker = threading.Thread(target=self.one, args=(time.monotonic(),))
            worker.start()
            workers.append(worker)
        for worker in workers:
            worker.join(15)

    def start(self):
        self.thread.start()
        time.sleep(LEAD)

    def finish(self):
        self.thread.join(DURATION + 30)
        results = sorted(self.results)
        failed = [r for r in results if r[2] != 200]
        answered = [r[1] for r in results if r[2] == 200]
        answered.sort()
        gap = max(b - a for a, b in zip(answered, answered[1:])) if len(answered) > 1 else None
        versions = [r[3] for r in results if r[2] == 200]
        return {'sent': len(results), 'failed': len(failed), 'gap': gap,
                'kinds': sorted(set(str(r[2]) for r in failed)),
                'first': versions[:1], 'last': versions[-1:],
                'v2_from': next((r[0] - self.started for r in results if r[3] == 'v2'), None)}


def answering(podman, name, url):
    """wait_answer, with the container's log when it does not answer."""
    try:
        wait_answer(url)
        assert get(url)[0] == 200
    except AssertionError:
        logs = podman.run('logs', name, check=False)
        print(logs.stdout.decode()[-2000:], logs.stderr.decode()[-4000:])
        raise


def balancer_rollout(podman, project, v1, v2, volume):
    """(a): two v1 replicas behind HAProxy, replaced by v2 one at a time."""
    folder = ROOT / 'front'
    folder.mkdir()
    ports = [free_port(), free_port()]
    mounts = tc.mounts(project, volume)
    names = [podman.start(v1, 'rollout-r%d' % i, port, mounts=mounts)
             for i, port in enumerate(ports)]
    for name, port in zip(names, ports):
        answering(podman, name, 'http://127.0.0.1:%d/version' % port)
    values = balancing.render('haproxy', ['http://127.0.0.1:%d' % p for p in ports],
                              folder / 'front', admin_socket=str(folder / 'admin.sock'))
    proxy = balancing.HAProxy(str(folder / 'front' / 'front.cfg'), values['admin_socket'])
    steps = []
    try:
        balancing.wait_for(lambda: os.path.exists(values['admin_socket']), 10)
        front = 'http://%s' % values['listen']
        balancing.wait_for(lambda: all(proxy.stats('b%d' % (i + 1))[0] == 'UP'
                                       for i in range(2)), 30)
        load = Load(front + '/version')
        load.start()
        for i, port in enumerate(ports):
            started = time.monotonic()
            balancing.haproxy_drain(proxy, 'b%d' % (i + 1))
            podman.run('rm', '-f', '-t', '30', names[i], timeout=120)  # a graceful stop first
            names[i] = podman.start(v2, 'rollout-n%d' % i, port, mounts=mounts)
            answering(podman, names[i], 'http://127.0.0.1:%d/version' % port)
            proxy.command('set server front/b%d state ready' % (i + 1))
            balancing.wait_for(lambda: proxy.stats('b%d' % (i + 1))[0] == 'UP', 30)
            steps.append(time.monotonic() - started)
        result = load.finish()
        result['steps'] = steps
        return result
    finally:
        proxy.stop()
        for name in names:
            podman.run('rm', '-f', '-t', '0', name, check=False)


def play(podman, manifest):
    """`podman kube play`; when podman 4.3 says the ConfigMap's volume already exists
    (`kube down` leaves it behind), that volume is removed and the play run again."""
    result = podman.run('kube', 'play', manifest, check=False, timeout=300)
    said = result.stderr.decode()
    found = re.findall(r'volume with name (\S+-config) already exists', said)
    if result.returncode != 0 and found:
        podman.run('volume', 'rm', '-f', found[0], check=False)
        result = podman.run('kube', 'play', manifest, check=False, timeout=300)
    assert result.returncode == 0, result.stderr.decode()[-2000:]


def without_claim(manifest):
    """The manifest without its PersistentVolumeClaim: podman 4.3 refuses to play a claim
    whose volume exists (`kube play --replace` too); the Deployment's claimName then
    names the existing volume, which podman mounts, data and all."""
    documents = manifest.split('\n---\n')
    kept = [d for d in documents if '\nkind: PersistentVolumeClaim\n' not in '\n' + d + '\n']
    assert len(kept) == len(documents) - 1, manifest
    return '\n---\n'.join(kept)


def kube_rollout(podman, project, v1, v2):
    """(b): the manifest played with v1, then replaced by v2."""
    manifest = (project / 'apache' / 'tg2app.kube.yaml').read_text()
    port = free_port()
    suffix = '-' + podman.tag
    played = {}
    for version, image in (('v1', v1), ('v2', v2)):
        played[version] = ROOT / ('kube-%s.yaml' % version)
        played[version].write_text(tc.for_podman_43(manifest, image, suffix, port))
    # v1 again and v2, played while the data volume exists: without the claim.
    again = ROOT / 'kube-v1-again.yaml'
    again.write_text(without_claim(played['v1'].read_text()))
    replacing = ROOT / 'kube-v2-replacing.yaml'
    replacing.write_text(without_claim(played['v2'].read_text()))
    podman.made['pod'].append('tg2app%s-pod-0' % suffix)
    podman.made['volume'] += ['tg2app%s-data' % suffix, 'tg2app%s-config' % suffix]
    url = 'http://127.0.0.1:%d/version' % port
    result = {}
    try:
        play(podman, played['v1'])
        wait_answer(url)
        # podman 4.3's own replacement: refused (the first line of what it says).
        replace = podman.run('kube', 'play', '--replace', played['v2'], check=False,
                             timeout=300)
        said = (replace.stderr.decode().strip() or replace.stdout.decode().strip())
        result['replace'] = (replace.returncode, said.splitlines()[-1:] if said else [])
        print('podman kube play --replace: exit %d: %s' % result['replace'], flush=True)
        # Back to v1 either way (a failed --replace has taken the pod down already).
        podman.run('kube', 'down', played['v2'], check=False, timeout=120)
        podman.run('kube', 'down', played['v1'], check=False, timeout=120)
        play(podman, again)
        wait_answer(url, timeout=120)
        hits = get(url.replace('/version', '/hits'))  # the data must outlive the roll-out
        load = Load(url)
        load.start()
        started = time.monotonic()
        # What podman has for it, the claim left out; else a stop and a start.
        replaced = podman.run('kube', 'play', '--replace', replacing, check=False,
                              timeout=300)
        result['how'] = 'podman kube play --replace (the claim left out)'
        if replaced.returncode != 0:
            print('podman kube play --replace, the claim left out: exit %d: %s' % (
                replaced.returncode, replaced.stderr.decode().strip()[-300:]), flush=True)
            podman.run('kube', 'down', again, check=False, timeout=120)
            play(podman, replacing)
            result['how'] = 'podman kube down, then kube play (the claim left out)'
        wait_answer(url, timeout=120)
        after = get(url.replace('/version', '/hits'))
        assert int(after[1].split()[1]) == int(hits[1].split()[1]) + 1, (hits, after)
        result['steps'] = [time.monotonic() - started]
        result.update(load.finish())
        return result
    finally:
        podman.run('kube', 'down', played['v2'], check=False, timeout=120)


def podman_version(podman):
    return podman.run('--version').stdout.decode().split()[-1]


def bench_lock():
    """Wait for the benchmarks' lock; held until this process ends."""
    global LOCK
    LOCK = open('/tmp/tgdeploy-bench.lock', 'a')
    print('waiting for /tmp/tgdeploy-bench.lock', flush=True)
    fcntl.flock(LOCK, fcntl.LOCK_EX)
    print('measuring', flush=True)


def fresh_podman(root):
    """An empty ``root`` (readable by the daemons' user) and a podman runner storing there."""
    shutil.rmtree(str(root), ignore_errors=True)
    root.mkdir(parents=True)
    os.chmod(str(root), 0o755)
    return podman_for_tests(root / 'podman', BASE)


def main():
    podman = fresh_podman(ROOT)
    try:
        parent = ROOT / 'project'
        parent.mkdir()
        project = make_project(parent)
        v1, v2 = build_two(podman, project)
        bench_lock()  # the builds are done: measure alone
        volume = podman.volume('rollout-data')
        setup = podman.one_shot(v1, 'setup', mounts=tc.mounts(project, volume))
        assert setup.returncode == 0, setup.stderr.decode()[-2000:]
        rows = [('two replicas behind HAProxy, one at a time',
                 balancer_rollout(podman, project, v1, v2, volume))]
        print(rows, flush=True)
        kube = kube_rollout(podman, project, v1, v2)
        rows.append((kube['how'], kube))
        lines = ['A TurboGears 2 quickstart image (Debian 13 base), v1 replaced by v2 (a change of '
                 'code) under %.0f requests/s to /version for %.0f s, the roll-out started '
                 '%.0f s in; %s; podman %s. `podman kube play --replace` here: exit %d%s.' % (
                     RATE, DURATION, LEAD, machine(), podman_version(podman),
                     kube['replace'][0], (': ' + kube['replace'][1][0]) if kube['replace'][1]
                     else ''), '',
                 '| roll-out | requests | failed | longest gap, s | roll-out took, s | '
                 'first v2 answer, s after the load began |', '|---|---|---|---|---|---|']
        for label, r in rows:
            lines.append('| %s | %d | %d%s | %.2f | %s | %s |' % (
                label, r['sent'], r['failed'],
                ' (%s)' % ', '.join(r['kinds']) if r['kinds'] else '', r['gap'],
                ' + '.join('%.1f' % s for s in r['steps']),
                '%.1f' % r['v2_from'] if r['v2_from'] is not None else '-'))
        publish('rollout.py', '\n'.join(lines))
    finally:
        podman.cleanup()
        shutil.rmtree(str(ROOT), ignore_errors=True)


if __name__ == '__main__':
    main()
