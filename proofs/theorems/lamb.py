"""Theorems about ``optim.lamb`` (You et al. 2020, Algorithm 2; Optax's ``lamb``): the step's
length is lr·‖p‖ whatever the moments say, and, like Adam's with ε = 0, the step does not see the
gradient's scale.  The trust ratio's norms are reductions: stated for a param of any length n (its
norms kept as sums over i < n)."""
from dataclasses import replace

from optim import lamb
from optim.context import context_of
from optim._shared import norm
from proofs.harness import Given, equation, theorem

SOURCE = "You et al. 2020, Algorithm 2; optax.lamb"


@theorem("Optim.LAMB.update_step_norm_eq", source=SOURCE,
         statement="any length n, the first step (m = v = 0), λ = 0, g ≠ 0 entrywise, ‖p‖ > 0 ⟹ ‖p′ − p‖² = (lr · ‖p‖)²")
def step_norm(x: Given):
    """LAMB's first step has length lr·‖p‖: the trust ratio ‖p‖/‖u‖ rescales the Adam direction u
    to the parameter's own norm."""
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
    """With ε = ε_root = 0 and no decay, LAMB's first step does not see the gradient's scale (the
    next theorem: from any state too)."""
    c = x.positive("c")
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n", entries="nonzero")
    state = lamb.init(p, **x.hyperparameters(lamb, epsilon=0.0, eps_root=0.0, weight_decay=0.0))
    x.assume(norm(p) > 0)
    return equation(lamb.update(state, p, c * g)[1], lamb.update(state, p, g)[1])


@theorem("Optim.LAMB.update_gradient_scale_invariant", source=SOURCE,
         statement="any length n, any state, ε = ε_root = 0, λ = 0, c > 0, g ≠ 0 entrywise, ‖p‖ > 0 ⟹ "
                   "(update {s with m := c·m, v := c²·v} p (c·g)).params = (update s p g).params")
def scale_invariant_any_state(x: Given):
    """From any state whose moments were built from gradients c times larger (m scaled by c, v by
    c²), LAMB's step is the same: the Adam direction does not see c, and the trust ratio's norms
    — sums over the param's n entries — cancel it too."""
    c = x.positive("c")
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n", entries="nonzero")
    state = x.state(lamb, length="n", epsilon=0.0, eps_root=0.0, weight_decay=0.0)
    scaled = replace(state, m=c * state.m, v=(c * c) * state.v)
    x.assume(norm(p) > 0)
    return equation(lamb.update(scaled, p, c * g)[1], lamb.update(state, p, g)[1])
