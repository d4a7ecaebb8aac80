"""Every default and every initial state equals torch.optim 2.13's, read from torch itself.

* Defaults: each functional ``init``'s keyword defaults, each NumPy class's (``optim.Adam`` …)
  and each torch backend class's ``defaults`` equal the defaults of
  ``inspect.signature(torch.optim.X.__init__)``, through the explicit name mapping ``TORCH_NAMES``
  (torch's ``betas`` is the functional ``beta1``, ``beta2``; ``eps`` is ``epsilon``; …).  A
  functional argument torch does not have, or a torch hyperparameter we lack, fails the test.
* Positional arguments: ``X(params, a, b, …)`` binds the same names as torch's positional
  parameters, in torch's order.
* Initial states: torch creates state lazily, at the first step, so the initial state is read
  off torch's state after one step: a zero-gradient step (which leaves most buffers at their
  initial values: Adagrad's sum, Rprop's step sizes, …) and a random-gradient step, from torch's
  defaults (no hyperparameter given on either side) and from non-default settings; every state
  entry (step counters, NAdam's μ product, ASGD's eta/mu/ax, Rprop's prev and step_size, …) and
  the params are compared in float64, through the functional ``init`` + ``update``, the NumPy class
  and the torch backend.  The initial values themselves are checked against torch's formulas too.
"""
from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import optim  # noqa: E402
from optim import torch_backend  # noqa: E402
from optim.stateful import TORCH_EXECUTION_OPTIONS, TORCH_OPTIMIZERS  # noqa: E402
from _families import matrix_only, newton_schulz_at_param_dtype  # noqa: E402

# torch's argument -> the functional init's arguments (the explicit mapping, not the library's own).
TORCH_NAMES = {
    "betas": ("beta1", "beta2"),
    "eps": ("epsilon",),
    "etas": ("etaminus", "etaplus"),
    "step_sizes": ("step_size_min", "step_size_max"),
}
# Where one optimizer's torch argument is another's: Adafactor's eps is the pair (ε1, ε2), Muon's
# ns_coefficients the Newton–Schulz polynomial's a, b, c.
FAMILY_TORCH_NAMES = {
    "Adafactor": {"eps": ("epsilon1", "epsilon2")},
    "Muon": {"ns_coefficients": ("a", "b", "c")},
}
NAMES = list(TORCH_OPTIMIZERS)
FAMILIES = {name: optim.OPTIMIZERS[name] for name in NAMES}
# Non-default settings for the initial-state runs (every option that creates or shapes state).
SETTINGS = {
    "SGD": [dict(momentum=0.9), dict(momentum=0.9, dampening=0.3, weight_decay=0.1)],
    "Adam": [dict(amsgrad=True), dict(weight_decay=0.1, decoupled_weight_decay=True)],
    "AdamW": [dict(amsgrad=True)],
    "Adadelta": [dict(rho=0.5, weight_decay=0.1)],
    "Adagrad": [dict(initial_accumulator_value=0.5, lr_decay=0.1), dict(initial_accumulator_value=2.0)],
    "RMSprop": [dict(centered=True, momentum=0.9)],
    "Adamax": [dict(betas=(0.8, 0.9), weight_decay=0.1)],
    "NAdam": [dict(momentum_decay=0.1), dict(betas=(0.5, 0.9))],
    "RAdam": [dict(betas=(0.9, 0.5))],
    "Rprop": [dict(lr=0.3, etas=(0.3, 1.5)), dict(step_sizes=(0.02, 0.05))],
    "ASGD": [dict(lr=0.3, lambd=0.1, alpha=0.5), dict(t0=0.0)],
    "Adafactor": [dict(weight_decay=0.1, maximize=True), dict(eps=(1e-20, 1e-3), d=1.5, beta2_decay=-0.5),
                  dict(lr=1.0, eps=(None, 0.0))],
    "Muon": [dict(nesterov=False, weight_decay=0.0), dict(adjust_lr_fn="match_rms_adamw", ns_steps=3, momentum=0.5),
             dict(adjust_lr_fn="original", ns_coefficients=(2.0, -1.5, 0.5), eps=1e-3, ns_steps=2)],
}


def param_shape(name: str) -> tuple:
    """The shape of the param the construction tests build: a vector, or a matrix for a family
    that takes matrices only (Muon)."""
    return (3, 2) if matrix_only(FAMILIES[name]) else (3,)


def torch_defaults(name: str) -> dict:
    """torch.optim.X's hyperparameters and defaults, from its signature (execution options left out)."""
    signature = inspect.signature(getattr(torch.optim, name).__init__)
    return {k: p.default for k, p in signature.parameters.items()
            if k not in ("self", "params") and k not in TORCH_EXECUTION_OPTIONS}


def functional(settings: dict, name: str) -> dict:
    out = {}
    for key, value in settings.items():
        names = FAMILY_TORCH_NAMES.get(name, {}).get(key) or TORCH_NAMES.get(key, (key,))
        values = tuple(value) if len(names) > 1 else (value,)
        assert len(values) == len(names), key
        out.update(zip(names, values))
    return out


def same(a, b) -> bool:
    if any(x is None or isinstance(x, (bool, str)) for x in (a, b)):   # a flag, None (ε1, adjust_lr_fn), a name
        return type(a) is type(b) and a == b
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return float(a) == float(b)


@pytest.mark.parametrize("name", NAMES)
def test_functional_init_defaults_equal_torch(name):
    ours = {k: p.default for k, p in inspect.signature(FAMILIES[name].init).parameters.items() if k != "params"}
    theirs = functional(torch_defaults(name), name)
    assert set(ours) == set(theirs), f"init arguments differ: ours {sorted(ours)}, torch {sorted(theirs)}"
    for key, value in theirs.items():
        assert same(ours[key], value), f"{name}.init default {key} = {ours[key]!r}, torch's is {value!r}"


def test_momentum_sgd_lr_default_is_torch_sgd():
    # MomentumSGD (TorchLean's) has no torch class; its lr default is torch.optim.SGD's.
    assert inspect.signature(optim.momentum_sgd.init).parameters["lr"].default == torch_defaults("SGD")["lr"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("where", ["numpy", "torch_backend"])
def test_class_defaults_equal_torch(name, where):
    cls = TORCH_OPTIMIZERS[name] if where == "numpy" else torch_backend.OPTIMIZERS[name]
    declared = dict(cls.defaults if where == "numpy" else cls.defaults_)
    theirs = torch_defaults(name)
    assert set(declared) == set(theirs), f"hyperparameters differ: ours {sorted(declared)}, torch {sorted(theirs)}"
    for key, value in theirs.items():
        assert same(declared[key], value), f"{name} default {key} = {declared[key]!r}, torch's is {value!r}"
    # What an instance built with no hyperparameter actually holds.
    shape = param_shape(name)
    if where == "numpy":
        opt = cls([np.zeros(shape)])
    else:
        opt = cls([torch.zeros(shape, dtype=torch.float64)])
    group = opt.param_groups[0]
    for key, value in theirs.items():
        assert same(group[key], value), f"{name}'s param group {key} = {group[key]!r}, torch's is {value!r}"
    reference = getattr(torch.optim, name)([torch.zeros(shape, dtype=torch.float64)])
    for key in theirs:
        assert same(group[key], reference.param_groups[0][key]), key


@pytest.mark.parametrize("name", NAMES)
def test_positional_arguments_bind_as_in_torch(name):
    """opt(params, a, b, …) binds torch's positional parameters, in torch's order."""
    signature = inspect.signature(getattr(torch.optim, name).__init__)
    positional = [k for k, p in signature.parameters.items()
                  if p.kind is p.POSITIONAL_OR_KEYWORD and k not in ("self", "params")]
    cut = [i for i, k in enumerate(positional) if k in TORCH_EXECUTION_OPTIONS]
    prefix = positional[:cut[0]] if cut else positional
    assert prefix[0] == "lr"
    assert list(TORCH_OPTIMIZERS[name].defaults)[:len(prefix)] == prefix
    values = [torch_defaults(name)[k] for k in prefix]
    opt = TORCH_OPTIMIZERS[name]([np.zeros(param_shape(name))], *values)
    for key, value in zip(prefix, values):
        assert same(opt.param_groups[0][key], value)


@pytest.mark.parametrize("name", NAMES)
def test_a_positional_argument_past_torchs_is_refused(name):
    """One positional argument more than torch's positional hyperparameters must not be bound to
    one of our keyword-only hyperparameters (``maximize``, …): torch raises TypeError or takes it
    as an execution option (``foreach``), never as a hyperparameter."""
    signature = inspect.signature(getattr(torch.optim, name).__init__)
    positional = [k for k, p in signature.parameters.items()
                  if p.kind is p.POSITIONAL_OR_KEYWORD and k not in ("self", "params")]
    cut = [i for i, k in enumerate(positional) if k in TORCH_EXECUTION_OPTIONS]
    prefix = positional[:cut[0]] if cut else positional
    values = [torch_defaults(name)[k] for k in prefix] + [True]
    with pytest.raises(TypeError):
        TORCH_OPTIMIZERS[name]([np.zeros(param_shape(name))], *values)


# --------------------------------------------------------------------------------------------
# Initial states
# --------------------------------------------------------------------------------------------
def torch_state(opt, p) -> dict:
    return {k: (v.double().numpy().copy() if isinstance(v, torch.Tensor) and v.dim() else
                float(v)) for k, v in opt.state[p].items()}


def our_entries(state, state_names) -> dict:
    out = {}
    for torch_name, field in state_names.items():
        value = getattr(state, field)
        if value is not None:
            out[torch_name] = np.array(value, dtype=np.float64) if np.ndim(value) else float(value)
    return out


def assert_close(ours, theirs, what):
    assert set(ours) == set(theirs), f"{what}: state entries {sorted(ours)} vs torch's {sorted(theirs)}"
    for key in theirs:
        a, b = np.asarray(ours[key], dtype=np.float64), np.asarray(theirs[key], dtype=np.float64)
        assert a.shape == np.shape(b) or a.size == 1, (what, key)
        scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13 * scale, err_msg=f"{what}: {key}")


CASES = [(name, {}) for name in NAMES] + [(name, s) for name in NAMES for s in SETTINGS[name]]


@pytest.mark.parametrize("grad_kind", ["zero", "random"])
@pytest.mark.parametrize("name,settings", [pytest.param(n, s, id=f"{n}-{s}") for n, s in CASES])
def test_initial_state_after_one_step_equals_torch(name, settings, grad_kind):
    rng = np.random.default_rng(len(name) + len(str(settings)))
    p0 = rng.standard_normal((3, 2))
    g = np.zeros_like(p0) if grad_kind == "zero" else rng.standard_normal((3, 2))
    g[0, 0] = 0.0

    tp = torch.tensor(p0.copy())
    tp.grad = torch.tensor(g.copy())
    single_tensor = {"foreach": False} if "foreach" in inspect.signature(getattr(torch.optim, name)).parameters else {}
    reference = getattr(torch.optim, name)([tp], **settings, **single_tensor)   # (Muon has no foreach)
    with newton_schulz_at_param_dtype():   # torch's Muon at float64, not bfloat16 (tests/_families.py)
        reference.step()
    theirs = torch_state(reference, tp)
    state_names = TORCH_OPTIMIZERS[name].state_names

    # the functional init (no hyperparameter but the settings) and update
    family = FAMILIES[name]
    init_state = family.init(p0.copy(), **functional(settings, name))
    new_state, p1 = family.update(init_state, p0.copy(), g.copy())
    assert_close(our_entries(new_state, state_names), theirs, f"{name}.update(init(...))")
    np.testing.assert_allclose(p1, tp.numpy(), rtol=0, atol=1e-13, err_msg="params")

    # the NumPy class
    p = p0.copy()
    opt = TORCH_OPTIMIZERS[name]([p], **settings)
    opt.step([g.copy()])
    assert_close(our_entries(opt.state[0], state_names), theirs, f"optim.{name}")
    np.testing.assert_allclose(p, tp.numpy(), rtol=0, atol=1e-13, err_msg="params")

    # the torch backend
    bp = torch.tensor(p0.copy())
    bp.grad = torch.tensor(g.copy())
    backend = torch_backend.OPTIMIZERS[name]([bp], **settings)
    backend.step()
    assert_close(torch_state(backend, bp), theirs, f"torch_backend.{name}")
    np.testing.assert_allclose(bp.numpy(), tp.numpy(), rtol=0, atol=1e-13, err_msg="params")


def test_initial_values_are_torchs():
    """The values torch's lazy state initialisation writes (torch/optim/*.py, ``_init_group``)."""
    p = np.full((2, 2), 3.0)
    zeros = np.zeros_like(p)
    for name in ("Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "Adadelta", "RMSprop", "Rprop", "ASGD",
                 "Adafactor"):
        assert FAMILIES[name].init(p).t == 0, name          # torch: state["step"] = tensor(0.0)
    s = optim.adam.init(p, amsgrad=True)
    for buf in (s.m, s.v, s.v_max):
        np.testing.assert_array_equal(buf, zeros)
    s = optim.adamax.init(p)
    np.testing.assert_array_equal(s.m, zeros)
    np.testing.assert_array_equal(s.u, zeros)               # exp_inf = zeros
    s = optim.nadam.init(p)
    assert s.mu_product == 1.0                              # mu_product = tensor(1.0)
    s = optim.adagrad.init(p, initial_accumulator_value=0.25)
    np.testing.assert_array_equal(s.sum, np.full_like(p, 0.25))   # full_like(p, init_value)
    s = optim.rprop.init(p, lr=0.03)
    np.testing.assert_array_equal(s.prev, zeros)            # prev = zeros
    np.testing.assert_array_equal(s.step_size, np.full_like(p, 0.03))  # step_size = full_like(grad, lr)
    s = optim.asgd.init(p, lr=0.1)
    assert s.eta == float(np.float32(0.1))                  # eta = tensor(lr) (default dtype float32)
    assert s.mu == 1.0                                      # mu = ones(())
    np.testing.assert_array_equal(s.ax, zeros)              # ax = zeros_like(p)
    s = optim.rmsprop.init(p, centered=True, momentum=0.5)
    for buf in (s.square_avg, s.grad_avg, s.momentum_buffer):
        np.testing.assert_array_equal(buf, zeros)
    s = optim.adadelta.init(p)
    np.testing.assert_array_equal(s.v, zeros)
    np.testing.assert_array_equal(s.u, zeros)
    assert optim.sgd.init(p, momentum=0.9).buf is None      # created from the first gradient
    s = optim.adafactor.init(np.full((2, 3), 3.0))          # row_var = new_zeros(shape[:-1] + (1,)),
    np.testing.assert_array_equal(s.row_var, np.zeros((2, 1)))   # col_var = new_zeros(shape[:-2] + (1, n))
    np.testing.assert_array_equal(s.col_var, np.zeros((1, 3)))
    assert s.variance is None                               # a matrix has no variance ...
    s = optim.adafactor.init(np.full(4, 3.0))
    np.testing.assert_array_equal(s.variance, np.zeros(4))  # ... a vector: variance = zeros_like(grad)
    assert s.row_var is None and s.col_var is None
    np.testing.assert_array_equal(optim.muon.init(p).buf, zeros)   # momentum_buffer = zeros_like(grad)
    assert math.isclose(optim.momentum_sgd.init(p).momentum, 0.9)
