"""Theorems about ``optim.rmsprop`` (torch.optim.RMSprop): plain, centered, with momentum."""
import sympy

from optim import rmsprop
from optim.context import context_of
from proofs.harness import Given, equation, theorem
from proofs.theorems._common import time_eq, update


def arbitrary_state(x: Given, *, centered: bool, momentum: bool) -> rmsprop.State:
    """Any RMSprop state (its declared domains); with momentum, μ > 0 and its buffer."""
    return x.state(rmsprop, momentum="positive" if momentum else 0.0, centered=centered)


@theorem("Optim.RMSprop.update_square_avg_eq", statement="(update s p g).state.square_avg = α · s.square_avg + (1 − α) · g̃²")
def update_square_avg_eq(x: Given):
    """RMSprop's square average is the EMA of the squared (decayed) gradient."""
    u = update(x, rmsprop, arbitrary_state(x, centered=False, momentum=False))
    g = u.decayed_grads
    return equation(u.new.square_avg, u.state.alpha * u.state.square_avg + (1 - u.state.alpha) * g * g)


def normalised(u, denominator_squared):
    """Reference: g̃ / (√d + ε), the decayed gradient over the root of ``denominator_squared``."""
    return u.decayed_grads / (context_of(u.params).sqrt(denominator_squared) + u.state.epsilon)


@theorem("Optim.RMSprop.update_params_eq", statement="(update s p g).params = p − lr · g̃ / (√square_avg′ + ε)")
def update_params_eq(x: Given):
    """Plain RMSprop divides the gradient by the root of its square average."""
    u = update(x, rmsprop, arbitrary_state(x, centered=False, momentum=False))
    return equation(u.new_params, u.params - u.state.lr * normalised(u, u.new.square_avg))


@theorem("Optim.RMSprop.update_centered_grad_avg_eq",
         statement="centered ⟹ (update s p g).state.grad_avg = α · s.grad_avg + (1 − α) · g̃")
def update_centered_grad_avg_eq(x: Given):
    """Centered RMSprop also keeps the EMA of the gradient (Graves 2013)."""
    u = update(x, rmsprop, arbitrary_state(x, centered=True, momentum=False))
    return equation(u.new.grad_avg, u.state.alpha * u.state.grad_avg + (1 - u.state.alpha) * u.decayed_grads)


@theorem("Optim.RMSprop.update_centered_params_eq",
         statement="centered, square_avg′ − grad_avg′² ≥ 0 ⟹ (update s p g).params = p − lr · g̃ / (√(square_avg′ − grad_avg′²) + ε)")
def update_centered_params_eq(x: Given):
    """Centered RMSprop normalises by the root of the estimated variance."""
    u = update(x, rmsprop, arbitrary_state(x, centered=True, momentum=False))
    variance = u.new.square_avg - u.new.grad_avg * u.new.grad_avg
    x.assume(sympy.Ge(variance.entry, 0))  # the variance estimate is a variance (definedness)
    return equation(u.new_params, u.params - u.state.lr * normalised(u, variance))


@theorem("Optim.RMSprop.update_momentum_buffer_eq",
         statement="momentum μ ⟹ (update s p g).state.momentum_buffer = μ · buf + g̃ / (√square_avg′ + ε)")
def update_momentum_buffer_eq(x: Given):
    """With momentum, RMSprop accumulates the normalised gradient in a buffer."""
    u = update(x, rmsprop, arbitrary_state(x, centered=False, momentum=True))
    return equation(u.new.momentum_buffer,
                    u.state.momentum * u.state.momentum_buffer + normalised(u, u.new.square_avg))


@theorem("Optim.RMSprop.update_momentum_params_eq", statement="momentum μ ⟹ (update s p g).params = p − lr · buf′")
def update_momentum_params_eq(x: Given):
    """With momentum, RMSprop moves along the updated buffer."""
    u = update(x, rmsprop, arbitrary_state(x, centered=False, momentum=True))
    return equation(u.new_params, u.params - u.state.lr * u.new.momentum_buffer)


time_eq("RMSprop", rmsprop, lambda x: arbitrary_state(x, centered=True, momentum=True), module=__name__,
        doc="RMSprop counts its steps: the counter goes up by exactly one every step (torch's ``step``;\n"
            "centered with momentum, the path that passes through every branch).")
