"""Update pieces shared by several optimizers, written once (TorchLean's
``updateMomentumBuf``, Optax's small transforms).  Pure: every function returns new values.

Each is written in torch.optim's order of operations, so that the NumPy results round as
torch's single-tensor path does.
"""
from __future__ import annotations

from typing import Any

from optim.context import context_of


def maximized(grads: Any, maximize: bool) -> Any:
    """torch's ``maximize``: ascend by descending on −g."""
    return -grads if maximize else grads


def l2_penalty(grads: Any, params: Any, weight_decay: Any) -> Any:
    """g + λ·p: the gradient of the loss plus λ/2·‖p‖² (``grad.add(param, alpha=λ)``)."""
    return grads + weight_decay * params if weight_decay != 0 else grads


def decoupled_weight_decay(params: Any, lr: Any, weight_decay: Any) -> Any:
    """p·(1 − lr·λ): decay applied to the parameters, not the gradient (Loshchilov & Hutter)."""
    return params * (1 - lr * weight_decay) if weight_decay != 0 else params


def weight_decay(params: Any, grads: Any, lr: Any, weight_decay: Any, decoupled: bool) -> tuple[Any, Any]:
    """(params, grads) after torch's weight decay: decoupled on p, or L2 on g."""
    if decoupled:
        return decoupled_weight_decay(params, lr, weight_decay), grads
    return params, l2_penalty(grads, params, weight_decay)


def gradient_preamble(state: Any, params: Any, grads: Any) -> tuple[Any, Any]:
    """(params, grads) after the first lines of torch's updates, in torch's order: g ← −g if
    ``state.maximize``; then weight decay λ = ``state.weight_decay``: p ← p·(1 − lr·λ) if
    ``state.decoupled_weight_decay``, else g ← g + λ·p (a state without that option: L2)."""
    decoupled = getattr(state, "decoupled_weight_decay", False)
    return weight_decay(params, maximized(grads, state.maximize), state.lr, state.weight_decay, decoupled)


def lerp(start: Any, end: Any, weight: Any) -> Any:
    """start + w·(end − start), torch's ``lerp_``: the exponential moving average
    (1 − w)·start + w·end, in torch's rounding order."""
    return start + weight * (end - start)


def lerp_as_torch(start: Any, end: Any, weight: Any) -> Any:
    """torch's ``lerp`` as its CPU kernel rounds it: start + w·(end − start) for |w| < ½, else
    end − (end − start)·(1 − w) (the same real number; Adafactor's and Muon's weights reach ½)."""
    ctx = context_of(end)
    return ctx.select(ctx.abs(weight) < 0.5, lambda: start + weight * (end - start),
                      lambda: end - (end - start) * (1 - weight))


def ema_of_square(average: Any, x: Any, decay: Any) -> Any:
    """decay·average + (1 − decay)·x² (torch's ``mul_(decay).addcmul_(x, x, value=1 - decay)``)."""
    return average * decay + (1 - decay) * x * x


def norm(x: Any) -> Any:
    """‖x‖₂ over every entry of the tensor: a reduction (``ctx.total``; the prover has it on
    explicit shapes only).  LARS's and LAMB's trust ratio, each gradient's norm in clipping."""
    ctx = context_of(x)
    return ctx.sqrt(ctx.total(x * x))


def bias_correction(beta: Any, step: Any) -> Any:
    """1 − βᵗ: divides an EMA started at zero to make it unbiased."""
    return 1 - beta**step


# -------------------------------------------------------------------- schedule-free averaging
# Defazio et al. 2024, "The Road Less Scheduled"; facebookresearch/schedule_free 1.4.1, whose
# order of operations these follow.  The params the optimizer holds during training are y, an
# interpolation between the base sequence z and the average x:
#     y = (1 − β)·z + β·x,   z ← z − γ·g(y),   x ← (1 − c)·x + c·z
# kept as y and z only (x is recovered from them, ``averaged_params``).

def warmup_lr(lr: Any, k: Any, warmup_steps: Any) -> Any:
    """γ_k: lr · (k + 1)/warmup_steps during the warmup, then lr."""
    return lr * ((k + 1) / warmup_steps) if k < warmup_steps else lr * 1.0


def average_weight(k: Any, lr_max: Any, r: Any, weight_lr_power: Any) -> Any:
    """The weight of step k in the average: (k + 1)^r · lr_max^weight_lr_power."""
    return ((k + 1) ** r) * (lr_max ** weight_lr_power)


def average_coefficient(weight: Any, weight_sum: Any) -> Any:
    """c_{k+1} = weight / weight_sum (0 while every weight so far is 0, as schedule_free's
    ZeroDivisionError branch)."""
    return weight / weight_sum if weight_sum != 0 else 0


def step_coefficient(lr: Any, beta: Any, c: Any) -> Any:
    """γ·(β·(1 − c) − 1): the coefficient of g in y's step (≤ 0), a Python scalar."""
    return lr * (beta * (1 - c) - 1)


def schedule_free_step(y: Any, z: Any, g: Any, lr: Any, beta: Any, c: Any) -> tuple[Any, Any]:
    """(y, z) after one step on the gradient g taken at y, in schedule_free's order:
    y ← lerp(y, z, c);  y ← y + γ·(β·(1 − c) − 1)·g;  z ← z − γ·g."""
    y = lerp(y, z, c)
    y = y + step_coefficient(lr, beta, c) * g
    return y, z - lr * g


def averaged_params(y: Any, z: Any, beta: Any) -> Any:
    """x, the average the optimizer evaluates (``optimizer.eval()``): lerp(y, z, 1 − 1/β)."""
    return lerp(y, z, 1 - 1 / beta)


def interpolated_params(x: Any, z: Any, beta: Any) -> Any:
    """y, where the gradient is taken (``optimizer.train()``): lerp(x, z, 1 − β)."""
    return lerp(x, z, 1 - beta)
