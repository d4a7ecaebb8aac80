"""The trusted decider on obligation data: for every class of wrong verdict found (issue 8), a
false statement that must not be PROVED (REFUTED where a counterexample exists) and a true one
that is PROVED.  Obligations are built directly from SymPy expressions: no optimizer, no
theorem file, no symbolic tensor is involved.
"""
import random
import time

import pytest
import sympy
from sympy import Abs, Eq, Ge, Gt, Le, Lt, Max, Ne, Piecewise, Rational, sqrt

from symbolic import PROVED, REFUTED, UNKNOWN, ClaimError, decide_obligation, decide_theorem
from symbolic.bounds import bound
from symbolic.domains import DOMAINS, Interval
from symbolic.obligation import Condition, Obligation, TheoremData, VariableSpec
from symbolic import z3check

R = Rational


def var(name, domain="real"):
    """A scalar variable as the builder makes it: real (integer for ℕ), no sign assumption."""
    symbol = sympy.Symbol(name, integer=True) if DOMAINS[domain].integer else sympy.Symbol(name, real=True)
    return symbol, VariableSpec(name, domain, (symbol,))


def decide(pairs, variables, relation="=", hypotheses=(), path=(), conditions=(), **extra):
    if not isinstance(pairs, list):
        pairs = [("value", *pairs)]
    ob = Obligation("claim", relation, pairs, hypotheses=list(hypotheses), path=list(path),
                    conditions=list(conditions), **extra)
    return decide_obligation(ob, variables)


def nonzero(e):
    return Condition("nonzero", e, origin="div")


def nonnegative(e):
    return Condition("nonnegative", e, origin="sqrt")


def power(b, e):
    return Condition("power", b, e, origin="pow")


def assert_counterexample_admissible(verdict):
    assert verdict.status == REFUTED, verdict
    ce = verdict.counterexample
    assert ce is not None and ce["difference"]["exact"] != "0"


# ------------------------------------------------------------- 1. exact decisions, no force
def test_normal_form_identity_is_proved():
    (a, va), (b, vb) = var("a"), var("b")
    v = decide(((a + b) ** 2, a**2 + 2 * a * b + b**2), [va, vb])
    assert v.status == PROVED and v.method == "normal form"


def test_square_of_sum_without_cross_term_is_refuted():
    (a, va), (b, vb) = var("a"), var("b")
    assert_counterexample_admissible(decide(((a + b) ** 2, a**2 + b**2), [va, vb]))


def test_zero_to_the_t_is_refuted_at_t_zero():
    t, vt = var("t", "natural")
    v = decide((sympy.Integer(0) ** t, sympy.Integer(0)), [vt], conditions=[power(0, t)])
    assert_counterexample_admissible(v)
    assert v.counterexample["values"]["t"]["exact"] == "0"


def test_zero_to_the_t_plus_one_is_proved():
    t, vt = var("t", "natural")
    v = decide((sympy.Integer(0) ** (t + 1), sympy.Integer(0)), [vt], conditions=[power(0, t + 1)])
    assert v.status == PROVED, v


def test_beta_zero_does_not_make_one_minus_beta_to_the_t_one():
    (b, vb), (t, vt) = var("b", "unit"), var("t", "natural")
    v = decide((1 - b**t, sympy.Integer(1)), [vb, vt], hypotheses=[Eq(b, 0)], conditions=[power(b, t)])
    assert_counterexample_admissible(v)
    assert v.counterexample["values"]["t"]["exact"] == "0"


def test_beta_zero_and_t_positive_gives_one():
    (b, vb), (t, vt) = var("b", "unit"), var("t", "natural")
    v = decide((1 - b**t, sympy.Integer(1)), [vb, vt], hypotheses=[Eq(b, 0), Ge(t, 1)], conditions=[power(b, t)])
    assert v.status == PROVED, v


def test_geometric_step_is_proved_under_proven_signs():
    (b, vb), (t, vt) = var("b", "unit"), var("t", "natural")
    v = decide((b * b**t, b ** (t + 1)), [vb, vt], conditions=[power(b, t), power(b, t + 1)])
    assert v.status == PROVED, v


def test_geometric_step_off_by_one_is_refuted():
    (b, vb), (t, vt) = var("b", "unit"), var("t", "natural")
    assert_counterexample_admissible(decide((b * b**t, b**t), [vb, vt], conditions=[power(b, t)]))


def test_sqrt_of_a_square_is_abs_for_real_g():
    g, vg = var("g")
    v = decide((sqrt(g**2), Abs(g)), [vg], conditions=[nonnegative(g**2)])
    assert v.status == PROVED, v


def test_sqrt_of_a_square_is_not_g_for_real_g():
    g, vg = var("g")
    v = decide((sqrt(g**2), g), [vg], conditions=[nonnegative(g**2)])
    assert_counterexample_admissible(v)


def test_abs_does_not_block_the_radical_rewrite():
    (g, vg), (v_, vv) = var("g"), var("v", "nonnegative")
    v = decide((sqrt(g**2 * v_), Abs(g) * sqrt(v_)), [vg, vv], conditions=[nonnegative(g**2 * v_)])
    assert v.status == PROVED, v


def test_sqrt_of_a_square_is_v_for_nonnegative_v():
    v_, vv = var("v", "nonnegative")
    assert decide((sqrt(v_**2), v_), [vv], conditions=[nonnegative(v_**2)]).status == PROVED


def test_bias_corrected_root_is_proved_without_force():
    (v_, vv), (b, vb) = var("v", "nonnegative"), var("b", "unit")
    v = decide((sqrt(v_ / (1 - b)), sqrt(v_) / sqrt(1 - b)), [vv, vb],
               conditions=[nonzero(1 - b), nonnegative(v_ / (1 - b)), nonnegative(1 - b), nonnegative(v_)])
    assert v.status == PROVED, v


def test_bias_corrected_root_is_not_proved_for_real_b():
    (v_, vv), (b, vb) = var("v", "nonnegative"), var("b")
    v = decide((sqrt(v_ / (1 - b)), sqrt(v_) / sqrt(1 - b)), [vv, vb],
               conditions=[nonzero(1 - b), nonnegative(v_ / (1 - b)), nonnegative(1 - b), nonnegative(v_)])
    assert v.status != PROVED, v


def test_sqrt_of_a_product_of_reals_is_never_proved():
    (a, va), (b, vb) = var("a"), var("b")
    v = decide((sqrt(a * b), sqrt(a) * sqrt(b)), [va, vb],
               conditions=[nonnegative(a * b), nonnegative(a), nonnegative(b)])
    assert v.status != PROVED, v


def test_a_claim_that_vanishes_at_every_sample_is_not_proved():
    a, va = var("a")
    product = sympy.Mul(*[(a - s) for s in DOMAINS["real"].samples])
    v = decide((product, sympy.Integer(0)), [va])
    assert v.status != PROVED


# ------------------------------------------------------------------- 2. every condition
def test_a_times_b_over_b_needs_b_nonzero():
    (a, va), (b, vb) = var("a"), var("b")
    v = decide(((a * b) / b, a), [va, vb], conditions=[nonzero(b)])
    assert v.status == UNKNOWN and "b ≠ 0" in v.reason and "pair 'value'" in v.reason


def test_a_times_b_over_b_with_b_nonzero_is_proved():
    (a, va), (b, vb) = var("a"), var("b")
    v = decide(((a * b) / b, a), [va, vb], hypotheses=[Ne(b, 0)], conditions=[nonzero(b)])
    assert v.status == PROVED and v.side_conditions[0]["discharged"]


def test_a_times_b_over_b_on_a_nonzero_domain_is_proved():
    (a, va), (b, vb) = var("a"), var("b", "nonzero")
    assert decide(((a * b) / b, a), [va, vb], conditions=[nonzero(b)]).status == PROVED
    (c, vc) = var("c", "negative")
    assert decide(((a * c) / c, a), [va, vc], conditions=[nonzero(c)]).status == PROVED


def test_sqrt_squared_needs_a_nonnegative_radicand():
    a, va = var("a")
    v = decide((sqrt(a) ** 2, a), [va], conditions=[nonnegative(a)])
    assert v.status == UNKNOWN and "a ≥ 0" in v.reason


def test_sqrt_squared_on_a_nonnegative_domain_is_proved():
    a, va = var("a", "nonnegative")
    assert decide((sqrt(a) ** 2, a), [va], conditions=[nonnegative(a)]).status == PROVED


def test_beta_to_t_times_beta_to_minus_t_is_not_proved():
    (b, vb), (t, vt) = var("b", "unit"), var("t", "natural")
    v = decide((b**t * b ** (-t), sympy.Integer(1)), [vb, vt], conditions=[power(b, t), power(b, -t)])
    assert v.status != PROVED, v


def test_beta_to_t_times_beta_to_minus_t_for_positive_beta_is_proved():
    (b, vb), (t, vt) = var("b", "positive"), var("t", "natural")
    v = decide((b**t * b ** (-t), sympy.Integer(1)), [vb, vt], conditions=[power(b, t), power(b, -t)])
    assert v.status == PROVED, v


def test_partial_operations_in_the_final_expression_are_demanded():
    # No recorded condition, but the sides still divide by x: x/x = 1 needs x ≠ 0.
    x, vx = var("x")
    v = decide(((x + x**2) / x, 1 + x), [vx])
    assert v.status == UNKNOWN and "x ≠ 0" in v.reason
    x, vx = var("x", "positive")
    assert decide(((x + x**2) / x, 1 + x), [vx]).status == PROVED


def test_substitution_to_zoo_is_not_proved():
    # Adam's bias correction with β1 = 1: 1/(1 − β1ᵗ) divides by 0.
    (b, vb), (t, vt), (m, vm) = var("b", "closed_unit"), var("t", "natural"), var("m")
    lhs = m / (1 - b ** (t + 1))
    v = decide((lhs, lhs), [vb, vt, vm], hypotheses=[Eq(b, 1)],
               conditions=[power(b, t + 1), nonzero(1 - b ** (t + 1))])
    assert v.status != PROVED, v
    assert "undefined" in v.reason or "not shown" in v.reason


def test_substitution_that_keeps_the_divisor_nonzero_is_proved():
    (b, vb), (t, vt), (m, vm) = var("b", "closed_unit"), var("t", "natural"), var("m")
    lhs = m / (1 - b ** (t + 1))
    v = decide((lhs * (1 - b ** (t + 1)), m), [vb, vt, vm], hypotheses=[Eq(b, R(1, 2))],
               conditions=[power(b, t + 1), nonzero(1 - b ** (t + 1))])
    assert v.status == PROVED, v


# ------------------------------------------------------------ 3. hypotheses by meaning
def test_g_nonzero_gives_abs_and_square_nonzero():
    (g, vg), (x, vx) = var("g"), var("x")
    v = decide((x * g**2 / g**2 + x * Abs(g) / Abs(g), 2 * x), [vg, vx], hypotheses=[Ne(g, 0)],
               conditions=[nonzero(g**2), nonzero(Abs(g))])
    assert v.status == PROVED, v


def test_without_g_nonzero_abs_division_is_unknown():
    (g, vg), (x, vx) = var("g"), var("x")
    v = decide((x * Abs(g) / Abs(g), x), [vg, vx], conditions=[nonzero(Abs(g))])
    assert v.status == UNKNOWN


def test_a_hypothesis_decides_a_branch():
    rho, vr = var("rho")
    pw = Piecewise((rho - 5, rho > 5), (sympy.Integer(0), True))
    assert decide((pw, rho - 5), [vr], hypotheses=[Gt(rho, 5)]).status == PROVED
    v = decide((pw, rho - 5), [vr], hypotheses=[Gt(rho, 4)])
    assert_counterexample_admissible(v)
    assert R(v.counterexample["values"]["rho"]["exact"]) > 4


def test_a_hypothesis_decides_a_sign():
    (g, vg), (x, vx) = var("g"), var("x")
    assert decide((sympy.sign(g) * x, x), [vg, vx], hypotheses=[Gt(g, 0)]).status == PROVED
    assert_counterexample_admissible(decide((sympy.sign(g) * x, x), [vg, vx], hypotheses=[Ge(g, 0)]))


def test_removable_singularity_is_not_a_decision():
    # (a² − 1)/(a − 1) > 0 decided as a + 1 > 0 would ignore a = 1, where it is undefined.
    a, va = var("a", "positive")
    e = (a**2 - 1) / (a - 1)
    pw = Piecewise((sympy.Integer(1), e > 0), (sympy.Integer(0), True))
    v = decide((pw, sympy.Integer(1)), [va])
    assert v.status != PROVED, v
    assert decide((pw, sympy.Integer(1)), [va], hypotheses=[Ne(a, 1)]).status == PROVED


def test_a_hypothesis_that_does_not_help_is_refuted_inside_it():
    a, va = var("a")
    v = decide((a, sympy.Integer(6)), [va], hypotheses=[Gt(a, 5)])
    assert_counterexample_admissible(v)
    assert R(v.counterexample["values"]["a"]["exact"]) > 5


def test_substituted_values_respect_domains_and_chains():
    (x, vx), (y, vy), (z, vz) = var("x"), var("y"), var("z")
    v = decide((x + y, 2 * z), [vx, vy, vz], hypotheses=[Eq(x, y), Eq(y, z)])
    assert v.status == PROVED, v
    assert decide((x, y), [vx, vy], hypotheses=[Eq(x, y), Eq(y, x)]).status == PROVED


def test_unknown_symbols_raise():
    (x, vx) = var("x")
    y = sympy.Symbol("y", real=True)
    with pytest.raises(ClaimError):
        decide((x, y), [vx])
    with pytest.raises(ClaimError):
        decide((x, x), [vx], hypotheses=[Gt(y, 0)])


# ------------------------------------------------------- 4. admissible counterexamples
def test_sqrt_squared_is_not_refuted_where_undefined():
    a, va = var("a")
    v = decide((sqrt(a) ** 2, Abs(a)), [va], conditions=[nonnegative(a)])
    assert v.status != REFUTED


def test_a_counterexample_makes_every_condition_hold():
    (a, va), (b, vb) = var("a"), var("b")
    v = decide((a / b, a), [va, vb], conditions=[nonzero(b)])
    assert_counterexample_admissible(v)
    assert R(v.counterexample["values"]["b"]["exact"]) != 0


def test_irrational_counterexample_is_certified():
    (v_, vv), (e, ve) = var("v", "nonnegative"), var("e", "positive")
    v = decide((sqrt(v_) + e, sqrt(v_ + e)), [vv, ve], conditions=[nonnegative(v_), nonnegative(v_ + e)])
    assert_counterexample_admissible(v)


# ---------------------------------------------- 5. contradictions and infeasible paths
def test_contradictory_hypotheses_give_a_vacuous_proof():
    (b, vb), (x, vx) = var("b", "unit"), var("x")
    data = TheoremData([vb, vx], [Obligation("claim", "=", [("x", x, x + 1)], hypotheses=[Eq(b, 1)])],
                       hypotheses=[Eq(b, 1)])
    v = decide_theorem(data)
    assert v.status == PROVED and v.vacuous and v.method.startswith("vacuous")
    v = decide((x, x + 1), [vb, vx], hypotheses=[Gt(x, 2), Lt(x, 1)])
    assert v.status == PROVED and v.vacuous


def test_consistent_hypotheses_are_not_vacuous():
    (b, vb), (x, vx) = var("b", "unit"), var("x")
    v = decide((x, x + 1), [vb, vx], hypotheses=[Eq(b, R(1, 2))])
    assert v.status == REFUTED and not v.vacuous


def test_infeasible_paths_demand_nothing():
    (mu, vm), (x, vx) = var("mu", "positive"), var("x")
    v = decide((x / mu, x + 1), [vm, vx], path=[Eq(mu, 0)], conditions=[nonzero(mu)])
    assert v.status == PROVED and v.infeasible and not v.vacuous
    rho, vr = var("rho")
    v = decide((x, x + 1), [vr, vx], hypotheses=[Gt(rho, 5)], path=[Le(rho, 5)])
    assert v.status == PROVED and v.infeasible


def test_feasible_paths_are_decided():
    (mu, vm), (x, vx) = var("mu", "nonnegative"), var("x")
    v = decide((x * mu, x), [vm, vx], path=[Eq(mu, 0)])
    assert_counterexample_admissible(v)


def test_theorem_with_paths_names_the_failing_one():
    (mu, vm), (g, vg) = var("mu", "unit"), var("g")
    on = Obligation("step", "=", [("p", mu * g + g, g)], path=[Ne(mu, 0)])
    off = Obligation("step", "=", [("p", mu * g + g, g)], path=[Eq(mu, 0)])
    v = decide_theorem(TheoremData([vm, vg], [on, off], paths=2))
    assert v.status == REFUTED and len(v.paths) == 2
    assert "Ne(mu, 0)" in v.counterexample["path"]
    on = Obligation("step", "=", [("p", mu * g + g, g + mu * g)], path=[Ne(mu, 0)])
    assert decide_theorem(TheoremData([vm, vg], [on, off], paths=2)).status == PROVED


def test_unreachable_branch_demands_nothing():
    # RAdam's rectified branch at t = 1 needs √(negative); its path is infeasible.
    t, vt = var("t", "natural")
    rho = 5 - 2 * t
    ob = Obligation("step", "=", [("p", sqrt(rho - 4), sympy.Integer(7))], path=[Gt(rho, 4)],
                    hypotheses=[Eq(t, 1)], conditions=[nonnegative(rho - 4)])
    v = decide_obligation(ob, [vt])
    assert v.status == PROVED and v.infeasible


def test_refuted_inductive_step_does_not_refute_the_theorem():
    x, vx = var("x")
    base = Obligation("base case", "=", [("m", x, x)])
    step = Obligation("inductive step", "=", [("m", x, x + 1)], refutes_theorem=False)
    v = decide_theorem(TheoremData([vx], [base, step]))
    assert v.status == UNKNOWN and "inductive step" in v.reason
    assert v.obligations[1]["verdict"] == REFUTED


# ------------------------------------------------------------------------ 6. bounds
def test_bound_terminates_on_zero_intervals():
    b, t = sympy.symbols("b t")
    env = {b: Interval(0, 0, False, False), t: Interval(0, sympy.oo, False, True)}
    for e in (b * t, b**t * t, (1 - b) * b ** (t + 1), -b * (-t), b * b):
        bound(e, env)


def test_adam_with_beta_zero_and_a_symbolic_counter_terminates():
    (b, vb), (t, vt), (g, vg) = var("b", "unit"), var("t", "natural"), var("g")
    m = (1 - b) * g
    v = decide((m / (1 - b ** (t + 1)), g), [vb, vt, vg], hypotheses=[Eq(b, 0)],
               conditions=[power(b, t + 1), nonzero(1 - b ** (t + 1))])
    assert v.status == PROVED, v


DEGENERATE = [Interval(0, 0, False, False), Interval(1, 1, False, False), Interval(-2, -2, False, False),
              Interval(0, 1, False, True), Interval(-1, 0, True, False), Interval(0, sympy.oo, True, True),
              Interval(-sympy.oo, 0, True, False), Interval(), Interval(R(-1, 2), R(3), False, False)]


def _random_expression(rng, symbols, depth=0):
    if depth > 3 or rng.random() < 0.25:
        return rng.choice(symbols + [sympy.Integer(0), sympy.Integer(1), R(1, 2), sympy.Integer(-3)])
    a = _random_expression(rng, symbols, depth + 1)
    b = _random_expression(rng, symbols, depth + 1)
    ops = [lambda: a + b, lambda: a * b, lambda: a - b, lambda: a**2, lambda: a**3, lambda: Abs(a), lambda: -a,
           lambda: a * b * a, lambda: Max(a, b), lambda: sympy.Min(a, b), lambda: sympy.Pow(a, -1),
           lambda: sqrt(Abs(a))]
    try:
        e = rng.choice(ops)()
    except ValueError:  # Max(zoo, …)
        return a
    return a if e.has(sympy.zoo, sympy.nan) else e


def _inside(i, rng):
    i = Interval(sympy.sympify(i.lo), sympy.sympify(i.hi), i.lo_open, i.hi_open)
    lo = i.lo if i.lo.is_finite else (i.hi - 5 if i.hi.is_finite else sympy.Integer(-5))
    hi = i.hi if i.hi.is_finite else lo + 5
    for _ in range(50):
        x = lo + (hi - lo) * R(rng.randint(0, 20), 20)
        if (x > i.lo or (x == i.lo and not i.lo_open)) and (x < i.hi or (x == i.hi and not i.hi_open)):
            return x
    return None


def test_bound_contains_every_value_on_degenerate_intervals():
    rng = random.Random(8)
    symbols = list(sympy.symbols("p q r"))
    checked = 0
    start = time.monotonic()
    for _ in range(400):
        env = {s: rng.choice(DEGENERATE) for s in symbols}
        e = _random_expression(rng, symbols)
        i = bound(e, env)
        for _ in range(4):
            point = {s: _inside(env[s], rng) for s in symbols}
            if None in point.values():
                continue
            try:
                value = e.xreplace(point)
            except ValueError:  # Max(zoo, …): undefined there
                continue
            if not (value.is_number and value.is_real and value.is_finite):
                continue
            above = value > i.lo or (value == i.lo and not i.lo_open)
            below = value < i.hi or (value == i.hi and not i.hi_open)
            assert above and below, (e, env, point, value, i)
            checked += 1
    assert checked > 200 and time.monotonic() - start < 60


# -------------------------------------------------------------------------- 7. for every
def test_for_every_respects_the_hypotheses():
    # g > 0: c = 1 makes c·g = |g|; it must not be REFUTED.
    (c, vc), (g, vg) = var("c"), var("g")
    v = decide((c * g, Abs(g)), [vc, vg], relation="for every", hypotheses=[Gt(g, 0)], coefficient=c, fixed=[])
    assert v.status != REFUTED, v
    assert v.status == PROVED and "c = 1" in v.method


def test_for_every_refutes_a_true_non_equivalence():
    (c, vc), (g, vg) = var("c"), var("g")
    v = decide((c * g, Abs(g)), [vc, vg], relation="for every", coefficient=c, fixed=[])
    assert v.status == REFUTED, v
    for exception in v.counterexample["exceptions"]:
        assert exception["lhs"] != exception["rhs"]


def test_for_every_with_fixed_hyperparameters():
    (c, vc), (b, vb), (g, vg), (m, vm) = var("c"), var("b", "unit"), var("g"), var("m")
    # c = 1 − b works for every g, m: not refuted; a c that may not depend on b, refuted.
    ob = dict(relation="for every", coefficient=c)
    lhs, rhs = b * m + c * g, b * m + (1 - b) * g
    assert decide((lhs, rhs), [vc, vb, vg, vm], fixed=[b], **ob).status != REFUTED
    assert decide((lhs, rhs), [vc, vb, vg, vm], fixed=["b"], **ob).status != REFUTED
    assert decide((lhs, rhs), [vc, vb, vg, vm], fixed=[], **ob).status == REFUTED


def test_for_every_unknown_fixed_names_raise():
    (c, vc), (g, vg) = var("c"), var("g")
    with pytest.raises(ClaimError):
        decide((c * g, Abs(g)), [vc, vg], relation="for every", coefficient=c, fixed=["nope"])


def test_narrow_window_is_found():
    # A two-step AdaMax-like ratio: wrong only for |g1|/|g2| in (10000/9999, 2110/2109].
    (g1, v1), (g2, v2) = var("g1"), var("g2")
    b2 = R(9999, 10000)
    u2 = Max(b2 * Abs(g1), Abs(g2))
    v = decide((u2 / Abs(g2), Max(Abs(g1), Abs(g2)) / Abs(g2)), [v1, v2],
               hypotheses=[Le(Abs(g1), R(2110, 2109) * Abs(g2)), Ne(g2, 0)], conditions=[nonzero(Abs(g2))])
    assert_counterexample_admissible(v)


# ------------------------------------------------------------------------ inequalities
def test_inequality_by_interval_bounds():
    (b, vb), (t, vt) = var("b", "unit"), var("t", "natural")
    v = decide((b ** (t + 1), sympy.Integer(1)), [vb, vt], relation="<", conditions=[power(b, t + 1)])
    assert v.status == PROVED, v


def test_inequality_that_needs_squaring():
    (x, vx), (y, vy) = var("x", "nonnegative"), var("y", "nonnegative")
    v = decide((sqrt(x + y), sqrt(x) + sqrt(y)), [vx, vy], relation="≤",
               conditions=[nonnegative(x + y), nonnegative(x), nonnegative(y)])
    assert v.status == PROVED, v
    assert "squaring" in v.method or "z3" in v.method


def test_false_inequality_is_refuted():
    (x, vx), (y, vy) = var("x", "nonnegative"), var("y", "nonnegative")
    v = decide((sqrt(x) + sqrt(y), sqrt(x + y)), [vx, vy], relation="≤",
               conditions=[nonnegative(x + y), nonnegative(x), nonnegative(y)])
    assert_counterexample_admissible(v)


def test_sum_of_squares_inequality():
    (x, vx), (y, vy) = var("x"), var("y")
    v = decide((2 * x * y, x**2 + y**2), [vx, vy], relation="≤")
    assert v.status == PROVED, v
    assert decide((2 * x * y, x**2 + y**2), [vx, vy], relation="<").status == REFUTED


def test_strict_inequality_false_at_equality_is_refuted():
    x, vx = var("x", "nonnegative")
    v = decide((sympy.Integer(0), x), [vx], relation="<")
    assert v.status == REFUTED and v.counterexample["values"]["x"]["exact"] == "0"
    assert decide((sympy.Integer(0), x), [vx], relation="≤").status == PROVED


def test_inequality_needs_its_conditions():
    x, vx = var("x")
    v = decide((sympy.Integer(0), sqrt(x)), [vx], relation="≤", conditions=[nonnegative(x)])
    assert v.status == UNKNOWN


# --------------------------------------------------------------- 8. second procedure
@pytest.mark.skipif(not z3check.AVAILABLE, reason="z3 not installed")
def test_z3_confirms_proved_equations_and_never_proves_alone():
    (a, va), (b, vb) = var("a"), var("b")
    v = decide(((a + b) ** 2, a**2 + 2 * a * b + b**2), [va, vb])
    assert v.status == PROVED and v.confirmed_by == "z3"
    # z3 would say "unsat" for x/x = 1 (guarded division), but the condition is not shown.
    v = decide(((a * b) / b, a), [va, vb], conditions=[nonzero(b)])
    assert v.status == UNKNOWN and v.confirmed_by == ""


def test_theorem_level_confirmation_and_paths():
    (a, va), (b, vb) = var("a"), var("b")
    data = TheoremData([va, vb], [Obligation("eq", "=", [("x", (a + b) ** 2, a**2 + 2 * a * b + b**2)])])
    v = decide_theorem(data)
    assert v.status == PROVED and v.paths and v.paths[0]["path"] == "the only path"
    if z3check.AVAILABLE:
        assert v.confirmed_by == "z3"


def test_for_every_split_into_paths_on_the_coefficient():
    (c, vc), (g, vg) = var("c"), var("g")

    def theorem(hypotheses):
        obs = [Obligation("no c", "for every", [("p", c * g, Abs(g))], hypotheses=hypotheses, path=[path],
                          coefficient=c, fixed=[], conditions=[nonnegative((c * g + g) ** 2)])
               for path in (Eq(c, 0), Ne(c, 0))]
        return decide_theorem(TheoremData([vc, vg], obs, paths=2, hypotheses=hypotheses))

    assert theorem([]).status == REFUTED
    # With g > 0, c = 1 works on the path c ≠ 0: "no c works" must not be REFUTED.
    assert theorem([Gt(g, 0)]).status != REFUTED


def test_signs_of_parts_discharge_a_divisor():
    # β2·v + g²·(1 − β2) ≠ 0 for g ≠ 0, v ≥ 0, β2 ∈ [0, 1): no single interval or assumption shows it.
    (b, vb), (v_, vv), (g, vg), (x, vx) = var("b", "unit"), var("v", "nonnegative"), var("g", "nonzero"), var("x")
    e = b * v_ + g**2 * (1 - b)
    assert decide((x * e / e, x), [vb, vv, vg, vx], conditions=[nonzero(e)]).status == PROVED
    (h, vh) = var("h")
    e = b * v_ + h**2 * (1 - b)
    assert decide((x * e / e, x), [vb, vv, vh, vx], conditions=[nonzero(e)]).status == UNKNOWN


def test_a_remembered_sign_answer_is_the_fresh_one_and_records_what_it_rested_on_again():
    """Knowledge answers each sign question once (the error analysis asks the same ones on every path):
    asked again, it gives the answer a fresh Knowledge gives, and records again what the answer rested
    on, which the decider demands be defined."""
    from symbolic.knowledge import Knowledge
    t, T = sympy.Symbol("t", integer=True), sympy.Symbol("T", integer=True)
    x, y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)
    symbols = {t: DOMAINS["natural"], T: DOMAINS["natural"], x: DOMAINS["real"], y: DOMAINS["positive"]}
    relations = [(t + 1 <= T, "hypothesis"), (x >= 2, "hypothesis")]
    questions = [T - t, T - t - 2, x - 1, x - 3, y * (x - 2), 1 / (x - 1) - y, sympy.sqrt(y) * (T - t), -y]
    k = Knowledge(symbols, relations)
    for _ in range(2):
        for e in questions:
            fresh = Knowledge(symbols, relations)
            assert (k.how_nonnegative(e), k.how_positive(e), k.how_nonzero(e)) == \
                (fresh.how_nonnegative(e), fresh.how_positive(e), fresh.how_nonzero(e)), e
    calls = []

    def question(e, depth):
        calls.append(e)
        k.decided.append(e)
        return "a reason"
    before = len(k.decided)
    assert k._remembered(question, x, 0) == k._remembered(question, x, 0) == "a reason"
    assert calls == [x] and k.decided[before:] == [x, x]
