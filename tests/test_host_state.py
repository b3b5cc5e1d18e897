"""State that lives on one host (tgdeploy/doctor/host_state.py): each kind found in the configs a
deployment runs with, with the keys to change, and nothing for one host or a project
without it."""
from support.projects import make_cherrypy, make_tg1, make_tg2, make_venv_marker, write
from tgdeploy.doctor import host_state
from tgdeploy.settle import options
from tgdeploy.detect.arbiter import detect


def settle(project, tmp_path, **given):
    make_venv_marker(tmp_path / 'venv')
    given.setdefault('python_home', str(tmp_path / 'venv'))
    return options.settle(detect(str(project)), given)


def texts(values, hosts=3):
    return [level + ': ' + text for level, text in host_state.findings(values, hosts)]


def test_turbogears2_quickstart(tmp_path):
    """Sessions in signed cookies travel with the client; the SQLite database and the
    per-host secrets do not."""
    values = settle(make_tg2(tmp_path / 'shop'), tmp_path)
    assert host_state.findings(values, 1) == []
    assert texts(values) == [
        'error: 3 hosts: the SQLite database of sqlalchemy.url exists on one host only: point '
        'sqlalchemy.url at a database server every host reaches (postgresql://...)',
        'error: 3 hosts: ' + host_state.SECRETS]


def test_turbogears2_session_files_and_caches(tmp_path):
    project = make_tg2(tmp_path / 'shop')
    ini = project / 'development.ini'
    ini.write_text(ini.read_text().replace('session.type = cookie', 'session.type = file\n'
                                           'beaker.cache.type = memory').replace(
        'sqlite:///%(here)s/devdata.db', 'postgresql://shop@db.example.org/shop'))
    values = settle(project, tmp_path).replace(
        production={'secrets_from': str(tmp_path / 'secrets')})
    assert texts(values, 2) == [
        'error: 2 hosts: Beaker keeps sessions in files on this host (session.type = '
        'file): set session.type = ext:memcached and session.url = HOST:11211 (Beaker needs '
        'python-memcached in the virtualenv), or ext:redis and redis://HOST:6379/0 (needs '
        'redis), or ext:database and a database URL; the same on every host',
        'warning: 2 hosts: Beaker caches in memory on each host (beaker.cache.type = memory): '
        'each host fills its own; for a cache every host must agree on, set beaker.cache.type '
        '= ext:memcached and beaker.cache.url = HOST:11211 (Beaker needs python-memcached in '
        'the virtualenv), or ext:redis and redis://HOST:6379/0 (needs redis), or ext:database '
        'and a database URL; the same on every host']
    # The fix the finding names (tests/test_shared_sessions.py serves it with memcached).
    ini.write_text(ini.read_text().replace('session.type = file', 'session.type = '
                                           'ext:memcached\nsession.url = 127.0.0.1:11211'))
    assert [t for t in texts(settle(project, tmp_path), 2) if 'session' in t] == []


def test_turbogears2_sessions_in_memory(tmp_path):
    """Named once, with the keys to change (not also as the generic "memory" finding)."""
    project = make_tg2(tmp_path / 'shop')
    ini = project / 'development.ini'
    ini.write_text(ini.read_text().replace('session.type = cookie',
                                           'beaker.session.type = memory'))
    found = [t for t in texts(settle(project, tmp_path)) if 'session' in t]
    assert found == [
        "error: 3 hosts: Beaker keeps sessions in each process's memory on this host "
        '(beaker.session.type = memory): set beaker.session.type = ext:memcached and '
        'beaker.session.url = HOST:11211 (Beaker needs python-memcached in the virtualenv), or '
        'ext:redis and redis://HOST:6379/0 (needs redis), or ext:database and a database URL; '
        'the same on every host']


def test_turbogears1(tmp_path):
    project = make_tg1(tmp_path / 'mysite')
    cfg = project / 'dev.cfg'
    cfg.write_text(cfg.read_text().replace('[global]\n', '[global]\nsession_filter.on = True\n'
                                           'session_filter.storage_type = "file"\n', 1))
    found = texts(settle(project, tmp_path))
    assert found == [
        'error: 3 hosts: the SQLite database of sqlalchemy.dburi exists on one host only: '
        'point sqlalchemy.dburi at a database server every host reaches (postgresql://...)',
        'error: 3 hosts: sessions in files on this host (session_filter.storage_type): keep '
        'them in the database every host shares, or turn them off',
        'error: 3 hosts: ' + host_state.SECRETS]


def test_cherrypy(tmp_path):
    project = make_cherrypy(tmp_path / 'cp')
    assert texts(settle(project, tmp_path)) == []
    write(project / 'app.conf', '[/]\ntools.sessions.on = True\n'
                                'tools.sessions.storage_type = "file"\n')
    assert texts(settle(project, tmp_path)) == [
        'error: 3 hosts: CherryPy keeps sessions in files on this host '
        '(tools.sessions.storage_type): keep them in a store every host shares (a session '
        'class backed by memcached or the database)']
    write(project / 'app.conf', '[/]\ntools.sessions.on = True\n')
    found = texts(settle(project, tmp_path))
    assert len(found) == 1 and found[0].startswith(
        "error: 3 hosts: sessions kept in each process's memory ("), found


def test_the_doctor_says_it_for_hosts(tmp_path):
    """`tgdeploy --doctor --hosts 3`: the findings, among the doctor's, and its exit code."""
    from conftest import LAB_PY3
    from support.venv import run
    project = make_tg2(tmp_path / 'shop')
    make_venv_marker(tmp_path / 'venv')
    doctor = [LAB_PY3.bin('tgdeploy'), '--doctor', '--python-home', str(tmp_path / 'venv'),
              str(project)]
    one = run(doctor, check=False)
    assert '1 hosts' not in one.stdout and 'hosts:' not in one.stdout, one.stdout
    three = run(doctor + ['--hosts', '3'], check=False)
    assert three.returncode == 3, three.stdout + three.stderr
    assert 'error: 3 hosts: the SQLite database of sqlalchemy.url' in three.stdout
    bad = run(doctor + ['--hosts', 'many'], check=False)
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "tgdeploy: error: --hosts 'many' must be a whole number from 1 to 1000")
