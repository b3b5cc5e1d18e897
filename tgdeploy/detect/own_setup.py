"""A TurboGears 2 project's own documented set-up, where ``gearbox setup-app`` does nothing
for it (its package has no ``websetup``: the command finds nothing to run and succeeds):
the command line its documentation gives for one of its own console scripts with an ini
(``kallithea-cli db-create -c my.ini``), read from the text, never run. The report names it,
with the file and line; documented_steps() gives its fullest documented form and the
front-end build the documentation names, which README step 2 runs (settle/own_steps.py).
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


# README step 2 runs the documented set-up non-interactively: the fullest documented line of
# that command (the docs' own example with every option), its options' values given by what
# they are for, and the front-end build the docs name after it (see settle/own_steps.py).
FLAG_YES = ('--force-yes', '--yes', '--assume-yes', '--no-input', '--noinput',
            '--non-interactive')
OPTION = re.compile(r'^(--?[A-Za-z][\w-]*)(?:=(.*))?$')
BUILD_WORDS = re.compile(r'^(?:front-?end|assets|static|css|js|ui)-?(?:build|compile|bundle)$|'
                         r'^(?:build|compile|bundle)-?(?:front-?end|assets|static|css|js|ui)$')
MAX_SOURCES = 400


def documented_steps(directory, package_dir):
    """{'setup': (script, sub, [(option, value or None)], doc, line) or None,
    'build': (script, sub, doc, line) or None}: the fullest documented form of the set-up
    ``documented()`` finds (the example that gives the most options: the non-interactive
    one), and a documented front-end build of the same console script (``script
    front-end-build``, bare), read from the text, never run."""
    found = documented(directory, package_dir)
    if not found:
        return {'setup': None, 'build': None}
    words = found[0].split()
    script, sub = words[0], words[1]
    best = (options_of(found[0]), found[1], found[2])
    build, candidates = None, []
    line_re = re.compile(r'^\s*(?:\$\s*)?(%s\s+(%s)\b[^\n]*)$' % (
        re.escape(script), re.escape(sub)), re.M)
    bare = re.compile(r'^\s*(?:\$\s*)?%s\s+([\w-]+)\s*$' % re.escape(script), re.M)
    for path in doc_files(directory):
        try:
            text = read_text(path)
        except (IOError, OSError, UnicodeError, ValueError):
            continue
        doc = os.path.relpath(path, directory)
        for match in line_re.finditer(text):
            options = options_of(match.group(1))
            if options is not None:
                candidates.append((options, doc, text[:match.start(1)].count('\n') + 1))
        for match in bare.finditer(text):
            if build is None and BUILD_WORDS.match(match.group(1).lower()):
                build = (script, match.group(1), doc, text[:match.start(1)].count('\n') + 1)
    # The user's guide (the file the set-up was found in) before the rest: another file's
    # example (a contributors' note) only where the guide gives no more than the config.
    guide = [c for c in candidates if c[1] == found[1]]
    for pool in (guide, candidates):
        fullest = max(pool, key=lambda c: len(c[0])) if pool else None
        if fullest and len(fullest[0]) > max(1, len(best[0] or [])):
            best = fullest
            break
    options = best[0] or []
    yes = [flag for flag in FLAG_YES if defines_option(package_dir, flag)]
    if yes and not any(name in FLAG_YES for name, _ in options):
        options.append((yes[0], None))
    return {'setup': (script, sub, options, best[1], best[2]), 'build': build}


def options_of(line):
    """[(option, value or None)] of a documented command line (after its sub-command), or
    None when it cannot be read as one (a prompt, a pipe, a shell construct)."""
    import shlex
    try:
        words = shlex.split(line)[2:]
    except ValueError:
        return None
    options, index = [], 0
    while index < len(words):
        match = OPTION.match(words[index])
        if not match or any(c in words[index] for c in '|;&<>`$'):
            return None
        value = match.group(2)
        if value is None and index + 1 < len(words) and not words[index + 1].startswith('-'):
            value = words[index + 1]
            index += 1
        options.append((match.group(1), value))
        index += 1
    return options


def defines_option(package_dir, flag):
    """Whether the package's code declares the command-line option ``flag``."""
    quoted = re.compile(r'[\'"]%s[\'"]' % re.escape(flag))
    from tgdeploy.detect.projectfiles import python_files
    for path in python_files(package_dir)[:MAX_SOURCES]:
        try:
            if quoted.search(read_text(path)):
                return True
        except (IOError, OSError, UnicodeError, ValueError):
            continue
    return False


def front_end_dir(package_dir):
    """The folder of the package that holds its front end's package.json (npm), or None."""
    for root, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != 'node_modules' and not d.startswith('.'))
        if 'package.json' in files:
            return root
    return None
