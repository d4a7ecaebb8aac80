"""Two sides of a claim as entry pairs: whole values, every field, recursively.

A side may be a symbolic scalar or tensor, a number, a flag, ``None``, a tuple, a dict or an
optimizer state (a dataclass).  ``compare`` walks both sides together and returns one pair
per scalar entry, labelled with where it sits (``state.m``, ``[1].v_max``), so a claim about
a state says something about every field — counters, flags and hyperparameters included.
Two leaves that differ structurally (``True`` and ``False``, a buffer and ``None``, states of
two optimizers) give the pair ``(0, 1)``: false wherever the path is feasible.
"""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any

import sympy

from symbolic.tensor import Sym, SymScalar, SymTensor, aligned, exact, row_indices

MISMATCH = (sympy.Integer(0), sympy.Integer(1))


class ClaimShapeError(ValueError):
    """The two sides cannot be compared (tensors of different shapes, a tensor in an inequality
    against a structure, …)."""


@dataclass
class Compared:
    pairs: list = field(default_factory=list)         # [(label, lhs expr, rhs expr)]
    conditions: set = field(default_factory=set)
    ops: set = field(default_factory=set)
    generic: bool = False
    explicit: set = field(default_factory=set)         # explicit shapes met
    rows: set = field(default_factory=set)             # the lengths of rows of a symbolic length met
    scalars: int = 0

    def shape(self) -> str:
        parts = []
        if self.generic:
            parts.append("every shape: the trace was elementwise (ops: " + ", ".join(sorted(self.ops) or ["none"])
                         + "), so one generic entry stands for every index of every shape")
        for lengths in sorted(self.rows):
            if len(lengths) == 1:
                parts.append(f"length {lengths[0]}: one entry stands for every index i < {lengths[0]} of a row of "
                             "any length (its sums stay sums)")
            else:
                parts.append(f"shape ({', '.join(lengths)}): one entry stands for every index of a tensor of any such "
                             "shape (its sums stay sums)")
        for shape in sorted(self.explicit):
            parts.append(f"explicit shape {shape}: every entry compared")
        if not parts:
            parts.append("scalar claim")
        return "; ".join(parts)


def _is_structural(x: Any) -> bool:
    return x is None or isinstance(x, (bool, str))


def _is_number(x: Any) -> bool:
    return isinstance(x, (numbers.Real, sympy.Basic)) and not isinstance(x, bool)


def _leaf(x: Any, compared: Compared) -> Any:
    """A scalar leaf as an exact expression, or a tensor kept as it is."""
    if isinstance(x, Sym):
        compared.conditions |= set(x.conditions)
        compared.ops |= set(x.ops)
        return x.expr if isinstance(x, SymScalar) else x
    return exact(x)


def compare(lhs: Any, rhs: Any, label: str = "", inequality: bool = False) -> Compared:
    compared = Compared()
    _walk(lhs, rhs, label, compared, inequality)
    return compared


def _walk(a: Any, b: Any, label: str, out: Compared, inequality: bool) -> None:
    if dataclasses.is_dataclass(a) or dataclasses.is_dataclass(b):
        if type(a) is not type(b):
            return _mismatch(label, f"{_kind(a)} against {_kind(b)}", out, inequality)
        for f in dataclasses.fields(a):
            _walk(getattr(a, f.name), getattr(b, f.name), _join(label, f.name), out, inequality)
        return
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        if not (isinstance(a, (tuple, list)) and isinstance(b, (tuple, list))) or len(a) != len(b):
            return _mismatch(label, f"{_kind(a)} against {_kind(b)}", out, inequality)
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(x, y, f"{label}[{i}]", out, inequality)
        return
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or set(a) != set(b):
            return _mismatch(label, f"{_kind(a)} against {_kind(b)}", out, inequality)
        for key in a:
            _walk(a[key], b[key], _join(label, str(key)), out, inequality)
        return
    if _is_structural(a) or _is_structural(b):
        if type(a) is type(b) and a == b:
            return
        return _mismatch(label, f"{a!r} against {b!r}", out, inequality)
    if not (isinstance(a, Sym) or _is_number(a)) or not (isinstance(b, Sym) or _is_number(b)):
        raise ClaimShapeError(f"{label or 'the claim'}: cannot compare {type(a).__name__} with "
                              f"{type(b).__name__}")
    _entries(_leaf(a, out), _leaf(b, out), label, out)


def _entries(a: Any, b: Any, label: str, out: Compared) -> None:
    tensors = [v for v in (a, b) if isinstance(v, SymTensor)]
    if not tensors:
        out.scalars += 1
        out.pairs.append((label, a, b))
        return
    shape = tensors[0].shape
    if isinstance(a, SymTensor) and isinstance(b, SymTensor) and a.is_row:
        b = aligned(b, shape)       # Aᵀ of shape (m′, m) beside A of (m, m′): its entry at (i, i2)
        tensors = [a, b]
    if any(t.shape != shape for t in tensors):
        raise ClaimShapeError(f"{label or 'the claim'}: the sides have different shapes "
                              f"({_shape(a)} and {_shape(b)})")
    if shape is None:
        out.generic = True
    elif tensors[0].is_row:
        out.rows.add(tuple(map(str, shape)))
    else:
        out.explicit.add(shape)
    count = len(tensors[0].entries)
    left = a.entries if isinstance(a, SymTensor) else (a,) * count
    right = b.entries if isinstance(b, SymTensor) else (b,) * count
    row_index = "[" + ", ".join(letter for letter, _ in row_indices(shape)) + "]" if tensors[0].is_row else ""
    for index, (x, y) in enumerate(zip(left, right)):   # a row's [i], a matrix's [i, j]
        out.pairs.append((label if shape is None else f"{label}{row_index}" if tensors[0].is_row else f"{label}[{index}]",
                          x, y))


def _mismatch(label: str, what: str, out: Compared, inequality: bool) -> None:
    if inequality:
        raise ClaimShapeError(f"{label or 'the claim'}: an inequality compares numbers, got {what}")
    out.pairs.append((f"{label} ({what})", *MISMATCH))


def _join(label: str, name: str) -> str:
    return f"{label}.{name}" if label else name


def _kind(x: Any) -> str:
    if dataclasses.is_dataclass(x):
        return f"{type(x).__module__}.{type(x).__qualname__}"
    if isinstance(x, (tuple, list)):
        return f"a sequence of {len(x)}"
    if isinstance(x, dict):
        return f"a dict with keys {sorted(map(str, x))}"
    return "None" if x is None else type(x).__name__


def _shape(x: Any) -> str:
    if isinstance(x, SymTensor):
        return "every shape" if x.is_generic else str(x.shape)
    return "a scalar"
