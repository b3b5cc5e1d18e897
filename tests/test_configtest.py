"""Apache itself (`apache2 -t`) accepts every generated config across a spread of options."""
import itertools

import pytest

from conftest import LAB_PY3
from support.projects import make_cherrypy, make_tg1, make_tg2
from tgdeploy.cli.deploy import deploy

SPREAD = [dict(mode=mode, apache=apache, mount=mount, **vhost)
          for mode, apache, mount, vhost in itertools.product(
              ('daemon', 'embedded'), ('2.4', '2.2'), ('/', '/shop/v2'),
              ({}, {'server_name': 'shop.example.com', 'port': '8080'}))]
SPREAD += [dict(processes='1', threads='1'), dict(processes='16', threads='100'),
           dict(preload='no'), dict(preload='no', mode='embedded', mount='/a'),
           dict(user='nobody', group='nogroup', locale='C'),
           dict(data_dir='/var/lib/shop')]


def generate(project, **given):
    given.setdefault('python_home', LAB_PY3.prefix)
    return deploy(str(project), given).paths.conf_file


@pytest.mark.parametrize('given', SPREAD, ids=lambda g: ','.join('%s=%s' % i for i in sorted(g.items())))
def test_apache_accepts_the_config(tmp_path, apache_factory, given):
    conf = generate(make_tg2(tmp_path / 'shop'), **given)
    proc = apache_factory([conf]).configtest()
    assert proc.returncode == 0 and 'Syntax OK' in proc.stdout, proc.stdout


def test_cherrypy_config_is_accepted(tmp_path, apache_factory):
    conf = generate(make_cherrypy(tmp_path / 'cherryapp'), mount='/cp')
    assert apache_factory([conf]).configtest().returncode == 0


@pytest.mark.parametrize('mode', ['daemon', 'embedded'])
def test_turbogears1_config_is_accepted(tmp_path, apache_factory, mode):
    conf = generate(make_tg1(tmp_path / 'mysite'), mount='/mysite', mode=mode)
    assert apache_factory([conf]).configtest().returncode == 0


def test_the_same_project_at_two_mounts_gets_two_daemons(tmp_path, apache_factory):
    project = make_tg2(tmp_path / 'shop')
    first = generate(project, mount='/a', output_dir=str(tmp_path / 'a'))
    second = generate(project, mount='/b', output_dir=str(tmp_path / 'b'))
    proc = apache_factory([first, second]).configtest()
    assert proc.returncode == 0, proc.stdout


def test_configtest_does_catch_a_duplicate_daemon(tmp_path, apache_factory):
    """The check above can fail: one mount deployed twice is a name clash Apache reports."""
    project = make_tg2(tmp_path / 'shop')
    first = generate(project, mount='/a', output_dir=str(tmp_path / 'a'))
    second = generate(project, mount='/a', output_dir=str(tmp_path / 'b'))
    proc = apache_factory([first, second]).configtest()
    assert proc.returncode != 0 and 'duplicates previous WSGI daemon' in proc.stdout
