"""Every state buffer of every family is layout-checked by its ``update``, each on its own.

A state whose buffer (Adam's ``v``, NAdam's ``v``, Rprop's ``step_size``, …) has another shape
or dtype than the params is refused with ValueError / TypeError before anything is computed,
whichever buffer it is: a check that compared one buffer with another (``v`` against ``m``)
instead of with the params would accept a state whose buffers are equally malformed, and one
that left a buffer out would broadcast it silently.
"""
from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

import optim

# Options that make every optional buffer exist.
OPTIONS = {"Adam": dict(amsgrad=True), "AdamW": dict(amsgrad=True),
           "RMSprop": dict(centered=True, momentum=0.9), "SGD": dict(momentum=0.9)}


def full_state(name, p):
    family = optim.OPTIMIZERS[name]
    state = family.init(p, **OPTIONS.get(name, {}))
    if name == "SGD":   # torch builds the momentum buffer at the first step
        state = replace(state, buf=np.zeros_like(p))
    return state


CASES = [(name, f.name) for name in optim.OPTIMIZERS
         for f in fields(optim.OPTIMIZERS[name].State)
         if isinstance(getattr(full_state(name, np.zeros((2, 3))), f.name), np.ndarray)]


def test_every_family_has_buffers_to_check():
    assert {name for name, _ in CASES} == set(optim.OPTIMIZERS)


@pytest.mark.parametrize("name,buffer", CASES)
@pytest.mark.parametrize("malformed", ["shape", "dtype", "shape-of-every-buffer"])
def test_a_malformed_buffer_is_refused(name, buffer, malformed):
    p = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    g = np.linspace(0.5, -0.5, 6).reshape(2, 3)
    state = full_state(name, p)
    family = optim.OPTIMIZERS[name]
    if malformed == "shape":
        bad = replace(state, **{buffer: np.ones((3, 2))})
    elif malformed == "dtype":
        bad = replace(state, **{buffer: getattr(state, buffer).astype(np.float32)})
    else:   # every buffer broadcastable against the params and alike: only a check against p catches it
        bad = replace(state, **{f.name: np.ones((1, 3)) for f in fields(state)
                                if isinstance(getattr(state, f.name), np.ndarray)})
    error = TypeError if malformed == "dtype" else ValueError
    with pytest.raises(error, match=buffer if malformed != "shape-of-every-buffer" else None):
        family.update(bad, p.copy(), g.copy())
    # the valid state still updates
    family.update(state, p.copy(), g.copy())
