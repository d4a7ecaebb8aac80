"""Theorems about ``optim.lion`` (Chen et al. 2023, Program 1; Optax's ``lion``): the update
equations, sign descent as a special case, and invariance to the gradient's scale (for c > 0
only: a negative scale reverses every step)."""
from dataclasses import replace

from optim import lion
from optim.context import context_of
from proofs.harness import REFUTED, Given, equation, theorem
from proofs.theorems._common import update


def arbitrary_state(x: Given, **given) -> lion.State:
    return x.state(lion, **given)


def signed_grads(u):
    """g̃: the gradient the update descends on (−g under ``maximize``)."""
    return -u.grads if u.state.maximize else u.grads


@theorem("Optim.Lion.update_m_eq", statement="(update s p g).state.m = β2 · m + (1 − β2) · g̃,  g̃ = ±g (maximize)")
def update_m_eq(x: Given):
    """Lion's momentum is the EMA of the gradient with β2 (the step uses β1)."""
    u = update(x, lion, arbitrary_state(x))
    return equation(u.new.m, u.state.beta2 * u.state.m + (1 - u.state.beta2) * signed_grads(u))


@theorem("Optim.Lion.update_params_eq",
         statement="(update s p g).params = p − lr · (sign(β1 · m + (1 − β1) · g̃) + λ · p)")
def update_params_eq(x: Given):
    """Lion steps by the sign of the β1-interpolation of momentum and gradient, plus decoupled
    decay, all scaled by lr (the paper's form; the code computes p·(1 − lr·λ) − lr·sign(c))."""
    u = update(x, lion, arbitrary_state(x))
    sign = context_of(u.params).sign
    s = u.state
    return equation(u.new_params, u.params - s.lr * (sign(s.beta1 * s.m + (1 - s.beta1) * signed_grads(u))
                                                     + s.weight_decay * u.params))


@theorem("Optim.Lion.sign_descent_eq", statement="β1 = 0 ∧ λ = 0 ⟹ (update s p g).params = p − lr · sign(g)")
def sign_descent_eq(x: Given):
    """With β1 = 0 and no decay, Lion is sign descent: every coordinate moves by lr against the
    sign of its gradient, whatever the momentum holds."""
    u = update(x, lion, arbitrary_state(x, beta1=0.0, weight_decay=0.0, maximize=False))
    return equation(u.new_params, u.params - u.state.lr * context_of(u.params).sign(u.grads))


def scaled_gradient(x: Given, c):
    """(update {s with m := c·m} p (c·g), update s p g): every gradient so far scaled by c."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    scaled, scaled_params = lion.update(replace(state, m=c * state.m), params, c * grads)
    plain, plain_params = lion.update(state, params, grads)
    return equation((scaled_params, scaled.m), (plain_params, c * plain.m))


@theorem("Optim.Lion.update_gradient_scale_invariant",
         statement="c > 0 ⟹ (update {s with m := c·m} p (c·g)) = ((update s p g).params, c · (update s p g).state.m)")
def update_gradient_scale_invariant(x: Given):
    """Lion does not see the gradient's scale: scaling every gradient by c > 0 (so the momentum
    too) takes the very same steps, with the momentum scaled by c — by induction, at every step
    of a run started from m = 0."""
    return scaled_gradient(x, x.positive("c"))


@theorem("Optim.Lion.update_gradient_negative_scale_not_invariant", expect=REFUTED,
         statement="c < 0 ⟹ (update {s with m := c·m} p (c·g)) = ((update s p g).params, c · (update s p g).state.m)")
def update_gradient_negative_scale_not_invariant(x: Given):
    """A negative scale is not invisible: it flips the sign of the step (refuted, with the
    counterexample)."""
    return scaled_gradient(x, x.negative("c"))
