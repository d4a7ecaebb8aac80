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

import dataclasses
import functools
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
    def total(self, x: Any) -> Any:
        """The sum of every entry of a tensor, a scalar (a reduction, used by clipping by global
        norm; the prover has it on explicit shapes only, a generic tensor refuses it)."""
        ...
    def scalar_max(self, bound: Any, x: Any) -> Any:
        """Python's ``max(bound, x)`` of two scalars, as torch takes it of an ``.item()`` (Adafactor's
        α and update clipping): ``bound`` unless x is greater, so a NaN x keeps the bound, where an
        elementwise maximum would spread it.  Over the reals: the maximum."""
        ...
    def sum(self, x: Any, axis: int) -> Any:
        """The sums along one axis, that axis kept with length 1 (NumPy's ``keepdims=True``):
        Adafactor's row and column means.  Explicit shapes only for the prover."""
        ...
    def matmul(self, a: Any, b: Any) -> Any:
        """The matrix product of two 2-d tensors (Muon's Newton–Schulz iteration)."""
        ...
    def transpose(self, x: Any) -> Any:
        """A 2-d tensor with its two axes swapped."""
        ...
    def zeros(self, like: Any, shape: tuple) -> Any:
        """Zeros of ``shape`` in ``like``'s backend and dtype: a buffer not shaped like the params
        (Adafactor's row and column factors)."""
        ...
    def machine_epsilon(self, like: Any) -> Any:
        """The spacing of 1.0 in ``like``'s dtype (torch's ``finfo(dtype).eps``); the reals have
        none, so the prover refuses it."""
        ...

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


def adopt_state(state: Any, context: Context) -> Any:
    """``state`` with each field as ``context`` holds it.  Only the symbolic backend adopts
    (a number becomes an exact symbolic value before any arithmetic on it); NumPy's fields
    are used as they are."""
    adopt = getattr(context, "adopt", None)
    if adopt is None:
        return state
    changes = {}
    for f in dataclasses.fields(state):
        if getattr(f.metadata.get("optlaws"), "kind", None) == "flag":
            continue   # a flag or an option chooses the code path: Muon's ns_steps stays an int
        value = getattr(state, f.name)
        adopted = adopt(value)
        if adopted is not value:
            changes[f.name] = adopted
    return dataclasses.replace(state, **changes) if changes else state


def update_rule(state_type: type) -> Callable:
    """Declares an optimizer's pure ``update(state, params, grads)``: it refuses another
    optimizer's state (``radam.update(adam_state, …)`` would run on the wrong fields), and
    the backend adopts the state before the update's first operation."""
    def declare(update: Callable) -> Callable:
        @functools.wraps(update)
        def run(state: Any, params: Any, grads: Any) -> Any:
            if not isinstance(state, state_type):
                raise TypeError(f"{update.__module__}.update needs a {state_type.__module__}.State, "
                                f"got {type(state).__module__}.{type(state).__qualname__}")
            return update(adopt_state(state, context_of(params)), params, grads)
        return run
    return declare


def init_rule(init: Callable) -> Callable:
    """Declares an optimizer's pure ``init(params, **hyperparameters)``: its state is adopted
    by the backend of ``params``."""
    @functools.wraps(init)
    def run(params: Any, *args: Any, **kwargs: Any) -> Any:
        return adopt_state(init(params, *args, **kwargs), context_of(params))
    return run
