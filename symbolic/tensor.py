"""The SymPy backend: tensors whose entries are SymPy expressions over the reals.

A ``SymTensor`` is either

* **generic** (``shape is None``): one expression standing for the entry at an arbitrary
  index of a tensor of arbitrary shape.  Only elementwise operations exist for it; any
  other operation raises ``NotElementwise``.  So when an optimizer's update runs to the end
  on generic tensors, the trace was elementwise, and a fact proved about the one generic
  entry holds at every index of every shape (DESIGN.md rule 2).
* **explicit** (``shape`` a tuple): every entry spelled out, for updates that are not
  elementwise; a proof about it covers that shape only, and the report names the shape.

Every tensor remembers the operations that produced it (``ops``), so the report can show
what the trace did.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, Iterable

import sympy

from optim.context import register_context

GENERIC_SHAPE = ("*",)


class NotElementwise(TypeError):
    """A non-elementwise operation was asked of a generic (every-shape) tensor."""


def to_sympy(x: Any) -> sympy.Expr:
    """Lift a scalar to SymPy exactly: a Python float becomes the rational it stores."""
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, bool):
        return sympy.true if x else sympy.false
    if isinstance(x, float):
        return sympy.Rational(x)
    return sympy.sympify(x, strict=True)


class SymTensor:
    __slots__ = ("entries", "shape", "ops", "conditions")
    __array_priority__ = 1000  # a NumPy scalar on the left defers to us

    def __init__(
        self,
        entries: Iterable[Any],
        shape: tuple | None,
        ops: frozenset = frozenset(),
        conditions: frozenset = frozenset(),
    ):
        self.entries = tuple(entries)
        self.shape = shape
        self.ops = frozenset(ops)
        # Definedness conditions met while tracing: ("nonzero", divisor) and
        # ("nonnegative", radicand).  Recorded here because SymPy's automatic evaluation
        # may cancel a divisor (x/x -> 1) before the prover sees the final expression.
        self.conditions = frozenset(conditions)
        expected = 1 if shape is None else _size(shape)
        if len(self.entries) != expected:
            raise ValueError(f"{len(self.entries)} entries for shape {shape}")

    # -- construction -------------------------------------------------------------
    @classmethod
    def generic(cls, entry: Any) -> "SymTensor":
        return cls((to_sympy(entry),), None)

    @classmethod
    def symbols(cls, name: str, shape: tuple | None = None, **assumptions: Any) -> "SymTensor":
        if shape is None:
            return cls((sympy.Symbol(name, **assumptions),), None)
        names = [f"{name}_{'_'.join(map(str, index))}" for index in itertools.product(*map(range, shape))]
        return cls((sympy.Symbol(n, **assumptions) for n in names), tuple(shape))

    @property
    def is_generic(self) -> bool:
        return self.shape is None

    @property
    def entry(self) -> sympy.Expr:
        """The generic entry (only for generic tensors)."""
        if not self.is_generic:
            raise NotElementwise("entry is defined for generic tensors; use .entries")
        return self.entries[0]

    # -- elementwise machinery ----------------------------------------------------
    def map(self, op: str, fn: Callable[[sympy.Expr], sympy.Expr]) -> "SymTensor":
        conditions = self.conditions
        if op == "sqrt":
            conditions = conditions | {("nonnegative", e) for e in self.entries}
        return SymTensor((fn(e) for e in self.entries), self.shape, self.ops | {op}, conditions)

    def zip(self, other: Any, op: str, fn: Callable[[Any, Any], Any], reverse: bool = False) -> "SymTensor":
        if isinstance(other, SymTensor):
            if other.shape != self.shape:
                raise ValueError(f"shape mismatch in {op}: {_show(self.shape)} and {_show(other.shape)}")
            others = other.entries
            ops, conditions = self.ops | other.ops | {op}, self.conditions | other.conditions
        else:
            others = (to_sympy(other),) * len(self.entries)
            ops, conditions = self.ops | {op}, self.conditions
        pairs = list(zip(others, self.entries) if reverse else zip(self.entries, others))
        if op == "div":
            conditions = conditions | {("nonzero", b) for _, b in pairs}
        return SymTensor((fn(a, b) for a, b in pairs), self.shape, ops, conditions)

    def rzip(self, other: Any, op: str, fn: Callable[[Any, Any], Any]) -> "SymTensor":
        return self.zip(other, op, fn, reverse=True)

    def __add__(self, o): return self.zip(o, "add", lambda a, b: a + b)
    def __radd__(self, o): return self.rzip(o, "add", lambda a, b: a + b)
    def __sub__(self, o): return self.zip(o, "sub", lambda a, b: a - b)
    def __rsub__(self, o): return self.rzip(o, "sub", lambda a, b: a - b)
    def __mul__(self, o): return self.zip(o, "mul", lambda a, b: a * b)
    def __rmul__(self, o): return self.rzip(o, "mul", lambda a, b: a * b)
    def __truediv__(self, o): return self.zip(o, "div", lambda a, b: a / b)
    def __rtruediv__(self, o): return self.rzip(o, "div", lambda a, b: a / b)
    def __pow__(self, o): return self.zip(o, "pow", lambda a, b: a**b)
    def __neg__(self): return self.map("neg", lambda a: -a)
    def __lt__(self, o): return self.zip(o, "lt", sympy.Lt)
    def __le__(self, o): return self.zip(o, "le", sympy.Le)
    def __gt__(self, o): return self.zip(o, "gt", sympy.Gt)
    def __ge__(self, o): return self.zip(o, "ge", sympy.Ge)

    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError("a symbolic tensor has no truth value; use where()")

    # -- operations that are not elementwise ---------------------------------------
    def sum(self) -> sympy.Expr:
        if self.is_generic:
            raise NotElementwise("sum over a generic tensor: state the theorem on an explicit shape")
        return sympy.Add(*self.entries)

    def __getitem__(self, index):
        if self.is_generic:
            raise NotElementwise("indexing a generic tensor: state the theorem on an explicit shape")
        flat = _flat_index(index, self.shape)
        return self.entries[flat]

    def __repr__(self) -> str:
        if self.is_generic:
            return f"SymTensor[every shape]({self.entry})"
        return f"SymTensor{self.shape}({list(self.entries)})"


def _size(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _show(shape: tuple | None) -> str:
    return "every shape (generic)" if shape is None else str(shape)


def _flat_index(index, shape) -> int:
    index = index if isinstance(index, tuple) else (index,)
    if len(index) != len(shape):
        raise IndexError(f"index {index} for shape {shape}")
    flat = 0
    for i, d in zip(index, shape):
        if not 0 <= i < d:
            raise IndexError(f"index {index} for shape {shape}")
        flat = flat * d + i
    return flat


def _scalar_or_map(op: str, fn: Callable[[sympy.Expr], sympy.Expr]):
    def apply(self, x):
        if isinstance(x, SymTensor):
            return x.map(op, fn)
        return fn(to_sympy(x))

    return apply


def _binary(op: str, fn: Callable[[Any, Any], Any]):
    def apply(self, x, y):
        if isinstance(x, SymTensor):
            return x.zip(y, op, fn)
        if isinstance(y, SymTensor):
            return y.rzip(x, op, fn)
        return fn(to_sympy(x), to_sympy(y))

    return apply


def _piecewise(condition, x, y):
    return sympy.Piecewise((x, condition), (y, True))


class SymPyContext:
    """The context of ``SymTensor``: symbolic reals (TorchLean's proof backend over ℝ)."""

    name = "sympy"

    sqrt = _scalar_or_map("sqrt", sympy.sqrt)
    square = _scalar_or_map("square", lambda a: a**2)
    abs = _scalar_or_map("abs", sympy.Abs)
    sign = _scalar_or_map("sign", sympy.sign)
    maximum = _binary("maximum", sympy.Max)
    minimum = _binary("minimum", sympy.Min)

    def where(self, condition, x, y):
        if not isinstance(condition, SymTensor):
            tensors = [v for v in (x, y) if isinstance(v, SymTensor)]
            if not tensors:
                return _piecewise(to_sympy(condition), to_sympy(x), to_sympy(y))
            condition = tensors[0].map("where", lambda _: to_sympy(condition))
        branches = [v if isinstance(v, SymTensor) else condition.map("where", lambda _: to_sympy(v)) for v in (x, y)]
        triple = zip(condition.entries, branches[0].entries, branches[1].entries)
        ops = condition.ops | branches[0].ops | branches[1].ops | {"where"}
        conditions = condition.conditions | branches[0].conditions | branches[1].conditions
        return SymTensor((_piecewise(c, a, b) for c, a, b in triple), condition.shape, ops, conditions)

    def select(self, condition, if_true, if_false):
        decided = to_sympy(condition)
        if decided is sympy.true:
            return if_true()
        if decided is sympy.false:
            return if_false()
        return self.where(decided, if_true(), if_false())

    def round_float32(self, x):
        return to_sympy(x)  # over the reals there is no rounding

    def copy(self, x):
        return x  # symbolic tensors are immutable

    def zeros_like(self, x: SymTensor) -> SymTensor:
        return x.map("zeros_like", lambda _: sympy.Integer(0))

    def full_like(self, x: SymTensor, value: Any) -> SymTensor:
        return x.map("full_like", lambda _: to_sympy(value))

    def shape(self, x: SymTensor) -> tuple:
        return GENERIC_SHAPE if x.is_generic else x.shape

    def dtype(self, x: SymTensor) -> str:
        return "real"

    def check_tensor(self, x: Any, role: str) -> None:
        if not isinstance(x, SymTensor):
            raise TypeError(f"{role} must be a SymTensor, got {type(x).__name__}")


SYMPY = SymPyContext()
register_context(SymTensor, SYMPY)
