"""The reports: ``proofs.md`` for people, ``proofs.json`` for programs, one console line each."""
from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from proofs.html import to_html
from proofs.runner import Result
from symbolic.prover import VERDICTS


def trust(r: Result) -> list[str]:
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


def summary(results: list[Result], seconds: float) -> dict:
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


def console_line(result: Result) -> str:
    mark = "ok " if result.as_expected else "BAD"
    detail = result.method if result.verdict != "UNKNOWN" else result.reason
    expected = "" if result.as_expected else f"  (expected {result.expected})"
    return f"{mark} {result.verdict:<8} {result.seconds:6.2f}s  {result.name}  [{detail}]{expected}"


def console_totals(s: dict) -> str:
    verdicts = ", ".join(f"{s[v]} {v}" for v in VERDICTS)
    slowest = f"; slowest {s['slowest']['name']} ({s['slowest']['seconds']:.2f} s)" if s["slowest"] else ""
    line = (f"{s['theorems']} theorems: {verdicts}; {s['as_expected']} as expected, "
            f"{len(s['unexpected'])} not; {s['seconds']:.1f} s{slowest}")
    if s["PROVED"]:
        line += (f"\nof {s['PROVED']} PROVED: {s['proved_confirmed_by_z3']} confirmed by z3, "
                 f"{s['proved_second_checked']} agreed with the second check on exact numbers"
                 + (f", {s['proved_vacuous']} VACUOUS" if s["proved_vacuous"] else ""))
    if s["unexpected"]:
        line += "\nnot as expected: " + ", ".join(s["unexpected"])
    return line


def to_json(results: list[Result], s: dict) -> str:
    theorems = []
    for r in results:
        record = asdict(r)
        record["seconds"] = round(r.seconds, 4)
        record["as_expected"] = r.as_expected
        theorems.append(record)
    return json.dumps({"theorems": theorems, "summary": s}, indent=2, ensure_ascii=False)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _anchor(name: str) -> str:
    return name.lower().replace(".", "")


def to_markdown(results: list[Result], s: dict) -> str:
    out = ["# Proof report", "", console_totals(s).replace("\n", "  \n"), "",
           "Verdicts: **PROVED** only from an exact symbolic decision; **REFUTED** only with a "
           "counterexample checked exactly; **UNKNOWN** otherwise, with the reason.", "",
           "| theorem | form | verdict | expected | method | seconds |", "| --- | --- | --- | --- | --- | ---: |"]
    for r in results:
        verdict = r.verdict if r.as_expected else f"**{r.verdict}** ✗"
        out.append(f"| [{r.name}](#{_anchor(r.name)}) | {r.form} | {verdict} | {r.expected} | "
                   f"{_cell(_short(r.method or r.reason))} | {r.seconds:.2f} |")
    for r in results:
        out += ["", f"## {r.name}", "", f"> {r.docstring}", "",
                f"**Form:** {r.form}" + (f" · **source:** {r.source}" if r.source else ""), "",
                f"**Statement.** `{r.statement}`", "",
                f"**Verdict:** {r.verdict} (expected {r.expected}) · **method:** {r.method or '—'} · "
                f"**time:** {r.seconds:.3f} s"]
        if r.reason:
            out += ["", f"**Reason.** {r.reason}"]
        if trust(r):
            out += ["", "**How it was established.**", ""] + [f"- {line}" for line in trust(r)]
        if r.variables:
            out += ["", "**Variables.**", ""] + [f"- `{v}`" for v in r.variables]
        out += ["", "**Hypotheses.** " + (", ".join(f"`{h}`" for h in r.hypotheses) or "none")]
        if r.hypotheses_used:
            out += [""] + [f"- {u}" for u in r.hypotheses_used]
        if r.relation:
            out += ["", f"**{'Invariant' if r.form == 'induction' else 'Relation'}.** `{r.relation}`"]
        if r.obligations:
            out += ["", "**Obligations.**", "", "| obligation | verdict | method or reason |", "| --- | --- | --- |"]
            out += [f"| {o['name']} | {o['verdict']} | {_cell(o['method'] if o['verdict'] != 'UNKNOWN' else o['reason'])} |"
                    for o in r.obligations]
        if r.shape:
            out += ["", f"**Every shape.** {r.shape}"]
        if r.lhs:
            out += ["", "**Computed sides** (per entry):", "", f"- lhs = `{r.lhs}`", f"- rhs = `{r.rhs}`"]
        if r.side_conditions:
            out += ["", "**Side conditions.**", "", "| condition | shown by |", "| --- | --- |"]
            out += [f"| `{_cell(c['condition'])}` | {_cell(c['by'])} |" for c in r.side_conditions]
        if r.counterexample:
            out += _counterexample_table(r.counterexample)
    return "\n".join(out) + "\n"


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit] + " …"


def _counterexample_table(ce: dict) -> list[str]:
    if ce.get("for_every"):
        return _every_value_tables(ce)
    rows = ["", "**Counterexample** (exact values; the difference is certified nonzero):", "",
            "| | exact | ≈ |", "| --- | --- | --- |"]
    for name, value in ce["values"].items():
        rows.append(f"| {name} | `{_cell(value['exact'])}` | {value['approx']} |")
    entry = "" if ce.get("entry") is None else f" (entry {ce['entry']})"
    for side in ("lhs", "rhs", "difference"):
        rows.append(f"| **{side}**{entry} | `{_cell(ce[side]['exact'])}` | {ce[side]['approx']} |")
    return rows


def _every_value_tables(ce: dict) -> list[str]:
    c = ce["for_every"]
    rows = ["", f"**Refuted for every {c}.** At this point, {ce['lhs']['exact']}: "
            f"{ce['rhs']['exact']}, so every other {c} is refuted here:", "", "| | value |", "| --- | --- |"]
    rows += [f"| {k} | `{v['exact']}` |" for k, v in ce["values"].items()]
    for exception in ce["exceptions"]:
        rows += ["", f"{c} = `{exception['value']}` is refuted at a second point "
                 f"(lhs `{exception['lhs']['exact']}` ≠ rhs `{exception['rhs']['exact']}`):", "",
                 "| | value |", "| --- | --- |"]
        rows += [f"| {k} | `{v['exact']}` |" for k, v in exception["values"].items()]
    return rows


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


def write_reports(results: list[Result], seconds: float, folder: Path) -> dict:
    s = summary(results, seconds)
    write_atomically(folder / "proofs.json", to_json(results, s))
    write_atomically(folder / "proofs.md", to_markdown(results, s))
    write_atomically(folder / "proofs.html", to_html(results, s))
    return s
