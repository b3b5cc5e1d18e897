"""Step 2: settle every value the templates need, from the project and the user's options.

settle() is the pipeline: the options over their defaults (table.py), then each concern
checks its options and works out its values, in its own module:
- checks.py: names, counts, choices, users and paths that reach Apache, the ini, the daemon;
- paths.py: the output and data folders and where they may lie;
- static.py: what Apache serves itself (the project's static folders, --alias);
- daemon.py: the mode, user and Python of the processes, their leak guards and timeouts;
- https.py: the HTTPS virtual hosts and the proxies in front (tls.py, proxies.py);
- logs.py: the log folder, its files and their rotation;
- exposure.py: folders no client may reach;
- app_config.py: the configs tgdeploy derives and their secrets (production.py,
  inifile.py, tg1config.py, write_locations.py, mount_links.py);
- replay_settle.py: the project's own start-up each daemon process replays.
Paths reach Apache quoted by quoting.py's helpers (Apache's own rules), which the templates
call; values that reach Python are written with repr() by the templates themselves.
"""
import os
import sys

from tgdeploy import __version__
from tgdeploy._compat import shell_quote
from tgdeploy.detect.project import FLAVOR_NAMES
from tgdeploy.detect.projectfiles import import_root
from tgdeploy.errors import TgDeployError
from tgdeploy.files import ownership
from tgdeploy.settle import exposure, replay_settle, services, settled, tg1config
from tgdeploy.settle.app_config import app_config, tg1_line
from tgdeploy.settle.checks import (check_choice, check_count, check_dsn, check_email,
                                    check_function, check_group, check_host, check_locale,
                                    check_mount, check_path, check_project_name,
                                    check_python_home, check_setenv, check_smtp, check_user,
                                    refuse_what_does_not_apply)
from tgdeploy.settle.daemon import (APACHE_VERSIONS, MODES, daemon_limits, daemon_name,
                                    default_group, default_user, one_thread_pool,
                                    venv_python_version)
from tgdeploy.settle.hardening import settle_hardening
from tgdeploy.settle.https import MAX_HSTS, settle_https
from tgdeploy.settle.logs import settle_logs
from tgdeploy.settle.paths import (SYSTEM_DIRS, check_data_dir, check_output_dir,
                                   check_placement, file_slug, folder, within)
from tgdeploy.settle.quoting import (apache_quote, directory_pattern, expr_string,
                                     piped_argument, tmpfiles_path)
from tgdeploy.settle.status import settle_status
from tgdeploy.settle.static import apache_static, check_aliases, folders_of, rewritable
# The option table: each option's default, kind and help (re-exported for settle's readers).
from tgdeploy.settle.table import (DEFAULT_BODY_LIMIT, DEFAULT_LOCALE,  # noqa: F401
                                   DEFAULT_THREADS, MAX_PROCESSES, OPTION_DEFAULTS,
                                   default_processes)
# Read from here by modules of other steps (serve/check.py).
from tgdeploy.settle.https import virtual_hosts  # noqa: F401


def settle(project, given):
    """Return the settled values (settled.Settled) for ``project``; ``given`` maps option
    names to strings. Each step below fills its groups of the one Settled in turn."""
    given = dict((k, v) for k, v in given.items() if v not in (None, ''))
    opts = with_defaults(project, given)
    values = settle_first(project, given, opts)
    settle_https(opts, given, values)
    settle_day_two(opts, given, values, project)
    exposure.refuse(values, SYSTEM_DIRS)
    app_config(project, values)
    replay_settle.settle(opts, values, project)
    services.settle(opts, values)  # last: reads the mode, --setenv and the --env-file values
    settle_status(opts, values)  # --status-endpoint: reads the mount, mode, aliases, data folder
    return values


def settle_first(project, given, opts):
    """The groups the later steps start from: the project, its folders, the Python, the
    Apache mount and host, the daemon processes, what Apache serves itself, and the options
    of the production and start-up groups as given."""
    mount = check_mount(opts['mount'])
    mode = check_choice('mode', opts['mode'], MODES)
    elsewhere = check_choice('elsewhere', opts['elsewhere'], ('yes', 'no')) == 'yes'
    refuse_what_does_not_apply(given, project.flavor, mode)
    apache = check_choice('apache', opts['apache'], APACHE_VERSIONS)
    user = check_user(opts['user'] or default_user(elsewhere), elsewhere)
    group = check_group(opts['group'] or default_group(user), elsewhere)
    python_home = check_python_home(opts['python_home'] or sys.prefix, elsewhere)
    server_name = opts['server_name'] and check_host(opts['server_name'])
    slug = file_slug(check_project_name(project.name))
    project_dir = check_path('project directory', project.directory)
    apache_dir = check_path('output directory', folder(opts['output_dir'], project_dir, 'apache'))
    data_dir = check_path('data directory', folder(opts['data_dir'], project_dir, 'data'))
    static_urls, static_skipped = apache_static(project.static_urls, mount)
    static_root = rewritable(project.static_root)
    served = folders_of(static_urls, static_root)
    check_data_dir(data_dir, project_dir, python_home)
    check_output_dir(apache_dir, project_dir)
    ownership.check_output_folder(apache_dir, 'output_dir' in given)
    check_placement(apache_dir, data_dir, served)
    aliases = check_aliases(opts['alias'], static_urls, (project_dir, apache_dir, data_dir),
                            served, project_dir, elsewhere)
    static_urls = aliases + static_urls
    python_version = venv_python_version(python_home)
    name = daemon_name(slug, mount)
    return settled.Settled({
        'project': project_group(project, slug, given),
        'paths': {
            'project_dir': project_dir,
            'import_dir': import_root(project_dir),
            'apache_dir': apache_dir,
            'htdocs_dir': os.path.join(apache_dir, 'htdocs'),
            'wsgi_file': os.path.join(apache_dir, slug + '.wsgi'),
            'conf_file': os.path.join(apache_dir, slug + '.conf'),
            'data_dir': data_dir,
            'egg_cache': os.path.join(data_dir, 'egg-cache'),
            # Denied to every client: the project, and the data folder wherever it is.
            'private_dirs': [project_dir] + ([] if within(data_dir, project_dir)
                                             else [data_dir]),
            'elsewhere': elsewhere,
        },
        'python': {
            'home': python_home,
            'version': python_version,
            # Python 2.7 (TurboGears 1.x, or 2.x of its day): no distribution's mod_wsgi
            # serves it, the README has one built into the virtualenv.
            'python2': project.flavor == 'tg1' or python_version.startswith('2.'),
        },
        'daemon': {
            'processes': check_count('processes', opts['processes'] or
                                     str(default_processes()), 1, MAX_PROCESSES),
            'threads': check_count('threads', opts['threads'], 1, 1000),
            'user': user,
            'group': group,
            'locale': check_locale(opts['locale']),
            'name': name,
            'process_group': name if mode == 'daemon' else '%{GLOBAL}',
            'preload': check_choice('preload', opts['preload'], ('yes', 'no')) == 'yes',
            'legacy_stdout': check_choice('legacy-stdout', opts['legacy_stdout'],
                                          ('yes', 'no')) == 'yes',
        },
        'apache': {
            'mount': mount,
            'mode': mode,
            'version': apache,
            # How many hosts will serve this deployment alike (the doctor then finds the
            # state that lives on one: host_state.py); 'hosts' names the virtual hosts.
            'host_count': check_count('hosts', opts['hosts'], 1, 1000),
            'server_name': server_name,
            'port': check_count('port', opts['port'], 1, 65535),
            'limit_request_body': check_count('limit-request-body', opts['limit_request_body'],
                                              0, 2147483647),
            'setenv': check_setenv(opts['setenv']),
        },
        'static': {
            'urls': static_urls,
            'dirs': folders_of(static_urls, static_root),
            'root': static_root,
            # A mount holds only letters, digits and ._~-/: "." is the one regex character,
            # and goes in brackets (mod_rewrite's quoted arguments keep a backslash as
            # written).
            'root_pattern': static_root and '^%s/(.+)$' % mount.rstrip('/').replace('.', '[.]'),
            'skipped': static_skipped,
        },
        'production': production_group(opts, project_dir),
        'startup': {'function': opts['startup'] and check_function(opts['startup'])},
        'config': {
            'source': project.config_file and check_path('config file', project.config_file),
            'cherrypy': None,
        },
        'tg1': {
            'version': tg1_line(opts['tg_version'], project, python_home)
            if project.flavor == 'tg1' else None,
            'cfg': '',
            'cfg_file': None,
        },
        'quote': {'q': apache_quote, 'qdir': directory_pattern, 'qexpr': expr_string,
                  'sh': shell_quote, 'shq': piped_argument, 'tmpfiles_path': tmpfiles_path},
    })


def project_group(project, slug, given):
    """What detect found of the project, as the templates and the report read it."""
    return {
        'tgdeploy_version': __version__,
        'flavor': project.flavor,
        'flavor_name': FLAVOR_NAMES[project.flavor],
        'name': project.name,
        'slug': slug,
        'package': project.package,
        'package_dir': project.package_dir,
        'root': project.root,
        'evidence': project.evidence + (
            ['server.thread_pool = 1 in %s: one thread per daemon process' % project.config_file]
            if one_thread_pool(project) and 'threads' not in given else []),
        'memory_sessions': project.memory_sessions,
        'uses_sqlobject': project.uses_sqlobject,
        'paster_era': project.paster_era,
    }


def production_group(opts, project_dir):
    """The production options as given: error reports, secrets (app_config.py adds what
    the derived configs change)."""
    return {
        'rotate_secrets': check_choice('rotate-secrets', opts['rotate_secrets'],
                                       ('yes', 'no')) == 'yes',
        'secrets_from': opts['secrets_from'] and check_path(
            'secrets file', folder(opts['secrets_from'], project_dir, '')),
        'error_email': opts['error_email'] and check_email('error-email',
                                                           opts['error_email']),
        'smtp': check_smtp(opts['smtp_server']),
        'sentry_dsn': opts['sentry_dsn'] and check_dsn(opts['sentry_dsn']),
    }


def with_defaults(project, given):
    """The options to settle: their defaults (table.py), the defaults the project implies,
    then ``given``; an unknown option is refused."""
    unknown = sorted(set(given) - set(OPTION_DEFAULTS))
    if unknown:
        raise TgDeployError('unknown option(s) %s: see tgdeploy --help' % ', '.join(unknown))
    opts = dict(OPTION_DEFAULTS)
    if project.uses_sqlobject or project.memory_sessions:
        # State kept per process (SQLObject's row cache, sessions in memory): one process,
        # many threads (see the README).
        opts.update(processes='1', threads='15')
    if one_thread_pool(project):
        opts['threads'] = '1'
    if project.flavor == 'tg1':
        # Where the project was served behind its proxy: the mount unless told otherwise
        # (the derived config drops server.webpath, as the mount comes from Apache).
        opts['mount'] = tg1config.webpath(project.config_file) or opts['mount']
    opts.update(given)
    return opts


def settle_day_two(opts, given, values, project):
    """The daemon's leak guards and timeouts (daemon.py), logs of their own (logs.py), and
    what real deployments set: the Authorization header, compression, cache headers for
    static files."""
    daemon_limits(opts, given, values)
    settle_hardening(opts, given, values)
    settle_logs(opts, values)
    values.project.thread_pool_one = one_thread_pool(project) and 'threads' not in given
    values.apache.update(
        pass_authorization=check_choice('pass-authorization', opts['pass_authorization'],
                                        ('yes', 'no')) == 'yes',
        script_reloading=check_choice('script-reloading', opts['script_reloading'],
                                      ('yes', 'no')) == 'yes',
        compress=check_choice('compress', opts['compress'], ('yes', 'no')) == 'yes')
    values.static.max_age = opts['static_max_age'] and check_count(
        'static-max-age', opts['static_max_age'], 0, MAX_HSTS)
