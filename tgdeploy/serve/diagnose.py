"""tgdeploy --diagnose: read this deployment's error and access logs (the ones its .conf
names, rotated files included, within a time window, bounded: diagnose_logs.py), group what
they hold by kind (diagnose_messages.py: mod_wsgi 4.9/5.0/6.x's messages; Python tracebacks
by exception and deepest frame in the project; 5xx answers and their bursts; daemon starts),
and print per kind the count, first and last time, one sample, the cause and the fix.
Exit code as --doctor's: 0 nothing found, 1 warnings, 3 errors."""
import calendar
import os
import re
import time

from tgdeploy.errors import TgDeployError
from tgdeploy.serve import diagnose_logs, diagnose_messages as catalogue, error_log

DEFAULT_MINUTES = 24 * 60
MONTHS = dict((name, i + 1) for i, name in enumerate(
    'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split()))
ERROR_TIME = re.compile(r'^\[\w{3} (\w{3}) +(\d+) (\d\d):(\d\d):(\d\d)(?:\.\d+)? (\d{4})\] ')
# %h %l %u %t "%r" %>s ... (the combined format tgdeploy writes, %D at the end)
ACCESS = re.compile(r'^\S+ \S+ .*?\[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\] '
                    r'"([^"]*)" (\d{3}) ')
SCRIPT = re.compile(r'\[script [^\]]*\] ')
FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (.*)$')
BURST_SECONDS, BURST_COUNT = 60, 5
CODES = {catalogue.ERROR: 3, catalogue.WARNING: 1}


class Group(object):
    """Lines of one kind: count, first and last time, one sample, the processes."""

    def __init__(self, key, level, title, cause, fix):
        self.key, self.level, self.title, self.cause, self.fix = key, level, title, cause, fix
        self.count, self.first, self.last, self.sample = 0, None, None, None
        self.pids, self.extra = set(), []

    def add(self, when, sample, pid=None):
        self.count += 1
        if when is not None:
            self.first = when if self.first is None else min(self.first, when)
            self.last = when if self.last is None else max(self.last, when)
        if self.sample is None:
            self.sample = sample
        if pid:
            self.pids.add(pid)


def error_time(line, seen={}):
    """Seconds since the epoch of an error-log line's local time; None without one."""
    match = ERROR_TIME.match(line)
    if not match or match.group(1) not in MONTHS:
        return None
    fields = match.groups()
    if fields not in seen:  # many lines share their second
        if len(seen) > 10000:
            seen.clear()
        month, day, hour, minute, second, year = fields
        seen[fields] = time.mktime((int(year), MONTHS[month], int(day), int(hour),
                                    int(minute), int(second), 0, 0, -1))
    return seen[fields]


def access_entry(line):
    """(seconds since the epoch, request line, status) of a combined-format line, or None."""
    match = ACCESS.match(line)
    if not match or match.group(2) not in MONTHS:
        return None
    day, month, year, hour, minute, second, zone, request, status = match.groups()
    offset = (int(zone[1:3]) * 60 + int(zone[3:])) * 60 * (1 if zone[0] == '+' else -1)
    when = calendar.timegm((int(year), MONTHS[month], int(day), int(hour), int(minute),
                            int(second), 0, 0, 0)) - offset
    return when, request, int(status)


def error_lines(text, since):
    """[(time, pid, message)] of the error log ``text`` from ``since`` on; a line without a
    time (a traceback's, Python's own) takes the one before it."""
    found, when = [], None
    for line in text.splitlines():
        stamp = error_time(line)
        when = stamp if stamp is not None else when
        if since is not None and (when is None or when < since):
            continue
        match = error_log.PREFIX.match(line)
        pid, message = (match.group(1), line[match.end():]) if match else (None, line)
        script = SCRIPT.match(message)  # 6.x: what the application writes to wsgi.errors too
        found.append((when, pid, message[script.end():] if script else message))
    return found


def read_errors(lines, groups, project_dir):
    pairs = [(pid, message) for when, pid, message in lines]
    for index, (when, pid, message) in enumerate(lines):
        if message.startswith(error_log.TRACEBACK):
            block = error_log.traceback_at(pairs, index)
            key, title = traceback_kind(block, project_dir)
            group = groups.get(key) or groups.setdefault(key, Group(
                key, 'error', title, 'an exception raised in Python, logged by mod_wsgi',
                'the frame named above is where to look; the script-failed or '
                'request-exception line before it says whether it was the start-up or a '
                'request'))
            group.add(when, ' | '.join(line.strip() for line in block[-3:]), pid)
            continue
        message = catalogue.plain(message)
        kind, match = catalogue.classify(message)
        if kind is None:
            continue
        group = groups.get(kind.id) or groups.setdefault(kind.id, Group(
            kind.id, kind.level, kind.title, kind.cause, kind.fix))
        group.add(when, message, pid)
        names = match.groupdict()
        detail = names.get('signal') or names.get('what')
        if detail and 'signal %s' % detail not in group.extra:
            group.extra.append('signal %s' % detail)


def traceback_kind(block, project_dir):
    """('traceback:Exception:file:line', title) of a traceback: its exception and the
    deepest frame in the project (the last one when none is)."""
    exception = block[-1].strip() if block else ''
    name = exception.split(':', 1)[0] or 'an unfinished traceback'
    frames = [FRAME.match(line) for line in block]
    frames = [m.groups() for m in frames if m]
    inside = [f for f in frames if project_dir and
              f[0].startswith(project_dir.rstrip('/') + '/') and '/site-packages/' not in f[0]]
    where = (inside or frames or [None])[-1]
    if where is None:
        return 'traceback:%s' % name, 'Python traceback: %s' % name
    path = where[0]
    if inside:
        path = path[len(project_dir.rstrip('/')) + 1:]
    place = '%s:%s in %s' % (path, where[1], where[2])
    return ('traceback:%s:%s' % (name, place),
            'Python traceback: %s at %s%s' % (name, place, '' if inside else
                                                 ' (no frame in the project)'))


STATUS_CAUSES = {
    500: ('an exception in the application, or a daemon that died or timed out mid-request',
          'the traceback and daemon lines of the error log at the same times'),
    502: ('mod_wsgi 6.x cut a request stuck past request-timeout, or a proxy behind failed',
          'the request-timeout lines; fix the slow URLs or raise --request-timeout'),
    503: ('the daemon processes could not be reached (start-up failure, restart, full queue)',
          'the daemon-unreachable and script-failed lines; tgdeploy --check'),
    504: ('requests waited longer than --queue-timeout for a free daemon thread',
          'more --processes/--threads, or fix what keeps the threads busy'),
}


def read_access(text, since, groups):
    for line in text.splitlines():
        entry = access_entry(line)
        if entry is None or (since is not None and entry[0] < since) or entry[2] < 500:
            continue
        when, request, status = entry
        cause, fix = STATUS_CAUSES.get(status, ('the server answered %d' % status,
                                                'the error log at the same times'))
        key = 'http-%d' % status
        group = groups.get(key) or groups.setdefault(key, Group(
            key, 'error', 'answers %d in the access log' % status, cause, fix))
        group.add(when, request)
        group.extra.append(when)


def bursts(times):
    """The largest number of ``times`` within BURST_SECONDS, and when that stretch began."""
    times, best, start, j = sorted(times), 0, None, 0
    for i, when in enumerate(times):
        while when - times[j] > BURST_SECONDS:
            j += 1
        if i - j + 1 > best:
            best, start = i - j + 1, times[j]
    return best, start


def shown_time(when):
    return '-' if when is None else time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(when))


def report(groups, out):
    """Print the groups, worst first; return the exit code."""
    order = dict((level, i) for i, level in enumerate(catalogue.LEVELS))
    code = 0
    for group in sorted(groups.values(), key=lambda g: (order[g.level], -g.count, g.key)):
        extra = group.extra
        if group.key.startswith('http-'):
            most, start = bursts(extra)
            extra = ['a burst of %d within %d s from %s' % (most, BURST_SECONDS,
                                                           shown_time(start))] \
                if most >= BURST_COUNT else []
        out('%s [%s] %s: %d time%s, %s to %s%s' % (
            group.level, group.key, group.title, group.count, '' if group.count == 1 else 's',
            shown_time(group.first), shown_time(group.last),
            ''.join('; ' + str(e) for e in extra)))
        if group.pids:
            out('  processes: %s' % ', '.join(sorted(group.pids, key=int)))
        out('  sample: %s' % group.sample)
        out('  cause: %s' % group.cause)
        out('  fix: %s' % group.fix)
        code = max(code, CODES.get(group.level, 0))
    return code


# Ten years: any log older than that is not this deployment's (and a larger number would not
# fit the time arithmetic).
MAX_MINUTES = 10 * 366 * 24 * 60


def minutes(since):
    """The minutes of --since MINUTES (None: the default day)."""
    if since is None or since == '':
        return None
    try:
        value = int(since)
    except ValueError:
        value = -1
    if value < 0 or value > MAX_MINUTES:
        raise TgDeployError('--since %s: give a number of minutes, as in --since 60 (0: as far '
                            'back as the logs go; default %d, a day)' % (since, DEFAULT_MINUTES))
    return value


def diagnose(values, out, minutes=None, limit=diagnose_logs.LIMIT, now=None,
             server_log=None):
    """Read the deployment's logs of the last ``minutes`` (default a day) and print what
    they hold; the exit code. ``server_log``: the server's own error log, if not the
    platform's (error.log in its log folder)."""
    minutes = DEFAULT_MINUTES if minutes is None else minutes
    since = (now or time.time()) - minutes * 60 if minutes else None
    if not os.path.lexists(values.paths.conf_file):
        raise TgDeployError('%s is not there: --diagnose reads the logs the deployed config '
                            'names; deploy first (tgdeploy), or name the project folder'
                            % values.paths.conf_file)
    logs, daemon = diagnose_logs.named_logs(values)
    # Without an ErrorLog of its own (no --server-name) the errors are in the server's.
    own_errors = any(log.kind == 'error' for log in logs)
    server = diagnose_logs.server_log(values, server_log, 'server' if own_errors else 'error')
    if server and (daemon or not own_errors):
        logs.append(server)
    looked = ', '.join(log.pattern for log in logs) or 'none named'
    if not any(log.files() for log in logs):
        raise TgDeployError('no log file of this deployment to read: %s names %s, and none '
                            'exists yet (no request served since the deploy? another '
                            '--log-dir?)' % (values.paths.conf_file, looked))
    texts, notes = diagnose_logs.read_logs(logs, since, limit)
    if not own_errors and server:
        notes.append('%s names no ErrorLog of its own (no --server-name): the server\'s, %s, '
                     'is read whole, other sites\' lines included' % (values.paths.conf_file,
                                                                      server.named))
    groups = {}
    for path, text in texts['error']:
        read_errors(error_lines(text, since), groups, values.paths.project_dir)
    for path, text in texts['server']:  # the lines about this deployment's daemons
        named = "'%s'" % daemon
        lines = [line for line in error_lines(text, since) if named in line[2]]
        read_errors(lines, groups, values.paths.project_dir)
    for path, text in texts['access']:
        read_access(text, since, groups)
    read = [path for kind in ('error', 'access', 'server') for path, text in texts[kind]]
    out('read %s (%s)' % (', '.join(read) or 'no file written to in the window',
                          'the last %d minutes' % minutes if minutes else 'every line'))
    for note in notes:
        out('  note: ' + note)
    if not groups:
        out('nothing found')
        return 0
    return report(groups, out)
