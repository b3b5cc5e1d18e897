"""The image tgdeploy writes against the usual one: python:slim + gunicorn.

No registry is reachable here, so `python:slim` cannot be pulled. The comparison image is
built the way python:slim + gunicorn images are, from what this machine has: the same
mmdebstrap base as the tests (localhost/tgdeploy-base:trixie, Debian 13 minbase, about what
debian:trixie-slim is), the same first stage (the virtualenv from the project's
requirements: copied from the Containerfile tgdeploy wrote, to the letter), then a final
stage with Debian's python3 (no Apache, no mod_wsgi), gunicorn in the virtualenv, the
project, and `gunicorn --paste` on the same production ini (mounted at /srv/config, as
tgdeploy's image has it), 2 sync workers (one per core here, as the generated config's
2 processes), as www-data, on port 8080.

How that differs from python:3.13-slim: python:slim carries a CPython built from source
in /usr/local (with pip, no Debian python3 packages), on debian:trixie-slim, which keeps
fewer files than minbase (no man pages, docs or locales: dpkg path excludes); its Python
is the newest 3.13.x, Debian's is 3.13.5. Both are one Python and the virtualenv on a
Debian base; the Apache and mod_wsgi packages are the difference this measures.

Per image: its size (`podman image inspect`, uncompressed), `podman run -d` to the first
200 of /demo (median of RUNS cold starts, the same data volume set up once), and the PSS
at rest of all the container's processes (after 20 requests and IDLE s of rest; from
/proc/PID/smaps_rollup of the host PIDs `podman top` gives).

    nice -n 10 /opt/tgdeploy-lab/py3/bin/python bench/container_image.py

The builds run at once; the measurements wait for /tmp/tgdeploy-bench.lock, the lock the
other benchmarks take, so that none overlaps them.

Prints the table and writes it into BENCHMARKS.md (between its markers).
"""
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests'))

import test_container as tc  # noqa: E402
from common import machine, publish  # noqa: E402
from rollout import bench_lock, fresh_podman, podman_version  # noqa: E402
from support.containers import get  # noqa: E402
from tgdeploy.serve.private_apache import free_port  # noqa: E402

ROOT = Path('/tmp/tgdeploy-bench-image')
BASE = os.environ.get('TGDEPLOY_CONTAINER_BASE', 'localhost/tgdeploy-base:trixie')
RUNS = int(os.environ.get('BENCH_RUNS', '5'))
IDLE = 3.0
GUNICORN = '27.0.1'  # scripts/provision-bench's
PAGE = '/demo'

GUNICORN_STAGE = '''
FROM ${BASE}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 \\
 && rm -rf /var/lib/apt/lists/*
COPY --from=venv /srv/venv /srv/venv
RUN /srv/venv/bin/pip install --no-cache-dir gunicorn==%s
WORKDIR /srv/app
COPY . /srv/app
RUN /srv/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation --force-reinstall . \\
 && rm -rf build *.egg-info \\
 && install -d -o www-data -g www-data /srv/app/data
VOLUME /srv/app/data
USER www-data
EXPOSE 8080
ENTRYPOINT ["/bin/sh", "-c", "exec /srv/venv/bin/gunicorn --paste /srv/config/tg2app.ini --workers 2 --bind ${LISTEN:-0.0.0.0:8080}"]
''' % GUNICORN


def gunicorn_containerfile(project):
    """The generated Containerfile's virtualenv stage, then the gunicorn stage."""
    text = (project / 'Containerfile').read_text()
    venv_stage = text[:text.index('\nFROM ${BASE}\n', text.index('AS venv'))]
    path = project / 'Containerfile.gunicorn'
    path.write_text(venv_stage + '\n' + GUNICORN_STAGE)
    return path


def pss_kib(podman, name):
    """The PSS of every process of the container (kB), from the host's /proc."""
    pids = podman.run('top', name, 'hpid').stdout.decode().split()[1:]
    total = 0
    for pid in pids:
        with open('/proc/%s/smaps_rollup' % pid) as f:
            for line in f:
                if line.startswith('Pss:'):
                    total += int(line.split()[1])
    return total, len(pids)


def measure(podman, project, image, volume, what, args=()):
    starts, pss = [], []
    for i in range(RUNS):
        port = free_port()
        url = 'http://127.0.0.1:%d%s' % (port, PAGE)
        started = time.monotonic()
        name = podman.start(image, '%s-%d' % (what, i), port, *args,
                            mounts=tc.mounts(project, volume))
        while True:
            try:
                if get(url, timeout=10)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() - started > 120:
                logs = podman.run('logs', name, check=False)
                raise AssertionError('%s: no 200 in 120 s\n%s%s' % (
                    what, logs.stdout.decode()[-2000:], logs.stderr.decode()[-4000:]))
            time.sleep(0.05)
        starts.append(time.monotonic() - started)
        for _ in range(20):
            assert get(url)[0] == 200
        time.sleep(IDLE)
        pss.append(pss_kib(podman, name))
        podman.run('rm', '-f', '-t', '30', name, timeout=120)
    return {'size': podman.image_size(image), 'start': statistics.median(starts),
            'starts': starts, 'pss': statistics.median(p for p, _ in pss),
            'processes': pss[0][1]}


def main():
    podman = fresh_podman(ROOT)
    try:
        parent = ROOT / 'project'
        parent.mkdir()
        project = tc.quickstart(parent)
        tc.write_container(project)
        ours, seconds = podman.build(project, 'image-apache', BASE)
        print('tgdeploy image built in %.0f s' % seconds, flush=True)
        theirs, seconds = podman.build(project, 'image-gunicorn', BASE,
                                       containerfile=gunicorn_containerfile(project))
        print('gunicorn image built in %.0f s' % seconds, flush=True)
        bench_lock()  # the builds are done: measure alone
        volume = podman.volume('image-data')
        setup = podman.one_shot(ours, 'setup', mounts=tc.mounts(project, volume))
        assert setup.returncode == 0, setup.stderr.decode()[-2000:]
        rows = [('tgdeploy: Debian Apache + mod_wsgi, daemon 2 x 8', measure(
                     podman, project, ours, volume, 'apache')),
                ('Debian python3 + gunicorn 2 sync workers', measure(
                     podman, project, theirs, volume, 'gunicorn'))]
        lines = ['TurboGears 2 quickstart, the same project and production ini in both images, '
                 'built from localhost/tgdeploy-base:trixie (mmdebstrap minbase) with the same '
                 'virtualenv stage; %s; podman %s. Size: `podman image inspect` (uncompressed); '
                 'start: `podman run -d` to the first 200 of %s, median of %d cold starts '
                 '(min-max); PSS: every process of the container after 20 requests and %.0f s '
                 'at rest, median of the runs.' % (machine(), podman_version(podman), PAGE,
                                                    RUNS, IDLE), '',
                 '| image | size, MB | `podman run` to first 200, s | PSS at rest, MB '
                 '(processes) |', '|---|---|---|---|']
        for label, r in rows:
            lines.append('| %s | %.0f | %.2f (%.2f-%.2f) | %.1f (%d) |' % (
                label, r['size'] / 1e6, r['start'], min(r['starts']), max(r['starts']),
                r['pss'] / 1024.0, r['processes']))
        publish('container_image.py', '\n'.join(lines))
    finally:
        podman.cleanup()
        shutil.rmtree(str(ROOT), ignore_errors=True)


if __name__ == '__main__':
    main()
