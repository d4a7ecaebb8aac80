"""Float error contracts: how far one executed step can land from the real step the other
theorems speak about, in the standard rounding model — every arithmetic result is its exact
value times (1 + δ), |δ| ≤ u (``x.rounding(u)``: the optimizer's own code runs there, once
exactly and once rounded, and the claim compares the two).  These bounds are *not* first order:
they hold for every δ in [−u, u], higher-order terms included (the (1 + u) factors); the decider
shows them by forward error analysis (``symbolic.propagation``), or else at the vertices of
the δ box, where a claim multilinear in the δ takes its extremes.
As in TorchLean's contracts for SGD and momentum, u is the unit roundoff of the arithmetic (2⁻⁵³ in
float64, 2⁻²⁴ in float32, where NumPy's conversion of the Python float lr to float32 is one more
rounding this model leaves out: ``make precision`` measures it, with every other optimizer's)."""
import dataclasses
import math

import sympy

from optim import (adadelta, adafactor, adagrad, adam, adamax, adamw, asgd, lamb, lars, lion, momentum_sgd, muon, nadam, radam, rmsprop, rprop,
                   schedule_free_adamw, schedule_free_sgd, sgd)
from optim._shared import bias_correction, ema_of_square, lerp, norm, step_coefficient
from optim.context import context_of
from proofs.harness import REFUTED, Given, inequality, theorem

SOURCE = "the standard model of floating-point arithmetic (Higham 2002, §2.2); TorchLean's SGD contract"
# The contracts whose decision takes 8–15 s on one core ask for 90 s: under a loaded or slower
# machine the run's 30 s default would make them UNKNOWN by chance, not by a failed proof.
SLOW = 90.0


def float_and_exact(x: Given, update, state, p, g, u):
    exact_state, exact = update(state, p, g)
    with x.rounding(u):
        computed_state, computed = update(state, p, g)
    return (computed_state, computed), (exact_state, exact)


@theorem("Optim.SGD.float_step_error_le", form="inequality", source=SOURCE,
         statement="|δ| ≤ u for each of the step's 2 roundings ⟹ |fl(p − g·lr) − (p − g·lr)| ≤ u·|p − g·lr| + u·(1 + u)·|g·lr|")
def sgd_step(x: Given):
    """A plain SGD step rounds twice (g·lr, then the subtraction): the error is at most u of the
    result plus u(1 + u) of the step — every shape, every u."""
    u, lr = x.positive("u"), x.nonnegative("lr")
    p, g = x.tensor("params"), x.tensor("grads")
    (_, computed), (_, exact) = float_and_exact(x, sgd.update, sgd.State(lr=lr), p, g, u)
    ctx = context_of(p)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + u * (1 + u) * ctx.abs(g * lr))


@theorem("Optim.SGD.float_step_relative_error_le", form="inequality", expect=REFUTED, source=SOURCE,
         statement="|δ| ≤ u ⟹ |fl(p − g·lr) − (p − g·lr)| ≤ u·|p − g·lr|")
def sgd_relative(x: Given):
    """A bound relative to the result alone fails: where the step nearly cancels p (g·lr ≈ p),
    the rounding of g·lr is no longer small against the result (refuted, with the δ)."""
    u, lr = x.positive("u"), x.nonnegative("lr")
    p, g = x.tensor("params"), x.tensor("grads")
    (_, computed), (_, exact) = float_and_exact(x, sgd.update, sgd.State(lr=lr), p, g, u)
    return inequality(context_of(p).abs(computed - exact), u * context_of(p).abs(exact))


@theorem("Optim.MomentumSGD.float_buffer_error_le", form="inequality", source=SOURCE,
         statement="|δ| ≤ u for each of its 2 roundings ⟹ |fl(buf·μ + g) − (buf·μ + g)| ≤ u·|buf·μ + g| + u·(1 + u)·|buf·μ|")
def momentum_buffer(x: Given):
    """The seed's momentum buffer buf′ = buf·μ + g rounds twice; its params step p − buf′·lr is
    SGD's step on buf′ (``Optim.SGD.float_step_error_le`` bounds it for the computed buf′), and
    the buffer's own error reaches the params times lr (TorchLean's composition of the two)."""
    u = x.positive("u")
    state = x.state(momentum_sgd)
    p, g = x.tensor("params"), x.tensor("grads")
    (computed_state, _), (exact_state, _) = float_and_exact(x, momentum_sgd.update, state, p, g, u)
    ctx = context_of(p)
    return inequality(ctx.abs(computed_state.buf - exact_state.buf),
                      u * ctx.abs(exact_state.buf) + u * (1 + u) * ctx.abs(state.buf * state.momentum))


@theorem("Optim.Adam.float_m_error_le", form="inequality", source=SOURCE,
         statement="|δ| ≤ u for each of its 4 roundings (1 − β1 among them) ⟹ |fl(m′) − m′| ≤ u·|m′| + "
                   "(1 + u)·((1 + u)³ − 1)·|(1 − β1)·(g − m)|,  m′ = m + (1 − β1)·(g − m)")
def adam_m(x: Given):
    """Adam's first moment, torch's ``lerp_`` m + w·(g − m) with w = 1 − β1 (``optim._shared.lerp``,
    what ``adam.update`` runs: the weight, the difference, the product and the sum round): u of the
    result plus three compounded roundings of the increment — every shape, every u."""
    u, beta1 = x.positive("u"), x.unit("beta1")
    m, g = x.tensor("m"), x.tensor("grads")
    exact = lerp(m, g, 1 - beta1)
    with x.rounding(u):
        computed = lerp(m, g, 1 - beta1)
    ctx = context_of(g)
    increment = ctx.abs((1 - beta1) * (g - m))
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + (1 + u) * ((1 + u) ** 3 - 1) * increment)


@theorem("Optim.Adam.float_v_error_le", form="inequality", source=SOURCE,
         statement="|δ| ≤ u for each of its 5 roundings ⟹ |fl(v′) − v′| ≤ u·v′ + (1 + u)·(u·β2·v + ((1 + u)³ − 1)·(1 − β2)·g²),"
                   "  v′ = v·β2 + (1 − β2)·g·g")
def adam_v(x: Given):
    """Adam's second moment, torch's ``mul_(β2).addcmul_(g, g, value=1 − β2)``
    (``optim._shared.ema_of_square``): every term is ≥ 0, so v′ comes out within about 5u of
    itself, relatively — and √v̂ in the step within half that."""
    u, beta2 = x.positive("u"), x.unit("beta2")
    v, g = x.tensor("v", entries="nonnegative"), x.tensor("grads")
    exact = ema_of_square(v, g, beta2)
    with x.rounding(u):
        computed = ema_of_square(v, g, beta2)
    bound = u * exact + (1 + u) * (u * beta2 * v + ((1 + u) ** 3 - 1) * (1 - beta2) * (g * g))
    return inequality(context_of(g).abs(computed - exact), bound)


# ---------------------------------------------------------------------------------------
# Whole steps: the update as NumPy runs it (``x.rounding(u, python_scalars=True)``: tensor
# operations round at u, Python's scalar arithmetic at float64's 2⁻⁵³, each scalar is rounded to
# the tensor's dtype where it meets a tensor) — so one contract, u ∈ [2⁻⁵³, 2⁻²⁴], covers float64
# (u = 2⁻⁵³) and float32 (u = 2⁻²⁴).  The decider bounds |fl(p′) − p′| by forward error analysis
# (``symbolic.propagation``: every order of the δ, no first-order step) and shows the claimed
# bound larger.  Terms:
#   u·|p′|          the last rounding, relative to the result;
#   c·u·|Δ|         Δ = p − p′, the exact step: c counts the roundings on the way to it;
#   c·u·|Δ_inc|     the step taken on a moment's increment (1 − β)(g − m), where the moment is
#                   a signed sum that may cancel: its error is relative to the increment;
#   ρ = 3·2⁻⁵³·βᵗ/(1 − βᵗ)  a bias correction 1 − βᵗ computed in float64: libm's ``β ** t`` is
#                   within 1 ulp (2u), the subtraction rounds, and it amplifies β ** t's error by
#                   βᵗ/(1 − βᵗ) — about 10³ for β2 = 0.999 at t = 1 (why β ≤ 1 − 2⁻²⁰ is
#                   assumed: the amplification stays below 2²⁰).

FLOAT64_UNIT = sympy.Rational(1, 2**53)   # float64's unit roundoff, where Python's scalars round
UNIT_RANGE = ("u ∈ [2⁻⁵³, 2⁻²⁴] (float64 to float32), NumPy's rounding of every tensor operation, scalar and "
              "conversion, no underflow or overflow")


def unit_roundoff(x: Given, name: str = "u"):
    u = x.positive(name)
    x.assume(u >= FLOAT64_UNIT, u <= sympy.Rational(1, 2**24))
    return u


def away_from_one(x: Given, *betas) -> None:
    x.assume(*[beta <= 1 - sympy.Rational(1, 2**20) for beta in betas])


def numpy_step(x: Given, module, state, p, g, u, branches: str = "demanded"):
    """(fl(p′), p′, the exact new state): the update run as NumPy runs it, and the same run with
    every rounding error 0 (the exact run, in the form the error analysis meets)."""
    with x.rounding(u, python_scalars=True) as rounded:
        computed_state, computed = module.update(state, p, g)
    exact_state, exact = rounded.exact((computed_state, computed), branches=branches)
    return computed, exact, exact_state


def amplification(a, roundings: int = 2):
    """ρ = roundings·2⁻⁵³·a/(1 − a): the float64 error of 1 − a, relative to it, where a's own
    error is amplified by a/(1 − a) — a decay factor a = lr·λ (the product and the subtraction
    round: 2), a bias correction a = βᵗ (libm's ``β ** t`` is within 1 ulp, 2u, and the
    subtraction rounds: 3, ``power_amplification``)."""
    return a * (roundings * FLOAT64_UNIT) / (1 - a)    # a first: an arb ball a keeps the product exact


def power_amplification(a):
    return amplification(a, roundings=3)


def _scalar_factor(rhos):
    return math.prod([1 + rho for rho in rhos])


def scaled(x: Given, count: int, u, *rhos):
    """c·u + (1 + c·u)·(Π(1 + ρ) − 1), multiplied out (the decider groups the bound's terms by
    product, and keeps a sum free of u whole)."""
    return x.multiplied_out(count * u + (1 + count * u) * (_scalar_factor(rhos) - 1))


def times(x: Given, count: int, u, *rhos):
    """c·u·Π(1 + ρ), multiplied out."""
    return x.multiplied_out(count * u * _scalar_factor(rhos))


def l2_gradient(x: Given, u, state, p, g) -> tuple:
    """(d, |λp|, E): torch's L2 weight decay d = g + λp, a signed sum that rounds and may cancel, the
    decay's magnitude, and E = 4u·d² + 5u·|d|·|λp| + 5u²·(λp)², a bound on the error of its rounded
    square d̂·d̂ (λ's conversion, λ·p, the sum, the square) — LARS's e — for a ratio lemma."""
    ctx = context_of(p)
    decay = ctx.abs(state.weight_decay * p)
    d = g + state.weight_decay * p
    return d, decay, 4 * u * d * d + 5 * u * ctx.abs(d) * decay + 5 * u * u * decay * decay


def l2_step(x: Given, u, module, state, p, g) -> tuple:
    """(fl(p′), the exact new state, p′, d, |λp|, κ): a step with L2 weight decay run as NumPy runs it,
    with the ratio lemma on d̂·d̂ (``l2_gradient``'s E) and κ ≤ 1/8 assumed."""
    d, decay, square_error = l2_gradient(x, u, state, p, g)
    with x.rounding(u, python_scalars=True) as rounded:
        kappa = rounded.entry_error_ratio(d * d, square_error, nonnegative=True)
        computed_state, computed = module.update(state, p, g)
    new, exact = rounded.exact((computed_state, computed))
    x.assume(kappa <= sympy.Rational(1, 8))
    return computed, new, exact, d, decay, kappa


L2_STATEMENT = ("d = g + λp,  κ ≥ 0 with E ≤ κ·d² at every entry, κ ≤ 1/8, E = 4u·d² + 5u·|d|·|λp| + 5u²·(λp)² the error "
                "of the rounded d² (a ratio lemma),  " + UNIT_RANGE)


@theorem("Optim.SGD.float_numpy_step_error_le", form="inequality", source=SOURCE,
         statement="|fl(p′) − p′| ≤ u·|p′| + 3u·|lr·g|,  p′ = p − lr·g,  " + UNIT_RANGE + ", no momentum, no weight decay")
def sgd_numpy_step(x: Given):
    """Plain SGD as NumPy runs it, float32 and float64: the three roundings of the step — the Python
    float lr converted to the tensor's dtype (exact in float64, one rounding in float32), g·lr, and the
    subtraction — where ``Optim.SGD.float_step_error_le`` (TorchLean's, u per operation) counts two."""
    u = unit_roundoff(x)
    state = x.state(sgd, weight_decay=0.0, momentum=0.0)
    p, g = x.tensor("params"), x.tensor("grads")
    computed, exact, _ = numpy_step(x, sgd, state, p, g, u)
    ctx = context_of(p)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + 3 * u * ctx.abs(g * state.lr))


@theorem("Optim.MomentumSGD.float_step_error_le", form="inequality", source=SOURCE,
         statement="|fl(p′) − p′| ≤ u·|p′| + 4u·lr·(|buf′| + μ·|buf|),  buf′ = buf·μ + g,  p′ = p − lr·buf′,  "
                   + UNIT_RANGE)
def momentum_sgd_step(x: Given):
    """TorchLean's momentum SGD as NumPy runs it, float32 and float64: within u of p′, and four roundings
    of the step on each of the buffer's two terms (μ and lr converted to the dtype, two products, two
    sums) — every shape, every state."""
    u = unit_roundoff(x)
    state = x.state(momentum_sgd)
    p, g = x.tensor("params"), x.tensor("grads")
    computed, exact, new = numpy_step(x, momentum_sgd, state, p, g, u)
    ctx = context_of(p)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + 4 * u * state.lr * ctx.abs(new.buf)
                      + 4 * u * state.lr * state.momentum * ctx.abs(state.buf))


@theorem("Optim.Adam.float_step_error_le", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + (15u + (1 + 15u)((1 + ρ₁)(1 + ρ₂) − 1))·|Δ| + 5u·(1 + ρ₁)(1 + ρ₂)·|Δ_inc|,"
                   "  Δ = p − p′,  Δ_inc the step on m's increment (1 − β1)(g − m),  ρᵢ = 3·2⁻⁵³·βᵢᵗ/(1 − βᵢᵗ),  "
                   + UNIT_RANGE + ", β1, β2 ≤ 1 − 2⁻²⁰")
def adam_step(x: Given):
    """A whole Adam step as NumPy runs it lands within u of p′, 15 roundings of the step, 5 of
    the step m's increment makes, and the bias corrections' float64 errors — every shape,
    float32 and float64."""
    u = unit_roundoff(x)
    state = x.state(adam, weight_decay=0.0)
    away_from_one(x, state.beta1, state.beta2)
    p, g = x.tensor("params"), x.tensor("grads")
    computed, exact, new = numpy_step(x, adam, state, p, g, u)
    rhos = power_amplification(state.beta1 ** new.t), power_amplification(state.beta2 ** new.t)
    increment = p - adam._adaptive_step(p, (1 - state.beta1) * (g - state.m), new.v, new.t, state)
    ctx = context_of(p)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + scaled(x, 15, u, *rhos) * ctx.abs(p - exact)
                      + times(x, 5, u, *rhos) * ctx.abs(increment))


@theorem("Optim.Adamax.float_step_error_le", form="inequality", source=SOURCE,
         statement="|fl(p′) − p′| ≤ u·|p′| + (9u + (1 + 9u)ρ₁)·|Δ| + 5u·(1 + ρ₁)·|Δ_inc|,  Δ_inc = lr/(1 − β1ᵗ)·(1 − β1)(g − m)/u′, "
                   "ρ₁ = 3·2⁻⁵³·β1ᵗ/(1 − β1ᵗ),  "
                   + UNIT_RANGE + ", β1 ≤ 1 − 2⁻²⁰")
def adamax_step(x: Given):
    """A whole Adamax step as NumPy runs it: within u of p′, 9 roundings of the step, 5 of
    the step of m's increment, and the bias correction's float64 error."""
    u = unit_roundoff(x, "unit")
    state = x.state(adamax, weight_decay=0.0)
    away_from_one(x, state.beta1)
    p, g = x.tensor("params"), x.tensor("grads")
    computed, exact, new = numpy_step(x, adamax, state, p, g, u)
    rho = power_amplification(state.beta1 ** new.t)
    increment = state.lr / (1 - state.beta1 ** new.t) * (1 - state.beta1) * (g - state.m) / new.u
    ctx = context_of(p)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + scaled(x, 9, u, rho) * ctx.abs(p - exact)
                      + times(x, 5, u, rho) * ctx.abs(increment))


def adam_l2_contract(x: Given, amsgrad: bool = False):
    """Adam's contract with L2 weight decay: d = g + λp, a signed sum, rounded, enters v′ squared —
    its square's error bounded by d and λp apart (``l2_gradient``) and carried as κ = max E/d² — and
    m's increment, where d̂'s roundings are carried apart (Δ_λ, Δ_d); with amsgrad the step divides
    by √max(v_max, v′), a maximum of values ≥ 0 that keeps their relative errors."""
    u = unit_roundoff(x)
    state = x.state(adam, amsgrad=amsgrad)
    away_from_one(x, state.beta1, state.beta2)
    p, g = x.tensor("params"), x.tensor("grads")
    ctx = context_of(p)
    computed, new, exact, d, _, kappa = l2_step(x, u, adam, state, p, g)
    rhos = power_amplification(state.beta1 ** new.t), power_amplification(state.beta2 ** new.t)
    second = new.v_max if amsgrad else new.v

    def step_of(m):
        return ctx.abs(p - adam._adaptive_step(p, (1 - state.beta1) * m, second, new.t, state))
    apart = x.multiplied_out(times(x, 4, u, *rhos) * (1 + 2 * kappa))
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact)
                      + (scaled(x, 21, u, *rhos) + 2 * kappa) * ctx.abs(p - exact)
                      + (times(x, 5, u, *rhos) + 2 * kappa) * step_of(d - state.m)
                      + apart * step_of(state.weight_decay * p) + apart * step_of(d))


@theorem("Optim.Adam.float_step_error_le_weight_decay", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + (21u + (1 + 21u)((1 + ρ₁)(1 + ρ₂) − 1) + 2κ)·|Δ| + (5u(1 + ρ₁)(1 + ρ₂) + 2κ)·|Δ_inc| "
                   "+ 4u(1 + ρ₁)(1 + ρ₂)(1 + 2κ)·(|Δ_λ| + |Δ_d|),  Δ_inc, Δ_λ, Δ_d the steps Adam takes on (1 − β1)·(d − m), "
                   "(1 − β1)·λp and (1 − β1)·d,  " + L2_STATEMENT + ", β1, β2 ≤ 1 − 2⁻²⁰")
def adam_step_weight_decay(x: Given):
    """An Adam step with L2 weight decay as NumPy runs it (``adam_l2_contract``)."""
    return adam_l2_contract(x)


@theorem("Optim.Adamax.float_step_error_le_weight_decay", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + (11u + (1 + 11u)ρ₁ + 2κ)·|Δ| + (5u·(1 + ρ₁) + 2κ)·|Δ_inc| "
                   "+ 4u(1 + ρ₁)(1 + 2κ)·(|Δ_λ| + |Δ_d|),  d = g + λp,  Δ_inc = r·(d − m),  Δ_λ = r·λp,  Δ_d = r·d,  "
                   "r = lr/(1 − β1ᵗ)·(1 − β1)/u′,  "
                   "u′ = max(β2·u, |d| + ε),  κ ≥ 0 with E ≤ κ·|d| at every entry, κ ≤ 1/8, E = 2u·|d| + 3u·|λp| the error of "
                   "the rounded |d| (a ratio lemma),  ρ₁ = 3·2⁻⁵³·β1ᵗ/(1 − β1ᵗ),  " + UNIT_RANGE + ", β1 ≤ 1 − 2⁻²⁰")
def adamax_step_weight_decay(x: Given):
    """An Adamax step with L2 weight decay as NumPy runs it: d = g + λp, a signed sum, rounded, enters
    the infinity norm as |d̂| — its error bounded by d and λp apart and carried as κ = max E/|d|, which
    the inputs give — and m's increment, where d̂'s roundings are carried apart (Δ_λ, Δ_d)."""
    u = unit_roundoff(x, "unit")
    state = x.state(adamax)
    away_from_one(x, state.beta1)
    p, g = x.tensor("params"), x.tensor("grads")
    ctx = context_of(p)
    d = g + state.weight_decay * p
    error = 2 * u * ctx.abs(d) + 3 * u * ctx.abs(state.weight_decay * p)
    with x.rounding(u, python_scalars=True) as rounded:
        kappa = rounded.entry_error_ratio(ctx.abs(d), error, nonnegative=True)
        computed_state, computed = adamax.update(state, p, g)
    new, exact = rounded.exact((computed_state, computed))
    x.assume(kappa <= sympy.Rational(1, 8))
    rho = power_amplification(state.beta1 ** new.t)
    rate = state.lr / (1 - state.beta1 ** new.t) * (1 - state.beta1) / new.u
    apart = x.multiplied_out(times(x, 4, u, rho) * (1 + 2 * kappa))
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact)
                      + (scaled(x, 11, u, rho) + 2 * kappa) * ctx.abs(p - exact)
                      + (times(x, 5, u, rho) + 2 * kappa) * ctx.abs(rate * (d - state.m))
                      + apart * ctx.abs(rate * state.weight_decay * p) + apart * ctx.abs(rate * d))


def _plain_contract(family: str, module, count: int, options: dict, unit: str = "u", what: str = ""):
    def contract(x: Given):
        u = unit_roundoff(x, unit)
        state = x.state(module, **options)
        p, g = x.tensor("params"), x.tensor("grads")
        computed, exact, _ = numpy_step(x, module, state, p, g, u)
        ctx = context_of(p)
        return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + count * u * ctx.abs(p - exact))
    contract.__doc__ = (f"A whole {family} step as NumPy runs it lands within u of p′ and {count} roundings of the "
                        "step — every shape, float32 and float64 (every term is ≥ 0 or a product: no cancellation).")
    contract.__name__ = f"{family.lower()}_step"
    return theorem(f"Optim.{family}.float_step_error_le", form="inequality", source=SOURCE,
                   statement=f"|fl(p′) − p′| ≤ u·|p′| + {count}u·|p − p′|,  " + UNIT_RANGE
                   + (f"; {what}" if what else ""))(contract)


adagrad_step = _plain_contract("Adagrad", adagrad, 10, {"weight_decay": 0.0}, what="weight_decay = 0")
rmsprop_step = _plain_contract("RMSprop", rmsprop, 8, {"weight_decay": 0.0, "momentum": 0.0},
                               what="weight_decay = 0, momentum = 0, not centered")
adadelta_step = _plain_contract("Adadelta", adadelta, 14, {"weight_decay": 0.0}, unit="unit", what="weight_decay = 0")
rprop_step = _plain_contract("Rprop", rprop, 3, {},
                             what="sign(g·prev) is exact (a rounded product keeps its sign), so the branch is the exact one")


def l2_contract(x: Given, module, count: int, apart, options: dict, unit: str = "u", carried: int = 1):
    """A step with L2 weight decay as NumPy runs it: d = g + λp is a signed sum, rounded, so its
    square's error is bounded by d and λp apart (``l2_gradient``) and carried into the second moment
    as κ = max E/d², which the inputs give; the step then takes ``count`` roundings and ``carried``·κ,
    and 3 roundings of λp apart, times ``apart(state, new state)`` (the step's factor on d)."""
    u = unit_roundoff(x, unit)
    state = x.state(module, **options)
    p, g = x.tensor("params"), x.tensor("grads")
    ctx = context_of(p)
    computed, new, exact, _, decay, kappa = l2_step(x, u, module, state, p, g)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + (count * u + carried * kappa) * ctx.abs(exact - p)
                      + x.multiplied_out(3 * u * (1 + 2 * kappa)) * state.lr * decay * apart(state, new))


@theorem("Optim.Adagrad.float_step_error_le_weight_decay", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + (12u + 3·2⁻⁵³ + κ)·|p − p′| + 3u(1 + 2κ)·clr·|λp|/(√s′ + ε),  "
                   "p′ = p − clr·d/(√s′ + ε),  s′ = s + d²,  clr = lr/(1 + t·lr_decay),  " + L2_STATEMENT
                   + ", any weight_decay λ ≥ 0")
def adagrad_step_weight_decay(x: Given):
    """An Adagrad step with L2 weight decay as NumPy runs it: RMSprop's L2 terms, with the decayed
    learning rate clr computed in Python's float64 (3 roundings at 2⁻⁵³, whatever u: without them
    the float64 claim is not shown)."""
    u = unit_roundoff(x)
    state = x.state(adagrad)
    p, g = x.tensor("params"), x.tensor("grads")
    ctx = context_of(p)
    computed, new, exact, _, decay, kappa = l2_step(x, u, adagrad, state, p, g)
    rate = adagrad._decayed_lr(state.lr, state.lr_decay, state.t + 1) / (ctx.sqrt(new.sum) + state.epsilon)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + (12 * u + 3 * FLOAT64_UNIT + kappa)
                      * ctx.abs(exact - p) + x.multiplied_out(3 * u * (1 + 2 * kappa)) * decay * rate)


@theorem("Optim.RMSprop.float_step_error_le_weight_decay", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + (13u + κ)·|p − p′| + 3u(1 + 2κ)·lr·|λp|/(√v′ + ε),  p′ = p − lr·d/(√v′ + ε),  "
                   "v′ = α·v + (1 − α)·d²,  " + L2_STATEMENT + ", momentum = 0, not centered")
def rmsprop_step_weight_decay(x: Given):
    """An RMSprop step with L2 weight decay as NumPy runs it: 13 roundings of the step and κ, d's
    square's relative error, and 3 roundings of λp apart."""
    return l2_contract(x, rmsprop, 13, lambda state, new: 1 / (context_of(new.square_avg).sqrt(new.square_avg)
                                                                + state.epsilon), dict(momentum=0.0))


@theorem("Optim.RMSprop.float_step_error_le_centered_momentum", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + 4u·|p − p′| + (6u + κ)·lr·|g|/(√(v′ − ḡ′²) + ε) + 4u·lr·μ·|buf|,  "
                   "buf′ = μ·buf + g/(√(v′ − ḡ′²) + ε),  p′ = p − lr·buf′,  v′ = α·v + (1 − α)·g²,  "
                   "ḡ′ = ḡ + (1 − α)·(g − ḡ),  κ ≥ 0 with E ≤ κ·(v′ − ḡ′²) at every entry, κ ≤ 1/8, E = 8u·v′ + 5u·ḡ′² + "
                   "16u·|ḡ′|·(1 − α)|g − ḡ| + 32u²·((1 − α)(g − ḡ))² the error of the rounded v′ − ḡ′² (a ratio lemma),  "
                   "v′ − ḡ′² ≥ 0 (torch's own steps keep square_avg ≥ grad_avg², which gives it),  " + UNIT_RANGE
                   + ", centered, μ > 0, weight_decay = 0")
def rmsprop_centered_momentum_step(x: Given):
    """RMSprop centered with momentum as NumPy runs it (``rmsprop_centered_contract``)."""
    return rmsprop_centered_contract(x)


def rmsprop_centered_contract(x: Given, counts: tuple = (6, 1, 8, 16, 32, 4), centered: bool = True,
                              momentum: bool = True):
    """RMSprop centered, with momentum: the step divides by √(v′ − ḡ′²) + ε, a difference that rounds
    and may cancel (v′ and ḡ′² close: a gradient of little variance), so its error is bounded by its
    parts (E = 8u·v′ + 5u·ḡ′² + 16u·|ḡ′|·(1 − α)·|g − ḡ| + 32u²·((1 − α)(g − ḡ))²; ḡ′ is a lerp, a
    signed sum) and carried as κ = max E/(v′ − ḡ′²); the buffer adds μ·buf, a signed sum.  ``counts``:
    the step's, κ's, and E's v′, ḡ′·increment and increment² roundings, and the buffer's.  Not
    centered: √v′ + ε, a sum of values ≥ 0 (no lemma, κ = 0); no momentum: no buffer."""
    u = unit_roundoff(x)
    state = x.state(rmsprop, centered=centered, weight_decay=0.0,
                    **(dict(momentum_buffer="real") if momentum else dict(momentum=0.0)))
    if momentum:
        x.assume(state.momentum > 0)
    p, g = x.tensor("params"), x.tensor("grads")
    ctx = context_of(p)
    square_avg = ema_of_square(state.square_avg, g, state.alpha)
    c_v, c_k, c_m, c_i, c_ii, c_b = counts
    if centered:
        grad_avg = lerp(state.grad_avg, g, 1 - state.alpha)
        variance = square_avg - grad_avg * grad_avg
        x.assume(variance >= 0)     # torch's own steps keep square_avg ≥ grad_avg², which gives it
        increment = (1 - state.alpha) * ctx.abs(g - state.grad_avg)
        # |v′| and |ḡ′|: the sums as the analysis meets them (one atom each), not multiplied out
        error = (c_m * u * ctx.abs(square_avg) + 5 * u * ctx.abs(grad_avg) * ctx.abs(grad_avg)
                 + c_i * u * ctx.abs(grad_avg) * increment + c_ii * u * u * increment * increment)
    else:
        variance = square_avg
    with x.rounding(u, python_scalars=True) as rounded:
        kappa = rounded.entry_error_ratio(variance, error, nonnegative=True) if centered else 0
        computed_state, computed = rmsprop.update(state, p, g)
    new, exact = rounded.exact((computed_state, computed))
    if centered:
        x.assume(kappa <= sympy.Rational(1, 8))
    step = state.lr * ctx.abs(g / (ctx.sqrt(variance) + state.epsilon))
    bound = u * ctx.abs(exact) + c_b * u * ctx.abs(exact - p) + (c_v * u + c_k * kappa) * step
    if momentum:
        bound = bound + c_b * u * state.lr * state.momentum * ctx.abs(state.momentum_buffer)
    return inequality(ctx.abs(computed - exact), bound)


@theorem("Optim.Adadelta.float_step_error_le_weight_decay", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + (22u + 2κ)·|p − p′| + 3u(1 + 2κ)·lr·|λp|·√(a + ε)/√(v′ + ε),  "
                   "p′ = p − lr·d·√(a + ε)/√(v′ + ε),  v′ = ρ·v + (1 − ρ)·d²,  a the accumulated updates,  " + L2_STATEMENT)
def adadelta_step_weight_decay(x: Given):
    """An Adadelta step with L2 weight decay as NumPy runs it: 22 roundings of the step and 2κ (d's
    square's relative error, through two roots), and 3 roundings of λp apart."""
    return l2_contract(x, adadelta, 22, adadelta_rate, {}, unit="unit", carried=2)


def adadelta_rate(state, new):
    """Adadelta's factor on the gradient, √(a + ε)/√(v′ + ε)."""
    sqrt = context_of(new.v).sqrt
    return sqrt(state.u + state.epsilon) / sqrt(new.v + state.epsilon)


@theorem("Optim.AdamW.float_step_error_le", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + (4u + (1 + 4u)ρ_λ)·|p·(1 − lr·λ)| + (15u + (1 + 15u)((1 + ρ₁)(1 + ρ₂) − 1))·|Δ_Adam| "
                   "+ 5u·(1 + ρ₁)(1 + ρ₂)·|Δ_inc|,  ρ_λ = 2⁻⁵²·lr·λ/(1 − lr·λ), " + UNIT_RANGE
                   + ", β1, β2, lr·λ ≤ 1 − 2⁻²⁰")
def adamw_step(x: Given):
    """A whole AdamW step as NumPy runs it: within u of p′, the decay's roundings of the decayed
    params, Adam's of its step, and the float64 errors of the decay factor and the bias
    corrections — every shape, float32 and float64."""
    return adamw_contract(x)


def adamw_contract(x: Given, module=adamw, **flags):
    """AdamW's contract with its flags (amsgrad: the step divides by √max(v_max, v′), a maximum of
    values ≥ 0 that keeps their relative errors; maximize: −g, an exact negation) — and Adam's with
    decoupled_weight_decay, the very same code (``adamw.update`` runs ``adam.update`` so)."""
    u = unit_roundoff(x)
    state = x.state(module, **flags)
    away_from_one(x, state.beta1, state.beta2, state.lr * state.weight_decay)
    x.assume(state.weight_decay > 0)
    p, g = x.tensor("params"), x.tensor("grads")
    computed, exact, new = numpy_step(x, module, state, p, g, u)
    rhos = power_amplification(state.beta1 ** new.t), power_amplification(state.beta2 ** new.t)
    decayed, decaying = decay_terms(x, u, state, p, True)
    adam_state = adamw.as_adam(state) if module is adamw else state
    direction = -g if state.maximize else g
    second = new.v_max if state.amsgrad else new.v
    increment = decayed - adam._adaptive_step(decayed, (1 - state.beta1) * (direction - state.m), second, new.t, adam_state)
    ctx = context_of(p)
    bound = (u * ctx.abs(exact) + decaying
             + scaled(x, 15, u, *rhos) * ctx.abs(decayed - exact) + times(x, 5, u, *rhos) * ctx.abs(increment))
    return inequality(ctx.abs(computed - exact), bound)


def _flagged(name: str, statement: str, contract, flags: dict, doc: str, time_limit: float | None = SLOW):
    """``contract`` with ``flags`` registered as a theorem of its own, an inequality (a flag is a
    Python bool the code branches on: each value is its own statement)."""
    def build(x: Given):
        return contract(x, **flags)
    build.__doc__ = doc
    build.__name__ = name.rsplit(".", 1)[1]
    return theorem(name, form="inequality", source=SOURCE, time_limit=time_limit, statement=statement)(build)


_flagged("Optim.Adam.float_step_error_le_decoupled",
         "Optim.AdamW.float_step_error_le's bound, for Adam with decoupled_weight_decay = True and λ > 0",
         adamw_contract, dict(module=adam, decoupled_weight_decay=True),
         "Adam with decoupled weight decay runs AdamW's code, and meets AdamW's contract.")
for _suffix, _flags in (("amsgrad", dict(amsgrad=True)), ("maximize", dict(maximize=True)),
                        ("amsgrad_maximize", dict(amsgrad=True, maximize=True))):
    _name = f"Optim.AdamW.float_step_error_le_{_suffix}"
    _flagged(_name, "Optim.AdamW.float_step_error_le's bound, with " + " and ".join(f"{k} = True" for k in _flags)
             + (" (Δ_inc divides by √max(v_max, v′)/(1 − β2ᵗ) + ε)" if "amsgrad" in _flags else "")
             + (" (Δ_inc on −g: m's increment (1 − β1)(−g − m))" if "maximize" in _flags else ""),
             adamw_contract, _flags, "AdamW's whole-step contract holds with " + " and ".join(_flags)
             + " on: the same roundings, m's increment on the gradient as the step sees it, and the step's "
             "denominator as it divides by it.")


_flagged("Optim.Adam.float_step_error_le_weight_decay_amsgrad",
         "Optim.Adam.float_step_error_le_weight_decay's bound, with amsgrad = True (the steps divide by "
         "√max(v_max, v′)/(1 − β2ᵗ) + ε)",
         adam_l2_contract, dict(amsgrad=True),
         "Adam's L2 contract holds with amsgrad on: the same roundings, over the maximum of the second moments.")


for _suffix, _flags, _what in (
        ("momentum", dict(centered=False), "not centered, with momentum μ > 0 (κ = 0: √v′ + ε has no cancelling part)"),
        ("centered", dict(momentum=False), "centered, no momentum (no buffer terms)")):
    _name = f"Optim.RMSprop.float_step_error_le_{_suffix}"
    _flagged(_name, "Optim.RMSprop.float_step_error_le_centered_momentum's bound, " + _what,
             rmsprop_centered_contract, _flags,
             "RMSprop's centered-with-momentum contract, for the other two of its code's paths.")


@theorem("Optim.RAdam.float_rho_error_le", form="inequality", source=SOURCE,
         statement="|fl(ρ_t) − ρ_t| ≤ u·|ρ_t| + 8u·ρ∞ + 16u/(1 − β2) + (8u + 3u·β2ᵗ/(1 − β2ᵗ))·(1 + 8u)·2t·β2ᵗ/(1 − β2ᵗ),  "
                   "ρ∞ = 2/(1 − β2) − 1,  ρ_t = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ),  t ≥ 1,  u ∈ [2⁻⁵³, 2⁻²⁴] the unit roundoff of "
                   "every scalar operation (Python's floats: 2⁻⁵³; a power within 2u),  β2 ≤ 1 − 2⁻²⁰")
def radam_rho(x: Given):
    """The length of RAdam's SMA as Python computes it (``optim.radam.rho``, on floats): within u
    of ρ_t, 8 roundings of ρ∞ and of 2/(1 − β2), and the float64 error of 2t·β2ᵗ/(1 − β2ᵗ), whose
    1 − β2ᵗ amplifies the power's error — so the float test ρ_t > 5 takes the exact run's
    branch wherever |ρ_t − 5| exceeds this bound: about 2⁻³³ for β2 = 0.999 near the threshold
    (ρ₅ ≈ 4.996, ρ₆ ≈ 5.994, where the subtraction cancels 1999 − 1993)."""
    u = unit_roundoff(x)
    beta2, t = x.unit("beta2"), x.natural("t") + 1      # the step's t, after the update's t + 1
    away_from_one(x, beta2)
    with x.rounding(u) as rounded:
        computed = radam.rho(beta2, t)
    exact = rounded.exact(computed)
    power = beta2 ** t
    ctx = context_of(exact)
    bound = (u * ctx.abs(exact) + 8 * u * radam.rho_inf(beta2) + 16 * u / (1 - beta2)
             + x.multiplied_out((8 * u + 3 * u * power / (1 - power)) * (1 + 8 * u)) * (2 * t * power / (1 - power)))
    return inequality(ctx.abs(computed - exact), bound)


@theorem("Optim.RAdam.float_step_error_le_unrectified", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="ρ_t ≤ 5 and fl(ρ_t) ≤ 5 (the float test takes the exact branch: Optim.RAdam.float_rho_error_le "
                   "bounds fl(ρ_t) − ρ_t):  |fl(p′) − p′| ≤ u·|p′| + (12u + (1 + 12u)ρ₁)·|Δ| + 5u·(1 + ρ₁)·|Δ_inc|,  "
                   "p′ = p − lr·m̂,  Δ = p − p′,  Δ_inc = lr·(1 − β1)(g − m)/(1 − β1ᵗ),  ρ₁ = 3·2⁻⁵³·β1ᵗ/(1 − β1ᵗ),  "
                   + UNIT_RANGE + ", β1, β2 ≤ 1 − 2⁻²⁰, weight_decay = 0")
def radam_unrectified_step(x: Given):
    """RAdam's first steps, while the variance is not yet tractable (ρ_t ≤ 5: t ≤ 5 for β2 = 0.999),
    as NumPy runs them: SGD with momentum on the bias-corrected m — within u of p′, 12 roundings
    of the step, 5 of the step m's increment makes, and the bias correction's float64 error.
    The float test of ρ_t is assumed to agree with the exact one (a hypothesis of this path, by
    ``exact(branches="assumed")``): the lemma on fl(ρ_t) says where it does.  The rectified
    steps have no proved contract yet (the README says why)."""
    return radam_unrectified_contract(x)


def decay_state(x: Given, module, decay: bool = False, l2: bool = False, **fields):
    """An Adam-like state for a contract (β1, β2 ≤ 1 − 2⁻²⁰, ``fields`` fixed): no weight decay,
    decoupled weight decay λ > 0 with lr·λ ≤ 1 − 2⁻²⁰ (p·(1 − lr·λ) before the step, AdamW's
    roundings), or L2 weight decay λ > 0."""
    weight_decay = dict(decoupled_weight_decay=True) if decay else {} if l2 else dict(weight_decay=0.0)
    state = x.state(module, **fields, **weight_decay)
    away_from_one(x, state.beta1, state.beta2)
    if decay:
        away_from_one(x, state.lr * state.weight_decay)
    if decay or l2:
        x.assume(state.weight_decay > 0)
    return state


def decay_terms(x: Given, u, state, p, decay: bool) -> tuple:
    """(the params the step starts from, the bound's term for getting there): p and 0, or the
    decoupled decay's p·(1 − lr·λ) and (4u + (1 + 4u)ρ_λ)·|p·(1 − lr·λ)| (AdamW's)."""
    if not decay:
        return p, 0
    decayed = p * (1 - state.lr * state.weight_decay)
    return decayed, scaled(x, 4, u, amplification(state.lr * state.weight_decay)) * context_of(p).abs(decayed)


def radam_unrectified_contract(x: Given, decay: bool = False):
    u = unit_roundoff(x)
    state = decay_state(x, radam, decay)
    x.assume(radam.rho(state.beta2, state.t + 1) <= radam.RECTIFICATION_THRESHOLD)
    p, g = x.tensor("params"), x.tensor("grads")
    computed, exact, new = numpy_step(x, radam, state, p, g, u, branches="assumed")
    rho = power_amplification(state.beta1 ** new.t)
    increment = state.lr * (1 - state.beta1) * (g - state.m) / bias_correction(state.beta1, new.t)
    ctx = context_of(p)
    start, decaying = decay_terms(x, u, state, p, decay)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + decaying
                      + scaled(x, 12, u, rho) * ctx.abs(start - exact) + times(x, 5, u, rho) * ctx.abs(increment))


def rectification_error(beta2, t) -> list:
    """The float64 error of RAdam's r² = (ρ_t − 4)(ρ_t − 2)ρ∞/((ρ∞ − 4)(ρ∞ − 2)ρ_t), relative to it, as
    Python computes it, in three parts (their sum R): each factor's error over the factor — ρ_t's
    e_t = 2⁻⁵³(18/(1 − β2) + (6 + 3β2ᵗ/(1 − β2ᵗ))·τ), τ = 2t·β2ᵗ/(1 − β2ᵗ) (``β2 ** t`` within 1 ulp, its
    error amplified by 1 − β2ᵗ), ρ∞'s e_∞ = 14·2⁻⁵³/(1 − β2) — twice, and 12 roundings.  Each is a
    lemma the decider shows inside its error analysis before using it (``error_at_most``), so the
    claim can name them: ρ∞'s, ρ_t's before its last rounding, and r²'s."""
    rho_inf, rho_t = radam.rho_inf(beta2), radam.rho(beta2, t)
    power = beta2 ** t
    tail = 2 * t * power / (1 - power)
    e_t = FLOAT64_UNIT * (18 / (1 - beta2) + (6 + 3 * power / (1 - power)) * tail)
    e_inf = 14 * FLOAT64_UNIT / (1 - beta2)
    return [2 * e_t * (1 / (rho_t - 4) + 1 / (rho_t - 2) + 1 / rho_t),
            2 * e_inf * (1 / (rho_inf - 4) + 1 / (rho_inf - 2) + 1 / rho_inf), 12 * FLOAT64_UNIT]


def rectification_lemmas(rounded, beta2, t, parts: list) -> None:
    """The lemmas behind ``rectification_error``: bounds on the float64 errors of ρ∞ (12·2⁻⁵³/(1 − β2)
    before its last rounding), of ρ_t (2⁻⁵³(16/(1 − β2) + (6 + 3β2ᵗ/(1 − β2ᵗ))·τ) before its last), and
    of r² (relative, Σ parts)."""
    power = beta2 ** t
    tail = 2 * t * power / (1 - power)
    rounded.error_at_most(radam.rho_inf(beta2), 12 * FLOAT64_UNIT / (1 - beta2))
    rounded.error_at_most(radam.rho(beta2, t), FLOAT64_UNIT * (16 / (1 - beta2) + (6 + 3 * power / (1 - power)) * tail))
    rounded.relative_error_at_most(radam.rectification_squared(beta2, t), sum(parts[1:], parts[0]))


@theorem("Optim.RAdam.rectified_regime_bounds", form="inequality", source=SOURCE,
         statement="ρ_t > 5, β2 ≤ 1 − 2⁻²⁰, t ≥ 1 ⟹ 2t·β2ᵗ/(1 − β2ᵗ) ≤ 2²¹ and β2 ≥ 2/3")
def radam_rectified_regime(x: Given):
    """Where RAdam rectifies (ρ_t > 5) and β2 ≤ 1 − 2⁻²⁰, τ = 2t·β2ᵗ/(1 − β2ᵗ) = ρ∞ − ρ_t is below 2²¹
    and β2 above 2/3 (ρ∞ > 5): the two facts the rectified-step contract states for its interval
    bounds, which do not derive them — so stating them there narrows nothing."""
    beta2, t = x.unit("beta2"), x.natural("t") + 1
    away_from_one(x, beta2)
    x.assume(radam.rho(beta2, t) > radam.RECTIFICATION_THRESHOLD)
    power = beta2 ** t
    return inequality((2 * t * power / (1 - power), sympy.Rational(2, 3)), (2**21, beta2))


@theorem("Optim.RAdam.float_step_error_le_rectified", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="ρ_t > 5 and fl(ρ_t) > 5 (the float test takes the exact branch):  |fl(p′) − p′| ≤ u·|p′| + "
                   "(15u + (1 + 15u)((1 + ρ₁)(1 + ρ₂) − 1))·|Δ| + 5u·(1 + ρ₁)(1 + ρ₂)·|Δ_inc| + R·((1 + 15u)(1 + ρ₁)(1 + ρ₂)·|Δ| "
                   "+ 5u·(1 + ρ₁)(1 + ρ₂)·|Δ_inc|),  p′ = p − lr·m̂·√(1 − β2ᵗ)/(√v′ + ε)·r,  Δ = p − p′,  Δ_inc the step on "
                   "m's increment (1 − β1)(g − m),  ρᵢ = 3·2⁻⁵³·βᵢᵗ/(1 − βᵢᵗ),  R = 2e_t·(1/(ρ_t − 4) + 1/(ρ_t − 2) + 1/ρ_t) + "
                   "2e_∞·(1/(ρ∞ − 4) + 1/(ρ∞ − 2) + 1/ρ∞) + 12·2⁻⁵³ (r²'s float64 error, relative),  e_t = 2⁻⁵³·(18/(1 − β2) + "
                   "(6 + 3β2ᵗ/(1 − β2ᵗ))·τ),  τ = 2t·β2ᵗ/(1 − β2ᵗ),  e_∞ = 14·2⁻⁵³/(1 − β2),  " + UNIT_RANGE
                   + ", β1, β2 ≤ 1 − 2⁻²⁰, weight_decay = 0 (β2 ≥ 2/3 and τ ≤ 2²¹ are stated too: "
                   "Optim.RAdam.rectified_regime_bounds derives them from ρ_t > 5)")
def radam_rectified_step(x: Given):
    """RAdam's rectified steps (ρ_t > 5) as NumPy runs them: Adam's contract, plus the float64 error of
    the rectification r, which Python computes from ρ_t and ρ∞ — relative to r² it is R, the errors
    of ρ_t and ρ∞ over each of r²'s six factors (``rectification_error``; three lemmas the decider
    shows in its analysis).  R is about 2⁻³³ for β2 = 0.999 at its first rectified steps (t = 6, 7), 2⁻⁴⁰
    by t = 100, 2⁻⁴⁶ by t = 10⁴: 1 − β2ᵗ amplifies the power's error while β2ᵗ is near 1.  As for the first steps, the float test of
    ρ_t is assumed to agree with the exact one; ``Optim.RAdam.float_rho_error_le`` says where it does."""
    return radam_rectified_contract(x, rectification_error)


def radam_rectified_contract(x: Given, error_parts, decay: bool = False):
    """The rectified-step contract with R's parts ``error_parts(β2, t)`` (``rectification_error``),
    in the lemma on r² and in the claim alike; ``decay``: decoupled weight decay (``decay_state``)."""
    u = unit_roundoff(x)
    state = decay_state(x, radam, decay)
    beta2, t = state.beta2, state.t + 1
    power = beta2 ** t
    x.assume(radam.rho(beta2, t) > radam.RECTIFICATION_THRESHOLD)
    # implied by ρ_t > 5 and β2 ≤ 1 − 2⁻²⁰ (Optim.RAdam.rectified_regime_bounds): stated for the
    # interval bounds, which do not derive them
    x.assume(beta2 >= sympy.Rational(2, 3), 2 * t * power / (1 - power) <= 2**21)
    p, g = x.tensor("params"), x.tensor("grads")
    parts = error_parts(beta2, t)
    with x.rounding(u, python_scalars=True) as rounded:
        computed_state, computed = radam.update(state, p, g)
    rectification_lemmas(rounded, beta2, t, parts)
    exact_state, exact = rounded.exact((computed_state, computed), branches="assumed")
    ctx = context_of(p)
    rhos = power_amplification(state.beta1 ** t), power_amplification(power)
    adaptive = ctx.sqrt(bias_correction(beta2, t)) / (ctx.sqrt(exact_state.v) + state.epsilon) \
        * ctx.sqrt(radam.rectification_squared(beta2, t))
    increment = state.lr * (1 - state.beta1) * (g - state.m) / bias_correction(state.beta1, t) * adaptive
    start, decaying = decay_terms(x, u, state, p, decay)
    step, on_increment = ctx.abs(start - exact), times(x, 5, u, *rhos) * ctx.abs(increment)
    # each part of R apart, times what it multiplies: the form the error analysis's terms take
    rectified = [part * (x.multiplied_out((1 + 15 * u) * _scalar_factor(rhos)) * step + on_increment) for part in parts]
    bound = u * ctx.abs(exact) + decaying + scaled(x, 15, u, *rhos) * step + on_increment
    return inequality(ctx.abs(computed - exact), sum(rectified, bound))


def radam_l2_contract(x: Given, rectified: bool, counts: tuple = (21, 5, 3), error_parts=rectification_error,
                      steps_by_r: int = 2):
    """RAdam with L2 weight decay as NumPy runs it: d = g + λp, a signed sum, rounded, enters m's
    increment — its roundings carried apart (Δ_λ, Δ_d), as Adam's — and, rectified, v′ squared (its
    square's error carried as κ, ``l2_gradient``) and R's parts times every term they multiply.
    ``counts``: the step's, the increment's and the apart terms' roundings; ``steps_by_r``: how many
    times R's parts carry the step."""
    u = unit_roundoff(x)
    state = decay_state(x, radam, l2=True)
    beta2, t = state.beta2, state.t + 1
    power = beta2 ** t
    if rectified:
        x.assume(radam.rho(beta2, t) > radam.RECTIFICATION_THRESHOLD)
        x.assume(beta2 >= sympy.Rational(2, 3), 2 * t * power / (1 - power) <= 2**21)
    else:
        x.assume(radam.rho(beta2, t) <= radam.RECTIFICATION_THRESHOLD)
    p, g = x.tensor("params"), x.tensor("grads")
    ctx = context_of(p)
    d, _, square_error = l2_gradient(x, u, state, p, g)
    parts = error_parts(beta2, t) if rectified else []
    with x.rounding(u, python_scalars=True) as rounded:
        kappa = rounded.entry_error_ratio(d * d, square_error, nonnegative=True) if rectified else 0
        computed_state, computed = radam.update(state, p, g)
    if rectified:
        rectification_lemmas(rounded, beta2, t, parts)
    new, exact = rounded.exact((computed_state, computed), branches="assumed")
    if rectified:
        x.assume(kappa <= sympy.Rational(1, 8))
    rhos = (power_amplification(state.beta1 ** t),) + ((power_amplification(power),) if rectified else ())
    rate = state.lr * (1 - state.beta1) / bias_correction(state.beta1, t)
    if rectified:
        rate = rate * ctx.sqrt(bias_correction(beta2, t)) / (ctx.sqrt(new.v) + state.epsilon) \
            * ctx.sqrt(radam.rectification_squared(beta2, t))
    steps, increments, apart_count = counts
    step = ctx.abs(p - exact)
    on_increment = (times(x, increments, u, *rhos) + 2 * kappa) * ctx.abs(rate * (d - state.m))
    apart_factor = x.multiplied_out(times(x, apart_count, u, *rhos) * (1 + 2 * kappa))
    # each term apart (the decider keeps a sum free of u whole, as one atom)
    apart = apart_factor * ctx.abs(rate * state.weight_decay * p) + apart_factor * ctx.abs(rate * d)
    bound = u * ctx.abs(exact) + (scaled(x, steps, u, *rhos) + 2 * kappa) * step + on_increment + apart
    scalar = x.multiplied_out((1 + steps * u) * _scalar_factor(rhos))
    # R's part on the step counted twice: once, the float64 claim falls short by about 1.5·2⁻⁵³·R·|Δ|
    # (R's lemma meets the step's other float64 roundings); R ≤ 2⁻³³, so this costs nothing measurable
    terms = [part * (steps_by_r * (scalar + 2 * kappa) * step + on_increment + apart) for part in parts]
    return inequality(ctx.abs(computed - exact), sum(terms, bound))


RADAM_DECOUPLED = (" with decoupled weight decay λ > 0, lr·λ ≤ 1 − 2⁻²⁰: p·(1 − lr·λ) in place of p in Δ, plus "
                   "(4u + (1 + 4u)ρ_λ)·|p·(1 − lr·λ)|, ρ_λ = 2·2⁻⁵³·lr·λ/(1 − lr·λ) (AdamW's)")
_flagged("Optim.RAdam.float_step_error_le_unrectified_weight_decay",
         "|fl(p′) − p′| ≤ u·|p′| + (7u + (1 + 7u)ρ₁)·|Δ| + 5u(1 + ρ₁)·|Δ_inc| + 3u(1 + ρ₁)·(|Δ_λ| + |Δ_d|),  "
         "p′ = p − lr·m̂,  d = g + λp,  Δ_inc, Δ_λ, Δ_d the steps r·(d − m), r·λp, r·d, r = lr(1 − β1)/(1 − β1ᵗ),  "
         "ρ₁ = 3·2⁻⁵³·β1ᵗ/(1 − β1ᵗ),  ρ_t ≤ 5 and fl(ρ_t) ≤ 5,  " + UNIT_RANGE
         + ", β1, β2 ≤ 1 − 2⁻²⁰, L2 weight decay λ > 0",
         radam_l2_contract, dict(rectified=False, counts=(7, 5, 3)), "RAdam's first steps with L2 weight decay: "
         "SGD with momentum on m̂, d̂'s roundings carried apart (6u on the step, 4u on the increment, 2u apart: "
         "not shown).")
_flagged("Optim.RAdam.float_step_error_le_rectified_weight_decay",
         "|fl(p′) − p′| ≤ u·|p′| + (21u + (1 + 21u)((1 + ρ₁)(1 + ρ₂) − 1) + 2κ)·|Δ| + (5u(1 + ρ₁)(1 + ρ₂) + 2κ)·|Δ_inc| "
         "+ 3u(1 + ρ₁)(1 + ρ₂)(1 + 2κ)·(|Δ_λ| + |Δ_d|) + R·(2((1 + 21u)(1 + ρ₁)(1 + ρ₂) + 2κ)·|Δ| + the increment's "
         "and the apart terms as above),  Δ_inc, Δ_λ, Δ_d the steps RAdam's rectified step takes on (1 − β1)·(d − m), "
         "(1 − β1)·λp and (1 − β1)·d,  R r²'s float64 error (Optim.RAdam.float_step_error_le_rectified's),  "
         "ρ_t > 5 and fl(ρ_t) > 5,  " + L2_STATEMENT + ", β1, β2 ≤ 1 − 2⁻²⁰, L2 weight decay λ > 0",
         radam_l2_contract, dict(rectified=True), "RAdam's rectified steps with L2 weight decay: Adam's L2 "
         "contract on the rectified step, and R's parts times every term (20u on the step, 4u on the "
         "increment, 2u apart, or R's step once: not shown).")
_flagged("Optim.RAdam.float_step_error_le_unrectified_decoupled",
         "Optim.RAdam.float_step_error_le_unrectified's bound" + RADAM_DECOUPLED, radam_unrectified_contract,
         dict(decay=True), "RAdam's first steps with decoupled weight decay: the decay's roundings are AdamW's, "
         "and the step's are RAdam's from the decayed params.")
_flagged("Optim.RAdam.float_step_error_le_rectified_decoupled",
         "Optim.RAdam.float_step_error_le_rectified's bound" + RADAM_DECOUPLED, radam_rectified_contract,
         dict(error_parts=rectification_error, decay=True), "RAdam's rectified steps with decoupled weight decay: "
         "the decay's roundings are AdamW's, and the step's are RAdam's from the decayed params.")


# NAdam's step coefficients a₁ = −lr(1 − μ_t)/(1 − μ_prod′) and a₂ = −lr·μ_{t+1}/(1 − μ_prod′·μ_{t+1})
# are Python scalars (float64), each with a power 0.96^(tψ) whose exponent rounds, and μ_prod′ =
# μ_prod·μ_t is stored in float32 (as torch keeps it): their errors, relative to them, are R₁ and R₂,
# two lemmas the decider shows inside its analysis.  |ln 0.96| ≤ 1/24 is how the rounded exponent's
# error enters (symbolic.propagation.log_bound's rational bound is 0.0408…).
FLOAT32_UNIT = sympy.Rational(1, 2**24)
# κ: a lemma's bound, carried on, is over 1 − sup R (its relative form) or meets the analysis's
# higher-order terms: the claims take it 1 + 2⁻⁶ times what the analysis finds
LEMMA_SLACK = 1 + sympy.Rational(1, 64)
NADAM_LOG = sympy.Rational(1, 24)
NADAM_MU_PRODUCT = sympy.Rational(53, 100)


def nadam_momentum_error(power, exponent):
    """e/β1, e a bound on the float64 error of μ = β1·(1 − ½·0.96^y), power = 0.96^y, y = tψ
    (its product rounds: 2⁻⁵³·y·|ln 0.96| relative on the power), each term ≥ 0."""
    return power / 2 * (FLOAT64_UNIT * NADAM_LOG * exponent + 2 * FLOAT64_UNIT) + 2 * FLOAT64_UNIT


def nadam_coefficient_errors(state, t) -> tuple:
    """(R₁'s parts, R₂'s parts): the errors of a₁ and a₂ relative to them, from μ_t's and μ_{t+1}'s
    (``nadam_momentum_error``) and μ_prod′'s float32 rounding; written with μ ≤ β1 and
    (1 − ½·0.96^y)(1 − ½·0.96^y′) ≤ 1 + ¼·0.96^(y + y′), so that every term is ≥ 0 (the decider
    compares bounds term by term); each part κ = 1 + 2⁻⁶ times what the analysis finds, for the
    factor 1/(1 − sup R) it carries a relative bound with (sup R from interval bounds)."""
    beta1, psi, product = state.beta1, state.momentum_decay, state.mu_product
    power, power_next = nadam.DECAY_BASE ** (t * psi), nadam.DECAY_BASE ** ((t + 1) * psi)
    mu = nadam._momentum_coefficient(beta1, psi, t)
    mu_next = nadam._momentum_coefficient(beta1, psi, t + 1)
    e, e_next = nadam_momentum_error(power, t * psi), nadam_momentum_error(power_next, (t + 1) * psi)
    on_gradient = [LEMMA_SLACK * (product * beta1 * e + 2 * FLOAT32_UNIT * beta1 * product) / (1 - product * mu),
                   LEMMA_SLACK * beta1 * e / (1 - mu)]
    on_moment = [LEMMA_SLACK * e_next / (1 - power_next / 2),
                 LEMMA_SLACK * (beta1 * beta1 * product * (e + e_next) + 2 * FLOAT32_UNIT * beta1 * beta1 * product
                      * (1 + power * power_next / 4)) / (1 - product * mu * mu_next)]
    return on_gradient, on_moment


NADAM_STATEMENT = (
    "|fl(p′) − p′| ≤ u·|p′| + u(1 + u)·|p_½| + (18u + (1 + 18u)ρ₂)·(|S₁| + |S₂|) + 5u(1 + ρ₂)·|S_inc| "
    "+ κR₁·(1 + 18u)(1 + ρ₂)·|S₁| + κR₂·((1 + 18u)(1 + ρ₂)·|S₂| + 5u(1 + ρ₂)·|S_inc|),  κ = 1 + 2⁻⁶,  "
    "S₁ = a₁·g/d,  S₂ = a₂·m′/d,  S_inc = a₂·(1 − β1)(g − m)/d,  p_½ = p + S₁,  p′ = p_½ + S₂,  "
    "d = √(v′/(1 − β2ᵗ)) + ε,  a₁ = −lr(1 − μ_t)/(1 − μ_prod·μ_t),  a₂ = −lr·μ_{t+1}/(1 − μ_prod·μ_t·μ_{t+1}),  "
    "ρ₂ = 3·2⁻⁵³·β2ᵗ/(1 − β2ᵗ),  R₁, R₂ the float64 errors of a₁, a₂ relative to them (float32 μ_prod; "
    "0.96^(tψ)'s rounded exponent, |ln 0.96| ≤ 1/24; nadam_coefficient_errors),  "
    + UNIT_RANGE + ", β1, β2 ≤ 1 − 2⁻²⁰, ψ ≤ 1, weight_decay = 0")


@theorem("Optim.NAdam.mu_product_regime", form="inequality", source=SOURCE,
         statement="ψ ≤ 1, β1 ≤ 1 − 2⁻²⁰: the first step's μ_prod′ = μ₁ and any later μ_prod′ = μ_prod·μ_t with "
                   "μ_prod ≤ 53/100 stay ≤ 53/100 through two float32 roundings: μ₁·(1 + 2⁻²⁴)² ≤ 53/100 and "
                   "μ_prod·μ_t·(1 + 2⁻²⁴)² ≤ 53/100")
def nadam_mu_product_regime(x: Given):
    """Every μ_prod NAdam's own steps reach after the first is at most 53/100 (ψ ≤ 1: μ₁ ≤ 0.52·β1, and
    each μ_t ≤ β1 ≤ 1 − 2⁻²⁰ shrinks it more than float32's two roundings can grow it): the hypothesis
    the later-steps contract states, which keeps 1 − μ_prod·μ_t from amplifying the float32 store."""
    later = x.state(nadam, weight_decay=0.0)
    first = dataclasses.replace(later, mu_product=1.0, t=0)
    away_from_one(x, later.beta1)
    x.assume(later.momentum_decay <= 1, later.mu_product <= NADAM_MU_PRODUCT)
    p, g = x.tensor("params"), x.tensor("grads")
    rounding = (1 + FLOAT32_UNIT) ** 2
    stored = [nadam.update(state, p, g)[0].mu_product * rounding for state in (first, later)]
    return inequality(tuple(stored), (NADAM_MU_PRODUCT, NADAM_MU_PRODUCT))


@theorem("Optim.NAdam.float_step_error_le", form="inequality", source=SOURCE, time_limit=SLOW,
         statement=NADAM_STATEMENT + ", μ_prod ≤ 53/100 (every state after the first step: "
                   "Optim.NAdam.mu_product_regime), t ≤ 2³⁰")
def nadam_step(x: Given):
    """A NAdam step after the first, as NumPy runs it: within u of p′ and of the half-way p_½ (the code
    adds the two terms apart), 18 roundings of each term, 5 of the term m's increment makes, the bias
    correction's float64 error, and R₁, R₂ of the float64 coefficients a₁, a₂ — about 2⁻⁵⁰ at
    β1 = 0.9, t ≤ 10⁴; the float32 μ_prod weighs 2⁻²³·β1·μ_prod/(1 − μ_prod·μ_t) in them."""
    return nadam_contract(x, first=False)


@theorem("Optim.NAdam.float_step_error_le_first", form="inequality", source=SOURCE, time_limit=SLOW,
         statement=NADAM_STATEMENT + ", the first step (t = 0, μ_prod = 1)")
def nadam_first_step(x: Given):
    """NAdam's first step, from μ_prod = 1: the same contract."""
    return nadam_contract(x, first=True)


def nadam_contract(x: Given, first: bool, errors=nadam_coefficient_errors, decay: bool = False, l2: bool = False,
                   counts: tuple = (22, 5, 3), lemma_times: int = 2):
    """The contract for the first step or a later one, with R₁'s and R₂'s parts ``errors(state, t)``
    (``nadam_coefficient_errors``), in the lemmas and in the claim alike; ``decay``: decoupled weight
    decay λ > 0, p·(1 − lr·λ) before the step (AdamW's terms), the step's from the decayed params.
    ``l2``: L2 weight decay λ > 0, d = g + λp for g — d̂'s roundings carried apart on S₁ and on m's
    increment (as Adam's), d̂²'s as κ (``l2_gradient``), and R's parts ``lemma_times`` over every term;
    ``counts``: then the step terms', the increment's and the apart terms' roundings."""
    u = unit_roundoff(x)
    state = decay_state(x, nadam, decay, l2, **(dict(mu_product=1.0, t=0) if first else {}))
    x.assume(state.momentum_decay <= 1)
    if not first:
        x.assume(state.t <= 2**30, state.mu_product <= NADAM_MU_PRODUCT)
    p, g = x.tensor("params"), x.tensor("grads")
    direction, _, square_error = l2_gradient(x, u, state, p, g) if l2 else (g, None, None)
    t = state.t + 1
    mu = nadam._momentum_coefficient(state.beta1, state.momentum_decay, t)
    mu_next = nadam._momentum_coefficient(state.beta1, state.momentum_decay, t + 1)
    on_gradient, on_moment = nadam.step_coefficients(state.lr, mu, mu_next, state.mu_product * mu)
    errors = errors(state, t)
    with x.rounding(u, python_scalars=True) as rounded:
        kappa = rounded.entry_error_ratio(direction * direction, square_error, nonnegative=True) if l2 else 0
        computed_state, computed = nadam.update(state, p, g)
    for coefficient, parts in zip((on_gradient, on_moment), errors):
        rounded.relative_error_at_most(coefficient, sum(parts[1:], parts[0]))
    exact_state, exact = rounded.exact((computed_state, computed))
    if l2:
        x.assume(kappa <= sympy.Rational(1, 8))
    steps, increments, apart_count = counts if l2 else (18, 5, 0)
    slack = LEMMA_SLACK * (lemma_times if l2 else 1)
    ctx = context_of(p)
    rho = power_amplification(state.beta2 ** t)
    d = nadam.denominator(exact_state.v, state.beta2, state.epsilon, t)
    s1, s2 = on_gradient * (direction / d), on_moment * (exact_state.m / d)
    s1_abs, s2_abs = ctx.abs(s1), ctx.abs(s2)
    on_increment = (times(x, increments, u, rho) + kappa) \
        * ctx.abs(on_moment * ((1 - state.beta1) * (direction - state.m) / d))
    scalar = x.multiplied_out((1 + steps * u) * (1 + rho)) + 2 * kappa
    # each term apart (the decider keeps a sum free of u whole, as one atom)
    start, decaying = decay_terms(x, u, state, p, decay)
    on_step = scaled(x, steps, u, rho) + kappa
    bound = u * ctx.abs(exact) + x.multiplied_out(u * (1 + u)) * ctx.abs(start + s1) \
        + on_step * s1_abs + on_step * s2_abs + on_increment + decaying
    # d̂'s roundings (λp's and the sum's) on the step's two terms, apart: S₁'s and m's increment's
    apart = ([], [])
    if l2:
        factor = x.multiplied_out(times(x, apart_count, u, rho) * (1 + kappa))
        apart = ([factor * ctx.abs(on_gradient * state.weight_decay * p / d), factor * ctx.abs(s1)],
                 [factor * ctx.abs(on_moment * (1 - state.beta1) * state.weight_decay * p / d),
                  factor * ctx.abs(on_moment * (1 - state.beta1) * direction / d)])
        bound = sum(apart[0] + apart[1], bound)
    bound = sum([slack * part * term for part in errors[0] for term in [scalar * s1_abs] + apart[0]], bound)
    bound = sum([slack * part * term for part in errors[1] for term in [scalar * s2_abs + on_increment] + apart[1]],
                bound)
    return inequality(ctx.abs(computed - exact), bound)


NADAM_DECOUPLED = (" with decoupled weight decay λ > 0, lr·λ ≤ 1 − 2⁻²⁰: p·(1 − lr·λ) in place of p in p_½ = p + S₁, plus "
                   "(4u + (1 + 4u)ρ_λ)·|p·(1 − lr·λ)|, ρ_λ = 2·2⁻⁵³·lr·λ/(1 − lr·λ)")
for _suffix, _first, _what in (("", False, ", μ_prod ≤ 53/100, t ≤ 2³⁰"), ("_first", True, ", the first step")):
    _name = f"Optim.NAdam.float_step_error_le_decoupled{_suffix}"
    _flagged(_name, f"Optim.NAdam.float_step_error_le{_suffix}'s bound{NADAM_DECOUPLED}{_what}",
             nadam_contract, dict(first=_first, decay=True),
             "NAdam with decoupled weight decay: the decay's roundings are AdamW's, and the step's are NAdam's "
             "from the decayed params.")


NADAM_L2 = (" with L2 weight decay λ > 0: g + λp in place of g, 22u in place of 18u, κ on each of S₁, S₂ and S_inc, "
            "plus 3u(1 + ρ₂)(1 + κ)·(|a₁·λp/d| + |S₁| + |a₂(1 − β1)·λp/d| + |a₂(1 − β1)(g + λp)/d|) (the rounded g + λp's "
            "errors apart), and R₁'s and R₂'s terms twice (on S₁ and S₂ with (1 + 22u)(1 + ρ₂) + 2κ, on S_inc and the apart "
            "terms as above),  κ ≥ 0 with E ≤ κ·(g + λp)² at every entry, κ ≤ 1/8, E = 4u·(g + λp)² + 5u·|g + λp|·|λp| "
            "+ 5u²·(λp)² the error of the rounded (g + λp)² (a ratio lemma)")
for _suffix, _first, _what in (("", False, ", μ_prod ≤ 53/100, t ≤ 2³⁰"), ("_first", True, ", the first step")):
    _flagged(f"Optim.NAdam.float_step_error_le_weight_decay{_suffix}",
             f"Optim.NAdam.float_step_error_le{_suffix}'s bound{NADAM_L2}{_what}", nadam_contract,
             dict(first=_first, l2=True),
             "NAdam with L2 weight decay: Adam's L2 terms on NAdam's two step terms (21u on the step, 4u on the "
             "increment, 2u apart, or R's terms once: not shown, tests/test_contracts_with_weight_decay.py).")


@theorem("Optim.SGD.float_momentum_step_error_le", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + 4u·lr·(|buf′| + μ·|buf| + |1 − τ|·|g|),  buf′ = μ·buf + (1 − τ)·g,  p′ = p − lr·buf′,  "
                   + UNIT_RANGE + ", μ > 0, no nesterov, no weight decay")
def sgd_momentum_step(x: Given):
    """torch's SGD with momentum and dampening as NumPy runs it: within u of p′, and a few
    roundings of each of the buffer's two terms (they are added with their signs: no bound
    relative to buf′ alone holds) — every shape, float32 and float64."""
    return sgd_momentum_contract(x)


def sgd_momentum_contract(x: Given, maximize: bool = False):
    """SGD with momentum after its first step (maximize: −g, an exact negation)."""
    u = unit_roundoff(x)
    state = x.state(sgd, weight_decay=0.0, nesterov=False, maximize=maximize, buf="real")
    x.assume(state.momentum > 0)
    p, g = x.tensor("params"), x.tensor("grads")
    computed, exact, new = numpy_step(x, sgd, state, p, g, u)
    ctx = context_of(p)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + 4 * u * state.lr * ctx.abs(new.buf)
                      + 4 * u * state.lr * state.momentum * ctx.abs(state.buf)
                      + 4 * u * state.lr * abs(1 - state.dampening) * ctx.abs(g))


def sgd_nesterov_contract(x: Given, first: bool = False, counts: tuple = (4,) * 7, decay: bool = True):
    """SGD with nesterov momentum and L2 weight decay: d = g + λp, buf′ = μ·buf + d (torch's first
    step: buf′ = d, a copy), the step d + μ·buf′ — three signed sums, each rounded, so the bound is
    a few roundings of each term apart.  ``decay`` False: λ = 0, d = g (its λp terms are 0)."""
    u = unit_roundoff(x)
    state = x.state(sgd, nesterov=True, dampening=0.0, **({} if first else dict(buf="real")),
                    **({} if decay else dict(weight_decay=0.0)))
    x.assume(state.momentum > 0)
    if decay:
        x.assume(state.weight_decay > 0)
    p, g = x.tensor("params"), x.tensor("grads")
    computed, exact, new = numpy_step(x, sgd, state, p, g, u)
    ctx = context_of(p)
    d = g + state.weight_decay * p
    rate = state.lr
    mu = state.momentum
    terms = [ctx.abs(exact - p), ctx.abs(d), mu * ctx.abs(d), ctx.abs(state.weight_decay * p),
             mu * ctx.abs(state.weight_decay * p)]
    if not first:       # the first step's buf′ is d itself
        terms += [mu * ctx.abs(new.buf), mu * mu * ctx.abs(state.buf)]
    bound = u * ctx.abs(exact)
    for count, term in zip(counts, terms):
        bound = bound + count * u * (term if term is terms[0] else rate * term)
    return inequality(ctx.abs(computed - exact), bound)


NESTEROV_STATEMENT = ("|fl(p′) − p′| ≤ u·|p′| + 4u·|p − p′| + 4u·lr·((1 + μ)·(|d| + |λp|) + μ·|buf′| + μ²·|buf|),  "
                      "d = g + λp,  buf′ = μ·buf + d,  p′ = p − lr·(d + μ·buf′),  " + UNIT_RANGE
                      + ", nesterov, μ > 0, dampening = 0, λ > 0")


@theorem("Optim.SGD.float_nesterov_step_error_le_weight_decay", form="inequality", source=SOURCE, time_limit=SLOW,
         statement=NESTEROV_STATEMENT)
def sgd_nesterov_step(x: Given):
    """SGD with nesterov momentum and L2 weight decay as NumPy runs it, after its first step: within
    u of p′, and 4 roundings of each term of its three signed sums apart."""
    return sgd_nesterov_contract(x)


@theorem("Optim.SGD.float_nesterov_first_step_error_le_weight_decay", form="inequality", source=SOURCE,
         time_limit=SLOW, statement=NESTEROV_STATEMENT.replace(" + μ·|buf′| + μ²·|buf|", "").replace(
             "buf′ = μ·buf + d", "buf′ = d (torch's first step: a copy)"))
def sgd_nesterov_first_step(x: Given):
    """SGD with nesterov momentum and L2 weight decay at its first step (torch's buffer a copy of d)."""
    return sgd_nesterov_contract(x, first=True)


for _suffix, _first in (("_step", False), ("_first_step", True)):
    _name = f"Optim.SGD.float_nesterov{_suffix}_error_le"
    _flagged(_name, f"Optim.SGD.float_nesterov{_suffix}_error_le_weight_decay's bound with λ = 0 (d = g, no λp terms)",
             sgd_nesterov_contract, dict(first=_first, decay=False),
             "SGD with nesterov momentum and no weight decay: the decay contract's terms with λ = 0.")


def sgd_momentum_first_contract(x: Given, maximize: bool = False):
    """SGD with momentum at its first step: torch's buffer is a copy of g (no dampening), so the
    step is plain SGD's, 3 roundings of lr·g (maximize: −g, an exact negation)."""
    u = unit_roundoff(x)
    state = x.state(sgd, weight_decay=0.0, nesterov=False, maximize=maximize)
    x.assume(state.momentum > 0)
    p, g = x.tensor("params"), x.tensor("grads")
    computed, exact, _ = numpy_step(x, sgd, state, p, g, u)
    ctx = context_of(p)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + 3 * u * ctx.abs(g * state.lr))


_flagged("Optim.SGD.float_momentum_step_error_le_maximize",
         "Optim.SGD.float_momentum_step_error_le's bound, with maximize = True (buf′ = μ·buf − (1 − τ)·g)",
         sgd_momentum_contract, dict(maximize=True),
         "SGD with momentum's contract holds with maximize on: −g is an exact negation.")
for _suffix, _flags in (("", {}), ("_maximize", dict(maximize=True))):
    _name = f"Optim.SGD.float_momentum_first_step_error_le{_suffix}"
    _flagged(_name, "|fl(p′) − p′| ≤ u·|p′| + 3u·|lr·g|,  p′ = p − lr·g (" + ("−" if _flags else "") + "g: the first step, "
             "buf = None, a copy of the gradient),  " + UNIT_RANGE + ", μ > 0, no nesterov, no weight decay"
             + (", maximize" if _flags else ""),
             sgd_momentum_first_contract, _flags,
             "SGD with momentum at its first step takes plain SGD's step on a copy of g: three roundings of lr·g"
             + (", −g an exact negation." if _flags else "."), time_limit=None)


LION_STATEMENT = ("|fl(p′) − p′| ≤ u·|p′| + 3u·|p − p′| + 2·(1 + u)³·lr,  p′ = p − lr·sign(β1·m + (1 − β1)·g),  "
                  + UNIT_RANGE + ", no weight decay")


@theorem("Optim.Lion.float_step_error_le", form="inequality", source=SOURCE, statement=LION_STATEMENT)
def lion_step(x: Given):
    """A Lion step as NumPy runs it may move by 2·lr more than the exact one: the direction is the
    sign of a sum of two signed terms, which a rounding can flip where they nearly cancel (the
    decider's bound says so: no relative bound on a cancelling sum) — and only by rounding
    otherwise."""
    return lion_contract(x, maximize=False)


@theorem("Optim.Lion.float_step_error_le_maximize", form="inequality", source=SOURCE,
         statement=LION_STATEMENT + ", maximize (g ← −g, exact)")
def lion_step_maximize(x: Given):
    """The same contract where Lion maximizes: the gradient's negation is exact, so nothing changes."""
    return lion_contract(x, maximize=True)


def lion_contract(x: Given, maximize: bool, decay: bool = False):
    """Lion's contract (decay: its decoupled weight decay p·(1 − lr·λ) first, whose roundings and
    float64 factor are AdamW's, the sign step then taken from the decayed params)."""
    u = unit_roundoff(x)
    state = x.state(lion, maximize=maximize, **({} if decay else dict(weight_decay=0.0)))
    p, g = x.tensor("params"), x.tensor("grads")
    if decay:
        away_from_one(x, state.lr * state.weight_decay)
        x.assume(state.weight_decay > 0)
    decayed, bound = decay_terms(x, u, state, p, decay)
    computed, exact, _ = numpy_step(x, lion, state, p, g, u)
    ctx = context_of(p)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + bound + 3 * u * ctx.abs(decayed - exact)
                      + 2 * (1 + u) ** 3 * state.lr)


@theorem("Optim.Lion.float_step_error_le_weight_decay", form="inequality", source=SOURCE,
         statement="|fl(p′) − p′| ≤ u·|p′| + (4u + (1 + 4u)ρ_λ)·|p·(1 − lr·λ)| + 3u·|p·(1 − lr·λ) − p′| + 2·(1 + u)³·lr,  "
                   "p′ = p·(1 − lr·λ) − lr·sign(β1·m + (1 − β1)·g),  ρ_λ = 2⁻⁵²·lr·λ/(1 − lr·λ),  " + UNIT_RANGE
                   + ", λ > 0, lr·λ ≤ 1 − 2⁻²⁰")
def lion_step_weight_decay(x: Given):
    """Lion with decoupled weight decay as NumPy runs it: AdamW's decay terms, then Lion's (its sign
    may flip where β1·m + (1 − β1)·g cancels: 2·lr)."""
    return lion_contract(x, maximize=False, decay=True)


@theorem("Optim.ASGD.float_step_error_le", form="inequality", source=SOURCE,
         statement="|fl(p′) − p′| ≤ u·|p′| + (4u + (1 + 4u)ρ_η)·|p·(1 − λη)| + 3u·η·|g|,  p′ = p·(1 − λη) − η·g,  "
                   "ρ_η = 2⁻⁵²·λη/(1 − λη),  " + UNIT_RANGE + ", λη ≤ 1 − 2⁻²⁰, any μ (before averaging starts, μ = 1, "
                   "and after: the average ax moves, p′ does not depend on it)")
def asgd_step(x: Given):
    """ASGD's params step as NumPy runs it: within u of p′, a few roundings of the decayed params
    and of the gradient step, and the float64 error of the decay factor — on both of the code's
    paths, μ = 1 (ax a copy of p′) and μ ≠ 1 (ax averages)."""
    u = unit_roundoff(x)
    state = x.state(asgd, weight_decay=0.0)
    away_from_one(x, state.lambd * state.eta)
    p, g = x.tensor("params"), x.tensor("grads")
    computed, exact, _ = numpy_step(x, asgd, state, p, g, u)
    ctx = context_of(p)
    decayed = p * (1 - state.lambd * state.eta)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact)
                      + scaled(x, 4, u, amplification(state.lambd * state.eta)) * ctx.abs(decayed)
                      + 3 * u * state.eta * ctx.abs(g))


def row_length(x: Given, u, p):
    """The row's length n, with (n − 1)u ≤ 2⁻⁵ assumed (so Γ ≤ γ_{n−1} ≤ 1/31)."""
    length = context_of(p).shape(p)[0]
    x.assume(u * length - u <= sympy.Rational(1, 32))
    return length


def step_with_norm_lemma(x: Given, u, module, state, p, g, square, entry_error) -> tuple:
    """(fl(p′), the exact new state, p′, ‖·‖'s relative error 3Γ + 2ρ + 2Γρ in the step, the factor 1 + 2Γ + 2ρ + 2Γρ it
    carries onto the other terms, Γ, ρ): the exact run of a step whose trust ratio takes the norm of
    a rounded signed row (LAMB's w, LARS's g + λp) through a row sum's lemma on ``square`` with the
    entry bound ``entry_error`` (ρ ≤ 1/8 assumed, Γ ≤ 1/31 stated for the bounds)."""
    with x.rounding(u, python_scalars=True) as rounded:
        rho = rounded.row_sum_error_at_most(square, entry_error)
        computed_state, computed = module.update(state, p, g)
    new, exact = rounded.exact((computed_state, computed))
    gamma = rounded.summation_bound(context_of(p).shape(p)[0])
    x.assume(gamma <= sympy.Rational(1, 31), rho <= sympy.Rational(1, 8))
    return (computed, new, exact, 3 * gamma + 2 * rho + 2 * gamma * rho, 1 + 2 * gamma + 2 * rho + 2 * gamma * rho,
            gamma, rho)


@theorem("Optim.LARS.float_step_error_le", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + 2u·|b′| + 3u·μ·|b| + (14u + 2Γ)·|lr·r·g|,  r = η·‖p‖/(‖g‖ + ε) (1 where a "
                   "norm is 0),  b′ = −lr·r·g + μ·b,  p′ = p + b′,  Γ ≤ γ_{n−1} = (n − 1)u/(1 − (n − 1)u) the error "
                   "bound of a norm's sum of n squares, (n − 1)u ≤ 2⁻⁵,  " + UNIT_RANGE + ", no weight decay, no nesterov")
def lars_step(x: Given):
    """A LARS step as NumPy runs it, over a param of any size n: within u of p′, a few roundings of
    the buffer's two terms, and 14 roundings plus the two norms' summation errors (γ_{n−1}, any
    order of addition) of the trust-ratio step; the branch on a zero norm is the exact run's (a
    rounded norm is 0 exactly where the exact one is)."""
    u = unit_roundoff(x)
    state = x.state(lars, length="n", weight_decay=0.0, nesterov=False, b="real")
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n")
    ctx = context_of(p)
    length = row_length(x, u, p)
    with x.rounding(u, python_scalars=True) as rounded:
        computed_state, computed = lars.update(state, p, g)
    new, exact = rounded.exact((computed_state, computed))
    gamma = rounded.summation_bound(length)
    x.assume(gamma <= sympy.Rational(1, 31))      # what (n − 1)u ≤ 2⁻⁵ gives γ_{n−1}: stated for the bounds
    step = ctx.abs(g * (state.lr * lars.trust_ratio(p, g, state.trust_coefficient, state.epsilon)))
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + 2 * u * ctx.abs(new.b)
                      + 3 * u * ctx.abs(state.b * state.momentum) + (14 * u + 2 * gamma) * step)


def lamb_direction_parts(state, p, g) -> tuple:
    """(d, M, (ρ₁, ρ₂)): LAMB's exact direction d = w + λp (w itself where λ = 0), M as its two terms
    (m′'s roundings — a signed sum that may cancel — are carried by M, the direction of m′'s two
    terms apart: a sum of them is one atom to the decider), and the bias corrections' float64
    amplifications."""
    ctx = context_of(p)
    _, v, t, w = lamb.direction(state, p, g)
    rhos = power_amplification(state.beta1 ** t), power_amplification(state.beta2 ** t)
    scale = (ctx.sqrt(v / (1 - state.beta2 ** t)) + state.epsilon) * (1 - state.beta1 ** t)
    parts = ((1 - state.beta1) * ctx.abs(g) / scale, state.beta1 * ctx.abs(state.m) / scale)
    return w, parts, rhos


LAMB_DIRECTION = (
    "|fl(w) − w| ≤ (12u + (1 + 12u)((1 + ρ₁)²(1 + ρ₂)² − 1))·|w| + (4u + (1 + 4u)((1 + ρ₁)²(1 + ρ₂)² − 1))·M,  "
    "w = m̂′/(√v̂′ + ε) LAMB's direction before the trust ratio,  M = ((1 − β1)|g| + β1|m|)/((1 − β1ᵗ)(√v̂′ + ε)) "
    "the direction of m′'s terms apart,  ρᵢ = 3·2⁻⁵³·βᵢᵗ/(1 − βᵢᵗ),  " + UNIT_RANGE
    + ", β1, β2 ≤ 1 − 2⁻²⁰, weight_decay = eps_root = 0")


@theorem("Optim.LAMB.float_direction_error_le", form="inequality", source=SOURCE, statement=LAMB_DIRECTION)
def lamb_direction_step(x: Given):
    """LAMB's direction as NumPy computes it, entry by entry: 12 roundings of w itself, and 4 of m′'s
    two terms apart (m′ is a signed sum, rounded: where it cancels, its roundings are not relative
    to it) — each with the bias corrections' float64 amplifications.  With weight decay,
    ``Optim.LAMB.float_direction_error_le_weight_decay`` adds λp's roundings (λ = 0 included)."""
    return lamb_direction_contract(x)


def lamb_direction_contract(x: Given, relative: int = 12, apart: int = 4):
    u = unit_roundoff(x)
    state = x.state(lamb, length="n", weight_decay=0.0, eps_root=0.0)
    away_from_one(x, state.beta1, state.beta2)
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n")
    w, parts, rhos = lamb_direction_parts(state, p, g)
    with x.rounding(u, python_scalars=True) as rounded:
        computed = lamb.direction(state, p, g)[3]
    ctx = context_of(p)
    b = scaled(x, apart, u, *rhos, *rhos)     # the two parts apart: a u-free sum of them is one atom to the decider
    return inequality(ctx.abs(computed - rounded.exact(computed)),
                      scaled(x, relative, u, *rhos, *rhos) * ctx.abs(w) + b * parts[0] + b * parts[1])


LARS_DECAY = ("d = g + λp,  r = η·‖p‖/(‖d‖ + ε) (1 where a norm is 0),  ρ ≥ 0 with Σe ≤ ρ·Σd², ρ ≤ 1/8, e = 4u·d² + "
              "5u·|d|·|λp| + 5u²·(λp)² the error of one rounded d² (a row sum's lemma), Γ ≤ γ_{n−1}, (n − 1)u ≤ 2⁻⁵,  "
              + UNIT_RANGE)


@theorem("Optim.LARS.float_step_error_le_weight_decay", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + 2u·|b′| + 3u·μ·|b| + (17u + 3Γ + 2ρ + 2Γρ)·|lr·r·d| + 3u(1 + 2Γ + 2ρ + "
                   "2Γρ)·lr·r·|λp|,  b′ = −lr·r·d + μ·b,  p′ = p + b′,  " + LARS_DECAY + ", no nesterov")
def lars_step_weight_decay(x: Given):
    """A LARS step with weight decay as NumPy runs it: d = g + λp is a signed sum, rounded, so ‖d‖
    is taken through a row sum's lemma on d² (ρ, from the inputs); otherwise LARS's terms on d,
    and 3 roundings of λp apart."""
    return lars_weight_decay_contract(x)


@theorem("Optim.LARS.float_step_error_le_weight_decay_nesterov", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(p′) − p′| ≤ u·|p′| + 2u·|p′ − p| + 4u·μ·|b′| + 3u·μ·|b| + 3u·μ²·|b| + (1 + μ)·((17u + 3Γ + 2ρ + "
                   "2Γρ)·|lr·r·d| + 3u(1 + 2Γ + 2ρ + 2Γρ)·lr·r·|λp|),  s = −lr·r·d,  b′ = s + μ·b,  p′ = p + s + μ·b′,  "
                   + LARS_DECAY + ", nesterov")
def lars_step_weight_decay_nesterov(x: Given):
    """A LARS step with weight decay and nesterov as NumPy runs it: the step s counts twice (itself and
    in b′), and μ·b′ rounds once more."""
    return lars_weight_decay_contract(x, nesterov=True)


def lars_weight_decay_contract(x: Given, nesterov: bool = False, counts: tuple = (2, 3, 17, 3)):
    """LARS with weight decay, nesterov or not (p′ = p + u + μ·b′: the step u = −lr·r·d counts twice,
    once itself and once in b′).  ``counts``: the roundings of b′ (nesterov: of u + μ·b′), of μ·b, of the
    step, of λp apart."""
    u = unit_roundoff(x)
    state = x.state(lars, length="n", nesterov=nesterov, b="real")
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n")
    ctx = context_of(p)
    row_length(x, u, p)
    d, decay, entry_error = l2_gradient(x, u, state, p, g)
    computed, new, exact, norm, carried, _, _ = step_with_norm_lemma(x, u, lars, state, p, g, d * d, entry_error)
    rate = state.lr * lars.trust_ratio(p, d, state.trust_coefficient, state.epsilon)
    c_b, c_m, c_s, c_d = counts
    twice = 1 + state.momentum if nesterov else 1     # nesterov takes the step u itself and in b′
    bound = (u * ctx.abs(exact) + c_b * u * ctx.abs(exact - p) + c_m * u * ctx.abs(state.b * state.momentum)
             + x.multiplied_out((c_s * u + norm) * twice) * ctx.abs(d * rate)
             + x.multiplied_out(c_d * u * carried * rate * twice) * decay)
    if nesterov:        # μ·b′ rounds, and b′ itself: its μ·b once more
        bound = (bound + (c_b + 2) * u * state.momentum * ctx.abs(new.b)
                 + c_m * u * state.momentum * ctx.abs(state.b * state.momentum))
    return inequality(ctx.abs(computed - exact), bound)


ADAFACTOR_STATEMENT = (
    "|fl(p′) − p′| ≤ u·|p′| + (40u + 10·2⁻⁵³ + 3κ + 3Γ + 2ρ + 2Γρ)·|p′ − p|,  p′ = p − α·ĝ/max(1, ‖ĝ‖/(√n·d)),  "
    "ĝ = g/√max(V′, ε1²),  V′ = V + w·(g² − V) (torch's lerp, in either of its forms),  w = (t + 1)^τ,  "
    "α = max(ε2, ‖p‖/√n)·min(lr, 1/√(t + 1)),  κ ≥ 0 with E ≤ κ·V′ at every entry, κ ≤ 1/8, "
    "E = 6u·(|V′| + |g² − V| + g²) the error of V′ (a ratio lemma),  ρ ≥ 0 with Σ e ≤ ρ·Σ ĝ², ρ ≤ 1/8, e = (11u + 2κ)·ĝ² "
    "the error of one ĝ² (a row sum's lemma),  Γ ≤ γ_{n−1}, (n − 1)u ≤ 2⁻⁵,  " + UNIT_RANGE
    + ", a vector param (any length n), weight_decay = 0, where the float test |fl(w)| < ½ of torch's lerp agrees "
    "with the exact one")


def adafactor_vector_errors(x: Given, u, state, g) -> tuple:
    """(V′, ĝ², E, ĝ's square's error e as a function of κ): Adafactor's second moment of a vector
    (torch's lerp, exact), the square of its direction, and the lemmas' bounds."""
    ctx = context_of(g)
    _, weight = adafactor.step_weight(state)
    variance = lerp(state.variance, g * g, weight)
    square = g * g / ctx.maximum(variance, state.epsilon1 * state.epsilon1)
    lerp_error = 6 * u * ctx.abs(variance) + 6 * u * ctx.abs(g * g - state.variance) + 6 * u * g * g
    return variance, square, lerp_error, lambda kappa: (11 * u + 2 * kappa) * square


@theorem("Optim.Adafactor.float_step_error_le_vector", form="inequality", source=SOURCE, time_limit=SLOW,
         statement=ADAFACTOR_STATEMENT)
def adafactor_vector_step(x: Given):
    """An Adafactor step of a vector param as NumPy runs it: within u of p′, 40 roundings of the step
    at u and 10 of Python's float64 scalars (α, the step's number), and the errors of its two
    norms: V′ = torch's lerp of V and g², whose difference rounds and may cancel, so its error E is
    bounded by the lerp's parts (a lemma, shown where met) and carried as κ = max E/V′, which the
    inputs give; ‖ĝ‖ through a row sum's lemma (ρ), ‖p‖ through the summation's Γ.  torch's lerp
    takes one of two forms by |fl(w)| < ½: the exact run is taken to agree (it does but where
    w is within 2⁻⁵³ of ½)."""
    return adafactor_vector_contract(x)


def adafactor_vector_contract(x: Given, maximize: bool = False, decay: bool = False):
    """Adafactor's vector contract with its options: maximize (−g, an exact negation: g² and the
    lerp's error are g's) and decoupled weight decay λ > 0 (p·(1 − lr·λ) before the step, AdamW's
    terms; α takes ‖p‖ before it, as torch)."""
    u = unit_roundoff(x)
    state = x.state(adafactor, length="n", maximize=maximize, **({} if decay else dict(weight_decay=0.0)))
    if decay:
        away_from_one(x, state.lr * state.weight_decay)
        x.assume(state.weight_decay > 0)
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n")
    ctx = context_of(p)
    length = row_length(x, u, p)
    variance, square, lerp_error, square_error = adafactor_vector_errors(x, u, state, g)
    with x.rounding(u, python_scalars=True) as rounded:
        kappa = rounded.entry_error_ratio(variance, lerp_error, nonnegative=True)
        rho = rounded.row_sum_error_at_most(square, rounded.exact(square_error(kappa)))
        computed_state, computed = adafactor.update(state, p, g)
    _, exact = rounded.exact((computed_state, computed), branches="assumed")
    gamma = rounded.summation_bound(length)
    x.assume(kappa <= sympy.Rational(1, 8), rho <= sympy.Rational(1, 8), gamma <= sympy.Rational(1, 31))
    coefficient = 40 * u + 10 * FLOAT64_UNIT + 3 * kappa + 3 * gamma + 2 * rho + 2 * gamma * rho
    return inequality(ctx.abs(computed - exact), adafactor_bound(x, u, state, p, exact, coefficient, decay))


def adafactor_bound(x: Given, u, state, p, exact, coefficient, decay: bool):
    """u·|p′| + ``coefficient``·|p′ − p̃|, p̃ = p·(1 − lr·λ) with ``decay`` (p without), plus AdamW's
    decay terms (4u + (1 + 4u)ρ_λ)·|p̃|: Adafactor's step after its decoupled weight decay."""
    ctx = context_of(p)
    decayed, decaying = decay_terms(x, u, state, p, decay)
    return u * ctx.abs(exact) + coefficient * ctx.abs(exact - decayed) + decaying


ADAFACTOR_MATRIX_STATEMENT = (
    "|fl(p′) − p′| ≤ u·|p′| + (30u + 10·2⁻⁵³ + (8/5)·(κ_R + κ_C + ρ_R + Γ_m + Γ_m·ρ_R + Γ) + ρ + Γρ)·|p′ − p|,  "
    "p′ = p − α·ĝ/max(1, ‖ĝ‖/(√(mn)·d)),  ĝ = g/√max(V̂, ε1²),  V̂ᵢⱼ = R′ᵢ·C′ⱼ/max(mean(R′), ε1),  "
    "R′ = R + w·(mean_j(g²) − R),  C′ = C + w·(mean_i(g²) − C) (torch's lerp, in either of its forms),  w = (t + 1)^τ,  "
    "α = max(ε2, ‖p‖/√(mn))·min(lr, 1/√(t + 1)),  κ_R ≥ 0 with E_R ≤ κ_R·R′ at every row, "
    "E_R = 8u·(|R′| + |mean_j(g²) − R|) + (16u + 3Γ_n)·mean_j(g²) the error of R′ (a ratio lemma), κ_C likewise over "
    "the columns (Γ_m),  ρ_R ≥ 0 with Σᵢ (5/4)(κ_R + u)·R′ᵢ ≤ ρ_R·Σᵢ R′ᵢ (mean(R′): a row sum's lemma),  ρ ≥ 0 with "
    "Σ e ≤ ρ·Σ ĝ², e = (20u + (3/2)·(κ_R + κ_C + ρ_R + Γ_m + Γ_m·ρ_R))·ĝ² (a row sum's lemma),  κ_R, κ_C, ρ_R, ρ ≤ 1/64,  "
    "Γ_n ≤ γ_{n−1}, Γ_m ≤ γ_{m−1}, Γ ≤ γ_{mn−1}, (mn − 1)u ≤ 2⁻⁵,  " + UNIT_RANGE
    + ", a matrix param (any m × n), weight_decay = 0, where the float test |fl(w)| < ½ of torch's lerp agrees with "
    "the exact one")


def adafactor_factor_errors(u, state, g, rounded) -> tuple:
    """((Γ_n, Γ_m, Γ), (R′, C′), (E_R, E_C)): the summation bounds of a matrix's rows, columns and
    whole, Adafactor's factors (torch's lerp, exact) and their errors' bounds: mean_j(g²) rounds
    its sum (Γ_n) and its root, square and division; its error meets the lerp's twice in torch's
    second form (mean − (mean − R)(1 − w)), so E counts it twice."""
    ctx = context_of(g)
    rows, columns = ctx.shape(g)
    _, weight = adafactor.step_weight(state)
    gammas = rounded.summation_bound(columns), rounded.summation_bound(rows), rounded.summation_bound(rows * columns)
    row_mean, column_mean = adafactor.mean_square(g, -1), adafactor.mean_square(g, -2)
    row, column = lerp(state.row_var, row_mean, weight), lerp(state.col_var, column_mean, weight)

    def error(factor, start, mean, gamma):
        return 8 * u * ctx.abs(factor) + 8 * u * ctx.abs(mean - start) + (16 * u + 3 * gamma) * mean
    return gammas, (row, column), (error(row, state.row_var, row_mean, gammas[0]),
                                   error(column, state.col_var, column_mean, gammas[1]))


@theorem("Optim.Adafactor.float_step_error_le_matrix", form="inequality", source=SOURCE, time_limit=SLOW,
         statement=ADAFACTOR_MATRIX_STATEMENT)
def adafactor_matrix_step(x: Given):
    """An Adafactor step of a matrix param as NumPy runs it: the vector contract's terms, with the
    factored second moment's instead of V′'s — R′ and C′ are lerps of sums along one axis, each
    carried by a ratio lemma (κ_R, κ_C), mean(R′) by a row sum's lemma (ρ_R) and ‖ĝ‖ by another
    (ρ); Γ_m from mean(R′)'s sum, Γ from the norms over all m·n entries.  First order, V̂'s relative
    error κ_R + κ_C + ρ_R + Γ_m reaches the step halved (ĝ divides by its root): the analysis's
    8/5 and 3/2 carry the higher orders (κ's ≤ 1/64 keep them small)."""
    return adafactor_matrix_contract(x)


def adafactor_matrix_contract(x: Given, maximize: bool = False, decay: bool = False):
    """Adafactor's matrix contract with its options (as the vector's: maximize's negation is exact,
    decoupled weight decay adds AdamW's decay terms)."""
    u = unit_roundoff(x)
    state = x.state(adafactor, shape=("m", "n"), maximize=maximize, **({} if decay else dict(weight_decay=0.0)))
    if decay:
        away_from_one(x, state.lr * state.weight_decay)
        x.assume(state.weight_decay > 0)
    p, g = x.tensor("params", shape=("m", "n")), x.tensor("grads", shape=("m", "n"))
    ctx = context_of(p)
    rows, columns = ctx.shape(p)
    x.assume(u * rows * columns - u <= sympy.Rational(1, 32))
    rounded = x.rounding(u, python_scalars=True)
    (gamma_n, gamma_m, gamma), (row, column), (row_error, column_error) = adafactor_factor_errors(u, state, g, rounded)
    square = g * g / ctx.maximum(adafactor.factored_estimate(row, column, state.epsilon1),
                                 state.epsilon1 * state.epsilon1)
    with rounded:
        kappa_row = rounded.entry_error_ratio(row, row_error, name="kappa_R", nonnegative=True)
        kappa_column = rounded.entry_error_ratio(column, column_error, name="kappa_C", nonnegative=True)
        rho_row = rounded.row_sum_error_at_most(row, rounded.exact(sympy.Rational(5, 4) * (kappa_row + u) * row),
                                                name="rho_R")
        factors = rounded.exact(kappa_row + kappa_column + rho_row + gamma_m + gamma_m * rho_row)   # V̂'s, relative
        rho = rounded.row_sum_error_at_most(square, rounded.exact((20 * u + sympy.Rational(3, 2) * factors) * square))
        computed_state, computed = adafactor.update(state, p, g)
    _, exact = rounded.exact((computed_state, computed), branches="assumed")
    small = sympy.Rational(1, 64)
    x.assume(kappa_row <= small, kappa_column <= small, rho_row <= small, rho <= small,
             *[bound <= sympy.Rational(1, 31) for bound in (gamma_n, gamma_m, gamma)])   # (mn − 1)u ≤ 2⁻⁵'s
    coefficient = 30 * u + 10 * FLOAT64_UNIT + sympy.Rational(8, 5) * (factors + gamma) + rho + gamma * rho
    return inequality(ctx.abs(computed - exact), adafactor_bound(x, u, state, p, exact, coefficient, decay))


for _kind, _contract in (("vector", adafactor_vector_contract), ("matrix", adafactor_matrix_contract)):
    for _suffix, _flags in (("maximize", dict(maximize=True)), ("weight_decay", dict(decay=True)),
                            ("weight_decay_maximize", dict(decay=True, maximize=True))):
        _flagged(f"Optim.Adafactor.float_step_error_le_{_kind}_{_suffix}",
                 f"Optim.Adafactor.float_step_error_le_{_kind}'s bound"
                 + (" on the step p′ − p·(1 − lr·λ), plus (4u + (1 + 4u)ρ_λ)·|p·(1 − lr·λ)|, ρ_λ = 2·2⁻⁵³·lr·λ/(1 − lr·λ), "
                    "for weight_decay λ > 0, lr·λ ≤ 1 − 2⁻²⁰" if _flags.get("decay") else "")
                 + (", with maximize = True" if _flags.get("maximize") else ""),
                 _contract, _flags, f"Adafactor's {_kind} contract holds with "
                 + " and ".join("decoupled weight decay" if k == "decay" else k for k in _flags)
                 + ": the negation is exact, and the decay's roundings are AdamW's.")


@theorem("Optim.SGDScheduleFree.float_step_error_le", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(y′) − y′| ≤ u·|y′| + 2u·|y + c·(z − y)| + (4u + 12·2⁻⁵³)·|c·(z − y)| + 6u·|s·g̃| + 13·2⁻⁵³·lr·β·|g̃| "
                   "+ 3u·|s·λ·y| + u·lr·β·λ·|y|,  y′ = y + c·(z − y) + s·g̃,  s = lr·(β·(1 − c) − 1),  g̃ = g + λ·y,  "
                   "c = w/(weight_sum + w),  w = (k + 1)^r·max(lr, lr_max)^weight_lr_power,  " + UNIT_RANGE
                   + ", no warmup (warmup_steps = 0)")
def schedule_free_sgd_step(x: Given):
    """A schedule-free SGD step as NumPy runs it: within u of y′, a few roundings of the averaged
    point and of the gradient step, and the float64 error of the averaging coefficient c (two
    powers, a product, a sum and a quotient: 12 units of 2⁻⁵³ of c's move, 13 of 1 − c's
    share of the step) — every shape, float32 and float64, every step k, every weight_sum ≥ 0.
    max(lr·1.0, lr_max) is the exact run's: lr·1.0 is exact in floats."""
    u, ctx, computed, exact, terms = schedule_free_run(x, warmup_steps=0)
    return inequality(ctx.abs(computed - exact), schedule_free_terms(u, ctx, *terms) + u * ctx.abs(exact))


def schedule_free_terms(u, ctx, y, z, c, shifted, lr, beta, decay):
    """Schedule-free SGD's contract, less u·|y′|, for a step along ``shifted`` (g + λ·y, or
    AdamW's ĝ + λ·y): the averaged point's roundings, c's float64 error, the step's roundings and
    1 − c's float64 error, and the decay's."""
    scale = step_coefficient(lr, beta, c)         # s, the step's coefficient (≤ 0)
    return (2 * u * ctx.abs(lerp(y, z, c)) + (4 * u + 12 * FLOAT64_UNIT) * ctx.abs(c * (z - y))
            + 6 * u * ctx.abs(shifted * scale) + 13 * FLOAT64_UNIT * ctx.abs(shifted * (lr * beta))
            + 3 * u * ctx.abs(y * (decay * scale)) + u * ctx.abs(y * (lr * beta * decay)))


def warmup_rate_terms(ctx, y, z, c, shifted, rate, beta, decay, units: int = 8):
    """``units``·2⁻⁵³ of c's move and of the step's three parts, on g̃ and on the decay λ·y: the
    float64 error of the warmup rate γ = lr·(k + 1)/warmup (a quotient and a product), carried
    into the step and, through max(γ, lr_max)^weight_lr_power, into c (8 for the square)."""
    parts = (step_coefficient(rate, beta, c), rate * beta * (1 - c), rate * beta * c)
    return units * FLOAT64_UNIT * (ctx.abs(c * (z - y)) + sum(ctx.abs(v * f) for v in (shifted, decay * y) for f in parts))


@theorem("Optim.SGDScheduleFree.float_step_error_le_with_warmup", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(y′) − y′| ≤ (the contract without warmup, γ for lr) + 8·2⁻⁵³·(|c·(z − y)| + Σ_{v ∈ {g̃, λ·y}} "
                   "(|s·v| + |γ·β·(1 − c)·v| + |γ·β·c·v|)),  γ = lr·(k + 1)/warmup_steps while k < warmup_steps, else lr,  "
                   "s = γ·(β·(1 − c) − 1),  c = w/(weight_sum + w),  w = (k + 1)^r·max(γ, lr_max)²,  " + UNIT_RANGE
                   + ", weight_lr_power = 2 (the default), any warmup_steps")
def schedule_free_sgd_step_with_warmup(x: Given):
    """A schedule-free SGD step with a warmup, as NumPy runs it: the contract without warmup with
    the warmup rate γ in place of lr, plus γ's float64 error (a quotient and a product) carried by
    the step and, through max(γ, lr_max)², by c — every shape, float32 and float64, every step k,
    warmup_steps, weight_sum ≥ 0 and lr_max (−1 before the first step).  weight_lr_power is 2 (the
    default); ``…_with_warmup_power_le_4`` takes any power in [0, 4], at twice the γ term."""
    u, ctx, computed, exact, terms = schedule_free_run(x, weight_lr_power=2.0)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + schedule_free_terms(u, ctx, *terms)
                      + warmup_rate_terms(ctx, *terms))


@theorem("Optim.SGDScheduleFree.float_step_error_le_with_warmup_power_le_4", form="inequality", source=SOURCE,
         time_limit=SLOW,
         statement="|fl(y′) − y′| ≤ (the contract with a warmup, 16·2⁻⁵³ in place of 8·2⁻⁵³),  w = (k + 1)^r·"
                   "max(γ, lr_max)^weight_lr_power,  0 ≤ weight_lr_power ≤ 4,  " + UNIT_RANGE + ", any warmup_steps")
def schedule_free_sgd_step_with_warmup_any_power(x: Given):
    """A schedule-free SGD step with a warmup and weight_lr_power anywhere in [0, 4], as NumPy runs
    it: the contract for the square with twice the warmup rate's share — γ's float64 error (two
    units) enters c through max(γ, lr_max)^weight_lr_power, within (1 + 2u)^4 − 1 of it, as the
    error analysis bounds a rounded base to an exponent in [0, 4] — every shape, float32 and
    float64, every step k, warmup_steps, weight_sum ≥ 0 and lr_max."""
    u, ctx, computed, exact, terms = schedule_free_run(x, power_at_most=4)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + schedule_free_terms(u, ctx, *terms)
                      + warmup_rate_terms(ctx, *terms, units=16))


@theorem("Optim.SGDScheduleFree.float_step_error_le_with_warmup_power_le_64", form="inequality", source=SOURCE,
         time_limit=SLOW,
         statement="|fl(y′) − y′| ≤ (the contract with a warmup, 256·2⁻⁵³ in place of 8·2⁻⁵³),  w = (k + 1)^r·"
                   "max(γ, lr_max)^weight_lr_power,  0 ≤ weight_lr_power ≤ 64,  " + UNIT_RANGE + ", any warmup_steps")
def schedule_free_sgd_step_with_warmup_power_up_to_64(x: Given):
    """The same for any weight_lr_power in [0, 64]: γ̂'s relative error 2·2⁻⁵³ raised to a power up to 64
    is within (1 + 2·2⁻⁵³)⁶⁴ − 1 of it, so the warmup rate's share is 4·64 units of 2⁻⁵³ (4 per unit of
    the power, as for the square and for [0, 4])."""
    u, ctx, computed, exact, terms = schedule_free_run(x, power_at_most=64)
    return inequality(ctx.abs(computed - exact), u * ctx.abs(exact) + schedule_free_terms(u, ctx, *terms)
                      + warmup_rate_terms(ctx, *terms, units=256))


def schedule_free_run(x: Given, power_at_most=None, **options):
    """(u, ctx, fl(y′), y′, terms): a schedule-free SGD step with these options as NumPy runs it and
    its exact run, and what its contract's terms are of — (y, z, c, g̃, γ, β, λ), γ the step's rate
    (lr·(k + 1)/warmup during a warmup, lr·1.0 = lr after it or without one); weight_lr_power ≤
    ``power_at_most`` where that is given."""
    u = unit_roundoff(x)
    state = x.state(schedule_free_sgd, **options)
    if power_at_most is not None:
        x.assume(state.weight_lr_power <= power_at_most)
    y, g = x.tensor("params"), x.tensor("grads")
    computed, exact, _ = numpy_step(x, schedule_free_sgd, state, y, g, u)
    ctx = context_of(y)
    rate, _, _, c = schedule_free_sgd.averaging(state, ctx)
    shifted = g + state.weight_decay * y          # the gradient with schedule-free's L2 term
    return u, ctx, computed, exact, (y, state.z, c, shifted, rate, state.momentum, state.weight_decay)


@theorem("Optim.AdamWScheduleFree.float_step_error_le", form="inequality", source=SOURCE, time_limit=SLOW,
         statement="|fl(y′) − y′| ≤ (schedule-free SGD's terms on ĝ + λ·y) + e·(1 + 6u)·|s·ĝ| + 13·2⁻⁵³·e·lr·β1·|ĝ|,  "
                   "ĝ = g/(√(v′/(1 − β2ᵏ⁺¹)) + ε),  v′ = β2·v + (1 − β2)·g²,  e = 9u + (1 + 9u)·ρ₂,  "
                   "ρ₂ = 3·2⁻⁵³·β2ᵏ⁺¹/(1 − β2ᵏ⁺¹),  s = lr·(β1·(1 − c) − 1),  " + UNIT_RANGE
                   + ", β1, β2 ≤ 1 − 2⁻²⁰, no warmup (warmup_steps = 0)")
def schedule_free_adamw_step(x: Given):
    """A schedule-free AdamW step as NumPy runs it: schedule-free SGD's contract with Adam's
    normalised gradient ĝ + λ·y in place of g + λ·y, plus ĝ's own error (its second moment, root,
    ε, quotient and the float64 bias correction: e, relative to ĝ) carried by the step's two
    coefficients — every shape, float32 and float64, every step k, every weight_sum ≥ 0.  The
    constants are not searched for the smallest."""
    u = unit_roundoff(x)
    state = x.state(schedule_free_adamw, warmup_steps=0)
    away_from_one(x, state.beta1, state.beta2)
    y, g = x.tensor("params"), x.tensor("grads")
    computed, exact, new = numpy_step(x, schedule_free_adamw, state, y, g, u)
    ctx = context_of(y)
    _, _, _, c = schedule_free_sgd.averaging(state, ctx)
    lr, beta, decay = state.lr, state.beta1, state.weight_decay
    normalised = schedule_free_adamw.normalised_gradient(state, new.v, g)
    shifted = normalised + decay * y              # the step's direction, with the decoupled decay
    scale = step_coefficient(lr, beta, c)         # s, the step's coefficient (≤ 0)
    e = scaled(x, 9, u, power_amplification(state.beta2 ** (state.k + 1)))   # ĝ's error, relative to it
    return inequality(ctx.abs(computed - exact),
                      u * ctx.abs(exact) + schedule_free_terms(u, ctx, y, state.z, c, shifted, lr, beta, decay)
                      + x.multiplied_out(e * (1 + 6 * u)) * ctx.abs(normalised * scale)
                      + x.multiplied_out(e * 13 * FLOAT64_UNIT) * ctx.abs(normalised * (lr * beta)))


def schedule_free_coefficient_error(rate, beta, c, power: int):
    """B_s = κ·γ·2⁻⁵³·((4P + 12)·β·c + 2β·|1 − c| + 4(1 + β·c)): a bound on the float64 error of the step
    coefficient s = γ·(β(1 − c) − 1) during a warmup, weight_lr_power ≤ P — c's own (12 units: two
    powers, a product, a sum, a quotient; 4 per unit of P from the warmup rate γ̂ = lr·(k + 1)/warmup
    raised to the power), 1 − c's and β·(…)'s roundings, and γ̂'s and the last two roundings of s;
    κ = 1 + 2⁻⁶ for the analysis's higher-order terms; every term ≥ 0."""
    return LEMMA_SLACK * rate * FLOAT64_UNIT * ((4 * power + 12) * beta * c + 2 * beta * abs(1 - c) + 4 * (1 + beta * c))


def schedule_free_adamw_warmup_contract(x: Given, power_at_most: int | None = None, error_power: int | None = None,
                                        coefficient_error: bool = True):
    """Schedule-free AdamW's contract through a warmup (and after it): weight_lr_power = 2 (the
    default), or any in [0, ``power_at_most``]; B_s at P = ``error_power`` where given, and left out
    without ``coefficient_error`` (tests: neither is shown)."""
    u = unit_roundoff(x)
    state = x.state(schedule_free_adamw, **({} if power_at_most else dict(weight_lr_power=2.0)))
    power = power_at_most or 2
    if power_at_most:
        x.assume(state.weight_lr_power <= power_at_most)
    away_from_one(x, state.beta1, state.beta2)
    y, g = x.tensor("params"), x.tensor("grads")
    ctx = context_of(y)
    rate, _, _, c = schedule_free_sgd.averaging(state, ctx)
    beta, decay = state.beta1, state.weight_decay
    computed, exact, new = numpy_step(x, schedule_free_adamw, state, y, g, u)
    # c is the number 0 on the path where every weight so far is 0: no coefficient error to name
    error = None if isinstance(c, (int, float)) or not coefficient_error else \
        schedule_free_coefficient_error(rate, beta, c, error_power or power)
    normalised = schedule_free_adamw.normalised_gradient(state, new.v, g)
    shifted = normalised + decay * y              # the step's direction, with the decoupled decay
    e = scaled(x, 9, u, power_amplification(state.beta2 ** (state.k + 1)))   # ĝ's error, relative to it
    terms = (y, state.z, c, shifted, rate, beta, decay)
    bound = (u * ctx.abs(exact) + schedule_free_terms(u, ctx, *terms) + warmup_rate_terms(ctx, *terms, units=4 * power)
             + x.multiplied_out(e * (1 + 6 * u)) * ctx.abs(normalised * step_coefficient(rate, beta, c)))
    if error is not None:       # s's error times what s multiplies, and its rounding
        bound += error * (x.multiplied_out(1 + 9 * u) * ctx.abs(shifted) + 3 * u * ctx.abs(decay * y)
                          + x.multiplied_out(e * (1 + 6 * u)) * ctx.abs(normalised))
    return inequality(ctx.abs(computed - exact), bound)


SCHEDULE_FREE_ADAMW_WARMUP = (
    "|fl(y′) − y′| ≤ u·|y′| + (schedule-free SGD's warmup terms on ĝ + λy, γ for lr, 4P·2⁻⁵³ for the rate's share) + "
    "e(1 + 6u)·|s·ĝ| + B_s·((1 + 9u)·|ĝ + λy| + 3u·|λy| + e(1 + 6u)·|ĝ|),  s = γ(β1(1 − c) − 1),  "
    "B_s = κγ·2⁻⁵³·((4P + 12)·β1·c + 2β1·|1 − c| + 4(1 + β1·c)) bounds the float64 error of s,  "
    "κ = 1 + 2⁻⁶,  ĝ = g/(√(v′/(1 − β2ᵏ⁺¹)) + ε),  e = 9u + (1 + 9u)·ρ₂,  γ = lr·(k + 1)/warmup_steps while "
    "k < warmup_steps, else lr,  " + UNIT_RANGE + ", β1, β2 ≤ 1 − 2⁻²⁰")


@theorem("Optim.AdamWScheduleFree.float_step_error_le_with_warmup", form="inequality", source=SOURCE,
         time_limit=SLOW, statement=SCHEDULE_FREE_ADAMW_WARMUP + ", weight_lr_power = 2 (the default, P = 2), any warmup_steps")
def schedule_free_adamw_step_with_warmup(x: Given):
    """A schedule-free AdamW step through its warmup and after it, as NumPy runs it: schedule-free
    SGD's warmup contract on Adam's normalised gradient, ĝ's own error e carried by the step, and
    the float64 error B_s of the step coefficient s times what s multiplies — c's error (its warmup
    rate's included) meets ĝ + λy's rounding in the product s·(ĝ + λy): without B_s·(…) named, the
    contract is not shown while weight decay and the warmup are on."""
    return schedule_free_adamw_warmup_contract(x)


@theorem("Optim.AdamWScheduleFree.float_step_error_le_with_warmup_power_le_64", form="inequality", source=SOURCE,
         time_limit=SLOW, statement=SCHEDULE_FREE_ADAMW_WARMUP + ", 0 ≤ weight_lr_power ≤ 64 (P = 64), any warmup_steps")
def schedule_free_adamw_step_with_warmup_power_up_to_64(x: Given):
    """The same for any weight_lr_power in [0, 64]: P = 64 in the rate's share and in B_s."""
    return schedule_free_adamw_warmup_contract(x, power_at_most=64)


NEWTON_SCHULZ_STEP = (
    "|fl(q(X)) − q(X)| ≤ ((1 + u)⁷(1 + γₙ)²(1 + γₘ)² − 1)·(|a|·|X| + |b|·|X||X|ᵀ|X| + |c|·|X||X|ᵀ|X||X|ᵀ|X|) "
    "entry by entry,  q(X) = a·X + (b·A + c·A·A)·X,  A = X·Xᵀ,  X of any shape (m, n),  "
    "γₖ ≥ (k − 1)u/(1 − (k − 1)u) the bound of k − 1 additions in any order,  " + UNIT_RANGE
    + "; X and a, b, c exact values of the tensor's dtype (one step from exact input: the normalisation, the steps "
    "before it and the conversion of torch's Python coefficients are not in it)")


NEWTON_SCHULZ_PERTURBED = (
    "|fl(q(X̂)) − q(X)| ≤ (1 + κ)·Q(|X| + B) − Q(|X|) entry by entry, for every float input X̂ with |X̂ − X| ≤ B,  "
    "κ = (1 + u)⁸(1 + γₙ)²(1 + γₘ)² − 1,  Q(Y) = |a|·Y + (|b|·YYᵀ + |c|·YYᵀYYᵀ)·Y the step on sizes,  "
    "q(X) = a·X + (b·A + c·A·A)·X,  A = X·Xᵀ,  X, B of any shape (m, n),  " + UNIT_RANGE
    + "; a, b, c any reals (Python floats: each rounded to the tensor's dtype where it meets it).  "
    "k steps: B₀ the input's error, Bₖ₊₁ = (1 + κ)·Q(|Xₖ| + Bₖ) − Q(|Xₖ|) over the exact iterates Xₖ")


def newton_schulz_contract(x: Given, products: int = 7, sums: int = 2, perturbed: bool = False):
    """One Newton–Schulz step of Muon (``muon.newton_schulz_step``, the code torch's two addmm
    follow) on an (m, n) matrix of symbolic lengths, against its majorant: the same code on |X|,
    |a|, |b|, |c|.  Each product's sums are signed: their errors are relative to the majorant,
    never to q(X) itself (A·A·X may cancel to 0).  ``perturbed``: from a float input within B,
    and a, b, c Python floats, each rounded to the tensor's dtype where it meets it (Muon's own
    coefficients, as the whole step's composition needs: one more rounding, ``products`` 8)."""
    u = unit_roundoff(x)
    big = x.tensor("X", shape=("m", "n"))
    error = x.tensor("B", shape=("m", "n"), entries="nonnegative") if perturbed else None
    a, b, c = x.real("a"), x.real("b"), x.real("c")
    ctx = context_of(big)
    exact = muon.newton_schulz_step(big, a, b, c)
    with x.rounding(u, python_scalars=perturbed) as rounded:
        computed = muon.newton_schulz_step(rounded.within(big, error) if perturbed else big, a, b, c)
    gamma_m, gamma_n = (rounded.summation_bound(d) for d in ctx.shape(big))
    kappa = newton_schulz_kappa(x.multiplied_out, u, gamma_m, gamma_n, products, sums)
    if perturbed:
        return inequality(ctx.abs(computed - exact), newton_schulz_error(x.multiplied_out, kappa, big, error, a, b, c))
    return inequality(ctx.abs(computed - exact), kappa * newton_schulz_sizes(ctx.abs(big), a, b, c))


@theorem("Optim.Muon.float_newton_schulz_step_error_le", form="inequality", source=SOURCE,
         statement=NEWTON_SCHULZ_STEP)
def muon_newton_schulz_step(x: Given):
    """One Newton–Schulz step from exact input, as NumPy computes it: A·A·X's entry has seven
    roundings of products and additions on its way and two sums over each axis (X·Xᵀ over n,
    then A·A and the product with X over m); the bound is the code run on the majorants."""
    return newton_schulz_contract(x)


@theorem("Optim.Muon.float_newton_schulz_step_error_le_perturbed", form="inequality", source=SOURCE,
         time_limit=SLOW, statement=NEWTON_SCHULZ_PERTURBED)
def muon_newton_schulz_step_perturbed(x: Given):
    """One Newton–Schulz step from a float input known to within B of the exact iterate X (the
    last step's result): the input's error carried through the step on sizes, Q(|X| + B) − Q(|X|),
    and the step's own roundings, κ·Q(|X| + B).  Shown for every X̂ within B (``rounded.within``),
    it chains: five steps are five uses of it, Bₖ from the step before."""
    return newton_schulz_contract(x, products=8, perturbed=True)



# Muon's whole step, in four contracts that chain: each holds for every float input within its
# bound of the exact value (``rounded.within``), so the composition (``tools/precision.py``,
# ``muon_step_bound``) bounds the float step the four make:
#   D̂ within E of D (momentum) → X̂₀ within B₀ of X₀ (normalisation) → X̂ₖ₊₁ within Bₖ₊₁ of Xₖ₊₁
#   (``ns_steps`` Newton–Schulz steps) → fl(p′) within its bound of p′ (the decayed step).
# The bounds are written once, here, for any backend: the theorems state them on symbolic
# values (``form`` = ``x.multiplied_out``, the form the error analysis groups by), and the
# composition evaluates them on arb balls (``form`` the identity).

def muon_momentum_bound(form, u, buf, grads, new_buf, direction, nesterov: bool, count: int = 5, outer: int = 5):
    """E: the bound on |fl(D) − D|, D Muon's direction — B′ = lerp(B, g, 1 − μ) (u·|B′| and ``count``
    units of |g − B|: torch's lerp, either form, and 1 − μ's float64 rounding), and with nesterov
    D = lerp(g, B′, μ) (``outer`` units of |B′ − g|, u·|D|, and B′'s error twice: B′ appears twice
    in the lerp's second form)."""
    ctx = context_of(grads)
    carried = form(2 + 2 * outer * u) if nesterov else 1
    bound = carried * u * ctx.abs(new_buf) + form(carried * count * u) * ctx.abs(grads - buf)
    if nesterov:
        bound = bound + u * ctx.abs(direction) + outer * u * ctx.abs(new_buf - grads)
    return bound


def square_lemma(v: str) -> str:
    """The statement of ``square_error_within``'s row sum's lemma on the squares of ``v``."""
    return (f"ρ ≥ 0 with Σ e ≤ ρ·Σ {v}², ρ ≤ 1/8, e = u·{v}² + (1 + u)(2E·|{v}| + E²) the error of one {v}\u0302² "
            "(a row sum's lemma)")


def square_error_within(form, u, d, error):
    """e = u·D² + (1 + u)(2E·|D| + E²): a bound on |fl(D̂·D̂) − D²| for |D̂ − D| ≤ E (the row sum's
    lemma of ‖D̂‖: Muon's ‖D̂‖_F, LAMB's ‖d̂‖ with weight decay)."""
    ctx = context_of(d)
    return u * d * d + form(1 + u) * (2 * error * ctx.abs(d) + error * error)


def muon_normalisation_bound(form, u, d, error, epsilon, gamma, rho, relative: int = 4):
    """B₀ = ((1 + 4u)(1 + φ)·E + (4u + φ)·|D|)/max(‖D‖_F, ε), φ = Γ + ρ + Γρ the relative error of
    the float sum of squares (``row_sum_error_at_most``)."""
    ctx = context_of(d)
    phi = gamma + rho + gamma * rho
    return (form((1 + relative * u) * (1 + phi)) * error + form(relative * u + phi) * ctx.abs(d)) / \
        ctx.maximum(norm(d), epsilon)


def newton_schulz_kappa(form, u, gamma_m, gamma_n, products: int = 8, sums: int = 2):
    """κ = (1 + u)^products·(1 + γₙ)^sums·(1 + γₘ)^sums − 1: one step's roundings, relative to Q."""
    return form((1 + u) ** products * (1 + gamma_n) ** sums * (1 + gamma_m) ** sums - 1)


def newton_schulz_sizes(y, a, b, c):
    """Q(Y): the step on sizes, Muon's code run on Y ≥ 0 and |a|, |b|, |c| (a majorant of |q(X)| for |X| ≤ Y)."""
    return muon.newton_schulz_step(y, abs(a), abs(b), abs(c))


def newton_schulz_error(form, kappa, x, error, a, b, c):
    """Bₖ₊₁ = (1 + κ)·Q(|X| + B) − Q(|X|), Q the step on sizes."""
    ctx = context_of(x)
    return form((1 + kappa) * newton_schulz_sizes(ctx.abs(x) + error, a, b, c) - newton_schulz_sizes(ctx.abs(x), a, b, c))


def muon_decayed_bound(form, u, state, params, o, error, ratio, exact, decay: int = 4, direction: int = 5):
    """u·|p′| + (4u + (1 + 4u)ρ)·|p·(1 − lr·λ)| + (1 + 5u)·lr·r·B + 5u·lr·r·|O|, ρ = 2⁻⁵²·lr·λ/(1 − lr·λ)
    the float64 error of the decay factor, B the bound on |Ô − O|."""
    ctx = context_of(params)
    rate, step = state.lr * state.weight_decay, state.lr * ratio
    return (u * ctx.abs(exact) + form(decay * u + (1 + decay * u) * amplification(rate)) * ctx.abs(params * (1 - rate))
            + form(1 + direction * u) * step * error + direction * u * step * ctx.abs(o))


MUON_MOMENTUM = (
    "|fl(D) − D| ≤ E = c·u·|B′| + 5c·u·|g − B| + (nesterov) u·|D| + 5u·|B′ − g|,  B′ = lerp(B, g, 1 − μ),  "
    "D = lerp(g, B′, μ) with nesterov (c = 2 + 10u), else B′ (c = 1), torch's lerp in either of its forms,  "
    "0 ≤ μ ≤ 1,  " + UNIT_RANGE + ", where the float tests |fl(1 − μ)| < ½ and |μ| < ½ of torch's lerp agree "
    "with the exact ones")


@theorem("Optim.Muon.float_momentum_error_le", form="inequality", source=SOURCE, time_limit=SLOW,
         statement=MUON_MOMENTUM + ", nesterov (the default)")
def muon_momentum(x: Given):
    """The first piece of Muon's step, as NumPy runs it: the direction D = lerp(g, B′, μ) from the
    momentum buffer B′ = lerp(B, g, 1 − μ), entry by entry.  Each lerp is a signed difference,
    rounded: its error is relative to |g − B| and |B′ − g|, not to D."""
    return muon_momentum_contract(x, nesterov=True)


@theorem("Optim.Muon.float_momentum_error_le_plain", form="inequality", source=SOURCE, time_limit=SLOW,
         statement=MUON_MOMENTUM + ", no nesterov (D = B′)")
def muon_momentum_plain(x: Given):
    """The same without nesterov: the direction is the buffer B′ itself."""
    return muon_momentum_contract(x, nesterov=False)


def muon_momentum_contract(x: Given, nesterov: bool, count: int = 5, outer: int = 5):
    u = unit_roundoff(x)
    state = x.state(muon, shape=("m", "n"), nesterov=nesterov)
    x.assume(state.momentum <= 1)
    g = x.tensor("grads", shape=("m", "n"))
    with x.rounding(u, python_scalars=True) as rounded:
        computed = muon.momentum_direction(state, g)
    buf, direction = rounded.exact(computed, branches="assumed")
    bound = muon_momentum_bound(x.multiplied_out, u, state.buf, g, buf, direction, nesterov, count, outer)
    return inequality(context_of(g).abs(computed[1] - direction), bound)


MUON_NORMALISATION = (
    "|fl(D̂/max(‖D̂‖_F, ε)) − D/max(‖D‖_F, ε)| ≤ B₀ = ((1 + 4u)(1 + φ)·E + (4u + φ)·|D|)/max(‖D‖_F, ε) entry by "
    "entry, for every float input D̂ with |D̂ − D| ≤ E,  φ = Γ + ρ + Γρ,  " + square_lemma("D")
    + ",  Γ ≤ γ_{mn−1} ≤ 1/31,  D, E of any shape (m, n),  ε > 0,  " + UNIT_RANGE)


@theorem("Optim.Muon.float_normalisation_error_le", form="inequality", source=SOURCE, time_limit=SLOW,
         statement=MUON_NORMALISATION)
def muon_normalisation(x: Given):
    """The start of Muon's iteration, X₀ = D/max(‖D‖_F, ε), from a float direction D̂ known to within E
    of D (the momentum's contract): D̂'s error is carried relative to ‖D‖, its squares' through a row
    sum's lemma (D may cancel: ρ from the inputs), the maximum relative to each side."""
    return muon_normalisation_contract(x)


def muon_normalisation_contract(x: Given, relative: int = 4, norm_terms: bool = True):
    """``relative``, ``norm_terms``: the claims the tests show are not shown (a unit fewer, φ left out)."""
    u = unit_roundoff(x)
    d = x.tensor("D", shape=("m", "n"))
    error = x.tensor("E", shape=("m", "n"), entries="nonnegative")
    epsilon = x.positive("epsilon")
    ctx = context_of(d)
    square, square_error = d * d, square_error_within(x.multiplied_out, u, d, error)
    with x.rounding(u, python_scalars=True) as rounded:
        rho = rounded.row_sum_error_at_most(square, square_error)
        computed = muon.normalised(rounded.within(d, error), epsilon)
    exact = rounded.exact(computed)
    gamma = rounded.summation_bound(ctx.shape(d)[0] * ctx.shape(d)[1])
    x.assume(gamma <= sympy.Rational(1, 31), rho <= sympy.Rational(1, 8))
    return inequality(ctx.abs(computed - exact),
                      muon_normalisation_bound(x.multiplied_out, u, d, error, epsilon,
                                               *((gamma, rho) if norm_terms else (0, 0)), relative))


MUON_DECAYED_STEP = (
    "|fl(p′) − p′| ≤ u·|p′| + (4u + (1 + 4u)ρ)·|p·(1 − lr·λ)| + (1 + 5u)·lr·r·B + 5u·lr·r·|O| entry by entry, "
    "for every float input Ô with |Ô − O| ≤ B,  p′ = p·(1 − lr·λ) − lr·r·O,  r > 0 the shape's lr ratio (the "
    "Python float the code computes),  ρ = 2⁻⁵²·lr·λ/(1 − lr·λ),  lr·λ ≤ 1 − 2⁻²⁰,  p, O, B of any shape (m, n),  "
    + UNIT_RANGE)


@theorem("Optim.Muon.float_decayed_step_error_le", form="inequality", source=SOURCE, statement=MUON_DECAYED_STEP)
def muon_decayed_step(x: Given):
    """The last piece of Muon's step, as NumPy runs it: the decoupled decay p·(1 − lr·λ) (its factor
    in float64) and the step −lr·r·Ô from the iteration's float result Ô, known to within B."""
    return muon_decayed_step_contract(x)


def muon_decayed_step_contract(x: Given, decay: int = 4, direction: int = 5):
    u = unit_roundoff(x)
    state = x.state(muon, shape=("m", "n"))
    away_from_one(x, state.lr * state.weight_decay)
    p = x.tensor("params", shape=("m", "n"))
    o = x.tensor("O", shape=("m", "n"))
    error = x.tensor("B", shape=("m", "n"), entries="nonnegative")
    ratio = x.positive("r")
    with x.rounding(u, python_scalars=True) as rounded:
        computed = muon.decayed_step(state, p, rounded.within(o, error), ratio)
    exact = rounded.exact(computed)
    return inequality(context_of(p).abs(computed - exact),
                      muon_decayed_bound(x.multiplied_out, u, state, p, o, error, ratio, exact, decay, direction))



# LAMB's whole step, weight decay λ ≥ 0 (0 included), in two contracts that chain as Muon's do
# (``tools/precision.py``, ``lamb_step_bound``): d̂ = fl(w + λp) within E of d, then the trust-ratio
# step from any float direction within E of d.  (Run as one theorem, d̂²'s error has 25 products
# with λ and the decision takes 7.6 minutes, and 90 s without λ; through ``within`` the step's lemma
# needs only E, and the two take 2 s and 4 s.)

def lamb_decay_direction_bound(form, u, state, p, g, relative: int = 12, apart: int = 4, decay: int = 3):
    """E: the bound on |fl(d) − d|, d = w + λp LAMB's direction with weight decay — u·|d|, w's own
    contract (``relative`` units of |w| and ``apart`` of m′'s two terms M, with the bias
    corrections' float64 amplifications ρᵢ) carried by the sum's rounding, and ``decay`` units of |λp|."""
    ctx = context_of(p)
    d, parts, rhos = lamb_direction_parts(state, p, g)
    decayed = state.weight_decay * p
    w = d - decayed
    rho = _scalar_factor((*rhos, *rhos)) - 1
    carried = form((1 + u) * (apart * u + (1 + apart * u) * rho))
    return (u * ctx.abs(d) + form((1 + u) * (relative * u + (1 + relative * u) * rho)) * ctx.abs(w)
            + carried * parts[0] + carried * parts[1] + decay * u * ctx.abs(decayed))


LAMB_DECAY_DIRECTION = (
    "|fl(d) − d| ≤ E = u·|d| + (1 + u)(12u + (1 + 12u)((1 + ρ₁)²(1 + ρ₂)² − 1))·|w| + (1 + u)(4u + (1 + 4u)((1 + ρ₁)²"
    "(1 + ρ₂)² − 1))·M + 3u·|λp|,  d = w + λp,  w = m̂′/(√v̂′ + ε) LAMB's direction before the decay,  "
    "M = ((1 − β1)|g| + β1|m|)/((1 − β1ᵗ)(√v̂′ + ε)),  ρᵢ = 3·2⁻⁵³·βᵢᵗ/(1 − βᵢᵗ),  " + UNIT_RANGE
    + ", β1, β2 ≤ 1 − 2⁻²⁰, λ ≥ 0, eps_root = 0")


@theorem("Optim.LAMB.float_direction_error_le_weight_decay", form="inequality", source=SOURCE, time_limit=SLOW,
         statement=LAMB_DECAY_DIRECTION)
def lamb_decay_direction(x: Given):
    """LAMB's direction with weight decay as NumPy computes it, entry by entry: w's roundings (its
    contract without decay), λp's (λ a Python float meeting the tensor) and the sum's."""
    return lamb_decay_direction_contract(x)


def lamb_decay_direction_contract(x: Given, **counts):
    u = unit_roundoff(x)
    state = x.state(lamb, length="n", eps_root=0.0)
    away_from_one(x, state.beta1, state.beta2)
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n")
    with x.rounding(u, python_scalars=True) as rounded:
        computed = lamb.direction(state, p, g)[3]
    return inequality(context_of(p).abs(computed - rounded.exact(computed)),
                      lamb_decay_direction_bound(x.multiplied_out, u, state, p, g, **counts))


def lamb_trust_step_bound(form, u, state, p, d, error, gamma, rho, exact, steps: int = 12, carried: int = 13,
                          norm_error=None):
    """u·|p′| + (``steps``·u + 3Γ + 2ρ + 2Γρ)·|lr·r·d| + (1 + ``carried``·u)(1 + 3Γ + 2ρ + 2Γρ)·lr·r·E, r = ‖p‖/‖d‖
    (1 where a norm is 0): the norms' relative error on both (E's higher-order terms take the many u).
    ``norm_error(Γ, ρ)``: in place of 3Γ + 2ρ + 2Γρ on |lr·r·d| (the tests' claims that leave a part out)."""
    ctx = context_of(p)
    rate = state.lr * lars.trust_ratio(p, d, 1, 0)
    norms = 3 * gamma + 2 * rho + 2 * gamma * rho
    on_step = norms if norm_error is None else norm_error(gamma, rho)
    return (u * ctx.abs(exact) + form(steps * u + on_step) * ctx.abs(d * rate)
            + form((1 + carried * u) * (1 + norms)) * rate * error)


LAMB_TRUST_STEP = (
    "|fl(p′) − p′| ≤ u·|p′| + (12u + 3Γ + 2ρ + 2Γρ)·|lr·r·d| + (1 + 13u)(1 + 3Γ + 2ρ + 2Γρ)·lr·r·E entry by entry, for "
    "every float input d̂ with |d̂ − d| ≤ E,  p′ = p − lr·r·d,  r = ‖p‖/‖d‖ (1 where a norm is 0),  "
    + square_lemma("d") + ",  Γ ≤ γ_{n−1}, (n − 1)u ≤ 2⁻⁵,  " + UNIT_RANGE)


@theorem("Optim.LAMB.float_trust_step_error_le", form="inequality", source=SOURCE, time_limit=SLOW,
         statement=LAMB_TRUST_STEP)
def lamb_trust_step(x: Given):
    """LAMB's step from its direction, as NumPy runs it: the trust ratio's two norms (‖d̂‖ through a
    row sum's lemma: d̂ is known only to within E, and d may cancel) and the step's roundings; E
    carried by the step, relative to ‖d‖."""
    return lamb_trust_step_contract(x)


def lamb_trust_step_contract(x: Given, **counts):
    u = unit_roundoff(x)
    state = x.state(lamb, length="n")
    p, d = x.tensor("params", length="n"), x.tensor("D", length="n")
    error = x.tensor("E", length="n", entries="nonnegative")
    row_length(x, u, p)
    square, square_error = d * d, square_error_within(x.multiplied_out, u, d, error)
    with x.rounding(u, python_scalars=True) as rounded:
        rho = rounded.row_sum_error_at_most(square, square_error)
        computed = lamb.trust_step(state, p, rounded.within(d, error))
    exact = rounded.exact(computed)
    gamma = rounded.summation_bound(context_of(p).shape(p)[0])
    x.assume(gamma <= sympy.Rational(1, 31), rho <= sympy.Rational(1, 8))
    return inequality(context_of(p).abs(computed - exact),
                      lamb_trust_step_bound(x.multiplied_out, u, state, p, d, error, gamma, rho, exact, **counts))
