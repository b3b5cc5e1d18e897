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
    """Run ``callback`` when the process ends: mod_wsgi's shutdown hook, else atexit.

    Under mod_wsgi the hook runs before the interpreter is torn down, while threads can
    still be joined; elsewhere (paster serve, gunicorn) atexit does the same job.
    """
    try:
        import mod_wsgi
        subscribe = getattr(mod_wsgi, 'subscribe_shutdown', None)
    except ImportError:
        subscribe = None
    if subscribe is not None:
        subscribe(lambda event, **kwargs: callback())
    else:
        import atexit
        atexit.register(callback)
