"""AdamW (TorchLean ``Optim.AdamW``; Loshchilov & Hutter 2019; torch.optim.AdamW).

    p ← p − lr · λ · p        (decoupled weight decay, first, as torch.optim does)
    then one Adam step on the decayed parameters.

As in torch.optim 2.x, AdamW *is* Adam with ``decoupled_weight_decay=True``; the code says
exactly that.  State: Adam's seed fields with ``weight_decay`` (torch's default 1e-2), and
torch's ``amsgrad``, ``maximize``, ``v_max``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim import adam
from optim.context import context_of, init_rule, update_rule


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
    amsgrad: bool = False
    maximize: bool = False
    v_max: Any = None

    def __post_init__(self) -> None:
        check.validate_hyperparameters(self, **adam.CHECKS, **adam.FLAGS)

    def adam_state(self) -> adam.State:
        """This state as Adam's, with the decay decoupled."""
        return adam.State(self.lr, self.beta1, self.beta2, self.epsilon, self.m, self.v, self.t,
                          self.weight_decay, self.amsgrad, self.maximize, True, self.v_max)


@init_rule
def init(params: Any, lr: Any = 1e-3, beta1: Any = 0.9, beta2: Any = 0.999, epsilon: Any = 1e-8,
         weight_decay: Any = 1e-2, amsgrad: bool = False, maximize: bool = False) -> State:
    zeros = context_of(params).zeros_like
    return State(lr, beta1, beta2, epsilon, weight_decay, zeros(params), zeros(params), 0, amsgrad,
                 maximize, zeros(params) if amsgrad else None)


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    after, params = adam.update(state.adam_state(), params, grads)
    return replace(state, m=after.m, v=after.v, t=after.t, v_max=after.v_max), params
