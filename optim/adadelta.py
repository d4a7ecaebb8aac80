"""Adadelta (TorchLean ``Optim.Adadelta``; Zeiler 2012, Algorithm 1; torch.optim.Adadelta).

    g ← −g if maximize;  g ← g + λ·p if weight_decay λ ≠ 0
    v ← ρ · v + (1 − ρ) · g²
    δ = √(u + ε) / √(v + ε) · g
    u ← ρ · u + (1 − ρ) · δ²
    p ← p − lr · δ

As in torch.optim, ``u`` accumulates δ before the learning rate is applied.
State: the seed's ``lr``, ``rho``, ``epsilon``, ``v`` (torch's square_avg), ``u``
(acc_delta); then torch's ``weight_decay``, ``maximize`` and the step counter ``t``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import ema_of_square, gradient_preamble
from optim.context import context_of


@fields.state
class State:
    lr: Any = fields.lr(1.0)
    rho: Any = fields.hyper(0.9, check=check.rho, domain="closed_unit")
    epsilon: Any = fields.epsilon(1e-6)
    v: Any = fields.buffer(torch="square_avg", domain="nonnegative")
    u: Any = fields.buffer(torch="acc_delta", domain="nonnegative")
    weight_decay: Any = fields.weight_decay()
    maximize: bool = fields.flag()
    t: Any = fields.step()


init = fields.init_function(State)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    sqrt = context_of(params).sqrt
    _, g = gradient_preamble(state, params, grads)
    v = ema_of_square(state.v, g, state.rho)
    delta = sqrt(state.u + state.epsilon) / sqrt(v + state.epsilon) * g
    u = ema_of_square(state.u, delta, state.rho)
    return replace(state, v=v, u=u, t=state.t + 1), params - delta * state.lr
