"""Theorems about ``optim.momentum_sgd`` (TorchLean ``Optim.MomentumSGD``)."""
import sympy

from optim import momentum_sgd, sgd
from proofs.harness import Given, equation, theorem


def arbitrary_state(x: Given) -> momentum_sgd.State:
    return x.state(momentum_sgd, lr="real", momentum="real")


@theorem("Optim.MomentumSGD.update_buffer_eq",
         statement="(update s p g).state.buf = s.buf · s.momentum + g")
def update_buffer_eq(x: Given):
    """Momentum SGD updates its buffer to momentum * old_buffer + gradient."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    new_state, _ = momentum_sgd.update(state, params, grads)
    return equation(new_state.buf, state.buf * state.momentum + grads)  # reference: the seed


@theorem("Optim.MomentumSGD.update_params_eq",
         statement="(update s p g).params = p − (s.buf · s.momentum + g) · s.lr")
def update_params_eq(x: Given):
    """Momentum SGD updates parameters using the freshly updated buffer."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    _, new_params = momentum_sgd.update(state, params, grads)
    return equation(new_params, params - (state.buf * state.momentum + grads) * state.lr)


@theorem("Optim.MomentumSGD.update_momentum_zero_params_eq_sgd",
         statement="s.momentum = 0 ⟹ (MomentumSGD.update s p g).params = (SGD.update {lr := s.lr} p g).params")
def update_momentum_zero_params_eq_sgd(x: Given):
    """With momentum 0, Momentum SGD takes exactly SGD's step, whatever its buffer holds."""
    state = arbitrary_state(x)
    x.assume(sympy.Eq(state.momentum, 0))
    params, grads = x.tensor("params"), x.tensor("grads")
    _, momentum_params = momentum_sgd.update(state, params, grads)
    _, sgd_params = sgd.update(sgd.State(lr=state.lr), params, grads)
    return equation(momentum_params, sgd_params)
