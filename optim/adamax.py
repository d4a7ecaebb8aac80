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

from dataclasses import replace
from typing import Any

from optim import adam, fields
from optim._shared import bias_correction, gradient_preamble, lerp
from optim.context import context_of


@fields.state
class State(adam.Hyperparameters):
    lr: Any = fields.lr(2e-3)
    maximize: bool = fields.flag()
    m: Any = fields.buffer(torch="exp_avg")
    u: Any = fields.buffer(torch="exp_inf", domain="nonnegative")
    t: Any = fields.step()


init = fields.init_function(State)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    ctx = context_of(params)
    t = state.t + 1
    params, g = gradient_preamble(state, params, grads)
    m = lerp(state.m, g, 1 - state.beta1)
    u = ctx.maximum(state.u * state.beta2, ctx.abs(g) + state.epsilon)
    clr = state.lr / bias_correction(state.beta1, t)
    return replace(state, m=m, u=u, t=t), params - clr * (m / u)
