"""The SymPy backend: symbolic values whose every operation is recorded as it executes.

Optimizer code runs unchanged on three kinds of value:

* ``SymScalar`` — a real number (a hyperparameter, a bias correction, a step counter);
* ``SymTensor`` — a tensor: **generic** (``shape is None``: one expression standing for the
  entry at an arbitrary index of a tensor of arbitrary shape; only elementwise operations
  exist for it, so a finished trace proves "every shape") or **explicit** (every entry
  spelled out, for updates that are not elementwise; a proof covers that shape only);
* ``SymBool`` — a condition (``lr > 0``, ``momentum != 0``): using it in an ``if`` asks the
  path explorer (``symbolic.paths``) to decide it or to run both ways.

Why wrappers and not bare SymPy expressions: SymPy evaluates at construction, so
``(a·b)/b`` is already ``a`` and ``Float(0.1)·3`` is already rounded before anything can
look at it.  Every operation here first records what makes it defined — a divisor ≠ 0, a
radicand ≥ 0, a power's base and exponent — on its operands *before* SymPy sees the result,
and every Python number becomes its exact value before any arithmetic.  Nothing leaves this
world silently: NumPy functions, ``float()``, a shape's length, a raw SymPy expression with
symbols in it, all raise.
"""
from __future__ import annotations

import fractions
import itertools
import math
import numbers
from typing import Any, Callable, Iterable

import numpy as np
import sympy

from optim.context import register_context
from symbolic.obligation import NONNEGATIVE, NONZERO, POWER, Condition


# Every refusal raised while a build runs, so the path explorer can reject a build that caught
# one and went on: code like ``try: math.floor(v) except TypeError: v`` computes something on
# symbols that it would not compute on numbers.
REFUSALS: list = []


class Refusal(Exception):
    """A symbolic value cannot do what was asked.  Recorded as it is raised (``REFUSALS``)."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        REFUSALS.append(self)


class NotElementwise(Refusal, TypeError):
    """A non-elementwise operation was asked of a generic (every-shape) tensor."""


class NotInRoundingModel(Refusal, TypeError):
    """An operation the rounding model (``x.rounding``) has no sound error for."""


class SymbolicValueError(Refusal, TypeError):
    """A symbolic value was used where only a concrete one works (float(), NumPy, hash, ...)."""


class AmbiguousTruth(Refusal, ValueError):
    """The truth value of a tensor with several entries (NumPy's ValueError)."""


class NotFinite(Refusal, ValueError):
    """nan or an infinity entering a symbolic computation."""


class EveryShape:
    """The shape of a generic tensor: equal to itself, with no length, no dimensions to
    read and no size, so no code can branch on a concrete shape it does not have."""

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, EveryShape):
            return True  # the tensors of one theorem share its arbitrary shape
        raise NotElementwise(f"comparing every shape with the concrete shape {other!r}: a tensor of every "
                             "shape has no concrete shape to branch on")

    def __ne__(self, other: Any) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(EveryShape)

    def _refuse(self, *_: Any) -> Any:
        raise NotElementwise("a tensor of every shape has no concrete dimensions: state the theorem "
                             "on an explicit shape (x.tensor(name, shape=(…)))")

    __len__ = __iter__ = __getitem__ = __index__ = __int__ = _refuse

    def __repr__(self) -> str:
        return "every shape"


EVERY_SHAPE = EveryShape()

# Set while the second check (proofs.crosscheck) re-runs a theorem on explicit numbers: the
# theorem's hypotheses then read ``.entry`` of explicit tensors, and are not used.
CONCRETE_CHECK = False
GENERIC_SHAPE = EVERY_SHAPE


# ---------------------------------------------------------------------------------------
# The standard rounding model, on demand (``proofs.harness.Given.rounding``): while ROUNDING is
# set, every arithmetic result — each entry of a tensor, each scalar — is its exact value times
# (1 + δ), ROUNDING(kind) giving a fresh δ that the theorem bounds (or None: that kind of
# operation is exact in the model).  Kinds: "tensor" (an entry of a tensor operation), "scalar"
# (Python arithmetic on scalars), "convert" (a scalar entering a tensor operation, cast to the
# tensor's dtype) and "float32" (``round_float32``).

# ROUNDING(kind, like=δ) is a fresh copy of δ (its bounds), ROUNDING("sum", terms=n) the error
# of a sum of n terms of one sign (γ_{n−1} = (n − 1)u / (1 − (n − 1)u), Higham's Lemma 3.1),
# ROUNDING("row sum", terms=n, summand=s) (the exact summand, φ) for a summand with a lemma, or None.
# The model is closed: an operation that is neither rounded here nor exact (EXACT_OPS) raises
# NotInRoundingModel while ROUNDING is set, so a claim about it can never be shown.

ROUNDING: Callable | None = None
ROUNDING_ERRORS: set = set()    # every δ, θ, σ ROUNDING declared (proofs.harness adds them)
ROUNDED_OPS = frozenset({"add", "sub", "mul", "truediv", "pow", "sqrt", "square"})
EXACT_OPS = frozenset({"neg", "abs", "sign", "maximum", "minimum", "where", "full_like"})


def _with_error(kind: str, value: sympy.Expr, op: str = "") -> sympy.Expr:
    """Exact: Python's arithmetic on integers (the step counter's t + 1, at any size), and a
    number float32 holds (an integer of at most 2²⁴, 0.5, 0.25, …) entering a tensor operation or
    stored as float32.  A symbolic integer entering a tensor operation rounds: it may exceed 2²⁴."""
    if ROUNDING is None:
        return value
    if getattr(value, "is_integer", False) is True and kind == "scalar":
        return value
    if kind in ("convert", "float32") and _float32_holds(value):
        return value
    delta = _fresh_error(kind, op)
    return value if delta is None else value * (1 + delta)


def _float32_holds(value: sympy.Expr) -> bool:
    """A number float32 stores exactly: p/2ᵏ with |p| < 2²⁴ odd, in float32's normal range."""
    if not (isinstance(value, sympy.Rational) and value.is_number):
        return False
    if value == 0:
        return True
    numerator, denominator = abs(int(value.p)), int(value.q)
    if denominator & (denominator - 1):                 # not a power of two: no binary fraction
        return False
    odd = numerator >> ((numerator & -numerator).bit_length() - 1)
    return odd < 2**24 and 2.0**-126 <= abs(value) <= 2.0**127


def _power_of_two(value: Any) -> bool:
    """±2ᵏ: a product or quotient by it only moves the exponent."""
    if not isinstance(value, sympy.Rational) or value == 0:
        return False
    p, q = abs(int(value.p)), int(value.q)
    return (p & (p - 1)) == 0 and (q & (q - 1)) == 0


def exact_in_floats(op: str, operands: list) -> bool:
    """Whether floats compute ``op`` of these operands (exact values; a number where one is a
    constant) exactly, barring underflow and overflow, which the model leaves out: x·(±2ᵏ),
    x/(±2ᵏ), x ± 0, 0 ± x, x·0, 0/x.  Schedule-free's ``lr * 1.0`` and NAdam's 0.5·… are
    exact: rounding them would make the rounded run branch where the real one does not."""
    if op not in ("add", "sub", "mul", "truediv") or len(operands) != 2:
        return False
    left, right = operands
    zero = [isinstance(o, sympy.Expr) and o.is_number and o == 0 for o in operands]
    if op in ("add", "sub"):
        return any(zero)
    if op == "mul":
        return any(zero) or _power_of_two(left) or _power_of_two(right)
    return zero[0] or _power_of_two(right)


def _constant(entries: tuple) -> sympy.Expr | None:
    """The number every entry is (a broadcast constant, zeros_like), or None."""
    first = entries[0] if entries else None
    if isinstance(first, sympy.Expr) and first.is_number and all(e == first for e in entries):
        return first
    return None


def _fresh_error(kind: str, op: str) -> sympy.Expr | None:
    """A new δ for one ``op`` of ``kind``: libm's pow is within 1 ulp (2u), not correctly
    rounded, so a power's δ gets twice the unit."""
    return ROUNDING(kind, ulps=2 if op == "pow" else 1)


def _check_modeled(op: str) -> None:
    if ROUNDING is not None and op not in ROUNDED_OPS and op not in EXACT_OPS and op not in RELATIONS:
        raise NotInRoundingModel(f"the rounding model (x.rounding) has no error bound for {op!r}: "
                                 "a claim about it cannot be shown")


def refuse_in_rounding_model(what: str) -> None:
    """For functions computed outside these wrappers (a schedule's cos and log, the float π):
    the rounding model does not bound their error (libm's cos is not correctly rounded)."""
    if ROUNDING is not None:
        raise NotInRoundingModel(f"the rounding model (x.rounding) has no error bound for {what}")


# A scalar computed from a reduction or an entry is a NumPy scalar of the tensor's dtype, not a
# Python float: NumPy (2, NEP 50) keeps that dtype when it meets Python numbers, so its
# arithmetic rounds at the tensor's u, not at float64's.
TENSOR_DTYPE_OPS = frozenset({"sum", "index"})


def _rounded(op: str, value: sympy.Expr, ops: frozenset = frozenset(), operands: list = ()) -> sympy.Expr:
    if op not in ROUNDED_OPS or ROUNDING is None or exact_in_floats(op, operands):
        return value
    return _with_error("tensor" if ops & TENSOR_DTYPE_OPS else "scalar", value, op)


# ---------------------------------------------------------------------------------------
# Rows: tensors whose axes have symbolic lengths (a vector of length n, a matrix (m, n), its
# row factor (m, 1)): one generic entry for the entry at the generic index (i for n; i, j for
# (m, n)), and sums over indices.

class RowSum(sympy.Function):
    """Σ e over the indices of the lengths ``args[1:]``: ``args[0]`` is an expression in rows'
    generic entries (``p_i``, ``g_i_j``; Σ_(j<n) g_i_j² still depends on i).  Never evaluated:
    ``row_total`` keeps it linear and canonical, and ``proofs.harness`` gives each distinct one a
    variable of its own before anything is decided (a generalisation: PROVED stays sound, a
    counterexample is not one to the theorem)."""


ROW_ENTRIES: dict = {}   # a row's generic entry symbol -> the lengths (symbols) of the axes it varies along
ROW_INDICES: dict = {}   # a row's generic entry symbol -> {length: the letter of its index (i, j)}
ROW_LENGTHS: dict = {}   # a length's name -> its symbol (ℕ ≥ 1), which may enter a computation
# The sums over rows taken while a theorem is built, (sum, summand): proofs.harness adds Σ ≥ 0 for
# a summand that is ≥ 0 (a norm's u_i²), a fact the split into separate sums loses
# (Σ (a_i + b_i)² becomes Σ a² + 2·Σ a·b + Σ b²).
ROW_TOTALS: list = []
# (S, T) with |S| ≤ T, a sum over rows and a majorant of it (Σ_k A_ik·X_kj and Σ_k P_ik·|X_kj|):
# proofs.harness states it for the sums' variables, the triangle inequality they would lose.
MAJORIZED: list = []
INDEX_LETTERS = {1: "i", 2: "ij", 3: "hij"}   # a row's indices, by its number of axes
# A row's entry symbol -> (its tensor's name, its declared shape, the axes it stands at, its
# assumptions): the same tensor at other indices (X_i2_j beside X_i_j) is another symbol.
ENTRY_OF: dict = {}

# ---------------------------------------------------------------------------------------
# Aliases: a second index over one axis.  X·Xᵀ of an (m, n) matrix is an (m, m) matrix, whose
# entry Σ_j X_i_j·X_i2_j needs two indices i, i2 over the rows: i2 is the index of m′, an alias
# of m — another length symbol that stands for m.  A product or the code's shapes always see m
# (``base_length``); only entries and sums tell the indices apart.  Renaming an index (the same
# tensor at another index) is capture-avoiding (a sum binding the new name is renamed first),
# and in the rounding model it gives every rounding error of the renamed value a fresh copy:
# two entries of one tensor round independently.

ALIAS_BASE: dict = {}   # an alias (m′, m″, …: no identifier, so no variable's name) -> its length (m)
NONNEGATIVE_ENTRIES: set = set()   # rows' entries whose domain is ≥ 0 (proofs.harness adds them; SymPy's symbols say real only)
ALIAS_ENTRIES: set = set()   # the entries at other indices (X_i2_j): proofs.harness refuses a variable of that name
_ALIASES: dict = {}     # (m, r) -> m with r primes


def base_length(d: Any) -> Any:
    return ALIAS_BASE.get(d, d)


def alias_of(length: sympy.Symbol, r: int) -> sympy.Symbol:
    """The r-th alias of a length (r = 0: the length itself)."""
    if r == 0:
        return length
    if (length, r) not in _ALIASES:
        alias = sympy.Symbol(length.name + "′" * r, integer=True, positive=True)
        _ALIASES[(length, r)] = alias
        ALIAS_BASE[alias] = length
    return _ALIASES[(length, r)]


def unused_alias(length: sympy.Symbol, taken: Any) -> sympy.Symbol:
    """The first alias of ``length``'s axis not in ``taken``."""
    base = base_length(length)
    r = 0
    while alias_of(base, r) in taken:
        r += 1
    return alias_of(base, r)


def _primes(d: sympy.Symbol) -> int:
    """r for the r-th alias (its name is its length's and r primes)."""
    return len(d.name) - len(base_length(d).name)


def _entry_at(entry: sympy.Symbol, axes: tuple) -> sympy.Symbol:
    """A row's entry symbol at other indices: X_i_j at (m′, n) is X_i2_j."""
    name, declared, _, assumptions = ENTRY_OF[entry]
    letters = dict(row_indices(declared))
    by_base = {d: letter for letter, d in letters.items()}
    letter = {d: by_base[base_length(d)] + (str(_primes(d) + 1) if _primes(d) else "")
              for d in axes if isinstance(d, sympy.Symbol)}
    symbol = sympy.Symbol(f"{name}_{'_'.join(letter.values())}", **assumptions)   # X_i2_j: an identifier
    # registered each time: an earlier theorem's X (other lengths, of the same names) left its own
    ROW_ENTRIES[symbol] = frozenset(letter)
    ROW_INDICES[symbol] = letter
    ENTRY_OF[symbol] = (name, declared, tuple(axes), assumptions)
    if tuple(axes) != tuple(declared):      # moved back to its own indices, it is the declared entry
        ALIAS_ENTRIES.add(symbol)
    if entry in NONNEGATIVE_ENTRIES:    # the set is the running theorem's (cleared at each build)
        NONNEGATIVE_ENTRIES.add(symbol)
    return symbol


def renamed(expr: sympy.Expr, mapping: dict) -> sympy.Expr:
    """``expr`` with its free indices moved, all at once: the index of each length d in
    ``mapping`` becomes that of mapping[d] (a length of the same axis).  A sum that binds a
    length named in the mapping shadows it; one that binds a target is renamed first."""
    mapping = {k: v for k, v in mapping.items() if k != v}
    if not mapping:
        return expr
    if isinstance(expr, RowSum):
        summand, bound = expr.args[0], list(expr.args[1:])
        inner = {k: v for k, v in mapping.items() if k not in bound}
        if not inner:
            return expr
        taken = set(inner) | set(inner.values()) | varies_along(summand) | set(bound)
        alpha = {}
        for b in bound:
            if b in inner.values():
                alpha[b] = unused_alias(b, taken)
                taken.add(alpha[b])
        summand = renamed(renamed(summand, alpha), inner)
        return RowSum(summand, *sorted((alpha.get(b, b) for b in bound), key=sympy.default_sort_key))
    if expr in ENTRY_OF:
        axes = ENTRY_OF[expr][2]
        moved = tuple(mapping.get(d, d) for d in axes)
        return expr if moved == axes else _entry_at(expr, moved)
    if not expr.args:
        return expr
    return expr.func(*[renamed(a, mapping) for a in expr.args])


def _moved(x: "SymTensor", mapping: dict) -> sympy.Expr:
    """The entry of ``x`` at moved indices (``renamed``), as a value of its own: in the rounding
    model each rounding error in it is a fresh copy (another entry rounds independently)."""
    entry = renamed(x.entries[0], mapping)
    # another entry even where it reads the same (a Gram matrix's (i2, i) and (i, i2)): its own roundings
    moved = any(k != v for k, v in mapping.items() if k in varies_along(x.entries[0]))
    errors = sorted(entry.free_symbols & ROUNDING_ERRORS, key=sympy.default_sort_key) if moved else []
    if errors and ROUNDING is None:
        raise NotInRoundingModel("an entry of a rounded matrix at other indices (its transpose, a product) "
                                 "rounds independently of it: take it inside the rounding block")
    return entry.xreplace({d: ROUNDING("tensor", like=d) for d in errors}) if errors else entry


def is_row_shape(shape: Any) -> bool:
    """A shape whose every axis is a length symbol or 1, one symbol at least, no symbol twice (a
    square (n, n) would make its two indices one)."""
    if shape is None or not 1 <= len(shape) <= 3:
        return False
    lengths = [d for d in shape if isinstance(d, sympy.Symbol)]
    return bool(lengths) and len(set(lengths)) == len(lengths) and all(
        isinstance(d, sympy.Symbol) or d == 1 for d in shape)


def row_indices(shape: tuple) -> list:
    """[(letter, length)] for a row's axes of a symbolic length, in axis order: (m, n) gives
    [("i", m), ("j", n)], its row factor (m, 1) [("i", m)] — the names of its entry's indices."""
    return [(letter, d) for letter, d in zip(INDEX_LETTERS[len(shape)], shape) if isinstance(d, sympy.Symbol)]


def row_lengths(shape: tuple) -> frozenset:
    """The lengths a row's entry varies along: its axes of a symbolic length."""
    return frozenset(d for d in shape if isinstance(d, sympy.Symbol))


def varies_along(expr: sympy.Expr) -> frozenset:
    """The lengths whose index ``expr`` depends on: its rows' entries', less those a sum in it
    took (Σ_(j<n) g_i_j² depends on i only)."""
    memo: dict = {}

    def walk(e: sympy.Basic) -> frozenset:
        if e in memo:
            return memo[e]
        if isinstance(e, RowSum):
            out = walk(e.args[0]) - frozenset(e.args[1:])
        elif e in ROW_ENTRIES:
            out = ROW_ENTRIES[e]
        else:
            out = frozenset().union(*(walk(a) for a in e.args)) if e.args else frozenset()
        memo[e] = out
        return out

    return walk(expr)


def _sum_of(summand: sympy.Expr, lengths: frozenset) -> sympy.Expr:
    """Σ summand over the indices of ``lengths``, canonical: an axis the summand does not vary
    along multiplies it by its length; a sum of a sum is one sum over both."""
    varying = varies_along(summand) & lengths
    constant = sympy.Mul(*(base_length(d) for d in sorted(lengths - varying, key=sympy.default_sort_key)))
    if not varying or summand == 1:
        return constant * summand
    if isinstance(summand, RowSum):
        varying, summand = varying | frozenset(summand.args[1:]), summand.args[0]
    return constant * RowSum(summand, *sorted(varying, key=sympy.default_sort_key))


def row_total(expr: sympy.Expr, lengths: Any) -> sympy.Expr:
    """Σ expr over the indices of ``lengths`` (a length symbol, or several), linear: every term
    split into its factors that do not depend on those indices (numbers, scalars, sums already
    taken over them) and those that do."""
    lengths = frozenset(lengths) if isinstance(lengths, (set, frozenset, tuple, list)) else frozenset({lengths})
    taken = {a: sympy.Dummy() for a in expr.atoms(RowSum)}
    back = {d: a for a, d in taken.items()}
    by_summand: dict = {}
    for term in _distributed(_absolute_factors(expr.xreplace(taken))):
        inside, outside = [], []
        for factor in _factors(term):
            (inside if varies_along(factor.xreplace(back)) & lengths else outside).append(factor)
        summand = sympy.Mul(*inside).xreplace(back)
        by_summand[summand] = by_summand.get(summand, 0) + sympy.Mul(*outside).xreplace(back)
    return sympy.Add(*(c * _sum_of(summand, lengths) for summand, c in by_summand.items()))


def _absolute_factors(expr: sympy.Expr) -> sympy.Expr:
    """|a·b| as |a|·|b|: one form for Σ|a_i·b_i| whether the code took |a·b| or |a|·|b| (|X|·|Y|ᵀ)."""
    return expr.replace(lambda e: isinstance(e, sympy.Abs) and e.args[0].is_Mul,
                        lambda e: sympy.Mul(*(_absolute(f) for f in e.args[0].args)))


def rounded_row_total(summand: sympy.Expr, lengths: frozenset, conditions: frozenset = frozenset()) -> sympy.Expr:
    """fl(Σ summand) over the indices of ``lengths`` in the rounding model, where ``summand`` is
    the generic entry with its rounding errors δ shared by every index (one δ standing for each
    entry's own).  Written as Σ_k c_k·a_{ik}·G_k(δ) with a_{ik} ≥ 0 free of δ and G_k free of the
    summed indices i, each term's sum with the summation's own errors θ_i (|θ_i| ≤ γ_{N−1}, N the
    number of terms) is Σ_i a_{ik}·G_k(δ_i)·(1 + θ_i), a convex
    combination of values of G_k·(1 + θ) on a connected box: (Σ_i a_{ik})·G_k(δ′)·(1 + θ′) for
    some δ′, θ′ in it.  So each term gets fresh copies δ′ of its δ and a fresh θ′ (independent
    across terms: more freedom than the model has, so a bound shown still holds).  Where a_{ik}
    has no shown sign the term is Σ a + Σ|a|·σ·(G′·(1 + θ′) − 1) (``_signed_sum``): with
    cancellation the errors do not shrink with the sum, they shrink with Σ|a|.  A summand whose
    rounding cannot be separated from the row's values (√(x_i·(1 + δ)) of unknown sign) raises —
    unless the theorem gave it a lemma (``rounding.row_sum_error_at_most``): then ROUNDING("row
    sum") writes the sum as the exact one times (1 + φ), with the lemma's bound on φ."""
    deltas = summand.free_symbols & ROUNDING_ERRORS
    terms = sympy.Mul(*(base_length(d) for d in sorted(lengths, key=sympy.default_sort_key)))
    # A summand the theorem gave a lemma takes it even where it splits: Adafactor's mean of its
    # row factor R̂ splits into (1 − ŵ)·Σ R + ŵ·Σ mean(g²), and 1 − ŵ has no sign at ŵ ≈ 1
    by_lemma = ROUNDING("row sum", terms=terms, summand=summand, conditions=conditions)
    if by_lemma is not None:
        exact, error = by_lemma
        weighted = row_total(exact, lengths)
        ROW_TOTALS.append((weighted, exact))
        return weighted * (1 + error)
    split = _split_for_sum(summand, lengths, deltas)
    total = []
    for coefficient, weight, errors in split:
        copies = {d: ROUNDING("tensor", like=d) for d in errors.free_symbols & deltas}
        rounded = errors.xreplace(copies) * (1 + ROUNDING("sum", terms=terms))
        weighted = row_total(weight, lengths)
        ROW_TOTALS.append((weighted, weight))
        if _one_sign(weight):
            total.append(coefficient * weighted * rounded)
        else:
            total.append(coefficient * _signed_sum(weighted, weight, lengths, rounded))
    return sympy.Add(*total)


def _signed_sum(weighted: sympy.Expr, weight: sympy.Expr, lengths: frozenset, rounded: sympy.Expr) -> sympy.Expr:
    """Σ_i a_i·h(δ_i, θ_i) for row values a_i of no shown sign, h = G·(1 + θ) the roundings, c =
    h(0) (1 for roundings): c·Σ a + Σ|a|·σ·(h(δ′, θ′) − c) for a fresh σ in [−1, 1] and fresh
    copies δ′, θ′.  Why it holds: Σ a_i·(h_i − c) is at most Σ|a|·M in size, M = max |h − c|
    on the box, which |h − c| reaches at some point (δ′, θ′) of it (a continuous function on a
    compact box); σ is the ratio (0 where M or Σ|a| is).  A sum of values of both signs can
    cancel: its error is bounded by Σ|a|, never by |Σ a| (Higham's (3.4), any order)."""
    size = majorant(weight)
    magnitude = row_total(size, lengths)
    ROW_TOTALS.append((magnitude, size))
    MAJORIZED.append((weighted, magnitude))
    center = rounded.xreplace({d: 0 for d in rounded.free_symbols & ROUNDING_ERRORS})
    return center * weighted + magnitude * ROUNDING("sign") * (rounded - center)


def majorant(e: sympy.Expr) -> sympy.Expr:
    """An expression ≥ |e| everywhere: |·| moved onto the leaves through products, natural powers,
    sums over rows (|Σ x_j| ≤ Σ |x_j|) and sums that hold one, |e| itself elsewhere.  A signed row sum's
    error is carried relative to Σ majorant(a) ≥ Σ|a| (still a bound), in the form |X|·|X|ᵀ·|X|
    takes: the code run on |X| names what the roundings of X·Xᵀ·X are relative to."""
    if e.is_number:
        return abs(e)
    if e.is_nonnegative is True or e in NONNEGATIVE_ENTRIES:
        return e
    if isinstance(e, RowSum):
        total = row_total(majorant(e.args[0]), frozenset(e.args[1:]))
        MAJORIZED.append((e, total))
        return total
    if e.is_Mul or e.is_Add and e.has(RowSum):     # |a_i + b_i| stays: tighter than |a_i| + |b_i|
        return e.func(*(majorant(a) for a in e.args))
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        return majorant(e.base) ** e.exp
    return _absolute(e)


def _one_sign(a: sympy.Expr) -> bool:
    return a.is_nonnegative is True or (-a).is_nonnegative is True


def _split_for_sum(term: sympy.Expr, lengths: frozenset, deltas: set) -> list:
    """``term`` as [(c, a_i, G(δ))]: c free of the summed indices i and of δ, a_i free of δ (of
    one sign, or of none: ``_signed_sum``), G free of i."""
    coefficient, weight, errors = [], [], []
    factors = list(sympy.Mul.make_args(term))
    for k, factor in enumerate(factors):
        in_row, rounded = bool(varies_along(factor) & lengths), bool(factor.free_symbols & deltas)
        if in_row and rounded:
            rest = sympy.Mul(*(factors[:k] + factors[k + 1:]))
            base = factor.base if factor.is_Pow and factor.exp.is_Integer and factor.exp > 1 else factor
            if not base.is_Add:
                raise NotInRoundingModel(
                    f"a sum over a row of {term}: an entry's rounding cannot be separated from the row's "
                    "values, and the rounding model bounds such a sum only then")
            spread = sympy.expand(factor) if base is not factor else factor
            return [split for part in sympy.Add.make_args(spread)
                    for split in _split_for_sum(part * rest, lengths, deltas)]
        (weight if in_row else errors if rounded else coefficient).append(factor)
    return [(sympy.Mul(*coefficient), sympy.Mul(*weight), sympy.Mul(*errors))]


def _factors(term: sympy.Expr) -> list:
    """The factors of a product, a sum raised to an integer power split further by its common
    factor: 1/(c²·v_i + c²·g_i²) is c⁻² times 1/(v_i + g_i²), so a constant leaves the sum
    (for an integer power only: √(c²·x) = c·√x needs c ≥ 0)."""
    out = []
    for factor in sympy.Mul.make_args(term):
        if factor.is_Pow and factor.exp.is_Integer and factor.base.is_Add:
            common = sympy.factor_terms(factor.base)
            if common.is_Mul:
                out += [part ** factor.exp for part in common.args]
                continue
        out.append(factor)
    return out


def _distributed(expr: sympy.Expr, limit: int = 4000) -> list:
    """The additive terms of ``expr`` with its sums and positive integer powers of sums multiplied
    out, and nothing else: a denominator stays one factor (SymPy's ``expand`` would multiply it
    out too, merging a sum already taken into an entry's denominator).  Past ``limit`` terms the
    expression is one term (its sum then kept whole: still exact, less canonical)."""
    def terms(e: sympy.Expr) -> list:
        if e.is_Add:
            return [t for a in e.args for t in terms(a)]
        if e.is_Mul:
            out = [sympy.Integer(1)]
            for factor in e.args:
                out = [a * b for a in out for b in terms(factor)]
                if len(out) > limit:
                    raise OverflowError
            return out
        if e.is_Pow and e.exp.is_Integer and e.exp > 1 and e.base.is_Add:
            return terms(sympy.Mul(*[e.base] * int(e.exp), evaluate=False))
        return [e]

    try:
        return terms(expr)
    except OverflowError:
        return [expr]


# ---------------------------------------------------------------------------------------
# Exact entry of Python and NumPy numbers.

def exact(x: Any) -> sympy.Expr:
    """A concrete number as the exact real it stores; raises for anything that could hide an
    operation (a SymPy expression with symbols) or has no exact real value (nan, a Float)."""
    if isinstance(x, sympy.Basic):
        return _exact_sympy(x)
    if isinstance(x, bool):
        return sympy.Integer(int(x))
    if isinstance(x, numbers.Integral):
        return sympy.Integer(int(x))
    if isinstance(x, fractions.Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    if isinstance(x, numbers.Real):  # Python float, NumPy float16/32/64 and longdouble scalars
        ratio = getattr(x, "as_integer_ratio", None)
        if ratio is None:
            raise SymbolicValueError(f"{type(x).__name__} has no exact binary value to enter a symbolic "
                                     "computation")
        try:
            numerator, denominator = ratio()  # the stored value, exactly (longdouble too)
        except (OverflowError, ValueError):
            raise NotFinite(f"{x!r} has no real value: a symbolic computation needs finite numbers") from None
        return sympy.Rational(int(numerator), int(denominator))
    if hasattr(x, "__array__") and hasattr(x, "shape"):
        raise SymbolicValueError("a NumPy array cannot enter a symbolic computation: use the "
                                 "theorem's symbolic tensors")
    raise SymbolicValueError(f"{type(x).__name__} is not a number a symbolic computation accepts")


def _exact_sympy(x: sympy.Basic) -> sympy.Expr:
    if _product_of_lengths(x):   # a row's length n, or a matrix's size m·n, from its shape
        return x
    if x in (sympy.true, sympy.false):
        return sympy.Integer(1 if x is sympy.true else 0)
    if x.has(sympy.Float):
        raise SymbolicValueError(f"the SymPy Float in {x} was already rounded: pass Python floats "
                                 "or exact numbers (sympy.Rational)")
    if x.free_symbols or not x.is_number:
        raise SymbolicValueError(
            f"a raw SymPy expression ({x}) cannot enter a symbolic computation: SymPy may already "
            "have simplified away a division or a root in it. Build values from the theorem's "
            "variables (x.real(…), x.tensor(…)) and the context's functions (ctx.sqrt, …)")
    if not x.is_Rational:  # Pow(-1, 1/2, evaluate=False) is a number, and not a real one
        raise SymbolicValueError(
            f"the raw SymPy number {x} is not rational: SymPy may hide an operation in it (an "
            "unevaluated root of a negative number). Compute it with the context (ctx.sqrt(2))")
    return x


def _product_of_lengths(x: sympy.Basic) -> bool:
    return all(isinstance(f, sympy.Symbol) and ROW_LENGTHS.get(f.name) == f for f in sympy.Mul.make_args(x)) \
        and isinstance(x, (sympy.Symbol, sympy.Mul))


def to_sympy(x: Any) -> sympy.Expr:
    """The exact SymPy value of a number or of a symbolic scalar (kept for callers that only
    need the expression; operations should go through the wrappers)."""
    if isinstance(x, SymScalar):
        return x.expr
    return exact(x)


# ---------------------------------------------------------------------------------------
# Recording definedness.

def _power_conditions(base: sympy.Expr, exponent: sympy.Expr) -> set:
    """What makes base**exponent a real number, as recorded conditions."""
    if exponent.is_Integer:
        return set() if exponent >= 0 else {Condition(NONZERO, base, origin="pow")}
    if exponent.is_Rational:
        found = {Condition(NONNEGATIVE, base, origin="pow")}
        if exponent < 0:
            found.add(Condition(NONZERO, base, origin="pow"))
        return found
    return {Condition(POWER, base, exponent, origin="pow")}


def _division(a: sympy.Expr, b: sympy.Expr) -> tuple[sympy.Expr, set]:
    return a / b, {Condition(NONZERO, b, origin="div")}


def _power(a: sympy.Expr, b: sympy.Expr) -> tuple[sympy.Expr, set]:
    return a**b, _power_conditions(a, b)


def _sqrt(a: sympy.Expr) -> tuple[sympy.Expr, set]:
    return sympy.sqrt(a), {Condition(NONNEGATIVE, a, origin="sqrt")}


def _total(fn: Callable[..., sympy.Expr]) -> Callable[..., tuple[sympy.Expr, set]]:
    """An operation defined everywhere: it adds no condition."""
    return lambda *args: (fn(*args), set())


ADD = _total(lambda a, b: a + b)
SUB = _total(lambda a, b: a - b)
MUL = _total(lambda a, b: a * b)
NEG = _total(lambda a: -a)


def _absolute(a: sympy.Expr) -> sympy.Expr:
    """|a|.  Where SymPy cannot show a real (a quotient whose divisor may be 0: 2/(1 − β) − …),
    its Abs rewrites |a| as √(a·conj(a)) multiplied out: the same value for real symbols, at
    a cost that grows with a's size (minutes for RAdam's step), in a form no error analysis or
    bound reads.  |a| is then kept as written."""
    if a.is_extended_real is None and all(s.is_extended_real for s in a.free_symbols):
        return sympy.Abs(a, evaluate=False)
    return sympy.Abs(a)


ABS = _total(_absolute)
SIGN = _total(sympy.sign)
SQUARE = _total(lambda a: a * a)
MAX = _total(sympy.Max)
MIN = _total(sympy.Min)
RELATIONS = {"lt": sympy.Lt, "le": sympy.Le, "gt": sympy.Gt, "ge": sympy.Ge, "eq": sympy.Eq, "ne": sympy.Ne}


class Sym:
    """What every symbolic value has: the operations that produced it and the definedness
    conditions they needed."""

    __slots__ = ("ops", "conditions")
    _op_priority = 100.0          # SymPy defers to our operators (Rational(1, 2) * x)
    __array_ufunc__ = None        # NumPy defers too, and its ufuncs refuse us
    # for code that computes functions outside these wrappers (optim.lr_scheduler's cos, log, π)
    refuse_in_rounding_model = staticmethod(refuse_in_rounding_model)

    def __array_function__(self, func, types, args, kwargs):
        raise SymbolicValueError(
            f"numpy.{func.__name__} on a symbolic value: NumPy would treat it as a 0-d object array "
            "and compute something else. Use the context (ctx.sqrt, ctx.maximum, …); reductions "
            "need an explicit shape (tensor.sum())")

    def __array__(self, *_: Any, **__: Any):
        raise SymbolicValueError("a symbolic value cannot become a NumPy array")

    def _no_value(self, *_: Any) -> Any:
        raise SymbolicValueError(f"{type(self).__name__} has no concrete value (float(), int(), "
                                 "math functions): use the context's functions")

    __float__ = __int__ = __index__ = __complex__ = __round__ = __trunc__ = _no_value

    def __hash__(self) -> int:
        # Identity hashing would make {a: 1}.get(a + 0) miss where numbers would hit.
        raise SymbolicValueError("a symbolic value is not hashable (as a NumPy array is not): it cannot "
                                 "be a dict key or a set member")


def _operand(x: Any) -> tuple[Any, frozenset, frozenset]:
    """(expression or entries, ops, conditions) of an operand."""
    if isinstance(x, Sym):
        return x, x.ops, x.conditions
    return exact(x), frozenset(), frozenset()


class SymScalar(Sym):
    """A symbolic real number."""

    __slots__ = ("expr",)

    def __init__(self, expr: Any, ops: Iterable[str] = (), conditions: Iterable[Condition] = ()):
        # Results of recorded operations arrive as SymPy values and are kept as they are;
        # anything else is a number entering the symbolic world, made exact.
        self.expr = expr if isinstance(expr, sympy.Basic) else exact(expr)
        self.ops = frozenset(ops)
        self.conditions = frozenset(conditions)

    @classmethod
    def symbol(cls, name: str, **assumptions: Any) -> "SymScalar":
        return cls(sympy.Symbol(name, **assumptions))

    def _sympy_(self) -> sympy.Expr:
        """Lets hypotheses be written as SymPy relations: ``sympy.Eq(state.weight_decay, 0)``;
        refused for a value computed with a division, root or power, whose definedness the
        SymPy expression would lose (write ``x.assume(c == b / b)`` instead)."""
        if self.conditions:
            raise SymbolicValueError(
                f"{self.expr} was computed with a division, root or power: as a SymPy expression it "
                "would lose where it is defined. Write the hypothesis with Python's operators "
                "(x.assume(value > 0), x.assume(value == other)), which keep it")
        return self.expr

    def apply(self, op: str, fn, *others: Any) -> "Sym":
        _check_modeled(op)
        operands = [_operand(o) for o in others]
        if any(isinstance(o[0], SymTensor) for o in operands):  # broadcast onto the tensor
            tensor = next(o[0] for o in operands if isinstance(o[0], SymTensor))
            converted = SymScalar(_with_error("convert", self.expr) if op in ROUNDED_OPS else self.expr,
                                  self.ops, self.conditions)
            return tensor.broadcast(converted).apply(op, fn, *others)
        exprs = [self.expr] + [o[0].expr if isinstance(o[0], SymScalar) else o[0] for o in operands]
        value, needed = fn(*exprs)
        ops = self.ops.union(*(o[1] for o in operands)) | {op}
        value = value if op in RELATIONS else _rounded(op, value, ops, exprs)
        conditions = self.conditions.union(*(o[2] for o in operands)) | needed
        if op in RELATIONS:
            return SymBool(value, ops, conditions)
        return SymScalar(value, ops, conditions)

    def __repr__(self) -> str:
        return f"SymScalar({self.expr})"

    def __bool__(self) -> bool:
        return bool(self != 0)


class SymBool:
    """A condition on symbolic values.  ``bool()`` of it is a branch: decided when it is a
    constant, otherwise the path explorer runs the code both ways (``symbolic.paths``)."""

    __slots__ = ("expr", "ops", "conditions")

    def __init__(self, expr: sympy.Basic, ops: frozenset = frozenset(), conditions: frozenset = frozenset()):
        self.expr = expr
        self.ops = ops
        self.conditions = conditions

    def __bool__(self) -> bool:
        from symbolic.paths import branch
        return branch(self.expr, self.conditions)

    def _sympy_(self) -> sympy.Basic:
        if self.conditions:
            raise SymbolicValueError(f"the condition {self.expr} was computed with a division, root or "
                                     "power: pass it to x.assume directly, which keeps its definedness")
        return self.expr

    def _refuse(self, *_: Any) -> Any:
        raise SymbolicValueError("a symbolic condition cannot be compared or hashed: use it in an `if`, "
                                 "or combine conditions with &, | and ~")

    __eq__ = __ne__ = __hash__ = _refuse

    def __invert__(self) -> "SymBool":
        return SymBool(sympy.Not(self.expr), self.ops, self.conditions)

    def __and__(self, other: "SymBool") -> "SymBool":
        return SymBool(sympy.And(self.expr, other.expr), self.ops | other.ops, self.conditions | other.conditions)

    def __or__(self, other: "SymBool") -> "SymBool":
        return SymBool(sympy.Or(self.expr, other.expr), self.ops | other.ops, self.conditions | other.conditions)

    def __repr__(self) -> str:
        return f"SymBool({self.expr})"


class SymTensor(Sym):
    """A symbolic tensor: generic (``shape`` None, one entry for every index of every shape)
    or explicit (``shape`` a tuple, every entry)."""

    __slots__ = ("entries", "shape")

    def __init__(self, entries: Iterable[Any], shape: tuple | None, ops: Iterable[str] = (),
                 conditions: Iterable[Condition] = ()):
        self.entries = tuple(e if isinstance(e, sympy.Basic) else exact(e) for e in entries)
        self.shape = None if shape is None else tuple(shape)
        self.ops = frozenset(ops)
        self.conditions = frozenset(conditions)
        expected = 1 if shape is None or is_row_shape(self.shape) else math.prod(self.shape)
        if len(self.entries) != expected:
            raise ValueError(f"{len(self.entries)} entries for shape {shape}")

    # -- construction -------------------------------------------------------------
    @classmethod
    def generic(cls, entry: Any) -> "SymTensor":
        return cls((entry,), None)

    @classmethod
    def symbols(cls, name: str, shape: tuple | None = None, **assumptions: Any) -> "SymTensor":
        if shape is None:
            return cls((sympy.Symbol(name, **assumptions),), None)
        if is_row_shape(shape):   # a row of length n: its entry at the generic index i (i, j for (m, n))
            indices = row_indices(shape)
            entry = sympy.Symbol(f"{name}_{'_'.join(letter for letter, _ in indices)}", **assumptions)
            ROW_ENTRIES[entry] = row_lengths(shape)
            ROW_INDICES[entry] = {d: letter for letter, d in indices}
            ROW_LENGTHS.update((d.name, d) for d in row_lengths(shape))
            ENTRY_OF[entry] = (name, tuple(shape), tuple(shape), assumptions)
            return cls((entry,), tuple(shape))
        names = [f"{name}_{'_'.join(map(str, index))}" for index in itertools.product(*map(range, shape))]
        return cls((sympy.Symbol(n, **assumptions) for n in names), tuple(shape))

    @property
    def is_generic(self) -> bool:
        return self.shape is None

    @property
    def is_row(self) -> bool:
        """A 1-d tensor of a symbolic length n: one entry for the generic index i < n."""
        return is_row_shape(self.shape)

    @property
    def entry(self) -> sympy.Expr:
        """The generic entry, as a SymPy expression (for writing hypotheses)."""
        if CONCRETE_CHECK:  # hypotheses are checked by the sampler, not re-read here
            return self.entries[0]
        if self.conditions:
            raise SymbolicValueError(
                "entry of a tensor computed with a division, root or power: as a SymPy expression it "
                "would lose where it is defined. Write the hypothesis on the tensor itself "
                "(x.assume(v > 0)), which keeps it")
        if not self.is_generic and not self.is_row:
            raise NotElementwise("entry is defined for generic tensors; use .entries")
        return self.entries[0]

    def broadcast(self, scalar: SymScalar) -> "SymTensor":
        """A scalar as a tensor of this one's shape (NumPy's broadcasting of a 0-d value)."""
        return SymTensor((scalar.expr,) * len(self.entries), self.shape, scalar.ops, scalar.conditions)

    # -- elementwise machinery ----------------------------------------------------
    def apply(self, op: str, fn, *others: Any) -> "SymTensor":
        _check_modeled(op)
        if self.is_row:
            others = tuple(aligned(o, self.shape) for o in others)
        columns = [self.entries]
        ops, conditions = set(self.ops) | {op}, set(self.conditions)
        for other in others:
            value, other_ops, other_conditions = _operand(other)
            ops |= other_ops
            conditions |= other_conditions
            if isinstance(value, SymTensor):
                if value.shape != self.shape:
                    return _broadcast_apply(op, fn, self, others)
                columns.append(value.entries)
            else:
                scalar = value.expr if isinstance(value, SymScalar) else value
                if op in ROUNDED_OPS:
                    scalar = _with_error("convert", scalar)
                columns.append((scalar,) * len(self.entries))
        entries = []
        for args in zip(*columns):
            result, needed = fn(*args)
            entries.append(result)
            conditions |= needed
        if ROUNDING is not None and op in ROUNDED_OPS and not exact_in_floats(op, [_constant(c) for c in columns]):
            entries = self._rounded_entries(entries, op)
        return SymTensor(entries, self.shape, ops, conditions)

    def _rounded_entries(self, entries: list, op: str = "") -> list:
        """Each entry times (1 + δ): one δ for the generic entry (it stands for every entry's own
        δ, each bounded alike); the second check's explicit run shares one δ per operation (one
        instance of the model).  An explicit shape would need a δ per entry: not offered."""
        if not (self.is_generic or self.is_row or CONCRETE_CHECK or len(entries) == 1):   # one entry: its own δ
            raise NotElementwise("the rounding model (x.rounding) runs on tensors of every shape only")
        delta = _fresh_error("tensor", op)
        return entries if delta is None else [e * (1 + delta) for e in entries]

    def __bool__(self) -> bool:
        if self.is_generic or self.is_row:
            raise NotElementwise("the truth value of a tensor of every shape is undefined "
                                 "(NumPy refuses it for more than one entry): use ctx.where")
        if len(self.entries) != 1:
            raise AmbiguousTruth("the truth value of a tensor with more than one entry is ambiguous "
                                 "(as in NumPy): use ctx.where")
        from symbolic.paths import branch
        entry = self.entries[0]
        return branch(entry if _is_condition(entry) else sympy.Ne(entry, 0), self.conditions)

    # -- operations that are not elementwise ---------------------------------------
    def sum(self) -> SymScalar:
        if self.is_generic:
            raise NotElementwise("sum over a generic tensor: state the theorem on an explicit shape, or on a "
                                 "row of symbolic length (x.tensor(name, length='n'))")
        if self.is_row:
            return SymScalar(self._row_total(row_lengths(self.shape)), self.ops | {"sum"}, self.conditions)
        if ROUNDING is not None and not CONCRETE_CHECK:
            raise NotInRoundingModel("the rounding model (x.rounding) bounds sums over rows of symbolic "
                                     "length (x.tensor(name, length='n')) only")
        # the second check's explicit run of a row sum: one instance of the model (θ = 0, each
        # copy of a δ equal to it), enough to test the claim at a point
        return SymScalar(sympy.Add(*self.entries), self.ops | {"sum"}, self.conditions)

    def _row_total(self, lengths: frozenset) -> sympy.Expr:
        """The generic entry's sum over the indices of ``lengths``: rounded as a row's sum in the
        rounding model, else exact (its Σ ≥ 0 fact recorded, as the rounded sum records its own)."""
        if ROUNDING is not None and not CONCRETE_CHECK:
            return rounded_row_total(self.entries[0], lengths, frozenset(self.conditions))
        total = row_total(self.entries[0], lengths)
        ROW_TOTALS.append((total, self.entries[0]))
        return total

    def sum_along(self, axis: int) -> "SymTensor":
        """The sums along ``axis``, kept with length 1 (NumPy's ``sum(axis, keepdims=True)``)."""
        if self.is_row:
            return self._row_sum_along(axis)
        _check_modeled("sum_along")
        shape = self._explicit("a sum along an axis")
        axis = _axis(axis, len(shape))
        kept = shape[:axis] + (1,) + shape[axis + 1:]
        sums = []
        for index in itertools.product(*map(range, kept)):
            terms = [self.entries[_flat_index(index[:axis] + (k,) + index[axis + 1:], shape)]
                     for k in range(shape[axis])]
            sums.append(sympy.Add(*terms))
        return SymTensor(sums, kept, self.ops | {"sum"}, self.conditions)

    def _row_sum_along(self, axis: int) -> "SymTensor":
        """A row's sums along an axis of symbolic length (Adafactor's Σ_(j<n) g_i_j², a row of
        length m): the generic entry's sum over that index, rounded as a row's sum (an axis of
        length 1 sums one entry: exactly it)."""
        axis = _axis(axis, len(self.shape))
        length = self.shape[axis]
        kept = self.shape[:axis] + (1,) + self.shape[axis + 1:]
        if length == 1:
            return self
        return SymTensor((self._row_total(frozenset({length})),), kept, self.ops | {"sum"}, self.conditions)

    def matmul(self, other: "SymTensor") -> "SymTensor":
        """The matrix product of two 2-d tensors, explicit or of symbolic lengths (``_row_matmul``)."""
        if self.is_row or other.is_row:
            return _row_matmul(self, other)
        # the second check's explicit run of a product of rows in the rounding model: one instance
        # of it (each product times one δ of the operation, the additions exact, as its sums)
        if not (CONCRETE_CHECK and ROUNDING is not None):
            _check_modeled("matmul")
        left, right = self._explicit("a matrix product"), other._explicit("a matrix product")
        if len(left) != 2 or len(right) != 2 or left[1] != right[0]:
            raise ValueError(f"matmul of shapes {left} and {right}")
        (m, k), n = left, right[1]
        delta = _fresh_error("tensor", "mul") if ROUNDING is not None else None
        rounding = 1 if delta is None else 1 + delta
        entries = [rounding * sympy.Add(*(self.entries[i * k + j] * other.entries[j * n + c] for j in range(k)))
                   for i in range(m) for c in range(n)]
        return SymTensor(entries, (m, n), self.ops | other.ops | {"matmul"}, self.conditions | other.conditions)

    def transposed(self) -> "SymTensor":
        """A 2-d tensor with its axes swapped (a row of symbolic lengths: the same entry, its
        shape reversed; a 1-d one is itself, as NumPy's ``.T``)."""
        if self.is_row:
            if len(self.shape) == 1:
                return self
            if len(self.shape) != 2:
                raise ValueError(f"transpose of a {len(self.shape)}-d tensor: 2-d only")
            return SymTensor(self.entries, self.shape[::-1], self.ops | {"transpose"}, self.conditions)
        shape = self._explicit("a transpose")
        if len(shape) != 2:
            raise ValueError(f"transpose of a {len(shape)}-d tensor: 2-d only")
        m, n = shape
        return SymTensor([self.entries[i * n + j] for j in range(n) for i in range(m)], (n, m),
                         self.ops | {"transpose"}, self.conditions)

    def _explicit(self, what: str) -> tuple:
        if self.is_generic or self.is_row:
            raise NotElementwise(f"{what} of a tensor of {'every shape' if self.is_generic else 'symbolic length'}: "
                                 "state the theorem on an explicit shape (x.tensor(name, shape=(…)))")
        return self.shape

    def __getitem__(self, index) -> SymScalar:
        if self.is_generic or self.is_row:
            raise NotElementwise("indexing a generic tensor or a row of symbolic length: state the theorem "
                                 "on an explicit shape")
        return SymScalar(self.entries[_flat_index(index, self.shape)], self.ops | {"index"}, self.conditions)

    def __len__(self) -> int:
        if self.is_row:
            raise NotElementwise(f"a row of symbolic shape {self.shape} has no concrete length")
        if self.is_generic:
            raise NotElementwise("a tensor of every shape has no length: state the theorem on an explicit shape")
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        raise NotElementwise("iterating over a symbolic tensor: use elementwise operations, or index "
                             "an explicit shape")

    def __repr__(self) -> str:
        if self.is_generic:
            return f"SymTensor[every shape]({self.entry})"
        if self.is_row:
            return f"SymTensor[{'length ' + str(self.shape[0]) if len(self.shape) == 1 else self.shape}]({self.entries[0]})"
        return f"SymTensor{self.shape}({list(self.entries)})"


def _define_operators(klass: type) -> None:
    """Python's operators, the same for scalars and tensors: each names its operation and how
    it is defined."""
    binary = {"add": ADD, "sub": SUB, "mul": MUL, "truediv": _division, "pow": _power}
    for name, fn in binary.items():
        setattr(klass, f"__{name}__", lambda self, o, n=name, f=fn: self.apply(n, f, o))
        setattr(klass, f"__r{name}__",
                lambda self, o, n=name, f=fn: _lift(o).apply(n, f, self))
    for name in RELATIONS:
        setattr(klass, f"__{name}__", lambda self, o, n=name: self.apply(n, _total(RELATIONS[n]), o))
    klass.__neg__ = lambda self: self.apply("neg", NEG)
    klass.__pos__ = lambda self: self
    klass.__abs__ = lambda self: self.apply("abs", ABS)


def _lift(x: Any) -> Sym:
    """A value as a symbolic one: a number becomes an exact symbolic scalar."""
    value, _, _ = _operand(x)
    return value if isinstance(value, Sym) else SymScalar(value)


for _klass in (SymScalar, SymTensor):
    _define_operators(_klass)


def _broadcast_apply(op: str, fn, first: SymTensor, others: tuple) -> SymTensor:
    """``first.apply(op, fn, *others)`` for explicit tensors of different shapes, with NumPy's
    broadcasting (Adafactor's row factor times its column factor); a generic tensor has no
    shape to broadcast."""
    tensors = [first] + [o for o in others if isinstance(o, SymTensor)]
    if any(t.is_row for t in tensors) and not any(t.is_generic for t in tensors):
        return _row_broadcast_apply(op, fn, first, others, tensors)
    if any(t.is_generic or t.is_row for t in tensors):
        raise ValueError(f"shape mismatch in {op}: " + " and ".join(_show(t.shape) for t in tensors))
    try:
        shape = np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        raise ValueError(f"shape mismatch in {op}: " + " and ".join(str(t.shape) for t in tensors)) from None

    def spread(x: Any) -> Any:
        if not isinstance(x, SymTensor) or x.shape == shape:
            return x
        where = np.broadcast_to(np.arange(len(x.entries)).reshape(x.shape), shape).ravel()
        return SymTensor([x.entries[i] for i in where], shape, x.ops | {"broadcast"}, x.conditions)

    return spread(first).apply(op, fn, *map(spread, others))


def _row_broadcast_apply(op: str, fn, first: SymTensor, others: tuple, tensors: list) -> SymTensor:
    """NumPy's broadcasting of rows, (m, 1) with (1, n), and of one-entry tensors onto them: axis
    by axis (from the last), a length 1 takes the other's; two lengths must be one symbol.  Each
    operand has one entry, so the result's is theirs combined."""
    ndim = max(len(t.shape) for t in tensors)
    if any(not t.is_row and len(t.entries) != 1 for t in tensors):
        raise ValueError(f"shape mismatch in {op}: " + " and ".join(_show(t.shape) for t in tensors))
    shape = []
    for k in range(1, ndim + 1):
        sizes = {t.shape[-k] for t in tensors if len(t.shape) >= k} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shape mismatch in {op}: " + " and ".join(_show(t.shape) for t in tensors))
        shape.insert(0, sizes.pop() if sizes else 1)
    shape = tuple(shape)

    def spread(x: Any) -> Any:
        if not isinstance(x, SymTensor) or x.shape == shape:
            return x
        return SymTensor(x.entries, shape, x.ops | {"broadcast"}, x.conditions)

    return spread(first).apply(op, fn, *map(spread, others))


def _row_matmul(left: SymTensor, right: SymTensor) -> SymTensor:
    """L·R for rows of symbolic lengths, L of shape (a, b), R of (b, c): the entry at (i, k) is
    Σ_β L_i_β·R_β_k over a fresh index β of b's axis; where a and c are one length (X·Xᵀ), c
    becomes an alias (m′, whose index is i2).  In the rounding model each product rounds and the
    sum is a row sum (``rounded_row_total``: of one sign or not); the renamed operands' roundings
    are fresh copies.  NumPy's matmul (BLAS) adds in any order and may fuse a product into its
    addition: within the same bound (a fused product is δ = 0)."""
    if not (left.is_row and right.is_row) or len(left.shape) != 2 or len(right.shape) != 2 \
            or base_length(left.shape[1]) != base_length(right.shape[0]):
        raise ValueError(f"matmul of shapes {_show(left.shape)} and {_show(right.shape)}: two matrices of "
                         "symbolic lengths, the first's columns the second's rows")
    (a, b), (b2, c) = left.shape, right.shape
    c_new = unused_alias(c, {a, b, b2}) if c == a and isinstance(c, sympy.Symbol) else c
    ops = left.ops | right.ops | {"matmul"}
    conditions = left.conditions | right.conditions
    if b == 1:       # an outer product: one term, no sum
        entry = left.entries[0] * _moved(right, {c: c_new})
        entry = _rounded_product(entry, left.entries[0], right.entries[0])
        return SymTensor((entry,), (a, c_new), ops, conditions)
    beta = unused_alias(b, {a, c_new})
    summand = _rounded_product(_moved(left, {b: beta}) * _moved(right, {b2: beta, c: c_new}),
                               left.entries[0], right.entries[0])
    if ROUNDING is not None:
        entry = rounded_row_total(summand, frozenset({beta}), frozenset(conditions))
    else:
        entry = row_total(summand, beta)
        ROW_TOTALS.append((entry, summand))
    return SymTensor((entry,), (a, c_new), ops, conditions)


def _rounded_product(product: sympy.Expr, *factors: sympy.Expr) -> sympy.Expr:
    return product if exact_in_floats("mul", list(factors)) else _with_error("tensor", product, "mul")


def aligned(x: Any, shape: tuple) -> Any:
    """A row operand of an elementwise operation with its axes named as ``shape``'s, where they
    are one axis under two names (A of shape (m, m′) and Aᵀ of (m′, m)): Aᵀ's entry at (i, i2)."""
    if not (isinstance(x, SymTensor) and x.is_row and isinstance(shape, tuple)) or x.shape == shape:
        return x
    mapping = {}
    for d, target in zip(x.shape[::-1], shape[::-1]):
        if isinstance(d, sympy.Symbol) and isinstance(target, sympy.Symbol) and d != target \
                and base_length(d) == base_length(target):
            mapping[d] = target
    if not mapping:
        return x
    moved = tuple(mapping.get(d, d) for d in x.shape)
    return SymTensor((_moved(x, mapping),), moved, x.ops, x.conditions)


def _axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise IndexError(f"axis {axis} of a {ndim}-d tensor")
    return axis % ndim


def _is_condition(e: sympy.Basic) -> bool:
    """A truth value (a relation, And/Or/Not, true/false), not a number (a SymPy Symbol is both
    an expression and a Boolean: here it is a number)."""
    return isinstance(e, sympy.logic.boolalg.Boolean) and not isinstance(e, sympy.Expr)


def _show(shape: tuple | None) -> str:
    return "every shape (generic)" if shape is None else str(shape)


def _flat_index(index, shape) -> int:
    index = index if isinstance(index, tuple) else (index,)
    if len(index) != len(shape):
        raise IndexError(f"index {index} for shape {shape}")
    flat = 0
    for i, d in zip(index, shape):
        if not isinstance(i, int) or not 0 <= i < d:
            raise IndexError(f"index {index} for shape {shape}")
        flat = flat * d + i
    return flat


# ---------------------------------------------------------------------------------------
# The context.

def _unary(op: str, fn):
    def apply(self, x):
        return _lift(x).apply(op, fn)

    return apply


def _binary(op: str, fn):
    def apply(self, x, y):
        return _lift(x).apply(op, fn, y)  # a scalar x broadcasts onto a tensor y, in order

    return apply


def _choose(condition: sympy.Basic, a: sympy.Expr, b: sympy.Expr) -> tuple[sympy.Expr, set]:
    """One entry of ``where``: decided when the condition is a constant, else piecewise."""
    if condition in (sympy.true, sympy.false):
        return (a if condition is sympy.true else b), set()
    if not _is_condition(condition):
        if condition.is_number:
            return (a if condition != 0 else b), set()
        condition = sympy.Ne(condition, 0)
    return sympy.Piecewise((a, condition), (b, True)), set()


class SymPyContext:
    """The context of symbolic values: symbolic reals (TorchLean's proof backend over ℝ)."""

    name = "sympy"

    sqrt = _unary("sqrt", _sqrt)
    square = _unary("square", SQUARE)
    abs = _unary("abs", ABS)
    sign = _unary("sign", SIGN)
    maximum = _binary("maximum", MAX)
    minimum = _binary("minimum", MIN)

    def where(self, condition, x, y):
        """Elementwise choice on a tensor condition, as a piecewise value (NumPy evaluates both
        sides, so both sides' definedness stays recorded).  A scalar condition is a branch."""
        if not isinstance(condition, SymTensor):
            return self.select(condition, lambda: x, lambda: y)
        return condition.apply("where", _choose, x, y)

    def select(self, condition, if_true, if_false):
        """A branch on a scalar condition: a Python ``if``, so the path explorer decides it or
        runs both ways (each path demands only its own branch's definedness)."""
        return if_true() if condition else if_false()

    def round_float32(self, x):
        """The identity over the reals; one float32 rounding in the rounding model (x.rounding)."""
        x = _lift(x)
        if ROUNDING is None or not isinstance(x, SymScalar):
            return x
        return SymScalar(_with_error("float32", x.expr), x.ops, x.conditions)

    def copy(self, x):
        return x  # symbolic values are immutable

    def zeros_like(self, x: SymTensor) -> SymTensor:
        return SymTensor((sympy.Integer(0),) * len(x.entries), x.shape, x.ops | {"zeros_like"})

    def full_like(self, x: SymTensor, value: Any) -> SymTensor:
        return x.apply("full_like", lambda _, v: (v, set()), value)

    def total(self, x: SymTensor) -> SymScalar:
        return x.sum()   # refused on a generic tensor: only an explicit shape has a sum

    def scalar_max(self, bound: Any, x: Any) -> Any:
        return self.maximum(bound, x)   # no NaN over the reals: Python's max is the maximum

    def sum(self, x: SymTensor, axis: int) -> SymTensor:
        return x.sum_along(axis)

    def matmul(self, a: SymTensor, b: SymTensor) -> SymTensor:
        return a.matmul(b)

    def transpose(self, x: SymTensor) -> SymTensor:
        return x.transposed()

    def zeros(self, like: SymTensor, shape: tuple) -> SymTensor:
        return SymTensor((sympy.Integer(0),) * math.prod(shape), tuple(shape), like.ops | {"zeros"})

    def machine_epsilon(self, like: Any) -> Any:
        raise SymbolicValueError("the reals have no machine epsilon (torch's default eps = finfo(dtype).eps): "
                                 "give the epsilon explicitly, e.g. x.positive('eps1')")

    def shape(self, x: Any) -> Any:
        if isinstance(x, SymTensor):
            return EVERY_SHAPE if x.is_generic else tuple(base_length(d) for d in x.shape)
        return ()

    def dtype(self, x: Any) -> str:
        return "real"

    def check_tensor(self, x: Any, role: str) -> None:
        if not isinstance(x, SymTensor):
            raise TypeError(f"{role} must be a SymTensor, got {type(x).__name__}")

    def adopt(self, value: Any) -> Any:
        """A state field as the symbolic world holds it: a number becomes an exact symbolic
        scalar *before* optimizer code does arithmetic on it (1 − lr·λ on two Python floats
        would round); flags, None, strings and symbolic values stay as they are."""
        if value is None or isinstance(value, (bool, str, Sym)):
            return value
        if isinstance(value, (numbers.Real, sympy.Basic, fractions.Fraction)):
            return SymScalar(exact(value))  # a raw SymPy expression with symbols is refused
        return value


SYMPY = SymPyContext()
register_context(SymTensor, SYMPY)
register_context(SymScalar, SYMPY)
