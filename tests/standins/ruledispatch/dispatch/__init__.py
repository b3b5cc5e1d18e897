"""Test stand-in for RuleDispatch's ``dispatch`` package (a tgdeploy test fixture, see
tests/standins/README.md): just the generic-function API TurboGears 1.0 and TurboJson 1.1 use.
Python 2 only, like TurboGears 1.0."""
from peak.util.decorators import decorate_assignment

from dispatch import functions, interfaces, strategy
from dispatch.interfaces import AmbiguousMethod, DispatchError, NoApplicableMethods

__all__ = ['generic', 'NoApplicableMethods', 'AmbiguousMethod', 'DispatchError',
           'functions', 'interfaces', 'strategy']


def generic(combiner=None):
    """``[generic()]`` before a ``def`` (or ``generic()(func)``): make the function generic.

    ``combiner`` may be a GenericFunction subclass, which then does the dispatching.
    """
    factory = combiner or functions.GenericFunction

    def make_generic(frame, name, value, old_locals):
        return factory(value).delegate
    return decorate_assignment(make_generic)
