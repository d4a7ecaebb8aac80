"""Theorems about ``optim.adagrad`` (torch.optim.Adagrad)."""
from optim import adagrad
from optim.context import context_of
from proofs.harness import Given, equation, theorem
from proofs.theorems._common import time_eq, update


def arbitrary_state(x: Given) -> adagrad.State:
    return x.state(adagrad)


time_eq("Adagrad", adagrad, arbitrary_state, "Adagrad counts its steps one at a time.", module=__name__)


@theorem("Optim.Adagrad.update_sum_eq", statement="(update s p g).state.sum = s.sum + (g + λ·p)²")
def update_sum_eq(x: Given):
    """Adagrad's accumulator adds the square of the (L2-decayed) gradient."""
    u = update(x, adagrad, arbitrary_state(x))
    return equation(u.new.sum, u.state.sum + u.decayed_grads * u.decayed_grads)


@theorem("Optim.Adagrad.update_params_eq",
         statement="(update s p g).params = p − lr / (1 + s.t · lr_decay) · g̃ / (√sum′ + ε),  g̃ = g + λ·p")
def update_params_eq(x: Given):
    """Adagrad divides a decaying learning rate by the root of the accumulated squares (Duchi et al. 2011)."""
    u = update(x, adagrad, arbitrary_state(x))
    s, sqrt = u.state, context_of(u.params).sqrt
    reference = u.params - s.lr / (1 + s.t * s.lr_decay) * u.decayed_grads / (sqrt(u.new.sum) + s.epsilon)
    return equation(u.new_params, reference)
