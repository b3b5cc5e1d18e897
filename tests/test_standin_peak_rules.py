"""The PEAK-Rules stand-in (tests/standins/peak-rules), a test fixture for the TurboGears 1.x
lab: the behaviour TurboGears 1.1/1.5 and TurboJson rely on."""
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / 'standins' / 'peak-rules'))

from peak.rules import AmbiguousMethods, NoApplicableMethods, abstract, around, when  # noqa
from peak.rules.core import Method, always_overrides  # noqa: E402


def test_when_turns_a_plain_function_generic_in_place():
    def describe(obj):
        return 'default'
    original = describe
    describe.when = when.__get__(describe)

    @describe.when('isinstance(obj, int)')
    def describe_int(obj):
        return 'int'

    @describe.when('isinstance(obj, bool)')  # bool is a subclass of int: more specific
    def describe_bool(obj):
        return 'bool'

    assert describe is original
    assert (describe('x'), describe(1), describe(True)) == ('default', 'int', 'bool')


def test_abstract_without_methods_raises():
    @abstract()
    def dispatch(value):
        pass
    with pytest.raises(NoApplicableMethods):
        dispatch(1)

    @when(dispatch, 'value > 0')
    def positive(value):
        return 'positive'
    assert dispatch(5) == 'positive'
    with pytest.raises(NoApplicableMethods):
        dispatch(-5)


def test_more_conjuncts_are_more_specific_and_next_method_chains():
    @abstract
    def failsafe(schema, values, errors):
        pass

    @when(failsafe, "schema == 'values' and isinstance(errors, dict)")
    def atom(schema, values, errors):
        return 'atom'

    @when(failsafe, "schema == 'values' and isinstance(values, dict) and isinstance(errors, dict)")
    def mapping(next_method, schema, values, errors):
        return 'mapping>' + next_method(schema, values, errors)

    assert failsafe('values', {}, {}) == 'mapping>atom'
    assert failsafe('values', 1, {}) == 'atom'


def test_around_wraps_and_rules_see_the_declaring_namespace():
    threshold = Decimal('10')

    def price(amount, **kw):
        return 'plain'

    @around(price, "amount > threshold and kw.get('currency') == 'EUR'")
    def expensive(next_method, amount, **kw):
        return 'expensive ' + next_method(amount, **kw)

    assert price(Decimal(50), currency='EUR') == 'expensive plain'
    assert price(Decimal(5), currency='EUR') == 'plain'


def test_ambiguity_raises_only_when_called():
    def f(x):
        return 'default'

    @when(f, 'x > 1')
    def a(x):
        return 'a'

    @when(f, 'x < 10')
    def b(x):
        return 'b'

    assert f(0) == 'b' and f(20) == 'a'
    with pytest.raises(AmbiguousMethods):
        f(5)


def test_a_method_class_with_merge_resolves_ties():
    """TurboGears' `first`: the earliest registered of equally specific methods wins."""
    class First(Method):
        def merge(self, other):
            return self
    always_overrides(First, Method)
    first = First.make_decorator('first')

    @abstract()
    def expose(kw):
        pass

    first(expose, "kw.get('tg_format', 'default') == 'default'")(lambda kw: 'html')
    first(expose, "kw.get('tg_format') == 'json' or True")(lambda kw: 'json')
    assert expose({}) == 'html'
    assert expose({'tg_format': 'json'}) == 'json'
