"""The SymPy expression each optimizer produces, evaluated at 200 bits (mpmath) at random numeric inputs,
equals what the same function computes on NumPy float64 arrays, to within rounding.

This ties the two runs of the one definition together: what the prover reasons about is what
executes.  Every optimizer is checked under every combination of its boolean options, from an
arbitrary state (random buffers, step counter and hyperparameters).

torch keeps a few internal scalars in float32 (NAdam's μ product, ASGD's η and μ); the NumPy
run reproduces that rounding and the reals do not, so here that one rounding is switched off.
"""
import functools
import itertools
from dataclasses import fields, replace

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optim import OPTIMIZERS, fields as declared
from optim.numpy_backend import NUMPY
from symbolic.tensor import SymTensor
from symbolic.tensor import SymScalar
from symbolic.paths import explore

# From the declarations (optim.fields): which fields are flags, which buffers are ≥ 0.
FLAGS = {n for m in OPTIMIZERS.values() for n in declared.declarations(m.State).of(declared.FLAG)}
NONNEGATIVE_TENSORS = {n for m in OPTIMIZERS.values() for n, d in declared.declarations(m.State).of(declared.BUFFER).items()
                       if d.domain == "nonnegative"}
RANGES = {
    "lr": (0, 1), "momentum": (0.01, 0.99), "dampening": (0, 1), "weight_decay": (0, 1),
    "beta1": (0, 0.999), "beta2": (0, 0.9999), "epsilon": (1e-8, 1), "rho": (0, 1),
    "lr_decay": (0, 1), "alpha": (0, 0.99), "momentum_decay": (0, 0.1), "etaminus": (0.1, 0.9),
    "etaplus": (1.1, 2), "step_size_min": (1e-6, 1e-3), "step_size_max": (1, 50), "lambd": (0, 0.1),
    "t0": (0, 100), "eta": (0, 1), "mu": (0, 1), "mu_product": (0, 1),
    "r": (0, 2), "weight_lr_power": (0, 3), "weight_sum": (0, 10), "lr_max": (-1, 1),
}
# ℕ fields (t, schedule-free's k and warmup_steps): integers, and integer symbols.
NATURALS = {n for m in OPTIMIZERS.values() for n, d in declared.declarations(m.State).fields.items()
            if d.domain == "natural"}
MOMENTUM_OPTIONS = {"SGD": {"momentum": 0.9}, "RMSprop": {"momentum": 0.9}}


def configurations():
    for name, module in OPTIMIZERS.items():
        if getattr(module, "REDUCES", False):
            # A norm, a mean or a matrix product over the tensor: one generic entry cannot stand
            # for it (LARS and LAMB are checked against Optax's definition, Adafactor and Muon
            # against torch.optim, and all four by theorems).
            continue
        if name in ("SGDScheduleFree", "AdamWScheduleFree"):
            # Left out: evaluating their expressions (powers (k + 1)^r · lr_max^p of drawn reals) at
            # 50 digits ran past 2 minutes and 20 GB on some draws (AdamW's on every run).  They
            # are compared with schedulefree in tests/test_schedule_free.py and proved in the report.
            continue
        flags = [f.name for f in fields(module.State) if f.name in FLAGS]
        if name == "SGD":  # torch's first momentum step (buffer = g) and the later ones
            flags.append("later_step")
        for values in itertools.product([False, True], repeat=len(flags)):
            config = dict(zip(flags, values))
            if config.get("nesterov") is True:
                config["dampening"] = 0.0
            yield name, config


CONFIGS = list(configurations())


def _init(name, params, config):
    options = {k: v for k, v in config.items() if k != "later_step"}
    state = OPTIMIZERS[name].init(params, **options, **MOMENTUM_OPTIONS.get(name, {}))
    return replace(state, buf=params * 0) if config.get("later_step") else state


def symbolic_run(name, config):
    """The update on symbols from an arbitrary state, on every execution path: the input
    symbols, and for each path its branch conditions and output expressions."""
    found = {}
    paths = explore(lambda: _symbolic_outputs(name, config, found))
    return found["symbols"], [(path.conditions, path.result) for path in paths]


def _symbolic_outputs(name, config, found):
    module = OPTIMIZERS[name]
    base = _init(name, SymTensor.symbols("params", real=True), config)
    symbols, values = {}, {}
    for f in fields(base):
        value = getattr(base, f.name)
        if f.name in config or isinstance(value, bool) or value is None:
            continue
        if isinstance(value, SymTensor):
            values[f.name] = SymTensor.symbols(f.name, real=True)
            symbols[f.name] = values[f.name].entry
        else:
            assumptions = {"integer": True, "nonnegative": True} if f.name in NATURALS else {"real": True}
            values[f.name] = SymScalar.symbol(f.name, **assumptions)
            symbols[f.name] = values[f.name].expr
    params, grads = SymTensor.symbols("params", real=True), SymTensor.symbols("grads", real=True)
    new_state, new_params = module.update(replace(base, **values), params, grads)
    outputs = {"params": new_params.entries[0]}
    outputs.update({k: getattr(new_state, k) for k in values})
    outputs = {k: (v.entries[0] if isinstance(v, SymTensor) else v) for k, v in outputs.items()}
    symbols.update(params=params.entry, grads=grads.entry)
    found["symbols"] = symbols
    return {k: getattr(v, "expr", v) for k, v in outputs.items()}


@st.composite
def numeric_state(draw, name, config, size=3):
    def vector(low):
        # No magnitudes below 1e-30: products of those underflow in floats (Rprop's g·prev
        # would lose its sign), a difference of floats from the reals, not of the two runs.
        entries = st.floats(low, 10).map(lambda x: 0.0 if abs(x) < 1e-30 else x)
        return np.array(draw(st.lists(entries, min_size=size, max_size=size)))

    base = _init(name, np.zeros(size), config)
    values = {}
    for f in fields(base):
        value = getattr(base, f.name)
        if f.name in config or isinstance(value, bool) or value is None:
            continue
        if isinstance(value, np.ndarray):
            values[f.name] = vector(0 if f.name in NONNEGATIVE_TENSORS else -10)
        elif f.name in NATURALS:
            values[f.name] = draw(st.integers(0, 50))
        else:   # no subnormal hyperparameter either: Lion's β1 = 5e-324 times m = 0.5 underflows to 0,
            # and sign(0) is not sign(2.5e-324) — floats against the reals, not the two runs
            values[f.name] = draw(st.floats(*RANGES[f.name]).map(lambda x: 0.0 if abs(x) < 1e-30 else x))
    if config.get("centered"):
        # The new centered variance is ≥ α·(v − ḡ²): keep it away from 0, where √ is
        # ill-conditioned (there float64 and the reals differ by far more than rounding).
        values["alpha"] = max(values["alpha"], 0.1)
        values["square_avg"] = values["square_avg"] + values["grad_avg"] ** 2 + 1
    return replace(base, **values), vector(-10), vector(-10)


@pytest.mark.parametrize("name,config", CONFIGS,
                         ids=[f"{n}-" + "-".join(k for k, v in c.items() if v is True) for n, c in CONFIGS])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sympy_expression_equals_numpy_float64(name, config, data, monkeypatch):
    monkeypatch.setattr(NUMPY, "round_float32", lambda x: x)  # the same for every example
    module = OPTIMIZERS[name]
    symbols, paths = SYMBOLIC[(name, tuple(sorted(config.items())))]
    state, params, grads = data.draw(numeric_state(name, config))
    outputs = _the_path_taken(paths, symbols, state)
    new_state, new_params = module.update(state, params, grads)
    numeric = {"params": new_params, **{k: getattr(new_state, k) for k in outputs if k != "params"}}
    order = list(symbols)
    for i in range(params.size):
        entry = {**{k: getattr(state, k) for k in symbols if k not in ("params", "grads")},
                 "params": params, "grads": grads}
        # A float is a binary rational, held exactly by a 200-bit mpmath number; the expression
        # is then evaluated at 200 bits (60 digits), far past the 1e-10 compared below.
        point = [mpmath.mpf(float(np.asarray(entry[k])[i] if np.ndim(entry[k]) else entry[k])) for k in order]
        for output, expr in outputs.items():
            with mpmath.workprec(200):
                exact = float(_evaluator(expr, tuple(symbols[k] for k in order))(*point))
            got = float(np.asarray(numeric[output])[i] if np.ndim(numeric[output]) else numeric[output])
            scale = max(1.0, abs(exact), abs(params[i]))
            # 1e-10, not 1e-12: centered RMSprop's v − ḡ² cancels and amplifies rounding.
            assert abs(got - exact) <= 1e-10 * scale, (output, i, got, exact)


@functools.lru_cache(maxsize=None)
def _evaluator(expr, arguments):
    """The expression as an mpmath function of the input symbols, built once per path (evalf
    with substitutions, at every point, took most of this file's minute)."""
    return sympy.lambdify(arguments, sympy.sympify(expr), modules="mpmath")


def _the_path_taken(paths, symbols, state):
    """The outputs of the one path whose branch conditions hold at the numeric state."""
    point = {symbols[k]: sympy.Rational(float(getattr(state, k))) for k in symbols
             if k not in ("params", "grads") and not isinstance(getattr(state, k), np.ndarray)}
    taken = [outputs for conditions, outputs in paths
             if all(c.xreplace(point) is sympy.true for c in conditions)]
    assert len(taken) == 1, f"{len(taken)} paths hold at {point}: {[c for c, _ in paths]}"
    return taken[0]


SYMBOLIC = {(name, tuple(sorted(config.items()))): symbolic_run(name, config)
            for name, config in CONFIGS}
