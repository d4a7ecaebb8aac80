"""Theorems about ``optim.clipping`` (Optax's ``clip`` and ``clip_by_global_norm``; torch's
``clip_grad_value_`` and ``clip_grad_norm_``): clipping never increases a gradient — by value
entry by entry, on every shape; by global norm in the Euclidean norm of all the gradients
together, at most max_norm, and not at all when the norm is already small.  The global norm is a
reduction: those theorems are stated on explicit shapes (two gradients, of shapes (2,) and (1,))
and hold for those shapes only."""
import sympy

from optim import clipping
from optim.context import context_of
from proofs.harness import Given, equation, inequality, theorem

SOURCE = "Optax clip / clip_by_global_norm; torch.nn.utils.clip_grad_value_ / clip_grad_norm_"
@theorem("Optim.Clip.by_value_never_increases_entries", form="inequality", source=SOURCE,
         statement="c ≥ 0 ⟹ |clip_by_value(g, c)| ≤ |g| and −c ≤ clip_by_value(g, c) ≤ c, entrywise, every shape")
def by_value(x: Given):
    """Clipping by value moves no entry away from 0 and leaves every entry in [−c, c]."""
    c, g = x.nonnegative("c"), x.tensor("g")
    (clipped,) = clipping.clip_by_value([g], c)
    ctx = context_of(g)
    return inequality((ctx.abs(clipped), ctx.full_like(g, -c), clipped),
                      (ctx.abs(g), clipped, ctx.full_like(g, c)))


def row_grads(x: Given):
    """Two gradients of any lengths n and m (rows of symbolic lengths: their norms stay sums)."""
    return [x.tensor("g1", length="n"), x.tensor("g2", length="m")]


def clipped_norms(x: Given):
    """(‖clipped‖, ‖g‖, max_norm) for two gradients of any lengths."""
    max_norm, grads = x.nonnegative("max_norm"), row_grads(x)
    clipped, norm = clipping.clip_by_global_norm(grads, max_norm)
    return clipping.global_norm(clipped), norm, max_norm


@theorem("Optim.Clip.by_global_norm_never_increases_the_norm", form="inequality", source=SOURCE,
         statement="max_norm ≥ 0, two gradients of any lengths n, m ⟹ |clip_by_global_norm(g, max_norm)ᵢ| ≤ |gᵢ| "
                   "for every entry (so no norm of the gradients increases)")
def by_global_norm(x: Given):
    """Clipping by global norm scales every entry by a factor in [0, 1]: no entry grows, so the
    norm of all the gradients together (any norm) does not increase."""
    max_norm, grads = x.nonnegative("max_norm"), row_grads(x)
    clipped, _ = clipping.clip_by_global_norm(grads, max_norm)
    ctx = context_of(grads[0])
    return inequality(tuple(ctx.abs(c) for c in clipped), tuple(ctx.abs(g) for g in grads))


@theorem("Optim.Clip.by_global_norm_at_most_max_norm", form="inequality", source=SOURCE,
         statement="max_norm ≥ 0, two gradients of any lengths n, m ⟹ ‖clip_by_global_norm(g, max_norm)‖ ≤ max_norm")
def by_global_norm_bounded(x: Given):
    """After clipping by global norm the norm is at most max_norm (N·max_norm/(N + 10⁻⁶) when it clips)."""
    after, _, max_norm = clipped_norms(x)
    return inequality(after, max_norm)


@theorem("Optim.Clip.by_global_norm_leaves_small_gradients", source=SOURCE,
         statement="two gradients of any lengths n, m, ‖g‖ + 10⁻⁶ ≤ max_norm ⟹ clip_by_global_norm(g, max_norm) = g")
def small_gradients_unchanged(x: Given):
    """Gradients whose global norm is below max_norm (by torch's 10⁻⁶) are left exactly as they are."""
    max_norm, grads = x.nonnegative("max_norm"), row_grads(x)
    x.assume(clipping.global_norm(grads) + sympy.Rational(clipping.EPSILON) <= max_norm)
    clipped, _ = clipping.clip_by_global_norm(grads, max_norm)
    return equation(tuple(clipped), tuple(grads))
