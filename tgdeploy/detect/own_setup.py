"""A TurboGears 2 project's own documented set-up, where ``gearbox setup-app`` does nothing
for it (its package has no ``websetup``: the command finds nothing to run and succeeds):
the command line its documentation gives for one of its own console scripts with an ini
(``kallithea-cli db-create -c my.ini``), read from the text, never run. The report names it,
with the file and line, so the user runs it on the deployed ini.
"""
import os
import re

from tgdeploy.detect.projectfiles import read_text

DOC_FOLDERS = ('', 'doc', 'docs', 'documentation')
DOC_SUFFIXES = ('.rst', '.txt', '.md')
# A set-up command by its sub-command's words.
SETUP_WORDS = re.compile(r'\b(?:db|database|setup|init|initdb|create|bootstrap)\b')
MAX_DOCS = 200
MAX_DOC = 512 * 1024


def has_websetup(package_dir):
    return any(os.path.exists(os.path.join(package_dir, name))
               for name in ('websetup.py', os.path.join('websetup', '__init__.py')))


def console_scripts(directory):
    """The names of the project's console scripts (setup.py, setup.cfg, pyproject.toml)."""
    names = []
    for name in ('setup.py', 'setup.cfg'):
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        text = read_text(path)
        section = re.search(r'\[console_scripts\]\s*\n(.*?)(?:\n\s*\[|\n\s*\n\s*[\'"]|'
                            r'[\'"]{3}|\Z)', text, re.S)
        if section:
            names += re.findall(r'^\s*([A-Za-z][\w.-]*)\s*=\s*[\w.]+:[\w.]+', section.group(1),
                                re.M)
    path = os.path.join(directory, 'pyproject.toml')
    if os.path.isfile(path):
        section = re.search(r'^\[project\.scripts\]\s*\n(.*?)(?=^\[|\Z)', read_text(path),
                            re.S | re.M)
        if section:
            names += re.findall(r'^\s*"?([A-Za-z][\w.-]*)"?\s*=', section.group(1), re.M)
    return names


def doc_files(directory):
    found = []
    for folder in DOC_FOLDERS:
        base = os.path.join(directory, folder) if folder else directory
        if not os.path.isdir(base):
            continue
        for root, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith(('.', '_'))) if folder else []
            found += [os.path.join(root, f) for f in sorted(files)
                      if f.lower().endswith(DOC_SUFFIXES) or
                      (not folder and f.upper().startswith('README'))]
    found = [p for p in found if os.path.getsize(p) <= MAX_DOC][:MAX_DOCS]
    # The user's guide to setting it up before the rest (contributors' notes, tests).
    return sorted(found, key=lambda p: (rank(os.path.basename(p).lower()), p.count(os.sep), p))


def rank(name):
    return 0 if 'setup' in name else 1 if re.search('install|readme', name) else 2


def documented(directory, package_dir):
    """(command line, file, line) of the project's own set-up, or None."""
    if not package_dir or has_websetup(package_dir):
        return None
    scripts = console_scripts(directory)
    if not scripts:
        return None
    line_re = re.compile(r'^\s*(?:\$\s*)?((?:%s)\s+([\w-]+)\b[^\n]*?\s(?:-c|--config\S*)[\s=]'
                         r'\S+\.ini\b[^\n]*)$' % '|'.join(re.escape(s) for s in scripts), re.M)
    for path in doc_files(directory):
        try:
            text = read_text(path)
        except (IOError, OSError, UnicodeError, ValueError):
            continue
        for match in line_re.finditer(text):
            if SETUP_WORDS.search(match.group(2).replace('-', ' ').replace('_', ' ')):
                return (match.group(1).strip(), os.path.relpath(path, directory),
                        text[:match.start(1)].count('\n') + 1)
    return None
