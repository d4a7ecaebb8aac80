"""Adam (TorchLean ``Optim.Adam``; Kingma & Ba 2015, Algorithm 1; torch.optim.Adam).

    t ← t + 1
    m ← β1 · m + (1 − β1) · g
    v ← β2 · v + (1 − β2) · g²
    p ← p − lr · m̂ / (√v̂ + ε),   m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)

ε is added after the square root, as torch.optim does.  The parameter step is computed in
torch's order, ``p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)``; the prover shows it
equals the textbook form above (``Optim.Adam.update_params_eq``).

State: ``lr``, ``beta1``, ``beta2``, ``epsilon``, ``m``, ``v`` (zero at ``init``), ``t`` (0).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from optim import _checks as check
from optim._shared import bias_correction, ema, ema_of_square
from optim.context import context_of


# torch.optim.Adam's checks, in torch's order (shared with AdamW).
CHECKS = dict(
    lr=check.learning_rate,
    epsilon=check.epsilon,
    beta1=check.beta(0),
    beta2=check.beta(1),
    t=check.step_count,
)


@dataclass(frozen=True)
class State:
    lr: Any
    beta1: Any
    beta2: Any
    epsilon: Any
    m: Any
    v: Any
    t: Any

    def __post_init__(self) -> None:
        check.validate_hyperparameters(self, **CHECKS)


def init(
    params: Any, lr: Any = 1e-3, beta1: Any = 0.9, beta2: Any = 0.999, epsilon: Any = 1e-8
) -> State:
    zeros = context_of(params).zeros_like
    return State(lr, beta1, beta2, epsilon, m=zeros(params), v=zeros(params), t=0)


def adaptive_step(params: Any, m: Any, v: Any, t: Any, state: Any) -> Any:
    """p − lr · m̂ / (√v̂ + ε) for moments already updated to step t (torch's order)."""
    sqrt = context_of(params).sqrt
    step_size = state.lr / bias_correction(state.beta1, t)
    denom = sqrt(v) / sqrt(bias_correction(state.beta2, t)) + state.epsilon
    return params - step_size * (m / denom)


def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    check.check_layout(params, grads, m=state.m, v=state.v)
    t = state.t + 1
    m = ema(state.m, grads, state.beta1)
    v = ema_of_square(state.v, grads, state.beta2)
    return replace(state, m=m, v=v, t=t), adaptive_step(params, m, v, t, state)
