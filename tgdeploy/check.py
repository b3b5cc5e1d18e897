"""Step 5: check the result. --doctor reports what the doctor finds; --check adds the real
config in a private Apache (configtest, the application root, one static file); --serve
keeps that Apache running until Ctrl-C, SIGTERM or SIGHUP. Nothing is left running or changed
afterwards.
"""
import os
import shutil
import signal
import tempfile
import time

from tgdeploy import crawl, preflight, render
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
                        lambda apache: findings.extend(crawl.crawl(apache, values, out)),
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
