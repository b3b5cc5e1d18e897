"""The one fault seam: how tests stop a run where a crash would, to prove nothing is lost.

TGDEPLOY_SEAM holds comma-separated words, read at each step (never set in production):

- ``kill-at:STEP``: the process sends itself SIGKILL on reaching STEP, as ``kill -9`` or a
  power cut would: no ``finally``, no cleanup. STEPS lists them in the order a run meets them.
- ``no-exchange``: swap.py acts as if the file system had no atomic exchange, so the
  fallback (two renames, rolled back or forward by the next run) is tested on Linux too.
- ``lock-wait:SECONDS``: how long a run waits for another run's lock (swap.LOCK_WAIT).
"""
import os
import signal

VARIABLE = 'TGDEPLOY_SEAM'

STEPS = (
    'locked',            # the target's lock is held, leftovers of killed runs cleaned
    'staged',            # the staging folder exists, nothing rendered yet
    'rendered',          # the new folder is complete in staging
    'additions-copied',  # the user's own files are copied into it, manifest written
    'moved-aside',       # fallback only: the old folder moved into staging, target missing
    'swapped',           # the new folder is in place, the old one still in staging
    'cleaned',           # staging removed, lock still held
)


def words():
    return [w.strip() for w in os.environ.get(VARIABLE, '').split(',') if w.strip()]


def reached(step):
    """Called by the install at each of STEPS."""
    if 'kill-at:' + step in words():
        os.kill(os.getpid(), signal.SIGKILL)


def enabled(word):
    return word in words()


def number(name, default):
    """The number given as ``name:N``, else ``default``."""
    for word in words():
        if word.startswith(name + ':'):
            try:
                return float(word[len(name) + 1:])
            except ValueError:
                break
    return default
