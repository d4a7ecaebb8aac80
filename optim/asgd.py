"""ASGD (Polyak & Juditsky 1992, averaged SGD; torch.optim.ASGD).

    t ← t + 1
    g ← −g if maximize;  g ← g + λ·p if weight_decay λ ≠ 0
    p ← p · (1 − lambd · η);   p ← p − η · g
    ax ← ax + μ · (p − ax)                     (the running average of the iterates)
    η ← lr / (1 + lambd · lr · t)^alpha;   μ ← 1 / max(1, t − t0)

torch keeps η and μ in float32 tensors; so does the NumPy run (``round_float32``), while the
proofs read them as exact reals.  State: ``lr``, ``lambd``, ``alpha``, ``t0``,
``weight_decay``, ``maximize``, ``eta``, ``mu``, ``ax``, ``t``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import gradient_preamble
from optim.context import context_of


def _initial_eta(ctx: Any, params: Any, hyperparameters: dict) -> Any:
    return ctx.round_float32(hyperparameters["lr"])   # torch: tensor(lr), float32


@fields.state(checked_first=("lr", "weight_decay"))   # torch.optim.ASGD's order
class State:
    lr: Any = fields.lr(1e-2)
    lambd: Any = fields.hyper(1e-4, domain="nonnegative")
    alpha: Any = fields.hyper(0.75, domain="unit")
    t0: Any = fields.hyper(1e6, domain="nonnegative")
    weight_decay: Any = fields.weight_decay()
    maximize: bool = fields.flag()
    eta: Any = fields.scalar(_initial_eta, check=check.number, domain="nonnegative")   # float32 in torch
    mu: Any = fields.scalar(1.0, check=check.number, domain="unit")                    # float32 in torch
    ax: Any = fields.buffer(torch="ax")
    t: Any = fields.step()


init = fields.init_function(State)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    ctx = context_of(params)
    t = state.t + 1
    params, g = gradient_preamble(state, params, grads)
    params = params * (1 - state.lambd * state.eta)
    params = params - state.eta * g
    ax = state.ax + (params - state.ax) * state.mu if state.mu != 1 else ctx.copy(params)
    eta = ctx.round_float32(state.lr / ((1 + state.lambd * state.lr * t) ** state.alpha))
    mu = ctx.round_float32(1 / ctx.maximum(1, t - state.t0))
    return replace(state, eta=eta, mu=mu, ax=ax, t=t), params
