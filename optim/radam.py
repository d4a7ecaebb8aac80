"""RAdam (Liu et al. 2020, On the Variance of the Adaptive Learning Rate; torch.optim.RAdam).

    t ← t + 1
    g ← −g if maximize;  weight decay λ: p ← p·(1 − lr·λ) if decoupled, else g ← g + λ·p
    m ← β1 · m + (1 − β1) · g;   v ← β2 · v + (1 − β2) · g²;   m̂ = m / (1 − β1ᵗ)
    ρ∞ = 2 / (1 − β2) − 1;   ρ_t = ρ∞ − 2t · β2ᵗ / (1 − β2ᵗ)
    ρ_t > 5 (rectified):  r = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
                          p ← p − m̂ · lr · √(1 − β2ᵗ) / (√v + ε) · r
    otherwise (SGD with momentum):  p ← p − m̂ · lr

State: ``lr``, ``beta1``, ``beta2``, ``epsilon``, ``weight_decay``, ``decoupled_weight_decay``,
``maximize``, ``m``, ``v``, ``t``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from optim import adam, fields
from optim._shared import bias_correction, ema_of_square, gradient_preamble, lerp
from optim.context import context_of

RECTIFICATION_THRESHOLD = 5  # torch: rectify once the variance is tractable (ρ_t > 5.0; an int keeps it exact)


@fields.state
class State(adam.Hyperparameters):
    decoupled_weight_decay: bool = fields.flag()
    maximize: bool = fields.flag()
    m: Any = fields.buffer(torch="exp_avg")
    v: Any = fields.buffer(torch="exp_avg_sq", domain="nonnegative")
    t: Any = fields.step()


init = fields.init_function(State)


def rho_inf(beta2: Any) -> Any:
    """ρ∞ = 2/(1 − β2) − 1: the maximum length of the approximated SMA."""
    return 2 / (1 - beta2) - 1


def rho(beta2: Any, t: Any) -> Any:
    """ρ_t = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ): the length of the SMA at step t (t ≥ 1)."""
    return rho_inf(beta2) - 2 * t * (beta2**t) / bias_correction(beta2, t)


def rectification_squared(beta2: Any, t: Any) -> Any:
    """r_t², the square of the variance rectification term (nonnegative when ρ_t > 4)."""
    rho_t, rho_max = rho(beta2, t), rho_inf(beta2)
    return (rho_t - 4) * (rho_t - 2) * rho_max / ((rho_max - 4) * (rho_max - 2) * rho_t)


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    ctx = context_of(params)
    t = state.t + 1
    params, g = gradient_preamble(state, params, grads)
    m = lerp(state.m, g, 1 - state.beta1)
    v = ema_of_square(state.v, g, state.beta2)
    m_hat = m / bias_correction(state.beta1, t)

    def rectified():
        adaptive_lr = ctx.sqrt(bias_correction(state.beta2, t)) / (ctx.sqrt(v) + state.epsilon)
        r = ctx.sqrt(rectification_squared(state.beta2, t))
        return params - m_hat * state.lr * adaptive_lr * r

    def unrectified():
        return params - m_hat * state.lr

    new_params = ctx.select(rho(state.beta2, t) > RECTIFICATION_THRESHOLD, rectified, unrectified)
    return replace(state, m=m, v=v, t=t), new_params
