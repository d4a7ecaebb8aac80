"""SGD (TorchLean ``Optim.SGD``): plain gradient descent.

    p ← p − lr · g

State: ``lr``.  Reference: torch.optim.SGD with momentum = 0, weight_decay = 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optim import _checks as check


@dataclass(frozen=True)
class State:
    lr: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(self, lr=check.learning_rate)


def init(params: Any, lr: Any = 1e-3) -> State:
    """SGD keeps no buffers; ``params`` is taken for a uniform ``init`` signature."""
    return State(lr=lr)


def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads)
    return state, params - grads * state.lr
