"""Programs the project runs (read from its code, never run): the names it looks up with
``shutil.which('prog')`` / ``find_executable('prog')`` or runs with ``subprocess.*(['prog',
...])`` / ``os.system('prog ...')``; the doctor names each one this machine lacks on the
daemon processes' PATH (Apache's, plus the virtualenv's bin/), with where the project runs it.
"""
import os
import re

from tgdeploy.detect.projectfiles import python_files

LOOKUP = re.compile(r'\b(?:which|find_executable)\(\s*(?:u|r)?([\'"])([A-Za-z0-9][\w.+-]*)\1')
RUN = re.compile(r'\b(?:subprocess\.)?(?:call|check_call|check_output|run|Popen)\(\s*\[\s*'
                 r'(?:u|r)?([\'"])([A-Za-z0-9][\w.+-]*)\1')
SYSTEM = re.compile(r'\bos\.(?:system|popen)\(\s*(?:u|r)?([\'"])([A-Za-z0-9][\w.+-]*)[\s\'"]')
# The PATH of a daemon process: Apache's (systemd's default for a service).
DAEMON_PATH = ('/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin')
MAX_FILES = 400
# Python itself and the shells are there wherever the application runs at all.
ALWAYS = ('python', 'python3', 'python2', 'sh', 'bash', 'env')


def run_programs(project_dir):
    """[(program, path, line)] the project's modules look up or run, first place of each."""
    from tgdeploy.detect.startup_script import aside, read_text
    found, seen = [], set()
    for path in python_files(project_dir)[:MAX_FILES]:
        if aside(project_dir, path):
            continue
        try:
            text = read_text(path)
        except (IOError, OSError, UnicodeError, ValueError):
            continue
        for pattern in (LOOKUP, RUN, SYSTEM):
            for match in pattern.finditer(text):
                name = match.group(2)
                if name in seen or name in ALWAYS:
                    continue
                seen.add(name)
                found.append((name, path, text[:match.start()].count('\n') + 1))
    return sorted(found, key=lambda item: (item[1], item[2]))


def on_path(program, folders):
    return any(os.path.isfile(os.path.join(folder, program)) and
               os.access(os.path.join(folder, program), os.X_OK) for folder in folders)


def findings(project_dir, python_home):
    """[(level, text)]: a warning per program the daemon processes would not find."""
    folders = [os.path.join(python_home, 'bin')] if python_home else []
    folders += list(DAEMON_PATH)
    result = []
    for program, path, line in run_programs(project_dir):
        if not on_path(program, folders):
            result.append(('warning', '%s:%d: the project runs the program %s, which this '
                                      'machine lacks (not in %s): install it (its '
                                      'distribution package) before the application needs it'
                           % (os.path.relpath(path, project_dir), line, program,
                              ':'.join(folders))))
    return result
