"""Step 5: check the result. --doctor reports what the doctor finds; --check adds the real
config in a private Apache (configtest, the application root, one static file); --serve
keeps that Apache running until Ctrl-C. Nothing is left running or changed afterwards.
"""
import os
import shutil
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
    """--serve, once apache/ is written: run it in a private Apache until Ctrl-C."""
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
