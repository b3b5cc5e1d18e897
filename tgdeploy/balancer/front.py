"""The front of several hosts: ``paster create -t tg_balancer NAME backends=... engine=...``,
or the same without paster: ``tgdeploy-balancer NAME --backend URL ... --engine ENGINE``.

It writes, into the folder NAME, a load balancer config for back ends that are ordinary
tgdeploy deployments (one per host): Apache's mod_proxy_balancer with mod_proxy_hcheck, or
HAProxy, and a README with the steps. The config text lives in paste_templates/tg_balancer;
this module only checks the variables and decides which blocks apply. Both commands write
through install.py, as for apache/: under a lock, built in staging and exchanged in one
step, nothing followed through a symlink, what else is in the folder kept; a file there
that differs is replaced only with --overwrite (kept as .bak); every OS error is one line.
"""
from __future__ import print_function

import argparse
import os
import re
import sys

from paste.script import copydir
from paste.script.templates import Template, var
from paste.util.template import paste_script_template_renderer

from tgdeploy import __version__

from tgdeploy.write import install

from tgdeploy.files import ownership
from tgdeploy._compat import urlsplit
from tgdeploy.errors import TgDeployError
from tgdeploy.files.os_errors import describe_os_error
from tgdeploy.write.render import template_dir

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


def as_variable(name, value):
    """How paster create spells a setting in a message: name=value."""
    return '%s=%s' % (name, value)


def as_option(name, value):
    """How tgdeploy-balancer spells it: --name value."""
    return '--%s %s' % (name.replace('_', '-'), value)


def settle(given, spell=as_variable, made_by='paster create -t tg_balancer'):
    """The template's values from the ``name=value`` variables; TgDeployError if unusable
    (its message spells the settings as ``spell`` does)."""
    refuse_unknown(given)
    given = dict(DEFAULTS, **dict((k, v) for k, v in given.items() if v is not None))
    engine = given['engine'].strip().lower()
    if engine not in ENGINES:
        raise TgDeployError('%s: use %s or %s' % (
            spell('engine', repr(given['engine'])), spell('engine', 'apache'),
            spell('engine', 'haproxy')))
    backends = check_backends(given['backends'])
    return {
        'tgdeploy_version': __version__,
        'made_by': made_by,
        'slug': check_name(given.get('project') or 'front'),
        'engine': engine,
        'backends': backends,
        'tls_backends': any(b['scheme'] == 'https' for b in backends),
        'sticky': check_flag('sticky', given['sticky']),
        'health': check_path(given['health'], spell),
        'listen': check_listen(given['listen'], spell),
        'server_name': check_server_name(given['server_name'], spell),
        'admin_socket': check_socket(given['admin_socket'], spell),
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
            or parts.password or not SAFE_HOST.match(parts.hostname) or port == 0):
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


def check_path(path, spell=as_variable):
    if not SAFE_PATH.match(path) or '/../' in path + '/' or '/./' in path + '/':
        raise TgDeployError('%s is not a plain URL path such as /favicon.ico'
                            % spell('health', repr(path)))
    return path


def check_listen(listen, spell=as_variable):
    match = SAFE_LISTEN.match(listen.strip())
    if not match or not 0 < int(match.group(3)) < 65536:
        raise TgDeployError('%s: use PORT or ADDRESS:PORT, such as *:80 or 10.0.0.1:80'
                            % spell('listen', repr(listen)))
    return '%s:%s' % (match.group(2) or '*', match.group(3))


def check_server_name(name, spell=as_variable):
    if name and not SAFE_HOST.match(name):
        raise TgDeployError('%s is not a host name' % spell('server_name', repr(name)))
    return name


def check_socket(path, spell=as_variable):
    if not SAFE_SOCKET.match(path):
        raise TgDeployError('%s is not an absolute path' % spell('admin_socket', repr(path)))
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
        if command.simulate:
            write(values, output_dir, simulate=True, overwrite=command.options.overwrite,
                  interactive=False, verbosity=command.verbose)
            return
        try:
            written = write_folder(values, output_dir, command.options.overwrite,
                                   explicit=False)
        except TgDeployError as e:
            sys.stderr.write('tgdeploy: error: %s\n' % e)
            raise SystemExit(2)
        if command.verbose:
            for path in written:
                print('wrote %s' % path)
        for line in left_alone(written):
            print(line)


# -- tgdeploy-balancer: the template as a console script --------------------------------

SCRIPT = 'tgdeploy-balancer'


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a mistake is one line naming the fix (main prints it), not the usage."""

    def error(self, message):
        raise TgDeployError('%s: %s --help lists the options' % (message, SCRIPT))


def build_parser():
    parser = OneLineParser(
        prog=SCRIPT, description='Write the front of several tgdeploy hosts: an Apache '
        'mod_proxy_balancer or HAProxy config and a README with the install and rolling-restart '
        'steps, into the folder NAME (or --output-dir). Exit codes: 0 written, 2 bad input '
        '(nothing written).')
    helps = dict(HELP)
    parser.add_argument('name', metavar='NAME', help='the balancer\'s name: its config file, '
                        'HAProxy backend or Apache balancer, and the default folder')
    parser.add_argument('--backend', action='append', default=[], metavar='URL',
                        help='a back end, http://HOST:PORT or https://HOST:PORT, each an '
                        'ordinary tgdeploy deployment; repeat it for each host')
    parser.add_argument('--engine', default=DEFAULTS['engine'], help=helps['engine'])
    parser.add_argument('--sticky', action='store_const', const='yes', default='no',
                        help='a cookie keeps each client on one back end (only for sessions '
                        'kept on one host)')
    for name in ('health', 'listen', 'server_name', 'admin_socket'):
        parser.add_argument('--' + name.replace('_', '-'), dest=name, default=DEFAULTS[name],
                            help=helps[name])
    parser.add_argument('--output-dir', metavar='DIR', help='the folder to write (default: NAME)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace files there that differ (otherwise nothing is written)')
    parser.add_argument('-q', '--quiet', action='store_true', help='print nothing when fine')
    return parser


def script_values(options):
    """The template's values from the script's options (settle() checks them all)."""
    given = dict((name, getattr(options, name)) for name in DEFAULTS if name != 'backends')
    given.update(project=options.name, backends=' '.join(options.backend))
    if not options.backend:
        raise TgDeployError('no back ends: give --backend http://HOST:PORT for each host')
    return settle(given, spell=as_option, made_by=SCRIPT)


def write_folder(values, output_dir, overwrite=False, explicit=True):
    """Render into staging and put it in place of ``output_dir`` (install.install_folder);
    a file there that differs is refused, before anything is written, unless
    ``overwrite``. ``explicit``: the operator named the folder. Returns the paths written."""
    if os.path.lexists(output_dir) and not os.path.isdir(output_dir):
        raise TgDeployError('%s is not a folder: pass --output-dir DIR' % output_dir)
    ownership.check_output_folder(output_dir, explicit, default_hint=os.path.realpath(
        output_dir))
    target = os.path.abspath(output_dir)
    if os.path.islink(target):
        target = os.path.realpath(target)  # the operator's own symlink: written where it leads
    try:
        changes, _ = install.install_folder(
            target, lambda new_dir: write(values, new_dir, verbosity=0), overwrite,
            manifest=False, refuse=lambda changes, _, overwrite: refuse_differing(
                changes, output_dir, overwrite))
    except (IOError, OSError) as e:
        raise TgDeployError(describe_os_error(e, output_dir))
    return Written([os.path.join(output_dir, name)
                    for name in sorted(changes.new + changes.edited)], changes.foreign)


class Written(list):
    """The paths written, and ``foreign``: staging-like folders left alone (not tgdeploy's)."""

    def __init__(self, paths, foreign):
        list.__init__(self, paths)
        self.foreign = foreign


def left_alone(written):
    return ['left alone %s: not a staging folder tgdeploy made (another user\'s, or another '
            'mode than 0700); remove it if it is yours to remove' % path
            for path in written.foreign]


def refuse_differing(changes, target, overwrite):
    if changes.edited and not overwrite:
        raise TgDeployError('%s exists and differs from what would be written: pass '
                            '--overwrite to replace it, or another --output-dir'
                            % os.path.join(target, changes.edited[0]))


def main(argv=None):
    """The ``tgdeploy-balancer`` console script: 0 written, 2 bad input (nothing written)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        options = build_parser().parse_args(args)
        values = script_values(options)
        output_dir = options.output_dir or options.name
        written = write_folder(values, output_dir, options.overwrite,
                               explicit=bool(options.output_dir))
    except TgDeployError as e:
        sys.stderr.write('%s: error: %s\n' % (SCRIPT, e))
        return 2
    if not options.quiet:
        for path in written:
            print('wrote %s' % path)
        if not written:
            print('%s is up to date' % output_dir)
        for line in left_alone(written):
            print(line)
        print('next: %s' % os.path.join(output_dir, 'README.txt'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
