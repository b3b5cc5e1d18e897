"""The project's own start-up, minus the server (``startup_script`` in the generated ini).

A project that starts itself from a script (``start-<name>.py``, a ``main()``, an
``if __name__ == '__main__'`` block) puts its settings in code: the config dicts and files
it hands to ``cherrypy.quickstart`` or ``tree.mount``, its ``engine.subscribe(...)`` hooks,
TurboGears 1 ``update_config(...)`` calls, values read from the environment. Here that
start-up runs once per process as the project wrote it, with what belongs to a server taken
out: the call that would start serving (``quickstart``, ``engine.block()``, TurboGears'
``start_server``) mounts and returns instead of blocking, CherryPy's HTTP server, signal
handlers, Daemonizer, PIDFile and DropPrivileges are left to the host, and the script gets
``sys.argv = [script]`` (TurboGears 1: ``[script, the deployment's .cfg]``, as its start
scripts take it).
"""
import contextlib
from importlib import import_module
import linecache
import os
import sys
import types

from tgdeploy.apps.loading import load_object

# The replayed script stays loaded as __main__ for the life of the process: its classes and
# functions live on in the mounted application (and pickled session data names them so).
_modules = []
# Set by tg1_setup (README step 2): a start-up that fails before it serves (it reads the
# database being created) is reported, and what it set up to there is used.
SETUP = []


class ServerStart(BaseException):
    """Raised where the start-up would start serving: the replay ends there, as the real
    start-up would have gone on serving until the process ended."""


class StartupFailed(Exception):
    pass


class StartupExit(StartupFailed):
    """The start-up called sys.exit before it served (named so in the log: a SystemExit
    of its own would end the daemon's request with no word of where or why)."""


def run(script=None, call=None, argv=None):
    """Run ``script`` as __main__, or call ``call`` (package.module:function; a plain
    package.module is imported: the start-up of a module that makes its application when
    imported), with ``sys.argv = argv``. Returns True if it got as far as starting its
    server."""
    old_argv = sys.argv
    sys.argv = list(argv or [script or call])
    try:
        if script:
            run_as_main(script)
        elif ':' not in call:
            import_module(call)
        else:
            load_object(call)()
    except ServerStart:
        return True
    except Exception as e:
        if not SETUP:
            raise
        report('%s stopped before it started its server (%s: %s): going on with the '
               'settings it made' % (script or call, type(e).__name__, e))
    except SystemExit as e:
        for stream in (sys.stdout, sys.stderr):  # what it printed, before the traceback
            try:
                stream.flush()
            except Exception:
                pass
        failure = StartupExit(exit_message(script and shown_path(os.path.abspath(script)) or
                                           call, e, sys.exc_info()[2]))
        failure.__suppress_context__ = True  # this, not SystemExit, is the first traceback
        raise failure
    finally:
        sys.argv = old_argv
    return False


def exit_message(what, exit, tb, when='before it started its server'):
    """One line for a start-up that called sys.exit: where (the last frame the exit went
    through, the project's line), its code, and what to do."""
    tb = project_frame(tb)
    where = ''
    if tb is not None:
        frame = tb.tb_frame
        source = linecache.getline(frame.f_code.co_filename, tb.tb_lineno).strip()
        where = ' at %s:%d (%s)' % (shown_path(frame.f_code.co_filename), tb.tb_lineno,
                                    source[:120])
    code = exit.code
    said = '' if code is None or isinstance(code, int) else ': %s' % ' '.join(
        str(code).split())[:300]
    return ('the start-up %s exited (sys.exit, code %s)%s %s%s; '
            'what it printed, if anything, is just above in this log. Give it what it '
            'stops for (a setting in its own config file, --setenv NAME=VALUE, '
            '--env-file), or deploy without it' % (what, 1 if said else (code or 0), where, when, said))


def project_frame(tb):
    """The last frame the exit went through that is not Python's own or an installed
    package's (argparse exits for the script that called parse_args); else the last."""
    outside = tuple(set([os.path.dirname(os.path.abspath(os.__file__))] + [
        os.path.join(p, 'lib') for p in (sys.prefix, sys.exec_prefix,
                                         getattr(sys, 'base_prefix', sys.prefix))]))
    last = found = None
    while tb is not None:
        last = tb
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(outside):
            found = tb
        tb = tb.tb_next
    return found or last


def shown_path(path):
    """A file of the project relative to the working folder the start-up ran in."""
    here = os.getcwd()
    if here != os.sep and path.startswith(here + os.sep):
        return path[len(here) + 1:]
    return path


def run_as_main(script):
    """``python script`` (a script in a package: ``python -m package.module``), in a module
    kept alive afterwards (runpy's temporary module is cleared on Python 2.7 once it is
    dropped, and the application's functions would find their globals gone)."""
    script = os.path.abspath(script)
    folder = os.path.dirname(script)
    module = types.ModuleType('__main__')
    module.__file__ = script
    package = package_of(script)
    if package:
        module.__package__ = package
    elif folder not in sys.path:
        sys.path.insert(0, folder)  # as Python puts a script's folder first
    with open(script, 'rb') as f:
        code = compile(f.read(), script, 'exec')
    previous = sys.modules.get('__main__')
    sys.modules['__main__'] = module
    _modules.append(module)
    try:
        exec(code, module.__dict__)
    except BaseException:
        if previous is not None:
            sys.modules['__main__'] = previous
        raise


def package_of(script):
    """The dotted package of a script that lies in one (whose folder has __init__.py)."""
    parts, folder = [], os.path.dirname(script)
    while os.path.isfile(os.path.join(folder, '__init__.py')):
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    return '.'.join(parts) or None


@contextlib.contextmanager
def patched(*replacements):
    """(owner, name, new value) set for the duration; owners lacking the name are skipped."""
    saved = []
    for owner, name, value in replacements:
        if owner is not None and hasattr(owner, name):
            saved.append((owner, name, owner.__dict__.get(name, _MISSING)))
            setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in reversed(saved):
            if value is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, value)


_MISSING = object()


def report(text):
    sys.stderr.write('tgdeploy: %s\n' % text)
    sys.stderr.flush()
