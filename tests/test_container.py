"""--container on a real TurboGears 2 quickstart, built by real podman on a Debian base
made by scripts/provision-containers (no registry is reachable here), run on 127.0.0.1
at free ports: the image serves its pages at / and, built again with --mount /sub, at
/sub; Apache runs as www-data; the health check asks the application; the deployed
secrets are in no layer of the image; the data volume outlives its containers; a stop
(SIGTERM) lets the request in flight finish. Every container, image and volume made is
removed at the end.
"""
import http.client
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest

from conftest import LAB_PY3
from support import containers
from support.containers import get, wait_answer
from tgdeploy.cli import deploy
from tgdeploy.errors import TgDeployError
from tgdeploy.serve.private_apache import free_port
from tgdeploy.write import container

BASE = os.environ.get('TGDEPLOY_CONTAINER_BASE', 'localhost/tgdeploy-base:trixie')
SLOW = 3  # seconds the /slow page takes

# Two pages added to the quickstart's root controller: one that takes its time (a request
# in flight during a stop), one that counts its hits in a file of the data folder.
EXTRA_PAGES = '''
    @expose(content_type='text/plain')
    def slow(self):
        import time
        time.sleep(%d)
        return 'slow done'

    @expose(content_type='text/plain')
    def hits(self):
        import os
        from tg import config
        path = os.path.join(config['cache_dir'], 'hits.txt')
        count = 1
        if os.path.exists(path):
            with open(path) as f:
                count = int(f.read()) + 1
        with open(path, 'w') as f:
            f.write(str(count))
        return 'hits %%d' %% count

''' % SLOW


def quickstart(parent):
    subprocess.run([LAB_PY3.bin('gearbox'), 'quickstart', 'tg2app'], cwd=str(parent),
                   input=b'', stdout=subprocess.DEVNULL, check=True)
    project = parent / 'tg2app'
    root = project / 'tg2app' / 'controllers' / 'root.py'
    text = root.read_text()
    anchor = '    @expose()\n    def index(self):'
    assert anchor in text, text
    root.write_text(text.replace(anchor, EXTRA_PAGES + anchor, 1))
    return project


def write_container(project, **given):
    values = deploy.settle(str(project), given)
    return values, container.write(values, False)


@pytest.fixture(scope='module')
def podman(www_root):
    runner = containers.podman_for_tests(www_root / 'podman', BASE)
    yield runner
    runner.cleanup()


@pytest.fixture(scope='module')
def built(podman, www_root):
    """{mount: (project, image, data volume)}, each volume set up by the image's one-shot
    README step 2."""
    made = {}
    for mount, what in (('/', 'root'), ('/sub', 'sub')):
        parent = www_root / ('container-' + what)
        parent.mkdir()
        project = quickstart(parent)
        # The / image with the host config's --status-endpoint (its own daemon group).
        write_container(project, mount=mount, **({'status_endpoint': 'yes'} if mount == '/'
                                                  else {}))
        image, seconds = podman.build(project, 'tg2-' + what, BASE)
        print('build of the %s image: %.0f s, %.0f MB' % (
            mount, seconds, podman.image_size(image) / 1e6))
        volume = podman.volume('data-' + what)
        result = podman.one_shot(image, 'setup', mounts=mounts(project, volume))
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        made[mount] = (project, image, volume)
    return made


def mounts(project, volume):
    return ['%s:/srv/app/data' % volume,
            '%s:/srv/config:ro' % (project / 'apache' / 'container' / 'config')]


def start(podman, built, mount, what, volume=None):
    """A container of ``mount``'s image; (its name, its base URL, seconds to an answer)."""
    project, image, default_volume = built[mount]
    port = free_port()
    name = podman.start(image, what, port, mounts=mounts(project, volume or default_volume))
    base = 'http://127.0.0.1:%d' % port
    return name, base, wait_answer(base + mount.rstrip('/') + '/')


def test_the_files_beside_apache_and_an_edit_kept(www_root):
    parent = www_root / 'container-files'
    parent.mkdir()
    project = quickstart(parent)
    values, (changes, entries, root_files) = write_container(project)
    assert [verb for verb, path in root_files] == ['created', 'created']
    for name in ('Containerfile', '.containerignore', 'apache/container/httpd.conf',
                 'apache/container/entrypoint.sh', 'apache/container/config/tg2app.ini',
                 'apache/container/config/tg2app.wsgi', 'apache/tg2app.kube.yaml',
                 'apache/tg2app.conf'):
        assert (project / name).is_file(), name
    text = (project / 'Containerfile').read_text()
    # The lab's Python is the distribution's: bookworm's 3.11, trixie's 3.13.
    release = {(3, 11): 'bookworm', (3, 13): 'trixie'}.get(sys.version_info[:2])
    assert release, 'the lab runs Python %s, neither Debian 12 nor 13' % sys.version.split()[0]
    assert 'ARG BASE=debian:%s-slim\n' % release in text, text[:2000]
    assert 'libapache2-mod-wsgi-py3' in text and 'USER www-data\n' in text
    # The deployed config (and its secrets) are mounted, never copied into the image.
    ignore = (project / '.containerignore').read_text()
    assert 'apache/\n!apache/container/\napache/container/config/\n' in ignore
    assert oct((project / 'apache/container/config/tg2app.ini').stat().st_mode & 0o777) == '0o640'
    ini = (project / 'apache/container/config/tg2app.ini').read_text()
    assert 'sqlalchemy.url = sqlite:////srv/app/data/tg2app.db' in ini and str(project) not in ini
    # Again: nothing changes; an edit is kept, then replaced with --overwrite (as .bak).
    _, (_, _, root_files) = write_container(project)
    assert root_files == []
    with open(str(project / 'Containerfile'), 'a') as f:
        f.write('LABEL mine=yes\n')
    with pytest.raises(TgDeployError, match='you edited .*Containerfile.*--overwrite'):
        write_container(project)
    assert 'LABEL mine=yes' in (project / 'Containerfile').read_text()
    _, _, root_files = container.write(values, True)
    assert [verb for verb, _ in root_files] == ['replaced (your version saved as .bak)']
    assert 'LABEL mine=yes' in (project / 'Containerfile.bak').read_text()
    assert 'LABEL mine=yes' not in (project / 'Containerfile').read_text()


def test_the_image_serves_its_pages_as_www_data(podman, built):
    name, base, seconds = start(podman, built, '/', 'serve-root')
    print('cold start to the first answer: %.1f s' % seconds)
    status, body = get(base + '/demo')
    assert status == 200 and 'TurboGears' in body, body[:500]
    assert get(base + '/')[0] == 302
    status, body = get(base + '/css/style.css')  # Apache's own static alias
    assert status == 200 and '{' in body
    users = podman.run('top', name, 'user', 'comm').stdout.decode()
    assert 'root' not in users and 'www-data' in users, users
    # The image's HEALTHCHECK asks the application's own page.
    assert podman.run('healthcheck', 'run', name, check=False).returncode == 0
    logs = podman.run('logs', name).stdout.decode() + podman.run('logs', name).stderr.decode()
    assert re.search(r'"GET /demo HTTP/1.1" 200 ', logs), logs[-2000:]
    # The host config's hardening: no version in the Server header, TRACE refused; and its
    # --status-endpoint, answered by a daemon group of its own, local clients only.
    connection = http.client.HTTPConnection(base[len('http://'):], timeout=30)
    connection.request('TRACE', '/demo', headers={'Cookie': 'secret=1'})
    answer = connection.getresponse()
    assert (answer.status, answer.getheader('Server')) == (405, 'Apache')
    assert b'secret=1' not in answer.read()
    connection.close()
    status, body = get(base + '/.tgdeploy-status?format=json')
    assert status == 200 and '"processes"' in body, body[:500]
    assert get(base + '/.tgdeploy-status', headers={'X-Forwarded-For': '192.0.2.1'})[0] == 403


def test_built_with_mount_sub_it_serves_at_sub(podman, built):
    name, base, seconds = start(podman, built, '/sub', 'serve-sub')
    status, body = get(base + '/sub/demo')
    assert status == 200 and 'TurboGears' in body, body[:500]
    assert '/sub/' in body  # its links carry the mount
    assert get(base + '/demo')[0] == 403  # outside the mount: nothing is served
    assert podman.run('healthcheck', 'run', name, check=False).returncode == 0


def test_no_deployed_secret_is_in_any_layer(podman, built):
    project, image, _ = built['/']
    ini = (project / 'apache' / 'tg2app.ini').read_text()
    secrets = re.findall(r'^session\.(?:secret|validate_key) = (\S+)$', ini, re.M)
    assert len(secrets) == 2, ini
    needles = [s.encode() for s in secrets]
    assert all(n in (project / 'apache/container/config/tg2app.ini').read_bytes() for n in needles)
    assert podman.layers_hold(image, needles) == set()


def test_the_data_volume_outlives_its_containers(podman, built):
    project, image, _ = built['/']
    volume = podman.volume('data-hits')
    name, base, _ = start(podman, built, '/', 'hits-1', volume)
    assert get(base + '/hits') == (200, 'hits 1')
    assert get(base + '/hits') == (200, 'hits 2')
    podman.run('restart', '-t', '30', name, timeout=120)
    wait_answer(base + '/')
    assert get(base + '/hits') == (200, 'hits 3')
    podman.run('rm', '-f', '-t', '30', name, timeout=120)
    # README step 2 again (an init container runs it at every start): it keeps the data.
    result = podman.one_shot(image, 'setup', mounts=mounts(project, volume))
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    _, base, _ = start(podman, built, '/', 'hits-2', volume)
    assert get(base + '/hits') == (200, 'hits 4')


def test_a_stop_lets_the_request_in_flight_finish(podman, built):
    name, base, _ = start(podman, built, '/', 'stop')
    answers = []
    request = threading.Thread(target=lambda: answers.append(get(base + '/slow', timeout=60)))
    request.start()
    time.sleep(1)
    started = time.monotonic()
    podman.run('stop', '-t', '40', name, timeout=120)
    stopped = time.monotonic() - started
    request.join(60)
    print('stop with a %d s request in flight: %.1f s' % (SLOW, stopped))
    assert answers == [(200, 'slow done')]
    state = podman.run('inspect', name, '--format', '{{.State.ExitCode}}').stdout.decode()
    assert state.strip() == '0'  # Apache ended by itself, not killed after the timeout
    assert stopped < 30


def for_podman_43(manifest, image, suffix, port):
    """The generated manifest as this machine's podman 4.3 can play it: the image built
    here; object names of this run; the pod's port on 127.0.0.1:``port`` (podman plays no
    Service: hostPort stands in for it); the Secret as a ConfigMap, since podman 4.3 writes
    a Secret's files base64-encoded (podman issue 16625, fixed in 4.4); restartPolicy
    OnFailure: podman 4.3 applies a Deployment's Always to its init container too, restarts
    it when its job is done, then fails to remove it ("it is running")."""
    text = manifest.replace('image: localhost/tg2app:latest', 'image: ' + image)
    text = re.sub(r'^(\s*(?:name|claimName|secretName): tg2app)', r'\1' + suffix, text,
                  flags=re.M)
    text = text.replace('              containerPort: 8080\n',
                        '              containerPort: 8080\n              hostIP: 127.0.0.1\n'
                        '              hostPort: %d\n' % port)
    text = text.replace('kind: Secret\n', 'kind: ConfigMap\n').replace('type: Opaque\n', '')
    text = text.replace('stringData:\n', 'data:\n')
    text = re.sub(r'secret:\n(\s+)secretName: (\S+)\n\s+defaultMode: \S+\n\s+optional: false.*\n',
                  r'configMap:\n\1name: \2\n', text)
    grace = '      terminationGracePeriodSeconds: 30\n'
    text = text.replace(grace, grace + '      restartPolicy: OnFailure\n')
    assert text.count('hostPort') == 1 and text.count('restartPolicy') == 1, text
    assert 'secretName' not in text, text
    return text


def test_the_kubernetes_manifest_plays_and_answers(podman, built, www_root):
    project, image, _ = built['/']
    manifest = (project / 'apache' / 'tg2app.kube.yaml').read_text()
    assert '\nkind: Deployment\n' in manifest and '\nkind: Service\n' in manifest
    assert '\nkind: Secret\n' in manifest and '\nkind: PersistentVolumeClaim\n' in manifest
    # SQLite: one replica, and why; the set-up step as an init container; a grace period
    # longer than Apache's graceful stop.
    assert re.search(r'# One replica: its database is SQLite .*\n.*\n  replicas: 1\n', manifest)
    assert 'initContainers:\n        # README step 2' in manifest
    assert 'terminationGracePeriodSeconds: 30\n' in manifest
    assert 'defaultMode: 0444\n' in manifest  # podman 5.4 mounts it root's, fsGroup ignored
    port = free_port()
    suffix = '-' + podman.tag
    played = www_root / 'podman' / ('kube%s.yaml' % suffix)
    played.write_text(for_podman_43(manifest, image, suffix, port))
    # podman 4.3 names the Deployment's pod NAME-pod-0, podman 5 NAME-pod
    podman.made['pod'] += ['tg2app%s-pod-0' % suffix, 'tg2app%s-pod' % suffix]
    podman.made['volume'].append('tg2app%s-data' % suffix)
    podman.made['volume'].append('tg2app%s-config' % suffix)  # podman 4.3: a ConfigMap's
    try:
        started = time.monotonic()
        podman.run('kube', 'play', played, timeout=300)
        seconds = wait_answer('http://127.0.0.1:%d/' % port)
        print('podman kube play to the first answer: %.1f s' % (time.monotonic() - started))
        status, body = get('http://127.0.0.1:%d/demo' % port)
        assert status == 200 and 'TurboGears' in body, body[:500]
        made = podman.run('ps', '-a', '--filter', 'name=tg2app%s-pod' % suffix, '--format',
                          '{{.Names}} {{.ExitCode}}').stdout.decode().split('\n')
        made = dict(line.split() for line in made if line.strip())
        app = [name for name in made if name.endswith('-tg2app')]
        assert len(app) == 1, made
        # the set-up init container: gone once done, or ended with 0
        assert all(code == '0' for name, code in made.items() if name.endswith('-setup')), made
        users = podman.run('top', app[0], 'user').stdout.decode()
        assert 'root' not in users and 'www-data' in users, users
    finally:
        podman.run('kube', 'down', played, check=False, timeout=120)


def test_the_console_script_writes_them_and_says_how_to_build(www_root):
    parent = www_root / 'container-cli'
    parent.mkdir()
    project = quickstart(parent)
    result = subprocess.run([LAB_PY3.bin('tgdeploy'), '--container'], cwd=str(project),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert 'created %s' % (project / 'Containerfile') in out, out
    assert 'podman build --format docker -t tg2app .' in out, out
    assert (project / 'apache' / 'tg2app.kube.yaml').is_file()
    # --simulate from the command line: says what a changed run would write, writes nothing.
    before = {p: p.read_bytes() for p in project.rglob('*') if p.is_file()}
    result = subprocess.run([LAB_PY3.bin('tgdeploy'), '--container', '--simulate',
                             '--mount', '/sim'], cwd=str(project),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert 'would update' in out and '/sim' in out, out
    assert {p: p.read_bytes() for p in project.rglob('*') if p.is_file()} == before
