"""What an image of a Python 2.7 project (TurboGears 1.x) needs beside the Python 3 one.

No current Debian has python2.7; bullseye (Debian 11) is the last, and its Apache's
mod_wsgi is built for Python 3 (libapache2-mod-wsgi-py3 4.7.1; bullseye has no
libapache2-mod-wsgi). So a build stage of the image builds mod_wsgi MOD_WSGI with apxs for
Python 2.7 in the virtualenv, as the host lab does (FIELD-NOTES).

A resolver run today does not give back the set a 2.7 application was tested with (the
requirements of TurboGears 1.x name no upper bounds, and PyPI's newest releases that still
claim Python 2 are seldom the ones that work together). So the image installs what the
host's virtualenv holds, distribution for distribution: ``locked`` reads it from the
virtualenv's own metadata (no pip run, nothing imported) into apache/container/LOCK_NAME.
"""
import os
import re

from tgdeploy.files import textfiles

MOD_WSGI = '4.9.4'  # the last mod_wsgi line the lab builds for 2.7 (mod_wsgi 5 dropped 2.7)
MOD_WSGI_SO = '/usr/local/lib/mod_wsgi-py27.so'
DEBIAN_MOD_WSGI = '/usr/lib/apache2/modules/mod_wsgi.so'  # libapache2-mod-wsgi-py3's
LOCK_NAME = 'requirements-py27.txt'
# The last releases of the tools for Python 2.7 (FIELD-NOTES).
VIRTUALENV = '20.15.1'
SEED = (('pip', '20.3.4'), ('setuptools', '44.1.1'), ('wheel', '0.37.1'))
# Distributions the image makes or adds itself.
NOT_LOCKED = ('pip', 'setuptools', 'wheel', 'distribute', 'tgdeploy', 'mod-wsgi')
PEP440 = re.compile(r'^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*'
                    r'((a|b|rc)(0|[1-9][0-9]*))?(\.post(0|[1-9][0-9]*))?'
                    r'(\.dev(0|[1-9][0-9]*))?(\+[a-z0-9]+(\.[a-z0-9]+)*)?$')
FIELD = re.compile(r'^([A-Za-z-]+):[ \t]*(.*?)[ \t]*$', re.M)


def normal_name(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def site_packages(home):
    """The site-packages folders of the virtualenv ``home``."""
    lib = os.path.join(home, 'lib')
    found = []
    if os.path.isdir(lib):
        for name in sorted(os.listdir(lib)):
            folder = os.path.join(lib, name, 'site-packages')
            if name.startswith('python') and os.path.isdir(folder):
                found.append(folder)
    return found


def installed(home):
    """{normal name: (name, version)} of the distributions installed in ``home`` (not the
    editable ones: those are projects on the host, not on PyPI)."""
    found = {}
    for folder in site_packages(home):
        for entry in sorted(os.listdir(folder)):
            path = os.path.join(folder, entry)
            if entry.endswith('.dist-info'):
                if os.path.exists(os.path.join(path, 'direct_url.json')):
                    continue  # installed from a folder or a URL, not from an index
                meta = os.path.join(path, 'METADATA')
            elif entry.endswith('.egg-info'):
                meta = os.path.join(path, 'PKG-INFO') if os.path.isdir(path) else path
            else:
                continue
            fields = read_fields(meta)
            if 'Name' in fields and 'Version' in fields:
                found[normal_name(fields['Name'])] = (fields['Name'], fields['Version'])
    return found


def read_fields(path, names=('Name', 'Version')):
    """{field: value} of the ``names`` in the metadata file at ``path`` (its headers)."""
    try:
        text = textfiles.read_text(path, 64 * 1024)
    except (IOError, OSError):
        return {}
    head = text.split('\n\n', 1)[0]  # the headers, not the description
    return dict((m.group(1), m.group(2)) for m in FIELD.finditer(head)
                if m.group(1) in names and m.group(2))


def pin(name, version):
    """A requirement line for exactly ``version`` (=== where it is no PEP 440 version,
    as pip freeze writes PEAK-Rules 0.5a1.dev-r2713)."""
    return '%s%s%s' % (name, '==' if PEP440.match(version) else '===', version)


def locked(values):
    """[requirement line] of what the host's virtualenv holds, but the project itself and
    what the image installs on its own."""
    own = set(normal_name(n) for n in NOT_LOCKED)
    own.add(normal_name(values.project.name or ''))
    own.add(normal_name(values.project.package or ''))
    pins = installed(values.python.home)
    return [pin(*pins[key]) for key in sorted(pins) if key not in own]


def setup_command(inside, venv):
    """README step 2 of a TurboGears 1 project in the image (a list of words), or None."""
    if inside.project.flavor != 'tg1':
        return None
    if inside.startup.sets_config:
        return [venv + '/bin/python', inside.paths.wsgi_file, 'sql', 'create']
    return [venv + '/bin/tg-admin', '-c', inside.tg1.cfg_file, 'sql', 'create']


def tg1_database(values):
    """The database URI of a TurboGears 1 config, or ''."""
    for line in (values.tg1.cfg or '').splitlines():
        match = re.match(r'^\s*(?:sqlalchemy|sqlobject)\.dburi\s*=\s*(.+?)\s*$', line)
        if match:
            return match.group(1).strip('"\'')
    return ''


def seed_options():
    return ' '.join('--%s %s' % pair for pair in SEED)

