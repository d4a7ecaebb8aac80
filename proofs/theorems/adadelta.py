"""Theorems about ``optim.adadelta`` (TorchLean ``Optim.Adadelta``)."""
from optim import adadelta
from optim.context import context_of
from proofs.harness import Given, equation, theorem


def arbitrary_state(x: Given) -> adadelta.State:
    """Any state torch.optim.Adadelta accepts (its declared domains: ε > 0 so that δ is defined),
    at step 0, without weight decay."""
    return x.state(adadelta, weight_decay=0.0, t=0)


def reference_delta(state, new_state, grads):
    """Reference (Zeiler 2012, Algorithm 1): δ = √(u + ε) / √(v′ + ε) · g, with the new v′."""
    sqrt = context_of(grads).sqrt
    return sqrt(state.u + state.epsilon) / sqrt(new_state.v + state.epsilon) * grads


@theorem("Optim.Adadelta.update_v_eq", statement="(update s p g).state.v = s.v · ρ + g² · (1 − ρ)")
def update_v_eq(x: Given):
    """Adadelta's gradient accumulator follows the documented EMA equation."""
    state = arbitrary_state(x)
    grads = x.tensor("grads")
    new_state, _ = adadelta.update(state, x.tensor("params"), grads)
    return equation(new_state.v, state.v * state.rho + grads * grads * (1 - state.rho))


@theorem("Optim.Adadelta.update_u_eq", statement="(update s p g).state.u = s.u · ρ + δ² · (1 − ρ)")
def update_u_eq(x: Given):
    """Adadelta's update accumulator is the EMA of δ², with δ taken before the learning rate."""
    state = arbitrary_state(x)
    grads = x.tensor("grads")
    new_state, _ = adadelta.update(state, x.tensor("params"), grads)
    delta = reference_delta(state, new_state, grads)
    return equation(new_state.u, state.u * state.rho + delta * delta * (1 - state.rho))


@theorem("Optim.Adadelta.update_params_eq", statement="(update s p g).params = p − lr · δ")
def update_params_eq(x: Given):
    """Adadelta moves the parameters by lr times δ."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    new_state, new_params = adadelta.update(state, params, grads)
    return equation(new_params, params - state.lr * reference_delta(state, new_state, grads))


@theorem("Optim.Adadelta.update_time_eq", statement="(update s p g).state.t = s.t + 1")
def update_time_eq(x: Given):
    """Adadelta counts its steps: the counter goes up by exactly one every step (torch's ``step``)."""
    state = arbitrary_state(x)
    new_state, _ = adadelta.update(state, x.tensor("params"), x.tensor("grads"))
    return equation(new_state.t, state.t + 1)
