"""A CherryPy start-up replayed under another server (replay.py): ``quickstart`` mounts
with the script's config and stops there, ``engine.start()`` starts the engine as the host
wants it (no HTTP server, no signal handlers), ``engine.block()`` stops the script there.
The application served is every app the script mounted (``tree.mount``, ``tree.graft``),
each following the host's SCRIPT_NAME, so the same start-up works at / and at a sub-URL;
for a module imported as the start-up, what it assigns to ``application`` (its tree: the
same; an app or middleware of its own: that).
"""
import sys

from tgdeploy.apps import replay

# Plugins whose job the host does: left out, and said so in the error log.
HOST_PLUGINS = ('Daemonizer', 'PIDFile', 'DropPrivileges', 'SignalHandler')


def replayed_app(cherrypy, script, call, apply_production, start_engine):
    from cherrypy.process import plugins, servers
    left_out = []
    original_start = cherrypy.engine.start

    def quickstart(root=None, script_name='', config=None):
        if config:
            cherrypy.config.update(config)
        cherrypy.tree.mount(root, script_name, config)
        raise replay.ServerStart()

    def engine_start():
        apply_production()
        start_engine(original_start)

    def block(*args, **kwargs):
        raise replay.ServerStart()

    def left_to_host(name):
        def subscribe(self, *args, **kwargs):
            if name not in left_out:
                left_out.append(name)
        return subscribe

    replacements = [(cherrypy, 'quickstart', quickstart),
                    (cherrypy.engine, 'start', engine_start),
                    (cherrypy.engine, 'block', block),
                    (servers.ServerAdapter, 'subscribe', left_to_host('its HTTP server'))]
    signals = getattr(cherrypy.engine, 'signals', None)  # CherryPy 3.2 has none
    if signals is not None:
        replacements.append((type(signals), 'subscribe', left_to_host('SignalHandler')))
    replacements += [(getattr(plugins, name, None), 'subscribe', left_to_host(name))
                     for name in HOST_PLUGINS]
    with replay.patched(*replacements):
        replay.run(script, call)
    apply_production()
    if left_out:
        replay.report('%s: %s left to the host (not started here)'
                      % (script or call, ', '.join(left_out)))
    made = None
    if call and ':' not in call:
        made = getattr(sys.modules.get(call), 'application', None)
    if made is not None and made is not cherrypy.tree:
        if isinstance(made, cherrypy.Application):
            made.script_name = None  # SCRIPT_NAME, per request
        return made  # the module's own WSGI application (a middleware, an Application)
    apps = dict(cherrypy.tree.apps)
    if not apps:
        raise replay.StartupFailed('%s mounted no application (no cherrypy.quickstart or '
                                   'tree.mount): deploy with --startup-script no'
                                   % (script or call))
    for app in apps.values():
        if isinstance(app, cherrypy.Application):
            app.script_name = None  # SCRIPT_NAME, per request: set below
    return Mounts(apps)


class Mounts(object):
    """The apps the start-up mounted, under the host's mount: CherryPy's own Tree would
    hand an app mounted at '' the host's mount as part of its path."""

    def __init__(self, apps):
        self.apps = sorted(apps.items(), key=lambda item: -len(item[0]))

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        for script_name, app in self.apps:
            script_name = script_name.rstrip('/')
            if not script_name or path == script_name or path.startswith(script_name + '/'):
                environ = dict(environ)
                environ['SCRIPT_NAME'] = environ.get('SCRIPT_NAME', '').rstrip('/') + \
                    script_name
                environ['PATH_INFO'] = path[len(script_name):]
                return app(environ, start_response)
        start_response('404 Not Found', [('Content-Type', 'text/plain')])
        return [b'Not Found']
