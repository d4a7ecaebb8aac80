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
the normwise relative error per tensor,

    err(ours, torch) = max|ours − torch| / max(max|torch|, tiny)

(``tiny`` = the smallest normal number of the dtype).  An elementwise relative error would be
meaningless for entries at or near zero (a zero gradient entry, a momentum buffer crossing
zero); the normwise one measures the error against the scale of the tensor.  The worst error
over all tensors and checkpoints must be ≤ 1e-12 in float64 and ≤ 1e-5 in float32 (``TOL``).
For the 0-d param (shape ``()``) the measure is its elementwise relative error, the most
sensitive case: a buffer that cancels to near zero shows torch's and NumPy's last-bit
differences (torch's CPU kernels fuse multiply-adds, NumPy rounds each operation) magnified.

Also tested: NaN / Inf gradients propagate as in torch (same NaN / ±Inf entries, every
optimizer); param groups with per-group
hyperparameters; a learning-rate schedule (editing ``param_groups[0]["lr"]`` between steps);
and the ``state_dict`` / ``load_state_dict`` round trip (bitwise equal to an uninterrupted run).

``tools/measure_conformance.py`` imports ``GRID`` and ``run_case`` from here and prints the
worst errors as a table.
"""
from __future__ import annotations

import copy
import os

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

import optim

STEPS = 100
CHECKPOINTS = (1, 2, 3, 6, 10, 25, 50)          # compared in addition to the last step
SHAPES = [(3, 4), (7,), (), (2, 1, 3)]
DTYPES = {"float64": np.float64, "float32": np.float32}
TOL = {"float64": 1e-12, "float32": 1e-5}
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
}

CASES = [(name, label, kwargs) for name, settings in GRID.items() for label, kwargs in settings]


# -- data --------------------------------------------------------------------------------------
def seed_of(*parts) -> int:
    """A stable seed from names (not Python's salted ``hash``)."""
    return sum((i + 1) * ord(c) for i, c in enumerate("/".join(map(str, parts)))) % (2**31)


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
    return getattr(torch.optim, name)(groups, **kwargs, foreach=False)


def torch_step(opt, tparams, grads) -> None:
    for p, g in zip(tparams, grads):
        p.grad = torch.tensor(g.copy())
    opt.step()


# -- errors ------------------------------------------------------------------------------------
def normwise_error(ours, theirs) -> float:
    """max|ours − torch| / max(max|torch|, tiny), computed in float64.

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
    scale = max(np.max(np.abs(b[finite])), np.finfo(np.float64).tiny)
    return float(diff / scale)


SCALAR_KEYS = ("step", "mu_product", "eta", "mu")   # torch keeps these as 0-d tensors, always


def compare(ours_params, ours_opt, tparams, topt, where: str) -> dict[str, float]:
    """Errors of the params and of every state entry, keyed ``'<what>[<index>]'``."""
    errors = {}
    for i, (p, tp) in enumerate(zip(ours_params, tparams)):
        tp = tp.detach().numpy()
        assert p.dtype == tp.dtype, f"{where}: param {i} dtype {p.dtype} != torch's {tp.dtype}"
        errors[f"param[{i}]"] = normwise_error(p, tp)
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
            errors[f"{key}[{index}]"] = normwise_error(value, tvalue)
    return errors


def run_case(name: str, kwargs: dict, dtype, steps: int = STEPS, checkpoints=CHECKPOINTS,
             seed: int | None = None) -> dict[str, tuple[float, int]]:
    """Run ours and torch side by side; the worst error of each tensor, and the step it occurred."""
    seed = seed_of(name, sorted(kwargs.items()), np.dtype(dtype).name) if seed is None else seed
    params, grads = make_problem(seed, dtype, steps)
    ours_params = [p.copy() for p in params]
    tparams = torch_params(params)
    ours = optim.TORCH_OPTIMIZERS[name](ours_params, **kwargs)
    theirs = torch_optimizer(name, tparams, kwargs)
    worst: dict[str, tuple[float, int]] = {}
    for step, g in enumerate(grads, 1):
        ours.step([x.copy() for x in g])
        torch_step(theirs, tparams, g)
        if step in checkpoints or step == steps:
            for what, err in compare(ours_params, ours, tparams, theirs, f"step {step}").items():
                if what not in worst or err > worst[what][0]:
                    worst[what] = (err, step)
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


@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name,label,kwargs", [pytest.param(n, l, k, id=f"{n}-{l}") for n, l, k in NONFINITE])
def test_nonfinite_gradients_propagate_as_in_torch(name, label, kwargs, dtype_name):
    dtype = DTYPES[dtype_name]
    params, grads = make_problem(seed_of("nonfinite", name), dtype, 6)
    grads[2][0][0, 0] = np.nan
    grads[2][0][1, 2] = np.inf
    grads[3][1][4] = -np.inf
    grads[4][2][...] = np.nan
    ours_params = [p.copy() for p in params]
    tparams = torch_params(params)
    ours = optim.TORCH_OPTIMIZERS[name](ours_params, **kwargs)
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
            errors = compare(ours_params, ours, tparams, theirs, f"step {step}")
            assert max(errors.values()) <= TOL[dtype_name], errors


# -- param groups and schedules ----------------------------------------------------------------
def representative(name: str) -> dict:
    """The grid's last setting of each optimizer (a non-default one)."""
    return dict(GRID[name][-1][1])


@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("name", list(GRID))
def test_param_groups_match_torch(name, dtype_name):
    dtype = DTYPES[dtype_name]
    kwargs = representative(name)
    lr = kwargs.pop("lr", optim.TORCH_OPTIMIZERS[name].defaults["lr"])
    extra = {"SGD": dict(momentum=0.5), "Adam": dict(betas=(0.5, 0.9)), "AdamW": dict(weight_decay=0.3),
             "Adadelta": dict(rho=0.7), "Adagrad": dict(lr_decay=0.1), "RMSprop": dict(alpha=0.9),
             "Adamax": dict(eps=1e-3), "NAdam": dict(momentum_decay=0.02), "RAdam": dict(betas=(0.8, 0.95)),
             "Rprop": dict(etas=(0.4, 1.1)), "ASGD": dict(alpha=0.9)}[name]
    params, grads = make_problem(seed_of("groups", name, dtype_name), dtype, 40)
    ours_params = [p.copy() for p in params]
    tparams = torch_params(params)

    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2:], "lr": lr * 3, **extra}]

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
    dtype = DTYPES[dtype_name]
    kwargs = representative(name)
    params, grads = make_problem(seed_of("schedule", name, dtype_name), dtype, 40)
    ours_params = [p.copy() for p in params]
    tparams = torch_params(params)
    ours = optim.TORCH_OPTIMIZERS[name](ours_params, **kwargs)
    theirs = torch_optimizer(name, tparams, kwargs)
    base = ours.param_groups[0]["lr"]
    for step, g in enumerate(grads, 1):
        lr = base * (0.5 + 0.5 * np.cos(np.pi * step / len(grads))) + base * 0.01   # cosine decay
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
    params, grads = make_problem(seed_of("roundtrip", name, label, dtype_name), dtype, 60)

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
