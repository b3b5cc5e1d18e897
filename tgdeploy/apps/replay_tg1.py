"""A TurboGears 1 start-up replayed under another server (replay.py): the start script (or
``command.start()``) runs with the deployment's .cfg as its one argument, so its
``update_config(...)`` calls and the settings it builds from the environment hold; its
``start_server(Root())`` runs tgdeploy's own start-up for the TurboGears line (tg1_app.py)
with the root it is given, and the script stops there as it would have gone on serving.
"""
from tgdeploy.apps import replay


def replayed_app(turbogears, script, call, configfile, start):
    import turbogears.startup as startup
    started = []

    def start_server(root):
        started.append(start(root))
        raise replay.ServerStart()

    with replay.patched((turbogears, 'start_server', start_server),
                        (startup, 'start_server', start_server)):
        replay.run(script, call, [script or call, configfile])
    if not started:
        raise replay.StartupFailed('%s ended without calling start_server(): deploy with '
                                   '--startup-script no' % (script or call))
    return started[0]
