"""The doctor's look at how this deployment's logs will be rotated.

- The distribution's own rotation of Apache's logs (Debian's /etc/logrotate.d/apache2, RHEL's
  /etc/logrotate.d/httpd) reloads Apache every night. That reload is a graceful restart,
  and on any restart mod_wsgi's daemon processes get SIGTERM: requests they hold fail
  (BENCHMARKS.md, "Reloading the application under load"). copytruncate needs no restart.
- The access log is piped through Apache's rotatelogs: it must be there, and know -D (make
  the folder) and -L (the link to today's file), or Apache serves on and logs nothing.
- Apache and rotatelogs run as root when they open files in the log folder: a folder
  someone else may write lets them plant a symlink that root then writes through (Apache's
  security tips).
"""
import os
import re
import stat
import subprocess

from tgdeploy.detect.projectfiles import read_text

# The distribution's file sits beside the Apache tree it rotates for:
# /etc/apache2 -> /etc/logrotate.d/apache2, /etc/httpd -> /etc/logrotate.d/httpd.
NAMES = {False: 'apache2', True: 'httpd'}
SCRIPT = re.compile(r'^\s*(?:postrotate|prerotate|lastaction|firstaction)\b(.*?)^\s*endscript\b',
                    re.M | re.S)
APACHE = re.compile(r'apache|httpd', re.I)
RESTART = re.compile(r'\b(reload|graceful|restart)\b|'
                     r'\b(kill|pkill|killall)\b.*-(s\s*)?(SIG)?(HUP|USR1|1|10)\b', re.I)
# A rotation file larger than this is not a distribution's; nothing to say about it.
MAX_BYTES = 1 << 20


def findings(values, apache_root, rhel):
    """[(level, text)] about the rotation of this deployment's logs."""
    found = distribution_findings(values, rotation_file(apache_root, rhel))
    apache = values.apache
    if (apache.server_name or apache.version == '2.4') and not values.paths.elsewhere:
        if values.logs.piped_access:
            found += rotatelogs_findings(values)
        found += folder_findings(values)
    return found


def rotation_file(apache_root, rhel):
    if not apache_root:
        return None
    return os.path.join(os.path.dirname(os.path.abspath(apache_root)), 'logrotate.d',
                        NAMES[bool(rhel)])


def distribution_findings(values, path):
    if values.apache.mode != 'daemon' or not path or not os.path.isfile(path):
        return []
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return []
        text = read_text(path)
    except (IOError, OSError):
        return []
    restarts = [line.strip() for line in script_lines(text)
                if APACHE.search(line) and RESTART.search(line)]
    if not restarts:
        return []
    return [('warning', '%s restarts Apache after each rotation (%s): the daemon processes of '
                        '%s get SIGTERM every night and the requests they hold fail; put '
                        '"copytruncate" in that file in place of its scripts (apache/README.txt, '
                        'Logs)' % (path, shortened(restarts[0]), values.daemon.name))]


def script_lines(text):
    """The command lines of a logrotate file's scripts, comments left out."""
    for block in SCRIPT.findall(text):
        for line in block.splitlines():
            line = line.split('#', 1)[0].strip()
            if line:
                yield line


def rotatelogs_findings(values):
    program = values.logs.rotatelogs
    if not os.path.isfile(program):
        return [('error', 'the access log is piped through %s, which is not installed: Apache '
                          'would serve and log no request; apt-get install apache2-utils (RHEL: '
                          'dnf install httpd-tools)' % program)]
    usage = usage_text(program)
    wanted = ['-D', '-L'] if values.apache.version == '2.4' else []
    missing = [flag for flag in wanted if not re.search(r'^\s*%s\s' % flag, usage, re.M)]
    if usage and missing:
        return [('error', '%s does not know %s (an older Apache\'s): Apache would serve and log '
                          'no request; install the rotatelogs of a current Apache 2.4'
                          % (program, ' and '.join(missing)))]
    return []


def usage_text(program):
    """What rotatelogs prints when run without arguments ('' if it cannot be run)."""
    try:
        run = subprocess.Popen([program], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        out, _ = run.communicate(b'')
    except (IOError, OSError):
        return ''
    return out.decode('utf-8', 'replace')


def folder_findings(values):
    """The log folder and this deployment's folder in it, where they exist: root's alone?
    With Apache 2.2, whose rotatelogs cannot make it, the deployment's folder must exist."""
    found = []
    folder = os.path.join(values.logs.path, values.logs.folder)
    if values.logs.piped_access and values.apache.version == '2.2' and not os.path.isdir(folder):
        found.append(('error', '%s does not exist, and Apache 2.2\'s rotatelogs cannot make it: '
                               'Apache would serve and log no request; install %s.tmpfiles and '
                               'run systemd-tmpfiles --create (apache/README.txt), or mkdir it'
                      % (folder, values.project.slug)))
    for path in (values.logs.path, folder):
        try:
            info = os.stat(path)
        except (IOError, OSError):
            continue
        if info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            found.append(('warning', '%s may be written by others than root (owner uid %d, mode '
                                     '%04o), and Apache opens its logs there as root: '
                                     'a symlink planted in it makes root write where it points; '
                                     'chown root %s && chmod go-w %s'
                          % (path, info.st_uid, stat.S_IMODE(info.st_mode), path, path)))
            break
    return found


def shortened(line):
    return line if len(line) <= 80 else line[:77] + '...'
