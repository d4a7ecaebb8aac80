"""Relations that torch's options imply, stated for every optimizer that has the option.

* ``maximize = True`` means ascending: the update with maximize on g is the update without it
  on −g.
* (coupled) ``weight_decay = λ`` is an L2 penalty: the update with λ on g is the update with
  λ = 0 on g + λ·p.

Each compares every state tensor and the parameters, running the optimizer's own ``update``
twice; one theorem per optimizer and option.
"""
from dataclasses import replace

import sympy

from optim import OPTIMIZERS, fields
from proofs.harness import Given, equation, theorem
from proofs.theorems.radam import regime as radam_regime


def arbitrary_state(x: Given, module, maximize: bool):
    """Every number of a state symbolic, in its declared domain (buffers and scalars too), with
    the flags that create a buffer on (amsgrad, centered), so the relation covers every branch's
    state."""
    given = {"maximize": maximize} if _has(module, "maximize") else {}
    given.update(dict.fromkeys(fields.creating_flags(module.State), True))
    if _reduces(module):   # a norm over the tensor: an explicit shape (the theorem says so)
        return x.state(module, shape=SHAPE, **given)
    return x.state(module, **given)


SHAPE = (2,)   # the explicit shape of the relations of a family whose step has a reduction


def _reduces(module) -> bool:
    return getattr(module, "REDUCES", False)


def _tensors(state, new_state, new_params):
    names = [n for n in fields.buffers(state) if getattr(new_state, n) is not None]
    return tuple(getattr(new_state, n) for n in names) + (new_params,)


def maximize_relation(state, params, grads, module):
    """(update with maximize on g, update without it on −g)."""
    up = module.update(state, params, grads)
    down = module.update(replace(state, maximize=False), params, -grads)
    return up, down


def weight_decay_relation(state, params, grads, module):
    """(update with L2 weight decay λ on g, update with λ = 0 on g + λ·p)."""
    decayed = module.update(state, params, grads)
    plain = module.update(replace(state, weight_decay=0.0), params, grads + state.weight_decay * params)
    return decayed, plain


RELATIONS = {
    "maximize": ("update_maximize_eq_neg_grads",
                 "(update {s with maximize := true} p g) = (update {s with maximize := false} p (−g))",
                 "{name} with maximize = True is {name} on the negated gradient", maximize_relation),
    "weight_decay": ("update_weight_decay_eq_l2_grads",
                     "(update s p g) = (update {s with weight_decay := 0} p (g + λ · p))",
                     "{name}'s weight decay λ is an L2 penalty: the update without decay on g + λ·p",
                     weight_decay_relation),
}


def relation_theorem(kind: str, name: str, module, regime: str = "", hypotheses=None) -> None:
    suffix, statement, sentence, relate = RELATIONS[kind]

    def build(x: Given):
        shape = SHAPE if _reduces(module) else None
        params, grads = x.tensor("params", shape=shape), x.tensor("grads", shape=shape)
        state = arbitrary_state(x, module, maximize=(kind == "maximize"))
        (left_state, left_params), (right_state, right_params) = relate(state, params, grads, module)
        if hypotheses is not None:
            x.assume(*hypotheses(state, left_state))
        return equation(_tensors(state, left_state, left_params), _tensors(state, right_state, right_params))

    build.__doc__ = (sentence.format(name=name) + " (every state tensor and the parameters"
                     + (f"; {regime} regime" if regime else "") + ").")
    if _reduces(module):
        statement = f"shape {SHAPE}: " + statement
    theorem(f"Optim.{name}.{suffix}" + (f"_{regime}" if regime else ""), statement=statement)(build)


# Centered RMSprop is defined where its variance estimate is ≥ 0.
REGIMES = {"RAdam": [("rectified", lambda s, new: radam_regime(s, new.t, True)),
                     ("unrectified", lambda s, new: radam_regime(s, new.t, False))],
           "RMSprop": [("", lambda s, new: [sympy.Ge((new.square_avg - new.grad_avg * new.grad_avg).entry, 0)])]}


def _has(module, field: str) -> bool:
    return field in fields.declarations(module.State).fields


for _name, _module in OPTIMIZERS.items():
    # L2 decay applies to the gradient only where it is not decoupled (AdamW, Lion decay p).
    coupled = _has(_module, "weight_decay") and getattr(_module, "WEIGHT_DECAY", "l2") == "l2"
    for _kind, _applies in (("maximize", _has(_module, "maximize")), ("weight_decay", coupled)):
        if _applies:
            for _regime, _hypotheses in REGIMES.get(_name, [("", None)]):
                relation_theorem(_kind, _name, _module, _regime, _hypotheses)
