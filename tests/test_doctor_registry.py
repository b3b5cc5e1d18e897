"""The doctor's registry: every finding has a stable id (pinned in tests/doctor_ids.txt, listed
in README.md), --fail-level gates the exit code, silenced ids (--silence, the project's
setup.cfg) leave the lines and the counts. Real doctor runs: `paster tgdeploy --doctor` on
a copy of the CherryPy project, and the registry on a TurboGears 2 quickstart before a small
Apache tree of Debian's layout."""
import ast
import re
import shutil

import pytest

from conftest import LAB, REPO, paster
from support.httpd import DEBIAN_WSGI
from support.projects import make_apache_tree, make_tg2, write
from support.venv import run
from tgdeploy.detect.arbiter import detect
from tgdeploy.doctor import ids_readme, registry
from tgdeploy.doctor.finding import level_of
from tgdeploy.doctor.gate import Gate
from tgdeploy.doctor.ids import IDS, TITLES
from tgdeploy.errors import TgDeployError
from tgdeploy.serve import check
from tgdeploy.settle import options

PINNED = REPO / 'tests' / 'doctor_ids.txt'


def test_the_ids_are_the_pinned_ones():
    """A renumbered, reworded or dropped id fails here: ids are for good."""
    pinned = [line.split(' ', 1) for line in PINNED.read_text().splitlines()
              if line and not line.startswith('#')]
    assert [[check_id, title] for check_id, title, _ in IDS] == pinned


def test_ids_are_unique_and_say_their_level():
    ids = [check_id for check_id, _, _ in IDS]
    assert len(ids) == len(set(ids))
    assert all(re.match(r'^TGD-[EW]\d{3}$', check_id) for check_id in ids), ids
    assert all(title and fix for _, title, fix in IDS)
    assert level_of('TGD-E001') == 'error' and level_of('TGD-W001') == 'warning'


def test_every_id_the_code_gives_is_registered_and_every_registered_one_is_given():
    given = set()
    for path in (REPO / 'tgdeploy').rglob('*.py'):
        if path.name != 'ids.py':
            given |= set(re.findall(r"'(TGD-[EW]\d{3})'", path.read_text(encoding='utf-8')))
    assert given == set(TITLES), (sorted(given - set(TITLES)), sorted(set(TITLES) - given))


def test_the_readme_lists_every_id():
    readme = (REPO / 'README.md').read_text(encoding='utf-8')
    assert ids_readme.readme_block(readme) == ids_readme.markdown(), \
        'run python -m tgdeploy.doctor.ids_readme README.md'
    for check_id, title, _ in IDS:
        assert '| `%s` | %s | %s |' % (check_id, level_of(check_id), title) in readme


# -- the registry names the findings of every producer ---------------------------------------

def settle(project, **given):
    return options.settle(detect(str(project)), given)


@pytest.fixture
def busy_tree(tmp_path):
    """A Debian tree whose other configs trust forwarded headers from anyone and publish /etc."""
    tree = make_apache_tree(tmp_path / 'etc-apache2', DEBIAN_WSGI)
    write(tree / 'conf-enabled' / 'other.conf',
          'WSGITrustedProxyHeaders X-Forwarded-For X-Forwarded-Host\nAlias /etcx /etc\n')
    return tree


def test_every_finding_of_a_real_doctor_run_has_its_id(tmp_path, busy_tree):
    """A TurboGears 2 quickstart for three hosts, with a Dockerfile of its own: the findings
    of settle's producers (proxies, exposure, production), of the multi-host reading and of
    the project's own files each carry the id of their kind."""
    shop = make_tg2(tmp_path / 'shop', 'shop')
    write(shop / 'Dockerfile', 'FROM python:3.11\nENV LANG=de_DE.UTF-8\nENV SHOP_MODE=live\n')
    values = settle(shop, mount='/shop', hosts='3')
    findings = registry.examine(values, str(busy_tree), DEBIAN_WSGI)
    assert all(f.id in TITLES and level_of(f.id) == f.level for f in findings), findings
    ids = dict((f.id, f.text) for f in findings)
    assert ids['TGD-W004'].startswith('WSGITrustedProxyHeaders in %s, and no WSGITrusted' % (
        busy_tree / 'conf-enabled' / 'other.conf')), findings
    assert 'trusts x-forwarded-host' in ids['TGD-W005']
    assert 'publishes /etc' in ids['TGD-E016']
    assert ids['TGD-W016'].startswith('no error reports are configured')
    assert ids['TGD-E037'] == '3 hosts: ' + 'each host deployed on its own gets secrets of ' \
        'its own, and refuses the cookies the others sign: deploy every host with ' \
        '--secrets-from the same file'
    assert ids['TGD-E034'].startswith('3 hosts: the SQLite database of sqlalchemy.url')
    assert ids['TGD-W021'].startswith('Dockerfile:2: sets the locale de_DE.UTF-8')
    assert ids['TGD-W022'].startswith('Dockerfile:3: sets SHOP_MODE in the environment')


# The modules whose (level, text) pairs the registry names by RULES.
PRODUCERS = {'exposure': ['settle/exposure.py'], 'proxies': ['settle/proxies.py'],
             'log_rotation': ['doctor/log_rotation.py'],
             'production': ['settle/production.py', 'settle/write_locations.py'],
             'tls': ['settle/tls.py', 'doctor/tls_checks.py'], 'replay': ['settle/replay_settle.py'],
             'host_state': ['doctor/host_state.py'], 'crawl': ['serve/crawl.py']}


def string_constants(path):
    """Every string literal of a module, implicit concatenations joined as Python does."""
    tree = ast.parse(path.read_text(encoding='utf-8'))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_each_rule_names_words_its_producer_writes():
    """A reworded finding must not lose its id unseen: each rule's words are in a string
    its producer writes."""
    assert sorted(PRODUCERS) == sorted(registry.RULES)
    for producer, rules in registry.RULES.items():
        texts = [text for path in PRODUCERS[producer]
                 for text in string_constants(REPO / 'tgdeploy' / path)]
        for check_id, words in rules:
            assert check_id in TITLES
            assert words and any(words in text for text in texts), (producer, check_id, words)


def test_a_pair_no_rule_names_keeps_no_id_rather_than_a_wrong_one():
    found = registry.identified([('warning', 'a warning tls.py does not give')], 'exposure')
    assert [(f.level, f.id) for f in found] == [('warning', None)]


# -- --fail-level and --silence, through the doctor's report ---------------------------------

def doctor_lines(values, tree, **gate):
    lines = []
    code = check.doctor(values, lines.append, str(tree), DEBIAN_WSGI,
                        Gate(values.paths.project_dir, **gate))
    return code, lines


@pytest.fixture
def cherry_copy(cherry_project, www_tmp, deploy_venv):
    """The CherryPy project copied where www-data reaches it, deployed, its data folder
    www-data's: with a good Apache tree, its one finding is TGD-W016 (no error reports)."""
    project = www_tmp / 'cherryapp'
    shutil.copytree(str(cherry_project), str(project),
                    ignore=shutil.ignore_patterns('apache', 'data', '*.egg-info'))
    (project / 'data').mkdir()
    run(['chown', 'www-data:www-data', project / 'data'])
    tree = make_apache_tree(www_tmp / 'etc-apache2', DEBIAN_WSGI)
    paster(deploy_venv, 'tgdeploy', '-q', '--mount', '/cp', '--apache-root', tree, cwd=project)
    return project, tree


def test_fail_level_and_silence(cherry_copy):
    project, tree = cherry_copy
    values = settle(project, mount='/cp')
    code, lines = doctor_lines(values, tree)
    assert code == 1, lines
    warning = lines.index('warning: no error reports are configured: a 500 reaches no one but '
                          'Apache\'s error log; pass --error-email ADDRESS')
    assert lines[warning + 1] == '  id: TGD-W016'
    assert lines[-1] == 'tgdeploy: 0 error(s), 1 warning(s)'
    # CI gates on errors only: the warning is shown, the exit code is 0.
    code, lines = doctor_lines(values, tree, fail_level='error')
    assert code == 0 and 'tgdeploy: 0 error(s), 1 warning(s)' in lines
    assert doctor_lines(values, tree, fail_level='WARNING')[0] == 1
    # Silenced: not shown, not counted, but said.
    code, lines = doctor_lines(values, tree, silence=['tgd-w016'])
    assert code == 0
    assert lines == ['tgdeploy: 0 error(s), 0 warning(s), 1 silenced (TGD-W016)'], lines
    # An id silenced that this run does not find changes nothing.
    assert doctor_lines(values, tree, silence=['TGD-E012,TGD-W009'])[0] == 1
    # Errors are still errors under --fail-level error, unless silenced.
    values = settle(project, mount='/cp', user='nobody-here-at-all', elsewhere='yes')
    code, lines = doctor_lines(values, tree, fail_level='error')
    assert code == 3 and '  id: TGD-E007' in lines, lines


@pytest.mark.parametrize('gate, said', [
    ({'fail_level': 'info'}, '--fail-level info: say warning (any warning fails, the '
                             'default) or error (only errors fail)'),
    ({'silence': ['TGD-W016', 'TGD-W999']}, '--silence TGD-W999: TGD-W999 is not a doctor '
                                             'finding id'),
])
def test_bad_gates_are_bad_input(cherry_copy, gate, said):
    project, tree = cherry_copy
    with pytest.raises(TgDeployError) as raised:
        doctor_lines(settle(project, mount='/cp'), tree, **gate)
    assert str(raised.value).startswith(said)


def test_the_project_keeps_its_silenced_ids_in_setup_cfg(cherry_copy, deploy_venv):
    """`paster tgdeploy --doctor` reads [tgdeploy] silence in the project's setup.cfg."""
    project, tree = cherry_copy
    doctor = ['tgdeploy', '--doctor', '--mount', '/cp', '--apache-root', tree]
    proc = paster(deploy_venv, *doctor, cwd=project, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'warning: no error reports are configured: a 500 reaches no one but Apache\'s ' \
           'error log; pass --error-email ADDRESS\n  id: TGD-W016\n' in proc.stdout, proc.stdout
    write(project / 'setup.cfg', '[egg_info]\ntag_build =\n\n[tgdeploy]\n'
                                 'silence =\n    TGD-W016\n    TGD-W009\n')
    proc = paster(deploy_venv, *doctor, cwd=project, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'warning:' not in proc.stdout and 'id: TGD-W016' not in proc.stdout, proc.stdout
    assert proc.stdout.splitlines()[-1] == \
        'tgdeploy: 0 error(s), 0 warning(s), 1 silenced (TGD-W016)', proc.stdout
    # An id the doctor does not know: one line naming the file, exit 2.
    write(project / 'setup.cfg', '[tgdeploy]\nsilence = TGD-W016 TGD-W1600\n')
    proc = paster(deploy_venv, *doctor, cwd=project, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        'tgdeploy: error: silence = in [tgdeploy] of %s: TGD-W1600 is not a doctor finding '
        'id (TGD-E001, TGD-W016...): see the list in README.md, "The doctor\'s findings"'
        % (project / 'setup.cfg')], proc.stderr


def test_fail_level_and_silence_on_the_command_line(cherry_copy, deploy_venv):
    """`paster tgdeploy --doctor --fail-level error` passes a CI gate with warnings only;
    `--silence ID` accepts one; a level or id the doctor does not know is bad input."""
    project, tree = cherry_copy
    doctor = ['tgdeploy', '--doctor', '--mount', '/cp', '--apache-root', tree]
    proc = paster(deploy_venv, *doctor + ['--fail-level', 'error'], cwd=project, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '  id: TGD-W016\n' in proc.stdout, proc.stdout
    assert proc.stdout.splitlines()[-1] == 'tgdeploy: 0 error(s), 1 warning(s)'
    proc = paster(deploy_venv, *doctor + ['--silence', 'TGD-W009,TGD-W016'], cwd=project,
                  check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == \
        'tgdeploy: 0 error(s), 0 warning(s), 1 silenced (TGD-W016)', proc.stdout
    for bad, said in ((['--fail-level', 'notice'], '--fail-level notice: say warning'),
                      (['--silence', 'W016'], '--silence W016: W016 is not a doctor finding')):
        proc = paster(deploy_venv, *doctor + bad, cwd=project, check=False)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert 'tgdeploy: error: ' + said in proc.stderr, proc.stderr
        assert 'tgdeploy: 0 error(s)' not in proc.stdout, proc.stdout


def test_silenced_ids_read_alike_on_every_python(tmp_path):
    """A comment after the ids (which Python 2.7's ConfigParser drops and 3's keeps) ends the
    list on every Python; ids by space, comma or line."""
    from tgdeploy.doctor import gate
    assert gate.split('TGD-W016 ; accepted: no mail here\n  TGD-E009,TGD-W011 # why\n'
                      '# a line of its own\n') == ['TGD-W016', 'TGD-E009', 'TGD-W011']
    write(tmp_path / 'setup.cfg', '[tgdeploy]\nsilence = tgd-w016 ; no mail here\n')
    assert gate.project_ids(str(tmp_path)) == ['TGD-W016']


def test_a_huge_setup_cfg_is_refused_not_read(tmp_path):
    from tgdeploy.doctor import gate
    with open(str(tmp_path / 'setup.cfg'), 'wb') as f:
        f.truncate(1024 ** 3)  # sparse: no disk used
    with pytest.raises(TgDeployError) as refused:
        gate.project_ids(str(tmp_path))
    assert 'is 1024 MB, not a config file' in str(refused.value)


def test_a_non_ascii_id_is_one_line_on_python_2_7(tmp_path):
    """TurboGears 1.x users run tgdeploy on 2.7, where an error message holding what the user
    typed (here a Latin-1 letter in setup.cfg) must still be one line, exit 2."""
    tgdeploy27 = LAB / 'py27' / 'tg15' / 'bin' / 'tgdeploy'
    if not tgdeploy27.exists():
        pytest.fail('the Python 2.7 lab is missing: run scripts/provision-py27')
    project = make_tg2(tmp_path / 'shop')
    (project / 'setup.cfg').write_bytes(b'[tgdeploy]\nsilence = TGD-W016\xe9\n')
    proc = run([tgdeploy27, '--doctor', '--elsewhere', 'yes', str(project)], check=False)
    assert proc.returncode == 2, proc
    assert 'Traceback' not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc
    assert 'is not a doctor finding id' in proc.stderr, proc
