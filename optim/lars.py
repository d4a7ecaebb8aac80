"""LARS, layer-wise adaptive rate scaling (You, Gitman & Ginsburg 2017, "Large Batch Training of
Convolutional Networks"), as Optax's ``optax.lars`` defines it (chain of add_decayed_weights,
scale_by_trust_ratio, scale_by_learning_rate, trace), in that order of operations:

    u ← g + λ·p
    r ← η·‖p‖ / (‖u‖ + ε), or 1 where ‖p‖ = 0 or ‖u‖ = 0        (the trust ratio, per tensor)
    u ← −lr · (r·u)
    b ← u + μ·b;   p ← p + (u + μ·b if nesterov else b)

Norms are Euclidean over the whole tensor (one "layer" = one param tensor): a reduction, so the
prover states LARS's theorems on explicit shapes.  Optax's masks (which tensors get decay or the
trust ratio) are param groups here: a group with weight_decay = 0 or trust_coefficient … as its
own settings.  Defaults are Optax's (weight_decay 0, trust_coefficient 0.001, eps 0, momentum 0.9,
nesterov False) with lr 1.0 (Optax has none).  State: ``lr``, ``weight_decay``,
``trust_coefficient``, ``epsilon``, ``momentum``, ``nesterov``, ``b`` (Optax's trace, of
lr-scaled steps).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import norm

trust_coefficient_check = check._check(lambda x: 0.0 < x, "Invalid trust_coefficient value: {}", "trust_coefficient")


@fields.state
class State:
    lr: Any = fields.lr(1.0)
    weight_decay: Any = fields.weight_decay()
    trust_coefficient: Any = fields.hyper(0.001, check=trust_coefficient_check, domain="positive")
    epsilon: Any = fields.hyper(0.0, torch="eps", check=check.epsilon, domain="nonnegative")
    momentum: Any = fields.momentum(0.9)
    nesterov: bool = fields.flag()
    b: Any = fields.buffer(torch="trace")


init = fields.init_function(State)
REDUCES = True   # the trust ratio's norms: the NumPy classes run the functional update


def trust_ratio(params: Any, update: Any, coefficient: Any, epsilon: Any) -> Any:
    """η·‖p‖ / (‖u‖ + ε), or 1 where either norm is 0 (Optax's ``scale_by_trust_ratio``, its
    ``safe_norm`` with min_norm 0)."""
    param_norm, update_norm = norm(params), norm(update)
    if param_norm == 0 or update_norm == 0:
        return 1
    return coefficient * param_norm / (update_norm + epsilon)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    u = grads + state.weight_decay * params
    u = u * trust_ratio(params, u, state.trust_coefficient, state.epsilon)
    u = u * -state.lr
    b = u + state.momentum * state.b
    return replace(state, b=b), params + (u + state.momentum * b if state.nesterov else b)
