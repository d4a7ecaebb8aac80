"""optim.lr_scheduler against torch.optim.lr_scheduler (torch 2.13), the reference.

Each case drives torch's scheduler on a torch.optim optimizer and ours on one of our NumPy
optimizers (``optim.SGD``, ``optim.Adam``), stepping the optimizer and the scheduler as a
training loop does, and compares at every step ``get_last_lr()``, each group's lr and,
where a schedule cycles it, momentum or betas.  They must be EQUAL bit for bit: the pure
schedule functions do torch's float operations in torch's order, so they round alike.
(Every comparison here is bitwise; none needed a tolerance.)

Without torch this module is skipped, except in CI (``CI=true``), where that is an error.
"""
from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI") == "true":
        raise ImportError("torch is required in CI: the lr scheduler tests compare with torch==2.13.0") from None
    pytest.skip("torch is not installed: the lr scheduler tests compare with torch==2.13.0",
                allow_module_level=True)

import sympy
from torch.optim import lr_scheduler as theirs

import optim
from optim import lr_scheduler as ours
from optim import torch_backend

LRS = (0.1, 0.03)             # two param groups with different base lrs
MOMENTA = (0.9, 0.8)


# ---------------------------------------------------------------------------------------
# Optimizers: the same groups on torch.optim and on ours.

def torch_optimizer(kind: str, lrs=LRS, lr_type=float):
    groups = []
    for i, lr in enumerate(lrs):
        group = {"params": [torch.zeros(3, dtype=torch.float64, requires_grad=True)], "lr": lr_type(lr)}
        if kind == "sgd_momentum":
            group["momentum"] = MOMENTA[i]
        groups.append(group)
    if kind == "adam":
        return torch.optim.Adam(groups, lr=lrs[0], foreach=False)
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.0, foreach=False)


def our_optimizer(kind: str, lrs=LRS):
    groups = []
    for i, lr in enumerate(lrs):
        group = {"params": [np.zeros(3)], "lr": lr}
        if kind == "sgd_momentum":
            group["momentum"] = MOMENTA[i]
        groups.append(group)
    if kind == "adam":
        return optim.Adam(groups, lr=lrs[0])
    return optim.SGD(groups, lr=lrs[0], momentum=0.0)


def optimizer_step(opt, t: int) -> None:
    """One training step with a fixed gradient (torch.optim or ours)."""
    if isinstance(opt, torch.optim.Optimizer):
        for group in opt.param_groups:
            for p in group["params"]:
                p.grad = torch.full_like(p, 0.5 + 0.01 * t)
        opt.step()
    else:
        opt.step([np.full(3, 0.5 + 0.01 * t) for group in opt.param_groups for _ in group["params"]])


def metric(t: int, mode: str) -> float:
    """A loss that improves in bursts and plateaus with tiny noise (below a 1e-4 relative
    threshold, above a 1e-6 absolute one)."""
    value = 1.0 / (1 + t // 9) + 3e-6 * math.sin(7.0 * t)
    return value if mode == "min" else -value


# ---------------------------------------------------------------------------------------
# Bitwise comparison.

def exact(x):
    """A value as its exact bits and type (a float as hex: -0.0 and 0.0 differ)."""
    if isinstance(x, torch.Tensor):
        return ("tensor", str(x.dtype), tuple(x.shape), exact(x.item()))
    if isinstance(x, float):
        return ("float", x.hex())
    if isinstance(x, (tuple, list)):
        return tuple(exact(v) for v in x)
    return (type(x).__name__, x)


def snapshot(scheduler, opt) -> tuple:
    """What a step left: the scheduler's last lrs and each group's lr, momentum and betas."""
    groups = tuple((exact(g["lr"]), exact(g.get("momentum")), exact(g.get("betas"))) for g in opt.param_groups)
    return exact(scheduler.get_last_lr()), groups


def run(lib, make, kind: str, steps: int, opt=None, plateau_mode: str = "min", start: int = 0):
    """The snapshots of ``steps`` training steps under lib's scheduler ``make(lib, opt)``."""
    if opt is None:
        opt = torch_optimizer(kind) if lib is theirs else our_optimizer(kind)
    scheduler = make(lib, opt)
    history = [snapshot(scheduler, opt)]
    for t in range(start, start + steps):
        optimizer_step(opt, t)
        if isinstance(scheduler, lib.ReduceLROnPlateau):
            scheduler.step(metric(t, plateau_mode))
        else:
            scheduler.step()
        history.append(snapshot(scheduler, opt))
    return history, scheduler, opt


def assert_same_runs(make, kind: str, steps: int, plateau_mode: str = "min") -> None:
    expected, _, _ = run(theirs, make, kind, steps, plateau_mode=plateau_mode)
    got, _, _ = run(ours, make, kind, steps, plateau_mode=plateau_mode)
    assert len(got) == len(expected)
    for t, (a, b) in enumerate(zip(got, expected)):
        assert a == b, f"step {t}: ours {a} torch {b}"


# ---------------------------------------------------------------------------------------
# The cases: (make(lib, optimizer), optimizer kind, steps); every branch of every scheduler.

def _scale_by_cycle(x):
    return 0.5 ** (x - 1) + 0.25


def _scale_by_step(x):
    return 1.0 / (1.0 + 0.01 * x)


CASES = {
    "LambdaLR": (lambda L, o: L.LambdaLR(o, lambda e: 0.95 ** e), "sgd", 80),
    "LambdaLR-per-group": (lambda L, o: L.LambdaLR(o, [lambda e: 1.0 / (1 + e), lambda e: e // 10 + 0.5]), "sgd", 80),
    "MultiplicativeLR": (lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97), "sgd", 100),
    "MultiplicativeLR-per-group": (lambda L, o: L.MultiplicativeLR(
        o, [lambda e: 0.9 if e % 3 == 0 else 1.01, lambda e: 0.99]), "sgd", 100),
    "StepLR": (lambda L, o: L.StepLR(o, step_size=7, gamma=0.5), "sgd", 100),
    "StepLR-default-gamma": (lambda L, o: L.StepLR(o, 13), "sgd", 100),
    "MultiStepLR": (lambda L, o: L.MultiStepLR(o, milestones=[10, 25, 25, 40], gamma=0.3), "sgd", 80),
    "MultiStepLR-unsorted": (lambda L, o: L.MultiStepLR(o, milestones=[50, 3, 20]), "sgd", 80),
    "ConstantLR": (lambda L, o: L.ConstantLR(o), "sgd", 60),
    "ConstantLR-factor": (lambda L, o: L.ConstantLR(o, factor=0.7, total_iters=30), "sgd", 60),
    "ConstantLR-zero-iters": (lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=0), "sgd", 60),
    "LinearLR": (lambda L, o: L.LinearLR(o), "sgd", 60),
    "LinearLR-up": (lambda L, o: L.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=50), "sgd", 80),
    "LinearLR-down": (lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=80), "sgd", 120),
    "ExponentialLR": (lambda L, o: L.ExponentialLR(o, gamma=0.97), "sgd", 200),
    "CosineAnnealingLR": (lambda L, o: L.CosineAnnealingLR(o, T_max=100), "sgd", 100),
    "CosineAnnealingLR-past-T_max": (lambda L, o: L.CosineAnnealingLR(o, T_max=30, eta_min=0.001), "sgd", 200),
    "CosineAnnealingLR-T_max-1": (lambda L, o: L.CosineAnnealingLR(o, T_max=1, eta_min=0.01), "sgd", 60),
    "PolynomialLR": (lambda L, o: L.PolynomialLR(o), "sgd", 60),
    "PolynomialLR-square": (lambda L, o: L.PolynomialLR(o, total_iters=40, power=2.0), "sgd", 80),
    "PolynomialLR-sqrt": (lambda L, o: L.PolynomialLR(o, total_iters=70, power=0.5), "sgd", 80),
    "CyclicLR-triangular": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=10), "sgd_momentum", 120),
    "CyclicLR-triangular2": (lambda L, o: L.CyclicLR(o, [0.01, 0.002], [0.1, 0.05], step_size_up=7,
                                                     step_size_down=13, mode="triangular2"), "sgd_momentum", 150),
    "CyclicLR-exp_range": (lambda L, o: L.CyclicLR(o, 0.001, 0.1, step_size_up=9, mode="exp_range", gamma=0.99,
                                                   base_momentum=[0.7, 0.75], max_momentum=[0.95, 0.9]),
                           "sgd_momentum", 150),
    "CyclicLR-scale_fn-cycle": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=5, scale_fn=_scale_by_cycle),
                                "sgd_momentum", 100),
    "CyclicLR-scale_fn-iterations": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=5, scale_fn=_scale_by_step,
                                                             scale_mode="iterations"), "sgd_momentum", 100),
    "CyclicLR-betas": (lambda L, o: L.CyclicLR(o, 0.001, 0.01, step_size_up=8), "adam", 100),
    "CyclicLR-no-momentum": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=6, cycle_momentum=False), "sgd", 60),
    "CosineAnnealingWarmRestarts": (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=10), "sgd", 100),
    "CosineAnnealingWarmRestarts-T_mult": (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2,
                                                                                       eta_min=0.001), "sgd", 160),
    "OneCycleLR-cos": (lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=100), "sgd_momentum", 99),
    "OneCycleLR-linear": (lambda L, o: L.OneCycleLR(o, max_lr=[0.1, 0.05], total_steps=120,
                                                    anneal_strategy="linear", pct_start=0.25), "sgd_momentum", 119),
    "OneCycleLR-three-phase": (lambda L, o: L.OneCycleLR(o, max_lr=0.1, epochs=10, steps_per_epoch=15,
                                                         three_phase=True, div_factor=10.0,
                                                         final_div_factor=100.0), "sgd_momentum", 149),
    "OneCycleLR-three-phase-linear": (lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=90, three_phase=True,
                                                                anneal_strategy="linear"), "sgd_momentum", 89),
    "OneCycleLR-betas": (lambda L, o: L.OneCycleLR(o, max_lr=0.01, total_steps=80, base_momentum=[0.8, 0.85],
                                                   max_momentum=0.95), "adam", 79),
    "OneCycleLR-no-momentum": (lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=70, cycle_momentum=False),
                               "sgd", 69),
    "ReduceLROnPlateau": (lambda L, o: L.ReduceLROnPlateau(o, patience=3), "sgd", 200),
    "ReduceLROnPlateau-abs": (lambda L, o: L.ReduceLROnPlateau(o, patience=2, threshold=1e-6,
                                                               threshold_mode="abs"), "sgd", 200),
    "ReduceLROnPlateau-cooldown-min_lr": (lambda L, o: L.ReduceLROnPlateau(o, factor=0.5, patience=1, cooldown=3,
                                                                           min_lr=[1e-3, 1e-4]), "sgd", 200),
    "ReduceLROnPlateau-eps": (lambda L, o: L.ReduceLROnPlateau(o, factor=0.5, patience=0, min_lr=0.02,
                                                               eps=0.005), "sgd", 120),
    "SequentialLR": (lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, factor=0.1, total_iters=2),
                                                     L.ExponentialLR(o, gamma=0.9)], milestones=[2]), "sgd", 80),
    "SequentialLR-three": (lambda L, o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.2, total_iters=5),
                                                           L.CosineAnnealingLR(o, T_max=25),
                                                           L.StepLR(o, step_size=10, gamma=0.5)],
                                                       milestones=[5, 30]), "sgd", 100),
    "SequentialLR-no-closed-form": (lambda L, o: L.SequentialLR(o, [L.ExponentialLR(o, gamma=0.95),
                                                                    L.LambdaLR(o, lambda e: 1.0 / (1 + e))],
                                                                milestones=[20]), "sgd", 60),
    "ChainedScheduler": (lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=5),
                                                          L.ExponentialLR(o, gamma=0.9)]), "sgd", 60),
    "ChainedScheduler-optimizer": (lambda L, o: L.ChainedScheduler([L.LinearLR(o, total_iters=10),
                                                                    L.MultiStepLR(o, [15, 30], gamma=0.5)],
                                                                   optimizer=o), "sgd", 60),
    "ChainedScheduler-sequential": (lambda L, o: L.ChainedScheduler([
        L.SequentialLR(o, [L.ConstantLR(o, factor=0.5, total_iters=3), L.ExponentialLR(o, 0.95)], [3]),
        L.StepLR(o, 10, 0.5)]), "sgd", 60),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_lrs_as_torch(name):
    make, kind, steps = CASES[name]
    assert_same_runs(make, kind, steps)


@pytest.mark.parametrize("name", ["ReduceLROnPlateau", "ReduceLROnPlateau-abs", "ReduceLROnPlateau-cooldown-min_lr"])
def test_plateau_max_mode(name):
    make, kind, steps = CASES[name]
    assert_same_runs(lambda L, o: _with_mode_max(make(L, o)), kind, steps, plateau_mode="max")


def _with_mode_max(scheduler):
    scheduler._init_is_better("max", scheduler.threshold, scheduler.threshold_mode)
    scheduler._reset()
    return scheduler


def test_plateau_max_mode_constructor():
    make = lambda L, o: L.ReduceLROnPlateau(o, mode="max", patience=2, threshold=1e-3)  # noqa: E731
    assert_same_runs(make, "sgd", 150, plateau_mode="max")


def test_two_schedulers_step_the_same_optimizer():
    def both(lib, opt):
        a, b = lib.StepLR(opt, 5, 0.5), lib.ExponentialLR(opt, 0.99)
        return lib.ChainedScheduler([a, b])   # the same as calling a.step(); b.step()
    assert_same_runs(both, "sgd", 80)

    def history(lib):
        opt = torch_optimizer("sgd") if lib is theirs else our_optimizer("sgd")
        a, b = lib.MultiStepLR(opt, [10, 20]), lib.CosineAnnealingLR(opt, 40)
        out = []
        for t in range(80):
            optimizer_step(opt, t)
            a.step()
            b.step()
            out.append((exact(a.get_last_lr()), exact(b.get_last_lr()), exact([g["lr"] for g in opt.param_groups])))
        return out
    assert history(ours) == history(theirs)


# ---------------------------------------------------------------------------------------
# Resuming.

RESUMABLE = ["StepLR", "MultiStepLR", "ConstantLR-factor", "LinearLR-up", "ExponentialLR",
             "CosineAnnealingLR-past-T_max", "PolynomialLR-square", "CyclicLR-triangular2", "CyclicLR-betas",
             "CosineAnnealingWarmRestarts-T_mult", "OneCycleLR-three-phase", "ReduceLROnPlateau-cooldown-min_lr",
             "LambdaLR", "MultiplicativeLR", "SequentialLR-three", "ChainedScheduler"]


def _copy_groups(source, target) -> None:
    """What the optimizer's load_state_dict restores of the groups: every value but params."""
    for s, t in zip(source.param_groups, target.param_groups):
        for key, value in s.items():
            if key != "params":
                t[key] = value


def _resumed_by_state_dict(lib, make, kind, k, n):
    _, scheduler, opt = run(lib, make, kind, k)
    saved = scheduler.state_dict()
    fresh_opt = torch_optimizer(kind) if lib is theirs else our_optimizer(kind)
    fresh = make(lib, fresh_opt)
    fresh.load_state_dict(saved)
    _copy_groups(opt, fresh_opt)
    return run(lib, lambda L, o: fresh, kind, n, opt=fresh_opt, start=k)[0]


@pytest.mark.parametrize("name", RESUMABLE)
def test_resume_from_state_dict(name):
    make, kind, _ = CASES[name]
    k, n = 17, 40
    assert _resumed_by_state_dict(ours, make, kind, k, n) == _resumed_by_state_dict(theirs, make, kind, k, n)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ConstantLR-factor", "LinearLR-up", "ExponentialLR",
                                  "CosineAnnealingLR-past-T_max", "PolynomialLR-square", "LambdaLR",
                                  "MultiplicativeLR", "CosineAnnealingWarmRestarts-T_mult", "CyclicLR-triangular2",
                                  "OneCycleLR-cos"])
def test_resume_with_last_epoch(name):
    make, kind, _ = CASES[name]
    k, n = 12, 40

    def resumed(lib):
        _, _, opt = run(lib, make, kind, k)
        fresh_opt = torch_optimizer(kind) if lib is theirs else our_optimizer(kind)
        _copy_groups(opt, fresh_opt)   # lr, initial_lr (and the cycle's keys) as a checkpoint has them
        return run(lib, lambda L, o: _with_last_epoch(make, L, o, k), kind, n, opt=fresh_opt, start=k)[0]
    assert resumed(ours) == resumed(theirs)


def _with_last_epoch(make, lib, opt, last_epoch):
    """make's scheduler, built with last_epoch (passed to every scheduler the factory builds)."""
    class Resuming:
        def __getattr__(self, name):
            klass = getattr(lib, name)
            return lambda *args, **kwargs: klass(*args, **{**kwargs, "last_epoch": last_epoch})
    return make(Resuming(), opt)


def test_state_dict_keys_match_torch():
    for name in ["StepLR", "MultiStepLR", "LinearLR-up", "CyclicLR-exp_range", "OneCycleLR-cos", "ReduceLROnPlateau",
                 "CosineAnnealingWarmRestarts", "LambdaLR", "SequentialLR", "ChainedScheduler"]:
        make, kind, _ = CASES[name]
        a = run(ours, make, kind, 5)[1].state_dict()
        b = run(theirs, make, kind, 5)[1].state_dict()
        assert set(a) == set(b), name
        if "lr_lambdas" in b:
            assert a["lr_lambdas"] == b["lr_lambdas"] == [None, None]


def test_missing_initial_lr_when_resuming():
    for lib, opt in [(theirs, torch_optimizer("sgd")), (ours, our_optimizer("sgd"))]:
        with pytest.raises(KeyError) as caught:
            lib.StepLR(opt, 5, last_epoch=3)
        if lib is theirs:
            expected = str(caught.value)
        else:
            assert str(caught.value) == expected


def test_initial_lr_is_set_and_kept():
    opt = our_optimizer("sgd")
    ours.StepLR(opt, 5)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    for g in opt.param_groups:
        g["lr"] = 1.0
    scheduler = ours.ExponentialLR(opt, 0.5)   # setdefault: a second scheduler keeps the first's initial lr
    assert scheduler.base_lrs == list(LRS)


# ---------------------------------------------------------------------------------------
# Other optimizers: our torch backend, torch.optim with a tensor lr.

@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR-past-T_max", "CyclicLR-triangular", "OneCycleLR-cos",
                                  "ReduceLROnPlateau", "SequentialLR-three"])
def test_on_our_torch_backend(name):
    make, kind, steps = CASES[name]
    expected, _, _ = run(theirs, make, kind, steps)

    groups = [{"params": [torch.zeros(3, dtype=torch.float64, requires_grad=True)], "lr": lr,
               **({"momentum": m} if kind == "sgd_momentum" else {})} for lr, m in zip(LRS, MOMENTA)]
    opt = torch_backend.SGD(groups, lr=LRS[0])
    got, _, _ = run(ours, make, kind, steps, opt=opt)
    assert got == expected


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ConstantLR-factor", "LinearLR-up", "ExponentialLR",
                                  "CosineAnnealingLR-past-T_max", "PolynomialLR-square", "CyclicLR-triangular",
                                  "CosineAnnealingWarmRestarts-T_mult", "OneCycleLR-cos", "ReduceLROnPlateau",
                                  "LambdaLR", "MultiplicativeLR", "SequentialLR-three", "ChainedScheduler"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_tensor_lr_filled_in_place(name, dtype):
    make, kind, steps = CASES[name]
    make_tensor = lambda lr: torch.tensor(lr, dtype=dtype)  # noqa: E731
    runs = []
    for lib in (theirs, ours):
        opt = torch_optimizer(kind, lr_type=make_tensor)
        lr_objects = [g["lr"] for g in opt.param_groups]
        history, _, _ = run(lib, make, kind, steps, opt=opt)
        assert all(g["lr"] is t for g, t in zip(opt.param_groups, lr_objects))   # filled, never replaced
        runs.append(history)
    assert runs[0] == runs[1]


def test_torch_optimizer_with_our_scheduler():
    for name in ["OneCycleLR-betas", "CyclicLR-exp_range", "SequentialLR", "ReduceLROnPlateau-eps"]:
        make, kind, steps = CASES[name]
        assert run(ours, make, kind, steps, opt=torch_optimizer(kind))[0] == run(theirs, make, kind, steps)[0], name


# ---------------------------------------------------------------------------------------
# Errors: torch's types and messages.

BAD = {
    "lambda count": lambda L, o: L.LambdaLR(o, [lambda e: 1.0]),
    "multiplicative count": lambda L, o: L.MultiplicativeLR(o, [lambda e: 1.0] * 3),
    "multiplicative not callable": lambda L, o: L.MultiplicativeLR(o, 0.5),
    "constant factor": lambda L, o: L.ConstantLR(o, factor=1.5),
    "constant negative": lambda L, o: L.ConstantLR(o, factor=-0.1),
    "linear start": lambda L, o: L.LinearLR(o, start_factor=0.0),
    "linear end": lambda L, o: L.LinearLR(o, end_factor=1.2),
    "sequential empty": lambda L, o: L.SequentialLR(o, [], []),
    "sequential milestones": lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], [1, 2]),
    "sequential plateau": lambda L, o: L.SequentialLR(o, [L.ReduceLROnPlateau(o)], []),
    "sequential not a scheduler": lambda L, o: L.SequentialLR(o, [object()], []),
    "sequential other optimizer": lambda L, o: L.SequentialLR(o, [L.StepLR(torch_optimizer("sgd"), 2)], []),
    "chained empty": lambda L, o: L.ChainedScheduler([]),
    "chained plateau": lambda L, o: L.ChainedScheduler([L.StepLR(o, 2), L.ReduceLROnPlateau(o)]),
    "plateau factor": lambda L, o: L.ReduceLROnPlateau(o, factor=1.0),
    "plateau mode": lambda L, o: L.ReduceLROnPlateau(o, mode="avg"),
    "plateau threshold mode": lambda L, o: L.ReduceLROnPlateau(o, threshold_mode="log"),
    "plateau min_lrs": lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1]),
    "plateau not an optimizer": lambda L, o: L.ReduceLROnPlateau([1, 2]),
    "cyclic mode": lambda L, o: L.CyclicLR(o, 0.01, 0.1, mode="square"),
    "cyclic no momentum": lambda L, o: L.CyclicLR(torch.optim.Adagrad([torch.zeros(1, requires_grad=True)]),
                                                  0.01, 0.1),
    "cyclic base_lr count": lambda L, o: L.CyclicLR(o, [0.01], 0.1),
    "cyclic not an optimizer": lambda L, o: L.CyclicLR("sgd", 0.01, 0.1),
    "warm T_0": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0),
    "warm T_0 float": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2.0),
    "warm T_mult": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    "warm eta_min": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
    "warm negative epoch": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2).step(-1),
    "one cycle no steps": lambda L, o: L.OneCycleLR(o, 0.1),
    "one cycle total_steps": lambda L, o: L.OneCycleLR(o, 0.1, total_steps=0),
    "one cycle epochs": lambda L, o: L.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3),
    "one cycle steps_per_epoch": lambda L, o: L.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=1.5),
    "one cycle pct_start": lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5),
    "one cycle pct_start int": lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=0),
    "one cycle anneal": lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"),
    "one cycle momentum": lambda L, o: L.OneCycleLR(torch.optim.Adagrad([torch.zeros(1, requires_grad=True)]),
                                                    0.1, total_steps=10),
    "one cycle past the end": lambda L, o: [s.step() for s in [L.OneCycleLR(o, 0.1, total_steps=3)] for _ in range(4)],
    "not an optimizer": lambda L, o: L.StepLR(None, 3),
    "get_lr of the base": lambda L, o: L.LRScheduler(o),
}


def _raised(lib, build, opt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            build(lib, opt)
        except Exception as error:  # noqa: BLE001 - the type and message are compared
            return type(error), str(error)
    return None


@pytest.mark.parametrize("case", sorted(BAD))
def test_errors_as_torch(case):
    expected = _raised(theirs, BAD[case], torch_optimizer("sgd_momentum"))
    assert expected is not None
    assert _raised(ours, BAD[case], torch_optimizer("sgd_momentum")) == expected


@pytest.mark.parametrize("case", ["constant factor", "linear start", "plateau min_lrs", "cyclic base_lr count",
                                  "one cycle pct_start", "warm T_mult", "one cycle past the end"])
def test_errors_on_our_optimizer(case):
    expected = _raised(theirs, BAD[case], torch_optimizer("sgd_momentum"))
    assert _raised(ours, BAD[case], our_optimizer("sgd_momentum")) == expected


def test_no_momentum_to_cycle_on_our_optimizer():
    opt = optim.Adagrad([np.zeros(2)])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        ours.CyclicLR(opt, 0.01, 0.1)


def test_step_with_epoch_uses_the_closed_form():
    for name in ["StepLR", "MultiStepLR", "ConstantLR-factor", "LinearLR-up", "ExponentialLR",
                 "CosineAnnealingLR-past-T_max", "PolynomialLR-square", "CosineAnnealingWarmRestarts-T_mult",
                 "LambdaLR"]:
        make, kind, _ = CASES[name]
        runs = []
        for lib in (theirs, ours):
            opt = torch_optimizer(kind) if lib is theirs else our_optimizer(kind)
            scheduler = make(lib, opt)
            out = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for epoch in [3, 10, 4, 37, 0, 55, 23.5 if "Warm" in name else 23]:
                    scheduler.step(epoch)
                    out.append(snapshot(scheduler, opt))
            runs.append(out)
        assert runs[0] == runs[1], name


def test_get_lr_outside_step_warns():
    scheduler = ours.StepLR(our_optimizer("sgd"), 3)
    with pytest.warns(UserWarning, match="please use `get_last_lr"):
        scheduler.get_lr()


def test_subclass_defines_get_lr():
    class Halving(ours.LRScheduler):
        def get_lr(self):
            return [base / 2 ** self.last_epoch for base in self.base_lrs]

    class TorchHalving(theirs.LRScheduler):
        def get_lr(self):
            return [base / 2 ** self.last_epoch for base in self.base_lrs]

    a, b = our_optimizer("sgd"), torch_optimizer("sgd")
    sa, sb = Halving(a), TorchHalving(b)
    for t in range(10):
        optimizer_step(a, t)
        optimizer_step(b, t)
        sa.step()
        sb.step()
        assert snapshot(sa, a) == snapshot(sb, b)


# ---------------------------------------------------------------------------------------
# The pure forms: the recursive one iterated from the base lr is the class's sequence, and
# the closed one is torch's _get_closed_form_lr, bit for bit.

FORM_SETTINGS = {
    "StepLR": [(7, 0.5), (1, 0.9)],
    "MultiStepLR": [([10, 25, 25, 40], 0.3)],
    "ConstantLR": [(0.7, 30), (1.0 / 3, 5)],
    "LinearLR": [(0.1, 0.9, 50), (1.0, 0.05, 80), (1.0 / 3, 1.0, 5)],
    "ExponentialLR": [(0.97,)],
    "CosineAnnealingLR": [(30, 0.001), (100, 0.0), (1, 0.01)],
    "PolynomialLR": [(40, 2.0), (70, 0.5), (5, 1.0)],
}
KEEPS_LR_ON_FIRST_STEP = {"ExponentialLR", "CosineAnnealingLR", "PolynomialLR"}


@pytest.mark.parametrize("name", sorted(ours.FORMS))
def test_pure_forms_are_torch(name):
    closed, recursive = ours.FORMS[name]
    for settings in FORM_SETTINGS[name]:
        for base in LRS:
            opt = torch_optimizer("sgd", lrs=(base,))
            scheduler = getattr(theirs, name)(opt, *settings)
            lr = base if name in KEEPS_LR_ON_FIRST_STEP else recursive(base, 0, base, *settings)
            assert exact(lr) == exact(scheduler.get_last_lr()[0])
            for step in range(1, 160):
                optimizer_step(opt, step)
                scheduler.step()
                lr = recursive(lr, step, base, *settings)
                assert exact(lr) == exact(scheduler.get_last_lr()[0]), (name, settings, step)
                assert exact(closed(base, step, *settings)) == exact(scheduler._get_closed_form_lr()[0])


def test_other_pure_functions_are_torch():
    opt = torch_optimizer("sgd_momentum", lrs=(0.1,))
    scheduler = theirs.OneCycleLR(opt, max_lr=0.1, total_steps=50, three_phase=True, anneal_strategy="linear")
    for step in range(1, 50):
        optimizer_step(opt, step)
        scheduler.step()
        expected = scheduler.get_last_lr()[0]
        got = ours.one_cycle_lr(step, 0.1, 50, anneal_strategy="linear", three_phase=True)
        assert exact(got) == exact(expected)

    opt = torch_optimizer("sgd_momentum", lrs=(0.1,))
    scheduler = theirs.CyclicLR(opt, 0.01, 0.1, step_size_up=4, step_size_down=6, mode="triangular2")
    for step in range(1, 60):
        optimizer_step(opt, step)
        scheduler.step()
        cycle, height = ours.cyclic_position(step, 10.0, 0.4)
        assert exact(ours.cyclic_lr(0.01, 0.1, height, ours.triangular2_scale(cycle))) == exact(
            scheduler.get_last_lr()[0])
        assert exact(ours.cyclic_momentum(0.8, 0.9, height, ours.triangular2_scale(cycle))) == exact(
            opt.param_groups[0]["momentum"])

    opt = torch_optimizer("sgd", lrs=(0.1,))
    scheduler = theirs.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.001)
    T_cur, T_i = 0, 3
    for step in range(1, 60):
        optimizer_step(opt, step)
        scheduler.step()
        T_cur, T_i = ours.warm_restarts_next(T_cur, T_i, 2)
        assert exact(ours.warm_restarts_lr(0.1, T_cur, T_i, 0.001)) == exact(scheduler.get_last_lr()[0])


# ---------------------------------------------------------------------------------------
# The same functions on symbols (what the prover runs).

def test_forms_on_sympy_symbols():
    base, gamma, eta, lr = sympy.symbols("base_lr gamma eta_min lr", positive=True)
    n = sympy.Symbol("n", integer=True, nonnegative=True)
    assert ours.step_lr_closed(base, n, 10, gamma) == base * gamma ** sympy.floor(n / 10)
    assert ours.exponential_lr_closed(base, n, gamma) == base * gamma ** n
    assert ours.exponential_lr_recursive(lr, n, base, gamma) == lr * gamma
    closed = ours.cosine_annealing_lr_closed(base, n, 40, eta)
    assert closed.has(sympy.cos) and closed.subs(n, 0).equals(base)
    # the recursion from the closed form at n - 1 is the closed form at n, away from the minima
    step = ours.cosine_annealing_lr_recursive(ours.cosine_annealing_lr_closed(base, 6, 40, eta), 7, base, 40, eta)
    assert sympy.simplify(step - ours.cosine_annealing_lr_closed(base, 7, 40, eta)) == 0
    # a branch on a symbolic step is a Piecewise, never a silent structural comparison
    linear = ours.linear_lr_recursive(lr, n, base, sympy.Rational(1, 3), 1, 5)
    assert isinstance(linear, sympy.Piecewise)
    assert linear.subs(n, 0) == lr / 3
    assert ours.constant_lr_closed(base, n, sympy.Rational(1, 2), 4).subs(n, 9) == base
    assert ours.multi_step_lr_closed(base, n, [3, 5], gamma).subs(n, 4) == base * gamma
    assert ours.polynomial_lr_closed(base, n, 10, 2).subs(n, 5) == base / 4


def test_forms_on_symbolic_scalars():
    from symbolic.tensor import SymScalar

    base = SymScalar.symbol("base_lr", positive=True)
    lr = ours.cosine_annealing_lr_closed(base, 5, 20, 0.0)
    assert isinstance(lr, SymScalar)
    assert sympy.simplify(lr.expr - base.expr * (1 + sympy.cos(sympy.pi / 4)) / 2) == 0
    gamma = SymScalar.symbol("gamma", positive=True)
    assert ours.step_lr_closed(base, 25, 10, gamma).expr == base.expr * gamma.expr ** 2
    assert ours.exponential_lr_recursive(base, 3, base, gamma).expr == base.expr * gamma.expr
