"""Gradient clipping against torch.nn.utils (clip_grad_norm_, clip_grad_value_), on NumPy arrays
and torch tensors, float32 and float64; non-finite gradients as torch; bad input; the prover's
refusal of a reduction over a generic tensor."""
import numpy as np
import pytest

from optim import clipping

torch = pytest.importorskip("torch")
from optim import torch_backend  # noqa: E402, F401  (registers the torch context)

SHAPES = [(3, 4), (5,), (2, 1, 3)]
# As the conformance suite: 2¹¹ rounding units (torch sums the squares in its own order, by CPU kernel).
TOLERANCE = {np.float64: 2.0**11 * 2.0**-53, np.float32: 2.0**11 * 2.0**-24}


def _grads(dtype, scale=3.0, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(s) * scale).astype(dtype) for s in SHAPES]


def _torch_clipped(grads, how, bound):
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    norm = None
    if how == "norm":
        norm = torch.nn.utils.clip_grad_norm_(params, bound, foreach=False).item()
    else:
        torch.nn.utils.clip_grad_value_(params, bound, foreach=False)
    return [p.grad.numpy() for p in params], norm


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("max_norm", [0.5, 10.0, 1e3])
def test_clip_by_global_norm_is_torch_s(backend, dtype, max_norm):
    grads = _grads(dtype)
    expected, expected_norm = _torch_clipped(grads, "norm", max_norm)
    given = grads if backend == "numpy" else [torch.from_numpy(g.copy()) for g in grads]
    clipped, norm = clipping.clip_by_global_norm(given, max_norm)
    clipped = [np.asarray(c) for c in clipped]
    assert float(norm) == pytest.approx(expected_norm, rel=TOLERANCE[dtype])
    for c, e, g in zip(clipped, expected, grads):
        assert c.dtype == e.dtype
        np.testing.assert_allclose(c, e, rtol=TOLERANCE[dtype], atol=0)
    if max_norm == 1e3:   # nothing to clip: the very same values
        for c, g in zip(clipped, grads):
            np.testing.assert_array_equal(c, g)
    assert all(np.array_equal(g, h) for g, h in zip(grads, _grads(dtype)))   # inputs not mutated


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_by_value_is_torch_s(backend, dtype):
    grads = _grads(dtype)
    expected, _ = _torch_clipped(grads, "value", 0.7)
    given = grads if backend == "numpy" else [torch.from_numpy(g.copy()) for g in grads]
    for c, e in zip(clipping.clip_by_value(given, 0.7), expected):
        np.testing.assert_array_equal(np.asarray(c), e)


def test_the_norm_by_hand():
    """‖(3, 4)‖ = 5 and ‖(12,)‖ = 12: the global norm is 13; max_norm 6.5 halves every entry
    (up to torch's 10⁻⁶: 6.5/(13 + 10⁻⁶))."""
    grads = [np.array([3.0, 4.0]), np.array([12.0])]
    clipped, norm = clipping.clip_by_global_norm(grads, 6.5)
    assert norm == 13.0
    scale = 6.5 / (13.0 + 1e-6)
    np.testing.assert_array_equal(clipped[0], [3.0 * scale, 4.0 * scale])
    np.testing.assert_array_equal(clipped[1], [12.0 * scale])


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_non_finite_gradients_clip_as_torch(bad):
    grads = _grads(np.float64)
    grads[1][2] = bad
    expected, _ = _torch_clipped(grads, "norm", 1.0)
    clipped, _ = clipping.clip_by_global_norm(grads, 1.0)
    for c, e in zip(clipped, expected):
        np.testing.assert_array_equal(c, e)   # NaN where torch has NaN, equal elsewhere


@pytest.mark.parametrize("call,error,match", [
    (lambda: clipping.clip_by_global_norm([np.ones(2)], -1.0), ValueError, "Invalid max_norm: -1.0"),
    (lambda: clipping.clip_by_value([np.ones(2)], -0.5), ValueError, "Invalid clip_value: -0.5"),
    (lambda: clipping.clip_by_global_norm([np.ones(2)], "1"), TypeError, "max_norm"),
    (lambda: clipping.clip_by_global_norm([], 1.0), ValueError, "at least one gradient"),
    (lambda: clipping.clip_by_global_norm([np.ones(2), torch.ones(2)], 1.0), TypeError, "same backend"),
    (lambda: clipping.clip_by_value([np.ones(2, dtype=np.int64)], 1.0), TypeError, "float32 or float64"),
])
def test_bad_input_is_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_the_prover_refuses_a_global_norm_over_a_generic_tensor():
    from symbolic.tensor import NotElementwise, SymTensor
    with pytest.raises(NotElementwise, match="explicit shape"):
        clipping.clip_by_global_norm([SymTensor.symbols("g")], 1)
