"""The Apache config tree the doctor reads: which files a layout's Apache loads and in what
order, and the directives in them (continuation lines joined, <VirtualHost> scopes kept).

Where Apache can be asked (apache_asked.py), its own answer gives the files, their order and
the <IfModule>/<IfDefine> sections that hold; otherwise the files are read as the layout
names them, which also serves for a tree copied from another machine.
"""
import fnmatch
import glob
import os
import re

from tgdeploy.doctor import apache_asked
from tgdeploy.files import textfiles

# The files each layout's Apache reads, in the order it reads them.
DEBIAN_INCLUDES = ('apache2.conf', 'mods-enabled/*.load', 'mods-enabled/*.conf', 'ports.conf',
                   'conf-enabled/*.conf', 'sites-enabled/*')
RHEL_INCLUDES = ('conf/httpd.conf', 'conf.modules.d/*.conf', 'conf.d/*.conf')


def default_apache_root():
    for root in ('/etc/apache2', '/etc/httpd'):
        if os.path.isdir(root):
            return root
    return None


def is_rhel_layout(apache_root):
    return bool(apache_root) and os.path.isfile(os.path.join(apache_root, 'conf', 'httpd.conf'))


# Apache's answer for each file it named: config_text keeps only the sections that hold.
ANSWERS = {}


def included_files(apache_root):
    """The config files of ``apache_root`` in the order Apache reads them."""
    asked = apache_asked.ask(apache_root)
    if asked is not None:
        files = [p for p in asked.files if os.path.isfile(p)]
        for path in files:
            ANSWERS[os.path.abspath(path)] = asked
        return files
    files = files_by_layout(apache_root)
    for path in files:
        ANSWERS.pop(os.path.abspath(path), None)
    return files


def read_as(apache_root):
    """How the doctor reads ``apache_root``: 'asked' (Apache's answer) or 'files'."""
    return 'asked' if apache_asked.ask(apache_root) is not None else 'files'


def files_by_layout(apache_root):
    patterns = RHEL_INCLUDES if is_rhel_layout(apache_root) else DEBIAN_INCLUDES
    found = []
    for pattern in patterns:
        found.extend(sorted(p for p in glob.glob(os.path.join(apache_root, pattern))
                            if os.path.isfile(p)))
    return found


def config_text(path):
    """The file's text, continuation lines joined, and where Apache was asked only the
    sections that hold, its Defines expanded; empty if it cannot be read."""
    try:
        text = textfiles.read_text(path).replace('\\\n', ' ')
    except (IOError, OSError):
        return ''
    asked = ANSWERS.get(os.path.abspath(path))
    if asked is not None:
        text = apache_asked.expand_defines(apache_asked.active_text(text, asked), asked)
    return text


def directives(path, name):
    """(argument text) of every ``name`` directive in the file, continuation lines joined."""
    return find_directives(config_text(path), name)


def find_directives(text, name):
    return re.findall(r'^\s*%s\s+(.*)$' % name, text, re.M | re.I)


def words(args):
    """A directive's arguments, quotes removed: '"/var/www/" x' -> ['/var/www/', 'x']."""
    return [quoted or bare for quoted, bare in re.findall(r'"([^"]*)"|(\S+)', args)]


# A <VirtualHost> block: its addresses and its body. Apache refuses nested ones.
VIRTUAL_HOST = re.compile(r'^\s*<VirtualHost\s+([^>]*)>(.*?)^\s*</VirtualHost\s*>',
                          re.I | re.M | re.S)


def scoped_directives(path, name):
    """(argument text, host) of every ``name`` directive in the file: host is None at server
    level, else the (ServerName or '', ports) of the <VirtualHost> it is in."""
    text = config_text(path)
    found = [(args, None) for args in find_directives(VIRTUAL_HOST.sub('', text), name)]
    for addresses, body in VIRTUAL_HOST.findall(text):
        host = (host_name(body), vhost_ports(addresses))
        found.extend((args, host) for args in find_directives(body, name))
    return found


def host_name(body):
    """The ServerName of a virtual host's body without scheme and port, '' if it has none."""
    names = [words(args)[0] for args in find_directives(body, 'ServerName') if words(args)]
    if not names:
        return ''
    name = re.sub(r'^[a-z]+://', '', names[0].lower())
    return re.sub(r':\d+$', '', name)


def vhost_ports(addresses):
    """The ports of <VirtualHost *:80 [::1]:8080>: {'80', '8080'}; '*' where none is named."""
    ports = set()
    for address in words(addresses):
        match = re.search(r':(\d+|\*)$', address)
        ports.add(match.group(1) if match else '*')
    return ports


def same_file(a, b):
    return os.path.realpath(a) == os.path.realpath(b)


def loaded_modules(config_files):
    """{module name: its file, as the LoadModule line writes it} of the Apache tree; the
    first line for a name is the one Apache loads. Where Apache was asked, the modules built
    into it are there too, with no file."""
    loaded, built_in = {}, set()
    for path in config_files:
        for args in directives(path, 'LoadModule'):
            parts = words(args)
            if len(parts) == 2:
                loaded.setdefault(parts[0], parts[1])
        asked = ANSWERS.get(os.path.abspath(path))
        built_in.update(asked.modules if asked else ())
    for name in built_in - set(loaded):
        loaded[name] = None
    return loaded


def loaded_mod_wsgi(config_files, apache_root):
    module = loaded_modules(config_files).get('wsgi_module')
    # RHEL writes module paths relative to the ServerRoot (modules/...).
    return module and os.path.join(apache_root, module)


# -- the checks ---------------------------------------------------------------------


def include_rank(apache_root, path):
    relative = os.path.relpath(path, apache_root)
    for rank, pattern in enumerate(DEBIAN_INCLUDES):
        if fnmatch.fnmatch(relative, pattern):
            return (rank, relative)
    return (len(DEBIAN_INCLUDES), relative)
