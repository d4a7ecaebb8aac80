"""The second check of every PROVED: the theorem's own code, run again on exact numbers.

A PROVED rests on the symbolic trace (one generic entry, the explored paths) and on the
decider.  This check depends on neither.  It runs the theorem's build once more with every
variable bound to an exact rational — each generic tensor as an *explicit* tensor of several
shapes, with its own value in every entry — so the optimizer code runs on real inputs,
branches are decided by the numbers themselves, and every goal the form states is checked
at that point, exactly (or with certified intervals where roots appear).  For an induction or
a simulation it also runs the real trajectories from the actual initial states, k = 1 … 5 steps,
and checks the invariant (or relation) and the conclusion after each.

Two halves, in two processes:

* ``sample`` (trusted, in the runner's process): exact points inside every domain where every
  hypothesis holds, entry by entry for the tensors;
* ``evaluate`` (untrusted, in the child that imports the theorem file): the build and the
  form's goals on those numbers, returned as data;

and ``judge`` (trusted) compares.  A goal that fails, or a value that is undefined, at a
point that satisfies the domains and hypotheses contradicts the PROVED: the runner reports it
as an internal error and the verdict becomes UNKNOWN.  Agreement is evidence, not proof.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import sympy

from symbolic.certify import certainly_nonzero, enclose
from symbolic.domains import DOMAINS
from symbolic.obligation import AT_MOST, EQUAL, LESS, TheoremData

SHAPES = ((1,), (3,), (2, 2))
ROW_SHAPES = ((1, 2), (2, 3))   # a theorem on a matrix of symbolic lengths (m, n): points of these shapes
RUN_STEPS = 5   # induction and simulation: the real runs of k = 1 … 5 steps from the actual start
TRIES = 40


@dataclass
class Assignment:
    """Exact values for every variable: scalars (and explicit tensors' entries) by symbol name;
    each generic tensor as an explicit tensor of ``shape``, its entries in row-major order."""

    scalars: dict = field(default_factory=dict)
    tensors: dict = field(default_factory=dict)
    shape: tuple = (1,)

    def describe(self) -> str:
        parts = [f"{k} = {v}" for k, v in self.scalars.items()]
        parts += [f"{k} = {list(map(str, v))}" for k, v in self.tensors.items()]
        return f"shape {self.shape}: " + ", ".join(parts)


# ---------------------------------------------------------------------------------------
# Trusted: choosing points.

def _sample(domain_name: str, rng: random.Random) -> sympy.Rational:
    """A value of the domain: often a closed end (0 for [0, 1), where branches like μ ≠ 0
    switch), often one of the domain's typical values, otherwise a random rational."""
    domain = DOMAINS[domain_name]
    interval = domain.interval
    ends = [e for e, opened in ((interval.lo, interval.lo_open), (interval.hi, interval.hi_open)) if not opened]
    roll = rng.random()
    if ends and roll < 0.3:
        return sympy.sympify(rng.choice(ends))
    if roll < 0.65:
        return rng.choice(domain.samples)
    lo, hi = sympy.sympify(interval.lo), sympy.sympify(interval.hi)
    lo = lo if lo.is_finite else sympy.Integer(-5)
    hi = hi if hi.is_finite else lo + 10
    if domain.integer:
        return sympy.Integer(rng.randint(int(lo), int(min(hi, lo + 8))))
    value = lo + (hi - lo) * sympy.Rational(rng.randint(1, 99), 100)
    return value


def _holds(hypothesis: sympy.Basic, values: dict) -> bool:
    try:
        return hypothesis.xreplace(values) is sympy.true
    except (TypeError, ValueError, ZeroDivisionError):
        return False


def sample(data: TheoremData, count: int = 2, seed: int = 0) -> list[Assignment]:
    """Points for each execution path: up to ``count`` assignments for each shape in ``SHAPES``
    (one when there are more than two paths) where the path's hypotheses and conditions hold,
    so the code takes that path there and its statement applies."""
    rng = random.Random(seed)
    generic = [v for v in data.variables if v.tensor and v.shape is None]
    generic_symbols = {v.symbols[0] for v in generic}
    # a sum over a row given a variable of its own (proofs.harness._sums_as_variables): its value
    # is the row's, computed by the run itself, which checks the hypotheses that mention it
    sums = {v.symbols[0] for v in data.variables if v.note.startswith("= Σ")}
    paths = _path_hypotheses(data)
    per_shape = count if len(paths) <= 2 else 1
    found: list[Assignment] = []
    for hypotheses in paths:
        hypotheses = [h for h in hypotheses if not h.free_symbols & sums]
        scalar_hypotheses = [h for h in hypotheses if not h.free_symbols & generic_symbols]
        entry_hypotheses = [h for h in hypotheses if h.free_symbols & generic_symbols]
        axes = [_row_axes(v.note) for v in generic if _row_axes(v.note)]   # rows of symbolic lengths
        ndim = max(map(len, axes), default=0)
        shapes = (SHAPES if not axes else [s for s in SHAPES if len(s) == 1] if ndim == 1 else
                  [s for s in ROW_SHAPES if len(s) == ndim])
        for shape in shapes if generic else ((1,),):
            made = 0
            for _ in range(TRIES):
                if made == per_shape:
                    break
                assignment = _assign(data, generic, shape, scalar_hypotheses, entry_hypotheses, rng,
                                     _lengths_at(axes, shape) if ndim > 1 else {})
                if assignment is not None:
                    found.append(assignment)
                    made += 1
            if made == 0:   # no point on the smallest shape: a larger one, more entries to satisfy, fares no better
                break
    return found


def _row_axes(note: str) -> tuple:
    """A row variable's axes from its note: ("n",) for "length n: …", ("m", "1") for
    "shape (m, 1): …"; () for any other variable."""
    if note.startswith("length "):
        return (note[len("length "):].split(":")[0],)
    if note.startswith("shape (") and ":" in note:
        return tuple(d.strip() for d in note[len("shape ("):].split(")")[0].split(","))
    return ()


def _lengths_at(axes: list, shape: tuple) -> dict:
    """The lengths' names bound to a point's shape, axis by axis (a matrix's m, n to (2, 3)), so
    that the code's sizes and the theorem's lengths agree there."""
    return {name: sympy.Integer(size) for names in axes if len(names) == len(shape)
            for name, size in zip(names, shape) if name != "1"}


def _path_hypotheses(data: TheoremData) -> list[list]:
    """Per execution path: its conditions and the hypotheses all its obligations share."""
    by_path: dict = {}
    for ob in data.obligations:
        key = tuple(ob.path)
        shared = by_path.get(key)
        by_path[key] = list(ob.hypotheses) if shared is None else [h for h in shared if h in ob.hypotheses]
    if not by_path:
        return [list(data.hypotheses)]
    return [list(path) + hypotheses for path, hypotheses in by_path.items()]


def _assign(data, generic, shape, scalar_hypotheses, entry_hypotheses, rng, lengths=None) -> Assignment | None:
    scalars = {}
    for v in data.variables:
        if not (v.tensor and v.shape is None):
            for symbol in v.symbols:
                scalars[symbol] = (lengths or {}).get(symbol.name) or _sample(v.domain, rng)
    _solve_equalities(scalar_hypotheses, scalars)
    domains = {s: DOMAINS[v.domain] for v in data.variables if not (v.tensor and v.shape is None) for s in v.symbols}
    if not all(domains[s].contains(value) for s, value in scalars.items()):
        return None
    if not all(_holds(h, scalars) for h in scalar_hypotheses):
        return None
    entries = {v.name: [] for v in generic}
    for _ in range(math.prod(shape)):
        for _ in range(TRIES):
            values = {v.symbols[0]: _sample(v.domain, rng) for v in generic}
            if all(_holds(h, {**scalars, **values}) for h in entry_hypotheses):
                break
        else:
            return None
        for v in generic:
            entries[v.name].append(values[v.symbols[0]])
    return Assignment({s.name: value for s, value in scalars.items()}, entries, shape)


def _solve_equalities(hypotheses: list, scalars: dict) -> None:
    """An equality hypothesis on a lone scalar (dampening = 0, λ = λ′·α) is met by setting that
    scalar, so points are found where random values would almost never hit it.  Whether the
    value lies in the scalar's domain, and the other hypotheses hold, the caller checks."""
    for _ in range(len(hypotheses)):
        for h in hypotheses:
            if not isinstance(h, sympy.Eq):
                continue
            for symbol, other in ((h.lhs, h.rhs), (h.rhs, h.lhs)):  # a = 1/3, or 1/3 = a
                if symbol in scalars and symbol not in other.free_symbols:
                    value = other.xreplace(scalars)
                    if value.is_Rational:
                        scalars[symbol] = value
                    break


# ---------------------------------------------------------------------------------------
# Untrusted: running the theorem on the numbers (in the child that imported its file).

def evaluate(theorem: Any, assignment: Assignment) -> list[dict]:
    """Each goal of the theorem's form at ``assignment``: its name, relation, whether its own
    hypotheses hold there, and its entry pairs as exact numbers."""
    from proofs.harness import Given
    from symbolic import tensor
    from symbolic.flatten import compare

    tensor.CONCRETE_CHECK = True
    try:
        given = Given(concrete=assignment)
        form = theorem.build(given)
        goals = form.goals(given)
        if hasattr(form, "actual_runs"):
            goals += form.actual_runs(given, RUN_STEPS)
        inside = not given.violated  # a hypothesis of the path taken here fails: not a point of it
        results = []
        for goal in goals:
            applies = inside and all(_truth(h) for h in goal.hypotheses)
            if not applies:  # outside the goal's statement: its values may not even be real
                results.append({"name": goal.name, "relation": goal.relation, "applies": False, "pairs": []})
                continue
            compared = compare(goal.lhs, goal.rhs, inequality=goal.relation in (AT_MOST, LESS))
            results.append({"name": goal.name, "relation": goal.relation, "applies": True,
                            "pairs": [(label, _real_or_nan(a), _real_or_nan(b)) for label, a, b in compared.pairs]})
        return results
    finally:
        tensor.CONCRETE_CHECK = False


def _real_or_nan(value: Any) -> Any:
    """A value that is not a real number (a root of a negative number) as nan: undefined."""
    return sympy.nan if isinstance(value, sympy.Basic) and value.has(sympy.I) else value


def _truth(hypothesis: Any) -> bool:
    expr = getattr(hypothesis, "expr", hypothesis)
    return sympy.sympify(expr) is sympy.true


# ---------------------------------------------------------------------------------------
# Trusted: judging.

def _undefined(x: sympy.Expr) -> bool:
    return not x.is_number or x.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I)


def _disagrees(relation: str, a: sympy.Expr, b: sympy.Expr) -> bool:
    """True only when the pair certainly violates the relation."""
    if relation == EQUAL:
        return certainly_nonzero(sympy.expand(a - b))
    difference = b - a
    if difference.is_Rational:
        return difference < 0 or (relation == LESS and difference == 0)
    try:
        box = enclose(difference)
    except Exception:
        return False
    return box.b < 0


def judge(results: list[dict], assignment: Assignment) -> str | None:
    """None when every applicable goal holds at the point; else what failed, for the report."""
    for result in results:
        if not result["applies"] or result["relation"] not in (EQUAL, AT_MOST, LESS):
            continue
        for label, a, b in result["pairs"]:
            if _undefined(a) or _undefined(b):
                return (f"{result['name']}, {label or 'value'}: undefined ({a} vs {b}) at "
                        f"{assignment.describe()}")
            if _disagrees(result["relation"], a, b):
                return (f"{result['name']}, {label or 'value'}: {a} {result['relation']} {b} fails at "
                        f"{assignment.describe()}")
    return None
