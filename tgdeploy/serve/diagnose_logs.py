"""--diagnose: which log files this deployment writes, as its generated .conf names them
(ErrorLog, CustomLog, GlobalLog; a piped rotatelogs' dated files, a logrotate'd file's .1),
and their last lines, bounded: at most LIMIT bytes in all, newest files first, only files
written to within the time window, never through a symlink at the file itself (as root, a
log folder another user can write may hold a link to a file root alone may read)."""
import glob
import os
import re
import shlex
import stat

from tgdeploy.errors import TgDeployError
from tgdeploy.files import guarded_read, nofollow
from tgdeploy.serve.reload_conf import apache_words, conf_text

MIB = 1024 * 1024
LIMIT = 32 * MIB  # bytes read in all, from the end of the newest files
DIRECTIVES = {'errorlog': 'error', 'customlog': 'access', 'globallog': 'access',
              'transferlog': 'access'}
VARIABLE = re.compile(r'\$\{(\w+)\}')


class Log(object):
    """One log the .conf names: ``kind`` error or access, ``pattern`` the glob of its files,
    ``named`` the path as the .conf says it, ``skip`` a path never read (rotatelogs' link)."""

    def __init__(self, kind, named, pattern, skip=None):
        self.kind, self.named, self.pattern, self.skip = kind, named, pattern, skip

    def files(self):
        """The existing files of this log (rotated ones included, compressed ones not)."""
        found = set(glob.glob(self.pattern)) | set(glob.glob(self.pattern + '.[0-9]'))
        found = [f for f in found if not f.endswith('.gz') and f != self.skip]
        return sorted(found)


def named_logs(values):
    """(the Logs the deployed .conf names, the name of its daemon group or None): that
    .conf's, not this run's options' (--mount changes the name)."""
    text = conf_text(values.paths.conf_file)[0].replace('\\\n', ' ')
    logs, daemon = [], None
    for line in text.splitlines():
        words = apache_words(line)
        if words[1:] and words[0].lower() == 'wsgidaemonprocess' and daemon is None:
            daemon = words[1]
        kind = DIRECTIVES.get(words[0].lower()) if words else None
        if kind and len(words) > 1:
            log = make_log(kind, words[1], values)
            if log is not None:
                logs.append(log)
    return logs, daemon


def server_log(values, path=None, kind='server'):
    """The server's own error log (Debian's error.log, RHEL's error_log in the log folder),
    where Apache's parent writes the daemon processes' starts and deaths: only its lines
    naming this deployment's daemon group are read (diagnose.py)."""
    if path is None:
        folder = values.logs.path
        found = [os.path.join(folder, name) for name in ('error.log', 'error_log')
                 if folder and os.path.lexists(os.path.join(folder, name))]
        if not found:
            return None
        path = found[0]
    return Log(kind, path, path)


def make_log(kind, target, values):
    if target.startswith('|'):
        return piped_log(kind, target, values)
    if target.startswith('syslog:'):
        return None
    path = resolve(target, values)
    return Log(kind, target, glob.escape(path) if hasattr(glob, 'escape') else path)


def piped_log(kind, command, values):
    """rotatelogs' files: its pattern (strftime's %-fields as *) and its -L link."""
    try:
        words = shlex.split(command[1:])
    except ValueError:
        return None
    if not words or 'rotatelogs' not in os.path.basename(words[0]):
        return None
    link, rest, i = None, [], 1
    while i < len(words):
        if words[i] == '-L' and i + 1 < len(words):
            link = resolve(words[i + 1], values)
            i += 2
            continue
        if words[i] in ('-p', '-n') and i + 1 < len(words):
            i += 2
            continue
        if not words[i].startswith('-'):
            rest.append(words[i])
        i += 1
    if not rest:
        return None
    path = resolve(rest[0], values)
    return Log(kind, rest[0], re.sub(r'%[a-zA-Z]', '*', path), skip=link)


def resolve(path, values):
    """``path`` as Apache reads it: ${VAR} from the environment (Debian's envvars:
    APACHE_LOG_DIR), else the platform's log folder tgdeploy settled; relative to the
    server root (RHEL's logs/ is /var/log/httpd)."""
    log_text, log_path = values.logs.dir, values.logs.path

    def variable(match):
        if match.group(0) == log_text and log_path:
            return os.environ.get(match.group(1)) or log_path
        return os.environ.get(match.group(1), match.group(0))
    path = VARIABLE.sub(variable, path)
    if log_text and log_path and not os.path.isabs(log_text) and \
            path.startswith(log_text + '/'):
        path = log_path + path[len(log_text):]
    return path


def window_files(logs, since):
    """[(log, path, mtime)] of the files written since ``since`` (seconds since the epoch),
    newest first, and [(path, why not read)]."""
    chosen, refused = [], []
    for log in logs:
        for path in log.files():
            try:
                st = os.lstat(path)
            except OSError as e:
                refused.append((path, e.strerror))
                continue
            if stat.S_ISLNK(st.st_mode):
                refused.append((path, 'a symlink, not followed'))
            elif not stat.S_ISREG(st.st_mode):
                refused.append((path, 'not a regular file'))
            elif since is None or st.st_mtime >= since:
                chosen.append((log, path, st.st_mtime))
    chosen.sort(key=lambda item: -item[2])
    return chosen, refused


def read_tail(path, limit):
    """(text, bytes skipped at the start) of the last ``limit`` bytes of the regular file
    ``path``, from a line's start; opened without following a symlink at the file, nor, as
    root, one in a folder on its way that another user may change."""
    fd = guarded_read.open_guarded(path)
    try:
        size = os.fstat(fd).st_size
        start = max(0, size - limit)
        os.lseek(fd, start, os.SEEK_SET)
        data = guarded_read.read_fd(fd, size - start)
    finally:
        os.close(fd)
    if start:
        cut = data.find(b'\n')
        data = data[cut + 1:] if cut >= 0 else b''
        start = size - len(data)
    return data.decode('utf-8', 'replace'), start


def read_logs(logs, since, limit=LIMIT):
    """{'error': [(path, text)], 'access': [...]} oldest file first, the notes (files cut
    short, not read) and the paths looked at."""
    chosen, refused = window_files(logs, since)
    texts = {'error': [], 'access': [], 'server': []}
    notes = ['%s not read: %s' % item for item in refused]
    budget = limit
    for log, path, mtime in chosen:
        if budget < 64 * 1024:
            notes.append('%s not read: the %d MiB read in all were used by newer files'
                         % (path, limit // MIB))
            continue
        try:
            text, skipped = read_tail(path, budget)
        except OSError as e:
            notes.append('%s not read: %s' % (path, e.strerror))
            continue
        except TgDeployError as e:  # a symlink planted on its way (guarded_read.py)
            notes.append('%s not read: %s' % (path, e))
            continue
        if skipped:
            notes.append('%s: only its last %s read (%s before them skipped)'
                         % (path, size_text(budget), size_text(skipped)))
        budget -= len(text.encode('utf-8', 'replace'))
        texts[log.kind].insert(0, (path, text))
    return texts, notes


def size_text(size):
    return '%d MiB' % (size // MIB) if size >= MIB else '%d KiB' % (size // 1024)
