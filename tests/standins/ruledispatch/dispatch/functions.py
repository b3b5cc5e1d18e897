"""Generic functions: AbstractGeneric (rules and calls) and GenericFunction (when/around/
before/after and the standard method combination). TurboGears 1.0 and TurboJson subclass
GenericFunction and override ``combine``, ``when`` and ``_decorate``, so those keep
RuleDispatch's names and signatures.
"""
import inspect
import sys

from peak.util.decorators import decorate_assignment, decorate_class, frameinfo

from dispatch import strategy
from dispatch.interfaces import ICriterion, IDispatchPredicate

# What a generic function's module-level name (the delegate) answers besides being called.
DELEGATED = ('when', 'around', 'before', 'after', 'addMethod', 'parse', 'parseRule')


class AbstractGeneric(object):

    def __init__(self, func):
        self.original = func
        self.argnames = inspect.getargspec(func)[0]
        self.cases = []
        self.delegate = make_delegate(self, func)

    def __call__(self, *args, **kw):
        call = strategy.Call(inspect.getcallargs(self.original, *args, **kw), self.argnames)
        return self.combine(self.applicable(call))(*args, **kw)

    def applicable(self, call):
        """(signature, method) for every method whose rule holds, in registration order;
        a method registered under several ``or`` branches counts once."""
        found = []
        for signature, method in self.cases:
            if not any(method is seen for _, seen in found) and signature.holds(call):
                found.append((signature, method))
        return found

    def __setitem__(self, signature, method):
        self.cases.append((signature, method))

    def addMethod(self, predicate, function, qualifier=None):
        if qualifier is not None:
            function = qualifier, function
        for signature in IDispatchPredicate(predicate):
            self[signature] = function

    def parse(self, text, local_names, global_names):
        return strategy.parse(text, local_names, global_names, self.argnames)

    def parseRule(self, rule, frame=None, depth=3):
        if isinstance(rule, basestring):
            frame = frame or sys._getframe(depth)
            return self.parse(rule, frame.f_locals, frame.f_globals)
        return rule

    def _decorate(self, cond, qualifier=None, frame=None, depth=2):
        """A decorator (``[gf.when(rule)]`` or ``gf.when(rule)(func)``) adding the method."""
        frame = frame or sys._getframe(depth)
        cond = self.parseRule(cond, frame=frame)

        def register(frm, name, value, old_locals):
            method = value if qualifier is None else (qualifier, value)
            if frameinfo(frm)[0] == 'class':
                # In a class body: the rule also requires an instance of that class.
                def register_for_class(cls):
                    requirement = strategy.Signature([(strategy.Argument(0), ICriterion(cls))])
                    self.addMethod(requirement & cond, method)
                    return cls
                decorate_class(register_for_class, frame=frm)
            else:
                self.addMethod(cond, method)
            if old_locals.get(name) in (self, self.delegate):
                return self.delegate
            return value
        return decorate_assignment(register, frame=frame)


class GenericFunction(AbstractGeneric):

    def when(self, cond):
        return self._decorate(cond)

    def around(self, cond):
        return self._decorate(cond, 'around')

    def before(self, cond):
        return self._decorate(cond, 'before')

    def after(self, cond):
        return self._decorate(cond, 'after')

    def combine(self, cases):
        strict = [strategy.ordered_signatures, strategy.safe_methods]
        loose = [strategy.ordered_signatures, strategy.all_methods]
        cases = strategy.separate_qualifiers(cases, around=strict, before=loose,
                                             primary=strict, after=loose)
        chain = strategy.method_chain(cases.get('primary', []))
        befores = list(cases.get('before', []))
        afters = list(cases.get('after', []))[::-1]
        if befores or afters:
            primary = chain

            def chain(*args, **kw):
                for method in befores:
                    method(*args, **kw)
                result = primary(*args, **kw)
                for method in afters:
                    method(*args, **kw)
                return result
        arounds = list(cases.get('around', []))
        if arounds:
            chain = strategy.method_chain(arounds + [chain])
        return chain


def make_delegate(generic, func):
    """The plain function that replaces ``func``'s name: calls go to ``generic``."""
    def delegate(*args, **kw):
        return generic(*args, **kw)
    delegate.__name__ = func.__name__
    delegate.__doc__ = func.__doc__
    delegate.__module__ = func.__module__
    for name in DELEGATED:
        setattr(delegate, name, getattr(generic, name))
    return delegate
