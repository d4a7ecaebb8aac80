"""How far torch's two forms of a schedule drift apart in float64 (``make drift``).

``proofs/theorems/lr_scheduler.py`` proves, for every schedule in ``optim.lr_scheduler.FORMS``,
that the recursive form (``get_lr``, what ``scheduler.step()`` applies) stepped from step 0
equals the closed form (``_get_closed_form_lr``, what ``step(epoch)`` applies) at every step,
over the reals.  In floats each recursive step rounds anew: this runs both forms for
``--steps`` steps (default 10⁶) from base_lr = 1 and prints the largest difference, relative to
the base lr (the lr itself reaches 0 in some schedules), and the step where it occurs.

    python tools/schedule_drift.py [--steps N]
"""
from __future__ import annotations

import argparse
import time

from optim.lr_scheduler import FORMS

# One configuration per schedule, and a second where the period matters.  Each keeps the lr
# away from float64's underflow over 10⁶ steps (ExponentialLR's γ close to 1).
CASES = [
    ("StepLR", "step_size=30, γ=0.9", (30, 0.9)),
    ("MultiStepLR", "milestones=[30, 80, 80], γ=0.5", ([30, 80, 80], 0.5)),
    ("ConstantLR", "factor=1/3, total_iters=5", (1 / 3, 5)),
    ("LinearLR", "start=1/3, end=1, total_iters=5", (1 / 3, 1.0, 5)),
    ("LinearLR", "start=1/3, end=1, total_iters=10⁶", (1 / 3, 1.0, 10**6)),
    ("ExponentialLR", "γ=0.99999", (0.99999,)),
    ("CosineAnnealingLR", "T_max=10⁶, η_min=0", (10**6, 0.0)),
    ("CosineAnnealingLR", "T_max=1000, η_min=0 (periodic)", (1000, 0.0)),
    ("PolynomialLR", "total_iters=10⁶, power=2", (10**6, 2.0)),
    ("PolynomialLR", "total_iters=10⁶, power=1", (10**6, 1.0)),
]


def drift(name: str, hyperparameters: tuple, steps: int) -> tuple[float, int]:
    """(largest |recursive − closed| / base_lr over steps 1 … steps, the step where it is)."""
    closed, recursive = FORMS[name]
    base_lr = 1.0
    lr = closed(base_lr, 0, *hyperparameters)
    worst, where = 0.0, 0
    for step in range(1, steps + 1):
        lr = recursive(lr, step, base_lr, *hyperparameters)
        gap = abs(lr - closed(base_lr, step, *hyperparameters)) / base_lr
        if gap > worst:
            worst, where = gap, step
    return worst, where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10**6)
    steps = parser.parse_args().steps
    print(f"float64, {steps:,} steps from base_lr = 1: largest |recursive − closed| / base_lr\n")
    print("| schedule | hyperparameters | largest drift | at step | seconds |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, shown, hyperparameters in CASES:
        started = time.perf_counter()
        worst, where = drift(name, hyperparameters, steps)
        print(f"| {name} | {shown} | {worst:.1e} | {where:,} | {time.perf_counter() - started:.1f} |", flush=True)


if __name__ == "__main__":
    main()
