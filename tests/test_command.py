"""`paster tgdeploy`, `paster create -t tg_modwsgi` and the `tgdeploy` script, run for real.

Bad input: one line on stderr naming the problem and the fix, exit code 2, nothing written.
"""
import os

import pytest

from conftest import LAB_PY3
from support.projects import make_cherrypy, make_tg2, make_venv_marker, write
from support.venv import run


def paster(*args, cwd):
    return run([LAB_PY3.bin('paster')] + list(args), cwd=cwd, check=False)


@pytest.fixture
def shop(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    return make_tg2(tmp_path / 'shop')


def venv_of(project):
    return str(project.parent / 'venv')


def assert_refused(proc, message, project):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith('tgdeploy: error: ') and message in lines[0], lines[0]
    assert not (project / 'apache').exists()
    assert not [n for n in os.listdir(str(project)) if n.startswith('.tgdeploy')]


def test_deploys_the_project_in_the_current_folder(shop):
    proc = paster('tgdeploy', '--python-home', venv_of(shop), cwd=shop)
    assert proc.returncode == 0, proc.stderr
    assert 'shop (TurboGears 2) -> %s/apache, daemon mode, mounted at /' % shop in proc.stdout
    assert 'Next steps' in proc.stdout
    assert proc.stderr == ''
    assert (shop / 'apache' / 'shop.wsgi').is_file()


def test_project_folder_as_argument_and_quiet(shop, tmp_path):
    proc = paster('tgdeploy', '-q', '--python-home', venv_of(shop), str(shop), cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, '')
    assert (shop / 'apache' / 'shop.conf').is_file()


def test_console_script_is_the_same_command(shop):
    proc = run([LAB_PY3.bin('tgdeploy'), '--python-home', venv_of(shop), '--mount', '/x'],
               cwd=shop)
    assert 'mounted at /x' in proc.stdout


def test_help_lists_every_option(tmp_path):
    script = run([LAB_PY3.bin('tgdeploy'), '--help'], cwd=tmp_path).stdout
    assert script.splitlines()[0] == 'Usage: tgdeploy [options] [PROJECT_DIR]'
    out = paster('tgdeploy', '--help', cwd=tmp_path).stdout
    assert out.splitlines()[0] == 'Usage: paster tgdeploy [options] [PROJECT_DIR]'
    assert script.splitlines()[1:] == out.splitlines()[1:]
    for option in ('--mount', '--mode', '--processes', '--threads', '--user', '--group',
                   '--python-home', '--server-name', '--port', '--config', '--apache',
                   '--output-dir', '--simulate', '--overwrite', '-v'):
        assert option in out, option


def test_simulate_shows_and_writes_nothing(shop):
    proc = paster('tgdeploy', '--simulate', '--python-home', venv_of(shop), cwd=shop)
    assert proc.returncode == 0
    assert 'would create %s/apache/shop.conf' % shop in proc.stdout
    assert not (shop / 'apache').exists()


BAD_OPTIONS = [
    (['--mount', 'shop'], 'must start with "/"'),
    (['--mount', '/shop/'], 'must not end with "/"'),
    (['--user', 'root'], 'refuses to run an application as root'),
    (['--server-name', 'a.example\nRewriteEngine On'], 'is not a host name'),
    (['--server-name', 'a"b'], 'is not a host name'),
    (['--server-name', '<b>'], 'is not a host name'),
    (['--user', "o'neil"], 'is not a valid user or group name'),
    (['--output-dir', '/tmp/a${HOME}b'], 'which Apache expands on every config line'),
    (['--python-home', '/tmp/x\ny'], 'which an Apache config line cannot carry'),
    (['--python-home', '/usr'], 'is not a virtualenv'),
    (['--config', 'missing.ini'], 'not found: pass --config'),
    (['--flavor', 'django'], 'unknown flavor'),
    (['--mode', 'fast'], 'is not one of daemon, embedded'),
    (['--simulate', '--check'], '--simulate writes nothing, so there is nothing to --check'),
]


@pytest.mark.parametrize('args, message', BAD_OPTIONS, ids=[' '.join(a) for a, _ in BAD_OPTIONS])
def test_bad_options(shop, args, message):
    home = [] if '--python-home' in args else ['--python-home', venv_of(shop)]
    assert_refused(paster('tgdeploy', *(home + args), cwd=shop), message, shop)


def test_not_a_project_directory(tmp_path):
    (tmp_path / 'empty').mkdir()
    assert_refused(paster('tgdeploy', cwd=tmp_path / 'empty'), 'is not a project directory',
                   tmp_path / 'empty')


def test_flavor_not_recognised(tmp_path):
    project = write(tmp_path / 'p' / 'setup.py', 'from setuptools import setup\n').parent
    assert_refused(paster('tgdeploy', cwd=project), 'cannot tell what kind of project', project)


def test_user_edit_refused_then_overwritten(shop):
    home = ['--python-home', venv_of(shop)]
    paster('tgdeploy', *home, cwd=shop)
    wsgi = shop / 'apache' / 'shop.wsgi'
    wsgi.write_text(wsgi.read_text() + '# tuned\n')
    proc = paster('tgdeploy', '--mount', '/s', *home, cwd=shop)
    assert proc.returncode == 2 and 'you edited %s' % wsgi in proc.stderr
    assert wsgi.read_text().endswith('# tuned\n')
    proc = paster('tgdeploy', '--simulate', '--mount', '/s', *home, cwd=shop)
    assert 'edited by you, would refuse %s' % wsgi in proc.stdout
    assert '    -# tuned' in proc.stdout
    # ...and ends as the real run would: refused, exit code 2.
    assert proc.returncode == 2 and 'you edited %s' % wsgi in proc.stderr
    proc = paster('tgdeploy', '--overwrite', '--mount', '/s', *home, cwd=shop)
    assert proc.returncode == 0
    assert not wsgi.read_text().endswith('# tuned\n')
    assert (shop / 'apache' / 'shop.wsgi.bak').read_text().endswith('# tuned\n')


def test_paster_create_adds_apache_to_an_existing_project(shop):
    proc = paster('create', '-t', 'tg_modwsgi', '--no-interactive', 'shop', 'mount=/store',
                  'python_home=' + venv_of(shop), cwd=shop.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    conf = (shop / 'apache' / 'shop.conf').read_text()
    assert 'WSGIScriptAlias /store "%s/apache/shop.wsgi"' % shop in conf


def test_paster_create_and_tgdeploy_write_the_same_files(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    a, b = make_cherrypy(tmp_path / 'a' / 'cherryapp'), make_cherrypy(tmp_path / 'b' / 'cherryapp')
    home = str(tmp_path / 'venv')
    paster('create', '-t', 'tg_modwsgi', '--no-interactive', 'cherryapp', 'python_home=' + home,
           'output_dir=' + str(tmp_path / 'out'), cwd=a.parent)
    paster('tgdeploy', '--python-home', home, '--output-dir', str(tmp_path / 'out2'), cwd=b)
    for name in ('cherryapp.conf', 'cherryapp.wsgi', 'cherryapp.ini', 'README.txt'):
        first = (tmp_path / 'out' / name).read_text()
        second = (tmp_path / 'out2' / name).read_text()
        first = first.replace(str(tmp_path / 'out'), 'OUT').replace(str(a), 'P')
        second = second.replace(str(tmp_path / 'out2'), 'OUT').replace(str(b), 'P')
        assert first == second, name


def test_paster_create_bad_input_fails_cleanly(shop):
    proc = paster('create', '-t', 'tg_modwsgi', '--no-interactive', 'shop', 'mount=store',
                  'python_home=' + venv_of(shop), cwd=shop.parent)
    assert proc.returncode == 2
    assert 'tgdeploy: error: mount \'store\' must start with "/"' in proc.stdout + proc.stderr
    assert 'Traceback' not in proc.stdout + proc.stderr
    assert not (shop / 'apache').exists()


def test_paster_create_lists_the_variables(tmp_path):
    out = paster('create', '-t', 'tg_modwsgi', '--list-variables', cwd=tmp_path).stdout
    for name in ('mount', 'mode', 'processes', 'threads', 'python_home', 'server_name'):
        assert name in out


TG1_BAD = [
    (dict(requirement='TurboGears'), [], 'pass --tg-version 1.0, 1.1 or 1.5'),
    (dict(), [], 'cannot parse'),
]


@pytest.mark.parametrize('make_args, args, message', TG1_BAD,
                         ids=['tg-line-unknown', 'unparsable-cfg'])
def test_turbogears1_bad_input(tmp_path, make_args, args, message):
    from support.projects import make_tg1
    make_venv_marker(tmp_path / 'venv')
    project = make_tg1(tmp_path / 'mysite', **make_args)
    cfg = project / 'dev.cfg'
    if 'parse' in message:
        cfg.write_text('[global\nserver.environment="production"\n')
    proc = paster('tgdeploy', '--python-home', venv_of(project), *args, cwd=project)
    assert_refused(proc, message, project)


def test_gearbox_tgdeploy_is_the_same_command(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    a, b = make_tg2(tmp_path / 'a' / 'shop'), make_tg2(tmp_path / 'b' / 'shop')
    home = str(tmp_path / 'venv')
    secrets = write(tmp_path / 'secrets.ini', 'session.secret = 0123456789abcdef-s\n'
                                              'session.validate_key = 0123456789abcdef-v\n')
    same = ['--python-home', home, '--mount', '/s', '--secrets-from', str(secrets)]
    via_paster = paster('tgdeploy', *same, cwd=a)
    via_gearbox = run([LAB_PY3.bin('gearbox'), 'tgdeploy'] + same, cwd=b, check=False)
    assert via_gearbox.returncode == 0, via_gearbox.stderr
    assert via_gearbox.stdout.replace(str(b), 'P') == via_paster.stdout.replace(str(a), 'P')
    for name in ('shop.conf', 'shop.wsgi', 'shop.ini', 'README.txt'):
        assert (a / 'apache' / name).read_text().replace(str(a), 'P') == \
            (b / 'apache' / name).read_text().replace(str(b), 'P')


def test_gearbox_tgdeploy_bad_input(shop):
    proc = run([LAB_PY3.bin('gearbox'), 'tgdeploy', '--python-home', venv_of(shop),
                '--mount', 'x/'], cwd=shop, check=False)
    assert_refused(proc, 'must start with "/"', shop)
