"""Authoring theorems: what a theorem file uses.

A theorem is a function that receives ``Given`` (where it declares its variables, each with
a domain, and its hypotheses), calls the optimizers of ``optim/`` on them, and returns
``equation(lhs, rhs)``.  The decorator ``@theorem`` registers it with its Lean-style name,
its statement in math notation, and the verdict it must get::

    @theorem("Optim.SGD.update_eq", statement="(update s p g).params = p − s.lr · g")
    def _(x: Given):
        \"\"\"SGD is definitionally p - lr * g.\"\"\"
        state = sgd.State(lr=x.real("lr"))
        params, grads = x.tensor("params"), x.tensor("grads")
        return equation(sgd.update(state, params, grads)[1],
                        params - grads * state.lr)  # reference side: the seed's equation

The left side must come from running ``optim/``; a right side that is a formula is a
*reference* (the seed's or a paper's equation), never a copy of the optimizer.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy

from symbolic.domains import (CLOSED_UNIT, NATURAL, NONNEGATIVE, POSITIVE, REAL, UNIT, Domain,
                              Variable, make_variable)
from symbolic.prover import PROVED, REFUTED, UNKNOWN, VERDICTS

__all__ = ["theorem", "Given", "equation", "Equation", "Theorem", "PROVED", "REFUTED", "UNKNOWN",
           "registry"]


class TheoremError(ValueError):
    """A theorem that cannot be built: bad declaration, duplicate name, wrong return value."""


@dataclass
class Equation:
    lhs: Any
    rhs: Any


def equation(lhs: Any, rhs: Any) -> Equation:
    """The claim lhs = rhs (tensors entrywise; tuples componentwise)."""
    return Equation(lhs, rhs)


class Given:
    """The variables and hypotheses of one theorem, declared as the theorem is built."""

    def __init__(self) -> None:
        self.variables: list[Variable] = []
        self.hypotheses: list[sympy.Basic] = []

    def _declare(self, name: str, domain: Domain, tensor: bool = False, shape: tuple | None = None):
        if any(v.name == name for v in self.variables):
            raise TheoremError(f"variable {name!r} is declared twice")
        variable = make_variable(name, domain, shape=shape, tensor=tensor)
        self.variables.append(variable)
        return variable.value

    # scalars
    def real(self, name: str): return self._declare(name, REAL)
    def positive(self, name: str): return self._declare(name, POSITIVE)
    def nonnegative(self, name: str): return self._declare(name, NONNEGATIVE)
    def unit(self, name: str):
        """A value in [0, 1): a β or momentum coefficient as torch.optim accepts it."""
        return self._declare(name, UNIT)
    def closed_unit(self, name: str): return self._declare(name, CLOSED_UNIT)
    def natural(self, name: str): return self._declare(name, NATURAL)

    # tensors
    def tensor(self, name: str, entries: str = "real", shape: tuple | None = None):
        """A tensor of every shape (``shape=None``: one generic entry) or of an explicit shape."""
        domains = {"real": REAL, "positive": POSITIVE, "nonnegative": NONNEGATIVE}
        if entries not in domains:
            raise TheoremError(f"tensor entries must be one of {sorted(domains)}, got {entries!r}")
        return self._declare(name, domains[entries], tensor=True, shape=shape)

    def assume(self, *hypotheses: Any) -> None:
        """Hypotheses as SymPy relations: ``x.assume(sympy.Eq(wd, 0))``."""
        for h in hypotheses:
            if not isinstance(h, sympy.core.relational.Relational):
                raise TheoremError(f"a hypothesis must be a SymPy relation, got {h!r}")
            self.hypotheses.append(h)


@dataclass
class Theorem:
    name: str
    statement: str
    expect: str
    build: Callable[[Given], Equation]
    docstring: str
    module: str
    extra: dict = field(default_factory=dict)


registry: list[Theorem] = []


def theorem(name: str, *, statement: str, expect: str = PROVED) -> Callable:
    """Register a theorem under a dotted Lean-style name, with the verdict it must get."""
    if expect not in VERDICTS:
        raise TheoremError(f"expect must be one of {VERDICTS}, got {expect!r}")

    def register(build: Callable[[Given], Equation]) -> Callable[[Given], Equation]:
        if any(t.name == name for t in registry):
            raise TheoremError(f"theorem {name!r} is defined twice")
        doc = inspect.getdoc(build)
        if not doc:
            raise TheoremError(f"theorem {name!r} needs a docstring (one sentence saying the claim)")
        registry.append(Theorem(name, statement, expect, build, doc, build.__module__))
        return build

    return register
