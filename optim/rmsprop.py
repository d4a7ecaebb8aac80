"""RMSprop (Hinton's lecture 6e; Graves 2013 for ``centered``; torch.optim.RMSprop).

    g ← −g if maximize;  g ← g + λ·p if weight_decay λ ≠ 0
    square_avg ← α · square_avg + (1 − α) · g²
    centered:  grad_avg ← α · grad_avg + (1 − α) · g;  avg = √(square_avg − grad_avg²) + ε
    else:      avg = √square_avg + ε
    momentum μ ≠ 0:  buf ← μ · buf + g / avg;  p ← p − lr · buf
    else:            p ← p − lr · g / avg

State: ``lr``, ``alpha``, ``epsilon``, ``weight_decay``, ``momentum``, ``centered``,
``maximize``, ``square_avg``, ``grad_avg`` (centered only), ``momentum_buffer`` (momentum
only), ``t``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim._shared import ema_of_square, l2_penalty, lerp, maximized
from optim.context import context_of, init_rule, update_rule


@dataclass(frozen=True)
class State:
    lr: Any
    alpha: Any
    epsilon: Any
    weight_decay: Any
    momentum: Any
    centered: bool
    maximize: bool
    square_avg: Any
    grad_avg: Any
    momentum_buffer: Any
    t: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(
            self, lr=check.learning_rate, epsilon=check.epsilon, momentum=check.momentum,
            weight_decay=check.weight_decay, alpha=check.alpha, centered=check.flag,
            maximize=check.flag, t=check.step_count,
        )


@init_rule
def init(params: Any, lr: Any = 1e-2, alpha: Any = 0.99, epsilon: Any = 1e-8, weight_decay: Any = 0.0,
         momentum: Any = 0.0, centered: bool = False, maximize: bool = False) -> State:
    zeros = context_of(params).zeros_like
    return State(lr, alpha, epsilon, weight_decay, momentum, centered, maximize, zeros(params),
                 zeros(params) if centered else None,
                 zeros(params) if momentum != 0 else None, 0)


def _buffers(state: State) -> dict:
    optional = {"grad_avg": state.centered, "momentum_buffer": state.momentum != 0}
    buffers = {"square_avg": state.square_avg}
    for name, needed in optional.items():
        if needed:
            if getattr(state, name) is None:
                raise ValueError(f"this RMSprop state needs {name}: build it with init(...)")
            buffers[name] = getattr(state, name)
    return buffers


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, **_buffers(state))
    sqrt = context_of(params).sqrt
    g = l2_penalty(maximized(grads, state.maximize), params, state.weight_decay)
    square_avg = ema_of_square(state.square_avg, g, state.alpha)
    grad_avg = state.grad_avg
    if state.centered:
        grad_avg = lerp(state.grad_avg, g, 1 - state.alpha)
        avg = sqrt(square_avg - grad_avg * grad_avg) + state.epsilon
    else:
        avg = sqrt(square_avg) + state.epsilon
    new_state = replace(state, square_avg=square_avg, grad_avg=grad_avg, t=state.t + 1)
    if state.momentum != 0:
        buf = state.momentum_buffer * state.momentum + g / avg
        return replace(new_state, momentum_buffer=buf), params - buf * state.lr
    return new_state, params - state.lr * (g / avg)
