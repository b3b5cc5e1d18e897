"""Step 5: check the result. --doctor reports what the doctor finds; --check adds the real
config in a private Apache (configtest, the application root, one static file); --serve
keeps that Apache running until Ctrl-C, SIGTERM or SIGHUP. Nothing is left running or changed
afterwards.
"""
import os
import re
import shutil
import signal
import stat
import tempfile
import time

from tgdeploy import preflight, render
from tgdeploy.private_apache import PrivateApache, find_apache, free_port


def doctor(values, out, apache_root=None, mod_wsgi=None):
    """--doctor: the preflight findings for the deployment ``values`` describe."""
    return report_findings(preflight.examine(values, apache_root, mod_wsgi), out)


def check(values, out, apache_root=None, mod_wsgi=None):
    """--check, once apache/ is written: the doctor, then the real config in a private Apache."""
    out('')
    findings = preflight.examine(values, apache_root, mod_wsgi)
    started = time.time()
    with_private_apache(values, mod_wsgi or default_mod_wsgi(apache_root),
                        lambda apache: findings.extend(try_requests(apache, values, out)),
                        findings, out)
    out('check: took %.1f s' % (time.time() - started))
    return report_findings(findings, out)


def serve(values, out, apache_root=None, mod_wsgi=None):
    """--serve, once apache/ is written: run it in a private Apache until Ctrl-C, SIGTERM or
    SIGHUP, which all stop it the same way (exit code 0)."""
    findings = []

    def wait(apache):
        out('')
        out('Serving %s%s with the generated config (Ctrl-C stops it; log: %s)' % (
            apache.url, values['mount'], apache.error_log_path))
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            ignore_stop_signals()  # nothing cuts the cleanup short now
            out('Stopping')
    previous = catch_stop_signals()
    try:
        with_private_apache(values, mod_wsgi or default_mod_wsgi(apache_root), wait, findings,
                            out)
    finally:
        restore_signals(previous)
    return report_findings(findings, out) if findings else preflight.FINE


# Signals that end --serve like Ctrl-C does: a service manager's stop, a closed terminal.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class StopSignal(KeyboardInterrupt):
    """SIGTERM or SIGHUP while serving: a KeyboardInterrupt, so that wherever it lands it
    unwinds through with_private_apache's cleanup exactly as Ctrl-C does."""


def catch_stop_signals():
    """Make SIGTERM and SIGHUP raise StopSignal; return the handlers they had."""
    return dict((number, signal.signal(number, raise_stop)) for number in STOP_SIGNALS)


def raise_stop(number, frame):
    ignore_stop_signals()  # once: a second one must not cut short the cleanup of the first
    raise StopSignal()


def ignore_stop_signals():
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)


def restore_signals(previous):
    for number, handler in previous.items():
        # None: a handler set outside Python, which cannot be put back; the default can.
        signal.signal(number, signal.SIG_DFL if handler is None else handler)


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
    paths += [url for url in [static_probe(values)] if url]
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


# A name Apache serves as it is: no URL quoting needed, and no dot file (many configs deny
# those, Debian's .ht* for one), so the probe never reports a 403 or 404 of its own making.
PLAIN_NAME = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9._~-]*$')


def static_probe(values):
    """The URL of the first static file (folders walked in name order) Apache will serve:
    readable by the daemon user and reached through no symlink, which Options None refuses."""
    ids = preflight.user_ids(values['user'])
    for url, top in values['static_urls']:
        for relative in plain_files(top):
            path = os.path.join(top, relative) if relative else top
            if ids and preflight.access_problem(path, ids[0], ids[1], os.R_OK) is None:
                return url + ('/' + relative if relative else '')
    return None


def plain_files(top):
    """Relative paths of the regular files below ``top`` ('' for ``top`` itself) in name
    order, with plain names, symlinks neither taken nor followed."""
    if is_regular(top):
        yield ''
    for folder, dirs, files in os.walk(top):  # symlinked folders are listed, not entered
        dirs[:] = sorted(d for d in dirs if PLAIN_NAME.match(d))
        for name in sorted(files):
            path = os.path.join(folder, name)
            if PLAIN_NAME.match(name) and is_regular(path):
                yield os.path.relpath(path, top).replace(os.sep, '/')


def is_regular(path):
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def default_mod_wsgi(apache_root):
    root = apache_root or preflight.default_apache_root()
    loaded = root and preflight.loaded_mod_wsgi(preflight.included_files(root), root)
    return loaded or os.path.join(find_apache()[1], 'mod_wsgi.so')


def report_findings(findings, out):
    for finding in findings:
        out(str(finding))
    errors = len([f for f in findings if f.level == preflight.ERROR])
    warnings = len(findings) - errors
    out('tgdeploy: %d error(s), %d warning(s)%s' % (
        errors, warnings, ': this deployment will not work' if errors else ''))
    return preflight.exit_code(findings)
