"""The reports, from one model: ``proofs.md`` and ``proofs.html`` for people, ``proofs.json``
for programs, one console line per theorem.

:func:`build` turns the runner's results into a :class:`Report` (a small dataclass tree whose
statements and hypotheses are SymPy expressions, decoded from the decider's wire text); the
printers render it.  What a theorem's section shows, and in which order, is decided once, in
:func:`layout`, as a list of blocks (:class:`Para`, :class:`Items`, :class:`Table`,
:class:`Formulas`) made of inline pieces (text, :class:`Code`, :class:`Strong`, :class:`Math`,
:class:`Verdict`, :class:`Link`); ``proofs.markdown`` and ``proofs.html`` only say how each
kind of block and piece is written.  Expressions are printed from SymPy by the printers of
``symbolic.notation`` (JSON: SymPy's own ``sstr``); nothing is parsed back from text.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import sympy

from symbolic.notation import shortened
from symbolic.prover import VERDICTS

LIBRARY_COLLECTIONS = {"relations": "option relations", "literature": "literature"}


# ------------------------------------------------------------------------------ the model
@dataclass
class Formula:
    """``lhs relation rhs``: the sides of one pair of an obligation (SymPy expressions)."""

    lhs: sympy.Basic
    relation: str
    rhs: sympy.Basic
    label: str = ""


@dataclass
class Goal:
    """One obligation: what it demands (``formulas``), where (``path``, its own ``hypotheses``)
    and how it was decided."""

    name: str
    relation: str
    formulas: list
    path: list = field(default_factory=list)          # SymPy conditions; [] is the only path
    hypotheses: list = field(default_factory=list)    # SymPy conditions beyond the theorem's
    coefficient: sympy.Basic | None = None            # the "for every" coefficient
    more: int = 0                                     # pairs not shown
    verdict: str = ""
    how: str = ""                                     # method, or the reason of an UNKNOWN


@dataclass
class Theorem:
    name: str
    family: str                 # the name without its last part: Optim.Adam
    collection: str             # update rules, option relations, literature, or a file's module
    docstring: str
    form: str
    source: str
    statement: str              # as the author wrote it
    verdict: str
    expected: str
    method: str
    reason: str
    seconds: float
    module: str
    variables: list
    hypotheses: list            # SymPy conditions (text only when the expressions did not come)
    hypotheses_used: list
    relation: str
    shape: str
    goals: list
    side_conditions: list
    counterexample: dict | None
    established: list           # how the verdict was established (paths, vacuous, z3, second check)
    vacuous: bool = False
    confirmed_by: str = ""
    second_check: str = ""
    path_count: int = 1
    paths: list = field(default_factory=list)
    obligations: list = field(default_factory=list)   # the decider's rows, as it sent them

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expected


@dataclass
class Report:
    theorems: list
    summary: dict

    def families(self) -> list[tuple[str, list[tuple[str, list[Theorem]]]]]:
        """(family, [(collection, theorems)]) in the order the theorems were run."""
        grouped: dict = {}
        for t in self.theorems:
            grouped.setdefault(t.family, {}).setdefault(t.collection, []).append(t)
        return [(family, list(collections.items())) for family, collections in grouped.items()]


def established(r) -> list[str]:
    """How a verdict was established, beyond its method: for people, in every report."""
    lines = []
    infeasible = sum(1 for p in r.paths if p.get("infeasible"))
    if r.path_count > 1 or infeasible:
        lines.append(f"execution paths explored: {r.path_count}"
                     + (f" ({infeasible} shown infeasible under the hypotheses)" if infeasible else ""))
    if r.verdict == "PROVED":
        if r.vacuous:
            lines.append("VACUOUS: the hypotheses contradict each other, so the statement says nothing")
        lines.append("second decision procedure: " + (f"confirmed by {r.confirmed_by}" if r.confirmed_by
                                                       else "not confirmed (SymPy's decision alone)"))
        lines.append("second check on exact numbers: " + (r.second_check or "not run"))
    return lines


trust = established   # the name the reports used before


def _collection(module: str) -> str:
    last = module.rsplit(".", 1)[-1]
    if module.startswith("proofs.theorems."):
        return LIBRARY_COLLECTIONS.get(last, "update rules")
    return last


def _conditions(values: Any) -> list:
    return [v for v in values if isinstance(v, sympy.Basic)] if isinstance(values, list) else []


def _goals(r) -> list[Goal]:
    obligations = r.math.get("obligations") if isinstance(r.math, dict) else None
    if not isinstance(obligations, list):
        return []
    rows = r.obligations if len(r.obligations) == len(obligations) else [{}] * len(obligations)
    goals = []
    for ob, row in zip(obligations, rows):
        if not isinstance(ob, dict):
            continue
        relation = ob.get("relation") if isinstance(ob.get("relation"), str) else "="
        shown = "=" if relation == "for every" else relation
        formulas = [Formula(p[1], shown, p[2], p[0]) for p in ob.get("pairs", [])
                    if isinstance(p, list) and len(p) == 3 and all(isinstance(x, sympy.Basic) for x in p[1:])]
        row = row if isinstance(row, dict) else {}
        verdict = row.get("verdict", "")
        goals.append(Goal(name=str(ob.get("name", "")), relation=relation, formulas=formulas,
                          path=_conditions(ob.get("path")), hypotheses=_conditions(ob.get("hypotheses")),
                          coefficient=ob.get("coefficient") if isinstance(ob.get("coefficient"), sympy.Basic) else None,
                          more=ob.get("more") if isinstance(ob.get("more"), int) else 0, verdict=verdict,
                          how=str(row.get("reason") if verdict == "UNKNOWN" else row.get("method", ""))))
    return goals


def theorem(r) -> Theorem:
    """The report's view of one runner ``Result``."""
    math = r.math if isinstance(r.math, dict) else {}
    hypotheses = _conditions(math.get("hypotheses")) if "hypotheses" in math else list(r.hypotheses)
    return Theorem(
        name=r.name, family=r.name.rsplit(".", 1)[0] if "." in r.name else r.name,
        collection=_collection(r.module), docstring=r.docstring, form=r.form, source=r.source,
        statement=r.statement, verdict=r.verdict, expected=r.expected, method=r.method, reason=r.reason,
        seconds=r.seconds, module=r.module, variables=list(r.variables), hypotheses=hypotheses,
        hypotheses_used=list(r.hypotheses_used), relation=r.relation, shape=r.shape, goals=_goals(r),
        side_conditions=list(r.side_conditions), counterexample=r.counterexample, established=established(r),
        vacuous=r.vacuous, confirmed_by=r.confirmed_by, second_check=r.second_check, path_count=r.path_count,
        paths=list(r.paths), obligations=list(r.obligations))


def summary(results: list, seconds: float) -> dict:
    counts = Counter(r.verdict for r in results)
    slowest = max(results, key=lambda r: r.seconds, default=None)
    proved = [r for r in results if r.verdict == "PROVED"]
    return {
        "theorems": len(results),
        **{v: counts.get(v, 0) for v in VERDICTS},
        "proved_confirmed_by_z3": sum("z3" in r.confirmed_by for r in proved),
        "proved_second_checked": sum(r.second_check.startswith("agrees") for r in proved),
        "proved_vacuous": sum(r.vacuous for r in proved),
        "as_expected": sum(r.as_expected for r in results),
        "unexpected": [r.name for r in results if not r.as_expected],
        "seconds": round(seconds, 3),
        "slowest": None if slowest is None else {"name": slowest.name, "seconds": round(slowest.seconds, 3)},
    }


def build(results: list, seconds: float) -> Report:
    return Report([theorem(r) for r in results], summary(results, seconds))


# ------------------------------------------------------------------------- console lines
def console_line(result) -> str:
    mark = "ok " if result.as_expected else "BAD"
    detail = result.method if result.verdict != "UNKNOWN" else result.reason
    expected = "" if result.as_expected else f"  (expected {result.expected})"
    return f"{mark} {result.verdict:<8} {result.seconds:6.2f}s  {result.name}  [{detail}]{expected}"


def totals(s: dict) -> list[str]:
    """The totals, one sentence a line (the console, and the top of every report)."""
    verdicts = ", ".join(f"{s[v]} {v}" for v in VERDICTS)
    slowest = f"; slowest {s['slowest']['name']} ({s['slowest']['seconds']:.2f} s)" if s["slowest"] else ""
    lines = [f"{s['theorems']} theorems: {verdicts}; {s['as_expected']} as expected, "
             f"{len(s['unexpected'])} not; {s['seconds']:.1f} s{slowest}"]
    if s["PROVED"]:
        lines.append(f"of {s['PROVED']} PROVED: {s['proved_confirmed_by_z3']} confirmed by z3, "
                     f"{s['proved_second_checked']} agreed with the second check on exact numbers"
                     + (f", {s['proved_vacuous']} VACUOUS" if s["proved_vacuous"] else ""))
    return lines


def console_totals(s: dict) -> str:
    lines = totals(s)
    if s["unexpected"]:
        lines.append("not as expected: " + ", ".join(s["unexpected"]))
    return "\n".join(lines)


LEGEND = ("PROVED only from an exact symbolic decision; REFUTED only with a counterexample checked "
          "exactly; UNKNOWN otherwise, with the reason.")


# ------------------------------------------------------------------- the document blocks
@dataclass
class Code:
    text: str


@dataclass
class Strong:
    text: str


@dataclass
class Math:
    """An expression, or ``expr relation rhs``; ``label`` names the pair it comes from."""

    expr: Any
    relation: str = ""
    rhs: Any = None
    label: str = ""


@dataclass
class Verdict:
    verdict: str
    unexpected: bool = False


@dataclass
class Link:
    text: str
    theorem: str      # the name of the theorem linked to


Inline = Union[str, Code, Strong, Math, Verdict, Link]


@dataclass
class Para:
    parts: list
    role: str = ""    # "doc": the theorem's docstring


@dataclass
class Items:
    items: list       # each a list of inline pieces


@dataclass
class Table:
    header: list
    rows: list        # each a list of cells, each a list of inline pieces


@dataclass
class Formulas:
    """Displayed formulas, one a line (each a :class:`Math`)."""

    formulas: list


def _math_or_code(value: Any) -> Inline:
    return Math(value) if isinstance(value, sympy.Basic) else Code(str(value))


def _joined(values: list, separator: str = ", ") -> list:
    parts: list = []
    for i, value in enumerate(values):
        parts += ([separator] if i else []) + [_math_or_code(value)]
    return parts


def summary_row(t: Theorem) -> list:
    verdict = [Verdict(t.verdict, not t.as_expected)] + ([f" (expected {t.expected})"] if not t.as_expected else [])
    return [[Link(t.name, t.name)], [t.form], verdict, [shortened(t.method or t.reason, 110)], [f"{t.seconds:.2f}"]]


SUMMARY_HEADER = ["theorem", "form", "verdict", "method or reason", "seconds"]


def _goal_blocks(t: Theorem) -> list:
    blocks: list = [Para([Strong("Goals.")] + ([" " + f"{len(t.goals)} obligations, decided one by one."]
                                               if len(t.goals) > 1 else []))]
    for goal in t.goals:
        line: list = [Strong(goal.name)]
        if goal.path:
            line += [" on the path "] + _joined(goal.path, " ∧ ")
        if goal.verdict:
            line += [": ", Verdict(goal.verdict)] + ([f" ({goal.how})"] if goal.how else [])
        blocks.append(Para(line))
        if goal.hypotheses:
            blocks.append(Para(["assuming also "] + _joined(goal.hypotheses)))
        if goal.coefficient is not None and str(goal.coefficient) not in goal.name:
            blocks.append(Para(["for no value of ", Math(goal.coefficient), " are all of these equal:"]))
        blocks.append(Formulas([Math(f.lhs, f.relation, f.rhs, f.label) for f in goal.formulas]))
        if goal.more:
            blocks.append(Para([f"… and {goal.more} more pairs, not shown."]))
    return blocks


def _counterexample_blocks(ce: dict) -> list:
    def values(items: dict) -> list:
        return [[[k], [Code(str(v["exact"]))]] for k, v in items.items()]

    if ce.get("for_every"):
        c = ce["for_every"]
        blocks = [Para([Strong(f"Refuted for every {c}."), f" At this point, {ce['lhs']['exact']}: "
                        f"{ce['rhs']['exact']}, so every other {c} is refuted here:"]),
                  Table(["", "value"], values(ce["values"]))]
        for exception in ce["exceptions"]:
            blocks += [Para([f"{c} = ", Code(str(exception["value"])), " is refuted at a second point (lhs ",
                             Code(str(exception["lhs"]["exact"])), " ≠ rhs ", Code(str(exception["rhs"]["exact"])),
                             "):"]),
                       Table(["", "value"], values(exception["values"]))]
        return blocks
    entry = "" if ce.get("entry") is None else f" (entry {ce['entry']})"
    rows = [[[k], [Code(str(v["exact"]))], [str(v["approx"])]] for k, v in ce["values"].items()]
    rows += [[[Strong(side + entry)], [Code(str(ce[side]["exact"]))], [str(ce[side]["approx"])]]
             for side in ("lhs", "rhs", "difference")]
    return [Para([Strong("Counterexample"), " (exact values; the difference is certified nonzero):"]),
            Table(["", "exact", "≈"], rows)]


def layout(t: Theorem) -> list:
    """Everything a theorem's section shows, in order: the one description both people's
    reports print."""
    blocks: list = [Para([t.docstring], role="doc"),
                    Para([Strong("Form:"), f" {t.form}"] + ([" · ", Strong("source:"), f" {t.source}"]
                                                            if t.source else [])),
                    Para([Strong("Statement."), " ", Code(t.statement)]),
                    Para([Strong("Verdict:"), " ", Verdict(t.verdict, not t.as_expected),
                          f" (expected {t.expected}) · ", Strong("method:"), f" {t.method or '—'} · ",
                          Strong("time:"), f" {t.seconds:.3f} s"])]
    if t.reason:
        blocks.append(Para([Strong("Reason."), f" {t.reason}"]))
    if t.established:
        blocks += [Para([Strong("How it was established.")]), Items([[line] for line in t.established])]
    if t.variables:
        blocks.append(Para([Strong("Variables."), " "] + _joined(t.variables, " · ")))
    blocks.append(Para([Strong("Hypotheses."), " "] + (_joined(t.hypotheses) or ["none"])))
    if t.hypotheses_used:
        blocks += [Para(["Facts the decision used:"]), Items([[u] for u in t.hypotheses_used])]
    if t.relation:
        blocks.append(Para([Strong(f"{'Invariant' if t.form == 'induction' else 'Relation'}."), " ",
                            Code(t.relation)]))
    if t.goals:
        blocks += _goal_blocks(t)
    if t.shape:
        blocks.append(Para([Strong("Shapes."), f" {t.shape}"]))
    if t.side_conditions:
        blocks += [Para([Strong("Side conditions.")]),
                   Table(["condition", "shown by"], [[[Code(str(c["condition"]))], [str(c["by"])]]
                                                     for c in t.side_conditions])]
    if t.counterexample:
        blocks += _counterexample_blocks(t.counterexample)
    return blocks


# ---------------------------------------------------------------------------------- JSON
def _plain(value: Any) -> Any:
    if isinstance(value, sympy.Basic):
        return sympy.sstr(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(report: Report) -> str:
    theorems = []
    for t in report.theorems:
        record = {k: _plain(v) for k, v in vars(t).items() if k != "goals"}
        record["seconds"] = round(t.seconds, 4)
        record["as_expected"] = t.as_expected
        record["goals"] = [{**_plain({k: v for k, v in vars(g).items() if k != "formulas"}),
                            "sides": [{"label": f.label, "lhs": _plain(f.lhs), "relation": f.relation,
                                       "rhs": _plain(f.rhs)} for f in g.formulas]} for g in t.goals]
        theorems.append(record)
    return json.dumps({"theorems": theorems, "summary": report.summary}, indent=2, ensure_ascii=False)


# ------------------------------------------------------------------------------- writing
def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_reports(results: list, seconds: float, folder: Path) -> dict:
    from proofs.html import to_html
    from proofs.markdown import to_markdown

    report = build(results, seconds)
    write_atomically(folder / "proofs.json", to_json(report))
    write_atomically(folder / "proofs.md", to_markdown(report))
    write_atomically(folder / "proofs.html", to_html(report))
    return report.summary
