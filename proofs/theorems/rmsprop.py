"""Theorems about ``optim.rmsprop`` (torch.optim.RMSprop): plain, centered, with momentum."""
import sympy

from optim import rmsprop
from optim.context import context_of
from proofs.harness import Given, equation, theorem


def arbitrary_state(x: Given, *, centered: bool, momentum: bool) -> rmsprop.State:
    """Any RMSprop state (its declared domains); with momentum, μ > 0 and its buffer."""
    return x.state(rmsprop, momentum="positive" if momentum else 0.0, centered=centered)


def decayed(state, params, grads):
    return grads + state.weight_decay * params


@theorem("Optim.RMSprop.update_square_avg_eq", statement="(update s p g).state.square_avg = α · s.square_avg + (1 − α) · g̃²")
def update_square_avg_eq(x: Given):
    """RMSprop's square average is the EMA of the squared (decayed) gradient."""
    state = arbitrary_state(x, centered=False, momentum=False)
    params, grads = x.tensor("params"), x.tensor("grads")
    g = decayed(state, params, grads)
    new_state, _ = rmsprop.update(state, params, grads)
    return equation(new_state.square_avg, state.alpha * state.square_avg + (1 - state.alpha) * g * g)


@theorem("Optim.RMSprop.update_params_eq", statement="(update s p g).params = p − lr · g̃ / (√square_avg′ + ε)")
def update_params_eq(x: Given):
    """Plain RMSprop divides the gradient by the root of its square average."""
    state = arbitrary_state(x, centered=False, momentum=False)
    params, grads = x.tensor("params"), x.tensor("grads")
    new_state, new_params = rmsprop.update(state, params, grads)
    sqrt = context_of(params).sqrt
    return equation(new_params, params - state.lr * decayed(state, params, grads)
                    / (sqrt(new_state.square_avg) + state.epsilon))


@theorem("Optim.RMSprop.update_centered_grad_avg_eq",
         statement="centered ⟹ (update s p g).state.grad_avg = α · s.grad_avg + (1 − α) · g̃")
def update_centered_grad_avg_eq(x: Given):
    """Centered RMSprop also keeps the EMA of the gradient (Graves 2013)."""
    state = arbitrary_state(x, centered=True, momentum=False)
    params, grads = x.tensor("params"), x.tensor("grads")
    new_state, _ = rmsprop.update(state, params, grads)
    return equation(new_state.grad_avg, state.alpha * state.grad_avg
                    + (1 - state.alpha) * decayed(state, params, grads))


@theorem("Optim.RMSprop.update_centered_params_eq",
         statement="centered, square_avg′ − grad_avg′² ≥ 0 ⟹ (update s p g).params = p − lr · g̃ / (√(square_avg′ − grad_avg′²) + ε)")
def update_centered_params_eq(x: Given):
    """Centered RMSprop normalises by the root of the estimated variance."""
    state = arbitrary_state(x, centered=True, momentum=False)
    params, grads = x.tensor("params"), x.tensor("grads")
    new_state, new_params = rmsprop.update(state, params, grads)
    variance = new_state.square_avg - new_state.grad_avg * new_state.grad_avg
    x.assume(sympy.Ge(variance.entry, 0))  # the variance estimate is a variance (definedness)
    sqrt = context_of(params).sqrt
    return equation(new_params, params - state.lr * decayed(state, params, grads) / (sqrt(variance) + state.epsilon))


@theorem("Optim.RMSprop.update_momentum_buffer_eq",
         statement="momentum μ ⟹ (update s p g).state.momentum_buffer = μ · buf + g̃ / (√square_avg′ + ε)")
def update_momentum_buffer_eq(x: Given):
    """With momentum, RMSprop accumulates the normalised gradient in a buffer."""
    state = arbitrary_state(x, centered=False, momentum=True)
    params, grads = x.tensor("params"), x.tensor("grads")
    new_state, _ = rmsprop.update(state, params, grads)
    sqrt = context_of(params).sqrt
    return equation(new_state.momentum_buffer, state.momentum * state.momentum_buffer
                    + decayed(state, params, grads) / (sqrt(new_state.square_avg) + state.epsilon))


@theorem("Optim.RMSprop.update_momentum_params_eq", statement="momentum μ ⟹ (update s p g).params = p − lr · buf′")
def update_momentum_params_eq(x: Given):
    """With momentum, RMSprop moves along the updated buffer."""
    state = arbitrary_state(x, centered=False, momentum=True)
    params = x.tensor("params")
    new_state, new_params = rmsprop.update(state, params, x.tensor("grads"))
    return equation(new_params, params - state.lr * new_state.momentum_buffer)


@theorem("Optim.RMSprop.update_time_eq", statement="(update s p g).state.t = s.t + 1")
def update_time_eq(x: Given):
    """RMSprop counts its steps: the counter goes up by exactly one every step (torch's ``step``;
    centered with momentum, the path that passes through every branch)."""
    state = arbitrary_state(x, centered=True, momentum=True)
    new_state, _ = rmsprop.update(state, x.tensor("params"), x.tensor("grads"))
    return equation(new_state.t, state.t + 1)
