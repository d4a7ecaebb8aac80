"""Theorems about ``optim.nadam`` (Dozat 2016; torch.optim.NAdam)."""
from optim import nadam
from optim.context import context_of
from proofs.harness import Given, equation, theorem


def arbitrary_state(x: Given, decoupled: bool = False) -> nadam.State:
    return x.state(nadam, decoupled_weight_decay=decoupled)


def mu(state, t):
    """Reference (Dozat 2016, with torch's schedule): μ_t = β1 · (1 − ½ · 0.96^(t·ψ))."""
    return state.beta1 * (1 - 0.5 * 0.96 ** (t * state.momentum_decay))


@theorem("Optim.NAdam.update_mu_product_eq", statement="(update s p g).state.mu_product = s.mu_product · μ_{t+1}")
def update_mu_product_eq(x: Given):
    """NAdam's momentum product gains one factor μ_t per step (exactly, over ℝ)."""
    state = arbitrary_state(x)
    new, _ = nadam.update(state, x.tensor("params"), x.tensor("grads"))
    return equation(new.mu_product, state.mu_product * mu(state, state.t + 1))


@theorem("Optim.NAdam.update_m_eq", statement="(update s p g).state.m = β1 · m + (1 − β1) · (g + λ·p)")
def update_m_eq(x: Given):
    """NAdam's first moment is the EMA of the L2-decayed gradient."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    g = grads + state.weight_decay * params
    return equation(nadam.update(state, params, grads)[0].m, state.beta1 * state.m + (1 - state.beta1) * g)


def reference_params(state, new, params, g):
    """Reference (Dozat 2016, Algorithm 2 with torch's ε):
    p − lr·(1 − μ_t)/(1 − Πμ) · g/d − lr·μ_{t+1}/(1 − Πμ·μ_{t+1}) · m/d,  d = √(v/(1 − β2ᵗ)) + ε."""
    sqrt = context_of(params).sqrt
    mu_t, mu_next = mu(state, new.t), mu(state, new.t + 1)
    d = sqrt(new.v / (1 - state.beta2**new.t)) + state.epsilon
    return (params - state.lr * (1 - mu_t) / (1 - new.mu_product) * g / d
            - state.lr * mu_next / (1 - new.mu_product * mu_next) * new.m / d)


@theorem("Optim.NAdam.update_params_eq", statement="(update s p g).params = Dozat's NAdam step (see docstring of the reference)")
def update_params_eq(x: Given):
    """NAdam's parameter step is Dozat's Nesterov-accelerated Adam step, with L2 weight decay."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    new, new_params = nadam.update(state, params, grads)
    x.assume(*_definedness(state, new))
    return equation(new_params, reference_params(state, new, params, grads + state.weight_decay * params))


@theorem("Optim.NAdam.update_decoupled_params_eq", statement="decoupled ⟹ the same step from p·(1 − lr·λ), on g")
def update_decoupled_params_eq(x: Given):
    """With decoupled weight decay, NAdam decays p first and steps on the raw gradient."""
    state = arbitrary_state(x, decoupled=True)
    params, grads = x.tensor("params"), x.tensor("grads")
    new, new_params = nadam.update(state, params, grads)
    x.assume(*_definedness(state, new))
    decayed = params * (1 - state.lr * state.weight_decay)
    return equation(new_params, reference_params(state, new, decayed, grads))


def _definedness(state, new):
    """The momentum products stay below 1 (they are products of factors in [0, 1))."""
    return [new.mu_product < 1, new.mu_product * mu(state, new.t + 1) < 1]


@theorem("Optim.NAdam.update_v_eq", statement="(update s p g).state.v = β2 · v + (1 − β2) · (g + λ·p)²")
def update_v_eq(x: Given):
    """NAdam's second moment is Adam's EMA of the squared (decayed) gradient."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    g = grads + state.weight_decay * params
    return equation(nadam.update(state, params, grads)[0].v, state.beta2 * state.v + (1 - state.beta2) * g * g)


@theorem("Optim.NAdam.update_time_eq", statement="(update s p g).state.t = s.t + 1")
def update_time_eq(x: Given):
    """NAdam counts its steps: the counter goes up by exactly one every step (torch's ``step``)."""
    state = arbitrary_state(x)
    new_state, _ = nadam.update(state, x.tensor("params"), x.tensor("grads"))
    return equation(new_state.t, state.t + 1)
