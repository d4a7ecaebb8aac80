"""Certified enclosures of the exact real step: the optimizers' own definitions run on *balls* of
real numbers (python-flint's ``arb``: a midpoint ± a radius, every operation rounded outward at
``PRECISION`` bits), so one step from float inputs yields, entry by entry, a ball that certainly
holds the exact real result of the definition on those inputs — the number the theorems speak
about.  ``make precision`` measures the NumPy float32 and float64 results against it.

Nothing is guessed.  A comparison is three-valued (certainly true, certainly false, or not
decided at this precision): an elementwise choice that is not decided (``where``, ``maximum``,
``sign``) takes the union of its possible values, still a rigorous enclosure; a Python-level
branch that is not decided (``ctx.select``) runs both ways and takes the union; a plain ``if``
on an undecided condition raises ``Undecided``.  A ball that is not finite (a division by a
ball holding 0, a root of a ball reaching below 0) raises ``Undecided`` too.

The exact real numbers here are the ones the float inputs denote: a float32 or float64 array
enters exactly, entry by entry, and so does every Python float hyperparameter (the binary value
it stores, as for the prover).  ``round_float32`` (NAdam's μ product, ASGD's η and μ) is the
identity, as over the reals; Adafactor's default ε1 is the machine epsilon of the dtype the
params came from.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np

from optim.context import register_context

try:
    import flint
except ImportError as error:   # an optional dependency: make precision and the tests install it
    raise ImportError("the certified enclosures need python-flint: pip install 'optlaws[precision]'") from error

PRECISION = 256          # bits of every ball's midpoint (float64 has 53)
flint.ctx.prec = PRECISION


class precision:
    """``with enclosure.precision(bits):`` every ball's midpoint at ``bits`` (a long run whose balls
    grow — ball arithmetic cannot see that two inputs move together — needs more bits to stay
    certified to its end)."""

    def __init__(self, bits: int):
        self.bits, self.saved = bits, None

    def __enter__(self) -> "precision":
        self.saved, flint.ctx.prec = flint.ctx.prec, self.bits
        return self

    def __exit__(self, *_: Any) -> None:
        flint.ctx.prec = self.saved


# The standard rounding model as ball arithmetic (``rounded``): while set, every rounding
# operation's result r becomes r·(1 + [−u, u]) + [−η, η] — every value the model allows, so a
# float step lies in the ball (tensor operations at the params' u, Python-scalar ones at
# float64's, a Python float meeting a float32 tensor and a float32 store at float32's, a power at
# 2u: libm's pow is within 1 ulp; a sum of n terms at (n − 1)·u of their magnitudes).
U64, U32 = 2.0**-53, 2.0**-24
ETA = {U64: 2.0**-1075, U32: 2.0**-150, 2 * U64: 2.0**-1074, 2 * U32: 2.0**-149}   # underflow's absolute error
_MODEL: dict = {}


class rounded:
    """``with enclosure.rounded(np.float32):`` the balls hold every float evaluation of the
    standard model at that dtype, not only the exact one."""

    def __init__(self, dtype: Any):
        self.unit = U32 if np.dtype(dtype) == np.float32 else U64

    def __enter__(self) -> "rounded":
        _MODEL["unit"] = self.unit
        return self

    def __exit__(self, *_: Any) -> None:
        _MODEL.clear()


def _widen(v: "flint.arb", unit: float, magnitude: "flint.arb | None" = None) -> "flint.arb":
    """v and every value within ``unit`` of it, relatively (of ``magnitude`` when given), and
    underflow's absolute error."""
    if magnitude is None and unit in (U32, U64) and _representable(v, unit):
        return v   # an exact result the dtype holds: a correctly rounded operation returns it (not libm's pow)
    scale = abs(v) if magnitude is None else magnitude
    return v + flint.arb(0, 1) * (scale * unit + ETA.get(unit, 2.0**-149))


def _representable(v: "flint.arb", unit: float) -> bool:
    """Whether the ball is one point that the dtype of ``unit`` stores exactly (0, 1, 0.5, a float
    input): a correctly rounded operation with that exact result returns it unrounded."""
    if not v.is_exact():
        return False
    value = float(v.mid())
    if flint.arb(value) != v:
        return False
    return unit != U32 or float(np.float32(value)) == value


def _widened(a: np.ndarray, unit: float) -> np.ndarray:
    return _map(lambda v: _widen(v, unit), a)


def _tensor_unit() -> float | None:
    return _MODEL.get("unit")


def _scalar_unit() -> float | None:
    return U64 if _MODEL else None


class Undecided(ArithmeticError):
    """The enclosure cannot decide something at this precision (a branch, a non-finite ball)."""


def _arb(x: Any) -> "flint.arb":
    if isinstance(x, Ball):
        return x.v
    if isinstance(x, flint.arb):
        return x
    if isinstance(x, (bool, np.bool_)):
        return flint.arb(int(x))
    if isinstance(x, numbers.Integral):
        return flint.arb(int(x))
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            raise Undecided(f"{x!r} has no real value")
        numerator, denominator = x.as_integer_ratio()   # the stored binary value, exactly
        return flint.arb(numerator) / denominator
    if isinstance(x, numbers.Rational):
        return flint.arb(x.numerator) / x.denominator
    raise TypeError(f"{type(x).__name__} cannot enter an enclosure")


def _finite(v: "flint.arb") -> "flint.arb":
    if not v.is_finite():
        raise Undecided(f"the enclosure {v} is not finite (a division by a ball holding 0, or a root of a "
                        "negative ball)")
    return v


def _union(a: "flint.arb", b: "flint.arb") -> "flint.arb":
    return a.union(b)


class Truth:
    """A three-valued condition: True, False, or None (not decided at this precision)."""

    __slots__ = ("value",)

    def __init__(self, value: bool | None):
        self.value = value

    def __bool__(self) -> bool:
        if self.value is None:
            raise Undecided("a branch on a condition the enclosure cannot decide at this precision")
        return self.value

    def __invert__(self) -> "Truth":
        return Truth(None if self.value is None else not self.value)

    def __and__(self, other: "Truth") -> "Truth":
        a, b = self.value, _truth(other)
        return Truth(False if a is False or b is False else None if a is None or b is None else True)

    def __or__(self, other: "Truth") -> "Truth":
        a, b = self.value, _truth(other)
        return Truth(True if a is True or b is True else None if a is None or b is None else False)


def _truth(x: Any) -> bool | None:
    return x.value if isinstance(x, Truth) else bool(x)


def _compare(a: "flint.arb", b: "flint.arb", op: str) -> bool | None:
    """Certain answers only: arb's comparisons are True when certain, so ask both ways."""
    if op == "lt":
        return True if a < b else False if a >= b else None
    if op == "le":
        return True if a <= b else False if a > b else None
    if op == "gt":
        return True if a > b else False if a <= b else None
    if op == "ge":
        return True if a >= b else False if a < b else None
    if op == "eq":
        return True if (a == b) else False if (a != b) else None
    return True if (a != b) else False if (a == b) else None


class Ball:
    """An enclosed real scalar."""

    __slots__ = ("v",)
    __array_ufunc__ = None

    def __init__(self, v: Any):
        self.v = _arb(v)

    def _binary(self, other, fn, scale: int = 1):
        if isinstance(other, BallTensor):
            return NotImplemented
        value = _finite(fn(self.v, _arb(other)))
        return Ball(value if not _MODEL else _widen(value, scale * _scalar_unit()))

    def __add__(self, o): return self._binary(o, lambda a, b: a + b)
    def __radd__(self, o): return self._binary(o, lambda a, b: b + a)
    def __sub__(self, o): return self._binary(o, lambda a, b: a - b)
    def __rsub__(self, o): return self._binary(o, lambda a, b: b - a)
    def __mul__(self, o): return self._binary(o, lambda a, b: a * b)
    def __rmul__(self, o): return self._binary(o, lambda a, b: b * a)
    def __truediv__(self, o): return self._binary(o, lambda a, b: a / b)
    def __rtruediv__(self, o): return self._binary(o, lambda a, b: b / a)
    def __pow__(self, o):
        if isinstance(o, numbers.Integral) and not isinstance(o, bool):   # β ** t: an integer power
            value = _finite(self.v ** int(o))
            return Ball(value if not _MODEL else _widen(value, 2 * _scalar_unit()))
        return self._binary(o, _power, scale=2)

    def __rpow__(self, o): return self._binary(o, lambda a, b: _power(b, a), scale=2)
    def __neg__(self): return Ball(-self.v)
    def __pos__(self): return self
    def __abs__(self): return Ball(abs(self.v))

    def _relation(self, o, op):
        if isinstance(o, BallTensor):
            return NotImplemented
        return Truth(_compare(self.v, _arb(o), op))

    __hash__ = None

    def __bool__(self) -> bool:
        return bool(self != 0)

    def __float__(self) -> float:
        return float(self.v.mid())

    def __repr__(self) -> str:
        return f"Ball({self.v})"


def _power(a: "flint.arb", b: "flint.arb") -> "flint.arb":
    """a ** b for balls: arb's real power (a > 0), or an exact integer b by repeated products
    (a may then be ≤ 0)."""
    if b.is_exact() and b.is_integer() and abs(b) < 2**20:
        n = int(b.unique_fmpz())
        return a ** n
    return a ** b


_EXACT_ZERO = flint.arb(0)


class BallTensor:
    """An enclosed real tensor: an object array of arb balls, and the dtype of the float array
    it came from (its machine epsilon is a number of the definition: Adafactor's default ε1)."""

    __slots__ = ("a", "origin")
    __array_ufunc__ = None

    def __init__(self, a: np.ndarray, origin: Any = np.float64):
        self.a, self.origin = a, np.dtype(origin)

    @classmethod
    def exact(cls, x: Any) -> "BallTensor":
        """A float array as the exact reals it stores."""
        array = np.asarray(x)
        if array.dtype.kind != "f":
            raise TypeError(f"an enclosure starts from a float array, got dtype {array.dtype}")
        if not np.all(np.isfinite(array)):
            raise Undecided("a non-finite entry has no real value")
        out = np.empty(array.shape, dtype=object)
        flat = out.reshape(-1)
        for i, value in enumerate(array.reshape(-1).tolist()):
            flat[i] = flint.arb(value)
        return cls(out, array.dtype)

    @property
    def shape(self) -> tuple:
        return self.a.shape

    def _apply(self, other: Any, fn: Callable, scale: int = 1) -> "BallTensor":
        if isinstance(other, BallTensor):   # NumPy's broadcasting (Adafactor's R·C)
            result = _check(fn(self.a, other.a))
        else:
            scalar = _arb(other)
            if _tensor_unit() == U32:   # a Python float meeting a float32 tensor: NumPy converts it
                scalar = _widen(scalar, U32)
            result = _check(fn(self.a, scalar))
        return BallTensor(result if not _MODEL else _widened(result, scale * _tensor_unit()), self.origin)

    def __add__(self, o): return self._apply(o, lambda a, b: a + b)
    def __radd__(self, o): return self._apply(o, lambda a, b: b + a)
    def __sub__(self, o): return self._apply(o, lambda a, b: a - b)
    def __rsub__(self, o): return self._apply(o, lambda a, b: b - a)
    def __mul__(self, o): return self._apply(o, lambda a, b: a * b)
    def __rmul__(self, o): return self._apply(o, lambda a, b: b * a)
    def __truediv__(self, o): return self._apply(o, lambda a, b: a / b)
    def __rtruediv__(self, o): return self._apply(o, lambda a, b: b / a)
    def __pow__(self, o): return self._apply(o, lambda a, b: _map(_power, a, b), scale=2)
    def __neg__(self): return BallTensor(-self.a, self.origin)
    def __pos__(self): return self
    def __abs__(self): return BallTensor(_map(abs, self.a), self.origin)

    def _relation(self, o, op) -> "TruthTensor":
        other = o.a if isinstance(o, BallTensor) else _arb(o)
        return TruthTensor(_map(lambda a, b: _compare(a, b, op), self.a, other))

    __hash__ = None

    def __bool__(self) -> bool:
        if self.a.size != 1:
            raise ValueError("the truth value of a tensor with more than one entry is ambiguous")
        return bool(Ball(self.a.reshape(-1)[0]) != 0)

    def __len__(self) -> int:
        return len(self.a)

    # reading the enclosure back
    def lower(self) -> np.ndarray:
        return _map(lambda v: float(v.lower()), self.a).astype(np.float64)

    def upper(self) -> np.ndarray:
        return _map(lambda v: float(v.upper()), self.a).astype(np.float64)

    def bound_above(self) -> np.ndarray:
        """Each ball's upper end, rounded up to a float64: ≥ every point of the ball."""
        return _map(_up, self.a).astype(np.float64)

    def radius(self) -> np.ndarray:
        """Each ball's radius, rounded up to a float64."""
        return _map(lambda v: _up(v.rad()), self.a).astype(np.float64)

    def midpoint(self) -> np.ndarray:
        return _map(lambda v: float(v.mid()), self.a).astype(np.float64)

    def error_bound(self, computed: np.ndarray) -> np.ndarray:
        """A certified upper bound on |computed − x| for the exact x in each ball: |c − mid| + rad
        computed in arb, rounded up to a float64."""
        values = np.asarray(computed, dtype=np.float64)
        if values.shape != self.shape:
            raise ValueError(f"computed has shape {values.shape}, the enclosure {self.shape}")
        return _map(lambda v, c: _up(abs(flint.arb(c) - v.mid()) + v.rad()), self.a, values).astype(np.float64)

    def __repr__(self) -> str:
        return f"BallTensor{self.shape}"


def _up(x: "flint.arb") -> float:
    """A float64 ≥ every point of the ball x (rounded up past float()'s nearest)."""
    value = float(x.upper())
    return float(np.nextafter(value, np.inf)) if value >= 0 else value


def _map(fn: Callable, *arrays: Any) -> np.ndarray:
    """``fn`` entry by entry over object arrays (NumPy's broadcasting)."""
    return np.asarray(np.frompyfunc(fn, len(arrays), 1)(*arrays), dtype=object)


def _check(a: Any) -> np.ndarray:
    a = np.asarray(a, dtype=object)
    for v in a.reshape(-1):
        _finite(v)
    return a


class TruthTensor:
    """An elementwise three-valued condition (True, False or None per entry)."""

    __slots__ = ("t",)

    def __init__(self, t: np.ndarray):
        self.t = t

    def __invert__(self) -> "TruthTensor":
        return TruthTensor(_map(lambda v: None if v is None else not v, self.t))

    def __bool__(self) -> bool:
        if self.t.size != 1:
            raise ValueError("the truth value of a tensor with more than one entry is ambiguous")
        return bool(Truth(self.t.reshape(-1)[0]))


def _choose(condition: Any, x: "flint.arb", y: "flint.arb") -> "flint.arb":
    return x if condition is True else y if condition is False else _union(x, y)


def _balls(x: Any, shape: tuple) -> np.ndarray:
    if isinstance(x, BallTensor):
        return x.a
    return np.full(shape, _arb(x), dtype=object)


def _maximum(a: "flint.arb", b: "flint.arb") -> "flint.arb":
    answer = _compare(a, b, "ge")
    return a if answer is True else b if answer is False else (a + b + abs(a - b)) / 2


def _minimum(a: "flint.arb", b: "flint.arb") -> "flint.arb":
    answer = _compare(a, b, "le")
    return a if answer is True else b if answer is False else (a + b - abs(a - b)) / 2


def _sign(v: "flint.arb") -> "flint.arb":
    if v > 0:
        return flint.arb(1)
    if v < 0:
        return flint.arb(-1)
    if v.is_zero():
        return flint.arb(0)
    return flint.arb(0, 1)    # not decided: [−1, 1] holds −1, 0 and 1


def _union_of(x: Any, y: Any) -> Any:
    """The union of two results of a step's undecided branch, structure by structure."""
    if isinstance(x, BallTensor) or isinstance(y, BallTensor):
        like = x if isinstance(x, BallTensor) else y
        return BallTensor(_map(_union, _balls(x, like.shape), _balls(y, like.shape)), like.origin)
    if isinstance(x, (Ball, numbers.Real)) and isinstance(y, (Ball, numbers.Real)):
        return Ball(_union(_arb(x), _arb(y)))
    if isinstance(x, tuple) and isinstance(y, tuple) and len(x) == len(y):
        return tuple(_union_of(a, b) for a, b in zip(x, y))
    if x is y or x == y:
        return x
    raise Undecided("the two ways of an undecided branch give results of different kinds")


def _decided(condition: Any) -> bool | None:
    if isinstance(condition, Truth):
        return condition.value
    if isinstance(condition, TruthTensor):
        if condition.t.size != 1:
            raise ValueError("the truth value of a tensor with more than one entry is ambiguous")
        return condition.t.reshape(-1)[0]
    return bool(condition)


class EnclosureContext:
    """The backend protocol (``optim.context``) over balls: the exact reals, certified."""

    name = "enclosure"

    def sqrt(self, x):
        if isinstance(x, BallTensor):
            result = _check(_map(lambda v: v.sqrt(), x.a))
            return BallTensor(result if not _MODEL else _widened(result, _tensor_unit()), x.origin)
        value = _finite(_arb(x).sqrt())
        return Ball(value if not _MODEL else _widen(value, _scalar_unit()))

    def square(self, x):
        return x * x

    def abs(self, x):
        return abs(x) if isinstance(x, (BallTensor, Ball)) else Ball(abs(_arb(x)))

    def sign(self, x):
        if isinstance(x, BallTensor):
            return BallTensor(_map(_sign, x.a), x.origin)
        return Ball(_sign(_arb(x)))

    def _extremum(self, x, y, fn):
        tensor = x if isinstance(x, BallTensor) else y if isinstance(y, BallTensor) else None
        if tensor is None:
            return Ball(fn(_arb(x), _arb(y)))
        return BallTensor(_map(fn, _balls(x, tensor.shape), _balls(y, tensor.shape)), tensor.origin)

    def maximum(self, x, y):
        return self._extremum(x, y, _maximum)

    def minimum(self, x, y):
        return self._extremum(x, y, _minimum)

    def scalar_max(self, bound, x):
        return self.maximum(bound, x)

    def where(self, condition, x, y):
        if not isinstance(condition, TruthTensor):
            return self.select(condition, lambda: x, lambda: y)
        origin = next((v.origin for v in (x, y) if isinstance(v, BallTensor)), np.dtype(np.float64))
        shape = condition.t.shape
        return BallTensor(_map(_choose, condition.t, _balls(x, shape), _balls(y, shape)), origin)

    def select(self, condition, if_true, if_false):
        value = _decided(condition)
        if value is None:            # not decided: both ways, their union
            return _union_of(if_true(), if_false())
        return if_true() if value else if_false()

    def round_float32(self, x):
        """Over the reals there is no rounding; in the rounding model, a float32 store."""
        ball = x if isinstance(x, Ball) else Ball(x)
        return ball if not _MODEL else Ball(_widen(ball.v, U32))

    def copy(self, x):
        return BallTensor(x.a.copy(), x.origin)

    def zeros_like(self, x):
        return BallTensor(np.full(x.shape, _EXACT_ZERO, dtype=object), x.origin)

    def full_like(self, x, value):
        return BallTensor(np.full(x.shape, _arb(value), dtype=object), x.origin)

    def total(self, x):
        entries = x.a.reshape(-1).tolist()
        value = _finite(sum(entries, flint.arb(0)))
        if _MODEL:   # any summation order: within (n − 1)·u of the sum of the magnitudes
            value = _widen(value, _tensor_unit(), (len(entries) - 1) * sum((abs(v) for v in entries), flint.arb(0)))
        return Ball(value)

    def sum(self, x, axis):
        value = _check(np.sum(x.a, axis=axis, keepdims=True) + _EXACT_ZERO)
        if _MODEL:
            n = x.shape[axis] - 1
            magnitude = np.sum(_map(abs, x.a), axis=axis, keepdims=True) * n + _EXACT_ZERO
            value = _map(lambda v, m: _widen(v, _tensor_unit(), m), value, magnitude)
        return BallTensor(value, x.origin)

    def matmul(self, a, b):
        value = _check(np.matmul(a.a, b.a))
        if _MODEL:   # k products and k − 1 sums per entry: within k·u of Σ|a||b|
            magnitude = np.matmul(_map(abs, a.a), _map(abs, b.a)) * a.shape[-1]
            value = _map(lambda v, m: _widen(v, _tensor_unit(), m), value, magnitude)
        return BallTensor(value, a.origin)

    def transpose(self, x):
        return BallTensor(np.swapaxes(x.a, -1, -2).copy(), x.origin)

    def zeros(self, like, shape):
        return BallTensor(np.full(shape, _EXACT_ZERO, dtype=object), like.origin)

    def machine_epsilon(self, like):
        return Ball(float(np.finfo(like.origin).eps))   # a number of the definition for that dtype

    def shape(self, x):
        return tuple(x.shape) if isinstance(x, BallTensor) else ()

    def dtype(self, x):
        return "real"

    def check_tensor(self, x, role):
        if not isinstance(x, BallTensor):
            raise TypeError(f"{role} must be a BallTensor, got {type(x).__name__}")

    def adopt(self, value):
        """A state field as a ball: a real number exactly (a Python float: the binary value it
        stores); ints (step counts) stay ints, flags and strings as they are."""
        if value is None or isinstance(value, (bool, str, Ball, BallTensor, int)):
            return value
        if isinstance(value, np.ndarray):
            return BallTensor.exact(value)
        if isinstance(value, numbers.Real):
            return Ball(value)
        return value


def _define_relations(klass: type) -> None:
    """<, ≤, >, ≥, ==, != through the class's three-valued ``_relation``."""
    for op in ("lt", "le", "gt", "ge", "eq", "ne"):
        setattr(klass, f"__{op}__", lambda self, o, op=op: self._relation(o, op))


for _klass in (Ball, BallTensor):
    _define_relations(_klass)

ENCLOSURE = EnclosureContext()
register_context(BallTensor, ENCLOSURE)
register_context(Ball, ENCLOSURE)


def certified_bound(family: Any, state: Any, params: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """A certified bound on |fl(p′) − p′| per entry for one step in the params' dtype: the balls of
    every standard-model float evaluation (``rounded``) against the exact step's, |mid − mid| + both
    radii, rounded up.  Rigorous for that model; looser than the first-order bound, since ball
    arithmetic does not see that the roundings of one value move together.  A step whose balls
    are not finite (a divisor that the model's roundings could make 0) raises ``Undecided``."""
    _, exact = enclosed_step(family, state, params, grads)
    with rounded(params.dtype):
        _, floats = enclosed_step(family, state, params, grads)
    return _map(lambda f, e: _up(abs(f.mid() - e.mid()) + f.rad() + e.rad()), floats.a, exact.a).astype(np.float64)


def enclosed_step(family: Any, state: Any, params: np.ndarray, grads: np.ndarray) -> tuple[Any, BallTensor]:
    """``family.update`` on the exact reals the float ``state``, ``params`` and ``grads`` store:
    the new state (buffers as BallTensors) and the new params, each entry a certified ball."""
    return family.update(state, BallTensor.exact(params), BallTensor.exact(grads))
