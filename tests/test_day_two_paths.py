"""Quote, don't refuse: a real `gearbox quickstart` project under "My Projects/shop éé/",
deployed by `paster tgdeploy` as its README says, served at / and /sub with its static
files (the CherryPy fixture's case is in tests/test_day_two.py)."""
import pytest

from conftest import paster
from support.sites import quickstart_tg2, setup_tg2_data


@pytest.mark.slow
def test_a_tg2_quickstart_under_spaces_and_accents(www_tmp, deploy_venv, apache_factory):
    parent = www_tmp / 'My Projects' / 'shop \u00e9\u00e9'
    parent.mkdir(parents=True)
    (www_tmp / 'My Projects').chmod(0o755)
    parent.chmod(0o755)
    project = parent / 'spaceapp'
    quickstart_tg2(deploy_venv, parent, 'spaceapp')
    for mount in ('/', '/sub'):
        paster(deploy_venv, 'tgdeploy', '-q', '--mount', mount, '--overwrite', cwd=project)
        conf = project / 'apache' / 'spaceapp.conf'
        assert '"%s"' % project in conf.read_text(encoding='utf-8')
        if mount == '/':
            setup_tg2_data(deploy_venv, project, project / 'apache' / 'spaceapp.ini')
        apache = apache_factory([conf])
        prefix = '' if mount == '/' else mount
        status, headers, _ = apache.start(prefix + '/')
        # The quickstart's front page redirects to its demo page, which uses the database.
        assert status == 302 and headers['Location'].endswith(prefix + '/demo'), status
        status, _, body = apache.get(prefix + '/demo')
        assert status == 200 and 'TurboGears' in body, (status, apache.error_log()[-3000:])
        css = sorted((project / 'spaceapp' / 'public' / 'css').glob('*.css'))[0]
        status, _, body = apache.get('%s/css/%s' % (prefix, css.name))
        with open(str(css), newline='') as f:
            assert (status, body) == (200, f.read())
        assert 'Traceback' not in apache.error_log()
        apache.stop()
