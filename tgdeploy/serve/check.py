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

from tgdeploy.serve import crawl

from tgdeploy.settle import options, tls

from tgdeploy.doctor import registry

from tgdeploy.write import render
from tgdeploy.doctor.apache_config import default_apache_root, included_files, loaded_mod_wsgi
from tgdeploy.doctor.finding import ERROR, FINE, finding
from tgdeploy.doctor.gate import Gate
from tgdeploy.errors import TgDeployError
from tgdeploy.serve.private_apache import PrivateApache, find_apache, free_port, private_folder


def doctor(values, out, apache_root=None, mod_wsgi=None, gate=None):
    """--doctor: the findings of every check (doctor/registry.py) for the deployment
    ``values`` describe; the exit code by the ``gate`` (doctor/gate.py: --fail-level, the
    ids silenced; by default the project's)."""
    gate = gate or Gate(values.paths.project_dir)
    return report_findings(registry.examine(values, apache_root, mod_wsgi), out, gate)


def check(values, out, apache_root=None, mod_wsgi=None, gate=None):
    """--check, once apache/ is written: the doctor, then the real config in a private Apache."""
    gate = gate or Gate(values.paths.project_dir)
    out('')
    findings = registry.examine(values, apache_root, mod_wsgi)
    started = time.time()
    with_private_apache(values, mod_wsgi or default_mod_wsgi(apache_root),
                        lambda apache: findings.extend(requests(apache, values, out)),
                        findings, out)
    out('check: took %.1f s' % (time.time() - started))
    return report_findings(findings, out, gate)


def requests(apache, values, out):
    """The crawl, over HTTPS when the deployment has it; with --https-only, the HTTP
    landing page must redirect there."""
    if not values.https.kind:
        return registry.identified(crawl.crawl(apache, values, out), 'crawl')
    findings = registry.identified(crawl.crawl(apache.over_https(), values, out), 'crawl')
    if values.https.only:
        findings += redirect_findings(apache, values, out)
    return findings


def redirect_findings(apache, values, out):
    status, headers, _ = apache.get(values.apache.mount, host=values.apache.server_name)
    location = headers.get('Location') or headers.get('location') or ''
    host, mount = values.apache.server_name, values.apache.mount
    out('check: GET http://%s%s -> %d %s' % (host, mount, status, location))
    # The private Apache listens on its own port: the redirect names the one configured.
    wanted = values.https.url + values.apache.mount
    if status != 301 or location != wanted:
        return [finding('TGD-E041', 'http://%s%s answered %d %s, not 301 to %s: see %s'
                        % (host, mount, status, location, wanted, values.paths.conf_file))]
    return []


def serve(values, out, apache_root=None, mod_wsgi=None, gate=None):
    """--serve, once apache/ is written: run it in a private Apache until Ctrl-C, SIGTERM or
    SIGHUP, which all stop it the same way (exit code 0)."""
    gate = gate or Gate(values.paths.project_dir)
    findings = []

    def wait(apache):
        out('')
        out('Serving %s%s with the generated config (Ctrl-C stops it; log: %s)' % (
            apache.url, values.apache.mount, apache.error_log_path))
        if values.https.kind:
            out('Over HTTPS: %s%s (Host: %s)' % (apache.over_https().url, values.apache.mount,
                                                 values.apache.server_name))
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
    return report_findings(findings, out, gate) if findings else FINE


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
        conf = values.paths.conf_file
        port = free_port()
        https_port = values.https.kind and free_port()
        if values.apache.server_name:
            # The virtual hosts name their ports: render the same config for free ones.
            private = values.replace(**private_ports(values, port, https_port))
            if values.https.kind == 'acme':
                private = private.replace(https=stand_in_certificate(values, root, out))
            # Rendered where only the operator may look: the ini there holds the secrets.
            conf = os.path.join(render.render(private, private_folder(os.path.join(
                root, 'conf'))), values.project.slug + '.conf')
        # Daemon mode: Apache's own processes need no Python, and one they cannot read (a
        # pyenv Python under root's home) kills each of them at start; the doctor tells the
        # real server's config the same.
        extra = 'WSGIRestrictEmbedded On' if values.apache.mode == 'daemon' else ''
        apache = PrivateApache(root, [conf], mod_wsgi, port=port, user=values.daemon.user,
                               group=values.daemon.group, log_level='warn', https_port=https_port,
                               extra=extra)
        code, text = apache.configtest()
        syntax = ' '.join(text.split())
        out('check: %s -t: %s' % (apache.binary, syntax))
        if code != 0:
            findings.append(finding('TGD-E038', 'Apache refuses the config: %s' % syntax))
            return
        apache.start()
        use(apache)
    finally:
        if apache is not None:
            apache.stop()
        shutil.rmtree(root, ignore_errors=True)


def stand_in_certificate(values, root, out):
    """--https acme: the private Apache must not ask the real certificate authority (an
    account, validations that cannot pass, its rate limits), so it serves HTTPS with a
    self-signed certificate made for the check and thrown away with it."""
    certificate, key = os.path.join(root, 'check.crt'), os.path.join(root, 'check.key')
    code, text = tls.openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                             '-subj', '/CN=' + values.apache.server_name, '-keyout', key,
                             '-out', certificate)
    if code != 0:
        raise TgDeployError('--check with --https acme needs the openssl command (%s): '
                            'install openssl' % (text.strip() or 'not installed'))
    out('check: HTTPS with a self-signed stand-in for the certificate mod_md will obtain')
    return {'kind': 'own', 'ssl_certificate': certificate, 'ssl_key': key, 'ssl_chain': None}


def private_ports(values, port, https_port):
    """The HTTPS values that name ports, for the private Apache's free ones (the redirect
    of --https-only keeps naming the configured HTTPS URL: it is only compared)."""
    if not values.https.kind:
        return {'apache': {'port': port, 'hosts': options.virtual_hosts(None, False, port, None)}}
    return {'https': {'port': https_port}, 'apache': {'port': port, 'hosts': options.virtual_hosts(
        values.https.kind, values.https.only, port, https_port)}}


def default_mod_wsgi(apache_root):
    root = apache_root or default_apache_root()
    loaded = root and loaded_mod_wsgi(included_files(root), root)
    return loaded or os.path.join(find_apache()[1], 'mod_wsgi.so')


def report_findings(findings, out, gate):
    """Each finding not silenced (its line, then its id), the counts; the exit code."""
    shown, silenced = gate.split(findings)
    for found in shown:
        out(str(found))
        if found.id:
            out('  id: ' + found.id)  # its title is in README.md: the line has said it
    errors = len([f for f in shown if f.level == ERROR])
    said = sorted(set(f.id for f in silenced))
    out('tgdeploy: %d error(s), %d warning(s)%s%s' % (
        errors, len(shown) - errors,
        ', %d silenced (%s)' % (len(silenced), ', '.join(said)) if silenced else '',
        ': this deployment will not work' if errors else ''))
    return gate.exit_code(shown)
