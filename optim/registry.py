"""The optimizer families, one line each.  Adding an optimizer: its module (``optim/<family>.py``:
a ``State`` declared with ``optim.fields``, ``init``, ``update``), its theorems
(``proofs/theorems/<family>.py``), a line here, and its class line on each backend
(``optim/stateful.py``, ``optim/torch_backend.py``; ``tests/test_fields.py`` checks that every
family here has both)."""
from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from optim import (adadelta, adafactor, adagrad, adam, adamax, adamw, asgd, lamb, lars, lion, momentum_sgd, muon, nadam, radam,
                   rmsprop, rprop, schedule_free_adamw, schedule_free_sgd, sgd)


@dataclass(frozen=True)
class Family:
    name: str                      # the class name on both backends (torch.optim's where it has one)
    module: ModuleType             # State, init, update
    torch_positional: int | None = None   # how many hyperparameters torch.optim.<name> takes by
    #                                        position; None: torch.optim has no such optimizer


# The seed's five (TorchLean), then the rest of torch.optim's first-order optimizers.
FAMILIES = (
    Family("SGD", sgd, torch_positional=5),
    Family("MomentumSGD", momentum_sgd),
    Family("Adam", adam, torch_positional=5),
    Family("AdamW", adamw, torch_positional=5),
    Family("Adadelta", adadelta, torch_positional=4),
    Family("Adagrad", adagrad, torch_positional=5),
    Family("RMSprop", rmsprop, torch_positional=6),
    Family("Adamax", adamax, torch_positional=4),
    Family("NAdam", nadam, torch_positional=6),
    Family("RAdam", radam, torch_positional=5),
    Family("Rprop", rprop, torch_positional=3),
    Family("ASGD", asgd, torch_positional=5),
    Family("Adafactor", adafactor, torch_positional=5),
    Family("Muon", muon, torch_positional=8),
    # Optax's and the literature's, which torch.optim lacks.
    Family("Lion", lion),
    Family("SGDScheduleFree", schedule_free_sgd),
    Family("AdamWScheduleFree", schedule_free_adamw),
    Family("LARS", lars),
    Family("LAMB", lamb),
)
OPTIMIZERS = {family.name: family.module for family in FAMILIES}


def torch_positional(module: ModuleType) -> int | None:
    """How many hyperparameters torch.optim's class of this family takes by position; None for a
    family torch.optim lacks, or one outside the registry (a user's own)."""
    return next((f.torch_positional for f in FAMILIES if f.module is module), None)
