"""``proofs.html``: the report model (``proofs.report``) as one self-contained page.

Math is presentation MathML printed from the SymPy expressions (``symbolic.notation``),
rendered natively by browsers: no network, no external script or style.  The page has a
sidebar of groups (optimizer family, then update rules / option relations / literature), a
search box and verdict filters (a few lines of inline script; without it every theorem is
shown), the verdicts that are not the expected ones at the top, a summary table, and a
section per theorem whose blocks are those of ``proofs.report.layout``.  Formulas and wide
tables scroll inside their own box, never the page.
"""
from __future__ import annotations

import re
from collections import Counter
from html import escape

from proofs.report import (LEGEND, SUMMARY_HEADER, Code, Formulas, Items, Link, Math, Para, Report, Strong,
                           Table, Theorem, Verdict, layout, summary_row, totals)
from symbolic.notation import mathml

# article.theorem: content-visibility:auto lets the browser skip laying out the theorems off screen.
# The whole library's report is 170 theorems of MathML: headless Chromium took 10 s to load it and
# 7.7 s to show every theorem again after a filter; with it, 1.7 s and 0.2 s.  The size a skipped
# theorem stands in with is near the median (1,000 px); once shown, its own size is remembered.
CSS = """
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;font-family:system-ui,sans-serif;color:#222;line-height:1.45}
nav{position:fixed;top:0;left:0;bottom:0;width:16rem;overflow:auto;padding:1rem;background:#f7f7f7;
border-right:1px solid #ddd;font-size:.9rem}
nav ul{list-style:none;margin:0;padding-left:.8rem}nav>ul{padding-left:0}nav li{margin:.15rem 0}
nav a{text-decoration:none}nav .n{color:#777;font-size:.8rem}nav .verdict.unexpected{font-size:.75rem}
main{margin-left:16rem;padding:0 2rem 4rem;max-width:80rem;min-width:0;overflow-wrap:break-word}
@media (max-width:50rem){nav{position:static;width:auto;border-right:0;border-bottom:1px solid #ddd}
main{margin-left:0;padding:0 1rem}}
.controls{position:sticky;top:0;z-index:1;background:#fff;padding:.6rem 0;border-bottom:1px solid #ddd}
.controls input[type=search]{width:100%;max-width:30rem;font-size:1rem;padding:.3rem .5rem}
.controls fieldset{border:0;margin:.4rem 0 0;padding:0}.controls label{margin-right:.9rem;white-space:nowrap}
#shown{color:#555;font-size:.9rem;margin:.3rem 0 0}
#alert{border:2px solid #b00020;background:#fff0f0;padding:.4rem 1rem;margin:1rem 0}
#alert.ok{border-color:#0a6b2a;background:#f2fbf4}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top;text-align:left}th{background:#f3f3f3}
#summary td,#summary th{word-break:normal;overflow-wrap:normal;hyphens:none}
#summary table{width:100%;font-size:.92rem}#summary td.nowrap{white-space:nowrap}#summary td.method{min-width:14rem}td.num{text-align:right}
code{background:#f4f4f4;padding:0 .2rem;overflow-wrap:anywhere}
.formula{overflow-x:auto;overflow-y:hidden;max-width:100%;margin:.2rem 0;padding:.1rem .6rem;
border-left:3px solid #ddd;background:#fcfcfc;display:flex;align-items:baseline;gap:1rem}
.formula math{display:inline math;math-style:normal;font-size:1.1em;margin:.2rem 0}.label{color:#666;font-size:.8rem;flex:0 0 auto;min-width:7rem}math mtd{text-align:left;padding:0 .25em}
.verdict{font-weight:bold}.PROVED{color:#0a6b2a}.REFUTED{color:#9a3b00}.UNKNOWN{color:#555}
.verdict.unexpected{background:#b00020;color:#fff;padding:0 .3rem;border-radius:3px}
tr.unexpected td{background:#ffe6e9}
article,section,.collection-group{scroll-margin-top:7.5rem}article{border-top:1px solid #ddd;margin-top:1.5rem}article p{margin:.4rem 0}article ul{margin:.2rem 0}
article p{overflow-x:auto;overflow-y:hidden}
article.theorem{content-visibility:auto;contain-intrinsic-size:auto 1000px}
article.unexpected{border:2px solid #b00020;background:#fff7f8;padding:0 .8rem}
.doc{font-style:italic}.collection{color:#666;font-size:.9rem;margin:0}
h2.family{margin-top:2.5rem;border-bottom:2px solid #333}
"""

SCRIPT = """
(function () {
  var search = document.getElementById('search'), shown = document.getElementById('shown');
  var theorems = [].slice.call(document.querySelectorAll('article.theorem'));
  var rows = [].slice.call(document.querySelectorAll('#summary tbody tr'));
  function visible(el, verdict, terms) {
    var d = el.dataset;
    if (verdict === 'unexpected' ? d.unexpected !== '1' : verdict !== 'all' && d.verdict !== verdict) return false;
    return terms.every(function (t) { return d.search.indexOf(t) >= 0; });
  }
  function filter() {
    var verdict = document.querySelector('input[name=verdict]:checked').value;
    var terms = search.value.toLowerCase().split(/\\s+/).filter(Boolean), count = 0;
    theorems.forEach(function (el) { el.hidden = !visible(el, verdict, terms); if (!el.hidden) count++; });
    rows.forEach(function (el) { el.hidden = !visible(el, verdict, terms); });
    [].forEach.call(document.querySelectorAll('section.group, div.collection-group'), function (g) {
      g.hidden = !g.querySelector('article.theorem:not([hidden])');
    });
    shown.textContent = count + ' of ' + theorems.length + ' theorems shown';
  }
  search.addEventListener('input', filter);
  [].forEach.call(document.querySelectorAll('input[name=verdict]'), function (r) {
    r.addEventListener('change', filter);
  });
  filter();
})();
"""


def ident(prefix: str, name: str) -> str:
    """An id for an element: ``t-Optim-SGD-update_eq``."""
    return prefix + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _name(text: str) -> str:
    """A name that may break after its dots and underscores, never inside a word:
    ``Optim.<wbr>AdamW.<wbr>update_<wbr>weight_<wbr>…``."""
    return "<wbr>".join(escape(piece) for piece in re.split(r"(?<=[._/*,(])(?=\S)", text))


def _text(text: str) -> str:
    """Escaped; a long token (a name, a fraction of big integers, a condition printed as code)
    may break after its punctuation, as a name does, so that it does not set a column's width."""
    return "".join(_name(token) if len(token) > 24 else escape(token) for token in re.split(r"(\s+)", text))


def math_box(m: Math) -> str:
    label = f'<span class="label">{escape(m.label)}</span>' if m.label else ""
    return f'<div class="formula">{label}{mathml(m.expr, m.relation, m.rhs)}</div>'


def inline(part) -> str:
    if isinstance(part, str):
        return _text(part)
    if isinstance(part, Code):
        return f"<code>{escape(part.text)}</code>"
    if isinstance(part, Strong):
        return f"<b>{escape(part.text)}</b>"
    if isinstance(part, Math):
        return mathml(part.expr, part.relation, part.rhs, display=False)
    if isinstance(part, Verdict):
        return f'<span class="verdict {part.verdict}{" unexpected" if part.unexpected else ""}">{part.verdict}</span>'
    if isinstance(part, Link):
        return f'<a href="#{ident("t-", part.theorem)}">{_name(part.text)}</a>'
    raise TypeError(f"no HTML for {type(part).__name__}")


def line(parts: list) -> str:
    return "".join(inline(p) for p in parts)


def table(header: list, rows: list, row_attributes: list | None = None, cell_classes: list | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    classes = cell_classes or [""] * len(header)
    body = "".join(f"<tr{attributes}>" + "".join(f"<td{c}>{line(cell)}</td>" for c, cell in zip(classes, row))
                   + "</tr>" for row, attributes in zip(rows, row_attributes or [""] * len(rows)))
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def block(b) -> str:
    if isinstance(b, Para):
        role = f' class="{b.role}"' if b.role else ""
        return f"<p{role}>{line(b.parts)}</p>"
    if isinstance(b, Items):
        return "<ul>" + "".join(f"<li>{line(item)}</li>" for item in b.items) + "</ul>"
    if isinstance(b, Table):
        return table(b.header, b.rows)
    if isinstance(b, Formulas):
        return "".join(math_box(m) for m in b.formulas)
    raise TypeError(f"no HTML for {type(b).__name__}")


def _data(t: Theorem) -> str:
    """The attributes the filters read."""
    words = " ".join([t.name, t.family, t.collection, t.form, t.docstring, t.statement, t.verdict]).lower()
    return (f' data-verdict="{t.verdict}" data-unexpected="{int(not t.as_expected)}"'
            f' data-search="{escape(words)}"')


def section(t: Theorem) -> str:
    unexpected = "" if t.as_expected else " unexpected"
    head = (f'<h3>{_name(t.name)} {inline(Verdict(t.verdict, not t.as_expected))}</h3>'
            + ("" if t.as_expected else f'<p><b>Not as expected:</b> {t.verdict}, expected {t.expected}.</p>'))
    return (f'<article id="{ident("t-", t.name)}" class="theorem{unexpected}"{_data(t)}>{head}'
            + "".join(block(b) for b in layout(t)) + "</article>")


def _count(theorems: list) -> str:
    counts = Counter(t.verdict for t in theorems)
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))


def sidebar(report: Report) -> str:
    items = []
    for family, collections in report.families():
        inner = "".join(f'<li><a href="#{ident("g-", family + "--" + c)}">{escape(c)}</a> '
                        f'<span class="n">{len(ts)}</span></li>' for c, ts in collections)
        every = [t for _, ts in collections for t in ts]
        bad = sum(not t.as_expected for t in every)
        items.append(f'<li><a href="#{ident("g-", family)}">{_name(family)}</a> <span class="n">{len(every)}'
                     + (f' · <span class="verdict unexpected">{bad} unexpected</span>' if bad else "")
                     + f"</span><ul>{inner}</ul></li>")
    return ('<nav aria-label="Groups"><p><a href="#top"><b>Proof report</b></a></p><ul>'
            '<li><a href="#alert">Not as expected</a></li><li><a href="#summary">Summary table</a></li></ul>'
            f"<p><b>Groups</b></p><ul>{''.join(items)}</ul></nav>")


def controls(report: Report) -> str:
    s = report.summary
    choices = [("all", f"all ({s['theorems']})")] + [(v, f"{v} ({s[v]})") for v in ("PROVED", "REFUTED", "UNKNOWN")]
    choices.append(("unexpected", f"unexpected ({len(s['unexpected'])})"))
    radios = "".join(f'<label><input type="radio" name="verdict" value="{v}"{" checked" if v == "all" else ""}> '
                     f"{escape(text)}</label>" for v, text in choices)
    return ('<div class="controls"><input type="search" id="search" placeholder="Search names, docstrings, '
            'statements…" aria-label="Search theorems">'
            f'<fieldset><legend hidden>Verdict</legend>{radios}</fieldset>'
            f'<p id="shown">{s["theorems"]} of {s["theorems"]} theorems shown</p></div>')


def alert(report: Report) -> str:
    bad = [t for t in report.theorems if not t.as_expected]
    if not bad:
        return f'<section id="alert" class="ok"><p>All {len(report.theorems)} verdicts are the expected ones.</p></section>'
    rows = [[[Link(t.name, t.name)], [Verdict(t.verdict, True)], [t.expected], [t.reason or t.method]] for t in bad]
    return (f'<section id="alert"><h2>Not as expected: {len(bad)}</h2>'
            + table(["theorem", "verdict", "expected", "method or reason"], rows) + "</section>")


def summary_table(report: Report) -> str:
    rows = [summary_row(t) for t in report.theorems]
    attributes = [f' class="{"" if t.as_expected else "unexpected"}"{_data(t)}' for t in report.theorems]
    return ('<section id="summary"><h2>Summary</h2>'
            + table(SUMMARY_HEADER, rows, attributes, ["", ' class="nowrap"', ' class="nowrap"', ' class="method"',
                                                       ' class="num"'])
            + "</section>")


def groups(report: Report) -> str:
    out = []
    for family, collections in report.families():
        parts = [f'<section class="group" id="{ident("g-", family)}"><h2 class="family">{_name(family)}</h2>']
        for collection, theorems in collections:
            parts.append(f'<div class="collection-group" id="{ident("g-", family + "--" + collection)}">'
                         f'<p class="collection">{escape(family)} · {escape(collection)} · {_count(theorems)}</p>'
                         + "".join(section(t) for t in theorems) + "</div>")
        out.append("".join(parts) + "</section>")
    return "".join(out)


def to_html(report: Report) -> str:
    s = report.summary
    head = ('<header id="top"><h1>Proof report</h1>' + "".join(f"<p>{escape(t)}.</p>" for t in totals(s))
            + f"<p>{escape(LEGEND)}</p></header>" + controls(report))
    body = sidebar(report) + "<main>" + head + alert(report) + summary_table(report) + groups(report) + "</main>"
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>optlaws proof report</title><style>{CSS}</style></head><body>{body}"
            f"<script>{SCRIPT}</script></body></html>\n")
