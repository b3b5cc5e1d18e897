"""The corpus of published TurboGears applications (tests/corpus.txt, REAL-PROJECTS.md):
each one, fetched from PyPI into the lab, deployed at / and /sub, every config through a
real `apache2 -t`; a row that differs from the committed table fails (regenerate it with
scripts/real-projects after a deliberate change)."""
from pathlib import Path

import pytest

from support import corpus

TABLE = Path(__file__).resolve().parents[1] / 'REAL-PROJECTS.md'


@pytest.mark.parametrize('app', corpus.apps(), ids=lambda app: '%s-%s' % app[:2])
def test_row(app):
    name, version = app[:2]
    assert corpus.sdist(name, version), 'not fetched: run scripts/provision-py27'
    row = corpus.row(*app)
    assert corpus.row_line(row) == corpus.committed_row(str(TABLE), name, version)


@pytest.mark.parametrize('app', [a for a in corpus.apps() if a[0] in ('CBlog', 'SpammCan',
                                                                        'gibe', 'acr')],
                         ids=lambda app: app[0])
def test_deployed_at_both_mounts(app):
    """The applications tgdeploy must deploy: detected, and Apache takes both configs."""
    cells = corpus.row(*app)
    assert cells[1].startswith(('TurboGears 1.x: ', 'TurboGears 2: ')), cells
    assert cells[2] == cells[3] == 'apache2 -t: Syntax OK', cells
