"""The settled values: named groups read by attribute (tgdeploy/settle/settled.py)."""
import ast
import os

import pytest

from support.projects import make_cherrypy, make_tg1, make_tg2, make_venv_marker
from tgdeploy.detect.arbiter import detect
from tgdeploy.settle import options, settled
from tgdeploy.settle.settled import FIELDS, GROUPS, GROUP_NAMES, WHERE, Settled

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tgdeploy')
# Where `values` is the plain dict settle() is still building, before it becomes a Settled.
BUILDING = {
    'settle/options.py': None, 'settle/app_config.py': None, 'settle/daemon.py': None,
    'settle/https.py': None, 'settle/logs.py': None, 'settle/paths.py': None,
    'settle/static.py': None, 'settle/daemon_env.py': None, 'settle/checks.py': None,
    'settle/replay_settle.py': {'settle'},
    'settle/settled.py': None,
    # Other dicts of their own named values: the ini's settings, the secrets.
    'settle/inifile.py': {'derive_production'}, 'settle/production.py': {'settle_secrets'},
    # Not settle()'s values: the balancer's and the private Apache's own template values.
    'balancer/front.py': None, 'serve/private_apache.py': None,
}
# The fields settled for one flavor only.
ONE_FLAVOR = {'production': [('cherrypy_settings', 'make_cherrypy')]}


def test_every_key_is_in_exactly_one_group():
    entries = [entry if isinstance(entry, str) else entry[1]
               for _, group in GROUPS for entry in group]
    assert len(entries) == len(set(entries)) == len(WHERE)
    for group, fields in FIELDS.items():
        assert len(fields) == len(set(fields)), group


@pytest.mark.parametrize('make', [make_tg2, make_cherrypy, make_tg1])
def test_settle_fills_every_field_of_every_group(tmp_path, make):
    given = {'python_home': str(make_venv_marker(tmp_path / 'venv'))}
    values = options.settle(detect(str(make(tmp_path / 'p'))), given)
    assert isinstance(values, Settled)
    for group in GROUP_NAMES:
        wanted = set(FIELDS[group]) - set(
            field for field, flavor in ONE_FLAVOR.get(group, ()) if flavor != make.__name__)
        assert set(getattr(values, group).fields()) == wanted


@pytest.fixture
def values(tmp_path):
    return options.settle(detect(str(make_tg2(tmp_path / 'shop'))), {})


def test_read_and_write_by_attribute(values):
    assert values.daemon.processes >= 1 and values.project.name == 'shop'
    assert values.paths.wsgi_file.endswith('/shop.wsgi')
    values.daemon.threads = 7
    assert values.daemon.threads == 7


def test_replace_leaves_the_original_alone(values):
    port, hosts = values.apache.port, list(values.apache.hosts)
    changed = values.replace(apache={'port': 8123, 'hosts': []}, https={'port': 8443})
    assert (changed.apache.port, changed.apache.hosts, changed.https.port) == (8123, [], 8443)
    assert (values.apache.port, values.apache.hosts) == (port, hosts)
    assert changed.daemon.processes == values.daemon.processes
    changed.daemon.threads = 99
    assert values.daemon.threads != 99


@pytest.mark.parametrize('read', [
    lambda v: v.daemon.procs, lambda v: v.nowhere, lambda v: v.paths.mount])
def test_an_unknown_name_raises_attribute_error_naming_it(values, read):
    with pytest.raises(AttributeError) as e:
        read(values)
    assert any(name in str(e.value) for name in ('daemon.procs', 'nowhere', 'paths.mount'))


def test_an_unknown_field_is_refused_on_write_and_replace(values):
    with pytest.raises(AttributeError, match='daemon.procs'):
        values.daemon.procs = 3
    with pytest.raises(AttributeError, match='daemon.procs'):
        values.replace(daemon={'procs': 3})
    with pytest.raises(AttributeError, match='nowhere'):
        values.replace(nowhere={})


def test_a_key_without_a_group_is_refused():
    with pytest.raises(KeyError, match='settled.py'):
        Settled.from_flat({'slug': 'x', 'brand_new': 1})


def test_the_templates_see_groups_helpers_and_slug(values):
    names = values.namespace()
    assert names['slug'] == 'shop' and names['daemon'] is values.daemon
    assert names['q']('/a b') == '"/a b"'
    assert set(GROUP_NAMES) <= set(names)


def flat_reads(path, allowed):
    """(line, text) of each values[...] / values.get(...) outside the allowed functions."""
    with open(path) as f:
        tree = ast.parse(f.read())
    found = []

    def visit(node, function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        name = None
        if isinstance(node, ast.Subscript):
            name = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == 'get':
            name = node.func.value
        if name is not None and ast.unparse(name) in ('values', 'self.values') and \
                function not in allowed:
            found.append((node.lineno, ast.unparse(node)))
        for child in ast.iter_child_nodes(node):
            visit(child, function)
    visit(tree, None)
    return found


def test_no_reads_by_key_remain_in_the_package():
    left = []
    for folder, _, names in os.walk(PACKAGE):
        for name in names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, PACKAGE)
            if not name.endswith('.py') or (rel in BUILDING and BUILDING[rel] is None):
                continue
            left += ['%s:%d %s' % (rel, line, text)
                     for line, text in flat_reads(path, BUILDING.get(rel) or ())]
    assert not left, 'read settled values by attribute (settle/settled.py):\n' + '\n'.join(left)


def test_no_item_access(values):
    with pytest.raises(TypeError):
        values['slug']
    with pytest.raises(TypeError):
        'slug' in values
    assert not hasattr(values, 'get') and not hasattr(values, 'keys')
