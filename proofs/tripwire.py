"""Notice a theorem file that changes the code it is about.

A theorem file runs in the child that builds its obligations, so it could replace a method of
the tracer (``SymScalar.__truediv__`` without its recorded condition), an optimizer's update,
or SymPy's constructors, and the obligations would state something else than the code does.
The decider never sees the file, so it cannot be fooled directly; this check closes the
plain way of fooling it indirectly.  Before the file is imported, the child takes the identity
of every function, class and method in ``optim``, ``symbolic`` and the theorem harness, and of
SymPy's core constructors; after the build it compares.  A change makes the build fail.

It is a tripwire, not a sandbox: code that runs as the user can do anything, and a file that
wants to deceive its reader can.  It catches patches, accidental or naive.
"""
from __future__ import annotations

import importlib
import sys
import types

OURS = ("optim", "symbolic", "proofs.harness", "proofs.forms", "proofs.crosscheck")
SYMPY = ("sympy.core.add", "sympy.core.mul", "sympy.core.power", "sympy.core.numbers", "sympy.core.sympify",
         "sympy.core.relational", "sympy.functions.elementary.miscellaneous",
         "sympy.functions.elementary.complexes", "sympy.functions.elementary.piecewise")
FIRST_PARTY = ("optim", "symbolic", "proofs.harness", "proofs.forms.equation", "proofs.forms.induction",
               "proofs.forms.simulation", "proofs.forms.for_every", "proofs.forms.states", "proofs.crosscheck")


def _watched(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in OURS) or name in SYMPY


def fingerprint() -> dict:
    """{qualified name: id} of every callable and class (and each class's attributes) in the
    watched modules."""
    for name in FIRST_PARTY + SYMPY:
        importlib.import_module(name)
    prints = {}
    for name, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType) or not _watched(name):
            continue
        for attr, value in list(vars(module).items()):
            if getattr(value, "__module__", name) != name:
                continue  # imported from elsewhere: watched where it is defined
            if isinstance(value, type):
                prints[f"{name}.{attr}"] = id(value)
                for key, member in list(vars(value).items()):
                    if callable(member) or isinstance(member, (staticmethod, classmethod, property)):
                        prints[f"{name}.{attr}.{key}"] = id(member)
            elif callable(value):
                prints[f"{name}.{attr}"] = id(value)
    return prints


def changed(before: dict) -> list[str]:
    """The watched names whose object is no longer the one ``before`` saw."""
    after = fingerprint()
    return sorted(name for name, identity in before.items() if after.get(name, identity) != identity)


class Tampered(RuntimeError):
    """The theorem file replaced code the build relies on."""


def check(before: dict) -> None:
    names = changed(before)
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise Tampered(f"the theorem file replaced code the proof is about ({shown}): its obligations "
                       "would not state what optim/ computes")
