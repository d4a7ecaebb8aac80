"""Non-equivalence for every value of a coefficient: "no value of c — possibly chosen from the
variables in ``depends_on`` — makes lhs = rhs for every value of the other variables".

``for_every(coefficient, lhs, rhs, depends_on=None)``: ``coefficient`` is a scalar variable of
the theorem; ``depends_on`` names the variables c may depend on (names, or the variables
themselves); by default every scalar variable other than c (the hyperparameters), never the
tensors (the data).  One goal, relation "for every"; how it is decided is the decider's.
Declare ``expect=REFUTED``: the refutation covers every value of c.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy

from proofs.forms import FOR_EVERY, Goal
from proofs.forms.states import theorem_error
from symbolic.tensor import Sym, SymScalar


@dataclass
class ForEvery:
    coefficient: Any
    lhs: Any
    rhs: Any
    depends_on: tuple | None = None
    name = "non-equivalence"
    description: str = field(default="", repr=False)

    def _variable_named(self, item: Any, given: Any, role: str):
        if isinstance(item, str):
            found = [v for v in given.variables if v.name == item]
        elif isinstance(item, SymScalar) or isinstance(item, sympy.Symbol):
            expr = item.expr if isinstance(item, SymScalar) else item
            found = [v for v in given.variables if not v.is_tensor and v.value.expr == expr]
        elif isinstance(item, Sym):
            found = [v for v in given.variables if v.value is item]
        else:
            found = []
        if not found:
            raise theorem_error(f"for_every: {role} {item!r} names no declared variable of the theorem")
        return found[0]

    def goals(self, given: Any) -> list[Goal]:
        if getattr(given, "concrete", None) is not None:
            # The second check on numbers: a "for every" goal is not judged at a point, and the
            # coefficient is a number there, not the variable.
            return [Goal("no value of the coefficient makes lhs = rhs", FOR_EVERY, self.lhs, self.rhs)]
        c = self._variable_named(self.coefficient, given, "the coefficient")
        if c.is_tensor:
            raise theorem_error(f"for_every: the coefficient {c.name} must be a scalar variable, not a tensor")
        if self.depends_on is None:
            fixed = [v.name for v in given.variables if not v.is_tensor and v.name != c.name]
        else:
            items = (self.depends_on,) if isinstance(self.depends_on, (str, Sym)) else tuple(self.depends_on)
            fixed = []
            for item in items:
                v = self._variable_named(item, given, "depends_on:")
                if v.name == c.name:
                    raise theorem_error(f"for_every: depends_on names the coefficient {c.name} itself")
                if v.name not in fixed:
                    fixed.append(v.name)
        symbol = c.value.expr
        symbols = {v.name: v.value.expr for v in given.variables if not v.is_tensor}
        self.description = (f"for every value of {c.name}" + (f" (that may depend on {', '.join(fixed)})"
                                                             if fixed else " (a constant)"))
        return [Goal(f"no value of {c.name} makes lhs = rhs", FOR_EVERY, self.lhs, self.rhs,
                     refutes_theorem=True, coefficient=symbol, fixed=[symbols[n] for n in fixed])]

    def describe(self) -> str:
        return self.description or f"for every value of {self.coefficient}"


def for_every(coefficient: Any, lhs: Any, rhs: Any, depends_on: tuple | None = None) -> ForEvery:
    """Non-equivalence over a coefficient: "no value of c, however chosen from ``depends_on``
    (default: the other scalar variables, i.e. the hyperparameters), makes lhs = rhs for all
    data".  Declare ``expect=REFUTED``: the refutation covers every value of c."""
    return ForEvery(coefficient, lhs, rhs, depends_on)
