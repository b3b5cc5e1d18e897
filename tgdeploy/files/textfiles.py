"""The one rule for the text of the project's files, on Python 2.7 and 3.x alike.

Reading: the bytes are decoded by, in this order, their byte order mark (UTF-8, UTF-16,
UTF-32), the ``coding`` line of their first two lines (PEP 263, ``# -*- coding: latin-1 -*-``,
when it names an ASCII-compatible text codec that decodes them), UTF-8, Windows-1252 (what
Latin-1 files written on Windows are), and Latin-1, which decodes anything. Line ends become
``\\n``. Nothing here raises on what a file holds.

Writing what tgdeploy derives from such a file (the deployment .cfg or .ini): in the source's
encoding, so that every line the deployment keeps is byte for byte what the application read
before (its byte order mark too); UTF-8 if a character tgdeploy adds (a path) has no place
in that encoding.
"""
import codecs
import io
import os
import re

from tgdeploy.files import guarded_read
from tgdeploy._compat import PY2

BOMS = ((codecs.BOM_UTF8, 'utf-8-sig'),
        (codecs.BOM_UTF32_LE, 'utf-32'), (codecs.BOM_UTF32_BE, 'utf-32'),
        (codecs.BOM_UTF16_LE, 'utf-16'), (codecs.BOM_UTF16_BE, 'utf-16'))
CODING = re.compile(br'^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)')
FALLBACKS = ('utf-8', 'cp1252', 'latin-1')
ASCII_PROBE = b'# key = value [section]\n'


def decode(data):
    """(text, encoding) of the bytes ``data`` by the rule above."""
    for encoding in candidates(data):
        try:
            text = data.decode(encoding)
        except (UnicodeError, LookupError):
            continue
        return normal_lines(text), encoding
    return normal_lines(data.decode('latin-1')), 'latin-1'  # not reached: latin-1 decodes all


def candidates(data):
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return [encoding]
    declared = coding_line(data)
    return ([declared] if declared else []) + list(FALLBACKS)


def coding_line(data):
    """The codec a PEP 263 coding line in the first two lines names, if Python has it and it
    reads ASCII as ASCII (utf-16 or rot13 named there are not what the file is in)."""
    for line in data.split(b'\n', 2)[:2]:
        match = CODING.match(line)
        if match:
            name = match.group(1).decode('ascii')
            try:
                codecs.lookup(name)
                if ASCII_PROBE.decode(name) == ASCII_PROBE.decode('ascii'):
                    return name
            except (LookupError, UnicodeError, TypeError, ValueError):
                return None
            return None
        if not re.match(br'^[ \t\f]*(#.*)?\r?$', line):
            return None  # PEP 263: the second line counts only after a comment or blank line
    return None


def normal_lines(text):
    return text.replace(u'\r\n', u'\n').replace(u'\r', u'\n')


def read_bytes(path, limit=None):
    """As root, no symlink is followed below a folder another user can change
    (guarded_read.py)."""
    return guarded_read.read_bytes(path, limit)


def read_text(path, limit=None):
    """The text of the file at ``path`` (the first ``limit`` bytes when given)."""
    return decode(read_bytes(path, limit))[0]


def read_with_encoding(path):
    """(text, encoding) of the file at ``path``."""
    return decode(read_bytes(path))


def encoding_of(path):
    return decode(read_bytes(path))[1]


def encode(text, encoding):
    """``text`` as bytes in ``encoding``, else (a character it cannot hold) in UTF-8."""
    try:
        return text.encode(encoding)
    except (UnicodeError, LookupError):
        return text.encode('utf-8')


def recode(path, encoding):
    """Rewrite the UTF-8 file at ``path`` (as the templates write) in ``encoding``."""
    if encoding in ('utf-8', 'ascii', None):
        return
    text = read_bytes(path).decode('utf-8')
    with io.open(path, 'wb') as f:
        f.write(encode(text, encoding))


def derived_files(values):
    """[(file name, encoding)] of the files tgdeploy derives from the project's config, in
    the encoding of that config."""
    source = values.config.source
    names = [(values.project.slug + '.cfg', values.tg1.cfg),
             (values.project.slug + '.ini', values.config.derived_ini)]
    wanted = [name for name, text in names if text]
    if not wanted or not source:
        return []
    try:
        encoding = encoding_of(source)
    except (IOError, OSError):
        return []
    return [(name, encoding) for name in wanted]


def recode_rendered(values, dest):
    """After the templates (which write UTF-8): the derived config in its source's encoding."""
    for name, encoding in derived_files(values):
        path = os.path.join(dest, name)
        if os.path.isfile(path):
            recode(path, encoding)


class Text(type(u'')):
    """Python 2.7: text that str() turns into UTF-8 (PasteScript's copy_dir calls str() on
    every template value to substitute file names, and fails on any non-ASCII one)."""

    def __str__(self):
        return self.encode('utf-8')


def template_values(values):
    """The templates' names for the settled ``values`` (settle/settled.py), as this Python
    may take them."""
    return (values.map(as_text) if PY2 else values).namespace()


def as_text(value):
    """Python 2.7: every text in ``value`` (lists, tuples, dicts too) as Text."""
    if isinstance(value, type(u'')):
        return Text(value)
    if isinstance(value, (list, tuple)):
        return type(value)(as_text(item) for item in value)
    if isinstance(value, dict):
        return dict((key, as_text(item)) for key, item in value.items())
    return value
