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

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim._shared import ema_of_square, l2_penalty, maximized
from optim.context import context_of, init_rule, update_rule


@dataclass(frozen=True)
class State:
    lr: Any
    rho: Any
    epsilon: Any
    v: Any
    u: Any
    weight_decay: Any = 0.0
    maximize: bool = False
    t: Any = 0

    def __post_init__(self) -> None:
        check.validate_hyperparameters(
            self, lr=check.learning_rate, rho=check.rho, epsilon=check.epsilon,
            weight_decay=check.weight_decay, maximize=check.flag, t=check.step_count,
        )


@init_rule
def init(params: Any, lr: Any = 1.0, rho: Any = 0.9, epsilon: Any = 1e-6, weight_decay: Any = 0.0,
         maximize: bool = False) -> State:
    zeros = context_of(params).zeros_like
    return State(lr, rho, epsilon, zeros(params), zeros(params), weight_decay, maximize, 0)


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, v=state.v, u=state.u)
    sqrt = context_of(params).sqrt
    g = l2_penalty(maximized(grads, state.maximize), params, state.weight_decay)
    v = ema_of_square(state.v, g, state.rho)
    delta = sqrt(state.u + state.epsilon) / sqrt(v + state.epsilon) * g
    u = ema_of_square(state.u, delta, state.rho)
    return replace(state, v=v, u=u, t=state.t + 1), params - delta * state.lr
