"""The prover's forward error analysis (``symbolic.propagation``) and the whole-step float contracts.

* Each rule's bound holds: at the corners of the δ box and at random points inside it, on exact
  rationals (50 digits where a root or a log enters), |E(δ) − E(0)| ≤ the propagated error —
  with u = 2⁻⁸, so that the higher-order terms the rules keep are visible.
* What must not be bounded is not: a comparison a rounding can flip, a root of a cancelling
  sum, a power with a rounded base of unknown sign.
* The final comparison (``dominated``) and the exact sign of a polynomial in u on its range.
* A false whole-step contract is never PROVED: one rounding count too small, the bias
  corrections' float64 amplification left out, Lion's sign flip left out.
"""
import itertools
import random

import pytest
import sympy

from proofs.harness import PROVED, Theorem, inequality
from symbolic import propagation
from symbolic.domains import DOMAINS
from symbolic.knowledge import Knowledge

U = sympy.Rational(1, 2**8)
u = sympy.Symbol("u", real=True)
p, m, g, b, t = (sympy.Symbol(n, real=True) for n in "pmgbt")
v, lr, eps, beta, q = (sympy.Symbol(n, real=True) for n in ("v", "lr", "eps", "beta", "q"))
DELTAS = sympy.symbols("d1:7", real=True)
SYMBOLS = {u: DOMAINS["positive"], p: DOMAINS["real"], m: DOMAINS["real"], g: DOMAINS["real"], b: DOMAINS["real"],
           t: DOMAINS["natural"], v: DOMAINS["nonnegative"], lr: DOMAINS["positive"], eps: DOMAINS["positive"],
           beta: DOMAINS["unit"], q: DOMAINS["real"]}
n_int = sympy.Symbol("n", integer=True, nonnegative=True)       # as the harness declares a natural number
SYMBOLS[n_int] = DOMAINS["natural"]
SAMPLES = {p: lambda r: r.uniform(-3, 3), m: lambda r: r.uniform(-3, 3), g: lambda r: r.uniform(-3, 3),
           b: lambda r: r.uniform(-3, 3), t: lambda r: r.randint(0, 50), v: lambda r: r.uniform(0, 4),
           lr: lambda r: r.uniform(0.001, 2), eps: lambda r: r.uniform(1e-6, 1), beta: lambda r: r.uniform(0, 0.5),
           q: lambda r: sympy.Rational(r.randint(-8, 12), 4)}      # quarters: exact powers stay cheap


def analysis(*hypotheses):
    k = Knowledge(SYMBOLS, [(u <= U, "hypothesis"), (beta <= sympy.Rational(1, 2), "hypothesis"),
                            *[(h, "hypothesis") for h in hypotheses]])
    return propagation.Propagation({d: u for d in DELTAS}, k, {u})


def rational(x):
    return sympy.Rational(x).limit_denominator(10**6) if not isinstance(x, int) else sympy.Integer(x)


def assert_bound_holds(expr, *hypotheses, points=24):
    n = analysis(*hypotheses).node(expr)
    rng = random.Random(7)
    used = [d for d in DELTAS if d in expr.free_symbols]
    corners = list(itertools.product((-U, U), repeat=len(used)))
    for trial in range(points):
        at = {s: rational(draw(rng)) for s, draw in SAMPLES.items()}
        at[u] = U
        deltas = corners[rng.randrange(len(corners))] if trial % 2 else [sympy.Rational(rng.randint(-15, 15), 16) * U for _ in used]
        rounded = expr.xreplace({**at, **dict(zip(used, deltas))})
        exact = expr.xreplace({**at, **{d: 0 for d in used}})
        gap = sympy.Abs(rounded - exact) - n.error.xreplace(at)
        gap = gap if gap.is_Rational else sympy.N(gap, 30)
        assert gap <= 0, (expr, at, deltas, gap)
    return n


def test_each_rule_bounds_every_point_of_the_box():
    d1, d2, d3, d4, d5, d6 = DELTAS
    adam_like = (p - lr * m * (1 + d1) / ((sympy.sqrt(v * (1 + d2)) * (1 + d3) + eps) * (1 + d4))) * (1 + d5)
    assert_bound_holds(adam_like)
    assert_bound_holds(1 / ((1 - beta * (1 + d1)) * (1 + d2)))                 # cancellation, amplified
    assert_bound_holds(sympy.sign(g * b * (1 + d1)) * lr * (1 + d2))          # a kept sign
    assert_bound_holds(sympy.Max(v * (1 + d1), eps * (1 + d2)) * (1 + d3))
    assert_bound_holds(sympy.Piecewise((v * (1 + d1), g * b * (1 + d2) > 0), (eps, True)))
    assert_bound_holds(sympy.Rational(24, 25) ** (t * (1 + d1)) * (1 + d2), t <= 50)   # a rounded exponent
    assert_bound_holds((m + g * (1 + d1)) ** 3 * (1 + d2))                     # a power of a signed sum
    assert_bound_holds(sympy.sign(m + g * (1 + d1)))                          # may flip: within 2
    assert_bound_holds(((m * (1 + d1) - g) * (1 + d2)) * ((m + g) * (1 + d3)) / (lr * (1 + d6)))


def test_an_integer_power_of_a_base_with_an_unbounded_relative_error_falls_back_to_the_product_rule():
    """ε + v − v(1 + δ) is ε with error u·v: relative to it u·v/ε, unbounded as ε → 0, so the
    relative rule for its square cannot be used — x·x's absolute rule bounds it, as for a product."""
    d1 = DELTAS[0]
    base = eps + v - v * (1 + d1)
    e = analysis().node(base).error                 # u·v/(1 − 2⁻⁸): (1 + δ)'s relative bound at u ≤ 2⁻⁸
    assert sympy.expand(e - u * v / (1 - U)) == 0
    n = assert_bound_holds(base ** 2)
    assert sympy.expand(n.error - (2 * eps * e + e**2)) == 0      # (|ε| + e)² − ε²
    assert_bound_holds(base ** 3 * (1 + DELTAS[1]))


def test_a_maximum_of_rounded_values_of_one_sign_and_exact_values_of_any_keeps_a_relative_bound():
    """max(v(1 + δ), b), b of no known sign: |max(v̂, b) − max(v, b)| ≤ |v̂ − v| ≤ r·v ≤ r·max(v, b), so the
    maximum keeps v's relative bound (schedule-free's max(γ̂, lr_max), lr_max starting at −1); a
    minimum does not (min(v, b) may be far below v), nor a maximum with a rounded part of no sign."""
    d1, d2 = DELTAS[:2]
    n = assert_bound_holds(sympy.Max(v * (1 + d1), b) * (1 + d2))
    assert n.rel is not None and n.sign == 1
    assert sympy.simplify(analysis().node(sympy.Max(v * (1 + d1), b)).error - u / (1 - U) * sympy.Max(v, b)) == 0
    assert analysis().node(sympy.Min(v * (1 + d1), b)).rel is None
    assert analysis().node(sympy.Max(g * (1 + d1), b)).rel is None
    assert_bound_holds(sympy.Min(v * (1 + d1), b))
    assert_bound_holds(sympy.Max(g * (1 + d1), b))


def test_a_rounded_base_to_a_bounded_symbolic_power_takes_the_integer_powers_rule():
    """x̂^q with q a symbol in [−2, 3] (a hypothesis): bounded by x^±3's rule, at every sampled
    point of the box, exponents of both signs; with q unbounded, or a base of no known sign, not
    bounded at all (schedule-free's max(γ̂, lr_max)^weight_lr_power)."""
    d1, d2 = DELTAS[:2]
    in_range = (q >= -2, q <= 3)
    n = assert_bound_holds((lr * (1 + d1)) ** q * (1 + d2), *in_range, points=40)
    assert n.rel is not None and n.sign == 1
    assert_bound_holds((v * (1 + d1)) ** (q + 2) * (1 + d2), *in_range, points=40)   # exponent in [0, 5], base may be 0
    assert sympy.simplify(analysis(*in_range).node((lr * (1 + d1)) ** q).rel[0] - 3 * u) == 0
    with pytest.raises(propagation.CannotBound, match="finite bounds"):
        analysis().node((lr * (1 + d1)) ** q)
    with pytest.raises(propagation.CannotBound, match="≥ 0"):
        analysis(*in_range).node((g * (1 + d1)) ** q)
    with pytest.raises(propagation.CannotBound, match="≠ 0"):
        analysis(*in_range).node((v * (1 + d1)) ** q)       # v may be 0, q may be < 0
    # an integer symbol's parity is unknown: (−lr)^n has no sign to report, so a negative base is refused
    with pytest.raises(propagation.CannotBound, match="≥ 0"):
        analysis(n_int <= 3).node((-lr * (1 + d1)) ** n_int)


def test_what_a_rounding_may_flip_or_break_is_not_bounded():
    d1, d2 = DELTAS[:2]
    a = analysis()
    with pytest.raises(propagation.CannotBound, match="flip"):
        a.node(sympy.Piecewise((v, m * (1 + d1) - g > 0), (eps, True)))     # a difference: its sign may change
    with pytest.raises(propagation.CannotBound, match="relative"):
        a.node(sympy.sqrt((v - g ** 2 * (1 + d1)) * (1 + d2)))             # centered variance: may go negative
    with pytest.raises(propagation.CannotBound):
        a.node(1 / (m * (1 + d1) + g))                                     # a divisor that may cancel to 0
    with pytest.raises(propagation.CannotBound):
        a.node(sympy.floor(v * (1 + d1)))


def test_a_sum_keeps_a_relative_bound_only_when_each_term_has_a_shown_sign():
    """m·(1 + δ) + b·(g − m) ≥ 0 (a hypothesis) has a known sign, its terms do not: at m = 1000,
    b = 1, g = 0 the sum is 0 and its error 1000·u — no bound relative to the sum holds."""
    d1 = DELTAS[0]
    n = analysis(m + b * (g - m) >= 0).node(m * (1 + d1) + b * (g - m))
    at = {m: 1000, b: 1, g: 0, u: U}
    assert n.rel is None and n.error.xreplace(at) >= 1000 * U


def test_a_sign_is_exact_only_when_a_relative_bound_keeps_it():
    d1 = DELTAS[0]
    assert analysis().node(sympy.sign(g * b * (1 + d1))).error == 0
    assert analysis().node(sympy.sign(m + g * (1 + d1))).error == 2


def test_the_claimed_bound_must_dominate_every_monomial():
    k = analysis().k
    x = sympy.Abs(m)
    assert propagation.dominated(u * x + u ** 2 * x, 2 * u * x, {u}, k)
    assert propagation.dominated(u * x + u ** 2 * x, u * x, {u}, k) is None            # u² short
    assert propagation.dominated(u * x + u * sympy.Abs(g), 2 * u * x, {u}, k) is None  # |g| not covered
    assert propagation.dominated(u * (1 - beta) * x, u * (1 - beta) * x + u ** 2 * x, {u}, k)
    # a u-free sum of terms of known signs is multiplied out when its grouping does not show
    # it: the same bound written term by term is recognised
    assert propagation.dominated(u * (1 - beta) * x, u * x - u * beta * x + u ** 2 * x, {u}, k)
    assert propagation.dominated(u * (1 - beta) * x, u * x - 2 * u * beta * x + u ** 2 * x, {u}, k) is None


def test_one_radicand_written_two_ways_is_one_atom():
    # Adam's normalised step's denominator ε + √(v′/(1 − β2ᵗ)) as the error analysis writes it, and
    # as a claim's copy comes out of SymPy, −(…)/(β2ᵗ − 1) under the root: one value, so one atom
    # (schedule-free AdamW's contract met both and matched neither) — and only that one
    k = analysis().k
    power = beta ** (t + 1)
    written = (beta * v + g**2 * (1 - beta)) / (1 - power)
    printed = -(beta * v - g**2 * (beta - 1)) / (power - 1)
    atoms: dict = {"roots": {}}
    one = propagation._atom(-eps - sympy.sqrt(written), atoms, k)
    assert propagation._atom(-eps - sympy.sqrt(printed), atoms, k) == one
    assert propagation._atom(-eps - sympy.sqrt(written / (1 + power)), atoms, k) != one
    assert propagation._atom(-eps - sympy.sqrt(written) ** 3, atoms, k) != one


def test_a_square_and_the_square_of_its_absolute_value_are_one_atom():
    # the analysis bounds |g|·|g| (a product of two bounds), a claim writes g² (SymPy's own form)
    k = analysis().k
    atoms: dict = {"roots": {}}
    met = sympy.Abs(g) * sympy.Abs(g * (1 - beta))       # SymPy keeps it so: |g|·|g(1 − β)|
    assert propagation._atom(met, atoms, k) == propagation._atom(g ** 2 * (1 - beta), atoms, k)
    assert propagation.dominated(u * met, u * g ** 2 * (1 - beta), {u}, k)
    assert propagation.dominated(2 * u * met, u * g ** 2 * (1 - beta), {u}, k) is None


def test_a_symbolic_power_and_its_square_factor_together():
    # 1 − 2β^(t+1) + β^(2t+2) is (1 − β^(t+1))²: LAMB's norm of the direction, written over
    # (β^(t+1) − 1)² by the error analysis and over (1 − β^(t+1))² by the claim, one radicand
    k = analysis().k
    power, s1, s2 = beta ** (t + 1), sympy.Symbol("s1", real=True), sympy.Symbol("s2", real=True)
    one = s1 / (power - 1) ** 2 + s2 * (1 - 2 * power + beta ** (2 * t + 2)) / (1 - power) ** 4
    other = (s1 + s2) / (1 - power) ** 2
    assert propagation._canonical(one) == propagation._canonical(other)
    atoms: dict = {"roots": propagation._root_orders(sympy.sqrt(one) + sympy.sqrt(other))}
    assert propagation._atom(1 / sympy.sqrt(one), atoms, k) == 1 / propagation._atom(sympy.sqrt(other), atoms, k)
    # a power whose exponent is no whole multiple of another's stays apart
    assert propagation._canonical(1 - beta ** (t + 1)) != propagation._canonical(1 - beta ** (2 * t + 1))


def test_a_value_nonnegative_and_stated_nonzero_is_positive():
    # LARS's ‖g + λp‖ on the path where it is ≠ 0: a root of a sum of three row sums (no interval
    # shows it > 0), ≥ 0 as a root of a sum stated ≥ 0, ≠ 0 by the path — so ε + ‖d‖ > 0
    s1, s2, s3, e0 = (sympy.Symbol(name, real=True) for name in ("s1", "s2", "s3", "e0"))
    radicand = s1 + 2 * beta * s3 + beta ** 2 * s2
    known = {**SYMBOLS, **{s: DOMAINS["real"] for s in (s1, s2, s3)}, e0: DOMAINS["nonnegative"]}  # ε may be 0
    k = Knowledge(known, [(sympy.Ge(radicand, 0), "hypothesis"), (sympy.Ne(sympy.sqrt(radicand), 0), "path")])
    assert k.how_positive(sympy.sqrt(radicand))
    assert k.how_nonzero(e0 + sympy.sqrt(radicand))
    alone = Knowledge(known, [(sympy.Ge(radicand, 0), "hypothesis")])      # without the path: may be 0
    assert not alone.how_positive(sympy.sqrt(radicand))
    assert not alone.how_nonzero(e0 + sympy.sqrt(radicand))


def test_a_bounded_factor_split_off_by_the_common_denominator_is_checked_at_its_ends():
    # u·x·(1 − β) becomes u·x and −u·x·β once multiplied out: no monomial alone covers the second,
    # but with β ∈ [0, ½] (the hypothesis here) the group u − c·u·β is ≥ 0 at both ends when c ≤ 2
    k = analysis().k
    x = sympy.Abs(m)
    assert propagation.dominated(2 * u * beta * x, u * x, {u}, k)
    assert propagation.dominated(u * beta * x + u ** 2 * x, u * x, {u}, k)
    assert propagation.dominated(3 * u * beta * x, u * x, {u}, k) is None          # 1.5u > u at β = ½
    assert propagation.dominated(2 * u * beta * x + u ** 2 * x, u * x, {u}, k) is None   # u² short at β = ½
    # a factor of no finite bounds (m) stands aside
    assert propagation.dominated(u * m * x, u * x, {u}, k) is None


def test_a_bounded_factors_higher_powers_are_checked_by_their_bernstein_coefficients():
    # Muon's nesterov direction meets (1 − μ)² (two lerps' weights): the corners alone would not
    # bound a square.  On β ∈ [0, ½]: 4β² ≤ 1 (at β = ½ exactly) and 5β² > 1 there
    k = analysis().k
    x = sympy.Abs(m)
    assert propagation.dominated(4 * u * beta ** 2 * x, u * x, {u}, k)
    assert propagation.dominated(5 * u * beta ** 2 * x, u * x, {u}, k) is None
    assert propagation.dominated(4 * u * beta ** 2 * x + u ** 2 * x, u * x, {u}, k) is None    # u² short at β = ½
    # a coefficient below 0 inside the box is never shown, even where it is ≥ 0 at both ends:
    # 1 − 9β(1 − 2β) is 1 at β = 0 and at β = ½, and −1/8 at β = ¼
    assert propagation.dominated(9 * u * beta * (1 - 2 * beta) * x, u * x, {u}, k) is None


def test_bernstein_coefficients_bound_a_polynomial_from_below_on_its_box():
    t = sympy.Symbol("t")
    for p, box in [(1 - 9 * t * (1 - 2 * t), (0, sympy.Rational(1, 2))), ((1 - 2 * t) ** 2, (0, 1)),
                   (t ** 3 - t + sympy.Rational(1, 3), (-1, 2)), (sympy.Integer(0), (0, 1))]:
        least = min(propagation._bernstein(sympy.expand(p), [t], {t: box}))
        grid = [box[0] + (box[1] - box[0]) * sympy.Rational(i, 64) for i in range(65)]
        assert least <= min(p.subs(t, v) for v in grid)
        assert propagation._bernstein(sympy.expand(p), [t], {t: box})[0] == p.subs(t, box[0])   # its ends: the values there
        assert propagation._bernstein(sympy.expand(p), [t], {t: box})[-1] == p.subs(t, box[1])


def test_a_u_free_ratio_meets_the_claims_terms_once_multiplied_out():
    # schedule-free's float64 averaging coefficient: an error ∝ (6w + s)/(w + s) with w, s ≥ 0
    # is at most 6 times the unit (w ≫ s), and not 5 times
    k = analysis().k
    x, w, s = sympy.Abs(g), lr, v                      # lr > 0, v ≥ 0
    error = u * (6 * w + s) / (w + s) * x
    assert propagation.dominated(error, 6 * u * x, {u}, k)
    assert propagation.dominated(error, 5 * u * x, {u}, k) is None
    assert propagation.dominated(error, u * x + 5 * u * w / (w + s) * x, {u}, k)      # = the error exactly
    assert propagation.dominated(error, u * x + 4 * u * w / (w + s) * x, {u}, k) is None
    # a sum of terms of unknown sign stays one atom: p − g is not split into p and −g
    assert propagation.dominated(u * sympy.Abs(p - g), u * sympy.Abs(p) + u * sympy.Abs(g), {u}, k) is None


def test_signs_of_a_polynomial_on_the_range_of_u():
    k = analysis().k
    assert propagation.nonnegative_on(1 - 100 * u, {u}, k)          # u ≤ 2⁻⁸ < 1/100
    assert not propagation.nonnegative_on(1 - 300 * u, {u}, k)      # negative near 2⁻⁸
    assert propagation.positive_on((1 - 128 * u) ** 2 + u, {u}, k)
    assert not propagation.positive_on((1 - 256 * u) ** 2, {u}, k)  # a double root at u = 2⁻⁸
    assert propagation.nonnegative_on((1 - 256 * u) ** 2, {u}, k)


# ------------------------------------------------------------------ false contracts are never PROVED
def _verdict(build):
    """PROVED where the error analysis — the decision that shows the library's true contracts —
    shows every path of the claim that carries a step; otherwise what it did not show.  (The
    whole decider under a time limit would end these false claims UNKNOWN by timeout: a test
    that a slower decider would pass too.)"""
    from proofs.harness import build_theorem
    from symbolic import prover
    data = build_theorem(Theorem("Test.float_contract", "a false contract", PROVED, build, "A false contract.",
                                 __name__))
    stepping = [ob for ob in data.obligations if ob.pairs and not any("Eq(" in str(c) for c in ob.path)]
    assert stepping
    shown = [prover._by_error_propagation(ob, data.variables, 0, list(data.hypotheses)) for ob in stepping]
    return PROVED if all(r is not None and r.status == PROVED for r in shown) else "not shown"


def _contract(module, options, bound_of):
    from optim.context import context_of
    from proofs.theorems.precision import away_from_one, numpy_step, unit_roundoff

    def build(x):
        unit = unit_roundoff(x, "unit")
        state = x.state(module, **options)
        for name in ("beta1", "beta2"):
            if hasattr(state, name):
                away_from_one(x, getattr(state, name))
        p, g = x.tensor("params"), x.tensor("grads")
        computed, exact, new = numpy_step(x, module, state, p, g, unit)
        ctx = context_of(p)
        return inequality(ctx.abs(computed - exact), unit * ctx.abs(exact) + bound_of(x, unit, state, new, p, g, exact, ctx))
    return build


def test_a_contract_with_too_few_roundings_is_not_proved():
    from optim import adagrad

    def roundings(count):
        return _contract(adagrad, {"weight_decay": 0.0}, lambda x, u, s, new, p, g, exact, ctx: count * u * ctx.abs(p - exact))
    assert _verdict(roundings(2)) != PROVED
    assert _verdict(roundings(10)) == PROVED     # the library's count (Optim.Adagrad.float_step_error_le)


def test_sgds_numpy_contracts_need_every_rounding_they_count():
    """Plain SGD as NumPy runs it rounds three times (lr to the dtype, g·lr, the subtraction): 3u·|lr·g|
    is shown, 2u (TorchLean's count, without the conversion) is not; momentum SGD's 4u, not 3u."""
    from optim import momentum_sgd, sgd

    def plain(count):
        return _contract(sgd, {"weight_decay": 0.0, "momentum": 0.0},
                         lambda x, u, s, new, p, g, exact, ctx: count * u * ctx.abs(g * s.lr))

    def momentum(count):
        return _contract(momentum_sgd, {}, lambda x, u, s, new, p, g, exact, ctx:
                         count * u * s.lr * (ctx.abs(new.buf) + s.momentum * ctx.abs(s.buf)))
    assert _verdict(plain(3)) == PROVED and _verdict(plain(2)) != PROVED
    assert _verdict(momentum(4)) == PROVED and _verdict(momentum(3)) != PROVED


def test_a_contract_without_the_bias_corrections_error_is_not_proved():
    from optim import adam
    from proofs.theorems.precision import times

    def bound(x, u, s, new, p, g, exact, ctx):
        increment = p - adam._adaptive_step(p, (1 - s.beta1) * (g - s.m), new.v, new.t, s)
        return 40 * u * ctx.abs(p - exact) + times(x, 10, u) * ctx.abs(increment)
    assert _verdict(_contract(adam, {"weight_decay": 0.0}, bound)) != PROVED


def test_lion_without_its_sign_flip_is_not_proved():
    from optim import lion
    assert _verdict(_contract(lion, {"weight_decay": 0.0},
                              lambda x, u, s, new, p, g, exact, ctx: 8 * u * ctx.abs(p - exact) + 8 * u * s.lr)) != PROVED


def test_the_monomial_bound_holds_at_every_vertex_and_is_exact_for_terms_of_one_sign():
    from symbolic import prover
    d1, d2, d3 = DELTAS[:3]
    box = {d: (-u, u) for d in DELTAS}
    k = analysis().k
    signed = (p * (1 + d1) + g * (1 + d2)) * (1 + d3) - (p + g)      # may cancel: |p + g| ≪ |p|
    bound = prover._monomial_bound(signed, [d1, d2, d3], box, k)
    rng = random.Random(3)
    for _ in range(20):
        values = {p: rational(rng.uniform(-3, 3)), g: rational(rng.uniform(-3, 3)), u: U}
        for corner in itertools.product((-U, U), repeat=3):
            at = dict(zip((d1, d2, d3), corner))
            assert abs(signed.xreplace(at).xreplace(values)) <= bound.xreplace(values)
    # terms ≥ 0 (v, and g² times 1 − β): the bound is the error at the all-+u vertex, exactly
    same_sign = (v * beta * (1 + d1) + (1 - beta) * g**2 * (1 + d2)) * (1 + d3) - (v * beta + (1 - beta) * g**2)
    tight = prover._monomial_bound(same_sign, [d1, d2, d3], box, k)
    assert sympy.expand(tight - same_sign.xreplace({d1: u, d2: u, d3: u})) == 0
    assert prover._monomial_bound(p * (1 + d1) + 1, [d1], box, k) is None      # a constant term
    assert prover._monomial_bound(p / (1 + d1) - p, [d1], box, k) is None     # not a polynomial


def test_a_lars_contract_without_the_summation_error_is_not_proved():
    from optim import lars
    from optim.context import context_of
    from proofs.theorems.precision import unit_roundoff

    def build(x):
        u = unit_roundoff(x)
        state = x.state(lars, length="n", weight_decay=0.0, nesterov=False, b="real")
        p, g = x.tensor("params", length="n"), x.tensor("grads", length="n")
        ctx = context_of(p)
        x.assume(u * ctx.shape(p)[0] - u <= sympy.Rational(1, 32))
        with x.rounding(u, python_scalars=True) as rounded:
            computed_state, computed = lars.update(state, p, g)
        new, exact = rounded.exact((computed_state, computed))
        step = ctx.abs(g * (state.lr * lars.trust_ratio(p, g, state.trust_coefficient, state.epsilon)))
        # 40 roundings of the step, but nothing for the norms' n − 1 additions each
        return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + 2 * u * ctx.abs(new.b)
                          + 3 * u * ctx.abs(state.b * state.momentum) + 40 * u * step)
    assert _verdict(build) != PROVED


def test_a_schedule_free_contract_without_the_averaging_coefficients_float64_error_is_not_proved():
    # c = w/(weight_sum + w) and 1 − c are computed in float64 (two powers, a product, a sum, a
    # quotient): at u = 2⁻⁵³ their errors, about 12 and 13 units of 2⁻⁵³, are not covered by the
    # u-multiples alone when β → 1 and c → 0 (the step's coefficient s → lr·(1 − β) is small)
    from optim import schedule_free_sgd
    from optim._shared import lerp
    from optim.context import context_of
    from proofs.theorems.precision import numpy_step, unit_roundoff

    def build(x):
        u = unit_roundoff(x)
        state = x.state(schedule_free_sgd, warmup_steps=0, weight_decay=0.0)
        y, g = x.tensor("params"), x.tensor("grads")
        computed, exact, _ = numpy_step(x, schedule_free_sgd, state, y, g, u)
        _, _, _, c = schedule_free_sgd.averaging(state, context_of(y))
        ctx = context_of(y)
        scale = state.lr * (state.momentum * (1 - c) - 1)
        return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + 2 * u * ctx.abs(lerp(y, state.z, c))
                          + 4 * u * ctx.abs(c * (state.z - y)) + 6 * u * ctx.abs(g * scale))
    # the error analysis, which proves the true contract path by path, shows none of this one's
    # paths that carry the step (the rest of the decider, slower, is no less sound: tested apart)
    from proofs.harness import build_theorem
    from symbolic import prover
    data = build_theorem(Theorem("Test.float_contract", "a false contract", PROVED, build, "A false contract.",
                                 __name__))
    stepping = [ob for ob in data.obligations if ob.pairs and not any("Eq(" in str(c) for c in ob.path)]
    assert stepping
    for ob in stepping:
        assert prover._by_error_propagation(ob, data.variables, 0, list(data.hypotheses)) is None, ob.path


@pytest.mark.parametrize("power", [{"weight_lr_power": 2.0}, {"power_at_most": 4}, {"power_at_most": 64}],
                         ids=["square", "up to 4", "up to 64"])
def test_a_schedule_free_warmup_contract_without_the_warmup_rates_float64_error_is_not_shown(power):
    """γ = lr·(k + 1)/warmup is rounded in float64 (a quotient and a product): its error enters the step
    and, through max(γ, lr_max)^weight_lr_power, c. The contract without warmup, with γ for lr, leaves it
    out: the analysis that proves Optim.SGDScheduleFree.float_step_error_le_with_warmup (and
    …_power_le_4, a symbolic power of the rounded γ) does not show it."""
    from proofs.theorems.precision import schedule_free_run, schedule_free_terms

    def build(x):
        u, ctx, computed, exact, terms = schedule_free_run(x, **power)
        return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + schedule_free_terms(u, ctx, *terms))
    assert _verdict(build) != PROVED


def test_a_product_of_many_rounded_factors_takes_those_with_a_relative_bound_as_one():
    # m + g·(1 + δ) has no relative bound (its terms may cancel); beside it, five rounded factors
    # with one: their product's relative bound, not 2⁶ − 1 multiplied-out terms — still sound
    d = DELTAS
    expr = (m + g * (1 + d[0])) * lr * (1 + d[1]) * (1 + d[2]) * (1 + d[3]) * (1 + d[4]) * (1 + d[5])
    n = assert_bound_holds(expr)
    # (|m + g| + e)·(1 + r) − |m + g|: three terms once multiplied out (each factor apart: 11)
    assert len(sympy.Add.make_args(sympy.expand(n.error))) == 3, n.error


def test_a_sum_of_known_sign_whose_factors_have_none_stays_one_atom():
    # ρ_t − 4 > 0 from the hypothesis ρ_t > 5; its factored form's numerator, a polynomial in
    # β, βᵗ and t, has no shown sign — so the claim c·|x|/(ρ_t − 4) ≥ |x|/(ρ_t − 4) is shown
    # only with ρ_t − 4 kept whole
    rho = 2 / (1 - beta) - 1 - 2 * t * beta**t / (1 - beta**t)
    k = analysis(rho > 5, beta >= sympy.Rational(1, 4)).k
    error = u * sympy.Abs(p) / (rho - 4)
    assert propagation.dominated(error, 2 * u * sympy.Abs(p) / (rho - 4), {u}, k) is not None
    assert propagation.dominated(error, u * sympy.Abs(p) / (rho - 4) / 2, {u}, k) is None


def test_a_product_whose_factors_relative_bounds_add_past_one_is_bounded_factor_by_factor():
    # nine roundings at u = 1/8 add to a relative bound 9/8 ≥ 1: not one factor, but each
    # apart (the product rule), never a loop of the grouping into itself
    k = Knowledge(SYMBOLS, [(u <= sympy.Rational(1, 8), "hypothesis")])
    many = sympy.symbols("e1:10", real=True)
    analysis = propagation.Propagation({d: u for d in many}, k, {u})
    expr = (m + g * (1 + many[0])) * sympy.Mul(*[1 + d for d in many[1:]])
    n = analysis.node(expr)
    assert n.error != 0 and not n.error.has(*many)


# ---------------------------------------------------------------------------------------
# Lemmas (``rounded.error_at_most``, ``relative_error_at_most``): shown where met, never trusted.

def _with_lemmas(*lemmas, beta_at_most=None):
    hypotheses = [(u <= U, "hypothesis")] + ([(beta <= beta_at_most, "hypothesis")] if beta_at_most else [])
    return propagation.Propagation({d: u for d in DELTAS}, Knowledge(SYMBOLS, hypotheses), {u}, list(lemmas))


@pytest.mark.parametrize("kind, bound, used", [
    ("absolute", 2 * u * sympy.Abs(p * m), True),        # at least the analysis's u·|pm|: carried on
    ("absolute", u / 2 * sympy.Abs(p * m), False),       # less than it: not used
    ("relative", 2 * u, True),
    ("relative", u / 2, False),
    ("absolute", 2 * u * sympy.Abs(p * m) + DELTAS[1], False),   # a bound holding a δ says nothing
])
def test_a_lemma_replaces_the_analysis_bound_only_where_shown_at_least_as_large(kind, bound, used):
    a = _with_lemmas((kind, p * m, bound))
    n = a.node(p * m * (1 + DELTAS[0]))
    assert n.value == p * m
    assert bool(a.used) == used
    own = _with_lemmas().node(p * m * (1 + DELTAS[0])).error     # u/(1 − 2⁻⁸)·|pm|
    if not used:
        assert n.error == own
    elif kind == "absolute":
        assert n.error == bound
    else:
        assert sympy.simplify(n.error / sympy.Abs(p * m) - 2 * u / (1 - 2 * U)) == 0   # R/(1 − sup R)·|X|


def test_a_lemma_is_met_at_every_node_of_its_value_and_nowhere_else():
    bound = 4 * u * (sympy.Abs(p) + sympy.Abs(m))
    a, plain = _with_lemmas(("absolute", p + m, bound)), _with_lemmas()
    rounded_sum = p * (1 + DELTAS[0]) + m
    whole = a.node(rounded_sum * (1 + DELTAS[1]))
    assert a.cache[rounded_sum].error == bound                      # value p + m, shown: used
    assert a.cache[p * (1 + DELTAS[0])].error == plain.node(p * (1 + DELTAS[0])).error    # value p: its own
    # value p + m again, one rounding more: u·|p + m| + 4u(1 + u)(|p| + |m|) is not shown ≤ the bound
    assert whole.error != bound and whole.value == p + m


def _rectified_contract(scale):
    """RAdam's rectified-step contract (``Optim.RAdam.float_step_error_le_rectified``) with R's parts
    times ``scale``, in its lemma on r² and in its claim alike."""
    from proofs.theorems import precision as contracts

    def parts(beta2, t):
        return [part * scale for part in contracts.rectification_error(beta2, t)]
    return lambda x: contracts.radam_rectified_contract(x, parts)


def _shown_with_lemmas(build):
    from proofs.harness import build_theorem
    from symbolic import prover
    data = build_theorem(Theorem("Test.lemmas", "a contract", PROVED, build, "A contract.", __name__))
    found = []
    for ob in [ob for ob in data.obligations if ob.pairs]:
        s = prover.Setting(ob, data.variables, 0, list(data.hypotheses))
        if prover._infeasible(s, check_hypotheses=True) is not None:
            continue            # the float test's other way: contradicts ρ_t > 5
        found.append(prover._by_error_propagation(ob, data.variables, 0, list(data.hypotheses)))
    assert found
    return found


def test_radams_rectified_contract_is_shown_with_its_lemmas_and_names_them():
    (verdict,) = _shown_with_lemmas(_rectified_contract(1))
    assert verdict is not None and verdict.status == PROVED
    assert verdict.method.count("lemma |fl(X) − X|") == 3, verdict.method


def _lemmas_used(build) -> list:
    """The kinds of the lemmas the error analysis used on the contract's step."""
    from proofs.harness import build_theorem
    from symbolic import prover
    from symbolic.obligation import ROUNDING_ERROR
    data = build_theorem(Theorem("Test.lemmas", "a contract", PROVED, build, "A contract.", __name__))
    ob = max((ob for ob in data.obligations if ob.pairs), key=lambda ob: len(ob.lemmas))
    deltas, box, others = prover._rounding_box(ob, data.variables, list(data.hypotheses))
    units = set().union(*(box[d][1].free_symbols for d in deltas))
    setting = prover.Setting(prover.Obligation(ob.name, "≤", [], others, [p for p in ob.path if not set(deltas) & p.free_symbols]),
                             [v for v in data.variables if v.note != ROUNDING_ERROR], 0)
    analysis = propagation.Propagation({d: box[d][1] for d in deltas}, setting.k, units, ob.lemmas)
    analysis.node(ob.pairs[0][1].args[0])
    return sorted(kind for kind, _, _ in analysis.used)


def test_a_lemma_too_small_to_be_shown_is_not_used_and_the_claim_naming_it_is_not_proved():
    """R/2 in the lemma on r² and in the claim: r²'s own analysed relative error is R/2 times
    1/(1 − sup D) > 1, so that lemma is not shown and not used (the two absolute ones, on ρ∞ and
    ρ_t, still are), and the claim is not shown."""
    half = _rectified_contract(sympy.Rational(1, 2))
    assert _lemmas_used(half) == ["absolute", "absolute"]
    assert _lemmas_used(_rectified_contract(1)) == ["absolute", "absolute", "relative"]
    (verdict,) = _shown_with_lemmas(half)
    assert verdict is None


def test_without_its_lemmas_radams_rectified_contract_is_not_shown():
    import dataclasses
    from proofs.harness import build_theorem
    from symbolic import prover
    data = build_theorem(Theorem("Test.lemmas", "a contract", PROVED, _rectified_contract(1), "A contract.", __name__))
    ob = max((ob for ob in data.obligations if ob.pairs), key=lambda ob: len(ob.lemmas))
    assert len(ob.lemmas) == 3
    assert prover._by_error_propagation(dataclasses.replace(ob, lemmas=[]), data.variables, 0,
                                        list(data.hypotheses)) is None


def test_a_number_to_a_symbolic_power_stays_one_atom():
    """NAdam's 0.96^(ψ(t + 1)) inside a sum: factoring or multiplying out split it into
    1080863910568919^(ψt)·(…)^ψ/1125899906842624^(ψt), which no claim names; kept whole."""
    psi, n = sympy.Symbol("psi", positive=True), sympy.Symbol("n", positive=True)
    power = sympy.Rational(*0.96.as_integer_ratio()) ** (psi * (n + 1))
    mu = beta * (1 - power / 2)
    for form, value in ((propagation._canonical(1 - mu), 1 - mu),
                        (propagation.multiplied_out((1 - mu) * (1 + mu)), (1 - mu) * (1 + mu))):
        assert power in form.atoms(sympy.Pow), form
        assert sympy.expand(form - value) == 0


# ---------------------------------------------------------------------------------------
# A lemma's value as a set of a product's factors (NAdam's step coefficients), |ln b| as a number.

@pytest.mark.parametrize("bound, used", [(2 * u * sympy.Abs(p) * sympy.Abs(m), True),
                                         (u / 2 * sympy.Abs(p) * sympy.Abs(m), False)])
@pytest.mark.parametrize("sign", [1, -1])
def test_a_lemma_on_some_factors_of_a_product_is_shown_on_them_taken_together(bound, used, sign):
    """g·(p(1 + δ₁) + q)·m·(1 + δ₂): no node has the value (p + q)·m, SymPy flattened it into the
    product; its two factors are taken together and the lemma tried there (on −X as on X: one
    error).  Shown, it is carried on; too small, not used, and the product keeps its own bound."""
    lemma = ("absolute", sign * (p + q) * m, bound)
    expr = g * (p * (1 + DELTAS[0]) + q) * m * (1 + DELTAS[1])
    a, plain = _with_lemmas(lemma), _with_lemmas()
    n = a.node(expr)
    assert n.value == plain.node(expr).value == g * (p + q) * m
    assert (lemma in a.used) == used
    if used:        # the lemma's bound, then g and the loose rounding: |g|·(B + u·(|p + q||m| + B))
        expected = sympy.Abs(g) * (bound + u * (sympy.Abs((p + q) * m) + bound))
        assert sympy.expand(n.error - expected) == 0, n.error
    else:
        assert n.error == plain.node(expr).error


def test_factors_that_cancel_out_of_a_lemmas_value_are_found_together():
    """NAdam's first step: μ_prod = 1, so a₁ = −lr(1 − μ)/(1 − μ) is −lr over the reals, while the
    float run computes 1 − μ twice with different roundings.  The factors that share symbols −lr
    lacks are taken together with lr: the lemma is met, shown (relative 4uβ/(1 − β) ≥ the two
    subtractions' 2uβ/(1 − β) over 1 − sup D) and used."""
    rounded_coefficient = lr * (1 - beta * (1 + DELTAS[0])) / (1 - beta * (1 + DELTAS[1]))
    lemma = ("relative", -lr, 4 * u * beta / (1 - beta))
    a = _with_lemmas(lemma, beta_at_most=sympy.Rational(1, 2))
    n = a.node(g * rounded_coefficient)
    assert lemma in a.used and n.value == g * lr
    too_small = ("relative", -lr, u * beta / (1 - beta))
    a = _with_lemmas(too_small, beta_at_most=sympy.Rational(1, 2))
    a.node(g * rounded_coefficient)
    assert not a.used


@pytest.mark.parametrize("base", [0.96, 0.5, 0.999, 1.5, 3.0, 1.0])
def test_the_bound_on_a_logarithm_is_rational_and_at_least_it(base):
    import mpmath
    b = sympy.Rational(*base.as_integer_ratio())
    bound = propagation.log_bound(b)
    assert bound.is_Rational
    with mpmath.workdps(60):
        exact = abs(mpmath.log(mpmath.mpf(b.p) / b.q))
        assert mpmath.mpf(bound.p) / bound.q >= exact
        if abs(base - 1) <= 0.05:       # a decay base, where the series is tight: within 10⁻⁶ of |ln b|
            assert mpmath.mpf(bound.p) / bound.q - exact <= mpmath.mpf("1e-6")
    assert propagation.log_bound(sympy.sqrt(2)) == sympy.Abs(sympy.log(sympy.sqrt(2)))    # not a rational: as it is


def test_the_nadam_contract_is_shown_with_its_two_lemmas_and_not_without_them():
    import dataclasses
    from proofs.harness import build_theorem
    from proofs.theorems import precision as contracts
    from symbolic import prover
    for first in (False, True):
        (verdict,) = _shown_with_lemmas(lambda x: contracts.nadam_contract(x, first=first))
        assert verdict is not None and verdict.status == PROVED, first
        assert verdict.method.count("lemma |fl(X) − X|") == 2, verdict.method
    data = build_theorem(Theorem("Test.lemmas", "a contract", PROVED,
                                 lambda x: contracts.nadam_contract(x, first=False), "A contract.", __name__))
    (ob,) = [ob for ob in data.obligations if ob.pairs]
    assert prover._by_error_propagation(dataclasses.replace(ob, lemmas=[]), data.variables, 0,
                                        list(data.hypotheses)) is None


def test_the_nadam_contract_with_half_its_coefficient_errors_is_not_shown():
    """R₁/2 and R₂/2, in the lemmas and the claim: at most the analysis's own relative errors, not
    over 1 − sup D, so neither lemma is shown nor used, and the claim is not shown."""
    from proofs.theorems import precision as contracts

    def halved(state, t):
        return tuple([part / 2 for part in parts] for parts in contracts.nadam_coefficient_errors(state, t))
    build = lambda x: contracts.nadam_contract(x, first=False, errors=halved)   # noqa: E731
    assert _lemmas_used(build) == []
    (verdict,) = _shown_with_lemmas(build)
    assert verdict is None


def test_the_warmup_contract_for_powers_up_to_64_needs_its_4_units_per_unit_of_power():
    """weight_lr_power ≤ 64: γ̂'s error raised to the power is within (1 + 2·2⁻⁵³)⁶⁴ − 1 ≈ 128·2⁻⁵³, carried
    into c and the step: 256·2⁻⁵³ (4 per unit of the power) is shown, 128·2⁻⁵³ is not."""
    from proofs.theorems.precision import schedule_free_run, schedule_free_terms, warmup_rate_terms

    def contract(units):
        def build(x):
            u, ctx, computed, exact, terms = schedule_free_run(x, power_at_most=64)
            return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + schedule_free_terms(u, ctx, *terms)
                              + warmup_rate_terms(ctx, *terms, units=units))
        return build
    assert _verdict(contract(256)) == PROVED
    assert _verdict(contract(128)) != PROVED


def test_schedule_free_adamws_warmup_contract_needs_its_coefficient_error_at_its_size():
    """Schedule-free AdamW through a warmup: shown with the step coefficient's float64 error B_s times
    what s multiplies (the square, powers up to 64); not shown without those terms (c's error meets
    ĝ + λy's rounding in s·(ĝ + λy) while weight decay and the warmup are on), nor, for powers up to
    64, with B_s at P = 32."""
    from proofs.theorems import precision as contracts
    assert _verdict(lambda x: contracts.schedule_free_adamw_warmup_contract(x)) == PROVED
    assert _verdict(lambda x: contracts.schedule_free_adamw_warmup_contract(x, power_at_most=64)) == PROVED
    assert _verdict(lambda x: contracts.schedule_free_adamw_warmup_contract(x, coefficient_error=False)) != PROVED
    assert _verdict(lambda x: contracts.schedule_free_adamw_warmup_contract(x, power_at_most=64, error_power=32)) != PROVED


@pytest.mark.parametrize("counts", [(12, 4), (11, 4), (12, 3)])
def test_lambs_direction_needs_twelve_roundings_of_itself_and_four_of_its_momentums_terms(counts):
    """LAMB's direction w = m̂′/(√v̂′ + ε) as NumPy computes it: within 12u·|w| + 4u·M (M: m′'s two
    terms apart, each divided as w is), with the bias corrections' float64 errors; one rounding fewer
    of either is not shown (Optim.LAMB.float_direction_error_le, PROVED by make prove)."""
    from proofs.theorems.precision import lamb_direction_contract
    relative, apart = counts
    verdict = _verdict(lambda x: lamb_direction_contract(x, relative=relative, apart=apart))
    assert (verdict == PROVED) == (counts == (12, 4))


@pytest.mark.parametrize("carried", [0, 1])
def test_an_l2_contract_needs_the_ratio_of_its_rounded_square(carried):
    """Adadelta with L2 weight decay: d = g + λp's square enters v′ with relative error κ (a ratio
    lemma), which reaches the step through two roots: shown with 2κ, not with κ or without it (the
    library's, Optim.Adadelta.float_step_error_le_weight_decay, is PROVED by make prove)."""
    from optim import adadelta
    from proofs.theorems.precision import adadelta_rate, l2_contract
    assert _verdict(lambda x: l2_contract(x, adadelta, 22, adadelta_rate, {}, unit="unit", carried=2)) == PROVED
    assert _verdict(lambda x: l2_contract(x, adadelta, 22, adadelta_rate, {}, unit="unit", carried=carried)) != PROVED
