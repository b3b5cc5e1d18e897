"""The doctor's reading of a virtualenv: which Python it was made from, for each way
pyvenv.cfg is written (venv, virtualenv 20 on Python 3, virtualenv 20 on Python 2.7); of
a mod_wsgi module: its own version; and of the Apache config tree: another application at
our mount, another WSGIPythonHome. What those findings say Apache does is shown on a real
private Apache first."""
import os
import re
import sys

import pytest

from support.httpd import DEBIAN_WSGI, free_port
from support.projects import make_tg2, write
from support.venv import SYSTEM_PYTHON, run
from tgdeploy.doctor import access_checks, log_rotation, python_checks, tree_checks
from tgdeploy.doctor.apache_config import included_files
from tgdeploy.settle import options
from tgdeploy.detect.arbiter import detect
from tgdeploy.errors import TgDeployError
from tgdeploy.settle.options import venv_python_version
from tgdeploy.doctor.modwsgi_file import module_version
from tgdeploy.doctor.python_checks import venv_base_prefix

STYLES = {
    'venv': ('home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n',
             '/usr', '3.11.2'),
    'virtualenv, Python 3': ('home = /opt/py/bin\nimplementation = CPython\n'
                             'version_info = 3.11.7.final.0\nvirtualenv = 20.15.1\n'
                             'base-prefix = /opt/py\nbase-exec-prefix = /opt/py\n',
                             '/opt/py', '3.11.7'),
    'virtualenv, Python 2.7': ('home = /usr\nimplementation = CPython\n'
                               'version_info = 2.7.18.final.0\nvirtualenv = 20.15.1\n',
                               '/usr', '2.7.18'),
}


@pytest.mark.parametrize('style', sorted(STYLES))
def test_the_python_a_virtualenv_was_made_from(style, tmp_path):
    text, prefix, version = STYLES[style]
    write(tmp_path / 'pyvenv.cfg', text)
    assert venv_base_prefix(str(tmp_path)) == prefix
    assert venv_python_version(str(tmp_path)) == version


def test_no_pyvenv_cfg(tmp_path):
    assert venv_base_prefix(str(tmp_path)) is None
    assert venv_python_version(str(tmp_path)) == ''


def test_the_version_of_debians_mod_wsgi_as_dpkg_knows_it():
    package = run(['dpkg-query', '-W', '-f', '${Version}', 'libapache2-mod-wsgi-py3']).stdout
    upstream = package.split(':')[-1].split('-')[0]  # 4.9.4-1+b2 -> 4.9.4
    assert module_version(DEBIAN_WSGI) == tuple(int(n) for n in upstream.split('.'))


def test_a_file_that_is_no_mod_wsgi_has_no_version():
    assert module_version('/usr/lib/apache2/modules/mod_alias.so') is None


# -- two applications at one mount ------------------------------------------------------

def hello_app(path, body):
    return write(path, 'def application(environ, start_response):\n'
                       '    start_response("200 OK", [("Content-Type", "text/plain")])\n'
                       '    return [b"%s"]\n' % body)


def daemon_mount(folder, name, mount='/x'):
    """A config serving ``name`` at ``mount`` from a daemon of its own (quick to stop), loaded
    lazily: the error log names a script only once a request reaches it."""
    script = hello_app(folder / name / (name + '.wsgi'), name)
    return 'WSGIDaemonProcess %s\nWSGIScriptAlias %s %s\n<Directory %s>\n' \
           '    Require all granted\n    WSGIProcessGroup %s\n</Directory>\n' % (
               name, mount, script, script.parent, name)


def test_of_two_applications_at_one_mount_apache_serves_the_first_it_reads(apache_factory,
                                                                          www_tmp):
    first = write(www_tmp / 'first.conf', daemon_mount(www_tmp, 'first'))
    second = write(www_tmp / 'second.conf', daemon_mount(www_tmp, 'second'))
    apache = apache_factory([first, second])
    assert apache.configtest().returncode == 0
    status, _, body = apache.start('/x')
    assert (status, body) == (200, 'first')
    log = apache.error_log()
    assert 'first.wsgi' in log  # logged at info, as a loaded script is...
    assert 'second.wsgi' not in log  # ...but no word of the other one, nor any warning
    assert not [line for line in log.splitlines() if ':warn]' in line or ':error]' in line]


@pytest.mark.parametrize('order', ['server first', 'virtual host first'])
def test_a_virtual_hosts_own_mount_wins_over_the_servers(apache_factory, www_tmp, order):
    port = free_port()
    server = write(www_tmp / 'server.conf', daemon_mount(www_tmp, 'server'))
    vhost = write(www_tmp / 'vhost.conf', '<VirtualHost *:%d>\nServerName 127.0.0.1\n%s'
                  '</VirtualHost>\n' % (port, daemon_mount(www_tmp, 'vhost')))
    includes = [server, vhost] if order == 'server first' else [vhost, server]
    apache = apache_factory(includes, port=port)
    assert apache.start('/x')[:3:2] == (200, 'vhost')


def settle(tmp_path, **given):
    return options.settle(detect(str(make_tg2(tmp_path / 'shop'))), given)


def same_mount(values, tree):
    return [str(f) for f in tree_checks.same_mount_findings(values, included_files(str(tree)))]


def test_another_application_at_our_mount(tmp_path, tree):
    old = write(tree / 'conf-enabled' / 'old.conf',
                'WSGIScriptAlias "/shop/" /srv/old/old.wsgi\n')
    assert same_mount(settle(tmp_path, mount='/shop'), tree) == [
        'error: %s mounts another application at /shop too (WSGIScriptAlias): Apache serves '
        'only the one it reads first and never reaches the other, with no line in the error '
        'log; deploy one of them with another --mount, or remove the other config' % old]
    assert same_mount(settle(tmp_path, mount='/shop/new'), tree) == []


def test_a_virtual_host_under_our_server_wide_mount(tmp_path, tree):
    default = write(tree / 'sites-enabled' / '000-default.conf',
                    '<VirtualHost *:80>\n    WSGIScriptAlias / /srv/old/old.wsgi\n'
                    '</VirtualHost>\n')
    assert same_mount(settle(tmp_path), tree) == [
        'error: %s mounts another application at / in a virtual host without a ServerName too '
        '(WSGIScriptAlias): that virtual host\'s own mount wins over this server-wide one, so '
        'no request it takes reaches this application, with no line in the error log; deploy '
        'one of them with another --mount, or remove the other config' % default]


THEIR_HOSTS = {  # the other config's scope of WSGIScriptAlias /shop: clashes with ours?
    'server level': ('%s', False),
    'same name and port': ('<VirtualHost *:80>\nServerName Shop.Example.com:80\n%s'
                           '</VirtualHost>', True),
    'same name, any port': ('<VirtualHost 10.0.0.1>\nServerName shop.example.com\n%s'
                            '</VirtualHost>', True),
    'no ServerName': ('<VirtualHost *:80>\n%s</VirtualHost>', True),
    'another name': ('<VirtualHost *:80>\nServerName www.example.com\n%s</VirtualHost>',
                     False),
    'another port': ('<VirtualHost *:443>\nServerName shop.example.com\n%s</VirtualHost>',
                     False),
}


@pytest.mark.parametrize('theirs', sorted(THEIR_HOSTS))
def test_our_virtual_host_against_theirs(tmp_path, tree, theirs):
    text, clashes = THEIR_HOSTS[theirs]
    write(tree / 'sites-enabled' / 'old.conf', text % 'WSGIScriptAlias /shop /srv/old.wsgi\n')
    found = same_mount(settle(tmp_path, mount='/shop', server_name='shop.example.com'), tree)
    assert len(found) == (1 if clashes else 0), found
    assert not found or 'Apache serves only the one it reads first' in found[0]


def test_our_own_config_is_not_another_application(tmp_path, tree):
    values = settle(tmp_path, mount='/shop')
    write(values.paths.conf_file, 'WSGIScriptAlias /shop %s\n' % values.paths.wsgi_file)
    (tree / 'conf-enabled' / 'shop.conf').symlink_to(values.paths.conf_file)
    assert same_mount(values, tree) == []


# -- WSGIPythonHome ---------------------------------------------------------------------

def test_the_last_wsgi_python_home_apache_reads_is_the_one_for_all(apache_factory, www_tmp):
    for name in ('venv-a', 'venv-b'):
        run([SYSTEM_PYTHON, '-m', 'venv', '--without-pip', www_tmp / name])
    script = write(www_tmp / 'prefix.wsgi', 'import sys\n'
                   'def application(environ, start_response):\n'
                   '    start_response("200 OK", [("Content-Type", "text/plain")])\n'
                   '    return [sys.prefix.encode()]\n')
    first = write(www_tmp / 'a.conf', 'WSGIPythonHome %s/venv-a\nWSGIScriptAlias /p %s\n'
                  '<Directory %s>\n    Require all granted\n</Directory>\n'
                  % (www_tmp, script, www_tmp))
    second = write(www_tmp / 'b.conf', 'WSGIPythonHome %s/venv-b\n' % www_tmp)
    apache = apache_factory([first, second])
    assert apache.start('/p')[:3:2] == (200, '%s/venv-b' % www_tmp)


def python_home(values, tree):
    return [str(f) for f in tree_checks.python_home_findings(
        values, included_files(str(tree)))]


def test_another_python_home_in_embedded_mode(tmp_path, tree):
    other = write(tree / 'conf-enabled' / 'other.conf', 'WSGIPythonHome "/srv/other/venv"\n')
    assert python_home(settle(tmp_path, mode='embedded'), tree) == [
        'error: WSGIPythonHome /srv/other/venv in %s is another virtualenv than this embedded '
        'deployment\'s %s: Apache keeps one WSGIPythonHome for the whole server (the last one '
        'it reads), so one of the two applications gets ModuleNotFoundError; deploy with '
        '--mode daemon (each daemon has its own python-home), or make both use one virtualenv'
        % (other, sys.prefix)]
    assert python_home(settle(tmp_path, mode='daemon'), tree) == []


def test_the_same_python_home_is_fine(tmp_path, tree):
    write(tree / 'mods-enabled' / 'wsgi.conf', '#WSGIPythonHome /srv/other/venv\n'
                                              'WSGIPythonHome "%s/"\n' % sys.prefix)
    assert python_home(settle(tmp_path, mode='embedded'), tree) == []


def write_findings(values):
    return [str(f) for f in access_checks.write_location_findings(values)]


def test_places_a_production_ini_has_the_application_write(www_tmp):
    """An ini used as it is (Kallithea's way: its SQLite database beside the ini): each
    folder the daemon user cannot write is named once, with the key and the fix; under the
    data folder the data folder's own check speaks; a derived ini moves them all there."""
    project = make_tg2(www_tmp / 'site')
    write(project / 'production.ini', '[app:main]\nuse = egg:shop\ndebug = false\n'
          'sqlalchemy.url = sqlite:///%(here)s/site.db?timeout=60\n'
          'cache_dir = %(here)s/data\nbeaker.session.data_dir = %(here)s/data/sessions\n'
          'upload_dir = %(here)s/uploads\n'
          'templating.genshi.search_path = %(here)s/templates\n')
    values = options.settle(detect(str(project), config='production.ini'), {})
    assert write_findings(values) == [
        'error: www-data cannot write %s, where sqlalchemy.url keeps its SQLite database '
        '%s/site.db (not writable for it): chown -R www-data:www-data %s, or point it into '
        'the data folder %s/data' % (project, project, project, project)]
    (project / 'uploads').mkdir()
    os.chown(str(project), 33, 33)
    assert write_findings(values) == [
        'error: www-data cannot write %s/uploads, where upload_dir = %s/uploads has the '
        'application write (not writable for it): chown -R www-data:www-data %s/uploads, or '
        'point it into the data folder %s/data' % (project, project, project, project)]
    os.chown(str(project / 'uploads'), 33, 33)
    assert write_findings(values) == []
    derived = options.settle(detect(str(project), config='development.ini'), {})
    os.chown(str(project), 0, 0)
    assert write_findings(derived) == []


def test_a_mod_wsgi_whose_python_the_apache_user_cannot_read(tmp_path, tree):
    """The lab's mod_wsgi for Python 3.9 (scripts/provision-kallithea) links a world-readable
    copy of pyenv's 3.9, but that libpython still starts from the prefix compiled into it,
    under root's 0700 home: Apache's own processes die unless WSGIRestrictEmbedded is on."""
    from support.kallithea import MOD_WSGI, missing
    assert not missing(), missing()
    values = settle(tmp_path)
    embedded = [str(f) for f in python_checks.embedded_python_findings(
        values, MOD_WSGI, included_files(str(tree)))]
    assert len(embedded) == 1 and embedded[0].startswith(
        'error: %s embeds the Python in /root/.pyenv/versions/3.9' % MOD_WSGI), embedded
    assert embedded[0].endswith('add `WSGIRestrictEmbedded On` to the server config (every '
                                'application on this server runs in daemon mode)')
    write(tree / 'conf-enabled' / 'wsgi.conf', 'WSGIRestrictEmbedded on\n')
    assert python_checks.embedded_python_findings(values, MOD_WSGI,
                                                  included_files(str(tree))) == []
    assert python_checks.embedded_python_findings(values, DEBIAN_WSGI, []) == []


# -- the modules the config uses ---------------------------------------------------------

def module_texts(values, tree):
    return [str(f) for f in tree_checks.module_findings(values, included_files(str(tree)))]


def enable(tree, *names):
    for name in names:
        write(tree / 'mods-enabled' / ('%s.load' % name),
              'LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n' % (name, name))


def test_mod_rewrite_missing_costs_only_apache_serving_later_files(tmp_path, tree):
    enable(tree, 'wsgi', 'alias')
    values = settle(tmp_path)
    assert module_texts(values, tree) == [
        'warning: Apache does not load mod_rewrite: files added to %s later are served by '
        'the application, not Apache; a2enmod rewrite' % values.static.root]
    enable(tree, 'rewrite')
    assert module_texts(values, tree) == []


def test_modules_without_which_apache_refuses_the_config(tmp_path, tree):
    enable(tree, 'wsgi', 'alias', 'rewrite')
    values = settle(tmp_path, compress='yes', static_max_age='60')
    assert module_texts(values, tree) == [
        'error: the config uses mod_headers, which Apache does not load (it refuses the '
        'config): a2enmod headers',
        'error: the config uses mod_filter, which Apache does not load (it refuses the '
        'config): a2enmod filter',
        'warning: Apache does not load mod_deflate: answers are not compressed; a2enmod '
        'deflate']
    enable(tree, 'headers', 'filter', 'deflate')
    assert module_texts(values, tree) == []


def test_no_apache_tree_no_module_findings(tmp_path):
    assert tree_checks.module_findings(settle(tmp_path), []) == []


def test_apache_refuses_a_header_line_without_mod_headers(www_tmp):
    """What the error says, on the real Apache: the config is refused."""
    conf = write(www_tmp / 'h.conf', 'ServerName t\nListen 127.0.0.1:%d\nPidFile %s/pid\n'
                 'ErrorLog %s/error.log\nLoadModule mpm_event_module '
                 '/usr/lib/apache2/modules/mod_mpm_event.so\nHeader set X-Test "1"\n'
                 % (free_port(), www_tmp, www_tmp))
    result = run(['/usr/sbin/apache2', '-t', '-f', str(conf)], check=False)
    assert result.returncode != 0 and "Invalid command 'Header'" in result.stdout + \
        result.stderr, result


# -- the distribution's log rotation -----------------------------------------------------

DEBIAN_ROTATION = '/etc/logrotate.d/apache2'  # Debian's apache2 package ships it
RHEL_ROTATION = ('/var/log/httpd/*log {\n    missingok\n    notifempty\n    sharedscripts\n'
                 '    delaycompress\n    postrotate\n        /bin/systemctl reload '
                 'httpd.service > /dev/null 2>/dev/null || true\n    endscript\n}\n')


def rotation_texts(values, tree, rhel=False):
    return ['%s: %s' % f for f in log_rotation.distribution_findings(
        values, log_rotation.rotation_file(str(tree), rhel))]


def test_debians_nightly_reload_is_named_with_the_fix(tmp_path, tree):
    with open(DEBIAN_ROTATION) as f:
        shipped = f.read()
    rotation = write(tree.parent / 'logrotate.d' / 'apache2', shipped)
    values = settle(tmp_path)
    found = rotation_texts(values, tree)
    assert len(found) == 1 and found[0].startswith(
        'warning: %s restarts Apache after each rotation (invoke-rc.d apache2 reload' % rotation)
    assert 'put "copytruncate" in that file' in found[0] and values.daemon.name in found[0]
    assert rotation_texts(settle(tmp_path, mode='embedded'), tree) == []
    # The fix the finding names: copytruncate in place of the scripts.
    fixed = re.sub(r'\s*(sharedscripts|prerotate.*?endscript|postrotate.*?endscript)', '',
                   shipped, flags=re.S).replace('{', '{\n\tcopytruncate', 1)
    write(rotation, fixed)
    assert rotation_texts(values, tree) == []


def test_rhels_nightly_reload_is_named(tmp_path):
    root = tmp_path / 'httpd'
    write(root / 'conf' / 'httpd.conf', 'ServerRoot /etc/httpd\n')
    write(tmp_path / 'logrotate.d' / 'httpd', RHEL_ROTATION)
    found = rotation_texts(settle(tmp_path), root, rhel=True)
    assert len(found) == 1 and '(/bin/systemctl reload httpd.service' in found[0], found


ROTATION_LINES = {  # a script line of a logrotate file: does it restart Apache?
    'kill -USR1 $(cat /run/apache2/apache2.pid)': True,
    'kill -s HUP `cat /var/run/httpd/httpd.pid`': True,
    'pkill -SIGUSR1 -x httpd': True,
    '/etc/init.d/apache2 reload > /dev/null': True,
    'apachectl graceful': True,
    '# no apache2 reload any more: copytruncate': False,
    'systemctl reload php-fpm': False,
    'kill -USR1 $(cat /run/nginx.pid)': False,
}


@pytest.mark.parametrize('line', sorted(ROTATION_LINES))
def test_which_rotation_scripts_restart_apache(tmp_path, tree, line):
    write(tree.parent / 'logrotate.d' / 'apache2',
          '/var/log/apache2/*.log {\n\tpostrotate\n\t\t%s\n\tendscript\n}\n' % line)
    assert bool(rotation_texts(settle(tmp_path), tree)) == ROTATION_LINES[line]


def fake_rotatelogs(path, usage):
    write(path, '#!/bin/sh\ncat <<EOF >&2\n%sEOF\nexit 1\n' % usage)
    os.chmod(str(path), 0o755)
    return str(path)


def test_a_rotatelogs_without_the_options_the_log_line_uses(tmp_path):
    values = settle(tmp_path)
    values.logs.rotatelogs = fake_rotatelogs(tmp_path / 'old-rotatelogs',
                                           'Usage: rotatelogs [-l] [-f] <logfile> <time>\n'
                                           '  -l  local time\n  -f  force open\n')
    assert log_rotation.rotatelogs_findings(values) == [(
        'error', '%s does not know -D and -L (an older Apache\'s): Apache would serve and log no '
                 'request; install the rotatelogs of a current Apache 2.4'
        % values.logs.rotatelogs)]
    values.logs.rotatelogs = '/usr/bin/rotatelogs'  # Debian 12's: it knows both
    assert log_rotation.rotatelogs_findings(values) == []
    values.logs.rotatelogs = str(tmp_path / 'none')
    assert 'which is not installed' in log_rotation.rotatelogs_findings(values)[0][1]


def test_a_log_folder_others_may_write(tmp_path):
    logs = tmp_path / 'logs'
    logs.mkdir()
    values = settle(tmp_path, log_dir=str(logs))
    assert log_rotation.folder_findings(values) == []  # root's, 0755
    logs.chmod(0o777)
    found = log_rotation.folder_findings(values)
    assert len(found) == 1 and found[0][0] == 'warning' and 'symlink planted' in found[0][1]


def test_server_wide_rewrite_rules_miss_a_catch_all_virtual_host(tmp_path, tree):
    default = write(tree / 'sites-enabled' / '000-default.conf',
                    '<VirtualHost *:80>\n    DocumentRoot /var/www/html\n</VirtualHost>\n')
    files = included_files(str(tree))
    found = [str(f) for f in tree_checks.rewrite_scope_findings(settle(tmp_path), files)]
    assert len(found) == 1 and default.name in found[0] and '--server-name' in found[0]
    assert tree_checks.rewrite_scope_findings(settle(tmp_path, server_name='shop.example.com'),
                                              files) == []


def test_a_module_loaded_in_apache2_conf_counts(tmp_path, tree):
    enable(tree, 'wsgi', 'alias', 'rewrite')
    write(tree / 'apache2.conf', 'LoadModule headers_module /usr/lib/apache2/modules/'
                                 'mod_headers.so\n')
    assert module_texts(settle(tmp_path, static_max_age='60'), tree) == []


def test_rhel_names_the_package_of_mod_ssl(tmp_path):
    root = tmp_path / 'httpd'
    write(root / 'conf' / 'httpd.conf', 'ServerRoot /etc/httpd\n')
    write(root / 'conf.modules.d' / '00-base.conf',
          'LoadModule alias_module modules/mod_alias.so\n'
          'LoadModule rewrite_module modules/mod_rewrite.so\n')
    values = settle(tmp_path, https='own', server_name='shop.example.com', elsewhere='yes',
                    ssl_certificate='/etc/pki/shop.pem', ssl_key='/etc/pki/shop.key')
    found = module_texts(values, root)
    assert found == ['error: the config uses mod_ssl, which Apache does not load (it refuses '
                     'the config): dnf install mod_ssl'], found


def test_apache_22_needs_the_access_log_folder_made(tmp_path):
    logs = tmp_path / 'logs'
    logs.mkdir()
    values = settle(tmp_path, log_dir=str(logs), apache='2.2', server_name='shop.example.com')
    found = log_rotation.folder_findings(values)
    assert len(found) == 1 and found[0][0] == 'error' and 'cannot make it' in found[0][1]
    (logs / values.logs.folder).mkdir()
    assert log_rotation.folder_findings(values) == []


@pytest.mark.parametrize('name', ['br{ace}', 'gl[ob]', 'st*r', 'qu?', "it's", 'back\\slash',
                                  'tab\there'])
def test_a_log_folder_rotatelogs_logrotate_or_tmpfiles_cannot_carry(tmp_path, name):
    logs = tmp_path / name
    logs.mkdir()
    with pytest.raises(TgDeployError) as refused:
        settle(tmp_path, log_dir=str(logs))
    assert 'choose a folder without them' in str(refused.value)
