"""Schedule-free SGD (Defazio et al. 2024, "The Road Less Scheduled", Algorithm 1;
facebookresearch/schedule_free 1.4.1, ``SGDScheduleFree``, in its order of operations).

    γ ← lr · (k + 1)/warmup_steps during the warmup, else lr;   lr_max ← max(γ, lr_max)
    w ← (k + 1)^r · lr_max^weight_lr_power;   weight_sum ← weight_sum + w;   c ← w / weight_sum
    g ← g + λ·y if weight_decay λ ≠ 0                    (the gradient is taken at y = the params)
    y ← lerp(y, z, c) + γ·(β·(1 − c) − 1)·g;   z ← z − γ·g;   k ← k + 1

The params are y during training; ``optim._shared.averaged_params`` gives the average x that
``optimizer.eval()`` loads (and ``interpolated_params`` goes back).  β is ``momentum``, in (0, 1)
exclusive as schedule_free requires.  State: ``lr``, ``momentum``, ``weight_decay``,
``warmup_steps``, ``r``, ``weight_lr_power``, ``z`` (a copy of the params at init), ``k``,
``weight_sum``, ``lr_max``.  schedule_free keeps k, weight_sum and lr_max per param group; here
each param keeps its own, the same values while every param of the group steps (a param
without a gradient at a step does not advance its own k, where schedule_free's group does).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim.context import context_of
from optim._shared import (average_coefficient, average_weight, l2_penalty, schedule_free_step, warmup_lr)

momentum_in_open_unit = check._check(lambda x: 0.0 < x < 1.0, "Momentum must be between 0 and 1 exclusive: {}",
                                     "momentum")


def copy_of_params(ctx: Any, params: Any, hyperparameters: dict) -> Any:
    """z starts at the params (schedule_free: ``torch.clone(p)``)."""
    return ctx.copy(params)


@fields.state
class State:
    # lr > 0 for the prover (torch's check allows 0): lr_max^weight_lr_power is 0⁰ at lr = 0 with no
    # lr weighting, which the prover does not take as defined
    lr: Any = fields.hyper(1.0, check=check.learning_rate, domain="positive")
    momentum: Any = fields.hyper(0.9, check=momentum_in_open_unit, domain="unit")
    weight_decay: Any = fields.weight_decay()
    warmup_steps: Any = fields.hyper(0, check=check.step_count, domain="natural")
    r: Any = fields.hyper(0.0, domain="nonnegative")
    weight_lr_power: Any = fields.hyper(2.0, domain="nonnegative")
    z: Any = fields.buffer(torch="z", init=copy_of_params)
    k: Any = fields.scalar(0, torch="k", check=check.step_count, domain="natural")
    weight_sum: Any = fields.scalar(0.0, torch="weight_sum", check=check.number, domain="nonnegative")
    lr_max: Any = fields.scalar(-1.0, torch="lr_max", check=check.number)


init = fields.init_function(State)
INTERPOLATION = "momentum"   # the β of y = (1 − β)·z + β·x (the classes' train() and eval())


def averaging(state: Any, ctx: Any) -> tuple[Any, Any, Any, Any]:
    """(γ, lr_max, weight_sum, c) of this step (shared by schedule-free AdamW).  lr_max is the
    context's scalar maximum, Python's max(γ, lr_max) on floats: over the reals a maximum rather
    than a branch on the rounded γ (the error analysis bounds |max(γ̂, l) − max(γ, l)| ≤ |γ̂ − γ|)."""
    lr = warmup_lr(state.lr, state.k, state.warmup_steps)
    lr_max = ctx.scalar_max(lr, state.lr_max)
    weight = average_weight(state.k, lr_max, state.r, state.weight_lr_power)
    weight_sum = state.weight_sum + weight
    return lr, lr_max, weight_sum, average_coefficient(weight, weight_sum)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    lr, lr_max, weight_sum, c = averaging(state, context_of(params))
    g = l2_penalty(grads, params, state.weight_decay)
    params, z = schedule_free_step(params, state.z, g, lr, state.momentum, c)
    return replace(state, z=z, k=state.k + 1, weight_sum=weight_sum, lr_max=lr_max), params
