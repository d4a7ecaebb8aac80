"""Momentum SGD (TorchLean ``Optim.MomentumSGD``), PyTorch-style momentum.

    buf ← momentum · buf + g
    p   ← p − lr · buf          (the freshly updated buffer)

State: ``lr``, ``momentum``, ``buf`` (zero at ``init``, so the first buffer is g, as in
torch.optim.SGD with dampening = 0).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim.context import context_of, init_rule, update_rule


@dataclass(frozen=True)
class State:
    lr: Any
    momentum: Any
    buf: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(self, lr=check.learning_rate, momentum=check.momentum)


@init_rule
def init(params: Any, lr: Any = 1e-3, momentum: Any = 0.9) -> State:
    return State(lr=lr, momentum=momentum, buf=context_of(params).zeros_like(params))


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, buf=state.buf)
    buf = state.buf * state.momentum + grads
    return replace(state, buf=buf), params - buf * state.lr
