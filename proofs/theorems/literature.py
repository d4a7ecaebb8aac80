"""Relations from the literature, each with its source.

The paper's side is written as the paper writes it and labelled *reference*; the other side
always runs ``optim/``.  Several relations span every number of steps: they are simulations
(a relation between two optimizers' states that holds initially and is preserved by one step
of each) or inductions over the step counter.
"""
from dataclasses import dataclass, replace

import sympy

from optim import adam, adamw, momentum_sgd, sgd
from optim.context import context_of
from proofs.harness import (REFUTED, Given, equation, for_every, induction, inequality, simulation,
                            theorem)
from proofs.theorems.adam import arbitrary_state as arbitrary_adam_state
from proofs.theorems.adamw import adam_of
from proofs.theorems.adamw import arbitrary_state as arbitrary_adamw_state

LH2019 = "Loshchilov & Hutter 2019, Decoupled Weight Decay Regularization"
KB2015 = "Kingma & Ba 2015, Adam: A Method for Stochastic Optimization"
SUTSKEVER2013 = "Sutskever, Martens, Dahl & Hinton 2013, On the importance of initialization and momentum"


# ------------------------------------------------------------------ Loshchilov & Hutter 2019
def decoupled_sgd_step(decay, alpha):
    """Reference (L&H 2019, Algorithm 1 with η_t = 1): θ ← (1 − λ)·θ − α·∇f."""
    def step(state, params, grads):
        return state, (1 - decay) * params - alpha * grads
    return step


@theorem("Optim.SGD.l2_eq_decoupled_weight_decay", form="simulation", source=f"{LH2019}, Proposition 1",
         statement="λ′ = λ/α ⟹ SGD with L2 λ′ (torch weight_decay) = SGD with decoupled decay λ, at every step")
def sgd_l2_eq_decoupled_weight_decay(x: Given):
    """For SGD, an L2 penalty λ′/2·‖θ‖² is decoupled weight decay λ when λ′ = λ/α, at every step."""
    alpha, decay, l2 = x.positive("alpha"), x.nonnegative("lambda"), x.nonnegative("lambda_l2")
    x.assume(sympy.Eq(decay, l2 * alpha))  # λ′ = λ/α, as λ = λ′·α (α > 0): the same hypothesis
    params, grads = x.tensor("theta"), x.tensor("grads")
    state = sgd.State(lr=alpha, weight_decay=l2)
    # B (the reference) carries A's state through unchanged: the relation is the identity on
    # every field, hyperparameters and the (absent) momentum buffer included.
    return simulation(
        step_a=sgd.update, step_b=decoupled_sgd_step(decay, alpha),
        start_a=(state, params), start_b=(state, params), relate=lambda s, p: (s, p), grads=grads,
    )


@theorem("Optim.Adam.l2_eq_adamw_for_some_coefficient", expect=REFUTED, form="non-equivalence",
         source=f"{LH2019}, Proposition 2",
         statement="∃ λ′ ∀ inputs: (Adam with L2 λ′).params = (AdamW with λ).params   — refuted for every λ′")
def adam_l2_eq_adamw_for_some_coefficient(x: Given):
    """For Adam, no L2 coefficient λ′ reproduces AdamW's decoupled decay λ > 0 (refuted for every λ′)."""
    lr, decay, l2 = x.positive("lr"), x.positive("lambda"), x.nonnegative("lambda_l2")
    beta1, beta2, epsilon = x.unit("beta1"), x.unit("beta2"), x.positive("epsilon")
    params, grads = x.tensor("params"), x.tensor("grads")
    adam_l2 = adam.init(params, lr, beta1, beta2, epsilon, weight_decay=l2)
    decoupled = adamw.init(params, lr, beta1, beta2, epsilon, weight_decay=decay)
    return for_every(l2, adam.update(adam_l2, params, grads)[1], adamw.update(decoupled, params, grads)[1])


# ------------------------------------------------------------------------ Kingma & Ba 2015
def efficient_step(params, new_state, epsilon_hat):
    """Reference (K&B 2015, §2, last paragraph): α_t = α·√(1 − β2ᵗ)/(1 − β1ᵗ);
    θ ← θ − α_t · m_t / (√v_t + ε̂)."""
    s, sqrt = new_state, context_of(params).sqrt
    alpha_t = s.lr * sqrt(1 - s.beta2**s.t) / (1 - s.beta1**s.t)
    return params - alpha_t * s.m / (sqrt(s.v) + epsilon_hat)


@theorem("Optim.Adam.efficient_form_eq", source=f"{KB2015}, §2",
         statement="(update s p g).params = θ − α_t · m_t / (√v_t + ε̂),  ε̂ = ε·√(1 − β2ᵗ)")
def adam_efficient_form_eq(x: Given):
    """The "efficient" order of Adam equals the standard update exactly when ε̂ = ε·√(1 − β2ᵗ)."""
    state = arbitrary_adam_state(x)
    params = x.tensor("params")
    new, new_params = adam.update(state, params, x.tensor("grads"))
    epsilon_hat = state.epsilon * context_of(params).sqrt(1 - state.beta2**new.t)
    return equation(new_params, efficient_step(params, new, epsilon_hat))


@theorem("Optim.Adam.efficient_form_constant_epsilon_eq", expect=REFUTED, source=f"{KB2015}, §2",
         statement="(update s p g).params = θ − α_t · m_t / (√v_t + ε)   (ε̂ = ε, a constant)")
def adam_efficient_form_constant_epsilon_eq(x: Given):
    """With a constant ε̂ = ε ≠ 0 the efficient order is not torch's Adam (refuted)."""
    state = arbitrary_adam_state(x)
    params = x.tensor("params")
    new, new_params = adam.update(state, params, x.tensor("grads"))
    return equation(new_params, efficient_step(params, new, state.epsilon))


@theorem("Optim.Adam.gradient_scale_invariant", form="simulation", source=f"{KB2015}, §2.1",
         statement="ε = 0, c > 0, gradients with no zero entry ⟹ Adam on c·g has m = c·m, v = c²·v and the "
                   "same parameters (every other field equal), at every step")
def adam_gradient_scale_invariant(x: Given):
    """With ε = 0, Adam's trajectory is invariant when every gradient is multiplied by the same c > 0."""
    c = x.positive("c")
    lr, beta1, beta2 = x.nonnegative("lr"), x.unit("beta1"), x.unit("beta2")
    # ε = 0: a step is defined where v′ > 0, which a gradient entry ≠ 0 gives (v stays ≥ 0).
    params, grads = x.tensor("params"), x.tensor("grads", entries="nonzero")
    start = adam.init(params, lr, beta1, beta2, 0)
    return simulation(
        step_a=adam.update, step_b=adam.update, start_a=(start, params), start_b=(start, params),
        relate=lambda s, p: (replace(s, m=c * s.m, v=c * c * s.v), p), grads=grads, grads_b=lambda g: c * g,
        domains={"v": "nonnegative"},
    )


def one_step_on_scaled_gradients(x: Given, c, epsilon):
    lr, beta1, beta2 = x.positive("lr"), x.unit("beta1"), x.unit("beta2")
    params, grads = x.tensor("params"), x.tensor("grads", entries="positive")
    start = adam.init(params, lr, beta1, beta2, epsilon)
    return equation(adam.update(start, params, c * grads)[1], adam.update(start, params, grads)[1])


@theorem("Optim.Adam.gradient_scale_invariant_with_epsilon", expect=REFUTED, form="k-step",
         source=f"{KB2015}, §2.1", statement="ε > 0, c > 0: (Adam on c·g).params = (Adam on g).params after 1 step")
def adam_gradient_scale_with_epsilon(x: Given):
    """With ε > 0 the scale invariance fails already at the first step (refuted)."""
    return one_step_on_scaled_gradients(x, x.positive("c"), x.positive("epsilon"))


@theorem("Optim.Adam.gradient_scale_invariant_negative_c", expect=REFUTED, form="k-step",
         source=f"{KB2015}, §2.1", statement="ε = 0, c < 0: (Adam on c·g).params = (Adam on g).params after 1 step")
def adam_gradient_scale_negative(x: Given):
    """A negative scale flips Adam's step (refuted)."""
    c = x.real("c")
    x.assume(sympy.Lt(c, 0))
    return one_step_on_scaled_gradients(x, c, 0)


@theorem("Optim.Adam.constant_grad_bias_corrected_moments_eq", form="induction", source=f"{KB2015}, §3",
         statement="g constant ⟹ m_t = (1 − β1ᵗ)·g, v_t = (1 − β2ᵗ)·g², so m̂_t = g and v̂_t = g² for t ≥ 1")
def adam_constant_grad_moments(x: Given):
    """Under a constant gradient, Adam's bias-corrected moments are exactly g and g² at every step t ≥ 1."""
    lr, beta1, beta2, epsilon = x.nonnegative("lr"), x.unit("beta1"), x.unit("beta2"), x.positive("epsilon")
    params, g, t = x.tensor("params"), x.tensor("g"), x.natural("t")
    start = adam.init(params, lr, beta1, beta2, epsilon)

    def invariant(step):
        return {"m": (1 - beta1**step) * g, "v": (1 - beta2**step) * g * g}

    def conclusion(s):
        return equation((s.m / (1 - s.beta1**s.t), s.v / (1 - s.beta2**s.t)), (g, g * g))

    return induction(initial=start, step=lambda s: adam.update(s, params, g)[0],
                     invariant=invariant, counter=t, conclusion=conclusion)


@theorem("Optim.Adam.ema_closed_form_5_steps", form="k-step", source=f"{KB2015}, §3, equation (1)",
         statement="after k = 5 steps from m = v = 0: m_k = (1 − β1)·Σ β1^(k−i)·g_i,  v_k = (1 − β2)·Σ β2^(k−i)·g_i²")
def adam_ema_closed_form(x: Given):
    """Unrolled from zero moments, Adam's m and v are the closed-form EMAs of the gradients."""
    lr, beta1, beta2, epsilon = x.nonnegative("lr"), x.unit("beta1"), x.unit("beta2"), x.positive("epsilon")
    params = x.tensor("params")
    grads = [x.tensor(f"g{i}") for i in range(1, 6)]
    state = adam.init(params, lr, beta1, beta2, epsilon)
    for g in grads:
        state, params = adam.update(state, params, g)
    k = len(grads)
    m_closed = sum(((1 - beta1) * beta1 ** (k - i) * g for i, g in enumerate(grads, 1)), 0 * grads[0])
    v_closed = sum(((1 - beta2) * beta2 ** (k - i) * g * g for i, g in enumerate(grads, 1)), 0 * grads[0])
    return equation((state.m, state.v), (m_closed, v_closed))


@theorem("Optim.Adam.first_step_at_most_lr", form="inequality", source=f"{KB2015}, §2.1",
         statement="|θ₁ − θ₀| ≤ α for the first step from m = v = 0 (ε > 0)")
def adam_first_step_bounded(x: Given):
    """Adam's first step is at most the learning rate in magnitude: |Δ₁| = α·|g|/(|g| + ε) ≤ α."""
    lr, beta1, beta2, epsilon = x.nonnegative("lr"), x.unit("beta1"), x.unit("beta2"), x.positive("epsilon")
    params, grads = x.tensor("params"), x.tensor("grads")
    _, new_params = adam.update(adam.init(params, lr, beta1, beta2, epsilon), params, grads)
    ctx = context_of(params)
    return inequality(ctx.abs(new_params - params), ctx.full_like(params, lr))


@theorem("Optim.Adam.every_step_at_most_lr", expect=REFUTED, form="inequality", source=f"{KB2015}, §2.1",
         statement="|θ_{t+1} − θ_t| ≤ α from any state   (the paper's “|Δ_t| ≲ α” taken as exact)")
def adam_every_step_bounded(x: Given):
    """From an arbitrary state Adam's step can exceed α: the paper's bound is approximate (refuted)."""
    state = arbitrary_adam_state(x)
    params = x.tensor("params")
    _, new_params = adam.update(state, params, x.tensor("grads"))
    ctx = context_of(params)
    return inequality(ctx.abs(new_params - params), ctx.full_like(params, state.lr))


# ----------------------------------------------------------------------- Sutskever et al. 2013
@dataclass(frozen=True)
class HeavyBall:
    """Reference state (Sutskever et al. 2013, equations (1)–(2)): the velocity v."""
    v: object


def heavy_ball_step(lr, momentum):
    """Reference: v ← μ·v + lr·g;  θ ← θ − v   (written with the sign that descends)."""
    def step(state, params, grads):
        v = momentum * state.v + lr * grads
        return HeavyBall(v), params - v
    return step


@theorem("Optim.MomentumSGD.eq_heavy_ball", form="simulation", source=f"{SUTSKEVER2013}, §2, eq. (1)–(2)",
         statement="constant lr ⟹ PyTorch momentum (b ← μb + g; θ ← θ − lr·b) = heavy ball with v = lr·b, at every step")
def momentum_eq_heavy_ball(x: Given):
    """PyTorch-style momentum is the heavy ball of Sutskever et al. under v = lr·b, at every step."""
    lr, momentum = x.real("lr"), x.real("momentum")
    params, grads = x.tensor("params"), x.tensor("grads")
    start = momentum_sgd.init(params, lr, momentum)
    return simulation(
        step_a=momentum_sgd.update, step_b=heavy_ball_step(lr, momentum),
        start_a=(start, params), start_b=(HeavyBall(0 * params), params),
        relate=lambda s, p: (HeavyBall(s.lr * s.buf), p), grads=grads,
    )


@theorem("Optim.MomentumSGD.eq_heavy_ball_changing_lr", expect=REFUTED, form="k-step",
         source=f"{SUTSKEVER2013}, §2",
         statement="lr₁ then lr₂: PyTorch momentum's θ₂ = heavy ball's θ₂")
def momentum_eq_heavy_ball_changing_lr(x: Given):
    """With a learning rate that changes between steps the two forms differ (refuted)."""
    lr1, lr2, momentum = x.real("lr1"), x.real("lr2"), x.real("momentum")
    params, g1, g2 = x.tensor("params"), x.tensor("g1"), x.tensor("g2")
    state = momentum_sgd.init(params, lr1, momentum)
    state, torch_params = momentum_sgd.update(state, params, g1)
    state, torch_params = momentum_sgd.update(replace(state, lr=lr2), torch_params, g2)
    ball, ball_params = heavy_ball_step(lr1, momentum)(HeavyBall(0 * params), params, g1)
    ball, ball_params = heavy_ball_step(lr2, momentum)(ball, ball_params, g2)
    return equation(torch_params, ball_params)


@dataclass(frozen=True)
class LookAhead:
    """Reference state (Sutskever et al. 2013, eq. (3)–(4)): the velocity v of Nesterov's method."""
    v: object


def nesterov_step(lr, momentum):
    """Reference: v ← μ·v − lr·∇f(θ + μ·v);  θ ← θ + v   (the gradient is taken at the look-ahead)."""
    def step(state, params, grads):
        v = momentum * state.v - lr * grads
        return LookAhead(v), params + v
    return step


@theorem("Optim.SGD.nesterov_eq_look_ahead", form="simulation", source=f"{SUTSKEVER2013}, §2.1, eq. (3)–(4)",
         statement="torch's Nesterov SGD at Θ = θ + μ·v with buf = −v/lr is Sutskever's look-ahead Nesterov, at every step")
def nesterov_eq_look_ahead(x: Given):
    """torch's Nesterov form is Sutskever's look-ahead Nesterov momentum under Θ = θ + μ·v, buf = −v/lr."""
    lr, momentum = x.positive("lr"), x.positive("momentum")
    theta, grads = x.tensor("theta"), x.tensor("grads")

    def torch_state(buf):
        return sgd.State(lr=lr, momentum=momentum, dampening=0, nesterov=True, buf=buf)

    def relate(state, params):  # A is Sutskever's (velocity, θ); B is torch's whole state and Θ
        return torch_state(-state.v / lr), params + momentum * state.v

    return simulation(
        step_a=nesterov_step(lr, momentum), step_b=sgd.update,
        start_a=(LookAhead(0 * theta), theta), start_b=(torch_state(0 * theta), theta),
        relate=relate, grads=grads,
    )


# -------------------------------------------------------------------------------- AdamW
@theorem("Optim.AdamW.decay_before_or_after_step_eq", source=f"{LH2019}, Algorithm 2, line 12",
         statement="p·(1 − lr·λ) then the Adam step  =  the Adam step, then − lr·λ·p (decay of the old p)")
def adamw_decay_before_or_after(x: Given):
    """AdamW's decoupled decay of the old parameters may come before or after the Adam step."""
    state = arbitrary_adamw_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    _, before = adamw.update(state, params, grads)
    _, stepped = adam.update(adam_of(state), params, grads)
    return equation(before, stepped - state.lr * state.weight_decay * params)


@theorem("Optim.AdamW.decay_of_new_params_eq", expect=REFUTED, source=f"{LH2019}, Algorithm 2",
         statement="AdamW = the Adam step, then the new parameters decayed by (1 − lr·λ)")
def adamw_decay_of_new_params(x: Given):
    """Decaying the *new* parameters instead of the old ones is a different optimizer (refuted)."""
    state = arbitrary_adamw_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    _, torch_params = adamw.update(state, params, grads)
    _, stepped = adam.update(adam_of(state), params, grads)
    return equation(torch_params, stepped * (1 - state.lr * state.weight_decay))


@theorem("Optim.AdamW.weight_decay_zero_eq_adam_every_step", form="simulation", source="TorchLean seed, extended",
         statement="λ = 0 ⟹ AdamW and Adam (same hyperparameters) have the same state, every field, and "
                   "parameters at every step")
def adamw_zero_decay_eq_adam_every_step(x: Given):
    """AdamW with weight_decay = 0 equals Adam for every number of steps."""
    lr, beta1, beta2, epsilon = x.nonnegative("lr"), x.unit("beta1"), x.unit("beta2"), x.positive("epsilon")
    decay = x.nonnegative("weight_decay")
    x.assume(sympy.Eq(decay, 0))
    params, grads = x.tensor("params"), x.tensor("grads")
    start = adamw.init(params, lr, beta1, beta2, epsilon, decay)
    return simulation(
        step_a=adamw.update, step_b=adam.update, start_a=(start, params),
        start_b=(adam_of(start), params), relate=lambda s, p: (adam_of(s), p), grads=grads,
        domains={"v": "nonnegative"},
    )
