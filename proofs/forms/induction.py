"""Induction over the step counter: an invariant, given as the closed form of some state
fields at step t, holds at every step of a run.

``induction(initial, step, invariant, counter, conclusion=None, counter_field="t", domains=None)``

* ``initial``: the state at step 0 (e.g. ``adam.init(...)``); ``step``: state → next state;
* ``invariant(t)``: ``{field: value at step t}`` for the fields it gives (not the counter);
* ``counter``: the step number t, a variable declared ``natural`` that no hypothesis mentions;
* ``conclusion(state)``: optional, an ``equation``/``inequality`` that the invariant gives at
  every step t ≥ 1;
* ``domains``: optional ``{field: domain}`` for fields the invariant does not give — their
  arbitrary value at step t is confined to the domain, which the form checks holds initially
  and is kept by a step (a helper of the proof: failing, it gives UNKNOWN, never REFUTED).

The state at step t that the goals use is the initial one with the invariant's fields, the
counter t, every other tensor field a **fresh** arbitrary value and every other field
(hyperparameters, flags, ``None`` and scalar buffers) its initial value — which the step must
keep.  Goals, each over whole states (every field):

1. *base case* (refutes): the actual initial state = the state the invariant describes at
   t = 0 — the invariant evaluated at the symbolic t under the hypothesis t = 0, counter
   included, so a special case ``if step == 0`` inside the invariant is seen;
2. *inductive step*: one step from the state at step t gives the invariant at t + 1, counter
   t + 1, every kept field unchanged (nothing is claimed about fresh tensors);
3. *first step of the actual run* (refutes): one step from the actual initial state gives the
   invariant's fields and counter at t = 1 (implied by 1 and 2; a counterexample is a real one);
4. *conclusion* at the state at step t, t ≥ 1 — it does not refute: if the invariant were false
   the state would not be a reachable one — and at the actual state after one step (refutes).

Soundness: by induction on k, the state after k steps has the invariant's fields at k, counter
k and every kept field unchanged; so the conclusion holds at every step k ≥ 1.  The counter must
be the induction's variable only: the initial state may not mention it, and the invariant and
the step may depend on it only through their argument (checked by running both at another
symbol on every execution path).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy

from proofs.forms import AT_MOST, EQUAL, LESS, Goal
from proofs.forms.states import (check_domains, claimed_after, contains_tensor, domain_goals, field_names,
                                 freshen, same_type, show, symbols_in, theorem_error)
from symbolic import paths
from symbolic.tensor import SymScalar


@dataclass
class Induction:
    initial: Any
    step: Callable
    invariant: Callable
    counter: Any
    conclusion: Callable | None = None
    counter_field: str = "t"
    domains: dict | None = None
    name = "induction"
    description: str = field(default="", repr=False)

    # -- checks ---------------------------------------------------------------------
    def _counter_symbol(self, given: Any) -> sympy.Symbol:
        t = self.counter
        declared = [v for v in given.variables
                    if not v.is_tensor and isinstance(t, SymScalar) and v.value.expr == t.expr]
        if not declared:
            raise theorem_error("induction: the counter must be a variable of the theorem declared with "
                                f"x.natural(...), got {t!r}")
        variable = declared[0]
        if variable.domain.name != "natural":
            raise theorem_error(f"induction: the counter {variable.name} is declared {variable.domain.name}, not "
                                "natural: the induction needs every step from t = 0 on")
        symbol = t.expr
        hypotheses = [h for h in given.hypotheses if symbol in getattr(h, "free_symbols", ())]
        hypotheses += [c.show() for c in given.conditions if symbol in symbols_of_condition(c)]
        if hypotheses:
            raise theorem_error(f"induction: a hypothesis mentions the counter {symbol} ({hypotheses[0]}): it "
                                "would drop steps of the induction (the 0 → 1 step for t ≥ 1); state it in the "
                                "conclusion instead")
        taken = paths_taken()
        if any(symbol in getattr(c, "free_symbols", ()) for c in taken):
            raise theorem_error(f"induction: the theorem branched on the counter {symbol} before returning the "
                                "induction; that acts as a hypothesis on it")
        return symbol

    def _invariant_at(self, step: Any, names: list[str]) -> dict:
        values = self.invariant(step)
        if not isinstance(values, dict) or not values:
            raise theorem_error("induction: the invariant must return a non-empty dict {field: value at step t}")
        for name in values:
            if name not in names:
                raise theorem_error(f"induction: the invariant gives {name!r}, which is not a field of the state "
                                    f"({', '.join(names)})")
            if name == self.counter_field:
                raise theorem_error(f"induction: the invariant may not give the counter field {name!r}: the form "
                                    "sets it to t")
        return values

    def _no_capture(self, symbol: sympy.Symbol, names: list[str], at: Callable) -> None:
        """The invariant and the step depend on the counter only through their argument: run
        at another symbol u, on every execution path, neither mentions t."""
        u = SymScalar(sympy.Dummy("u", integer=True, nonnegative=True))

        def invariant_at_u():
            return self._invariant_at(u, names)

        for found in paths.explore(invariant_at_u):
            if symbol in symbols_in(found.result, found.conditions):
                raise theorem_error(f"induction: the invariant mentions the counter {symbol} other than through its "
                                    "argument: write it as a function of the step it is given")

        def step_at_u():
            return self.step(at(self._invariant_at(u, names), u))

        for found in paths.explore(step_at_u):
            if symbol in symbols_in(found.result, found.conditions):
                raise theorem_error(f"induction: the step mentions the counter {symbol} other than through the "
                                    f"state's {self.counter_field!r} field")

    # -- goals ----------------------------------------------------------------------
    def goals(self, given: Any) -> list[Goal]:
        names = field_names(self.initial, "induction: the initial state")
        if self.counter_field not in names:
            raise theorem_error(f"induction: the state has no counter field {self.counter_field!r} "
                                f"(fields: {', '.join(names)}); name it with counter_field=")
        # The second check (proofs.crosscheck) reruns the build on numbers: the counter is then a
        # number and the checks below, already passed by the symbolic build, do not apply.
        concrete = getattr(given, "concrete", None) is not None
        t = self.counter
        symbol = t.expr if concrete else self._counter_symbol(given)
        initial = self.initial
        if not concrete and symbol in symbols_in(initial):
            raise theorem_error(f"induction: the initial state mentions the counter {symbol}: it is the state at "
                                "step 0")

        at_t = self._invariant_at(t, names)
        given_fields = list(at_t)
        others = [n for n in names if n not in given_fields and n != self.counter_field]
        fresh_fields = [n for n in others if contains_tensor(getattr(initial, n))]
        kept_fields = [n for n in others if n not in fresh_fields]
        domains = check_domains(self.domains, fresh_fields, initial, "the invariant")
        fresh = {n: freshen(getattr(initial, n), given, f"{n}_{self.counter_field}", domains.get(n, "real"))
                 for n in fresh_fields}

        def state_at(values: dict, counter: Any) -> Any:
            return dataclasses.replace(initial, **values, **fresh, **{self.counter_field: counter})

        if not concrete:
            self._no_capture(symbol, names, state_at)
        self.description = self._describe(at_t, fresh_fields, kept_fields, domains)

        at_zero = Eq(symbol, 0)
        base_state = dataclasses.replace(initial, **at_t, **{self.counter_field: t})
        goals = [Goal("base case (t = 0)",
                      EQUAL, initial, base_state, hypotheses=[at_zero], refutes_theorem=True)]

        state_t = state_at(at_t, t)
        after = self.step(state_t)
        same_type(after, initial, "induction: the step")
        at_next = self._invariant_at(t + 1, names)
        if set(at_next) != set(at_t):
            raise theorem_error("induction: the invariant gives different fields at t and t + 1")
        expected = dataclasses.replace(
            initial, **at_next, **{self.counter_field: t + 1},
            **{n: claimed_after(getattr(after, n), fresh[n]) for n in fresh_fields})
        goals.append(Goal("inductive step (t → t + 1)",
                          EQUAL, after, expected, refutes_theorem=False))
        for n, domain in domains.items():
            for relation, lhs, rhs in domain_goals(getattr(initial, n), domain):
                # The domain helps the proof; a wrong one is not a counterexample to the invariant.
                goals.append(Goal(f"{n} ∈ {domain} initially", relation, lhs, rhs, refutes_theorem=False))
            for relation, lhs, rhs in domain_goals(getattr(after, n), domain):
                goals.append(Goal(f"{n} stays in {domain} (step t → t + 1)", relation, lhs, rhs,
                                  refutes_theorem=False))

        first = self.step(initial)
        same_type(first, initial, "induction: the step")
        at_one = Eq(symbol, 1)
        claimed = dataclasses.replace(first, **at_t, **{self.counter_field: t})
        goals.append(Goal("first step of the actual run (t = 1)",
                          EQUAL, first, claimed, hypotheses=[at_one], refutes_theorem=True))

        if self.conclusion is not None:
            for goal in self._conclusion(state_t, given):
                goals.append(dataclasses.replace(
                    goal, name="conclusion (every step t ≥ 1)",
                    hypotheses=list(goal.hypotheses) + [sympy.Ge(symbol, 1)], refutes_theorem=False))
            for goal in self._conclusion(first, given):
                goals.append(dataclasses.replace(
                    goal, name="conclusion (the actual first step)",
                    hypotheses=list(goal.hypotheses) + [at_one], refutes_theorem=True))
        return goals

    def actual_runs(self, given: Any, steps: int) -> list[Goal]:
        """The real run from the actual initial state, for the second check on numbers: after k
        steps (k = 1 … steps) the invariant's fields at k and the counter k, and the conclusion."""
        names = field_names(self.initial, "induction: the initial state")
        state, goals = self.initial, []
        for k in range(1, steps + 1):
            state = self.step(state)
            claimed = dataclasses.replace(state, **self._invariant_at(k, names), **{self.counter_field: k})
            goals.append(Goal(f"the actual run after {k} steps", EQUAL, state, claimed))
            if self.conclusion is not None:
                goals += [dataclasses.replace(g, name=f"conclusion after {k} steps of the actual run")
                          for g in self._conclusion(state, given)]
        return goals

    def _conclusion(self, state: Any, given: Any) -> list[Goal]:
        form = self.conclusion(state)
        if getattr(form, "name", None) not in ("equation", "inequality"):
            raise theorem_error("induction: the conclusion must return equation(...) or inequality(...), got "
                                f"{type(form).__name__}")
        goals = form.goals(given)
        if any(g.relation not in (EQUAL, AT_MOST, LESS) for g in goals):
            raise theorem_error("induction: the conclusion must be an equation or an inequality")
        return goals

    def _describe(self, at_t: dict, fresh_fields: list, kept_fields: list, domains: dict) -> str:
        t = self.counter
        text = f"invariant at step {show(t)}: " + ", ".join(f"{k} = {show(v)}" for k, v in at_t.items())
        text += f", {self.counter_field} = {show(t)}"
        others = []
        if fresh_fields:
            others.append(", ".join(f"{n}{' ∈ ' + domains[n] if n in domains else ''}" for n in fresh_fields)
                          + " fresh (arbitrary)")
        if kept_fields:
            others.append(", ".join(kept_fields) + " unchanged")
        return text + ("; other fields: " + "; ".join(others) if others else "")

    def describe(self) -> str:
        return self.description


def Eq(symbol: sympy.Symbol, value: int) -> sympy.Basic:
    return sympy.Eq(symbol, value)


def symbols_of_condition(condition: Any) -> set:
    found = set(getattr(condition.expr, "free_symbols", ()))
    if condition.exponent is not None:
        found |= set(getattr(condition.exponent, "free_symbols", ()))
    return found


def paths_taken() -> list:
    """The branch conditions the running build has taken so far (none outside a build)."""
    return paths.conditions_so_far()


def induction(initial: Any, step: Callable, invariant: Callable, counter: Any, conclusion: Callable | None = None,
              counter_field: str = "t", domains: dict | None = None) -> Induction:
    """An invariant over the step counter (see the module's docstring for the goals)."""
    return Induction(initial, step, invariant, counter, conclusion, counter_field, domains)
