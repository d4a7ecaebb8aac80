"""Lion (``optim.lion``) against its reference implementation, lucidrains' ``lion-pytorch``
(a test extra; torch.optim has no Lion), and against hand-derived values.

lion-pytorch computes ``p·(1 − lr·λ) − lr·sign(β1·m + (1 − β1)·g)`` and
``m ← β2·m + (1 − β2)·g`` as ours does; its vectorised CPU kernels fuse the multiply-adds where
NumPy rounds each operation, so the two agree to rounding, measured as in the torch.optim
conformance tests (``test_torch_conformance``: the normwise relative error of the params and of
every state entry, tolerance 2^11·u), on the NumPy classes and on the torch backend (eager and
compiled).  lion-pytorch has no ``maximize``: ours with it on g is compared with it on −g.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import optim

try:
    import torch
    from lion_pytorch import Lion as ReferenceLion
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("torch and lion-pytorch are test extras (make test installs them)", allow_module_level=True)

from test_torch_conformance import TOL, compare, make_problem  # noqa: E402

STEPS = 60
CHECKPOINTS = (1, 2, 5, 20, 40)
GRID = [
    ("default", dict()),
    ("lr", dict(lr=0.01)),
    ("weight_decay", dict(lr=0.01, weight_decay=0.5)),
    ("betas", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1)),
    ("sign_descent", dict(lr=0.01, betas=(0.0, 0.99))),
]


def ours_numpy(params, kwargs, execution):
    arrays = [p.copy() for p in params]
    opt = optim.Lion(arrays, execution=execution, **kwargs)
    return arrays, opt, lambda grads: opt.step([g.copy() for g in grads])


def ours_torch(params, kwargs, execution):
    from optim import torch_backend
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = torch_backend.Lion(tensors, execution=execution, **kwargs)

    def step(grads):
        for t, g in zip(tensors, grads):
            t.grad = torch.tensor(g.copy())
        opt.step()
    return tensors, opt, step


RUNNERS = {"numpy-workspace": lambda p, k: ours_numpy(p, k, "workspace"),
           "numpy-functional": lambda p, k: ours_numpy(p, k, "functional"),
           "torch-eager": lambda p, k: ours_torch(p, k, "eager")}


def run(runner, kwargs: dict, dtype, maximize: bool = False) -> dict:
    """The worst normwise error of every tensor over the checkpoints, ours against lion-pytorch."""
    params, grads = make_problem(sum(map(ord, repr(sorted(kwargs.items())))) + maximize, dtype, STEPS)
    mine, ours, step = runner(params, dict(kwargs, maximize=True) if maximize else kwargs)
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    theirs = ReferenceLion(tparams, **kwargs)
    worst, scales = {}, {}
    for k, g in enumerate(grads, 1):
        step(g)
        for p, x in zip(tparams, g):
            p.grad = torch.tensor(-x if maximize else x.copy())
        theirs.step()
        if k in CHECKPOINTS or k == STEPS:
            arrays = [m.detach().numpy() if isinstance(m, torch.Tensor) else m for m in mine]
            for what, err in compare(arrays, _as_numpy_state(ours), tparams, theirs, f"step {k}", scales).items():
                worst[what] = max(worst.get(what, 0.0), err)
    return worst


class _as_numpy_state:
    """An optimizer whose ``state_dict()`` entries are NumPy arrays (``compare`` reads ours so)."""

    def __init__(self, opt):
        self.opt = opt

    def state_dict(self):
        saved = self.opt.state_dict()
        state = {i: {k: v.detach().numpy() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
                 for i, s in saved["state"].items()}
        return {**saved, "state": state}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("runner", sorted(RUNNERS))
@pytest.mark.parametrize("label,kwargs", GRID, ids=[label for label, _ in GRID])
def test_lion_matches_lion_pytorch(label, kwargs, runner, dtype):
    worst = run(RUNNERS[runner], kwargs, np.dtype(dtype).type)
    assert worst and max(worst.values()) <= TOL[dtype], worst


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_lion_maximize_is_lion_pytorch_on_the_negated_gradient(runner):
    worst = run(RUNNERS[runner], dict(lr=0.01, weight_decay=0.1), np.float64, maximize=True)
    assert worst and max(worst.values()) <= TOL["float64"], worst


def test_lion_compiled_matches_lion_pytorch():
    """One case on the compiled torch backend (each compilation takes seconds)."""
    worst = run(lambda p, k: ours_torch(p, k, "compiled"), dict(lr=0.01, weight_decay=0.5), np.float32)
    assert worst and max(worst.values()) <= TOL["float32"], worst


def test_lion_hand_derived_step():
    """p = (1, −2, 3), g = (0.5, 0, −1), m = 0, lr = 0.1, λ = 0.5: c = 0.1·g has signs (+, 0, −),
    so p′ = p·0.95 − 0.1·sign(c) = (0.85, −1.9, 2.95) and m′ = 0.01·g."""
    for execution in ("workspace", "functional"):
        p = np.array([1.0, -2.0, 3.0])
        opt = optim.Lion([p], lr=0.1, weight_decay=0.5, execution=execution)
        opt.step([np.array([0.5, 0.0, -1.0])])
        np.testing.assert_allclose(p, [0.85, -1.9, 2.95], rtol=0, atol=1e-15)
        # (1 − 0.99 is 0.010000000000000009 in binary: m is off 0.01·g by that rounding, ~1e-17)
        np.testing.assert_allclose(opt.state[0].m, [0.005, 0.0, -0.01], rtol=0, atol=2e-17)
        # a second step: c = 0.9·m + 0.1·g with g = (−1, 1, 0.05) has signs (−, +, −)
        opt.step([np.array([-1.0, 1.0, 0.05])])
        np.testing.assert_allclose(p, [0.85 * 0.95 + 0.1, -1.9 * 0.95 - 0.1, 2.95 * 0.95 + 0.1], rtol=0, atol=1e-15)


@pytest.mark.parametrize("kwargs,message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(betas=(1.0, 0.99)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
])
def test_lion_refuses_bad_hyperparameters_with_torchs_words(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        optim.Lion([np.ones(3)], **kwargs)


def test_lion_defaults_are_lion_pytorchs():
    import inspect
    reference = inspect.signature(ReferenceLion).parameters
    assert optim.Lion.defaults["lr"] == reference["lr"].default == 1e-4
    assert optim.Lion.defaults["betas"] == reference["betas"].default == (0.9, 0.99)
    assert optim.Lion.defaults["weight_decay"] == reference["weight_decay"].default == 0.0
