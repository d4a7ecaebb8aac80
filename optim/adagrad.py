"""Adagrad (Duchi, Hazan & Singer 2011; torch.optim.Adagrad).

    t ← t + 1
    g ← −g if maximize;  g ← g + λ·p if weight_decay λ ≠ 0
    clr = lr / (1 + (t − 1) · lr_decay)
    sum ← sum + g²
    p ← p − clr · g / (√sum + ε)

State: ``lr``, ``lr_decay``, ``weight_decay``, ``epsilon``, ``maximize``, ``sum`` (starts at
``initial_accumulator_value``), ``t``.
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
    lr_decay: Any
    weight_decay: Any
    epsilon: Any
    maximize: bool
    sum: Any
    t: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(
            self, lr=check.learning_rate, lr_decay=check.lr_decay, weight_decay=check.weight_decay,
            epsilon=check.epsilon, maximize=check.flag, t=check.step_count,
        )


@init_rule
def init(params: Any, lr: Any = 1e-2, lr_decay: Any = 0.0, weight_decay: Any = 0.0,
         initial_accumulator_value: Any = 0.0, epsilon: Any = 1e-10, maximize: bool = False) -> State:
    initial = check.initial_accumulator_value(initial_accumulator_value)
    return State(lr, lr_decay, weight_decay, epsilon, maximize,
                 context_of(params).full_like(params, initial), 0)


def decayed_lr(lr: Any, lr_decay: Any, t: Any) -> Any:
    """lr / (1 + (t − 1)·lr_decay) at step t ≥ 1."""
    return lr / (1 + (t - 1) * lr_decay)


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, sum=state.sum)
    sqrt = context_of(params).sqrt
    t = state.t + 1
    g = l2_penalty(maximized(grads, state.maximize), params, state.weight_decay)
    total = state.sum + g * g
    clr = decayed_lr(state.lr, state.lr_decay, t)
    return replace(state, sum=total, t=t), params - clr * (g / (sqrt(total) + state.epsilon))
