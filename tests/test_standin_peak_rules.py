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



# TurboJson 1.3.2's turbojson/jsonify.py in shape (module level, as there).
JSONIFY_MODULE = """
from datetime import date
from peak.rules import abstract, around, when

def jsonify(obj):
    return jsonify_default(obj)
jsonify.when = when.__get__(jsonify)
jsonify.around = around.__get__(jsonify)

@jsonify.around("hasattr(obj, '__json__')")
def jsonify_explicit(obj):
    return obj.__json__()

@abstract
def jsonify_default(obj):
    return NotImplementedError
jsonify_default.when = when.__get__(jsonify_default)

@jsonify_default.when("obj is None or isinstance(obj, (str, bool, int, float, list, dict))")
def jsonify_serializable(obj):
    return obj

@jsonify_default.when("isinstance(obj, (set, frozenset, tuple))")
def jsonify_list_like(obj):
    return list(obj)

@jsonify.when("isinstance(obj, date)")
def jsonify_datetime(obj):
    return str(obj)
"""


def test_turbojson_jsonify_shape():
    """TurboJson 1.3.2's jsonify, the only use of peak.rules in the TurboGears 2.0.4 lab: a
    plain function made generic with `around` bound by `__get__`, an abstract default with
    `when` rules (one of them an `or`), and `when` on the plain function beating the
    default's rules; an object no rule covers raises."""
    from datetime import date
    module = {'__name__': 'jsonify_shape'}
    exec(JSONIFY_MODULE, module)
    jsonify = module['jsonify']

    class Model(object):
        def __json__(self):
            return {'id': 1}

    assert jsonify(None) is None and jsonify([1]) == [1] and jsonify((1, 2)) == [1, 2]
    assert jsonify(date(2009, 5, 27)) == '2009-05-27'
    assert jsonify(Model()) == {'id': 1}
    with pytest.raises(NoApplicableMethods):
        jsonify(object())
