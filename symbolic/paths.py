"""Exploring every execution path of code that branches on symbolic values.

Python's ``if``, ``and``, ``==``-then-``if`` and ``bool()`` on a symbolic condition cannot be
answered by SymPy (``Symbol('mu') != 0`` is structurally ``True``, which would silently take
the momentum branch for every μ).  Here a branch is answered by the explorer instead:

* a constant condition (``1 > 0``) is simply taken;
* a condition already decided on this path (or its negation) gets the same answer, so a
  k-step unrolling that tests ``weight_decay != 0`` at every step forks once, not 2ᵏ times;
* any other condition forks: the code is run again from the start for each answer, and each
  run records its branch conditions as the path's conditions.

So the paths of one build cover every point of the domains, each with the exact code that
runs there.  Which paths are feasible, under which hypotheses, is for the decider to show
(a path it cannot rule out must hold too).  Exploration is re-execution, so the explored code
must be deterministic — a theorem build is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import sympy

from symbolic.bounds import bound

MAX_PATHS = 64
MAX_QUERIES = 10_000


class BranchError(RuntimeError):
    """A branch on a symbolic value outside an exploration, or too many paths."""


@dataclass
class Path:
    """One execution: the branch conditions it took (as true relations), the definedness
    conditions of what it branched on, and what the code returned."""

    conditions: list = field(default_factory=list)
    definedness: set = field(default_factory=set)
    result: Any = None
    # Each branch's own definedness, with the conditions taken before it: the code evaluates a
    # branch condition on every path that reaches it, so it must be defined there even where
    # the branch then leads to an infeasible path.
    branches: list = field(default_factory=list)


class _Run:
    def __init__(self, forced: list[tuple]):
        self.forced = forced          # (condition, answer) for the first forks of this run
        self.forks = 0
        self.queries = 0
        self.taken: dict = {}         # condition -> answer, on this path
        self.taken_order: list = []   # (condition, answer) for each fork, in order
        self.path = Path()
        self.alternatives: list[list[tuple]] = []
        self.domains: dict = {}       # symbol -> the interval of its declared domain (note_domain)

    def answer(self, condition: sympy.Basic, definedness: frozenset) -> bool:
        self.queries += 1
        if self.queries > MAX_QUERIES:
            raise BranchError(f"more than {MAX_QUERIES} branches on symbolic values on one path: a loop "
                              f"whose condition is symbolic ({condition}) never ends on symbols")
        self.path.definedness |= set(definedness)
        if definedness:
            self.path.branches.append((tuple(self.path.conditions), frozenset(definedness)))
        if condition is sympy.true or condition is sympy.false:
            return condition is sympy.true
        if condition in self.taken:
            return self.taken[condition]
        negation = _negate(condition)
        if negation in self.taken:
            return not self.taken[negation]
        settled = decided_by_domains(condition, self.domains)
        if settled is not None:
            return settled
        if self.forks < len(self.forced):
            expected, choice = self.forced[self.forks]
            if condition != expected:
                raise BranchError(_NONDETERMINISTIC + f" (a re-run asked {condition} where the first run "
                                  f"asked {expected})")
        else:
            choice = True
            self.alternatives.append(self.taken_order + [(condition, False)])
        self.forks += 1
        self._take(condition, choice)
        return choice

    def _take(self, condition: sympy.Basic, choice: bool) -> None:
        self.taken[condition] = choice
        self.taken_order = self.taken_order + [(condition, choice)]
        self.path.conditions.append(condition if choice else _negate(condition))


_NONDETERMINISTIC = ("the build is not deterministic: each execution path is explored by running it "
                     "again, and the runs branched differently (module-level state, caches, randomness?)")


def _negate(condition: sympy.Basic) -> sympy.Basic:
    negated = getattr(condition, "negated", None)
    return negated if negated is not None else sympy.Not(condition)


_current: list[_Run] = []


def branch(condition: sympy.Basic, definedness: frozenset = frozenset()) -> bool:
    """The answer to a branch on ``condition`` in the running exploration."""
    if condition in (sympy.true, sympy.false):
        if _current:
            path = _current[-1].path
            path.definedness |= set(definedness)
            if definedness:
                path.branches.append((tuple(path.conditions), frozenset(definedness)))
        return condition is sympy.true
    if not _current:
        raise BranchError(
            f"a branch on the symbolic condition {condition} outside a theorem build: symbolic "
            "code that branches must run under symbolic.paths.explore (the prover does this)")
    return _current[-1].answer(condition, definedness)


def note_domain(symbol: sympy.Symbol, interval: Any) -> None:
    """The running exploration learns a variable's domain: a branch its domain decides
    (k < 0 for k ∈ ℕ) is answered, not forked — the other side holds at no point."""
    if _current:
        _current[-1].domains[symbol] = interval


def decided_by_domains(condition: sympy.Basic, domains: dict) -> bool | None:
    """True or False where the domains' interval bound of lhs − rhs settles the relation for
    every point of them; None otherwise."""
    if not (domains and isinstance(condition, sympy.core.relational.Relational)
            and condition.free_symbols and condition.free_symbols <= set(domains)):
        return None
    try:
        i = bound(condition.lhs - condition.rhs, domains)
        below = i.hi < 0 or (i.hi == 0 and i.hi_open)         # every difference < 0
        at_most = i.hi <= 0
        above = i.lo > 0 or (i.lo == 0 and i.lo_open)          # every difference > 0
        at_least = i.lo >= 0
        answers = {sympy.StrictLessThan: (below, at_least), sympy.LessThan: (at_most, above),
                   sympy.StrictGreaterThan: (above, at_most), sympy.GreaterThan: (at_least, below),
                   sympy.Eq: (i.lo == 0 and i.hi == 0, below or above),
                   sympy.Ne: (below or above, i.lo == 0 and i.hi == 0)}
        holds, fails = answers.get(type(condition), (False, False))
        holds, fails = bool(holds), bool(fails)
    except TypeError:       # an end SymPy cannot order
        return None
    return True if holds else (False if fails else None)


def conditions_so_far() -> list:
    """The branch conditions the running exploration has taken so far on this path (none
    outside an exploration)."""
    return list(_current[-1].path.conditions) if _current else []


def explore(fn: Callable[[], Any], max_paths: int = MAX_PATHS) -> list[Path]:
    """Run ``fn`` once per execution path; the paths in the order explored.  An exception on
    any path propagates, with the path's conditions attached as ``error.path``."""
    from symbolic import tensor  # the refusals raised while the code runs

    pending: list[list[tuple]] = [[]]
    paths: list[Path] = []
    while pending:
        if len(paths) >= max_paths:
            raise BranchError(f"more than {max_paths} execution paths: the branches on symbolic values "
                              "multiply; fix some hyperparameters or add hypotheses that decide them")
        run = _Run(pending.pop())
        _current.append(run)
        tensor.REFUSALS.clear()
        try:
            run.path.result = fn()
        except Exception as error:
            error.path = list(run.path.conditions)  # type: ignore[attr-defined]
            raise
        finally:
            _current.pop()
        if tensor.REFUSALS:
            raise BranchError(
                f"the code caught a refused symbolic operation and went on ({tensor.REFUSALS[0]}): what it "
                "computed on symbols is not what it computes on numbers")
        if run.forks < len(run.forced):
            raise BranchError(_NONDETERMINISTIC + " (a re-run ended before reaching a branch the first run took)")
        paths.append(run.path)
        pending.extend(reversed(run.alternatives))
    return paths
