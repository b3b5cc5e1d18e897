"""Test stand-in for peak.rules.core: generic functions dispatching on rule expressions.

A test fixture for tgdeploy's TurboGears 1.x lab, not the real PEAK-Rules: every rule is
evaluated on every call, and the "more specific" order is an approximation (see README).
"""
import ast
import inspect
import itertools
import sys
import types

_sequence = itertools.count()
_overrides = set()


class NoApplicableMethods(TypeError):
    pass


class AmbiguousMethods(TypeError):
    pass


class Method(object):
    """A primary method: ``body`` runs when ``rule`` holds for the call's arguments."""

    def __init__(self, body, rule, namespace):
        self.body = body
        self.rule = rule
        self.code = compile(rule, '<rule %s>' % rule, 'eval') if rule else None
        self.namespace = namespace
        self.conjuncts = conjuncts(rule)
        self.classes = isinstance_tests(self.conjuncts, namespace)
        self.sequence = next(_sequence)
        self.wants_next = first_arg(body) == 'next_method'

    def applies(self, callargs):
        return self.code is None or bool(eval(self.code, self.namespace, dict(callargs)))

    def merge(self, other):
        return Ambiguous(self, other)

    def call(self, next_method, args, kw):
        if self.wants_next:
            return self.body(next_method, *args, **kw)
        return self.body(*args, **kw)

    @classmethod
    def make_decorator(cls, name):
        def decorate(f, pred=''):
            namespace = caller_namespace(sys._getframe(1))

            def register(body):
                rules_for(f).add(cls(body, pred, namespace))
                return body
            return register
        decorate.__name__ = name
        return decorate


class Ambiguous(object):
    """Two methods neither of which is more specific: calling it is the error."""

    def __init__(self, *methods):
        self.methods = methods
        self.sequence = min(m.sequence for m in methods)

    def merge(self, other):
        return self

    def call(self, next_method, args, kw):
        raise AmbiguousMethods([m.body for m in self.methods], args, kw)


class Around(Method):
    pass


class Before(Method):
    pass


class After(Method):
    pass


def always_overrides(a, b):
    _overrides.add((a, b))


when = Method.make_decorator('when')
around = Around.make_decorator('around')
before = Before.make_decorator('before')
after = After.make_decorator('after')


def abstract(func=None):
    """``@abstract()`` or ``@abstract``: a generic function with no default body."""
    def make(f):
        rules_for(f, default=False)
        return f
    return make(func) if func is not None else make


# -- the generic function --------------------------------------------------------------

class Engine(object):
    def __init__(self, original, default):
        self.original = original
        self.methods = []
        self.default = Method(original, '', {}) if default else None

    def add(self, method):
        self.methods.append(method)

    def __call__(self, *args, **kw):
        callargs = inspect.getcallargs(self.original, *args, **kw)
        applicable = [m for m in self.methods if m.applies(callargs)]
        arounds = ordered([m for m in applicable if type(m) is Around])
        befores = ordered([m for m in applicable if type(m) is Before])
        afters = ordered([m for m in applicable if type(m) is After])[::-1]
        primaries = ordered([m for m in applicable if not isinstance(m, (Around, Before, After))])
        if self.default is not None:
            primaries.append(self.default)

        def run_primaries(*a, **k):
            for m in befores:
                m.call(None, a, k)
            result = chain(primaries)(*a, **k)
            for m in afters:
                m.call(None, a, k)
            return result
        return chain(arounds, run_primaries)(*args, **kw)


def chain(methods, last=None):
    """A callable running methods[0], whose next_method runs the rest, then ``last``."""
    if not methods:
        if last is not None:
            return last

        def no_method(*args, **kw):
            raise NoApplicableMethods(args, kw)
        return no_method
    head, rest = methods[0], methods[1:]

    def call(*args, **kw):
        return head.call(chain(rest, last), args, kw)
    return call


def rules_for(f, default=True):
    """The Engine behind ``f``, turning a plain function generic in place the first time."""
    engine = getattr(f, '__rules_engine__', None)
    if engine is not None:
        return engine
    original = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__,
                                  f.__closure__)
    engine = Engine(original, default)
    name = '__standin_dispatch_%d' % id(f)
    namespace = {}
    exec('def trampoline(*args, **kw):\n    return %s(*args, **kw)\n' % name, namespace)
    f.__globals__[name] = engine
    f.__code__ = namespace['trampoline'].__code__
    f.__rules_engine__ = engine
    return engine


# -- specificity -----------------------------------------------------------------------

def ordered(methods):
    """Most specific first; ties resolved by always_overrides, then merge()."""
    result = []
    pending = sorted(methods, key=lambda m: m.sequence)
    while pending:
        top = [m for m in pending if not any(dominates(o, m) for o in pending if o is not m)]
        winner = top[0]
        for other in top[1:]:
            winner = resolve(winner, other)
        result.append(winner)
        pending = [m for m in pending if m not in top]
    return result


def resolve(a, b):
    if (type(a), type(b)) in _overrides:
        return a
    if (type(b), type(a)) in _overrides:
        return b
    return a.merge(b)


def dominates(a, b):
    """True when method ``a`` is strictly more specific than method ``b``."""
    if b.code is None:
        return a.code is not None
    if a.code is None:
        return False
    if b.conjuncts < a.conjuncts:
        return True
    for expr, classes in a.classes.items():
        other = b.classes.get(expr)
        if other and classes != other and all(
                any(issubclass(c, o) for o in other) for c in classes):
            return True
    return False


# Parsed conjuncts by their ast.dump text, so isinstance() tests can be looked at again.
_nodes = {}


def conjuncts(rule):
    """The rule's top-level ``and`` terms, as comparable ast dumps."""
    if not rule:
        return frozenset()
    found = []

    def walk(node):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            for value in node.values:
                walk(value)
        else:
            dump = ast.dump(node)
            _nodes[dump] = node
            found.append(dump)
    walk(ast.parse(rule.strip(), mode='eval').body)
    return frozenset(found)


def isinstance_tests(conjunct_dumps, namespace):
    """{expression dump: classes} for conjuncts of the form isinstance(expr, classes)."""
    tests = {}
    for dump in conjunct_dumps:
        node = _nodes[dump]
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and
                node.func.id == 'isinstance' and len(node.args) == 2):
            continue
        try:
            classes = eval(compile(ast.Expression(node.args[1]), '<rule>', 'eval'), namespace)
        except Exception:
            continue
        tests[ast.dump(node.args[0])] = classes if isinstance(classes, tuple) else (classes,)
    return tests


# -- helpers ---------------------------------------------------------------------------

def caller_namespace(frame):
    namespace = dict(frame.f_globals)
    namespace.update(frame.f_locals)
    return namespace


def first_arg(func):
    code = getattr(func, '__code__', None)
    if code is None or not code.co_argcount:
        return None
    return code.co_varnames[0]
