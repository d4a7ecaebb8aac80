"""Momentum SGD (TorchLean ``Optim.MomentumSGD``), PyTorch-style momentum.

    buf ← momentum · buf + g
    p   ← p − lr · buf          (the freshly updated buffer)

State: ``lr``, ``momentum``, ``buf`` (zero at ``init``, so the first buffer is g, as in
torch.optim.SGD with dampening = 0).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import fields


@fields.state
class State:
    lr: Any = fields.lr(1e-3)
    momentum: Any = fields.momentum(0.9)
    buf: Any = fields.buffer(torch="momentum_buffer")


init = fields.init_function(State)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    buf = state.buf * state.momentum + grads
    return replace(state, buf=buf), params - buf * state.lr
