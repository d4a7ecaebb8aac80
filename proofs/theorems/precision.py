"""Float error contracts: how far one executed step can land from the real step the other
theorems speak about, in the standard rounding model — every arithmetic result is its exact
value times (1 + δ), |δ| ≤ u (``x.rounding(u)``: the optimizer's own code runs there, once
exactly and once rounded, and the claim compares the two).  These bounds are *not* first order:
they hold for every δ in [−u, u], higher-order terms included (the (1 + u) factors); the decider
shows them at the vertices of the δ box, where a claim multilinear in the δ takes its extremes.
As in TorchLean's contracts for SGD and momentum, u is the unit roundoff of the arithmetic (2⁻⁵³ in
float64, 2⁻²⁴ in float32, where NumPy's conversion of the Python float lr to float32 is one more
rounding this model leaves out: ``make precision`` measures it, with every other optimizer's)."""
from optim import momentum_sgd, sgd
from optim._shared import ema_of_square, lerp
from optim.context import context_of
from proofs.harness import REFUTED, Given, inequality, theorem

SOURCE = "the standard model of floating-point arithmetic (Higham 2002, §2.2); TorchLean's SGD contract"


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
