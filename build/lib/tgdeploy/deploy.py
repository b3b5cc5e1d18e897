"""The whole pipeline for one project: detect -> settle options -> render -> install ->
check (doctor.py and a private Apache).

The front ends (``paster tgdeploy``, ``gearbox tgdeploy``, ``paster create -t tg_modwsgi``)
call deploy(), doctor(), check() or serve(); they raise TgDeployError on bad input, before
anything is written.
"""
import io
import os
import shutil
import tempfile
import time

from tgdeploy import detect, doctor as preflight, install, options, render
from tgdeploy.private_apache import PrivateApache, find_apache, free_port

# Options that steer detection rather than the generated files.
DETECT_OPTIONS = ('flavor', 'config', 'root')


def deploy(directory, given, simulate=False, overwrite=False, out=None):
    """Write (or with ``simulate``, describe) apache/ for the project in ``directory``.

    ``given`` maps option names (see options.OPTION_DEFAULTS and DETECT_OPTIONS) to the
    user's strings; ``out`` receives each line of the report. Returns the settled values.
    """
    out = out or (lambda line: None)
    values = settle(directory, given)
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


def run(action, directory, given, out, simulate=False, overwrite=False, apache_root=None,
        mod_wsgi=None):
    """What every front end does: ``action`` is None (write apache/), doctor, check or serve.
    Returns the exit code."""
    if action is None:
        deploy(directory, given, simulate=simulate, overwrite=overwrite, out=out)
        return 0
    if action == 'doctor':
        return doctor(directory, given, out, apache_root, mod_wsgi)
    act = check if action == 'check' else serve
    return act(directory, given, out, overwrite=overwrite, apache_root=apache_root,
               mod_wsgi=mod_wsgi)


def settle(directory, given):
    given = dict(given)
    hints = dict((name, given.pop(name, None) or None) for name in DETECT_OPTIONS)
    return options.settle(detect.detect(directory, **hints), given)


def doctor(directory, given, out, apache_root=None, mod_wsgi=None):
    """--doctor: the preflight findings for the deployment ``given`` describes; writes nothing."""
    findings = preflight.examine(settle(directory, given), apache_root, mod_wsgi)
    return report_findings(findings, out)


def check(directory, given, out, overwrite=False, apache_root=None, mod_wsgi=None):
    """--check: write apache/, run the doctor, then the real config in a private Apache."""
    values = deploy(directory, given, overwrite=overwrite, out=out)
    out('')
    findings = preflight.examine(values, apache_root, mod_wsgi)
    started = time.time()
    with_private_apache(values, mod_wsgi or default_mod_wsgi(apache_root),
                        lambda apache: findings.extend(try_requests(apache, values, out)),
                        findings, out)
    out('check: took %.1f s' % (time.time() - started))
    return report_findings(findings, out)


def serve(directory, given, out, overwrite=False, apache_root=None, mod_wsgi=None):
    """--serve: write apache/ and run it in a private Apache until Ctrl-C."""
    values = deploy(directory, given, overwrite=overwrite, out=out)
    findings = []

    def wait(apache):
        out('')
        out('Serving %s%s with the generated config (Ctrl-C stops it; log: %s)' % (
            apache.url, values['mount'], apache.error_log_path))
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            out('Stopping')
    with_private_apache(values, mod_wsgi or default_mod_wsgi(apache_root), wait, findings, out)
    return report_findings(findings, out) if findings else preflight.FINE


def with_private_apache(values, mod_wsgi, use, findings, out):
    """Run ``use(apache)`` against the generated config; stop Apache and clean up after."""
    root = tempfile.mkdtemp(prefix='tgdeploy-check-')
    os.chmod(root, 0o755)  # the daemon user must reach its sockets
    apache = None
    try:
        conf = values['conf_file']
        port = free_port()
        if values['server_name']:
            # The virtual host names its port: render the same config for the free one.
            conf = os.path.join(render.render(dict(values, port=port), root),
                                values['slug'] + '.conf')
        apache = PrivateApache(root, [conf], mod_wsgi, port=port, user=values['user'],
                               group=values['group'], log_level='warn')
        code, text = apache.configtest()
        syntax = ' '.join(text.split())
        out('check: %s -t: %s' % (apache.binary, syntax))
        if code != 0:
            findings.append(preflight.Finding(preflight.ERROR, 'Apache refuses the config: '
                                                               '%s' % syntax))
            return
        apache.start()
        use(apache)
    finally:
        if apache is not None:
            apache.stop()
        shutil.rmtree(root, ignore_errors=True)


def try_requests(apache, values, out):
    """GET the application root and one static file; a finding for each that fails."""
    findings = []
    paths = [values['mount'] if values['mount'] == '/' else values['mount'] + '/']
    paths += static_file_urls(values['static_urls'])[:1]
    for path in paths:
        started = time.time()
        status, _, _ = apache.wait_for_answer(path, host=values['server_name'] and
                                              '%s:%d' % (values['server_name'], apache.port))
        out('check: GET %s -> %d in %.3f s' % (path, status, time.time() - started))
        if status >= 400:
            findings.append(preflight.Finding(
                preflight.ERROR, 'GET %s answered %d: see the error log lines above and %s'
                % (path, status, values['conf_file'])))
            for line in apache.error_log().strip().splitlines()[-5:]:
                out('  | ' + line)
    return findings


def static_file_urls(static_urls):
    """URLs of the files Apache should serve itself, folders walked in name order."""
    found = []
    for url, path in static_urls:
        if os.path.isfile(path):
            found.append(url)
        for folder, dirs, files in os.walk(path):
            dirs.sort()
            found.extend('%s/%s' % (url, os.path.relpath(os.path.join(folder, name), path))
                         for name in sorted(files))
    return found


def default_mod_wsgi(apache_root):
    root = apache_root or preflight.default_apache_root()
    loaded = root and preflight.loaded_mod_wsgi(preflight.included_files(root))
    return loaded or os.path.join(find_apache()[1], 'mod_wsgi.so')


def report_findings(findings, out):
    for finding in findings:
        out(str(finding))
    errors = len([f for f in findings if f.level == preflight.ERROR])
    warnings = len(findings) - errors
    out('tgdeploy: %d error(s), %d warning(s)%s' % (
        errors, warnings, ': this deployment will not work' if errors else ''))
    return preflight.exit_code(findings)


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
