"""Lion, EvoLved Sign Momentum (Chen et al. 2023, "Symbolic Discovery of Optimization
Algorithms", Program 1; Optax's ``optax.lion``; lucidrains' ``lion-pytorch``).

    g ← −g if maximize
    c ← β1 · m + (1 − β1) · g                 (the interpolation whose sign is the step)
    p ← p − lr · (sign(c) + λ · p)            (decoupled weight decay λ, scaled by lr)
    m ← β2 · m + (1 − β2) · g

Every coordinate moves by exactly lr (plus the decay): the update is a sign.  The parameters
are computed in lion-pytorch's order, ``p·(1 − lr·λ) − lr·sign(c)``, and c and m as its
``mul_(β).add_(g, alpha=1 − β)``; the prover shows the step equals the paper's form above
(``Optim.Lion.update_params_eq``).  Defaults are lion-pytorch's (lr 1e-4, betas (0.9, 0.99),
weight_decay 0); ``maximize`` is torch.optim's option, which neither reference has.

State: ``lr``, ``beta1``, ``beta2``, ``weight_decay``, ``maximize``, ``m`` (exp_avg).  No step
count: Lion has no bias correction.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import decoupled_weight_decay, maximized
from optim.context import context_of

WEIGHT_DECAY = "decoupled"   # λ decays p, not an L2 term of g (proofs.theorems.relations reads it)


@fields.state
class State:
    lr: Any = fields.lr(1e-4)
    beta1: Any = fields.hyper(0.9, torch=("betas", 0), check=check.beta(0), domain="unit")
    beta2: Any = fields.hyper(0.99, torch=("betas", 1), check=check.beta(1), domain="unit")
    weight_decay: Any = fields.weight_decay()
    maximize: bool = fields.flag()
    m: Any = fields.buffer(torch="exp_avg")


init = fields.init_function(State)


def ema(average: Any, x: Any, beta: Any) -> Any:
    """β·average + (1 − β)·x, in lion-pytorch's order (``mul_(β).add_(x, alpha=1 − β)``)."""
    return average * beta + x * (1 - beta)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    sign = context_of(params).sign
    g = maximized(grads, state.maximize)
    direction = sign(ema(state.m, g, state.beta1))
    params = decoupled_weight_decay(params, state.lr, state.weight_decay)
    return replace(state, m=ema(state.m, g, state.beta2)), params - state.lr * direction
