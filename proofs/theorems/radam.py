"""Theorems about ``optim.radam`` (Liu et al. 2020; torch.optim.RAdam): both regimes."""
import sympy

from optim import radam
from optim.context import context_of
from proofs.harness import Given, equation, theorem
from proofs.theorems._common import decayed_ema_eq, time_eq, update


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


decayed_ema_eq("RAdam", radam, arbitrary_state, module=__name__, second=False,
               doc="RAdam's first moment is Adam's EMA of the (decayed) gradient.")


@theorem("Optim.RAdam.update_unrectified_params_eq",
         statement="ρ_t ≤ 5 ⟹ (update s p g).params = p − lr · m′ / (1 − β1ᵗ)")
def update_unrectified_params_eq(x: Given):
    """While the variance is intractable (ρ_t ≤ 5), RAdam is SGD with bias-corrected momentum."""
    u = update(x, radam, arbitrary_state(x))
    x.assume(*regime(u.state, u.new.t, rectified=False))
    return equation(u.new_params, u.params - u.state.lr * u.new.m / (1 - u.state.beta1**u.new.t))


@theorem("Optim.RAdam.update_rectified_params_eq",
         statement="ρ_t > 5 ⟹ (update s p g).params = p − lr · r_t · m̂ · √(1 − β2ᵗ) / (√v′ + ε)")
def update_rectified_params_eq(x: Given):
    """Once ρ_t > 5, RAdam takes the rectified adaptive step of Liu et al. (Algorithm 2, torch's ε)."""
    u = update(x, radam, arbitrary_state(x))
    state, new = u.state, u.new
    rho_inf, rho_t = paper_rho(state.beta2, new.t)
    r_squared = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
    x.assume(*regime(state, new.t, rectified=True))
    sqrt = context_of(u.params).sqrt
    m_hat = new.m / (1 - state.beta1**new.t)
    step = state.lr * sqrt(r_squared) * m_hat * sqrt(1 - state.beta2**new.t) / (sqrt(new.v) + state.epsilon)
    return equation(u.new_params, u.params - step)


decayed_ema_eq("RAdam", radam, arbitrary_state, module=__name__, second=True,
               doc="RAdam's second moment is Adam's EMA of the squared (decayed) gradient.")


time_eq("RAdam", radam, arbitrary_state, module=__name__)
