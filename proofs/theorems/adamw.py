"""Theorems about ``optim.adamw`` (TorchLean ``Optim.AdamW``)."""
import sympy

from optim import adam, adamw, fields
from proofs.harness import REFUTED, Given, equation, theorem
from proofs.theorems._common import update
from proofs.theorems.adam import counter_and_moments, textbook_step


def arbitrary_state(x: Given, **given) -> adamw.State:
    """Any state torch.optim.AdamW accepts (its declared domains), without amsgrad."""
    return x.state(adamw, **given)


def adam_of(s: adamw.State) -> adam.State:
    """The seed's record { lr := s.lr, beta1 := s.beta1, …, t := s.t } (no weight decay)."""
    return fields.convert(s, adam.State, weight_decay=0.0)


counter_and_moments("AdamW", adamw, arbitrary_state, module=__name__, note=" (decay does not touch it)")


@theorem("Optim.AdamW.update_params_eq",
         statement="(update s p g).params = p̃ − lr · m̂ / (√v̂ + ε),  p̃ = p − lr · λ · p")
def update_params_eq(x: Given):
    """AdamW decays the parameters by lr·λ·p, then takes the textbook Adam step from them."""
    u = update(x, adamw, arbitrary_state(x))
    decayed = u.params - u.state.lr * u.state.weight_decay * u.params  # reference: Loshchilov & Hutter
    return equation(u.new_params, textbook_step(decayed, u.new))


def adamw_and_adam_params(x: Given, state: adamw.State) -> tuple:
    """AdamW's new parameters from ``state``, and Adam's from the same record without weight decay."""
    u = update(x, adamw, state)
    _, adam_params = adam.update(adam_of(state), u.params, u.grads)
    return u.new_params, adam_params


@theorem("Optim.AdamW.update_weight_decay_zero_params_eq_adam_real",
         statement="s.weight_decay = 0 ⟹ (AdamW.update s p g).params = "
                   "(Adam.update {lr, beta1, beta2, epsilon, m, v, t := s.…} p g).params")
def update_weight_decay_zero_params_eq_adam_real(x: Given):
    """AdamW reduces to Adam when weight_decay = 0 (parameter-update equality), over ℝ."""
    state = arbitrary_state(x)
    x.assume(sympy.Eq(state.weight_decay, 0))
    return equation(*adamw_and_adam_params(x, state))


@theorem("Optim.AdamW.update_weight_decay_pos_params_eq_adam", expect=REFUTED,
         statement="s.weight_decay > 0 ⟹ (AdamW.update s p g).params = (Adam.update {…} p g).params")
def update_weight_decay_pos_params_eq_adam(x: Given):
    """With a nonzero weight decay, AdamW is not Adam (refuted, with a counterexample)."""
    return equation(*adamw_and_adam_params(x, arbitrary_state(x, weight_decay="positive")))
