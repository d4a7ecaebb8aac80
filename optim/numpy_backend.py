"""The NumPy backend: executes the optimizers on float32 / float64 arrays.

Dtype is preserved: float32 in, float32 out.  Hyperparameters are Python floats, which
NumPy (NEP 50) treats as "weak" scalars that take the array's dtype, so no operation
silently upcasts.  Scalar-only arithmetic (bias corrections) stays in Python floats, that
is in double precision, as torch.optim computes it; every function here returns a Python
scalar for Python scalar inputs, never a (dtype-strong) NumPy scalar.
"""
from __future__ import annotations

import numpy as np

from optim.context import register_context

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _is_array(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


class NumPyContext:
    name = "numpy"

    def sqrt(self, x):
        # torch.optim takes scalar square roots as ``x ** 0.5`` in Python floats.
        return np.sqrt(x) if _is_array(x) else x**0.5

    def square(self, x):
        return x * x

    def abs(self, x):
        return np.abs(x) if _is_array(x) else abs(x)

    def sign(self, x):
        # torch.sign(nan) is 0 on the CPU (NumPy's is nan): Rprop then leaves a NaN-gradient
        # entry where it is, as torch does.
        if not _is_array(x):
            return float((x > 0) - (x < 0))
        signs = np.sign(x)
        return np.where(np.isnan(signs), signs.dtype.type(0), signs) if signs.dtype.kind == "f" else signs

    def maximum(self, x, y):
        return np.maximum(x, y) if _is_array(x) or _is_array(y) else max(x, y)

    def minimum(self, x, y):
        return np.minimum(x, y) if _is_array(x) or _is_array(y) else min(x, y)

    def where(self, condition, x, y):
        return np.where(condition, x, y)

    def select(self, condition, if_true, if_false):
        return if_true() if condition else if_false()

    def round_float32(self, x):
        if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "fiu":
            x = x.item()  # a 0-d array hyperparameter is its value
        if not isinstance(x, (int, float, np.integer, np.floating)) or isinstance(x, bool):
            raise TypeError(f"a real number was expected, got {x!r} ({type(x).__name__})")
        return float(np.float32(x))

    def copy(self, x):
        return np.array(x, copy=True)

    def zeros_like(self, x):
        return np.zeros_like(x)

    def full_like(self, x, value):
        return np.full_like(x, value)

    def total(self, x):
        # A NumPy scalar of x's dtype.  Summed in the logical (C) order, whatever the layout:
        # pairwise summation follows memory, so a transposed view would round differently.
        return np.sum(np.ascontiguousarray(x))

    def scalar_max(self, bound, x):
        return max(bound, x)   # Python's: the bound when x is NaN (x > bound is False)

    def sum(self, x, axis):
        return np.sum(np.ascontiguousarray(x), axis=axis, keepdims=True)

    def matmul(self, a, b):
        return np.matmul(a, b)

    def transpose(self, x):
        return np.swapaxes(x, -1, -2)

    def zeros(self, like, shape):
        return np.zeros(shape, like.dtype)

    def machine_epsilon(self, like):
        return float(np.finfo(like.dtype).eps)

    def shape(self, x) -> tuple:
        return tuple(np.shape(x))

    def dtype(self, x) -> str:
        return str(x.dtype)

    def check_tensor(self, x, role: str) -> None:
        if x.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{role} must be a float32 or float64 array, got dtype {x.dtype}")


NUMPY = NumPyContext()
register_context(np.ndarray, NUMPY)
register_context(np.generic, NUMPY)
