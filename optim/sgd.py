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

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import gradient_preamble
from optim.context import context_of


@fields.state(checked_first=("lr", "momentum", "weight_decay"))   # torch.optim.SGD's order
class State:
    lr: Any = fields.lr(1e-3)
    momentum: Any = fields.momentum(0.0)
    dampening: Any = fields.hyper(0.0)
    weight_decay: Any = fields.weight_decay()
    nesterov: bool = fields.flag()
    maximize: bool = fields.flag()
    buf: Any = fields.buffer(torch="momentum_buffer", init=None)   # torch makes it from the first gradient

    def cross_check(self) -> None:
        if self.nesterov and check.is_number(self.momentum) and check.is_number(self.dampening) \
                and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")


init = fields.init_function(State, "No buffer yet: torch creates the momentum buffer from the first gradient.")


def _momentum_buffer(buf: Any, grads: Any, momentum: Any, dampening: Any) -> Any:
    """torch's buffer: a copy of g at the first step, then μ·buf + (1 − τ)·g."""
    if buf is None:
        return context_of(grads).copy(grads)
    return buf * momentum + (1 - dampening) * grads


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    _, g = gradient_preamble(state, params, grads)
    if state.momentum != 0:
        buf = _momentum_buffer(state.buf, g, state.momentum, state.dampening)
        g = g + state.momentum * buf if state.nesterov else buf
        state = replace(state, buf=buf)
    return state, params - g * state.lr
