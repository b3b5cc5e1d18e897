"""--service NAME=package.module[:function]: code that must run once, not once per daemon
process (a scheduler, a background thread started at import), run in a daemon process group
of its own.

Each service gets a WSGIDaemonProcess of one process and one thread, with the application
group's user, group, Python, home and locale, and a WSGIImportScript that runs the
deployment's service script (``apache/<slug>-services.py``) in it when Apache starts: the
script sets up the application's sys.path and environment, sets
``TGDEPLOY_SERVICE_PROCESS=NAME``, imports the module and, given a function, calls it without
arguments. The application's own processes get ``TGDEPLOY_SERVICES`` (the names, separated
by spaces) before the application is imported: code that starts a job checks that its name
is not in it (README: Running it: jobs that run once). mod_wsgi-express's --service-script
is the model.

settle() adds the services to the settled values (``daemon.services``); the templates
``+slug+-services.conf_tmpl`` and ``+slug+-services.py_tmpl`` write them.
"""
import os
import re

from tgdeploy.errors import TgDeployError

NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]{0,31}\Z')
IDENTIFIER = r'[A-Za-z_][A-Za-z0-9_]*'
MODULE = re.compile(r'^%s(\.%s)*\Z' % (IDENTIFIER, IDENTIFIER))
FUNCTION = re.compile(r'^%s\Z' % IDENTIFIER)
# The environment variables of the mechanism: the application's processes get the first,
# a service's process the second.
APP_VARIABLE = 'TGDEPLOY_SERVICES'
SERVICE_VARIABLE = 'TGDEPLOY_SERVICE_PROCESS'
MAX_SERVICES = 16


def check_services(given, daemon_name, import_dir=None):
    """[(name, module, function or None, the daemon process group it runs in)] from the
    --service values (a list, or paster create's space-separated
    string); one line of TgDeployError for the first bad one."""
    items = list(given) if isinstance(given, (list, tuple)) else (given or '').split()
    if len(items) > MAX_SERVICES:
        raise TgDeployError('--service given %d times: at most %d services, each a daemon '
                            'process of its own' % (len(items), MAX_SERVICES))
    services, names = [], set()
    for item in items:
        name, sep, target = item.partition('=')
        if not sep:
            raise TgDeployError('--service %r is not NAME=package.module[:function] (for '
                                'example --service jobs=shop.lib.jobs:start)' % item)
        if not NAME.match(name):
            raise TgDeployError('--service %r: the name %r must be letters, digits, _ and - '
                                '(up to 32, starting with a letter or digit)' % (item, name))
        if name.lower() in names:
            raise TgDeployError('--service %s is given twice: each service needs a name of '
                                'its own (its daemon process group is named after it)' % name)
        names.add(name.lower())
        module, _, function = target.partition(':')
        if not MODULE.match(module) or (function and not FUNCTION.match(function)) or \
                target.endswith(':'):
            raise TgDeployError('--service %s=%s: %r is not package.module[:function] (dotted '
                                'Python names, a function name after ":")' % (name, target,
                                                                             target))
        missing = import_dir and missing_module(module, import_dir)
        if missing:
            raise TgDeployError('--service %s=%s: the project has %s but no %s in it: give '
                                'the module that starts the job' % (name, target, missing[0],
                                                                    missing[1]))
        services.append((name, module, function or None, service_group(name, daemon_name)))
    return services


def service_group(name, daemon_name):
    """The daemon process group of service ``name``: unique in the server as the
    application's (daemon names must be), and starting unlike it, so that the process title
    mod_wsgi cuts to 17 characters ("(wsgi:service-ti") never passes for one of the
    application's processes (``tgdeploy --reload`` signals those alone)."""
    return 'service-%s-%s' % (name, daemon_name)


def missing_module(module, import_dir):
    """(the project's package, the path wanted) when ``module`` is in a package of the
    project that has no such module; None when found, or not the project's."""
    parts = module.split('.')
    top = os.path.join(import_dir, parts[0])
    if not (os.path.isdir(top) or os.path.isfile(top + '.py')):
        return None  # an installed package: the daemon's Python finds it, or the log says
    path = os.path.join(import_dir, *parts)
    if os.path.isfile(path + '.py') or os.path.isfile(os.path.join(path, '__init__.py')):
        return None
    return parts[0], os.path.relpath(path, import_dir) + '.py'


def settle(opts, values):
    """Fill ``values.daemon.services`` from --service (``opts['service']``), add
    TGDEPLOY_SERVICES to the application's environment (``values.apache.setenv``) and the
    service script to the files holding secrets when the environment holds --env-file's.
    Settle's last step: it reads the mode, the setenv and the env-file settled before it.
    Without --service: ``daemon.services`` empty, nothing else changed."""
    given = opts.get('service')
    values.daemon.services = []
    if not given:
        return values
    if values.apache.mode != 'daemon':
        raise TgDeployError('--service runs code in a daemon process group of its own: use '
                            'it with --mode daemon (the default), or drop it')
    setenv = list(values.apache.setenv or [])
    taken = [n for n, _ in setenv if n in (APP_VARIABLE, SERVICE_VARIABLE)]
    if taken:
        raise TgDeployError('--setenv %s: tgdeploy sets that name itself for --service; drop '
                            'it from --setenv' % taken[0])
    services = check_services(given, values.daemon.name, values.paths.import_dir)
    values.daemon.services = services
    values.apache.setenv = setenv + [(APP_VARIABLE, ' '.join(s[0] for s in services))]
    if values.startup.env_pairs:  # the service script sets them too: readable as the .wsgi
        values.production.secret_files = list(values.production.secret_files or []) + [
            '%s-services.py' % values.project.slug]
    return values
