"""Theorems about ``optim.rprop`` (Riedmiller & Braun 1993; torch.optim.Rprop): the three sign cases."""
import sympy

from optim import rprop
from optim.context import context_of
from proofs.harness import Given, equation, theorem
from proofs.theorems._common import time_eq


def arbitrary_state(x: Given) -> rprop.State:
    return x.state(rprop, lr="positive")


def clamp(ctx, value, state):
    return ctx.minimum(ctx.maximum(value, state.step_size_min), state.step_size_max)


def sign_case(x: Given, relation, eta, moves: bool):
    """Under ``relation(g · prev, 0)`` (entrywise): the step size becomes clamp(step_size · η)
    (η = ``eta(state)``, or none), and p′, prev′ are p − sign(g) · step_size′, g where Rprop
    ``moves``, p, 0 where it waits (a flipped sign)."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    x.assume(relation(grads.entry * state.prev.entry, 0))
    ctx = context_of(params)
    new, new_params = rprop.update(state, params, grads)
    step = clamp(ctx, state.step_size if eta is None else state.step_size * eta(state), state)
    expected = (params - ctx.sign(grads) * step, grads) if moves else (params, ctx.zeros_like(grads))
    return equation((new.step_size, new_params, new.prev), (step, *expected))


@theorem("Optim.Rprop.update_same_sign_eq",
         statement="g · prev > 0 ⟹ step_size′ = clamp(step_size · η+), p′ = p − sign(g) · step_size′, prev′ = g")
def update_same_sign_eq(x: Given):
    """When the gradient keeps its sign, Rprop grows the step by η+ and moves against the gradient."""
    return sign_case(x, sympy.Gt, lambda s: s.etaplus, moves=True)


@theorem("Optim.Rprop.update_flipped_sign_eq",
         statement="g · prev < 0 ⟹ step_size′ = clamp(step_size · η−), p′ = p, prev′ = 0")
def update_flipped_sign_eq(x: Given):
    """When the gradient flips sign, Rprop shrinks the step by η−, does not move, and forgets g."""
    return sign_case(x, sympy.Lt, lambda s: s.etaminus, moves=False)


@theorem("Optim.Rprop.update_zero_product_eq",
         statement="g · prev = 0 ⟹ step_size′ = clamp(step_size), p′ = p − sign(g) · step_size′, prev′ = g")
def update_zero_product_eq(x: Given):
    """When g · prev = 0 (a first step, or a zero gradient), the step size is kept (clamped)."""
    return sign_case(x, sympy.Eq, None, moves=True)


time_eq("Rprop", rprop, arbitrary_state, module=__name__)
