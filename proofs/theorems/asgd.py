"""Theorems about ``optim.asgd`` (Polyak & Juditsky 1992; torch.optim.ASGD), over ℝ."""
from optim import asgd
from optim.context import context_of
from proofs.harness import Given, equation, theorem


def arbitrary_state(x: Given) -> asgd.State:
    return x.state(asgd, lr="positive", alpha="nonnegative")


@theorem("Optim.ASGD.update_params_eq", statement="(update s p g).params = p · (1 − lambd · η) − η · (g + λ·p)")
def update_params_eq(x: Given):
    """ASGD decays the parameters by lambd·η, then takes an SGD step of size η on the decayed gradient."""
    state = arbitrary_state(x)
    params, grads = x.tensor("params"), x.tensor("grads")
    g = grads + state.weight_decay * params
    return equation(asgd.update(state, params, grads)[1], params * (1 - state.lambd * state.eta) - state.eta * g)


@theorem("Optim.ASGD.update_ax_eq", statement="(update s p g).state.ax = ax + μ · (p′ − ax)")
def update_ax_eq(x: Given):
    """ASGD's average moves toward the new iterate by μ (Polyak–Juditsky averaging)."""
    state = arbitrary_state(x)
    new, new_params = asgd.update(state, x.tensor("params"), x.tensor("grads"))
    return equation(new.ax, state.ax + state.mu * (new_params - state.ax))


@theorem("Optim.ASGD.update_eta_mu_eq",
         statement="η′ = lr / (1 + lambd · lr · t′)^alpha,  μ′ = 1 / max(1, t′ − t0)")
def update_eta_mu_eq(x: Given):
    """ASGD's step size decays polynomially and averaging starts after t0 steps (over ℝ: no float32 rounding)."""
    state = arbitrary_state(x)
    params = x.tensor("params")
    new, _ = asgd.update(state, params, x.tensor("grads"))
    ctx = context_of(params)
    eta = state.lr / (1 + state.lambd * state.lr * new.t) ** state.alpha
    return equation((new.eta, new.mu), (eta, 1 / ctx.maximum(1, new.t - state.t0)))


@theorem("Optim.ASGD.update_time_eq", statement="(update s p g).state.t = s.t + 1")
def update_time_eq(x: Given):
    """ASGD counts its steps: the counter goes up by exactly one every step (torch's ``step``)."""
    state = arbitrary_state(x)
    new_state, _ = asgd.update(state, x.tensor("params"), x.tensor("grads"))
    return equation(new_state.t, state.t + 1)
