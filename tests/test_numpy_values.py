"""NumPy values of every optimizer against hand-derived numbers.

Every expected number below was derived by hand from the update rules (torch.optim's
conventions) and is written either as a literal or as a short closed formula of that
derivation, step by step; nothing here re-runs an optimizer loop.  Each test runs on
float32 and float64: float64 must agree to a relative 1e-12, float32 to 1e-6, and the
outputs (params and every state buffer) must keep the input dtype.
"""
from __future__ import annotations

from dataclasses import fields
from math import sqrt

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from conftest import SEED_BUFFERS
from optim import adadelta, adafactor, adam, adamw, fields as declared, momentum_sgd, muon, sgd

DTYPES = [np.float32, np.float64]
RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}


def arr(values, dtype):
    return np.array(values, dtype=dtype)


def check(actual, expected, dtype, what):
    """Same dtype as the input (no upcast / downcast), same shape, values within RTOL."""
    assert isinstance(actual, np.ndarray), f"{what}: {type(actual).__name__}"
    assert actual.dtype == np.dtype(dtype), f"{what}: dtype {actual.dtype}, wanted {dtype}"
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}"
    assert_allclose(actual, expected, rtol=RTOL[np.dtype(dtype)], atol=0, err_msg=what)


# ---------------------------------------------------------------------------------------
# SGD:  p <- p - lr * g
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_values(dtype):
    # lr = 0.1, 2-D params.
    p0 = arr([[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]], dtype)
    grads = [
        arr([[0.5, -1.0, 0.0], [2.0, 0.25, -0.5]], dtype),
        arr([[0.5, -1.0, 0.0], [-1.0, 0.25, -0.5]], dtype),
        arr([[0.5, -1.0, 0.0], [0.5, 0.25, -0.5]], dtype),
    ]
    # By hand, element by element (each step moves by -0.1 * g):
    #   p=1,    g=0.5 always      : 0.95, 0.90, 0.85
    #   p=-2,   g=-1 always       : -1.9, -1.8, -1.7
    #   p=0.5,  g=0 always        : 0.5, 0.5, 0.5
    #   p=3,    g=2, -1, 0.5      : 2.8, 2.9, 2.85
    #   p=0,    g=0.25 always     : -0.025, -0.05, -0.075
    #   p=-1.5, g=-0.5 always     : -1.45, -1.4, -1.35
    expected = [
        [[0.95, -1.9, 0.5], [2.8, -0.025, -1.45]],
        [[0.90, -1.8, 0.5], [2.9, -0.050, -1.40]],
        [[0.85, -1.7, 0.5], [2.85, -0.075, -1.35]],
    ]
    state = sgd.init(p0, lr=0.1)
    assert state.lr == 0.1
    p = p0
    for step, (g, want) in enumerate(zip(grads, expected), 1):
        state, p = sgd.update(state, p, g)
        check(p, want, dtype, f"SGD p, step {step}")
        assert state.lr == 0.1


# ---------------------------------------------------------------------------------------
# Momentum SGD:  buf <- mu * buf + g ;  p <- p - lr * buf
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_momentum_sgd_values(dtype):
    # lr = 0.1, mu = 0.9, 2-D params.
    p0 = arr([[1.0, -2.0, 2.0], [0.5, 1.0, 3.0]], dtype)
    grads = [
        arr([[1.0, -2.0, 0.0], [0.5, 1.0, 2.0]], dtype),
        arr([[1.0, -2.0, 0.0], [0.5, -1.0, 0.0]], dtype),
        arr([[1.0, -2.0, 0.0], [0.5, 0.5, -1.0]], dtype),
    ]
    # Constant g: buf = g * (1, 1.9, 2.71);  p = p0 - 0.1 * g * (1, 2.9, 5.61)
    #   p=1,   g=1   : buf 1, 1.9, 2.71        p 0.9, 0.71, 0.439
    #   p=-2,  g=-2  : buf -2, -3.8, -5.42     p -1.8, -1.42, -0.878
    #   p=2,   g=0   : buf 0, 0, 0             p 2, 2, 2
    #   p=0.5, g=0.5 : buf 0.5, 0.95, 1.355    p 0.45, 0.355, 0.2195
    # Varying g:
    #   p=1, g=1,-1,0.5 : buf 1, 0.9-1 = -0.1, -0.09+0.5 = 0.41
    #                     p 0.9, 0.9+0.01 = 0.91, 0.91-0.041 = 0.869
    #   p=3, g=2,0,-1   : buf 2, 1.8, 1.62-1 = 0.62
    #                     p 2.8, 2.8-0.18 = 2.62, 2.62-0.062 = 2.558
    expected_buf = [
        [[1.0, -2.0, 0.0], [0.5, 1.0, 2.0]],
        [[1.9, -3.8, 0.0], [0.95, -0.1, 1.8]],
        [[2.71, -5.42, 0.0], [1.355, 0.41, 0.62]],
    ]
    expected_p = [
        [[0.9, -1.8, 2.0], [0.45, 0.9, 2.8]],
        [[0.71, -1.42, 2.0], [0.355, 0.91, 2.62]],
        [[0.439, -0.878, 2.0], [0.2195, 0.869, 2.558]],
    ]
    state = momentum_sgd.init(p0, lr=0.1, momentum=0.9)
    p = p0
    for step in range(3):
        state, p = momentum_sgd.update(state, p, grads[step])
        check(state.buf, expected_buf[step], dtype, f"MomentumSGD buf, step {step + 1}")
        check(p, expected_p[step], dtype, f"MomentumSGD p, step {step + 1}")
        assert (state.lr, state.momentum) == (0.1, 0.9)


# ---------------------------------------------------------------------------------------
# Adam (beta1 = 0.9, beta2 = 0.999, eps = 1e-8, lr = 0.1)
#   m_t = 0.9 m + 0.1 g,  v_t = 0.999 v + 0.001 g^2,
#   p  <- p - lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - 0.9^t), v_hat = v / (1 - 0.999^t)
# Bias corrections: 1 - 0.9^t = 0.1, 0.19, 0.271;  1 - 0.999^t = 0.001, 0.001999, 0.002997001.
# For a constant gradient g:  m = g (0.1, 0.19, 0.271), v = g^2 (0.001, 0.001999, 0.002997001),
# so m_hat = g, v_hat = g^2 and each step moves p by -lr * g / (|g| + eps).
# ---------------------------------------------------------------------------------------

EPS_ADAM = 1e-8

# The element with g = 1, -1, 0.5 (shared by Adam and AdamW):
#   t=1: m = 0.1, v = 0.001, m_hat = 1, v_hat = 1, step = -0.1 / (1 + eps)
#   t=2: m = 0.09 - 0.1 = -0.01, v = 0.000999 + 0.001 = 0.001999,
#        m_hat = -0.01 / 0.19 = -1/19, v_hat = 0.001999 / 0.001999 = 1,
#        step = -0.1 * (-1/19) / (1 + eps) = +(0.1 / 19) / (1 + eps)
#   t=3: m = -0.009 + 0.05 = 0.041, v = 0.001997001 + 0.00025 = 0.002247001,
#        m_hat = 0.041 / 0.271, v_hat = 0.002247001 / 0.002997001,
#        step = -0.1 * (0.041 / 0.271) / (sqrt(0.002247001 / 0.002997001) + eps)  (~ -0.0174725)
MIXED_STEP_2 = (0.1 / 19) / (1 + EPS_ADAM)  # ~ 0.005263157842
MIXED_STEP_3 = -0.1 * (0.041 / 0.271) / (sqrt(0.002247001 / 0.002997001) + EPS_ADAM)


def check_adam_steps(module, state, p, grads, expected, dtype, label):
    """One update per gradient from ``state``: after step k, t = k and m, v, p are the k-th rows of
    ``expected`` (expected m, v, p).  The last state."""
    for step, g in enumerate(grads):
        state, p = module.update(state, p, g)
        assert state.t == step + 1
        for name, value, want in zip("mvp", (state.m, state.v, p), expected):
            check(value, want[step], dtype, f"{label} {name}, step {step + 1}")
    return state


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_values(dtype):
    p0 = arr([1.0, -1.0, 0.5, 2.0], dtype)
    grads = [
        arr([1.0, -2.0, 0.0, 1.0], dtype),
        arr([1.0, -2.0, 0.0, -1.0], dtype),
        arr([1.0, -2.0, 0.0, 0.5], dtype),
    ]
    # p=1,  g=1 :  step -0.1/(1+1e-8) = -(0.1 - 1e-9): 0.900000001, 0.800000002, 0.700000003
    # p=-1, g=-2:  step +0.2/(2+1e-8) = 0.1 - 5e-10:  -0.9000000005, -0.800000001, -0.7000000015
    # p=0.5, g=0:  m = v = 0, m / (0 + eps) = 0, p stays 0.5
    # p=2, g=1,-1,0.5: 2 - 0.1/(1+eps) = 1.900000001, then + MIXED_STEP_2 (~1.9052631588),
    #                  then + MIXED_STEP_3 (~1.8877906056)
    p1_mixed = 1.900000001
    p2_mixed = p1_mixed + MIXED_STEP_2
    p3_mixed = p2_mixed + MIXED_STEP_3
    expected_m = [
        [0.1, -0.2, 0.0, 0.1],
        [0.19, -0.38, 0.0, -0.01],
        [0.271, -0.542, 0.0, 0.041],
    ]
    expected_v = [
        [0.001, 0.004, 0.0, 0.001],
        [0.001999, 0.007996, 0.0, 0.001999],
        [0.002997001, 0.011988004, 0.0, 0.002247001],
    ]
    expected_p = [
        [0.900000001, -0.9000000005, 0.5, p1_mixed],
        [0.800000002, -0.800000001, 0.5, p2_mixed],
        [0.700000003, -0.7000000015, 0.5, p3_mixed],
    ]
    # Cross-check of the mixed element against the rounded literals.
    assert abs(p2_mixed - 1.9052631588421052) < 1e-15
    assert abs(p3_mixed - 1.8877906056247225) < 1e-15

    state = adam.init(p0, lr=0.1, beta1=0.9, beta2=0.999, epsilon=EPS_ADAM)
    state = check_adam_steps(adam, state, p0, grads, (expected_m, expected_v, expected_p), dtype, "Adam")
    assert (state.lr, state.beta1, state.beta2, state.epsilon) == (0.1, 0.9, 0.999, EPS_ADAM)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("g", [3.0, -0.25])
def test_adam_constant_gradient_moves_lr_per_step(dtype, g):
    # Constant g: m_hat = g, v_hat = g^2, every step is -lr * g / (|g| + eps), whatever |g|.
    lr = 0.01
    p0 = arr([[0.5, -0.5], [2.0, -3.0]], dtype)
    g_arr = np.full((2, 2), g, dtype=dtype)
    step = lr * g / (abs(g) + EPS_ADAM)
    state = adam.init(p0, lr=lr)
    p = p0
    for t in range(1, 5):
        state, p = adam.update(state, p, g_arr)
        check(p, np.array([[0.5, -0.5], [2.0, -3.0]]) - t * step, dtype, f"Adam p, step {t}")
        check(state.m, np.full((2, 2), g * (1 - 0.9**t)), dtype, f"Adam m, step {t}")
        check(state.v, np.full((2, 2), g * g * (1 - 0.999**t)), dtype, f"Adam v, step {t}")
        assert state.t == t


# ---------------------------------------------------------------------------------------
# AdamW (lr = 0.1, weight_decay = 0.1, betas 0.9/0.999, eps = 1e-8):
#   p <- 0.99 p  (1 - lr * wd = 1 - 0.01) first, then the Adam step above.
#   m and v are Adam's (weight decay never touches them).
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_adamw_values(dtype):
    p0 = arr([[1.0, 2.0], [-1.0, 0.5]], dtype)
    grads = [
        arr([[1.0, 0.0], [-0.5, 1.0]], dtype),
        arr([[1.0, 0.0], [-0.5, -1.0]], dtype),
        arr([[1.0, 0.0], [-0.5, 0.5]], dtype),
    ]
    # p=1, g=1: Adam step s = -0.1/(1+1e-8) = -0.1 + 1e-9
    #   p1 = 0.99 - 0.1 + 1e-9                       = 0.890000001
    #   p2 = 0.99 * p1 - 0.1 + 1e-9 = 0.7811 + 1.99e-9 = 0.78110000199
    #   p3 = 0.99 * p2 - 0.1 + 1e-9 = 0.673289 + 2.9701e-9 = 0.6732890029701
    # p=2, g=0: no Adam step, only decay: 1.98, 1.9602, 1.940598
    # p=-1, g=-0.5: s = +0.05/(0.5+1e-8) = 0.1 - 2e-9
    #   p1 = -0.99 + 0.1 - 2e-9                        = -0.890000002
    #   p2 = -0.8811 - 1.98e-9 + 0.1 - 2e-9            = -0.78110000398
    #   p3 = -0.773289 - 3.9402e-9 + 0.1 - 2e-9        = -0.6732890059402
    # p=0.5, g=1,-1,0.5: p1 = 0.495 - 0.1/(1+1e-8) = 0.395000001,
    #   p2 = 0.99 p1 + MIXED_STEP_2 (~0.39631315883), p3 = 0.99 p2 + MIXED_STEP_3 (~0.37487747403)
    p1_mixed = 0.395000001
    p2_mixed = 0.99 * p1_mixed + MIXED_STEP_2
    p3_mixed = 0.99 * p2_mixed + MIXED_STEP_3
    assert abs(p2_mixed - 0.3963131588321053) < 1e-15
    assert abs(p3_mixed - 0.3748774740264013) < 1e-15
    expected_p = [
        [[0.890000001, 1.98], [-0.890000002, p1_mixed]],
        [[0.78110000199, 1.9602], [-0.78110000398, p2_mixed]],
        [[0.6732890029701, 1.940598], [-0.6732890059402, p3_mixed]],
    ]
    # m = 0.1 g_1, then 0.9 m + 0.1 g;  v = 0.001 g^2, then 0.999 v + 0.001 g^2
    expected_m = [
        [[0.1, 0.0], [-0.05, 0.1]],
        [[0.19, 0.0], [-0.095, -0.01]],
        [[0.271, 0.0], [-0.1355, 0.041]],
    ]
    expected_v = [
        [[0.001, 0.0], [0.00025, 0.001]],
        [[0.001999, 0.0], [0.00049975, 0.001999]],
        [[0.002997001, 0.0], [0.00074925025, 0.002247001]],
    ]
    state = adamw.init(p0, lr=0.1, weight_decay=0.1)
    assert (state.beta1, state.beta2, state.epsilon) == (0.9, 0.999, 1e-8)
    state = check_adam_steps(adamw, state, p0, grads, (expected_m, expected_v, expected_p), dtype, "AdamW")
    assert (state.lr, state.weight_decay) == (0.1, 0.1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adamw_zero_gradient_is_pure_decay(dtype):
    # g = 0: Adam's step is 0, so p_t = p0 * (1 - lr*wd)^t = p0 * 0.98^t  (lr 0.2, wd 0.1).
    p0 = arr([[4.0, -2.0, 0.25]], dtype)
    zero = np.zeros_like(p0)
    expected = [
        [[3.92, -1.96, 0.245]],
        [[3.8416, -1.9208, 0.2401]],
        [[3.764768, -1.882384, 0.235298]],
    ]
    state = adamw.init(p0, lr=0.2, weight_decay=0.1)
    p = p0
    for step in range(3):
        state, p = adamw.update(state, p, zero)
        check(p, expected[step], dtype, f"AdamW p, step {step + 1}")
        check(state.m, np.zeros((1, 3)), dtype, "AdamW m")
        check(state.v, np.zeros((1, 3)), dtype, "AdamW v")


# ---------------------------------------------------------------------------------------
# Adadelta (rho = 0.9, eps = 1e-6):
#   v <- 0.9 v + 0.1 g^2;  d = sqrt(u + eps) / sqrt(v + eps) * g;  u <- 0.9 u + 0.1 d^2;  p <- p - lr d
# (u accumulates d before lr, as torch.optim does.)
# ---------------------------------------------------------------------------------------

E = 1e-6

# Element A: g = 1 at every step.  v = 0.1, 0.19, 0.271.
A_d1 = sqrt(E) / sqrt(0.1 + E)  # ~ 0.0031622618489
A_u1 = 0.1 * A_d1**2  # = 0.1e-6 / 0.100001 ~ 9.9999e-07
A_d2 = sqrt(A_u1 + E) / sqrt(0.19 + E)  # ~ 0.0032444117737
A_u2 = 0.9 * A_u1 + 0.1 * A_d2**2  # ~ 1.9526118e-06
A_d3 = sqrt(A_u2 + E) / sqrt(0.271 + E)  # ~ 0.0033007887242
A_u3 = 0.9 * A_u2 + 0.1 * A_d3**2  # ~ 2.8468712e-06

# Element B: g = -2 at every step.  v = 4 * (0.1, 0.19, 0.271) = 0.4, 0.76, 1.084.
B_d1 = -2 * sqrt(E) / sqrt(0.4 + E)  # ~ -0.0031622737073
B_u1 = 0.1 * B_d1**2
B_d2 = -2 * sqrt(B_u1 + E) / sqrt(0.76 + E)  # ~ -0.0032444242604
B_u2 = 0.9 * B_u1 + 0.1 * B_d2**2
B_d3 = -2 * sqrt(B_u2 + E) / sqrt(1.084 + E)  # ~ -0.0033008015935
B_u3 = 0.9 * B_u2 + 0.1 * B_d3**2  # ~ 2.8468931e-06

# Element C: g = 0 at every step: v = u = d = 0.

# Element D: g = 1, -1, 0.5.  v = 0.1, 0.19, 0.9*0.19 + 0.1*0.25 = 0.196.
# Steps 1 and 2 have |g| = 1 and the same v as A, so d1 = A_d1, d2 = -A_d2, u1 = A_u1, u2 = A_u2.
D_d3 = 0.5 * sqrt(A_u2 + E) / sqrt(0.196 + E)  # ~ 0.0019406357809
D_u3 = 0.9 * A_u2 + 0.1 * D_d3**2  # ~ 2.1339573e-06

ADADELTA_P0 = [[1.0, -1.0], [0.5, 2.0]]
ADADELTA_GRADS = [
    [[1.0, -2.0], [0.0, 1.0]],
    [[1.0, -2.0], [0.0, -1.0]],
    [[1.0, -2.0], [0.0, 0.5]],
]
ADADELTA_V = [
    [[0.1, 0.4], [0.0, 0.1]],
    [[0.19, 0.76], [0.0, 0.19]],
    [[0.271, 1.084], [0.0, 0.196]],
]
ADADELTA_U = [
    [[A_u1, B_u1], [0.0, A_u1]],
    [[A_u2, B_u2], [0.0, A_u2]],
    [[A_u3, B_u3], [0.0, D_u3]],
]
# Sum of the deltas so far, per element (p = p0 - lr * that sum).
ADADELTA_DELTA_SUMS = [
    [[A_d1, B_d1], [0.0, A_d1]],
    [[A_d1 + A_d2, B_d1 + B_d2], [0.0, A_d1 - A_d2]],
    [[A_d1 + A_d2 + A_d3, B_d1 + B_d2 + B_d3], [0.0, A_d1 - A_d2 + D_d3]],
]


def test_adadelta_hand_numbers_are_consistent():
    # The formulas above, against the rounded values of the hand derivation.
    assert abs(A_u1 - 9.99990000099999e-07) < 1e-20
    assert abs(1.0 - A_d1 - 0.9968377381511013) < 1e-15
    assert abs(1.0 - (A_d1 + A_d2 + A_d3) - 0.9902925376532413) < 1e-15
    assert abs(-1.0 - (B_d1 + B_d2 + B_d3) - (-0.9902925004387858)) < 1e-15
    assert abs(2.0 - (A_d1 - A_d2) - 2.000082149924802) < 1e-15
    assert abs(2.0 - (A_d1 - A_d2 + D_d3) - 1.998141514143898) < 1e-15


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lr", [1.0, 0.5])
def test_adadelta_values(dtype, lr):
    p0 = arr(ADADELTA_P0, dtype)
    state = adadelta.init(p0, lr=lr, rho=0.9, epsilon=E)
    p = p0
    for step in range(3):
        state, p = adadelta.update(state, p, arr(ADADELTA_GRADS[step], dtype))
        check(state.v, ADADELTA_V[step], dtype, f"Adadelta v, step {step + 1}")
        # u does not depend on lr (it accumulates d, not lr * d).
        check(state.u, ADADELTA_U[step], dtype, f"Adadelta u, step {step + 1}")
        want = np.array(ADADELTA_P0) - lr * np.array(ADADELTA_DELTA_SUMS[step])
        check(p, want, dtype, f"Adadelta p, step {step + 1}")
        assert (state.lr, state.rho, state.epsilon) == (lr, 0.9, E)


# ---------------------------------------------------------------------------------------
# Generic properties: dtype kept, inputs never mutated, init, defaults.
# ---------------------------------------------------------------------------------------

# The seed's five, and Adafactor and Muon (their values by hand: tests/test_adafactor_muon.py), whose
# buffers for these matrix params are the row and column factors (not shaped like the params) and
# the momentum buffer.
HYPER = {
    "SGD": (sgd, {"lr": 0.1}),
    "MomentumSGD": (momentum_sgd, {"lr": 0.1, "momentum": 0.9}),
    "Adam": (adam, {"lr": 0.1}),
    "AdamW": (adamw, {"lr": 0.1, "weight_decay": 0.1}),
    "Adadelta": (adadelta, {"lr": 1.0}),
    "Adafactor": (adafactor, {"lr": 0.1, "weight_decay": 0.1, "d": 1.5, "beta2_decay": -0.5}),
    "Muon": (muon, {"lr": 0.02, "nesterov": False, "weight_decay": 0.0, "ns_steps": 3,
                    "adjust_lr_fn": "match_rms_adamw"}),
}
NAMES = list(HYPER)
BUFFERS = {**SEED_BUFFERS, "Adafactor": ("row_var", "col_var"), "Muon": ("buf",)}


def array_fields(state):
    return {f.name for f in fields(state) if isinstance(getattr(state, f.name), np.ndarray)}


def buffer_shape(state, buffer, param_shape):
    """The shape the buffer has for a param of ``param_shape`` (its declared shape, else the param's)."""
    return declared.declarations(state).of(declared.BUFFER)[buffer].shape_for(param_shape)


def test_buffer_table_matches_the_states():
    p = np.zeros((2, 3))
    for name in NAMES:
        module, hyper = HYPER[name]
        assert array_fields(module.init(p, **hyper)) == set(BUFFERS[name]), name


def initialised(name, dtype):
    """The family's module, its state from ``init`` (the HYPER table's hyperparameters) on a 2×3
    ``p`` of ``dtype``, ``p`` and a gradient ``g`` of that dtype."""
    module, hyper = HYPER[name]
    p = arr([[1.0, -2.0, 0.5], [0.0, 3.0, -0.25]], dtype)
    g = arr([[0.5, -1.0, 0.0], [2.0, 0.25, -3.0]], dtype)
    return module, module.init(p, **hyper), p, g


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_dtype_is_kept(name, dtype):
    module, state, p, g = initialised(name, dtype)
    for buffer in BUFFERS[name]:
        assert getattr(state, buffer).dtype == np.dtype(dtype)
    for _ in range(3):
        state, p = module.update(state, p, g)
        assert type(p) is np.ndarray and p.dtype == np.dtype(dtype) and p.shape == (2, 3)
        for buffer in BUFFERS[name]:
            b = getattr(state, buffer)
            assert type(b) is np.ndarray, (buffer, type(b))
            assert b.dtype == np.dtype(dtype) and b.shape == buffer_shape(state, buffer, (2, 3)), (buffer, b.dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_update_never_mutates_its_inputs(name, dtype):
    module, state, p, g = initialised(name, dtype)
    state, p = module.update(state, p, g)  # non-zero buffers
    for _ in range(3):
        p_copy, g_copy = p.copy(), g.copy()
        buffer_copies = {b: getattr(state, b).copy() for b in BUFFERS[name]}
        scalars = {
            f.name: getattr(state, f.name) for f in fields(state) if f.name not in BUFFERS[name]
        }
        new_state, new_p = module.update(state, p, g)
        assert_array_equal(p, p_copy)
        assert_array_equal(g, g_copy)
        assert new_p is not p
        for b, before in buffer_copies.items():
            assert_array_equal(getattr(state, b), before, err_msg=b)
            assert getattr(new_state, b) is not getattr(state, b), b
        for field, value in scalars.items():
            assert getattr(state, field) == value, field
        if hasattr(state, "t"):
            assert new_state.t == state.t + 1
        state, p = new_state, new_p


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_init_gives_zero_buffers(name, dtype):
    module, hyper = HYPER[name]
    p = arr([[1.0, -2.0], [3.0, 4.0], [5.0, -6.0]], dtype)
    p_copy = p.copy()
    state = module.init(p, **hyper)
    assert_array_equal(p, p_copy)
    for buffer in BUFFERS[name]:
        b = getattr(state, buffer)
        assert type(b) is np.ndarray
        assert b.shape == buffer_shape(state, buffer, (3, 2)) and b.dtype == np.dtype(dtype), buffer
        assert not np.any(b), buffer
        assert b is not p and not np.shares_memory(b, p), buffer
    if hasattr(state, "t"):
        assert state.t == 0
    for key, value in hyper.items():
        assert getattr(state, key) == value, key


def test_default_hyperparameters():
    p = np.zeros(2)
    # torch.optim.SGD's default lr is 1e-3; momentum 0.9 is this project's own default
    # (torch's SGD defaults to momentum=0, which is plain SGD here).
    assert sgd.init(p).lr == 1e-3
    s = momentum_sgd.init(p)
    assert (s.lr, s.momentum) == (1e-3, 0.9)
    # torch.optim.Adam: lr=1e-3, betas=(0.9, 0.999), eps=1e-8
    s = adam.init(p)
    assert (s.lr, s.beta1, s.beta2, s.epsilon, s.t) == (1e-3, 0.9, 0.999, 1e-8, 0)
    # torch.optim.AdamW: as Adam, weight_decay=1e-2
    s = adamw.init(p)
    assert (s.lr, s.beta1, s.beta2, s.epsilon, s.weight_decay, s.t) == (
        1e-3, 0.9, 0.999, 1e-8, 1e-2, 0,
    )
    # torch.optim.Adadelta: lr=1.0, rho=0.9, eps=1e-6
    s = adadelta.init(p)
    assert (s.lr, s.rho, s.epsilon) == (1.0, 0.9, 1e-6)
