"""Adadelta (TorchLean ``Optim.Adadelta``; Zeiler 2012, Algorithm 1; torch.optim.Adadelta).

    v ← ρ · v + (1 − ρ) · g²
    δ = √(u + ε) / √(v + ε) · g
    u ← ρ · u + (1 − ρ) · δ²
    p ← p − lr · δ

As in torch.optim, ``u`` accumulates δ before the learning rate is applied.
State: ``lr``, ``rho``, ``epsilon``, ``v`` (square_avg), ``u`` (acc_delta), both zero at ``init``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim._shared import ema_of_square
from optim.context import context_of


@dataclass(frozen=True)
class State:
    lr: Any
    rho: Any
    epsilon: Any
    v: Any
    u: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(
            self, lr=check.learning_rate, rho=check.rho, epsilon=check.epsilon
        )


def init(params: Any, lr: Any = 1.0, rho: Any = 0.9, epsilon: Any = 1e-6) -> State:
    zeros = context_of(params).zeros_like
    return State(lr, rho, epsilon, v=zeros(params), u=zeros(params))


def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, v=state.v, u=state.u)
    sqrt = context_of(params).sqrt
    v = ema_of_square(state.v, grads, state.rho)
    delta = sqrt(state.u + state.epsilon) / sqrt(v + state.epsilon) * grads
    u = ema_of_square(state.u, delta, state.rho)
    return replace(state, v=v, u=u), params - delta * state.lr
