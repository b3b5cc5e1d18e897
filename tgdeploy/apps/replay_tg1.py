"""A TurboGears 1 start-up replayed under another server (replay.py): the start script (or
``command.start()``) runs with the deployment's .cfg as its one argument, so its
``update_config(...)`` calls and the settings it builds from the environment hold; its
``start_server(Root())`` runs tgdeploy's own start-up for the TurboGears line (tg1_app.py)
with the root it is given, and the script stops there as it would have gone on serving.

The deployment's .cfg is loaded before the script runs (tg1_app.py); the script loading it
again is skipped: TurboGears would add its log handlers a second time, and every line of
the error log would be written twice.
"""
import os

from tgdeploy.apps import replay


def replayed_app(turbogears, script, call, deployed, start):
    import turbogears.config as tg_config
    import turbogears.startup as startup
    started = []
    original_update = tg_config.update_config

    def start_server(root):
        started.append(start(root))
        raise replay.ServerStart()

    def update_config(configfile=None, modulename=None):
        if same_file(configfile, deployed):
            return None  # loaded already, with the same package config
        return original_update(configfile=configfile, modulename=modulename)

    with replay.patched((turbogears, 'start_server', start_server),
                        (startup, 'start_server', start_server),
                        (turbogears, 'update_config', update_config),
                        (tg_config, 'update_config', update_config)):
        replay.run(script, call, [script or call, deployed])
    if not started and replay.SETUP:
        return None
    if not started:
        raise replay.StartupFailed('%s ended without calling start_server(): deploy with '
                                   '--startup-script no' % (script or call))
    return started[0]


def same_file(path, other):
    if not isinstance(path, type(other)) and not hasattr(path, 'startswith'):
        return False
    try:
        return os.path.realpath(path) == os.path.realpath(other)
    except (TypeError, ValueError, AttributeError):
        return False
