"""``use = egg:tgdeploy#tg1``: a TurboGears 1.x application for any WSGI host.

One start-up per TurboGears line, as measured under Apache (FIELD-NOTES):
- 1.0 and 1.1 run on CherryPy 2: production environment, no autoreload (it would re-exec
  Python and turn every request into a 500), the root assigned the way the line expects,
  CherryPy's server started once in init-only mode (no socket) and stopped at exit. TG strips
  SCRIPT_NAME itself and turbogears.url() adds it back, so the plain wsgiApp works at any
  mount; the classic recipe's SCRIPT_NAME='' + server.webpath wrapper gives 404 on TG 1.0.
- 1.5 runs on CherryPy 3: the "embedded" environment, whose start_server() mounts the tree and
  runs TurboGears' start-up without an HTTP server and registers its shutdown at exit; the
  mount follows each request's SCRIPT_NAME.
"""
import contextlib
import logging
import re
import signal
import sys
import threading

from tgdeploy.apps.loading import at_process_exit, instance_of

_start_lock = threading.Lock()
_started = []


def make_app(global_conf, configfile, root, modulename=None, tg_version=None,
             startup_script=None, startup_call=None, **local_conf):
    """PasteDeploy factory: ``configfile`` (absolute), ``root`` (package.controllers:Root),
    ``modulename`` (package.config, where app.cfg lives), ``tg_version`` (1.0/1.1/1.5);
    ``startup_script``/``startup_call``: the project's start-up, replayed (replay.py)."""
    with sigterm_left_to_host():
        import turbogears
    with _start_lock:
        if _started:
            return _started[0]
        turbogears.update_config(configfile=configfile, modulename=modulename)
        line = tg_version or installed_line()
        start_server = turbogears.start_server  # before a replay takes its place

        def start(root_object):
            if line == '1.5':
                return start_cherrypy3(turbogears, root_object, start_server)
            return start_cherrypy2(turbogears, root_object, line)
        if startup_script or startup_call:
            from tgdeploy.apps.replay_tg1 import replayed_app
            app = replayed_app(turbogears, startup_script, startup_call, configfile, start)
        else:
            app = start(instance_of(root))
        if line in ('1.1', '1.5'):
            register_mochikit(turbogears)
        errors_to_stderr()
        _started.append(app)
        return app


@contextlib.contextmanager
def sigterm_left_to_host():
    """Importing CherryPy 2 installs its own SIGTERM handler, and a broken one (it calls
    cherrypy.engine, which 2.3 lacks): a gunicorn worker signalled while it loaded the app
    failed instead of exiting. The host owns the process's signals, so CherryPy's request is
    ignored while it is imported, as mod_wsgi ignores it; TurboGears still stops at exit."""
    register = signal.signal

    def register_unless_sigterm(signum, handler):
        if signum == signal.SIGTERM:
            return signal.getsignal(signum)
        return register(signum, handler)
    signal.signal = register_unless_sigterm
    try:
        yield
    finally:
        signal.signal = register


# TurboGears 1.0/1.1 log CherryPy's messages, tracebacks included (at INFO), to cherrypy.msg;
# 1.5 to cherrypy.error. A quickstart's production config has no handler for them: a 500
# left no line in any log. Under mod_wsgi (and gunicorn, paster) stderr is the error log.
ERROR_LOGGERS = (('cherrypy.msg', logging.INFO), ('cherrypy.error', logging.INFO),
                 ('turbogears', logging.WARNING))


class WithoutNotFoundTracebacks(logging.Filter):
    """CherryPy 2.3 logs a traceback for every 404 as well: kept out, 500s stay."""

    def filter(self, record):
        text = record.getMessage().rstrip()
        return not re.search(r'(^|\n)(cherrypy\._cperror\.)?NotFound: 404$', text)


def errors_to_stderr():
    """A stderr handler for the loggers TurboGears reports errors to, where the project's
    config gives them none (its own handlers are left as they are)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter('%(name)s %(levelname)s %(message)s'))
    for name, level in ERROR_LOGGERS:
        logger = logging.getLogger(name)
        logger.addFilter(WithoutNotFoundTracebacks())
        if not has_output(logger):
            logger.addHandler(handler)
            logger.setLevel(level)
            logger.propagate = False


def has_output(logger):
    """Whether a record of ``logger`` reaches some handler (as Logger.callHandlers walks)."""
    while logger is not None:
        if logger.handlers:
            return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False


def register_mochikit(turbogears):
    """TurboGears 1.1 and 1.5 register MochiKit's files (/tg_widgets/tgmochikit/...) when a
    page first shows the MochiKit widget, so a daemon process that had not shown a page yet
    answered 404 for them: with two processes, every other request for MochiKit.js after the
    first page. They are registered at start-up instead, from the same settings
    (tgmochikit.init runs once per process; the widget's own call then does nothing)."""
    try:
        import tgmochikit
        from turbogears.widgets.base import register_static_directory
    except ImportError:  # a project that does without tgMochiKit
        return
    tgmochikit.init(register_static_directory, turbogears.config)


def installed_line():
    import pkg_resources
    return '.'.join(pkg_resources.get_distribution('TurboGears').version.split('.')[:2])


def start_cherrypy2(turbogears, root_object, line):
    import cherrypy
    import cherrypy._cpwsgi
    turbogears.config.update({'global': {
        'server.environment': 'production',
        'autoreload.on': False,
        'server.log_to_screen': False,
    }})
    if line == '1.0':
        cherrypy.root = root_object
    else:
        cherrypy.tree.mount(root_object)
    if cherrypy.server.state == 0:
        at_process_exit(cherrypy.server.stop)
        cherrypy.server.start(init_only=True, server_class=None)
    return without_carriage_returns(cherrypy._cpwsgi.wsgiApp)


def without_carriage_returns(app):
    """CherryPy 2.3 splits its Set-Cookie output on "\n" and leaves the "\r" in each value;
    mod_wsgi refuses such a header (a 500 for any response setting two cookies), paster
    serve lets it through. The header values are passed on without it."""
    def clean_app(environ, start_response):
        def clean_start_response(status, headers, exc_info=None):
            headers = [(name, value.replace('\r', '').replace('\n', ''))
                       for name, value in headers]
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)
        return app(environ, clean_start_response)
    return clean_app


def start_cherrypy3(turbogears, root_object, start_server):
    import cherrypy
    # 'engine.start' must stay unset: TurboGears would start CherryPy's HTTP server.
    turbogears.config.update({'global': {'environment': 'embedded', 'log.screen': False,
                                         'engine.autoreload.on': False}})
    cherrypy.config.update({'environment': 'embedded'})
    app = start_server(root_object)
    app.script_name = None  # follow SCRIPT_NAME per request, so any mount works
    return app
