"""Schedule-free SGD and AdamW against facebookresearch's schedule_free 1.4.1 (its
``SGDScheduleFree`` and ``AdamWScheduleFree``, single-tensor path), on the NumPy classes and the
torch backend; their train and eval modes; a hand-derived first step; bad input."""
import numpy as np
import pytest

import optim
from optim import schedule_free_sgd

torch = pytest.importorskip("torch")
schedulefree = pytest.importorskip("schedulefree")
from optim import torch_backend  # noqa: E402

REFERENCES = {"SGDScheduleFree": schedulefree.SGDScheduleFree, "AdamWScheduleFree": schedulefree.AdamWScheduleFree}
OPTIONS = {
    "SGDScheduleFree": [dict(lr=0.1), dict(lr=0.05, momentum=0.5, weight_decay=0.01, warmup_steps=4),
                        dict(lr=0.2, r=1.0, weight_lr_power=0.0)],
    "AdamWScheduleFree": [dict(lr=0.01), dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.1, warmup_steps=4),
                          dict(lr=0.01, eps=1e-3, r=0.5, weight_lr_power=1.0)],
}
CASES = [(name, i) for name, options in OPTIONS.items() for i in range(len(options))]
SHAPES = [(3, 4), (5,), (2, 1, 3)]
STEPS = 12
# Normwise relative error allowed, as the conformance suite: 2¹¹ rounding units of the dtype.
TOLERANCE = {np.float64: 2.0**11 * 2.0**-53, np.float32: 2.0**11 * 2.0**-24}


def _data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return params, grads


def _reference(name, options, params, grads):
    """schedule_free's params in eval mode (x) after the first half of the steps, then in train
    mode (y) after all of them, and its z."""
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = REFERENCES[name](tensors, foreach=False, **options)
    seen = []
    opt.train()
    for step, gs in enumerate(grads, 1):
        for t, g in zip(tensors, gs):
            t.grad = torch.tensor(g.copy())
        opt.step()
        if step == STEPS // 2:
            opt.eval()
            seen.append([t.detach().numpy().copy() for t in tensors])
            opt.train()
    seen.append([t.detach().numpy().copy() for t in tensors])
    seen.append([opt.state[t]["z"].numpy().copy() for t in tensors])
    return seen


def _ours_numpy(name, options, params, grads, execution):
    ps = [p.copy() for p in params]
    opt = optim.CLASSES[name](ps, execution=execution, **options)
    seen = []
    opt.train()
    for step, gs in enumerate(grads, 1):
        opt.step([g.copy() for g in gs])
        if step == STEPS // 2:
            opt.eval()
            seen.append([p.copy() for p in ps])
            opt.train()
    seen.append([p.copy() for p in ps])
    seen.append([opt.state[i].z.copy() for i in range(len(ps))])
    return seen


def _ours_torch(name, options, params, grads, execution):
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = torch_backend.CLASSES[name](tensors, execution=execution, **options)
    seen = []
    opt.train()
    for step, gs in enumerate(grads, 1):
        for t, g in zip(tensors, gs):
            t.grad = torch.tensor(g.copy())
        opt.step()
        if step == STEPS // 2:
            opt.eval()
            seen.append([t.detach().numpy().copy() for t in tensors])
            opt.train()
    seen.append([t.detach().numpy().copy() for t in tensors])
    seen.append([opt.state[t]["z"].numpy().copy() for t in tensors])
    return seen


def _assert_close(ours, reference, dtype):
    for mine, theirs in zip(ours, reference):
        for a, b in zip(mine, theirs):
            assert a.dtype == b.dtype
            error = np.max(np.abs(a.astype(np.float64) - b)) / max(np.max(np.abs(b)), 1e-30)
            assert error <= TOLERANCE[dtype], error


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("execution", ["workspace", "functional"])
@pytest.mark.parametrize("name,index", CASES)
def test_numpy_classes_match_schedule_free(name, index, execution, dtype):
    params, grads = _data(dtype, seed=index)
    options = OPTIONS[name][index]
    _assert_close(_ours_numpy(name, options, params, grads, execution),
                  _reference(name, options, params, grads), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("execution", ["eager", "compiled"])
@pytest.mark.parametrize("name,index", CASES)
def test_torch_backend_matches_schedule_free(name, index, execution, dtype):
    params, grads = _data(dtype, seed=index)
    options = OPTIONS[name][index]
    _assert_close(_ours_torch(name, options, params, grads, execution),
                  _reference(name, options, params, grads), dtype)


def test_the_first_step_by_hand():
    """k = 0, no warmup: γ = lr, lr_max = lr, w = lr², weight_sum = lr², c = 1, so
    y₁ = lerp(y₀, z₀ = y₀, 1) + lr·(β·0 − 1)·g = y₀ − lr·g and z₁ = y₀ − lr·g; then x = y₁."""
    y0, g = np.array([1.0, -2.0, 0.5]), np.array([0.5, 0.25, -1.0])
    state, y1 = schedule_free_sgd.update(schedule_free_sgd.init(y0, lr=0.5, momentum=0.9), y0, g)
    np.testing.assert_array_equal(y1, [0.75, -2.125, 1.0])
    np.testing.assert_array_equal(state.z, [0.75, -2.125, 1.0])
    assert (state.k, state.weight_sum, state.lr_max) == (1, 0.25, 0.5)
    p = y0.copy()
    opt = optim.SGDScheduleFree([p], lr=0.5)
    opt.train()
    opt.step([g])
    opt.eval()
    np.testing.assert_allclose(p, [0.75, -2.125, 1.0], rtol=0, atol=1e-15)


MODES = [("numpy", optim.SGDScheduleFree), ("numpy", optim.AdamWScheduleFree),
         ("torch", torch_backend.SGDScheduleFree), ("torch", torch_backend.AdamWScheduleFree)]


def _made(backend, cls, values):
    if backend == "numpy":
        params = [np.array(values)]
        return cls(params, lr=0.1), params, lambda: params[0].copy(), lambda o: o.step([np.array([0.5, -1.0])])
    t = torch.tensor(values, requires_grad=True)

    def step(o):
        t.grad = torch.tensor([0.5, -1.0])
        o.step()
    return cls([t], lr=0.1), [t], lambda: t.detach().numpy().copy(), step


@pytest.mark.parametrize("backend,cls", MODES)
def test_a_new_optimizer_is_in_eval_mode_and_refuses_to_step(backend, cls):
    opt, _, read, step = _made(backend, cls, [1.0, 2.0])
    assert opt.train_mode is False
    with pytest.raises(RuntimeError, match="Optimizer was not in train mode when step is called"):
        step(opt)
    np.testing.assert_array_equal(read(), [1.0, 2.0])
    assert not opt.state


@pytest.mark.parametrize("backend,cls", MODES)
def test_eval_and_train_move_the_params_between_y_and_x_and_back(backend, cls):
    opt, _, read, step = _made(backend, cls, [1.0, 2.0])
    opt.eval()   # already in eval mode, no state: nothing moves
    opt.train()  # no state yet: nothing moves
    np.testing.assert_array_equal(read(), [1.0, 2.0])
    for _ in range(3):
        step(opt)
    y = read()
    opt.eval()
    x = read()
    assert not np.allclose(x, y)
    opt.eval()   # twice: no second move
    np.testing.assert_array_equal(read(), x)
    opt.train()
    np.testing.assert_allclose(read(), y, rtol=1e-14)
    with pytest.raises(RuntimeError):
        opt.eval()
        step(opt)


@pytest.mark.parametrize("module", [optim.SGDScheduleFree, torch_backend.SGDScheduleFree])
@pytest.mark.parametrize("momentum", [0.0, 1.0, -0.5, 1.5])
def test_momentum_outside_the_open_unit_interval_is_refused(module, momentum):
    params = [np.ones(2)] if module is optim.SGDScheduleFree else [torch.ones(2, requires_grad=True)]
    with pytest.raises(ValueError, match=f"Momentum must be between 0 and 1 exclusive: {momentum}"):
        module(params, momentum=momentum)


@pytest.mark.parametrize("cls", [optim.SGDScheduleFree, optim.AdamWScheduleFree])
def test_a_negative_learning_rate_is_refused(cls):
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        cls([np.ones(2)], lr=-0.1)


def test_defaults_are_schedule_free_s():
    assert optim.SGDScheduleFree.defaults == {"lr": 1.0, "momentum": 0.9, "weight_decay": 0.0, "warmup_steps": 0,
                                              "r": 0.0, "weight_lr_power": 2.0}
    assert optim.AdamWScheduleFree.defaults == {"lr": 0.0025, "betas": (0.9, 0.999), "eps": 1e-8,
                                                "weight_decay": 0.0, "warmup_steps": 0, "r": 0.0,
                                                "weight_lr_power": 2.0}
