"""Theorems about ``optim.adadelta`` (TorchLean ``Optim.Adadelta``)."""
from optim import adadelta
from optim.context import context_of
from proofs.harness import Given, equation, theorem
from proofs.theorems._common import time_eq, update


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
    u = update(x, adadelta, arbitrary_state(x), grads_first=True)
    return equation(u.new.v, u.state.v * u.state.rho + u.grads * u.grads * (1 - u.state.rho))


@theorem("Optim.Adadelta.update_u_eq", statement="(update s p g).state.u = s.u · ρ + δ² · (1 − ρ)")
def update_u_eq(x: Given):
    """Adadelta's update accumulator is the EMA of δ², with δ taken before the learning rate."""
    u = update(x, adadelta, arbitrary_state(x), grads_first=True)
    delta = reference_delta(u.state, u.new, u.grads)
    return equation(u.new.u, u.state.u * u.state.rho + delta * delta * (1 - u.state.rho))


@theorem("Optim.Adadelta.update_params_eq", statement="(update s p g).params = p − lr · δ")
def update_params_eq(x: Given):
    """Adadelta moves the parameters by lr times δ."""
    u = update(x, adadelta, arbitrary_state(x))
    return equation(u.new_params, u.params - u.state.lr * reference_delta(u.state, u.new, u.grads))


time_eq("Adadelta", adadelta, arbitrary_state, module=__name__)
