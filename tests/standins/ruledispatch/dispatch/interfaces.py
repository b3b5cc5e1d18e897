"""Errors, and the two adapters TurboJson calls (ICriterion, IDispatchPredicate)."""


class DispatchError(Exception):
    """Stands in for a method: calling it raises the error with the call's arguments."""

    def __call__(self, *args, **kw):
        raise self.__class__(*(self.args + (args, kw)))


class NoApplicableMethods(DispatchError):
    """No method's rule holds for the arguments."""


class AmbiguousMethod(DispatchError):
    """``args[0]`` is the group of (signature, method) cases none of which is more specific."""

    def __init__(self, methods, *args):
        DispatchError.__init__(self, methods, *args)
        self.methods = methods


def ICriterion(cls):
    """The criterion "is an instance of ``cls``"."""
    from dispatch.strategy import ClassCriterion
    return ClassCriterion(cls)


def IDispatchPredicate(predicate):
    """The signatures of a parsed rule (one per ``or`` branch)."""
    from dispatch.strategy import Predicate
    return Predicate.of(predicate).signatures
