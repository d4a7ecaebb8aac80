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

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import maximized
from optim.context import context_of


def _initial_step_size(ctx: Any, params: Any, hyperparameters: dict) -> Any:
    return ctx.full_like(params, hyperparameters["lr"])   # torch: full_like(grad, lr)


@fields.state
class State:
    lr: Any = fields.lr(1e-2)
    etaminus: Any = fields.hyper(0.5, torch=("etas", 0), domain="unit")
    etaplus: Any = fields.hyper(1.2, torch=("etas", 1), domain="positive")
    step_size_min: Any = fields.hyper(1e-6, torch=("step_sizes", 0), domain="nonnegative")
    step_size_max: Any = fields.hyper(50.0, torch=("step_sizes", 1), domain="positive")
    maximize: bool = fields.flag()
    prev: Any = fields.buffer(torch="prev")
    step_size: Any = fields.buffer(torch="step_size", init=_initial_step_size, domain="nonnegative")
    t: Any = fields.step()

    def cross_check(self) -> None:
        if check.is_number(self.etaminus) and check.is_number(self.etaplus) \
                and not 0.0 < self.etaminus < 1.0 < self.etaplus:
            raise ValueError(f"Invalid eta values: {self.etaminus}, {self.etaplus}")


init = fields.init_function(State)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
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
