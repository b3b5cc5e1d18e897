"""Text in any encoding (tgdeploy/files/textfiles.py): the project's files read in UTF-8, UTF-8 with a
BOM, Latin-1 or Windows-1252 with or without a coding line, on Python 3 and 2.7; the derived
configs written back in their source's encoding. Property tests over the reading paths (the
bytes rule, configs, detection and settling, the whole deploy and its --simulate), run here and
under the 2.7 lab's Python; the real TurboGears 1.5 quickstart with an accented dev.cfg is in
tests/test_encodings_tg1.py."""
import io
import json
import re
import shutil

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from support.projects import make_tg1, make_tg2, make_venv_marker
from support.venv import run
from tgdeploy.files import textfiles
from tgdeploy.cli.deploy import deploy
from tgdeploy.detect.projectfiles import read_config
from test_pythons import env_for, lab_venv

# What a French, Spanish or German user writes in a comment or a value, and beyond.
WORDS = st.text(st.characters(blacklist_categories=('Cs', 'Cc', 'Zl', 'Zp'),
                              blacklist_characters='"\\%'), min_size=1, max_size=20)
EUROPEAN = st.text(st.sampled_from(u'aeiou éèêàçñüöäßÉÀ€œ’«»¿¡'), min_size=1, max_size=20)
# (codec, what goes first in the file) — a file says its encoding by a BOM, a coding line, or
# nothing at all.
FORMS = [('utf-8', b''), ('utf-8-sig', b''), ('latin-1', b'# -*- coding: latin-1 -*-\n'),
         ('cp1252', b'# -*- coding: cp1252 -*-\n'), ('latin-1', b''), ('cp1252', b''),
         ('utf-8', b'# -*- coding: utf-8 -*-\n')]
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def encoded(text, codec, first=b''):
    data = first + text.encode(codec)
    if codec == 'utf-8-sig':  # the BOM goes before the coding line, if any
        data = text.encode('utf-8-sig')
    return data


@given(st.binary(max_size=300))
@settings(max_examples=400, deadline=None)
def test_any_bytes_decode_and_encode_back(data):
    text, encoding = textfiles.decode(data)
    assert '\r' not in text
    if b'\r' not in data and encoding not in ('utf-16', 'utf-32'):
        assert textfiles.encode(text, encoding) == data
    assert textfiles.decode(textfiles.encode(text, encoding).replace(b'\r', b''))[0] == \
        text.replace('\r', '')


@given(st.text(max_size=200), st.sampled_from(FORMS))
@settings(max_examples=400, deadline=None)
def test_text_comes_back_from_every_form(text, form):
    codec, first = form
    text = text.replace('\r', '')
    try:
        data = encoded(text, codec, first)
    except UnicodeEncodeError:
        assume(False)
    if not first and codec in ('latin-1', 'cp1252'):
        # Without a coding line, bytes that are valid UTF-8 are read as UTF-8: that is the rule.
        try:
            data.decode('utf-8')
            assume(False)
        except UnicodeDecodeError:
            pass
        # ... and Latin-1's C1 controls as the Windows-1252 letters a user meant.
        assume(not re.search(u'[\x80-\x9f]', text))
    expected = first.decode('ascii') + text if codec != 'utf-8-sig' else text
    assert textfiles.decode(data)[0] == expected


def test_coding_lines_that_are_not_the_file_s_encoding_are_passed_over():
    assert textfiles.decode(b'# coding: utf-16\nx = "\xc3\xa9"\n') == (
        u'# coding: utf-16\nx = "\xe9"\n', 'utf-8')
    assert textfiles.decode(b'# coding: rot13\nx\n')[1] == 'utf-8'
    assert textfiles.decode(b'# coding: no-such-codec\nx\n')[1] == 'utf-8'
    assert textfiles.decode(b'x = 1\n# coding: latin-1\n\xe9')[1] == 'cp1252'  # not line 1 or 2
    assert textfiles.decode(b'\xef\xbb\xbfx = "\xc3\xa9"\r\n') == (u'x = "\xe9"\n', 'utf-8-sig')
    assert textfiles.decode(b'x = "\x81\xe9"') == (u'x = "\x81\xe9"', 'latin-1')


@pytest.mark.parametrize('codec, first', FORMS)
def test_read_config_takes_every_form(tmp_path, codec, first):
    path = tmp_path / 'dev.cfg'
    path.write_bytes(encoded(u'[global]\n# Paramètres\ntitre = "Café crème"\n', codec, first))
    assert read_config(str(path)).get('global', 'titre') == u'"Café crème"'


def tg1_project(directory, comment, value, codec, first):
    """A TurboGears 1.x project whose dev.cfg holds ``comment`` and ``value`` in ``codec``."""
    site = make_tg1(directory, requirement='TurboGears >= 1.5')
    cfg = site / 'dev.cfg'
    text = cfg.read_text().replace('[global]\n', u'[global]\n# %s\nmysite.titre = "%s"\n'
                                   % (comment, value), 1)
    cfg.write_bytes(encoded(text, codec, first))
    return site


def tg2_project(directory, comment, value, codec, first):
    site = make_tg2(directory)
    ini = site / 'development.ini'
    text = ini.read_text().replace('[app:main]\n', u'[app:main]\n# %s\nshop.titre = %s\n'
                                   % (comment, value), 1)
    ini.write_bytes(encoded(text, codec, first))
    return site


MAKERS = {'tg1': (tg1_project, 'mysite.cfg', u'mysite.titre = "%s"'),
          'tg2': (tg2_project, 'shop.ini', u'shop.titre = %s')}


def deployable(codec, first, *texts):
    try:
        data = encoded(u' '.join(texts), codec, first)
    except UnicodeEncodeError:
        return False
    if not first and codec in ('latin-1', 'cp1252'):
        try:
            data.decode('utf-8')
            return False  # read as UTF-8 by the rule: another encoding than meant
        except UnicodeDecodeError:
            return True
    return True


def assert_derived_keeps(site, flavor, value, codec):
    """The derived config holds the setting line byte for byte as the source has it (its
    encoding kept), and reads back as the text."""
    _, derived_name, setting = MAKERS[flavor]
    derived = (site / 'apache' / derived_name).read_bytes()
    assert (setting % value).encode(codec.replace('-sig', '')) in derived.splitlines()
    assert textfiles.decode(derived)[0].splitlines().count(setting % value) == 1
    if codec == 'utf-8-sig':
        assert derived.startswith(b'\xef\xbb\xbf')


@pytest.mark.parametrize('flavor', sorted(MAKERS))
@given(comment=st.one_of(WORDS, EUROPEAN), value=EUROPEAN, form=st.sampled_from(FORMS))
@FAST
def test_deploy_and_simulate_in_any_encoding(tmp_path_factory, flavor, comment, value, form):
    codec, first = form
    assume(deployable(codec, first, comment, value))
    root = tmp_path_factory.mktemp('enc')
    make_venv_marker(root / 'venv')
    site = MAKERS[flavor][0](root / 'site', comment, value, codec, first)
    given = {'python_home': str(root / 'venv'), 'mount': '/sub'}
    lines = []
    deploy(str(site), dict(given), simulate=True, out=lines.append)
    assert not (site / 'apache').exists()
    deploy(str(site), dict(given), out=lines.append)
    assert_derived_keeps(site, flavor, value, codec)
    # A second run finds its own files unchanged (the recoded config included).
    lines = []
    deploy(str(site), dict(given), simulate=True, out=lines.append)
    assert not [line for line in lines if line.startswith('would') and
                MAKERS[flavor][1] in line], lines


# -- Python 2.7 ----------------------------------------------------------------------------

# Runs under the 2.7 lab's Python: deploys each prepared project (simulate, then for real),
# printing one JSON line of failures.
DEPLOY_ALL = r'''
import io, json, os, sys, traceback
from tgdeploy.cli.deploy import deploy
failures = {}
for name in sorted(os.listdir(sys.argv[1])):
    project = os.path.join(sys.argv[1], name)
    given = {'python_home': sys.prefix, 'mount': '/sub'}
    out = io.StringIO()
    try:
        deploy(project, dict(given), simulate=True, out=lambda line: out.write(line + u'\n'))
        deploy(project, dict(given), out=lambda line: out.write(line + u'\n'))
    except BaseException:
        failures[name] = traceback.format_exc()
print(json.dumps(failures))
'''


def test_deploy_in_any_encoding_under_python27(tmp_path):
    """The same property under Python 2.7 (where TurboGears 1 users are): hypothesis draws the
    cases here, the 2.7 lab deploys them all in one process."""
    venv = lab_venv('2.7')
    cases = []

    @given(flavor=st.sampled_from(sorted(MAKERS)), comment=st.one_of(WORDS, EUROPEAN),
           value=EUROPEAN, form=st.sampled_from(FORMS))
    @settings(max_examples=30, deadline=None, database=None)
    def collect(flavor, comment, value, form):
        if deployable(form[0], form[1], comment, value):
            cases.append((flavor, comment, value, form))

    collect()
    assert len(cases) >= 10
    projects = tmp_path / 'projects'
    for number, (flavor, comment, value, (codec, first)) in enumerate(cases):
        MAKERS[flavor][0](projects / ('%02d' % number), comment, value, codec, first)
    script = tmp_path / 'deploy_all.py'
    script.write_text(DEPLOY_ALL)
    proc = run([venv.python, script, projects], cwd=tmp_path, env=env_for(venv))
    failures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert failures == {}, '\n'.join('%s %r: %s' % (name, cases[int(name)], trace)
                                     for name, trace in sorted(failures.items()))
    for number, (flavor, comment, value, (codec, first)) in enumerate(cases):
        assert_derived_keeps(projects / ('%02d' % number), flavor, value, codec)
