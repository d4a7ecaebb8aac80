"""Symbolic execution sees everything the executed code does.

Every partial operation records its definedness before SymPy simplifies it away; a Python
float enters as its exact binary value before any arithmetic; every branch on a symbolic
value is a path; NumPy functions, shapes and truth values refuse what they cannot mean for
every shape.  Each test here is a way a false PROVED was once obtained (issue 8).
"""
import math
from dataclasses import replace

import numpy as np
import pytest
import sympy

from optim import _shared, adam, adamw, radam, sgd
from symbolic.obligation import NONNEGATIVE, NONZERO, POWER, Condition
from symbolic.paths import BranchError, explore
from symbolic.tensor import SYMPY, NotElementwise, SymbolicValueError, SymScalar, SymTensor

R = sympy.Rational


def scalar(name, **assumptions):
    return SymScalar.symbol(name, real=True, **assumptions)


def entry(tensor):
    """The generic entry, read for inspection (``.entry`` refuses a tensor with conditions)."""
    return tensor.entries[0]


def kinds(value):
    return {(c.kind, c.expr) for c in value.conditions}


# ------------------------------------------------------------- partial operations recorded
def test_a_divisor_cancelled_by_sympy_is_still_recorded():
    a, b = scalar("a"), scalar("b")
    quotient = (a * b) / b
    assert quotient.expr == a.expr  # SymPy cancelled it...
    assert (NONZERO, b.expr) in kinds(quotient)  # ...but b ≠ 0 was recorded first


def test_a_scalar_root_records_its_radicand():
    a = scalar("a")
    squared = SYMPY.sqrt(a) ** 2
    assert squared.expr == a.expr
    assert (NONNEGATIVE, a.expr) in kinds(squared)


def test_a_tensor_negative_power_records_its_base():
    p = SymTensor.symbols("p", real=True)
    one = p * p**-1
    assert entry(one) == 1
    assert (NONZERO, p.entry) in kinds(one)


def test_a_symbolic_exponent_records_a_power_condition():
    beta, t = scalar("beta"), SymScalar.symbol("t", integer=True)
    one = beta**t * beta ** (-t)
    assert one.expr == 1
    assert {c for c in one.conditions if c.kind == POWER} == {
        Condition(POWER, beta.expr, t.expr, "pow"), Condition(POWER, beta.expr, -t.expr, "pow")}


def test_fractional_powers_record_nonnegative_and_nonzero_bases():
    x = scalar("x")
    assert kinds(x ** R(1, 2)) == {(NONNEGATIVE, x.expr)}
    assert kinds(x ** R(-1, 2)) == {(NONNEGATIVE, x.expr), (NONZERO, x.expr)}
    assert kinds(x**2) == set()


def test_conditions_travel_through_every_later_operation():
    a, b = scalar("a"), scalar("b")
    later = SYMPY.maximum(SYMPY.abs((a / b) * 0 + 1), 2) - 3
    assert (NONZERO, b.expr) in kinds(later)


# ----------------------------------------------------------------------- floats are exact
def test_a_float_becomes_its_binary_value_before_any_arithmetic():
    lr = scalar("lr")
    r = R(*(0.1).as_integer_ratio())
    assert (lr * 0.1 * 3).expr == lr.expr * 3 * r
    assert (lr * 0.1 * 3).expr != lr.expr * R(*(0.30000000000000004).as_integer_ratio())


def test_hyperparameters_given_as_floats_are_adopted_exactly_by_update():
    params, grads = SymTensor.symbols("p", real=True), SymTensor.symbols("g", real=True)
    state = adamw.init(params, lr=1e-3, weight_decay=1e-17)
    assert isinstance(state.lr, SymScalar)
    decayed = explore(lambda: _shared.weight_decay(params, grads, state.lr, state.weight_decay, True)[0])
    factor = entry(decayed[0].result) / params.entry
    assert factor != 1  # 1 − 1e-3·1e-17 in floats is 1.0; over the reals it is not
    assert factor == 1 - R(*(1e-3).as_integer_ratio()) * R(*(1e-17).as_integer_ratio())


def test_nan_and_infinity_have_no_exact_value():
    with pytest.raises(ValueError):
        scalar("a") * float("nan")
    with pytest.raises(ValueError):
        scalar("a") + math.inf


def test_raw_sympy_expressions_with_symbols_are_refused():
    a = scalar("a")
    # sympy.sqrt(a)**2 is already the bare symbol a: nothing shows the root was there.
    for raw in (sympy.sqrt(a.expr) ** 2, a.expr * 2, a.expr):
        with pytest.raises(SymbolicValueError, match="raw SymPy expression"):
            scalar("b") + raw
    with pytest.raises(SymbolicValueError, match="Float"):
        scalar("b") * sympy.Float(0.1)


# ----------------------------------------------------- NumPy and shapes cannot be fooled
@pytest.mark.parametrize("call", [np.mean, np.sum, np.linalg.norm, np.asarray,
                                  lambda g: np.dot(g, g), np.sqrt, lambda g: np.maximum(g, 0)])
def test_numpy_functions_refuse_symbolic_tensors(call):
    g = SymTensor.symbols("g", real=True)
    with pytest.raises(TypeError):
        call(g)


def test_numpy_functions_refuse_explicit_tensors_too():
    g = SymTensor.symbols("g", (2,), real=True)
    with pytest.raises(TypeError):
        np.mean(g)


@pytest.mark.parametrize("call", [float, int, math.sqrt, math.exp, round])
def test_symbolic_values_have_no_concrete_value(call):
    with pytest.raises(TypeError):
        call(scalar("a"))


def test_a_generic_tensor_has_no_concrete_shape():
    g = SymTensor.symbols("g", real=True)
    shape = SYMPY.shape(g)
    assert shape == SYMPY.shape(SymTensor.symbols("p", real=True))  # same arbitrary shape
    with pytest.raises(NotElementwise):
        len(shape)
    with pytest.raises(NotElementwise):
        shape[0]
    with pytest.raises(NotElementwise):
        len(g)
    with pytest.raises(NotElementwise):
        list(g)


def test_comparing_a_tensor_is_elementwise_and_has_no_truth_value():
    g = SymTensor.symbols("g", real=True)
    equal = g == 0
    assert isinstance(equal, SymTensor) and equal.entry == sympy.Eq(g.entry, 0)
    with pytest.raises(NotElementwise):
        bool(equal)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(SymTensor.symbols("h", (2,), real=True) > 0)


def test_explicit_shapes_support_reductions():
    g = SymTensor.symbols("g", (2,), real=True)
    assert (g * g).sum().expr == g.entries[0] ** 2 + g.entries[1] ** 2
    assert g[1].expr == g.entries[1]
    with pytest.raises(NotElementwise):
        SymTensor.symbols("h", real=True).sum()


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError):
        SymTensor.symbols("a", (2,), real=True) + SymTensor.symbols("b", real=True)


# ------------------------------------------------------------------------------ branches
def test_a_branch_on_a_symbol_runs_both_ways():
    params, grads = SymTensor.symbols("p", real=True), SymTensor.symbols("g", real=True)
    lr, momentum = scalar("lr"), scalar("mu")
    paths = explore(lambda: sgd.update(sgd.State(lr=lr, momentum=momentum), params, grads)[1])
    by_condition = {tuple(p.conditions): entry(p.result) for p in paths}
    assert by_condition == {
        (sympy.Ne(momentum.expr, 0),): params.entry - grads.entry * lr.expr,  # first step: buf = g
        (sympy.Eq(momentum.expr, 0),): params.entry - grads.entry * lr.expr,
    }


def test_later_momentum_steps_differ_by_path():
    params, grads, buf = (SymTensor.symbols(n, real=True) for n in ("p", "g", "b"))
    lr, momentum, dampening = scalar("lr"), scalar("mu"), scalar("tau")
    state = sgd.State(lr=lr, momentum=momentum, dampening=dampening, buf=buf)
    paths = explore(lambda: sgd.update(state, params, grads)[1])
    results = {tuple(p.conditions): sympy.expand(entry(p.result)) for p in paths}
    p, g, b = params.entry, grads.entry, buf.entry
    assert results[(sympy.Eq(momentum.expr, 0),)] == sympy.expand(p - lr.expr * g)
    assert results[(sympy.Ne(momentum.expr, 0),)] == sympy.expand(
        p - lr.expr * (momentum.expr * b + (1 - dampening.expr) * g))


def test_a_repeated_condition_forks_once():
    a = scalar("a")

    def steps():
        return sum(1 for _ in range(10) if a != 0)

    assert sorted(p.result for p in explore(steps)) == [0, 10]


def test_the_definedness_of_a_branch_condition_is_recorded_on_its_path():
    a = scalar("a")
    paths = explore(lambda: 1 if (a * a - 1) / (a - 1) > 0 else 0)
    assert all((NONZERO, a.expr - 1) in {(c.kind, c.expr) for c in p.definedness} for p in paths)


def test_too_many_paths_is_an_error_not_a_silent_cut():
    values = [scalar(f"a{i}") for i in range(8)]
    with pytest.raises(BranchError, match="paths"):
        explore(lambda: [bool(v > 0) for v in values], max_paths=64)


def test_a_branch_outside_an_exploration_is_refused():
    with pytest.raises(BranchError):
        bool(scalar("a") > 0)


def test_select_is_a_branch_with_each_path_keeping_its_own_conditions():
    a = scalar("a")
    paths = explore(lambda: SYMPY.select(a > 0, lambda: SYMPY.sqrt(a), lambda: a * 0))
    positive = next(p for p in paths if p.conditions == [sympy.Gt(a.expr, 0)])
    other = next(p for p in paths if p.conditions == [sympy.Le(a.expr, 0)])
    assert (NONNEGATIVE, a.expr) in kinds(positive.result)
    assert (NONNEGATIVE, a.expr) not in kinds(other.result)


def test_where_keeps_both_sides_definedness_as_numpy_evaluates_both():
    g = SymTensor.symbols("g", real=True)
    chosen = SYMPY.where(g > 0, 1 / g, g)
    assert entry(chosen) == sympy.Piecewise((1 / g.entry, g.entry > 0), (g.entry, True))
    assert (NONZERO, g.entry) in kinds(chosen)


# -------------------------------------------------------------------- the functional API
def test_update_refuses_another_optimizers_state():
    params = np.zeros(3)
    with pytest.raises(TypeError, match="radam.update needs a optim.radam.State"):
        radam.update(adam.init(params), params, np.ones(3))


def test_states_are_adopted_but_not_changed_in_place():
    params = SymTensor.symbols("p", real=True)
    state = replace(adam.State(lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, m=params * 0, v=params * 0, t=0))
    assert isinstance(state.lr, float)  # the caller's state is never mutated
    new_state, _ = adam.update(state, params, params)
    assert isinstance(new_state.lr, SymScalar) and new_state.lr.expr == R(*(1e-3).as_integer_ratio())


def _explored_with_domains(body, **domains):
    """explore(body) where each named symbol was declared with a domain (as Given does)."""
    from symbolic.domains import DOMAINS
    from symbolic.paths import note_domain
    symbols = {name: scalar(name) for name in domains}

    def run():
        for name, domain in domains.items():
            note_domain(symbols[name].expr, DOMAINS[domain].interval)
        return body(**symbols)
    return explore(run)


def test_a_branch_its_domains_decide_does_not_fork():
    # schedule-free's warmup test k < warmup_steps with warmup_steps = 0: no natural k takes it
    paths = _explored_with_domains(lambda k: "warmup" if k < 0 else "after", k="natural")
    assert [(p.result, p.conditions) for p in paths] == [("after", [])]
    paths = _explored_with_domains(lambda lr, k: "pos" if lr * (k + 1) > 0 else "not", lr="positive", k="natural")
    assert [p.result for p in paths] == ["pos"]
    assert [p.result for p in _explored_with_domains(lambda mu: 1 if mu == 0 else 2, mu="positive")] == [2]


def test_a_branch_its_domains_leave_open_still_forks():
    assert sorted(p.result for p in _explored_with_domains(lambda k: 1 if k < 1 else 2, k="natural")) == [1, 2]
    assert sorted(p.result for p in _explored_with_domains(lambda b: 1 if b > 0 else 2, b="unit")) == [1, 2]
    assert sorted(p.result for p in _explored_with_domains(lambda x: 1 if x * x > 0 else 2, x="real")) == [1, 2]
    # a symbol without a declared domain: nothing is decided for it
    other = scalar("other")
    assert sorted(p.result for p in _explored_with_domains(lambda k: 1 if k + other < 0 else 2, k="natural")) == [1, 2]
