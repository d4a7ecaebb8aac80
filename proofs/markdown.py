"""``proofs.md``: the report model (``proofs.report``) printed as Markdown.

Expressions are printed by ``symbolic.notation.TextPrinter`` inside code spans; the blocks
are those of ``proofs.report.layout``.
"""
from __future__ import annotations

from proofs.report import (LEGEND, SUMMARY_HEADER, Code, Formulas, Items, Link, Math, Para, Report, Strong,
                           Table, Verdict, layout, summary_row, totals)
from symbolic.notation import math_text


def anchor(name: str) -> str:
    """The anchor GitHub and most renderers give the heading ``### name``."""
    return "".join(c for c in name.lower() if c.isalnum() or c in "-_ ").replace(" ", "-")


def formula(m: Math) -> str:
    text = math_text(m.expr) + (f" {m.relation} {math_text(m.rhs)}" if m.relation else "")
    return (f"{m.label}: " if m.label else "") + text


def inline(part, cell: bool = False) -> str:
    if isinstance(part, str):
        text = part
    elif isinstance(part, Code):
        text = f"`{part.text}`" if part.text else ""
    elif isinstance(part, Strong):
        text = f"**{part.text}**"
    elif isinstance(part, Math):
        text = f"`{formula(part)}`"
    elif isinstance(part, Verdict):
        text = f"**{part.verdict}** ✗" if part.unexpected else part.verdict
    elif isinstance(part, Link):
        text = f"[{part.text}](#{anchor(part.theorem)})"
    else:
        raise TypeError(f"no Markdown for {type(part).__name__}")
    return text.replace("|", "\\|").replace("\n", " ") if cell else text


def line(parts: list, cell: bool = False) -> str:
    return "".join(inline(p, cell) for p in parts)


def table(header: list, rows: list) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
            + ["| " + " | ".join(line(cell, cell=True) for cell in row) + " |" for row in rows])


def block(b) -> list[str]:
    if isinstance(b, Para):
        return [("> " if b.role == "doc" else "") + line(b.parts)]
    if isinstance(b, Items):
        return ["\n".join(f"- {line(item)}" for item in b.items)]
    if isinstance(b, Table):
        return ["\n".join(table(b.header, b.rows))]
    if isinstance(b, Formulas):
        return ["\n".join(f"- `{formula(m)}`" for m in b.formulas)] if b.formulas else []
    raise TypeError(f"no Markdown for {type(b).__name__}")


def to_markdown(report: Report) -> str:
    s = report.summary
    out = ["# Proof report", "", "  \n".join(totals(s)), "", "Verdicts: " + LEGEND, ""]
    unexpected = [t for t in report.theorems if not t.as_expected]
    if unexpected:
        out += ["## Not as expected", ""] + [f"- [{t.name}](#{anchor(t.name)}): {t.verdict}, expected {t.expected}"
                                             for t in unexpected] + [""]
    out += table(SUMMARY_HEADER, [summary_row(t) for t in report.theorems])
    for family, collections in report.families():
        out += ["", f"## {family}"]
        for collection, theorems in collections:
            for t in theorems:
                out += ["", f"### {t.name}", "", f"*{collection}*"]
                for b in layout(t):
                    out += [""] + block(b)
    return "\n".join(out) + "\n"
