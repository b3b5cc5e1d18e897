"""Nothing served that publishes the system, a key, a secret or a log.

Before anything is written (refuse): no folder Apache serves for this deployment (an
--alias, a static folder, the document root) may be a system folder, lie in one of the
system's private trees, be a home folder, or hold the TLS key or chain, the --secrets-from
file, the data folder or the log folder; and the log folder may not lie inside anything
served (an access log carries the query strings: reset tokens, session ids).

The doctor (findings) says the same of the folders the configs Apache reads serve, those
written by hand included: a DocumentRoot, Alias or AliasMatch there.
"""
import os
import pwd

from tgdeploy.errors import TgDeployError

# Trees whose files are private to the system (keys, passwords, other logs, kernel state):
# no folder below them is served. Other system folders (/srv, /var/lib, /opt) may hold a
# folder of the deployment's own to serve, as long as it is not the system folder itself.
PRIVATE_TREES = ('/etc', '/root', '/boot', '/proc', '/sys', '/dev', '/run', '/var/log',
                 '/var/backups', '/var/spool', '/var/mail')


def served_folders(values):
    """(path, what) of every file or folder the generated config serves."""
    served = [(path, ('the static alias %s' if inside(path, values.paths.project_dir) else
                      '--alias %s') % url) for url, path in values.static.urls]
    if values.static.root:
        served.append((values.static.root, 'the static folder %s' % values.static.root))
    served.append((values.paths.htdocs_dir, 'the document root %s' % values.paths.htdocs_dir))
    return served


def refuse(values, system_dirs):
    """TgDeployError for the first served path that publishes what must stay private."""
    refuse_log_dir(values)
    for path, what in served_folders(values):
        problem = published(values, path, system_dirs)
        if problem:
            raise TgDeployError('%s (%s) %s: serve a folder of its own (an --alias to a '
                                'folder that holds only public files, such as /srv/%s/media)'
                                % (what, path, problem, values.project.slug))


def refuse_log_dir(values):
    log_path = values.logs.path
    if not log_path or values.logs.dir != log_path:
        return  # Apache's own log folder, in /var/log: published() refuses serving it
    for path, what in served_folders(values):
        if inside(log_path, path):
            raise TgDeployError('--log-dir %s lies inside %s, which Apache serves to anyone '
                                '(access logs carry every query string: reset tokens, session '
                                'ids): choose a folder outside it, such as /var/log/%s'
                                % (log_path, what, values.project.slug))


# What must not be served: (value, what it is, whether a served folder inside it is one).
SECRETS = (('https.ssl_key', 'the TLS key', False), ('https.ssl_chain', 'the TLS chain', False),
           ('production.secrets_from', 'the --secrets-from file', False),
           ('paths.data_dir', 'the data folder', True), ('logs.path', 'the log folder', True))


def published(values, path, system_dirs, secrets=SECRETS):
    """Why serving ``path`` publishes the system, a key, a secret or a log, or None."""
    for candidate in (path, os.path.realpath(path)):
        if candidate in system_dirs or any(inside(top, candidate) for top in system_dirs
                                           if top != '/') or candidate == '/':
            return 'is a system folder or holds one'
        # A folder there publishes all it holds, today's files and tomorrow's; one file named
        # on its own is the operator's choice (Apache reads it as the daemon user).
        tree = [top for top in PRIVATE_TREES if inside(candidate, top)]
        if tree and not os.path.isfile(candidate):
            return 'lies in %s, private to the system' % tree[0]
        if candidate in homes():
            return 'is a home folder (its keys, its history)'
    for key, name, below in secrets:
        private = values.lookup(key)
        if private and inside(private, path):
            return 'holds %s %s' % (name, private)
        if private and below and inside(path, private):
            return 'lies in %s %s' % (name, private)
    return None


def homes():
    return set(entry.pw_dir.rstrip('/') or '/' for entry in pwd.getpwall())


def inside(path, folder):
    """Whether ``path`` is ``folder`` or below it, as written or with symlinks resolved."""
    for p, f in ((path, folder), (os.path.realpath(path), os.path.realpath(folder))):
        p, f = os.path.normpath(p), os.path.normpath(f)
        if p == f or p.startswith(f.rstrip('/') + '/'):
            return True
    return False


# -- the doctor ---------------------------------------------------------------------------

# The directives that write a log file, and Debian's folder for ${APACHE_LOG_DIR}.
LOG_DIRECTIVES = ('ErrorLog', 'CustomLog', 'TransferLog', 'GlobalLog')
APACHE_LOG_DIR = ('${APACHE_LOG_DIR}', '/var/log/apache2')


def findings(values, served, system_dirs, logs=(), apache_root='/'):
    """[(level, text)] for the folders the Apache configs serve (``served``: (folder, how,
    config file), the generated config's own static aliases left out) and the log files
    they write (``logs``: (config file, directive, its arguments))."""
    found = []
    # The project, output and data folders have a finding of their own
    # (doctor/exposure_checks.EXPOSED).
    secrets = [s for s in SECRETS if s[0] != 'paths.data_dir']
    for folder, how, config in served:
        problem = published(values, folder, system_dirs, secrets)
        if problem:
            found.append(('error', '%s (in %s) publishes %s, which %s: anyone may download '
                                   'it; remove it or point it at a folder of public files only'
                          % (how, config, folder, problem)))
    for config, name, args in logs:
        target = args[0].replace(*APACHE_LOG_DIR) if args else '|'
        if target.startswith(('|', 'syslog')) or '${' in target:
            continue  # a piped logger, syslog, a variable this reading cannot resolve
        target = os.path.normpath(os.path.join(apache_root, target))
        where = [(how, in_config) for folder, how, in_config in served
                 if inside(target, folder)]
        if where:
            found.append(('error', '%s %s (in %s) writes a log under %s (in %s), which serves it '
                                   'to anyone (access logs carry every query string, reset '
                                   'tokens included): write it outside'
                          % (name, args[0], config, where[0][0], where[0][1])))
    return found
