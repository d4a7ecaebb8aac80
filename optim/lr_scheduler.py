"""Learning-rate schedules: torch.optim.lr_scheduler, written once.

Two layers:

* **Pure schedule functions** of numbers (the step, the base lr, the current lr, the
  hyperparameters): ``step_lr_closed(base_lr, step, step_size, gamma)``,
  ``cosine_annealing_lr_recursive(lr, step, base_lr, T_max, eta_min)``, ``one_cycle_lr(...)``, …
  Each is torch 2.13's formula in torch's order of operations, so on Python floats it returns
  torch's floats bit for bit.  They use Python's operators and comparisons, and reach every
  other function (cos, π, floor, min, a branch) through ``_math(...)``, which answers
  Python's ``math`` for numbers and a SymPy namespace for symbolic ones: the same function
  proves things about a schedule on SymPy expressions or on the prover's ``SymScalar``.
  For every schedule torch gives a closed form (``_get_closed_form_lr``) there are both
  forms, listed in ``FORMS``: ``*_closed`` (the lr at a step, from the base lr) and
  ``*_recursive`` (torch's ``get_lr``: the next lr from the current one).
* **torch-style classes** (``StepLR(optimizer, step_size, gamma=0.1)``, …) with torch's
  signatures, defaults, checks, messages and ``state_dict`` keys.  They keep the scheduler's
  state (the step count, torch's quirks) and call the pure functions for every number.
  They drive any object with ``param_groups`` (a list of dicts): the NumPy classes of
  ``optim``, ``optim.torch_backend`` and torch.optim's optimizers; a 0-d tensor lr is
  filled in place, as torch does.

Not copied from torch: the warnings about calling ``scheduler.step()`` before
``optimizer.step()`` (torch wraps the optimizer's ``step`` to detect it; we never patch
the optimizer) and ``verbose``.
"""
from __future__ import annotations

import math
import operator
import sys
import types
import warnings
from bisect import bisect_right
from collections import Counter
from functools import partial
from typing import Any, Callable, Sequence

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR",
    "CosineAnnealingWarmRestarts", "OneCycleLR", "PolynomialLR", "FORMS", "SCHEDULE_KEYS",
]

# Keys the schedulers add to an optimizer's param groups, beside its hyperparameters (torch's
# names): an optimizer that refuses unknown keys in a group must let these through.
SCHEDULE_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being "
    "deprecated where possible. Please use `scheduler.step()` to step the "
    "scheduler. During the deprecation, if epoch is different from None, the "
    "closed form is used instead of the new chainable form, where available. "
    "Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)


# ---------------------------------------------------------------------------------------
# The functions a schedule needs beyond Python's operators, for numbers and for symbols.

class _FloatMath:
    """Python's math, for Python and NumPy numbers (and torch tensors, which only meet
    operators here): exactly what torch's scheduler calls, so the floats are torch's."""

    pi = math.pi
    cos = staticmethod(math.cos)
    log = staticmethod(math.log)
    floor = staticmethod(math.floor)
    min = staticmethod(min)
    max = staticmethod(max)
    floordiv = staticmethod(operator.floordiv)
    mod = staticmethod(operator.mod)
    eq = staticmethod(operator.eq)
    ne = staticmethod(operator.ne)

    @staticmethod
    def indicator(condition: Any) -> Any:
        """1 where ``condition`` holds, else 0; the bool itself, which torch multiplies."""
        return condition

    @staticmethod
    def select(condition: Any, if_true: Callable[[], Any], if_false: Callable[[], Any]) -> Any:
        """A branch: only the branch taken is computed (the other may divide by zero)."""
        return if_true() if condition else if_false()


class _SympyMath:
    """The same names over SymPy.  Raw SymPy expressions get SymPy's functions; a wrapper
    with a SymPy ``.expr`` (the prover's ``SymScalar``) gets its result wrapped again, with the
    operations and definedness conditions of its operands carried over, and branches on its
    conditions in an ``if`` (the prover's path explorer decides them or runs both ways).
    Python numbers enter as their exact binary values, never as rounded SymPy Floats."""

    def __init__(self, sympy: Any, wrapper: Any):
        self._sympy = sympy
        self._wrapper = wrapper     # a wrapped operand (its type rebuilds results), or None
        self._pi = self._wrapped(sympy.pi, ())
        # cos, log and math.pi are not exact in floats and no rounding model bounds libm's cos:
        # a wrapper that models rounding refuses them while it does
        self.cos = self._lifted("cos", sympy.cos, inexact=True)
        self.log = self._lifted("log", lambda x, base=None: sympy.log(x) if base is None else sympy.log(x, base),
                                inexact=True)
        self.floor = self._lifted("floor", sympy.floor)
        self.min = self._lifted("min", sympy.Min)
        self.max = self._lifted("max", sympy.Max)

    def _exact(self, x: Any) -> Any:
        if isinstance(x, self._sympy.Basic):
            return x
        if isinstance(x, bool) or isinstance(x, int):
            return self._sympy.Integer(int(x))
        if isinstance(x, float) or hasattr(x, "as_integer_ratio"):
            return self._sympy.Rational(*x.as_integer_ratio())
        return self._sympy.sympify(x)

    def _wrapped(self, expr: Any, operands: Sequence, op: str | None = None) -> Any:
        if self._wrapper is None:
            return expr
        wrapped = [o for o in operands if _symbolic_expr(o) is not None and not isinstance(o, self._sympy.Basic)]
        ops = frozenset().union(*(getattr(o, "ops", frozenset()) for o in wrapped))
        conditions = frozenset().union(*(getattr(o, "conditions", frozenset()) for o in wrapped))
        return type(self._wrapper)(expr, ops | ({op} if op else set()), conditions)

    @property
    def pi(self) -> Any:
        self._refuse_inexact("π (math.pi is rounded)")
        return self._pi

    def _refuse_inexact(self, what: str) -> None:
        refuse = getattr(self._wrapper, "refuse_in_rounding_model", None)
        if refuse is not None:
            refuse(what)

    def _lifted(self, name: str, fn: Callable, inexact: bool = False) -> Callable:
        def apply(*args: Any) -> Any:
            if inexact:
                self._refuse_inexact(name)
            exprs = [self._exact(getattr(a, "expr", a)) for a in args]
            return self._wrapped(fn(*exprs), args, name)
        return apply

    def floordiv(self, a: Any, b: Any) -> Any:
        """⌊a/b⌋ through ``/``, so a wrapper records that b ≠ 0."""
        return self.floor(a / b)

    def mod(self, a: Any, b: Any) -> Any:
        """Python's ``a % b`` (the sign of b): a − b·⌊a/b⌋."""
        return a - b * self.floordiv(a, b)

    def eq(self, a: Any, b: Any) -> Any:
        """A relation, not SymPy's structural ``==`` (which says False for a symbol and 0)."""
        if _symbolic_expr(a) is not None and not isinstance(a, self._sympy.Basic):
            return a == b             # the wrapper's own relation
        if _symbolic_expr(b) is not None and not isinstance(b, self._sympy.Basic):
            return b == a
        return self._sympy.Eq(self._exact(a), self._exact(b))

    def ne(self, a: Any, b: Any) -> Any:
        if _symbolic_expr(a) is not None and not isinstance(a, self._sympy.Basic):
            return a != b
        if _symbolic_expr(b) is not None and not isinstance(b, self._sympy.Basic):
            return b != a
        return self._sympy.Ne(self._exact(a), self._exact(b))

    def select(self, condition: Any, if_true: Callable[[], Any], if_false: Callable[[], Any]) -> Any:
        """A decided condition takes its branch; an undecided SymPy relation gives a Piecewise;
        a wrapper's condition is left to ``bool()`` (the prover's path explorer)."""
        sympy = self._sympy
        if isinstance(condition, sympy.Basic) and condition not in (sympy.true, sympy.false):
            return sympy.Piecewise((if_true(), condition), (if_false(), True))
        return if_true() if condition else if_false()

    def indicator(self, condition: Any) -> Any:
        return self.select(condition, lambda: 1, lambda: 0)


def _symbolic_expr(x: Any) -> Any:
    """The SymPy expression of a SymPy value or of a wrapper of one (``SymScalar.expr``); None
    for anything else.  SymPy is looked up, never imported: without it no value is symbolic."""
    sympy = sys.modules.get("sympy")
    if sympy is None:
        return None
    if isinstance(x, sympy.Basic):
        return x
    expr = getattr(x, "expr", None)
    return expr if isinstance(expr, sympy.Basic) else None


def _math(*values: Any) -> Any:
    """The functions for these values: SymPy's if any is symbolic, else Python's ``math``."""
    symbolic = [v for v in values if _symbolic_expr(v) is not None]
    if not symbolic:
        return _FloatMath
    sympy = sys.modules["sympy"]
    wrapper = next((v for v in symbolic if not isinstance(v, sympy.Basic)), None)
    return _SympyMath(sympy, wrapper)


# ---------------------------------------------------------------------------------------
# Pure schedules with a closed form: both forms, in torch's order of operations.
#
# ``*_closed(base_lr, step, …)``: torch's ``_get_closed_form_lr`` for one group, the lr at
# ``last_epoch = step`` from the group's initial lr.
# ``*_recursive(lr, step, base_lr, …)``: torch's ``get_lr`` for one group, the lr at
# ``last_epoch = step`` from the lr at step − 1 (``lr``).  Torch's first step (the one the
# constructor makes) keeps the lr for some schedules: the classes handle it.
#
# Where torch writes a float literal (``1.0 - step / total_iters``) we write the integer: the
# other operand is a float (a true quotient, a float hyperparameter), so Python converts the
# integer exactly and the float result is torch's, while on SymPy values the result stays
# exact (a literal 1.0 would enter as a SymPy Float).

def step_lr_closed(base_lr: Any, step: Any, step_size: Any, gamma: Any) -> Any:
    """base_lr·γ^⌊step/step_size⌋."""
    m = _math(base_lr, step, step_size, gamma)
    return base_lr * gamma ** m.floordiv(step, step_size)


def step_lr_recursive(lr: Any, step: Any, base_lr: Any, step_size: Any, gamma: Any) -> Any:
    """lr·γ at each non-zero multiple of step_size, else lr."""
    m = _math(lr, step, step_size, gamma)
    return m.select(m.eq(step, 0), lambda: lr,
                    lambda: m.select(m.ne(m.mod(step, step_size), 0), lambda: lr, lambda: lr * gamma))


def multi_step_lr_closed(base_lr: Any, step: Any, milestones: Sequence, gamma: Any) -> Any:
    """base_lr·γ^(number of milestones ≤ step; a repeated milestone counts each time)."""
    m = _math(base_lr, step, gamma, *milestones)
    return base_lr * gamma ** _count(m, (m.indicator(milestone <= step) for milestone in sorted(milestones)))


def multi_step_lr_recursive(lr: Any, step: Any, base_lr: Any, milestones: Sequence, gamma: Any) -> Any:
    """lr·γ^k at a milestone listed k times, else lr."""
    m = _math(lr, step, gamma, *milestones)
    times = _count(m, (m.indicator(m.eq(milestone, step)) for milestone in milestones))
    return m.select(m.eq(times, 0), lambda: lr, lambda: lr * gamma ** times)


def _count(m: Any, indicators: Any) -> Any:
    """A sum of indicators: an int on numbers (torch's ``bisect_right`` or Counter count, so
    γ is raised to the same int), a sum of piecewise terms on symbols."""
    total = 0
    for one in indicators:
        total = total + (int(one) if m is _FloatMath else one)
    return total


def constant_lr_closed(base_lr: Any, step: Any, factor: Any, total_iters: Any) -> Any:
    """base_lr·factor before total_iters, base_lr·(factor + (1 − factor)) from then on."""
    m = _math(base_lr, step, factor, total_iters)
    return base_lr * (factor + m.indicator(step >= total_iters) * (1 - factor))


def constant_lr_recursive(lr: Any, step: Any, base_lr: Any, factor: Any, total_iters: Any) -> Any:
    """lr·factor at step 0, lr·(1/factor) at total_iters, else lr."""
    m = _math(lr, step, factor, total_iters)
    return m.select(m.eq(step, 0), lambda: lr * factor,
                    lambda: m.select(m.ne(step, total_iters), lambda: lr, lambda: lr * (1 / factor)))


def linear_lr_closed(base_lr: Any, step: Any, start_factor: Any, end_factor: Any, total_iters: Any) -> Any:
    """base_lr·(start + (end − start)·min(total_iters, step)/total_iters)."""
    m = _math(base_lr, step, start_factor, end_factor, total_iters)
    return base_lr * (start_factor + (end_factor - start_factor) * m.min(total_iters, step) / total_iters)


def linear_lr_recursive(lr: Any, step: Any, base_lr: Any, start_factor: Any, end_factor: Any,
                        total_iters: Any) -> Any:
    """lr·start at step 0; up to total_iters, lr times the ratio of consecutive factors
    (1 + Δ/(T·start + (step − 1)·Δ), Δ = end − start); then lr."""
    m = _math(lr, step, start_factor, end_factor, total_iters)

    def ramp() -> Any:
        return lr * (1 + (end_factor - start_factor)
                     / (total_iters * start_factor + (step - 1) * (end_factor - start_factor)))
    return m.select(m.eq(step, 0), lambda: lr * start_factor,
                    lambda: m.select(step > total_iters, lambda: lr, ramp))


def exponential_lr_closed(base_lr: Any, step: Any, gamma: Any) -> Any:
    """base_lr·γ^step."""
    return base_lr * gamma ** step


def exponential_lr_recursive(lr: Any, step: Any, base_lr: Any, gamma: Any) -> Any:
    """lr·γ."""
    return lr * gamma


def cosine_annealing_lr_closed(base_lr: Any, step: Any, T_max: Any, eta_min: Any) -> Any:
    """η_min + (base_lr − η_min)·(1 + cos(π·step/T_max))/2 (periodic past T_max)."""
    m = _math(base_lr, step, T_max, eta_min)
    return eta_min + (base_lr - eta_min) * (1 + m.cos(m.pi * step / T_max)) / 2


def cosine_annealing_lr_recursive(lr: Any, step: Any, base_lr: Any, T_max: Any, eta_min: Any) -> Any:
    """The ratio of consecutive cosine factors applied to lr − η_min; at the step after each
    minimum (step − 1 − T_max a multiple of 2·T_max), where that ratio is 0/0, torch adds the
    first rise instead."""
    m = _math(lr, step, base_lr, T_max, eta_min)

    def after_minimum() -> Any:
        return lr + (base_lr - eta_min) * (1 - m.cos(m.pi / T_max)) / 2

    def ratio() -> Any:
        return ((1 + m.cos(m.pi * step / T_max)) / (1 + m.cos(m.pi * (step - 1) / T_max))
                * (lr - eta_min) + eta_min)
    return m.select(m.eq(m.mod(step - 1 - T_max, 2 * T_max), 0), after_minimum, ratio)


def _cosine_annealing_lr_resumed(base_lr: Any, step: Any, T_max: Any, eta_min: Any) -> Any:
    """torch's get_lr on a first step after a resume (``_step_count == 1``, step > 0): the
    closed form with π·step multiplied the other way round (step·π/T_max)."""
    m = _math(base_lr, step, T_max, eta_min)
    return eta_min + (base_lr - eta_min) * (1 + m.cos(step * m.pi / T_max)) / 2


def polynomial_lr_closed(base_lr: Any, step: Any, total_iters: Any, power: Any) -> Any:
    """base_lr·(1 − min(total_iters, step)/total_iters)^power."""
    m = _math(base_lr, step, total_iters, power)
    return base_lr * (1 - m.min(total_iters, step) / total_iters) ** power


def polynomial_lr_recursive(lr: Any, step: Any, base_lr: Any, total_iters: Any, power: Any) -> Any:
    """lr times the ratio of consecutive factors ((1 − step/T)/(1 − (step − 1)/T))^power up
    to total_iters, then lr."""
    m = _math(lr, step, total_iters, power)

    def decayed() -> Any:
        return lr * ((1 - step / total_iters) / (1 - (step - 1) / total_iters)) ** power
    return m.select(step > total_iters, lambda: lr, decayed)


FORMS: dict[str, tuple[Callable, Callable]] = {
    "StepLR": (step_lr_closed, step_lr_recursive),
    "MultiStepLR": (multi_step_lr_closed, multi_step_lr_recursive),
    "ConstantLR": (constant_lr_closed, constant_lr_recursive),
    "LinearLR": (linear_lr_closed, linear_lr_recursive),
    "ExponentialLR": (exponential_lr_closed, exponential_lr_recursive),
    "CosineAnnealingLR": (cosine_annealing_lr_closed, cosine_annealing_lr_recursive),
    "PolynomialLR": (polynomial_lr_closed, polynomial_lr_recursive),
}
"""``FORMS[name] = (closed, recursive)`` for each torch scheduler with ``_get_closed_form_lr``.

``closed(base_lr, step, *hyperparameters)``: the lr at ``last_epoch = step`` from ``base_lr``
(the group's ``initial_lr``).  ``recursive(lr, step, base_lr, *hyperparameters)``: the lr at
``last_epoch = step`` from ``lr``, the lr at step − 1 (``base_lr`` is read by
CosineAnnealingLR only).  The hyperparameters follow the constructor's order: StepLR
(step_size, gamma), MultiStepLR (milestones, gamma), ConstantLR (factor, total_iters),
LinearLR (start_factor, end_factor, total_iters), ExponentialLR (gamma), CosineAnnealingLR
(T_max, eta_min), PolynomialLR (total_iters, power).  Iterating ``recursive`` from
``closed(base_lr, 0, …)`` for steps 1, 2, … gives the classes' sequence; the closed form
rounds differently (see the drift measurements in the report)."""


# ---------------------------------------------------------------------------------------
# Pure schedules without a closed form in torch.

def lambda_lr(base_lr: Any, factor: Any) -> Any:
    """LambdaLR: base_lr·λ(step), with ``factor`` = λ(step)."""
    return base_lr * factor


def multiplicative_lr(lr: Any, factor: Any) -> Any:
    """MultiplicativeLR: lr·λ(step), with ``factor`` = λ(step)."""
    return lr * factor


def triangular_scale(x: Any) -> Any:
    """CyclicLR's 'triangular' amplitude: constant."""
    return 1.0


def triangular2_scale(x: Any) -> Any:
    """CyclicLR's 'triangular2' amplitude: halved each cycle (x = the cycle, from 1)."""
    return 1 / 2.0 ** (x - 1)


def exp_range_scale(gamma: Any, x: Any) -> Any:
    """CyclicLR's 'exp_range' amplitude: γ^x (x = the step)."""
    return gamma ** x


def cyclic_position(step: Any, total_size: Any, step_ratio: Any) -> tuple[Any, Any]:
    """(cycle, height) of a step in CyclicLR's triangle wave: the cycle from 1, and the
    fraction of the way up (rising for the first step_ratio of a cycle, then falling)."""
    m = _math(step, total_size, step_ratio)
    cycle = m.floor(1 + step / total_size)
    x = 1 + step / total_size - cycle
    height = m.select(x <= step_ratio, lambda: x / step_ratio, lambda: (x - 1) / (step_ratio - 1))
    return cycle, height


def cyclic_lr(base_lr: Any, max_lr: Any, height: Any, scale: Any) -> Any:
    """base_lr + (max_lr − base_lr)·height·scale."""
    base_height = (max_lr - base_lr) * height
    return base_lr + base_height * scale


def cyclic_momentum(base_momentum: Any, max_momentum: Any, height: Any, scale: Any) -> Any:
    """The momentum moves opposite to the lr: max − (max − base)·height·scale."""
    base_height = (max_momentum - base_momentum) * height
    return max_momentum - base_height * scale


def warm_restarts_lr(base_lr: Any, T_cur: Any, T_i: Any, eta_min: Any) -> Any:
    """CosineAnnealingWarmRestarts: η_min + (base_lr − η_min)·(1 + cos(π·T_cur/T_i))/2."""
    m = _math(base_lr, T_cur, T_i, eta_min)
    return eta_min + (base_lr - eta_min) * (1 + m.cos(m.pi * T_cur / T_i)) / 2


def warm_restarts_next(T_cur: Any, T_i: Any, T_mult: Any) -> tuple[Any, Any]:
    """(T_cur, T_i) one step on: a restart when the period T_i is over, the next period
    T_mult times longer."""
    T_cur = T_cur + 1
    if T_cur >= T_i:
        return T_cur % T_i, T_i * T_mult
    return T_cur, T_i


def warm_restarts_at(epoch: Any, T_0: Any, T_mult: Any, T_i: Any) -> tuple[Any, Any]:
    """(T_cur, T_i) at a given epoch (``step(epoch)``): the period n found with a logarithm,
    as torch does; with T_mult = 1 torch keeps the current T_i."""
    m = _math(epoch, T_0, T_mult)
    if epoch < T_0:
        return epoch, T_0
    if T_mult == 1:
        return epoch % T_0, T_i
    n = int(m.log(epoch / T_0 * (T_mult - 1) + 1, T_mult))
    return epoch - T_0 * (T_mult ** n - 1) / (T_mult - 1), T_0 * T_mult ** n


def annealing_cos(start: Any, end: Any, pct: Any) -> Any:
    """OneCycleLR's cosine from start (pct = 0) to end (pct = 1)."""
    m = _math(start, end, pct)
    cos_out = m.cos(m.pi * pct) + 1
    return end + (start - end) / 2 * cos_out


def annealing_linear(start: Any, end: Any, pct: Any) -> Any:
    """OneCycleLR's line from start (pct = 0) to end (pct = 1)."""
    return (end - start) * pct + start


ANNEALING = {"cos": annealing_cos, "linear": annealing_linear}


def one_cycle_phases(total_steps: Any, pct_start: Any, three_phase: bool) -> list[dict]:
    """OneCycleLR's phases, as torch keeps them (``_schedule_phases``): each phase's last step
    and the param-group keys of its start and end lr and momentum."""
    warmup = {"end_step": float(pct_start * total_steps) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
              "start_momentum": "max_momentum", "end_momentum": "base_momentum"}
    if not three_phase:
        return [warmup, {"end_step": total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                         "start_momentum": "base_momentum", "end_momentum": "max_momentum"}]
    return [warmup,
            {"end_step": float(2 * pct_start * total_steps) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
             "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            {"end_step": total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
             "start_momentum": "max_momentum", "end_momentum": "max_momentum"}]


def one_cycle_phase(step: Any, phases: Sequence[dict]) -> tuple[dict, Any]:
    """(phase, pct): the phase a step is in (the last one past its end) and how far into it."""
    start_step = 0.0
    for i, phase in enumerate(phases):
        end_step = phase["end_step"]
        if step <= end_step or i == len(phases) - 1:
            return phase, (step - start_step) / (end_step - start_step)
        start_step = phase["end_step"]
    raise ValueError("OneCycleLR needs at least one phase")


def one_cycle_value(step: Any, phases: Sequence[dict], values: dict, anneal_strategy: str = "cos",
                    kind: str = "lr") -> Any:
    """OneCycleLR's lr (``kind="lr"``) or momentum (``kind="momentum"``) at a step; ``values``
    maps the phases' keys (initial_lr, max_lr, min_lr, max_momentum, base_momentum) to numbers."""
    phase, pct = one_cycle_phase(step, phases)
    return ANNEALING[anneal_strategy](values[phase[f"start_{kind}"]], values[phase[f"end_{kind}"]], pct)


def one_cycle_lr(step: Any, max_lr: Any, total_steps: Any, pct_start: Any = 0.3, anneal_strategy: str = "cos",
                 div_factor: Any = 25.0, final_div_factor: Any = 1e4, three_phase: bool = False) -> Any:
    """OneCycleLR's lr at a step, from its constructor's arguments (initial_lr = max_lr/div_factor,
    min_lr = initial_lr/final_div_factor)."""
    initial_lr = max_lr / div_factor
    values = {"initial_lr": initial_lr, "max_lr": max_lr, "min_lr": initial_lr / final_div_factor}
    return one_cycle_value(step, one_cycle_phases(total_steps, pct_start, three_phase), values, anneal_strategy)


def is_better(a: Any, best: Any, mode: str, threshold_mode: str, threshold: Any) -> Any:
    """ReduceLROnPlateau: whether metric ``a`` improves on ``best`` by more than the threshold
    (relative: by a factor 1 ∓ threshold; absolute: by threshold)."""
    if mode == "min" and threshold_mode == "rel":
        return a < best * (1.0 - threshold)
    if mode == "min" and threshold_mode == "abs":
        return a < best - threshold
    if mode == "max" and threshold_mode == "rel":
        return a > best * (threshold + 1.0)
    return a > best + threshold


def plateau_lr(lr: Any, factor: Any, min_lr: Any, eps: Any) -> Any:
    """ReduceLROnPlateau's reduction: max(lr·factor, min_lr), or lr itself when that would
    change it by no more than eps."""
    m = _math(lr, factor, min_lr, eps)
    new_lr = m.max(lr * factor, min_lr)
    return m.select(lr - new_lr > eps, lambda: new_lr, lambda: lr)


# ---------------------------------------------------------------------------------------
# Param group values: a float, or a tensor (torch's tensor lr) that is filled in place.

def _is_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")   # without torch loaded there is no tensor
    return torch is not None and isinstance(x, torch.Tensor)


def _copied(x: Any) -> Any:
    """A group value that does not alias the group's (a tensor is cloned)."""
    return x.clone() if _is_tensor(x) else x


def _group_values(optimizer: Any, key: str) -> list:
    """group[key] of every param group, copied; a KeyError where a group has none."""
    return [_copied(group[key]) for group in optimizer.param_groups]


def _set_group_value(group: dict, key: str, value: Any) -> None:
    """group[key] ← value: a tensor is filled in place (its identity is the optimizer's, and
    a compiled step may hold it); anything else is replaced."""
    if _is_tensor(group[key]):
        if _is_tensor(value) and value.dim() != 0:
            value = value.squeeze()
        group[key].fill_(value)
    else:
        group[key] = value


def _per_group(name: str, optimizer: Any, value: Any) -> list:
    """One value per param group: a list or tuple of them, or one value for every group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has {len(optimizer.param_groups)}.")
    else:
        value = [value] * len(optimizer.param_groups)
    return [_copied(v) for v in value]


def _check_optimizer(optimizer: Any) -> None:
    """Anything with param groups: torch.optim's optimizers and optim's classes."""
    if not isinstance(getattr(optimizer, "param_groups", None), list):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _set_momentum(group: dict, momentum: Any, use_beta1: bool) -> None:
    """Write a cycled momentum: SGD's ``momentum``, or Adam's β1 (``betas[0]``)."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _momentum_key(optimizer: Any) -> bool:
    """Whether the optimizer cycles β1 (it has ``betas``) rather than ``momentum``."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
    return "betas" in optimizer.defaults


def _start_momentum_cycle(optimizer: Any, max_momentum: Any, base_momentum: Any, last_epoch: int,
                          use_beta1: bool) -> tuple[list, list]:
    """(max_momentums, base_momentums) per group; a fresh schedule starts at max_momentum
    and keeps both in the groups (OneCycleLR reads them there)."""
    max_momentums = _per_group("max_momentum", optimizer, max_momentum)
    base_momentums = _per_group("base_momentum", optimizer, base_momentum)
    if last_epoch == -1:
        for top, bottom, group in zip(max_momentums, base_momentums, optimizer.param_groups, strict=True):
            _set_momentum(group, top, use_beta1)
            group["max_momentum"] = top
            group["base_momentum"] = bottom
    return max_momentums, base_momentums


# ---------------------------------------------------------------------------------------
# The classes.

class LRScheduler:
    """Base class: a subclass defines ``get_lr()``, the lrs at ``self.last_epoch`` (one per
    param group), and may define ``_get_closed_form_lr()`` for ``step(epoch)``.

    The constructor records each group's ``initial_lr`` (``base_lrs``; required in the groups
    when resuming with ``last_epoch >= 0``) and makes the first step, to ``last_epoch + 1``."""

    _get_lr_called_within_step: bool = False
    _is_initial: bool = False

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copied(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler "
                        "with last_epoch >= 0.\n"
                        "This typically happens when:\n"
                        "1. You're trying to resume training from a checkpoint but haven't properly loaded "
                        "the optimizer state\n"
                        "2. You're using last_epoch >= 0 for a fresh training run (not recommended)")
        self.base_lrs: list = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The constructor's step; some schedules keep the lr on it (``_is_initial``)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict:
        """Everything but the optimizer, under torch's attribute names."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list:
        """The lrs of the last step (copies: editing them changes nothing)."""
        return self._last_lr

    def get_lr(self) -> list:
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """One step on (``epoch``: torch's deprecated jump to an epoch, by the closed form
        where there is one)."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed = getattr(self, "_get_closed_form_lr", None)
                values = closed() if closed is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            _set_group_value(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")

    def _warn_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=3)

    def _current_lrs(self) -> list:
        return _group_values(self.optimizer, "lr")

    def _each_group(self, rule: Callable[[Any, Any], Any]) -> list:
        """rule(lr, base_lr) for every group: a recursive form applied to the current lrs."""
        return [rule(group["lr"], base_lr)
                for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs, strict=True)]


def _lambdas(optimizer: Any, lr_lambda: Any) -> list:
    """One factor function per group (one given for all, or a list of one per group)."""
    if not isinstance(lr_lambda, (list, tuple)):
        return [lr_lambda] * len(optimizer.param_groups)
    if len(lr_lambda) != len(optimizer.param_groups):
        raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
    return list(lr_lambda)


class _LambdaState:
    """state_dict of the lambda schedulers: a function or lambda is not saved (None), a
    callable object's attributes are, as in torch."""

    def state_dict(self) -> dict:
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        saved = {key: value for key, value in state_dict.items() if key != "lr_lambdas"}
        self.__dict__.update(saved)
        for fn, attributes in zip(self.lr_lambdas, state_dict["lr_lambdas"]):
            if attributes is not None:
                fn.__dict__.update(attributes)


class LambdaLR(_LambdaState, LRScheduler):
    """lr = initial lr · lr_lambda(step)."""

    def __init__(self, optimizer: Any, lr_lambda: Any, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        return [lambda_lr(base_lr, fn(self.last_epoch)) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs,
                                                                               strict=True)]


class MultiplicativeLR(_LambdaState, LRScheduler):
    """lr ← lr · lr_lambda(step) at each step after the first."""

    def __init__(self, optimizer: Any, lr_lambda: Any, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return [multiplicative_lr(group["lr"], fn(self.last_epoch))
                for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups, strict=True)]


class StepLR(LRScheduler):
    """lr ← lr·γ every step_size steps."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        return self._each_group(lambda lr, base: step_lr_recursive(lr, self.last_epoch, base, self.step_size,
                                                                   self.gamma))

    def _get_closed_form_lr(self) -> list:
        return [step_lr_closed(base, self.last_epoch, self.step_size, self.gamma) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr ← lr·γ at each milestone (γ^k at a milestone listed k times)."""

    def __init__(self, optimizer: Any, milestones: Any, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        if self.last_epoch not in self.milestones:   # the Counter's own test, as torch's
            return self._current_lrs()
        milestones = list(self.milestones.elements())
        return self._each_group(lambda lr, base: multi_step_lr_recursive(lr, self.last_epoch, base, milestones,
                                                                         self.gamma))

    def _get_closed_form_lr(self) -> list:
        milestones = list(self.milestones.elements())
        return [multi_step_lr_closed(base, self.last_epoch, milestones, self.gamma) for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr·factor for the first total_iters steps, then lr."""

    def __init__(self, optimizer: Any, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        if self.last_epoch != 0 and self.last_epoch != self.total_iters:
            return self._current_lrs()     # unchanged: copies, as torch returns
        return self._each_group(lambda lr, base: constant_lr_recursive(lr, self.last_epoch, base, self.factor,
                                                                       self.total_iters))

    def _get_closed_form_lr(self) -> list:
        return [constant_lr_closed(base, self.last_epoch, self.factor, self.total_iters) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """lr·factor, the factor going linearly from start_factor to end_factor over total_iters steps."""

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        # step 0 scales even on the constructor's step; a resumed constructor's step keeps the lr
        if self.last_epoch != 0 and (self._is_initial or self.last_epoch > self.total_iters):
            return self._current_lrs()
        return self._each_group(lambda lr, base: linear_lr_recursive(
            lr, self.last_epoch, base, self.start_factor, self.end_factor, self.total_iters))

    def _get_closed_form_lr(self) -> list:
        return [linear_lr_closed(base, self.last_epoch, self.start_factor, self.end_factor, self.total_iters)
                for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr ← lr·γ at each step after the first."""

    def __init__(self, optimizer: Any, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return self._each_group(lambda lr, base: exponential_lr_recursive(lr, self.last_epoch, base, self.gamma))

    def _get_closed_form_lr(self) -> list:
        return [exponential_lr_closed(base, self.last_epoch, self.gamma) for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr·(1 − step/total_iters)^power, then 0 (torch's recursion stops at total_iters)."""

    def __init__(self, optimizer: Any, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return self._each_group(lambda lr, base: polynomial_lr_recursive(lr, self.last_epoch, base,
                                                                         self.total_iters, self.power))

    def _get_closed_form_lr(self) -> list:
        return [polynomial_lr_closed(base, self.last_epoch, self.total_iters, self.power) for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """A cosine from the initial lr down to eta_min over T_max steps (and back up, past T_max)."""

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and self.last_epoch > 0:
            return [_cosine_annealing_lr_resumed(base, self.last_epoch, self.T_max, self.eta_min)
                    for base in self.base_lrs]
        return self._each_group(lambda lr, base: cosine_annealing_lr_recursive(lr, self.last_epoch, base,
                                                                               self.T_max, self.eta_min))

    def _get_closed_form_lr(self) -> list:
        return [cosine_annealing_lr_closed(base, self.last_epoch, self.T_max, self.eta_min) for base in self.base_lrs]


def _check_composable(owner: str, optimizer: Any, schedulers: Sequence) -> None:
    """torch's checks on the schedulers SequentialLR and ChainedScheduler combine."""
    for index, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{owner} at index {index} should have `optimizer` as its attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{owner} does not support `ReduceLROnPlateau` scheduler as it requires additional "
                             "kwargs to be specified when calling `step`, but got one at index "
                             f"{index} in the given schedulers sequence.")
        if optimizer != scheduler.optimizer:
            raise ValueError(f"{owner} expects all schedulers to belong to the same optimizer, but got scheduler "
                             f"{scheduler.__class__.__name__} at index {index} has {scheduler.optimizer}, "
                             f"which is different from {optimizer.__class__.__name__}.")


class _Composite:
    """state_dict of a scheduler made of others: theirs nested under ``_schedulers``."""

    def state_dict(self) -> dict:
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update({key: value for key, value in state_dict.items() if key != "_schedulers"})
        for scheduler, saved in zip(self._schedulers, state_dict["_schedulers"]):
            scheduler.load_state_dict(saved)


class SequentialLR(_Composite, LRScheduler):
    """One scheduler after another: schedulers[i] from milestones[i − 1] on.  As torch: the
    constructor resets the lrs to the initial ones, steps every sub-scheduler back once and
    restarts the first; at a milestone the next scheduler jumps to its step 0 (``step(0)``:
    the closed form where it has one)."""

    def __init__(self, optimizer: Any, schedulers: list, milestones: list, last_epoch: int = -1) -> None:
        name = self.__class__.__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        _check_composable(name, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be one more than the "
                             f"number of milestone points, but got number of schedulers {len(schedulers)} and the "
                             f"number of milestones to be equal to {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in self.optimizer.param_groups:
            _set_group_value(group, "lr", group["initial_lr"])
        self.recursive_undo()
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def recursive_undo(self, sched: Any = None) -> None:
        """Step every (nested) sub-scheduler's last_epoch back by one: each already made its
        constructor's step."""
        scheduler = self if sched is None else sched
        if hasattr(scheduler, "_schedulers"):
            for inner in scheduler._schedulers:
                self.recursive_undo(inner)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self) -> None:
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite, LRScheduler):
    """Every scheduler steps, in order, at each step: their changes compose."""

    def __init__(self, schedulers: Sequence, optimizer: Any = None) -> None:
        name = self.__class__.__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler to be chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        _check_composable(name, optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")


class ReduceLROnPlateau(LRScheduler):
    """lr ← max(lr·factor, min_lr) once the metric has not improved for more than patience
    steps, then cooldown steps without counting."""

    def __init__(self, optimizer: Any, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr: Any = 0,
                 eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _group_values(self.optimizer, "lr")
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics: Any, epoch: Any = None) -> None:
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0     # no bad epoch counts during the cooldown
        if self.num_bad_epochs > self.patience:
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_values(self.optimizer, "lr")

    def _reduce_lr(self, epoch: Any) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs from when "
                    f"`ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), usually due to a new param group "
                    "being added to the optimizer. Please modify the `min_lrs` field to match the length of the "
                    "`optimizer` param groups.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = plateau_lr(old_lr, self.factor, min_lr, self.eps)
            if new_lr is not old_lr:    # reduced by more than eps: written (a tensor lr is filled)
                _set_group_value(group, "lr", new_lr)

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, a: Any, best: Any) -> Any:
        return is_better(a, best, self.mode, self.threshold_mode, self.threshold)

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in {"min", "max"}:
            raise ValueError("mode " + mode + " is unknown!")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError("threshold mode " + threshold_mode + " is unknown!")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
        self._init_is_better(mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode)


class CyclicLR(LRScheduler):
    """A triangle wave between base_lr and max_lr (the momentum the other way), its amplitude
    scaled by mode ('triangular', 'triangular2', 'exp_range') or scale_fn."""

    def __init__(self, optimizer: Any, base_lr: Any, max_lr: Any, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular", gamma: float = 1.0,
                 scale_fn: Callable | None = None, scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: Any = 0.8, max_momentum: Any = 0.9, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                _set_group_value(group, "lr", lr)
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ["triangular", "triangular2", "exp_range"] and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_key(optimizer)
            self.max_momentums, self.base_momentums = _start_momentum_cycle(
                optimizer, max_momentum, base_momentum, last_epoch, self.use_beta1)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        """The amplitude of a named mode, and what it is a function of (cycle or step)."""
        if self._scale_fn_custom is not None:
            return
        scale, self.scale_mode = {"triangular": (triangular_scale, "cycle"),
                                  "triangular2": (triangular2_scale, "cycle"),
                                  "exp_range": (partial(exp_range_scale, self.gamma), "iterations")}[self.mode]
        self._scale_fn_ref = scale

    def scale_fn(self, x: Any) -> Any:
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    def _scale(self, cycle: Any) -> Any:
        # called once per value, as torch does (a custom scale_fn may count its calls)
        return self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        cycle, height = cyclic_position(self.last_epoch, self.total_size, self.step_ratio)
        lrs = [cyclic_lr(base, top, height, self._scale(cycle))
               for base, top in zip(self.base_lrs, self.max_lrs, strict=True)]
        if self.cycle_momentum:
            momenta = [cyclic_momentum(base, top, height, self._scale(cycle))
                       for base, top in zip(self.base_momentums, self.max_momentums, strict=True)]
            for group, momentum in zip(self.optimizer.param_groups, momenta, strict=True):
                _set_momentum(group, momentum, self.use_beta1)
        return lrs

    def state_dict(self) -> dict:
        """The scale function is not saved (a callable object's attributes are), as in torch."""
        state = super().state_dict()
        state.pop("_scale_fn_ref", None)
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None
        if fn is not None and not isinstance(fn, types.FunctionType):
            state["_scale_fn_custom"] = fn.__dict__.copy()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        saved = {key: value for key, value in state_dict.items() if key != "_scale_fn_custom"}
        super().load_state_dict(saved)
        fn = state_dict["_scale_fn_custom"]
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from the initial lr to eta_min over T_0 steps, restarting at the
    initial lr, each period T_mult times longer than the last."""

    def __init__(self, optimizer: Any, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        return [warm_restarts_lr(base, self.T_cur, self.T_i, self.eta_min) for base in self.base_lrs]

    def step(self, epoch: Any = None) -> None:
        """One step on, or to ``epoch`` (a float epoch gives a fraction of a period)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur, self.T_i = warm_restarts_next(self.T_cur, self.T_i, self.T_mult)
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            self.T_cur, self.T_i = warm_restarts_at(epoch, self.T_0, self.T_mult, self.T_i)
        self.last_epoch = math.floor(epoch)
        self._get_lr_called_within_step = True
        try:
            values = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            _set_group_value(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")


class OneCycleLR(LRScheduler):
    """The 1cycle policy: the lr rises from max_lr/div_factor to max_lr over pct_start of the
    steps, then anneals to initial_lr/final_div_factor (three_phase: back to the initial lr
    first); the momentum moves the other way."""

    def __init__(self, optimizer: Any, max_lr: Any, total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: Any = 0.85, max_momentum: Any = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        self.total_steps = self._total_steps(total_steps, epochs, steps_per_epoch)
        self._schedule_phases = one_cycle_phases(self.total_steps, pct_start, three_phase)
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        max_lrs = _per_group("max_lr", self.optimizer, max_lr)
        if last_epoch == -1:
            for top, group in zip(max_lrs, self.optimizer.param_groups):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if self.cycle_momentum:
            self.use_beta1 = _momentum_key(self.optimizer)
            _start_momentum_cycle(optimizer, max_momentum, base_momentum, last_epoch, self.use_beta1)
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _total_steps(total_steps: Any, epochs: Any, steps_per_epoch: Any) -> int:
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            return total_steps
        if epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            return epochs * steps_per_epoch
        raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")

    def get_lr(self) -> list:
        self._warn_outside_step()
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            # the phases' ends and values are read from the group at every step, as torch does
            lrs.append(one_cycle_value(step, self._schedule_phases, group, self._anneal_func_type, "lr"))
            if self.cycle_momentum:
                momentum = one_cycle_value(step, self._schedule_phases, group, self._anneal_func_type, "momentum")
                _set_momentum(group, momentum, self.use_beta1)
        return lrs
