"""Variable domains: what a theorem's variables range over.

Each domain knows three things: the SymPy assumptions it justifies (used only in the
"under assumptions" stage of a decision), the interval it confines a value to (used to
discharge side conditions such as a denominator ≠ 0), and candidate values from which
the prover picks counterexamples (each checked exactly, never trusted).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy


oo = sympy.oo
R = sympy.Rational


@dataclass(frozen=True)
class Interval:
    """A real interval with open or closed ends; ±oo ends are always open."""

    lo: sympy.Expr = -oo
    hi: sympy.Expr = oo
    lo_open: bool = True
    hi_open: bool = True

    def __post_init__(self):
        # Ends are exact SymPy numbers: a Python int end made 1/hi a binary float once.
        for end in ("lo", "hi"):
            value = getattr(self, end)
            if isinstance(value, float):
                raise TypeError(f"interval end {value!r} is a float; use an exact number")
            object.__setattr__(self, end, sympy.sympify(value))

    def show(self) -> str:
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"{left}{_num(self.lo)}, {_num(self.hi)}{right}"


def _num(x) -> str:
    return {oo: "∞", -oo: "−∞"}.get(x, str(x))


@dataclass(frozen=True)
class Domain:
    name: str
    notation: str
    assumptions: dict
    interval: Interval
    samples: tuple
    integer: bool = False
    nonzero: bool = False      # 0 excluded although the interval contains it (ℝ∖{0})

    def contains(self, value) -> bool:
        """Whether the exact real number ``value`` lies in the domain (False if not shown)."""
        from symbolic.certify import compare
        if self.integer and value.is_integer is not True:
            return False
        if self.nonzero and compare(value, 0) not in ("<", ">"):
            return False
        i = self.interval
        low = compare(value, i.lo) if i.lo != -oo else ">"
        high = compare(value, i.hi) if i.hi != oo else "<"
        return (low == ">" or (low == "=" and not i.lo_open)) and (high == "<" or (high == "=" and not i.hi_open))


REAL = Domain("real", "ℝ", {"real": True}, Interval(),
              (R(1, 2), R(-1), R(2), R(3, 10), R(-3, 2), R(1), R(0), R(5, 3), R(-2, 7), R(7)))
POSITIVE = Domain("positive", "ℝ>0", {"positive": True}, Interval(0, oo, True, True),
                  (R(1, 2), R(1), R(2), R(1, 10), R(3), R(7, 5), R(1, 1000)))
NONNEGATIVE = Domain("nonnegative", "ℝ≥0", {"nonnegative": True}, Interval(0, oo, False, True),
                     (R(1, 2), R(0), R(1), R(2), R(1, 10), R(9, 4)))
UNIT = Domain("unit", "[0, 1)", {"nonnegative": True}, Interval(0, 1, False, True),
              (R(1, 2), R(9, 10), R(0), R(1, 10), R(3, 4), R(99, 100)))
CLOSED_UNIT = Domain("closed_unit", "[0, 1]", {"nonnegative": True}, Interval(0, 1, False, False),
                     (R(1, 2), R(9, 10), R(0), R(1), R(1, 10)))
NATURAL = Domain("natural", "ℕ", {"integer": True, "nonnegative": True}, Interval(0, oo, False, True),
                 (R(0), R(1), R(2), R(3), R(5), R(10)), integer=True)

NEGATIVE = Domain("negative", "ℝ<0", {"negative": True}, Interval(-oo, 0, True, True),
                  (R(-1, 2), R(-1), R(-2), R(-1, 10), R(-3), R(-7, 5), R(-1, 1000)))
NONZERO = Domain("nonzero", "ℝ∖{0}", {"real": True, "nonzero": True}, Interval(),
                 (R(1, 2), R(-1), R(2), R(3, 10), R(-3, 2), R(1), R(5, 3), R(-2, 7), R(7)), nonzero=True)

NONPOSITIVE = Domain("nonpositive", "ℝ≤0", {"nonpositive": True}, Interval(-oo, 0, True, False),
                     (R(-4, 5), R(0), R(-1), R(-1, 2), R(-2), R(-1, 10)))
AT_LEAST_ONE = Domain("at_least_one", "[1, ∞)", {"positive": True}, Interval(1, oo, False, True),
                      (R(1), R(2), R(3, 2), R(10), R(11, 10)))

LENGTH = Domain("length", "ℕ≥1", {"integer": True, "positive": True}, Interval(1, oo, False, True),
                (R(1), R(2), R(3), R(5), R(10)), integer=True)

DOMAINS = {d.name: d for d in (REAL, POSITIVE, NONNEGATIVE, UNIT, CLOSED_UNIT, NATURAL, NEGATIVE, NONZERO,
                               NONPOSITIVE, AT_LEAST_ONE, LENGTH)}


def plain_assumptions(domain: Domain) -> dict:
    """The assumptions every stage may use: real (and integer for ℕ), nothing about sign."""
    return {"integer": True} if domain.integer else {"real": True}
