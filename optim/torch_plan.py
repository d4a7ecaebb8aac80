"""What a step of the torch backend checked, kept while nothing it checked has changed: the torch
twin of ``optim.plan``.

``TorchOptimizer.step`` checks every group's hyperparameters, every param and every saved state
entry (each buffer's shape, dtype, device and layout, each step count and scalar) and builds each
param's functional state before anything is written.  Done in full every step, on a model with
many small tensors that costs more than the compiled update itself.  A ``Plan`` is the result of
those checks together with a *fingerprint* of everything they read:

* the groups: the dict objects, their keys, the params list objects and lengths;
* the params: the objects, and what may change about one in place (``p.data = …`` changes its
  shape, strides, dtype or device; its type and layout too), and whether and how each has a
  gradient (none, dense, sparse; a dense gradient's layout);
* the hyperparameters' values (``optim.plan.frozen``: type, value and the sign of a zero);
* the state entries the step wrote: the dict objects, each entry object, each buffer's layout
  (``buffer.data = …`` can change it) and each 0-d scalar's version counter (an in-place edit
  such as ``state["step"] += 1`` bumps it).

The next step recomputes the fingerprint, which is cheap, and reuses the plan only when it is
identical.  A new value of a hyperparameter (a learning rate a schedule wrote) checks every group
again and gives each state its group's new settings, keeping the checks of the params and
buffers; any other change is checked in full.  A sparse gradient (its rows change every step)
is checked in full every step.
"""
from __future__ import annotations

from typing import Any

import torch

from optim.plan import _Never, frozen


def layout(t: torch.Tensor) -> tuple:
    """What may change about an existing tensor object (``t.data = …`` changes all of it)."""
    if t.layout is not torch.strided:
        return type(t), t.layout
    return type(t), t.layout, t.shape, t.stride(), t.dtype, t.device


def fingerprint(execution: str, defaults: dict, groups: list) -> tuple[tuple, tuple]:
    """(structure, values): what the checks read, and the hyperparameters' values (a schedule
    changes these alone: the groups are checked again, not the params and states)."""
    structure: list = [execution, len(groups)]
    values: list = [tuple((k, frozen(v)) for k, v in defaults.items())]
    for group in groups:
        if type(group) is not dict or type(group.get("params")) is not list:
            return (_Never(),), ()   # checked in full, with the full check's error
        structure += [id(group), tuple(group)]
        values.append(tuple((k, frozen(v)) for k, v in group.items() if k != "params"))
        params = group["params"]
        structure += [id(params), len(params)]
        for p in params:
            grad = p.grad
            structure += [id(p), layout(p), None if grad is None else layout(grad)]
    return tuple(structure), tuple(values)


def entry_picture(entry: dict) -> tuple:
    """A saved state entry as the step left it (compared with ``same_entry``: a tensor's ``==``
    is elementwise): each object, its layout and version counter, and a 0-d tensor's value (a step
    count, η, μ: the step reads it back).  The version counter misses a write through an alias made
    by ``.data`` (``state["step"].data.fill_(…)``: that alias has a counter of its own), so the
    value is read."""
    return tuple((name, value, *_picture(value)) for name, value in entry.items())


def _picture(t: torch.Tensor) -> tuple:
    seen = layout(t)
    if len(seen) > 2 and seen[2] == ():   # a 0-d strided tensor: its value (frozen: the sign of a zero too)
        return seen, t._version, frozen(t.item())
    return seen, t._version, None


def same_entry(entry: dict, picture: tuple) -> bool:
    if len(entry) != len(picture):
        return False
    for name, value, seen, version, item in picture:
        now = entry.get(name)
        if now is not value or _picture(now) != (seen, version, item):
            return False
    return True


class Plan:
    """The checked entries ``[(p, None, state)]`` (None: a dense gradient), valid while the
    fingerprint is unchanged and every stepped param's state entry is the one the last step saved."""

    def __init__(self, key: tuple, values: tuple, groups: list, entries: list):
        self.key, self.values = key, values
        self.groups = groups          # kept alive: their ids are in the key
        self.entries = entries
        self.saved: list | None = None   # (entry dict or None, its picture) per entry, once stepped
        self.fresh = True     # the states got new settings this step (or were checked afresh)
        self.calls = None     # the compiled calls' recipe, for the next step (TorchOptimizer._recalled_calls)

    def keep(self, state: dict) -> None:
        """Remember the stepped params' state entries as the step left them."""
        entries = [state.get(p) for p, _, _ in self.entries]
        self.saved = [(entry, None if entry is None else entry_picture(entry)) for entry in entries]

    def current(self, key: tuple, state: dict) -> bool:
        if self.saved is None or key != self.key:
            return False
        for (p, _, _), (entry, picture) in zip(self.entries, self.saved):
            now = state.get(p)
            if now is not entry or (entry is not None and not same_entry(entry, picture)):
                return False
        return True
