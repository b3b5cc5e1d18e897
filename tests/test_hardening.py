"""The hardening block (issue 25 item 5) without slow clients: its options settled and
refused, the directives where Apache takes them (`apache2 -t` with mod_reqtimeout loaded), and
the doctor's server-wide findings (ServerTokens, ServerSignature, TraceEnable, no
mod_reqtimeout, a mod_wsgi too old for response-socket-timeout). The slow clients themselves
are in tests/test_slow_clients.py."""
import os
import subprocess

import pytest

from conftest import LAB_PY3
from support.httpd import DEBIAN_WSGI
from support.projects import make_tg2, make_venv_marker, write
from tgdeploy.cli.deploy import deploy
from tgdeploy.detect.arbiter import detect
from tgdeploy.doctor import server_hardening
from tgdeploy.doctor.apache_config import files_by_layout
from tgdeploy.errors import TgDeployError
from tgdeploy.settle import options

REQTIMEOUT = 'LoadModule reqtimeout_module /usr/lib/apache2/modules/mod_reqtimeout.so'


@pytest.fixture
def shop(tmp_path):
    return detect(make_tg2(tmp_path / 'shop'))


def settle(project, **given):
    given.setdefault('python_home', str(make_venv_marker(project.directory + '-venv')))
    return options.settle(project, given)


def test_defaults_as_mod_wsgi_express(shop):
    values = settle(shop, server_name='shop.example.com')
    assert (values.apache.header_timeout, values.apache.body_timeout) == (15, 15)
    assert (values.apache.keep_alive_timeout, values.apache.max_keep_alive_requests) == (2, 100)
    assert values.daemon.response_socket_timeout == 20


@pytest.mark.parametrize('given, said', [
    ({'header_timeout': '5'}, '--header-timeout is written into the virtual host, and without '
                              '--server-name this config has none'),
    ({'keep_alive_timeout': '0'}, '--keep-alive-timeout is written into the virtual host'),
    ({'server_name': 'a.example', 'body_timeout': '-1'}, '--body-timeout \'-1\' must be a whole '
                                                         'number from 0 to 86400'),
    ({'server_name': 'a.example', 'max_keep_alive_requests': 'many'},
     '--max-keep-alive-requests \'many\' must be a whole number'),
    ({'mode': 'embedded', 'response_socket_timeout': '5'}, '--response-socket-timeout applies '
                                                           'to daemon mode only'),
])
def test_what_does_not_apply_or_is_no_number_is_refused(shop, given, said):
    with pytest.raises(TgDeployError) as raised:
        settle(shop, **given)
    assert str(raised.value).startswith(said), str(raised.value)


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    project = make_tg2(tmp_path / 'shop')
    proc = subprocess.run([str(LAB_PY3.bin('tgdeploy')), '--header-timeout', '9'],
                          cwd=str(project), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and 'Traceback' not in proc.stderr
    assert '--header-timeout' in proc.stderr and '--server-name' in proc.stderr
    assert not (project / 'apache').exists()


def vhost_text(project_dir, **given):
    given.setdefault('python_home', LAB_PY3.prefix)
    values = deploy(str(project_dir), dict(given, server_name='shop.example.com'))
    with open(values.paths.conf_file) as f:
        return values.paths.conf_file, f.read()


def test_apache_takes_the_block_in_the_virtual_host(tmp_path, apache_factory):
    conf, text = vhost_text(make_tg2(tmp_path / 'shop'), https='no')
    host = text[text.index('<VirtualHost'):text.index('</VirtualHost>')]
    assert 'RequestReadTimeout header=15-30,MinRate=500 body=15,MinRate=500' in host
    assert 'KeepAliveTimeout 2\nMaxKeepAliveRequests 100\n' in host
    assert 'ServerSignature Off\nTraceEnable Off\n' in host
    assert 'response-socket-timeout=20 \\' in text
    proc = apache_factory([conf], extra=REQTIMEOUT).configtest()
    assert proc.returncode == 0 and 'Syntax OK' in proc.stdout, proc.stdout


def test_zero_turns_each_off_and_apache_takes_it(tmp_path, apache_factory):
    conf, text = vhost_text(make_tg2(tmp_path / 'shop'), header_timeout='0', body_timeout='0',
                            keep_alive_timeout='0', response_socket_timeout='0')
    assert 'RequestReadTimeout header=0 body=0\n' in text
    assert 'KeepAlive Off\n' in text and '\nKeepAliveTimeout' not in text
    assert 'response-socket-timeout=' not in text and 'waited socket-timeout' in text
    proc = apache_factory([conf], extra=REQTIMEOUT).configtest()
    assert proc.returncode == 0 and 'Syntax OK' in proc.stdout, proc.stdout


def test_without_a_virtual_host_the_server_keeps_its_own(tmp_path):
    _, text = vhost_text(make_tg2(tmp_path / 'shop'))
    values = deploy(str(make_tg2(tmp_path / 'other')), {'python_home': LAB_PY3.prefix})
    with open(values.paths.conf_file) as f:
        server_wide = f.read()
    for directive in ('RequestReadTimeout', 'KeepAlive', 'ServerSignature', 'TraceEnable'):
        assert '\n%s ' % directive not in server_wide and '    %s ' % directive not in \
            server_wide, directive
    assert 'leaves\n# RequestReadTimeout and keep-alive to the server\'s own settings' in \
        server_wide


# -- the doctor: the server's own settings ------------------------------------------------

def debian_tree(root, security=None, modules=('reqtimeout',)):
    """An /etc/apache2 with its main file and, like Debian's, conf-enabled/security.conf a
    link to conf-available/."""
    write(root / 'apache2.conf', 'Timeout 300\nKeepAlive On\n')
    for name in modules:
        write(root / 'mods-enabled' / ('%s.load' % name),
              'LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n' % (name, name))
    (root / 'conf-enabled').mkdir(parents=True, exist_ok=True)
    if security is not None:
        write(root / 'conf-available' / 'security.conf', security)
        os.symlink('../conf-available/security.conf', str(root / 'conf-enabled' /
                                                          'security.conf'))
    return root


def server_findings(root):
    files = files_by_layout(str(root))
    return (server_hardening.reqtimeout_findings(str(root), files) +
            server_hardening.setting_findings(str(root), files))


def test_debians_security_conf_gets_the_line_to_change(tmp_path):
    root = debian_tree(tmp_path / 'apache2', '# Debian 12 and 13 ship:\nServerTokens OS\n'
                                             'ServerSignature On\nTraceEnable Off\n')
    found = server_findings(root)
    assert [f.id for f in found] == ['TGD-W041', 'TGD-W042']
    where = str(root / 'conf-available' / 'security.conf')
    assert found[0].text.startswith('ServerTokens OS in %s (server-wide): ' % where)
    assert '"Apache/2.4.71 (Debian)"' in found[0].text
    assert found[0].text.endswith('change that line to `ServerTokens Prod`, then apachectl '
                                  'graceful')
    assert 'change that line to `ServerSignature Off`' in found[1].text


def test_nothing_set_means_apaches_defaults(tmp_path):
    found = server_findings(debian_tree(tmp_path / 'apache2'))
    assert [f.id for f in found] == ['TGD-W041', 'TGD-W043']
    assert 'Apache\'s default Full holds' in found[0].text
    assert found[1].text.endswith('add the line `TraceEnable Off` to %s (a2enconf security), '
                                  'then apachectl graceful'
                                  % (tmp_path / 'apache2' / 'conf-available' / 'security.conf'))


def test_the_last_server_wide_value_counts_not_a_virtual_hosts(tmp_path):
    root = debian_tree(tmp_path / 'apache2', 'ServerTokens Full\nServerSignature On\n'
                                             'TraceEnable On\n')
    write(root / 'conf-enabled' / 'zz-hardening.conf', 'ServerTokens Prod\nServerSignature Off\n'
                                                      'TraceEnable off\n')
    write(root / 'sites-enabled' / 'site.conf', '<VirtualHost *:80>\nServerSignature On\n'
                                                'TraceEnable On\n</VirtualHost>\n')
    assert server_findings(root) == []


def test_no_reqtimeout_and_a_partial_tree(tmp_path):
    root = debian_tree(tmp_path / 'apache2', 'ServerTokens Prod\nServerSignature Off\n'
                                             'TraceEnable Off\n', modules=())
    found = server_findings(root)
    assert [f.id for f in found] == ['TGD-W007']
    assert found[0].text.startswith('Apache does not load mod_reqtimeout: ')
    assert found[0].text.endswith('; a2enmod reqtimeout')
    os.remove(str(root / 'apache2.conf'))  # the enabled folders alone: nothing judged
    assert server_findings(root) == []


def test_rhel_gets_its_conf_d(tmp_path):
    root = tmp_path / 'httpd'
    write(root / 'conf' / 'httpd.conf', 'ServerSignature Off\nTraceEnable Off\n')
    write(root / 'conf.modules.d' / '00-base.conf', REQTIMEOUT.replace(
        '/usr/lib/apache2/modules', 'modules') + '\n')
    found = server_findings(root)
    assert [f.id for f in found] == ['TGD-W041']
    assert 'to %s, then' % (root / 'conf.d' / 'security.conf') in found[0].text


@pytest.mark.skipif(not os.path.isfile('/etc/apache2/conf-available/security.conf'),
                    reason='not a Debian Apache')
def test_this_machines_debian_apache():
    """Debian 12 (here) and 13 (read in a trixie container) ship the same security.conf."""
    assert [f.id for f in server_findings('/etc/apache2')] == ['TGD-W041', 'TGD-W042']


def fake_mod_wsgi(path, version):
    with open(str(path), 'wb') as f:
        f.write(b'\x7fELF...\x00' + version.encode() + b'\x00mod_wsgi/%s\x00...')
    return str(path)


def test_a_mod_wsgi_before_4_5_13_refuses_response_socket_timeout(shop, tmp_path):
    values = settle(shop)
    old = fake_mod_wsgi(tmp_path / 'old.so', '4.5.11')
    found = server_hardening.response_socket_findings(values, old)
    assert [f.id for f in found] == ['TGD-E043']
    assert found[0].text.endswith('install a newer mod_wsgi, or deploy with '
                                  '--response-socket-timeout 0')
    assert server_hardening.response_socket_findings(
        settle(shop, response_socket_timeout='0'), old) == []
    assert server_hardening.response_socket_findings(values, DEBIAN_WSGI) == []  # 4.9.4
