"""Invalid input is rejected before anything is computed.

Hyperparameters: ValueError with torch.optim's exact wording, both through ``init`` and
through constructing ``State`` directly.  Layout: mismatched shapes raise ValueError,
mismatched or non-float dtypes and non-arrays raise TypeError, and a failed update leaves
its inputs unchanged.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from conftest import SEED_BUFFERS as BUFFERS
from optim import adadelta, adafactor, adam, adamw, momentum_sgd, muon, sgd


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


# Valid keyword arguments of every State constructor, for a given params array.
def sgd_state(p, **kw):
    return sgd.State(**{"lr": 0.1, **kw})


def momentum_state(p, **kw):
    return momentum_sgd.State(**{"lr": 0.1, "momentum": 0.9, "buf": np.zeros_like(p), **kw})


def adam_state(p, **kw):
    base = dict(lr=0.1, beta1=0.9, beta2=0.999, epsilon=1e-8,
                m=np.zeros_like(p), v=np.zeros_like(p), t=0)
    return adam.State(**{**base, **kw})


def adamw_state(p, **kw):
    base = dict(lr=0.1, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=1e-2,
                m=np.zeros_like(p), v=np.zeros_like(p), t=0)
    return adamw.State(**{**base, **kw})


def adadelta_state(p, **kw):
    base = dict(lr=1.0, rho=0.9, epsilon=1e-6, v=np.zeros_like(p), u=np.zeros_like(p))
    return adadelta.State(**{**base, **kw})


MODULES = {
    "SGD": (sgd, sgd_state),
    "MomentumSGD": (momentum_sgd, momentum_state),
    "Adam": (adam, adam_state),
    "AdamW": (adamw, adamw_state),
    "Adadelta": (adadelta, adadelta_state),
}

# (optimizers it applies to, keyword, bad value, torch.optim's message)
BAD_HYPERPARAMETERS = [
    (list(MODULES), "lr", -1.0, "Invalid learning rate: -1.0"),
    (list(MODULES), "lr", -0.001, "Invalid learning rate: -0.001"),
    (list(MODULES), "lr", float("nan"), "Invalid learning rate: nan"),
    (list(MODULES), "lr", np.nan, "Invalid learning rate: nan"),
    (["Adam", "AdamW"], "beta1", 1.0, "Invalid beta parameter at index 0: 1.0"),
    (["Adam", "AdamW"], "beta1", -0.1, "Invalid beta parameter at index 0: -0.1"),
    (["Adam", "AdamW"], "beta2", 1.0, "Invalid beta parameter at index 1: 1.0"),
    (["Adam", "AdamW"], "beta2", -0.1, "Invalid beta parameter at index 1: -0.1"),
    (["Adam", "AdamW", "Adadelta"], "epsilon", -1e-8, "Invalid epsilon value: -1e-08"),
    (["AdamW"], "weight_decay", -0.1, "Invalid weight_decay value: -0.1"),
    (["MomentumSGD"], "momentum", -0.5, "Invalid momentum value: -0.5"),
    (["Adadelta"], "rho", 1.5, "Invalid rho value: 1.5"),
    (["Adadelta"], "rho", -0.1, "Invalid rho value: -0.1"),
]
CASES = [
    pytest.param(name, key, value, message, id=f"{name}-{key}={value}")
    for names, key, value, message in BAD_HYPERPARAMETERS
    for name in names
]


@pytest.mark.parametrize("name,key,value,message", CASES)
def test_bad_hyperparameter_via_init(name, key, value, message):
    module, _ = MODULES[name]
    p = np.ones(3)
    with pytest.raises(ValueError, match=exactly(message)):
        module.init(p, **{key: value})
    assert_array_equal(p, np.ones(3))


@pytest.mark.parametrize("name,key,value,message", CASES)
def test_bad_hyperparameter_via_state(name, key, value, message):
    _, make_state = MODULES[name]
    with pytest.raises(ValueError, match=exactly(message)):
        make_state(np.ones(3), **{key: value})


@pytest.mark.parametrize("name", MODULES)
def test_boundary_hyperparameters_are_accepted(name):
    # torch accepts lr = 0, eps = 0, beta = 0, momentum = 0, weight_decay = 0, rho in {0, 1}.
    module, make_state = MODULES[name]
    p = np.ones(3)
    extra = {
        "SGD": [{}],
        "MomentumSGD": [{"momentum": 0.0}],
        "Adam": [{"beta1": 0.0, "beta2": 0.0, "epsilon": 0.0}],
        "AdamW": [{"beta1": 0.0, "beta2": 0.0, "epsilon": 0.0, "weight_decay": 0.0}],
        "Adadelta": [{"rho": 0.0, "epsilon": 0.0}, {"rho": 1.0}],
    }[name]
    for kw in extra:
        module.init(p, lr=0.0, **kw)
        make_state(p, lr=0.0, **kw)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_bad_step_count(name):
    _, make_state = MODULES[name]
    with pytest.raises(ValueError, match=re.escape("Invalid step count: -1")):
        make_state(np.ones(3), t=-1)
    with pytest.raises(ValueError, match=re.escape("Invalid step count: 1.5")):
        make_state(np.ones(3), t=1.5)


# ---------------------------------------------------------------------------------------
# Layout: shapes, dtypes, non-arrays.  A failed update leaves every input unchanged.
# ---------------------------------------------------------------------------------------


def snapshot(state, name, *arrays):
    return [a.copy() for a in arrays] + [getattr(state, b).copy() for b in BUFFERS[name]]


def assert_unchanged(before, state, name, *arrays):
    after = list(arrays) + [getattr(state, b) for b in BUFFERS[name]]
    assert len(before) == len(after)
    for old, new in zip(before, after):
        assert_array_equal(new, old)
        assert new.dtype == old.dtype


def started(name, p, g):
    """A state after one good step, so its buffers are not all zero."""
    module, _ = MODULES[name]
    state, p = module.update(module.init(p, lr=0.1), p, g)
    return state, p


def refused(name, state, p, g, error):
    """The update of ``state`` on p, g raises ``error`` and leaves all three unchanged; its message."""
    module, _ = MODULES[name]
    before = snapshot(state, name, p, g)
    with pytest.raises(error) as info:
        module.update(state, p, g)
    assert_unchanged(before, state, name, p, g)
    return str(info.value)


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize(
    "p_shape,g_shape", [((2,), (3,)), ((3,), (2,)), ((2, 3), (3, 2)), ((2, 3), (6,))]
)
def test_grads_of_another_shape(name, p_shape, g_shape):
    p = np.linspace(-1.0, 1.0, int(np.prod(p_shape))).reshape(p_shape)
    state, p = started(name, p, np.full(p_shape, 0.5))
    message = refused(name, state, p, np.full(g_shape, 0.25), ValueError)
    assert str(p_shape) in message and str(g_shape) in message, message
    assert "grads" in message


@pytest.mark.parametrize("name", [n for n in MODULES if BUFFERS[n]])
@pytest.mark.parametrize("state_shape,p_shape", [((3,), (2,)), ((2, 2), (4,)), ((1, 3), (3, 1))])
def test_state_of_another_shape(name, state_shape, p_shape):
    state, _ = started(name, np.ones(state_shape), np.full(state_shape, 0.5))
    message = refused(name, state, np.ones(p_shape), np.full(p_shape, 0.5), ValueError)
    assert str(state_shape) in message and str(p_shape) in message, message
    assert BUFFERS[name][0] in message


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize(
    "p_dtype,g_dtype", [(np.float32, np.float64), (np.float64, np.float32)]
)
def test_grads_of_another_dtype(name, p_dtype, g_dtype):
    state, p = started(name, np.ones(3, p_dtype), np.full(3, 0.5, p_dtype))
    message = refused(name, state, p, np.full(3, 0.5, g_dtype), TypeError)
    assert np.dtype(p_dtype).name in message and np.dtype(g_dtype).name in message, message


@pytest.mark.parametrize("name", [n for n in MODULES if BUFFERS[n]])
@pytest.mark.parametrize(
    "state_dtype,p_dtype", [(np.float64, np.float32), (np.float32, np.float64)]
)
def test_state_of_another_dtype(name, state_dtype, p_dtype):
    state, _ = started(name, np.ones(3, state_dtype), np.full(3, 0.5, state_dtype))
    message = refused(name, state, np.ones(3, p_dtype), np.full(3, 0.5, p_dtype), TypeError)
    assert np.dtype(p_dtype).name in message and np.dtype(state_dtype).name in message, message


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("int_dtype", [np.int64, np.int32])
def test_integer_arrays_are_rejected(name, int_dtype):
    module, _ = MODULES[name]
    match = re.escape("must be a float32 or float64 array")
    # Integer params (the state itself is built for float params of the same shape).
    state = module.init(np.zeros(3), lr=0.1)
    p_int, g = np.array([1, 2, 3], dtype=int_dtype), np.full(3, 0.5)
    before = snapshot(state, name, p_int, g)
    with pytest.raises(TypeError, match=match):
        module.update(state, p_int, g)
    assert_unchanged(before, state, name, p_int, g)
    # Integer grads with float params.
    p, g_int = np.ones(3), np.array([1, 0, -1], dtype=int_dtype)
    before = snapshot(state, name, p, g_int)
    with pytest.raises(TypeError, match=match):
        module.update(state, p, g_int)
    assert_unchanged(before, state, name, p, g_int)


@pytest.mark.parametrize("name", [n for n in MODULES if BUFFERS[n]])
def test_integer_params_rejected_by_update_even_with_integer_state(name):
    module, _ = MODULES[name]
    p = np.array([1, 2, 3])
    state = module.init(p)  # integer zero buffers
    with pytest.raises(TypeError, match=re.escape("must be a float32 or float64 array")):
        module.update(state, p, np.array([1, 1, 1]))


@pytest.mark.parametrize("name", MODULES)
def test_python_list_params_are_rejected(name):
    module, _ = MODULES[name]
    state = module.init(np.zeros(3), lr=0.1)
    params, grads = [1.0, 2.0, 3.0], np.full(3, 0.5)
    before = snapshot(state, name, grads)
    with pytest.raises(TypeError):
        module.update(state, params, grads)
    assert params == [1.0, 2.0, 3.0]
    assert_unchanged(before, state, name, grads)
    # A list of grads with array params is rejected as well.
    p = np.ones(3)
    with pytest.raises(TypeError):
        module.update(state, p, [0.5, 0.5, 0.5])
    assert_array_equal(p, np.ones(3))


@pytest.mark.parametrize("name", [n for n in MODULES if BUFFERS[n]])
def test_python_list_params_rejected_by_init(name):
    module, _ = MODULES[name]
    with pytest.raises(TypeError):
        module.init([1.0, 2.0, 3.0])


# ---------------------------------------------------------------------------------------
# NumPy scalar hyperparameters must not upcast float32 params (NEP 50).
# ---------------------------------------------------------------------------------------

NP64_HYPER = {
    "SGD": {"lr": np.float64(0.1)},
    "MomentumSGD": {"lr": np.float64(0.1), "momentum": np.float64(0.9)},
    "Adam": {"lr": np.float64(0.1), "beta1": np.float64(0.9), "beta2": np.float64(0.999),
             "epsilon": np.float64(1e-8)},
    "AdamW": {"lr": np.float64(0.1), "beta1": np.float64(0.9), "beta2": np.float64(0.999),
              "epsilon": np.float64(1e-8), "weight_decay": np.float64(0.01)},
    "Adadelta": {"lr": np.float64(1.0), "rho": np.float64(0.9), "epsilon": np.float64(1e-6)},
}
# name -> (module, the buffers of a 2×2 param, NumPy float64 hyperparameters): the seed's five, and
# Adafactor (row and column factors; ε1 given, its default is the params' machine epsilon) and Muon.
NP64_FAMILIES = {name: (MODULES[name][0], BUFFERS[name], hyper) for name, hyper in NP64_HYPER.items()}
NP64_FAMILIES["Adafactor"] = (adafactor, ("row_var", "col_var"), {
    "lr": np.float64(0.1), "beta2_decay": np.float64(-0.8), "epsilon1": np.float64(1e-30),
    "epsilon2": np.float64(1e-3), "d": np.float64(1.5), "weight_decay": np.float64(0.1)})
NP64_FAMILIES["Muon"] = (muon, ("buf",), {
    "lr": np.float64(0.1), "weight_decay": np.float64(0.1), "momentum": np.float64(0.9), "a": np.float64(3.4445),
    "b": np.float64(-4.775), "c": np.float64(2.0315), "epsilon": np.float64(1e-7)})


@pytest.mark.parametrize("name", NP64_FAMILIES)
def test_numpy_float64_hyperparameters_do_not_upcast(name):
    module, buffers, hyper = NP64_FAMILIES[name]
    p = np.array([[1.0, -2.0], [0.5, 0.0]], dtype=np.float32)
    g = np.array([[0.5, -1.0], [0.0, 2.0]], dtype=np.float32)
    state = module.init(p, **hyper)
    for _ in range(3):
        state, p = module.update(state, p, g)
        assert p.dtype == np.float32
        for b in buffers:
            assert getattr(state, b).dtype == np.float32, b
    # Same numbers as with Python floats.
    ref_state = module.init(np.array([[1.0, -2.0], [0.5, 0.0]], dtype=np.float32),
                            **{k: float(v) for k, v in hyper.items()})
    ref_p = np.array([[1.0, -2.0], [0.5, 0.0]], dtype=np.float32)
    for _ in range(3):
        ref_state, ref_p = module.update(ref_state, ref_p, g)
    assert_array_equal(p, ref_p)


@pytest.mark.parametrize("name", MODULES)
def test_numpy_float64_lr_in_state_does_not_upcast(name):
    module, make_state = MODULES[name]
    p = np.ones(3, dtype=np.float32)
    state = make_state(p, lr=np.float64(0.1))
    new_state, new_p = module.update(state, p, np.full(3, 0.5, dtype=np.float32))
    assert new_p.dtype == np.float32
    for b in BUFFERS[name]:
        assert getattr(new_state, b).dtype == np.float32, b
