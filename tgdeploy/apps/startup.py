"""``egg:tgdeploy#startup``: the project's own start-up code (``--startup``), run once per
process once the application is loaded and before its first request, on every PasteDeploy
host (Apache through the .wsgi, gunicorn --paste, uWSGI, paster serve...).

The generated ini wraps the application with it (``filter-with = startup`` in [app:main];
for TurboGears 2, whose setup-app refuses a filtered [app:main], a ``[pipeline:serve]`` that
other hosts name); the .wsgi calls run_once() as well, which covers an ini tgdeploy deploys
as it is.
"""
import sys
import threading

from tgdeploy.apps.loading import load_object

_lock = threading.Lock()
_done = set()


def make_filter(global_conf, function):
    """PasteDeploy filter factory: ``function`` is package.module:callable, called without
    arguments."""
    def wrap(app):
        run_once(function)
        return app
    return wrap


def run_once(function):
    with _lock:
        if function in _done:
            return
        try:
            load_object(function)()
        except SystemExit as e:  # one line naming where and the code, not a bare 500
            from tgdeploy.apps.replay import StartupExit, exit_message
            failure = StartupExit(exit_message('--startup ' + function, e, sys.exc_info()[2],
                                               'before the first request'))
            failure.__suppress_context__ = True
            raise failure
        _done.add(function)
