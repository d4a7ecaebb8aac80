"""NAdam (Dozat 2016, Incorporating Nesterov Momentum into Adam; torch.optim.NAdam).

    t ← t + 1
    g ← −g if maximize;  weight decay λ: p ← p·(1 − lr·λ) if decoupled, else g ← g + λ·p
    μ_t = β1 · (1 − ½ · 0.96^(t·ψ)),  μ_{t+1} likewise      (ψ = momentum_decay)
    μ_prod ← μ_prod · μ_t                                   (kept in float32, as torch keeps it)
    m ← β1 · m + (1 − β1) · g;   v ← β2 · v + (1 − β2) · g²
    denom = √(v / (1 − β2ᵗ)) + ε
    p ← p − lr · (1 − μ_t) / (1 − μ_prod) · g / denom
          − lr · μ_{t+1} / (1 − μ_prod · μ_{t+1}) · m / denom

State: ``lr``, ``beta1``, ``beta2``, ``epsilon``, ``weight_decay``, ``momentum_decay``,
``decoupled_weight_decay``, ``maximize``, ``m``, ``v``, ``mu_product``, ``t``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import adam, fields
from optim import _checks as check
from optim._shared import bias_correction, ema_of_square, gradient_preamble, lerp
from optim.context import context_of


@fields.state
class State(adam.Hyperparameters):
    lr: Any = fields.lr(2e-3)
    momentum_decay: Any = fields.hyper(4e-3, check=check.momentum_decay, domain="nonnegative")
    decoupled_weight_decay: bool = fields.flag()
    maximize: bool = fields.flag()
    m: Any = fields.buffer(torch="exp_avg")
    v: Any = fields.buffer(torch="exp_avg_sq", domain="nonnegative")
    mu_product: Any = fields.scalar(1.0, check=check.number, domain="unit")   # a float32 tensor in torch
    t: Any = fields.step()


init = fields.init_function(State)


DECAY_BASE = 0.96      # of Dozat's warming schedule (torch.optim.NAdam's constant)


def _momentum_coefficient(beta1: Any, momentum_decay: Any, t: Any) -> Any:
    """μ_t = β1 · (1 − ½ · 0.96^(t·ψ)): Dozat's warming momentum schedule."""
    return beta1 * (1.0 - 0.5 * (DECAY_BASE ** (t * momentum_decay)))


def denominator(v: Any, beta2: Any, epsilon: Any, t: Any) -> Any:
    """√(v / (1 − β2ᵗ)) + ε."""
    return context_of(v).sqrt(v / bias_correction(beta2, t)) + epsilon


def step_coefficients(lr: Any, mu: Any, mu_next: Any, mu_product: Any) -> tuple[Any, Any]:
    """The step's coefficients on g/denom and on m/denom, −lr·(1 − μ_t)/(1 − μ_prod) and
    −lr·μ_{t+1}/(1 − μ_prod·μ_{t+1}) (μ_prod already holds μ_t): Python scalars, rounded in float64
    before they meet a tensor — what the float contract bounds apart."""
    return -lr * (1.0 - mu) / (1.0 - mu_product), (-lr * mu_next) / (1.0 - mu_product * mu_next)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    ctx = context_of(params)
    t = state.t + 1
    params, g = gradient_preamble(state, params, grads)
    mu = _momentum_coefficient(state.beta1, state.momentum_decay, t)
    mu_next = _momentum_coefficient(state.beta1, state.momentum_decay, t + 1)
    mu_product = ctx.round_float32(state.mu_product * ctx.round_float32(mu))
    m = lerp(state.m, g, 1 - state.beta1)
    v = ema_of_square(state.v, g, state.beta2)
    denom = denominator(v, state.beta2, state.epsilon, t)
    on_gradient, on_moment = step_coefficients(state.lr, mu, mu_next, mu_product)
    params = params + on_gradient * (g / denom)
    params = params + on_moment * (m / denom)
    return replace(state, m=m, v=v, mu_product=mu_product, t=t), params
