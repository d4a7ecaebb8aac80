"""Validation shared by every optimizer: hyperparameters (torch.optim's conditions and
wording) and the layout of params, grads and state buffers.

Both run before anything is computed, so a bad call never leaves a half-updated result.
Symbolic hyperparameters (SymPy symbols) are not numbers and are not checked here: the
prover states their domains instead.
"""
from __future__ import annotations

import numbers
from dataclasses import fields
from typing import Any, Callable

from optim.context import context_of


def is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _plain_float(x: Any) -> Any:
    # A NumPy scalar (np.float64) is a "strong" type under NEP 50 and would upcast a
    # float32 array; a Python float takes the array's dtype.  Exact numbers of other
    # libraries (SymPy's Rational) are left exact.
    if is_number(x) and type(x).__module__.split(".")[0] in ("builtins", "numpy"):
        return float(x)
    return x


def _check(condition: Callable[[Any], bool], message: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if is_number(value) and not condition(value):
            raise ValueError(message.format(value))
        return _plain_float(value)

    return check


# torch.optim's conditions, written as torch writes them (``not 0.0 <= x`` also rejects NaN).
learning_rate = _check(lambda x: 0.0 <= x, "Invalid learning rate: {}")
epsilon = _check(lambda x: 0.0 <= x, "Invalid epsilon value: {}")
weight_decay = _check(lambda x: 0.0 <= x, "Invalid weight_decay value: {}")
momentum = _check(lambda x: 0.0 <= x, "Invalid momentum value: {}")
rho = _check(lambda x: 0.0 <= x <= 1.0, "Invalid rho value: {}")
lr_decay = _check(lambda x: 0.0 <= x, "Invalid lr_decay value: {}")
initial_accumulator_value = _check(lambda x: 0.0 <= x, "Invalid initial_accumulator_value value: {}")
alpha = _check(lambda x: 0.0 <= x, "Invalid alpha value: {}")
momentum_decay = _check(lambda x: 0.0 <= x, "Invalid momentum_decay value: {}")
number = _check(lambda x: True, "")  # no condition in torch.optim; normalised to a float


def flag(value: Any) -> bool:
    """A boolean option (nesterov, amsgrad, …): chooses the code path, so it must be a bool."""
    if not isinstance(value, bool):
        raise TypeError(f"expected a bool option, got {value!r}")
    return value


def beta(index: int) -> Callable[[Any], Any]:
    return _check(lambda x: 0.0 <= x < 1.0, f"Invalid beta parameter at index {index}: {{}}")


def step_count(value: Any) -> Any:
    if is_number(value) and not (value >= 0 and int(value) == value):
        raise ValueError(f"Invalid step count: {value} (a natural number is required)")
    return value


def validate_hyperparameters(state: Any, **checks: Callable[[Any], Any]) -> None:
    """Check and normalise the named fields of a frozen dataclass, in place (``__post_init__``)."""
    names = {f.name for f in fields(state)}
    for name, check in checks.items():
        assert name in names, name
        object.__setattr__(state, name, check(getattr(state, name)))


def check_layout(params: Any, grads: Any, **buffers: Any) -> None:
    """Params, grads and every state buffer share one backend, shape and dtype."""
    context = context_of(params)
    context.check_tensor(params, "params")
    for role, tensor in {"grads": grads, **buffers}.items():
        if context_of(tensor) is not context:
            raise TypeError(
                f"{role} is a {type(tensor).__name__} but params is a {type(params).__name__}"
            )
        context.check_tensor(tensor, role)
        if context.shape(tensor) != context.shape(params):
            raise ValueError(
                f"{role} has shape {context.shape(tensor)} but params has shape "
                f"{context.shape(params)}"
            )
        if context.dtype(tensor) != context.dtype(params):
            raise TypeError(
                f"{role} has dtype {context.dtype(tensor)} but params has dtype "
                f"{context.dtype(params)}"
            )
