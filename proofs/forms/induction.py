"""Induction over the step counter (placeholder: being ported to goals)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Induction:
    initial: Any
    step: Callable
    invariant: Callable
    counter: Any
    conclusion: Callable | None = None
    counter_field: str = "t"
    name = "induction"

    def goals(self, given: Any) -> list:
        raise NotImplementedError("induction is being ported to the goal protocol")

    def describe(self) -> str:
        return ""


def induction(initial, step, invariant, counter, conclusion=None, counter_field: str = "t") -> Induction:
    return Induction(initial, step, invariant, counter, conclusion, counter_field)
