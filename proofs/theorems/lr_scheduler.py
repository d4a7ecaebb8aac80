"""Theorems about ``optim.lr_scheduler``: where torch has both a recursive form (``get_lr``,
what a scheduler's ``step()`` applies) and a closed form (``_get_closed_form_lr``, what
``step(epoch)`` applies), they are equal over the reals at every step (induction); and the
warmup, cosine and one-cycle schedules start, peak and end where their docs say, moving the
way they say (inequalities).

Both forms are the executed functions of ``optim.lr_scheduler.FORMS``, in torch's order of
operations; how far they drift apart in float64 is measured in the report's README section.
"""
from dataclasses import dataclass
from typing import Any

import sympy

from optim import lr_scheduler
from proofs.harness import REFUTED, Given, equation, induction, inequality, theorem

TORCH = "torch.optim.lr_scheduler (2.13)"


@dataclass(frozen=True)
class Schedule:
    """What an induction over a schedule carries: the lr at ``last_epoch`` (torch's counter)."""

    lr: Any
    last_epoch: Any


def closed_form_is_the_recursion(x: Given, name: str, base_lr: Any, *hyperparameters: Any):
    """The closed form at step t is what the recursion reaches from the closed form at step 0,
    applying ``recursive`` at steps 1, 2, … t — torch's ``step()`` after the constructor."""
    closed, recursive = lr_scheduler.FORMS[name]
    t = x.natural("t")
    start = Schedule(closed(base_lr, 0, *hyperparameters), 0)

    def step(s: Schedule) -> Schedule:
        return Schedule(recursive(s.lr, s.last_epoch + 1, base_lr, *hyperparameters), s.last_epoch + 1)

    return induction(initial=start, step=step, counter=t, counter_field="last_epoch",
                     invariant=lambda k: {"lr": closed(base_lr, k, *hyperparameters)})


def at_least_one(x: Given, name: str):
    """A counter hyperparameter (step_size, T_max, total_iters) declared ℕ, with n ≥ 1 as
    torch's constructors demand."""
    n = x.natural(name)
    x.assume(sympy.Ge(n.expr, 1))
    return n


def closed_eq_recursive(name: str, hyperparameters: str, declare):
    def build(x: Given):
        return closed_form_is_the_recursion(x, name, x.positive("base_lr"), *declare(x))
    build.__doc__ = (f"{name}'s recursive form (get_lr), stepped from step 0, equals its closed form "
                     f"(_get_closed_form_lr) at every step t, over the reals.")
    build.__name__ = build.__qualname__ = f"{name}_closed_eq_recursive"
    return theorem(f"Optim.{name}.closed_eq_recursive", form="induction", source=TORCH,
                   statement=f"{name}({hyperparameters}): recursive^t(closed(0)) = closed(t) for every t ∈ ℕ")(build)


closed_eq_recursive("StepLR", "step_size ≥ 1, γ > 0",
                    lambda x: (at_least_one(x, "step_size"), x.positive("gamma")))
closed_eq_recursive("MultiStepLR", "milestones = [2, 5, 5], γ > 0 (a repeated milestone counts twice)",
                    lambda x: ((2, 5, 5), x.positive("gamma")))
closed_eq_recursive("ConstantLR", "factor > 0, total_iters ≥ 1",
                    lambda x: (x.positive("factor"), at_least_one(x, "total_iters")))
closed_eq_recursive("LinearLR", "start_factor > 0, end_factor > 0, total_iters ≥ 1",
                    lambda x: (x.positive("start_factor"), x.positive("end_factor"), at_least_one(x, "total_iters")))
closed_eq_recursive("ExponentialLR", "γ > 0", lambda x: (x.positive("gamma"),))
closed_eq_recursive("CosineAnnealingLR", "T_max ≥ 1, η_min ≥ 0 (periodic past T_max)",
                    lambda x: (at_least_one(x, "T_max"), x.nonnegative("eta_min")))
closed_eq_recursive("PolynomialLR", "total_iters ≥ 1, power > 0",
                    lambda x: (at_least_one(x, "total_iters"), x.positive("power")))


# ------------------------------------------------------------------------------- warmup
def linear(x: Given):
    base_lr, start, end = x.positive("base_lr"), x.positive("start_factor"), x.positive("end_factor")
    return base_lr, start, end, at_least_one(x, "total_iters")


@theorem("Optim.LinearLR.warmup_endpoints", source=TORCH,
         statement="closed(0) = base_lr · start_factor,  closed(t) = base_lr · end_factor for every t ≥ total_iters")
def linear_lr_endpoints(x: Given):
    """LinearLR starts at start_factor·base_lr and, from total_iters on, stays at end_factor·base_lr."""
    base_lr, start, end, total = linear(x)
    t = x.natural("t")
    x.assume(sympy.Ge(t.expr, total.expr))
    closed = lr_scheduler.linear_lr_closed
    return equation((closed(base_lr, 0, start, end, total), closed(base_lr, t, start, end, total)),
                    (base_lr * start, base_lr * end))


@theorem("Optim.LinearLR.warmup_non_decreasing", form="inequality", source=TORCH,
         statement="start_factor ≤ end_factor ⟹ closed(t) ≤ closed(t + 1) for every t ∈ ℕ")
def linear_lr_warmup_non_decreasing(x: Given):
    """A LinearLR warmup (start_factor ≤ end_factor) never lowers the lr from one step to the next."""
    base_lr, start, end, total = linear(x)
    x.assume(sympy.Le(start.expr, end.expr))
    t = x.natural("t")
    closed = lr_scheduler.linear_lr_closed
    return inequality(closed(base_lr, t, start, end, total), closed(base_lr, t + 1, start, end, total))


# ------------------------------------------------------------------------------- cosine
def cosine(x: Given):
    base_lr, eta_min = x.positive("base_lr"), x.nonnegative("eta_min")
    x.assume(sympy.Le(eta_min.expr, base_lr.expr))
    return base_lr, at_least_one(x, "T_max"), eta_min


@theorem("Optim.CosineAnnealingLR.endpoints", source=TORCH,
         statement="closed(0) = base_lr,  closed(T_max) = η_min,  closed(2·T_max) = base_lr")
def cosine_annealing_endpoints(x: Given):
    """Cosine annealing starts at base_lr, reaches η_min at T_max and is back at base_lr at 2·T_max."""
    base_lr, T, eta_min = cosine(x)
    closed = lr_scheduler.cosine_annealing_lr_closed
    return equation((closed(base_lr, 0, T, eta_min), closed(base_lr, T, T, eta_min), closed(base_lr, 2 * T, T, eta_min)),
                    (base_lr, eta_min, base_lr))


@theorem("Optim.CosineAnnealingLR.between_eta_min_and_base_lr", form="inequality", source=TORCH,
         statement="η_min ≤ base_lr ⟹ η_min ≤ closed(t) ≤ base_lr for every t ∈ ℕ")
def cosine_annealing_between(x: Given):
    """The cosine-annealed lr never leaves [η_min, base_lr], at any step (also past T_max)."""
    base_lr, T, eta_min = cosine(x)
    lr = lr_scheduler.cosine_annealing_lr_closed(base_lr, x.natural("t"), T, eta_min)
    return inequality((eta_min, lr), (lr, base_lr))


@theorem("Optim.CosineAnnealingLR.non_increasing_to_T_max", form="inequality", source=TORCH,
         statement="η_min ≤ base_lr, t + 1 ≤ T_max ⟹ closed(t + 1) ≤ closed(t)")
def cosine_annealing_non_increasing(x: Given):
    """Up to T_max the cosine-annealed lr never rises from one step to the next."""
    base_lr, T, eta_min = cosine(x)
    t = x.natural("t")
    x.assume(sympy.Le(t.expr + 1, T.expr))
    closed = lr_scheduler.cosine_annealing_lr_closed
    return inequality(closed(base_lr, t + 1, T, eta_min), closed(base_lr, t, T, eta_min))


@theorem("Optim.CosineAnnealingLR.non_increasing_past_T_max", expect=REFUTED, form="inequality", source=TORCH,
         statement="η_min < base_lr ⟹ closed(t + 1) ≤ closed(t) for every t ∈ ℕ   (past T_max it rises again)")
def cosine_annealing_rises_after_T_max(x: Given):
    """Past T_max torch's closed form is periodic: the lr rises back towards base_lr (refuted)."""
    base_lr, T, eta_min = cosine(x)
    x.assume(sympy.Lt(eta_min.expr, base_lr.expr))
    t = x.natural("t")
    closed = lr_scheduler.cosine_annealing_lr_closed
    return inequality(closed(base_lr, t + 1, T, eta_min), closed(base_lr, t, T, eta_min))


# ---------------------------------------------------------------------------- one cycle
ONE_CYCLE_STEPS, ONE_CYCLE_PCT = 100, 0.25   # pct_start · total_steps = 25: the peak is a step


def one_cycle(x: Given, pct_start: float = ONE_CYCLE_PCT):
    """(lr at a step, max_lr, div_factor, final_div_factor): OneCycleLR with 100 steps."""
    max_lr, div, final_div = x.positive("max_lr"), x.positive("div_factor"), x.positive("final_div_factor")

    def lr(step: Any) -> Any:
        return lr_scheduler.one_cycle_lr(step, max_lr, ONE_CYCLE_STEPS, pct_start, div_factor=div,
                                         final_div_factor=final_div)
    return lr, max_lr, div, final_div


@theorem("Optim.OneCycleLR.endpoints", source=TORCH,
         statement="total_steps = 100, pct_start = 1/4: lr(0) = max_lr / div_factor,  lr(24) = max_lr,  "
                   "lr(99) = max_lr / (div_factor · final_div_factor)")
def one_cycle_endpoints(x: Given):
    """One cycle starts at max_lr/div_factor, peaks at max_lr at the end of the warmup, and ends at
    initial_lr/final_div_factor."""
    lr, max_lr, div, final_div = one_cycle(x)
    return equation((lr(0), lr(24), lr(99)), (max_lr / div, max_lr, max_lr / (div * final_div)))


@theorem("Optim.OneCycleLR.between_final_and_max_lr", form="inequality", source=TORCH,
         statement="div_factor ≥ 1, final_div_factor ≥ 1, total_steps = 100, pct_start = 1/4: "
                   "max_lr / (div_factor · final_div_factor) ≤ lr(t) ≤ max_lr for every step t ≤ 99")
def one_cycle_between(x: Given):
    """The one-cycle lr never rises above max_lr nor falls below its final value, in either phase."""
    lr, max_lr, div, final_div = one_cycle(x)
    x.assume(sympy.Ge(div.expr, 1), sympy.Ge(final_div.expr, 1))
    t = x.natural("t")
    x.assume(sympy.Le(t.expr, ONE_CYCLE_STEPS - 1))
    return inequality((max_lr / (div * final_div), lr(t)), (lr(t), max_lr))


@theorem("Optim.OneCycleLR.warmup_non_decreasing", form="inequality", source=TORCH,
         statement="div_factor ≥ 1, total_steps = 100, pct_start = 1/4: lr(t) ≤ lr(t + 1) for t + 1 ≤ 24")
def one_cycle_warmup_non_decreasing(x: Given):
    """During the warmup phase the one-cycle lr never falls from one step to the next."""
    lr, _, div, _ = one_cycle(x)
    x.assume(sympy.Ge(div.expr, 1))
    t = x.natural("t")
    x.assume(sympy.Le(t.expr + 1, 24))
    return inequality(lr(t), lr(t + 1))
