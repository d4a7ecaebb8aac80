"""ASGD (Polyak & Juditsky 1992, averaged SGD; torch.optim.ASGD).

    t ← t + 1
    g ← −g if maximize;  g ← g + λ·p if weight_decay λ ≠ 0
    p ← p · (1 − lambd · η);   p ← p − η · g
    ax ← ax + μ · (p − ax)                     (the running average of the iterates)
    η ← lr / (1 + lambd · lr · t)^alpha;   μ ← 1 / max(1, t − t0)

torch keeps η and μ in float32 tensors; so does the NumPy run (``round_float32``), while the
proofs read them as exact reals.  State: ``lr``, ``lambd``, ``alpha``, ``t0``,
``weight_decay``, ``maximize``, ``eta``, ``mu``, ``ax``, ``t``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim._shared import l2_penalty, maximized
from optim.context import context_of, init_rule, update_rule


@dataclass(frozen=True)
class State:
    lr: Any
    lambd: Any
    alpha: Any
    t0: Any
    weight_decay: Any
    maximize: bool
    eta: Any
    mu: Any
    ax: Any
    t: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(
            self, lr=check.learning_rate, weight_decay=check.weight_decay, lambd=check.number,
            alpha=check.number, t0=check.number, eta=check.number, mu=check.number,
            maximize=check.flag, t=check.step_count,
        )


@init_rule
def init(params: Any, lr: Any = 1e-2, lambd: Any = 1e-4, alpha: Any = 0.75, t0: Any = 1e6,
         weight_decay: Any = 0.0, maximize: bool = False) -> State:
    ctx = context_of(params)
    return State(lr, lambd, alpha, t0, weight_decay, maximize, ctx.round_float32(lr), 1.0,
                 ctx.zeros_like(params), 0)


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, ax=state.ax)
    ctx = context_of(params)
    t = state.t + 1
    g = l2_penalty(maximized(grads, state.maximize), params, state.weight_decay)
    params = params * (1 - state.lambd * state.eta)
    params = params - state.eta * g
    ax = state.ax + (params - state.ax) * state.mu if state.mu != 1 else ctx.copy(params)
    eta = ctx.round_float32(state.lr / ((1 + state.lambd * state.lr * t) ** state.alpha))
    mu = ctx.round_float32(1 / ctx.maximum(1, t - state.t0))
    return replace(state, eta=eta, mu=mu, ax=ax, t=t), params
