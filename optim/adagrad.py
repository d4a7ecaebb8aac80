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

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import gradient_preamble
from optim.context import context_of


def _initial_sum(ctx: Any, params: Any, hyperparameters: dict) -> Any:
    return ctx.full_like(params, hyperparameters["initial_accumulator_value"])


@fields.state
class State:
    lr: Any = fields.lr(1e-2)
    lr_decay: Any = fields.hyper(0.0, check=check.lr_decay, domain="nonnegative")
    weight_decay: Any = fields.weight_decay()
    # init's (and torch's constructor's) argument, not kept: the value sum starts at
    initial_accumulator_value: Any = fields.init_only(0.0, check=check.initial_accumulator_value,
                                                      domain="nonnegative")
    epsilon: Any = fields.epsilon(1e-10)
    maximize: bool = fields.flag()
    sum: Any = fields.buffer(torch="sum", init=_initial_sum, domain="nonnegative")
    t: Any = fields.step()


init = fields.init_function(State)


def _decayed_lr(lr: Any, lr_decay: Any, t: Any) -> Any:
    """lr / (1 + (t − 1)·lr_decay) at step t ≥ 1."""
    return lr / (1 + (t - 1) * lr_decay)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    sqrt = context_of(params).sqrt
    t = state.t + 1
    _, g = gradient_preamble(state, params, grads)
    total = state.sum + g * g
    clr = _decayed_lr(state.lr, state.lr_decay, t)
    return replace(state, sum=total, t=t), params - clr * (g / (sqrt(total) + state.epsilon))
