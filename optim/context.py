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

from typing import Any, Callable, Protocol, runtime_checkable


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
    def select(self, condition: Any, if_true: Callable[[], Any], if_false: Callable[[], Any]) -> Any:
        """A branch on a *scalar* condition (RAdam's regime): NumPy runs one branch; SymPy
        decides the condition when it can and otherwise keeps both, as a piecewise value."""
        ...
    def round_float32(self, x: Any) -> Any:
        """A scalar as torch.optim stores it in a float32 state tensor (NAdam's μ product,
        ASGD's η and μ): rounded on NumPy, exact on the reals."""
        ...
    def copy(self, x: Any) -> Any:
        """A tensor that shares no memory with ``x`` (a state buffer must not alias a gradient)."""
        ...
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
