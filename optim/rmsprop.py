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

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import ema_of_square, gradient_preamble, lerp
from optim.context import context_of


@fields.state(checked_first=("lr", "epsilon", "momentum", "weight_decay"))   # torch.optim.RMSprop's order
class State:
    lr: Any = fields.lr(1e-2)
    alpha: Any = fields.hyper(0.99, check=check.alpha, domain="unit")
    epsilon: Any = fields.epsilon(1e-8)
    weight_decay: Any = fields.weight_decay()
    momentum: Any = fields.momentum(0.0)
    centered: bool = fields.flag()
    maximize: bool = fields.flag()
    square_avg: Any = fields.buffer(torch="square_avg", domain="nonnegative")
    grad_avg: Any = fields.buffer(torch="grad_avg", when="centered")
    momentum_buffer: Any = fields.buffer(torch="momentum_buffer", when="momentum")
    t: Any = fields.step()


init = fields.init_function(State)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    sqrt = context_of(params).sqrt
    _, g = gradient_preamble(state, params, grads)
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
