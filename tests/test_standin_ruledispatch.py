"""The RuleDispatch stand-in (tests/standins/ruledispatch), a test fixture for TurboGears 1.0:
the behaviour TurboGears 1.0 and TurboJson 1.1 rely on. It needs DecoratorTools (the real
one) and Python 2.7, so each case runs as a script in the lab's TG 1.0 virtualenv."""
import os
import textwrap

import pytest

from conftest import LAB
from support.venv import run

PYTHON = LAB / 'py27' / 'tg10' / 'bin' / 'python'


def py27(source):
    """Run ``source`` under the TG 1.0 lab's Python 2.7; it must print exactly 'ok'."""
    if not os.path.exists(str(PYTHON)):
        pytest.fail('the TurboGears 1.0 lab is missing (%s): run scripts/provision-py27' % PYTHON)
    proc = run([PYTHON, '-c', textwrap.dedent(source) + '\nprint("ok")\n'], check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == 'ok', proc.stdout + proc.stderr


def test_list_syntax_rules_and_no_applicable_method():
    py27('''
        import dispatch

        [dispatch.generic()]
        def describe(obj, mode='short'):
            """Describe obj."""

        [describe.when("isinstance(obj, int)")]
        def describe_int(obj, mode='short'):
            return 'int'

        [describe.when("isinstance(obj, bool)")]  # a subclass of int: more specific
        def describe_bool(obj, mode='short'):
            return 'bool'

        [describe.when("mode == 'long' or isinstance(obj, str)")]  # two signatures
        def describe_long(obj, mode='short'):
            return 'long or str'

        assert describe.__name__ == 'describe' and describe.__doc__ == 'Describe obj.'
        assert describe_int(1) == 'int'  # the decorated name keeps the plain function
        assert describe(1) == 'int' and describe(True) == 'bool'
        assert describe('x') == 'long or str' and describe([], mode='long') == 'long or str'
        try:
            describe([])
        except dispatch.NoApplicableMethods:
            pass
        else:
            raise AssertionError('no rule holds for a list')
    ''')


def test_more_conjuncts_win_and_incomparable_rules_are_ambiguous():
    py27('''
        from dispatch import generic, strategy, AmbiguousMethod

        [generic()]
        def failsafe(schema, values, errors):
            pass

        [failsafe.when(strategy.default)]
        def nothing(schema, values, errors):
            return 'default'

        [failsafe.when("schema == 'values' and isinstance(errors, dict)")]
        def atom(schema, values, errors):
            return 'atom'

        [failsafe.when("schema == 'values' and isinstance(values, dict) and "
                       "isinstance(errors, dict)")]
        def mapping(schema, values, errors):
            return 'mapping'

        [failsafe.when("schema == 'other'")]
        def other1(schema, values, errors):
            return 'other1'

        [failsafe.when("errors is None")]
        def other2(schema, values, errors):
            return 'other2'

        assert failsafe('values', {}, {}) == 'mapping'
        assert failsafe('values', 1, {}) == 'atom'
        assert failsafe('none', 1, {}) == 'default'
        assert failsafe('other', 1, {}) == 'other1'
        try:
            failsafe('other', 1, None)  # both hold, neither is more specific
        except AmbiguousMethod:
            pass
        else:
            raise AssertionError('ambiguous rules did not raise')
    ''')


def test_rules_inside_a_function_see_its_locals_and_around_chains():
    py27('''
        from dispatch import generic

        def build(limit):
            [generic()]
            def price(amount, **kw):
                pass

            [price.when("amount <= limit")]
            def cheap(amount, **kw):
                return 'cheap'

            [price.when("amount > limit")]
            def dear(amount, **kw):
                return 'dear'

            [price.around("kw.get('currency') == 'EUR'")]
            def euro(next_method, amount, **kw):
                return 'EUR ' + next_method(amount, **kw)
            return price

        price = build(10)
        assert price(5) == 'cheap' and price(50, currency='EUR') == 'EUR dear'
        assert build(100)(50) == 'cheap'
    ''')


def test_names_in_a_rule_are_bound_where_it_is_parsed():
    """TurboGears' register_handler parses "func_eq(tg_source, func) and ..." once per handler
    with that handler's ``func``: the same text over different values is a different test."""
    py27('''
        from dispatch import generic

        [generic()]
        def handle(source, errors):
            pass

        def register(func, result, extra=None):
            rule = "source is func" + (" and (%s)" % extra if extra else "")
            handle.when(handle.parse(rule, {'func': func}, globals()))(
                lambda source, errors: result)

        def index(): pass
        def edit(): pass
        register(index, 'index')
        register(edit, 'edit')
        register(edit, 'edit, missing name', "'name' in errors")
        assert handle(index, {'name': 1}) == 'index'
        assert handle(edit, {}) == 'edit'
        assert handle(edit, {'name': 1}) == 'edit, missing name'
    ''')


def test_turbogears_and_turbojson_subclasses():
    """The real TurboGears 1.0 and TurboJson 1.1 classes on top of the stand-in: a priori
    ordering (lower order first) and priorities that settle otherwise ambiguous rules."""
    py27('''
        from dispatch import generic
        from turbogears.genericfunctions import MultiorderGenericFunction
        from turbojson.prioritized_methods import PriorityDisambiguated

        [generic(MultiorderGenericFunction)]
        def on_error(kind):
            pass

        [on_error.when("kind.startswith('x')", order=3)]
        def implicit(kind):
            return 'order 3'

        [on_error.when("kind == 'xy'", order=1)]
        def explicit(kind):
            return 'order 1'

        assert on_error('xy') == 'order 1' and on_error('xz') == 'order 3'

        [generic(PriorityDisambiguated)]
        def encode(obj):
            pass

        [encode.when("hasattr(obj, 'upper')", prio=-1)]
        def library_rule(obj):
            return 'library'

        [encode.when("isinstance(obj, str)")]
        def user_rule(obj):
            return 'user'

        assert encode('s') == 'user' and encode(u's') == 'library'
    ''')


def test_when_in_a_class_body_requires_an_instance_of_that_class():
    py27('''
        from dispatch import generic, NoApplicableMethods

        [generic()]
        def render(obj):
            pass

        class Page(object):
            [render.when("True")]
            def render(self):
                return 'page'

        assert render(Page()) == 'page'
        try:
            render(object())
        except NoApplicableMethods:
            pass
        else:
            raise AssertionError('the class-body rule applied to another class')
    ''')
