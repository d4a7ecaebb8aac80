"""Muon, MomentUm Orthogonalized by Newton–Schulz (Jordan et al. 2024; "Muon is Scalable for LLM
Training", Liu et al. 2025, for ``match_rms_adamw``) as torch.optim.Muon 2.13 defines it, for
2-d params, in its order of operations:

    B ← lerp(B, g, 1 − μ);   D ← lerp(g, B, μ) if nesterov else B
    O ← NS(D):  X ← D (transposed if it has more rows than columns) / max(‖D‖_F, ε);
                k times:  A ← X·Xᵀ;  X ← a·X + (b·A + c·A·A)·X     (then transposed back)
    p ← p · (1 − lr·λ);   p ← p − lr·r·O,   r = √max(1, rows/cols)  (``original``)
                                             or 0.2·√max(rows, cols)  (``match_rms_adamw``)

One Newton–Schulz step maps X = U·diag(σ)·Vᵀ to U·diag(q(σ))·Vᵀ, q(σ) = a·σ + b·σ³ + c·σ⁵
(``ns_polynomial``): the iteration pushes every singular value towards 1.

**One difference from torch, on purpose:** torch runs the iteration in bfloat16 (its
``grad.bfloat16()``); this one runs it in the param's dtype.  The conformance tests compare with
torch's own code at the param's dtype (its bfloat16 cast made the identity), and with stock torch
at bfloat16's precision.

State: ``lr``, ``weight_decay``, ``momentum``, ``nesterov``, ``a``, ``b``, ``c`` (torch's
``ns_coefficients``), ``epsilon``, ``ns_steps``, ``adjust_lr_fn``, ``buf`` (momentum_buffer).
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import lerp_as_torch, norm
from optim.context import context_of

REDUCES = True    # matrix products and a norm: the NumPy classes run the functional update
RANKS = (2,)      # Muon takes matrices only (torch's constructor refuses any other param)
WEIGHT_DECAY = "decoupled"
ADJUSTMENTS = (None, "original", "match_rms_adamw")


def _ns_steps(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"ns_steps must be an int (the number of Newton-Schulz steps), got {value!r}")
    if value >= 100:   # torch raises this at the step; here before anything changes
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if value < 0:
        raise ValueError(f"ns_steps must be >= 0, got {value}")
    return value


def _adjust_lr_fn(value: Any) -> Any:
    if not any(value is a or (isinstance(value, str) and value == a) for a in ADJUSTMENTS):
        raise ValueError(f"Adjust learning rate function {value} is not supported")
    return value


def check_param(shape: tuple) -> None:
    """torch's constructor check: Muon steps 2-d params only."""
    if len(shape) != 2:
        raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: {shape}")


@fields.state(checked_first=("lr", "momentum", "weight_decay", "adjust_lr_fn"))   # torch.optim.Muon's order
class State:
    lr: Any = fields.hyper(1e-3, check=check._check(lambda x: 0.0 <= x, "Learning rate should be >= 0 but is: {}",
                                                    "lr"), domain="nonnegative")
    weight_decay: Any = fields.hyper(0.1, domain="nonnegative", check=check._check(
        lambda x: 0.0 <= x, "weight decay should be >= 0 but is: {}", "weight_decay"))
    momentum: Any = fields.hyper(0.95, domain="nonnegative", check=check._check(
        lambda x: 0.0 <= x, "momentum should be >= 0 but is: {}", "momentum"))
    nesterov: bool = fields.flag(True)
    a: Any = fields.hyper(3.4445, torch=("ns_coefficients", 0))
    b: Any = fields.hyper(-4.775, torch=("ns_coefficients", 1))
    c: Any = fields.hyper(2.0315, torch=("ns_coefficients", 2))
    epsilon: Any = fields.hyper(1e-7, torch="eps", domain="positive")
    ns_steps: int = fields.option(5, check=_ns_steps)
    adjust_lr_fn: Any = fields.option(None, check=_adjust_lr_fn)
    buf: Any = fields.buffer(torch="momentum_buffer")


init = fields.init_function(State)


def ns_polynomial(sigma: Any, a: Any, b: Any, c: Any) -> Any:
    """q(σ) = a·σ + b·σ³ + c·σ⁵: what one Newton–Schulz step does to a singular value σ (the
    iteration's own arithmetic, ``newton_schulz_step``, on a 1×1 matrix)."""
    return newton_schulz_step(sigma, a, b, c)


def newton_schulz_step(x: Any, a: Any, b: Any, c: Any) -> Any:
    """X ← a·X + (b·A + c·A·A)·X with A = X·Xᵀ, as torch's two ``addmm`` (on a scalar: σ)."""
    ctx = context_of(x)
    if not ctx.shape(x):     # a scalar: the 1×1 case, σ·σ for X·Xᵀ
        gram = x * x
        return a * x + (b * gram + c * (gram * gram)) * x
    gram = ctx.matmul(x, ctx.transpose(x))
    return a * x + ctx.matmul(b * gram + c * ctx.matmul(gram, gram), x)


def momentum_direction(state: State, grads: Any) -> tuple:
    """(B′, D): the new momentum buffer and the direction the iteration orthogonalises."""
    buf = lerp_as_torch(state.buf, grads, 1 - state.momentum)
    return buf, lerp_as_torch(grads, buf, state.momentum) if state.nesterov else buf


def normalised(x: Any, epsilon: Any) -> Any:
    """X/max(‖X‖_F, ε): the iteration's start, every singular value in [0, 1]."""
    return x / context_of(x).maximum(norm(x), epsilon)


def orthogonalize(d: Any, a: Any, b: Any, c: Any, steps: int, epsilon: Any) -> Any:
    """torch's ``_zeropower_via_newtonschulz`` at the param's dtype: D/max(‖D‖_F, ε), then
    ``steps`` Newton–Schulz steps, on the wide orientation."""
    ctx = context_of(d)
    rows, columns = ctx.shape(d)
    x = normalised(ctx.transpose(d) if rows > columns else d, epsilon)
    for _ in range(steps):
        x = newton_schulz_step(x, a, b, c)
    return ctx.transpose(x) if rows > columns else x


def lr_ratio(adjust_lr_fn: Any, shape: tuple, sqrt: Any) -> Any:
    """torch's ``_adjust_lr`` factor: √max(1, rows/cols) (``original``, the default) or
    0.2·√max(rows, cols) (``match_rms_adamw``); the ratio exact, the root the backend's."""
    rows, columns = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return sqrt(max(Fraction(1), Fraction(rows, columns)))
    return 0.2 * sqrt(max(rows, columns))


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    ctx = context_of(params)
    shape = tuple(ctx.shape(params))
    check_param(shape)
    buf, direction = momentum_direction(state, grads)
    o = orthogonalize(direction, state.a, state.b, state.c, state.ns_steps, state.epsilon)
    return replace(state, buf=buf), decayed_step(state, params, o, lr_ratio(state.adjust_lr_fn, shape, ctx.sqrt))


def decayed_step(state: State, params: Any, o: Any, ratio: Any) -> Any:
    """p·(1 − lr·λ) − lr·r·O, r the shape's ``lr_ratio`` (a Python float)."""
    params = params * (1 - state.lr * state.weight_decay)    # torch decays even at λ = 0 (· 1)
    return params + o * -(state.lr * ratio)
