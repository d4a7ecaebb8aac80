"""Theorem files from an adversarial review, each of which once got a wrong verdict.

Every case here is a class of attack, kept as a regression: state hypotheses on one path,
rebuild differently on a re-run, catch the tracer's refusals, smuggle exact-looking numbers,
compare shapes or identities.  Each must now get the right verdict or fail to build — never a
false PROVED, never a REFUTED of a true statement.
"""
import math

import numpy as np
import pytest
import sympy

from optim.context import context_of
from proofs.harness import Given, Theorem, build_theorem, equation, for_every
from symbolic import PROVED, REFUTED
from symbolic.paths import BranchError
from symbolic.prover import decide_theorem
from symbolic.tensor import SYMPY, Refusal


def run(build):
    theorem = Theorem("Red.theorem", "", PROVED, build, "an adversarial theorem", __name__)
    return decide_theorem(build_theorem(theorem))


# ---------------------------------------------------------- hypotheses stated on one path
def hypothesis_in_a_branch(x: Given, hypothesis):
    a = x.real("a")
    if a > 0:
        x.assume(hypothesis(a))
        return equation(a, a)
    return equation(a, a + 1)  # false on the other path, at a = −1


@pytest.mark.parametrize("hypothesis", [lambda a: a > 5, lambda a: False], ids=["a > 5", "False"])
def test_a_hypothesis_stated_on_one_path_binds_that_path_only(hypothesis):
    verdict = run(lambda x: hypothesis_in_a_branch(x, hypothesis))
    assert verdict.status == REFUTED and not verdict.vacuous


# ------------------------------------------------------------- rebuilt differently on re-run
def test_a_build_that_branches_differently_when_rerun_is_refused():
    runs = [0]

    def build(x: Given):
        a = x.real("a")
        runs[0] += 1
        if runs[0] > 1:
            return equation(a, a)
        return equation(a if a > 0 else -a, a)

    with pytest.raises(BranchError, match="not deterministic"):
        run(build)


def test_a_memoised_branch_is_refused():
    cache = {}

    def build(x: Given):
        a = x.real("a")
        if "v" not in cache:
            cache["v"] = a if a > 0 else -a
        return equation(cache["v"], a)

    with pytest.raises(BranchError, match="not deterministic"):
        run(build)


def test_a_loop_on_a_symbolic_condition_fails_fast():
    def build(x: Given):
        a = x.real("a")
        while a > 2:
            a = a * 1
        return equation(a, a)

    with pytest.raises(BranchError, match="loop"):
        run(build)


# ---------------------------------------------------------------- refusals caught by code
def floor_or_itself(v):
    try:
        return math.floor(v)
    except TypeError:
        return v


def float32_or_itself(v):
    try:
        return np.float32(v)
    except TypeError:
        return v


@pytest.mark.parametrize("convert", [floor_or_itself, float32_or_itself])
def test_code_that_catches_a_refusal_and_goes_on_is_refused(convert):
    def build(x: Given):
        a = x.real("a")
        return equation(convert(a / 3) * 3, a)

    with pytest.raises(BranchError, match="caught a refused symbolic operation"):
        run(build)


# ------------------------------------------------------------------- numbers that are not
def test_a_longdouble_enters_with_its_exact_value():
    long = np.longdouble(1) + np.longdouble(2) ** -60
    if long == 1:
        pytest.skip("this platform's longdouble is a double")
    assert run(lambda x: (lambda a: equation(a * long, a))(x.real("a"))).status == REFUTED


def test_a_raw_unevaluated_root_of_minus_one_is_refused():
    i = sympy.Pow(-1, sympy.Rational(1, 2), evaluate=False)
    with pytest.raises(Refusal, match="not rational"):
        run(lambda x: (lambda a: equation(a * i * i, -a))(x.real("a")))


# ------------------------------------------------------ hypotheses keep their definedness
def test_a_hypothesis_with_a_division_assumes_its_divisor_nonzero():
    def build(x: Given):
        b, c = x.real("b"), x.real("c")
        x.assume(c == b / b)  # says b ≠ 0 too
        return equation(SYMPY.sign(b) ** 2, 1)

    assert run(build).status == PROVED


def test_a_sympy_relation_on_a_value_with_a_division_is_refused():
    def build(x: Given):
        b, c = x.real("b"), x.real("c")
        x.assume(sympy.Eq(c, b / b))
        return equation(SYMPY.sign(b) ** 2, 1)

    with pytest.raises(Refusal, match="lose where it is defined"):
        run(build)


# ---------------------------------------------------------------- identity is not value
@pytest.mark.parametrize("claim", [
    lambda a: {a: "x"}.get(a + 0, "y"),
    lambda a: len({a, a + 0}),
    lambda a: hash(a) == hash(a + 0),
    lambda a: (a > 0) == (a > 0),
], ids=["dict key", "set", "hash", "condition equality"])
def test_symbolic_values_have_no_identity_semantics(claim):
    with pytest.raises(Refusal):
        run(lambda x: equation(claim(x.real("a")), 1))


# ------------------------------------------------------------------------------- shapes
def test_every_shape_cannot_be_compared_with_a_concrete_shape():
    def build(x: Given):
        p = x.tensor("p")
        return equation(p * 0 if context_of(p).shape(p) == () else p, p)

    with pytest.raises(Refusal, match="concrete shape"):
        run(build)


def test_the_truth_value_of_a_one_entry_tensor_is_its_entry_not_being_zero():
    def build(x: Given):
        g = x.tensor("g", shape=(1,))
        return equation(g if g else g + 1, g)  # false at g = 0

    assert run(build).status == REFUTED


def test_where_on_a_real_tensor_means_nonzero():
    def build(x: Given):
        g = x.tensor("g")
        return equation(SYMPY.where(g, g, g + 1), g)  # false at g = 0

    assert run(build).status == REFUTED


# ----------------------------------------------------------------- the second check, for_every
def test_the_second_check_reruns_a_for_every_theorem():
    from proofs.crosscheck import evaluate, judge, sample

    def build(x: Given):
        c, g = x.real("c"), x.tensor("g", entries="positive")
        return for_every(c, c * g, SYMPY.abs(g))  # c = 1 works: not refuted

    theorem = Theorem("Red.theorem", "", PROVED, build, "for every", __name__)
    data = build_theorem(theorem)
    for point in sample(data, count=1):
        assert judge(evaluate(theorem, point), point) is None  # runs; a for-every goal is not judged


# --------------------------------------------------------------------- the second pass
def test_a_sympy_hypothesis_hiding_a_root_inside_an_or_is_refused():
    from optim import sgd
    from proofs.harness import TheoremError, inequality

    def build(x: Given):
        lr, p, g = x.positive("lr"), x.tensor("p"), x.tensor("g")
        x.assume(sympy.Or(g.entry < -1, sympy.sqrt(g.entry) > 1))  # holds at g = −2, where q > p
        return inequality(sgd.update(sgd.State(lr=lr), p, g)[1], p)

    with pytest.raises(TheoremError, match="definedness"):
        run(build)


def test_a_branch_condition_undefined_wherever_it_is_evaluated_is_not_proved():
    def build(x: Given):
        a = x.real("a")
        x.assume(sympy.Eq(sympy.Rational(1, 3), a.expr))
        if 1 / (a - sympy.Rational(1, 3)) == 5:  # divides by zero at the only admissible point
            return equation(a, a + 1)
        return equation(a, a + 1)

    assert run(build).status != PROVED


def test_for_every_is_not_refuted_by_paths_refuted_at_different_points():
    def build(x: Given):
        c, a, g = x.real("c"), x.real("a"), x.tensor("g")
        lhs = (c - 2 * a) * g * (a - sympy.Rational(1, 2)) if c > a else (c - 2 * a) * g
        return for_every(c, lhs, g * 0)  # c = 2a works on both paths

    assert run(build).status != REFUTED
