"""Step 4: put the rendered apache/ folder in place without losing anything.

A manifest records the checksum of every file tgdeploy wrote. On the next run a file
whose checksum still matches is ours to replace; one that differs was edited by the user
and is kept unless the user asked for --overwrite (then saved as .bak first). Files the
user added are carried over. The new folder is built completely beside the old one and
swapped in with renames, so a failure half-way leaves the previous apache/ as it was.
"""
import difflib
import hashlib
import io
import json
import os
import shutil
import tempfile

from tgdeploy.errors import TgDeployError

MANIFEST = '.tgdeploy-manifest'


class Changes(object):
    """How the rendered folder differs from the installed one, file by file."""

    def __init__(self):
        self.new = []        # not there yet
        self.updated = []    # ours, and the new rendering differs
        self.unchanged = []  # same bytes
        self.edited = []     # differs from what tgdeploy wrote: the user's edit
        self.stale = []      # ours, no longer generated: removed
        self.kept = []       # the user's own files: carried over

    def writes_anything(self):
        return bool(self.new or self.updated or self.edited or self.stale)


def make_staging(target_dir, simulate):
    """A scratch folder: beside the target, so the final rename stays on one filesystem."""
    parent = os.path.dirname(target_dir)
    if simulate:
        return tempfile.mkdtemp(prefix='tgdeploy-')
    if not os.path.isdir(parent):
        raise TgDeployError('cannot write %s: its parent folder %s does not exist'
                            % (target_dir, parent))
    if os.path.exists(target_dir) and not os.path.isdir(target_dir):
        raise TgDeployError('%s exists and is not a folder: move it away or pass --output-dir'
                            % target_dir)
    try:
        return tempfile.mkdtemp(prefix='.tgdeploy-', dir=parent)
    except OSError as e:
        raise TgDeployError('cannot write in %s (%s): run as a user who may, or pass '
                            '--output-dir' % (parent, e.strerror))


def compare(new_dir, target_dir):
    changes = Changes()
    manifest = read_manifest(target_dir)
    generated = set(list_files(new_dir))
    for name in sorted(generated):
        target = os.path.join(target_dir, name)
        if not os.path.exists(target):
            changes.new.append(name)
        elif read_bytes(target) == read_bytes(os.path.join(new_dir, name)):
            changes.unchanged.append(name)
        elif manifest.get(name) == checksum(target):
            changes.updated.append(name)
        else:
            changes.edited.append(name)
    for name in sorted(set(list_files(target_dir)) - generated - set([MANIFEST])):
        if manifest.get(name) == checksum(os.path.join(target_dir, name)):
            changes.stale.append(name)
        else:
            changes.kept.append(name)
    return changes


def apply(changes, new_dir, target_dir, overwrite):
    """Swap ``new_dir`` in as ``target_dir``; refuse to replace user edits without overwrite."""
    if changes.edited and not overwrite:
        raise TgDeployError(
            'you edited %s since tgdeploy wrote it: nothing was written; keep your edit, or '
            'pass --overwrite to replace it (saved as .bak), or --simulate to see the diff'
            % ', '.join(os.path.join(target_dir, name) for name in changes.edited))
    generated = list_files(new_dir)
    write_manifest(new_dir, generated)
    for name in changes.kept:
        copy_into(target_dir, new_dir, name, name)
    for name in changes.edited:
        copy_into(target_dir, new_dir, name, free_name(new_dir, name + '.bak'))
    if os.path.isdir(target_dir):
        shutil.copymode(target_dir, new_dir)
    swap(new_dir, target_dir)


def swap(new_dir, target_dir):
    if not os.path.exists(target_dir):
        os.rename(new_dir, target_dir)
        return
    old_dir = tempfile.mkdtemp(prefix='.tgdeploy-old-', dir=os.path.dirname(target_dir))
    old = os.path.join(old_dir, 'previous')
    os.rename(target_dir, old)
    try:
        os.rename(new_dir, target_dir)
    except OSError:
        os.rename(old, target_dir)
        raise
    finally:
        if os.path.exists(target_dir):
            shutil.rmtree(old_dir, ignore_errors=True)


def describe(changes, new_dir, target_dir, overwrite):
    """Lines saying what a run would do, with a diff for every file that would change."""
    lines = []
    for name in changes.new:
        lines.append('would create %s' % os.path.join(target_dir, name))
    for name in changes.updated:
        lines.append('would update %s' % os.path.join(target_dir, name))
        lines.extend(diff(target_dir, new_dir, name))
    for name in changes.edited:
        verb = 'would replace (saving a .bak)' if overwrite else 'edited by you, would refuse'
        lines.append('%s %s' % (verb, os.path.join(target_dir, name)))
        lines.extend(diff(target_dir, new_dir, name))
    for name in changes.stale:
        lines.append('would remove %s (no longer generated)' % os.path.join(target_dir, name))
    for name in changes.kept:
        lines.append('would keep your file %s' % os.path.join(target_dir, name))
    if not changes.writes_anything():
        lines.append('nothing would change in %s' % target_dir)
    return lines


def diff(old_dir, new_dir, name):
    old = read_bytes(os.path.join(old_dir, name)).decode('utf-8', 'replace').splitlines()
    new = read_bytes(os.path.join(new_dir, name)).decode('utf-8', 'replace').splitlines()
    return ['    ' + line.rstrip('\n') for line in difflib.unified_diff(
        old, new, 'installed/' + name, 'new/' + name, lineterm='')]


def list_files(directory):
    """Relative paths of every file below ``directory`` (none if it does not exist)."""
    found = []
    for dirpath, _, filenames in os.walk(directory):
        for filename in filenames:
            found.append(os.path.relpath(os.path.join(dirpath, filename), directory))
    return sorted(found)


def free_name(directory, name):
    """``name``, or name1, name2... if taken: an older backup is never replaced."""
    candidate, number = name, 0
    while os.path.exists(os.path.join(directory, candidate)):
        number += 1
        candidate = '%s%d' % (name, number)
    return candidate


def copy_into(src_dir, dst_dir, name, new_name):
    target = os.path.join(dst_dir, new_name)
    if not os.path.isdir(os.path.dirname(target)):
        os.makedirs(os.path.dirname(target))
    shutil.copy2(os.path.join(src_dir, name), target)


def read_manifest(target_dir):
    path = os.path.join(target_dir, MANIFEST)
    if not os.path.isfile(path):
        return {}
    try:
        with io.open(path, encoding='utf-8') as f:
            return json.load(f)['files']
    except (ValueError, KeyError):
        # A damaged manifest vouches for nothing: every differing file counts as edited.
        return {}


def write_manifest(new_dir, names):
    files = dict((name, checksum(os.path.join(new_dir, name))) for name in names)
    text = json.dumps({'written_by': 'tgdeploy', 'files': files}, indent=1, sort_keys=True)
    with io.open(os.path.join(new_dir, MANIFEST), 'w', encoding='utf-8') as f:
        f.write(u'%s\n' % text)


def checksum(path):
    return hashlib.sha256(read_bytes(path)).hexdigest()


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()
