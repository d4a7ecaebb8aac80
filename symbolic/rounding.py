"""The standard rounding model of one executed step, and its first-order error bound.

Every operation of the float evaluation is thought of as its exact result times (1 + δ_k),
|δ_k| ≤ u_k: a tensor operation at the params' unit roundoff u (2⁻²⁴ or 2⁻⁵³), Python-scalar
arithmetic (bias corrections, the lr's products) at float64's, a Python float meeting a float32
tensor at float32's (NumPy converts it, NEP 50), a float32 store (NAdam's μ product, ASGD's η and
μ: ``round_float32``) at float32's, a power at twice float64's (libm's ``pow`` is within 1 ulp,
not correctly rounded), a sum of n terms at (n − 1)·u of the sum of their magnitudes (every
summation order), a matrix product likewise per dot product.  ``step_bound`` runs the optimizer's
own definition on ``Traced`` values from the exact float inputs, keeps the Jacobian of every
output entry by every rounding (reverse mode, one row per output entry) and returns, per entry
of the new params,

    B = Σ_k u_k·|∂p′/∂δ_k|  at δ = 0,

the **first-order** bound: |fl(p′) − p′| ≤ B + O(u²) (then inflated by n·u/(1 − n·u) for n
roundings, the γ_n of the standard analysis; plus underflow's absolute error where a result is
subnormal).  A step in which a value overflows the dtype is outside the model: its bound is ∞.  The values along the way are float64
evaluations of the exact ones (for the partial derivatives only).  ``max``, ``min``, ``abs``,
``sign``, ``where`` and negation do not round; at a kink the bound is the side the float64
evaluation takes (a branch the float step would take the other way is outside a first-order
bound: ``make precision`` reports error / bound for every case, so it shows there).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from optim.context import register_context

U64 = 2.0**-53
U32 = 2.0**-24


class Traced:
    """A value of the traced float evaluation: its float64 value and its node on the tape."""

    __slots__ = ("value", "tape", "node")
    __array_ufunc__ = None

    def __init__(self, value: Any, tape: "Tape", node: int | None = None):
        self.value, self.tape, self.node = np.asarray(value, dtype=np.float64), tape, node

    @property
    def shape(self) -> tuple:
        return self.value.shape

    def _operand(self, other: Any) -> "Traced":
        return other if isinstance(other, Traced) else Traced(float(other), self.tape)

    def _unit(self, *operands: "Traced") -> float:
        """A tensor operation rounds at the params' u, a scalar one at float64's."""
        return self.tape.unit if any(o.shape != () for o in operands) else U64

    def _converted(self, other: "Traced") -> "Traced":
        """A float64 scalar meeting a float32 tensor: NumPy converts it to float32 (a rounding)."""
        if self.tape.unit == U32 and other.shape == () and self.shape != () and other.node is not None:
            return self.tape.result(other.value, [(other, 1.0)], unit=U32)
        if self.tape.unit == U32 and other.shape == () and self.shape != ():
            return self.tape.result(other.value, [], magnitude=abs(float(other.value)), unit=U32)
        return other

    def _binary(self, other: Any, value: Callable, partials: Callable, reflected: bool = False) -> "Traced":
        other = self._operand(other)
        a, b = (other, self) if reflected else (self, other)
        if a.shape == () and b.shape != ():
            a = b._converted(a)
        elif b.shape == () and a.shape != ():
            b = a._converted(b)
        with np.errstate(all="ignore"):
            z = value(a.value, b.value)
            da, db = partials(a.value, b.value, z)
        return self.tape.result(z, [(a, da), (b, db)], unit=self._unit(a, b))

    def __add__(self, o): return self._binary(o, np.add, lambda a, b, z: (1.0, 1.0))
    def __radd__(self, o): return self._binary(o, np.add, lambda a, b, z: (1.0, 1.0), True)
    def __sub__(self, o): return self._binary(o, np.subtract, lambda a, b, z: (1.0, -1.0))
    def __rsub__(self, o): return self._binary(o, np.subtract, lambda a, b, z: (1.0, -1.0), True)
    def __mul__(self, o): return self._binary(o, np.multiply, lambda a, b, z: (b, a))
    def __rmul__(self, o): return self._binary(o, np.multiply, lambda a, b, z: (b, a), True)
    def __truediv__(self, o): return self._binary(o, np.divide, lambda a, b, z: (1 / b, -z / b))
    def __rtruediv__(self, o): return self._binary(o, np.divide, lambda a, b, z: (1 / b, -z / b), True)

    def __pow__(self, o):
        b = self._operand(o)
        with np.errstate(all="ignore"):
            z = np.power(self.value, b.value)
            da = np.where(z != 0, b.value * z / np.where(self.value == 0, 1, self.value), 0.0)
            db = np.where(self.value > 0, z * np.log(np.where(self.value > 0, self.value, 1)), 0.0)
        return self.tape.result(z, [(self, da), (b, db)], unit=2 * self._unit(self, b))

    def __rpow__(self, o):
        return self._operand(o) ** self

    def __neg__(self):
        return self.tape.result(-self.value, [(self, -1.0)], magnitude=None)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.tape.result(np.abs(self.value), [(self, np.sign(self.value))], magnitude=None)

    def _compare(self, o, fn):
        result = fn(self.value, self._operand(o).value)
        return bool(result) if np.ndim(result) == 0 else result

    def __lt__(self, o): return self._compare(o, np.less)
    def __le__(self, o): return self._compare(o, np.less_equal)
    def __gt__(self, o): return self._compare(o, np.greater)
    def __ge__(self, o): return self._compare(o, np.greater_equal)
    def __eq__(self, o): return self._compare(o, np.equal)
    def __ne__(self, o): return self._compare(o, np.not_equal)
    __hash__ = None

    def __bool__(self) -> bool:
        return bool(self.value != 0)

    def __float__(self) -> float:
        return float(self.value)


def _unbroadcast(adjoint: np.ndarray, shape: tuple) -> np.ndarray:
    """An adjoint of a broadcast result (leading axis: the output entries) summed back to the
    operand's shape."""
    extra = adjoint.ndim - 1 - len(shape)
    if extra > 0:
        adjoint = adjoint.sum(axis=tuple(range(1, 1 + extra)))
    axes = tuple(i + 1 for i, n in enumerate(shape) if n == 1 and adjoint.shape[i + 1] != 1)
    return adjoint.sum(axis=axes, keepdims=True) if axes else adjoint


class Tape:
    """The operations of one traced step: each node's parents with their vector-Jacobian
    products, its rounding magnitude (|value|, or what a sum's error is proportional to) and its
    unit roundoff (None: exact)."""

    def __init__(self, unit: float):
        self.unit = unit
        self.nodes: list = []   # (parents [(node, vjp)], magnitude or None, unit)
        self.overflow = False   # a value past the dtype's largest: outside the rounding model
        self.underflow = False  # a rounded result below the dtype's smallest normal: outside the relative model

    def result(self, value: Any, partials: list, magnitude: Any = "value", unit: float | None = None,
               vjps: list | None = None) -> Traced:
        value = np.asarray(value, dtype=np.float64)
        largest = np.finfo(np.float32 if unit == U32 or (unit is None and self.unit == U32) else np.float64).max
        if not np.all(np.isfinite(value)) or (value.size and np.max(np.abs(value)) > largest):
            self.overflow = True
        parents = []
        for operand, partial in partials:
            if operand.node is not None:
                shape = operand.shape
                parents.append((operand.node, lambda a, d=np.asarray(partial), s=shape: _unbroadcast(a * d, s)))
        parents += [(operand.node, vjp) for operand, vjp in (vjps or []) if operand.node is not None]
        rounded = None if magnitude is None or unit is None else (np.abs(value) if isinstance(magnitude, str)
                                                                   else np.asarray(magnitude, dtype=np.float64))
        if rounded is not None and np.any((value != 0) & (np.abs(value) < 2 * np.finfo(
                np.float32 if unit == U32 else np.float64).tiny)):    # 2×: the float64 evaluation's own slack
            self.underflow = True
        if not parents and rounded is None:
            return Traced(value, self)
        self.nodes.append((parents, rounded, unit))
        return Traced(value, self, len(self.nodes) - 1)


TINY = {U32: 2.0**-150, U64: 2.0**-1075, 2 * U64: 2.0**-1074}   # half the smallest subnormal: underflow's absolute error


def first_order_bound(z: Traced) -> np.ndarray:
    """Σ_k (u_k·|∂z_i/∂δ_k| + η_k·|∂z_i/∂q_k|) for every entry i of z (reverse mode, one row per
    entry): each rounding's relative error u_k, and its absolute error η_k where the result is
    subnormal (the standard model's underflow term)."""
    n = max(1, z.value.size)
    bound = np.zeros(n)
    if z.node is None:
        return bound.reshape(z.shape)
    adjoints = {z.node: np.eye(n).reshape((n,) + z.shape)}
    for k in range(z.node, -1, -1):
        adjoint = adjoints.pop(k, None)
        if adjoint is None:
            continue
        parents, rounded, unit = z.tape.nodes[k]
        if rounded is not None:
            bound += unit * np.abs(adjoint * rounded).reshape(n, -1).sum(axis=1)
            bound += TINY.get(unit, 2.0**-150) * np.abs(adjoint).reshape(n, -1).sum(axis=1)
        for j, vjp in parents:
            term = vjp(adjoint)
            adjoints[j] = adjoints[j] + term if j in adjoints else term
    return bound.reshape(z.shape)


class RoundingContext:
    """The backend protocol over ``Traced`` values: the float evaluation, analysed."""

    name = "rounding"

    def sqrt(self, x):
        if not isinstance(x, Traced):
            return x**0.5
        z = np.sqrt(x.value)
        d = np.divide(0.5, z, out=np.zeros_like(z), where=z > 0)
        return x.tape.result(z, [(x, d)], unit=x._unit(x))

    def square(self, x):
        return x * x

    def abs(self, x):
        return abs(x)

    def sign(self, x):
        if not isinstance(x, Traced):
            return float((x > 0) - (x < 0))
        return Traced(np.sign(x.value), x.tape)

    def _pick(self, x, y, take_x):
        like = x if isinstance(x, Traced) else y
        a, b = like._operand(x), like._operand(y)
        choose = np.asarray(take_x(a.value, b.value))
        return like.tape.result(np.where(choose, a.value, b.value), [(a, choose * 1.0), (b, (~choose) * 1.0)],
                                magnitude=None)

    def maximum(self, x, y):
        if not isinstance(x, Traced) and not isinstance(y, Traced):
            return max(x, y)
        return self._pick(x, y, np.greater_equal)

    def minimum(self, x, y):
        if not isinstance(x, Traced) and not isinstance(y, Traced):
            return min(x, y)
        return self._pick(x, y, np.less_equal)

    def scalar_max(self, bound, x):
        return self.maximum(bound, x)

    def where(self, condition, x, y):
        condition = np.asarray(condition)
        return self._pick(x, y, lambda a, b: np.broadcast_to(condition, np.broadcast(a, b).shape))

    def select(self, condition, if_true, if_false):
        return if_true() if condition else if_false()

    def round_float32(self, x):
        """A float32 store: rounds at float32's u whatever the params' dtype."""
        if not isinstance(x, Traced):
            return float(np.float32(x))
        return x.tape.result(x.value, [(x, 1.0)], unit=U32)

    def copy(self, x):
        return x

    def zeros_like(self, x):
        return Traced(np.zeros(x.shape), x.tape)

    def full_like(self, x, value):
        value = x._converted(x._operand(value))
        return x.tape.result(np.full(x.shape, float(value.value)), [(value, 1.0)], magnitude=None)

    def total(self, x):
        n = x.value.size
        magnitude = max(n - 1, 0) * np.abs(x.value).sum()
        return x.tape.result(x.value.sum(), [], magnitude=magnitude, unit=x.tape.unit,
                             vjps=[(x, lambda a, s=x.shape: np.broadcast_to(
                                 a.reshape(a.shape[:1] + (1,) * len(s)), a.shape[:1] + s))])

    def sum(self, x, axis):
        n = x.shape[axis]
        z = x.value.sum(axis=axis, keepdims=True)
        magnitude = max(n - 1, 0) * np.abs(x.value).sum(axis=axis, keepdims=True)
        return x.tape.result(z, [], magnitude=magnitude, unit=x.tape.unit,
                             vjps=[(x, lambda a, s=x.shape: np.broadcast_to(a, a.shape[:1] + s))])

    def matmul(self, a, b):
        k = a.shape[-1]
        z = a.value @ b.value
        magnitude = k * (np.abs(a.value) @ np.abs(b.value))   # k products and k − 1 sums per entry
        return a.tape.result(z, [], magnitude=magnitude, unit=a.tape.unit,
                             vjps=[(a, lambda adj, y=b.value: adj @ y.T), (b, lambda adj, x=a.value: x.T @ adj)])

    def transpose(self, x):
        return x.tape.result(np.swapaxes(x.value, -1, -2), [], magnitude=None,
                             vjps=[(x, lambda a: np.swapaxes(a, -1, -2))])

    def zeros(self, like, shape):
        return Traced(np.zeros(shape), like.tape)

    def machine_epsilon(self, like):
        return float(np.finfo(np.float32 if like.tape.unit == U32 else np.float64).eps)

    def shape(self, x):
        return tuple(x.shape) if isinstance(x, Traced) else ()

    def dtype(self, x):
        return "traced"

    def check_tensor(self, x, role):
        if not isinstance(x, Traced):
            raise TypeError(f"{role} must be a Traced value, got {type(x).__name__}")

    def adopt(self, value):
        return value   # step_bound traces the state's buffers and real scalars itself


ROUNDING = RoundingContext()
register_context(Traced, ROUNDING)


def step_bound(family: Any, state: Any, params: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """The first-order bound on |fl(p′) − p′| per entry for one ``family.update`` of float
    ``params`` and ``grads`` from ``state`` (its float buffers), in the params' dtype."""
    unit = U32 if params.dtype == np.float32 else U64
    tape, new = _traced_update(family, state, params, grads)
    if tape.overflow:   # a value past the dtype's range: no rounding model bounds that step
        return np.full(params.shape, np.inf)
    roundings = sum(1 for _, rounded, _ in tape.nodes if rounded is not None)
    # the second-order terms: the standard analysis's γ_n = n·u/(1 − n·u) for n roundings in a row
    # bounds them by the first-order bound times n·u (the largest u met, float32's or float64's)
    largest = max([unit for _, rounded, unit in tape.nodes if rounded is not None] or [unit])
    return first_order_bound(new) * (1 + roundings * largest / (1 - roundings * largest))


def underflows(family: Any, state: Any, params: np.ndarray, grads: np.ndarray) -> bool:
    """Whether a rounded result of one ``family.update`` lands near or below its dtype's smallest
    normal (Adafactor's ε1² = 10⁻⁴⁰ in float32): there an operation's error is absolute, not
    relative, and the proved contracts (stated without underflow) say nothing."""
    tape, _ = _traced_update(family, state, params, grads)
    return tape.underflow


def _traced_update(family: Any, state: Any, params: np.ndarray, grads: np.ndarray) -> tuple:
    """(the tape, the new params): one ``family.update`` on ``Traced`` values from the float
    inputs (its float buffers and Python-float fields), at the params' dtype's unit."""
    from dataclasses import fields as dataclass_fields

    from optim import fields
    tape = Tape(U32 if params.dtype == np.float32 else U64)
    traced = {name: Traced(getattr(state, name).astype(np.float64), tape)
              for name in fields.buffers(state) if isinstance(getattr(state, name), np.ndarray)}
    traced.update({f.name: Traced(float(getattr(state, f.name)), tape) for f in dataclass_fields(state)
                   if f.name not in traced and type(getattr(state, f.name)) is float})
    _, new = family.update(_with(state, traced), Traced(params.astype(np.float64), tape),
                           Traced(grads.astype(np.float64), tape))
    return tape, new


def _with(state: Any, values: dict) -> Any:
    new = object.__new__(type(state))
    new.__dict__.update(state.__dict__)
    new.__dict__.update(values)
    return new
