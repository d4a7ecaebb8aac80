"""Conformance of every torch-style optimizer (``optim.TORCH_OPTIMIZERS``) against torch.optim.

torch is a test-only dependency (``torch==2.13.0``, CPU).  Without it this module is skipped,
except in CI (``CI=true``), where a missing torch is an error.

For every optimizer a grid of hyperparameter settings (``GRID``) exercises every option and
branch.  Each case runs ``STEPS`` steps of seeded random gradients on params of several
shapes, in float64 and float32, through torch's single-tensor path (``foreach=False``, torch's
CPU default) and through ``opt.step(grads)``, starting from copies of the same arrays.  Some
gradient entries are exactly zero at some steps (Rprop's third sign case; a zero grad also
tests the ``g == 0`` paths of the others), and every entry has a fixed bias plus noise, so that
some entries keep their sign for long runs while others flip.

At a few checkpoints and after the last step, the params and EVERY entry of
``state_dict()["state"]`` are compared, key by key under torch's state names (torch's ``step``
and its scalar tensors ``mu_product``, ``eta``, ``mu`` compare as floats).  The error measure is
the normwise relative error per tensor, against the largest size the tensor has had,

    err(ours, torch) = max|ours − torch| / max(S, tiny),   S = max|torch| over the checkpoints so far

(``tiny`` = the smallest normal number of the dtype).  An elementwise relative error would be
meaningless for entries at or near zero (a zero gradient entry, a momentum buffer crossing
zero), and so would one against the tensor's current size for a tensor that cancels as a whole
(the 0-d param's buffers): rounding errors are bounded by the sizes of the terms that were
added up, which S measures, not by what is left after they cancel.  The worst error over all
tensors and checkpoints must be ≤ ``TOL`` = 2^11·u: 2.3e-13 in float64, 1.2e-4 in float32,
from a first-order rounding error analysis of every comparison (see ``TOL``), which holds for
torch's default, AVX2 and AVX-512 kernels alike (torch's vectorised kernels fuse multiply-adds,
NumPy rounds each operation).  ``make test`` runs this module under each kernel the CPU has.

Also tested: NaN / Inf gradients propagate as in torch (same NaN / ±Inf entries, every
optimizer); param groups with per-group
hyperparameters; a learning-rate schedule (editing ``param_groups[0]["lr"]`` between steps);
the ``state_dict`` / ``load_state_dict`` round trip (bitwise equal to an uninterrupted run); and
the rounding error analysis behind ``TOL``: its bound of every comparison is within ``TOL``, and
ours and torch each lie within it of the exact values on the CPU's kernels.

Adafactor and Muon are in the grid like the others.  torch.optim.Muon runs its Newton–Schulz
iteration in bfloat16 and optim.Muon at the param's dtype: every torch step here runs with torch's
bfloat16 cast made a copy (``tests/_families.py``), so both compute the same operations; Muon's
params are matrices (``MATRIX_SHAPES``).  The rounding analysis follows elementwise updates only
(``ELEMENTWISE``): the two reducing optimizers are held to the same TOL without it.

``tools/measure_conformance.py`` imports ``GRID`` and ``run_case`` from here and prints the
worst errors as a table.  ``tests/test_torch_backend.py`` imports the rounding analysis.
"""
from __future__ import annotations

import copy
import os
from dataclasses import replace

import numpy as np
import pytest

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI") == "true":
        raise ImportError("torch is required in CI: the torch conformance tests need torch==2.13.0 "
                          "(make test installs it)") from None
    pytest.skip("torch is not installed: conformance tests need torch==2.13.0 (make test installs it)",
                allow_module_level=True)

import inspect

import optim
from optim.context import register_context
from optim.stateful import functional_arguments
from _families import matrix_only, newton_schulz_at_param_dtype

STEPS = 100
CHECKPOINTS = (1, 2, 3, 6, 10, 25, 50)          # compared in addition to the last step
SHAPES = [(3, 4), (7,), (), (2, 1, 3)]
# A family that steps matrices only (Muon): wide, tall (Newton–Schulz on the transpose), square, one row.
MATRIX_SHAPES = [(3, 4), (7, 2), (4, 4), (1, 6)]
DTYPES = {"float64": np.float64, "float32": np.float32}
# The tolerances, from an error analysis that holds on every CPU.  Ours (NumPy) and torch compute
# the same operations in the same order from the same inputs, over a fixed gradient sequence (the
# grads do not depend on the params: nothing feeds a rounding difference back).  They differ only
# in rounding: NumPy rounds every operation; torch's AVX2 and AVX-512 kernels fuse the
# multiply-adds of add(alpha=), addcmul_, addcdiv_ and lerp_ (one rounding instead of two), its
# default kernel does not; a kernel may multiply a product's factors in another order, and lerp_
# with a weight w ≥ 0.5 computes end − (1 − w)·(end − start).  Each rounding multiplies one result
# by (1 + δ), |δ| ≤ u (u = 2^-53 float64, 2^-24 float32), so to first order each evaluation lies
# within u·Σ_k|∂z/∂δ_k| of the exact z whatever it fuses (a fused rounding only drops its term;
# each factor of a product contributes |z| in any order; lerp's other form has terms no larger),
# and the two lie within 2u·Σ_k|∂z/∂δ_k| of each other.  ``rounding_bounds`` computes
# Σ_k|∂z/∂δ_k| per element by differentiating through the definition itself (``Rounded``).  Over the
# measure's scale, the worst bound of any comparison in this module is 1056 u (Adamax, lr
# schedule, float64, the 0-d param after 40 steps; ~15 roundings a step, each kept for up to
# 1/(1 − β) steps by a running average); float32's worst is 884 u.  TOL = 2^11 u is 1.9 times
# that; second-order terms, ~(1000 u)² relative, are negligible.
# ``test_tol_covers_the_rounding_analysis`` recomputes the bound of every comparison;
# ``test_each_run_lies_within_its_rounding_bound`` checks the premise on the CPU's kernels.
# Observed on torch 2.13 under the default, AVX2 and AVX-512 kernels: ≤ 25 u (2.8e-15) in
# float64, ≤ 10 u (5.9e-7) in float32.
UNIT_ROUNDOFF = {"float64": 2.0**-53, "float32": 2.0**-24}
TOL = {dtype_name: 2**11 * u for dtype_name, u in UNIT_ROUNDOFF.items()}   # 2.3e-13, 1.2e-4
ZERO_FRACTION = 0.15                             # share of gradient entries set exactly to 0

# optimizer -> [(label, kwargs)]: every option and branch of torch's single-tensor update.
GRID: dict[str, list[tuple[str, dict]]] = {
    "SGD": [
        ("plain", dict(lr=0.05)),
        ("momentum-dampening", dict(lr=0.05, momentum=0.9, dampening=0.3)),
        ("nesterov", dict(lr=0.05, momentum=0.9, nesterov=True)),
        ("weight_decay", dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
        ("maximize", dict(lr=0.05, momentum=0.9, maximize=True)),
    ],
    "Adam": [
        ("default", dict(lr=0.05)),
        ("amsgrad", dict(lr=0.05, amsgrad=True)),
        ("weight_decay", dict(lr=0.05, weight_decay=0.1)),
        ("decoupled_weight_decay", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
        ("maximize", dict(lr=0.05, maximize=True)),
        ("amsgrad-weight_decay", dict(lr=0.05, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1)),
    ],
    "AdamW": [
        ("default", dict(lr=0.05)),
        ("amsgrad", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
        ("maximize", dict(lr=0.05, maximize=True)),
        ("weight_decay0", dict(lr=0.05, weight_decay=0.0)),
    ],
    "Adadelta": [
        ("default", dict()),
        ("weight_decay", dict(weight_decay=0.1)),
        ("maximize", dict(maximize=True)),
        ("lr0.5-rho0.5", dict(lr=0.5, rho=0.5)),
    ],
    "Adagrad": [
        ("default", dict(lr=0.05)),
        ("lr_decay", dict(lr=0.05, lr_decay=0.01)),
        ("initial_accumulator_value", dict(lr=0.05, initial_accumulator_value=0.5)),
        ("weight_decay", dict(lr=0.05, weight_decay=0.1)),
        ("maximize", dict(lr=0.05, maximize=True)),
    ],
    "RMSprop": [
        ("default", dict(lr=0.01)),
        ("centered", dict(lr=0.01, centered=True)),
        ("momentum", dict(lr=0.01, momentum=0.9)),
        ("centered-momentum", dict(lr=0.01, centered=True, momentum=0.9)),
        ("weight_decay", dict(lr=0.01, weight_decay=0.1)),
        ("maximize", dict(lr=0.01, maximize=True)),
    ],
    "Adamax": [
        ("default", dict(lr=0.05)),
        ("weight_decay", dict(lr=0.05, weight_decay=0.1)),
        ("maximize", dict(lr=0.05, maximize=True)),
    ],
    "NAdam": [
        ("default", dict(lr=0.05)),
        ("weight_decay", dict(lr=0.05, weight_decay=0.1)),
        ("decoupled_weight_decay", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
        ("maximize", dict(lr=0.05, maximize=True)),
        ("momentum_decay", dict(lr=0.05, momentum_decay=0.1)),
    ],
    "RAdam": [
        # beta2 = 0.999: rho_t = 1, 2, 3, 4, 4.996 (unrectified), then 5.994, ... (rectified).
        ("default", dict(lr=0.05)),
        # beta2 = 0.9: rho_inf = 19, rho_t = 1, 1.95, 2.86, 3.74, 4.58, then 5.39, ...: rectified
        # from step 6 too, but with a rectification factor far below 1 for many steps.
        ("beta2-0.9", dict(lr=0.05, betas=(0.9, 0.9))),
        # beta2 = 0.7: rho_inf = 5.67, rho_t crosses 5 only at step 10 (4.91, then 5.085).
        ("beta2-0.7", dict(lr=0.05, betas=(0.9, 0.7))),
        ("weight_decay", dict(lr=0.05, weight_decay=0.1)),
        ("decoupled_weight_decay", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
        ("maximize", dict(lr=0.05, maximize=True)),
    ],
    "Rprop": [
        ("default", dict()),
        # step sizes start at lr = 0.01 and hit both 1e-3 (after 4 flips) and 0.05 (after 4 agreements).
        ("clamped", dict(lr=0.01, etas=(0.3, 1.6), step_sizes=(1e-3, 0.05))),
        ("maximize", dict(lr=0.01, maximize=True)),
    ],
    "ASGD": [
        ("default", dict(lr=0.05)),
        ("t0", dict(lr=0.05, t0=5)),           # mu = 1 / (t - t0) != 1 from step 7 on
        ("weight_decay", dict(lr=0.05, t0=5, weight_decay=0.1)),
        ("maximize", dict(lr=0.05, maximize=True)),
        ("lambd", dict(lr=0.05, lambd=0.5, alpha=0.6, t0=20)),
    ],
    # Factored (row and column factors) for the matrix and the 3-d param, one variance for the
    # vector and the 0-d param.  ε1 None: the dtype's machine epsilon.
    "Adafactor": [
        ("default", dict()),
        ("weight_decay", dict(weight_decay=0.1)),
        ("maximize", dict(maximize=True)),
        ("eps-d-beta2_decay", dict(eps=(1e-20, 1e-3), d=1.5, beta2_decay=-0.5)),
        # ρ = min(lr, 1/√t) = 1/√t from step 5; α from RMS(p) alone.  (Not lr = 1: the 0-d param's
        # first step is then p − |p|·sign(g)·(1 ± u), 0 up to rounding, which no relative measure takes.)
        ("lr0.5-epsilon2_0", dict(lr=0.5, eps=(None, 0.0))),
        ("weight_decay-maximize", dict(lr=0.05, weight_decay=0.1, maximize=True, d=2.0)),
    ],
    # Newton–Schulz at the param's dtype on both sides (torch's bfloat16 cast made a copy, see
    # torch_step); matrices only (MATRIX_SHAPES).
    "Muon": [
        ("default", dict()),
        ("nesterov_off-weight_decay0", dict(lr=0.02, nesterov=False, weight_decay=0.0)),
        ("match_rms_adamw", dict(lr=0.02, adjust_lr_fn="match_rms_adamw", momentum=0.5, ns_steps=3)),
        ("original-coefficients", dict(lr=0.02, adjust_lr_fn="original", ns_coefficients=(2.0, -1.5, 0.5),
                                       eps=1e-3, ns_steps=2)),
    ],
}

CASES = [(name, label, kwargs) for name, settings in GRID.items() for label, kwargs in settings]
# The optimizers whose update is elementwise: the rounding analysis behind TOL (``Rounded``, one
# flat tensor per group) covers them.  Adafactor's and Muon's reduce (norms, means, matrix
# products: ``REDUCES``), which it cannot follow; they are held to the same TOL empirically
# (observed ≤ 9 u in both dtypes), and their torch comparisons above are the same as every other's.
ELEMENTWISE = [name for name in GRID if not getattr(optim.OPTIMIZERS[name], "REDUCES", False)]


# -- data --------------------------------------------------------------------------------------
def seed_of(*parts) -> int:
    """A stable seed from names (not Python's salted ``hash``)."""
    return sum((i + 1) * ord(c) for i, c in enumerate("/".join(map(str, parts)))) % (2**31)


def shapes_of(name: str) -> list:
    """The params' shapes for an optimizer: ``SHAPES``, or ``MATRIX_SHAPES`` for a family that
    steps matrices only."""
    return MATRIX_SHAPES if matrix_only(optim.OPTIMIZERS[name]) else SHAPES


def make_problem(seed: int, dtype, steps: int = STEPS, shapes=SHAPES):
    """Initial params and ``steps`` gradient lists (fixed bias + noise, some entries exactly 0)."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    bias = [rng.standard_normal(shape) * 0.7 for shape in shapes]
    grads = []
    for _ in range(steps):
        step = []
        for shape, b in zip(shapes, bias):
            g = b + rng.standard_normal(shape)
            g = np.where(rng.random(shape) < ZERO_FRACTION, 0.0, g)
            step.append(np.asarray(g, dtype=dtype))
        grads.append(step)
    return params, grads


# -- the two runners ---------------------------------------------------------------------------
def torch_params(params):
    return [torch.tensor(p.copy(), requires_grad=True) for p in params]


def torch_optimizer(name: str, groups, kwargs: dict):
    cls = getattr(torch.optim, name)
    single_tensor = {"foreach": False} if "foreach" in inspect.signature(cls).parameters else {}   # (not Muon)
    return cls(groups, **kwargs, **single_tensor)


def torch_step(opt, tparams, grads) -> None:
    for p, g in zip(tparams, grads):
        p.grad = torch.tensor(g.copy())
    with newton_schulz_at_param_dtype():   # torch.optim.Muon at the param's dtype (no other optimizer casts)
        opt.step()


# -- errors ----------------------------------------------------------------------------------
def normwise_error(ours, theirs, scale: float = 0.0) -> float:
    """max|ours − torch| / max(scale, max|torch|, tiny), computed in float64.

    ``scale`` is the size the tensor has had at earlier checkpoints (see ``compare``).
    Non-finite entries must match exactly (NaN where torch has NaN, the same ±Inf), else the
    error is inf; the finite entries are measured against the finite part of torch's tensor.
    """
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    assert a.shape == b.shape, f"shape {a.shape} != torch's {b.shape}"
    finite = np.isfinite(b)
    same_nonfinite = np.array_equal(np.isnan(a), np.isnan(b)) and \
        np.array_equal(np.isposinf(a), np.isposinf(b)) and np.array_equal(np.isneginf(a), np.isneginf(b))
    if not same_nonfinite:
        return float("inf")
    if not finite.any():
        return 0.0
    diff = np.max(np.abs(a[finite] - b[finite]))
    return float(diff / max(scale, np.max(np.abs(b[finite])), np.finfo(np.float64).tiny))


def running_scale(scales: dict, what: str, value) -> float:
    """The largest finite |entry| the tensor ``what`` has had so far, this value included."""
    b = np.abs(np.asarray(value, dtype=np.float64))
    b = b[np.isfinite(b)]
    scales[what] = max(scales.get(what, 0.0), float(b.max()) if b.size else 0.0)
    return scales[what]


SCALAR_KEYS = ("step", "mu_product", "eta", "mu")   # torch keeps these as 0-d tensors, always


def compare(ours_params, ours_opt, tparams, topt, where: str,
            scales: dict | None = None) -> dict[str, float]:
    """Errors of the params and of every state entry, keyed ``'<what>[<index>]'``.

    Each is measured against the largest size the tensor has had at the checkpoints so far
    (``scales``, updated here; a fresh dict measures against the tensor as it is now)."""
    scales = {} if scales is None else scales
    errors = {}
    for i, (p, tp) in enumerate(zip(ours_params, tparams)):
        tp = tp.detach().numpy()
        assert p.dtype == tp.dtype, f"{where}: param {i} dtype {p.dtype} != torch's {tp.dtype}"
        errors[f"param[{i}]"] = normwise_error(p, tp, running_scale(scales, f"param[{i}]", tp))
    # An empty entry (SGD without momentum keeps nothing) counts as no entry.
    ours_state = {i: s for i, s in ours_opt.state_dict()["state"].items() if s}
    theirs_state = {i: s for i, s in topt.state_dict()["state"].items()
                    if any(v is not None for v in s.values())}
    assert set(ours_state) == set(theirs_state), f"{where}: state indices {sorted(ours_state)} != " \
                                                 f"torch's {sorted(theirs_state)}"
    for index, theirs in theirs_state.items():
        ours = ours_state[index]
        torch_keys = {k for k, v in theirs.items() if v is not None}
        missing = torch_keys - set(ours)
        assert not missing, f"{where}: param {index} lacks torch's state entries {sorted(missing)}"
        extra = set(ours) - torch_keys
        assert not extra, f"{where}: param {index} has state entries torch does not: {sorted(extra)}"
        for key in sorted(torch_keys):
            value, tvalue = ours[key], theirs[key]
            if key in SCALAR_KEYS:
                tvalue, value = float(tvalue), float(value)
            else:                                # buffers shaped like the param, in its dtype
                tvalue = tvalue.detach().numpy()
                # (a 0-d param's buffers may come back as NumPy scalars: np.float32(x) has a dtype
                # and shape () like a 0-d array, so it is accepted)
                assert isinstance(value, (np.ndarray, np.generic)) and value.dtype == tvalue.dtype \
                    and value.shape == tvalue.shape, \
                    f"{where}: {key}[{index}] is {type(value).__name__} {getattr(value, 'dtype', '')} " \
                    f"{getattr(value, 'shape', '')}, torch's is {tvalue.dtype} {tvalue.shape}"
            what = f"{key}[{index}]"
            errors[what] = normwise_error(value, tvalue, running_scale(scales, what, tvalue))
    return errors


def run_case(name: str, kwargs: dict, dtype, steps: int = STEPS, checkpoints=CHECKPOINTS,
             seed: int | None = None) -> dict[str, tuple[float, int]]:
    """Run ours and torch side by side; the worst error of each tensor, and the step it occurred."""
    seed = seed_of(name, sorted(kwargs.items()), np.dtype(dtype).name) if seed is None else seed
    params, grads = make_problem(seed, dtype, steps, shapes_of(name))
    ours_params = [p.copy() for p in params]
    tparams = torch_params(params)
    ours = optim.TORCH_OPTIMIZERS[name](ours_params, **kwargs)
    theirs = torch_optimizer(name, tparams, kwargs)
    worst: dict[str, tuple[float, int]] = {}
    scales: dict[str, float] = {}
    for step, g in enumerate(grads, 1):
        ours.step([x.copy() for x in g])
        torch_step(theirs, tparams, g)
        if step in checkpoints or step == steps:
            for what, err in compare(ours_params, ours, tparams, theirs, f"step {step}", scales).items():
                if what not in worst or err > worst[what][0]:
                    worst[what] = (err, step)
    return worst


# -- first-order rounding error analysis -------------------------------------------------------
class Rounded:
    """One tensor of a float evaluation of an optimizer's definition, for rounding error analysis.

    ``value`` is the exact result (float64, from exact inputs).  Every arithmetic operation's
    result is thought of as multiplied by (1 + δ), as is every Python scalar where it meets a
    tensor (torch and NumPy round it to the tensor's dtype); a float evaluation of the same
    operations rounds each result to nearest, |δ| ≤ u.  ``tape`` records the operations (the
    partial derivatives of each result by its operands, and the results that round), so that
    ``first_order_bound`` can sweep back from any result z: to first order, the float evaluation
    lies within u·Σ_k|∂z/∂δ_k| = u·Σ_k|∂z/∂q_k|·|q_k| of the exact z, per element (every
    operation is elementwise).
    """

    __array_ufunc__ = None      # a NumPy scalar on the left defers to Rounded's operators

    def __init__(self, value, tape: list, dtype: str, node: int | None = None):
        self.value, self.tape, self.dtype, self.node = value, tape, dtype, node

    @classmethod
    def exact(cls, x, tape: list, dtype: str) -> "Rounded":
        """An input: exact (a float32 or float64 array or tensor), not rounded again."""
        array = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x
        return cls(np.array(array, dtype=np.float64), tape, dtype)

    def result(self, value, *partials, rounds: bool = True) -> "Rounded":
        """A new value; ``partials``: (operand, ∂value/∂operand) pairs."""
        parents = tuple((x.node, d) for x, d in partials if x.node is not None)
        if not parents and not rounds:
            return Rounded(value, self.tape, self.dtype)
        self.tape.append((parents, value if rounds else None))
        return Rounded(value, self.tape, self.dtype, len(self.tape) - 1)

    def operand(self, other) -> "Rounded":
        if isinstance(other, Rounded):
            return other
        return self.result(np.full(np.shape(self.value), float(other)))      # a rounded scalar

    def __add__(self, other):
        y = self.operand(other)
        return self.result(self.value + y.value, (self, 1.0), (y, 1.0))

    __radd__ = __add__

    def __sub__(self, other):
        y = self.operand(other)
        return self.result(self.value - y.value, (self, 1.0), (y, -1.0))

    def __rsub__(self, other):
        return self.operand(other) - self

    def __mul__(self, other):
        y = self.operand(other)
        return self.result(self.value * y.value, (self, y.value), (y, self.value))

    __rmul__ = __mul__

    def __truediv__(self, other):
        y = self.operand(other)
        z = self.value / y.value
        return self.result(z, (self, 1 / y.value), (y, -z / y.value))

    def __rtruediv__(self, other):
        return self.operand(other) / self

    def __neg__(self):
        return self.result(-self.value, (self, -1.0), rounds=False)

    def __gt__(self, other):
        return self.value > self.operand(other).value

    def __lt__(self, other):
        return self.value < self.operand(other).value


def first_order_bound(z: Rounded) -> np.ndarray:
    """Σ_k|∂z/∂δ_k| per element: z's rounding error bound in units of u (a reverse sweep)."""
    total = np.zeros(np.shape(z.value))
    if z.node is None:
        return total
    adjoints = {z.node: np.ones(np.shape(z.value))}
    for k in range(z.node, -1, -1):
        adjoint = adjoints.pop(k, None)
        if adjoint is None:
            continue
        parents, rounded = z.tape[k]
        if rounded is not None:
            total += np.abs(adjoint * rounded)
        for j, partial in parents:
            term = adjoint * partial
            adjoints[j] = adjoints[j] + term if j in adjoints else term
    return total


class RoundedContext:
    """The backend protocol (``optim.context``) over ``Rounded``: the same definitions, analysed."""

    name = "rounded"

    def sqrt(self, x):
        if not isinstance(x, Rounded):
            return x**0.5
        z = np.sqrt(x.value)
        # an exact 0 stays exactly 0 in every evaluation (its roundings are 0 too)
        return x.result(z, (x, np.divide(0.5, z, out=np.zeros_like(z), where=z > 0)))

    def square(self, x):
        return x * x

    def abs(self, x):
        if not isinstance(x, Rounded):
            return abs(x)
        return x.result(np.abs(x.value), (x, np.sign(x.value)), rounds=False)

    def sign(self, x):          # piecewise constant (Rprop's signs of exact products)
        if not isinstance(x, Rounded):
            return float((x > 0) - (x < 0))
        return Rounded(np.sign(x.value), x.tape, x.dtype)

    def maximum(self, x, y):    # exact; at a tie both operands count, which over-counts: safe
        if not isinstance(x, Rounded) and not isinstance(y, Rounded):
            return max(x, y)
        like = x if isinstance(x, Rounded) else y
        a, b = like.operand(x), like.operand(y)
        return like.result(np.maximum(a.value, b.value), (a, a.value >= b.value), (b, b.value >= a.value),
                           rounds=False)

    def minimum(self, x, y):
        if not isinstance(x, Rounded) and not isinstance(y, Rounded):
            return min(x, y)
        like = x if isinstance(x, Rounded) else y
        a, b = like.operand(x), like.operand(y)
        return like.result(np.minimum(a.value, b.value), (a, a.value <= b.value), (b, b.value <= a.value),
                           rounds=False)

    def where(self, condition, x, y):
        like = x if isinstance(x, Rounded) else y
        a, b = like.operand(x), like.operand(y)
        condition = np.asarray(condition)
        return like.result(np.where(condition, a.value, b.value), (a, condition), (b, ~condition),
                           rounds=False)

    def select(self, condition, if_true, if_false):
        return if_true() if condition else if_false()

    def round_float32(self, x):
        return float(np.float32(x))

    def copy(self, x):
        return x.result(x.value.copy(), (x, 1.0), rounds=False)

    def zeros_like(self, x):
        return Rounded(np.zeros_like(x.value), x.tape, x.dtype)

    def full_like(self, x, value):
        return x.operand(value)

    def shape(self, x):
        return np.shape(x.value)

    def dtype(self, x):
        return x.dtype

    def check_tensor(self, x, role):
        pass


register_context(Rounded, RoundedContext())


def rounding_bounds(name: str, per_param_kwargs: list[dict], params, grads, checkpoints, lrs=None):
    """Run the definition over ``Rounded`` values (each param with its own kwargs; ``lrs``: an lr
    per step, as a schedule sets it) and yield, at each checkpoint, for every param and state
    tensor, ``(step, what, exact, coefficients)``: its exact value and, per element, Σ_k|∂z/∂δ_k|
    (an evaluation that rounds each operation lies within that many u of the exact value).

    The update is elementwise, so the params that share kwargs run as one flat tensor (one
    tape, split again per param)."""
    cls = optim.TORCH_OPTIMIZERS[name]
    dtype = np.dtype(params[0].dtype).name
    groups: list[tuple[dict, list[int]]] = []
    for i, kwargs in enumerate(per_param_kwargs):
        match = next((members for kw, members in groups if kw == kwargs), None)
        if match is None:
            groups.append((kwargs, [i]))
        else:
            match.append(i)
    sizes = [np.size(p) for p in params]

    def flat(arrays, members, tape):
        return Rounded.exact(np.concatenate([np.ravel(arrays[i]) for i in members]), tape, dtype)

    tapes = [[] for _ in groups]
    values = [flat(params, members, tape) for (_, members), tape in zip(groups, tapes)]
    states = [cls.family.init(v, **functional_arguments({**cls.defaults, **kw}, cls.family))
              for v, (kw, _) in zip(values, groups)]
    fields_of = {field: key for key, field in cls.state_names.items()}
    for step, g in enumerate(grads, 1):
        for j, ((_, members), tape) in enumerate(zip(groups, tapes)):
            state = states[j] if lrs is None else replace(states[j], lr=lrs[step - 1])
            states[j], values[j] = cls.family.update(state, values[j], flat(g, members, tape))
        if step not in checkpoints:
            continue
        outputs = {"param": values}
        for field, key in fields_of.items():
            if all(isinstance(getattr(s, field), Rounded) for s in states):
                outputs[key] = [getattr(s, field) for s in states]
        for key, zs in outputs.items():
            for z, (_, members) in zip(zs, groups):
                exact, coefficients = z.value, first_order_bound(z)
                offsets = np.cumsum([0] + [sizes[i] for i in members])
                for i, a, b in zip(members, offsets[:-1], offsets[1:]):
                    shape = np.shape(params[i])
                    yield step, f"{key}[{i}]", exact[a:b].reshape(shape), coefficients[a:b].reshape(shape)


def rounding_analysis(name: str, per_param_kwargs: list[dict], params, grads, checkpoints,
                      lrs=None) -> tuple[float, str, int]:
    """The first-order bound of the suite's error measure for these inputs, in units of u:
    the worst, over the checkpoints and tensors, of 2·max Σ|∂z/∂δ| (ours and torch each lie
    within Σ|∂z/∂δ|·u of the exact z) over the scale ``compare`` divides by.
    Returns (bound, tensor, step)."""
    scales: dict[str, float] = {}
    worst = (0.0, "", 0)
    for step, what, exact, coefficients in rounding_bounds(name, per_param_kwargs, params, grads,
                                                           checkpoints, lrs):
        scale = running_scale(scales, what, exact)
        # where torch's entry is NaN or ±Inf the test asks for the same entry, exactly
        largest = float(coefficients[np.isfinite(exact)].max(initial=0.0))
        bound = 2 * largest / max(scale, np.finfo(np.float64).tiny)
        bound = bound if np.isfinite(bound) else float("inf")
        if bound > worst[0]:
            worst = (bound, what, step)
    return worst


# -- the grid ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name,label,kwargs",
                         [pytest.param(n, l, k, id=f"{n}-{l}") for n, l, k in CASES])
def test_matches_torch(name, label, kwargs, dtype_name):
    worst = run_case(name, kwargs, DTYPES[dtype_name])
    what, (err, step) = max(worst.items(), key=lambda item: item[1][0])
    assert err <= TOL[dtype_name], (
        f"{name} {label} {dtype_name}: {what} differs from torch by a normwise relative "
        f"{err:.3g} at step {step} (tolerance {TOL[dtype_name]:g}); all: "
        + ", ".join(f"{k}={v[0]:.2g}@{v[1]}" for k, v in sorted(worst.items()) if v[0] > TOL[dtype_name]))


def test_grid_covers_every_optimizer():
    assert set(GRID) == set(optim.TORCH_OPTIMIZERS)
    for name, settings in GRID.items():
        defaults = optim.TORCH_OPTIMIZERS[name].defaults
        for label, kwargs in settings:
            assert set(kwargs) <= set(defaults), f"{name}-{label}: {sorted(set(kwargs) - set(defaults))}"


# -- the grid really reaches the branches it claims ---------------------------------------------
def test_rprop_grid_reaches_every_sign_case_and_both_clamps():
    kwargs = dict(GRID["Rprop"])["clamped"]
    for dtype in DTYPES.values():
        params, grads = make_problem(seed_of("Rprop", sorted(kwargs.items()), np.dtype(dtype).name), dtype)
        tparams = torch_params(params)
        opt = torch_optimizer("Rprop", tparams, kwargs)
        seen = {"same": 0, "flipped": 0, "zero": 0, "min": 0, "max": 0}
        for g in grads:
            prevs = [opt.state[p]["prev"].numpy().copy() if p in opt.state else np.zeros_like(x)
                     for p, x in zip(tparams, g)]
            torch_step(opt, tparams, g)
            for p, x, prev in zip(tparams, g, prevs):
                product = np.sign(x * prev)
                seen["same"] += int((product > 0).sum())
                seen["flipped"] += int((product < 0).sum())
                seen["zero"] += int(((product == 0) & (x == 0) & (prev != 0)).sum())
                step_size = opt.state[p]["step_size"].numpy()
                seen["min"] += int((step_size == np.asarray(1e-3, dtype)).sum())
                seen["max"] += int((step_size == np.asarray(0.05, dtype)).sum())
        assert all(seen.values()), seen


def test_asgd_and_radam_grids_reach_their_branches():
    # ASGD t0=5: mu != 1 (averaging) after step 6.
    params, grads = make_problem(1, np.float64, 10)
    opt = optim.ASGD([p.copy() for p in params], **dict(GRID["ASGD"])["t0"])
    for g in grads:
        opt.step(g)
    assert opt.state_dict()["state"][0]["mu"] < 1
    # RAdam: unrectified (rho_t <= 5) then rectified steps, for both grid betas.
    for beta2, switch in ((0.999, 6), (0.9, 6), (0.7, 10)):
        assert any(kw.get("betas", (0.9, 0.999))[1] == beta2 for _, kw in GRID["RAdam"])
        rho_inf = 2 / (1 - beta2) - 1
        rho = [rho_inf - 2 * t * beta2**t / (1 - beta2**t) for t in range(1, STEPS + 1)]
        assert all(r <= 5 for r in rho[:switch - 1]) and all(r > 5 for r in rho[switch - 1:]), rho


# -- non-finite gradients ----------------------------------------------------------------------
# The brief's two (SGD with momentum, Adam), then every other optimizer in its default setting.
NONFINITE = [("SGD", "momentum", dict(lr=0.05, momentum=0.9)),
             ("SGD", "nesterov", dict(lr=0.05, momentum=0.9, nesterov=True)),
             ("Adam", "default", dict(lr=0.05)), ("Adam", "amsgrad", dict(lr=0.05, amsgrad=True))]
NONFINITE += [(n, *GRID[n][0]) for n in GRID if n not in ("SGD", "Adam")]




def nonfinite_problem(name: str, dtype):
    """6 steps; NaN and ±Inf entries from step 3 on, a whole NaN gradient (the 0-d one) at step 5."""
    params, grads = make_problem(seed_of("nonfinite", name), dtype, 6, shapes_of(name))
    grads[2][0][0, 0] = np.nan
    grads[2][0][1, 2] = np.inf
    grads[3][1][4] = -np.inf
    grads[4][2][...] = np.nan
    return params, grads


@pytest.mark.parametrize("execution", ["workspace", "functional"])
@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name,label,kwargs", [pytest.param(n, l, k, id=f"{n}-{l}") for n, l, k in NONFINITE])
def test_nonfinite_gradients_propagate_as_in_torch(name, label, kwargs, dtype_name, execution):
    """Both executions: the workspace path replays the traced operations, the functional path
    runs the NumPy context itself (its own sign, maximum, where on NaN)."""
    params, grads = nonfinite_problem(name, DTYPES[dtype_name])
    scales: dict[str, float] = {}
    ours_params = [p.copy() for p in params]
    tparams = torch_params(params)
    ours = optim.TORCH_OPTIMIZERS[name](ours_params, **kwargs, execution=execution)
    theirs = torch_optimizer(name, tparams, kwargs)
    with np.errstate(all="ignore"):
        for step, g in enumerate(grads, 1):
            ours.step([x.copy() for x in g])
            torch_step(theirs, tparams, g)
            for i, (p, tp) in enumerate(zip(ours_params, tparams)):
                tp = tp.detach().numpy()
                for kind, test in (("NaN", np.isnan), ("+Inf", np.isposinf), ("-Inf", np.isneginf)):
                    assert np.array_equal(test(p), test(tp)), \
                        f"step {step}, param {i}: {kind} entries differ from torch's: ours {p}, torch {tp}"
            errors = compare(ours_params, ours, tparams, theirs, f"step {step}", scales)
            assert max(errors.values()) <= TOL[dtype_name], errors


# -- param groups and schedules ----------------------------------------------------------------
def representative(name: str) -> dict:
    """The grid's last setting of each optimizer (a non-default one)."""
    return dict(GRID[name][-1][1])


def groups_problem(name: str, dtype_name: str):
    """Two groups: params 0, 1 with the representative setting, params 2, 3 with 3·lr and one
    more hyperparameter of their own.  (params, grads, kwargs, second group's overrides)."""
    kwargs = representative(name)
    lr = kwargs.pop("lr", optim.TORCH_OPTIMIZERS[name].defaults["lr"])
    extra = {"SGD": dict(momentum=0.5), "Adam": dict(betas=(0.5, 0.9)), "AdamW": dict(weight_decay=0.3),
             "Adadelta": dict(rho=0.7), "Adagrad": dict(lr_decay=0.1), "RMSprop": dict(alpha=0.9),
             "Adamax": dict(eps=1e-3), "NAdam": dict(momentum_decay=0.02), "RAdam": dict(betas=(0.8, 0.95)),
             "Rprop": dict(etas=(0.4, 1.1)), "ASGD": dict(alpha=0.9), "Adafactor": dict(beta2_decay=-0.6),
             "Muon": dict(momentum=0.8, ns_steps=4)}[name]
    params, grads = make_problem(seed_of("groups", name, dtype_name), DTYPES[dtype_name], 40, shapes_of(name))
    return params, grads, dict(kwargs, lr=lr), dict(lr=lr * 3, **extra)


def schedule_problem(name: str, dtype_name: str):
    """40 steps with a cosine-decayed lr (set in param_groups[0] before each step)."""
    kwargs = representative(name)
    params, grads = make_problem(seed_of("schedule", name, dtype_name), DTYPES[dtype_name], 40, shapes_of(name))
    base = kwargs.get("lr", optim.TORCH_OPTIMIZERS[name].defaults["lr"])
    lrs = [base * (0.5 + 0.5 * np.cos(np.pi * step / len(grads))) + base * 0.01
           for step in range(1, len(grads) + 1)]
    return params, grads, kwargs, lrs


@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name", list(GRID))
def test_param_groups_match_torch(name, dtype_name):
    params, grads, kwargs, second = groups_problem(name, dtype_name)
    lr = kwargs.pop("lr")
    ours_params = [p.copy() for p in params]
    tparams = torch_params(params)

    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2:], **second}]

    ours = optim.TORCH_OPTIMIZERS[name](groups(ours_params), lr=lr, **kwargs)
    theirs = torch_optimizer(name, groups(tparams), dict(kwargs, lr=lr))
    for step, g in enumerate(grads, 1):
        ours.step([x.copy() for x in g])
        torch_step(theirs, tparams, g)
    errors = compare(ours_params, ours, tparams, theirs, "groups")
    assert max(errors.values()) <= TOL[dtype_name], errors
    ours_groups = ours.state_dict()["param_groups"]
    theirs_groups = theirs.state_dict()["param_groups"]
    assert len(ours_groups) == len(theirs_groups) == 2

    def plain(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    for og, tg in zip(ours_groups, theirs_groups):   # ours: torch's keys, less foreach & co.
        for key, value in og.items():
            assert key in tg and plain(value) == plain(tg[key]), (key, value, tg.get(key))


@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name", list(GRID))
def test_lr_schedule_matches_torch(name, dtype_name):
    params, grads, kwargs, lrs = schedule_problem(name, dtype_name)
    ours_params = [p.copy() for p in params]
    tparams = torch_params(params)
    ours = optim.TORCH_OPTIMIZERS[name](ours_params, **kwargs)
    theirs = torch_optimizer(name, tparams, kwargs)
    for g, lr in zip(grads, lrs):
        ours.param_groups[0]["lr"] = lr
        theirs.param_groups[0]["lr"] = lr
        ours.step([x.copy() for x in g])
        torch_step(theirs, tparams, g)
    errors = compare(ours_params, ours, tparams, theirs, "schedule")
    assert max(errors.values()) <= TOL[dtype_name], errors


# -- state_dict round trip ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name,label,kwargs",
                         [pytest.param(n, l, k, id=f"{n}-{l}") for n, l, k in CASES])
def test_state_dict_round_trip_is_bitwise(name, label, kwargs, dtype_name):
    dtype = DTYPES[dtype_name]
    cls = optim.TORCH_OPTIMIZERS[name]
    params, grads = make_problem(seed_of("roundtrip", name, label, dtype_name), dtype, 60, shapes_of(name))

    straight = [p.copy() for p in params]
    reference = cls(straight, **kwargs)
    for g in grads:
        reference.step(g)

    first = [p.copy() for p in params]
    opt = cls(first, **kwargs)
    for g in grads[:30]:
        opt.step(g)
    saved = copy.deepcopy(opt.state_dict())
    resumed = [p.copy() for p in first]
    opt = cls(resumed, **kwargs)
    opt.load_state_dict(saved)
    for g in grads[30:]:
        opt.step(g)

    for a, b in zip(resumed, straight):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    ours_state, ref = opt.state_dict()["state"], reference.state_dict()["state"]
    assert set(ours_state) == set(ref)
    for index in ref:
        assert set(ours_state[index]) == set(ref[index])
        for key, value in ref[index].items():
            mine = ours_state[index][key]
            if isinstance(value, np.ndarray):
                assert mine.dtype == value.dtype and mine.tobytes() == value.tobytes(), (index, key)
            else:
                assert type(mine) is type(value) and mine == value, (index, key, mine, value)
    assert saved["param_groups"] == opt.state_dict()["param_groups"]


# -- the analysis behind TOL -------------------------------------------------------------------
def analysed_runs(name: str, dtype_name: str):
    """Every comparison of ``name`` in this suite, as the analysis runs it:
    (what, per-param kwargs, params, grads, compared steps, lrs)."""
    dtype = DTYPES[dtype_name]
    for label, kwargs in GRID[name]:
        params, grads = make_problem(seed_of(name, sorted(kwargs.items()), dtype_name), dtype)
        yield f"grid {label}", [kwargs] * len(params), params, grads, set(CHECKPOINTS) | {STEPS}, None
    for other, label, kwargs in NONFINITE:
        if other == name:
            params, grads = nonfinite_problem(name, dtype)
            every_step = set(range(1, len(grads) + 1))
            yield f"non-finite {label}", [kwargs] * len(params), params, grads, every_step, None
    params, grads, kwargs, second = groups_problem(name, dtype_name)
    yield "groups", [kwargs] * 2 + [dict(kwargs, **second)] * 2, params, grads, {len(grads)}, None
    params, grads, kwargs, lrs = schedule_problem(name, dtype_name)
    yield "schedule", [kwargs] * len(params), params, grads, {len(grads)}, lrs


@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_tol_covers_the_rounding_analysis(name, dtype_name):
    """TOL is at least the first-order bound of the error measure for every comparison above."""
    u = UNIT_ROUNDOFF[dtype_name]
    worst = {}
    with np.errstate(all="ignore"):
        for what, per_param, params, grads, steps, lrs in analysed_runs(name, dtype_name):
            worst[what] = rounding_analysis(name, per_param, params, grads, steps, lrs)
    what, (bound, tensor, step) = max(worst.items(), key=lambda item: item[1][0])
    assert bound * u <= TOL[dtype_name], (f"{name} {what}: the rounding bound of {tensor} at step {step} "
                                          f"is {bound:.0f} u > TOL = {TOL[dtype_name] / u:.0f} u")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_each_run_lies_within_its_rounding_bound(name):
    """The analysis' premise, on this CPU's kernels: ours and torch each lie within u·Σ|∂z/∂δ| of
    the exact value, per element, at every checkpoint (float32, the representative setting; the
    exact value is the float64 evaluation, 2^29 times more accurate)."""
    kwargs = representative(name)
    dtype = np.float32
    u = UNIT_ROUNDOFF["float32"]
    params, grads = make_problem(seed_of("within", name), dtype)
    ours_params = [p.copy() for p in params]
    tparams = torch_params(params)
    ours = optim.TORCH_OPTIMIZERS[name](ours_params, **kwargs)
    theirs = torch_optimizer(name, tparams, kwargs)
    done = 0
    for step, what, exact, coefficients in rounding_bounds(name, [kwargs] * len(params), params, grads,
                                                           set(CHECKPOINTS) | {STEPS}):
        while done < step:
            ours.step([x.copy() for x in grads[done]])
            torch_step(theirs, tparams, grads[done])
            done += 1
        key, index = what[:-1].split("[")
        index = int(index)
        if key == "param":
            mine, torchs = ours_params[index], tparams[index].detach().numpy()
        else:
            mine, torchs = ours.state_dict()["state"][index][key], theirs.state[tparams[index]][key].numpy()
        allowed = coefficients * u * (1 + 2.0**-10) + np.finfo(dtype).smallest_subnormal
        for who, value in (("ours", mine), ("torch", torchs)):
            excess = np.abs(np.asarray(value, np.float64) - exact) - allowed
            entry = np.unravel_index(excess.argmax(), excess.shape)
            assert excess.max() <= 0, \
                f"step {step}: {who} {what} is {excess.max():.3g} beyond its rounding bound (entry {entry})"
