"""Theorems about ``optim.rprop`` (Riedmiller & Braun 1993; torch.optim.Rprop): the three sign cases."""
import sympy

from optim import rprop
from optim.context import context_of
from proofs.harness import Given, equation, theorem


def arbitrary_state(x: Given) -> rprop.State:
    return x.state(rprop, lr="positive")


def clamp(ctx, value, state):
    return ctx.minimum(ctx.maximum(value, state.step_size_min), state.step_size_max)


@theorem("Optim.Rprop.update_same_sign_eq",
         statement="g · prev > 0 ⟹ step_size′ = clamp(step_size · η+), p′ = p − sign(g) · step_size′, prev′ = g")
def update_same_sign_eq(x: Given):
    """When the gradient keeps its sign, Rprop grows the step by η+ and moves against the gradient."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    x.assume(sympy.Gt(grads.entry * state.prev.entry, 0))
    ctx = context_of(params)
    new, new_params = rprop.update(state, params, grads)
    step = clamp(ctx, state.step_size * state.etaplus, state)
    return equation((new.step_size, new_params, new.prev), (step, params - ctx.sign(grads) * step, grads))


@theorem("Optim.Rprop.update_flipped_sign_eq",
         statement="g · prev < 0 ⟹ step_size′ = clamp(step_size · η−), p′ = p, prev′ = 0")
def update_flipped_sign_eq(x: Given):
    """When the gradient flips sign, Rprop shrinks the step by η−, does not move, and forgets g."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    x.assume(sympy.Lt(grads.entry * state.prev.entry, 0))
    ctx = context_of(params)
    new, new_params = rprop.update(state, params, grads)
    step = clamp(ctx, state.step_size * state.etaminus, state)
    return equation((new.step_size, new_params, new.prev), (step, params, ctx.zeros_like(grads)))


@theorem("Optim.Rprop.update_zero_product_eq",
         statement="g · prev = 0 ⟹ step_size′ = clamp(step_size), p′ = p − sign(g) · step_size′, prev′ = g")
def update_zero_product_eq(x: Given):
    """When g · prev = 0 (a first step, or a zero gradient), the step size is kept (clamped)."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    x.assume(sympy.Eq(grads.entry * state.prev.entry, 0))
    ctx = context_of(params)
    new, new_params = rprop.update(state, params, grads)
    step = clamp(ctx, state.step_size, state)
    return equation((new.step_size, new_params, new.prev), (step, params - ctx.sign(grads) * step, grads))


@theorem("Optim.Rprop.update_time_eq", statement="(update s p g).state.t = s.t + 1")
def update_time_eq(x: Given):
    """Rprop counts its steps: the counter goes up by exactly one every step (torch's ``step``)."""
    state = arbitrary_state(x)
    new_state, _ = rprop.update(state, x.tensor("params"), x.tensor("grads"))
    return equation(new_state.t, state.t + 1)
