"""A finding of the doctor: its stable id (ids.py), its level, one line of text naming the
problem and the exact fix. The exit code a list of them gives (--fail-level)."""

ERROR, WARNING = 'error', 'warning'
LEVELS = (WARNING, ERROR)  # from the mildest: --fail-level takes these names

# Exit codes of --doctor and --check (2 stays "bad input", as for every tgdeploy command).
FINE, WARNINGS, WILL_NOT_WORK = 0, 1, 3


class Finding(object):
    def __init__(self, level, text, id=None):
        self.level = level
        self.text = text
        self.id = id

    def __str__(self):
        return '%s: %s' % (self.level, self.text)

    def __repr__(self):
        return 'Finding(%r, %r, %r)' % (self.level, self.text, self.id)


def finding(check_id, text):
    """A finding of ``check_id``, whose letter says its level (TGD-E: error, TGD-W: warning)."""
    return Finding(level_of(check_id), text, check_id)


def level_of(check_id):
    return ERROR if check_id.startswith('TGD-E') else WARNING


def exit_code(findings, fail_level=WARNING):
    """3 with an error, 1 with a warning (0 when ``fail_level`` is error), else 0."""
    levels = set(f.level for f in findings)
    if ERROR in levels:
        return WILL_NOT_WORK
    return WARNINGS if WARNING in levels and fail_level == WARNING else FINE
