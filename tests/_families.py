"""What the generic suites need to know about a family beyond its table entry (a helper, not a
test module).

* ``matrix_only``: a family whose update takes matrices only (``RANKS = (2,)``: Muon, as
  torch.optim.Muon refuses any other param).  Suites give such a family 2-d params; a suite whose
  property is about 0-d/1-d params or elementwise arithmetic leaves it out through this filter.
* ``newton_schulz_at_param_dtype``: torch.optim.Muon's own code with its ``grad.bfloat16()`` made a
  copy, so its Newton–Schulz iteration runs at the param's dtype as optim.Muon's does; a suite
  that compares with torch.optim at tight tolerances steps torch's optimizers inside it (it touches
  nothing but ``Tensor.bfloat16``, which no other torch.optim optimizer calls).
"""
from __future__ import annotations

import contextlib
from typing import Any


def module_of(family: Any) -> Any:
    """The functional module of a family given as its module, a NumPy class or a torch backend class."""
    return getattr(family, "family", family)


def takes_rank(family: Any, ndim: int) -> bool:
    """Whether the family steps a param of ``ndim`` dimensions (every rank unless it says ``RANKS``)."""
    ranks = getattr(module_of(family), "RANKS", None)
    return ranks is None or ndim in ranks


def matrix_only(family: Any) -> bool:
    """A family that steps 2-d params only (Muon)."""
    return tuple(getattr(module_of(family), "RANKS", ())) == (2,)


@contextlib.contextmanager
def newton_schulz_at_param_dtype():
    """torch's Muon, its own code, with its ``grad.bfloat16()`` made a copy: the Newton–Schulz
    iteration then runs at the param's dtype, as optim.Muon's does."""
    import torch
    original = torch.Tensor.bfloat16
    torch.Tensor.bfloat16 = lambda self, *args, **kwargs: self.clone()
    try:
        yield
    finally:
        torch.Tensor.bfloat16 = original
