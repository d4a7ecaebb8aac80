"""Gradient clipping (Optax's ``clip`` and ``clip_by_global_norm``; torch's
``torch.nn.utils.clip_grad_value_`` and ``clip_grad_norm_``), written once over the backend:
pure functions of a list of gradients that return new gradients, on NumPy arrays, torch tensors
(``optim.torch_backend`` registers their context) and the prover's symbolic tensors.

    clip_by_value:        g ← min(max(g, −c), c)                              (every entry)
    clip_by_global_norm:  N = ‖(‖g₁‖, …, ‖gₙ‖)‖,  s = min(max_norm / (N + 10⁻⁶), 1),  g ← s·g

In torch's order of operations: the norm of each gradient, then the norm of those norms, then
torch's ``clip_coef = max_norm / (total_norm + 1e-6)`` clamped at 1.  By value is elementwise;
by global norm is a reduction (``ctx.total``), which the prover has on explicit shapes only.
Use: ``grads, norm = clip_by_global_norm(grads, 1.0)`` before ``opt.step(grads)``.
"""
from __future__ import annotations

from typing import Any, Sequence

from optim import _checks
from optim._shared import norm
from optim.context import context_of

EPSILON = 1e-6   # torch's clip_grad_norm_: max_norm / (total_norm + 1e-6)


def _gradients(grads: Sequence[Any]) -> list:
    grads = list(grads)
    if not grads:
        raise ValueError("clipping needs at least one gradient")
    ctx = context_of(grads[0])
    for g in grads:
        if context_of(g) is not ctx:
            raise TypeError("clipping: every gradient must come from the same backend")
        ctx.check_tensor(g, "a gradient")
    return grads


def _bound(value: Any, name: str) -> Any:
    """A real bound ≥ 0 (checked before anything is computed; a symbolic one passes)."""
    value = _checks.real(value, name, f"Invalid {name}")
    if _checks.is_number(value) and not value >= 0:
        raise ValueError(f"Invalid {name}: {value} (must be ≥ 0)")
    return value


def clip_by_value(grads: Sequence[Any], clip_value: Any) -> list:
    """Every entry into [−clip_value, clip_value] (torch's ``clamp_(-c, c)``)."""
    grads = _gradients(grads)
    clip_value = _bound(clip_value, "clip_value")
    ctx = context_of(grads[0])
    return [ctx.minimum(ctx.maximum(g, -clip_value), clip_value) for g in grads]


def global_norm(grads: Sequence[Any]) -> Any:
    """‖(‖g₁‖₂, …, ‖gₙ‖₂)‖₂, the Euclidean norm of every entry of every gradient, as torch
    computes it (each gradient's norm, then the norm of the norms)."""
    grads = _gradients(grads)
    ctx = context_of(grads[0])
    norms = [norm(g) for g in grads]
    return ctx.sqrt(sum((n * n for n in norms[1:]), norms[0] * norms[0]))


def clip_by_global_norm(grads: Sequence[Any], max_norm: Any) -> tuple[list, Any]:
    """(the gradients scaled by min(max_norm / (N + 10⁻⁶), 1), N): their global norm brought
    down to at most max_norm, their direction kept."""
    grads = _gradients(grads)
    max_norm = _bound(max_norm, "max_norm")
    ctx = context_of(grads[0])
    norm = global_norm(grads)
    coefficient = max_norm / (norm + EPSILON)
    # torch's clamp(max=1.0) as a branch (the prover then reasons on each side); a NaN norm
    # takes the coefficient, as clamp keeps a NaN
    scale = ctx.select(coefficient >= 1, lambda: 1.0, lambda: coefficient)
    return [g * scale for g in grads], norm
