"""Nothing that publishes the system, a key, a secret or a log (issue 21, items 7, 8 and the
small input refusals of 12): each case is one line on stderr naming the fix, exit 2, nothing
written; the doctor says the same of configs written by hand. Then, on a real Apache, what
the refused --alias would have served."""
import os
import tempfile
from pathlib import Path

import pytest

from conftest import LAB_PY3
from support.httpd import DEBIAN_WSGI, Apache
from support.projects import make_tg2, make_venv_marker, write
from support.venv import run
from tgdeploy.settle import exposure, options
from tgdeploy.doctor import registry
from tgdeploy.write import render
from tgdeploy.detect.arbiter import detect


@pytest.fixture
def place(tmp_path):
    """A project, a virtualenv marker, a key pair, a secrets file and a log folder, each in
    a folder of its own (as an operator keeps them)."""
    from test_https import make_ca, make_server_cert
    make_venv_marker(tmp_path / 'venv')
    project = make_tg2(tmp_path / 'shop')
    pki = tmp_path / 'pki'
    pki.mkdir()
    make_ca(pki)
    cert, key = make_server_cert(pki)
    write(tmp_path / 'keep' / 'secrets.ini', 'session.secret = %s\nsession.validate_key = %s\n'
          % ('s3cret-' * 4, 'k3y-' * 6))
    (tmp_path / 'logs').mkdir()
    (tmp_path / 'media').mkdir()
    (project / 'shop' / 'public' / 'logs').mkdir()
    return tmp_path, project, cert, key


def tgdeploy(project, base, *args):
    return run([LAB_PY3.bin('tgdeploy'), '--python-home', str(base / 'venv')] + list(args),
               cwd=project, check=False)


def https(cert, key):
    return ['--server-name', 'localhost', '--https', 'own', '--ssl-certificate', str(cert),
            '--ssl-key', str(key)]


def cases(base, project, cert, key):
    """(arguments, what the one line must say)."""
    public = project / 'shop' / 'public'
    return [
        (['--alias', '/etcx=/etc'], '--alias /etcx (/etc) is a system folder'),
        (['--alias', '/x=/etc/ssl'], 'lies in /etc, private to the system'),
        (['--alias', '/r=/root/'], 'is a system folder'),
        (['--alias', '/w=/var/www'], 'is a system folder'),
        (['--alias', '/l=/var/log/apache2'], 'lies in /var/log, private to the system'),
        (['--alias', '/u=/usr'], 'is a system folder or holds one'),
        (['--alias', '/k=%s' % key.parent] + https(cert, key), 'holds the TLS key %s' % key),
        (['--alias', '/k=%s' % key] + https(cert, key), 'holds the TLS key'),
        (['--alias', '/c=%s' % cert.parent] + https(cert, key) + ['--ssl-chain',
                                                                  str(cert.parent / 'ca.pem')],
         'holds the TLS key'),
        (['--alias', '/s=%s' % (base / 'keep'), '--secrets-from', str(base / 'keep' /
                                                                      'secrets.ini')],
         'holds the --secrets-from file'),
        (['--alias', '/l=%s' % (base / 'logs'), '--log-dir', str(base / 'logs')],
         '--log-dir %s lies inside --alias /l' % (base / 'logs')),
        (['--alias', '/m=%s' % (base / 'media'), '--log-dir', str(base / 'media' / 'sub')],
         'lies inside --alias /m'),
        (['--log-dir', str(public / 'logs')], 'lies inside the static alias /logs'),
        (['--log-dir', str(public)], 'lies inside the static'),
        (['--server-name', 'localhost', '--https', 'acme', '--acme-email', '${X}@a.b'],
         '--acme-email \'${X}@a.b\' holds "${"'),
        (['--server-name', 'localhost', '--https', 'acme', '--acme-email', 'ops@example.org',
          '--acme-ca', 'http://ca.example/dir'], 'https only'),
        (['--startup', 'a..b:c'], "--startup 'a..b:c' is not of the form"),
        (['--startup', 'a.b:.c'], 'is not of the form'),
        (['--startup', 'a.:c'], 'is not of the form'),
    ]


def test_each_is_one_line_exit_2_nothing_written(place):
    base, project, cert, key = place
    (base / 'media' / 'sub').mkdir()
    for args, message in cases(base, project, cert, key):
        proc = tgdeploy(project, base, *args)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, (args, proc.stdout, proc.stderr)
        assert lines[0].startswith('tgdeploy: error: ') and message in lines[0], (args, lines)
        assert not (project / 'apache').exists(), args


def test_what_stays_allowed(place):
    """A folder of public files outside the project, a log folder of its own, a key kept
    beside nothing served, a dotted start-up function."""
    base, project, cert, key = place
    proc = tgdeploy(project, base, '-q', '--alias', '/media=%s' % (base / 'media'), '--log-dir',
                    str(base / 'logs'), '--startup', 'shop.boot:start_up', *https(cert, key))
    assert proc.returncode == 0, proc.stderr
    assert 'Alias "/media" "%s"' % (base / 'media') in (project / 'apache' /
                                                         'shop.conf').read_text()


# -- the doctor, for configs written by hand ---------------------------------------------

def doctor_texts(values, tree):
    """The doctor's findings about what the configs publish."""
    return [str(f) for f in registry.examine(values, str(tree), DEBIAN_WSGI)
            if 'anyone may download it' in f.text or 'serves it to anyone' in f.text]


def test_the_doctor_names_what_hand_written_configs_publish(place, tree):
    base, project, cert, key = place
    values = options.settle(detect(str(project)), dict(
        python_home=str(base / 'venv'), log_dir=str(base / 'logs'),
        secrets_from=str(base / 'keep' / 'secrets.ini'), server_name='localhost', https='own',
        ssl_certificate=str(cert), ssl_key=str(key)))
    assert doctor_texts(values, tree) == []
    etc = write(tree / 'conf-enabled' / 'etc.conf', 'Alias /etcx /etc\n')
    keys = write(tree / 'sites-enabled' / 'keys.conf',
                 '<VirtualHost *:80>\n    DocumentRoot "%s"\n</VirtualHost>\n' % key.parent)
    secrets = write(tree / 'conf-enabled' / 'keep.conf',
                    'AliasMatch "^/keep/(.*)$" "%s/$1"\n' % (base / 'keep'))
    logs = write(tree / 'conf-enabled' / 'logs.conf', 'Alias /all-logs/ "%s/"\n' % base)
    found = doctor_texts(values, tree)
    end = ': anyone may download it; remove it or point it at a folder of public files only'
    assert found == [
        'error: the folder of Alias /etcx /etc (in %s) publishes /etc, which is a system '
        'folder or holds one%s' % (etc, end),
        'error: the folder of AliasMatch ^/keep/(.*)$ %s/$1 (in %s) publishes %s, which holds '
        'the --secrets-from file %s%s' % (base / 'keep', secrets, base / 'keep',
                                          base / 'keep' / 'secrets.ini', end),
        'error: the folder of Alias /all-logs/ %s/ (in %s) publishes %s, which holds the TLS '
        'key %s%s' % (base, logs, base, key, end),
        'error: DocumentRoot %s (in %s) publishes %s, which holds the TLS key %s%s'
        % (key.parent, keys, key.parent, key, end)], found


def test_the_doctor_names_a_log_folder_under_a_document_root(place, tree):
    base, project, _, _ = place
    values = options.settle(detect(str(project)), dict(python_home=str(base / 'venv'),
                                                       log_dir=str(base / 'logs')))
    site = write(tree / 'sites-enabled' / 'site.conf', 'DocumentRoot %s/logs/..\n' % base)
    (found,) = doctor_texts(values, tree)
    assert found.startswith('error: DocumentRoot %s/logs/.. (in %s) publishes %s, which holds the '
                            'log folder %s/logs' % (base, site, base, base)), found


def test_our_own_config_edited_by_hand_counts(place, tree):
    base, project, _, _ = place
    values = options.settle(detect(str(project)), dict(python_home=str(base / 'venv')))
    write(values.paths.conf_file, 'Alias /etcx /etc\n')
    (tree / 'sites-enabled' / 'shop.conf').symlink_to(values.paths.conf_file)
    (found,) = doctor_texts(values, tree)
    assert found.startswith('error: the folder of Alias /etcx /etc (in %s) publishes /etc' % (
        tree / 'sites-enabled' / 'shop.conf')), found


# -- what the refused alias would have served, on a real Apache ---------------------------

def test_an_alias_to_etc_would_serve_passwd(www_tmp, monkeypatch):
    """Why --alias /etcx=/etc is refused: settled without the refusal, Apache serves
    /etcx/passwd to anyone."""
    make_venv_marker(www_tmp / 'venv')
    project = make_tg2(www_tmp / 'shop')
    values = dict(python_home=str(www_tmp / 'venv'), alias=['/etcx=/etc'])
    with pytest.raises(Exception, match='is a system folder'):
        options.settle(detect(str(project)), values)
    monkeypatch.setattr(exposure, 'refuse', lambda values, system_dirs: None)
    settled = options.settle(detect(str(project)), values)
    out = www_tmp / 'out'
    render.render(settled, str(out))
    root = Path(tempfile.mkdtemp(dir=str(www_tmp)))
    root.chmod(0o755)
    apache = Apache(str(root), [str(out / 'shop.conf')])
    try:
        apache.start(None)
        status, _, body = apache.get('/etcx/passwd')
        assert status == 200 and 'root:' in body
    finally:
        apache.stop()
    assert os.path.exists('/etc/passwd')


def test_the_doctor_names_a_hand_written_log_inside_a_served_folder(place, tree):
    base, project, _, _ = place
    values = options.settle(detect(str(project)), dict(python_home=str(base / 'venv')))
    site = write(tree / 'sites-enabled' / 'blog.conf',
                 '<VirtualHost *:80>\n    DocumentRoot "%s/blog"\n'
                 '    CustomLog "%s/blog/logs/access.log" combined\n'
                 '    ErrorLog "|/usr/bin/rotatelogs %s/blog/err.%%Y 86400"\n'
                 '    TransferLog ${APACHE_LOG_DIR}/blog.log\n</VirtualHost>\n'
                 % (base, base, base))
    (found,) = doctor_texts(values, tree)
    assert found == (
        'error: CustomLog %s/blog/logs/access.log (in %s) writes a log under DocumentRoot '
        '%s/blog (in %s), which serves it to anyone (access logs carry every query string, '
        'reset tokens included): write it outside' % (base, site, base, site)), found
