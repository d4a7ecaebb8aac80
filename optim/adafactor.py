"""Adafactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory
Cost") as torch.optim.Adafactor 2.13 defines it, in its order of operations:

    g ← −g if maximize;   t ← t + 1;   w ← t^τ   (τ = beta2_decay ≤ 0: w = 1 − β̂2_t)
    ρ ← min(lr, 1/√t);    α ← max(ε2, ‖p‖/√numel) · ρ        (‖p‖ before the decay)
    p ← p · (1 − lr·λ)                                        (decoupled weight decay)
    matrix (and every tensor of ≥ 2 dims, over its last two):
        R ← lerp(R, mean_cols(g²), w);  C ← lerp(C, mean_rows(g²), w)   (the row, column factors)
        V̂ ← R·C / max(mean(R), ε1)                                      (a rank-1 estimate of g²)
    vector, scalar:  V̂ ← lerp(V, g², w)
    u ← g / √max(V̂, ε1²);   p ← p − α / max(1, RMS(u)/d) · u

``ε1`` None is torch's default: the machine epsilon of the param's dtype (the reals have none:
a theorem gives ε1).  The factors R (shape ``(…, m, 1)``) and C (``(…, 1, n)``) are not shaped
like the param: their declarations say their shapes, and a vector's state has V instead.  Norms
and means are reductions, so the NumPy classes run the functional update (``REDUCES``).

State: ``lr``, ``beta2_decay``, ``epsilon1``, ``epsilon2``, ``d``, ``weight_decay``,
``maximize``, ``row_var``, ``col_var``, ``variance``, ``t``.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from optim import _checks as check
from optim import fields
from optim._shared import decoupled_weight_decay, lerp_as_torch, maximized, norm
from optim.context import context_of

REDUCES = True   # norms and means: the NumPy classes run the functional update
WEIGHT_DECAY = "decoupled"


def _epsilon1(value: Any) -> Any:
    """ε1: None (the dtype's machine epsilon) or ≥ 0, torch's message."""
    return None if value is None else _epsilon1_number(value)


_epsilon1_number = check._check(lambda x: 0.0 <= x, "epsilon1 should be >= 0 but is: {}", "eps[0]")


def row_shape(shape: tuple) -> tuple | None:
    """R's shape: the param's with its last axis 1; a vector or a scalar has no R."""
    return shape[:-1] + (1,) if len(shape) > 1 else None


def column_shape(shape: tuple) -> tuple | None:
    """C's shape: the param's with its second-to-last axis 1; a vector or a scalar has no C."""
    return shape[:-2] + (1,) + shape[-1:] if len(shape) > 1 else None


def vector_shape(shape: tuple) -> tuple | None:
    """V's shape: the param's, for a vector or a scalar; a matrix has R and C instead."""
    return shape if len(shape) <= 1 else None


@fields.state
class State:
    lr: Any = fields.hyper(1e-2, check=check._check(lambda x: 0.0 <= x, "Learning rate should be >= 0 but is: {}",
                                                    "lr"), domain="nonnegative")
    beta2_decay: Any = fields.hyper(-0.8, check=check._check(lambda x: 0.0 >= x,
                                                             "beta2_decay should be <= 0 but is: {}", "beta2_decay"),
                                    domain="nonpositive")
    epsilon1: Any = fields.hyper(None, torch=("eps", 0), check=_epsilon1, domain="positive")
    epsilon2: Any = fields.hyper(1e-3, torch=("eps", 1), domain="nonnegative",
                                 check=check._check(lambda x: 0.0 <= x, "epsilon2 should be >= 0 but is: {}", "eps[1]"))
    d: Any = fields.hyper(1.0, check=check._check(lambda x: 1.0 <= x, "Clipping threshold d should be >= 1 but is: {}",
                                                  "d"), domain="at_least_one")
    weight_decay: Any = fields.hyper(0.0, domain="nonnegative", check=check._check(
        lambda x: 0.0 <= x, "weight_decay should be >= 0 but is: {}", "weight_decay"))
    maximize: bool = fields.flag()
    row_var: Any = fields.buffer(torch="row_var", shape=row_shape, domain="nonnegative")
    col_var: Any = fields.buffer(torch="col_var", shape=column_shape, domain="nonnegative")
    variance: Any = fields.buffer(torch="variance", shape=vector_shape, domain="nonnegative")
    t: Any = fields.step()


init = fields.init_function(State)


def mean_square(g: Any, axis: int) -> Any:
    """The mean of g² along ``axis`` (kept), as torch computes it: ‖g‖ along the axis, squared,
    over the axis's length."""
    ctx = context_of(g)
    return ctx.square(ctx.sqrt(ctx.sum(g * g, axis))) / ctx.shape(g)[axis]


def factored_estimate(row_var: Any, col_var: Any, epsilon1: Any) -> Any:
    """V̂ = R·C / max(mean(R), ε1): the outer product of the row and column factors (torch's
    ``row_var @ col_var``, one product per entry) over the mean of R along the rows."""
    ctx = context_of(row_var)
    rows = ctx.shape(row_var)[-2]
    return (row_var * col_var) / ctx.maximum(ctx.sum(row_var, -2) / rows, epsilon1)


def step_weight(state: State) -> tuple:
    """(t, w): the step's number and the weight of g² in the second moments' lerp, w = t^τ
    (torch's one_minus_beta2_t)."""
    t = state.t + 1
    return t, t ** state.beta2_decay


@fields.update_rule(State)
def update(state: State, params: Any, grads: Any) -> tuple[State, Any]:
    ctx = context_of(params)
    shape = tuple(ctx.shape(params))
    g = maximized(grads, state.maximize)
    epsilon1 = ctx.machine_epsilon(params) if state.epsilon1 is None else state.epsilon1
    t, weight = step_weight(state)
    rho = ctx.minimum(state.lr, 1 / t ** 0.5)
    size = math.prod(shape)
    if isinstance(size, int) and size == 0 and len(shape) > 1:
        # a row or column mean over 0 entries is 0/0: the factors would silently hold NaN (torch
        # raises ZeroDivisionError at RMS(p), after the params before it moved).  An empty vector
        # has no factor and steps to nothing.
        raise ValueError(f"Adafactor cannot step an empty matrix (shape {shape}): its factors would be "
                         "means over 0 entries")
    alpha = ctx.scalar_max(state.epsilon2, norm(params) / ctx.sqrt(size)) * rho   # torch: max(ε2, x.item())
    params = decoupled_weight_decay(params, state.lr, state.weight_decay)
    if len(shape) > 1:
        row_var = lerp_as_torch(state.row_var, mean_square(g, -1), weight)
        col_var = lerp_as_torch(state.col_var, mean_square(g, -2), weight)
        new_state = replace(state, row_var=row_var, col_var=col_var, t=t)
        estimate = factored_estimate(row_var, col_var, epsilon1)
    else:
        variance = lerp_as_torch(state.variance, g * g, weight)
        new_state = replace(state, variance=variance, t=t)
        estimate = variance
    u = (1 / ctx.sqrt(ctx.maximum(estimate, epsilon1 * epsilon1))) * g    # torch's rsqrt, then · g
    denominator = ctx.scalar_max(1.0, norm(u) / (ctx.sqrt(size) * state.d))
    return new_state, params + u * (-alpha / denominator)
