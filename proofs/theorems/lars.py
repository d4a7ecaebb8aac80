"""Theorems about ``optim.lars`` (You, Gitman & Ginsburg 2017; Optax's ``lars``): the step's size
is set by the trust ratio — lr·η·‖p‖, whatever the gradient's size — and so the step does not see
the gradient's scale.  The norms are reductions over the whole tensor: the two laws are stated for a param of any length n
(its norms kept as sums over i < n), the refutation at p = 0 on the explicit shape (2,)."""


from optim import lars
from optim.context import context_of
from proofs.harness import REFUTED, Given, equation, theorem

SOURCE = "You, Gitman & Ginsburg 2017, eq. (6); optax.lars"
SHAPE = (2,)


def explicit_state(x: Given, **given):
    return x.state(lars, b=x.tensor("b", shape=SHAPE), **given)


def row_state(x: Given, **given):
    """A state of a param of length n (its buffer a row of that length)."""
    return x.state(lars, b=x.tensor("b", length="n"), **given)


@theorem("Optim.LARS.update_step_norm_eq", source=SOURCE,
         statement="any length n, momentum = 0, ε = 0, ‖p‖ > 0, ‖g + λ·p‖ > 0 ⟹ ‖p′ − p‖² = (lr · η · ‖p‖)²")
def step_norm(x: Given):
    """Without momentum, a LARS step has length lr·η·‖p‖ (η the trust coefficient), whatever the
    gradient's length: the trust ratio η·‖p‖/‖u‖ rescales the update u = g + λ·p to that length."""
    state = row_state(x, momentum=0.0, epsilon=0.0)
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n")
    x.assume(lars.norm(p) > 0, lars.norm(g + state.weight_decay * p) > 0)
    _, new = lars.update(state, p, g)
    total = context_of(p).total
    step = new - p
    return equation(total(step * step), (state.lr * state.trust_coefficient * lars.norm(p)) ** 2)


def scaled_and_plain(x: Given, c, p, g, state):
    scaled, scaled_p = lars.update(state, p, c * g)
    plain, plain_p = lars.update(state, p, g)
    return equation((scaled_p, scaled.b), (plain_p, plain.b))


@theorem("Optim.LARS.update_gradient_scale_invariant", source=SOURCE,
         statement="any length n, λ = 0, ε = 0, c > 0, ‖p‖ > 0 ⟹ update s p (c·g) = update s p g")
def scale_invariant(x: Given):
    """Without weight decay and ε, LARS does not see the gradient's scale: any c > 0 gives the very
    same step and momentum buffer — where ‖p‖ > 0 (see the next theorem)."""
    state = row_state(x, weight_decay=0.0, epsilon=0.0)
    c = x.positive("c")
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n")
    x.assume(lars.norm(p) > 0)
    return scaled_and_plain(x, c, p, g, state)


@theorem("Optim.LARS.update_gradient_scale_invariant_at_zero_params", expect=REFUTED, source=SOURCE,
         statement="shape (2,), λ = 0, ε = 0, c > 0, p = 0 ⟹ update s p (c·g) = update s p g")
def scale_invariant_at_zero(x: Given):
    """At p = 0 the trust ratio falls back to 1 (Optax's safe ratio), so the step is −lr·g and
    scales with g: the invariance needs ‖p‖ > 0 (refuted)."""
    state = explicit_state(x, weight_decay=0.0, epsilon=0.0)
    c, g = x.positive("c"), x.tensor("grads", shape=SHAPE)
    return scaled_and_plain(x, c, context_of(g).zeros_like(g), g, state)


