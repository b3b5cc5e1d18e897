"""--reload's release check: the first traceback of the check's output, cut to what a user
needs (the project's own frames; the libraries' in between counted, not shown)."""

HEAD = 'Traceback (most recent call last):'
MAX_LINES = 40


def first_traceback(text):
    """The lines of the first traceback in ``text`` (its exception line included), or []."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.strip() == HEAD:
            indent = len(line) - len(line.lstrip())
            block = [line[indent:]]
            for following in lines[start + 1:]:
                following = following[indent:] if following[:indent].isspace() else following
                if following.startswith('File "'):  # a SyntaxError's place, as some loggers
                    following = '  ' + following  # write it: one of the frames
                block.append(following)
                if following and not following[0].isspace():  # the exception line
                    break
            return block
    return []


def frames(block):
    """[(header line, [its lines])] of a traceback's body (without HEAD and the exception)."""
    found = []
    for line in block:
        if line.startswith('  File '):
            found.append((line, [line]))
        elif found:
            found[-1][1].append(line)
    return found


def in_project(header, places):
    name = header.split('"', 2)[1] if header.count('"') >= 2 else ''
    return any(name == place or name.startswith(place.rstrip('/') + '/') for place in places)


def trimmed(block, places):
    """The traceback with the frames outside ``places`` (the project's folder, the .wsgi)
    left out and counted; whole when none is inside (a project installed elsewhere)."""
    if not block:
        return []
    body = [line for line in block[1:] if line and line[0].isspace()]
    tail = [line for line in block[1:] if line and not line[0].isspace()]
    # The check's own frames (release_child.py, run as python -c) are no one's business.
    found = [frame for frame in frames(body) if not frame[0].startswith('  File "<string>"')]
    if not any(in_project(header, places) for header, _ in found):
        return cut([block[0]] + [line for _, its_lines in found for line in its_lines] + tail)
    lines, skipped = [block[0]], 0
    for header, its_lines in found:
        if in_project(header, places):
            if skipped:
                lines.append('  ... %d %s outside the project' % (
                    skipped, 'frame' if skipped == 1 else 'frames'))
                skipped = 0
            lines.extend(its_lines)
        else:
            skipped += 1
    if skipped:
        lines.append('  ... %d %s outside the project' % (
            skipped, 'frame' if skipped == 1 else 'frames'))
    return cut(lines + tail)


def cut(lines):
    if len(lines) <= MAX_LINES:
        return lines
    keep = MAX_LINES // 2
    return lines[:keep] + ['  ... (%d lines)' % (len(lines) - 2 * keep)] + lines[-keep:]


def exception_line(lines):
    """The exception a traceback ends with (``SyntaxError: invalid syntax``), or ''."""
    tail = [line for line in lines if line and not line[0].isspace() and line != HEAD]
    return tail[-1] if tail else ''
