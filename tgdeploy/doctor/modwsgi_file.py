"""What a mod_wsgi module file says about itself: its version, the Python it links and
where that Python lives. Read from the file's bytes and ldd; the module is never loaded."""
import os
import re
import subprocess


# A mod_wsgi module is a few MB: what --mod-wsgi names is read no further than this.
MODULE_BYTES = 64 * 1024 * 1024


def module_version(path):
    """mod_wsgi's own version, (4, 9, 4), read from its bytes: the string just before the
    "mod_wsgi/%s" of Apache's server banner (so in every build seen here, 4.5.5 to 6.1.1).
    None if it is not there; --check's configtest still catches an old module."""
    with open(path, 'rb') as f:
        match = re.search(br'\x00(\d+(?:\.\d+)+)\x00mod_wsgi/%s\x00', f.read(MODULE_BYTES))
    return tuple(int(n) for n in match.group(1).split(b'.')) if match else None


def module_python(path):
    """The Python version a mod_wsgi module links against ('3.11'), read from its bytes."""
    with open(path, 'rb') as f:
        match = re.search(br'libpython(\d+\.\d+)', f.read(MODULE_BYTES))
    return match.group(1).decode('ascii') if match else None


def linked_python_prefix(mod_wsgi):
    """The prefix of the libpython mod_wsgi loads, as the dynamic linker resolves it."""
    lib = linked_python_library(mod_wsgi)
    return lib and (lib.split('/lib/')[0] or '/')


def linked_python_library(mod_wsgi):
    try:
        out = subprocess.Popen(['ldd', mod_wsgi], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE).communicate()[0].decode('utf-8', 'replace')
    except OSError:
        return None
    match = re.search(r'libpython[\d.]+\S*\s+=>\s+(\S+)', out)
    return match and os.path.realpath(match.group(1))


def python_prefixes(mod_wsgi, version):
    """Where the Python mod_wsgi embeds lives: the prefix of the libpython the linker finds,
    and the prefix compiled into that libpython, which an embedded Python starts from (a
    copy of a pyenv Python still names the original under root's home)."""
    linked = linked_python_library(mod_wsgi)
    if not linked:
        return []
    prefixes = [linked.split('/lib/')[0] or '/']
    with open(linked, 'rb') as f:
        for text in re.findall(br'\x00(/[^\x00]{1,300})\x00', f.read(MODULE_BYTES)):
            path = text.decode('utf-8', 'replace')
            if path not in prefixes and os.path.isdir(os.path.join(path, 'lib',
                                                                   'python' + version)):
                prefixes.append(path)
    return prefixes
