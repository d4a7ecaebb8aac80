"""The soundness battery, end to end: theorems written the way a user (or an adversary) writes
them, built by running optim/ code and decided by the prover, must never get a wrong verdict.

One false statement per class of issue 8 (each once got PROVED, or a true one REFUTED), next to
its true twin that must be PROVED — so the battery fails both if soundness breaks and if the
fix made the prover useless.  New forms and backend operations extend this file.
"""
import numpy as np
import pytest
import sympy

from optim import adam, adamw, sgd
from proofs.crosscheck import evaluate, judge, sample
from proofs.harness import Given, Theorem, TheoremError, build_theorem, equation, inequality
from symbolic import PROVED, REFUTED, UNKNOWN
from symbolic.prover import decide_theorem
from symbolic.tensor import SYMPY


def run(build):
    theorem = Theorem("User.theorem", "", PROVED, build, "a user's theorem", __name__)
    return decide_theorem(build_theorem(theorem))


def status(build):
    return run(build).status


def double(x: float):
    return sympy.Rational(*x.as_integer_ratio())


# ------------------------------------------------------------------ 1. partial operations
def scalar_divisor_cancelled(x: Given, nonzero=False):
    a, b = x.real("a"), x.real("b")
    if nonzero:
        x.assume(b != 0)
    return equation((a * b) / b, a)


def root_squared(x: Given, domain="real"):
    a = x.scalar("a", domain)
    return equation(SYMPY.sqrt(a) ** 2, a)


def tensor_times_inverse(x: Given, entries="real"):
    p = x.tensor("p", entries=entries)
    return equation(p * p**-1, p * 0 + 1)


def powers_cancel(x: Given):
    beta, t = x.unit("beta"), x.natural("t")
    return equation(beta**t * beta ** (-t), 1)


def adam_with_beta1_one(x: Given):
    lr, beta1, beta2, eps = x.positive("lr"), x.closed_unit("beta1"), x.unit("beta2"), x.positive("eps")
    params, grads = x.tensor("params"), x.tensor("grads")
    x.assume(sympy.Eq(beta1, 1))
    state = adam.init(params, lr, beta1, beta2, eps)
    return equation(adam.update(state, params, grads)[1], params)


def zero_to_the_t(x: Given):
    t = x.natural("t")
    return equation(0**t, 0)


def one_minus_beta_to_the_t(x: Given):
    beta, t = x.unit("beta"), x.natural("t")
    x.assume(sympy.Eq(beta, 0))
    return equation(1 - beta**t, 1)


def root_squared_is_abs(x: Given):
    a = x.real("a")
    return equation(SYMPY.sqrt(a) ** 2, SYMPY.abs(a))


@pytest.mark.parametrize("build,expected", [
    (scalar_divisor_cancelled, UNKNOWN),
    (lambda x: scalar_divisor_cancelled(x, nonzero=True), PROVED),
    (root_squared, UNKNOWN),
    (lambda x: root_squared(x, "nonnegative"), PROVED),
    (tensor_times_inverse, UNKNOWN),
    (lambda x: tensor_times_inverse(x, "positive"), PROVED),
    (powers_cancel, UNKNOWN),
    (adam_with_beta1_one, UNKNOWN),
    (zero_to_the_t, REFUTED),
    (one_minus_beta_to_the_t, REFUTED),
    (root_squared_is_abs, UNKNOWN),   # true where defined, undefined for a < 0: never refuted
], ids=["(ab)/b=a", "(ab)/b=a, b≠0", "√a²=a", "√a²=a, a≥0", "p·p⁻¹=1", "p·p⁻¹=1, p>0", "βᵗβ⁻ᵗ=1",
        "adam β1=1", "0ᵗ=0", "β=0⟹1−βᵗ=1", "√a²=|a|"])
def test_partial_operations(build, expected):
    assert status(build) == expected


# ---------------------------------------------------------------------------- 2. floats
def float_times_three(x: Given, rhs):
    lr = x.real("lr")
    return equation(lr * 0.1 * 3, lr * rhs)


def adamw_tiny_decay_is_adam(x: Given):
    params, grads = x.tensor("params"), x.tensor("grads")
    decayed = adamw.update(adamw.init(params, lr=1e-3, weight_decay=1e-17), params, grads)[1]
    plain = adam.update(adam.init(params, lr=1e-3), params, grads)[1]
    return equation(decayed, plain)


def test_floats_are_exact():
    assert status(lambda x: float_times_three(x, 3 * double(0.1))) == PROVED
    assert status(lambda x: float_times_three(x, 0.30000000000000004)) == REFUTED
    assert status(adamw_tiny_decay_is_adam) == REFUTED


def test_a_rounded_sympy_float_in_a_hypothesis_is_refused():
    def build(x: Given):
        a = x.real("a")
        x.assume(sympy.Gt(a, sympy.Float(0.1)))
        return equation(a, a)

    with pytest.raises(TheoremError, match="Float"):
        run(build)


# ------------------------------------------------------------ 3. the trace is what runs
def numpy_mean(x: Given, shape=None):
    g = x.tensor("g", shape=shape)
    return equation(np.mean(g), g)


def numpy_dot(x: Given):
    g = x.tensor("g", shape=(2,))
    return equation(np.dot(g, g), g * g)


def branch_on_rank(x: Given):
    p = x.tensor("p")
    return equation(p * 2 if len(SYMPY.shape(p)) == 1 else p, p * 2)


def branch_on_tensor_equality(x: Given):
    g = x.tensor("g")
    return equation(g if g == 0 else g * 0, g)


@pytest.mark.parametrize("build", [numpy_mean, lambda x: numpy_mean(x, (2,)), numpy_dot, branch_on_rank,
                                   branch_on_tensor_equality],
                         ids=["np.mean", "np.mean (2,)", "np.dot (2,)", "len(shape)", "g == 0"])
def test_what_numpy_or_python_would_compute_differently_cannot_be_built(build):
    with pytest.raises(TypeError):
        run(build)


def sgd_dampened_momentum_step(x: Given):
    """'Library SGD with μ ∈ [0, 1) and dampening τ steps by lr·(μ·buf + (1 − τ)·g)': false at
    μ = 0, where the executed code steps by lr·g."""
    lr, mu, tau = x.positive("lr"), x.unit("mu"), x.unit("tau")
    params, grads, buf = x.tensor("params"), x.tensor("grads"), x.tensor("buf")
    state = sgd.State(lr=lr, momentum=mu, dampening=tau, buf=buf)
    return equation(sgd.update(state, params, grads)[1], params - lr * (mu * buf + (1 - tau) * grads))


def sgd_dampened_momentum_step_positive(x: Given):
    lr, mu, tau = x.positive("lr"), x.unit("mu"), x.unit("tau")
    params, grads, buf = x.tensor("params"), x.tensor("grads"), x.tensor("buf")
    x.assume(mu > 0)
    state = sgd.State(lr=lr, momentum=mu, dampening=tau, buf=buf)
    return equation(sgd.update(state, params, grads)[1], params - lr * (mu * buf + (1 - tau) * grads))


def removable_singularity(x: Given):
    a = x.positive("a")
    chosen = SYMPY.select((a * a - 1) / (a - 1) > 0, lambda: a * 0 + 1, lambda: a * 0)
    return equation(chosen, 1)


def test_branches_on_symbols_are_paths():
    assert status(sgd_dampened_momentum_step) == REFUTED
    assert status(sgd_dampened_momentum_step_positive) == PROVED
    assert status(removable_singularity) != PROVED  # at a = 1 the condition is undefined


# ----------------------------------------------------------------- 7. trust and robustness
def contradictory(x: Given):
    a = x.real("a")
    x.assume(a > 1, a < 0)
    return equation(a, a + 1)


def test_contradictory_hypotheses_give_a_vacuous_proof_that_says_so():
    verdict = run(contradictory)
    assert verdict.status == PROVED and verdict.vacuous
    assert "contradictory" in verdict.method


def adam_with_beta1_zero_and_symbolic_counter(x: Given):
    lr, beta2, eps, t = x.positive("lr"), x.unit("beta2"), x.positive("eps"), x.natural("t")
    params, grads, m, v = x.tensor("params"), x.tensor("grads"), x.tensor("m"), x.tensor("v", "nonnegative")
    state = adam.State(lr=lr, beta1=0.0, beta2=beta2, epsilon=eps, m=m, v=v, t=t)
    new = adam.update(state, params, grads)[0]
    return equation(new.m, grads)


def test_beta1_zero_with_a_symbolic_counter_terminates():
    assert status(adam_with_beta1_zero_and_symbolic_counter) == PROVED


def test_inequality_needing_more_than_interval_bounds():
    def build(x: Given):
        a = x.real("a")
        return inequality(2 * a, a * a + 1)  # (a − 1)² ≥ 0

    assert status(build) == PROVED


# ------------------------------------------------------------------- the second check
@pytest.mark.parametrize("build", [lambda x: scalar_divisor_cancelled(x, nonzero=True),
                                   lambda x: root_squared(x, "nonnegative"), sgd_dampened_momentum_step_positive,
                                   adam_with_beta1_zero_and_symbolic_counter])
def test_the_second_check_agrees_with_every_proof(build):
    theorem = Theorem("User.theorem", "", PROVED, build, "a user's theorem", __name__)
    data = build_theorem(theorem)
    points = sample(data)
    assert points
    for point in points:
        assert judge(evaluate(theorem, point), point) is None


def test_the_second_check_catches_a_false_claim():
    theorem = Theorem("User.theorem", "", PROVED, sgd_dampened_momentum_step, "a false claim", __name__)
    data = build_theorem(theorem)
    failures = [judge(evaluate(theorem, p), p) for p in sample(data, count=8)]
    assert any(failures), "points with μ = 0 and τ ≠ 0 expose the false step"


def linear_moment_invariant(x: Given):
    """m_t = t·(1 − β1)·g: true after one step from zero, false after two (β1 ≠ 0)."""
    lr, beta1, beta2, eps = x.positive("lr"), x.unit("beta1"), x.unit("beta2"), x.positive("eps")
    params, g, t = x.tensor("params"), x.tensor("g"), x.natural("t")
    from proofs.harness import induction
    return induction(adam.init(params, lr, beta1, beta2, eps), lambda s: adam.update(s, params, g)[0],
                     lambda k: {"m": k * (1 - beta1) * g, "v": (1 - beta2**k) * g * g}, t)


def test_the_second_check_runs_the_actual_steps_of_an_induction():
    theorem = Theorem("User.theorem", "", PROVED, linear_moment_invariant, "a false invariant", __name__)
    assert run(linear_moment_invariant).status != PROVED
    data = build_theorem(theorem)
    failures = [judge(evaluate(theorem, p), p) for p in sample(data, count=3)]
    assert any(f and "the actual run after 2 steps" in f for f in failures), failures
