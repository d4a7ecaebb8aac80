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
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Iterable

import sympy

from symbolic.domains import (CLOSED_UNIT, NATURAL, NONNEGATIVE, POSITIVE, REAL, UNIT, Domain,
                              Variable, make_variable)
from symbolic.forms import Obligation
from symbolic.notation import math_text
from symbolic.prover import PROVED, REFUTED, UNKNOWN, VERDICTS, Claim
from symbolic.tensor import SymTensor

__all__ = ["theorem", "Given", "equation", "Equation", "Theorem", "PROVED", "REFUTED", "UNKNOWN",
           "registry", "for_every", "inequality", "induction", "simulation"]


class TheoremError(ValueError):
    """A theorem that cannot be built: bad declaration, duplicate name, wrong return value."""


@dataclass
class Equation:
    lhs: Any
    rhs: Any


def equation(lhs: Any, rhs: Any) -> Equation:
    """The claim lhs = rhs (tensors entrywise; tuples componentwise)."""
    return Equation(lhs, rhs)


@dataclass
class ForEvery:
    coefficient: Any
    lhs: Any
    rhs: Any
    depends_on: tuple | None = None


def for_every(coefficient: Any, lhs: Any, rhs: Any, depends_on: tuple | None = None) -> ForEvery:
    """Non-equivalence over a coefficient: "no value of c, however chosen from ``depends_on``
    (default: the scalar variables, i.e. the hyperparameters), makes lhs = rhs for all data".
    Declare ``expect=REFUTED``: the refutation covers every value of c."""
    return ForEvery(coefficient, lhs, rhs, depends_on)


@dataclass
class Inequality:
    lhs: Any
    rhs: Any
    strict: bool = False


def inequality(lhs: Any, rhs: Any, strict: bool = False) -> Inequality:
    """The claim lhs ≤ rhs (lhs < rhs if strict), entrywise."""
    return Inequality(lhs, rhs, strict)


def _values(state: Any, names: Iterable[str] | None) -> tuple[list[str], tuple]:
    """The named fields of a state (all its symbolic ones if None), for comparison."""
    if names is None:
        names = [f.name for f in fields(state)
                 if isinstance(getattr(state, f.name), (SymTensor, sympy.Basic))]
    return list(names), tuple(getattr(state, n) for n in names)


@dataclass
class Induction:
    """An invariant over the step counter, given as the closed form of state fields at step t."""

    initial: Any                          # the state at step 0 (from init)
    step: Callable[[Any], Any]            # state -> next state (one update)
    invariant: Callable[[Any], dict]      # t -> {field: value at step t}
    counter: Any                          # the symbolic step number t (declared natural)
    conclusion: Callable[[Any], Equation] | None = None   # what the invariant gives, for t ≥ 1
    counter_field: str = "t"

    def obligations(self, given: "Given") -> list:
        t = self.counter
        at_zero = self.invariant(0)
        base = Obligation("base case (t = 0)", _claim(
            given, _values(self.initial, at_zero)[1], tuple(at_zero.values())), refutes_theorem=True)
        at_t = replace(self.initial, **self.invariant(t), **{self.counter_field: t})
        after = self.step(at_t)
        at_next = self.invariant(t + 1)
        names = list(at_next) + [self.counter_field]
        step = Obligation("inductive step (t → t + 1)", _claim(
            given, _values(after, names)[1], tuple(at_next.values()) + (t + 1,)))
        result = [base, step]
        if self.conclusion is not None:
            conclusion = self.conclusion(at_t)
            result.append(Obligation("conclusion (every step t ≥ 1)", _claim(
                given, conclusion.lhs, conclusion.rhs, [sympy.Ge(t, 1)]), refutes_theorem=True))
        return result

    def describe(self) -> str:
        t = self.counter
        return "invariant at step t: " + ", ".join(f"{k} = {math_text(_entry(v))}"
                                                   for k, v in self.invariant(t).items())


@dataclass
class Simulation:
    """Optimizer B simulates A: a relation B = relate(A) holds at the start, is preserved by
    one step of each (on the same, or related, gradients), so it holds at every step."""

    step_a: Callable                      # (state, params, grads) -> (state, params)
    step_b: Callable
    start_a: tuple                        # (state, params) at the start
    start_b: tuple
    arbitrary_a: tuple                    # an arbitrary (state, params) of A, symbolic
    relate: Callable                      # (state_a, params_a) -> (state_b, params_b)
    grads: Any
    grads_b: Callable | None = None       # B's gradient from A's (default: the same)
    fields: tuple | None = None           # B's state fields the relation fixes (default: all symbolic)

    def _compare(self, given, state_b, params_b, expected, name, refutes=False, extra=()):
        names, actual = _values(state_b, self.fields)
        _, wanted = _values(expected[0], names)
        return Obligation(name, _claim(given, actual + (params_b,), wanted + (expected[1],), list(extra)),
                          refutes_theorem=refutes)

    def obligations(self, given: "Given") -> list:
        initial = self._compare(given, *self.start_b, self.relate(*self.start_a),
                                "initial relation", refutes=True)
        state_a, params_a = self.arbitrary_a
        state_b, params_b = self.relate(state_a, params_a)
        next_a = self.step_a(state_a, params_a, self.grads)
        grads_b = self.grads if self.grads_b is None else self.grads_b(self.grads)
        next_b = self.step_b(state_b, params_b, grads_b)
        step = self._compare(given, *next_b, self.relate(*next_a), "step preserves the relation")
        return [initial, step]

    def describe(self) -> str:
        state_b, params_b = self.relate(*self.arbitrary_a)
        names, values = _values(state_b, self.fields)
        parts = [f"B.{n} = {math_text(_entry(v))}" for n, v in zip(names, values)]
        return "relation: " + ", ".join(parts + [f"B.params = {math_text(_entry(params_b))}"])


def induction(initial, step, invariant, counter, conclusion=None, counter_field: str = "t") -> Induction:
    return Induction(initial, step, invariant, counter, conclusion, counter_field)


def simulation(step_a, step_b, start_a, start_b, arbitrary_a, relate, grads, grads_b=None,
               fields=None) -> Simulation:
    return Simulation(step_a, step_b, start_a, start_b, arbitrary_a, relate, grads, grads_b, fields)


def _entry(value: Any) -> Any:
    return value.entry if isinstance(value, SymTensor) and value.is_generic else value


def _claim(given: "Given", lhs, rhs, extra: list = ()) -> Claim:
    return Claim(lhs, rhs, given.variables, list(given.hypotheses) + list(extra))


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
    form: str = ""        # a label such as "k-step"; otherwise the form of what build returns
    source: str = ""      # the paper or document the statement comes from


registry: list[Theorem] = []
FORMS = ("equation", "k-step", "induction", "simulation", "non-equivalence", "inequality")


def theorem(name: str, *, statement: str, expect: str = PROVED, form: str = "", source: str = "") -> Callable:
    """Register a theorem under a dotted Lean-style name, with the verdict it must get, and
    optionally its form label (e.g. ``"k-step"``) and the source it comes from."""
    if expect not in VERDICTS:
        raise TheoremError(f"expect must be one of {VERDICTS}, got {expect!r}")
    if form and form not in FORMS:
        raise TheoremError(f"form must be one of {FORMS}, got {form!r}")

    def register(build: Callable[[Given], Equation]) -> Callable[[Given], Equation]:
        if any(t.name == name for t in registry):
            raise TheoremError(f"theorem {name!r} is defined twice")
        doc = inspect.getdoc(build)
        if not doc:
            raise TheoremError(f"theorem {name!r} needs a docstring (one sentence saying the claim)")
        registry.append(Theorem(name, statement, expect, build, doc, build.__module__, form, source))
        return build

    return register
