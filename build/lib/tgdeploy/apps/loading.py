"""Helpers the application factories share."""
import inspect
from importlib import import_module

from tgdeploy.errors import TgDeployError


def load_object(spec):
    """Import ``package.module:attr.attr`` and return the object it names."""
    module_name, _, attr_path = spec.partition(':')
    if not module_name or not attr_path:
        raise TgDeployError('%r is not of the form package.module:Object' % spec)
    obj = import_module(module_name)
    for attr in attr_path.split('.'):
        obj = getattr(obj, attr)
    return obj


def instance_of(spec):
    """The object ``spec`` names; a class is instantiated without arguments."""
    obj = load_object(spec)
    return obj() if inspect.isclass(obj) else obj


def at_process_exit(callback):
    """Run ``callback`` when the process ends, after its last request.

    Not mod_wsgi.subscribe_shutdown: mod_wsgi 4.9.4 publishes its "process_stopping" event
    as soon as shutdown is requested, before the daemon waits for the requests still
    running (mod_wsgi.c), so a framework stopped there fails requests accepted just
    before (seen as a 500 during `apache2 -k graceful` with TurboGears 1.1). mod_wsgi runs
    atexit callbacks once those requests are done; paster serve and gunicorn run them too.
    """
    import atexit
    atexit.register(callback)
