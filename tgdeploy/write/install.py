"""Step 4: put the rendered apache/ folder in place without losing anything.

A manifest records the checksum of every file tgdeploy wrote. On the next run a file
whose checksum still matches is ours to replace; one that differs was edited by the user
and is kept unless the user asked for --overwrite (then saved as .bak first). Whatever
else the user put in apache/ (files, symlinks, dangling ones too, folders, empty or not) is
carried over as it was: content, owner, group, mode. FIFOs, sockets and devices are
refused, never opened. The new folder is built completely in staging and swapped in by
swap.py, under a lock, so a failure or a kill at any moment leaves a whole apache/.
The installed folder is read through descriptors that follow no symlink (nofollow.py):
its owner may not be the user running tgdeploy, and may change it while it runs.
"""
import difflib
import grp
import hashlib
import io
import json
import os
import shutil
import stat
import tempfile

from tgdeploy.files import nofollow, textfiles

from tgdeploy.settle import production

from tgdeploy.write import seams, swap
from tgdeploy.write.copying import (FILE, FOLDER, SPECIAL, copy_entry, copy_stat, copy_tree,
                              free_name, kind_of)
from tgdeploy.errors import TgDeployError

MANIFEST = '.tgdeploy-manifest'



class Changes(object):
    """How the rendered folder differs from the installed one, entry by entry."""

    def __init__(self):
        self.new = []        # not there yet
        self.updated = []    # ours, and the new rendering differs
        self.unchanged = []  # same bytes
        self.edited = []     # differs from what tgdeploy wrote: the user's edit
        self.stale = []      # ours, no longer generated: removed
        self.kept = []       # the user's own entries: carried over as they are
        self.foreign = []    # staging-like folders not tgdeploy's: left alone, named

    def writes_anything(self):
        return bool(self.new or self.updated or self.edited or self.stale)

    def kept_to_report(self, entries):
        """Kept entries minus the folders whose kept contents already name them."""
        return [name for name in self.kept
                if not (entries[name] == FOLDER and
                        any(other.startswith(name + os.sep) for other in self.kept))]


def write(values, overwrite, render):
    """Render with ``render(values, staging)`` and install into values.paths.apache_dir, under
    the target's lock. Returns (Changes, the installed entries)."""
    target = real_target(values.paths.apache_dir)
    check_parent(target)
    return install_folder(target, lambda new_dir: render(values, new_dir), overwrite,
                          values.production.secret_files, values.daemon.group)


def install_folder(target, render, overwrite, secret_files=(), group=None, manifest=True,
                   refuse=None):
    """Render with ``render(staging)`` and put the result in place of ``target``, keeping
    what the user added (without a ``manifest``, every differing file is an edit);
    ``refuse(changes, target, overwrite)`` raises for edits (refuse_edits by default)."""
    with swap.Lock(target) as lock:
        locked = lock.path(target)  # below the locked folder's own descriptor
        foreign = []
        swap.recover(lock.anchor, foreign)
        seams.reached('locked')
        current = open_target(locked)
        try:
            new_dir = swap.make_staging(locked)
            try:
                seams.reached('staged')
                render(new_dir)
                seams.reached('rendered')
                changes, entries = compare(new_dir, current, manifest)
                changes.foreign = foreign
                (refuse or refuse_edits)(changes, target, overwrite)
                protect_secrets(new_dir, current, secret_files, group)
                keep_modes(changes, new_dir, current, secret_files)
                carry_over(changes, entries, new_dir, current, manifest, secret_files)
                seams.reached('additions-copied')
                swap.swap(new_dir, locked)
            finally:
                if swap.staging_of(new_dir) in swap.STAGED:
                    swap.discard(swap.staging_of(new_dir))
        finally:
            if nofollow.is_anchor(current):
                os.close(int(current.rsplit('/', 1)[1]))
                nofollow.forget(current)
    return changes, entries


def open_target(locked):
    """The installed folder through a descriptor of its own, so a symlink put in its place
    later is never followed; ``locked`` itself when there is none yet."""
    if not os.path.lexists(locked):
        return locked
    return nofollow.anchor(nofollow.open_dir(locked), locked)


def simulate(values, overwrite, render):
    """(Changes, the lines a run would report, with diffs); writes nothing outside a temp
    folder, and refuses what the run would refuse."""
    target = real_target(values.paths.apache_dir)
    check_parent(target)
    scratch = tempfile.mkdtemp(prefix='tgdeploy-')
    try:
        new_dir = os.path.join(scratch, 'new')
        render(values, new_dir)
        changes, _ = compare(new_dir, target)
        return changes, describe(changes, new_dir, target, overwrite)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def real_target(target):
    # A symlinked apache/ stays a symlink: the swap happens where it points.
    return os.path.realpath(target) if os.path.islink(target) else target


def check_parent(target):
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        raise TgDeployError('cannot write %s: its parent folder %s does not exist'
                            % (target, parent))
    if os.path.lexists(target) and not os.path.isdir(target):
        raise TgDeployError('%s exists and is not a folder: move it away or pass --output-dir'
                            % target)


# -- comparing ------------------------------------------------------------------------

def compare(new_dir, target_dir, manifest=True):
    """(Changes, {relative path: kind} of the installed folder)."""
    changes = Changes()
    installed = entries_below(target_dir)
    refuse_special(installed, target_dir)
    manifest = read_manifest(target_dir, installed) if manifest else {}
    generated = entries_below(new_dir)
    for name in sorted(generated):
        kind = installed.get(name)
        if generated[name] == FOLDER:
            if kind not in (None, FOLDER):
                changes.edited.append(name)  # the user put a file or a link in its place
        elif kind is None:
            changes.new.append(name)
        elif kind != FILE:
            changes.edited.append(name)  # the user put a link or a folder in its place
        elif read_bytes(os.path.join(target_dir, name)) == \
                read_bytes(os.path.join(new_dir, name)):
            changes.unchanged.append(name)
        elif manifest.get(name) == checksum(os.path.join(target_dir, name)):
            changes.updated.append(name)
        else:
            changes.edited.append(name)
    for name in sorted(set(installed) - set(generated) - set([MANIFEST])):
        if installed[name] == FILE and \
                manifest.get(name) == checksum(os.path.join(target_dir, name)):
            changes.stale.append(name)
        elif not inside_any(name, changes.edited):
            changes.kept.append(name)
    return changes, installed


def inside_any(name, folders):
    return any(name.startswith(folder + os.sep) for folder in folders)


def entries_below(directory):
    """{relative path: kind} of everything below ``directory``, symlinks not followed."""
    found = {}
    if not nofollow.is_dir(directory):
        return found
    pending = ['']
    while pending:
        relative = pending.pop()
        for name in nofollow.listdir(os.path.join(directory, relative)):
            path = os.path.join(relative, name)
            kind = kind_of(nofollow.lstat(os.path.join(directory, path)).st_mode)
            found[path] = kind
            if kind == FOLDER:
                pending.append(path)
    return found


def refuse_special(entries, target_dir):
    for name in sorted(entries):
        if entries[name] == SPECIAL:
            raise TgDeployError('%s is not a file, folder or symlink (a FIFO, socket or device): '
                                'tgdeploy never opens those; move it out of %s and run again'
                                % (nofollow.shown(os.path.join(target_dir, name)),
                                   nofollow.shown(target_dir)))


# -- installing -----------------------------------------------------------------------

def refuse_edits(changes, target_dir, overwrite):
    if changes.edited and not overwrite:
        raise TgDeployError(
            'you edited %s since tgdeploy wrote it: nothing was written; keep your edit, or '
            'pass --overwrite to replace it (saved as .bak), or --simulate to see the diff'
            % ', '.join(os.path.join(target_dir, name) for name in changes.edited))


def protect_secrets(new_dir, target_dir, names, group):
    """Files holding secrets: readable by the daemon's group, never by others (0640), or
    as the operator had them if that was stricter (owner only)."""
    for name in names:
        path, old = os.path.join(new_dir, name), os.path.join(target_dir, name)
        st = lstat_or_none(old)
        if st and stat.S_ISREG(st.st_mode) and not stat.S_IMODE(st.st_mode) & 0o077:
            copy_stat(old, path, times=False)
            continue
        os.chmod(path, 0o640)
        try:
            os.chown(path, -1, grp.getgrnam(group).gr_gid)
        except (KeyError, OSError):
            pass  # not root, or the group lives on another machine: README.txt says chgrp


def keep_modes(changes, new_dir, target_dir, secret_files):
    """A regenerated file keeps the owner, group and mode the operator gave the old one
    (an unchanged one its times too: a .wsgi that did not change must not reload the
    daemons). Files holding secrets are protect_secrets()' alone."""
    for name in changes.updated + changes.unchanged:
        if name not in secret_files:
            copy_stat(os.path.join(target_dir, name), os.path.join(new_dir, name),
                      times=name in changes.unchanged)


def lstat_or_none(path):
    try:
        return nofollow.lstat(path)
    except OSError:
        return None


def carry_over(changes, entries, new_dir, target_dir, manifest=True, secret_files=()):
    """Copy the user's entries (and the .bak of each replaced edit) into ``new_dir``, with
    their owners and modes, then write the manifest of what tgdeploy generated. The .bak
    of a file holding secrets gets that file's mode and group."""
    generated = [n for n, kind in entries_below(new_dir).items() if kind == FILE]
    if manifest:
        write_manifest(new_dir, generated)
    links = {}  # hard links among the user's files stay links
    for name in sorted(changes.kept):  # parents sort before their contents
        copy_entry(os.path.join(target_dir, name), os.path.join(new_dir, name), links)
    for name in changes.edited:
        backup = os.path.join(new_dir, free_name(new_dir, name + '.bak'))
        copy_tree(os.path.join(target_dir, name), backup)
        if name in secret_files and os.path.isfile(backup) and not os.path.islink(backup):
            secret = os.stat(os.path.join(new_dir, name))
            try:
                os.chown(backup, -1, secret.st_gid)
            except OSError:
                pass  # not root: the mode alone keeps others out
            os.chmod(backup, stat.S_IMODE(secret.st_mode))
    # Folders last, deepest first: copying into them changed their times.
    for name in sorted((n for n, kind in entries.items() if kind == FOLDER), reverse=True):
        if os.path.isdir(os.path.join(new_dir, name)):
            copy_stat(os.path.join(target_dir, name), os.path.join(new_dir, name))
    if nofollow.is_dir(target_dir):
        copy_stat(target_dir, new_dir)


# -- describing -----------------------------------------------------------------------

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
        lines.append('would keep your %s' % os.path.join(target_dir, name))
    if not changes.writes_anything():
        lines.append('nothing would change in %s' % target_dir)
    return lines


def diff(old_dir, new_dir, name):
    # In the files' own encoding (a derived .cfg keeps its source's Latin-1, textfiles.py).
    new = textfiles.decode(read_bytes(os.path.join(new_dir, name)))[0]
    return diff_text(os.path.join(old_dir, name), new, name)


def diff_text(old_path, new, name):
    """The indented unified diff from the file at ``old_path`` to the text ``new``, secrets
    redacted; a link or anything but a plain file is said, not read."""
    if nofollow.is_link(old_path) or not os.path.isfile(old_path):
        return ['    (%s is not a plain file)' % old_path]
    old = textfiles.decode(read_bytes(old_path))[0].splitlines()
    return ['    ' + production.redact(line.rstrip('\n')) for line in difflib.unified_diff(
        old, new.splitlines(), 'installed/' + name, 'new/' + name, lineterm='')]


# -- the manifest ---------------------------------------------------------------------

def read_manifest(target_dir, entries):
    if entries.get(MANIFEST) != FILE:
        return {}
    try:
        files = parse_manifest(read_bytes(os.path.join(target_dir, MANIFEST)))
    except (ValueError, KeyError, TypeError, RuntimeError):  # RuntimeError: deep nesting
        # A damaged manifest vouches for nothing: every differing file counts as edited.
        return {}
    return files if isinstance(files, dict) else {}


def parse_manifest(data):
    return json.loads(data.decode('utf-8'))['files']


def write_manifest(new_dir, names):
    files = dict((name, checksum(os.path.join(new_dir, name))) for name in names)
    text = json.dumps({'written_by': 'tgdeploy', 'files': files}, indent=1, sort_keys=True)
    with io.open(os.path.join(new_dir, MANIFEST), 'w', encoding='utf-8') as f:
        f.write(u'%s\n' % text)


def checksum(path):
    return hashlib.sha256(read_bytes(path)).hexdigest()


def read_bytes(path):
    """A regular file's bytes, never through a symlink (a FIFO is refused, not opened)."""
    return nofollow.read_regular(path)
