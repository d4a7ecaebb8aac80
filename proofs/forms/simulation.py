"""Simulation: optimizer B simulates A when B's whole state is a function of A's — given by
``relate`` — at the start, and one step of each keeps it so.  Then B = relate(A) at every step.

``simulation(step_a, step_b, start_a, start_b, relate, grads, grads_b=None, domains=None,
counter_field="t")``

* ``step_a``, ``step_b``: ``(state, params, grads) -> (state, params)``;
* ``start_a``, ``start_b``: ``(state, params)`` at the start of each run;
* ``relate(state_a, params_a) -> (state_b, params_b)``: B's **whole** state and parameters
  (every field is compared);
* ``grads``: the gradient both runs get at a step (any value: a declared tensor);
  ``grads_b(g)``: B's gradient from A's, if different;
* ``domains``: optional ``{field: domain}`` confining tensor fields of A's arbitrary state
  (Adam's ``v ≥ 0``); the form checks that A's start lies in it and that A's step keeps it.

A's arbitrary state is built by the form from ``start_a``: every tensor fresh, the counter
field (if A's state has one) a fresh natural, params fresh, every other field (hyperparameters,
flags, ``None``) as in ``start_a`` — and A's step must keep those and advance the counter by one,
so the arbitrary state covers every state A's run reaches.  Goals, over whole values:

1. *initial relation* (refutes): ``start_b = relate(start_a)``;
2. *first step of the actual runs* (refutes): ``step_b(start_b) = relate(step_a(start_a))``;
3. *step preserves the relation*: ``step_b(relate(a)) = relate(step_a(a))`` for the arbitrary
   A-state a — it does not refute: a may not be reachable;
4. *A's step stays in the arbitrary family*: hyperparameters and flags unchanged, counter + 1,
   and the ``domains`` hold at the start and are kept (helpers of the proof: they do not refute).

The old ``arbitrary_a`` (a user-built "arbitrary" state, never checked to be arbitrary) and
``fields`` (a subset of B's fields to compare) are refused.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from proofs.forms import EQUAL, Goal
from proofs.forms.states import (check_domains, claimed_after, contains_tensor, domain_goals, field_names,
                                 freshen, same_type, show, theorem_error)
from symbolic.tensor import SymScalar, SymTensor


@dataclass
class Simulation:
    step_a: Callable
    step_b: Callable
    start_a: tuple
    start_b: tuple
    relate: Callable
    grads: Any
    grads_b: Callable | None = None
    domains: dict | None = None
    counter_field: str = "t"
    name = "simulation"
    description: str = field(default="", repr=False)

    def _pair(self, value: Any, role: str) -> tuple:
        if not isinstance(value, tuple) or len(value) != 2:
            raise theorem_error(f"simulation: {role} must be a pair (state, params), got {type(value).__name__}")
        return value

    def _b_grads(self) -> Any:
        return self.grads if self.grads_b is None else self.grads_b(self.grads)

    def _start_counter(self, state: Any, given: Any) -> None:
        """A's counter at the start must be a natural number, so the start is one of the
        arbitrary states (whose counter is a fresh natural)."""
        value = getattr(state, self.counter_field)
        expr = value.expr if isinstance(value, SymScalar) else value
        if isinstance(expr, bool) or expr is None:
            raise theorem_error(f"simulation: A's counter {self.counter_field!r} is {expr!r}, not a natural number")
        natural = [v for v in given.variables if not v.is_tensor and v.domain.name == "natural"]
        if any(v.value.expr == expr for v in natural):
            return
        try:
            number = int(expr)
            ok = number == expr and number >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise theorem_error(f"simulation: A's counter {self.counter_field!r} starts at {expr}, not a natural "
                                "number or a variable declared natural")

    def goals(self, given: Any) -> list[Goal]:
        if not callable(self.relate):
            raise theorem_error("simulation: relate must be a function (state_a, params_a) -> (state_b, params_b)")
        start_a = self._pair(self.start_a, "start_a")
        start_b = self._pair(self.start_b, "start_b")
        state_a, params_a = start_a
        names = field_names(state_a, "simulation: A's start state")
        counter = self.counter_field if self.counter_field in names else None
        if counter is not None and contains_tensor(getattr(state_a, counter)):
            counter = None
        if counter is not None:
            self._start_counter(state_a, given)
        others = [n for n in names if n != counter]
        fresh_fields = [n for n in others if contains_tensor(getattr(state_a, n))]
        kept_fields = [n for n in others if n not in fresh_fields]
        domains = check_domains(self.domains, fresh_fields, state_a, "A's arbitrary state")

        goals = [Goal("initial relation", EQUAL, start_b,
                      self._pair(self.relate(*start_a), "relate(...)"), refutes_theorem=True)]
        for n, domain in domains.items():
            for relation, lhs, rhs in domain_goals(getattr(state_a, n), domain):
                goals.append(Goal(f"A's start has {n} ∈ {domain}", relation, lhs, rhs, refutes_theorem=False))

        first_a = self._pair(self.step_a(*start_a, self.grads), "step_a(...)")
        first_b = self._pair(self.step_b(*start_b, self._b_grads()), "step_b(...)")
        goals.append(Goal("first step of the actual runs", EQUAL, first_b,
                          self._pair(self.relate(*first_a), "relate(...)"), refutes_theorem=True))

        # A's arbitrary state, built here from its start.
        fresh = {n: freshen(getattr(state_a, n), given, f"{n}_A", domains.get(n, "real")) for n in fresh_fields}
        if counter is not None:
            fresh[counter] = given.fresh(f"{counter}_A", SymScalar(0), "natural")
        a_state = dataclasses.replace(state_a, **fresh)
        a_params = freshen(params_a, given, "params_A")
        if not contains_tensor(a_params):
            raise theorem_error("simulation: A's params must be a tensor (or hold tensors)")
        a = (a_state, a_params)
        self.description = self._describe(a, fresh_fields, kept_fields, counter, domains)

        next_a = self._pair(self.step_a(*a, self.grads), "step_a(...)")
        related = self._pair(self.relate(*a), "relate(...)")
        next_b = self._pair(self.step_b(*related, self._b_grads()), "step_b(...)")
        goals.append(Goal("step preserves the relation", EQUAL, next_b, self._pair(self.relate(*next_a), "relate(...)"),
                          refutes_theorem=False))

        after_state, after_params = next_a
        same_type(after_state, state_a, "simulation: step_a")
        if kept_fields or counter is not None:
            expected = dataclasses.replace(
                a_state, **{n: claimed_after(getattr(after_state, n), a_state_field)
                            for n, a_state_field in ((n, getattr(a_state, n)) for n in fresh_fields)},
                **({counter: fresh[counter] + 1} if counter is not None else {}))
            goals.append(Goal("A's step keeps its hyperparameters, flags and other non-tensor fields"
                              + (f" and advances {counter} by one" if counter else ""),
                              EQUAL, (after_state, after_params), (expected, claimed_after(after_params, a_params)),
                              refutes_theorem=False))
        for n, domain in domains.items():
            for relation, lhs, rhs in domain_goals(getattr(after_state, n), domain):
                goals.append(Goal(f"A's step keeps {n} ∈ {domain}", relation, lhs, rhs, refutes_theorem=False))
        return goals

    def actual_runs(self, given: Any, steps: int) -> list[Goal]:
        """The real runs from the actual starts, for the second check on numbers: after k steps
        of each (k = 1 … steps), B's whole state and params are relate(A's)."""
        a, b, goals = self.start_a, self.start_b, []
        for k in range(1, steps + 1):
            a = self._pair(self.step_a(*a, self.grads), "step_a(...)")
            b = self._pair(self.step_b(*b, self._b_grads()), "step_b(...)")
            goals.append(Goal(f"the actual runs after {k} steps", EQUAL, b, self._pair(self.relate(*a), "relate(...)")))
        return goals

    def _describe(self, a: tuple, fresh_fields: list, kept_fields: list, counter: str | None,
                  domains: dict) -> str:
        state_b, params_b = self.relate(*a)
        parts = []
        if dataclasses.is_dataclass(state_b):
            for f in dataclasses.fields(state_b):
                value = getattr(state_b, f.name)
                if isinstance(value, (SymTensor, SymScalar)):
                    parts.append(f"B.{f.name} = {show(value)}")
        parts.append(f"B.params = {show(params_b) if isinstance(params_b, (SymTensor, SymScalar)) else '…'}")
        arbitrary = [f"{n}{' ∈ ' + domains[n] if n in domains else ''}" for n in fresh_fields]
        if counter:
            arbitrary.append(f"{counter} ∈ ℕ")
        text = "relation (every field of B): " + ", ".join(parts)
        text += "; A arbitrary: " + (", ".join(arbitrary + ["params"]))
        if kept_fields:
            text += "; A keeps " + ", ".join(kept_fields)
        return text

    def describe(self) -> str:
        return self.description


def simulation(step_a: Callable, step_b: Callable, start_a: tuple, start_b: tuple, relate: Callable, grads: Any,
               grads_b: Callable | None = None, domains: dict | None = None, counter_field: str = "t", *,
               arbitrary_a: Any = None, fields: Any = None) -> Simulation:
    """B = relate(A) at every step (see the module's docstring for the goals)."""
    if arbitrary_a is not None:
        raise theorem_error("simulation: arbitrary_a is no longer accepted — the form builds A's arbitrary state "
                            "itself from start_a (every tensor fresh, the counter a fresh natural)")
    if fields is not None:
        raise theorem_error("simulation: fields is no longer accepted — relate must give B's whole state, and every "
                            "field is compared")
    if not callable(relate):
        raise theorem_error("simulation: relate must be a function (state_a, params_a) -> (state_b, params_b); "
                            "the argument order is (step_a, step_b, start_a, start_b, relate, grads, grads_b)")
    return Simulation(step_a, step_b, start_a, start_b, relate, grads, grads_b, domains, counter_field)
