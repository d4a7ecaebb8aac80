"""Non-equivalence for every value of a coefficient (placeholder: being ported to goals)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proofs.forms import FOR_EVERY, Goal


@dataclass
class ForEvery:
    coefficient: Any
    lhs: Any
    rhs: Any
    depends_on: tuple | None = None
    name = "non-equivalence"

    def goals(self, given: Any) -> list[Goal]:
        raise NotImplementedError("for_every is being ported to the goal protocol")

    def describe(self) -> str:
        return f"for every value of {self.coefficient}"


def for_every(coefficient: Any, lhs: Any, rhs: Any, depends_on: tuple | None = None) -> ForEvery:
    return ForEvery(coefficient, lhs, rhs, depends_on)
