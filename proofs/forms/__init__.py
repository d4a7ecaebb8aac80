"""Theorem forms behind one protocol.

A theorem's build function returns a *form*: an equation, an inequality, an induction over
steps, a simulation between two optimizers, a non-equivalence for every coefficient.  Each
form turns itself into **goals** — plain claims ``lhs relation rhs`` over whole values
(states compared field by field) with any hypotheses the form adds — and says in one line
what it relates.  ``proofs.harness.build_theorem`` runs the build and the form's ``goals``
on every execution path and hands the decider only the resulting data
(``symbolic.obligation``).  A form never decides anything itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from symbolic.obligation import AT_MOST, EQUAL, FOR_EVERY, LESS


@dataclass
class Goal:
    """One claim of a form, on symbolic values (before flattening into entry pairs)."""

    name: str
    relation: str
    lhs: Any
    rhs: Any
    hypotheses: list = field(default_factory=list)   # added to the theorem's, for this goal only
    refutes_theorem: bool = True                     # is a counterexample one to the theorem?
    coefficient: Any = None                          # FOR_EVERY only
    fixed: list | None = None                        # FOR_EVERY only: names c may depend on


@runtime_checkable
class Form(Protocol):
    name: str

    def goals(self, given: Any) -> list[Goal]:
        """The claims this form stands for, built by running optim/ code."""
        ...

    def describe(self) -> str:
        """One line for people: what the form relates (an invariant, a relation), or ""."""
        ...


__all__ = ["Goal", "Form", "EQUAL", "AT_MOST", "LESS", "FOR_EVERY"]
