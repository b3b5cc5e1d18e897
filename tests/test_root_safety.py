"""Root runs tgdeploy on a project another user owns (issue 21): that user gains nothing.

Each attack measured in the issue, replayed: the project tree belongs to ``nobody``, who
acts through setpriv (tests/support/other_user.py) while a real `paster tgdeploy` runs as
root. (a) a `.tgdeploy-swap-*` folder planted by nobody, a big folder in it swapped for a
symlink to a victim folder the moment the removal walk starts; (b) `apache` a symlink to a
root-only folder; (c) `apache/shop.ini` a symlink to a root-only ini holding
`session.secret`, then `--overwrite`. Also from item 11: the `.bak` of an edited secrets
ini gets the ini's mode, a world-readable `--secrets-from` gets a warning.
"""
import grp
import os
import stat

import pytest

from support.other_user import NOBODY, chown_to_nobody, run_as_nobody, start_as_nobody, stop
from support.projects import make_tg2, make_venv_marker
from test_nothing_lost import leftovers, one_error_line, paster

ROOT_SECRET = 'r00t-0nly-s3cret-0f-an0ther-app-1234567890'


@pytest.fixture
def nobodys(www_tmp):
    """A TurboGears 2 project owned by nobody, deployed once by nobody itself."""
    make_venv_marker(www_tmp / 'venv')
    project = make_tg2(www_tmp / 'shop')
    chown_to_nobody(project)
    first = paster(project, user='nobody')
    assert first.returncode == 0, first.stderr
    return project


def mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


# -- (a) a staging folder planted by the owner ---------------------------------------------

# As nobody: a .tgdeploy-swap-* folder (0755, so the old removal's chmod 0700 of it marks
# the start of the walk), a folder of many files in it (its listing gives the time), then,
# the moment the walk starts, that folder swapped for a symlink to the victim.
PLANT = r"""
import os, sys, time
staging, victim, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.mkdir(staging)
os.chmod(staging, 0o755)
big = os.path.join(staging, 'big')
os.mkdir(big)
for i in range(count):
    open(os.path.join(big, 'f%05d' % i), 'w').close()
with open(os.path.join(staging, 'target'), 'w') as f:
    f.write('apache\n')
print('ready', flush=True)
deadline = time.time() + 60
while time.time() < deadline:
    try:
        if os.stat(staging).st_mode & 0o777 != 0o755:
            break
    except OSError:
        break
    time.sleep(0.0002)
else:
    sys.exit(0)
try:
    os.rename(big, big + '.real')
    os.symlink(victim, big)
except OSError:
    pass
time.sleep(60)
"""


def test_a_planted_staging_folder_is_left_alone_and_named(nobodys, www_tmp):
    victim = www_tmp / 'victim'
    victim.mkdir()
    victim.chmod(0o755)
    (victim / 'keep.txt').write_text('keep\n')
    staging = nobodys / '.tgdeploy-swap-planted'
    attacker = start_as_nobody(PLANT, staging, victim, 30000)
    try:
        run = paster(nobodys, '--mount', '/x', timeout=120)
    finally:
        stop(attacker)
    assert run.returncode == 0, run.stderr
    assert mode(victim) == 0o755 and (victim / 'keep.txt').read_text() == 'keep\n'
    assert os.lstat(str(staging)).st_uid == NOBODY.pw_uid  # left where it was
    assert 'left alone %s: not a staging folder tgdeploy made' % staging in run.stdout
    assert 'WSGIScriptAlias /x ' in (nobodys / 'apache' / 'shop.conf').read_text()


# -- (b) apache/ a symlink to a root-only folder -------------------------------------------

def test_a_symlinked_apache_of_the_owner_is_refused(nobodys, www_tmp):
    root_only = www_tmp / 'conf-enabled'
    root_only.mkdir()
    root_only.chmod(0o700)
    run_as_nobody('import os, shutil, sys; shutil.rmtree(sys.argv[1]); '
                  'os.symlink(sys.argv[2], sys.argv[1])', nobodys / 'apache', root_only)
    line = one_error_line(paster(nobodys, '--mount', '/x'))
    assert 'apache is a symlink (to %s) made by nobody' % root_only in line, line
    assert '--output-dir %s' % root_only in line
    assert os.listdir(str(root_only)) == []
    assert not leftovers(nobodys)
    # Named by the operator, the folder is the operator's choice.
    named = paster(nobodys, '--mount', '/x', '--output-dir', str(root_only))
    assert named.returncode == 0, named.stderr
    assert (root_only / 'shop.conf').is_file()


# -- (c) the installed ini a symlink to another application's secrets -----------------------

def test_secrets_are_never_kept_through_the_owners_symlink(nobodys, www_tmp):
    other = www_tmp / 'other-app.ini'
    other.write_text('[app:main]\nsession.secret = %s\nsession.validate_key = %s\n'
                     % (ROOT_SECRET, ROOT_SECRET))
    other.chmod(0o600)
    ini = nobodys / 'apache' / 'shop.ini'
    run_as_nobody('import os, sys; os.unlink(sys.argv[1]); os.symlink(sys.argv[2], sys.argv[1])',
                  ini, other)
    run = paster(nobodys, '--overwrite')
    assert run.returncode == 0, run.stderr
    assert not ini.is_symlink()
    assert ROOT_SECRET not in ini.read_text()
    assert 'new, as %s is not a regular file' % ini in run.stdout, run.stdout
    assert other.read_text().count(ROOT_SECRET) == 2 and mode(other) == 0o600


def test_secrets_are_kept_from_the_file_tgdeploy_wrote(nobodys):
    ini = nobodys / 'apache' / 'shop.ini'
    before = [line for line in ini.read_text().splitlines() if 'session.secret' in line]
    run = paster(nobodys, '--mount', '/again')
    assert run.returncode == 0, run.stderr
    assert 'kept from the last deploy' in run.stdout
    assert [line for line in ini.read_text().splitlines() if 'session.secret' in line] == before


def test_a_hard_link_or_a_loose_mode_is_not_what_tgdeploy_wrote(nobodys, www_tmp):
    ini = nobodys / 'apache' / 'shop.ini'
    ini.chmod(0o644)
    run = paster(nobodys, '--overwrite')
    assert run.returncode == 0 and 'has mode 0644, not the 0640' in run.stdout, run.stdout
    os.link(str(ini), str(www_tmp / 'elsewhere.ini'))
    run = paster(nobodys, '--overwrite', '--mount', '/y')
    assert 'has other hard links' in run.stdout, run.stdout


# -- item 11: .bak modes, a --secrets-from others may read -----------------------------------

@pytest.fixture
def project(www_tmp):
    make_venv_marker(www_tmp / 'venv')
    return make_tg2(www_tmp / 'shop')


def test_the_bak_of_an_edited_secrets_ini_gets_its_mode(project):
    assert paster(project).returncode == 0
    ini = project / 'apache' / 'shop.ini'
    text = ini.read_text()
    ini.unlink()
    ini.write_text(text + '\n# edited\n')  # an editor that writes a new file: 0644
    ini.chmod(0o644)
    assert paster(project, '--overwrite').returncode == 0
    backup = project / 'apache' / 'shop.ini.bak'
    assert '# edited' in backup.read_text()
    assert mode(backup) == 0o640 == mode(ini)
    assert os.stat(str(backup)).st_gid == grp.getgrnam('www-data').gr_gid


@pytest.mark.parametrize('file_mode, warned', [(0o644, True), (0o640, False)])
def test_a_secrets_file_others_may_read_is_a_warning(project, www_tmp, file_mode, warned):
    secrets = www_tmp / 'secrets.ini'
    secrets.write_text('session.secret = %s\nsession.validate_key = %s\n'
                       % ('a' * 32, 'b' * 32))
    secrets.chmod(file_mode)
    run = paster(project, '--secrets-from', str(secrets))
    assert run.returncode == 0, run.stderr
    warning = 'warning: --secrets-from %s is readable by every user on this machine: ' \
        'chmod o-r' % secrets
    assert len([line for line in run.stdout.splitlines() if warning in line]) == warned, \
        run.stdout


# -- the project's own files: never read through the owner's symlink ----------------------

@pytest.mark.parametrize('planted', ['development.ini', 'shop/config/app_cfg.py'])
def test_project_files_are_never_read_through_the_owners_symlink(nobodys, www_tmp, planted):
    """The owner makes one of the files tgdeploy reads a symlink to a root-only file (another
    application's ini): root's run names the link in one line, exit 2, and copies nothing."""
    other = www_tmp / 'other-app.ini'
    other.write_text('[app:main]\nsession.secret = %s\nsqlalchemy.url = sqlite:///%s\n'
                     % (ROOT_SECRET, ROOT_SECRET))
    other.chmod(0o600)
    link = nobodys / planted
    run_as_nobody('import os, sys; os.rename(sys.argv[1], sys.argv[1] + ".real"); '
                  'os.symlink(sys.argv[2], sys.argv[1])', link, other)
    before = leftovers(nobodys)
    for args in ((), ('--overwrite',), ('--simulate',)):
        run = paster(nobodys, *args)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        line = one_error_line(run)
        assert 'leads through a symlink below %s, which the user nobody can change: as root, ' \
               'tgdeploy follows no such link' % nobodys in line, line
        assert ROOT_SECRET not in run.stdout + run.stderr
        assert ROOT_SECRET not in (nobodys / 'apache' / 'shop.ini').read_text()
    assert leftovers(nobodys) == before
    # The same project deployed by its owner: the kernel decides, and refuses.
    own = paster(nobodys, user='nobody')
    assert own.returncode == 2 and ROOT_SECRET not in own.stdout + own.stderr, own.stderr
