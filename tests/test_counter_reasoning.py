"""The decider's reasoning about counters (ℕ variables: steps, periods, milestones), which the
schedule theorems need: integer arithmetic (z3 over the integers, floors included), cosines at
multiples of π, cos decreasing on [0, π].  Each true statement is PROVED and each nearby false
one is not — REFUTED where a counterexample exists — and mixing in a real never borrows the
integers' facts.
"""
import pytest
import sympy
from sympy import Eq, Ge, Gt, Le, Lt, Ne, cos, floor, pi

from optim import lr_scheduler
from proofs.harness import Given, Theorem, build_theorem, equation, induction, inequality
from symbolic import PROVED, REFUTED, UNKNOWN, decide_obligation, decide_theorem, z3check
from symbolic.domains import DOMAINS
from symbolic.obligation import Condition, Obligation, VariableSpec

NATURAL = DOMAINS["natural"]


def var(name, domain="real"):
    symbol = sympy.Symbol(name, integer=True) if DOMAINS[domain].integer else sympy.Symbol(name, real=True)
    return symbol, VariableSpec(name, domain, (symbol,))


def decide(lhs, rhs, variables, relation="=", hypotheses=(), path=(), conditions=()):
    ob = Obligation("claim", relation, [("value", lhs, rhs)], hypotheses=list(hypotheses), path=list(path),
                    conditions=list(conditions))
    return decide_obligation(ob, variables)


t, t_spec = var("t", "natural")
s, s_spec = var("s", "natural")
x, x_spec = var("x", "real")
k, k_spec = var("k", "natural")


# ------------------------------------------------------------------ integer arithmetic
def test_no_integer_lies_strictly_between_two_consecutive_ones():
    assert z3check.integer_unsat({t: NATURAL, s: NATURAL}, [Lt(t, s), Ge(t + 1, s), Ne(t + 1, s)])


def test_a_real_strictly_between_is_not_contradictory():
    """The same relations with a real x in place of t: the integer check leaves them out."""
    reals = {x: DOMAINS["real"], s: NATURAL}
    assert not z3check.integer_unsat(reals, [Lt(x, s), Ge(x + 1, s), Ne(x + 1, s)])
    verdict = decide(x, x + 1, [x_spec, s_spec], path=[Lt(x, s), Ge(x + 1, s), Ne(x + 1, s)])
    assert verdict.status == REFUTED and not verdict.infeasible


def test_a_path_contradictory_only_over_the_integers_is_infeasible():
    verdict = decide(t, t + 1, [t_spec, s_spec], path=[Lt(t, s), Ge(t + 1, s), Ne(t + 1, s)])
    assert verdict.status == PROVED and verdict.infeasible and "integer" in verdict.method


def test_a_min_of_counters_is_decided_from_a_strict_fact():
    """t + 1 ≤ s gives min(t, s) = t over the integers (over the reals too: t < s)."""
    assert decide(sympy.Min(t, s), t, [t_spec, s_spec], hypotheses=[Le(t + 1, s)]).status == PROVED
    assert decide(sympy.Min(t, s), t, [t_spec, s_spec], hypotheses=[Le(t, s + 1)]).status == REFUTED


# ------------------------------------------------------------------------------ floors
def test_floors_that_the_path_ties_together_are_rewritten():
    not_a_multiple = Ne(t + 1 - s * floor((t + 1) / s), 0)
    a_multiple = Eq(t + 1 - s * floor((t + 1) / s), 0)
    hyp = [Ge(s, 1)]
    assert decide(floor((t + 1) / s), floor(t / s), [t_spec, s_spec], hypotheses=hyp,
                  path=[not_a_multiple]).status == PROVED
    assert decide(floor((t + 1) / s), floor(t / s) + 1, [t_spec, s_spec], hypotheses=hyp,
                  path=[a_multiple]).status == PROVED


@pytest.mark.parametrize("path", ["none", "the other one"])
def test_floors_are_not_tied_without_the_fact_or_with_the_wrong_one(path):
    hyp = [Ge(s, 1)]
    facts = [] if path == "none" else [Eq(t + 1 - s * floor((t + 1) / s), 0)]
    verdict = decide(floor((t + 1) / s), floor(t / s), [t_spec, s_spec], hypotheses=hyp, path=facts)
    assert verdict.status == REFUTED


def test_a_floor_the_facts_fix_is_a_number_and_a_free_one_is_not():
    hyp = [Ge(s, 2)]
    assert decide(floor(1 / s), 0, [s_spec], hypotheses=hyp).status == PROVED
    assert decide(floor(t / s), 0, [t_spec, s_spec], hypotheses=hyp).status == REFUTED


# ----------------------------------------------------------------------------- cosines
def test_a_cosine_at_an_odd_multiple_of_pi_is_minus_one_and_at_an_even_one_is_one():
    odd = [Eq(t - s - 2 * s * floor((t - s) / (2 * s)), 0)]
    even = [Eq(t - 2 * s * floor(t / (2 * s)), 0)]
    variables, hyp = [t_spec, s_spec], [Ge(s, 1)]
    assert decide(cos(pi * t / s), -1, variables, hypotheses=hyp, path=odd).status == PROVED
    assert decide(cos(pi * (t + 1) / s), -cos(pi / s), variables, hypotheses=hyp, path=odd).status == PROVED
    assert decide(cos(pi * t / s), 1, variables, hypotheses=hyp, path=even).status == PROVED
    assert decide(cos(pi * t / s), 1, variables, hypotheses=hyp, path=odd).status != PROVED
    assert decide(cos(pi * t / s), -1, variables, hypotheses=hyp).status == REFUTED


def test_one_plus_a_cosine_is_nonzero_only_off_the_odd_multiples():
    """(1 + cos(πt/s))/(1 + cos(πt/s)) = 1 needs the divisor ≠ 0: shown when t is no odd
    multiple of s, not shown (UNKNOWN, never PROVED) otherwise."""
    divisor = 1 + cos(pi * t / s)
    claim = (divisor * divisor ** -1, sympy.Integer(1))
    condition = [Condition("nonzero", divisor, origin="div")]
    off = [Ne(t - s - 2 * s * floor((t - s) / (2 * s)), 0)]
    variables, hyp = [t_spec, s_spec], [Ge(s, 1)]
    assert decide(*claim, variables, hypotheses=hyp, path=off, conditions=condition).status == PROVED
    assert decide(*claim, variables, hypotheses=hyp, conditions=condition).status == UNKNOWN
    even = [Ne(t - 2 * s * floor(t / (2 * s)), 0)]     # the wrong parity does not help
    assert decide(*claim, variables, hypotheses=hyp, path=even, conditions=condition).status == UNKNOWN


def test_cos_is_decreasing_on_zero_to_pi_and_not_past_it():
    variables = [t_spec, s_spec]
    step_down = (cos(pi * (t + 1) / s), cos(pi * t / s))
    assert decide(*step_down, variables, relation="≤", hypotheses=[Ge(s, 1), Le(t + 1, s)]).status == PROVED
    assert decide(*step_down, variables, relation="<", hypotheses=[Ge(s, 1), Le(t + 1, s)]).status == PROVED
    assert decide(*step_down, variables, relation="≤", hypotheses=[Ge(s, 1), Le(t + 1, 2 * s)]).status == REFUTED
    assert decide(*step_down, variables, relation="≤", hypotheses=[Ge(s, 1)]).status == REFUTED


# --------------------------------------------------------------- schedule theorems, wrong
def run(build):
    return decide_theorem(build_theorem(Theorem("Counter.theorem", "", PROVED, build, "a schedule claim", __name__)))


def schedule_induction(x: Given, closed, recursive, *hyperparameters):
    from proofs.theorems.lr_scheduler import Schedule
    base_lr, steps = x.positive("base_lr"), x.natural("t")
    return induction(initial=Schedule(closed(base_lr, 0, *hyperparameters), 0), counter=steps, counter_field="last_epoch",
                     step=lambda q: Schedule(recursive(q.lr, q.last_epoch + 1, base_lr, *hyperparameters),
                                             q.last_epoch + 1),
                     invariant=lambda n: {"lr": closed(base_lr, n, *hyperparameters)})


def test_a_step_schedule_off_by_one_is_refuted():
    """⌊(t + 1)/s⌋ in place of ⌊t/s⌋: already wrong at the first step when s = 1."""
    def off_by_one(base_lr, step, step_size, gamma):
        return lr_scheduler.step_lr_closed(base_lr, step + 1, step_size, gamma)

    def build(x: Given):
        step_size = x.natural("step_size")
        x.assume(step_size >= 1)
        return schedule_induction(x, off_by_one, lr_scheduler.step_lr_recursive, step_size, x.positive("gamma"))
    assert run(build).status == REFUTED


def test_a_cosine_schedule_without_torch_s_restart_branch_is_not_proved():
    """Only the ratio of cosines, also at the step after a minimum (0/0 there): not PROVED."""
    def ratio_only(lr, step, base_lr, T_max, eta_min):
        m = lr_scheduler._math(lr, step, base_lr, T_max, eta_min)
        return ((1 + m.cos(m.pi * step / T_max)) / (1 + m.cos(m.pi * (step - 1) / T_max)) * (lr - eta_min)
                + eta_min)

    def build(x: Given):
        T_max = x.natural("T_max")
        x.assume(T_max >= 1)
        return schedule_induction(x, lr_scheduler.cosine_annealing_lr_closed, ratio_only, T_max,
                                  x.nonnegative("eta_min"))
    assert run(build).status != PROVED


def test_a_linear_warmup_that_decreases_is_not_non_decreasing():
    def build(x: Given):
        base_lr, start, end = x.positive("base_lr"), x.positive("start"), x.positive("end")
        total, t = x.natural("total"), x.natural("t")
        x.assume(total >= 1)
        closed = lr_scheduler.linear_lr_closed
        return inequality(closed(base_lr, t, start, end, total), closed(base_lr, t + 1, start, end, total))
    assert run(build).status == REFUTED


def test_a_cosine_schedule_stays_above_eta_min_only_when_eta_min_is_below_base_lr():
    def build(x: Given):
        base_lr, eta_min, T_max, t = x.positive("base_lr"), x.nonnegative("eta_min"), x.natural("T_max"), x.natural("t")
        x.assume(T_max >= 1)
        return inequality(eta_min, lr_scheduler.cosine_annealing_lr_closed(base_lr, t, T_max, eta_min))
    assert run(build).status == REFUTED


def test_the_exact_equation_of_a_schedule_at_a_step_is_checked_not_sampled():
    """cos(π·t/T) at t = T/2 is 0: the closed form there is (base + η)/2, and 1/1000 off is refuted."""
    def build(x: Given, offset):
        base_lr, eta_min, T_max = x.positive("base_lr"), x.nonnegative("eta_min"), x.natural("T_max")
        x.assume(T_max >= 1)
        lr = lr_scheduler.cosine_annealing_lr_closed(base_lr, T_max, 2 * T_max, eta_min)
        return equation(lr, (base_lr + eta_min) / 2 + offset)
    assert run(lambda x: build(x, 0)).status == PROVED
    assert run(lambda x: build(x, sympy.Rational(1, 1000))).status == REFUTED


# ------------------------------------------------------------------------ a norm that is 0
def test_a_sum_of_squares_that_is_zero_makes_every_base_zero():
    """√(a² + b²) = 0 gives a = b = 0 (what LARS's zero-norm branch needs); a² − b² = 0 and
    a² + b² = 1 give nothing of the kind."""
    (a, va), (b, vb) = var("a"), var("b")
    norm_zero = [Eq(sympy.sqrt(a**2 + b**2), 0)]
    assert decide(a * x, 0, [va, vb, x_spec], path=norm_zero).status == PROVED
    assert decide(3 * b, 0, [va, vb], path=[Eq(2 * a**2 + 5 * b**2, 0)]).status == PROVED
    assert decide(a, 0, [va, vb], path=[Eq(a**2 - b**2, 0)]).status == REFUTED
    assert decide(a, 0, [va, vb], path=[Eq(a**2 + b**2, 1)]).status == REFUTED


# ------------------------------------------------------------------ equalities: a Gröbner basis
kappa, kappa_spec = var("kappa")
varsigma, varsigma_spec = var("varsigma")
ROTATION = [Eq(kappa**2 + varsigma**2, 1)]


@pytest.mark.parametrize("lhs, rhs", [
    (kappa**4 + 2 * kappa**2 * varsigma**2 + varsigma**4, 1),          # (κ² + ς²)² = 1
    (kappa**3 + kappa * varsigma**2, kappa),                           # κ·(κ² + ς²) = κ
    ((kappa**3 + kappa * varsigma**2) / (1 + x**2), kappa / (1 + x**2)),   # a denominator apart
])
def test_a_consequence_of_the_equalities_is_proved(lhs, rhs):
    verdict = decide(lhs, rhs, [kappa_spec, varsigma_spec, x_spec], hypotheses=ROTATION)
    assert verdict.status == PROVED, verdict.reason
    assert "Gröbner" in verdict.method


@pytest.mark.parametrize("lhs, rhs", [
    (kappa**2 - varsigma**2, 1),          # not in the ideal: κ = 0, ς = 1 breaks it
    (kappa, 1),
    (kappa**4 + varsigma**4, 1),
])
def test_what_the_equalities_do_not_imply_is_not_proved(lhs, rhs):
    verdict = decide(lhs, rhs, [kappa_spec, varsigma_spec], hypotheses=ROTATION)
    assert verdict.status != PROVED


def test_without_the_equality_the_ideal_step_proves_nothing():
    verdict = decide(kappa**3 + kappa * varsigma**2, kappa, [kappa_spec, varsigma_spec])
    assert verdict.status == REFUTED


def test_a_root_stated_nonzero_makes_its_radicand_nonzero():
    y, y_spec = var("y", "nonnegative")
    divisor = [Condition("nonzero", y, origin="div")]   # 1 = y/y, where y ≠ 0
    verdict = decide(1, 1, [y_spec], hypotheses=[Ne(sympy.sqrt(y), 0)], conditions=divisor)
    assert verdict.status == PROVED, verdict.reason
    assert decide(1, 1, [y_spec], hypotheses=[Ne(sympy.sqrt(y) + 1, 0)], conditions=divisor).status != PROVED


def test_an_order_between_two_variables_carries_their_bounds():
    from symbolic.domains import DOMAINS
    from symbolic.knowledge import Knowledge
    x, y, lr = sympy.symbols("x y lr")
    symbols = {x: DOMAINS["real"], y: DOMAINS["real"], lr: DOMAINS["positive"]}
    assert Knowledge(symbols, [(x > lr, "path")]).how_positive(x)             # lr_max > lr > 0
    assert Knowledge(symbols, [(y >= x, "path"), (x > lr, "path")]).how_positive(y)    # along a chain
    assert not Knowledge(symbols, [(x >= y, "path")]).how_positive(x)         # y may be negative
    assert not Knowledge(symbols, [(x < lr, "path")]).how_positive(x)         # below, not above
    bounded = Knowledge(symbols, [(x < lr, "path"), (lr <= 1, "hypothesis")])
    assert (bounded.intervals[x].hi, bounded.intervals[x].hi_open) == (1, True)    # x < lr ≤ 1
    assert not bounded.how_positive(-x)
    assert Knowledge(symbols, [(x > lr, "path"), (x < 0, "path")]).contradiction is not None
