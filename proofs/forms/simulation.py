"""Simulation between two optimizers (placeholder: being ported to goals)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Simulation:
    step_a: Callable
    step_b: Callable
    start_a: tuple
    start_b: tuple
    arbitrary_a: tuple
    relate: Callable
    grads: Any
    grads_b: Callable | None = None
    fields: tuple | None = None
    name = "simulation"

    def goals(self, given: Any) -> list:
        raise NotImplementedError("simulation is being ported to the goal protocol")

    def describe(self) -> str:
        return ""


def simulation(step_a, step_b, start_a, start_b, arbitrary_a, relate, grads, grads_b=None,
               fields=None) -> Simulation:
    return Simulation(step_a, step_b, start_a, start_b, arbitrary_a, relate, grads, grads_b, fields)
