"""Schedule-free AdamW (Defazio et al. 2024, "The Road Less Scheduled", Algorithm 1 with Adam's
second moment; facebookresearch/schedule_free 1.4.1, ``AdamWScheduleFree``, in its order of
operations).

    γ, lr_max, weight_sum, c as schedule-free SGD (``optim.schedule_free_sgd.averaging``)
    v ← β2·v + (1 − β2)·g²;   ĝ ← g / (√(v / (1 − β2^(k+1))) + ε)
    ĝ ← ĝ + λ·y if weight_decay λ ≠ 0        (decay after the normalisation, on y = the params)
    y ← lerp(y, z, c) + γ·(β1·(1 − c) − 1)·ĝ;   z ← z − γ·ĝ;   k ← k + 1

β1 plays schedule-free SGD's momentum (the interpolation), β2 Adam's.  State: ``lr``, ``beta1``,
``beta2``, ``eps``, ``weight_decay``, ``warmup_steps``, ``r``, ``weight_lr_power``, ``z``, ``v``
(exp_avg_sq), ``k``, ``weight_sum``, ``lr_max``; per param as in ``optim.schedule_free_sgd``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import bias_correction, ema_of_square, schedule_free_step
from optim.context import context_of
from optim.schedule_free_sgd import averaging, copy_of_params

WEIGHT_DECAY = "decoupled"   # λ is added to the normalised step, not to g before the moments


@fields.state
class State:
    # lr > 0 for the prover (torch's check allows 0): lr_max^weight_lr_power is 0⁰ at lr = 0 with no
    # lr weighting, which the prover does not take as defined
    lr: Any = fields.hyper(0.0025, check=check.learning_rate, domain="positive")
    beta1: Any = fields.hyper(0.9, torch=("betas", 0), check=check.beta(0), domain="unit")
    beta2: Any = fields.hyper(0.999, torch=("betas", 1), check=check.beta(1), domain="unit")
    epsilon: Any = fields.epsilon(1e-8)
    weight_decay: Any = fields.weight_decay()
    warmup_steps: Any = fields.hyper(0, check=check.step_count, domain="natural")
    r: Any = fields.hyper(0.0, domain="nonnegative")
    weight_lr_power: Any = fields.hyper(2.0, domain="nonnegative")
    z: Any = fields.buffer(torch="z", init=copy_of_params)
    v: Any = fields.buffer(torch="exp_avg_sq", domain="nonnegative")
    k: Any = fields.scalar(0, torch="k", check=check.step_count, domain="natural")
    weight_sum: Any = fields.scalar(0.0, torch="weight_sum", check=check.number, domain="nonnegative")
    lr_max: Any = fields.scalar(-1.0, torch="lr_max", check=check.number)


init = fields.init_function(State)
INTERPOLATION = "beta1"   # the β of y = (1 − β)·z + β·x (the classes' train() and eval())


def normalised_gradient(state: State, v: Any, grads: Any) -> Any:
    """ĝ = g / (√(v / (1 − β2ᵏ⁺¹)) + ε), Adam's normalised gradient, v the new second moment."""
    return grads / (context_of(v).sqrt(v / bias_correction(state.beta2, state.k + 1)) + state.epsilon)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    lr, lr_max, weight_sum, c = averaging(state, context_of(params))
    v = ema_of_square(state.v, grads, state.beta2)
    normalised = normalised_gradient(state, v, grads)
    if state.weight_decay != 0:
        normalised = normalised + state.weight_decay * params
    params, z = schedule_free_step(params, state.z, normalised, lr, state.beta1, c)
    return replace(state, z=z, v=v, k=state.k + 1, weight_sum=weight_sum, lr_max=lr_max), params
