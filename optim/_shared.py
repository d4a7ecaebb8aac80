"""Update pieces shared by several optimizers, written once (TorchLean's
``updateMomentumBuf``, Optax's small transforms).  Pure: every function returns new values.
"""
from __future__ import annotations

from typing import Any


def ema(average: Any, x: Any, decay: Any) -> Any:
    """Exponential moving average: decay·average + (1 − decay)·x."""
    return average * decay + (1 - decay) * x


def ema_of_square(average: Any, x: Any, decay: Any) -> Any:
    """decay·average + (1 − decay)·x² (torch's ``mul_(decay).addcmul_(x, x, value=1 - decay)``)."""
    return average * decay + (1 - decay) * x * x


def bias_correction(beta: Any, step: Any) -> Any:
    """1 − βᵗ: divides an EMA started at zero to make it unbiased."""
    return 1 - beta**step


def decoupled_weight_decay(params: Any, lr: Any, weight_decay: Any) -> Any:
    """p·(1 − lr·λ): AdamW's decay, applied to the parameters, not the gradient."""
    return params * (1 - lr * weight_decay)
