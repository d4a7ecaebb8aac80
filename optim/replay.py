"""Trace once, run many: a traced step replayed for later steps, never when it is stale.

A traced step (``optim.trace``) depends on the state's *structure* — the dtype (not the shape:
it is traced with ``ANY_SHAPE``), which buffers exist, the flags, the types of the scalars — and on the truth values the update took on
its scalars (``weight_decay != 0``, RAdam's regime, ASGD's ``μ != 1``).  A ``Program`` is one
traced step whose scalar arithmetic was recorded too (``optim.trace.ScalarTape``): a later step
with the same structure (``structure``) recomputes its scalars — hyperparameters, step count,
bias corrections — with the same Python operations on that step's values (``bind``), so the
replay computes exactly what a fresh trace would.  Where a guard comes out otherwise, or an
operand's type differs, ``bind`` says so and the step is traced afresh; so a cached trace is
never used stale.  An update that turns a traced scalar into a Python number (``float(x)``)
cannot be replayed: its steps are traced each time with concrete scalars (``Untraceable``).
"""
from __future__ import annotations

import functools
import numbers
import operator
from dataclasses import fields as dataclass_fields, replace
from typing import Any

import numpy as np

from optim import fields
from optim._checks import is_number
from optim.trace import ANY_SHAPE, TraceScalar, Untraceable, trace

MAX_PROGRAMS = 8   # per structure: a branch that flips back and forth (RAdam's regime) keeps both


_FIELDS: dict[type, tuple] = {}


def _fields(state_type: type) -> tuple:
    """(name, is a buffer) for each field of a State class, in order (looked up once)."""
    known = _FIELDS.get(state_type)
    if known is None:
        buffers = set(fields.buffers(state_type))
        known = _FIELDS[state_type] = tuple((f.name, f.name in buffers) for f in dataclass_fields(state_type))
    return known


def scalar_fields(state: Any) -> tuple:
    """The state's real scalars (hyperparameters, the step, η, μ, …): recomputed on replay."""
    return tuple(name for name, is_buffer in _fields(type(state))
                 if not is_buffer and is_number(state.__dict__[name]))


def stepped(state: Any, scalars: dict, buffers: dict) -> Any:
    """The state after a replayed step: the scalars the step computed that differ from the
    state's (hyperparameters come back as the very same objects) and its buffers, unchecked
    (``fields.evolve``: values an update computed from a checked state)."""
    return fields.evolve(state, **changed_scalars(state, scalars), **buffers)


def changed_scalars(state: Any, scalars: dict) -> dict:
    """The scalars a step computed that are not the state's own objects (a hyperparameter
    comes back as the very same object)."""
    return {name: value for name, value in scalars.items() if value is not getattr(state, name)}


def shares_binding(previous: Any, state: Any) -> bool:
    """Whether ``state`` has ``previous``'s class and fields, the very same objects in every
    scalar, flag and setting, and buffers of the same types: then ``structure`` and
    ``Program.bind`` give it what they gave ``previous`` (for params of one dtype).  A group's
    params hold the same scalar objects (one bind made them all), so a step binds once per
    group, not once per param."""
    kind = type(state)
    if kind is not type(previous):
        return False
    values, before = state.__dict__, previous.__dict__
    if len(values) != len(before):
        return False
    scalars, buffers = _field_getters(kind)
    try:
        return (all(map(operator.is_, scalars(values), scalars(before)))
                and all(map(operator.is_, map(type, buffers(values)), map(type, buffers(before)))))
    except KeyError:   # a declared field missing from the instance
        return False


@functools.cache
def _field_getters(state_type: type) -> tuple:
    """Readers of (every field but the buffers, the buffers) of a state's ``__dict__``, as tuples."""
    def getter(names: tuple) -> Any:
        return operator.itemgetter(*names) if len(names) > 1 else lambda d: tuple(d[n] for n in names)
    named = _fields(state_type)
    return (getter(tuple(n for n, is_buffer in named if not is_buffer)),
            getter(tuple(n for n, is_buffer in named if is_buffer)))


def structure(state: Any, params: np.ndarray) -> tuple | None:
    """What a traced step of ``state`` depends on besides its scalars' values — not the shape:
    a program is traced with ``ANY_SHAPE`` — or None when some field cannot be compared (the
    step is then traced each time): the type of every field (so which buffers exist, and each
    scalar's type) and the value of each flag, string or None."""
    values = state.__dict__
    types = tuple(map(type, values.values()))
    key = (type(state), tuple(values), types)   # the names too: the types are read in their order
    recipe = _RECIPES.get(key)
    if recipe is None:
        if len(_RECIPES) >= 1024:   # State classes made on the fly (tests, notebooks): bounded
            _RECIPES.clear()
        recipe = _RECIPES[key] = _recipe(*key)
    if recipe is _NOT_COMPARABLE:
        return None
    return type(state), params.dtype.str, types, tuple(map(values.__getitem__, recipe))


_NOT_COMPARABLE = object()
_RECIPES: dict[tuple, Any] = {}


def _recipe(state_type: type, names: tuple, types: tuple) -> Any:
    """For the fields of these types (read by ``structure``): the names whose values a trace
    depends on (flags, strings, None), or ``_NOT_COMPARABLE`` where a scalar is not a real
    number (a list, an object: its value matters to the trace and cannot be compared).  A
    buffer is an array (NumPy's, torch's) or None; the tracer reads its dtype, not its values."""
    buffers = set(fields.buffers(state_type))
    if names != tuple(name for name, _ in _fields(state_type)):
        return _NOT_COMPARABLE   # fields added to or missing from the instance
    valued = []
    for name, kind in zip(names, types):
        if name in buffers:   # an array of any library, or None: its type says which
            continue
        if kind is bool or kind is str or kind is type(None):
            valued.append(name)
        elif not (issubclass(kind, numbers.Real) and kind is not bool):
            return _NOT_COMPARABLE
    return tuple(valued)


def present_after(program: "Program", state: Any, results: dict) -> dict:
    """field -> whether it is not None after ``program``'s step of ``state`` (``results``: the
    scalars it computed): a buffer of the new state is an output node (None where the update
    leaves none); any other field is the step's result or stays as it was."""
    after = {name: output is not None for name, output in zip(program.buffers, program.outputs[1:])}
    for name in state.__dict__.keys() - after.keys():
        after[name] = results.get(name, state.__dict__[name]) is not None
    return after


class Program:
    """One traced step: the tensor tape, its output nodes, and how this step's scalars and the
    new state's scalar fields follow from the state's scalars."""

    def __init__(self, update: Any, state: Any, params: np.ndarray, grads: np.ndarray):
        self.buffers = fields.buffers(state)
        self.inputs = scalar_fields(state)
        self._last: tuple | None = None
        # The tracer reads dtypes only (the shape is ANY_SHAPE): 0-d stand-ins keep no array alive.
        proxy = np.zeros((), params.dtype)
        stand_ins = replace(state, **{n: proxy for n in self.buffers if getattr(state, n) is not None})
        self.tape, self.outputs, new_state = trace(update, stand_ins, proxy, proxy, list(self.buffers), self.inputs,
                                                   shape=ANY_SHAPE)
        self.scalars = self.tape.scalar_tape
        constants = self.scalars.node_of   # a constant operand becomes a constant node
        self.operands = [x.index if isinstance(x, TraceScalar) else constants(x) for x in self.tape.scalars]
        self.operand_types = tuple(type(self.scalars.values[n]) for n in self.operands)
        buffers = set(self.buffers)
        self.results = {f.name: self._node(getattr(new_state, f.name)) for f in dataclass_fields(new_state)
                        if f.name not in buffers and isinstance(getattr(new_state, f.name), TraceScalar)}
        for f in dataclass_fields(new_state):
            value = getattr(new_state, f.name)
            if f.name not in buffers and not isinstance(value, TraceScalar) and value is not getattr(state, f.name):
                raise Untraceable(f"the update set {f.name} to a value computed outside the trace")

    def _node(self, value: TraceScalar) -> int:
        if value.tape is not self.scalars:
            raise Untraceable("a scalar of another trace")
        return value.index

    def bind(self, state: Any) -> tuple[list, dict] | None:
        """This step's tape scalars and the new state's scalar fields, recomputed from ``state``;
        None when the traced step does not apply to it (a guard or an operand type differs).
        The last inputs and result are kept: the params of a group share their scalars (the very
        same int and float objects, which cannot change), so the arithmetic runs once per group
        and step."""
        inputs = tuple(map(state.__dict__.__getitem__, self.inputs))
        last = self._last
        if last is not None and all(map(operator.is_, last[0], inputs)):
            return last[1]
        bound = self._bind(inputs)
        # Kept only for inputs that cannot change in place (a 0-d array or a mutable number could).
        self._last = (inputs, bound) if all(type(a) is int or type(a) is float for a in inputs) else None
        return bound

    def _bind(self, inputs: tuple) -> tuple[list, dict] | None:
        values = self.scalars.evaluate(inputs)
        if values is None:
            return None
        operands = [values[n] for n in self.operands]
        if tuple(map(type, operands)) != self.operand_types:
            return None
        return operands, {name: values[n] for name, n in self.results.items()}


class Programs:
    """The programs of one optimizer, by structure."""

    def __init__(self, update: Any):
        self.update = update
        self.by_structure: dict[tuple, list[Program]] = {}
        self.traced = 0   # fresh traces so far (a test reads it: a cached step traces nothing)

    def bound(self, state: Any, params: np.ndarray, grads: np.ndarray) -> tuple[Program, list, dict]:
        """A program that applies to this step, with its scalars bound: cached when one does,
        else traced now (and kept, unless the update cannot be replayed)."""
        key = structure(state, params)
        programs = self.by_structure.get(key, []) if key is not None else []
        for program in programs:
            bound = program.bind(state)
            if bound is not None:
                return (program, *bound)
        self.traced += 1
        program = Program(self.update, state, params, grads)
        bound = program.bind(state)
        if bound is None:   # the traced step's own values: it cannot fail unless the update is not pure
            raise Untraceable("a traced step does not replay its own values")
        if key is not None:
            self.by_structure[key] = (programs + [program])[-MAX_PROGRAMS:]
        return (program, *bound)
