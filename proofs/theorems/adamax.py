"""Theorems about ``optim.adamax`` (Kingma & Ba 2015, Algorithm 2; torch.optim.Adamax)."""
from optim import adamax
from optim.context import context_of
from proofs.harness import Given, equation, theorem


def arbitrary_state(x: Given) -> adamax.State:
    return x.state(adamax)


@theorem("Optim.Adamax.update_m_eq", statement="(update s p g).state.m = β1 · m + (1 − β1) · g̃")
def update_m_eq(x: Given):
    """Adamax's first moment is Adam's EMA of the (decayed) gradient."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    g = grads + state.weight_decay * params
    return equation(adamax.update(state, params, grads)[0].m, state.beta1 * state.m + (1 - state.beta1) * g)


@theorem("Optim.Adamax.update_u_eq", statement="(update s p g).state.u = max(β2 · u, |g̃| + ε)")
def update_u_eq(x: Given):
    """Adamax's infinity norm is the max of the decayed norm and the new |g| (plus torch's ε)."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    ctx = context_of(params)
    g = grads + state.weight_decay * params
    return equation(adamax.update(state, params, grads)[0].u,
                    ctx.maximum(state.beta2 * state.u, ctx.abs(g) + state.epsilon))


@theorem("Optim.Adamax.update_params_eq", statement="(update s p g).params = p − lr / (1 − β1ᵗ′) · m′ / u′")
def update_params_eq(x: Given):
    """Adamax steps by the bias-corrected first moment over the infinity norm."""
    state = arbitrary_state(x)
    params = x.tensor("params")
    new, new_params = adamax.update(state, params, x.tensor("grads"))
    return equation(new_params, params - state.lr / (1 - state.beta1**new.t) * new.m / new.u)


@theorem("Optim.Adamax.update_time_eq", statement="(update s p g).state.t = s.t + 1")
def update_time_eq(x: Given):
    """Adamax counts its steps: the counter goes up by exactly one every step (torch's ``step``)."""
    state = arbitrary_state(x)
    new_state, _ = adamax.update(state, x.tensor("params"), x.tensor("grads"))
    return equation(new_state.t, state.t + 1)
