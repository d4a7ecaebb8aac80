"""Obligations: what a theorem hands to the decider, as plain data.

Building a theorem runs ``optim/`` code on symbolic values (``symbolic.tensor``) in an
untrusted child process.  What comes back is only this: for every execution path, the
obligations of the theorem's form, each a list of entry pairs to compare, with the
hypotheses, the path's branch conditions and every definedness condition met while tracing.
The decider (``symbolic.prover``) sees nothing else: no optimizer, no theorem file, no
symbolic tensor.

Soundness contract between the two sides:

* every ``pairs`` entry lists one scalar comparison; a state is flattened field by field,
  recursively, so nothing is left out (a structural mismatch — a buffer against ``None``,
  ``True`` against ``False`` — is the pair ``(0, 1)``);
* ``conditions`` holds every division, root and power the execution performed, on its
  operand *before* SymPy simplified anything, so ``(a·b)/b`` still demands ``b ≠ 0``;
* ``path`` holds the branch conditions the execution took; the paths of one theorem cover
  every point of the domains (each undecided branch was explored both ways);
* no SymPy ``Float`` ever appears: floats became their exact rational values on entry;
* ``lemmas`` are proposals, never facts: the decider uses one only where it shows it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy

NONZERO, NONNEGATIVE, POWER = "nonzero", "nonnegative", "power"
# the kinds of a lemma on a rounded value's error: |X̂ − X| ≤ B, ≤ R·|X|, and ≤ E with E ≤ κ·|X| by a
# hypothesis (a ratio the inputs give: rounding.entry_error_ratio; its bound is the pair (E, κ)),
# the last with X ≥ 0 demanded or not
ABSOLUTE, RELATIVE, RATIO, NONNEGATIVE_RATIO = "absolute", "relative", "ratio", "ratio, X ≥ 0"
RATIOS = (RATIO, NONNEGATIVE_RATIO)
EQUAL, AT_MOST, LESS, FOR_EVERY = "=", "≤", "<", "for every"
RELATIONS = (EQUAL, AT_MOST, LESS, FOR_EVERY)


@dataclass(frozen=True)
class Condition:
    """A definedness condition recorded while tracing.

    * ``nonzero``: ``expr ≠ 0`` (a divisor);
    * ``nonnegative``: ``expr ≥ 0`` (a square root's radicand);
    * ``power``: ``expr ** exponent`` is a real number: the exponent is a natural number, or
      an integer and ``expr ≠ 0``, or ``expr > 0``, or ``expr = 0`` and ``exponent > 0``.
    """

    kind: str
    expr: sympy.Expr
    exponent: sympy.Expr | None = None
    origin: str = ""          # the operation that needed it: "div", "sqrt", "pow", …

    def show(self) -> str:
        if self.kind == NONZERO:
            return f"{self.expr} ≠ 0"
        if self.kind == NONNEGATIVE:
            return f"{self.expr} ≥ 0"
        return f"({self.expr})^({self.exponent}) defined"


@dataclass(frozen=True)
class VariableSpec:
    """A theorem variable: its name, domain (a key of ``symbolic.domains.DOMAINS``) and the
    SymPy symbols standing for it (one for a scalar or a generic tensor, one per entry for
    an explicit shape)."""

    name: str
    domain: str
    symbols: tuple
    tensor: bool = False
    shape: tuple | None = None     # None: every shape (one generic entry), or a row of length n
    note: str = ""                 # a row's length ("length n"), or what an abstracted sum stands for
    summand: Any = None            # an abstracted row sum Σk: its summand at the index i (an expression)
    over: tuple = ()               # an abstracted row sum Σk: the lengths it sums over ("n"; "m", "n")

    def describe(self) -> str:
        from symbolic.domains import DOMAINS
        notation = DOMAINS[self.domain].notation
        if not self.tensor:
            return f"{self.name} ∈ {notation}" + (f" ({self.note})" if self.note else "")
        shape = self.note or ("every shape" if self.shape is None else f"shape {self.shape}")
        return f"{self.name}: tensor ({shape}), entries in {notation}"


# A variable that is one operation's relative rounding error (proofs' x.rounding): the decider may
# decide a claim multilinear in such variables at the vertices of their box.
ROUNDING_ERROR = "the relative rounding error of one operation"
# A variable Γ with 0 ≤ Γ ≤ γ_{n−1} = (n − 1)u/(1 − (n − 1)u): the relative error bound of a sum of
# n terms (its rounding error lies in [−Γ, Γ]); for the decider a quantity ≥ 0 like any other, not
# a unit roundoff, so a bound's coefficients stay polynomials in u alone.
SUM_ERROR_BOUND = "the error bound γ of a sum of n terms"
# A variable ρ ≥ 0 with Σ e ≤ ρ·Σ s (rounding.row_sum_error_at_most): the relative error a row
# sum's entries bring; for the decider a quantity ≥ 0 like Γ.
ROW_SUM_RATIO = "the relative error ρ of a row sum's entries, Σ e ≤ ρ·Σ s"
# A variable κ ≥ 0 with E ≤ κ·|X| at every entry (rounding.entry_error_ratio): the relative error a
# rounded value brings whose own error is bounded relative to other values (a signed sum's parts).
ENTRY_ERROR_RATIO = "the relative error κ of a rounded value, E ≤ κ·|X| at every entry"
ROUNDING_NOTES = (ROUNDING_ERROR, SUM_ERROR_BOUND)

# An obligation whose row sums were given variables of their own: a counterexample to it may set a
# sum apart from the entries it sums, so it is not one to the theorem (shapes text, and the prover).
ABSTRACTED_SUMS = "each sum over i < n is a variable of its own (proved for every value: a generalisation)"
# A matrix's entries at two indices of one axis (X_i_j, X_i2_j of X·Xᵀ): two variables, also where i = i2
INDEPENDENT_ENTRIES = "entries at two indices of one axis are variables of their own (proved for every value: a generalisation)"


@dataclass
class Obligation:
    """One statement to decide: every pair's ``lhs relation rhs``, under the hypotheses and
    the path conditions, wherever the conditions hold.

    ``refutes_theorem``: a counterexample to this obligation is one to the theorem (an
    equation, a base case); otherwise (an inductive step) a counterexample only shows the
    invariant is not inductive, and the theorem stays UNKNOWN.

    ``coefficient`` and ``fixed`` are for the ``for every`` relation only: "no value of the
    coefficient (possibly depending on the ``fixed`` symbols) makes every pair equal".
    """

    name: str
    relation: str
    pairs: list                                   # [(label, lhs expr, rhs expr)]
    hypotheses: list = field(default_factory=list)
    path: list = field(default_factory=list)      # sympy relations: the branches taken
    conditions: list = field(default_factory=list)  # [Condition]
    shape: str = ""
    ops: list = field(default_factory=list)
    refutes_theorem: bool = True
    coefficient: sympy.Symbol | None = None
    fixed: list | None = None
    # [(kind, X, B)]: "|fl(X) − X| ≤ B" (ABSOLUTE) or "≤ B·|X|" (RELATIVE), error bounds the theorem
    # proposes to the error analysis at the values X it meets; none is trusted: each is shown there
    # before it is used
    lemmas: list = field(default_factory=list)


@dataclass
class TheoremData:
    """Everything the decider gets for one theorem: its variables and the obligations of
    every execution path (``paths``: the path conditions, one list per path, in the order
    explored; ``obligations`` carry their own path)."""

    variables: list                               # [VariableSpec]
    obligations: list                             # [Obligation]
    form: str = "equation"
    relation: str = ""                            # how the form relates the sides, for people
    hypotheses: list = field(default_factory=list)
    paths: int = 1
