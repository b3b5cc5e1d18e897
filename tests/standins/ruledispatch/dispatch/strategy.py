"""Rules, signatures and the method-combination helpers that ``combine()`` overrides call.

A rule string is split into ``or`` branches (one Signature each) of ``and`` terms (one Test
each). A signature is more specific than another when each of the other's tests is implied by
one of its own: the same expression over the same values, or ``isinstance`` of the same
expression against subclasses. That order approximates RuleDispatch's; it is enough for
TurboGears 1.0 and TurboJson 1.1, and it is what the stand-in's tests pin down.
"""
import __builtin__
import ast

from dispatch.interfaces import AmbiguousMethod, NoApplicableMethods

_UNBOUND = object()


class Call(object):
    """A call's arguments, bound to the generic function's parameter names."""

    def __init__(self, callargs, argnames):
        self.callargs = callargs
        self.argnames = argnames

    def argument(self, position):
        return self.callargs[self.argnames[position]]


class Scope(object):
    """Name lookup for a rule: the call's arguments, then the locals where it was declared."""

    def __init__(self, first, second):
        self.first = first
        self.second = second

    def __getitem__(self, name):
        try:
            return self.first[name]
        except KeyError:
            return self.second[name]


class Test(object):
    """One ``and`` term. ``key`` tells equal terms apart; ``subject``/``classes`` are set for
    isinstance terms so that a subclass test can be seen to imply its base-class test."""

    def __init__(self, key, evaluate, subject=None, classes=()):
        self.key = key
        self.evaluate = evaluate
        self.subject = subject
        self.classes = classes

    def implies(self, other):
        if self.key == other.key:
            return True
        return (self.subject is not None and self.subject == other.subject and
                all(any(issubclass(mine, theirs) for theirs in other.classes)
                    for mine in self.classes))


class Argument(object):
    """The generic function's positional parameter ``position``."""

    def __init__(self, position):
        self.position = position


class ClassCriterion(object):
    """"Is an instance of ``cls``" (what ``ICriterion(cls)`` returns)."""

    def __init__(self, cls):
        self.cls = cls

    def test(self, argument):
        cls, position = self.cls, argument.position
        return Test(('isinstance', position, cls),
                    lambda call: isinstance(call.argument(position), cls),
                    subject=('argument', position), classes=(cls,))


class Signature(object):
    """Tests that must all hold. ``Signature([(Argument(0), ICriterion(C))])`` as in RuleDispatch;
    the empty signature (``default``) always holds and is the least specific."""

    def __init__(self, items=()):
        self.tests = tuple(item if isinstance(item, Test) else item[1].test(item[0])
                           for item in items)

    def holds(self, call):
        return all(test.evaluate(call) for test in self.tests)

    def implies(self, other):
        return all(any(mine.implies(theirs) for mine in self.tests) for theirs in other.tests)

    def __and__(self, other):
        if isinstance(other, Predicate):
            return Predicate([self & signature for signature in other.signatures])
        return Signature(self.tests + other.tests)


class Predicate(object):
    """Signatures of which any may hold: a parsed rule, one signature per ``or`` branch."""

    def __init__(self, signatures):
        self.signatures = list(signatures)

    @classmethod
    def of(cls, value):
        return value if isinstance(value, Predicate) else cls([value])


default = Signature()


def parse(text, local_names, global_names, argnames):
    """The Predicate for a rule string, its names resolved where it was declared."""
    tree = ast.parse(text.strip(), mode='eval').body
    return Predicate(Signature([expression_test(node, local_names, global_names, argnames)
                                for node in branch])
                     for branch in disjunctive_form(tree))


def disjunctive_form(node):
    """[[term, ...], ...]: the rule as an ``or`` of ``and``s of terms."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return [branch for value in node.values for branch in disjunctive_form(value)]
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        branches = [[]]
        for value in node.values:
            branches = [mine + theirs for mine in branches for theirs in disjunctive_form(value)]
        return branches
    return [[node]]


def expression_test(node, local_names, global_names, argnames):
    code = compile(ast.fix_missing_locations(ast.Expression(node)), '<rule>', 'eval')

    def lookup(name):
        for names in (local_names, global_names, __builtin__.__dict__):
            if name in names:
                return names[name]
        return _UNBOUND

    # Names other than the arguments are fixed at declaration, as RuleDispatch folded them.
    bound = tuple(sorted((child.id, id(lookup(child.id))) for child in ast.walk(node)
                         if isinstance(child, ast.Name) and child.id not in argnames))
    subject, classes = isinstance_parts(node, lookup)

    def evaluate(call):
        return bool(eval(code, global_names, Scope(call.callargs, local_names)))
    return Test(('expression', ast.dump(node), bound), evaluate, subject, classes)


def isinstance_parts(node, lookup):
    """(subject, classes) when ``node`` is ``isinstance(expr, classes)``, else (None, ())."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and
            node.func.id == 'isinstance' and len(node.args) == 2):
        return None, ()
    names = dict((child.id, lookup(child.id)) for child in ast.walk(node.args[1])
                 if isinstance(child, ast.Name))
    try:
        classes = eval(compile(ast.Expression(node.args[1]), '<rule>', 'eval'), {}, names)
    except Exception:
        return None, ()
    return ('expression', ast.dump(node.args[0])), (
        classes if isinstance(classes, tuple) else (classes,))


# -- method combination, as RuleDispatch's GenericFunction.combine() uses it -----------------

def separate_qualifiers(qualified_cases, **postprocessors):
    """{qualifier: cases}: methods stored as (qualifier, function) go under their qualifier,
    plain ones under 'primary'; each qualifier's cases then pass through its postprocessors."""
    cases = {}
    for signature, method in qualified_cases:
        qualifier, method = method if isinstance(method, tuple) else ('primary', method)
        cases.setdefault(qualifier, []).append((signature, method))
    for qualifier, steps in postprocessors.items():
        if qualifier in cases:
            for step in steps:
                cases[qualifier] = step(cases[qualifier])
    return cases


def ordered_signatures(cases):
    """Groups of cases, most specific first; a group holds cases none of which beats another."""
    rest = list(cases)
    groups = []
    while rest:
        best = [case for case in rest if not any(
            more_specific(other[0], case[0]) for other in rest if other is not case)] or rest
        groups.append(best)
        rest = [case for case in rest if not any(case is chosen for chosen in best)]
    return groups


def more_specific(a, b):
    return a.implies(b) and not b.implies(a)


def safe_methods(grouped_cases):
    """The methods in order, until a group with more than one: that yields AmbiguousMethod."""
    for group in grouped_cases:
        if len(group) > 1:
            yield AmbiguousMethod(group)
            return
        yield group[0][1]


def all_methods(grouped_cases):
    for group in grouped_cases:
        for signature, method in group:
            yield method


def method_chain(methods):
    """The first method; if its first parameter is ``next_method``, it gets the rest chained."""
    methods = iter(methods)
    for method in methods:
        code = getattr(method, '__code__', None)
        if code is not None and code.co_argcount and code.co_varnames[0] == 'next_method':
            rest = method_chain(methods)

            def chained(*args, **kw):
                return method(rest, *args, **kw)
            return chained
        return method
    return NoApplicableMethods()


def method_list(methods):
    """A callable yielding each method's result for the same arguments."""
    methods = list(methods)

    def each(*args, **kw):
        for method in methods:
            yield method(*args, **kw)
    return each
