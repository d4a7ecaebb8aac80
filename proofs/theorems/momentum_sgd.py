"""Theorems about ``optim.momentum_sgd`` (TorchLean ``Optim.MomentumSGD``)."""
import sympy

from optim import momentum_sgd, sgd
from proofs.harness import Given, equation, theorem
from proofs.theorems._common import update


def arbitrary_state(x: Given) -> momentum_sgd.State:
    return x.state(momentum_sgd, lr="real", momentum="real")


@theorem("Optim.MomentumSGD.update_buffer_eq",
         statement="(update s p g).state.buf = s.buf · s.momentum + g")
def update_buffer_eq(x: Given):
    """Momentum SGD updates its buffer to momentum * old_buffer + gradient."""
    u = update(x, momentum_sgd, arbitrary_state(x))
    return equation(u.new.buf, u.state.buf * u.state.momentum + u.grads)  # reference: the seed


@theorem("Optim.MomentumSGD.update_params_eq",
         statement="(update s p g).params = p − (s.buf · s.momentum + g) · s.lr")
def update_params_eq(x: Given):
    """Momentum SGD updates parameters using the freshly updated buffer."""
    u = update(x, momentum_sgd, arbitrary_state(x))
    return equation(u.new_params, u.params - (u.state.buf * u.state.momentum + u.grads) * u.state.lr)


@theorem("Optim.MomentumSGD.update_momentum_zero_params_eq_sgd",
         statement="s.momentum = 0 ⟹ (MomentumSGD.update s p g).params = (SGD.update {lr := s.lr} p g).params")
def update_momentum_zero_params_eq_sgd(x: Given):
    """With momentum 0, Momentum SGD takes exactly SGD's step, whatever its buffer holds."""
    state = arbitrary_state(x)
    x.assume(sympy.Eq(state.momentum, 0))
    u = update(x, momentum_sgd, state)
    _, sgd_params = sgd.update(sgd.State(lr=state.lr), u.params, u.grads)
    return equation(u.new_params, sgd_params)
