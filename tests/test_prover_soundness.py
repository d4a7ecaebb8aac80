"""The prover says PROVED only to true statements, and REFUTED only with a real counterexample.

True identities (each needing a different method) are PROVED; false ones, including each seed
theorem with one term mutated, are never PROVED and are REFUTED where a counterexample exists;
a claim that vanishes at every point the prover samples is still not PROVED; a slow claim
ends UNKNOWN (timeout) within its limit.
"""
import functools
import operator
import time

import pytest
import sympy
from sympy import Eq, Rational

from optim import adadelta, adam, adamw, momentum_sgd, sgd
from proofs.harness import Given, Theorem, build_theorem, equation
from proofs.runner import run_theorem
from symbolic import PROVED, REFUTED, UNKNOWN
from symbolic.domains import REAL
from symbolic.flatten import ClaimShapeError
from symbolic.prover import decide_theorem
from symbolic.tensor import SYMPY

sqrt = SYMPY.sqrt


def verdict_of(build):
    theorem = Theorem("Test.claim", "", PROVED, build, "A claim.", __name__)
    return decide_theorem(build_theorem(theorem))


# --------------------------------------------------------------------------- true claims
TRUE = {
    "square of a sum": lambda x: (lambda a, b: equation((a + b) ** 2, a**2 + 2 * a * b + b**2))(
        x.real("a"), x.real("b")),
    "geometric step": lambda x: (lambda b, t: equation(b * b**t, b ** (t + 1)))(x.unit("b"), x.natural("t")),
    "ema rearranged": lambda x: (lambda m, g, b: equation(b * m + (1 - b) * g, m + (1 - b) * (g - m)))(
        x.tensor("m"), x.tensor("g"), x.unit("b")),
    "fraction with a safe denominator": lambda x: (lambda b: equation(1 / (1 - b) - b / (1 - b), 1))(x.unit("b")),
    "sqrt of a square, v ≥ 0": lambda x: (lambda v: equation(sqrt(v**2), v))(x.nonnegative("v")),
    "sqrt of a product, both ≥ 0": lambda x: (lambda a, b: equation(sqrt(a * b), sqrt(a) * sqrt(b)))(
        x.nonnegative("a"), x.positive("b")),
    # 1 − b ≥ 0 is not a SymPy assumption; the interval bounds show it for b ∈ [0, 1).
    "bias-corrected root": lambda x: (lambda v, b: equation(sqrt(v / (1 - b)), sqrt(v) / sqrt(1 - b)))(
        x.nonnegative("v"), x.unit("b")),
    "tensor divided by itself, entries > 0": lambda x: (lambda p: equation(p / p, p * 0 + 1))(
        x.tensor("p", entries="positive")),
}


@pytest.mark.parametrize("name", sorted(TRUE))
def test_true_identities_are_proved(name):
    verdict = verdict_of(TRUE[name])
    assert verdict.status == PROVED, verdict
    assert all(c["discharged"] for c in verdict.side_conditions)


def test_methods_are_named_for_what_decided():
    assert verdict_of(TRUE["square of a sum"]).method == "normal form"
    # SymPy merges b·bᵗ into bᵗ⁺¹ only once it knows b ≥ 0.
    assert verdict_of(TRUE["geometric step"]).method == "normal form under the proven signs"
    # SymPy writes √(v²) as |v| for real v; with v ≥ 0 shown, |v| is v.
    assert verdict_of(TRUE["sqrt of a square, v ≥ 0"]).status == PROVED
    assert "proven signs" in verdict_of(TRUE["sqrt of a product, both ≥ 0"]).method
    assert "radicals rewritten (non-forced)" in verdict_of(TRUE["bias-corrected root"]).method


# -------------------------------------------------------------------------- false claims
FALSE = {
    "square of a sum without the cross term": lambda x: (lambda a, b: equation((a + b) ** 2, a**2 + b**2))(
        x.real("a"), x.real("b")),
    "sqrt of a square for real v": lambda x: (lambda v: equation(sqrt(v**2), v))(x.real("v")),
    "epsilon inside the root": lambda x: (lambda v, e: equation(sqrt(v) + e, sqrt(v + e)))(
        x.nonnegative("v"), x.positive("e")),
    "geometric step off by one": lambda x: (lambda b, t: equation(b * b**t, b**t))(x.unit("b"), x.natural("t")),
    "a hypothesis that does not help": lambda x: _greater_than_five_is_six(x),
}


def _greater_than_five_is_six(x):
    a = x.real("a")
    x.assume(sympy.Gt(a, 5))
    return equation(a, 6)


@pytest.mark.parametrize("name", sorted(FALSE))
def test_false_identities_are_refuted_with_a_checked_counterexample(name):
    verdict = verdict_of(FALSE[name])
    assert verdict.status == REFUTED, verdict
    ce = verdict.counterexample
    assert ce["difference"]["exact"] != "0"
    assert float(ce["lhs"]["approx"]) != pytest.approx(float(ce["rhs"]["approx"]), rel=1e-12, abs=1e-300)


def test_a_refutation_respects_the_hypotheses():
    ce = verdict_of(FALSE["a hypothesis that does not help"]).counterexample
    assert Rational(ce["values"]["a"]["exact"]) > 5


def test_a_claim_that_vanishes_at_every_sample_is_not_proved():
    # (a − s₁)(a − s₂)… is 0 at every value the prover tries for a real variable, yet it is
    # not the zero polynomial: sampling finds no counterexample, and must not give PROVED.
    def build(x):
        a = x.real("a")
        product = functools.reduce(operator.mul, [(a - s) for s in REAL.samples])
        return equation(product, 0)

    verdict = verdict_of(build)
    assert verdict.status == REFUTED  # the search leaves the sample grid
    assert all(Rational(verdict.counterexample["values"]["a"]["exact"]) != s for s in REAL.samples)


def test_an_identity_that_needs_an_unshown_condition_is_unknown():
    # x/x = 1 holds only where x ≠ 0; for real x the prover may not call it proved.
    verdict = verdict_of(lambda x: (lambda p: equation(p / p, p * 0 + 1))(x.tensor("p")))
    assert verdict.status == UNKNOWN
    assert "p ≠ 0" in verdict.reason


def test_a_stated_hypothesis_discharges_the_condition():
    def build(x):
        p = x.tensor("p")
        x.assume(sympy.Ne(p.entry, 0))
        return equation(p / p, p * 0 + 1)

    assert verdict_of(build).status == PROVED


def test_bias_corrected_root_is_not_proved_when_b_may_exceed_one():
    verdict = verdict_of(lambda x: (lambda v, b: equation(sqrt(v / (1 - b)), sqrt(v) / sqrt(1 - b)))(
        x.nonnegative("v"), x.real("b")))
    assert verdict.status != PROVED


def test_sqrt_of_products_of_possibly_negative_reals_is_never_proved():
    # √(ab) = √a·√b fails for a = b = −1; the forced rewrite must not be used without a, b ≥ 0.
    verdict = verdict_of(lambda x: (lambda a, b: equation(sqrt(a * b), sqrt(a) * sqrt(b)))(x.real("a"), x.real("b")))
    assert verdict.status != PROVED


# ------------------------------------------------------- seed theorems with a mutated term
def _adam_state(x, cls=adam.State, **extra):
    return cls(lr=x.nonnegative("lr"), beta1=x.unit("beta1"), beta2=x.unit("beta2"),
               epsilon=x.positive("epsilon"), **extra, m=x.tensor("m"),
               v=x.tensor("v", entries="nonnegative"), t=x.natural("t"))


def mutated_sgd(x):
    lr, p, g = x.real("lr"), x.tensor("p"), x.tensor("g")
    return equation(sgd.update(sgd.State(lr), p, g)[1], p - g * lr * 2)


def mutated_momentum_buffer(x):
    s = momentum_sgd.State(lr=x.real("lr"), momentum=x.real("momentum"), buf=x.tensor("buf"))
    g = x.tensor("g")
    return equation(momentum_sgd.update(s, x.tensor("p"), g)[0].buf, s.buf * s.momentum - g)


def mutated_momentum_params(x):
    s = momentum_sgd.State(lr=x.real("lr"), momentum=x.real("momentum"), buf=x.tensor("buf"))
    p, g = x.tensor("p"), x.tensor("g")
    return equation(momentum_sgd.update(s, p, g)[1], p - s.buf * s.momentum * s.lr)  # old buffer


def mutated_adam_time(x):
    s = _adam_state(x)
    return equation(adam.update(s, x.tensor("p"), x.tensor("g"))[0].t, s.t + 2)


def mutated_adamw_time(x):
    s = _adam_state(x, adamw.State, weight_decay=x.nonnegative("weight_decay"))
    return equation(adamw.update(s, x.tensor("p"), x.tensor("g"))[0].t, s.t)


def mutated_adamw_zero_decay(x):
    s = _adam_state(x, adamw.State, weight_decay=x.nonnegative("weight_decay"))
    x.assume(Eq(s.weight_decay, Rational(1, 10)))  # the hypothesis mutated: 1/10, not 0
    p, g = x.tensor("p"), x.tensor("g")
    as_adam = adam.State(lr=s.lr, beta1=s.beta1, beta2=s.beta2, epsilon=s.epsilon, m=s.m, v=s.v, t=s.t)
    return equation(adamw.update(s, p, g)[1], adam.update(as_adam, p, g)[1])


def mutated_adam_beta_swapped(x):
    s = _adam_state(x)
    g = x.tensor("g")
    return equation(adam.update(s, x.tensor("p"), g)[0].m, s.m * s.beta2 + (1 - s.beta2) * g)


def mutated_adadelta_v(x):
    s = adadelta.State(lr=x.nonnegative("lr"), rho=x.closed_unit("rho"), epsilon=x.positive("epsilon"),
                       v=x.tensor("v", entries="nonnegative"), u=x.tensor("u", entries="nonnegative"))
    g = x.tensor("g")
    return equation(adadelta.update(s, x.tensor("p"), g)[0].v, s.v * s.rho + g * (1 - s.rho))


MUTANTS = [mutated_sgd, mutated_momentum_buffer, mutated_momentum_params, mutated_adam_time,
           mutated_adamw_time, mutated_adamw_zero_decay, mutated_adam_beta_swapped, mutated_adadelta_v]


@pytest.mark.parametrize("build", MUTANTS, ids=lambda f: f.__name__)
def test_mutated_seed_theorems_are_refuted(build):
    verdict = verdict_of(build)
    assert verdict.status == REFUTED, verdict
    assert verdict.counterexample is not None


# ------------------------------------------------------------------------ malformed claims
def test_a_raw_sympy_symbol_in_a_claim_is_an_error():
    with pytest.raises(TypeError, match="raw SymPy"):
        verdict_of(lambda x: equation(sympy.Symbol("a", real=True), 0))


def test_tensors_of_different_shapes_are_an_error():
    with pytest.raises(ClaimShapeError, match="shapes"):
        verdict_of(lambda x: equation(x.tensor("p"), x.tensor("q", shape=(2,))))


# ------------------------------------------------------------------------------- timeout
def test_a_slow_claim_ends_unknown_by_timeout_within_its_limit():
    def slow(x):
        total = sum(x.real(n) for n in "abcdefgh")
        return equation(total**60, (total + 1) ** 60)

    theorem = Theorem("Test.slow", "(Σ)⁶⁰ = (Σ + 1)⁶⁰", PROVED, slow, "A slow claim.", __name__)
    start = time.perf_counter()
    result = run_theorem(theorem, time_limit=2.0)
    elapsed = time.perf_counter() - start
    assert result.verdict == UNKNOWN
    assert "timeout" in result.reason
    assert elapsed < 6.0


# ------------------------------------------- hypotheses that decide branches and signs
def _branch(x, hypothesis, value):
    a = x.real("a")
    x.assume(hypothesis(a))
    return equation(SYMPY.select(a > 5, lambda: 1, lambda: 0), value)


@pytest.mark.parametrize("hypothesis,value,proved", [
    (lambda a: a > 5, 1, True),
    (lambda a: a <= 5, 0, True),
    (lambda a: 5 < a, 1, True),                 # the same fact, written the other way round
    (lambda a: a - 5 > 0, 1, True),             # and as a difference
    (lambda a: a > 5, 0, False),
    (lambda a: a <= 5, 1, False),
    (lambda a: a >= 5, 1, False),               # a = 5 takes the other branch
    (lambda a: a > 4, 1, False),                # does not decide a > 5
])
def test_branches_are_decided_only_by_hypotheses_that_imply_them(hypothesis, value, proved):
    verdict = verdict_of(lambda x: _branch(x, hypothesis, value))
    assert (verdict.status == PROVED) == proved, verdict


def test_a_sign_fixed_by_a_hypothesis_is_not_the_opposite_sign():
    def build(x, sign_value):
        a, b = x.real("a"), x.real("b")
        x.assume(a * b > 0)
        return equation(SYMPY.sign(a * b), sign_value)

    assert verdict_of(lambda x: build(x, 1)).status == PROVED
    assert verdict_of(lambda x: build(x, -1)).status == REFUTED


def test_an_equality_hypothesis_on_an_expression_rewrites_only_that_expression():
    def build(x, rhs):
        a, b = x.real("a"), x.real("b")
        x.assume(Eq(a * b, 0))
        return equation(a * b + a, rhs(a, b))

    assert verdict_of(lambda x: build(x, lambda a, b: a)).status == PROVED
    assert verdict_of(lambda x: build(x, lambda a, b: b)).status == REFUTED


def test_a_subexpression_bound_by_a_hypothesis_discharges_only_what_it_implies():
    # 1/(q − 1) with q = a² + b: the hypothesis q > 2 shows q − 1 ≠ 0; q > 0 does not.
    def build(x, bound):
        a, b = x.real("a"), x.real("b")
        q = a**2 + b
        x.assume(q > bound)
        return equation((q - 1) / (q - 1) * a, a)

    def tensors(x, bound):
        a, b = x.tensor("a"), x.tensor("b")
        q = a * a + b
        x.assume(q.entry > bound)
        return equation((q - 1) / (q - 1) * a, a)

    assert verdict_of(lambda x: tensors(x, 2)).status == PROVED
    assert verdict_of(lambda x: tensors(x, 0)).status == UNKNOWN


def test_rprop_flipped_case_with_the_wrong_factor_is_refuted():
    from optim import rprop
    from optim.context import context_of

    def build(x):
        s = rprop.State(lr=x.positive("lr"), etaminus=x.unit("etaminus"), etaplus=x.positive("etaplus"),
                        step_size_min=x.nonnegative("lo"), step_size_max=x.positive("hi"), maximize=False,
                        prev=x.tensor("prev"), step_size=x.tensor("step", entries="nonnegative"), t=x.natural("t"))
        p, g = x.tensor("p"), x.tensor("g")
        x.assume(g.entry * s.prev.entry < 0)
        ctx = context_of(p)
        wrong = ctx.minimum(ctx.maximum(s.step_size * s.etaplus, s.step_size_min), s.step_size_max)
        return equation(rprop.update(s, p, g)[0].step_size, wrong)

    assert verdict_of(build).status == REFUTED


def test_radam_outside_its_regime_is_not_the_rectified_step():
    from optim import radam

    def build(x):
        s = radam.State(lr=x.nonnegative("lr"), beta1=x.unit("beta1"), beta2=x.unit("beta2"),
                        epsilon=x.positive("eps"), weight_decay=0.0, decoupled_weight_decay=False, maximize=False,
                        m=x.tensor("m"), v=x.tensor("v", entries="nonnegative"), t=x.natural("t"))
        p = x.tensor("p")
        new, new_p = radam.update(s, p, x.tensor("g"))
        x.assume(radam.rho(s.beta2, new.t) <= 5)
        return equation(new_p, p - s.lr * new.m / (1 - s.beta1**new.t) * 2)  # mutated: × 2

    assert verdict_of(build).status != PROVED
