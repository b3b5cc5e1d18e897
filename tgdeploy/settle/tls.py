"""HTTPS: the certificate and key an operator brings (--https own), checked before anything
is written (and again by the doctor: doctor/tls_checks.py).

Apache reads the key as root before it drops privileges, so the daemon user must not be
able to read it: a compromised application would otherwise take the site's identity with
it. Checks use Python's ssl module (2.7.9+ and 3.x) and, for what it cannot tell (expiry,
the host name), the openssl command when it is installed.
"""
import errno
import os
import re
import ssl
import subprocess

from tgdeploy.settle.checks import check_email
from tgdeploy.errors import TgDeployError

# What --ssl-certificate and friends may be: certificates and keys are small.
MAX_PEM_BYTES = 1024 * 1024
PEM_CERTIFICATE = re.compile(br'-----BEGIN CERTIFICATE-----')
PEM_KEY = re.compile(br'-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----')
# An ACME directory: https only (the account key and every order travel through it).
ACME_URL = re.compile(r'^https://[A-Za-z0-9._~:@/+-]+\Z')


# -- before anything is written ---------------------------------------------------------

def check_files(certificate, key, chain=None):
    """Refuse (TgDeployError) a missing file, a certificate or key that is not one, an
    encrypted key, or a key that does not match the certificate. A key this user may not
    read (root's, as it should be) is left to the doctor run as root."""
    for option, path, pattern, what in (
            ('ssl-certificate', certificate, PEM_CERTIFICATE, 'PEM certificate'),
            ('ssl-chain', chain, PEM_CERTIFICATE, 'PEM certificate'),
            ('ssl-key', key, PEM_KEY, 'PEM private key')):
        if path:
            check_pem(option, path, pattern, what)
    problem = pair_problem(certificate, key)
    if problem:
        raise TgDeployError(problem)


def check_pem(option, path, pattern, what):
    if not os.path.isfile(path):
        raise TgDeployError('--%s %s: no such file; give the path of the %s Apache is to use'
                            % (option, path, what))
    text = read_pem(path)
    if text is None:
        return  # not readable here: the doctor says so
    if len(text) > MAX_PEM_BYTES or not pattern.search(text):
        raise TgDeployError('--%s %s is not a %s (no "-----BEGIN" line of one): pass the PEM '
                            'file, not a DER or PKCS#12 one (openssl x509 -inform der / '
                            'openssl pkcs12 -nodes convert them)' % (option, path, what))
    if b'ENCRYPTED' in text and option == 'ssl-key':
        raise TgDeployError('--ssl-key %s is encrypted: Apache would ask for its passphrase at '
                            'every start; write a plain copy readable by root only: openssl '
                            'pkey -in %s -out KEY.pem && chmod 600 KEY.pem' % (path, path))


def read_pem(path):
    """The first bytes of ``path``, or None if this user may not read it."""
    try:
        with open(path, 'rb') as f:
            return f.read(MAX_PEM_BYTES + 1)
    except (IOError, OSError) as e:
        if e.errno in (errno.EACCES, errno.EPERM):
            return None
        raise


def pair_problem(certificate, key):
    """One line if the key does not belong to the certificate; None if it does, or if this
    user may not read the key."""
    if read_pem(key) is None or read_pem(certificate) is None:
        return None
    # A server context (3.6+); Python 2.7 has only the generic one.
    context = ssl.SSLContext(getattr(ssl, 'PROTOCOL_TLS_SERVER', ssl.PROTOCOL_SSLv23))
    try:
        # A callable password: an encrypted key fails here instead of prompting.
        context.load_cert_chain(certificate, key, password=no_password)
    except ssl.SSLError as e:
        reason = getattr(e, 'reason', None) or str(e)
        if 'KEY_VALUES_MISMATCH' in reason or 'mismatch' in str(e):
            return ('--ssl-key %s does not belong to --ssl-certificate %s (different key '
                    'pair): pass the key the certificate was issued for' % (key, certificate))
        return ('--ssl-certificate %s with --ssl-key %s: OpenSSL refuses them (%s): pass the '
                'PEM certificate and its unencrypted key' % (certificate, key, reason))
    return None


def no_password():
    return b''


def check_acme_email(value):
    """--acme-email, which MDContactEmail carries: a mail address Apache reads as written
    (it expands ${NAME} on every config line, quoted or not)."""
    if '${' in value:
        raise TgDeployError('--acme-email %r holds "${", which Apache expands as a variable on '
                            'every config line: give the address itself' % value)
    return check_email('acme-email', value)


def check_acme_ca(value):
    """--acme-ca, the ACME directory mod_md talks to: https only."""
    if not ACME_URL.match(value):
        raise TgDeployError('--acme-ca %r is not a URL such as https://acme-staging-v02.api.'
                            'letsencrypt.org/directory (https only: the ACME account and its '
                            'orders must not travel in clear)' % value)
    return value


def openssl(*args):
    """(exit code, output) of the openssl command; (None, '') if it is not installed."""
    try:
        proc = subprocess.Popen(('openssl',) + args, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    except OSError:
        return None, ''
    output = proc.communicate()[0]
    return proc.returncode, output.decode('utf-8', 'replace')
