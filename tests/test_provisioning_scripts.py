"""The provisioning scripts as written, checked without provisioning anything (a fresh Debian
12 or 13 run of each takes minutes to an hour: that was proven by hand in a trixie container,
see scripts/provision-py27): they parse, none names the machine's Debian release or a
Python 3 minor version where the release or the distribution's Python can be read, the private
apt sources for Python 2.7 follow the release /etc/os-release names, and every CPython the
pythons and Kallithea labs pin has a pinned source (scripts/lab-python --dry-run).
"""
import os
import re
import subprocess

import pytest

from conftest import REPO

SCRIPTS = REPO / 'scripts'
PROVISIONING = sorted(p for p in SCRIPTS.iterdir()
                      if p.name.startswith('provision') or p.name == 'lab-python')


def code_lines(path):
    """The script's lines less comments (a rough cut: '#' after a space or at the start)."""
    for line in path.read_text().splitlines():
        line = re.sub(r'(^|\s)#.*$', '', line)
        if line.strip():
            yield line


@pytest.mark.parametrize('script', PROVISIONING, ids=lambda p: p.name)
def test_parses_and_names_no_release_of_its_own(script):
    subprocess.run(['bash', '-n', str(script)], check=True, timeout=30)
    code = '\n'.join(code_lines(script))
    # bullseye is named on purpose (the last Debian release with python2.7); the machine's own
    # release is read from /etc/os-release. (provision-containers names the releases of the
    # base images it builds, whatever the machine runs.)
    if script.name != 'provision-containers':
        assert not re.search(r'\b(bookworm|trixie)\b', code), script
    # The distribution's Python is /usr/bin/python3 (3.11 on Debian 12, 3.13 on 13).
    assert not re.search(r'/usr/bin/python3\.\d+', code), script
    # pyenv may be used when present, never required.
    assert not re.search(r'pyenv install', code), script


def print_sources(tmp_path, os_release, sources):
    (tmp_path / 'os-release').write_text(os_release)
    apt = tmp_path / 'apt'
    (apt / 'sources.list.d').mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        (apt / name).write_text(text)
    env = dict(os.environ, TGDEPLOY_OS_RELEASE=str(tmp_path / 'os-release'),
               TGDEPLOY_APT_ETC=str(apt), TGDEPLOY_LAB=str(tmp_path / 'lab'))
    return subprocess.run(['bash', str(SCRIPTS / 'provision-py27'), '--print-sources'],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env, timeout=30)


def test_python27_sources_follow_the_release_trixie_one_line_sources(tmp_path):
    """A fresh Debian 13 (the base image mmdebstrap makes: one-line sources.list)."""
    proc = print_sources(tmp_path, 'ID=debian\nVERSION_CODENAME=trixie\n', {
        'sources.list': 'deb http://mirror.example/debian trixie main\n'})
    assert proc.returncode == 0, proc.stderr
    lines = [l.split('] ', 1)[1] for l in proc.stdout.splitlines()]
    assert lines == ['http://mirror.example/debian trixie main',
                     'http://deb.debian.org/debian-security trixie-security main',
                     'http://mirror.example/debian bullseye main'], proc.stdout
    assert not (tmp_path / 'lab').exists()  # printed, nothing made


def test_python27_sources_follow_the_release_bookworm_deb822(tmp_path):
    """A fresh Debian 12 (deb822 sources, as Debian 12's installer writes them)."""
    proc = print_sources(tmp_path, 'VERSION_CODENAME=bookworm\n', {
        'sources.list.d/debian.sources':
            'Types: deb\nURIs: http://m.example/debian\nSuites: bookworm bookworm-updates\n'
            'Components: main\n\nTypes: deb\nURIs: http://s.example/debian-security\n'
            'Suites: bookworm-security\nComponents: main\n'})
    assert proc.returncode == 0, proc.stderr
    lines = [l.split('] ', 1)[1] for l in proc.stdout.splitlines()]
    assert lines == ['http://m.example/debian bookworm main',
                     'http://s.example/debian-security bookworm-security main',
                     'http://m.example/debian bullseye main'], proc.stdout


def test_no_release_name_is_one_line_on_stderr(tmp_path):
    proc = print_sources(tmp_path, 'ID=debian\n', {})
    assert proc.returncode == 2 and proc.stdout == '', proc
    assert len(proc.stderr.splitlines()) == 1 and 'VERSION_CODENAME' in proc.stderr, proc.stderr


def pinned(script, table):
    """The X.Y.Z values of a bash assignment ``table`` in ``script`` (array or scalar)."""
    text = (SCRIPTS / script).read_text()
    found = re.search(r'^(?:declare -A )?%s=(\([^)]*\)|\S+)' % table, text, re.M).group(1)
    return re.findall(r'\b(\d+\.\d+\.\d+)\b', found)


def test_every_pinned_python_has_a_pinned_source(tmp_path):
    """Without pyenv (a user's fresh machine), each CPython of the pythons and Kallithea labs
    comes from python.org's tarball with a pinned SHA-256."""
    versions = pinned('provision-pythons', 'PYTHON') + pinned('provision-kallithea', 'PYTHON')
    assert len(versions) == 7, versions
    env = dict(os.environ, PYENV_ROOT=str(tmp_path / 'no-pyenv'),
               PATH='/usr/sbin:/usr/bin:/sbin:/bin', TGDEPLOY_LAB=str(tmp_path / 'lab'))
    for version in versions:
        proc = subprocess.run(['bash', str(SCRIPTS / 'lab-python'), '--dry-run', version,
                               str(tmp_path / version)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=30)
        assert proc.returncode == 0, proc.stderr
        assert re.match(r'build https://www\.python\.org/ftp/python/%s/Python-%s\.tar\.xz '
                        r'sha256=[0-9a-f]{64}$' % (re.escape(version), re.escape(version)),
                        proc.stdout.strip()), proc.stdout
    proc = subprocess.run(['bash', str(SCRIPTS / 'lab-python'), '--dry-run', '3.7.1',
                           str(tmp_path / 'x')], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env, timeout=30)
    assert proc.returncode == 2 and 'no pinned checksum for Python 3.7.1' in proc.stderr
    assert not (tmp_path / 'lab').exists()


def test_no_python3_minor_package_or_library_named():
    """Debian 12 carries python3.11, Debian 13 python3.13 and no python3.11: a script naming
    python3.X-venv/-dev (or Debian's /usr/lib/python3.X) stops at once on the other release
    (issue 23's `E: Unable to locate package python3.11-venv`); python3-venv, python3-dev
    name the release's own."""
    for script in PROVISIONING + [SCRIPTS / 'test', SCRIPTS / 'demo', SCRIPTS / 'debian13-full']:
        code = '\n'.join(code_lines(script))
        assert not re.search(r'\b(lib)?python3\.\d+-(venv|dev|distutils|minimal|stdlib)\b'
                             r'|/usr/(lib|include)/python3\.\d+', code), script


def default_labs(script):
    text = (SCRIPTS / script).read_text()
    return re.search(r'^labs=\$\{TGDEPLOY_LABS:-([^}]*)\}', text, re.M).group(1).split()


def test_every_lab_scripts_test_knows_has_a_script_and_the_readme_names_them():
    labs = default_labs('test')
    for name in labs:
        script = SCRIPTS / ('provision' if name == 'py3' else 'provision-' + name)
        assert script.is_file(), name
    readme = ' '.join((REPO / 'README.md').read_text().split())
    assert 'default: `%s`' % ' '.join(labs) in readme


def test_debian13_full_runs_known_labs_and_existing_test_files():
    """scripts/debian13-full (the long Debian 13 run by hand, PLATFORMS.md): its labs are
    scripts/test's less containers (--containers runs those apart, privileged), its default
    sample names test files that exist, one at least per lab, and so do the podman test
    files --all leaves out and --containers runs."""
    subprocess.run(['bash', '-n', str(SCRIPTS / 'debian13-full')], check=True, timeout=30)
    assert default_labs('debian13-full') == [l for l in default_labs('test') if l != 'containers']
    text = (SCRIPTS / 'debian13-full').read_text()
    sample = re.findall(r'\btests/test_\w+\.py\b', text)
    assert len(sample) >= 6 and all((REPO / name).is_file() for name in sample), sample
    listed = re.search(r'^podman_files=\(([^)]*)\$\(', text, re.M).group(1).split()
    assert 'test_container' in listed and 'test_debian13' in listed, listed
    assert all((REPO / 'tests' / (name + '.py')).is_file() for name in listed), listed


def test_every_apt_call_waits_for_the_package_locks():
    """On a fresh machine unattended-upgrades holds apt's locks after the first boot, and the
    labs provision side by side: a bare apt-get update/install would stop at once with
    "Could not get lock". (provision-bench only downloads, into a folder of its own.)"""
    for script in PROVISIONING:
        for line in code_lines(script):
            line = re.sub(r'"[^"]*"', '""', line)  # messages name apt-get install too
            # apt-get download takes no lock: provision-bench's nginx
            bare = re.findall(r'(?<![\w/$-])apt(?:-get)?(?![\w=-])(?!\s+download\b)', line)
            assert not bare, (script, line)


def test_apt_get_waiting_waits_for_a_held_lists_lock(tmp_path):
    """The lists lock, which apt's DPkg::Lock::Timeout does not cover, held for 6 s by another
    process: scripts/apt-get-waiting's update waits, then succeeds; an error other than a
    lock stops it at once. A private lists folder and no sources: nothing of the machine's
    apt is touched."""
    lists = tmp_path / 'lists'
    (lists / 'partial').mkdir(parents=True)
    (tmp_path / 'parts').mkdir()
    (tmp_path / 'cache' / 'archives' / 'partial').mkdir(parents=True)
    private = ['-o', 'Dir::State::Lists=%s' % lists, '-o', 'Dir::Etc::SourceList=/dev/null',
               '-o', 'Dir::Etc::SourceParts=%s' % (tmp_path / 'parts'),
               '-o', 'Dir::Cache=%s' % (tmp_path / 'cache')]
    holder = subprocess.Popen(
        ['python3', '-c', 'import fcntl, sys, time\n'
         'f = open(sys.argv[1], "w"); fcntl.lockf(f, fcntl.LOCK_EX); print(flush=True)\n'
         'time.sleep(6)', str(lists / 'lock')], stdout=subprocess.PIPE)
    try:
        holder.stdout.readline()  # the lock is held
        bare = subprocess.run(['apt-get'] + private + ['update'], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, env=dict(os.environ, LC_ALL='C.UTF-8'),
                              timeout=60)
        assert bare.returncode != 0 and b'Could not get lock' in bare.stderr, bare
        assert holder.poll() is None  # still held: the wrapper meets the lock
        waited = subprocess.run(['bash', str(SCRIPTS / 'apt-get-waiting')] + private + ['update'],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        assert waited.returncode == 0, waited.stderr
        assert holder.poll() is not None  # it returned after the holder let go
    finally:
        holder.kill()
        holder.wait()
    other = subprocess.run(['bash', str(SCRIPTS / 'apt-get-waiting'), 'no-such-command'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    assert other.returncode != 0 and b'Invalid operation' in other.stderr, other
