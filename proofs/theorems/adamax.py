"""Theorems about ``optim.adamax`` (Kingma & Ba 2015, Algorithm 2; torch.optim.Adamax)."""
from optim import adamax
from optim.context import context_of
from proofs.harness import Given, equation, theorem
from proofs.theorems._common import decayed_ema_eq, time_eq, update


def arbitrary_state(x: Given) -> adamax.State:
    return x.state(adamax)


decayed_ema_eq("Adamax", adamax, arbitrary_state, module=__name__, second=False,
               statement="(update s p g).state.m = β1 · m + (1 − β1) · g̃",
               doc="Adamax's first moment is Adam's EMA of the (decayed) gradient.")


@theorem("Optim.Adamax.update_u_eq", statement="(update s p g).state.u = max(β2 · u, |g̃| + ε)")
def update_u_eq(x: Given):
    """Adamax's infinity norm is the max of the decayed norm and the new |g| (plus torch's ε)."""
    u = update(x, adamax, arbitrary_state(x))
    ctx = context_of(u.params)
    return equation(u.new.u, ctx.maximum(u.state.beta2 * u.state.u, ctx.abs(u.decayed_grads) + u.state.epsilon))


@theorem("Optim.Adamax.update_params_eq", statement="(update s p g).params = p − lr / (1 − β1ᵗ′) · m′ / u′")
def update_params_eq(x: Given):
    """Adamax steps by the bias-corrected first moment over the infinity norm."""
    u = update(x, adamax, arbitrary_state(x))
    return equation(u.new_params, u.params - u.state.lr / (1 - u.state.beta1**u.new.t) * u.new.m / u.new.u)


time_eq("Adamax", adamax, arbitrary_state, module=__name__)
