"""The doctor's registry: every check, in the order their findings are shown, each giving
Findings with a stable id (ids.py).

A check is a function of the Tree (the deployment's values, the server's Apache tree, the
mod_wsgi it loads). The checks that live with the step whose knowledge they use (settle's
production, HTTPS, exposure and proxy findings; the log rotation and multi-host readings)
give (level, text) pairs; the registry names each pair's kind by the words its text always
holds (RULES: the first rule of its level that matches).
"""
from tgdeploy.doctor import (access_checks, exposure_checks, host_state, log_rotation,
                             own_deployment, python_checks, tls_checks, tree_checks)
from tgdeploy.doctor import container_checks, job_checks, server_hardening
from tgdeploy.settle import exposure, production, proxies
from tgdeploy.settle.paths import SYSTEM_DIRS
from tgdeploy.doctor.apache_config import (default_apache_root, directives, included_files,
                                           is_rhel_layout, loaded_mod_wsgi, words)
from tgdeploy.doctor.finding import Finding, level_of


class Tree(object):
    """What every check may look at: ``values`` (settle's), the Apache tree's root and the
    files it includes, the mod_wsgi module it loads (or the one --mod-wsgi names)."""

    def __init__(self, values, apache_root=None, mod_wsgi=None):
        self.values = values
        self.apache_root = apache_root or default_apache_root()
        self.config_files = included_files(self.apache_root) if self.apache_root else []
        self.mod_wsgi = mod_wsgi or loaded_mod_wsgi(self.config_files, self.apache_root)


# (id, words its text always holds) per producer of (level, text) pairs: the first rule of the
# pair's level whose words it holds names it. A text no rule names keeps no id (shown, but no
# --silence reaches it): tests/test_doctor_registry.py checks each rule's words against the
# strings its producer writes.
RULES = {
    'exposure': (('TGD-E017', 'writes a log under'), ('TGD-E016', ' publishes ')),
    'proxies': (('TGD-W004', 'and no WSGITrustedProxies'),
                ('TGD-W005', 'lets any client choose the host or path')),
    'log_rotation': (('TGD-W009', 'restarts Apache after each rotation'),
                     ('TGD-W010', 'may be written by others than root'),
                     ('TGD-E020', 'which is not installed'), ('TGD-E021', 'does not know'),
                     ('TGD-E022', 'rotatelogs cannot make it')),
    'production': (('TGD-W011', 'is also in the project\'s own files'),
                   ('TGD-W012', 'does not override it'), ('TGD-W013', '--secrets-from: '),
                   ('TGD-W014', 'links the webassets bundles'), ('TGD-W015', 'needs raven'),
                   ('TGD-W016', 'no error reports are configured'),
                   ('TGD-E023', 'has the application write ('),
                   ('TGD-E024', 'where the application writes at run time')),
    'tls': (('TGD-E025', '--trust-proxy needs'), ('TGD-E026', 'does not belong to'),
            ('TGD-E026', 'OpenSSL refuses them'), ('TGD-E027', 'cannot read --ssl-certificate'),
            ('TGD-E028', 'has expired'), ('TGD-E029', ' is not for '),
            ('TGD-W017', 'cannot read --ssl-key'), ('TGD-W018', 'can read the private key')),
    'replay': (('TGD-E030', 'replayed in each daemon process it cannot do'),
               ('TGD-E031', 'the start-up reads'), ('TGD-W019', 'the start-up reads'),
               ('TGD-W045', 'start-up stops itself')),
    'host_state': (('TGD-E032', 'sessions kept in each process\'s memory'),
                   ('TGD-E033', 'Beaker keeps sessions'), ('TGD-E034', 'SQLite database'),
                   ('TGD-E035', 'sessions in files on this host'),
                   ('TGD-E036', 'CherryPy keeps sessions'),
                   ('TGD-E037', 'gets secrets of its own'), ('TGD-W020', 'Beaker caches in')),
    'crawl': (('TGD-E039', 'outside the mount'),
              ('TGD-E040', 'see the error log lines above')),
}


def identified(pairs, producer):
    """Findings for (level, text) pairs (or id-less Findings) of ``producer`` (RULES)."""
    found = []
    for pair in pairs:
        level, text = (pair.level, pair.text) if isinstance(pair, Finding) else pair
        check_id = next((check_id for check_id, marker in RULES[producer]
                         if level_of(check_id) == level and marker in text), None)
        found.append(Finding(level, text, check_id))
    return found


def exposure_findings(tree):
    values = tree.values
    served = exposure_checks.served_folders(values, tree.apache_root, tree.config_files,
                                            own=True)
    logs = [(path, name, words(args)) for path in tree.config_files
            for name in exposure.LOG_DIRECTIVES for args in directives(path, name)]
    return identified(exposure.findings(values, served, SYSTEM_DIRS, logs, tree.apache_root),
                      'exposure')


def proxy_findings(tree):
    return identified(proxies.findings(
        [(path, directives(path, 'WSGITrustedProxyHeaders'),
          directives(path, 'WSGITrustedProxies')) for path in tree.config_files]), 'proxies')


def own_findings(tree):
    found = []
    for check_id, level, text in own_deployment.identified(tree.values):
        found += [Finding(level, text, check_id)] if check_id else identified(
            [(level, text)], 'replay')
    return found


# Every check, in the order the doctor shows their findings.
CHECKS = (
    lambda t: python_checks.python_findings(t.values, t.mod_wsgi),
    lambda t: python_checks.version_findings(t.values, t.mod_wsgi),
    lambda t: python_checks.embedded_python_findings(t.values, t.mod_wsgi, t.config_files),
    lambda t: access_checks.access_findings(t.values),
    lambda t: access_checks.write_location_findings(t.values),
    lambda t: tree_checks.daemon_name_findings(t.values, t.config_files),
    lambda t: tree_checks.mount_order_findings(t.values, t.apache_root, t.config_files),
    lambda t: tree_checks.same_mount_findings(t.values, t.config_files),
    lambda t: tree_checks.python_home_findings(t.values, t.config_files),
    lambda t: exposure_checks.exposure_findings(t.values, t.apache_root, t.config_files),
    exposure_findings,
    proxy_findings,
    lambda t: python_checks.locale_findings(t.values),
    lambda t: tree_checks.socket_prefix_findings(t.values, t.apache_root, t.config_files),
    lambda t: tree_checks.module_findings(t.values, t.config_files),
    lambda t: tree_checks.rewrite_scope_findings(t.values, t.config_files),
    lambda t: identified(log_rotation.findings(t.values, t.apache_root,
                                               is_rhel_layout(t.apache_root)), 'log_rotation'),
    lambda t: identified(production.doctor(t.values), 'production'),
    lambda t: identified(tls_checks.findings(t.values, t.mod_wsgi), 'tls'),
    lambda t: server_hardening.findings(t.values, t.apache_root, t.config_files, t.mod_wsgi),
    lambda t: job_checks.findings(t.values),
    lambda t: container_checks.findings(t.values),
    own_findings,
    lambda t: identified(host_state.findings(t.values, t.values.apache.host_count),
                         'host_state'),
)


def examine(values, apache_root=None, mod_wsgi=None):
    """Every finding for the deployment described by ``values`` (see settle)."""
    tree = Tree(values, apache_root, mod_wsgi)
    found = []
    for check in CHECKS:
        found += check(tree)
    return found
