"""Theorems about ``optim.radam`` (Liu et al. 2020; torch.optim.RAdam): both regimes."""
import sympy

from optim import radam
from optim.context import context_of
from proofs.harness import Given, equation, theorem


def arbitrary_state(x: Given) -> radam.State:
    return x.state(radam)


def paper_rho(beta2, t):
    """Reference (Liu et al. 2020, Algorithm 2): ρ∞ = 2/(1 − β2) − 1, ρ_t = ρ∞ − 2tβ2ᵗ/(1 − β2ᵗ)."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf, rho_inf - 2 * t * beta2**t / (1 - beta2**t)


def regime(state, t, rectified: bool) -> list:
    """Hypotheses selecting a regime at step t: ρ_t ≤ 5, or ρ_t > 5 with what it implies
    (ρ∞ > 5, i.e. β2 > 2/3; r_t² > 0; ρ_t ≠ 0), stated so the side conditions can be shown."""
    rho_t = radam.rho(state.beta2, t)
    if not rectified:
        return [rho_t <= radam.RECTIFICATION_THRESHOLD]
    return [rho_t > radam.RECTIFICATION_THRESHOLD, state.beta2 > sympy.Rational(2, 3),
            radam.rectification_squared(state.beta2, t) > 0, rho_t != 0]


@theorem("Optim.RAdam.update_m_eq", statement="(update s p g).state.m = β1 · m + (1 − β1) · (g + λ·p)")
def update_m_eq(x: Given):
    """RAdam's first moment is Adam's EMA of the (decayed) gradient."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    g = grads + state.weight_decay * params
    return equation(radam.update(state, params, grads)[0].m, state.beta1 * state.m + (1 - state.beta1) * g)


@theorem("Optim.RAdam.update_unrectified_params_eq",
         statement="ρ_t ≤ 5 ⟹ (update s p g).params = p − lr · m′ / (1 − β1ᵗ)")
def update_unrectified_params_eq(x: Given):
    """While the variance is intractable (ρ_t ≤ 5), RAdam is SGD with bias-corrected momentum."""
    state = arbitrary_state(x)
    params = x.tensor("params")
    new, new_params = radam.update(state, params, x.tensor("grads"))
    x.assume(*regime(state, new.t, rectified=False))
    return equation(new_params, params - state.lr * new.m / (1 - state.beta1**new.t))


@theorem("Optim.RAdam.update_rectified_params_eq",
         statement="ρ_t > 5 ⟹ (update s p g).params = p − lr · r_t · m̂ · √(1 − β2ᵗ) / (√v′ + ε)")
def update_rectified_params_eq(x: Given):
    """Once ρ_t > 5, RAdam takes the rectified adaptive step of Liu et al. (Algorithm 2, torch's ε)."""
    state = arbitrary_state(x)
    params = x.tensor("params")
    new, new_params = radam.update(state, params, x.tensor("grads"))
    rho_inf, rho_t = paper_rho(state.beta2, new.t)
    r_squared = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
    x.assume(*regime(state, new.t, rectified=True))
    sqrt = context_of(params).sqrt
    m_hat = new.m / (1 - state.beta1**new.t)
    step = state.lr * sqrt(r_squared) * m_hat * sqrt(1 - state.beta2**new.t) / (sqrt(new.v) + state.epsilon)
    return equation(new_params, params - step)


@theorem("Optim.RAdam.update_v_eq", statement="(update s p g).state.v = β2 · v + (1 − β2) · (g + λ·p)²")
def update_v_eq(x: Given):
    """RAdam's second moment is Adam's EMA of the squared (decayed) gradient."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    g = grads + state.weight_decay * params
    return equation(radam.update(state, params, grads)[0].v, state.beta2 * state.v + (1 - state.beta2) * g * g)


@theorem("Optim.RAdam.update_time_eq", statement="(update s p g).state.t = s.t + 1")
def update_time_eq(x: Given):
    """RAdam counts its steps: the counter goes up by exactly one every step (torch's ``step``)."""
    state = arbitrary_state(x)
    new_state, _ = radam.update(state, x.tensor("params"), x.tensor("grads"))
    return equation(new_state.t, state.t + 1)
