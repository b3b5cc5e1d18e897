"""The whole pipeline for one project: detect -> settle options -> render -> install,
then, when asked, check (check.py).

The front ends (``paster tgdeploy``, ``gearbox tgdeploy``, ``paster create -t tg_modwsgi``)
call run() or deploy(); they raise TgDeployError on bad input, before anything is written.
"""
import contextlib
import io
import os

from tgdeploy.serve import check, diagnose, reload
from tgdeploy.serve import status as status_action

from tgdeploy.detect.arbiter import detect

from tgdeploy.write import container, install, render

from tgdeploy.settle import options
from tgdeploy.settle.table import DETECT_OPTIONS

from tgdeploy.doctor import own_deployment
from tgdeploy.doctor.gate import GATED, Gate
from tgdeploy.settle import installed
from tgdeploy.errors import TgDeployError
from tgdeploy.files.os_errors import describe_os_error

def deploy(directory, given, simulate=False, overwrite=False, out=None):
    """Write (or with ``simulate``, describe) apache/ for the project in ``directory``.

    ``given`` maps option names (settle/table.py: OPTION_DEFAULTS and DETECT_OPTIONS) to the
    user's strings; ``out`` receives each line of the report. Returns the settled values.
    """
    out = out or (lambda line: None)
    with os_errors_as_one_line():
        values = settle(directory, given)
    with os_errors_as_one_line(values.paths.apache_dir):
        if simulate:
            changes, lines = install.simulate(values, overwrite, render.render)
            for line in lines:
                out(line)
            install.refuse_edits(changes, values.paths.apache_dir, overwrite)
            return values
        changes, entries = install.write(values, overwrite, render.render)
        report(changes, entries, values, out)
    return values


def run(action, directory, given, out, simulate=False, overwrite=False, apache_root=None,
        mod_wsgi=None, since=None, fail_level=None, silence=None, no_import_check=None,
        format=None):
    """What every front end does: ``action`` is None (write apache/), doctor, check, serve
    or reload (signals the running daemons; writes nothing).
    Returns the exit code."""
    refuse_unused(action, since, fail_level, silence)
    if no_import_check == 'yes' and action != 'reload':
        raise TgDeployError('--no-import-check applies to --reload only: add --reload, or '
                            'drop it')
    with os_errors_as_one_line():
        if action == 'status' or format not in (None, ''):  # asks the endpoint; writes nothing
            return status_action.run(action, settle(directory, given), out, format)
        if action == 'diagnose':  # reads the logs; writes nothing
            return diagnose.diagnose(settle(directory, given), out,
                                     diagnose.minutes(since))
        if action == 'reload':  # --simulate: the release check alone, nothing signalled
            return reload.reload(settle(directory, given), out, simulate=simulate,
                                 import_check=no_import_check != 'yes')
        # --fail-level and the ids silenced, checked before anything is written.
        gate = Gate(directory, fail_level, silence) if action in GATED else None
        return run_action(action, directory, given, out, simulate, overwrite, apache_root,
                          mod_wsgi, gate)


def refuse_unused(action, since, fail_level, silence):
    """The doctor's options given without the action that reads them are bad input, not
    silently dropped."""
    if since not in (None, '') and action != 'diagnose':
        raise TgDeployError('--since applies to --diagnose only: add --diagnose, or drop it')
    if (fail_level or silence) and action not in GATED:
        raise TgDeployError('--%s applies to --doctor, --check and --serve only: add one of '
                            'them, or drop it' % ('fail-level' if fail_level else 'silence'))


def run_action(action, directory, given, out, simulate, overwrite, apache_root, mod_wsgi,
               gate=None):
    if action == 'doctor':
        return check.doctor(settle(directory, given), out, apache_root, mod_wsgi, gate)
    if action == 'container':  # write/container.py: apache/ plus the image's files
        values = settle(directory, given)
        if simulate:
            return container.simulate(values, overwrite, out)
        with os_errors_as_one_line(values.paths.apache_dir):
            return container.run(values, overwrite, out, report)
    if action and simulate:
        raise TgDeployError('--simulate writes nothing, so there is nothing to --%s: drop one '
                            'of the two' % action)
    values = deploy(directory, given, simulate=simulate, overwrite=overwrite, out=out)
    if action is None:
        return 0
    act = check.check if action == 'check' else check.serve
    return act(values, out, apache_root, mod_wsgi, gate)


def settle(directory, given):
    given = dict(given)
    hints = dict((name, given.pop(name, None) or None) for name in DETECT_OPTIONS)
    return options.settle(detect(directory, **hints), given)


@contextlib.contextmanager
def os_errors_as_one_line(where=None):
    """Whatever the file system says (EACCES, ENOSPC, EROFS, ELOOP...) ends as one line,
    naming the path (``where`` when the error names none: a write on a full disk)."""
    try:
        yield
    except EnvironmentError as e:
        raise TgDeployError(describe_os_error(e, where))


def report(changes, entries, values, out):
    out('%s (%s) -> %s, %s mode, mounted at %s' % (
        values.project.name, values.project.flavor_name, values.paths.apache_dir,
        values.apache.mode, values.apache.mount))
    for line in values.project.evidence:
        out('  seen: ' + line)
    for line in own_deployment.seen(values):
        out('  seen: %s (--doctor says what they do that this deployment does not)' % line)
    target = values.paths.apache_dir
    for verb, names in (('created', changes.new), ('updated', changes.updated),
                        ('replaced (your version saved as .bak)', changes.edited),
                        ('removed', changes.stale),
                        ('kept your', changes.kept_to_report(entries))):
        for name in names:
            out('  %s %s' % (verb, os.path.join(target, name)))
    if not changes.writes_anything():
        out('  nothing changed')
    for path in changes.foreign:
        out('  left alone %s: not a staging folder tgdeploy made (another user\'s, or another '
            'mode than 0700); remove it if it is yours to remove' % path)
    secrets_from = values.production.secrets_from
    warning = secrets_from and installed.others_may_read(secrets_from)
    if warning:
        out('  warning: --secrets-from %s' % warning)
    if values.production.changes:
        out('  production settings (secrets never shown):')
        for line in values.production.changes:
            out('    ' + line)
    out('')
    for line in next_steps(os.path.join(target, 'README.txt')):
        out(line)


def next_steps(readme):
    """The "Next steps" section of the README just written, to print it as well."""
    with io.open(readme, encoding='utf-8') as f:
        text = f.read()
    start = text.index('Next steps\n')
    end = text.index('\nReference\n', start)
    return text[start:end].rstrip().splitlines()
