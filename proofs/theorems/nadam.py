"""Theorems about ``optim.nadam`` (Dozat 2016; torch.optim.NAdam)."""
from optim import nadam
from optim.context import context_of
from proofs.harness import Given, equation, theorem
from proofs.theorems._common import decayed_ema_eq, time_eq, update


def arbitrary_state(x: Given, decoupled: bool = False) -> nadam.State:
    return x.state(nadam, decoupled_weight_decay=decoupled)


def mu(state, t):
    """Reference (Dozat 2016, with torch's schedule): μ_t = β1 · (1 − ½ · 0.96^(t·ψ))."""
    return state.beta1 * (1 - 0.5 * 0.96 ** (t * state.momentum_decay))


@theorem("Optim.NAdam.update_mu_product_eq", statement="(update s p g).state.mu_product = s.mu_product · μ_{t+1}")
def update_mu_product_eq(x: Given):
    """NAdam's momentum product gains one factor μ_t per step (exactly, over ℝ)."""
    u = update(x, nadam, arbitrary_state(x))
    return equation(u.new.mu_product, u.state.mu_product * mu(u.state, u.state.t + 1))


decayed_ema_eq("NAdam", nadam, arbitrary_state, module=__name__, second=False,
               doc="NAdam's first moment is the EMA of the L2-decayed gradient.")


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
    u = update(x, nadam, arbitrary_state(x))
    x.assume(*_definedness(u.state, u.new))
    return equation(u.new_params, reference_params(u.state, u.new, u.params, u.decayed_grads))


@theorem("Optim.NAdam.update_decoupled_params_eq", statement="decoupled ⟹ the same step from p·(1 − lr·λ), on g")
def update_decoupled_params_eq(x: Given):
    """With decoupled weight decay, NAdam decays p first and steps on the raw gradient."""
    u = update(x, nadam, arbitrary_state(x, decoupled=True))
    x.assume(*_definedness(u.state, u.new))
    decayed = u.params * (1 - u.state.lr * u.state.weight_decay)
    return equation(u.new_params, reference_params(u.state, u.new, decayed, u.grads))


def _definedness(state, new):
    """The momentum products stay below 1 (they are products of factors in [0, 1))."""
    return [new.mu_product < 1, new.mu_product * mu(state, new.t + 1) < 1]


decayed_ema_eq("NAdam", nadam, arbitrary_state, module=__name__, second=True,
               doc="NAdam's second moment is Adam's EMA of the squared (decayed) gradient.")


time_eq("NAdam", nadam, arbitrary_state, module=__name__)
