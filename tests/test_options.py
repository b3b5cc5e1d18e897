"""Settling options: defaults, derived names, and every value that could break Apache."""
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from support.projects import make_cherrypy, make_tg2, make_venv_marker
from tgdeploy.settle import options, quoting
from tgdeploy.detect.arbiter import detect
from tgdeploy.errors import TgDeployError


@pytest.fixture
def tg2(tmp_path):
    return detect(make_tg2(tmp_path / 'shop'))


@pytest.fixture
def venv(tmp_path):
    return str(make_venv_marker(tmp_path / 'venv'))


def settle(project, **given):
    return options.settle(project, given)


def test_defaults(tg2, tmp_path):
    values = settle(tg2)
    assert values.apache.mount == '/' and values.apache.mode == 'daemon'
    assert (values.daemon.processes, values.daemon.threads) == (len(os.sched_getaffinity(0)), 8)
    assert (values.daemon.user, values.daemon.group) == ('www-data', 'www-data')
    assert values.python.home == sys.prefix  # the running Python's virtualenv
    assert values.paths.apache_dir == str(tmp_path / 'shop' / 'apache')
    assert values.config.file == str(tmp_path / 'shop' / 'apache' / 'shop.ini')
    assert values.config.write_ini and values.config.derived_ini
    assert values.static.urls[0] == ('/css', str(tmp_path / 'shop' / 'shop' / 'public' / 'css'))


def test_values_follow_the_mount(tg2):
    values = settle(tg2, mount='/store/shop')
    assert values.daemon.name == 'shop-store-shop'
    assert values.static.urls[0][0] == '/store/shop/css'


def test_python_home_version_is_read_from_pyvenv_cfg(tg2, venv):
    assert settle(tg2, python_home=venv).python.version == '3.11.2'


def test_production_ini_is_deployed_as_it_is(tg2, tmp_path):
    (tmp_path / 'shop' / 'production.ini').write_text(
        '[DEFAULT]\ndebug = false\n[app:main]\nuse = egg:shop\n')
    values = settle(detect(str(tmp_path / 'shop')))
    assert values.config.file == str(tmp_path / 'shop' / 'production.ini')
    assert not values.config.write_ini and not values.config.has_logging


def test_cherrypy_gets_an_ini_for_the_entry_point(tmp_path):
    values = settle(detect(make_cherrypy(tmp_path / 'cherryapp')))
    assert values.config.write_ini and not values.config.derived_ini
    assert values.project.root == 'cherryapp.app:Root'
    assert values.config.cherrypy == str(tmp_path / 'cherryapp' / 'app.conf')


BAD = [
    ({'mount': 'shop'}, 'mount \'shop\' must start with "/": use for example --mount /shop'),
    ({'mount': '/shop/'}, 'mount \'/shop/\' must not end with "/": use --mount /shop'),
    ({'mount': '/a b'}, 'may hold only letters'),
    ({'mode': 'fast'}, "--mode 'fast' is not one of daemon, embedded"),
    ({'apache': '2.0'}, "--apache '2.0' is not one of 2.4, 2.2"),
    ({'processes': '0'}, '--processes \'0\' must be a whole number from 1 to 64'),
    ({'threads': 'many'}, '--threads \'many\' must be a whole number'),
    ({'port': '70000', 'server_name': 'shop.example'},
     '--port \'70000\' must be a whole number from 1 to 65535'),
    ({'user': 'root'}, 'mod_wsgi refuses to run an application as root'),
    ({'user': 'www-data\nWSGIPassAuthorization On'}, 'is not a valid user or group name'),
    ({'group': 'a"b'}, 'is not a valid user or group name'),
    ({'server_name': 'example.com>\n<Location />'}, 'is not a host name'),
    ({'server_name': 'a"b'}, 'is not a host name'),
    ({'locale': 'C.UTF-8 %{ENV}'}, 'is not a locale name'),
    ({'python_home': '/usr'}, 'python home /usr is not a virtualenv'),
    ({'python_home': '/tmp/x\ny'}, "holds '\\n', which an Apache config line cannot carry"),
    ({'output_dir': '/tmp/a${HOME}'}, "holds '${', which Apache expands on every config line"),
    ({'data_dir': '/tmp/100%'}, "holds '%', which PasteDeploy reads in an ini as an "
                                "interpolation"),
    ({'maximum_requests': '-1'}, "--maximum-requests '-1' must be a whole number from 0"),
    ({'queue_timeout': 'soon'}, "--queue-timeout 'soon' must be a whole number"),
    ({'header_buffer_size': '4096'}, 'mod_wsgi takes 8192 bytes or more'),
    ({'request_timeout': '30', 'mode': 'embedded'}, '--request-timeout applies to daemon mode '
                                                    'only'),
    ({'pass_authorization': 'On'}, "--pass-authorization 'On' is not one of yes, no"),
    ({'alias': ['media=/srv']}, "--alias 'media=/srv' is not URL=PATH"),
    ({'alias': ['/css=/usr/share/doc']}, '--alias /css clashes with the static alias /css'),
    ({'alias': ['/src=.']}, 'would open a private folder of the project'),
    ({'alias': ['/x=/nonexistent-folder']}, '/nonexistent-folder does not exist'),
    ({'static_max_age': 'week'}, "--static-max-age 'week' must be a whole number"),
    ({'colour': 'blue'}, 'unknown option(s) colour'),
]


@pytest.mark.parametrize('given, message', BAD, ids=[str(sorted(g)) for g, _ in BAD])
def test_bad_values_are_refused_with_the_fix(tg2, given, message):
    with pytest.raises(TgDeployError) as error:
        options.settle(tg2, given)
    assert message in str(error.value)
    assert '\n' not in str(error.value).split(repr(list(given.values())[0]))[-1]


def test_one_daemon_process_per_core():
    """Measured in bench/threads.py: one process per core beats both fewer and more."""
    code = 'from tgdeploy.settle.options import default_processes; print(default_processes())'
    available = sorted(os.sched_getaffinity(0))
    for cpus in (available[:1], available):
        proc = subprocess.run(['taskset', '-c', ','.join(map(str, cpus)), sys.executable, '-c',
                               code], stdout=subprocess.PIPE, text=True, check=True)
        assert int(proc.stdout) == len(cpus)


def test_project_in_a_folder_with_a_space(tmp_path):
    """Quoted, not refused (tests/test_day_two.py serves one)."""
    project = detect(make_tg2(tmp_path / 'My Projects' / 'shop \u00e9\u00e9'))
    values = settle(project)
    assert values.paths.project_dir == str(tmp_path / 'My Projects' / 'shop \u00e9\u00e9')
    assert values.quote.q(values.paths.project_dir) == '"%s"' % values.paths.project_dir


def ap_getword_conf(text):
    """Apache's reading of one double-quoted argument (server/util.c): \\ and \" are
    escapes; returns (word, rest)."""
    assert text[0] == '"'
    word, i = [], 1
    while text[i] != '"':
        if text[i] == '\\' and text[i + 1] in '\\"':
            i += 1
        word.append(text[i])
        i += 1
    return ''.join(word), text[i + 1:]


@settings(max_examples=300, deadline=None)
@given(path=st.text(min_size=1, max_size=30))
def test_apache_quoting_round_trips(path):
    """Whatever a path holds, Apache reads back exactly that path from the quoted argument,
    and nothing after it."""
    quoted = quoting.apache_quote('/' + path)
    assert ap_getword_conf(quoted + ' rest') == ('/' + path, ' rest')
    pattern = quoting.glob_escape('/' + path)
    import fnmatch
    assert fnmatch.fnmatchcase('/' + path, pattern)


# option -> the settled value it becomes
APACHE_VALUES = {'mount': 'apache.mount', 'user': 'daemon.user', 'group': 'daemon.group',
                 'server_name': 'apache.server_name', 'locale': 'daemon.locale'}
PATH_VALUES = {'output_dir': 'paths.apache_dir', 'data_dir': 'paths.data_dir',
               'log_dir': 'logs.dir'}


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(APACHE_VALUES)), value=st.text(min_size=1, max_size=30))
def test_no_string_smuggles_apache_syntax(tmp_path_factory, name, value):
    """Whatever the user types, a value is refused or reaches Apache harmless."""
    project = detect(make_tg2(tmp_path_factory.mktemp('p') / 'shop'))
    try:
        values = options.settle(project, {name: value})
    except TgDeployError:
        return
    settled = str(values.lookup(APACHE_VALUES[name]))
    assert not set(settled) & set('\n\r"\'<>\\ \t'), settled
    assert '%{' not in settled


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(PATH_VALUES)), value=st.text(min_size=1, max_size=30))
def test_no_path_breaks_its_line(tmp_path_factory, name, value):
    """A path is refused or reaches Apache quoted: no line break, no ${ expansion."""
    project = detect(make_tg2(tmp_path_factory.mktemp('p') / 'shop'))
    try:
        values = options.settle(project, {name: '/tmp/' + value})
    except TgDeployError as e:
        assert '\n' not in str(e)
        return
    settled = values.lookup(PATH_VALUES[name])
    assert not set(settled) & set('\n\r\x00') and '${' not in settled.replace(
        '${APACHE_LOG_DIR}', '')


TRAILING_NEWLINE = {'mount': '/shop\n', 'user': 'nobody\n', 'group': 'nogroup\n',
                    'server_name': 'example.org\n', 'locale': 'C.UTF-8\n',
                    'output_dir': '/srv/apache\n', 'data_dir': '/srv/data\n'}


@pytest.mark.parametrize('name', sorted(TRAILING_NEWLINE))
def test_a_trailing_newline_is_refused(tmp_path, name):
    """A regex's ``$`` also matches before a final newline (hypothesis found 'A\\n')."""
    project = detect(make_tg2(tmp_path / 'shop'))
    with pytest.raises(TgDeployError):
        options.settle(project, {name: TRAILING_NEWLINE[name]})


def test_project_name_with_a_control_character(tmp_path):
    d = make_tg2(tmp_path / 'shop')
    (d / "pyproject.toml").write_text("[project]\nname = \"shop\x1bInclude\"\n")
    with pytest.raises(TgDeployError, match='holds control characters'):
        settle(detect(str(d)))


EVERY_OPTION = sorted(set(options.OPTION_DEFAULTS) | {'flavor', 'config', 'root'})


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(given=st.dictionaries(st.sampled_from(EVERY_OPTION), st.text(max_size=40), max_size=4))
def test_any_unicode_in_any_option_is_refused_or_ascii(tmp_path_factory, given):
    """Whatever the user types into whichever options: one TgDeployError line, or a config
    in UTF-8 (paths may hold any letter, quoted). Never another exception (a traceback for
    the user)."""
    from tgdeploy.cli.deploy import deploy
    base = tmp_path_factory.mktemp('any')
    make_venv_marker(base / 'venv')
    project = make_tg2(base / 'shop')
    given = dict(given)
    given.setdefault('python_home', str(base / 'venv'))
    if given.get('output_dir', '').startswith('/'):
        given['output_dir'] = str(base) + given['output_dir']  # writes stay in the temp folder
    try:
        values = deploy(str(project), given)
    except TgDeployError as e:
        assert '\n' not in str(e) and '\r' not in str(e)
        return
    conf = open(values.paths.conf_file, 'rb').read()
    conf.decode('utf-8')
    assert b'\x00' not in conf
