"""SGD (TorchLean ``Optim.SGD``; torch.optim.SGD), with torch's options.

    g ← −g if maximize;  g ← g + λ·p if weight_decay λ ≠ 0
    if momentum μ ≠ 0:
        buf ← g on the first step (a copy: no dampening), else μ·buf + (1 − τ)·g
        g ← g + μ·buf if nesterov, else buf
    p ← p − lr·g

With the defaults (momentum 0, weight_decay 0) this is the seed's ``p − lr·g``.
State: ``lr`` (the seed's), then torch's ``momentum``, ``dampening`` (τ), ``weight_decay``,
``nesterov``, ``maximize``, and ``buf`` (torch's ``momentum_buffer``; None until the first
momentum step).
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
    momentum: Any = 0.0
    dampening: Any = 0.0
    weight_decay: Any = 0.0
    nesterov: bool = False
    maximize: bool = False
    buf: Any = None

    def __post_init__(self) -> None:
        check.validate_hyperparameters(
            self, lr=check.learning_rate, momentum=check.momentum, weight_decay=check.weight_decay,
            dampening=check.number, nesterov=check.flag, maximize=check.flag,
        )
        if self.nesterov and check.is_number(self.momentum) and check.is_number(self.dampening) \
                and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")


@init_rule
def init(params: Any, lr: Any = 1e-3, momentum: Any = 0.0, dampening: Any = 0.0,
         weight_decay: Any = 0.0, nesterov: bool = False, maximize: bool = False) -> State:
    """No buffer yet: torch creates the momentum buffer from the first gradient."""
    return State(lr, momentum, dampening, weight_decay, nesterov, maximize)


def momentum_buffer(buf: Any, grads: Any, momentum: Any, dampening: Any) -> Any:
    """torch's buffer: a copy of g at the first step, then μ·buf + (1 − τ)·g."""
    if buf is None:
        return context_of(grads).copy(grads)
    return buf * momentum + (1 - dampening) * grads


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    buffers = {} if state.buf is None else {"buf": state.buf}
    check.check_layout(params, grads, **buffers)
    g = l2_penalty(maximized(grads, state.maximize), params, state.weight_decay)
    if state.momentum != 0:
        buf = momentum_buffer(state.buf, g, state.momentum, state.dampening)
        g = g + state.momentum * buf if state.nesterov else buf
        state = replace(state, buf=buf)
    return state, params - g * state.lr
