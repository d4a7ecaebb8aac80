"""Theorems about ``optim.lamb`` (You et al. 2020, Algorithm 2; Optax's ``lamb``): the step's
length is lr·‖p‖ whatever the moments say, and, like Adam's with ε = 0, the step does not see the
gradient's scale.  The trust ratio's norms are reductions: stated on an explicit shape, (2,), and
for that shape only."""
from optim import lamb
from optim.context import context_of
from optim._shared import norm
from proofs.harness import Given, equation, theorem

SOURCE = "You et al. 2020, Algorithm 2; optax.lamb"
SHAPE = (2,)


@theorem("Optim.LAMB.update_step_norm_eq", source=SOURCE,
         statement="any length n, the first step (m = v = 0), λ = 0, g ≠ 0 entrywise, ‖p‖ > 0 ⟹ ‖p′ − p‖² = (lr · ‖p‖)²")
def step_norm(x: Given):
    """LAMB's first step has length lr·‖p‖: the trust ratio ‖p‖/‖u‖ rescales the Adam direction u
    to the parameter's own norm (from any state too, but the prover times out on that expression)."""
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n", entries="nonzero")
    state = lamb.init(p, **x.hyperparameters(lamb, weight_decay=0.0))
    x.assume(norm(p) > 0)
    new_state, new = lamb.update(state, p, g)
    total = context_of(p).total
    step = new - p
    return equation(total(step * step), (state.lr * norm(p)) ** 2)


@theorem("Optim.LAMB.first_step_gradient_scale_invariant", source=SOURCE,
         statement="any length n, the first step (m = v = 0), ε = ε_root = 0, λ = 0, c > 0, g ≠ 0 entrywise ⟹ "
                   "(update s p (c·g)).params = (update s p g).params")
def scale_invariant(x: Given):
    """With ε = ε_root = 0 and no decay, LAMB's first step does not see the gradient's scale (from an
    arbitrary state, with m, v scaled by c, c², the prover gives UNKNOWN: √(c²·X) = c·√X deep inside
    the trust ratio's norm is not shown)."""
    c = x.positive("c")
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n", entries="nonzero")
    state = lamb.init(p, **x.hyperparameters(lamb, epsilon=0.0, eps_root=0.0, weight_decay=0.0))
    x.assume(norm(p) > 0)
    return equation(lamb.update(state, p, c * g)[1], lamb.update(state, p, g)[1])
