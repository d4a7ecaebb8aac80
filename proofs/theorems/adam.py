"""Theorems about ``optim.adam`` (TorchLean ``Optim.Adam``)."""
from dataclasses import replace

from optim import adam, fields, sgd
from optim.context import context_of
from proofs.harness import REFUTED, Given, equation, theorem
from proofs.theorems._common import field_eq, time_eq, update


def arbitrary_state(x: Given, **options) -> adam.State:
    """Any state torch.optim.Adam accepts (its declared domains: ε > 0 so that the step is defined),
    without weight decay unless ``options`` say otherwise; v_max present with amsgrad."""
    return x.state(adam, **{"weight_decay": 0.0, **options})


def textbook_step(params, new_state):
    """Reference (Kingma & Ba 2015, Algorithm 1): p − lr · m̂ / (√v̂ + ε) from the new moments."""
    s = new_state
    sqrt = context_of(params).sqrt
    m_hat = s.m / (1 - s.beta1**s.t)
    v_hat = s.v / (1 - s.beta2**s.t)
    return params - s.lr * m_hat / (sqrt(v_hat) + s.epsilon)


def counter_and_moments(prefix: str, family, arbitrary_state, *, module: str, note: str = "") -> None:
    """``Optim.<prefix>.update_time_eq``, ``update_m_eq`` and ``update_v_eq``: Adam's counter and
    its two moments, the documented EMAs of g and g², which AdamW keeps alike (its decay touches
    only the parameters); ``note`` ends the first moment's docstring."""
    time_eq(prefix, family, arbitrary_state, f"{prefix} increments its bias-correction counter by exactly one every step.",
            module=module)
    field_eq(f"Optim.{prefix}.update_m_eq", statement="(update s p g).state.m = s.m · β1 + (1 − β1) · g",
             doc=f"{prefix}'s first moment is the documented EMA of the gradient{note}.", module=module,
             family=family, arbitrary_state=arbitrary_state, field="m", grads_first=True,
             reference=lambda u: u.state.m * u.state.beta1 + (1 - u.state.beta1) * u.grads)
    field_eq(f"Optim.{prefix}.update_v_eq", statement="(update s p g).state.v = s.v · β2 + (1 − β2) · g²",
             doc=f"{prefix}'s second moment is the documented EMA of the squared gradient.", module=module,
             family=family, arbitrary_state=arbitrary_state, field="v", grads_first=True,
             reference=lambda u: u.state.v * u.state.beta2 + (1 - u.state.beta2) * u.grads * u.grads)


counter_and_moments("Adam", adam, arbitrary_state, module=__name__)


@theorem("Optim.Adam.update_params_eq",
         statement="(update s p g).params = p − lr · m̂ / (√v̂ + ε),  m̂ = m′/(1 − β1ᵗ′), v̂ = v′/(1 − β2ᵗ′)")
def update_params_eq(x: Given):
    """Adam's parameter step, computed in torch's order, is the textbook bias-corrected step."""
    u = update(x, adam, arbitrary_state(x))
    return equation(u.new_params, textbook_step(u.params, u.new))


@theorem("Optim.Adam.update_params_eq_sgd", expect=REFUTED,
         statement="(Adam.update s p g).params = (SGD.update {lr := s.lr} p g).params")
def update_params_eq_sgd(x: Given):
    """Adam is not SGD: the same learning rate gives a different step (refuted)."""
    u = update(x, adam, arbitrary_state(x))
    _, sgd_params = sgd.update(sgd.State(lr=u.state.lr), u.params, u.grads)
    return equation(u.new_params, sgd_params)


@theorem("Optim.Adam.update_amsgrad_v_max_eq", statement="amsgrad ⟹ (update s p g).state.v_max = max(s.v_max, v′)")
def update_amsgrad_v_max_eq(x: Given):
    """With amsgrad, Adam keeps the running maximum of the raw second moment."""
    u = update(x, adam, arbitrary_state(x, amsgrad=True))
    return equation(u.new.v_max, context_of(u.state.v).maximum(u.state.v_max, u.new.v))


@theorem("Optim.Adam.update_amsgrad_params_eq",
         statement="amsgrad ⟹ (update s p g).params = p − lr · m̂ / (√(v_max′ / (1 − β2ᵗ′)) + ε)")
def update_amsgrad_params_eq(x: Given):
    """With amsgrad, the step normalises by the maximum second moment instead of v."""
    u = update(x, adam, arbitrary_state(x, amsgrad=True))
    return equation(u.new_params, textbook_step(u.params, replace(u.new, v=u.new.v_max)))


@theorem("Optim.Adam.update_decoupled_eq_adamw",
         statement="decoupled_weight_decay ⟹ (Adam.update s p g) = (AdamW.update {s…} p g)")
def update_decoupled_eq_adamw(x: Given):
    """Adam with decoupled_weight_decay = True is AdamW: same moments, same parameters."""
    from optim import adamw

    u = update(x, adam, x.state(adam, decoupled_weight_decay=True))
    w = fields.convert(u.state, adamw.State, drop=("decoupled_weight_decay",))
    adamw_state, adamw_params = adamw.update(w, u.params, u.grads)
    return equation((u.new.m, u.new.v, u.new_params), (adamw_state.m, adamw_state.v, adamw_params))
