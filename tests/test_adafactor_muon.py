"""Adafactor and Muon against torch.optim 2.13 (its classes, stepped side by side), hand-derived
steps, their state dicts (torch's layout, buffers not shaped like the param), and bad input with
torch's messages, before anything changes."""
import contextlib

import numpy as np
import pytest

import optim

torch = pytest.importorskip("torch")
from optim import torch_backend  # noqa: E402  (needs torch)
from _families import newton_schulz_at_param_dtype  # noqa: E402

STEPS = 8
# ≤ 1e-12 (float64) and ≤ 1e-5 (float32), relative to the largest reference entry (issue 12)
TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-5}
DTYPES = (torch.float64, torch.float32)

ADAFACTOR_SHAPES = [(3, 4), (5,), (2, 3, 4), (), (1, 1), (4, 1)]
ADAFACTOR_OPTIONS = [
    {},
    dict(weight_decay=0.1, maximize=True),
    dict(eps=(1e-20, 1e-3), d=1.5, beta2_decay=-0.5),
    dict(lr=1.0, eps=(None, 0.0)),     # ρ = 1/√t past the first step; α from RMS(p) alone
    dict(lr=0.0),                      # no step, and no decay
]
MUON_SHAPES = [(3, 4), (5, 2), (4, 4), (1, 6)]
MUON_OPTIONS = [
    {},
    dict(nesterov=False, weight_decay=0.0),
    dict(adjust_lr_fn="match_rms_adamw", momentum=0.5, ns_steps=3, lr=0.02),
    dict(adjust_lr_fn="original", ns_coefficients=(2.0, -1.5, 0.5), eps=1e-3, ns_steps=0),
]


def _run(name, shapes, options, dtype, seed, stock=False):
    """(torch.optim's params and state, optim.<name>'s NumPy params and state dict, the torch
    backend's params) after STEPS steps of the same gradients, one group holding every shape."""
    generator = torch.Generator().manual_seed(seed)
    start = [torch.randn(s, generator=generator, dtype=dtype) for s in shapes]
    grads = [[torch.randn(s, generator=generator, dtype=dtype) for s in shapes] for _ in range(STEPS)]
    reference = [torch.nn.Parameter(p.clone()) for p in start]
    torch_optimizer = getattr(torch.optim, name)(reference, **options)
    ours = [p.numpy().copy() for p in start]
    numpy_optimizer = getattr(optim, name)(ours, **options)
    backend = [torch.nn.Parameter(p.clone()) for p in start]
    backend_optimizer = getattr(torch_backend, name)(backend, **options)
    for step in grads:
        for p, q, g in zip(reference, backend, step):
            p.grad, q.grad = g.clone(), g.clone()
        with contextlib.nullcontext() if stock else newton_schulz_at_param_dtype():
            torch_optimizer.step()
        numpy_optimizer.step([g.numpy().copy() for g in step])
        backend_optimizer.step()
    return reference, torch_optimizer, ours, numpy_optimizer, backend, backend_optimizer


def _assert_close(ours, reference, dtype):
    for a, b in zip(ours, reference):
        b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
        a = a.detach().numpy() if isinstance(a, torch.Tensor) else a
        assert a.dtype == b.dtype and a.shape == b.shape
        scale = max(float(np.max(np.abs(b))), 1e-30) if b.size else 1.0
        assert float(np.max(np.abs(a.astype(np.float64) - b), initial=0.0)) / scale <= TOLERANCE[dtype]


def _assert_states_close(numpy_optimizer, backend_optimizer, torch_optimizer, params, backend, dtype):
    saved = numpy_optimizer.state_dict()["state"]
    for index, (p, q) in enumerate(zip(params, backend)):
        expected = torch_optimizer.state[p]
        assert set(saved[index]) == set(expected) == set(backend_optimizer.state[q])
        for key, value in expected.items():
            if key == "step":
                assert saved[index][key] == int(value.item()) == int(backend_optimizer.state[q][key].item())
                continue
            _assert_close([saved[index][key], backend_optimizer.state[q][key]], [value, value], dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("options", ADAFACTOR_OPTIONS, ids=str)
def test_adafactor_matches_torch(options, dtype):
    reference, torch_optimizer, ours, numpy_optimizer, backend, backend_optimizer = \
        _run("Adafactor", ADAFACTOR_SHAPES, options, dtype, seed=1)
    _assert_close(ours, reference, dtype)
    _assert_close(backend, reference, dtype)
    _assert_states_close(numpy_optimizer, backend_optimizer, torch_optimizer, reference, backend, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("options", MUON_OPTIONS, ids=str)
def test_muon_matches_torch_at_the_param_dtype(options, dtype):
    reference, torch_optimizer, ours, numpy_optimizer, backend, backend_optimizer = \
        _run("Muon", MUON_SHAPES, options, dtype, seed=2)
    _assert_close(ours, reference, dtype)
    _assert_close(backend, reference, dtype)
    _assert_states_close(numpy_optimizer, backend_optimizer, torch_optimizer, reference, backend, dtype)


@pytest.mark.parametrize("options", MUON_OPTIONS[:3], ids=str)
def test_muon_is_stock_torch_within_bfloat16(options):
    """Stock torch runs Newton–Schulz in bfloat16 (8 significant bits): one step's update agrees
    with ours to a few bfloat16 roundings, relative to the update's size, not to 1e-12."""
    for shape in MUON_SHAPES:
        generator = torch.Generator().manual_seed(3)
        p0 = torch.randn(shape, generator=generator, dtype=torch.float64)
        g = torch.randn(shape, generator=generator, dtype=torch.float64)
        reference = torch.nn.Parameter(p0.clone())
        reference.grad = g.clone()
        torch.optim.Muon([reference], **options).step()
        ours = p0.numpy().copy()
        optim.Muon([ours], **options).step([g.numpy().copy()])
        torch_step, our_step = reference.detach().numpy() - p0.numpy(), ours - p0.numpy()
        error = np.linalg.norm(our_step - torch_step) / np.linalg.norm(torch_step)
        assert 1e-6 < error < 0.05   # bfloat16-sized: neither 0 (the cast did something) nor large


def test_adafactor_first_step_on_a_rank_one_gradient_is_a_sign_step():
    """By hand (torch's equations): at t = 1 the factors are the row and column means of g², and
    for g = a·bᵀ their product over the mean of R is g² itself, so u = sign(g), RMS(u) = 1 and
    p₁ = p₀ − max(ε2, RMS(p₀))·min(lr, 1)·sign(g)."""
    a, b = np.array([1.0, -2.0, 0.5]), np.array([3.0, 0.25, -1.0, 2.0])
    g = np.outer(a, b)
    p0 = np.arange(12.0).reshape(3, 4) / 7 - 0.5
    p = p0.copy()
    optim.Adafactor([p], lr=0.05).step([g])
    rms = np.sqrt(np.mean(p0 * p0))
    np.testing.assert_allclose(p, p0 - rms * 0.05 * np.sign(g), rtol=0, atol=1e-15)


def test_muon_one_newton_schulz_step_on_a_1x1_matrix_is_the_polynomial_at_one():
    """By hand: a 1×1 matrix normalises to ±1, and one step maps 1 to q(1) = a + b + c."""
    p = np.array([[2.0]])
    optim.Muon([p], lr=0.1, weight_decay=0.5, momentum=0.0, ns_steps=1).step([np.array([[-3.0]])])
    q1 = 3.4445 - 4.775 + 2.0315
    assert p[0, 0] == pytest.approx(2.0 * (1 - 0.1 * 0.5) + 0.1 * q1, rel=1e-15)


@pytest.mark.parametrize("name", ["Adafactor", "Muon"])
def test_state_dict_round_trips_with_torch(name):
    """Our NumPy state dict (torch's keys; row_var (…, m, 1), col_var (…, 1, n)) loads into
    torch.optim and torch's into ours; both continue as one."""
    shapes = [(3, 4), (2, 5)] if name == "Muon" else [(3, 4), (5,), (2, 2, 3)]
    reference, torch_optimizer, ours, numpy_optimizer, _, _ = _run(name, shapes, {}, torch.float64, seed=4)
    saved = numpy_optimizer.state_dict()
    as_torch = {"state": {i: {k: torch.tensor(v) if isinstance(v, np.ndarray) else torch.tensor(float(v))
                              for k, v in entry.items()} for i, entry in saved["state"].items()},
                "param_groups": torch_optimizer.state_dict()["param_groups"]}
    twin = [torch.nn.Parameter(torch.tensor(p)) for p in ours]
    twin_optimizer = getattr(torch.optim, name)(twin)
    twin_optimizer.load_state_dict(as_torch)
    from_torch = torch_optimizer.state_dict()
    loaded = [p.detach().numpy().copy() for p in reference]
    loaded_optimizer = getattr(optim, name)(loaded)
    loaded_optimizer.load_state_dict({
        "state": {i: {k: (int(v.item()) if k == "step" else v.numpy().copy()) for k, v in entry.items()}
                  for i, entry in from_torch["state"].items()},
        "param_groups": [{k: v for k, v in g.items() if k not in ("foreach",)} for g in from_torch["param_groups"]]})
    grads = [np.random.default_rng(5).standard_normal(s) for s in shapes]
    for p, g in zip(twin, grads):
        p.grad = torch.tensor(g)
    with newton_schulz_at_param_dtype():
        twin_optimizer.step()
    numpy_optimizer.step([g.copy() for g in grads])
    loaded_optimizer.step([g.copy() for g in grads])
    _assert_close(ours, twin, torch.float64)
    _assert_close(loaded, twin, torch.float64)


def test_adafactor_refuses_a_factor_of_the_wrong_shape_and_changes_nothing():
    p = np.ones((3, 4))
    opt = optim.Adafactor([p])
    opt.step([np.ones((3, 4))])
    saved = opt.state_dict()
    for key, bad in [("row_var", np.zeros((3, 4))), ("col_var", np.zeros((3, 1))), ("row_var", np.zeros((1, 4)))]:
        broken = {"state": {0: {**saved["state"][0], key: bad}}, "param_groups": saved["param_groups"]}
        with pytest.raises(ValueError, match=rf"{key} has shape .* needs"):
            opt.load_state_dict(broken)
    vector_state = {"state": {0: {"step": 1, "variance": np.zeros((3, 4))}}, "param_groups": saved["param_groups"]}
    with pytest.raises(ValueError, match="unexpected entries"):
        opt.load_state_dict(vector_state)
    before = p.copy()
    state = optim.adafactor.init(np.ones(5))          # a vector's state for a matrix param
    with pytest.raises(ValueError, match=r"no row_var buffer, which a param of shape \(3, 4\) needs"):
        optim.adafactor.update(state, p, np.ones((3, 4)))
    np.testing.assert_array_equal(p, before)
    # the torch backend refuses the same, naming the shape it needs
    q = torch.nn.Parameter(torch.ones(3, 4))
    backend = torch_backend.Adafactor([q])
    q.grad = torch.ones(3, 4)
    backend.step()
    good = backend.state_dict()
    broken = {"state": {0: {**good["state"][0], "row_var": torch.zeros(3, 4)}}, "param_groups": good["param_groups"]}
    with pytest.raises(ValueError, match=r"row_var has shape \(3, 4\) but a parameter of shape \(3, 4\) needs \(3, 1\)"):
        backend.load_state_dict(broken)


@pytest.mark.parametrize("name, options", [
    ("Adafactor", dict(lr=-1.0)), ("Adafactor", dict(beta2_decay=0.5)), ("Adafactor", dict(eps=(-1.0, 1e-3))),
    ("Adafactor", dict(eps=(None, -1.0))), ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-1.0)),
    ("Muon", dict(lr=-1.0)), ("Muon", dict(momentum=-1.0)), ("Muon", dict(weight_decay=-1.0)),
    ("Muon", dict(adjust_lr_fn="cosine")),
])
def test_bad_hyperparameters_get_torchs_message(name, options):
    shape = (2, 2)
    with pytest.raises(ValueError) as expected:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(shape))], **options)
    for make in (lambda: getattr(optim, name)([np.ones(shape)], **options),
                 lambda: getattr(torch_backend, name)([torch.nn.Parameter(torch.ones(shape))], **options)):
        with pytest.raises(ValueError) as ours:
            make()
        assert str(ours.value) == str(expected.value)


def test_muon_refuses_a_param_that_is_not_a_matrix_as_torch_does():
    with pytest.raises(ValueError) as expected:
        torch.optim.Muon([torch.nn.Parameter(torch.ones(3))])
    with pytest.raises(ValueError) as ours:
        torch_backend.Muon([torch.nn.Parameter(torch.ones(3))])
    assert str(ours.value) == str(expected.value)
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        optim.Muon([np.ones(3)])
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        optim.muon.update(optim.muon.init(np.ones(3)), np.ones(3), np.ones(3))


def test_muon_ns_steps_of_100_is_refused_before_any_change():
    with pytest.raises(ValueError, match="Number of steps must be less than 100"):
        optim.Muon([np.ones((2, 2))], ns_steps=100)
    p = np.ones((2, 2))
    opt = optim.Muon([p])
    opt.param_groups[0]["ns_steps"] = 100
    with pytest.raises(ValueError, match="Number of steps must be less than 100"):
        opt.step([np.ones((2, 2))])
    np.testing.assert_array_equal(p, np.ones((2, 2)))
    assert opt.state == {}


def test_adafactor_default_epsilon1_is_the_param_dtypes_machine_epsilon():
    """ε1 = None: finfo(dtype).eps, so a float32 param clamps at float32's ε² (a zero gradient
    entry gives u = 0, not NaN); the prover has no dtype and asks for ε1."""
    for dtype in (np.float32, np.float64):
        p = np.ones(3, dtype)
        optim.Adafactor([p]).step([np.array([0.0, 1.0, -1.0], dtype)])
        assert p.dtype == dtype and np.isfinite(p).all() and p[0] == 1
    from symbolic.tensor import SymTensor, SymbolicValueError
    x = SymTensor.symbols("x", (2,))
    with pytest.raises(SymbolicValueError, match="no machine epsilon"):
        optim.adafactor.update(optim.adafactor.init(x), x, x)


def test_adafactor_refuses_an_empty_matrix_before_any_change():
    """torch raises ZeroDivisionError there (RMS(p) divides by √0), after the params before it
    moved; ours refuses an empty matrix (its factors would be 0/0) before anything moves, and
    steps an empty vector to nothing."""
    with pytest.raises(ZeroDivisionError):
        empty = torch.nn.Parameter(torch.zeros(0, 3))
        empty.grad = torch.zeros(0, 3)
        torch.optim.Adafactor([empty]).step()
    p, empty = np.ones(3), np.zeros((0, 3))
    opt = optim.Adafactor([p, empty])
    with pytest.raises(ValueError, match="empty matrix"):
        opt.step([np.ones(3), np.zeros((0, 3))])
    np.testing.assert_array_equal(p, np.ones(3))
    assert opt.state == {}
    vector = optim.Adafactor([np.zeros(0)])
    vector.step([np.zeros(0)])
    assert vector.state[0].t == 1 and vector.state[0].variance.shape == (0,)
