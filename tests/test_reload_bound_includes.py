"""How --reload tells that an Apache loaded this very .conf: its command line and the
Include chain read as Apache reads it (Debian's layout: -d, relative globs, sites-enabled
symlinks, ${VAR}), by device and inode; every file of the chain read bounded; and the
bounded reader itself (regular file, no symlink, size cap)."""
import os
import threading

import pytest

from support.projects import write
from tgdeploy.serve.apache_includes import command_line, loads, started_by_check
from tgdeploy.files.regular_file import NotRegular, read_regular

DEBIAN_TOP = '''# as Debian's apache2.conf
IncludeOptional mods-enabled/*.load
Include ports.conf
IncludeOptional conf-enabled/*.conf
IncludeOptional sites-enabled/*.conf
'''


@pytest.fixture
def layout(tmp_path):
    """A Debian-like tree in etc/ and two copies of a deployment (same file name)."""
    etc = tmp_path / 'etc'
    write(etc / 'apache2.conf', DEBIAN_TOP)
    write(etc / 'ports.conf', 'Listen 80\n')
    write(etc / 'mods-enabled' / 'wsgi.load', 'LoadModule wsgi_module x.so\n')
    for folder in ('conf-enabled', 'sites-enabled'):
        (etc / folder).mkdir()
    production = write(tmp_path / 'production' / 'apache' / 'shop.conf', 'WSGIDaemonProcess shop\n')
    staging = write(tmp_path / 'staging' / 'apache' / 'shop.conf', 'WSGIDaemonProcess shop\n')
    return etc, production, staging


def loaded(argv, environ, path):
    """apache_includes.loads for the file at ``path``."""
    info = os.stat(path)
    return loads(argv, environ, (info.st_dev, info.st_ino))


def debian(etc, *more):
    return ['/usr/sbin/apache2', '-d', str(etc)] + list(more) + ['-k', 'start']


def test_a_site_enabled_by_symlink_is_loaded_and_its_copy_is_not(layout):
    etc, production, staging = layout
    assert not loaded(debian(etc), {}, str(production))
    os.symlink(str(production), str(etc / 'sites-enabled' / 'shop.conf'))
    assert loaded(debian(etc), {}, str(production))
    assert not loaded(debian(etc), {}, str(staging))
    # Without -d, Debian's compiled-in /etc/apache2 is where it starts: not this tree.
    assert not loaded(['/usr/sbin/apache2', '-k', 'start'], {}, str(production))


def test_variables_folders_serverroot_and_command_line_directives(layout, tmp_path):
    etc, production, staging = layout
    write(etc / 'conf-enabled' / 'sites.conf', 'Define SITES ${DEPLOY_ROOT}/production\n'
                                               'Include "${SITES}/apache"\n')
    assert not loaded(debian(etc), {}, str(production))
    assert loaded(debian(etc), {'DEPLOY_ROOT': str(tmp_path)}, str(production))
    assert not loaded(debian(etc), {'DEPLOY_ROOT': str(tmp_path)}, str(staging))
    # -f relative to a ServerRoot given by -d; -C directives before the file.
    write(tmp_path / 'other' / 'conf' / 'main.conf', 'ServerRoot "%s"\nInclude s*/x.conf\n'
          % tmp_path)
    write(tmp_path / 'staging' / 'x.conf', 'Include staging/apache/shop.conf\n')
    argv = ['/usr/sbin/httpd', '-d', str(tmp_path / 'other'), '-fconf/main.conf']
    assert command_line(argv)[:2] == (str(tmp_path / 'other'), 'conf/main.conf')
    assert loaded(argv, {}, str(staging)) and not loaded(argv, {}, str(production))
    argv = debian(etc, '-C', 'Include %s' % production)
    assert loaded(argv, {}, str(production))
    # The binaries' own starting points: Debian, RHEL, a build from source.
    assert command_line(['/usr/sbin/apache2', '-k', 'start'])[:2] == ('/etc/apache2',
                                                                      'apache2.conf')
    assert command_line(['/usr/sbin/httpd', '-DFOREGROUND'])[:2] == ('/etc/httpd',
                                                                     'conf/httpd.conf')
    assert command_line(['/usr/local/apache2/bin/httpd', '-k', 'start'])[:2] == (
        '/usr/local/apache2', 'conf/httpd.conf')


def test_a_chain_with_a_fifo_a_device_a_loop_and_a_huge_file_ends(layout):
    etc, production, _ = layout
    os.mkfifo(str(etc / 'conf-enabled' / 'a-fifo.conf'))
    os.symlink('/dev/zero', str(etc / 'conf-enabled' / 'b-zero.conf'))
    write(etc / 'conf-enabled' / 'c-loop.conf', 'Include conf-enabled/c-loop.conf\n'
                                                'Include apache2.conf\n')
    with open(str(etc / 'conf-enabled' / 'd-huge.conf'), 'wb') as f:
        f.truncate(64 * 1024 * 1024)  # sparse: 64 MiB of nothing, over the cap
    os.symlink(str(production), str(etc / 'sites-enabled' / 'shop.conf'))
    result = []
    thread = threading.Thread(target=lambda: result.append(
        loaded(debian(etc), {}, str(production))))
    thread.daemon = True
    thread.start()
    thread.join(20)
    assert result == [True]


def test_started_by_check_is_the_private_apache_of_check_and_serve(tmp_path):
    check = write(tmp_path / 'tgdeploy-check-abc' / 'httpd.conf',
                  '# A private Apache written by tgdeploy 1.0 (--check, --serve, tests)\n')
    assert started_by_check(['/usr/sbin/apache2', '-f', str(check), '-k', 'start'])
    test = write(tmp_path / 'tmpxyz' / 'httpd.conf', check.read_text())
    assert not started_by_check(['/usr/sbin/apache2', '-f', str(test), '-k', 'start'])
    named = write(tmp_path / 'tgdeploy-check-def' / 'httpd.conf', 'ServerName x\n')
    assert not started_by_check(['/usr/sbin/apache2', '-f', str(named), '-k', 'start'])


def test_read_regular_reads_only_a_regular_file_within_its_cap(tmp_path):
    plain = write(tmp_path / 'plain.conf', 'x' * 100)
    assert read_regular(str(plain), 100) == b'x' * 100
    with pytest.raises(NotRegular) as e:
        read_regular(str(plain), 99)
    assert e.value.why == 'is larger than 99 bytes'
    link = tmp_path / 'link.conf'
    link.symlink_to(plain)
    with pytest.raises(NotRegular) as e:
        read_regular(str(link))
    assert e.value.why == 'is a symlink'
    assert read_regular(str(link), follow=True) == b'x' * 100
    fifo = tmp_path / 'fifo.conf'
    os.mkfifo(str(fifo))
    with pytest.raises(NotRegular) as e:
        read_regular(str(fifo))
    assert e.value.why == 'is not a regular file (a FIFO)'
    with pytest.raises(NotRegular) as e:
        read_regular('/dev/zero', follow=True)
    assert e.value.why == 'is not a regular file (a character device)'
