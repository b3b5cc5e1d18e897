"""The doctor's look at the distribution's own log rotation: does it restart Apache?

Debian's /etc/logrotate.d/apache2 and RHEL's /etc/logrotate.d/httpd reload Apache after they
rotate the server's logs, every night. That reload is a graceful restart, and on any
restart mod_wsgi's daemon processes get SIGTERM: requests they hold fail (BENCHMARKS.md,
"Reloading the application under load"). copytruncate rotates without a restart.
"""
import os
import re

from tgdeploy.projectfiles import read_text

# The file sits beside the Apache tree it rotates for: /etc/apache2 -> /etc/logrotate.d/apache2.
NAMES = {False: 'apache2', True: 'httpd'}
SCRIPT = re.compile(r'^\s*(?:postrotate|prerotate|lastaction|firstaction)\b(.*?)^\s*endscript\b',
                    re.M | re.S)
RESTART = re.compile(r'\b(reload|graceful|restart)\b|\bkill\b.*-(HUP|USR1)\b')
# A rotation file larger than this is not a distribution's; nothing to say about it.
MAX_BYTES = 1 << 20


def rotation_file(apache_root, rhel):
    if not apache_root:
        return None
    return os.path.join(os.path.dirname(os.path.abspath(apache_root)), 'logrotate.d',
                        NAMES[bool(rhel)])


def findings(values, apache_root, rhel):
    """[(level, text)]: a warning when the distribution's rotation restarts Apache under a
    daemon-mode deployment."""
    path = rotation_file(apache_root, rhel)
    if values['mode'] != 'daemon' or not path or not os.path.isfile(path):
        return []
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return []
        text = read_text(path)
    except (IOError, OSError):
        return []
    restarts = [line.strip() for block in SCRIPT.findall(text) for line in block.splitlines()
                if RESTART.search(line)]
    if not restarts:
        return []
    return [('warning', '%s restarts Apache after each rotation (%s): the daemon processes of '
                        '%s get SIGTERM every night and the requests they hold fail; put '
                        '"copytruncate" in that file in place of its scripts (apache/README.txt, '
                        'Logs)' % (path, shortened(restarts[0]), values['daemon_name']))]


def shortened(line):
    return line if len(line) <= 80 else line[:77] + '...'
