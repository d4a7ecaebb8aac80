"""What the step forms (induction, simulation) share: arbitrary states built from real ones.

A statement about *every* step is proved on a state that stands for every state the run can
reach.  The forms build it from a real state (the initial one) field by field:

* a field that holds tensors becomes **fresh**: each tensor in it a new variable of the
  theorem, arbitrary (entries in ℝ, or in a domain the form then shows is kept);
* every other field (hyperparameters, flags, ``None`` buffers, scalar buffers) **keeps** its
  value, and the form checks that one step keeps it too — so the arbitrary state really
  covers every reachable one;
* the step counter is given by the form (the symbolic t of an induction, a fresh natural of
  a simulation) and checked to advance by one.

Nothing here decides anything: it builds values that the forms put into goals.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import sympy

from symbolic.flatten import compare
from symbolic.notation import math_text
from symbolic.obligation import AT_MOST, LESS
from symbolic.tensor import SymScalar, SymTensor

# A tensor field's domain as goals: (relation, lhs, rhs) with the field's value standing for x.
DOMAIN_GOALS = {
    "real": (),
    "nonnegative": ((AT_MOST, 0, "x"),),
    "positive": ((LESS, 0, "x"),),
    "negative": ((LESS, "x", 0),),
    "unit": ((AT_MOST, 0, "x"), (LESS, "x", 1)),
    "closed_unit": ((AT_MOST, 0, "x"), (AT_MOST, "x", 1)),
}


def theorem_error(message: str) -> Exception:
    from proofs.harness import TheoremError  # the harness imports the forms: import late
    return TheoremError(message)


def contains_tensor(value: Any) -> bool:
    if isinstance(value, SymTensor):
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(contains_tensor(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (tuple, list)):
        return any(contains_tensor(v) for v in value)
    if isinstance(value, dict):
        return any(contains_tensor(v) for v in value.values())
    return False


def symbols_in(value: Any, path_conditions: list = ()) -> set:
    """Every SymPy symbol a value mentions: its entries, the definedness conditions recorded
    on it, and the given path conditions."""
    compared = compare(value, value)
    found = set()
    for _, lhs, rhs in compared.pairs:
        found |= _free(lhs) | _free(rhs)
    for condition in compared.conditions:
        found |= _free(condition.expr) | _free(condition.exponent)
    for condition in path_conditions:
        found |= _free(condition)
    return found


def _free(expr: Any) -> set:
    return set(expr.free_symbols) if isinstance(expr, sympy.Basic) else set()


def freshen(value: Any, given: Any, name: str, entries: str = "real") -> Any:
    """``value`` with every tensor in it replaced by a fresh variable of the same shape (named
    after ``name``); every other leaf kept."""
    if isinstance(value, SymTensor):
        return given.fresh(name, value, entries)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: freshen(getattr(value, f.name), given, f"{name}_{f.name}", entries)
                   for f in dataclasses.fields(value) if contains_tensor(getattr(value, f.name))}
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, (tuple, list)):
        return type(value)(freshen(v, given, f"{name}{i}", entries) for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: freshen(v, given, f"{name}_{k}", entries) for k, v in value.items()}
    return value


def claimed_after(stepped: Any, template: Any) -> Any:
    """What a step must produce for a field made fresh: nothing is claimed about its tensors
    (they are taken from ``stepped``); every other leaf must be the template's (unchanged).
    Where the structures differ the template is kept, so the comparison shows the mismatch."""
    if isinstance(template, SymTensor):
        return stepped if isinstance(stepped, SymTensor) else template
    if dataclasses.is_dataclass(template) and not isinstance(template, type):
        if type(stepped) is not type(template):
            return template
        changes = {f.name: claimed_after(getattr(stepped, f.name), getattr(template, f.name))
                   for f in dataclasses.fields(template) if contains_tensor(getattr(template, f.name))}
        return dataclasses.replace(template, **changes) if changes else template
    if isinstance(template, (tuple, list)):
        if not isinstance(stepped, (tuple, list)) or len(stepped) != len(template):
            return template
        return type(template)(claimed_after(s, t) for s, t in zip(stepped, template))
    if isinstance(template, dict):
        if not isinstance(stepped, dict) or set(stepped) != set(template):
            return template
        return {k: claimed_after(stepped[k], v) for k, v in template.items()}
    return template


def field_names(state: Any, role: str) -> list[str]:
    if not dataclasses.is_dataclass(state) or isinstance(state, type):
        raise theorem_error(f"{role} must be an optimizer state (a dataclass instance), got "
                            f"{type(state).__name__}")
    return [f.name for f in dataclasses.fields(state)]


def same_type(state: Any, like: Any, role: str) -> None:
    if type(state) is not type(like):
        raise theorem_error(f"{role} returned {type(state).__name__}, not a {type(like).__name__}: a step "
                            "maps a state to a state of the same optimizer")


def check_domains(domains: dict | None, fresh_fields: list[str], state: Any, role: str) -> dict:
    """The domains a form may confine fresh tensor fields to, validated."""
    domains = dict(domains or {})
    for name, domain in domains.items():
        if domain not in DOMAIN_GOALS:
            raise theorem_error(f"domains: {domain!r} for {name!r} is not one a form can check is kept "
                                f"(one of {sorted(DOMAIN_GOALS)})")
        if name not in fresh_fields or not isinstance(getattr(state, name), SymTensor):
            raise theorem_error(f"domains: {name!r} is not a tensor field that {role} leaves arbitrary "
                                f"(those are: {', '.join(fresh_fields) or 'none'})")
    return domains


def domain_goals(value: Any, domain: str) -> list[tuple]:
    """(relation, lhs, rhs) for "every entry of value lies in domain"."""
    return [(relation, value if lhs == "x" else lhs, value if rhs == "x" else rhs)
            for relation, lhs, rhs in DOMAIN_GOALS[domain]]


def show(value: Any) -> str:
    """A field's value for people (the generic entry of a tensor)."""
    if isinstance(value, SymTensor):
        return math_text(value.entries[0]) if value.is_generic else f"tensor {value.shape}"
    if isinstance(value, SymScalar):
        return math_text(value.expr)
    return repr(value)
