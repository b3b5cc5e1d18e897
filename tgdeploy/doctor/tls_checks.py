"""The doctor's look at HTTPS and proxies: the operator's key and certificate (readable by
the daemon user? matching? expired? for this host name?) and a mod_wsgi old enough to refuse
--trust-proxy. The checks made before anything is written are settle/tls.py's.
"""
import os

from tgdeploy.doctor.modwsgi_file import module_version
from tgdeploy.files.access import access_problem, user_ids
from tgdeploy.settle.tls import openssl, pair_problem, read_pem

# WSGITrustedProxies and WSGITrustedProxyHeaders came in mod_wsgi 4.4.9.
TRUSTED_PROXY_MOD_WSGI = (4, 4, 9)


def findings(values, mod_wsgi=None):
    """[(level, text)] about HTTPS and proxies for the deployment ``values`` describes."""
    found = []
    if values.https.kind == 'own' and not values.paths.elsewhere:
        found += key_findings(values)
        found += certificate_findings(values)
    if values.proxies.trusted and mod_wsgi and os.path.isfile(mod_wsgi):
        version = module_version(mod_wsgi)
        if version and version < TRUSTED_PROXY_MOD_WSGI:
            found.append(('error', '%s is mod_wsgi %s, and --trust-proxy needs %s or later '
                                   '(WSGITrustedProxies): Apache refuses the config; install '
                                   'a newer mod_wsgi (pip install mod_wsgi) and load it'
                          % (mod_wsgi, '.'.join(str(n) for n in version),
                             '.'.join(str(n) for n in TRUSTED_PROXY_MOD_WSGI))))
    return found


def key_findings(values):
    key = values.https.ssl_key
    if read_pem(key) is None:
        return [('warning', 'cannot read --ssl-key %s as this user, so whether it matches the '
                            'certificate is unchecked: run the doctor as root' % key)]
    problem = pair_problem(values.https.ssl_certificate, key)
    found = [('error', problem)] if problem else []
    if user_can_read(key, values.daemon.user):
        found.append(('warning', '%s can read the private key %s: a compromised application '
                                 'would take the site\'s identity with it; Apache reads it as '
                                 'root: chown root:root %s && chmod 600 %s'
                      % (values.daemon.user, key, key, key)))
    return found


def certificate_findings(values):
    """Expiry and host name, as the openssl command sees them (skipped without it)."""
    certificate = values.https.ssl_certificate
    if read_pem(certificate) is None:
        return [('error', 'cannot read --ssl-certificate %s' % certificate)]
    found = []
    code, _ = openssl('x509', '-in', certificate, '-noout', '-checkend', '0')
    if code == 1:
        found.append(('error', 'the certificate %s has expired: renew it' % certificate))
    # OpenSSL 3.0 (Debian 12) exits 0 on a mismatch, 3.5 (Debian 13) exits 1: the text says.
    code, text = openssl('x509', '-in', certificate, '-noout', '-checkhost',
                         values.apache.server_name)
    if code in (0, 1) and 'does NOT match' in text:
        found.append(('error', 'the certificate %s is not for %s (browsers refuse it): use one '
                               'issued for that name, or --https acme'
                      % (certificate, values.apache.server_name)))
    return found


def user_can_read(path, user):
    """Whether ``user`` may read ``path`` (False for a user this machine does not have)."""
    ids = user_ids(user)
    return ids is not None and access_problem(path, ids[0], ids[1], os.R_OK) is None
