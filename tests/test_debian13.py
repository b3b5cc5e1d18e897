"""Debian 13 (trixie), the current stable release, as a fresh machine: a container made from
Debian's own repositories (scripts/provision-containers), this checkout copied in, and the
README's set-up run as written inside it — the demo, then the end-to-end tests that start
Apache (TurboGears 2 and CherryPy at / and at a sub-URL, daemon and embedded mode) with
Debian 13's Apache, its mod_wsgi 5.0.2 and its Python 3.13.

Nothing of the host's lab is shared: the container provisions its own. pip reaches PyPI
through this workplace's proxy, whose CA the host trusts: that bundle is mounted and named,
as FIELD-NOTES says; a user's machine needs neither.
"""
import os
import re
import subprocess
import tarfile
import time
import uuid

import pytest

from conftest import LAB, REPO

CONTAINERS = LAB / 'containers'
IMAGE = 'localhost/tgdeploy-base:trixie'
CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'
LIMIT = 30 * 60  # seconds for the whole run in the container; about 7 on a quiet machine

INSIDE = r'''
set -eu
mkdir /root/tgdeploy && tar -xf /work/checkout.tar -C /root/tgdeploy && cd /root/tgdeploy
echo "== os: $(. /etc/os-release && echo "$PRETTY_NAME")"
bash scripts/provision-py27 --print-sources | sed 's/^/== py27 source: /'
bash scripts/demo --stop
echo "== python: $(/usr/bin/python3 --version)"
echo "== mod_wsgi package: $(dpkg-query -W -f='${Version}' libapache2-mod-wsgi-py3)"
echo "== apache: $(/usr/sbin/apache2 -v | head -n 1)"
TGDEPLOY_LABS=py3 bash scripts/test -q -p no:cacheprovider tests/test_e2e_apache.py
'''


def podman(*args, **kwargs):
    env = dict(os.environ, CONTAINERS_CONF=str(CONTAINERS / 'containers.conf'))
    return subprocess.run(['podman'] + list(args), env=env, **kwargs)


def checkout_tar(path):
    """The checkout's tracked files, as a fresh clone holds them."""
    names = subprocess.run(['git', 'ls-files', '-z'], cwd=str(REPO), check=True,
                           stdout=subprocess.PIPE).stdout.decode().split('\0')
    with tarfile.open(str(path), 'w') as tar:
        for name in filter(None, names):
            if os.path.lexists(str(REPO / name)):
                tar.add(str(REPO / name), arcname=name, recursive=False)


@pytest.fixture(scope='module')
def debian13_run(www_root):
    if podman('image', 'exists', IMAGE).returncode != 0:
        pytest.fail('no %s image: run scripts/provision-containers (scripts/test does)' % IMAGE)
    work = www_root / 'debian13'
    work.mkdir()
    checkout_tar(work / 'checkout.tar')
    (work / 'inside.sh').write_text(INSIDE)
    name = 'tgdeploy-debian13-%s' % uuid.uuid4().hex[:8]
    env = ['-e', 'PIP_CERT=' + CA_BUNDLE, '-e', 'SSL_CERT_FILE=' + CA_BUNDLE,
           '-e', 'REQUESTS_CA_BUNDLE=' + CA_BUNDLE]
    started = time.monotonic()
    try:
        result = podman('run', '--rm', '--name', name, '--network=host',
                        '-v', '%s:/work:ro' % work, '-v', '%s:%s:ro' % (CA_BUNDLE, CA_BUNDLE),
                        *env, IMAGE, '/bin/bash', '/work/inside.sh',
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=LIMIT)
    except subprocess.TimeoutExpired:
        podman('kill', name, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        podman('rm', '-f', name, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pytest.fail('the Debian 13 run took over %d s' % LIMIT)
    output = result.stdout.decode('utf-8', 'replace')
    print(output[-6000:])
    print('Debian 13 container: exit %d after %.0f s' % (result.returncode,
                                                          time.monotonic() - started))
    return result.returncode, output


def test_the_container_is_debian_13_with_its_own_python_and_mod_wsgi(debian13_run):
    code, output = debian13_run
    assert '== os: Debian GNU/Linux 13 (trixie)' in output, output[-3000:]
    assert re.search(r'== python: Python 3\.13\.\d+', output), output[-3000:]
    assert re.search(r'== mod_wsgi package: 5\.0\.\d', output), output[-3000:]


def test_python27_comes_from_bullseye_beside_trixie(debian13_run):
    """scripts/provision-py27's dry run on the fresh image: the private apt sources name the
    machine's own release, read from its one-line sources.list, and bullseye for python2.7
    (the full provisioning there was proven by hand: see the script's header)."""
    code, output = debian13_run
    sources = re.findall(r'^== py27 source: deb \[[^]]*\] (\S+) (\S+) main$', output, re.M)
    assert [suite for _, suite in sources] == ['trixie', 'trixie-security', 'bullseye'], \
        output[-3000:]


def test_the_demo_runs_as_written(debian13_run):
    code, output = debian13_run
    assert re.search(r'First response: 302 http://127\.0\.0\.1:\d+/demoapp/demo', output), \
        output[-3000:]
    assert re.search(r'GET http://127\.0\.0\.1:\d+/demoapp/demo -> 200, \d+ bytes, title: '
                     r'TurboGears Demo', output), output[-3000:]


def collected(test_file):
    """How many tests pytest collects from ``test_file`` here: all of them must pass there."""
    out = subprocess.run([str(LAB / 'py3' / 'bin' / 'pytest'), '--collect-only', '-q',
                          '-p', 'no:cacheprovider', test_file], cwd=str(REPO),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode()
    return int(re.search(r'^(\d+) tests? collected', out, re.M).group(1))


def test_the_end_to_end_tests_pass(debian13_run):
    code, output = debian13_run
    summary = re.findall(r'^=*\s*(\d+) passed(.*?)(?: in [\d.]+s.*)?$', output, re.M)
    assert code == 0 and summary, output[-4000:]
    passed, rest = summary[-1]
    assert 'failed' not in rest and 'error' not in rest, output[-4000:]
    assert int(passed) == collected('tests/test_e2e_apache.py'), output[-4000:]
