"""LAMB, layer-wise adaptive moments (You et al. 2020, "Large Batch Optimization for Deep
Learning: Training BERT in 76 Minutes"), as Optax's ``optax.lamb`` defines it (chain of
scale_by_adam, add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate), in that order
of operations:

    t ← t + 1;   m ← (1 − β1)·g + β1·m;   v ← (1 − β2)·g² + β2·v
    u ← m̂ / (√(v̂ + ε_root) + ε) + λ·p,   m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)
    r ← ‖p‖ / ‖u‖, or 1 where ‖p‖ = 0 or ‖u‖ = 0                  (the trust ratio, per tensor)
    p ← p + (−lr)·(r·u)

Norms as ``optim.lars``.  Defaults are Optax's (betas (0.9, 0.999), eps 1e-6, eps_root 0,
weight_decay 0) with lr 1e-3 (Optax has none).  State: ``lr``, ``beta1``, ``beta2``, ``epsilon``,
``eps_root``, ``weight_decay``, ``m``, ``v``, ``t``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import bias_correction
from optim.context import context_of
from optim.lars import trust_ratio

eps_root_check = check._check(lambda x: 0.0 <= x, "Invalid eps_root value: {}", "eps_root")


@fields.state
class State:
    lr: Any = fields.lr(1e-3)
    beta1: Any = fields.hyper(0.9, torch=("betas", 0), check=check.beta(0), domain="unit")
    beta2: Any = fields.hyper(0.999, torch=("betas", 1), check=check.beta(1), domain="unit")
    epsilon: Any = fields.epsilon(1e-6)
    eps_root: Any = fields.hyper(0.0, check=eps_root_check, domain="nonnegative")
    weight_decay: Any = fields.weight_decay()
    m: Any = fields.buffer(torch="exp_avg")
    v: Any = fields.buffer(torch="exp_avg_sq", domain="nonnegative")
    t: Any = fields.step()


init = fields.init_function(State)
REDUCES = True   # the trust ratio's norms: the NumPy classes run the functional update
WEIGHT_DECAY = "decoupled"   # λ·p is added to the Adam direction, not to g before the moments


def direction(state: State, params: Any, grads: Any) -> tuple[Any, Any, Any, Any]:
    """(m′, v′, t′, u): the new moments and step count, and the direction u = m̂/(√(v̂ + ε_root) + ε) + λ·p
    before the trust ratio scales it (what ``update`` runs, and what the float contract's lemma
    on ‖u‖ speaks of)."""
    sqrt = context_of(params).sqrt
    t = state.t + 1
    m = (1 - state.beta1) * grads + state.beta1 * state.m       # Optax's update_moment order
    v = (1 - state.beta2) * (grads * grads) + state.beta2 * state.v
    u = (m / bias_correction(state.beta1, t)) / (sqrt(v / bias_correction(state.beta2, t) + state.eps_root)
                                                  + state.epsilon)
    return m, v, t, u + state.weight_decay * params


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    m, v, t, u = direction(state, params, grads)
    return replace(state, m=m, v=v, t=t), trust_step(state, params, u)


def trust_step(state: State, params: Any, u: Any) -> Any:
    """p + (−lr)·(r·u), r = ‖p‖/‖u‖ the trust ratio (1 where a norm is 0)."""
    return params + (u * trust_ratio(params, u, 1, 0)) * -state.lr
