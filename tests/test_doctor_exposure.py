"""The doctor's warning for a project, output or data folder that another config serves: a
DocumentRoot or Alias above it in the Apache config tree (Debian's and RHEL's layouts, small
test trees), and the configs it must not count: ours, and aliases to the project's static
files."""
import pytest

from support.httpd import DEBIAN_WSGI
from support.projects import make_tg2, write
from tgdeploy.settle import options
from tgdeploy.doctor import exposure_checks, registry
from tgdeploy.doctor.apache_config import included_files
from tgdeploy.detect.arbiter import detect


@pytest.fixture
def www(tmp_path):
    """A web root with the project inside it, as /var/www/shop would be."""
    return tmp_path / 'www'


@pytest.fixture
def shop(www):
    return make_tg2(www / 'shop')


def settle(project, **given):
    return options.settle(detect(str(project)), given)


def exposure(values, tree):
    return exposure_checks.exposure_findings(values, str(tree), included_files(str(tree)))


def texts(findings):
    return [str(f) for f in findings]


def test_project_under_the_document_root_of_a_virtual_host(shop, www, tree):
    site = write(tree / 'sites-enabled' / '000-default.conf',
                 '<VirtualHost *:80>\n    ServerName example.com\n'
                 '    DocumentRoot "%s/"\n</VirtualHost>\n' % www)
    values = settle(shop)
    # One finding: apache/ and data/ are inside the project, so not listed again.
    assert texts(exposure(values, tree)) == [
        'warning: the project folder %s lies under DocumentRoot %s/ (in %s): the generated '
        'config denies it, but move the project out of %s (for example to /srv/shop) so no '
        'other config can serve its ini and data' % (shop, www, site, www)]


def test_the_finding_is_part_of_the_doctor(shop, www, tree):
    write(tree / 'sites-enabled' / '000-default.conf', 'DocumentRoot %s\n' % www)
    findings = registry.examine(settle(shop), str(tree), DEBIAN_WSGI)
    assert [f.level for f in findings if 'lies under DocumentRoot' in f.text] == ['warning']


def test_rhel_document_root_in_httpd_conf(shop, www, tmp_path):
    root = tmp_path / 'etc-httpd'
    conf = write(root / 'conf' / 'httpd.conf', 'ServerRoot "/etc/httpd"\n'
                                              'DocumentRoot "%s"\n' % www)
    findings = exposure(settle(shop), root)
    assert texts(findings) == [
        'warning: the project folder %s lies under DocumentRoot %s (in %s): the generated '
        'config denies it, but move the project out of %s (for example to /srv/shop) so no '
        'other config can serve its ini and data' % (shop, www, conf, www)]


def test_data_folder_under_an_alias(tmp_path, tree):
    shop = make_tg2(tmp_path / 'srv' / 'shop')
    files = tmp_path / 'files'
    conf = write(tree / 'conf-enabled' / 'files.conf', 'Alias /files/ "%s/"\n' % files)
    values = settle(shop, data_dir=str(files / 'shop-data'))
    assert texts(exposure(values, tree)) == [
        'warning: the data folder %s/shop-data lies under the folder of Alias /files/ %s/ (in '
        '%s): the generated config denies it, but deploy with --data-dir outside %s (for '
        'example --data-dir %s/data) and move the data there, so no other config can serve it'
        % (files, files, conf, files, shop)]


def test_output_folder_under_an_alias_match(tmp_path, tree):
    shop = make_tg2(tmp_path / 'srv' / 'shop')
    pub = tmp_path / 'pub'
    conf = write(tree / 'conf-enabled' / 'pub.conf',
                 'AliasMatch "^/pub/(.*)$" "%s/$1"\n' % pub)
    values = settle(shop, output_dir=str(pub / 'shop-apache'))
    assert texts(exposure(values, tree)) == [
        'warning: the output folder %s/shop-apache lies under the folder of AliasMatch '
        '^/pub/(.*)$ %s/$1 (in %s): the generated config denies it, but deploy with '
        '--output-dir outside %s (for example --output-dir %s/apache) so no other config '
        'can serve its ini' % (pub, pub, conf, pub, shop)]


def test_one_finding_per_exposed_folder(tmp_path, tree):
    shop = make_tg2(tmp_path / 'srv' / 'shop')
    pub = tmp_path / 'pub'
    write(tree / 'conf-enabled' / 'pub.conf', 'Alias /pub %s\nAlias /again %s/x\n' % (pub, pub))
    values = settle(shop, output_dir=str(pub / 'x' / 'apache'), data_dir=str(pub / 'data'))
    found = texts(exposure(values, tree))
    assert [text.split(' lies under ')[0] for text in found] == [
        'warning: the output folder %s/x/apache' % pub, 'warning: the data folder %s/data' % pub]


def test_the_example_place_is_not_served_either(shop, tree):
    write(tree / 'sites-enabled' / 'all.conf', 'DocumentRoot /\n')
    (found,) = texts(exposure(settle(shop), tree))
    assert found.endswith('move the project out of / so no other config can serve its ini '
                          'and data')


def test_what_is_not_above_the_project(shop, www, tree):
    """Debian's defaults, a commented document root, one below the project."""
    write(tree / 'mods-enabled' / 'alias.conf', 'Alias /icons/ "/usr/share/apache2/icons/"\n')
    write(tree / 'sites-enabled' / '000-default.conf',
          '<VirtualHost *:80>\n    DocumentRoot /var/www/html\n'
          '    #DocumentRoot %s\n    DocumentRoot %s/docs\n</VirtualHost>\n' % (www, shop))
    assert exposure(settle(shop), tree) == []


def test_our_own_config_does_not_count(shop, www, tree):
    values = settle(shop)
    # Ours, linked as README.txt says (its content here serves the whole web root).
    write(values.paths.conf_file, 'DocumentRoot %s\n' % www)
    (tree / 'sites-enabled' / 'shop.conf').symlink_to(values.paths.conf_file)
    assert exposure(values, tree) == []
    (tree / 'sites-enabled' / 'shop.conf').unlink()
    write(tree / 'sites-enabled' / 'shop.conf', 'DocumentRoot %s\n' % www)  # a copy counts
    assert len(exposure(values, tree)) == 1


def test_an_alias_to_the_projects_static_files_does_not_count(tmp_path, tree):
    shop = make_tg2(tmp_path / 'srv' / 'shop')
    public = shop / 'shop' / 'public'
    write(tree / 'conf-enabled' / 'static.conf', 'Alias /static %s\n' % public)
    values = settle(shop)
    # options refuses a data folder there; the doctor still blames no static alias for it.
    values.paths.data_dir = str(public / 'data')
    assert exposure(values, tree) == []
    write(tree / 'conf-enabled' / 'other.conf', 'Alias /other %s\n' % (shop / 'shop'))
    assert len(exposure(values, tree)) == 1
