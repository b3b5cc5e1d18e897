"""The whole pipeline for one project: detect -> settle options -> render -> install.

Both front ends (``paster tgdeploy`` and ``paster create -t tg_modwsgi``) call deploy();
it raises TgDeployError on bad input, before anything is written.
"""
import io
import os
import shutil

from tgdeploy import detect, install, options, render

# Options that steer detection rather than the generated files.
DETECT_OPTIONS = ('flavor', 'config', 'root')


def deploy(directory, given, simulate=False, overwrite=False, out=None):
    """Write (or with ``simulate``, describe) apache/ for the project in ``directory``.

    ``given`` maps option names (see options.OPTION_DEFAULTS and DETECT_OPTIONS) to the
    user's strings; ``out`` receives each line of the report. Returns the settled values.
    """
    out = out or (lambda line: None)
    given = dict(given)
    hints = dict((name, given.pop(name, None) or None) for name in DETECT_OPTIONS)
    project = detect.detect(directory, **hints)
    values = options.settle(project, given)
    target = values['apache_dir']
    staging = install.make_staging(target, simulate)
    try:
        new_dir = render.render(values, staging)
        changes = install.compare(new_dir, target)
        if simulate:
            for line in install.describe(changes, new_dir, target, overwrite):
                out(line)
            return values
        install.apply(changes, new_dir, target, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report(changes, values, out)
    return values


def report(changes, values, out):
    out('%s (%s) -> %s, %s mode, mounted at %s' % (
        values['project'], values['flavor_name'], values['apache_dir'], values['mode'],
        values['mount']))
    target = values['apache_dir']
    for verb, names in (('created', changes.new), ('updated', changes.updated),
                        ('replaced (your version saved as .bak)', changes.edited),
                        ('removed', changes.stale), ('kept your file', changes.kept)):
        for name in names:
            out('  %s %s' % (verb, os.path.join(target, name)))
    if not changes.writes_anything():
        out('  nothing changed')
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
