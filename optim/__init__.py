"""optlaws optimizers: each written once over a backend context (``optim.context``).

Every module has a frozen ``State``, a pure ``init(params, **hyperparameters)`` and a pure
``update(state, params, grads) -> (state, params)``.  Importing ``optim`` registers the
NumPy backend; ``symbolic`` registers the SymPy one.
"""
from optim import numpy_backend  # noqa: F401  (registers the NumPy context)
from optim import adadelta, adam, adamw, momentum_sgd, sgd
from optim.context import Context, context_of, register_context

OPTIMIZERS = {
    "SGD": sgd,
    "MomentumSGD": momentum_sgd,
    "Adam": adam,
    "AdamW": adamw,
    "Adadelta": adadelta,
}

__all__ = [
    "Context", "context_of", "register_context", "OPTIMIZERS",
    "sgd", "momentum_sgd", "adam", "adamw", "adadelta",
]
