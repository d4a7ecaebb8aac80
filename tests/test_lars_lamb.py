"""LARS and LAMB against Optax's definitions, written here from optax/_src/alias.py (``lars``:
add_decayed_weights → scale_by_trust_ratio → scale_by_learning_rate → trace; ``lamb``:
scale_by_adam → add_decayed_weights → scale_by_trust_ratio → scale_by_learning_rate) in plain NumPy,
independently of optim/; hand-derived steps; every execution on both backends; bad input."""
import numpy as np
import pytest

import optim
from optim import lamb, lars

SHAPES = [(3, 4), (5,), (2, 1, 3)]
STEPS = 8
TOLERANCE = {np.float64: 2.0**11 * 2.0**-53, np.float32: 2.0**11 * 2.0**-24}


def _trust_ratio(u, p, coefficient=1.0, eps=0.0):
    """optax.scale_by_trust_ratio(min_norm=0): η·‖p‖/(‖u‖ + ε), 1 where a norm is 0."""
    pn, un = np.linalg.norm(p), np.linalg.norm(u)
    return 1.0 if pn == 0 or un == 0 else coefficient * pn / (un + eps)


def optax_lars(params, grads_seq, lr, weight_decay=0.0, trust_coefficient=0.001, eps=0.0, momentum=0.9,
               nesterov=False):
    params = [p.copy() for p in params]
    trace = [np.zeros_like(p) for p in params]
    for grads in grads_seq:
        for i, (p, g) in enumerate(zip(params, grads)):
            u = g + weight_decay * p                                   # add_decayed_weights
            u = u * _trust_ratio(u, p, trust_coefficient, eps)          # scale_by_trust_ratio
            u = u * -lr                                                 # scale_by_learning_rate
            trace[i] = u + momentum * trace[i]                          # trace
            params[i] = p + (u + momentum * trace[i] if nesterov else trace[i])
    return params


def optax_lamb(params, grads_seq, lr, b1=0.9, b2=0.999, eps=1e-6, eps_root=0.0, weight_decay=0.0):
    params = [p.copy() for p in params]
    mu, nu = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    for count, grads in enumerate(grads_seq, 1):
        for i, (p, g) in enumerate(zip(params, grads)):
            mu[i] = (1 - b1) * g + b1 * mu[i]                           # scale_by_adam
            nu[i] = (1 - b2) * g**2 + b2 * nu[i]
            u = (mu[i] / (1 - b1**count)) / (np.sqrt(nu[i] / (1 - b2**count) + eps_root) + eps)
            u = u + weight_decay * p                                    # add_decayed_weights
            u = u * _trust_ratio(u, p)                                  # scale_by_trust_ratio
            params[i] = p + u * -lr                                     # scale_by_learning_rate
    return params


REFERENCES = {"LARS": optax_lars, "LAMB": optax_lamb}
OPTIONS = {
    "LARS": [dict(lr=0.5), dict(lr=1.0, weight_decay=0.01, trust_coefficient=0.01, eps=1e-3, momentum=0.5,
                                nesterov=True)],
    "LAMB": [dict(lr=0.01), dict(lr=0.02, betas=(0.8, 0.99), eps=1e-3, eps_root=1e-8, weight_decay=0.1)],
}
CASES = [(name, i) for name, options in OPTIONS.items() for i in range(len(options))]


def _reference_options(name, options):
    options = dict(options)
    if "betas" in options:
        options["b1"], options["b2"] = options.pop("betas")
    return options


def _data(dtype, seed):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    params[2][...] = 0.0                   # a zero param: the trust ratio is 1 there
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    grads[3][1][...] = 0.0                 # a zero gradient at one step (LAMB: the moments still move)
    return params, grads


def _close(ours, reference, dtype):
    for a, b in zip(ours, reference):
        assert a.dtype == np.dtype(dtype)
        scale = max(np.max(np.abs(b)), 1e-30)
        assert np.max(np.abs(a.astype(np.float64) - b)) / scale <= TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("execution", ["functional", "workspace", "fused"])
@pytest.mark.parametrize("name,index", CASES)
def test_numpy_classes_match_optax_s_definition(name, index, execution, dtype):
    params, grads = _data(dtype, seed=index)
    options = OPTIONS[name][index]
    ps = [p.copy() for p in params]
    opt = optim.CLASSES[name](ps, execution=execution, **options)
    for g in grads:
        opt.step(g)
    expected = REFERENCES[name]([p.astype(np.float64) for p in params],
                                [[g.astype(np.float64) for g in gs] for gs in grads],
                                **_reference_options(name, options))
    _close(ps, expected, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("execution", ["eager", "compiled"])
@pytest.mark.parametrize("name,index", CASES)
def test_torch_backend_matches_optax_s_definition(name, index, execution, dtype):
    torch = pytest.importorskip("torch")
    from optim import torch_backend
    params, grads = _data(dtype, seed=index)
    options = OPTIONS[name][index]
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = torch_backend.CLASSES[name](tensors, execution=execution, **options)
    for gs in grads:
        for t, g in zip(tensors, gs):
            t.grad = torch.tensor(g.copy())
        opt.step()
    expected = REFERENCES[name]([p.astype(np.float64) for p in params],
                                [[g.astype(np.float64) for g in gs] for gs in grads],
                                **_reference_options(name, options))
    _close([t.detach().numpy() for t in tensors], expected, dtype)


def test_a_lars_step_by_hand():
    """p = (3, 4), g = (0.6, 0.8): ‖p‖ = 5, ‖g‖ = 1, r = 0.001·5/1 = 0.005, lr = 1, no momentum:
    p′ = p − 0.005·g = (2.997, 3.996); the step's norm is lr·η·‖p‖ = 0.005."""
    p, g = np.array([3.0, 4.0]), np.array([0.6, 0.8])
    _, new = lars.update(lars.init(p, lr=1.0, momentum=0.0), p, g)
    np.testing.assert_allclose(new, [2.997, 3.996], rtol=0, atol=1e-15)
    assert np.linalg.norm(new - p) == pytest.approx(0.005, rel=1e-12)


def test_a_lamb_first_step_by_hand():
    """t = 1 from zero moments: m̂ = g, v̂ = g², so u = g/(|g| + ε); with g = (2, −2) and ε = 0
    (eps_root 0) u = (1, −1), ‖u‖ = √2, p = (3, 4): r = 5/√2, p′ = p − lr·r·u."""
    p, g = np.array([3.0, 4.0]), np.array([2.0, -2.0])
    state = lamb.init(p, lr=0.1, epsilon=1e-300)
    _, new = lamb.update(state, p, g)
    r = 5 / np.sqrt(2)
    np.testing.assert_allclose(new, [3 - 0.1 * r, 4 + 0.1 * r], rtol=1e-15)
    assert np.linalg.norm(new - p) == pytest.approx(0.1 * 5, rel=1e-14)   # lr·‖p‖


@pytest.mark.parametrize("cls,key,value,message", [
    (optim.LARS, "lr", -1.0, "Invalid learning rate: -1.0"),
    (optim.LARS, "trust_coefficient", 0.0, "Invalid trust_coefficient value: 0.0"),
    (optim.LARS, "momentum", -0.5, "Invalid momentum value: -0.5"),
    (optim.LAMB, "betas", (1.0, 0.9), "Invalid beta parameter at index 0: 1.0"),
    (optim.LAMB, "eps_root", -1e-8, "Invalid eps_root value: -1e-08"),
    (optim.LAMB, "weight_decay", -0.1, "Invalid weight_decay value: -0.1"),
])
def test_bad_hyperparameters_are_refused_before_anything(cls, key, value, message):
    p = np.ones(3)
    with pytest.raises(ValueError, match=message):
        cls([p], **{key: value})
    np.testing.assert_array_equal(p, np.ones(3))


def test_defaults():
    assert optim.LARS.defaults == {"lr": 1.0, "weight_decay": 0.0, "trust_coefficient": 0.001, "eps": 0.0,
                                   "momentum": 0.9, "nesterov": False}
    assert optim.LAMB.defaults == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-6, "eps_root": 0.0,
                                   "weight_decay": 0.0}
