"""Running theorems: built in untrusted children, decided in clean ones, all under hard limits.

A theorem file is user code, and so are the library's theorem modules as far as the runner
is concerned.  The process that runs ``python -m proofs`` (the parent) never imports one:

1. **Listing.** A child forked from the parent imports the theorem file (or
   ``proofs.theorems``) under the time limit and answers the theorems it registered as
   plain data (:class:`TheoremInfo`: name, statement, expected verdict, docstring, module,
   form, source).  A file that cannot be imported is a :class:`TheoremFileError`.
2. **Building.** For each theorem, a fresh child of the parent imports the file again, finds
   the theorem by name, runs ``proofs.harness.build_theorem`` on it (symbolic execution of
   ``optim/``) and answers ``symbolic.wire.encode(data)``: JSON text, nothing else.
3. **Deciding.** The parent decodes that text with ``symbolic.wire.decode`` (the trust
   boundary: an allowlist of SymPy heads, no eval, no pickle) and forks another child, which
   has never seen user code, to run ``symbolic.prover.decide_theorem`` on it in the time
   the theorem has left.  Its verdict comes back as JSON too.

Every channel carries JSON text only (``symbolic.timelimit``).  A child that dies, hangs,
prints garbage or answers malformed data gives UNKNOWN with a one-line reason; a builder that
answers a verdict is not believed, since only obligations are read from it.  Theorems run
``jobs`` at a time; each has its own limit, and one that hangs takes no other down.
"""
from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from proofs import tripwire
from symbolic import wire
from symbolic.timelimit import Child, ChildError, TimeLimitExceeded, run_with_time_limit, wait

UNKNOWN = "UNKNOWN"
VERDICTS = ("PROVED", "REFUTED", "UNKNOWN")
DEFAULT_TIME_LIMIT = 30.0
MAX_TIME_LIMIT = 300.0   # the most a theorem may ask for itself (its listing is untrusted: no endless budget)
LIBRARY = "proofs.theorems"   # the source of the library's theorems (a package, not a file)


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
    vacuous: bool = False          # PROVED because the hypotheses contradict each other
    infeasible: bool = False       # PROVED because the path's conditions contradict each other
    confirmed_by: str = ""         # a second procedure that agreed with PROVED ("z3")
    paths: list = field(default_factory=list)   # the decider's rows, one per execution path
    path_count: int = 1            # execution paths the build explored
    second_check: str = ""         # how a PROVED was checked again on exact numbers
    math: dict = field(default_factory=dict)    # the expressions the reports print (SymPy; see _math)

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expected


@dataclass(frozen=True)
class TheoremInfo:
    """What the parent knows of a theorem: plain data listed by the child that imported it.
    ``source_file`` is the theorem file (None: the library) that a builder imports again."""

    name: str
    statement: str
    expect: str
    docstring: str
    module: str
    form: str = ""
    source: str = ""
    source_file: str | None = None
    time_limit: float | None = None   # the theorem's own limit, where it asks for more than the run's


class TheoremFileError(Exception):
    """A theorem file that cannot be loaded: missing, a syntax error, an exception at import,
    an import that does not finish in time, or no ``@theorem`` in it.  ``str()`` is one line."""


# ------------------------------------------------------------------- in the child processes
def _import_theorems(source_file: str | None) -> list:
    """Import the library's theorem modules or one theorem file; the theorems they registered.
    Runs only in children (and in tests that want the objects themselves)."""
    from proofs.harness import TheoremError, registry

    if source_file is None:
        importlib.import_module(LIBRARY)
        return [t for t in registry if t.module.startswith(LIBRARY + ".")]
    path = Path(source_file)
    before = len(registry)
    spec = importlib.util.spec_from_file_location(f"user_theorems_{_module_name(path)}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    added = registry[before:]
    if not added:
        raise TheoremError(f"{path} defines no @theorem")
    return list(added)


def _module_name(path: Path) -> str:
    stem = "".join(c if c.isalnum() or c == "_" else "_" for c in path.stem)
    return stem or "file"


def _info(theorem, source_file: str | None) -> dict:
    return {"name": theorem.name, "statement": theorem.statement, "expect": theorem.expect,
            "docstring": theorem.docstring, "module": theorem.module, "form": theorem.form or "",
            "source": theorem.source or "", "source_file": source_file,
            "time_limit": theorem.time_limit}


def _list_in_child(source_file: str | None) -> list:
    return [_info(t, source_file) for t in _import_theorems(source_file)]


def _build_in_child(source_file: str | None, name: str) -> str:
    before = tripwire.fingerprint()
    matches = [t for t in _import_theorems(source_file) if t.name == name]
    if len(matches) != 1:
        raise LookupError(f"importing the theorem file again gave {len(matches)} theorems named {name!r}")
    built = _build(matches[0])
    tripwire.check(before)
    return built


def _build(theorem) -> str:
    from proofs.harness import build_theorem

    return wire.encode(build_theorem(theorem))


def _decide_in_child(data, second_check: bool = True) -> dict:
    """In a child forked from the clean parent: decide, and describe the verdict as JSON data;
    for a PROVED, also choose the second check's points (``proofs.crosscheck.sample``)."""
    from symbolic.prover import decide_theorem

    verdict = decide_theorem(data)
    answer = {"verdict": _describe(verdict, data), "points": None}
    if second_check and answer["verdict"]["verdict"] == "PROVED":
        from proofs.crosscheck import sample

        answer["points"] = wire.encode_value([{"scalars": p.scalars, "tensors": p.tensors, "shape": tuple(p.shape)}
                                              for p in sample(data)])
    return answer


def _assignments(points: Any) -> list:
    from proofs.crosscheck import Assignment

    if not isinstance(points, list):
        raise TypeError("the points are not a list")
    return [Assignment(dict(p["scalars"]), {k: list(v) for k, v in p["tensors"].items()}, tuple(p["shape"]))
            for p in points]


def _evaluate(theorem, points_text: str) -> str:
    """Untrusted (in a child that has the theorem): the theorem's goals at each point."""
    from proofs.crosscheck import evaluate

    return wire.encode_value([evaluate(theorem, a) for a in _assignments(wire.decode_value(points_text))])


def _evaluate_in_child(source_file: str | None, name: str, points_text: str) -> str:
    before = tripwire.fingerprint()
    matches = [t for t in _import_theorems(source_file) if t.name == name]
    if len(matches) != 1:
        raise LookupError(f"importing the theorem file again gave {len(matches)} theorems named {name!r}")
    evaluated = _evaluate(matches[0], points_text)
    tripwire.check(before)
    return evaluated


def _judge_in_child(results: Any, points: Any) -> dict:
    """Clean (a fork of the parent): compare what the theorem computed at each point with the
    PROVED.  ``results`` came from untrusted code through the wire: check its shape first."""
    from proofs.crosscheck import RUN_STEPS, judge

    assignments = _assignments(points)
    if not (isinstance(results, list) and len(results) == len(assignments)):
        raise ValueError("the second check answered a result per point for a different number of points")
    for goals in results:
        if not (isinstance(goals, list) and all(
                isinstance(g, dict) and isinstance(g.get("name"), str) and isinstance(g.get("relation"), str)
                and isinstance(g.get("applies"), bool) and isinstance(g.get("pairs"), list)
                and all(isinstance(p, tuple) and len(p) == 3 and isinstance(p[0], str) for p in g["pairs"])
                for g in goals)):
            raise ValueError("the second check answered malformed goals")
    for goals, point in zip(results, assignments):
        failure = judge(goals, point)
        if failure is not None:
            return {"failure": failure, "summary": f"disagrees at {point.describe()}"}
    if not assignments:
        return {"failure": None, "summary": "no point satisfying the domains and hypotheses was found: not run"}
    shapes = sorted({p.shape for p in assignments}, key=len)
    applied = sum(g["applies"] for goals in results for g in goals)
    if not applied:
        return {"failure": "no goal applied at any point: the second check checked nothing",
                "summary": "checked nothing"}
    runs = any("actual run" in g["name"] for goals in results for g in goals)
    return {"failure": None,
            "summary": (f"agrees at {len(assignments)} exact points (shapes {', '.join(map(str, shapes))}), "
                        f"{applied} goal checks" + (f", real runs of 1…{RUN_STEPS} steps" if runs else ""))}


# ------------------------------------------------------------------- verdicts as plain data
def _plain(value: Any) -> Any:
    """JSON data for a verdict's value: SymPy objects become their text."""
    import sympy

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, sympy.Basic):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        out = {str(k): _plain(v) for k, v in value.items()}
        if "status" in out and "verdict" not in out:   # nested verdicts, as the reports read them
            out["verdict"] = out["status"]
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return str(value)


MAX_PAIRS = 12   # sides per obligation that the reports print


def _math(data) -> str:
    """The theorem's expressions for the reports, as wire text (``symbolic.wire``): its
    hypotheses and, per obligation, its path, its own hypotheses and its sides.  The parent
    decodes them under the wire's allowlist and prints them: the reports never parse text."""
    own = set(data.hypotheses)
    try:
        return wire.encode_value({
            "hypotheses": list(data.hypotheses),
            "obligations": [{"name": ob.name, "relation": ob.relation, "coefficient": ob.coefficient,
                             "path": list(ob.path), "hypotheses": [h for h in ob.hypotheses if h not in own],
                             "pairs": [list(p) for p in ob.pairs[:MAX_PAIRS]],
                             "more": max(0, len(ob.pairs) - MAX_PAIRS)} for ob in data.obligations]})
    except Exception:  # noqa: BLE001 (a report nicety, never a verdict)
        return ""


def _read_math(text: Any) -> dict:
    """What :func:`_math` sent, as SymPy (``{}`` for anything malformed)."""
    try:
        value = wire.decode_value(text) if isinstance(text, str) and text else {}
    except Exception:  # noqa: BLE001 (a report nicety, never a verdict)
        return {}
    return value if isinstance(value, dict) else {}


_RESULT_FIELDS = {f.name for f in fields(Result)}


def _describe(verdict, data) -> dict:
    from symbolic.notation import math_text

    if is_dataclass(verdict) and not isinstance(verdict, type):
        found = _plain(verdict)
    elif hasattr(verdict, "__dict__") and hasattr(verdict, "status"):
        found = _plain(dict(vars(verdict)))
    else:
        raise TypeError(f"decide_theorem returned a {type(verdict).__name__}, not a verdict")
    found["verdict"] = found.pop("status")
    for side in ("lhs", "rhs"):
        found[side] = math_text(getattr(verdict, side, "") or "")
    found["math"] = _math(data)
    found["variables"] = [v.describe() for v in data.variables]
    found["hypotheses"] = [math_text(h) for h in data.hypotheses]
    # Hypotheses a path states on its own (computed from that path's values) are shown with it.
    for ob in data.obligations:
        own = [h for h in ob.hypotheses if h not in data.hypotheses]
        if own and ob.path:
            shown = f"on the path {' ∧ '.join(math_text(p) for p in ob.path)}: " + ", ".join(map(math_text, own))
            if shown not in found["hypotheses"]:
                found["hypotheses"].append(shown)
    found["relation"] = data.relation
    found["path_count"] = data.paths
    found["form"] = data.form
    if isinstance(found.get("confirmed_by"), (list, tuple)):
        found["confirmed_by"] = ", ".join(map(str, found["confirmed_by"]))
    return {k: v for k, v in found.items() if k in _RESULT_FIELDS}


# ----------------------------------------------------------------------- the parent's side
def _base(info: TheoremInfo) -> dict:
    return dict(name=info.name, docstring=info.docstring, statement=info.statement, expected=info.expect,
                module=info.module, source=info.source, form=info.form or "equation")


def _unknown(info: TheoremInfo, reason: str, started: float) -> Result:
    return Result(**_base(info), verdict=UNKNOWN, method="none", reason=" ".join(reason.split()),
                  seconds=time.monotonic() - started)


def _result(info: TheoremInfo, found: Any, started: float) -> Result:
    """A Result from the decider child's answer (checked: it is JSON, so check its shape)."""
    if not isinstance(found, dict) or found.get("verdict") not in VERDICTS:
        return _unknown(info, "the decider answered a malformed verdict", started)
    base = _base(info)
    form = found.pop("form", "") or ""
    if not info.form and isinstance(form, str) and form:
        base["form"] = form
    values = {k: v for k, v in found.items() if k in _RESULT_FIELDS and k not in base and k != "seconds"}
    values.setdefault("method", "")
    values.setdefault("reason", "")
    values["math"] = _read_math(values.get("math"))
    return Result(**base, **values, seconds=time.monotonic() - started)


class _Job:
    """One theorem on its way through its stages, each in a child under what is left of the
    theorem's limit:

    ``build`` (untrusted: obligations as wire text) → ``decide`` (clean: the verdict, and for a
    PROVED the second check's points) → ``evaluate`` (untrusted: the theorem run again on those
    exact numbers, as wire text) → ``judge`` (clean: do the numbers agree with the PROVED?).
    """

    def __init__(self, info: TheoremInfo, build: Callable[[], str], evaluate: Callable[[str], str],
                 time_limit: float, second_check: bool = True):
        self.info, self.build, self.evaluate, self.time_limit = info, build, evaluate, time_limit
        self.second_check = second_check
        self.stage = "build"
        self.child: Child | None = None
        self.result: Result | None = None
        self.started = 0.0
        self.found: dict = {}
        self.points_text = ""

    def start(self) -> None:
        self.started = time.monotonic()
        self._spawn(self.build, self.time_limit)

    def _spawn(self, fn: Callable[[], Any], seconds: float) -> None:
        try:
            self.child = Child(fn, seconds)
        except OSError as error:
            self._finish(_unknown(self.info, f"no child process could be started: {error}", self.started))

    def _next(self, stage: str, fn: Callable[[], Any]) -> None:
        left = self.time_limit - (time.monotonic() - self.started)
        if left <= 0:
            self._fail(TimeLimitExceeded())
            return
        self.stage = stage
        self._spawn(fn, left)

    def _fail(self, error: Exception) -> None:
        timeout = isinstance(error, TimeLimitExceeded)
        reason = {
            "build": (f"timeout: no obligations within the {self.time_limit:g} s limit" if timeout else
                      f"the theorem could not be built: {getattr(error, 'summary', error)}"),
            "decide": (f"timeout: no decision within the {self.time_limit:g} s limit" if timeout else
                       f"the decider failed: {getattr(error, 'summary', error)}"),
            "evaluate": (f"timeout: the second check of the PROVED did not finish within the "
                         f"{self.time_limit:g} s limit" if timeout else
                         f"the second check of the PROVED could not run the theorem on numbers: "
                         f"{getattr(error, 'summary', error)}"),
            "judge": (f"timeout: the second check of the PROVED was not judged within the "
                      f"{self.time_limit:g} s limit" if timeout else
                      f"the second check of the PROVED failed: {getattr(error, 'summary', error)}"),
        }[self.stage]
        self._finish(_unknown(self.info, reason, self.started))

    def advance(self) -> None:
        """The current child is done (answered or out of time): take the next step."""
        child, self.child = self.child, None
        try:
            answer = child.result()
        except (TimeLimitExceeded, ChildError) as error:
            self._fail(error)
            return
        getattr(self, "_after_" + self.stage)(answer)

    def _decoded(self, answer: Any, decode: Callable[[str], Any], who: str, what: str, kind: str) -> tuple:
        """An untrusted child's answer read as wire text: ``(True, value)``, or ``(False, None)``
        once the job has failed with what was wrong (not text, or text that does not decode)."""
        if not isinstance(answer, str):
            self._fail(ChildError(f"{who} answered something that is not {kind}"))
            return False, None
        try:
            return True, decode(answer)
        except Exception as error:  # noqa: BLE001 (WireError, or anything the decoder missed)
            self._fail(ChildError(f"{who} sent malformed {what}: {error}"))
            return False, None

    def _after_build(self, answer: Any) -> None:
        ok, data = self._decoded(answer, wire.decode, "the theorem builder", "obligations", "an obligation message")
        if ok:
            self._next("decide", lambda: _decide_in_child(data, self.second_check))

    def _after_decide(self, answer: Any) -> None:
        if not (isinstance(answer, dict) and isinstance(answer.get("verdict"), dict)):
            self._fail(ChildError("the decider answered a malformed verdict"))
            return
        self.found, points = answer["verdict"], answer.get("points")
        if self.found.get("verdict") != "PROVED" or not isinstance(points, str):
            self._finish(_result(self.info, self.found, self.started))
            return
        self.points_text = points
        self._next("evaluate", lambda: self.evaluate(points))

    def _after_evaluate(self, answer: Any) -> None:
        def decode(text: str) -> tuple:
            return wire.decode_value(text), wire.decode_value(self.points_text)

        ok, decoded = self._decoded(answer, decode, "it", "data", "a data message")
        if ok:
            results, points = decoded
            self._next("judge", lambda: _judge_in_child(results, points))

    def _after_judge(self, answer: Any) -> None:
        if not (isinstance(answer, dict) and isinstance(answer.get("failure"), (str, type(None)))
                and isinstance(answer.get("summary"), str)):
            self._fail(ChildError("the judge answered malformed data"))
            return
        found = dict(self.found)
        found["second_check"] = answer["summary"]
        if answer["failure"] is not None:
            found.update(verdict=UNKNOWN, reason="internal error: the decision says PROVED but the second "
                         f"check disagrees: {answer['failure']}")
        self._finish(_result(self.info, found, self.started))

    def _finish(self, result: Result) -> None:
        self.stage, self.result = "done", result

    def stop(self) -> None:
        if self.child is not None:
            self.child.kill()
            try:
                self.child.result()
            except (TimeLimitExceeded, ChildError):
                pass
            self.child = None


def _job(theorem, time_limit: float, second_check: bool = True) -> _Job:
    """A job for a listed theorem (its file is imported again in the builder) or, for tests
    and tools, a Theorem object this process already holds (built in a fork of it)."""
    if isinstance(theorem, TheoremInfo):
        info, build = theorem, lambda: _build_in_child(theorem.source_file, theorem.name)
        evaluate = lambda points: _evaluate_in_child(theorem.source_file, theorem.name, points)  # noqa: E731
    else:
        info = TheoremInfo(**{k: v for k, v in _info(theorem, None).items() if k != "source_file"})
        build, evaluate = lambda: _build(theorem), lambda points: _evaluate(theorem, points)
    return _Job(info, build, evaluate, max(time_limit, info.time_limit or 0), second_check)


def run_all(theorems: Iterable, time_limit: float, on_result: Callable[[Result], None] = lambda r: None,
            jobs: int = 1, second_check: bool = True) -> list[Result]:
    """Run every theorem, ``jobs`` at a time; ``on_result`` sees the results in order.
    ``second_check=False`` skips rerunning each PROVED on exact numbers (for tests)."""
    _check_time_limit(time_limit)
    _prepare_parent()
    pending = [_job(t, time_limit, second_check) for t in theorems]
    running: list[_Job] = []
    reported = 0
    # the theorems that ask for the most time start first (LAMB's contract, then the slow float
    # contracts): a long one started last would run alone at the end; results keep their order
    queue = sorted(pending, key=lambda job: -job.time_limit)
    try:
        while queue or running:
            while queue and len(running) < max(1, jobs):
                job = queue.pop(0)
                job.start()
                if job.stage != "done":
                    running.append(job)
            for child in wait([j.child for j in running]):
                job = next(j for j in running if j.child is child)
                job.advance()
                if job.stage == "done" or job.child is None:
                    running.remove(job)
            while reported < len(pending) and pending[reported].result is not None:
                on_result(pending[reported].result)
                reported += 1
    finally:
        for job in running:
            job.stop()
    return [j.result for j in pending]


def run_theorem(theorem, time_limit: float = DEFAULT_TIME_LIMIT) -> Result:
    """One theorem (a ``TheoremInfo`` or a ``Theorem`` object) through build and decision."""
    return run_all([theorem], time_limit)[0]


def _prepare_parent() -> None:
    """Import, before any child runs user code, what the decider children will need: they
    are forks of this process, so they get these modules as they were loaded here, whatever
    a theorem file later does to the files on disk or to its own copy of them."""
    import proofs.crosscheck  # noqa: F401
    import symbolic.notation  # noqa: F401
    import symbolic.prover  # noqa: F401
    import sympy.printing.mathml  # noqa: F401


def _check_time_limit(seconds: float) -> None:
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"the time limit must be a finite positive number of seconds, got {seconds!r}")


# --------------------------------------------------------------------------------- listing
def list_theorems(files: Iterable[str | Path] = (), time_limit: float = DEFAULT_TIME_LIMIT) -> list[TheoremInfo]:
    """The theorems of the given files (none: the library), each file imported in a child
    under ``time_limit``; raises ``TheoremFileError`` (one line) for a file that cannot be loaded."""
    _check_time_limit(time_limit)
    _prepare_parent()
    sources: list[str | None] = [str(Path(f).resolve()) for f in files] or [None]
    found: list[TheoremInfo] = []
    seen: dict[str, str] = {}
    for source in sources:
        shown = source or LIBRARY
        if source is not None and not Path(source).is_file():
            raise TheoremFileError(f"{shown}: no such theorem file")
        try:
            listed = run_with_time_limit(lambda: _list_in_child(source), time_limit)
        except TimeLimitExceeded:
            raise TheoremFileError(f"{shown}: importing it did not finish within {time_limit:g} s") from None
        except ChildError as error:
            raise TheoremFileError(f"{shown}: {error.summary}") from None
        for info in _checked_listing(listed, shown):
            if info.name in seen:
                raise TheoremFileError(f"{shown}: theorem {info.name!r} is also defined in {seen[info.name]}")
            seen[info.name] = shown
            found.append(TheoremInfo(**{**asdict(info), "source_file": source}))
    return found


def _checked_listing(listed: Any, shown: str) -> list[TheoremInfo]:
    keys = {f.name for f in fields(TheoremInfo)}
    if not isinstance(listed, list) or not listed:
        raise TheoremFileError(f"{shown}: the import answered no theorem list")
    infos = []
    for item in listed:
        if not (isinstance(item, dict) and set(item) == keys
                and all(isinstance(item[k], str) for k in keys - {"source_file", "time_limit"})
                and item["expect"] in VERDICTS and valid_time_limit(item["time_limit"])):
            raise TheoremFileError(f"{shown}: the import answered a malformed theorem list")
        infos.append(TheoremInfo(**item))
    return infos


def valid_time_limit(value: Any) -> bool:
    """A theorem's own time limit: None, or a float of seconds in (0, MAX_TIME_LIMIT]."""
    return value is None or (type(value) is float and 0 < value <= MAX_TIME_LIMIT)


def select(theorems: Iterable, pattern: str | None) -> list:
    """Theorems whose name matches a glob (``Optim.Adam.*``) or contains a substring."""
    theorems = list(theorems)
    if not pattern:
        return theorems
    wildcard = any(c in pattern for c in "*?[")
    return [t for t in theorems if (fnmatch.fnmatchcase(t.name, pattern) if wildcard else pattern in t.name)]


def load_library() -> list:
    """The library's ``Theorem`` objects, imported into *this* process (for tests and tools;
    ``python -m proofs`` never calls it)."""
    return _import_theorems(None)


def load_file(path: str | Path) -> list:
    """A theorem file's ``Theorem`` objects, imported into *this* process (for tests and
    tools; ``python -m proofs`` imports theorem files only in children)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no theorem file at {path}")
    return _import_theorems(str(path))


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
