"""Theorems about ``optim.sgd`` (TorchLean ``Optim.SGD``, with torch.optim.SGD's options)."""
import sympy

from optim import momentum_sgd, sgd
from proofs.harness import Given, equation, theorem


@theorem("Optim.SGD.update_eq", statement="(update s p g).params = p − g · s.lr")
def update_eq(x: Given):
    """SGD is definitionally p - lr * g."""
    state = sgd.State(lr=x.real("lr"))
    params, grads = x.tensor("params"), x.tensor("grads")
    _, new_params = sgd.update(state, params, grads)
    return equation(new_params, params - grads * state.lr)  # reference: the seed's equation


def momentum_state(x: Given, *, first_step: bool, nesterov: bool = False, maximize: bool = False):
    """Any torch SGD state with momentum μ, dampening τ, weight decay λ (τ = 0 with nesterov)."""
    return x.state(sgd, lr="real", momentum="positive", dampening=0 if nesterov else "real",
                   nesterov=nesterov, maximize=maximize, buf=None if first_step else "real")


@theorem("Optim.SGD.update_weight_decay_params_eq",
         statement="momentum = 0 ⟹ (update s p g).params = p − lr · (g + λ · p)")
def update_weight_decay_params_eq(x: Given):
    """Without momentum, SGD with weight decay λ steps along the L2-penalised gradient g + λ·p."""
    state = sgd.State(lr=x.real("lr"), weight_decay=x.nonnegative("weight_decay"))
    params, grads = x.tensor("params"), x.tensor("grads")
    _, new_params = sgd.update(state, params, grads)
    return equation(new_params, params - state.lr * (grads + state.weight_decay * params))


@theorem("Optim.SGD.update_first_buffer_eq",
         statement="s.buf = none ⟹ (update s p g).state.buf = g + λ · p   (no dampening on the first step)")
def update_first_buffer_eq(x: Given):
    """On the first momentum step torch copies the (decayed) gradient into the buffer, undampened."""
    state = momentum_state(x, first_step=True)
    params, grads = x.tensor("params"), x.tensor("grads")
    new_state, _ = sgd.update(state, params, grads)
    return equation(new_state.buf, grads + state.weight_decay * params)


@theorem("Optim.SGD.update_buffer_eq",
         statement="(update s p g).state.buf = μ · s.buf + (1 − τ) · (g + λ · p)")
def update_buffer_eq(x: Given):
    """After the first step the buffer is μ·buf plus the dampened, decayed gradient."""
    state = momentum_state(x, first_step=False)
    params, grads = x.tensor("params"), x.tensor("grads")
    new_state, _ = sgd.update(state, params, grads)
    return equation(new_state.buf, state.momentum * state.buf
                    + (1 - state.dampening) * (grads + state.weight_decay * params))


@theorem("Optim.SGD.update_momentum_params_eq", statement="(update s p g).params = p − lr · buf′")
def update_momentum_params_eq(x: Given):
    """With momentum (no nesterov), SGD moves along the freshly updated buffer."""
    state = momentum_state(x, first_step=False)
    params = x.tensor("params")
    new_state, new_params = sgd.update(state, params, x.tensor("grads"))
    return equation(new_params, params - state.lr * new_state.buf)


@theorem("Optim.SGD.update_nesterov_params_eq",
         statement="nesterov ⟹ (update s p g).params = p − lr · ((g + λ·p) + μ · buf′)")
def update_nesterov_params_eq(x: Given):
    """With nesterov, SGD moves along the gradient plus μ times the updated buffer."""
    state = momentum_state(x, first_step=False, nesterov=True)
    params, grads = x.tensor("params"), x.tensor("grads")
    new_state, new_params = sgd.update(state, params, grads)
    g = grads + state.weight_decay * params
    return equation(new_params, params - state.lr * (g + state.momentum * new_state.buf))


@theorem("Optim.SGD.update_maximize_params_eq",
         statement="maximize ⟹ (update s p g).params = p + lr · g")
def update_maximize_params_eq(x: Given):
    """With maximize, SGD ascends: p + lr·g."""
    state = sgd.State(lr=x.real("lr"), maximize=True)
    params, grads = x.tensor("params"), x.tensor("grads")
    return equation(sgd.update(state, params, grads)[1], params + state.lr * grads)


@theorem("Optim.SGD.update_weight_decay_zero_eq_seed",
         statement="λ = 0, maximize = false ⟹ (torch SGD s p g).params = (seed SGD {lr} p g).params")
def update_weight_decay_zero_eq_seed(x: Given):
    """torch's SGD with weight_decay = 0 and maximize = False is the seed's SGD."""
    state = sgd.State(lr=x.real("lr"), weight_decay=x.nonnegative("weight_decay"), maximize=False)
    x.assume(sympy.Eq(state.weight_decay, 0))
    params, grads = x.tensor("params"), x.tensor("grads")
    _, torch_params = sgd.update(state, params, grads)
    _, seed_params = sgd.update(sgd.State(lr=state.lr), params, grads)
    return equation(torch_params, seed_params)


@theorem("Optim.SGD.update_momentum_eq_momentum_sgd",
         statement="τ = 0, λ = 0 ⟹ (SGD.update s p g) = (MomentumSGD.update {lr, momentum, buf} p g)")
def update_momentum_eq_momentum_sgd(x: Given):
    """torch's SGD with momentum, no dampening and no decay is the seed's MomentumSGD (buffer and params)."""
    state = momentum_state(x, first_step=False)
    x.assume(sympy.Eq(state.dampening, 0), sympy.Eq(state.weight_decay, 0))
    params, grads = x.tensor("params"), x.tensor("grads")
    torch_state, torch_params = sgd.update(state, params, grads)
    seed = momentum_sgd.State(lr=state.lr, momentum=state.momentum, buf=state.buf)
    seed_state, seed_params = momentum_sgd.update(seed, params, grads)
    return equation((torch_state.buf, torch_params), (seed_state.buf, seed_params))
