"""Theorems about optlaws' optimizers, the ``make prove`` runner and its reports.

A theorem file imports ``theorem``, ``Given`` and ``equation`` from here (see
``proofs.harness``) and the optimizers from ``optim``.
"""
import optim  # noqa: F401  (registers the NumPy backend)
import symbolic.tensor  # noqa: F401  (registers the SymPy backend)
from proofs.harness import (PROVED, REFUTED, UNKNOWN, Given, equation, for_every, induction, inequality,
                            simulation, theorem)

__all__ = ["PROVED", "REFUTED", "UNKNOWN", "Given", "equation", "for_every", "induction", "inequality",
           "simulation", "theorem"]
