"""The two single-claim forms: an equation and an inequality."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proofs.forms import AT_MOST, EQUAL, LESS, Goal


@dataclass
class Equation:
    """lhs = rhs: tensors entrywise, tuples and states componentwise (every field)."""

    lhs: Any
    rhs: Any
    name = "equation"

    def goals(self, given: Any) -> list[Goal]:
        return [Goal("equation", EQUAL, self.lhs, self.rhs)]

    def describe(self) -> str:
        return ""


@dataclass
class Inequality:
    """lhs ≤ rhs (lhs < rhs if strict), entrywise."""

    lhs: Any
    rhs: Any
    strict: bool = False
    name = "inequality"

    def goals(self, given: Any) -> list[Goal]:
        return [Goal("inequality", LESS if self.strict else AT_MOST, self.lhs, self.rhs)]

    def describe(self) -> str:
        return ""


def equation(lhs: Any, rhs: Any) -> Equation:
    """The claim lhs = rhs (tensors entrywise; tuples and states componentwise)."""
    return Equation(lhs, rhs)


def inequality(lhs: Any, rhs: Any, strict: bool = False) -> Inequality:
    """The claim lhs ≤ rhs (lhs < rhs if strict), entrywise."""
    return Inequality(lhs, rhs, strict)
