"""AdamW (TorchLean ``Optim.AdamW``; Loshchilov & Hutter 2019; torch.optim.AdamW).

    p ← p − lr · λ · p        (decoupled weight decay, first, as torch.optim does)
    then one Adam step on the decayed parameters.

The code has that shape: ``decoupled_weight_decay`` followed by ``adam.update``.
State: Adam's fields and ``weight_decay`` (torch's default 1e-2).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim import adam
from optim._shared import decoupled_weight_decay
from optim.context import context_of


@dataclass(frozen=True)
class State:
    lr: Any
    beta1: Any
    beta2: Any
    epsilon: Any
    weight_decay: Any
    m: Any
    v: Any
    t: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(self, **adam.CHECKS, weight_decay=check.weight_decay)

    def adam_state(self) -> adam.State:
        return adam.State(self.lr, self.beta1, self.beta2, self.epsilon, self.m, self.v, self.t)


def init(
    params: Any,
    lr: Any = 1e-3,
    beta1: Any = 0.9,
    beta2: Any = 0.999,
    epsilon: Any = 1e-8,
    weight_decay: Any = 1e-2,
) -> State:
    zeros = context_of(params).zeros_like
    return State(lr, beta1, beta2, epsilon, weight_decay, zeros(params), zeros(params), t=0)


def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, m=state.m, v=state.v)
    decayed = decoupled_weight_decay(params, state.lr, state.weight_decay)
    after, params = adam.update(state.adam_state(), decayed, grads)
    return replace(state, m=after.m, v=after.v, t=after.t), params
