"""``proofs.html``: one self-contained page, readable offline in a browser.

Math is MathML (rendered natively by browsers; no script, no CDN, no network); the summary at
the top links to each theorem.
"""
from __future__ import annotations

from html import escape

CSS = """
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0;max-width:100%}td,th{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top;overflow-wrap:anywhere}
th{background:#f3f3f3}code{background:#f6f6f6;padding:0 .2rem}.PROVED{color:#0a6b2a}.REFUTED{color:#9a3b00}
.UNKNOWN{color:#555}.bad{background:#ffe9e9}section{border-top:1px solid #ddd;margin-top:1.5rem}
math{font-size:1.05em;overflow-x:auto;max-width:100%}.doc{font-style:italic}
"""


def trust(r) -> list:
    from proofs.report import trust as lines  # one list of facts for both reports
    return lines(r)


def _verdict(verdict: str) -> str:
    return f'<b class="{verdict}">{verdict}</b>'


def _anchor(name: str) -> str:
    return "t-" + name.replace(".", "-")


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _side(mathml: str, text: str) -> str:
    return mathml or f"<code>{escape(text)}</code>"


def _counterexample(ce: dict) -> str:
    if ce.get("for_every"):
        c = escape(ce["for_every"])
        parts = [f"<p><b>Refuted for every {c}.</b> At the point below, {escape(ce['lhs']['exact'])}: "
                 f"{escape(ce['rhs']['exact'])}; every other {c} is refuted there.</p>",
                 _table(["variable", "value"], [[escape(k), f"<code>{escape(v['exact'])}</code>"]
                                                for k, v in ce["values"].items()])]
        for e in ce["exceptions"]:
            parts.append(f"<p>{c} = <code>{escape(e['value'])}</code> is refuted at a second point "
                         f"(lhs {escape(e['lhs']['exact'])} ≠ rhs {escape(e['rhs']['exact'])}):</p>")
            parts.append(_table(["variable", "value"], [[escape(k), f"<code>{escape(v['exact'])}</code>"]
                                                        for k, v in e["values"].items()]))
        return "".join(parts)
    rows = [[escape(k), f"<code>{escape(v['exact'])}</code>", escape(v["approx"])] for k, v in ce["values"].items()]
    rows += [[f"<b>{side}</b>", f"<code>{escape(ce[side]['exact'])}</code>", escape(ce[side]["approx"])]
             for side in ("lhs", "rhs", "difference")]
    return "<p><b>Counterexample</b> (exact; the difference is certified nonzero):</p>" + _table(
        ["", "exact", "≈"], rows)


def _section(r) -> str:
    parts = [f'<section id="{_anchor(r.name)}"><h2>{escape(r.name)}</h2>',
             f'<p class="doc">{escape(r.docstring)}</p>',
             f"<p><b>Form:</b> {escape(r.form)}" + (f" · <b>source:</b> {escape(r.source)}" if r.source else "") + "</p>",
             f"<p><b>Statement.</b> <code>{escape(r.statement)}</code></p>",
             f"<p><b>Verdict:</b> {_verdict(r.verdict)} (expected {r.expected}) · <b>method:</b> "
             f"{escape(r.method or '—')} · <b>time:</b> {r.seconds:.3f} s</p>"]
    if r.reason:
        parts.append(f"<p><b>Reason.</b> {escape(r.reason)}</p>")
    if trust(r):
        parts.append("<p><b>How it was established.</b></p><ul>" + "".join(
            f"<li>{escape(line)}</li>" for line in trust(r)) + "</ul>")
    if r.variables:
        parts.append("<p><b>Variables.</b></p><ul>" + "".join(f"<li><code>{escape(v)}</code></li>"
                                                          for v in r.variables) + "</ul>")
    hypotheses = ", ".join(f"<code>{escape(h)}</code>" for h in r.hypotheses) or "none"
    parts.append(f"<p><b>Hypotheses.</b> {hypotheses}</p>")
    if r.relation:
        label = "Invariant" if r.form == "induction" else "Relation"
        parts.append(f"<p><b>{label}.</b> <code>{escape(r.relation)}</code></p>")
    if r.obligations:
        parts.append(_table(["obligation", "verdict", "method or reason"],
                            [[escape(o["name"]), _verdict(o["verdict"]),
                              escape(o["method"] if o["verdict"] != "UNKNOWN" else o["reason"])]
                             for o in r.obligations]))
    if r.shape:
        parts.append(f"<p><b>Every shape.</b> {escape(r.shape)}</p>")
    if r.lhs:
        parts.append("<p><b>Computed sides</b> (per entry):</p>")
        parts.append(_table(["side", "value"], [["lhs", _side(r.lhs_mathml, r.lhs)],
                                                ["rhs", _side(r.rhs_mathml, r.rhs)]]))
    if r.side_conditions:
        parts.append("<p><b>Side conditions.</b></p>" + _table(
            ["condition", "shown by"], [[f"<code>{escape(c['condition'])}</code>", escape(c["by"])]
                                        for c in r.side_conditions]))
    if r.counterexample:
        parts.append(_counterexample(r.counterexample))
    return "".join(parts) + "</section>"


def to_html(results: list, summary: dict) -> str:
    rows = [[f'<a href="#{_anchor(r.name)}">{escape(r.name)}</a>', escape(r.form), _verdict(r.verdict),
             r.expected, escape((r.method or r.reason)[:140]), f"{r.seconds:.2f}"] for r in results]
    counts = ", ".join(f"{summary[v]} {v}" for v in ("PROVED", "REFUTED", "UNKNOWN"))
    slowest = summary["slowest"]
    head = (f"<h1>Proof report</h1><p>{summary['theorems']} theorems: {counts}; {summary['as_expected']} as "
            f"expected, {len(summary['unexpected'])} not; {summary['seconds']:.1f} s"
            + (f"; slowest {escape(slowest['name'])} ({slowest['seconds']:.2f} s)" if slowest else "") + ".</p>"
            + (f"<p>Of {summary['PROVED']} PROVED: {summary['proved_confirmed_by_z3']} confirmed by z3, "
               f"{summary['proved_second_checked']} agreed with the second check on exact numbers"
               + (f", <b>{summary['proved_vacuous']} vacuous</b>" if summary["proved_vacuous"] else "") + ".</p>"
               if summary["PROVED"] else "")
            + "<p>PROVED only from an exact symbolic decision; REFUTED only with a counterexample checked "
            "exactly; UNKNOWN otherwise, with the reason.</p>")
    table = _table(["theorem", "form", "verdict", "expected", "method", "s"], rows)
    body = head + table + "".join(_section(r) for r in results)
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>optlaws proof report</title>"
            f"<style>{CSS}</style></head><body>{body}</body></html>\n")
