"""Adam (TorchLean ``Optim.Adam``; Kingma & Ba 2015, Algorithm 1; torch.optim.Adam).

    t ← t + 1
    g ← −g if maximize;  weight decay λ: p ← p·(1 − lr·λ) if decoupled, else g ← g + λ·p
    m ← β1 · m + (1 − β1) · g
    v ← β2 · v + (1 − β2) · g²
    v_max ← max(v_max, v)                               (amsgrad only; torch's max_exp_avg_sq)
    p ← p − lr · m̂ / (√v̂ + ε),   m̂ = m / (1 − β1ᵗ),  v̂ = (v or v_max) / (1 − β2ᵗ)

ε is added after the square root, as torch.optim does.  m is updated as torch does it,
``m + (1 − β1)·(g − m)`` (``lerp_``), and the step in torch's order,
``p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)``; the prover shows both equal the
textbook forms above (``Optim.Adam.update_m_eq``, ``Optim.Adam.update_params_eq``).

State: the seed's ``lr``, ``beta1``, ``beta2``, ``epsilon``, ``m``, ``v``, ``t``, and torch's
``weight_decay``, ``amsgrad``, ``maximize``, ``decoupled_weight_decay`` and ``v_max``; each field
declared once (``optim.fields``): its default, torch's name, its check, its domain.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import bias_correction, ema_of_square, gradient_preamble, lerp
from optim.context import context_of


@fields.state(checked_first=("lr", "epsilon"))   # torch.optim.Adam checks ε before the betas
class Hyperparameters:
    """The hyperparameters of the Adam family (Adam, AdamW, Adamax, NAdam, RAdam), declared once;
    each family's State extends it (and may give another default: ``fields.lr(2e-3)``)."""

    lr: Any = fields.lr(1e-3)
    beta1: Any = fields.hyper(0.9, torch=("betas", 0), check=check.beta(0), domain="unit")
    beta2: Any = fields.hyper(0.999, torch=("betas", 1), check=check.beta(1), domain="unit")
    epsilon: Any = fields.epsilon(1e-8)
    weight_decay: Any = fields.weight_decay()


@fields.state
class State(Hyperparameters):
    m: Any = fields.buffer(torch="exp_avg")
    v: Any = fields.buffer(torch="exp_avg_sq", domain="nonnegative")
    t: Any = fields.step()
    amsgrad: bool = fields.flag()
    maximize: bool = fields.flag()
    decoupled_weight_decay: bool = fields.flag()
    v_max: Any = fields.buffer(torch="max_exp_avg_sq", when="amsgrad", domain="nonnegative")


init = fields.init_function(State)


def _adaptive_step(params: Any, m: Any, v: Any, t: Any, state: Any) -> Any:
    """p − lr · m̂ / (√v̂ + ε) for moments already updated to step t (torch's order)."""
    sqrt = context_of(params).sqrt
    step_size = state.lr / bias_correction(state.beta1, t)
    denom = sqrt(v) / sqrt(bias_correction(state.beta2, t)) + state.epsilon
    return params - step_size * (m / denom)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    t = state.t + 1
    params, g = gradient_preamble(state, params, grads)
    m = lerp(state.m, g, 1 - state.beta1)
    v = ema_of_square(state.v, g, state.beta2)
    v_max = context_of(v).maximum(state.v_max, v) if state.amsgrad else state.v_max
    new_state = replace(state, m=m, v=v, t=t, v_max=v_max)
    return new_state, _adaptive_step(params, m, v_max if state.amsgrad else v, t, state)
