"""One option table (tgdeploy/settle/table.py) drives every front end and the README.

The README's reference is the table's markdown, byte for byte; paster, the console script,
gearbox and paster create offer exactly the table's options; each row is well formed (its
group is where settle puts the value, its check is a function of tgdeploy.settle, its help
names its default).
"""
import importlib
import io
import os
import pkgutil
import re
import shutil

import pytest

import tgdeploy.settle
from conftest import LAB_PY3
from support.venv import run
from tgdeploy.cli import arguments
from tgdeploy.cli.command import ScriptCommand, TgDeployCommand
from tgdeploy.cli.gearbox_command import TgDeployGearboxCommand
from tgdeploy.cli.template import PASTER_VARS, TgModWsgiTemplate, refuse_unknown
from tgdeploy.errors import TgDeployError
from tgdeploy.settle import option_reference, settled, table

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      'README.md')
FLAGS = sorted(row.flag for row in table.TABLE)
# What the front ends offer besides the table: paster's standard options, gearbox's own.
PASTER_OWN = ['--help', '--overwrite', '--quiet', '--simulate', '--verbose']
GEARBOX_OWN = ['--overwrite', '--quiet', '--simulate']


def readme_text():
    with io.open(README, encoding='utf-8') as f:
        return f.read()


def test_the_readme_reference_is_the_tables():
    reference = option_reference.readme_reference(readme_text())
    assert reference is not None, 'README.md has no generated option reference'
    assert reference == option_reference.markdown(), (
        'README.md\'s option reference differs from tgdeploy/settle/table.py: run '
        'python -m tgdeploy.settle.option_reference --markdown README.md')


def test_every_option_is_in_the_readme_once():
    reference = option_reference.readme_reference(readme_text())
    for row in table.TABLE:
        assert len(re.findall(r'^- `%s[ `]' % re.escape(row.flag), reference, re.M)) == 1, \
            row.flag


def test_the_tool_rewrites_a_stale_reference(tmp_path):
    readme = tmp_path / 'README.md'
    shutil.copy(README, str(readme))
    stale = readme.read_text(encoding='utf-8').replace('- `--mount MOUNT`', '- `--mnt MOUNT`')
    readme.write_text(stale, encoding='utf-8')
    proc = run([LAB_PY3.python, '-m', 'tgdeploy.settle.option_reference', '--markdown', str(readme)],
               cwd=tmp_path)
    assert proc.stdout == ''
    assert readme.read_text(encoding='utf-8') == readme_text()


def test_the_tool_refuses_a_readme_without_markers(tmp_path):
    readme = tmp_path / 'README.md'
    readme.write_text(u'# nothing generated here\n', encoding='utf-8')
    proc = run([LAB_PY3.python, '-m', 'tgdeploy.settle.option_reference', '--markdown', str(readme)],
               cwd=tmp_path, check=False)
    assert proc.returncode != 0 and 'has no' in proc.stderr and 'Traceback' not in proc.stderr
    assert readme.read_text(encoding='utf-8') == u'# nothing generated here\n'


def test_paster_and_the_console_script_offer_exactly_the_table():
    for parser in (TgDeployCommand.parser, ScriptCommand.parser):
        offered = sorted(o.get_opt_string() for o in parser._get_all_options())
        assert offered == sorted(FLAGS + PASTER_OWN)


def test_paster_groups_the_options_as_the_table():
    groups = [(g.title, [o.get_opt_string() for o in g.option_list])
              for g in TgDeployCommand.parser.option_groups]
    assert groups == [(title, [row.flag for row in rows])
                      for _, title, rows in table.grouped()]


def test_gearbox_offers_exactly_the_table():
    parser = TgDeployGearboxCommand(None, None).get_parser('gearbox tgdeploy')
    offered = sorted(s for a in parser._actions for s in a.option_strings if s.startswith('--'))
    assert offered == sorted(FLAGS + GEARBOX_OWN)
    titles = [g.title for g in parser._action_groups][-len(table.grouped()):]
    assert titles == [title for _, title, _ in table.grouped()]


def test_paster_create_takes_exactly_the_settled_options():
    names = [v.name for v in TgModWsgiTemplate.vars]
    assert names == [row.name for row in table.GIVEN]
    assert not set(names) & set(r.name for r in table.TABLE if r.group in ('doctor', 'action'))
    defaults = dict((v.name, v.default) for v in TgModWsgiTemplate.vars)
    assert defaults['threads'] == str(table.DEFAULT_THREADS) and defaults['user'] == ''
    refuse_unknown(dict((n, '') for n in names + list(PASTER_VARS)))
    with pytest.raises(TgDeployError, match='unknown variable'):
        refuse_unknown({'apache_root': '/etc/apache2'})


def test_parsed_options_reach_the_run_by_kind():
    parser = TgDeployCommand.parser
    options, args = parser.parse_args(['--mount', '/x', '--compress', '--alias', '/a=a',
                                       '--alias', '/b=b', '--mod-wsgi', '/m.so', '--reload'])
    given = arguments.given(options)
    assert sorted(given) == sorted(row.name for row in table.GIVEN)
    assert (given['mount'], given['compress'], given['alias']) == ('/x', 'yes', ['/a=a', '/b=b'])
    doctor = arguments.doctor(options)
    assert sorted(doctor) == sorted(row.name for row in table.TABLE if row.group == 'doctor')
    assert (doctor['mod_wsgi'], doctor['apache_root']) == ('/m.so', None)
    assert arguments.action(options) == 'reload'
    options, _ = parser.parse_args(['--doctor', '--doctor'])
    assert arguments.action(options) == 'doctor'
    options, _ = parser.parse_args(['--diagnose', '--doctor'])
    with pytest.raises(TgDeployError, match='--diagnose and --doctor are two actions'):
        arguments.action(options)


@pytest.mark.parametrize('command', [['tgdeploy'], ['paster', 'tgdeploy'],
                                     ['gearbox', 'tgdeploy']])
@pytest.mark.parametrize('options, refusal', [
    (['--diagnose', '--reload'], '--diagnose and --reload are two actions'),
    (['--since', '5'], '--since applies to --diagnose only'),
    (['--doctor', '--since', '5'], '--since applies to --diagnose only'),
    (['--silence', 'TGD-W016'], '--silence applies to --doctor, --check and --serve only'),
    (['--fail-level', 'error', '--diagnose'], '--fail-level applies to --doctor'),
])
def test_options_without_their_action_are_refused_by_every_front_end(command, options,
                                                                      refusal, tmp_path):
    proc = run([LAB_PY3.bin(command[0])] + command[1:] + options + [str(tmp_path)],
               cwd=tmp_path, check=False)
    assert proc.returncode == 2 and refusal in proc.stderr, proc
    assert proc.stderr.count('\n') == 1 and not os.listdir(str(tmp_path)), proc


@pytest.mark.parametrize('command', [
    ['tgdeploy', '--help'], ['paster', 'tgdeploy', '--help'], ['gearbox', 'help', 'tgdeploy']])
def test_the_installed_commands_show_every_option_by_group(command, tmp_path):
    out = run([LAB_PY3.bin(command[0])] + command[1:], cwd=tmp_path).stdout
    for row in table.TABLE:
        assert re.search(r'%s\b(?!-)' % re.escape(row.flag), out), row.flag
    places = [re.search(r'^ *%s:$' % re.escape(title), out, re.M) for _, title, _ in
              table.grouped()]
    assert all(places), out
    places = [p.start() for p in places]
    assert places == sorted(places)
    assert '%d on this machine)' % table.default_processes() in ' '.join(out.split())


def test_rows_are_well_formed():
    names = [row.name for row in table.TABLE]
    assert len(names) == len(set(names))
    assert set(row.kind for row in table.TABLE) <= set(table.KINDS)
    assert [g for g, _ in table.GROUPS] == [g for g, _, _ in table.grouped()]
    for row in table.TABLE:
        assert re.match(r'^[a-z][a-z0-9_]*\Z', row.name), row.name
        assert row.default is None or isinstance(row.default, str), row.name
        if row.kind == 'flag':
            assert row.default == 'no', row.name
        if row.kind in ('action', 'repeated'):
            assert row.default is None, row.name
        if row.kind == 'action':
            assert row.group == 'action' and row.check is None, row.name


def test_each_option_is_in_the_group_settle_puts_it():
    allowed = set(settled.GROUP_NAMES) | {'doctor', 'action'}
    for row in table.TABLE:
        assert row.group in allowed, row.name
        assert (row.group == 'action') == (row.kind == 'action'), row.name
        if row.name in settled.WHERE and row.kind != 'action':
            assert settled.WHERE[row.name][0] == row.group, row.name


def test_each_help_names_its_default():
    for row in table.TABLE:
        if row.kind == 'action':
            continue
        assert 'default' in row.help, row.name
        if row.kind == 'flag':
            assert 'default: off' in row.help, row.name
        elif row.default is not None:
            assert row.default in row.help, row.name
    processes = [row for row in table.TABLE if row.name == 'processes'][0]
    assert 'one per CPU core, at most %d' % table.MAX_PROCESSES in processes.help
    assert table.help_text(processes).endswith(
        ', %d on this machine)' % table.default_processes())


def settle_functions():
    names = set()
    for info in pkgutil.iter_modules(tgdeploy.settle.__path__):
        module = importlib.import_module('tgdeploy.settle.' + info[1])
        names.update(n for n in dir(module) if callable(getattr(module, n)))
    return names


def test_each_check_is_a_function_of_settle():
    functions = settle_functions()
    for row in table.TABLE:
        if row.check is not None:
            assert row.check in functions, (row.name, row.check)


def test_settle_starts_from_the_tables_defaults():
    from tgdeploy.settle import options
    assert options.OPTION_DEFAULTS is table.OPTION_DEFAULTS
    assert set(table.OPTION_DEFAULTS) == set(
        row.name for row in table.GIVEN) - set(table.DETECT_OPTIONS)
    assert table.OPTION_DEFAULTS['mount'] == '/' and table.OPTION_DEFAULTS['processes'] is None


def test_the_table_modules_stay_small():
    for module in (table, option_reference, arguments):
        with io.open(module.__file__.replace('.pyc', '.py'), encoding='utf-8') as f:
            assert len(f.read().splitlines()) < 400, module.__name__
