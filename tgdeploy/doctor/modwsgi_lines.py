"""What each mod_wsgi line a user can get means for a deployment: which line a Python gets
from pip, and the settings a given version cannot carry.

The lines (tests/test_mod_wsgi_lines.py measures them under the generated config):
- 4.9.4: Debian 12's package; the last release for Python 2.7.
- 5.0.2: Debian 13's package; the last release for Python 3.8 and 3.9.
- 6.x: what `pip install mod_wsgi` builds on Python 3.10 and later. 6.0.0 dropped Python
  < 3.10 and Apache 2.2; 6.0.0-6.0.4 can fail or cut short request bodies when script
  reloading is off and queue-timeout is 0 (mod_wsgi's release notes for 6.0.5); 6.0 added
  interrupt-timeout, which an earlier mod_wsgi refuses.
"""

LAST_FOR_PYTHON2 = (4, 9, 4)
LAST_FOR_PYTHON38 = (5, 0, 2)  # and 3.9
FIRST_OF_6 = (6, 0, 0)
BODIES_FIXED = (6, 0, 5)


def dotted(version):
    return '.'.join(str(n) for n in version)


def pip_requirement(python_version):
    """The mod_wsgi requirement pip can meet for Python ``python_version`` ('3.9.18')."""
    major_minor = tuple(int(n) for n in python_version.split('.')[:2])
    if major_minor < (3, 0):
        return 'mod_wsgi==' + dotted(LAST_FOR_PYTHON2)
    if major_minor < (3, 10):
        return 'mod_wsgi==' + dotted(LAST_FOR_PYTHON38)
    return 'mod_wsgi>=' + dotted(BODIES_FIXED)


def line_problems(version, values):
    """One-line problems (each with its fix) of mod_wsgi ``version`` (a tuple) for the
    settled ``values``; [] when the version is unknown or fits."""
    return [text for _, text in identified_problems(version, values)]


def identified_problems(version, values):
    """line_problems() with the doctor's id of each (doctor/ids.py)."""
    if not version:
        return []
    problems = []
    if version >= FIRST_OF_6 and values.apache.version == '2.2':
        problems.append(('TGD-E003', 'mod_wsgi %s needs Apache 2.4 (6.0 dropped Apache 2.2): '
                                     'load a mod_wsgi before 6 (pip install "mod_wsgi<6") or '
                                     'drop --apache 2.2' % dotted(version)))
    if FIRST_OF_6 <= version < BODIES_FIXED and values.apache.mode == 'daemon' and \
            not values.apache.script_reloading and str(values.daemon.queue_timeout) == '0':
        problems.append(('TGD-E004', 'mod_wsgi %s can fail or cut short request bodies with '
                                     '--script-reloading no and --queue-timeout 0 (fixed in '
                                     '%s): pip install "mod_wsgi>=%s", or drop one of the two '
                                     'options' % (dotted(version), dotted(BODIES_FIXED),
                                                  dotted(BODIES_FIXED))))
    if version < FIRST_OF_6 and values.daemon.interrupt_timeout:
        problems.append(('TGD-E042', 'mod_wsgi %s does not know interrupt-timeout (6.0 added '
                                     'it) and Apache refuses the config: pip install '
                                     '"mod_wsgi>=%s", or drop --interrupt-timeout'
                                     % (dotted(version), dotted(BODIES_FIXED))))
    return problems
