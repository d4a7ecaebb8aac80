"""The interval bounds used to discharge side conditions contain every value they claim to.

A property test: random expressions over variables with declared domains, evaluated exactly at
random points of those domains, always land inside the computed interval (open ends respected).
"""
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symbolic.bounds import bound, excludes_zero
from symbolic.domains import NATURAL, NONNEGATIVE, POSITIVE, REAL, UNIT

b, t, v, e, x = sympy.symbols("b t v e x")
DOMAINS = {b: UNIT, t: NATURAL, v: NONNEGATIVE, e: POSITIVE, x: REAL}
ENV = {s: d.interval for s, d in DOMAINS.items()}

leaves = st.sampled_from([b, t, v, e, x, sympy.Integer(1), sympy.Integer(2), sympy.Rational(1, 3)])


def extend(children):
    return st.one_of(
        st.tuples(children, children).map(lambda p: p[0] + p[1]),
        st.tuples(children, children).map(lambda p: p[0] * p[1]),
        children.map(lambda a: -a),
        children.map(lambda a: 1 - a),
        children.map(lambda a: 1 / a),
        children.map(lambda a: a**2),
        children.map(lambda a: a**3),
        children.map(sympy.sqrt),
        children.map(sympy.Abs),
        st.sampled_from([b**t, b ** (t + 1), b ** sympy.Rational(1, 2), b ** (e + 1), b**e,
                         e**x, (e + 1)**v, (t + 1)**e, (v + 1)**x, (e + 2)**(x - 1)]),
    )


expressions = st.recursive(leaves, extend, max_leaves=6)
values = {
    b: st.sampled_from([0, sympy.Rational(1, 4), sympy.Rational(1, 2), sympy.Rational(99, 100)]),
    t: st.integers(0, 6).map(sympy.Integer),
    v: st.sampled_from([0, sympy.Rational(1, 9), 1, 4, 100]),
    e: st.sampled_from([sympy.Rational(1, 1000), sympy.Rational(1, 2), 1, 3]),
    x: st.sampled_from([-3, -1, sympy.Rational(-1, 2), 0, sympy.Rational(2, 3), 5]),
}


@settings(max_examples=400, deadline=None)
@given(expr=expressions, point=st.fixed_dictionaries(values))
def test_bounds_contain_every_value(expr, point):
    value = expr.xreplace({s: sympy.sympify(p) for s, p in point.items()})
    assume(value.is_number and value.is_real and value.is_finite)
    i = bound(expr, ENV)
    if i.lo != -sympy.oo:
        assert (value > i.lo) if i.lo_open else (value >= i.lo), (expr, point, value, i)
    if i.hi != sympy.oo:
        assert (value < i.hi) if i.hi_open else (value <= i.hi), (expr, point, value, i)


def test_bias_correction_is_positive_but_its_first_step_form_is_not_shown():
    assert excludes_zero(bound(1 - b ** (t + 1), ENV))  # t + 1 ≥ 1: strictly below 1
    assert not excludes_zero(bound(1 - b**t, ENV))      # t = 0 gives 1 − 1 = 0


def test_small_exponents_do_not_keep_the_base_bound():
    # For b ∈ [0, 1/4] and e ∈ (0, 1), bᵉ can exceed 1/4 (√(1/4) = 1/2): the bound must allow it.
    quarter = {b: type(ENV[b])(0, sympy.Rational(1, 4), False, False), e: ENV[e]}
    assert bound(b**e, quarter).hi >= sympy.Rational(1, 2)


def test_a_positive_base_past_one_keeps_a_symbolic_power_positive():
    assert bound(e**x, ENV).lo == 0 and bound(e**x, ENV).lo_open          # e > 0: eˣ > 0 for every real x
    assert bound((t + 1)**e, ENV).lo == 1                                 # a base ≥ 1, an exponent ≥ 0: ≥ 1
    assert bound((t + 1)**x, ENV).lo == 0                                 # a negative exponent: below 1
    assert bound(x**e, ENV).lo == -sympy.oo                               # a base of unknown sign: nothing
    assert bound(v**x, ENV).lo == -sympy.oo                               # 0 ** (negative x) is undefined
