"""Theorems about ``optim.asgd`` (Polyak & Juditsky 1992; torch.optim.ASGD), over ℝ."""
from optim import asgd
from optim.context import context_of
from proofs.harness import Given, equation, theorem
from proofs.theorems._common import time_eq, update


def arbitrary_state(x: Given) -> asgd.State:
    return x.state(asgd, lr="positive", alpha="nonnegative")


@theorem("Optim.ASGD.update_params_eq", statement="(update s p g).params = p · (1 − lambd · η) − η · (g + λ·p)")
def update_params_eq(x: Given):
    """ASGD decays the parameters by lambd·η, then takes an SGD step of size η on the decayed gradient."""
    u = update(x, asgd, arbitrary_state(x))
    return equation(u.new_params, u.params * (1 - u.state.lambd * u.state.eta) - u.state.eta * u.decayed_grads)


@theorem("Optim.ASGD.update_ax_eq", statement="(update s p g).state.ax = ax + μ · (p′ − ax)")
def update_ax_eq(x: Given):
    """ASGD's average moves toward the new iterate by μ (Polyak–Juditsky averaging)."""
    u = update(x, asgd, arbitrary_state(x))
    return equation(u.new.ax, u.state.ax + u.state.mu * (u.new_params - u.state.ax))


@theorem("Optim.ASGD.update_eta_mu_eq",
         statement="η′ = lr / (1 + lambd · lr · t′)^alpha,  μ′ = 1 / max(1, t′ − t0)")
def update_eta_mu_eq(x: Given):
    """ASGD's step size decays polynomially and averaging starts after t0 steps (over ℝ: no float32 rounding)."""
    u = update(x, asgd, arbitrary_state(x))
    s, t = u.state, u.new.t
    eta = s.lr / (1 + s.lambd * s.lr * t) ** s.alpha
    return equation((u.new.eta, u.new.mu), (eta, 1 / context_of(u.params).maximum(1, t - s.t0)))


time_eq("ASGD", asgd, arbitrary_state, module=__name__)
