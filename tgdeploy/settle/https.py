"""HTTPS and the proxies in front: which virtual hosts the config holds and what each does,
the certificate (own files, or mod_md's with ACME), HSTS, and whose X-Forwarded-* headers
are believed. Options that would be ignored, or cannot work together, are refused.
"""
from tgdeploy.errors import TgDeployError
from tgdeploy.settle import proxies, tls
from tgdeploy.settle.checks import check_choice, check_count, check_path, dashed
from tgdeploy.settle.paths import folder
from tgdeploy.settle.table import OPTION_DEFAULTS

HTTPS_CHOICES = ('no', 'own', 'acme')
# The options that mean something only with --https, and with which kind of it.
HTTPS_ONLY_OPTIONS = ('ssl_certificate', 'ssl_key', 'ssl_chain', 'https_port', 'https_only',
                      'hsts', 'acme_email', 'acme_ca')
OWN_OPTIONS = ('ssl_certificate', 'ssl_key', 'ssl_chain')
ACME_OPTIONS = ('acme_email', 'acme_ca')
MAX_HSTS = 10 * 365 * 24 * 3600  # ten years; browsers cap it lower
# The headers a trusted proxy may set, as mod_wsgi names them (proxies.py).
TRUSTED_PROXY_HEADERS = proxies.TRUSTED_HEADERS


def settle_https(opts, given, values):
    """Fill the ``https`` and ``proxies`` groups of ``values`` (a Settled), the virtual
    hosts the config holds and what each does (``apache.hosts``), and whether cookies are
    marked Secure (``production.secure_cookies``)."""
    explicit = set(k for k, v in given.items() if v != OPTION_DEFAULTS.get(k))
    https = check_choice('https', opts['https'], HTTPS_CHOICES)
    refuse_https_mismatch(https, explicit, values)
    https = None if https == 'no' else https
    https_only = check_choice('https-only', opts['https_only'], ('yes', 'no')) == 'yes'
    https_port = check_count('https-port', opts['https_port'], 1, 65535)
    if https and https_port == values.apache.port:
        raise TgDeployError('--https-port %d is also the HTTP --port: give them different ports '
                            '(the defaults are 80 and 443)' % https_port)
    files = dict((name, https == 'own' and opts[name] and check_path(
        '--' + dashed(name), folder(opts[name], values.paths.project_dir, '')))
        for name in OWN_OPTIONS)
    if https == 'own' and not values.paths.elsewhere:
        tls.check_files(files['ssl_certificate'], files['ssl_key'], files['ssl_chain'])
    values.https.update(dict(
        files,
        kind=https,
        port=https_port,
        only=https_only,
        url=https and 'https://%s%s' % (values.apache.server_name, '' if https_port == 443
                                        else ':%d' % https_port),
        hsts=opts['hsts'] and check_count('hsts', opts['hsts'], 1, MAX_HSTS),
        acme_email=https == 'acme' and tls.check_acme_email(opts['acme_email']),
        acme_ca=https == 'acme' and opts['acme_ca'] and tls.check_acme_ca(opts['acme_ca'])))
    values.proxies.update(
        trusted=check_proxies(opts['trust_proxy'], check_choice(
            'trust-wide-networks', opts['trust_wide_networks'], ('yes', 'no')) == 'yes'),
        trusted_headers=TRUSTED_PROXY_HEADERS,
        # Unset before the application runs: from a trusted proxy too (proxies.py).
        untrusted_headers=proxies.untrusted_headers(
            TRUSTED_PROXY_HEADERS if opts['trust_proxy'] else ()))
    # Session and login cookies marked Secure: only where no page is served over HTTP.
    values.production.secure_cookies = https_only
    values.apache.hosts = virtual_hosts(https, https_only, values.apache.port, https_port)


def virtual_hosts(https, https_only, port, https_port):
    """[(port, tls, redirect, daemon)] of the virtual hosts the config holds: the HTTP one,
    which only redirects with --https-only, and the HTTPS one. The daemon processes are
    defined in the first host that serves the application (both share one ServerName, so
    both may use them)."""
    if not https:
        return [(port, False, False, True)]
    return [(port, False, https_only, not https_only), (https_port, True, False, https_only)]


def refuse_https_mismatch(https, explicit, values):
    """HTTPS options that would be ignored, or that cannot work together."""
    extra = sorted(explicit & set(HTTPS_ONLY_OPTIONS))
    if https == 'no' and extra:
        raise TgDeployError('--%s applies to HTTPS only: add --https own (with '
                            '--ssl-certificate and --ssl-key) or --https acme (with '
                            '--acme-email), or drop it' % dashed(extra[0]))
    if https == 'no':
        return
    if not values.apache.server_name:
        raise TgDeployError('--https needs --server-name: a certificate is for a host name, and '
                            'the HTTPS virtual host answers to it')
    if values.apache.version != '2.4':
        raise TgDeployError('--https writes for Apache 2.4 (TLS 1.3, mod_md): drop --apache %s'
                            % values.apache.version)
    other, needed = (ACME_OPTIONS, ('ssl_certificate', 'ssl_key')) if https == 'own' else \
        (OWN_OPTIONS, ('acme_email',))
    extra = sorted(explicit & set(other))
    if extra:
        raise TgDeployError('--%s does not apply to --https %s: drop it%s' % (
            dashed(extra[0]), https, ' (mod_md obtains the certificate)' if https == 'acme'
            else ''))
    missing = [name for name in needed if name not in explicit]
    if missing:
        raise TgDeployError('--https %s needs %s' % (https, ' and '.join(
            '--' + dashed(name) for name in missing)))


def check_proxies(given, wide=False):
    """--trust-proxy CIDR[,CIDR...]: addresses or networks, IPv4 or IPv6 (proxies.py)."""
    return proxies.check_proxies(given, wide)
