"""Writing apache/: user edits are never lost, --simulate writes nothing, failures leave the
previous folder intact."""
import os

import pytest

from support.projects import make_tg2, make_venv_marker
from tgdeploy import install
from tgdeploy.deploy import deploy
from tgdeploy.errors import TgDeployError


@pytest.fixture
def project(tmp_path):
    make_venv_marker(tmp_path / 'venv')
    return make_tg2(tmp_path / 'shop')


def run(project, simulate=False, overwrite=False, **given):
    lines = []
    given.setdefault('python_home', str(project.parent / 'venv'))
    deploy(str(project), given, simulate=simulate, overwrite=overwrite, out=lines.append)
    return lines


def snapshot(directory):
    return dict((str(p.relative_to(directory)), p.read_bytes())
                for p in sorted(directory.rglob('*')) if p.is_file())


def leftovers(project):
    return [name for name in os.listdir(str(project)) if name.startswith('.tgdeploy')]


def test_first_run_writes_files_and_manifest(project):
    lines = run(project)
    apache = project / 'apache'
    assert sorted(snapshot(apache)) == [install.MANIFEST, 'README.txt', 'shop.conf', 'shop.ini',
                                        'shop.wsgi']
    assert any(line.startswith('  created ') and line.endswith('shop.wsgi') for line in lines)
    assert 'Next steps' in lines
    assert not leftovers(project)


def test_rerun_with_new_options_updates_our_files(project):
    run(project)
    lines = run(project, mount='/shop')
    assert 'WSGIScriptAlias /shop ' in (project / 'apache' / 'shop.conf').read_text()
    assert any(line.startswith('  updated ') for line in lines)


def test_user_edit_is_kept_and_nothing_written(project):
    run(project)
    conf = project / 'apache' / 'shop.conf'
    conf.write_text(conf.read_text() + '# my tuning\n')
    before = snapshot(project / 'apache')
    with pytest.raises(TgDeployError, match='you edited .*shop.conf .*nothing was written.*'
                                            '--overwrite'):
        run(project, mount='/other')
    assert snapshot(project / 'apache') == before
    assert not leftovers(project)


def test_overwrite_replaces_the_edit_and_keeps_a_backup(project):
    run(project)
    conf = project / 'apache' / 'shop.conf'
    edited = conf.read_text() + '# my tuning\n'
    conf.write_text(edited)
    run(project, overwrite=True)
    assert '# my tuning' not in conf.read_text()
    assert (project / 'apache' / 'shop.conf.bak').read_text() == edited
    run(project)  # the .bak is the user's file now: kept, and no complaint
    assert (project / 'apache' / 'shop.conf.bak').exists()
    conf.write_text(conf.read_text() + '# second tuning\n')
    run(project, overwrite=True)  # a second backup does not replace the first
    assert (project / 'apache' / 'shop.conf.bak').read_text() == edited
    assert (project / 'apache' / 'shop.conf.bak1').read_text().endswith('# second tuning\n')


def test_simulate_writes_nothing_and_shows_the_diff(project):
    assert run(project, simulate=True)[0].startswith('would create ')
    assert not (project / 'apache').exists()
    run(project)
    before = snapshot(project / 'apache')
    lines = run(project, simulate=True, mount='/shop')
    assert snapshot(project / 'apache') == before
    assert any(line.startswith('would update ') and line.endswith('shop.conf') for line in lines)
    assert any(line.startswith('    +WSGIScriptAlias /shop ') for line in lines)
    assert not leftovers(project)


def test_files_the_user_added_are_carried_over(project):
    run(project)
    (project / 'apache' / 'ssl.conf').write_text('# mine\n')
    run(project, mount='/shop')
    assert (project / 'apache' / 'ssl.conf').read_text() == '# mine\n'


def test_files_no_longer_generated_are_removed(project):
    run(project)
    (project / 'production.ini').write_text('[DEFAULT]\ndebug = false\n[app:main]\nuse = egg:shop\n')
    lines = run(project)
    assert not (project / 'apache' / 'shop.ini').exists()
    assert any(line.startswith('  removed ') for line in lines)


def test_failure_half_way_leaves_previous_folder(project, monkeypatch):
    run(project)
    before = snapshot(project / 'apache')
    real_rename = os.rename
    calls = []

    def failing_rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the new folder going into place
            raise OSError(28, 'No space left on device')
        return real_rename(src, dst)

    monkeypatch.setattr(os, 'rename', failing_rename)
    with pytest.raises(OSError):
        run(project, mount='/shop')
    monkeypatch.undo()
    assert snapshot(project / 'apache') == before
    assert not leftovers(project)


def test_template_error_leaves_previous_folder(project, monkeypatch):
    run(project)
    before = snapshot(project / 'apache')
    from tgdeploy import render

    def broken_render(values, staging):
        os.makedirs(os.path.join(staging, 'apache'))
        raise RuntimeError('disk gone')

    monkeypatch.setattr(render, 'render', broken_render)
    with pytest.raises(RuntimeError):
        run(project, mount='/shop')
    assert snapshot(project / 'apache') == before
    assert not leftovers(project)


def test_damaged_manifest_vouches_for_nothing(project):
    run(project)
    (project / 'apache' / install.MANIFEST).write_text('{not json')
    conf = project / 'apache' / 'shop.conf'
    with pytest.raises(TgDeployError, match='you edited'):
        run(project, mount='/shop')
    assert 'WSGIScriptAlias / ' in conf.read_text()
