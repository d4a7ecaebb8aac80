"""Each theorem form, with both outcomes; wrong invariants and relations name the obligation that
failed; mutated literature relations are never PROVED."""
from dataclasses import replace

import pytest
import sympy

from optim import adam, momentum_sgd, sgd
from proofs.harness import Given, for_every, induction, inequality, simulation
from proofs.runner import _decide_built, load_library, run_theorem
from proofs.theorems import literature
from symbolic import PROVED, REFUTED, UNKNOWN


def verdict_of(build):
    x = Given()
    verdict, _, _ = _decide_built(build(x), x)
    return verdict


# ------------------------------------------------------------------------------ induction
def constant_gradient(x, invariant_m, conclusion=True):
    b1, b2 = x.unit("beta1"), x.unit("beta2")
    params, g, t = x.tensor("params"), x.tensor("g"), x.natural("t")
    start = adam.init(params, 1, b1, b2, 1)

    def invariant(step):
        return {"m": invariant_m(b1, step) * g, "v": (1 - b2**step) * g * g}

    def done(s):
        return _eq((s.m / (1 - s.beta1**s.t),), (g,))

    return induction(start, lambda s: adam.update(s, params, g)[0], invariant, t,
                     conclusion=done if conclusion else None)


def _eq(lhs, rhs):
    from proofs.harness import equation
    return equation(lhs, rhs)


def test_induction_proves_a_true_invariant():
    verdict = verdict_of(lambda x: constant_gradient(x, lambda b, t: 1 - b**t))
    assert verdict.status == PROVED and [o["verdict"] for o in verdict.obligations] == [PROVED] * 3


def test_induction_with_a_false_base_case_is_refuted_at_the_base():
    verdict = verdict_of(lambda x: constant_gradient(x, lambda b, t: 1 - b**t + 1, conclusion=False))
    assert verdict.status == REFUTED and "base case" in verdict.method


def test_induction_with_a_non_inductive_invariant_names_the_step():
    # m_t = (1 − β1ᵗ)·g·(1 + t·(1 − β1)·0) holds at t = 0 but the candidate (1 − β1^(2t)) is not preserved.
    verdict = verdict_of(lambda x: constant_gradient(x, lambda b, t: 1 - b ** (2 * t), conclusion=False))
    assert verdict.status == UNKNOWN
    assert "inductive step" in verdict.reason
    assert verdict.obligations[1]["verdict"] == REFUTED


def test_induction_conclusion_needs_t_at_least_one():
    # Without t ≥ 1 the bias correction 1 − β1ᵗ may be 0; the harness adds t ≥ 1, so it is PROVED —
    # and the same conclusion stated from t = 0 on as an equation is not.
    def at_zero(x):
        b1 = x.unit("beta1")
        t = x.natural("t")
        m = x.tensor("g") * (1 - b1**t)
        return _eq(m / (1 - b1**t), m * 0 + m / (1 - b1**t))

    assert verdict_of(at_zero).status != PROVED


# ----------------------------------------------------------------------------- simulation
def heavy_ball(x, relation_factor):
    lr, mu = x.real("lr"), x.real("momentum")
    params, grads, buf = x.tensor("params"), x.tensor("grads"), x.tensor("buf")
    step_b = literature.heavy_ball_step(lr, mu)
    start = momentum_sgd.init(params, lr, mu)
    return simulation(momentum_sgd.update, step_b, (start, params),
                      (literature.HeavyBall(0 * params), params),
                      (momentum_sgd.State(lr, mu, buf), params),
                      lambda s, p: (literature.HeavyBall(relation_factor(s) * s.buf), p), grads)


def test_simulation_proves_the_right_relation():
    assert verdict_of(lambda x: heavy_ball(x, lambda s: s.lr)).status == PROVED


def test_simulation_with_a_wrong_relation_names_the_step_obligation():
    verdict = verdict_of(lambda x: heavy_ball(x, lambda s: s.lr * s.momentum))
    assert verdict.status == UNKNOWN
    assert "step preserves the relation" in verdict.reason
    assert verdict.counterexample is not None


def test_simulation_with_a_wrong_start_is_refuted_at_the_initial_relation():
    def build(x):
        sim = heavy_ball(x, lambda s: s.lr)
        return replace(sim, start_b=(literature.HeavyBall(sim.start_b[1] * 0 + 1), sim.start_b[1]))

    verdict = verdict_of(build)
    assert verdict.status == REFUTED and "initial relation" in verdict.method


# ---------------------------------------------------------------------------- for every
def sgd_l2_vs_decoupled(x, l2_value=None):
    alpha, decay = x.positive("alpha"), x.positive("lambda")
    l2 = x.nonnegative("lambda_l2")
    p, g = x.tensor("p"), x.tensor("g")
    ours = sgd.update(sgd.State(lr=alpha, weight_decay=l2), p, g)[1]
    reference = (1 - decay) * p - alpha * g
    return for_every(l2, ours, reference)


def test_for_every_is_not_refuted_when_some_value_works():
    # λ′ = λ/α makes SGD's L2 equal decoupled decay: "no λ′ works" must not be refuted.
    assert verdict_of(sgd_l2_vs_decoupled).status != REFUTED


def test_for_every_refutes_every_value_with_a_table():
    theorem = next(t for t in load_library() if t.name == "Optim.Adam.l2_eq_adamw_for_some_coefficient")
    result = run_theorem(theorem)
    assert result.verdict == REFUTED
    ce = result.counterexample
    assert ce["for_every"] == "lambda_l2" and all(e["lhs"]["exact"] != e["rhs"]["exact"] for e in ce["exceptions"])


# ---------------------------------------------------------------------------- inequality
def first_step(x, bound_factor):
    lr, b1, b2, eps = x.nonnegative("lr"), x.unit("beta1"), x.unit("beta2"), x.positive("epsilon")
    p, g = x.tensor("p"), x.tensor("g")
    new = adam.update(adam.init(p, lr, b1, b2, eps), p, g)[1]
    from optim.context import context_of
    ctx = context_of(p)
    return inequality(ctx.abs(new - p), ctx.full_like(p, lr * bound_factor))


def test_inequality_proved_and_refuted():
    assert verdict_of(lambda x: first_step(x, 1)).status == PROVED
    verdict = verdict_of(lambda x: first_step(x, sympy.Rational(1, 2)))
    assert verdict.status == REFUTED
    ce = verdict.counterexample
    assert sympy.Rational(ce["lhs"]["exact"]) > sympy.Rational(ce["rhs"]["exact"])


# ----------------------------------------------------------- mutated literature relations
MUTANTS = {
    "L&H Prop 1 with λ′ = λ·α": lambda x: _lh1(x, lambda decay, alpha: decay * alpha),
    "L&H Prop 1 with λ′ = λ": lambda x: _lh1(x, lambda decay, alpha: decay),
    "heavy ball with v = lr·b swapped for v = b": lambda x: heavy_ball(x, lambda s: 1),
    "heavy ball with a dropped momentum": lambda x: heavy_ball(x, lambda s: s.lr * 0),
}


def _lh1(x, coefficient):
    alpha, decay = x.positive("alpha"), x.nonnegative("lambda")
    l2 = x.nonnegative("lambda_l2")
    x.assume(sympy.Eq(l2, coefficient(decay, alpha)))
    p, g = x.tensor("p"), x.tensor("g")
    state = sgd.State(lr=alpha, weight_decay=l2)
    return simulation(sgd.update, literature.decoupled_sgd_step(decay, alpha), (state, p), (state, p),
                      (state, p), lambda s, q: (s, q), g, fields=())


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutated_relations_are_never_proved(name):
    assert verdict_of(MUTANTS[name]).status != PROVED


def test_mutated_kingma_ba_scale_invariance_is_not_proved():
    def build(x):
        c = x.positive("c")
        state = replace(literature.arbitrary_adam_state(x), epsilon=sympy.Integer(0))
        params, grads = x.tensor("params"), x.tensor("grads")
        start = adam.init(params, state.lr, state.beta1, state.beta2, 0)
        return simulation(adam.update, adam.update, (start, params), (start, params), (state, params),
                          lambda s, p: (replace(s, m=c * s.m, v=c * s.v), p),   # v should scale by c²
                          grads, grads_b=lambda g: c * g, fields=("m", "v", "t"))

    assert verdict_of(build).status != PROVED


# ---------------------------------------------------- more mutated literature relations
def _efficient(x, epsilon_hat):
    state = literature.arbitrary_adam_state(x)
    params = x.tensor("params")
    new, new_params = adam.update(state, params, x.tensor("grads"))
    from proofs.harness import equation
    return equation(new_params, literature.efficient_step(params, new, epsilon_hat(state, new)))


def _nesterov(x, params_of):
    lr, mu = x.positive("lr"), x.positive("momentum")
    theta, grads, v = x.tensor("theta"), x.tensor("grads"), x.tensor("v")

    def torch_state(buf):
        return sgd.State(lr=lr, momentum=mu, dampening=0, nesterov=True, buf=buf)

    return simulation(literature.nesterov_step(lr, mu), sgd.update,
                      (literature.LookAhead(0 * theta), theta), (torch_state(0 * theta), theta),
                      (literature.LookAhead(v), theta),
                      lambda s, p: (torch_state(-s.v / lr), params_of(p, mu, s.v)), grads, fields=("buf",))


def _ema(x, swap):
    b1, b2 = x.unit("beta1"), x.unit("beta2")
    params = x.tensor("params")
    grads = [x.tensor(f"g{i}") for i in range(1, 4)]
    state = adam.init(params, 1, b1, b2, 1)
    for g in grads:
        state, params = adam.update(state, params, g)
    beta = b2 if swap else b1
    closed = sum(((1 - beta) * beta ** (3 - i) * g for i, g in enumerate(grads, 1)), 0 * grads[0])
    from proofs.harness import equation
    return equation(state.m, closed)


MORE_MUTANTS = {
    "efficient form with ε̂ = ε·(1 − β2ᵗ)": lambda x: _efficient(
        x, lambda s, new: s.epsilon * (1 - s.beta2**new.t)),
    "efficient form with β1 for β2": lambda x: _efficient(
        x, lambda s, new: s.epsilon * sympy.sqrt(1 - s.beta1**new.t)),
    "Nesterov with Θ = θ − μ·v": lambda x: _nesterov(x, lambda p, mu, v: p - mu * v),
    "Nesterov with Θ = θ": lambda x: _nesterov(x, lambda p, mu, v: p),
    "EMA closed form with β2 for β1": lambda x: _ema(x, swap=True),
    "constant-gradient invariant with β2 in m": lambda x: _constant_swapped(x),
}


def _constant_swapped(x):
    return constant_gradient(x, lambda b, t: 1 - x.variables[1].value ** t)  # β2 in m's closed form


@pytest.mark.parametrize("name", sorted(MORE_MUTANTS))
def test_more_mutated_relations_are_never_proved(name):
    assert verdict_of(MORE_MUTANTS[name]).status != PROVED


def test_the_unmutated_helpers_do_prove():
    assert verdict_of(lambda x: _ema(x, swap=False)).status == PROVED
    assert verdict_of(lambda x: _nesterov(x, lambda p, mu, v: p + mu * v)).status == PROVED
    assert verdict_of(lambda x: _efficient(
        x, lambda s, new: s.epsilon * sympy.sqrt(1 - s.beta2**new.t))).status == PROVED
