"""Rprop (Riedmiller & Braun 1993, resilient backpropagation; torch.optim.Rprop).

Per entry, from the sign of g · prev:
    > 0 (same sign):  step_size ← min(step_size · η+, step_size_max)
    < 0 (flipped):    step_size ← max(step_size · η−, step_size_min);  g ← 0 (no move, forget g)
    = 0:              step_size unchanged
    p ← p − sign(g) · step_size;   prev ← g

State: ``lr`` (the initial step size), ``etaminus``, ``etaplus``, ``step_size_min``,
``step_size_max``, ``maximize``, ``prev``, ``step_size``, ``t``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim._shared import maximized
from optim.context import context_of, init_rule, update_rule


@dataclass(frozen=True)
class State:
    lr: Any
    etaminus: Any
    etaplus: Any
    step_size_min: Any
    step_size_max: Any
    maximize: bool
    prev: Any
    step_size: Any
    t: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(
            self, lr=check.learning_rate, etaminus=check.number, etaplus=check.number,
            step_size_min=check.number, step_size_max=check.number, maximize=check.flag,
            t=check.step_count,
        )
        if check.is_number(self.etaminus) and check.is_number(self.etaplus) \
                and not 0.0 < self.etaminus < 1.0 < self.etaplus:
            raise ValueError(f"Invalid eta values: {self.etaminus}, {self.etaplus}")


@init_rule
def init(params: Any, lr: Any = 1e-2, etaminus: Any = 0.5, etaplus: Any = 1.2,
         step_size_min: Any = 1e-6, step_size_max: Any = 50.0, maximize: bool = False) -> State:
    ctx = context_of(params)
    return State(lr, etaminus, etaplus, step_size_min, step_size_max, maximize,
                 ctx.zeros_like(params), ctx.full_like(params, lr), 0)


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, prev=state.prev, step_size=state.step_size)
    ctx = context_of(params)
    g = maximized(grads, state.maximize)
    agreement = ctx.sign(g * state.prev)
    same, flipped = agreement > 0, agreement < 0
    like = state.step_size
    factor = ctx.where(same, ctx.full_like(like, state.etaplus),
                       ctx.where(flipped, ctx.full_like(like, state.etaminus), ctx.full_like(like, 1)))
    step_size = ctx.minimum(ctx.maximum(state.step_size * factor, state.step_size_min), state.step_size_max)
    g = ctx.where(flipped, ctx.zeros_like(g), g)
    new_params = params - ctx.sign(g) * step_size
    return replace(state, prev=g, step_size=step_size, t=state.t + 1), new_params
