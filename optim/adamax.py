"""Adamax (Kingma & Ba 2015, Algorithm 2, the infinity-norm Adam; torch.optim.Adamax).

    t ← t + 1
    g ← −g if maximize;  g ← g + λ·p if weight_decay λ ≠ 0
    m ← β1 · m + (1 − β1) · g
    u ← max(β2 · u, |g| + ε)
    p ← p − (lr / (1 − β1ᵗ)) · m / u

As torch.optim, ε sits inside the max (the paper has none).  State: ``lr``, ``beta1``,
``beta2``, ``epsilon``, ``weight_decay``, ``maximize``, ``m`` (exp_avg), ``u`` (exp_inf), ``t``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim import adam
from optim._shared import bias_correction, l2_penalty, lerp, maximized
from optim.context import context_of, init_rule, update_rule


@dataclass(frozen=True)
class State:
    lr: Any
    beta1: Any
    beta2: Any
    epsilon: Any
    weight_decay: Any
    maximize: bool
    m: Any
    u: Any
    t: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(self, **adam.CHECKS, maximize=check.flag)


@init_rule
def init(params: Any, lr: Any = 2e-3, beta1: Any = 0.9, beta2: Any = 0.999, epsilon: Any = 1e-8,
         weight_decay: Any = 0.0, maximize: bool = False) -> State:
    zeros = context_of(params).zeros_like
    return State(lr, beta1, beta2, epsilon, weight_decay, maximize, zeros(params), zeros(params), 0)


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, m=state.m, u=state.u)
    ctx = context_of(params)
    t = state.t + 1
    g = l2_penalty(maximized(grads, state.maximize), params, state.weight_decay)
    m = lerp(state.m, g, 1 - state.beta1)
    u = ctx.maximum(state.u * state.beta2, ctx.abs(g) + state.epsilon)
    clr = state.lr / bias_correction(state.beta1, t)
    return replace(state, m=m, u=u, t=t), params - clr * (m / u)
