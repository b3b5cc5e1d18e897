"""The container's httpd.conf carries what apache/<slug>.conf carries on a host (the
hardening, the slow-client limits, --status-endpoint, --service, --compress), read from the
same settled groups, and Apache itself accepts it (``apache2 -t`` on the rendered file, its
/srv/config moved to a scratch folder); and ``--container --simulate`` (write/container.py
simulate()) says what a run would write and writes nothing. No podman: the running image
is tests/test_container.py's."""
import os
import re
import subprocess

import pytest

from support.projects import make_tg2, make_venv_marker
from tgdeploy.cli import deploy
from tgdeploy.errors import TgDeployError
from tgdeploy.write import container


def settled(project, **given):
    venv = make_venv_marker(project.parent / 'venv', '3.11.2')
    given.update(python_home=str(venv), elsewhere='yes')
    return deploy.settle(str(project), given)


def with_jobs(tmp_path):
    project = make_tg2(tmp_path / 'shop')
    (project / 'shop' / 'jobs.py').write_text('def start():\n    pass\n')
    return project


def test_the_hardening_and_the_options_of_the_host_config(tmp_path):
    project = with_jobs(tmp_path)
    values = settled(project, server_name='shop.example.org', status_endpoint='yes',
                     service=['jobs=shop.jobs:start'],
                     compress='yes', header_timeout='7', keep_alive_timeout='0',
                     limit_request_body='1000')
    container.write(values, False)
    conf = (project / 'apache/container/httpd.conf').read_text()
    host = (project / 'apache/shop.conf').read_text()
    for line in ('ServerTokens Prod', 'ServerSignature Off', 'TraceEnable Off',
                 'LimitRequestBody 1000', 'KeepAlive Off', 'ExtendedStatus On',
                 'RequestReadTimeout header=7-14,MinRate=500 body=15,MinRate=500'):
        assert '\n%s\n' % line in conf, line
    # The status endpoint and the service, mounted with the config, as on the host.
    assert re.search(r'WSGIScriptAlias /\.tgdeploy-status "/srv/config/shop-status\.wsgi" '
                     r'process-group=\S+-status ', conf), conf
    assert conf.index('WSGIScriptAlias /.tgdeploy-status') < conf.index('WSGIScriptAlias / ')
    assert 'WSGIImportScript "/srv/config/shop-status.wsgi"' in conf
    assert 'Include "/srv/config/shop-services.conf"' in conf
    assert 'Require local' in conf and 'SetHandler server-status' in conf
    assert conf.count('AddOutputFilterByType DEFLATE') == host.count('AddOutputFilterByType DEFLATE')
    config = project / 'apache/container/config'
    assert sorted(os.listdir(str(config))) == ['shop-services.conf', 'shop-services.py',
                                                'shop-status.wsgi', 'shop.ini', 'shop.wsgi']
    for name in os.listdir(str(config)):
        assert str(project) not in (config / name).read_text(), name
    assert "'/srv/app/data/status'" in (config / 'shop-status.wsgi').read_text()
    assert 'home="/srv/app"' in (config / 'shop-services.conf').read_text()
    manifest = (project / 'apache/shop.kube.yaml').read_text()
    assert 'shop-status.wsgi: ' in manifest and 'shop-services.conf: ' in manifest
    # Apache reads it all: the config folder where the image mounts it, moved to a scratch
    # folder (/srv is not ours), the project's too.
    scratch = tmp_path / 'root'
    moves = {'/srv/config': str(config), '/srv/app': str(project), '/srv/venv': str(scratch)}
    text = conf
    for name in os.listdir(str(config)):
        text_name = config / name
        moved_text = text_name.read_text()
        for inside, outside in moves.items():
            moved_text = moved_text.replace(inside, outside)
        text_name.write_text(moved_text)
    for inside, outside in moves.items():
        text = text.replace(inside, outside)
    checked = tmp_path / 'httpd.conf'
    checked.write_text(text)
    result = subprocess.run(['/usr/sbin/apache2', '-t', '-f', str(checked)],
                            env=dict(os.environ, LISTEN='127.0.0.1:1'),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert result.returncode == 0 and b'Syntax OK' in result.stdout, result.stdout.decode()


def test_without_the_options_none_of_their_lines(tmp_path):
    project = make_tg2(tmp_path / 'shop')
    values = settled(project)
    container.write(values, False)
    conf = (project / 'apache/container/httpd.conf').read_text()
    for absent in ('.tgdeploy-status', 'Include', 'ExtendedStatus', 'DEFLATE', 'status_module'):
        assert absent not in conf, absent
    assert '\nKeepAlive On\nKeepAliveTimeout 2\n' in conf
    assert 'RequestReadTimeout header=15-30,MinRate=500 body=15,MinRate=500' in conf
    assert sorted(os.listdir(str(project / 'apache/container/config'))) == ['shop.ini',
                                                                            'shop.wsgi']


def test_simulate_says_what_it_would_write_and_writes_nothing(tmp_path):
    project = make_tg2(tmp_path / 'shop')
    values = settled(project)
    before = sorted(os.listdir(str(project)))
    lines = []
    assert container.simulate(values, False, lines.append) == 0
    assert sorted(os.listdir(str(project))) == before  # no apache/, no Containerfile
    text = '\n'.join(lines)
    for name in ('apache/container/httpd.conf', 'apache/container/config/shop.ini',
                 'apache/shop.kube.yaml', 'Containerfile', '.containerignore'):
        assert 'would create %s' % (project / name) in text, name
    # Written, then an option changed and the Containerfile edited: the diff of the
    # container's httpd.conf, and the refusal a run would make, still writing nothing.
    container.write(values, False)
    changed = settled(project, processes='3')
    lines = []
    container.simulate(changed, False, lines.append)
    text = '\n'.join(lines)
    assert 'would update %s' % (project / 'apache/container/httpd.conf') in text
    assert re.search(r'\n    \+    processes=3 threads=', text) and '-    processes=2 ' in text, text
    assert 'Containerfile' not in text  # unchanged: not mentioned
    with open(str(project / 'Containerfile'), 'a') as f:
        f.write('LABEL mine=yes\n')
    stamp = (project / 'apache/container/httpd.conf').stat().st_mtime
    lines = []
    with pytest.raises(TgDeployError, match='you edited .*Containerfile.*--overwrite'):
        container.simulate(changed, False, lines.append)
    assert 'edited by you, would refuse %s' % (project / 'Containerfile') in '\n'.join(lines)
    assert (project / 'apache/container/httpd.conf').stat().st_mtime == stamp
    assert ' processes=2 ' in (project / 'apache/container/httpd.conf').read_text()
    lines = []
    assert container.simulate(changed, True, lines.append) == 0
    assert 'would replace (saving a .bak) %s' % (project / 'Containerfile') in '\n'.join(lines)
    assert not (project / 'Containerfile.bak').exists()
