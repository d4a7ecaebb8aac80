"""Running theorems: each built and decided in a child process under a hard time limit."""
from __future__ import annotations

import fnmatch
import importlib.util
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from proofs.harness import (Equation, ForEvery, Given, Induction, Inequality, Simulation, Theorem,
                            TheoremError, registry)
from symbolic.forms import decide_for_every, decide_inequality, decide_obligations
from symbolic.notation import math_text, mathml
from symbolic.prover import UNKNOWN, Claim, decide
from symbolic.timelimit import ChildError, TimeLimitExceeded, run_with_time_limit

DEFAULT_TIME_LIMIT = 30.0


@dataclass
class Result:
    """One theorem's outcome, everything the reports show."""

    name: str
    docstring: str
    statement: str
    expected: str
    verdict: str
    method: str
    reason: str
    seconds: float
    module: str
    variables: list = field(default_factory=list)
    hypotheses: list = field(default_factory=list)
    hypotheses_used: list = field(default_factory=list)
    side_conditions: list = field(default_factory=list)
    shape: str = ""
    lhs: str = ""
    rhs: str = ""
    counterexample: dict | None = None
    form: str = "equation"
    source: str = ""
    relation: str = ""
    obligations: list = field(default_factory=list)
    lhs_mathml: str = ""
    rhs_mathml: str = ""

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expected


def _decide_built(built, given: Given) -> tuple[object, str, str]:
    """(verdict, form, relation text) for whatever form the theorem returned."""
    def claim(lhs, rhs):
        return Claim(lhs, rhs, given.variables, given.hypotheses)

    if isinstance(built, Equation):
        return decide(claim(built.lhs, built.rhs)), "equation", ""
    if isinstance(built, ForEvery):
        fixed = None if built.depends_on is None else set(built.depends_on)
        verdict = decide_for_every(claim(built.lhs, built.rhs), built.coefficient, fixed)
        return verdict, "non-equivalence", f"for every value of {built.coefficient}"
    if isinstance(built, Inequality):
        return decide_inequality(claim(built.lhs, built.rhs), built.strict), "inequality", ""
    if isinstance(built, (Induction, Simulation)):
        form = "induction" if isinstance(built, Induction) else "simulation"
        return decide_obligations(form, built.obligations(given)), form, built.describe()
    raise TheoremError("a theorem must return equation(...), for_every(...), inequality(...), "
                       f"induction(...) or simulation(...), got {type(built).__name__}")


def _build_and_decide(theorem: Theorem) -> dict:
    """Runs in the child: build the claim by calling optim/, then decide it."""
    given = Given()
    verdict, form, relation = _decide_built(theorem.build(given), given)
    found = verdict.to_dict()
    found["form"] = theorem.form or form
    found["relation"] = relation
    found["variables"] = [v.describe() for v in given.variables]
    found["hypotheses"] = [math_text(h) for h in given.hypotheses]
    found["lhs_mathml"], found["rhs_mathml"] = mathml(found["lhs"]), mathml(found["rhs"])
    found["lhs"], found["rhs"] = math_text(found["lhs"]), math_text(found["rhs"])
    return found


def run_theorem(theorem: Theorem, time_limit: float = DEFAULT_TIME_LIMIT) -> Result:
    start = time.perf_counter()
    base = dict(name=theorem.name, docstring=theorem.docstring, statement=theorem.statement,
                expected=theorem.expect, module=theorem.module, source=theorem.source,
                form=theorem.form or "equation")
    try:
        found = run_with_time_limit(lambda: _build_and_decide(theorem), time_limit)
    except TimeLimitExceeded:
        return Result(**base, verdict=UNKNOWN, method="none", seconds=time.perf_counter() - start,
                      reason=f"timeout: no decision within the {time_limit:g} s limit")
    except ChildError as error:
        return Result(**base, verdict=UNKNOWN, method="none", seconds=time.perf_counter() - start,
                      reason=f"the theorem could not be built or decided: {error.summary}")
    status = found.pop("status")
    base["form"] = found.pop("form")
    return Result(**base, verdict=status, seconds=time.perf_counter() - start, **found)


def select(theorems: Iterable[Theorem], pattern: str | None) -> list[Theorem]:
    """Theorems whose name matches a glob (``Optim.Adam.*``) or contains a substring."""
    theorems = list(theorems)
    if not pattern:
        return theorems
    wildcard = any(c in pattern for c in "*?[")
    return [t for t in theorems if (fnmatch.fnmatchcase(t.name, pattern) if wildcard else pattern in t.name)]


def load_library() -> list[Theorem]:
    import proofs.theorems  # noqa: F401  (registers the library's theorems)

    return [t for t in registry if t.module.startswith("proofs.theorems.")]


def load_file(path: str | Path) -> list[Theorem]:
    """Import a user's theorem file and return the theorems it registered."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no theorem file at {path}")
    before = len(registry)
    spec = importlib.util.spec_from_file_location(f"user_theorems_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    added = registry[before:]
    if not added:
        raise TheoremError(f"{path} defines no @theorem")
    return list(added)


def run_all(theorems: list[Theorem], time_limit: float, on_result: Callable[[Result], None]) -> list[Result]:
    results = []
    for theorem in theorems:
        result = run_theorem(theorem, time_limit)
        on_result(result)
        results.append(result)
    return results
