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

import numpy as np

from optim.context import context_of


def is_number(x: Any) -> bool:
    kind = type(x)
    if kind is float or kind is int:   # the usual case, without the ABC check (every step asks)
        return True
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _plain_float(x: Any) -> Any:
    # A NumPy scalar (np.float64) is a "strong" type under NEP 50 and would upcast a
    # float32 array; a Python float takes the array's dtype.  Exact numbers of other
    # libraries (SymPy's Rational) are left exact.
    if type(x) is float:
        return x
    if is_number(x) and type(x).__module__.split(".")[0] in ("builtins", "numpy"):
        return float(x)
    return x


def _not_a_real_number(x: Any) -> str | None:
    """Why ``x`` cannot be a real hyperparameter, or None.  Only what is certainly not a real
    number is refused here: a symbolic value of the prover (a SymPy expression) passes."""
    if type(x) is float or type(x) is int:
        return None
    if isinstance(x, bool) or isinstance(x, np.bool_):
        return "a bool"
    if x is None:
        return "None"
    if isinstance(x, (str, bytes, list, tuple, dict, set, frozenset)):
        return f"a {type(x).__name__}"
    if isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real):
        return f"a complex number ({type(x).__name__})"
    if isinstance(x, np.ndarray):
        if x.ndim != 0:
            return f"an array of shape {x.shape}"
        if x.dtype.kind not in "fiu":
            return f"a 0-d array of dtype {x.dtype}"
    return None


def real(x: Any, name: str, label: str | None = None) -> Any:
    """``x`` as a real hyperparameter: a 0-d NumPy array is its value (torch accepts a 0-d
    tensor); a string, None, list, complex or bool is refused with a TypeError."""
    reason = _not_a_real_number(x)
    if reason is not None:
        raise TypeError(f"{label or 'Invalid ' + name + ' value'}: {x!r} ({name} must be a real number, "
                        f"got {reason})")
    if isinstance(x, np.ndarray):
        return x.item()
    return x


def _check(condition: Callable[[Any], bool], message: str, name: str) -> Callable[[Any], Any]:
    label = message.replace(": {}", "")

    def check(value: Any) -> Any:
        value = real(value, name, label)
        if is_number(value) and not condition(value):
            raise ValueError(message.format(value))
        return _plain_float(value)

    return check


# torch.optim's conditions, written as torch writes them (``not 0.0 <= x`` also rejects NaN).
# A value that is not a real number at all (a string, None, a list, a complex, a bool) is a
# TypeError, as torch's comparison raises one, but with the hyperparameter's name.
learning_rate = _check(lambda x: 0.0 <= x, "Invalid learning rate: {}", "lr")
epsilon = _check(lambda x: 0.0 <= x, "Invalid epsilon value: {}", "eps")
weight_decay = _check(lambda x: 0.0 <= x, "Invalid weight_decay value: {}", "weight_decay")
momentum = _check(lambda x: 0.0 <= x, "Invalid momentum value: {}", "momentum")
rho = _check(lambda x: 0.0 <= x <= 1.0, "Invalid rho value: {}", "rho")
lr_decay = _check(lambda x: 0.0 <= x, "Invalid lr_decay value: {}", "lr_decay")
initial_accumulator_value = _check(lambda x: 0.0 <= x, "Invalid initial_accumulator_value value: {}",
                                   "initial_accumulator_value")
alpha = _check(lambda x: 0.0 <= x, "Invalid alpha value: {}", "alpha")
momentum_decay = _check(lambda x: 0.0 <= x, "Invalid momentum_decay value: {}", "momentum_decay")


def number(value: Any) -> Any:
    """A real hyperparameter with no condition in torch.optim; normalised to a float."""
    return _plain_float(real(value, "hyperparameter", "Invalid hyperparameter value"))


def flag(value: Any) -> bool:
    """A boolean option (nesterov, amsgrad, …): chooses the code path, so it must be a bool."""
    if isinstance(value, np.bool_):
        return bool(value)
    if not isinstance(value, bool):
        raise TypeError(f"expected a bool option, got {value!r}")
    return value


def beta(index: int) -> Callable[[Any], Any]:
    return _check(lambda x: 0.0 <= x < 1.0, f"Invalid beta parameter at index {index}: {{}}", f"betas[{index}]")


def step_count(value: Any) -> Any:
    """The step count, a natural number, kept as a Python int: a NumPy scalar (a state dict
    converted with ``.numpy()`` holds np.float32 steps) would make β ** t a float32 power and
    silently change the bias correction; torch reads its step tensor with ``.item()``, and a
    Python float or int power of an integral t is the same C ``pow``."""
    value = real(value, "step", "Invalid step count")
    if is_number(value):
        if not (value >= 0 and int(value) == value):
            raise ValueError(f"Invalid step count: {value} (a natural number is required)")
        return int(value)
    return value


def checked(values: dict, checks: dict) -> dict:
    """``values`` after each named check, in order; a TypeError names the field when the check's
    own message does not."""
    out = dict(values)
    for name, check in checks.items():
        try:
            out[name] = check(out[name])
        except TypeError as error:
            if name in str(error):
                raise
            raise TypeError(f"{name}: {error}") from None
    return out


def validate_hyperparameters(state: Any, **checks: Callable[[Any], Any]) -> None:
    """Check and normalise the named fields of a frozen dataclass, in place (``__post_init__``)."""
    names = {f.name for f in fields(state)}
    assert set(checks) <= names, set(checks) - names
    for name, value in checked({n: getattr(state, n) for n in checks}, checks).items():
        object.__setattr__(state, name, value)


def check_layout(params: Any, grads: Any, shapes: dict | None = None, **buffers: Any) -> None:
    """Params, grads and every state buffer share one backend, shape and dtype; ``shapes``: the
    shape of each buffer that is not shaped like the params."""
    context = context_of(params)
    shapes = shapes or {}
    context.check_tensor(params, "params")
    for role, tensor in {"grads": grads, **buffers}.items():
        if context_of(tensor) is not context:
            raise TypeError(
                f"{role} is a {type(tensor).__name__} but params is a {type(params).__name__}"
            )
        context.check_tensor(tensor, role)
        if role in shapes:
            if tuple(context.shape(tensor)) != shapes[role]:
                raise ValueError(f"{role} has shape {context.shape(tensor)} but a param of shape "
                                 f"{context.shape(params)} needs {shapes[role]}")
        elif context.shape(tensor) != context.shape(params):
            raise ValueError(
                f"{role} has shape {context.shape(tensor)} but params has shape "
                f"{context.shape(params)}"
            )
        if context.dtype(tensor) != context.dtype(params):
            raise TypeError(
                f"{role} has dtype {context.dtype(tensor)} but params has dtype "
                f"{context.dtype(params)}"
            )
