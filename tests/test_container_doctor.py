"""The doctor on the Containerfile --container wrote (doctor/container_checks.py), without
podman: the files tgdeploy writes for small projects, then changed the way a user or a
new virtualenv changes them; each finding says what and how to fix it."""
import pytest

from support.projects import make_tg1, make_tg2, make_venv_marker
from tgdeploy.cli import deploy
from tgdeploy.doctor import container_checks as checks
from tgdeploy.doctor.ids import TITLES
from tgdeploy.write import container


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def venv(tmp_path, python, *dists):
    """A virtualenv marker with ``dists``: (folder name, metadata text[, direct_url])."""
    home = make_venv_marker(tmp_path / ('venv-' + python), python)
    short = '.'.join(python.split('.')[:2])
    site = home / 'lib' / ('python' + short) / 'site-packages'
    site.mkdir(parents=True, exist_ok=True)
    for dist in dists:
        name, meta = dist[:2]
        if name.endswith('.dist-info'):
            write(site / name / 'METADATA', meta)
            if len(dist) > 2:
                write(site / name / 'direct_url.json', '{"url": "%s", "dir_info": {}}' % dist[2])
        else:
            write(site / name, meta)  # an egg-info file, as distutils writes it
    return home


def settled(project, home, **given):
    given.update(python_home=str(home), elsewhere='yes')
    return deploy.settle(str(project), given)


def ids(found):
    assert all(f.id in TITLES for f in found), found
    return sorted(f.id for f in found)


def test_no_containerfile_no_finding(tmp_path):
    values = settled(make_tg2(tmp_path / 'shop'), venv(tmp_path, '3.11.2'))
    assert checks.findings(values) == []


def test_as_written_nothing_to_say_and_an_edit_is_reported(tmp_path):
    project = make_tg2(tmp_path / 'shop')
    values = settled(project, venv(tmp_path, '3.11.2'))
    container.write(values, False)
    assert checks.findings(values) == []
    with open(str(project / 'Containerfile'), 'a') as f:
        f.write('RUN echo mine\n')
    found = checks.findings(values)
    assert ids(found) == [checks.W_EDITED]
    assert 'was edited since tgdeploy wrote it' in found[0].text
    assert 'RUN echo mine' in (project / 'Containerfile').read_text()  # kept, not rewritten


def test_a_python_the_base_lacks(tmp_path):
    project = make_tg2(tmp_path / 'shop')
    container.write(settled(project, venv(tmp_path, '3.11.2')), False)  # bookworm
    found = checks.findings(settled(project, venv(tmp_path, '3.13.5')))
    assert ids(found) == [checks.E_PYTHON]
    assert ('builds on debian:bookworm-slim, which has Python 3.11, not 3.13' in found[0].text
            and '--build-arg BASE=debian:trixie-slim' in found[0].text), found[0].text
    found = checks.findings(settled(project, venv(tmp_path, '3.12.1')))
    assert 'no Debian release has it' in found[0].text, found[0].text


def test_requirements_that_will_not_install(tmp_path):
    home = venv(tmp_path, '2.7.18',
                ('PEAK_Rules-0.5a1.dev_r2713-py2.7.egg-info',
                 'Metadata-Version: 1.0\nName: PEAK-Rules\nVersion: 0.5a1.dev-r2713\n'),
                ('TurboGears-1.5.1-py2.7.egg-info', 'Name: TurboGears\nVersion: 1.5.1\n'),
                ('mylib-0.1.dist-info', 'Name: mylib\nVersion: 0.1\n', 'file:///home/me/mylib'),
                ('newer-2.0.dist-info',
                 'Name: newer\nVersion: 2.0\nRequires-Python: >=3.6\n\nBody: x\n'))
    project = make_tg1(tmp_path / 'mysite', requirement='TurboGears >= 1.5.1')
    values = settled(project, home, tg_version='1.5')
    container.write(values, False)
    assert 'ARG BASE=debian:bullseye-slim' in (project / 'Containerfile').read_text()
    found = checks.findings(values)
    assert ids(found) == [checks.E_NOT_ON_PYPI, checks.E_NOT_ON_PYPI, checks.E_REQUIRES_PYTHON]
    texts = '\n'.join(f.text for f in found)
    assert 'PEAK-Rules 0.5a1.dev-r2713 is in the virtualenv, but PyPI lists PEAK-Rules with ' \
           'no files' in texts
    assert 'mylib 0.1 was installed from file:///home/me/mylib, not from an index' in texts
    assert 'newer 2.0 requires Python >=3.6; the image\'s Python is 2.7 ' \
           '(debian:bullseye-slim)' in texts  # bullseye's python3 is not the image's


def test_replicas_of_state_kept_in_one_file(tmp_path):
    project = make_tg2(tmp_path / 'shop')
    values = settled(project, venv(tmp_path, '3.11.2'))
    container.write(values, False)
    manifest = project / 'apache' / 'shop.kube.yaml'
    assert '  replicas: 1\n' in manifest.read_text()
    manifest.write_text(manifest.read_text().replace('  replicas: 1\n', '  replicas: 3\n'))
    found = checks.findings(values)
    assert ids(found) == [checks.E_REPLICAS]
    assert 'runs 3 replicas, but its database is SQLite' in found[0].text


@pytest.mark.parametrize('specifier, python, allowed', [
    ('>=3.6', '2.7', False), ('>=3.6', '3.11', True), ('>=2.7, !=3.0.*, !=3.1.*', '2.7', True),
    ('>=2.7, !=3.0.*, !=3.1.*', '3.1', False), ('<3.12', '3.13', False), ('~=3.8', '3.11', True),
    ('~=3.8', '2.7', False), ('==3.11.*', '3.11', True), ('>3.11', '3.11', False),
    ('>=3.11.2', '3.11', True),  # a patch level says nothing of a minor version's image
    ('', '3.11', True), ('>=3.x', '2.7', True),
])
def test_requires_python(specifier, python, allowed):
    assert checks.allows(specifier, python) == allowed
