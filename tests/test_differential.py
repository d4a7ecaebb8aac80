"""Differential test: the NumPy classes (``optim.Adam`` …) and torch.optim, driven side by side.

A hypothesis state machine (``RuleBasedStateMachine``) picks an optimizer and one of its settings
from the conformance grid, and then applies random sequences of operations to both:

* ``step``: random float64 gradients (some entries exactly zero);
* ``set_hyperparameter``: a new ``lr`` (or ``weight_decay``) in a random param group;
* ``add_param_group``: a new parameter with its own ``lr``;
* ``save_and_load``: ``state_dict()`` loaded into a fresh optimizer over the same params (torch's
  and ours), or back into the same one;

and after every operation compares every param and every entry of ``state_dict()`` (keys,
``param_groups`` hyperparameters and state).  The tolerance is the conformance tests' ``TOL``
(2^11·u, from the rounding error analysis in ``tests/test_torch_conformance.py``), against the
largest size each tensor has had: gradients never depend on the params, so nothing feeds a
rounding difference back, and each comparison stays within that analysis.

``LayoutMachine`` does the same with params that are non-contiguous NumPy views (transposed,
sliced, strided) and also checks that the entries of the base arrays outside the views are left
alone.  After a ``load_state_dict``, NAdam and ASGD are compared within float32's TOL: torch then
casts its float32 scalar state (mu_product, eta, mu) to float64 and stops rounding it to float32,
where an uninterrupted torch run, and ours, keep rounding it.

Every optimizer of the grid takes part, Adafactor and Muon included: Muon with matrices only
(``MATRIX_SHAPES``) and torch.optim.Muon's Newton–Schulz at the param's dtype, as in the
conformance tests (``tests/_families.py``).
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule  # noqa: E402

import optim  # noqa: E402
from test_torch_conformance import GRID, TOL, torch_optimizer  # noqa: E402
from _families import matrix_only, newton_schulz_at_param_dtype  # noqa: E402

NAMES = sorted(GRID)
SHAPES = [(3, 4), (5,), (), (2, 1, 3)]
MATRIX_SHAPES = [(3, 4), (5, 2), (1, 3)]   # an optimizer that takes matrices only (Muon)
LAYOUTS = ["contiguous", "transposed", "sliced", "strided"]
SETTINGS = settings(max_examples=100, stateful_step_count=15, deadline=None,
                    suppress_health_check=list(HealthCheck))


VIEWS = {
    "contiguous": (lambda shape: shape, lambda base: base),
    "transposed": (lambda shape: shape[::-1], lambda base: base.T),
    "sliced": (lambda shape: shape[:-1] + (shape[-1] + 2,), lambda base: base[..., 1:-1]),
    "strided": (lambda shape: tuple(2 * n for n in shape), lambda base: base[tuple(slice(None, None, 2) for _ in base.shape)]),
}


def make_param(rng: np.random.Generator, shape: tuple, layout: str):
    """(the param, its base array, the view function) with the given layout (a view of the base)."""
    if not shape:
        layout = "contiguous"
    base_shape, view = VIEWS[layout]
    base = rng.standard_normal(base_shape(shape))
    return view(base), base, view


def as_float(x):
    if isinstance(x, torch.Tensor):
        return x.double().numpy() if x.dim() else float(x)
    return np.asarray(x, dtype=np.float64) if np.ndim(x) else float(x)


class DifferentialMachine(RuleBasedStateMachine):
    layouts = ["contiguous"]

    @initialize(name=st.sampled_from(NAMES), data=st.data())
    def start(self, name, data):
        self.name = name
        self.label, self.kwargs = data.draw(st.sampled_from(GRID[name]), label="setting")
        self.rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
        self.ours, self.bases, self.theirs, self.scales = [], [], [], {}
        self.loaded = False
        count = data.draw(st.integers(1, 2), label="params")
        for _ in range(count):
            self._new_param(data)
        self.opt = optim.TORCH_OPTIMIZERS[name](list(self.ours), **self.kwargs)
        self.ref = torch_optimizer(name, list(self.theirs), self.kwargs)   # foreach=False where it has it

    def _new_param(self, data):
        shapes = MATRIX_SHAPES if matrix_only(optim.TORCH_OPTIMIZERS[self.name]) else SHAPES
        shape = data.draw(st.sampled_from(shapes), label="shape")
        layout = data.draw(st.sampled_from(self.layouts), label="layout")
        p, base, view = make_param(self.rng, shape, layout)
        self.ours.append(p)
        self.bases.append((base, base.copy(), view))
        self.theirs.append(torch.tensor(p.copy()))

    # -- operations -------------------------------------------------------------------
    @rule(zero_fraction=st.sampled_from([0.0, 0.2]), scale=st.sampled_from([1e-3, 1.0, 10.0]))
    def step(self, zero_fraction, scale):
        grads = []
        for p in self.ours:
            g = np.array(scale * (self.rng.standard_normal(p.shape) + 0.3), dtype=np.float64)
            g[self.rng.random(p.shape) < zero_fraction] = 0.0
            grads.append(g)
        for base, before, _ in self.bases:   # remember the base entries outside the view
            before[...] = base
        self.opt.step([g.copy() for g in grads])
        for t, g in zip(self.theirs, grads):
            t.grad = torch.tensor(g.copy())
        with newton_schulz_at_param_dtype():
            self.ref.step()

    @rule(data=st.data(), lr=st.sampled_from([0.0, 1e-3, 0.05, 0.3]))
    def set_hyperparameter(self, data, lr):
        i = data.draw(st.integers(0, len(self.opt.param_groups) - 1), label="group")
        key = data.draw(st.sampled_from([k for k in ("lr", "weight_decay") if k in self.opt.param_groups[i]]),
                        label="key")
        value = lr if key == "lr" else data.draw(st.sampled_from([0.0, 0.1]), label="weight_decay")
        self.opt.param_groups[i][key] = value
        self.ref.param_groups[i][key] = value

    @precondition(lambda self: len(self.ours) < 4)
    @rule(data=st.data(), lr=st.sampled_from([1e-3, 0.02, 0.2]))
    def add_param_group(self, data, lr):
        self._new_param(data)
        self.opt.add_param_group({"params": [self.ours[-1]], "lr": lr})
        self.ref.add_param_group({"params": [self.theirs[-1]], "lr": lr})

    @rule(fresh=st.booleans())
    def save_and_load(self, fresh):
        ours, theirs = self.opt.state_dict(), self.ref.state_dict()
        if fresh:
            cls = optim.TORCH_OPTIMIZERS[self.name]
            self.opt = cls([{"params": g["params"]} for g in self.opt.param_groups], **self.kwargs)
            self.ref = torch_optimizer(self.name, [{"params": g["params"]} for g in self.ref.param_groups],
                                       self.kwargs)
        self.opt.load_state_dict(ours)
        self.ref.load_state_dict(theirs)
        self.loaded = True

    # -- after every operation -------------------------------------------------------------
    @invariant()
    def same_params_and_state(self):
        if not hasattr(self, "opt"):
            return
        for i, (p, t) in enumerate(zip(self.ours, self.theirs)):
            self._close(("param", i), p, t.detach())
        for base, before, view in self.bases:
            outside = np.ones(base.shape, dtype=bool)
            view(outside)[...] = False
            np.testing.assert_array_equal(base[outside], before[outside], "entries outside the view changed")
        ours, theirs = self.opt.state_dict(), self.ref.state_dict()
        assert len(ours["param_groups"]) == len(theirs["param_groups"])
        for a, b in zip(ours["param_groups"], theirs["param_groups"]):
            assert a["params"] == b["params"]
            for key, value in a.items():
                if key != "params":
                    assert key in b and (tuple(value) if isinstance(value, (tuple, list)) else value) == \
                        (tuple(b[key]) if isinstance(b[key], (tuple, list)) else b[key]), key
        assert set(ours["state"]) == set(theirs["state"]), (sorted(ours["state"]), sorted(theirs["state"]))
        for index, entry in theirs["state"].items():
            assert set(ours["state"][index]) == set(entry), (index, sorted(ours["state"][index]), sorted(entry))
            for key, value in entry.items():
                self._close((index, key), ours["state"][index][key], value)

    def _close(self, key, ours, theirs):
        a, b = as_float(ours), as_float(theirs)
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        assert a.shape == b.shape, (key, a.shape, b.shape)
        finite = np.isfinite(b)
        assert np.array_equal(np.isfinite(a), finite), key
        scale = max(self.scales.get(key, 0.0), float(np.max(np.abs(b[finite]), initial=0.0)))
        self.scales[key] = scale
        err = float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))
        # After a load_state_dict, torch casts its float32 scalar state (NAdam's mu_product, ASGD's
        # eta and mu) to the param's dtype and goes on in float64, where an uninterrupted torch run
        # (and ours, which round-trips exactly) rounds them to float32: from then on the two differ
        # by float32 roundings of those scalars, so float32's TOL applies.
        tol = TOL["float32"] if self.loaded and self.name in ("NAdam", "ASGD") else TOL["float64"]
        assert err <= tol * max(scale, np.finfo(np.float64).tiny), \
            f"{self.name}[{self.label}] {key}: error {err:.3g} over scale {scale:.3g}"


class LayoutMachine(DifferentialMachine):
    layouts = LAYOUTS


TestDifferential = DifferentialMachine.TestCase
TestDifferential.settings = SETTINGS
TestDifferentialLayouts = LayoutMachine.TestCase
TestDifferentialLayouts.settings = SETTINGS


def test_stateless_sgd_state_dict_has_no_entries():
    """SGD without momentum has no state: no entry in state_dict()["state"], as in torch."""
    p = np.ones(3)
    opt = optim.SGD([p], lr=0.05)
    opt.step([np.ones(3)])
    t = torch.ones(3, dtype=torch.float64)
    t.grad = torch.ones(3, dtype=torch.float64)
    ref = torch.optim.SGD([t], lr=0.05)
    ref.step()
    assert opt.state_dict()["state"] == ref.state_dict()["state"] == {}
