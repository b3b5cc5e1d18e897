"""Reading Apache's error log for --check: the first Python traceback of a stretch of it, whole,
with the mod_wsgi line that names what failed. A daemon whose start-up failed logs the real
cause once; every later request re-imports the application and logs a secondary error
(`class Visit is already in the registry`, `NotReady`), so the first one is the one to show.
Lines of several processes interleave: a traceback is followed in its own process's lines."""
import re

# [time] [module:level] [pid N:tid M] [remote|client ADDRESS] message
PREFIX = re.compile(r'^\[[^\]]*\] \[[^\]]*\] \[pid (\d+)[^\]]*\](?: \[(?:remote|client) [^\]]*\])?'
                    r' ?')
TRACEBACK = 'Traceback (most recent call last):'
MAX_LINES = 60


def entries(text):
    """[(pid or None, message)] of the log ``text``."""
    found = []
    for line in text.splitlines():
        match = PREFIX.match(line)
        found.append((match.group(1), line[match.end():]) if match else (None, line))
    return found


def first_traceback(text):
    """The lines of the first traceback in ``text`` (with the mod_wsgi line before it, if any),
    up to and including its exception line; [] when there is none."""
    lines = entries(text)
    for index, (pid, message) in enumerate(lines):
        if message.startswith(TRACEBACK):
            return traceback_at(lines, index)
    return []


def traceback_at(lines, index):
    """The traceback starting at ``lines[index]`` ([(pid, message)]), as first_traceback
    gives it (--diagnose reads every one)."""
    pid, message = lines[index]
    block = [message]
    if index and lines[index - 1][0] == pid and 'mod_wsgi (pid=' in lines[index - 1][1]:
        block.insert(0, lines[index - 1][1])
    for other, line in lines[index + 1:index + 1 + 20 * MAX_LINES]:
        if other != pid:
            continue
        block.append(line)
        if line[:1] not in (' ', '\t', '') or len(block) >= MAX_LINES:
            break  # the exception line ends it
    return block


def complete(block):
    """Whether a traceback block got as far as its exception line (a process may still be
    writing it)."""
    return len(block) > 1 and not block[-1].startswith((' ', '\t', TRACEBACK)) and \
        block[-1] != ''
