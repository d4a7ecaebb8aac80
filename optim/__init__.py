"""optlaws optimizers: each written once over a backend context (``optim.context``).

Functional modules (the single definitions, one per family): every one has a frozen
``State``, a pure ``init(params, **hyperparameters)`` and a pure
``update(state, params, grads) -> (state, params)``.

Each ``State`` declares its fields once (``optim.fields``): defaults, torch's names, checks,
domains; ``init`` and the torch-style classes are derived from them.  The families are listed
once, in ``optim.registry``.

torch-style classes (``optim.Adam(params, lr=...)``, ``step(grads)``, param groups,
``state_dict``) are thin shells over them, in ``optim.stateful``.

Importing ``optim`` registers the NumPy backend; ``symbolic`` registers the SymPy one.
"""
from optim import numpy_backend  # noqa: F401  (registers the NumPy context)
from optim import (adadelta, adafactor, adagrad, adam, adamax, adamw, asgd, lamb, lars, lion, momentum_sgd, muon, nadam, radam,
                   rmsprop, rprop, schedule_free_adamw, schedule_free_sgd, sgd)
from optim.context import Context, context_of, register_context
from optim.registry import FAMILIES, OPTIMIZERS
from optim.stateful import (ASGD, Adafactor, Muon, CLASSES, LAMB, LARS, SGD, Adadelta, Adagrad, Adam, Adamax, AdamW,
                            AdamWScheduleFree, Lion, MomentumSGD, NAdam, Optimizer, RAdam, RMSprop, Rprop,
                            SGDScheduleFree, TORCH_OPTIMIZERS)

__all__ = [
    "Context", "context_of", "register_context", "FAMILIES", "OPTIMIZERS", "CLASSES", "TORCH_OPTIMIZERS",
    "Optimizer", "sgd", "momentum_sgd", "adam", "adamw", "adadelta", "adagrad", "rmsprop", "adamax", "nadam",
    "radam", "rprop", "asgd", "adafactor", "muon", "lion", "schedule_free_sgd", "schedule_free_adamw", "lars", "lamb",
    "SGD", "MomentumSGD", "Adam", "AdamW", "Adadelta", "Adagrad", "RMSprop", "Adamax", "NAdam", "RAdam", "Rprop",
    "ASGD", "Adafactor", "Muon", "Lion", "SGDScheduleFree", "AdamWScheduleFree", "LARS", "LAMB",
]
