"""``use = egg:tgdeploy#cherrypy``: a CherryPy application for any WSGI host.

CherryPy is a server as well as a framework; under another server it must not start its
own HTTP server (it would bind a port and hold up Apache's shutdown), its engine must
run once per process and stop when the process ends, and the mount must follow the
host's SCRIPT_NAME so the same application works at / and at a sub-URL.

With ``startup_script`` (or ``startup_call``) the project's own start-up is replayed
(replay_cherrypy.py): the application is what it mounts. At a sub-URL its redirects to a
path of this host are kept under the mount (mount_redirects.py).
"""
import threading

from tgdeploy.apps import mount_redirects
from tgdeploy.apps.loading import at_process_exit, instance_of

_engine_lock = threading.Lock()


def make_app(global_conf, root=None, config=None, startup_script=None, startup_call=None,
             **local_conf):
    """PasteDeploy factory. ``root``: package.module:Root; ``config``: a CherryPy config file;
    ``startup_script``/``startup_call``: the project's start-up to replay instead."""
    import cherrypy
    from cherrypy.lib.reprconf import unrepr
    # Embedded: no autoreload, no signal handlers, no checker; the host owns the process.
    cherrypy.config.update({'environment': 'embedded'})
    # Other ini settings are CherryPy global config, written as Python literals; they come
    # after the project's own (production settings win).
    production = dict((key, unrepr(value)) for key, value in local_conf.items())
    cherrypy.server.unsubscribe()
    if startup_script or startup_call:
        from tgdeploy.apps.replay_cherrypy import replayed_app
        app = replayed_app(cherrypy, startup_script, startup_call,
                           lambda: cherrypy.config.update(production),
                           lambda start: start_engine(cherrypy.engine, start))
        start_engine(cherrypy.engine)
        return mount_redirects.wrap(app)
    root_object = instance_of(root)
    if config:
        cherrypy.config.update(config)  # the file's [global] section
    cherrypy.config.update(production)
    # script_name=None: read SCRIPT_NAME from each request, so any mount works.
    app = cherrypy.Application(root_object, script_name=None, config=config)
    start_engine(cherrypy.engine)
    return mount_redirects.wrap(app)


def start_engine(engine, start=None):
    with _engine_lock:
        if engine.state in (engine.states.STARTED, engine.states.STARTING):
            return
        (start or engine.start)()
        at_process_exit(engine.exit)
