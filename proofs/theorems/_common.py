"""What the theorem modules share: one update from a state on fresh tensors, and the theorems
that several families state alike (one definition, registered once per family).

A theorem registered here belongs to the module that asks for it (``module=__name__``): the
report files it with that family, as if it were written there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from proofs.harness import PROVED, Given, equation, theorem


@dataclass(frozen=True)
class Update:
    """One update of a family: the state and tensors it started from, and what it returned."""

    state: Any
    params: Any
    grads: Any
    new: Any           # the new state
    new_params: Any

    @property
    def decayed_grads(self) -> Any:
        """Reference: the L2-decayed gradient g + λ·p (torch's ``weight_decay``)."""
        return self.grads + self.state.weight_decay * self.params


def update(x: Given, family: Any, state: Any, *, grads_first: bool = False) -> Update:
    """Declare the tensors ``params`` and ``grads`` (in that order, or grads first: the order of
    the theorem's variables) and run ``family.update`` once from ``state`` on them."""
    if grads_first:
        grads = x.tensor("grads")
        params = x.tensor("params")
    else:
        params, grads = x.tensor("params"), x.tensor("grads")
    new, new_params = family.update(state, params, grads)
    return Update(state, params, grads, new, new_params)


def register(name: str, doc: str, build: Callable[[Given], Any], *, module: str, statement: str,
             expect: str = PROVED) -> Callable[[Given], Any]:
    """``@theorem(name, statement=…, expect=…)`` on ``build``, with the docstring ``doc``, as a
    theorem of ``module``."""
    build.__doc__, build.__module__ = doc, module
    build.__name__ = build.__qualname__ = name.rsplit(".", 1)[-1]
    return theorem(name, statement=statement, expect=expect)(build)


def field_eq(name: str, *, statement: str, doc: str, module: str, family: Any,
             arbitrary_state: Callable[[Given], Any], field: str, reference: Callable[[Update], Any],
             grads_first: bool = False) -> Callable[[Given], Any]:
    """The theorem ``name``: after one update from an arbitrary state, the new state's ``field``
    (or the new parameters, ``field="params"``) equals ``reference(update)``, a formula."""
    def build(x: Given):
        u = update(x, family, arbitrary_state(x), grads_first=grads_first)
        return equation(u.new_params if field == "params" else getattr(u.new, field), reference(u))
    return register(name, doc, build, module=module, statement=statement)


def time_eq(prefix: str, family: Any, arbitrary_state: Callable[[Given], Any], doc: str | None = None, *,
            module: str) -> Callable[[Given], Any]:
    """``Optim.<prefix>.update_time_eq``: the step counter goes up by exactly one every step."""
    doc = doc or f"{prefix} counts its steps: the counter goes up by exactly one every step (torch's ``step``)."
    return field_eq(f"Optim.{prefix}.update_time_eq", statement="(update s p g).state.t = s.t + 1", doc=doc,
                    module=module, family=family, arbitrary_state=arbitrary_state, field="t",
                    reference=lambda u: u.state.t + 1)


def decayed_ema_eq(prefix: str, family: Any, arbitrary_state: Callable[[Given], Any], doc: str, *,
                   module: str, second: bool, statement: str | None = None) -> Callable[[Given], Any]:
    """``Optim.<prefix>.update_m_eq`` (or ``update_v_eq``, ``second``): Adam's first moment, the
    EMA of the L2-decayed gradient g̃ = g + λ·p (or its second, of g̃²), as Adam's successors keep it."""
    if second:
        return field_eq(f"Optim.{prefix}.update_v_eq", doc=doc, module=module, family=family,
                        statement=statement or "(update s p g).state.v = β2 · v + (1 − β2) · (g + λ·p)²",
                        arbitrary_state=arbitrary_state, field="v",
                        reference=lambda u: (u.state.beta2 * u.state.v
                                             + (1 - u.state.beta2) * u.decayed_grads * u.decayed_grads))
    return field_eq(f"Optim.{prefix}.update_m_eq", doc=doc, module=module, family=family,
                    statement=statement or "(update s p g).state.m = β1 · m + (1 − β1) · (g + λ·p)",
                    arbitrary_state=arbitrary_state, field="m",
                    reference=lambda u: u.state.beta1 * u.state.m + (1 - u.state.beta1) * u.decayed_grads)
