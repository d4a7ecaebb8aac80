"""The SymPy expression each optimizer produces, evaluated exactly at random numeric inputs,
equals what the same function computes on NumPy float64 arrays, to within rounding.

This ties the two runs of the one definition together: what the prover reasons about is
what executes.
"""
from dataclasses import fields

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from optim import OPTIMIZERS
from symbolic import SymTensor

TENSOR_FIELDS = {"buf", "m", "v", "u"}
NONNEGATIVE_TENSORS = {"v", "u"}
HYPERPARAMETERS = {
    "lr": st.floats(0, 1),
    "momentum": st.floats(0, 0.99),
    "beta1": st.floats(0, 0.999),
    "beta2": st.floats(0, 0.9999),
    "epsilon": st.floats(1e-8, 1),
    "weight_decay": st.floats(0, 1),
    "rho": st.floats(0, 1),
    "t": st.integers(0, 50),
}


def symbolic_run(module):
    """The update run once on symbols: the input symbols, and each output's expression."""
    inputs = {}
    for f in fields(module.State):
        if f.name in TENSOR_FIELDS:
            inputs[f.name] = SymTensor.symbols(f.name, real=True)
        elif f.name == "t":
            inputs[f.name] = sympy.Symbol("t", integer=True, nonnegative=True)
        else:
            inputs[f.name] = sympy.Symbol(f.name, real=True)
    params, grads = SymTensor.symbols("params", real=True), SymTensor.symbols("grads", real=True)
    new_state, new_params = module.update(module.State(**inputs), params, grads)
    outputs = {"params": new_params.entry}
    outputs.update({k: getattr(new_state, k).entry for k in inputs if k in TENSOR_FIELDS})
    symbols = {k: (v.entry if isinstance(v, SymTensor) else v) for k, v in inputs.items()}
    symbols.update(params=params.entry, grads=grads.entry)
    return symbols, outputs


SYMBOLIC = {name: symbolic_run(module) for name, module in OPTIMIZERS.items()}


@st.composite
def numeric_inputs(draw, module, size=3):
    def vector(low):
        return np.array(draw(st.lists(st.floats(low, 10), min_size=size, max_size=size)))

    state = {}
    for f in fields(module.State):
        if f.name in TENSOR_FIELDS:
            state[f.name] = vector(0 if f.name in NONNEGATIVE_TENSORS else -10)
        else:
            state[f.name] = draw(HYPERPARAMETERS[f.name])
    return state, vector(-10), vector(-10)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_sympy_expression_equals_numpy_float64(name, data):
    module = OPTIMIZERS[name]
    symbols, outputs = SYMBOLIC[name]
    state, params, grads = data.draw(numeric_inputs(module))
    new_state, new_params = module.update(module.State(**state), params, grads)
    numeric = {"params": new_params, **{k: getattr(new_state, k) for k in outputs if k != "params"}}
    for i in range(params.size):
        entry = {**state, "params": params, "grads": grads}
        # A float is a binary rational, held exactly by a 60-digit mpmath number; evalf then
        # evaluates the exact expression to 50 correct digits (no exact-radical blow-up).
        point = {symbols[k]: sympy.Float(float(np.asarray(v)[i] if np.ndim(v) else v), 60)
                 for k, v in entry.items()}
        for output, expr in outputs.items():
            exact = float(expr.evalf(50, subs=point))
            got = float(numeric[output][i])
            scale = max(1.0, abs(exact), abs(params[i]))
            assert abs(got - exact) <= 1e-12 * scale, (output, i, got, exact)
