"""The library's theorems, one module per optimizer family (as in ``optim/``).

Importing this package registers every theorem in ``proofs.harness.registry``.
"""
# In the seed's order.
from proofs.theorems import sgd, momentum_sgd, adam, adamw, adadelta  # noqa: F401, I001
from proofs.theorems import adagrad, rmsprop, adamax, nadam, radam, rprop, asgd, adafactor, muon  # noqa: F401, I001
from proofs.theorems import lion  # noqa: F401, I001
from proofs.theorems import schedule_free, lars, lamb, clipping, lr_scheduler, precision  # noqa: F401, I001
from proofs.theorems import relations, literature  # noqa: F401
