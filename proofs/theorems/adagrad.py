"""Theorems about ``optim.adagrad`` (torch.optim.Adagrad)."""
from optim import adagrad
from optim.context import context_of
from proofs.harness import Given, equation, theorem


def arbitrary_state(x: Given) -> adagrad.State:
    return x.state(adagrad)


@theorem("Optim.Adagrad.update_time_eq", statement="(update s p g).state.t = s.t + 1")
def update_time_eq(x: Given):
    """Adagrad counts its steps one at a time."""
    state = arbitrary_state(x)
    return equation(adagrad.update(state, x.tensor("params"), x.tensor("grads"))[0].t, state.t + 1)


@theorem("Optim.Adagrad.update_sum_eq", statement="(update s p g).state.sum = s.sum + (g + λ·p)²")
def update_sum_eq(x: Given):
    """Adagrad's accumulator adds the square of the (L2-decayed) gradient."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    g = grads + state.weight_decay * params
    return equation(adagrad.update(state, params, grads)[0].sum, state.sum + g * g)


@theorem("Optim.Adagrad.update_params_eq",
         statement="(update s p g).params = p − lr / (1 + s.t · lr_decay) · g̃ / (√sum′ + ε),  g̃ = g + λ·p")
def update_params_eq(x: Given):
    """Adagrad divides a decaying learning rate by the root of the accumulated squares (Duchi et al. 2011)."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    new_state, new_params = adagrad.update(state, params, grads)
    g = grads + state.weight_decay * params
    sqrt = context_of(params).sqrt
    reference = params - state.lr / (1 + state.t * state.lr_decay) * g / (sqrt(new_state.sum) + state.epsilon)
    return equation(new_params, reference)
