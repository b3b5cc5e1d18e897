"""Podman for the container tests: the lab's containers.conf (runc, explicit limits:
FIELD-NOTES), images built from a generated Containerfile on a local Debian base, and a
record of every container, pod, image and volume made, all removed at the end.

Containers use the host's network (this sandbox has no other) and listen on 127.0.0.1
at a free port, through the LISTEN variable the generated entry script reads. pip in a
build reaches PyPI through this workplace's proxy, whose CA the host trusts: that bundle
and a pip.conf naming it are mounted for the build only (a build's mounts are in no layer).
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path

import pytest

LAB = Path(os.environ.get('TGDEPLOY_LAB', '/opt/tgdeploy-lab'))
CONTAINERS_CONF = LAB / 'containers' / 'containers.conf'
CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'
BUILD_LIMIT = 20 * 60


def missing():
    """Why podman cannot run here, or None."""
    if not shutil.which('podman'):
        return 'podman is not installed: run scripts/provision-containers (CI provisions it)'
    if not CONTAINERS_CONF.is_file():
        return 'no %s: run scripts/provision-containers' % CONTAINERS_CONF
    return None


class Podman(object):
    """Runs podman; remembers what it made so that cleanup() removes all of it."""

    def __init__(self, scratch):
        self.scratch = Path(scratch)
        self.tag = uuid.uuid4().hex[:8]
        self.made = {'container': [], 'pod': [], 'image': [], 'volume': []}

    def run(self, *args, check=True, timeout=300, **kwargs):
        env = dict(os.environ, CONTAINERS_CONF=str(CONTAINERS_CONF))
        result = subprocess.run(['podman'] + [str(a) for a in args], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                timeout=timeout, **kwargs)
        if check and result.returncode != 0:
            raise AssertionError('podman %s: exit %d\n%s\n%s' % (
                ' '.join(map(str, args)), result.returncode,
                result.stdout.decode('utf-8', 'replace')[-3000:],
                result.stderr.decode('utf-8', 'replace')[-3000:]))
        return result

    def name(self, kind, what):
        name = 'tgdeploy-test-%s-%s' % (what, self.tag)
        self.made[kind].append(name)
        return name

    def build(self, context, what, base, wheels=None, containerfile=None):
        """Build ``context`` (its Containerfile, or ``containerfile``); return (image name,
        seconds). ``wheels``: a folder pip finds packages in too (tgdeploy's wheel, not on
        PyPI yet)."""
        image = 'localhost/' + self.name('image', what)
        conf = self.scratch / ('pip-%s.conf' % what)
        conf.write_text('[global]\n%s%s' % (
            'cert = /etc/pip-ca.crt\n' if os.path.exists(CA_BUNDLE) else '',
            'find-links = /wheels\n' if wheels else ''))
        mounts = ['-v', '%s:/etc/pip.conf:ro' % conf]
        if os.path.exists(CA_BUNDLE):
            mounts += ['-v', '%s:/etc/pip-ca.crt:ro' % CA_BUNDLE]
        if wheels:
            mounts += ['-v', '%s:/wheels:ro' % wheels]
        containerfile = keyed_to_wheel(containerfile or Path(context) / 'Containerfile',
                                       wheels, self.scratch / ('Containerfile-%s' % what))
        mounts += ['-f', str(containerfile)]
        started = time.monotonic()
        self.run('build', '--isolation=chroot', '--network=host', '--format', 'docker',
                 '--build-arg', 'BASE=' + base, *mounts, '-t', image, str(context),
                 timeout=BUILD_LIMIT)
        assert not self.stale_tgdeploy(image, wheels), 'tgdeploy in %s is not the wheel' % image
        return image, time.monotonic() - started

    def stale_tgdeploy(self, image, wheels):
        """Whether ``image`` holds a tgdeploy other than the one in ``wheels``."""
        wanted = wheel_files(wheels)
        if not wanted:
            return False
        result = self.run('run', '--rm', '--entrypoint', '/bin/sh', image, '-c',
                          'cat /srv/venv/lib/python*/site-packages/tgdeploy-*.dist-info/RECORD',
                          check=False)
        if result.returncode != 0:
            return False  # this image does not install tgdeploy
        return hashed_files(result.stdout.decode()) != wanted

    def volume(self, what):
        name = self.name('volume', what)
        self.run('volume', 'create', name)
        return name

    def start(self, image, what, port, *args, env=(), mounts=()):
        """A detached container listening on 127.0.0.1:``port``; its name."""
        name = self.name('container', what)
        options = ['--network=host', '-e', 'LISTEN=127.0.0.1:%d' % port]
        for item in env:
            options += ['-e', item]
        for mount in mounts:
            options += ['-v', mount]
        self.run('run', '-d', '--name', name, *options, image, *args)
        return name

    def one_shot(self, image, *args, mounts=()):
        options = []
        for mount in mounts:
            options += ['-v', mount]
        return self.run('run', '--rm', '--network=host', *options, image, *args, check=False)

    def image_size(self, image):
        return json.loads(self.run('image', 'inspect', image).stdout)[0]['Size']

    def layers_hold(self, image, needles):
        """The ``needles`` (bytes) found in any file of any layer of ``image``, or in its
        config (history, environment, labels)."""
        archive = self.scratch / ('%s.tar' % uuid.uuid4().hex[:8])
        self.run('save', '--format', 'docker-archive', '-o', archive, image, timeout=600)
        found = set()
        try:
            with tarfile.open(str(archive)) as outer:
                for member in outer:
                    if not member.isfile():
                        continue
                    if member.name.endswith('.tar'):
                        found |= files_holding(outer.extractfile(member), needles)
                    else:
                        data = outer.extractfile(member).read()
                        found |= set(n for n in needles if n in data)
        finally:
            archive.unlink()
        return found

    def cleanup(self):
        for name in self.made['container']:
            self.run('rm', '-f', '-t', '0', name, check=False)
        for name in self.made['pod']:
            self.run('pod', 'rm', '-f', '-t', '0', name, check=False)
        for name in self.made['volume']:
            self.run('volume', 'rm', '-f', name, check=False)
        for name in self.made['image']:
            self.run('rmi', '-f', name, check=False)


def podman_for_tests(scratch, base):
    """A Podman working in ``scratch``, or a clear failure when podman or the base image
    ``base`` is missing (CI provisions both: scripts/provision-containers)."""
    why = missing()
    if why:
        pytest.fail(why)
    scratch.mkdir(exist_ok=True)
    runner = Podman(scratch)
    if runner.run('image', 'exists', base, check=False).returncode != 0:
        pytest.fail('no %s image: run scripts/provision-containers' % base)
    return runner


def keyed_to_wheel(containerfile, wheels, copy):
    """The Containerfile to build: ``containerfile``, or, when it installs tgdeploy from
    ``wheels``, a ``copy`` whose tgdeploy line ends in a comment naming the wheel's files.
    The build-only /wheels folder is not part of the layer cache's key: without it, a layer
    cached from an earlier tgdeploy of the same version would be reused."""
    files = wheel_files(wheels)
    text = Path(containerfile).read_text()
    if not files:
        return containerfile
    digest = hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest()[:16]
    keyed = re.sub(r'( tgdeploy==\S+)$', r'\1  # the wheel of the tests: %s' % digest, text,
                   flags=re.M)
    if keyed == text:
        return containerfile
    copy.write_text(keyed)
    return copy


def wheel_files(wheels):
    """{path: hash} of tgdeploy's files in the wheel in ``wheels`` ({} without one)."""
    found = list(Path(wheels).glob('tgdeploy-*.whl')) if wheels else []
    if not found:
        return {}
    with zipfile.ZipFile(str(found[0])) as wheel:
        record = [n for n in wheel.namelist() if n.endswith('.dist-info/RECORD')][0]
        return hashed_files(wheel.read(record).decode())


def hashed_files(record):
    """{path: hash} of the package's files in a dist-info RECORD's text."""
    rows = (line.split(',') for line in record.splitlines())
    return dict((row[0], row[1]) for row in rows
                if len(row) == 3 and row[1] and row[0].startswith('tgdeploy/'))


def files_holding(layer, needles):
    found = set()
    with tarfile.open(fileobj=layer, mode='r|*') as tar:
        for member in tar:
            if member.isfile():
                data = tar.extractfile(member).read()
                found |= set(n for n in needles if n in data)
    return found


def get(url, timeout=30, headers=None):
    """(status, body text) without following redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}),
                         timeout=timeout) as response:
            return response.status, response.read().decode('utf-8', 'replace')
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode('utf-8', 'replace')


def wait_answer(url, timeout=120):
    """Seconds until ``url`` answers anything below 500 (AssertionError after ``timeout``)."""
    started = time.monotonic()
    last = None
    while time.monotonic() - started < timeout:
        try:
            status, _ = get(url, timeout=10)
            if status < 500:
                return time.monotonic() - started
            last = status
        except (OSError, urllib.error.URLError) as e:
            last = e
        time.sleep(0.1)
    raise AssertionError('%s did not answer in %d s (last: %s)' % (url, timeout, last))
