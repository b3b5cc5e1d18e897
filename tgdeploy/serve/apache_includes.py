"""--reload: which running Apache parents loaded this very .conf.

An Apache parent's command line says where its configuration starts (`-d` ServerRoot, `-f`
file, `-C`/`-c` directives; without them the binary's compiled-in defaults), and from there
Include/IncludeOptional lines name the rest, as Apache read them at start. Following that
chain as Apache does (relative to ServerRoot, wildcards, folders, ${VAR} from Define and the
parent's environment) and comparing device and inode with the .conf tells whether this
Apache runs this deployment: the same daemon name in a staging copy under another Apache,
or anything dressed as a daemon under a process that merely calls itself apache2, is not.
Nothing is executed (running `apache2 -t -D DUMP_INCLUDES` would run a binary found in /proc
with whatever environment; the socket prefix is server-wide and the working folder is what
any process can chdir to): the chain is read, each file bounded (regular, size cap).

Only Apache parents running as root or as the user running tgdeploy are looked at: a
parent of another user cannot have started daemons under the root Apache's rules, and its
"daemons" are not ours to signal or wait for.

The private Apache of `tgdeploy --check`/`--serve` includes the very same .conf (unless the
config names a ServerName, where it renders its own copy): it is told by its httpd.conf,
which tgdeploy wrote in a tgdeploy-check-* folder (check.py), so that a --serve beside
production is left alone, and reloaded only when it is the one Apache running this .conf.
"""
import glob
import os
import re

from tgdeploy.files.regular_file import MIB, NotRegular, read_regular
from tgdeploy.serve.reload_conf import apache_words

# Where each binary starts without -d/-f: HTTPD_ROOT and SERVER_CONFIG_FILE of `-V`, Debian
# then RHEL (Debian's apache2ctl passes -d for a confdir other than /etc/apache2); a build
# from source elsewhere (PREFIX/bin/httpd) starts from PREFIX and conf/httpd.conf.
DEFAULTS = {'apache2': ('/etc/apache2', 'apache2.conf'),
            'httpd': ('/etc/httpd', 'conf/httpd.conf')}
SYSTEM_BINARIES = ('/usr/sbin', '/usr/bin', '/sbin', '/bin', '')
FILE_LIMIT = 8 * MIB
MAX_FILES = 5000  # Debian's tree has ~60; bounds, not a policy: a file of the chain that
MAX_BYTES = 64 * MIB  # its owner changed since Apache read it cannot make this walk long
CHECK_FOLDER = 'tgdeploy-check-'  # check.with_private_apache's mkdtemp prefix
CHECK_HEADER = b'# A private Apache written by tgdeploy'  # private_apache/httpd.conf_tmpl
VARIABLE = re.compile(r'\$\{([A-Za-z0-9_]+)\}')
WILDCARD = re.compile(r'[*?\[]')


def loads(argv, environ, wanted):
    """True when the Apache started with ``argv`` (its /proc cmdline) and ``environ``
    includes the file whose (device, inode) is ``wanted`` (as the chain leads now)."""
    walk = Chain(wanted, environ)
    server_root, first, before, after = command_line(argv)
    walk.server_root = server_root
    walk.lines(before)
    walk.file(walk.absolute(first))
    walk.lines(after)
    return walk.found


def started_by_check(argv):
    """True for the private Apache of a --check or --serve run."""
    server_root, first = command_line(argv)[:2]
    config = first if os.path.isabs(first) else os.path.join(server_root, first)
    if not os.path.basename(os.path.dirname(config)).startswith(CHECK_FOLDER):
        return False
    try:
        return read_regular(config, FILE_LIMIT).startswith(CHECK_HEADER)
    except (IOError, OSError, NotRegular):
        return False


def command_line(argv):
    """(ServerRoot, config file, -C directives, -c directives) from Apache's arguments."""
    folder, name = os.path.split(argv[0] if argv else '')
    server_root, first = DEFAULTS.get(name, DEFAULTS['apache2'])
    if folder not in SYSTEM_BINARIES and os.path.basename(folder) in ('bin', 'sbin'):
        server_root, first = os.path.dirname(folder), 'conf/httpd.conf'
    before, after = [], []
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        flag, value = arg[:2], arg[2:]
        if flag not in ('-d', '-f', '-C', '-c') or len(arg) < 2:
            continue
        if not value and args:
            value = args.pop(0)
        if flag == '-d':
            server_root = value
        elif flag == '-f':
            first = value
        else:
            (before if flag == '-C' else after).append(value)
    return server_root, first, before, after


class Chain(object):
    """Apache's reading of its config files, kept to what leads to other files."""

    def __init__(self, wanted, environ):
        self.wanted, self.variables = wanted, dict(environ)
        self.server_root = '/'
        self.seen, self.found, self.bytes = set(), False, 0

    def absolute(self, path):
        return path if os.path.isabs(path) else os.path.join(self.server_root, path)

    def file(self, path):
        if self.done():
            return
        try:
            info = os.stat(path)
            if (info.st_dev, info.st_ino) == self.wanted:
                self.found = True
                return
            if (info.st_dev, info.st_ino) in self.seen:
                return
            self.seen.add((info.st_dev, info.st_ino))
            text = read_regular(path, min(FILE_LIMIT, MAX_BYTES - self.bytes), follow=True)
        except (IOError, OSError, NotRegular):
            return  # Apache would have refused to start; nothing of ours in it
        self.bytes += len(text)
        self.lines(text.decode('utf-8', 'replace').replace('\\\n', ' ').splitlines())

    def done(self):
        return self.found or len(self.seen) >= MAX_FILES or self.bytes >= MAX_BYTES

    def lines(self, lines):
        for line in lines:
            words = apache_words(self.expand(line))
            if len(words) < 2:
                continue
            key = words[0].lower()
            if key == 'serverroot':
                self.server_root = words[1]
            elif key == 'define':
                self.variables[words[1]] = words[2] if len(words) > 2 else ''
            elif key in ('include', 'includeoptional'):
                self.include(self.absolute(words[1]))
            if self.done():
                return

    def expand(self, text):
        return VARIABLE.sub(lambda m: self.variables.get(m.group(1), m.group(0)), text)

    def include(self, pattern):
        paths = sorted(glob.glob(pattern)) if WILDCARD.search(pattern) else [pattern]
        for path in paths:
            if os.path.isdir(path):
                for folder, names, files in os.walk(path):
                    names.sort()
                    for name in sorted(files):
                        self.file(os.path.join(folder, name))
                    if self.done():
                        return
            else:
                self.file(path)
