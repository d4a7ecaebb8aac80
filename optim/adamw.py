"""AdamW (TorchLean ``Optim.AdamW``; Loshchilov & Hutter 2019; torch.optim.AdamW).

    p ← p − lr · λ · p        (decoupled weight decay, first, as torch.optim does)
    then one Adam step on the decayed parameters.

As in torch.optim 2.x, AdamW *is* Adam with ``decoupled_weight_decay=True``; the code says
exactly that.  State: Adam's seed fields with ``weight_decay`` (torch's default 1e-2), and
torch's ``amsgrad``, ``maximize``, ``v_max``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import adam, fields

WEIGHT_DECAY = "decoupled"   # λ decays p, not an L2 term of g (proofs.theorems.relations reads it)


@fields.state
class State(adam.Hyperparameters):
    weight_decay: Any = fields.weight_decay(1e-2)
    m: Any = fields.buffer(torch="exp_avg")
    v: Any = fields.buffer(torch="exp_avg_sq", domain="nonnegative")
    t: Any = fields.step()
    amsgrad: bool = fields.flag()
    maximize: bool = fields.flag()
    v_max: Any = fields.buffer(torch="max_exp_avg_sq", when="amsgrad", domain="nonnegative")


init = fields.init_function(State)


def as_adam(state: State) -> adam.State:
    """This state as Adam's, with the decay decoupled (the one AdamW → Adam conversion)."""
    return fields.convert(state, adam.State, decoupled_weight_decay=True)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    after, params = adam.update(as_adam(state), params, grads)
    return replace(state, m=after.m, v=after.v, t=after.t, v_max=after.v_max), params
