"""The rounding model (``x.rounding``) is closed: every operation either carries a sound error or
is refused while it is on, so no claim about float results gets PROVED by leaving a rounding
out.  Each false claim below is false in real float arithmetic (the comment says where), and
each was PROVED before the model was closed."""
import itertools
import random

import pytest
import sympy

from optim import lr_scheduler
from optim.context import context_of
from proofs.harness import PROVED, REFUTED, Theorem, inequality
from proofs.runner import run_theorem
from symbolic import tensor
from symbolic.tensor import NotInRoundingModel, SymScalar

TINY = sympy.Rational(1, 2**24)


def _run(build):
    return run_theorem(Theorem("Test.rounding_model", "a claim about float results", PROVED, build,
                               "A claim about float results.", __name__), time_limit=60.0)


def _unit(x, at_most=TINY):
    u = x.positive("u")
    x.assume(u <= at_most)
    return u


def _not_built(result, words):
    assert result.verdict not in (PROVED, REFUTED)
    assert "could not be built" in result.reason and words in result.reason, result.reason


# ---------------------------------------------------------------------------------------
# A row sum of values of no shown sign (a dot product, Σ(a + b)): the values may cancel, so its
# error is bounded by Σ|a|, never by |Σ a| (Higham's (3.4)); the model writes it as
# Σ a + Σ|a|·σ·(h(δ′, θ′) − 1), σ in [−1, 1] (``symbolic.tensor._signed_sum``).

def gamma_of(u, n):
    return (n - 1) * u / (1 - (n - 1) * u)


def _signed_row_sum(bound_of, relative=False, values=lambda a, b: a + b, shape=None, terms=lambda *lengths: lengths):
    def build(x):
        u = _unit(x)
        if shape is None:
            a, b = x.tensor("a", length="n"), x.tensor("b", length="n")
        else:
            a, b = x.tensor("a", shape=shape), x.tensor("b", shape=shape)
        ctx = context_of(a)
        exact = values(a, b).sum()
        with x.rounding(u):
            computed = values(a, b).sum()
        count = terms(*ctx.shape(a))
        count = SymScalar(sympy.Mul(*count) if isinstance(count, tuple) else count)
        size = ctx.abs(exact) if relative else ctx.abs(values(a, b)).sum()
        return inequality(ctx.abs(computed - exact), bound_of(u, count) * size)
    return build


def test_a_row_sum_of_values_of_no_shown_sign_is_within_its_roundings_of_the_sum_of_their_sizes():
    # fl(Σ fl(a_i + b_i)): each entry rounds once, the n − 1 additions within γ_{n−1}
    assert _run(_signed_row_sum(lambda u, n: (1 + u) * (1 + gamma_of(u, n)) - 1)).verdict == PROVED
    # one rounding fewer than the model has: false (n = 1: fl(a + b) is a + b rounded once)
    assert _run(_signed_row_sum(lambda u, n: gamma_of(u, n))).verdict != PROVED


def test_a_row_sum_that_may_cancel_has_no_error_relative_to_itself():
    # a_i + b_i rounds per entry; with cancellation Σ(a + b) can be 0 while the errors are not
    # (a = (1, −1 + 2⁻²⁴·3), b = (2⁻²⁴, 0) in float32): no multiple of |Σ(a + b)| bounds it
    result = _run(_signed_row_sum(lambda u, n: 3 * u, relative=True))
    assert result.verdict != PROVED and "could not be built" not in result.reason, result.reason


def test_a_dot_products_error_is_gamma_n_times_the_sum_of_the_products_sizes():
    # Higham's (3.5): |fl(aᵀb) − aᵀb| ≤ γ_n·Σ|a_i·b_i|, here as (1 + u)(1 + γ_{n−1}) − 1
    product = lambda a, b: a * b
    assert _run(_signed_row_sum(lambda u, n: (1 + u) * (1 + gamma_of(u, n)) - 1, values=product)).verdict == PROVED
    assert _run(_signed_row_sum(lambda u, n: gamma_of(u, n), values=product)).verdict != PROVED
    assert _run(_signed_row_sum(lambda u, n: 3 * u, relative=True, values=product)).verdict != PROVED


def test_a_signed_sum_over_a_matrix_counts_every_entry_among_its_additions():
    # Σ over (m, n): m·n − 1 additions; γ_{n−1} of one axis alone is false at m > 1
    full = lambda u, n: (1 + u) * (1 + gamma_of(u, n)) - 1
    assert _run(_signed_row_sum(full, shape=("m", "n"))).verdict == PROVED
    assert _run(_signed_row_sum(full, shape=("m", "n"), terms=lambda m, n: n)).verdict != PROVED


def test_the_signed_sum_model_covers_every_per_entry_rounding():
    # Σ_i a_i·h(δ_i, θ_i) with each entry's own δ_i, θ_i, a_i of both signs: within Σ|a|·max|h − 1|
    # of Σ a, the range σ·(h − 1) spans (checked exactly, n = 4; h multilinear: its extremes at corners)
    rng = random.Random(7)
    u, gamma = sympy.Rational(1, 2**6), sympy.Rational(3, 2**6 - 3)
    h = lambda d, e, t: (1 + d) * (1 - e) * (1 + t)
    reach = max(abs(h(d, e, t) - 1) for d, e, t in itertools.product((-u, u), (-u, u), (-gamma, gamma)))
    for _ in range(200):
        a = [sympy.Rational(rng.randint(-50, 50), rng.randint(1, 9)) for _ in range(4)]
        per_entry = sum(ai * h(rng.choice((-u, u, 0)), sympy.Rational(rng.randint(-100, 100), 100) * u,
                               rng.choice((-gamma, gamma))) for ai in a)
        assert abs(per_entry - sum(a)) <= sum(abs(ai) for ai in a) * reach


def test_the_proved_dot_product_bound_holds_in_float32_arithmetic():
    """fl(Σ a_i·b_i) in float32, the order NumPy adds in, against the exact sum: within
    ((1 + u)(1 + γ_{n−1}) − 1)·Σ|a_i·b_i|, the bound proved above — where the products cancel to
    10⁰ … 10⁻⁶ of their sizes, so that the error is far from |Σ a·b|."""
    import numpy as np
    from fractions import Fraction
    rng = np.random.default_rng(11)
    unit = Fraction(1, 2**24)
    for trial in range(60):
        n = int(rng.integers(2, 400))
        a = rng.normal(size=n).astype(np.float32)
        b = rng.normal(size=n).astype(np.float32)
        b[-1] = np.float32(-float(np.dot(a[:-1].astype(np.float64), b[:-1])) / a[-1] * (1 + 10.0 ** -rng.integers(0, 7)))
        computed = Fraction(float(np.sum(a * b, dtype=np.float32)))
        products = [Fraction(float(x)) * Fraction(float(y)) for x, y in zip(a, b)]
        gamma = gamma_of(unit, n)
        assert abs(computed - sum(products)) <= ((1 + unit) * (1 + gamma) - 1) * sum(map(abs, products)), (trial, n)


def _sum_of_squares(bound_of):
    def build(x):
        u = _unit(x)
        a = x.tensor("a", length="n")
        ctx = context_of(a)
        exact = (a * a).sum()
        with x.rounding(u):
            computed = (a * a).sum()
        n = SymScalar(ctx.shape(a)[0])
        return inequality(ctx.abs(computed - exact), bound_of(u, n) * exact)
    return build


def test_a_sum_of_squares_carries_the_summations_own_error():
    # Σ a_i² in floats: the squares round (u) and n − 1 additions round (γ_{n−1}); 2u is false
    # for n = 3 (a = (1, 1, 1) in float32 sums exactly, but a = (1, 2⁻¹², 2⁻¹²)·… need not)
    assert _run(_sum_of_squares(lambda u, n: 2 * u)).verdict != PROVED
    assert _run(_sum_of_squares(lambda u, n: (1 + u) * (1 + gamma_of(u, n)) - 1)).verdict == PROVED
    # one rounding fewer than the model has is not enough
    assert _run(_sum_of_squares(gamma_of)).verdict != PROVED


def test_a_square_rounds():
    def build(x):
        u = _unit(x)
        g = x.tensor("g")
        ctx = context_of(g)
        exact = ctx.square(g)
        with x.rounding(u):
            computed = ctx.square(g)
        return inequality(ctx.abs(computed - exact), 0 * u)   # 3·3 is exact, 0.1·0.1 is not
    assert _run(build).verdict != PROVED


def test_round_float32_rounds_at_float32_even_when_u_is_float64s():
    def build(x):
        u = _unit(x, sympy.Rational(1, 2**53))
        s = x.real("s")
        ctx = context_of(x.tensor("g"))
        exact = ctx.round_float32(s)
        with x.rounding(u):
            computed = ctx.round_float32(s)
        return inequality(abs(computed - exact), 2 * u * abs(exact))   # float32(0.1) is 2⁻²⁸ off
    assert _run(build).verdict != PROVED


def test_a_symbolic_integer_entering_a_tensor_operation_rounds():
    def build(x):
        u = _unit(x)
        k, g = x.natural("k"), x.tensor("g", entries="positive")
        ctx = context_of(g)
        exact = g * k
        with x.rounding(u, python_scalars=True):   # k a Python int, converted to the tensor's dtype
            computed = g * k
        # float32(2²⁴ + 1) = 2²⁴: the conversion is off by one part in 2²⁴, the product rounds too
        return inequality(ctx.abs(computed - exact), u * ctx.abs(exact))
    assert _run(build).verdict != PROVED


def test_a_schedules_cosine_is_refused():
    def build(x):
        u = _unit(x)
        base_lr, t = x.positive("base_lr"), x.natural("t")
        exact = lr_scheduler.cosine_annealing_lr_closed(base_lr, t, 10, 0)
        with x.rounding(u):
            computed = lr_scheduler.cosine_annealing_lr_closed(base_lr, t, 10, 0)
        return inequality(abs(computed - exact), 4 * u * base_lr)
    _not_built(_run(build), "no error bound for π")


@pytest.mark.parametrize("reduce", ["explicit sum", "sum along", "matmul"])
def test_reductions_of_explicit_tensors_are_refused(reduce):
    def build(x):
        u = _unit(x)
        a = x.tensor("a", shape=(2, 2))
        ctx = context_of(a)
        run = {"explicit sum": lambda: a.sum(), "sum along": lambda: ctx.sum(a, 0)[0, 0],
               "matmul": lambda: ctx.matmul(a, a)[0, 0]}[reduce]
        exact = run()
        with x.rounding(u):
            computed = run()
        return inequality(abs(computed - exact), 0 * u)
    _not_built(_run(build), "rounding model")


# ------------------------------------------------------------------ the split of a row's summand
def _split(summand):
    n = sympy.Symbol("n", integer=True, positive=True)
    tensor.ROW_ENTRIES.update((s, frozenset({n})) for s in summand.free_symbols if s.name.endswith("_i"))
    deltas = {s for s in summand.free_symbols if s.name.startswith("delta")}
    return tensor._split_for_sum(summand, frozenset({n}), deltas)


def test_a_summand_splits_into_signed_row_values_times_roundings():
    g, v = sympy.Symbol("g_i", real=True), sympy.Symbol("v_i", nonnegative=True)
    eps, d1, d2 = sympy.Symbol("eps", positive=True), sympy.Symbol("delta1"), sympy.Symbol("delta2")
    terms = _split((g**2 * (1 + d1) + eps) * (1 + d2))
    assert sorted(map(str, terms)) == sorted(map(str, [(1, g**2, (1 + d1) * (1 + d2)), (eps, 1, 1 + d2)]))
    assert _split(-3 * v * (1 + d1)) == [(-3, v, 1 + d1)]
    # row values of no shown sign stay whole (``_signed_sum`` bounds their sum by Σ|a|)
    assert _split((g + v) * (1 + d1)) == [(1, g + v, 1 + d1)]
    assert _split(g * (1 + d1)) == [(1, g, 1 + d1)]
    # a rounding that cannot be separated from the row's values is refused
    for refused in [sympy.sqrt(v * (1 + d1) + g), sympy.sqrt(g * v * (1 + d1))]:
        with pytest.raises(NotInRoundingModel):
            _split(refused)


def test_the_split_is_a_sound_model_of_per_entry_roundings():
    # Σ_i a_i·G(δ_i)(1 + θ_i) with each entry's own δ_i, θ_i lies in (Σ a_i)·[min G(1 + θ), max G(1 + θ)]:
    # the one-δ form the split produces covers every per-entry choice (checked exactly, n = 3)
    rng = random.Random(5)
    u, gamma = sympy.Rational(1, 2**6), sympy.Rational(2, 2**6 - 2)
    G = lambda d, e: (1 + d) ** 2 * (1 - e)
    corners = [G(d, e) * (1 + t) for d, e, t in itertools.product((-u, u), (-u, u), (-gamma, gamma))]
    for _ in range(200):
        a = [sympy.Rational(rng.randint(0, 50), rng.randint(1, 9)) for _ in range(3)]
        per_entry = sum(ai * G(rng.choice((-u, u, 0)), sympy.Rational(rng.randint(-100, 100), 100) * u) * (1 + rng.choice((-gamma, gamma)))
                        for ai in a)
        assert sum(a) * min(corners) <= per_entry <= sum(a) * max(corners)


def test_exact_demands_that_the_exact_run_takes_the_rounded_runs_branches():
    # a·b rounds: fl(a·b) > 1 while a·b ≤ 1 at a·b = 1 − u/2; the "exact" value exact() gives on
    # that path would be the rounded branch's, 1, while the exact run gives 0
    def build(x):
        u = _unit(x)
        a, b = x.real("a"), x.real("b")
        with x.rounding(u) as rounded:
            y = SymScalar(1) if a * b > 1 else SymScalar(0)
        return inequality(abs(y - rounded.exact(y)), 0 * u)
    assert _run(build).verdict != PROVED

    def same_sign(x):       # a·b rounded keeps its sign: the exact run's branch is the rounded one's
        u = _unit(x)
        a, b = x.real("a"), x.real("b")
        with x.rounding(u) as rounded:
            y = SymScalar(1) if a * b > 0 else SymScalar(0)
        return inequality(abs(y - rounded.exact(y)), 0 * u)
    assert _run(same_sign).verdict == PROVED


def _power_within(units):
    def build(x):
        u = _unit(x)
        a, b = x.tensor("a", entries="positive"), x.real("b")
        ctx = context_of(a)
        exact = a ** b
        with x.rounding(u):
            computed = a ** b
        return inequality(ctx.abs(computed - exact), units * u * ctx.abs(exact))
    return build


def test_a_power_rounds_at_two_units():
    # libm's pow is within 1 ulp, not ½: a power correctly rounded would be within u
    assert _run(_power_within(1)).verdict != PROVED
    assert _run(_power_within(2)).verdict == PROVED


def _exact_claim(compute, python_scalars=True):
    """|fl(f) − f| ≤ 0 for f = compute(g, s): true only where floats compute f exactly."""
    def build(x):
        u = _unit(x)
        g, s = x.tensor("g"), x.real("s")
        ctx = context_of(g)
        exact = compute(g, s)
        with x.rounding(u, python_scalars=python_scalars):
            computed = compute(g, s)
        return inequality(ctx.abs(computed - exact) if hasattr(computed, "shape") else abs(computed - exact), 0 * u)
    return _run(build).verdict


@pytest.mark.parametrize("compute", [
    lambda g, s: g * 1.0, lambda g, s: 1.0 * g, lambda g, s: g * 0.5, lambda g, s: g * -4, lambda g, s: g / 2.0,
    lambda g, s: g + 0.0, lambda g, s: 0.0 - g, lambda g, s: g * 0, lambda g, s: 0 / (g * g + 1) * 1.0,
    lambda g, s: s * 1.0, lambda g, s: s * 0.25, lambda g, s: s / -8, lambda g, s: s - 0.0,
    lambda g, s: g * (0.5 * context_of(g).zeros_like(g) + 2.0),
], ids=["g·1", "1·g", "g·½", "g·−4", "g/2", "g+0", "0−g", "g·0", "0/…", "s·1", "s·¼", "s/−8", "s−0", "g·(0+2)"])
def test_what_floats_compute_exactly_does_not_round(compute):
    # a product or quotient by ±2ᵏ only moves the exponent, adding 0 changes nothing (no underflow
    # or overflow in the model): schedule-free's lr·1.0 and the like
    assert _exact_claim(compute) == PROVED


@pytest.mark.parametrize("compute", [
    lambda g, s: g * 3.0, lambda g, s: g * 0.1, lambda g, s: g * 0.75, lambda g, s: 2.0 / g, lambda g, s: g + 1.0,
    lambda g, s: g - s, lambda g, s: s * 3, lambda g, s: 1.0 - s, lambda g, s: g * (1.0 + 2.0**-30),
    lambda g, s: g * s, lambda g, s: g * 2.0**-200, lambda g, s: (g * 0.5) * 3.0,
], ids=["g·3", "g·0.1", "g·¾", "2/g", "g+1", "g−s", "s·3", "1−s", "g·(1+2⁻³⁰)", "g·s", "g·2⁻²⁰⁰", "(g·½)·3"])
def test_what_floats_round_still_rounds(compute):
    # 3·g, 0.75·g, 1 + g round (3·(1 + 2⁻²³) needs 25 bits); 0.1 and 1 + 2⁻³⁰ are not float32
    # numbers (their conversion rounds); 2⁻²⁰⁰ is past float32's range (the conversion underflows)
    assert _exact_claim(compute) != PROVED


def test_the_absolute_value_of_a_quotient_stays_an_absolute_value():
    # SymPy writes |a| as √(a·conj(a)) multiplied out where it cannot show a real (a divisor that
    # may be 0, 1 − βᵗ): the same value in a form no error analysis reads, so a scalar's float
    # contract was never shown.  |·| keeps it as written, and the contract is PROVED.
    from optim import radam

    def build(x):
        u = _unit(x)
        beta, t = x.unit("beta"), x.natural("t")
        x.assume(beta <= sympy.Rational(1, 2))
        with x.rounding(u) as rounded:
            computed = radam.rho(beta, t + 1)
        exact = rounded.exact(computed)
        ctx = context_of(exact)
        difference = ctx.abs(computed - exact)
        assert isinstance(difference.expr, sympy.Abs)
        power = beta ** (t + 1)
        tail = 2 * (t + 1) * power / (1 - power)
        return inequality(difference, u * ctx.abs(exact) + 8 * u * radam.rho_inf(beta) + 16 * u / (1 - beta)
                          + x.multiplied_out((8 * u + 3 * u * power / (1 - power)) * (1 + 8 * u)) * tail)
    assert _run(build).verdict == PROVED
    quotient = SymScalar(sympy.Symbol("a", real=True)) / SymScalar(sympy.Symbol("b", real=True))
    assert abs(quotient).expr == sympy.Abs(quotient.expr)
    assert abs(SymScalar(-3)).expr == 3


def _assumed_branch_claim(y_if, y_else, hypothesis=None):
    """y = y_if if fl(a·b) > 1 else y_else, with the float test assumed to take the exact run's
    branch (``exact(branches="assumed")``), against |fl(y) − y| ≤ 0."""
    def build(x):
        u = _unit(x)
        a, b = x.real("a"), x.real("b")
        if hypothesis is not None:
            x.assume(hypothesis(a, b))
        with x.rounding(u) as rounded:
            y = y_if(a, b) if a * b > 1 else y_else(a, b)
        return inequality(abs(y - rounded.exact(y, branches="assumed")), 0 * u)
    return _run(build)


def test_an_assumed_branch_is_a_hypothesis_not_a_proof_of_the_claim():
    # fl(a·b) > 1 may hold where a·b ≤ 1: assumed, each path is the exact run's, so an exact y on
    # both branches is within 0 of itself ...
    assert _assumed_branch_claim(lambda a, b: SymScalar(1), lambda a, b: SymScalar(0)).verdict == PROVED
    # ... and a rounded one is not: the assumption speaks of the branch only, never of the values
    assert _assumed_branch_claim(lambda a, b: a * b, lambda a, b: SymScalar(0)).verdict != PROVED


def test_a_path_whose_assumed_branch_contradicts_the_hypotheses_is_infeasible_not_vacuous():
    result = _assumed_branch_claim(lambda a, b: a * b, lambda a, b: SymScalar(0), hypothesis=lambda a, b: a * b <= 1)
    assert result.verdict == PROVED
    assert "vacuous" not in result.method and "infeasible path" in result.method, result.method


def test_exact_names_its_two_ways_of_meeting_a_rounded_branch():
    def build(x):
        u = _unit(x)
        a = x.real("a")
        with x.rounding(u) as rounded:
            y = a * a
        return inequality(abs(y - rounded.exact(y, branches="hoped")), u)
    _not_built(_run(build), '"demanded" or "assumed"')


def test_a_branch_condition_is_defined_under_the_hypotheses_stated_before_the_branch():
    # The condition 1/a > 1 is evaluated for every a; a hypothesis stated after it, on one way
    # only (a ≠ 0 where it held), says nothing about where it was evaluated: a = 0 is in scope
    # of the other way, so the condition's definedness is not shown.
    def build(x):
        a = x.real("a")
        if 1 / a > 1:
            x.assume(sympy.Ne(a.expr, 0))
        return inequality(a * 0, SymScalar(0))
    assert _run(build).verdict != PROVED

    def stated_before(x):
        a = x.real("a")
        x.assume(a > 0)
        if 1 / a > 1:
            x.assume(a < 1)
        return inequality(a * 0, SymScalar(0))
    assert _run(stated_before).verdict == PROVED


def test_multiplying_out_leaves_a_divisor_as_written():
    from proofs.harness import Given
    x = Given()
    a, b = x.positive("a"), x.unit("b")
    rho = 2 / (1 - b) - (2 * a + 2) * b / (1 - b)       # (2a + 2)·b: a product the expansion would split
    out = x.multiplied_out((1 + a) * (1 / (rho - 4) + a)).expr
    assert (rho.expr - 4) ** -1 in out.atoms(sympy.Pow), out
    assert sympy.simplify(out - (1 + a.expr) * (1 / (rho.expr - 4) + a.expr)) == 0


def test_a_lemma_on_an_error_is_checked_when_stated():
    """``rounded.error_at_most``: a scalar value and a δ-free bound, or the theorem cannot be built."""
    def build(bad):
        def theorem(x):
            u, a = _unit(x), x.positive("a")
            with x.rounding(u) as rounded:
                y = a * a
            if bad == "delta in the bound":
                rounded.error_at_most(y, y)
            elif bad == "none: a number bound":
                rounded.error_at_most(y, sympy.Rational(1, 2**20))
            else:
                rounded.error_at_most(x.tensor("w"), u)
            return inequality(context_of(y).abs(y - rounded.exact(y)), 3 * u * a * a)
        return theorem
    _not_built(_run(build("delta in the bound")), "must not hold a rounding error")
    _not_built(_run(build("tensor")), "a scalar value")
    assert _run(build("none: a number bound")).verdict == PROVED


# ---------------------------------------------------------------------------------------
# A row sum whose summand's roundings do not factor out (LAMB's ‖u‖): w = a·c − b rounds inside
# a signed sum, so Σ fl(ŵ²) is refused unless a lemma bounds each entry — and then the lemma is
# shown, never trusted.

def _lemma_sum(bound_of=lambda u, w, big, b: 4 * u * w * w + 3 * u * abs(w) * big + 3 * u * u * big * big,
               claimed=lambda rho, gamma: rho + gamma + gamma * rho, summand=lambda w, b: w * w,
               summed=lambda w, b: w * w, size=lambda ctx, total: total, summand_sign_assumed=False):
    def build(x):
        u = _unit(x)
        a, b, c = x.tensor("a", length="n"), x.tensor("b", length="n"), x.real("c")
        ctx = context_of(a)
        w = a * c - b
        e, s0 = bound_of(u, w, ctx.abs(a * c), b), summand(w, b)
        if summand_sign_assumed:
            x.assume(s0 >= 0)
        with x.rounding(u) as rounded:
            rho = rounded.row_sum_error_at_most(s0, e)
            computed = summed(a * c - b, b).sum()
        gamma = rounded.summation_bound(ctx.shape(a)[0])
        x.assume(rho <= sympy.Rational(1, 8))
        exact = summed(w, b).sum()
        return inequality(ctx.abs(computed - exact), claimed(rho, gamma) * size(ctx, exact))
    return build


def test_a_row_sum_with_a_lemma_on_each_entry_is_within_its_ratio_and_the_additions_error():
    assert _run(_lemma_sum()).verdict == PROVED


def test_a_row_sums_lemma_is_shown_not_trusted():
    # each entry's error without m's terms apart: false where a·c and b cancel (w = 0, ŵ = a·c·δ)
    assert _run(_lemma_sum(bound_of=lambda u, w, big, b: 4 * u * w * w)).verdict != PROVED


def test_a_row_sum_with_a_lemma_still_carries_the_additions_error():
    # Σ ŵ² within ρ of Σ w², but n − 1 additions more round: ρ alone is false
    assert _run(_lemma_sum(claimed=lambda rho, gamma: rho)).verdict != PROVED
    assert _run(_lemma_sum(claimed=lambda rho, gamma: rho + gamma)).verdict != PROVED


def test_a_row_sums_lemma_on_another_summand_is_not_used():
    # Σ ŵ² without its lemma: ŵ² splits into a²c², −2·a·c·b (no shown sign) and b², whose errors
    # are relative to Σ|a·c·b|, not to Σ w² — the claim relative to Σ w² is not shown
    # (asked of the error analysis, the method that shows these claims: the other deciders would
    # spend their whole time limit on it, and a timeout shows nothing)
    from proofs.harness import build_theorem
    from symbolic import prover
    data = build_theorem(Theorem("Test.rounding_model", "a claim", PROVED, _lemma_sum(summand=lambda w, b: 2 * w * w),
                                 "A claim.", __name__))
    claims = [ob for ob in data.obligations if ob.name == "inequality"]
    assert claims and all(prover._by_error_propagation(ob, data.variables, 0, list(data.hypotheses)) is None
                          for ob in claims)


def test_a_row_sums_lemma_needs_a_summand_of_one_sign():
    # Σ w·b has terms of both signs: the additions' error is Γ·Σ|ŝ|, not Γ·Σ s₀, so the model's
    # (1 + φ) would be false where Σ s₀ cancels — each entry's lemma holds (e is a true bound),
    # but the condition s₀ ≥ 0 is not shown, so nothing is proved; stated as a hypothesis, it is
    def signed(assumed):
        return _lemma_sum(summand=lambda w, b: w * b, summed=lambda w, b: w * b,
                          bound_of=lambda u, w, big, b: 3 * u * abs(w) * abs(b) + 3 * u * big * abs(b),
                          size=lambda ctx, total: ctx.abs(total), summand_sign_assumed=assumed)
    assert _run(signed(False)).verdict != PROVED
    assert _run(signed(True)).verdict == PROVED


def _lemma_called(call):
    """A theorem whose rounding block squares a row a (y = â²) and then calls
    ``call(rounded, x, u, a, y)`` — a lemma's API given a bad argument, which must refuse it."""
    def theorem(x):
        u = _unit(x)
        a = x.tensor("a", length="n")
        with x.rounding(u) as rounded:
            y = a * a
            call(rounded, x, u, a, y)
        return inequality(context_of(a).abs(y - a * a), 3 * u * a * a)
    return theorem


def test_a_row_sums_lemma_takes_rows_of_the_sums_length_and_no_rounding_error():
    _not_built(_run(_lemma_called(lambda rounded, x, u, a, y: rounded.row_sum_error_at_most(a * a, y))),
               "without rounding errors")
    _not_built(_run(_lemma_called(lambda rounded, x, u, a, y: rounded.row_sum_error_at_most(x.tensor("w"), a * a))),
               "a row's summand")


def test_the_row_sum_lemmas_model_holds_in_float32_arithmetic():
    """Σ fl(ŵ²) in float32, any order NumPy adds in, within (ρ + Γ + Γρ)·Σ w² for ρ = Σ e/Σ w² with
    the proved entry bound e — at rows where a·c and b nearly cancel (ρ large) and where not."""
    import numpy as np
    from fractions import Fraction
    rng = np.random.default_rng(3)
    unit = Fraction(1, 2**24)
    for trial in range(40):
        n = int(rng.integers(2, 300))
        a = rng.normal(size=n).astype(np.float32)
        c = np.float32(rng.normal())
        b = (a * c * np.float32(1 + 10.0 ** -rng.integers(0, 7))).astype(np.float32)  # cancelling by 10⁰…10⁻⁶
        computed = Fraction(float(np.sum((a * c - b) * (a * c - b), dtype=np.float32)))
        w = [Fraction(float(ai)) * Fraction(float(c)) - Fraction(float(bi)) for ai, bi in zip(a, b)]
        big = [abs(Fraction(float(ai)) * Fraction(float(c))) for ai in a]
        exact = sum(wi * wi for wi in w)
        e = sum(4 * unit * wi * wi + 3 * unit * abs(wi) * bi + 3 * unit ** 2 * bi * bi for wi, bi in zip(w, big))
        rho, gamma = e / exact, gamma_of(unit, n)
        assert abs(computed - exact) <= (rho + gamma + gamma * rho) * exact, (trial, n)


# ---------------------------------------------------------------------------------------
# A rounded value whose error is bounded relative to other values, not to its own (Adafactor's
# lerp X = a + w·(b − a) of a, b ≥ 0: its difference b − a rounds, and may cancel): the analysis
# has no relative bound on X̂, so 1/√X̂ is refused, unless a ratio lemma says |X̂ − X| ≤ E ≤ κ·X —
# the first part shown where the analysis meets X, the second a hypothesis the inputs give.

def _ratio_lemma(error_of=lambda u, x, a, b: 3 * u * x + 3 * u * abs(b - a), claimed=lambda u, kappa: 8 * u + 2 * kappa,
                 lemma=True, nonnegative=True):
    def build(x):
        u = _unit(x)
        a, b, w = x.tensor("a", length="n"), x.tensor("b", length="n"), x.real("w")
        x.assume(a >= 0, b >= 0, w >= 0, w <= 1)
        ctx = context_of(a)
        value = a + w * (b - a)
        x.assume(value > 0)
        error = error_of(u, ctx.abs(value), a, b)
        with x.rounding(u) as rounded:
            if lemma:
                kappa = rounded.entry_error_ratio(value, error, nonnegative=nonnegative)
                x.assume(kappa <= sympy.Rational(1, 8))
            else:
                kappa = x.nonnegative("kappa")
            computed = 1 / ctx.sqrt(a + w * (b - a))
        exact = 1 / ctx.sqrt(value)
        return inequality(ctx.abs(computed - exact), claimed(u, kappa) * ctx.abs(exact))
    return build


def test_a_ratio_lemma_gives_a_signed_lerp_a_relative_error():
    assert _run(_ratio_lemma()).verdict == PROVED


def test_without_a_ratio_lemma_the_quotient_of_a_signed_lerp_is_not_proved():
    assert _run(_ratio_lemma(lemma=False)).verdict != PROVED


def test_a_ratio_lemma_is_shown_not_trusted():
    # E without the difference's term: false where a and b are far apart and X small (w·(b − a)
    # cancels a), so the lemma is not shown and the claim, which needs it, is not proved
    assert _run(_ratio_lemma(error_of=lambda u, x, a, b: 3 * u * x)).verdict != PROVED


def test_a_ratio_lemmas_kappa_is_carried_not_dropped():
    # 1/√X̂ moves by up to about κ/2 of 1/√X: a claim with u alone, or κ/4, is not proved
    assert _run(_ratio_lemma(claimed=lambda u, kappa: 8 * u)).verdict != PROVED
    assert _run(_ratio_lemma(claimed=lambda u, kappa: 8 * u + kappa / 4)).verdict != PROVED


def test_a_ratio_lemma_takes_a_delta_free_bound_shaped_like_its_value():
    _not_built(_run(_lemma_called(lambda rounded, x, u, a, y: rounded.entry_error_ratio(a * a, y))),
               "must not hold a rounding error")
    # an explicit shape's entries need a δ each: not a generic entry
    _not_built(_run(_lemma_called(lambda rounded, x, u, a, y: rounded.entry_error_ratio(x.tensor("w", shape=(2,)), u))),
               "shaped like it")
    _not_built(_run(_lemma_called(lambda rounded, x, u, a, y: rounded.entry_error_ratio(a * a, x.tensor("e", length="k")))),
               "shaped like it")
