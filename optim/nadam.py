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

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim import adam
from optim._shared import bias_correction, ema_of_square, lerp, maximized, weight_decay
from optim.context import context_of, init_rule, update_rule


@dataclass(frozen=True)
class State:
    lr: Any
    beta1: Any
    beta2: Any
    epsilon: Any
    weight_decay: Any
    momentum_decay: Any
    decoupled_weight_decay: bool
    maximize: bool
    m: Any
    v: Any
    mu_product: Any
    t: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(
            self, **adam.CHECKS, momentum_decay=check.momentum_decay,
            decoupled_weight_decay=check.flag, maximize=check.flag,
        )


@init_rule
def init(params: Any, lr: Any = 2e-3, beta1: Any = 0.9, beta2: Any = 0.999, epsilon: Any = 1e-8,
         weight_decay: Any = 0.0, momentum_decay: Any = 4e-3, decoupled_weight_decay: bool = False,
         maximize: bool = False) -> State:
    zeros = context_of(params).zeros_like
    return State(lr, beta1, beta2, epsilon, weight_decay, momentum_decay, decoupled_weight_decay,
                 maximize, zeros(params), zeros(params), 1.0, 0)


def momentum_coefficient(beta1: Any, momentum_decay: Any, t: Any) -> Any:
    """μ_t = β1 · (1 − ½ · 0.96^(t·ψ)): Dozat's warming momentum schedule."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, m=state.m, v=state.v)
    ctx = context_of(params)
    t = state.t + 1
    params, g = weight_decay(params, maximized(grads, state.maximize), state.lr, state.weight_decay,
                             state.decoupled_weight_decay)
    mu = momentum_coefficient(state.beta1, state.momentum_decay, t)
    mu_next = momentum_coefficient(state.beta1, state.momentum_decay, t + 1)
    mu_product = ctx.round_float32(state.mu_product * ctx.round_float32(mu))
    m = lerp(state.m, g, 1 - state.beta1)
    v = ema_of_square(state.v, g, state.beta2)
    denom = ctx.sqrt(v / bias_correction(state.beta2, t)) + state.epsilon
    params = params + (-state.lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
    params = params + ((-state.lr * mu_next) / (1.0 - mu_product * mu_next)) * (m / denom)
    return replace(state, m=m, v=v, mu_product=mu_product, t=t), params
