"""The interval bounds used to discharge side conditions contain every value they claim to.

A property test: random expressions over variables with declared domains, evaluated exactly at
random points of those domains, always land inside the computed interval (open ends respected).
"""
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symbolic.bounds import bound, excludes_zero
from symbolic.domains import NATURAL, NONNEGATIVE, POSITIVE, REAL, UNIT, Interval

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


def test_a_base_from_one_to_an_exponent_at_most_zero_is_at_most_one():
    """(t + 1)^τ for t ≥ 0 and τ ≤ 0 (Adafactor's weight w = t^τ) lies in (0, 1]: 1 at τ = 0 or
    t = 0, every value at a grid of points inside."""
    tau = sympy.Symbol("tau")
    env = {**ENV, tau: Interval(-sympy.oo, 0, True, False)}
    i = bound((t + 1) ** tau, env)
    assert i == Interval(0, 1, True, False)
    for step in (0, 1, 5, 1000):
        for power in (0, sympy.Rational(-1, 5), sympy.Rational(-4, 5), -3):
            assert 0 < sympy.N((step + 1) ** power, 30) <= 1
    # an exponent that may be > 0 leaves it unbounded above
    assert bound((t + 1) ** x, ENV).hi == sympy.oo


def test_a_base_in_zero_one_to_a_bounded_exponent_is_bounded_away_from_zero():
    """x**e with x ∈ [lo, hi] ⊂ (0, 1] and e ∈ [e_lo, e_hi] ⊂ [0, 64] lies in [lo**⌈e_hi⌉, hi**⌊e_lo⌋]:
    NAdam's 0.96^ψ ≥ 0.96 for ψ ≤ 1.  Every value at a grid of points lies inside; past 64 the
    exponent gives [0, 1] as before (no huge exact powers)."""
    decay = sympy.Rational(*0.96.as_integer_ratio())
    psi = sympy.Symbol("psi")
    assert bound(decay ** psi, {psi: Interval(0, 1, False, False)}) == Interval(decay, 1, False, False)
    assert bound(decay ** psi, {psi: Interval(0, 100, False, False)}) == Interval(0, 1, False, False)
    box = {b: Interval(sympy.Rational(1, 4), sympy.Rational(1, 2), False, False),
           e: Interval(sympy.Rational(1, 2), sympy.Rational(5, 2), False, False)}
    i = bound(b ** e, box)
    assert i.lo > 0
    for base in (sympy.Rational(1, 4), sympy.Rational(1, 3), sympy.Rational(1, 2)):
        for exponent in (sympy.Rational(1, 2), 1, sympy.Rational(7, 4), sympy.Rational(5, 2)):
            value = sympy.N(base ** exponent, 40)
            assert i.lo <= value <= i.hi, (base, exponent, i)


@settings(max_examples=300, deadline=None)
@given(ends=st.tuples(st.integers(1, 64), st.integers(1, 64)), exponents=st.tuples(st.integers(0, 40), st.integers(0, 40)),
       at=st.tuples(st.integers(0, 8), st.integers(0, 8)))
def test_a_power_of_a_bounded_base_to_a_bounded_exponent_holds_every_value(ends, exponents, at):
    """x**e over random boxes [lo, hi] ⊂ (0, 1], [e_lo, e_hi] ⊂ [0, 10] (quarters): every value at
    points of the box (its corners included) lies inside the interval."""
    lo, hi = sorted(sympy.Rational(n, 64) for n in ends)
    e_lo, e_hi = sorted(sympy.Rational(n, 4) for n in exponents)
    box = {b: Interval(lo, hi, False, False), e: Interval(e_lo, e_hi, False, False)}
    i = bound(b ** e, box)
    base, exponent = lo + (hi - lo) * at[0] / 8, e_lo + (e_hi - e_lo) * at[1] / 8
    value = sympy.N(base ** exponent, 50)
    assert i.lo <= value <= i.hi, (lo, hi, e_lo, e_hi, base, exponent, i)


# ---------------------------------------------------------------- a bounded sum, shifted
RHO = 2 / (1 - b) - 1 - 2 * t * b**t / (1 - b**t)        # RAdam's ρ_t, a sum SymPy keeps as written
RHO_ENV = {**ENV, b: Interval(sympy.Rational(2, 3), sympy.Rational(99, 100), False, False),
           t: Interval(1, sympy.oo, False, True), RHO: Interval(5, sympy.oo, True, True)}


def _points_where_rho_exceeds_five():
    for beta in (sympy.Rational(2, 3), sympy.Rational(9, 10), sympy.Rational(99, 100)):
        for step in range(1, 200):
            at = {b: beta, t: sympy.Integer(step)}
            if RHO.xreplace(at) > 5:
                yield at


def test_a_sum_shifted_by_a_number_is_bounded_from_its_hypothesis():
    # ρ_t − 4: SymPy merges ρ_t's −1 with the −4, so no term of the hypothesis' sum is left whole
    shifted = RHO - 4
    assert shifted.args[0] == -5
    i = bound(shifted, RHO_ENV)
    assert i.lo == 1 and i.lo_open
    for at in _points_where_rho_exceeds_five():
        assert 1 < shifted.xreplace(at)


def test_a_ratio_of_a_sum_and_its_shift_is_bounded_as_one_quantity():
    # ρ/(ρ − 4) < 5 for ρ > 5; each factor's interval alone gives ρ∞ ≈ 200 here
    ratio = RHO / (RHO - 4)
    i = bound(ratio, RHO_ENV)
    assert i.lo >= 1 and i.hi == 5
    for at in _points_where_rho_exceeds_five():
        assert i.lo <= ratio.xreplace(at) <= i.hi
    assert bound((RHO + 1) / (RHO - 4), RHO_ENV).hi == 6          # (ρ + 1)/(ρ − 4) = 1 + 5/(ρ − 4)
