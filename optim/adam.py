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

State: the seed's ``lr``, ``beta1``, ``beta2``, ``epsilon``, ``m``, ``v``, ``t``; then torch's
``weight_decay``, ``amsgrad``, ``maximize``, ``decoupled_weight_decay`` and ``v_max``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim._shared import bias_correction, ema_of_square, lerp, maximized, weight_decay
from optim.context import context_of, init_rule, update_rule

# torch.optim.Adam's checks, in torch's order (shared with AdamW and the Adam family).
CHECKS = dict(
    lr=check.learning_rate,
    epsilon=check.epsilon,
    beta1=check.beta(0),
    beta2=check.beta(1),
    weight_decay=check.weight_decay,
    t=check.step_count,
)
FLAGS = dict(amsgrad=check.flag, maximize=check.flag)


@dataclass(frozen=True)
class State:
    lr: Any
    beta1: Any
    beta2: Any
    epsilon: Any
    m: Any
    v: Any
    t: Any
    weight_decay: Any = 0.0
    amsgrad: bool = False
    maximize: bool = False
    decoupled_weight_decay: bool = False
    v_max: Any = None

    def __post_init__(self) -> None:
        check.validate_hyperparameters(self, **CHECKS, **FLAGS, decoupled_weight_decay=check.flag)


@init_rule
def init(params: Any, lr: Any = 1e-3, beta1: Any = 0.9, beta2: Any = 0.999, epsilon: Any = 1e-8,
         weight_decay: Any = 0.0, amsgrad: bool = False, maximize: bool = False,
         decoupled_weight_decay: bool = False) -> State:
    zeros = context_of(params).zeros_like
    return State(lr, beta1, beta2, epsilon, zeros(params), zeros(params), 0, weight_decay, amsgrad,
                 maximize, decoupled_weight_decay, zeros(params) if amsgrad else None)


def adaptive_step(params: Any, m: Any, v: Any, t: Any, state: Any) -> Any:
    """p − lr · m̂ / (√v̂ + ε) for moments already updated to step t (torch's order)."""
    sqrt = context_of(params).sqrt
    step_size = state.lr / bias_correction(state.beta1, t)
    denom = sqrt(v) / sqrt(bias_correction(state.beta2, t)) + state.epsilon
    return params - step_size * (m / denom)


def moment_buffers(state: Any) -> dict:
    """The tensors of an Adam-like state, for the layout check (v_max only with amsgrad)."""
    buffers = {"m": state.m, "v": state.v}
    if state.amsgrad:
        if state.v_max is None:
            raise ValueError("amsgrad needs the v_max buffer: build the state with init(..., amsgrad=True)")
        buffers["v_max"] = state.v_max
    return buffers


@update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, **moment_buffers(state))
    t = state.t + 1
    params, g = weight_decay(params, maximized(grads, state.maximize), state.lr, state.weight_decay,
                             state.decoupled_weight_decay)
    m = lerp(state.m, g, 1 - state.beta1)
    v = ema_of_square(state.v, g, state.beta2)
    v_max = context_of(v).maximum(state.v_max, v) if state.amsgrad else state.v_max
    new_state = replace(state, m=m, v=v, t=t, v_max=v_max)
    return new_state, adaptive_step(params, m, v_max if state.amsgrad else v, t, state)
