"""optlaws optimizers: each written once over a backend context (``optim.context``).

Functional modules (the single definitions, one per family): every one has a frozen
``State``, a pure ``init(params, **hyperparameters)`` and a pure
``update(state, params, grads) -> (state, params)``.

torch-style classes (``optim.Adam(params, lr=...)``, ``step(grads)``, param groups,
``state_dict``) are thin shells over them, in ``optim.stateful``.

Importing ``optim`` registers the NumPy backend; ``symbolic`` registers the SymPy one.
"""
from optim import numpy_backend  # noqa: F401  (registers the NumPy context)
from optim import (adadelta, adagrad, adam, adamax, adamw, asgd, momentum_sgd, nadam, radam, rmsprop,
                   rprop, sgd)
from optim.context import Context, context_of, register_context
from optim.stateful import (ASGD, SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, Optimizer, RAdam,
                            RMSprop, Rprop, TORCH_OPTIMIZERS)

# The seed's five (TorchLean), then the rest of torch.optim's first-order optimizers.
OPTIMIZERS = {
    "SGD": sgd,
    "MomentumSGD": momentum_sgd,
    "Adam": adam,
    "AdamW": adamw,
    "Adadelta": adadelta,
    "Adagrad": adagrad,
    "RMSprop": rmsprop,
    "Adamax": adamax,
    "NAdam": nadam,
    "RAdam": radam,
    "Rprop": rprop,
    "ASGD": asgd,
}

__all__ = [
    "Context", "context_of", "register_context", "OPTIMIZERS", "TORCH_OPTIMIZERS", "Optimizer",
    "sgd", "momentum_sgd", "adam", "adamw", "adadelta", "adagrad", "rmsprop", "adamax", "nadam",
    "radam", "rprop", "asgd",
    "SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "RMSprop", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD",
]
