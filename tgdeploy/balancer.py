"""The front of several hosts: ``paster create -t tg_balancer NAME backends=... engine=...``.

It writes, into the folder NAME, a load balancer config for back ends that are ordinary
tgdeploy deployments (one per host): Apache's mod_proxy_balancer with mod_proxy_hcheck, or
HAProxy, and a README with the steps. The config text lives in paste_templates/tg_balancer;
this module only checks the variables and decides which blocks apply.
"""
import re
import sys

from paste.script import copydir
from paste.script.templates import Template, var
from paste.util.template import paste_script_template_renderer

from tgdeploy import __version__
from tgdeploy._compat import urlsplit
from tgdeploy.errors import TgDeployError
from tgdeploy.render import template_dir

TEMPLATE_NAME = 'tg_balancer'
ENGINES = ('apache', 'haproxy')
YES, NO = ('yes', 'true', 'on', '1'), ('no', 'false', 'off', '0', '')

# Every value below reaches an Apache or HAProxy config unquoted: only characters that
# can neither end a directive nor start a new one.
SAFE_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*\Z')
SAFE_HOST = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\Z')
SAFE_PATH = re.compile(r'^/[A-Za-z0-9._~/-]*\Z')
SAFE_LISTEN = re.compile(r'^((\*|[A-Za-z0-9.-]+):)?([0-9]{1,5})\Z')
SAFE_SOCKET = re.compile(r'^/[A-Za-z0-9._/-]+\Z')

DEFAULTS = {
    'backends': '',
    'engine': 'apache',
    'sticky': 'no',
    # A static file the back ends' Apache serves itself (see README: why not a page).
    'health': '/favicon.ico',
    'listen': '*:80',
    'server_name': '',
    # Debian's own haproxy.cfg puts the admin socket here.
    'admin_socket': '/run/haproxy/admin.sock',
}
HELP = [
    ('backends', 'the back ends, space-separated: http://HOST:PORT or https://HOST:PORT, '
                 'each an ordinary tgdeploy deployment'),
    ('engine', 'apache (mod_proxy_balancer) or haproxy; default apache'),
    ('sticky', 'yes: a cookie keeps each client on one back end (only for sessions kept '
               'on one host); default no'),
    ('health', 'the URL path each back end is checked on, a static file Apache serves '
               '(200 expected); default /favicon.ico'),
    ('listen', '[ADDRESS:]PORT the front listens on; default *:80'),
    ('server_name', 'the public host name (Apache ServerName, the Host of health checks)'),
    ('admin_socket', 'HAProxy: the admin socket used to drain a back end; '
                     'default /run/haproxy/admin.sock'),
]
# What paster create itself puts among the variables.
PASTER_VARS = ('project', 'package', 'egg', 'egg_plugins')


def settle(given):
    """The template's values from the ``name=value`` variables; TgDeployError if unusable."""
    refuse_unknown(given)
    given = dict(DEFAULTS, **dict((k, v) for k, v in given.items() if v is not None))
    engine = given['engine'].strip().lower()
    if engine not in ENGINES:
        raise TgDeployError('engine=%r: use engine=apache or engine=haproxy' % given['engine'])
    backends = check_backends(given['backends'])
    return {
        'tgdeploy_version': __version__,
        'slug': check_name(given.get('project') or 'front'),
        'engine': engine,
        'backends': backends,
        'tls_backends': any(b['scheme'] == 'https' for b in backends),
        'sticky': check_flag('sticky', given['sticky']),
        'health': check_path(given['health']),
        'listen': check_listen(given['listen']),
        'server_name': check_server_name(given['server_name']),
        'admin_socket': check_socket(given['admin_socket']),
    }


def refuse_unknown(given):
    unknown = sorted(set(given) - set(DEFAULTS) - set(PASTER_VARS))
    if unknown:
        raise TgDeployError('unknown variable(s) %s: paster create -t tg_balancer '
                            '--list-variables shows the ones it takes' % ', '.join(unknown))


def check_name(name):
    if not SAFE_NAME.match(name):
        raise TgDeployError('%r cannot name a balancer: use letters, digits, "_", "." and "-"'
                            % name)
    return name


def check_backends(text):
    urls = text.replace(',', ' ').split()
    if not urls:
        raise TgDeployError('no back ends: give backends="http://HOST:PORT http://HOST:PORT"')
    backends = []
    for number, url in enumerate(urls, 1):
        backend = check_backend(url)
        backend['route'] = 'b%d' % number  # the server's name, and its sticky cookie value
        if backend['address'] in [b['address'] for b in backends]:
            raise TgDeployError('back end %s is given twice' % url)
        backends.append(backend)
    return backends


def check_backend(url):
    problem = 'back end %r is not http://HOST:PORT or https://HOST:PORT' % url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TgDeployError(problem)
    if (parts.scheme not in ('http', 'https') or not parts.hostname or parts.username
            or parts.password or not SAFE_HOST.match(parts.hostname)):
        raise TgDeployError(problem)
    if parts.query or parts.fragment or parts.path not in ('', '/'):
        # The front passes each path on as it is: a back end serves the same mounts.
        raise TgDeployError('back end %r has a path: give http://HOST:PORT only (the '
                            'back end serves the same mount as the front)' % url)
    port = port or (443 if parts.scheme == 'https' else 80)
    address = '%s:%d' % (parts.hostname, port)
    return {'scheme': parts.scheme, 'host': parts.hostname, 'port': port, 'address': address,
            'url': '%s://%s' % (parts.scheme, address)}


def check_flag(name, value):
    value = value.strip().lower()
    if value not in YES + NO:
        raise TgDeployError('%s=%r: use %s=yes or %s=no' % (name, value, name, name))
    return value in YES


def check_path(path):
    if not SAFE_PATH.match(path) or '/../' in path + '/' or '/./' in path + '/':
        raise TgDeployError('health=%r is not a plain URL path such as /favicon.ico' % path)
    return path


def check_listen(listen):
    match = SAFE_LISTEN.match(listen.strip())
    if not match or not 0 < int(match.group(3)) < 65536:
        raise TgDeployError('listen=%r: use PORT or ADDRESS:PORT, such as *:80 or 10.0.0.1:80'
                            % listen)
    return '%s:%s' % (match.group(2) or '*', match.group(3))


def check_server_name(name):
    if name and not SAFE_HOST.match(name):
        raise TgDeployError('server_name=%r is not a host name' % name)
    return name


def check_socket(path):
    if not SAFE_SOCKET.match(path):
        raise TgDeployError('admin_socket=%r is not an absolute path' % path)
    return path


def template_parts(engine):
    """The template folders for one engine: the shared README, then the engine's config."""
    return [template_dir(TEMPLATE_NAME) + '/common', template_dir(TEMPLATE_NAME) + '/' + engine]


def write(values, output_dir, simulate=False, overwrite=False, interactive=False, verbosity=1):
    """Render the engine's config and the README into ``output_dir`` (paster's copy_dir:
    an existing file that differs is shown as a diff and kept unless ``overwrite``)."""
    for source in template_parts(values['engine']):
        copydir.copy_dir(source, output_dir, dict(values), verbosity=verbosity,
                         simulate=simulate, interactive=interactive, overwrite=overwrite,
                         svn_add=False, template_renderer=paste_script_template_renderer)


class TgBalancerTemplate(Template):

    summary = 'Load balancer (Apache mod_proxy_balancer or HAProxy) in front of tgdeploy hosts'
    vars = [var(name, help_text, default=DEFAULTS[name]) for name, help_text in HELP]

    def template_dir(self):
        return template_dir(TEMPLATE_NAME)

    def run(self, command, output_dir, vars):
        try:
            values = settle(dict((name, vars.get(name)) for name in vars))
        except TgDeployError as e:
            # paster create prints a BadCommand on stdout; errors belong on stderr.
            sys.stderr.write('tgdeploy: error: %s\n' % e)
            raise SystemExit(2)
        write(values, output_dir, simulate=command.simulate,
              overwrite=command.options.overwrite, interactive=command.interactive,
              verbosity=command.verbose)
