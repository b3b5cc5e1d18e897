"""What the doctor's exit code counts: --fail-level, and the known, accepted findings an
operator silences, with --silence ID on the command line or in the project's setup.cfg,
where setuptools-era tools keep their settings:

    [tgdeploy]
    silence = TGD-W016 TGD-W009

A silenced finding is left out of the lines, the counts and the exit code; the summary
line still says how many were silenced, and which. An id the doctor does not know, or a
level it does not have, is bad input.
"""
import os
import re

from tgdeploy.detect.projectfiles import check_small_file, read_config
from tgdeploy.doctor.finding import LEVELS, WARNING, exit_code
from tgdeploy.doctor.ids import TITLES
from tgdeploy.errors import TgDeployError

# The actions whose exit code the gate decides.
GATED = ('doctor', 'check', 'serve')
PROJECT_FILE = 'setup.cfg'
SECTION, KEY = 'tgdeploy', 'silence'


class Gate(object):
    """--fail-level (warning, the default: any warning fails; error: only errors do) and the
    silenced ids, checked before the doctor looks at anything."""

    def __init__(self, project_dir, fail_level=None, silence=None):
        self.fail_level = checked_level(fail_level)
        self.silenced = silenced_ids(silence, os.path.abspath(project_dir))

    def split(self, findings):
        """(findings shown, findings silenced)."""
        ids = set(self.silenced)
        return ([f for f in findings if f.id not in ids], [f for f in findings if f.id in ids])

    def exit_code(self, shown):
        return exit_code(shown, self.fail_level)


def checked_level(level):
    if level is None:
        return WARNING
    if level.lower() not in LEVELS:
        raise TgDeployError('--fail-level %s: say warning (any warning fails, the default) or '
                            'error (only errors fail)' % level)
    return level.lower()


def silenced_ids(given, project_dir):
    """The ids to silence: the project's (setup.cfg) and those ``given`` (--silence, each
    one id or several separated by commas or spaces)."""
    ids = project_ids(project_dir)
    for value in given or ():
        ids += checked(split(value), '--silence %s' % value)
    return ids


def project_ids(project_dir):
    path = os.path.join(project_dir, PROJECT_FILE)
    if not os.path.isfile(path):
        return []
    parser = read_config(check_small_file('the silenced ids in', path))
    if not parser.has_option(SECTION, KEY):
        return []
    return checked(split(parser.get(SECTION, KEY)), '%s = in [%s] of %s' % (KEY, SECTION, path))


def split(text):
    """The ids of a list written with spaces, commas or lines; a comment (``;`` or ``#``
    after a space or at a line's start) ends its line, as Python 2.7's ConfigParser reads
    it, on every Python."""
    text = re.sub(r'(^|\s)[;#].*', '', text, flags=re.M)
    return [word for word in re.split(r'[\s,]+', text) if word]


def checked(ids, where):
    """The ids, upper-cased; a TgDeployError naming the first one the doctor does not know."""
    ids = [check_id.upper() for check_id in ids]
    unknown = [check_id for check_id in ids if check_id not in TITLES]
    if unknown:
        raise TgDeployError('%s: %s is not a doctor finding id (TGD-E001, TGD-W016...): see '
                            'the list in README.md, "The doctor\'s findings"'
                            % (where, unknown[0]))
    return ids
