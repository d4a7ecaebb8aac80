"""Theorems about ``optim.sgd`` (TorchLean ``Optim.SGD``, with torch.optim.SGD's options)."""
import sympy

from optim import momentum_sgd, sgd
from proofs.harness import Given, equation, theorem
from proofs.theorems._common import update


@theorem("Optim.SGD.update_eq", statement="(update s p g).params = p − g · s.lr")
def update_eq(x: Given):
    """SGD is definitionally p - lr * g."""
    u = update(x, sgd, sgd.State(lr=x.real("lr")))
    return equation(u.new_params, u.params - u.grads * u.state.lr)  # reference: the seed's equation


def momentum_state(x: Given, *, first_step: bool, nesterov: bool = False, maximize: bool = False):
    """Any torch SGD state with momentum μ, dampening τ, weight decay λ (τ = 0 with nesterov)."""
    return x.state(sgd, lr="real", momentum="positive", dampening=0 if nesterov else "real",
                   nesterov=nesterov, maximize=maximize, buf=None if first_step else "real")


@theorem("Optim.SGD.update_weight_decay_params_eq",
         statement="momentum = 0 ⟹ (update s p g).params = p − lr · (g + λ · p)")
def update_weight_decay_params_eq(x: Given):
    """Without momentum, SGD with weight decay λ steps along the L2-penalised gradient g + λ·p."""
    u = update(x, sgd, sgd.State(lr=x.real("lr"), weight_decay=x.nonnegative("weight_decay")))
    return equation(u.new_params, u.params - u.state.lr * u.decayed_grads)


@theorem("Optim.SGD.update_first_buffer_eq",
         statement="s.buf = none ⟹ (update s p g).state.buf = g + λ · p   (no dampening on the first step)")
def update_first_buffer_eq(x: Given):
    """On the first momentum step torch copies the (decayed) gradient into the buffer, undampened."""
    u = update(x, sgd, momentum_state(x, first_step=True))
    return equation(u.new.buf, u.decayed_grads)


@theorem("Optim.SGD.update_buffer_eq",
         statement="(update s p g).state.buf = μ · s.buf + (1 − τ) · (g + λ · p)")
def update_buffer_eq(x: Given):
    """After the first step the buffer is μ·buf plus the dampened, decayed gradient."""
    u = update(x, sgd, momentum_state(x, first_step=False))
    return equation(u.new.buf, u.state.momentum * u.state.buf + (1 - u.state.dampening) * u.decayed_grads)


@theorem("Optim.SGD.update_momentum_params_eq", statement="(update s p g).params = p − lr · buf′")
def update_momentum_params_eq(x: Given):
    """With momentum (no nesterov), SGD moves along the freshly updated buffer."""
    u = update(x, sgd, momentum_state(x, first_step=False))
    return equation(u.new_params, u.params - u.state.lr * u.new.buf)


@theorem("Optim.SGD.update_nesterov_params_eq",
         statement="nesterov ⟹ (update s p g).params = p − lr · ((g + λ·p) + μ · buf′)")
def update_nesterov_params_eq(x: Given):
    """With nesterov, SGD moves along the gradient plus μ times the updated buffer."""
    u = update(x, sgd, momentum_state(x, first_step=False, nesterov=True))
    return equation(u.new_params, u.params - u.state.lr * (u.decayed_grads + u.state.momentum * u.new.buf))


@theorem("Optim.SGD.update_maximize_params_eq",
         statement="maximize ⟹ (update s p g).params = p + lr · g")
def update_maximize_params_eq(x: Given):
    """With maximize, SGD ascends: p + lr·g."""
    u = update(x, sgd, sgd.State(lr=x.real("lr"), maximize=True))
    return equation(u.new_params, u.params + u.state.lr * u.grads)


@theorem("Optim.SGD.update_weight_decay_zero_eq_seed",
         statement="λ = 0, maximize = false ⟹ (torch SGD s p g).params = (seed SGD {lr} p g).params")
def update_weight_decay_zero_eq_seed(x: Given):
    """torch's SGD with weight_decay = 0 and maximize = False is the seed's SGD."""
    state = sgd.State(lr=x.real("lr"), weight_decay=x.nonnegative("weight_decay"), maximize=False)
    x.assume(sympy.Eq(state.weight_decay, 0))
    u = update(x, sgd, state)
    _, seed_params = sgd.update(sgd.State(lr=state.lr), u.params, u.grads)
    return equation(u.new_params, seed_params)


@theorem("Optim.SGD.update_momentum_eq_momentum_sgd",
         statement="τ = 0, λ = 0 ⟹ (SGD.update s p g) = (MomentumSGD.update {lr, momentum, buf} p g)")
def update_momentum_eq_momentum_sgd(x: Given):
    """torch's SGD with momentum, no dampening and no decay is the seed's MomentumSGD (buffer and params)."""
    state = momentum_state(x, first_step=False)
    x.assume(sympy.Eq(state.dampening, 0), sympy.Eq(state.weight_decay, 0))
    u = update(x, sgd, state)
    seed = momentum_sgd.State(lr=state.lr, momentum=state.momentum, buf=state.buf)
    seed_state, seed_params = momentum_sgd.update(seed, u.params, u.grads)
    return equation((u.new.buf, u.new_params), (seed_state.buf, seed_params))
