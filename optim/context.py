"""The backend protocol ("context"): the only way optimizer code touches numbers.

A context is TorchLean's ``Spec.Context``: arithmetic goes through Python's operators on
the backend's tensors, and everything else through the named functions below, named as in
the Python array API standard.  An optimizer asks its inputs for their context
(``context_of(params)``, like ``array_namespace(x)``) and never branches on the backend.

Scalars (hyperparameters, bias corrections) are whatever the backend uses for reals:
Python floats for NumPy, SymPy expressions for the prover.  The named functions accept
both scalars and tensors.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Context(Protocol):
    """What a backend provides.  ``x`` is a tensor or a scalar of that backend."""

    name: str

    def sqrt(self, x: Any) -> Any: ...
    def square(self, x: Any) -> Any: ...
    def abs(self, x: Any) -> Any: ...
    def sign(self, x: Any) -> Any: ...
    def maximum(self, x: Any, y: Any) -> Any: ...
    def minimum(self, x: Any, y: Any) -> Any: ...
    def where(self, condition: Any, x: Any, y: Any) -> Any: ...
    def zeros_like(self, x: Any) -> Any: ...
    def full_like(self, x: Any, value: Any) -> Any: ...

    # Layout, used only to reject mismatched inputs before anything is computed.
    def shape(self, x: Any) -> tuple: ...
    def dtype(self, x: Any) -> str: ...
    def check_tensor(self, x: Any, role: str) -> None: ...


_REGISTRY: dict[type, Context] = {}


def register_context(tensor_type: type, context: Context) -> None:
    """Make ``context_of`` answer ``context`` for instances of ``tensor_type``."""
    _REGISTRY[tensor_type] = context


def context_of(x: Any) -> Context:
    """The context of a tensor: its type's registered backend (array-API style)."""
    for klass in type(x).__mro__:
        if klass in _REGISTRY:
            return _REGISTRY[klass]
    raise TypeError(
        f"optlaws optimizers work on NumPy float arrays or symbolic tensors; "
        f"got {type(x).__name__}"
    )
