"""The doctor's checks of the Python side: the virtualenv against the Python mod_wsgi embeds,
the mod_wsgi version against the generated config, Apache's own processes against the Python
they start, and the locale the daemon runs in.
"""
import glob
import os
import subprocess

from tgdeploy.doctor import modwsgi_lines
from tgdeploy._compat import shell_quote
from tgdeploy.files.access import access_problem, user_ids
from tgdeploy.doctor.modwsgi_file import (linked_python_prefix, module_python, module_version,
                                          python_prefixes)
from tgdeploy.detect.projectfiles import pyvenv_cfg
from tgdeploy.doctor.apache_config import directives, same_file, words
from tgdeploy.doctor.finding import finding

# The oldest mod_wsgi that takes every option of the generated daemon config: startup-timeout
# came in 4.5.6 (4.5.5 refuses the config: tests/test_e2e_tg1.py loads a real one).
DAEMON_MOD_WSGI = (4, 5, 6)


def python_findings(values, mod_wsgi):
    if not mod_wsgi or not os.path.isfile(mod_wsgi):
        return [finding('TGD-W001', 'no mod_wsgi module found in the Apache config: install one '
                                    '(Debian: apt-get install libapache2-mod-wsgi-py3; a2enmod '
                                    'wsgi) or pass --mod-wsgi PATH to check it')]
    built_for = module_python(mod_wsgi)
    home = values.python.home
    venv_version = '.'.join(values.python.version.split('.')[:2]) or lib_python(home)
    findings = []
    if built_for and venv_version and built_for != venv_version:
        findings.append(finding('TGD-E001', '%s is built for Python %s but the virtualenv %s is '
                                            'Python %s: make the virtualenv with python%s -m '
                                            'venv, or load a mod_wsgi built for %s (pip install '
                                            'mod_wsgi)'
                                     % (mod_wsgi, built_for, home, venv_version, built_for,
                                        venv_version)))
    base = venv_base_prefix(home)
    linked = linked_python_prefix(mod_wsgi)
    if not findings and base and linked and not same_file(base, linked):
        findings.append(finding('TGD-E002', 'the virtualenv %s was made from the Python in %s, '
                                            'but %s embeds the one in %s: make the virtualenv '
                                            'with %s/bin/python%s -m venv'
                                     % (home, base, mod_wsgi, linked, linked, built_for)))
    return findings


def embedded_python_findings(values, mod_wsgi, config_files):
    """Apache's own processes start Python as well, unless told not to, from the prefix
    mod_wsgi's libpython was built for; where the Apache user cannot read that (a pyenv
    Python under root's home) each of them dies at start and no request is answered, even
    though the daemon processes, given python-home, are fine."""
    if not mod_wsgi or not os.path.isfile(mod_wsgi):
        return []
    if any([w.lower() for w in words(args)][:1] == ['on'] for path in config_files
           for args in directives(path, 'WSGIRestrictEmbedded')):
        return []
    version, ids = module_python(mod_wsgi), user_ids(values.daemon.user)
    if not (version and ids):
        return []
    for prefix in python_prefixes(mod_wsgi, version):
        library = os.path.join(prefix, 'lib', 'python' + version)
        problem = access_problem(library, ids[0], ids[1], os.R_OK)
        if problem:
            break
    else:
        return []
    fix = ('add `WSGIRestrictEmbedded On` to the server config (every application on this '
           'server runs in daemon mode)' if values.apache.mode == 'daemon' else
           'use a Python %s the Apache user can read, or --mode daemon with '
           '`WSGIRestrictEmbedded On` in the server config' % version)
    return [finding('TGD-E006', '%s embeds the Python in %s, which %s cannot read (%s): Apache\'s '
                                'own processes start it and die ("failed to get the Python codec '
                                'of the filesystem encoding"), so no request is answered; %s'
                         % (mod_wsgi, prefix, values.daemon.user, problem[1], fix))]


def version_findings(values, mod_wsgi):
    if not mod_wsgi or not os.path.isfile(mod_wsgi):
        return []
    version = module_version(mod_wsgi)
    found = [finding(check_id, '%s: %s' % (mod_wsgi, problem))
             for check_id, problem in modwsgi_lines.identified_problems(version, values)]
    if values.apache.mode != 'daemon' or not version or version >= DAEMON_MOD_WSGI:
        return found
    wanted = '.'.join(str(n) for n in DAEMON_MOD_WSGI)
    # The line pip can build for this Python (4.9.4 is the last for 2.7, 5.0.2 for 3.8/3.9).
    requirement = modwsgi_lines.pip_requirement(values.python.version)
    bin_dir = os.path.join(values.python.home, 'bin')
    return found + [finding(
        'TGD-E005', '%s is mod_wsgi %s, and Apache refuses the daemon config before %s '
                    '(startup-timeout): %s/pip install %s, then load the module that '
                    '%s/mod_wsgi-express module-location prints; or use --mode embedded'
        % (mod_wsgi, '.'.join(str(n) for n in version), wanted, bin_dir,
           shell_quote(requirement), bin_dir))]


def lib_python(home):
    found = glob.glob(os.path.join(home, 'lib', 'python*.*'))
    return os.path.basename(found[0])[len('python'):] if found else None


def venv_base_prefix(home):
    """The prefix of the Python a virtualenv was made from, read from its pyvenv.cfg."""
    keys = pyvenv_cfg(home)
    # virtualenv writes base-prefix; venv only home, the folder of the python binary (.../bin).
    # virtualenv 20 for Python 2.7 writes the prefix itself as home.
    if keys.get('base-prefix'):
        return os.path.realpath(keys['base-prefix'])
    if not keys.get('home'):
        return None
    home = os.path.realpath(keys['home'])
    return os.path.dirname(home) if os.path.basename(home) == 'bin' else home


def locale_findings(values):
    try:
        out = subprocess.Popen(['locale', '-a'], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE).communicate()[0].decode('utf-8', 'replace')
    except OSError:
        return []
    installed = set(normal_locale(name) for name in out.split())
    if normal_locale(values.daemon.locale) not in installed:
        return [finding('TGD-W006', 'the locale %s is not installed here (locale -a): pass '
                                    '--locale C.UTF-8 or install it (Debian: dpkg-reconfigure '
                                    'locales)'
                           % values.daemon.locale)]
    return []


def normal_locale(name):
    return name.lower().replace('utf-8', 'utf8')
