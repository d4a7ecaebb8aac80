"""What a step of a torch-style optimizer checked, kept while nothing it checked has changed.

``Optimizer.step`` checks every group's hyperparameters, every param, every state and the
buffers' layouts before anything is written (``optim.stateful``).  Done in full every step, that
costs more than the arithmetic on models with many small tensors.  A ``Plan`` is the result of
those checks together with a *fingerprint* of everything they read: the groups (the dict
objects, every hyperparameter's exact type and value, and the optimizer's defaults), the params (the array objects and their
shape, strides, dtype, writeability, type) and the states (the objects stored in ``opt.state``,
each buffer's layout).  The next step recomputes the fingerprint, which is cheap, and reuses the
plan only when it is identical.  A hyperparameter's new value (a learning rate a schedule wrote)
checks every group again and gives each state its group's new settings, keeping the checks of
the params and buffers; any other edit — a param appended to a group, a state replaced, a buffer
reshaped in place — rebuilds the plan through the full checks.  Gradients change every step and
are checked every step.

A value the fingerprint cannot compare exactly (an object of another type in a group) makes it
differ from every other, so that group is checked in full each step.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


class _Never:
    """A fingerprint part equal to nothing else: what cannot be compared is checked every step."""

    def __eq__(self, other: Any) -> bool:
        return False

    __hash__ = None


def frozen(value: Any) -> Any:
    """An exact, comparable picture of a hyperparameter: its type, value and the sign of a zero
    (0.0 and -0.0 round differently), containers element by element, a 0-d array by its dtype
    and value at this moment (it may be changed in place later)."""
    kind = type(value)
    if kind is float:
        return float, value, math.copysign(1.0, value)
    if kind in (bool, int, str, type(None)):
        return kind, value
    if kind in (tuple, list):
        return kind, tuple(frozen(v) for v in value)
    if kind is np.ndarray and value.ndim == 0:
        return kind, value.dtype.str, frozen(value.item())
    if isinstance(value, np.generic):
        return kind, frozen(value.item())
    return _Never()


def layout(array: np.ndarray) -> tuple:
    """What may change about an existing array object: ``a.shape = …``, ``a.strides = …``,
    ``a.dtype = …`` and ``a.flags.writeable`` are assignable in place.  Its memory is not (a
    resize that moves it changes its size, so its shape)."""
    return type(array), array.shape, array.strides, array.dtype, array.flags.writeable


def fingerprint(execution: str, defaults: dict, groups: list) -> tuple[tuple, tuple]:
    """(structure, values): the groups and params the checks read, and the hyperparameters'
    values (a schedule changes these alone: the groups are checked again, not the params)."""
    structure: list = [execution, len(groups)]
    values: list = [tuple((k, frozen(v)) for k, v in defaults.items())]
    for group in groups:
        structure += [id(group), tuple(group)]
        values.append(tuple((k, frozen(v)) for k, v in group.items() if k != "params"))
        params = group["params"]
        structure += [id(params), len(params)]
        for p in params:
            structure += [id(p), layout(p)]
    return tuple(structure), tuple(values)


def _root(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class Plan:
    """The checked entries (global index, group, param as a plain ndarray) and the states to step
    from, valid while ``fingerprint`` and the stored states are unchanged (``current``)."""

    def __init__(self, key: tuple, values: tuple, groups: list, entries: list, states: list, stored: dict):
        self.key, self.groups = key, groups   # the groups are kept alive: their ids are in the key
        self.values = values                  # the hyperparameters the states were prepared with
        self.entries, self.states = entries, states
        self.store(stored)

    def store(self, stored: dict, same_buffers: bool = False) -> None:
        """Remember the states in ``opt.state`` and the layouts of their buffers (and the memory
        every step writes: params and buffers); ``same_buffers``: the new states hold the very
        buffers of the old ones (a step that wrote them in place), whose layouts are known."""
        self.stored = dict(stored)
        if same_buffers:
            return
        self.buffers = [(b, layout(b)) for s in stored.values() for b in vars(s).values()
                        if isinstance(b, np.ndarray)]
        written = [p for _, _, p in self.entries] + [b for b, _ in self.buffers]
        self.written = written
        roots = [_root(a) for a in written]
        # Memory a grad cannot share: arrays that own their data and are not written by the step.
        self.written_roots = {id(r) for r in roots}
        self.roots_known = all(r.flags.owndata for r in roots)

    def current(self, key: tuple, state: dict) -> bool:
        if key != self.key or len(state) != len(self.stored):
            return False
        if any(state.get(index) is not s for index, s in self.stored.items()):
            return False
        return all(layout(b) == seen for b, seen in self.buffers)

    def may_alias(self, grad: np.ndarray) -> bool:
        """Whether ``grad`` may share memory with what the step writes (then it is checked
        exactly): not when it lies in memory owned by an array the step does not write."""
        root = _root(grad)
        return not (self.roots_known and root.flags.owndata and id(root) not in self.written_roots)
