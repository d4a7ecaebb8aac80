"""The runner's process split: theorem files run only in children under the time limit; the
decision runs in a child of a process that never imported them; only JSON crosses.

The decider here is a stub installed in this (the parent) process, so that the tests do not
depend on what the real decider proves: it says PROVED exactly when every pair's difference
cancels to 0.  A theorem file that patches the prover, SymPy, the wire or the runner does so
in its own child only."""
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sympy

import symbolic.prover
from proofs.__main__ import BROKEN_THEOREM_FILE, NOT_AS_EXPECTED, OK, USAGE, main
from proofs.runner import TheoremFileError, TheoremInfo, list_theorems, run_all
from symbolic.timelimit import ChildError, TimeLimitExceeded, run_with_time_limit

ROOT = Path(__file__).resolve().parent.parent


class StubVerdict:
    def __init__(self, status, method="", reason=""):
        self.status, self.method, self.reason = status, method, reason
        self.side_conditions, self.counterexample, self.shape = [], None, ""
        self.lhs = self.rhs = ""
        self.hypotheses_used, self.obligations = [], []


def stub_decide(data):
    zero = all(sympy.cancel(lhs - rhs) == 0 for o in data.obligations for _, lhs, rhs in o.pairs)
    return StubVerdict("PROVED", "stub: cancels") if zero else StubVerdict("UNKNOWN", reason="stub: does not cancel")


@pytest.fixture(autouse=True)
def stub_decider(monkeypatch):
    monkeypatch.setattr(symbolic.prover, "decide_theorem", stub_decide, raising=False)


HEADER = '''
from optim import sgd
from proofs import Given, equation, theorem
'''

TRUE = '''
@theorem("User.SGD.true", statement="(update s p g).params = p − lr·g")
def _(x: Given):
    """SGD steps by lr·g."""
    p, g, lr = x.tensor("p"), x.tensor("g"), x.positive("lr")
    return equation(sgd.update(sgd.State(lr), p, g)[1], p - lr * g)
'''

FALSE = '''
@theorem("User.SGD.false", statement="(update s p g).params = p")
def _(x: Given):
    """SGD does not move (false)."""
    p, g, lr = x.tensor("p"), x.tensor("g"), x.positive("lr")
    return equation(sgd.update(sgd.State(lr), p, g)[1], p)
'''


def write(tmp_path, name, *parts) -> str:
    path = tmp_path / name
    path.write_text("\n".join(textwrap.dedent(part) for part in parts))
    return str(path)


def prove(path, tmp_path, *options):
    code = main([str(path), "--out", str(tmp_path / "out"), *options])
    report = tmp_path / "out" / "proofs.json"
    results = {t["name"]: t for t in json.loads(report.read_text())["theorems"]} if report.exists() else {}
    return code, results


# ---------------------------------------------------------------------- the plain flow
def test_a_file_is_listed_built_and_decided_in_children(tmp_path):
    path = write(tmp_path, "plain.py", HEADER, TRUE, FALSE)
    code, results = prove(path, tmp_path, "-j", "2")
    assert code == NOT_AS_EXPECTED
    assert results["User.SGD.true"]["verdict"] == "PROVED"
    assert results["User.SGD.false"]["verdict"] == "UNKNOWN"
    assert "user_theorems_plain" not in sys.modules
    assert results["User.SGD.true"]["variables"] == ["p: tensor (every shape), entries in ℝ",
                                                     "g: tensor (every shape), entries in ℝ", "lr ∈ ℝ>0"]


def test_the_parent_never_imports_a_theorem_file_or_the_library(tmp_path):
    path = write(tmp_path, "watched.py", HEADER, TRUE)
    script = textwrap.dedent(f'''
        import sys
        import symbolic.prover
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from test_runner_isolation import stub_decide
        symbolic.prover.decide_theorem = stub_decide
        from proofs.__main__ import main
        code = main([{path!r}, "--out", {str(tmp_path / "out")!r}])
        code2 = main(["-k", "Optim.SGD.update_eq", "--out", {str(tmp_path / "lib")!r}])
        loaded = [m for m in sys.modules if m.startswith(("user_theorems", "proofs.theorems"))]
        print("LOADED", loaded, code, code2)
    ''')
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "LOADED [] 0" in run.stdout, run.stdout + run.stderr
    listed = json.loads((tmp_path / "lib" / "proofs.json").read_text())["theorems"]
    assert [t["name"] for t in listed] == ["Optim.SGD.update_eq"]


# ----------------------------------------------------------------------- time limits
def test_a_file_that_sleeps_at_import_ends_within_the_limit(tmp_path, capsys):
    path = write(tmp_path, "sleepy.py", "import time\ntime.sleep(60)", HEADER, TRUE)
    start = time.monotonic()
    code, _ = prove(path, tmp_path, "--time-limit", "1.5")
    assert time.monotonic() - start < 10
    assert code == BROKEN_THEOREM_FILE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not finish within 1.5 s" in err


def test_a_build_that_hangs_is_unknown_and_takes_no_other_theorem_down(tmp_path):
    hang = '''
    @theorem("User.hangs", statement="—")
    def _(x: Given):
        """Never returns."""
        import time
        while True:
            time.sleep(1)
    '''
    path = write(tmp_path, "hangs.py", HEADER, hang, TRUE)
    start = time.monotonic()
    code, results = prove(path, tmp_path, "--time-limit", "5", "-j", "1")   # 5 s: SGD.true on a loaded machine
    assert time.monotonic() - start < 15
    assert results["User.hangs"]["verdict"] == "UNKNOWN" and "timeout" in results["User.hangs"]["reason"]
    assert results["User.SGD.true"]["verdict"] == "PROVED"


def test_the_decision_is_under_the_same_limit(tmp_path, monkeypatch):
    def slow(data):
        time.sleep(60)
    monkeypatch.setattr(symbolic.prover, "decide_theorem", slow, raising=False)
    path = write(tmp_path, "slowdecision.py", HEADER, TRUE)
    start = time.monotonic()
    _, results = prove(path, tmp_path, "--time-limit", "2")
    assert time.monotonic() - start < 10
    assert results["User.SGD.true"]["verdict"] == "UNKNOWN"
    assert results["User.SGD.true"]["reason"].startswith("timeout: no decision")


# ------------------------------------------------------- a theorem file cannot reach the decision
PATCHES = {
    "prover": '''
        import symbolic.prover as p
        class Forged:
            status, method, reason, side_conditions, counterexample = "PROVED", "forged", "", [], None
            shape = lhs = rhs = ""
            hypotheses_used = obligations = []
        p.decide_theorem = lambda *a, **k: Forged()
        p.Verdict = Forged
    ''',
    "cancel": '''
        import sympy
        sympy.cancel = lambda *a, **k: sympy.Integer(0)
        import sympy.polys.polytools
        sympy.polys.polytools.cancel = sympy.cancel
    ''',
    "runner": '''
        import proofs.runner as r
        r._describe = lambda verdict, data: {"verdict": "PROVED", "method": "forged"}
        r._decide_in_child = lambda data: {"verdict": "PROVED", "method": "forged"}
    ''',
    "wire": '''
        import json
        import symbolic.wire as w
        w.encode = lambda data: json.dumps({"verdict": "PROVED", "method": "forged"})
    ''',
}


@pytest.mark.parametrize("patch", sorted(PATCHES))
def test_a_file_that_patches_the_decision_changes_no_verdict(tmp_path, patch):
    path = write(tmp_path, f"patch_{patch}.py", PATCHES[patch], HEADER, FALSE, TRUE)
    _, results = prove(path, tmp_path)
    assert results["User.SGD.false"]["verdict"] == "UNKNOWN"
    assert "forged" not in results["User.SGD.false"]["method"]
    if patch != "wire":   # a forged encoder sends no obligations at all
        assert results["User.SGD.true"]["verdict"] == "PROVED"
    assert symbolic.prover.decide_theorem is stub_decide and sympy.cancel.__module__ == "sympy.polys.polytools"


ANSWERS = {
    # a verdict sent straight down the answer pipe, as if the builder had finished
    "forged verdict": '''
        payload = json.dumps({"ok": True, "value": {"verdict": "PROVED", "method": "forged"}}).encode() + b"\\n"
    ''',
    "forged wire text of a verdict": '''
        payload = json.dumps({"ok": True, "value": json.dumps({"status": "PROVED"})}).encode() + b"\\n"
    ''',
    "garbage": '''
        payload = b"\\x80\\x81 not json at all \\x00"
    ''',
    "a pickle": '''
        import pickle
        payload = pickle.dumps({"ok": True, "value": "x"})
    ''',
    "nothing (dies)": '''
        payload = b""
    ''',
}


REASONS = {
    "forged verdict": "answered something that is not an obligation message",
    "forged wire text of a verdict": "sent malformed obligations: not an obligation message",
    "garbage": "not one line of JSON",
    "a pickle": "not one line of JSON",
    "nothing (dies)": "died without an answer (exit code 0)",
}


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_a_builder_that_answers_anything_but_obligations_is_unknown(tmp_path, answer, monkeypatch):
    import pickle
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("the parent unpickled an answer"))
    forge = f'''
    @theorem("User.SGD.forged", statement="(update s p g).params = p")
    def _(x: Given):
        """Writes its own answer to every descriptor and leaves."""
        import json, os
{textwrap.indent(textwrap.dedent(ANSWERS[answer]).strip(), " " * 8)}
        import stat
        terminal = {{(os.fstat(fd).st_dev, os.fstat(fd).st_ino) for fd in (1, 2)}}
        for fd in range(3, 256):
            try:
                info = os.fstat(fd)
                if stat.S_ISFIFO(info.st_mode) and (info.st_dev, info.st_ino) not in terminal:
                    os.write(fd, payload)
            except OSError:
                pass
        os._exit(0)
    '''
    path = write(tmp_path, "forger.py", HEADER, forge, TRUE)
    _, results = prove(path, tmp_path)
    forged = results["User.SGD.forged"]
    assert forged["verdict"] == "UNKNOWN" and "forged" not in forged["method"]
    assert REASONS[answer] in forged["reason"]
    assert "\n" not in forged["reason"] and forged["reason"]
    assert results["User.SGD.true"]["verdict"] == "PROVED"


def test_a_builder_that_is_killed_is_unknown(tmp_path):
    kill = '''
    @theorem("User.killed", statement="—")
    def _(x: Given):
        """Dies."""
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
    '''
    _, results = prove(write(tmp_path, "killed.py", HEADER, kill), tmp_path)
    assert results["User.killed"]["verdict"] == "UNKNOWN"
    assert "died without an answer (killed by SIGKILL)" in results["User.killed"]["reason"]


def test_a_decider_that_fails_is_unknown(tmp_path, monkeypatch):
    def broken(data):
        raise RuntimeError("internal error\nwith a second line")
    monkeypatch.setattr(symbolic.prover, "decide_theorem", broken, raising=False)
    _, results = prove(write(tmp_path, "plain.py", HEADER, TRUE), tmp_path)
    assert results["User.SGD.true"]["verdict"] == "UNKNOWN"
    assert results["User.SGD.true"]["reason"] == "the decider failed: RuntimeError: internal error with a second line"


# ---------------------------------------------------------------- broken theorem files
BROKEN = {
    "raises": ("raise RuntimeError('boom\\nsecond line')", "RuntimeError: boom second line"),
    "syntax": ("def (:", "SyntaxError"),
    "import": ("import no_such_module_anywhere", "ModuleNotFoundError: No module named 'no_such_module_anywhere'"),
    "empty": ("x = 1", "defines no @theorem"),
    "exits": ("import sys\nsys.exit(0)", "SystemExit"),
    "duplicate": (TRUE, "defined twice"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_theorem_file_is_one_line_and_its_own_exit_code(tmp_path, capsys, kind):
    body, expected = BROKEN[kind]
    path = write(tmp_path, f"broken_{kind}.py", HEADER, TRUE if kind == "duplicate" else "", body)
    code, results = prove(path, tmp_path)
    assert code == BROKEN_THEOREM_FILE == 3
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and err.count("\n") == 1, err
    assert expected in err
    assert "Traceback" not in err and not results


def test_two_files_defining_one_theorem_are_refused(tmp_path, capsys):
    first, second = write(tmp_path, "one.py", HEADER, TRUE), write(tmp_path, "two.py", HEADER, TRUE)
    assert main([first, second, "--out", str(tmp_path / "out")]) == BROKEN_THEOREM_FILE
    assert "also defined in" in capsys.readouterr().err


def test_listing_gives_plain_data(tmp_path):
    path = write(tmp_path, "listed.py", HEADER, TRUE, FALSE)
    listed = list_theorems([path])
    assert all(isinstance(t, TheoremInfo) for t in listed)
    assert [(t.name, t.expect, t.docstring) for t in listed] == [
        ("User.SGD.true", "PROVED", "SGD steps by lr·g."), ("User.SGD.false", "PROVED", "SGD does not move (false).")]
    with pytest.raises(TheoremFileError):
        list_theorems([str(tmp_path / "missing.py")])


# ------------------------------------------------------------------------------ the CLI
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "abc", ""])
def test_the_time_limit_must_be_a_finite_positive_number(value, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--time-limit", value])
    assert exit.value.code == USAGE
    err = capsys.readouterr().err
    assert "--time-limit" in err and "Traceback" not in err


def test_an_unwritable_out_is_refused_before_anything_is_imported(tmp_path, capsys):
    marker = tmp_path / "imported"
    path = write(tmp_path, "marks.py", f"open({str(marker)!r}, 'w').close()", HEADER, TRUE)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main([path, "--out", str(blocker / "reports")]) == USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write reports to {blocker / 'reports'}") and err.count("\n") == 1
    assert not marker.exists()
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert main([path, "--out", str(locked)]) == USAGE
        assert "Permission denied" in capsys.readouterr().err
        assert not marker.exists()


def test_a_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main([str(tmp_path / "nope.py"), "--out", str(tmp_path / "out")]) == USAGE
    assert "no such theorem file" in capsys.readouterr().err


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for line in ("0  every verdict is the expected one", "1  some verdict is not the expected one",
                 "2  usage error", "3  a theorem file cannot be loaded"):
        assert line in out
    assert (OK, NOT_AS_EXPECTED, USAGE, BROKEN_THEOREM_FILE) == (0, 1, 2, 3)


def test_the_cli_as_a_program_reports_a_broken_file_in_one_line(tmp_path):
    path = write(tmp_path, "raises.py", "raise ValueError('bad file')")
    run = subprocess.run([sys.executable, "-m", "proofs", path, "--out", str(tmp_path / "out")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 3 and run.stderr == f"error: {path}: ValueError: bad file\n"


# ------------------------------------------------------------------------- timelimit
def test_answers_are_json_values_and_errors_are_one_line():
    assert run_with_time_limit(lambda: {"a": [1, "x", None]}, 10) == {"a": [1, "x", None]}
    with pytest.raises(ChildError, match="^ValueError: two lines$"):
        run_with_time_limit(lambda: (_ for _ in ()).throw(ValueError("two\nlines")), 10)
    with pytest.raises(ChildError, match="not JSON data"):
        run_with_time_limit(lambda: object(), 10)
    start = time.monotonic()
    with pytest.raises(TimeLimitExceeded):
        run_with_time_limit(lambda: time.sleep(30), 0.5)
    assert time.monotonic() - start < 5


def test_a_hanging_grandchild_is_killed_with_its_child():
    def spawn_and_hang():
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        return pid

    grandchild = run_with_time_limit(spawn_and_hang, 10)
    for _ in range(100):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{grandchild}/stat").exists() and ") Z" in Path(f"/proc/{grandchild}/stat").read_text():
            break     # a zombie waiting for init: dead
        time.sleep(0.05)
    else:
        pytest.fail("the grandchild survived")


def test_run_all_keeps_the_order_of_the_theorems(tmp_path):
    path = write(tmp_path, "ordered.py", HEADER, FALSE, TRUE)
    listed = list_theorems([path])
    seen = []
    results = run_all(listed, 30, seen.append, jobs=2)
    assert [r.name for r in results] == [r.name for r in seen] == ["User.SGD.false", "User.SGD.true"]


# ------------------------------------------------------------------- the second check
SECOND = '''
@theorem("User.second.{name}", statement="—")
def _(x: Given):
    """Claims p = p symbolically; on the second check's numbers it does something else."""
    p = x.tensor("p")
    if x.concrete is not None:
        {concrete}
    return equation(p, p)
'''


@pytest.mark.parametrize("name,concrete,reason", [
    ("agrees", "pass", None),
    ("disagrees", "return equation(p, p + 1)", "internal error: the decision says PROVED but the second check disagrees"),
    ("raises", "raise RuntimeError('not on numbers')",
     "the second check of the PROVED could not run the theorem on numbers: RuntimeError: not on numbers"),
    ("dies", "import os; os._exit(0)", "the second check of the PROVED could not run the theorem on numbers"),
])
def test_a_proved_is_checked_again_on_numbers_in_the_theorem_child(tmp_path, name, concrete, reason):
    path = write(tmp_path, f"second_{name}.py", HEADER, SECOND.format(name=name, concrete=concrete))
    _, results = prove(path, tmp_path)
    result = results[f"User.second.{name}"]
    if reason is None:
        assert result["verdict"] == "PROVED" and result["second_check"].startswith("agrees at 6 exact points")
    else:
        assert result["verdict"] == "UNKNOWN" and result["reason"].startswith(reason), result["reason"]


def test_a_theorem_file_that_patches_the_tracer_cannot_be_proved(tmp_path):
    """Replacing SymScalar.__truediv__ with one that records no divisor would make (a·b)/b = a
    'PROVED': the build notices the replaced method and fails instead."""
    source = tmp_path / "patched.py"
    source.write_text(
        "import sympy\n"
        "from symbolic.tensor import SymScalar\n"
        "from proofs import Given, equation, theorem, REFUTED\n"
        "def _div(self, o):\n"
        "    return SymScalar(self.expr / (o.expr if isinstance(o, SymScalar) else sympy.sympify(o)))\n"
        "SymScalar.__truediv__ = _div\n"
        "@theorem('Trust.patched', statement='(a·b)/b = a', expect=REFUTED)\n"
        "def _(x: Given):\n"
        "    '''Recorder patched at import.'''\n"
        "    a, b = x.real('a'), x.real('b')\n"
        "    return equation((a * b) / b, a)\n")
    from proofs.runner import list_theorems, run_all
    [result] = run_all(list_theorems([str(source)]), time_limit=30)
    assert result.verdict == "UNKNOWN"
    assert "replaced code the proof is about" in result.reason and "SymScalar.__truediv__" in result.reason


SLOW_BUILD = '''
import time

@theorem("User.SGD.slow", statement="(update s p g).params = p − lr·g", time_limit=TIME_LIMIT)
def _(x: Given):
    """SGD steps by lr·g, after a build that takes 2 s."""
    time.sleep(2)
    p, g, lr = x.tensor("p"), x.tensor("g"), x.positive("lr")
    return equation(sgd.update(sgd.State(lr), p, g)[1], p - lr * g)
'''


@pytest.mark.parametrize("own, verdict", [(20.0, "PROVED"), (None, "UNKNOWN")])
def test_a_theorem_may_ask_for_more_time_than_the_run_gives(tmp_path, own, verdict):
    path = write(tmp_path, "slow.py", HEADER, f"TIME_LIMIT = {own!r}", SLOW_BUILD)
    [listed] = list_theorems([path])
    assert listed.time_limit == own
    [result] = run_all([listed], time_limit=1)
    assert result.verdict == verdict, result.reason
    if own is None:
        assert "1 s limit" in result.reason


@pytest.mark.parametrize("value", ["0", "-1", "301", "True", "'5'", "float('nan')"])
def test_a_theorems_own_time_limit_is_a_bounded_number_of_seconds(tmp_path, value):
    path = write(tmp_path, "bad_limit.py", HEADER, f"TIME_LIMIT = {value}", SLOW_BUILD)
    with pytest.raises(TheoremFileError, match="time_limit"):
        list_theorems([path])


def test_a_listing_that_claims_an_endless_time_limit_is_refused():
    from proofs.runner import _checked_listing
    item = {"name": "X.y", "statement": "s", "expect": "PROVED", "docstring": "d", "module": "m", "form": "",
            "source": "", "source_file": None, "time_limit": 30.0}
    assert _checked_listing([item], "f")[0].time_limit == 30.0
    for bad in (1e9, 0.0, -5.0, "30", 30, True, float("nan")):
        with pytest.raises(TheoremFileError, match="malformed"):
            _checked_listing([{**item, "time_limit": bad}], "f")
