"""`python -m proofs` writes both reports, lists every theorem with the documented fields,
and exits 0 only when every verdict is the expected one."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from proofs.__main__ import main
from proofs.runner import load_library

SEED = [
    "Optim.SGD.update_eq", "Optim.MomentumSGD.update_buffer_eq", "Optim.MomentumSGD.update_params_eq",
    "Optim.Adam.update_time_eq", "Optim.AdamW.update_time_eq",
    "Optim.AdamW.update_weight_decay_zero_params_eq_adam_real", "Optim.Adadelta.update_v_eq",
]
FIELDS = {"name", "verdict", "expected", "method", "seconds", "statement", "hypotheses", "counterexample",
          "docstring", "variables", "side_conditions", "shape", "form", "source", "relation", "obligations"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def library_run(tmp_path_factory):
    """The whole library proved by ``python -m proofs``: here, or — where CI has just run
    ``make prove`` for its own check — that very run, read back (OPTLAWS_LIBRARY_RUN names its
    output folder, holding the command's output as prove.log and its exit code as prove.rc)."""
    done = os.environ.get("OPTLAWS_LIBRARY_RUN")
    if done:
        out = Path(done)
        stdout = (out / "prove.log").read_text()
        return subprocess.CompletedProcess(["make", "prove"], int((out / "prove.rc").read_text()), stdout, ""), out
    out = tmp_path_factory.mktemp("reports")
    run = subprocess.run([sys.executable, "-m", "proofs", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    return run, out


def test_library_run_exits_zero_and_prints_a_line_per_theorem(library_run):
    run, _ = library_run
    assert run.returncode == 0, run.stdout + run.stderr
    names = [t.name for t in load_library()]
    for name in names:
        assert f"  {name}  [" in run.stdout, name
    assert f"{len(names)} theorems:" in run.stdout


def test_json_report_lists_every_theorem_with_its_fields(library_run):
    _, out = library_run
    report = json.loads((out / "proofs.json").read_text())
    names = {t["name"] for t in report["theorems"]}
    assert names == {t.name for t in load_library()}
    assert set(SEED) <= names
    for theorem in report["theorems"]:
        assert FIELDS <= set(theorem), theorem["name"]
        assert theorem["verdict"] in ("PROVED", "REFUTED", "UNKNOWN")
        assert theorem["verdict"] == theorem["expected"]
        assert (theorem["counterexample"] is not None) == (theorem["verdict"] == "REFUTED")
    seed = {t["name"]: t for t in report["theorems"] if t["name"] in SEED}
    assert all(t["verdict"] == "PROVED" for t in seed.values())
    assert seed["Optim.SGD.update_eq"]["docstring"] == "SGD is definitionally p - lr * g."
    summary = report["summary"]
    assert summary["theorems"] == len(names) and summary["unexpected"] == []
    assert summary["PROVED"] + summary["REFUTED"] + summary["UNKNOWN"] == len(names)


def test_markdown_report_has_the_table_and_a_section_per_theorem(library_run):
    _, out = library_run
    text = (out / "proofs.md").read_text()
    assert "| theorem | form | verdict | method or reason | seconds |" in text
    for name in SEED:
        assert f"### {name}" in text
    for family in ("Optim.SGD", "Optim.Adam", "Optim.Adagrad"):
        assert f"\n## {family}\n" in text
    refuted = text.split("### Optim.AdamW.update_weight_decay_pos_params_eq_adam")[1].split("\n### ")[0]
    assert "**Counterexample**" in refuted and "| **difference** |" in refuted
    assert "**Shapes.** every shape: the trace was elementwise" in text


def test_an_unexpected_verdict_fails_the_run(tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text(textwrap.dedent('''
        from optim import sgd
        from proofs import Given, equation, theorem

        @theorem("User.SGD.wrong", statement="(update s p g).params = p")
        def _(x: Given):
            """SGD does not move (false)."""
            p = x.tensor("p")
            return equation(sgd.update(sgd.State(x.positive("lr")), p, x.tensor("g"))[1], p)
    '''))
    code = main([str(wrong), "--out", str(tmp_path / "out")])
    assert code == 1
    report = json.loads((tmp_path / "out" / "proofs.json").read_text())
    assert report["theorems"][0]["verdict"] == "REFUTED"
    assert report["summary"]["unexpected"] == ["User.SGD.wrong"]


def test_a_theorem_that_cannot_be_built_is_reported_not_crashed(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text(textwrap.dedent('''
        from proofs import Given, theorem

        @theorem("User.broken", statement="—")
        def _(x: Given):
            """Returns no equation."""
            return 42
    '''))
    assert main([str(broken), "--out", str(tmp_path / "out")]) == 1
    result = json.loads((tmp_path / "out" / "proofs.json").read_text())["theorems"][0]
    assert result["verdict"] == "UNKNOWN" and "could not be built" in result["reason"]


def test_selection_and_options(tmp_path, capsys):
    # Exactly the family the glob names; a small one, as this checks selection, not proving.
    assert main(["-k", "Optim.LinearLR.*", "--time-limit", "60", "--out", str(tmp_path)]) == 0
    names = [t["name"] for t in json.loads((tmp_path / "proofs.json").read_text())["theorems"]]
    expected = [t.name for t in load_library() if t.name.startswith("Optim.LinearLR.")]
    assert len(expected) >= 2 and sorted(names) == sorted(expected)
    assert main(["-k", "no-such-theorem", "--out", str(tmp_path)]) == 2


def test_html_report_is_self_contained_with_rendered_math(library_run):
    _, out = library_run
    page = (out / "proofs.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<math" in page and "http://" not in page.replace("http://www.w3.org/1998/Math/MathML", "")
    assert "https://" not in page and " src=" not in page and "<link" not in page   # nothing fetched
    for theorem in load_library():
        assert f'id="t-{theorem.name.replace(".", "-")}"' in page
        assert f'href="#t-{theorem.name.replace(".", "-")}"' in page


def test_forms_and_sources_are_reported(library_run):
    _, out = library_run
    report = {t["name"]: t for t in json.loads((out / "proofs.json").read_text())["theorems"]}
    forms = {t["form"] for t in report.values()}
    assert {"equation", "k-step", "induction", "simulation", "non-equivalence", "inequality"} <= forms
    induction = report["Optim.Adam.constant_grad_bias_corrected_moments_eq"]
    assert induction["relation"].startswith("invariant at step t:")
    assert [o["name"] for o in induction["obligations"]][:2] == ["base case (t = 0)", "inductive step (t → t + 1)"]
    assert "Kingma & Ba 2015" in induction["source"]
    every = report["Optim.Adam.l2_eq_adamw_for_some_coefficient"]
    assert every["verdict"] == "REFUTED" and every["counterexample"]["for_every"] == "lambda_l2"


def test_html_report_is_valid_html5_with_math_for_every_goal(library_run):
    html5lib = pytest.importorskip("html5lib")
    _, out = library_run
    page = (out / "proofs.html").read_text()
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(page)   # strict: the first parse error raises
    assert parser.errors == []
    report = json.loads((out / "proofs.json").read_text())
    sides = sum(len(g["sides"]) for t in report["theorems"] for g in t["goals"])
    assert sides and page.count('<div class="formula">') == sides   # every side printed as MathML
    assert all(t["goals"] for t in report["theorems"] if t["verdict"] != "UNKNOWN")


# ------------------------------------------------- the printers, on a few theorems run here
from proofs.report import build  # noqa: E402
from proofs.runner import Result, list_theorems, run_all  # noqa: E402

SMALL = ["Optim.SGD.update_eq", "Optim.SGD.update_weight_decay_params_eq", "Optim.Adagrad.update_sum_eq",
         "Optim.Adam.update_params_eq_sgd"]


@pytest.fixture(scope="module")
def small():
    from proofs.html import to_html
    from proofs.markdown import to_markdown

    results = run_all([t for t in list_theorems() if t.name in SMALL], 60, jobs=2, second_check=False)
    assert sorted(r.name for r in results) == sorted(SMALL) and all(r.as_expected for r in results), results
    report = build(results, 1.0)
    return report, to_markdown(report), to_html(report)


def _article(page: str, name: str) -> str:
    return page.split(f'id="t-{name.replace(".", "-")}"')[1].split("</article>")[0]


def test_adagrad_sum_field_is_printed_as_sum(small):
    report, text, page = small
    adagrad = _article(page, "Optim.Adagrad.update_sum_eq")
    assert '<mi mathvariant="normal">sum</mi>' in adagrad and "<math" in adagrad
    assert "`sum + (grads + params·weight_decay)² = sum + (grads + params·weight_decay)²`" in text
    goals = next(t for t in report.theorems if t.name == "Optim.Adagrad.update_sum_eq").goals
    assert goals and all(f.lhs.free_symbols for g in goals for f in g.formulas)   # SymPy, not text


def test_products_are_explicit_and_names_are_one_upright_identifier(small):
    _, text, page = small
    sgd = _article(page, "Optim.SGD.update_eq")
    assert '<mi mathvariant="normal">grads</mi><mo>&#183;</mo><mi mathvariant="normal">lr</mi>' in sgd
    assert "`-grads·lr + params = -grads·lr + params`" in text
    decay = _article(page, "Optim.SGD.update_weight_decay_params_eq")
    assert '<mi mathvariant="normal">weight_decay</mi>' in decay
    assert "<msub><mi>weight</mi>" not in page and "<mi>weight</mi>" not in page
    assert "InvisibleTimes" not in page and "&#8290;" not in page


def test_numbers_are_exact_and_text_is_escaped():
    import sympy

    from symbolic.notation import math_text, mathml

    x, lr = sympy.symbols("x lr")
    assert "<mn>5</mn>" in mathml(sympy.Float(5)) and math_text(sympy.Float(5)) == "5"
    assert "<mfrac><mn>1</mn><mn>2</mn></mfrac>" in mathml(sympy.Rational(1, 2))
    assert math_text(sympy.Rational(1, 2) * x) == "x/2"
    assert "<mo>&lt;</mo>" in mathml(sympy.Lt(lr * x, 0)) and "<mo><</mo>" not in mathml(sympy.Lt(x, 0))
    assert mathml(x, "<", lr).count("&lt;") == 1
    assert math_text(sympy.Le(x, 1)) == "x ≤ 1" and math_text(sympy.sqrt(x + 1)) == "√(x + 1)"
    greek = mathml(sympy.Symbol("beta1") ** 2)
    assert "<msub><mi>&#946;</mi><mn>1</mn></msub>" in greek


def test_no_float_artefacts_in_a_report(small):
    import re

    _, text, page = small
    assert not re.search(r"<mn>-?\d+\.\d{6,}</mn>", page) and not re.search(r"\d\.0{8,}", text)
    refuted = _article(page, "Optim.Adam.update_params_eq_sgd")
    assert "Counterexample" in refuted and "<code>1/2</code>" in refuted


def test_an_unexpected_verdict_is_listed_at_the_top_and_highlighted(small):
    from proofs.html import to_html
    from proofs.markdown import to_markdown

    report, _, _ = small
    wrong = Result(name="User.SGD.wrong", docstring="SGD does not move (false) <script>x</script> & a < b",
                   statement="p' = p <b>",
                   expected="PROVED", verdict="REFUTED", method="counterexample", reason="", seconds=0.5,
                   module="user_theorems_wrong")
    base = [r for r in report.theorems]
    mixed = build([], 1.0)
    mixed.theorems = base[:2] + [build([wrong], 0.5).theorems[0]] + base[2:]
    mixed.summary = {**report.summary, "unexpected": ["User.SGD.wrong"]}
    page, text = to_html(mixed), to_markdown(mixed)
    top = page.split('id="alert"')[1].split("</section>")[0]
    assert page.index('id="alert"') < page.index('id="summary"') < page.index('class="group"')
    assert 'href="#t-User-SGD-wrong"' in top and 'class="verdict REFUTED unexpected"' in top
    assert 'id="t-User-SGD-wrong" class="theorem unexpected"' in page and 'data-unexpected="1"' in page
    assert text.index("## Not as expected") < text.index("| theorem |")
    assert "- [User.SGD.wrong](#usersgdwrong): REFUTED, expected PROVED" in text
    html5lib = pytest.importorskip("html5lib")
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(page)
    assert parser.errors == [] and "<script>x" not in page and "&lt;script&gt;x" in page
    ok = to_html(report)
    assert 'id="alert" class="ok"' in ok and "unexpected" not in ok.split('id="alert"')[1].split("</section>")[0]
