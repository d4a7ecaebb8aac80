"""The API torch users know, over NumPy arrays: ``optim.Adam(params, lr=1e-3, betas=...)``.

A thin shell over the pure functional updates; it adds no arithmetic.

* ``opt.step(grads)`` updates the param arrays in place (grads in the order of the params,
  group after group), whatever their layout: transposed, Fortran order, sliced, strided or
  reversed views, 0-d, empty (a destination that is not one C-order block is computed into
  a scratch and copied into it).  A step is all or nothing: every group's hyperparameters,
  every param (a writeable float array, no two params on overlapping memory, no array
  twice), every grad (count, type, shape, dtype) and every state is checked, and every fused
  kernel compiled, before any array is written; a failure changes nothing.
* Hyperparameters are real numbers: a string, None, a list, a complex or a bool is a
  TypeError naming it (torch raises a bare comparison TypeError, and accepts a bool); a 0-d
  array is its value, as torch accepts a 0-d tensor.  Checked at construction, at
  ``add_param_group`` and, for values a schedule writes into ``param_groups``, at the next
  step, before anything changes.
* ``param_groups`` is a list of dicts with per-group hyperparameters, as in torch; edits to
  them (a learning-rate schedule) take effect at the next step.
* ``state_dict()`` / ``load_state_dict()`` use torch's layout and state names
  (``exp_avg``, ``step``, …) and round-trip exactly.  Loading is strict and whole: the keys,
  the groups' sizes, indices and hyperparameters, and each param's state (exactly the
  entries its group's options give it; buffers NumPy arrays of the param's shape and dtype;
  scalars real) are checked before anything changes.  A missing buffer is an error, never
  zero-filled.  A state dict that went through JSON (string keys, lists for arrays) is
  refused with a message saying so: convert it back first.
* Duplicates: the same array twice in a group is refused (torch warns), in two groups too
  (torch's "some parameters appear in more than one parameter group"), and so are views of
  one buffer that overlap (each would be updated twice); disjoint views are fine.
* ``execution``: how the one definition runs.  ``"workspace"`` (default) traces the update and
  replays its NumPy ufuncs in place into buffers reused between steps (bit-identical to the
  functional run, without its temporaries); ``"fused"`` compiles the trace into one numba loop
  (needs numba; raises ``NotFusable`` where it does not apply, before any write); ``"functional"``
  calls the pure update as it is.

torch's execution options ``foreach``, ``fused``, ``capturable`` and ``differentiable`` are
accepted and ignored: they choose torch kernels, not the update.
"""
from __future__ import annotations

import copy as _copy
from dataclasses import fields as dataclass_fields, replace
from typing import Any, Iterable

import numpy as np

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # NumPy < 2
    byte_bounds = np.byte_bounds

from optim import (adadelta, adafactor, adagrad, adam, adamax, adamw, asgd, fields, lamb, lars, lion, momentum_sgd, muon, nadam, radam,
                   rmsprop, rprop, schedule_free_adamw, schedule_free_sgd, sgd)
from optim._shared import averaged_params, interpolated_params
from optim._checks import check_layout, real
from optim.lr_scheduler import SCHEDULE_KEYS
from optim.registry import FAMILIES, torch_positional
from optim.plan import Plan, fingerprint
from optim.replay import Programs, changed_scalars, present_after, shares_binding
from optim.trace import Untraceable, Workspace, prepare_fused_group, run_workspace_group, trace

TORCH_EXECUTION_OPTIONS = ("foreach", "fused", "capturable", "differentiable")

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _pair(key: str, value: Any, length: int = 2) -> tuple:
    """torch's pair arguments (betas, etas, step_sizes; Muon's three ns_coefficients): a tuple or
    list of ``length`` values."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "fiu":
        value = tuple(value.tolist())
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{key} must be a {'pair' if length == 2 else 'tuple'} of real numbers, got {value!r}")
    if len(value) != length:
        raise ValueError(f"{key} must have {length} values, got {value!r}")
    return tuple(value)


def functional_arguments(settings: dict, family: Any) -> dict:
    """torch's arguments -> the functional init's keyword arguments (betas -> beta1, beta2, …),
    as ``family``'s State declares them (``eps`` is one ε for Adam, Adafactor's pair (ε1, ε2))."""
    renamed = fields.torch_arguments(family.State)
    out = {}
    for key, value in settings.items():
        if key == "params":
            continue
        names = renamed.get(key, (key,))
        values = _pair(key, value, len(names)) if len(names) > 1 else (value,)
        out.update(zip(names, values))
    return out


def _plain(array: np.ndarray) -> np.ndarray:
    """An ndarray subclass (np.matrix, np.memmap) as a plain ndarray on the same memory: the
    update's arithmetic is elementwise whatever the subclass makes of ``*``."""
    return array if type(array) is np.ndarray else array.view(np.ndarray)


def _self_overlapping(a: np.ndarray) -> bool:
    """Whether two elements of ``a`` may share memory (a writeable stride-0 or as_strided view).
    Sufficient for disjointness: each stride, by size, spans at least the dimensions below it."""
    if a.size <= 1:
        return False
    span = a.itemsize
    for stride, n in sorted((abs(st), n) for n, st in zip(a.shape, a.strides) if n > 1):
        if stride < span:
            return True
        span += stride * (n - 1)
    return False


def _check_param(p: Any) -> None:
    """A param the optimizer can update in place, or an error before anything changes."""
    if isinstance(p, np.ma.MaskedArray):
        raise TypeError("params must not be masked arrays: the update would ignore the mask")
    if not isinstance(p, np.ndarray):
        raise TypeError(f"params must be NumPy arrays, got {type(p).__name__}")
    if p.dtype not in FLOAT_DTYPES:
        raise TypeError(f"params must be float32 or float64 arrays, got dtype {p.dtype}")
    if not p.flags.writeable:
        raise ValueError("params must be writeable arrays: step() updates them in place")
    if _self_overlapping(p):
        raise ValueError(f"a param's elements overlap in memory (shape {p.shape}, strides {p.strides}): "
                         f"it cannot be updated in place")


def _check_buffer(b: np.ndarray, where: str) -> None:
    """A state buffer the step can write in place (one edited in place since is refused)."""
    if not b.flags.writeable:
        raise ValueError(f"{where} is not writeable: step() updates it in place")
    if _self_overlapping(b):
        raise ValueError(f"{where}'s elements overlap in memory (strides {b.strides}): it cannot be updated in place")


def _check_no_overlap(arrays: list) -> None:
    """Params and buffers the step writes: no two on the same memory (a buffer shared by two
    params, or a param's memory, would be written twice)."""
    if _first_overlap(arrays) is not None:
        raise ValueError("two arrays the step writes (params or state buffers) share memory: "
                         "updating both would be wrong")


def _bounds(a: np.ndarray) -> tuple:
    return byte_bounds(a)


def _overlapping_pairs(arrays: list) -> list:
    """Pairs (i, j), i < j, of non-empty arrays whose memory ranges intersect (a sweep over
    the sorted ranges: cheap for the usual disjoint params)."""
    spans = sorted((*_bounds(a), i) for i, a in enumerate(arrays) if a.size)
    pairs, active = [], []
    for low, high, i in spans:
        active = [(h, j) for h, j in active if h > low]
        pairs += [(min(i, j), max(i, j)) for _, j in active]
        active.append((high, i))
    return pairs


def _first_overlap(arrays: list) -> tuple | None:
    """The first pair (i, j) of ``arrays`` on shared memory, or None."""
    return next(((i, j) for i, j in _overlapping_pairs(arrays) if np.shares_memory(arrays[i], arrays[j])), None)


def _check_distinct(groups: list) -> None:
    """No array twice, no two params on overlapping memory: each would be updated twice."""
    seen: dict[int, int] = {}
    flat = []
    for number, group in enumerate(groups):
        for p in group:
            if id(p) in seen:
                if seen[id(p)] == number:
                    raise ValueError("a parameter group contains duplicate parameters (the same array "
                                     "twice; torch warns 'optimizer contains a parameter group with "
                                     "duplicate parameters'): it would be updated twice")
                raise ValueError("some parameters appear in more than one parameter group")
            seen[id(p)] = number
            flat.append(p)
    overlap = _first_overlap(flat)
    if overlap is not None:
        i, j = overlap
        raise ValueError(f"params {i} and {j} overlap in memory (views of one buffer, shapes "
                         f"{flat[i].shape} and {flat[j].shape}): updating both would be wrong")


def check_constructor_only(name: str, keys: tuple, group: dict, defaults: dict) -> None:
    """Refuse a group value of a hyperparameter that torch.optim reads from the constructor only."""
    for key in keys:
        if key in group and group[key] != defaults[key]:
            raise ValueError(
                f"torch.optim.{name} takes {key} from its constructor only and ignores a param group's: "
                f"this group has {group[key]!r}, the optimizer {defaults[key]!r}; pass {key} to the constructor")


def torch_interface(family: Any) -> dict:
    """What a torch-style class of ``family`` is, from its declarations and its registry line."""
    defaults = fields.torch_defaults(family.State)
    positional = torch_positional(family)   # None: torch.optim has no such class; all by position
    # Init arguments the state does not keep (Adagrad's initial_accumulator_value): torch reads
    # them from the constructor only and builds the state there; a group's other value is refused.
    constructor_only = fields.init_only_arguments(family.State)
    return {"defaults": defaults, "positional": len(defaults) if positional is None else positional,
            "state_names": fields.state_names(family.State), "constructor_only": constructor_only,
            "state_at_construction": bool(constructor_only)}


class Optimizer:
    """A torch-style optimizer over NumPy arrays; a subclass names its family (``family = adam``)
    and gets the rest from the family's declarations (``torch_interface``)."""

    family: Any = None          # the functional module: State, init, update
    defaults: dict = {}         # torch's arguments and defaults, in torch's order
    positional: int = 0         # how many of them torch takes by position
    state_names: dict = {}      # torch's state key -> functional State field
    # Hyperparameters torch reads from the constructor's arguments only, never from a param group
    # (Adagrad's initial_accumulator_value): a group giving another value is refused, not ignored.
    constructor_only: tuple = ()
    state_at_construction: bool = False   # torch builds the state in __init__ (Adagrad)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "family" in cls.__dict__:
            for key, value in torch_interface(cls.family).items():
                setattr(cls, key, value)
            if cls.__doc__ is None:
                cls.__doc__ = f"torch.optim.{cls.__name__} over NumPy arrays (see {cls.family.__name__})."

    def __init__(self, params: Iterable, *args: Any, execution: str = "workspace", **kwargs: Any) -> None:
        if execution not in EXECUTIONS:
            raise ValueError(f"execution must be one of {EXECUTIONS}, got {execution!r}")
        if execution == "fused" and not getattr(type(self).family, "REDUCES", False):
            _require_numba()
        self.execution = execution
        self._workspace = Workspace()
        self._programs = Programs(type(self).family.update)   # traced steps, replayed (optim.replay)
        self._plan: Plan | None = None                        # the last step's checks (optim.plan)
        self._fused: tuple | None = None                      # (plan, tapes, calls): the last fused step's calls
        names = list(type(self).defaults)
        positional = names[:type(self).positional]
        if len(args) > len(positional):
            # torch takes no more by position (maximize is keyword-only; Adadelta's 5th is foreach):
            # binding one more to a hyperparameter would silently change the update.
            raise TypeError(f"{type(self).__name__} takes at most {len(positional)} positional hyperparameters "
                            f"({', '.join(positional)}), as torch.optim.{type(self).__name__} does; got {len(args)}")
        given = dict(zip(names, args))
        for key in kwargs:
            if key in given:
                raise TypeError(f"{type(self).__name__} got multiple values for argument {key!r}")
        given.update(kwargs)
        for option in TORCH_EXECUTION_OPTIONS:
            given.pop(option, None)
        unknown = set(given) - set(names)
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(unknown)}")
        self.defaults = {**type(self).defaults, **given}
        self._check(self.defaults)
        self.param_groups: list[dict] = []
        self.state: dict[int, Any] = {}   # global param index -> functional State
        if isinstance(params, (np.ndarray, dict, set)):
            raise TypeError("params argument given to the optimizer should be an iterable of arrays or "
                            f"dicts, but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)
        if self.state_at_construction:   # the params given here only, as torch: later ones at their first step
            self.state = {index: self._initial_state(group, p) for index, group, p in self._indexed()}

    # -- groups and hyperparameters --------------------------------------------------
    def add_param_group(self, group: dict) -> None:
        if not isinstance(group, dict):
            raise TypeError(f"a param group must be a dict, got {type(group).__name__}")
        group = dict(group)
        if "params" not in group:
            raise ValueError("a param group needs its 'params'")
        params = group.pop("params")
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs")
        params = [params] if isinstance(params, np.ndarray) else list(params)
        for p in params:
            _check_param(p)
            if hasattr(self.family, "check_param"):   # Muon: matrices only, torch's constructor check
                self.family.check_param(p.shape)
        _check_distinct([g["params"] for g in self.param_groups] + [params])
        for key in TORCH_EXECUTION_OPTIONS:
            group.pop(key, None)
        unknown = set(group) - set(self.defaults)
        if unknown:
            raise TypeError(f"unexpected hyperparameters in a param group: {sorted(unknown)}")
        settings = {**self.defaults, **group}
        self._check_group(settings)
        self.param_groups.append({"params": params, **settings})

    def _functional(self, settings: dict) -> dict:
        # A 0-d array hyperparameter (torch accepts a 0-d tensor) is its value.
        return {k: v.item() if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "fiu" else v
                for k, v in functional_arguments(settings, self.family).items()}

    def _check(self, settings: dict) -> Any:
        """Validate hyperparameters with torch's messages, before any state exists: a real
        hyperparameter that is not a real number (a string, None, a list, a complex, a bool)
        is a TypeError naming it; a 0-d array is its value."""
        for key, default in type(self).defaults.items():
            if isinstance(default, float) and key in settings:
                real(settings[key], key, "Invalid learning rate" if key == "lr" else f"Invalid {key} value")
        return self.family.init(np.zeros(0), **self._functional(settings))

    def _check_group(self, settings: dict) -> Any:
        """A group's hyperparameters: valid, and none that torch would silently ignore.  Returns
        the state ``init`` built from them (checked: its settings are those of the group's states)."""
        checked = self._check(settings)
        check_constructor_only(type(self).__name__, self.constructor_only, settings, self.defaults)
        return checked

    def _settings(self, group: dict) -> dict:
        # a schedule's keys (initial_lr, max_momentum, ...) sit beside the hyperparameters
        return {k: v for k, v in group.items()
                if k != "params" and k not in TORCH_EXECUTION_OPTIONS and k not in SCHEDULE_KEYS}

    def _expected_state(self, settings: dict, dtype: np.dtype, ndim: int = 1) -> dict:
        """torch's state keys a stepped param of this group has: key -> True for a buffer
        (an array), False for a scalar (found by one update of a 1-element proxy of the param's
        rank, so it follows the options and the shape: max_exp_avg_sq only with amsgrad, …)."""
        proxy = np.zeros((1,) * ndim, dtype)
        after = self._after_one_update(self.family.init(proxy, **self._functional(settings)), proxy)
        return {key: is_buffer for key, field in self.state_names.items()
                for present, is_buffer in [after[field]] if present}

    def _after_one_update(self, state: Any, proxy: np.ndarray) -> dict:
        """field -> (not None, a buffer) after one update of ``state`` from ``proxy``: read from
        the traced program where one applies (a schedule asks at every new learning rate; the
        program's guards decide whether it applies, as for a step), else from the update run."""
        try:
            if getattr(self.family, "REDUCES", False):   # no traced program: the update itself
                raise Untraceable("a reducing update is not traced")
            program, _, results = self._programs.bound(state, proxy, proxy)
        except Untraceable:
            new_state, _ = self.family.update(state, proxy, np.zeros_like(proxy))
            return {name: (value is not None, isinstance(value, np.ndarray)) for name, value in vars(new_state).items()}
        buffers = set(program.buffers)
        return {name: (present, name in buffers) for name, present in present_after(program, state, results).items()}

    # -- stepping ---------------------------------------------------------------------
    def _indexed(self):
        return self._indexed_in(self.param_groups)

    def _initial_state(self, group: dict, p: np.ndarray) -> Any:
        state = self.family.init(_plain(p), **self._functional(self._settings(group)))
        buffers = {n: np.asarray(v, order="C") for n, v in _buffers(state).items() if isinstance(v, np.ndarray)}
        return replace(state, **buffers)   # C order whatever the param's layout

    def _prepared_state(self, index: int, group: dict, p: np.ndarray, expected: dict, checked: Any) -> Any:
        """Param ``index``'s state with its group's settings (``checked``: the group's checked ones)."""
        state = self.state.get(index)
        if state is None:
            return self._initial_state(group, p)
        state = fields.with_settings(state, checked)
        made_by_update = fields.made_by_update(state)   # a missing one is made by the step, as torch does
        for key in expected:
            field = self.state_names[key]
            if getattr(state, field) is None and field not in made_by_update:
                raise ValueError(f"parameter {index} has no {key!r} state (the group's options changed "
                                 f"after its first step?): its step would need it")
        return state

    def step(self, grads: Iterable[np.ndarray]) -> None:
        """One step of every param, or an error and no change at all: every group, param,
        grad and hyperparameter is checked before anything is written (the checks of the
        params, groups and states are kept while nothing they read changes: ``optim.plan``)."""
        if isinstance(grads, np.ndarray):
            raise TypeError("step() takes a list of gradients, one per parameter")
        grads = list(grads)
        plan = self._current_plan()
        if len(grads) != len(plan.entries):
            raise ValueError(f"step() got {len(grads)} gradients for {len(plan.entries)} parameters")
        grads = [_checked_grad(g, p) for g, (_, _, p) in zip(grads, plan.entries)]
        params = [p for _, _, p in plan.entries]
        # A step with a reduction (LARS's and LAMB's norms) is no elementwise program to trace or
        # fuse: it runs as the functional update under every execution (the same values).
        if self.execution == "functional" or getattr(self.family, "REDUCES", False):
            results = [self.family.update(s, p, g) for s, p, g in zip(plan.states, params, grads)]
            for p, (_, new_p) in zip(params, results):
                np.copyto(p, new_p)
            self._stored(plan, [_zero_dim_as_arrays(state) for state, _ in results])
            return
        grads = self._unaliased(plan, grads)
        steps = self._traced(plan.states, params, grads)
        self._stored(plan, self._write(steps, plan.states, params, grads))

    def _current_plan(self) -> Plan:
        key, values = fingerprint(self.execution, self.defaults, self.param_groups)
        plan, self._plan = self._plan, None   # no plan while checking: a failed check keeps none
        if plan is not None and plan.current(key, self.state):
            if plan.values != values:   # hyperparameters edited (a schedule): the groups checked again
                plan.states = self._settled(plan.entries)
                plan.values = values
            self._plan = plan
            return plan
        self._plan = self._checked_plan(key, values)
        return self._plan

    def _settled(self, entries: list) -> list:
        """Each entry's state with its group's current settings, every group's checked first."""
        expected, checked = {}, {}
        for group in self.param_groups:
            settings = self._settings(group)
            checked[id(group)] = self._check_group(settings)
            for kind in {self._kind(p) for p in group["params"]}:
                expected[id(group), kind] = self._expected_state(settings, *kind)
        return [self._prepared_state(i, group, p, expected[id(group), self._kind(p)], checked[id(group)])
                for i, group, p in entries]

    def _kind(self, p: np.ndarray) -> tuple:
        """What the state a param has depends on: its dtype, and its rank where a buffer is not
        shaped like the params (Adafactor: row and column factors for a matrix, one for a vector)."""
        return (p.dtype, p.ndim if by_rank(self.family) else 1)

    def _checked_plan(self, key: tuple, values: tuple) -> Plan:
        """Every param, group and state checked in full."""
        entries = list(self._indexed())
        for _, _, p in entries:
            _check_param(p)
        _check_distinct([g["params"] for g in self.param_groups])
        entries = [(i, group, _plain(p)) for i, group, p in entries]
        states = self._settled(entries)
        for s, (index, _, p) in zip(states, entries):
            buffers = {k: v for k, v in _buffers(s).items() if v is not None}
            check_layout(p, p, fields.buffer_shapes(s, p, buffers), **buffers)
            for name, b in buffers.items():
                _check_buffer(b, f"parameter {index}'s {name} buffer")
        _check_no_overlap([p for _, _, p in entries] + [b for s in states for b in _buffers(s).values()
                                                          if b is not None])
        return Plan(key, values, list(self.param_groups), entries, states, self.state)

    def _stored(self, plan: Plan, states: list) -> None:
        """Keep the new states.  The plan stays valid when they hold the very buffers of the
        states it checked (written in place); else (a first step, a buffer created, the
        functional path's new arrays) the next step checks again in full, with the new memory."""
        same = all(index in plan.stored and all(getattr(new, n) is getattr(plan.stored[index], n)
                                                for n in fields.buffers(new))
                   for (index, _, _), new in zip(plan.entries, states))
        for (index, _, _), state in zip(plan.entries, states):
            self.state[index] = state
        plan.states = states
        if same:
            plan.store(self.state, same_buffers=True)
        else:
            self._plan = None

    def _unaliased(self, plan: Plan, grads: list) -> list:
        """A grad on memory that the step writes (a param, a state buffer) would be read after
        that memory is written: such a grad is copied first."""
        suspects = [j for j, g in enumerate(grads) if plan.may_alias(g)]
        if not suspects:
            return grads
        grads = list(grads)
        written = len(plan.written)
        for i, j in _overlapping_pairs(plan.written + [grads[j] for j in suspects]):
            if i < written <= j:
                grads[suspects[j - written]] = np.array(grads[suspects[j - written]], copy=True)
        return grads

    def _traced(self, states: list, params: list, grads: list) -> list:
        """Each param's step: (tape, output nodes, this step's scalars, the new state's scalars),
        a cached trace replayed where one applies (``optim.replay``), else the step traced with
        concrete scalars (an update that cannot be replayed).  A param whose state shares the
        previous param's binding (``replay.shares_binding``; the same dtype) shares its step,
        the very tuple: bound once per group."""
        steps: list = []
        shared = None   # (state, dtype) of the last replayed step
        for state, p, g in zip(states, params, grads):
            if shared is not None and shared[1] == p.dtype and shares_binding(shared[0], state):
                steps.append(steps[-1])
                continue
            try:
                program, scalars, results = self._programs.bound(state, p, g)
            except Untraceable:
                tape, outputs, new_state = trace(self.family.update, state, p, g, list(fields.buffers(state)))
                steps.append((tape, outputs, tape.scalars, {f.name: getattr(new_state, f.name)
                                                            for f in dataclass_fields(new_state)
                                                            if f.name not in fields.buffers(state)}))
                shared = None
                continue
            steps.append((program.tape, program.outputs, scalars, results))
            shared = (state, p.dtype)
        return steps

    def _write(self, steps: list, states: list, params: list, grads: list) -> list:
        """Write every step's outputs into its param and its state's buffers (allocated once) and
        return the new states, whose scalars are those the steps computed."""
        jobs = _Jobs(self._job, steps, states, params, grads)
        if self.execution == "fused":
            for call in self._fused_calls(steps, jobs, grads):   # every kernel compiled first
                call()
        else:   # one call per traced program, over all the tensors that share it
            for tape, outputs, _, group in _by_program(steps, jobs, range(len(steps))):
                run_workspace_group(tape, outputs, self._workspace, group)
        new_states, changed = [], None
        for k, (step, state) in enumerate(zip(steps, states)):
            if changed is None or step is not steps[k - 1]:   # a shared step: the same scalars change
                changed = changed_scalars(state, step[3])
            new_states.append(fields.evolve(state, **changed, **jobs.buffers(k, state)))
        return new_states

    def _fused_calls(self, steps: list, jobs: "_Jobs", grads: list) -> list:
        """The fused calls of this step.  While the plan is kept (the same params and buffers,
        checked) and each param replays the same program, last step's calls are rebound to the
        new grads and scalars (``FusedCall.rebound``) instead of being prepared tensor by tensor;
        a call that cannot be rebound is prepared afresh.  Calls are kept only from a step that
        allocated no buffer (the same programs then allocate none: they write in place)."""
        tapes = [step[0] for step in steps]
        kept = self._fused
        if not (kept is not None and kept[0] is self._plan and len(kept[1]) == len(tapes)
                and all(a is b for a, b in zip(kept[1], tapes))):
            prepared = self._prepared(steps, jobs, range(len(steps)))
            self._fused = None if jobs.allocated else \
                (self._plan, tapes, [(call.without_grads(), indices) for call, indices in prepared])
            return [call for call, _ in prepared]
        calls = []
        for template, indices in kept[2]:
            call = template.rebound([grads[k] for k in indices], [steps[k][2] for k in indices])
            calls += [call] if call is not None else [c for c, _ in self._prepared(steps, jobs, indices)]
        return calls

    @staticmethod
    def _prepared(steps: list, jobs: list, indices) -> list:
        """(fused call, the positions of its jobs) for the steps at ``indices``, one program at a time."""
        return [(call, [positions[j] for j in call.jobs])
                for tape, outputs, positions, group in _by_program(steps, jobs, indices)
                for call in prepare_fused_group(tape, outputs, group)]

    @staticmethod
    def _job(step: tuple, state: Any, p: np.ndarray, g: np.ndarray) -> tuple[list, list, bool]:
        """(inputs, destinations, whether a buffer was allocated) of one param's step: p, g and
        the buffers the state has; p and every buffer the step outputs (a buffer created by this
        step is allocated here)."""
        outputs = step[1]
        names = fields.buffers(state)
        inputs = [p, g] + [getattr(state, n) for n in names if getattr(state, n) is not None]
        destinations = [p] + [None if o is None   # a buffer the update leaves None (drops, or never made)
                              else getattr(state, n) if getattr(state, n) is not None
                              else np.empty(p.shape, p.dtype)
                              for n, o in zip(names, outputs[1:])]
        allocated = any(getattr(state, n) is None and o is not None for n, o in zip(names, outputs[1:]))
        return inputs, destinations, allocated

    # -- saving and loading -----------------------------------------------------------
    def state_dict(self) -> dict:
        state = {}
        for index, s in self.state.items():
            entry = {}
            for torch_name, field in self.state_names.items():
                value = getattr(s, field)
                if value is not None:
                    entry[torch_name] = value.copy() if isinstance(value, np.ndarray) else value
            if entry:  # as torch: a param with nothing to keep (SGD without momentum) has no entry
                state[index] = entry
        groups, start = [], 0
        for group in self.param_groups:
            count = len(group["params"])
            settings = {k: _copy.deepcopy(v) for k, v in group.items() if k != "params"}
            groups.append({**settings, "params": list(range(start, start + count))})
            start += count
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load torch's layout (``state``: param index -> torch's state names; ``param_groups``
        with ``params`` indices), checked whole against this optimizer before anything changes:
        keys, counts, every buffer's type, shape and dtype, every scalar and hyperparameter.
        A missing buffer is an error, never zero-filled.  A state dict that went through JSON
        (string keys, lists for arrays) is refused: convert it back (int keys, arrays of the
        params' dtypes) first."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"a state dict is a dict, got {type(state_dict).__name__}")
        missing = {"state", "param_groups"} - set(state_dict)
        if missing:
            raise ValueError(f"the state dict has no {sorted(missing)} entry")
        extra = set(state_dict) - {"state", "param_groups"}
        if extra:
            raise ValueError(f"unexpected entries in the state dict: {sorted(extra, key=str)}")
        groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_state, dict):
            raise TypeError(f"the state dict's 'state' must be a dict, got {type(saved_state).__name__}")
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
            raise TypeError("the state dict's 'param_groups' must be a list of dicts")
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for saved, current in zip(groups, self.param_groups):
            if not isinstance(saved.get("params"), (list, tuple)):
                raise TypeError("each saved param group needs 'params', a list of param indices")
            if len(saved["params"]) != len(current["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match "
                                 "the size of optimizer's group")
        order = [i for g in groups for i in g["params"]]
        for i in order:
            if not _is_index(i):
                raise TypeError(f"a saved param index must be an int, got {i!r} ({type(i).__name__})")
        if len(set(order)) != len(order):
            twice = sorted({i for i in order if order.count(i) > 1})
            raise ValueError(f"saved param index {twice} appears more than once in 'param_groups'")
        new_groups = []
        for number, (saved, current) in enumerate(zip(groups, self.param_groups)):
            settings = {k: _copy.deepcopy(v) for k, v in saved.items()
                        if k != "params" and k not in TORCH_EXECUTION_OPTIONS}
            unknown = set(settings) - set(self.defaults) - set(SCHEDULE_KEYS)
            if unknown:
                raise ValueError(f"saved param group {number} has unknown hyperparameters {sorted(unknown)}")
            absent = set(self.defaults) - set(settings)
            if absent:
                raise ValueError(f"saved param group {number} lacks hyperparameters {sorted(absent)}")
            self._check_group(self._settings(settings))
            new_groups.append({"params": current["params"], **settings})
        for key in saved_state:
            if not _is_index(key):
                raise TypeError(f"state keys are int param indices, got {key!r} ({type(key).__name__}): "
                                f"a state dict that went through JSON is refused; convert its keys with "
                                f"int() and its buffers with np.asarray(..., dtype=the param's dtype)")
        unknown = set(saved_state) - set(order)
        if unknown:
            raise ValueError(f"state for param indices {sorted(unknown)} that no saved group holds")
        index_of = dict(zip(order, range(len(order))))
        entries = list(self._indexed_in(new_groups))
        new_state = {}
        for saved_index, entry in saved_state.items():
            index, group, p = entries[index_of[saved_index]]
            new_state[index] = self._loaded_state(saved_index, entry, group, _plain(p))
        self.param_groups = new_groups
        self.state = new_state

    def _loaded_state(self, saved_index: int, entry: Any, group: dict, p: np.ndarray) -> Any:
        where = f"saved state of parameter {saved_index}"
        if not isinstance(entry, dict):
            raise TypeError(f"{where} must be a dict of torch's state names, got {type(entry).__name__}")
        settings = self._settings(group)
        expected = self._expected_state(settings, *self._kind(p))
        unexpected = set(entry) - set(expected)
        if unexpected:
            raise ValueError(f"{where} has unexpected entries {sorted(unexpected, key=str)} for this "
                             f"optimizer and its group's options (expected {sorted(expected)})")
        missing = set(expected) - set(entry)
        if missing:
            raise ValueError(f"{where} lacks {sorted(missing)} (a missing buffer is never zero-filled)")
        values = {}
        for key, value in entry.items():
            if expected[key]:
                if not isinstance(value, np.ndarray) or isinstance(value, np.ma.MaskedArray):
                    hint = " (a state dict that went through JSON?)" if isinstance(value, list) else ""
                    raise TypeError(f"{where}: {key} must be a NumPy array, got {type(value).__name__}{hint}")
                shape = fields.declarations(self.family.State).fields[self.state_names[key]].shape_for(p.shape)
                if value.shape != shape:
                    needs = "the parameter has" if shape == p.shape else f"a parameter of shape {p.shape} needs"
                    raise ValueError(f"{where}: {key} has shape {value.shape} but {needs} {shape}")
                if value.dtype != p.dtype:
                    raise TypeError(f"{where}: {key} has dtype {value.dtype} but the parameter has {p.dtype}")
                values[self.state_names[key]] = np.array(value, order="C", copy=True)
            else:
                real(value, key, f"{where}: invalid {key}")
                values[self.state_names[key]] = _copy.deepcopy(value)
        blank = self.family.init(p, **self._functional(settings))
        try:
            return replace(blank, **values)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{where}: {error}") from None

    @staticmethod
    def _indexed_in(groups):
        index = 0
        for group in groups:
            for p in group["params"]:
                yield index, group, p
                index += 1

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in group.items() if k != "params"]
        return "\n".join(lines + [")"])


def _checked_grad(g: Any, p: np.ndarray) -> np.ndarray:
    """A grad for ``p``: a NumPy array (a subclass as a plain ndarray) of its shape and dtype."""
    if type(g) is np.ndarray and g.shape == p.shape and g.dtype == p.dtype:
        return g
    if isinstance(g, np.ma.MaskedArray):
        raise TypeError("grads must not be masked arrays: the update would ignore the mask")
    g = _plain(g) if isinstance(g, np.ndarray) else g
    check_layout(p, g)
    return g


class _Jobs:
    """Each step's job (``Optimizer._job``), made when first asked for: a rebound fused call
    needs none."""

    def __init__(self, make: Any, steps: list, states: list, params: list, grads: list):
        self.make, self.arguments = make, (steps, states, params, grads)
        self.made: dict[int, tuple] = {}
        self.allocated = False   # whether a job allocated a buffer
        self.dropped: tuple = (None, [])   # (a program's outputs, the buffers it leaves None)

    def __getitem__(self, k: int) -> tuple[list, list]:
        job = self.made.get(k)
        if job is None:
            inputs, destinations, allocated = self.make(*(arguments[k] for arguments in self.arguments))
            job = self.made[k] = inputs, destinations
            self.allocated |= allocated
        return job

    def buffers(self, k: int, state: Any) -> dict:
        """The buffers of step ``k``'s new state: its destinations; where no job was made (a
        rebound fused call wrote the state's own buffers in place), the state's, but None where
        the update leaves none."""
        job = self.made.get(k)
        if job is not None:
            return dict(zip(fields.buffers(state), job[1][1:]))
        outputs = self.arguments[0][k][1]
        if self.dropped[0] is not outputs:   # the params of a program share its output list
            self.dropped = outputs, [n for n, o in zip(fields.buffers(state), outputs[1:]) if o is None]
        return {n: None for n in self.dropped[1] if getattr(state, n) is not None}


def _by_program(steps: list, jobs: Any, indices) -> list:
    """The steps at ``indices`` by traced program: (tape, outputs, their positions, their jobs as
    (inputs, destinations, scalars))."""
    by_tape: dict = {}
    for k in indices:
        by_tape.setdefault(id(steps[k][0]), (steps[k][0], steps[k][1], []))[2].append(k)
    return [(tape, outputs, positions, [(*jobs[k], steps[k][2]) for k in positions])
            for tape, outputs, positions in by_tape.values()]


def _is_index(i: Any) -> bool:
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


EXECUTIONS = ("workspace", "fused", "functional")


def _require_numba() -> None:
    try:
        import numba  # noqa: F401
    except ImportError as error:
        raise ImportError("execution='fused' needs numba: pip install 'optlaws[fast]'") from error


def by_rank(family: Any) -> bool:
    """Whether a param's state depends on its rank: a buffer not shaped like the params
    (Adafactor) or a family that takes some ranks only (Muon, matrices)."""
    return fields.shaped_by_param(family.State) or hasattr(family, "RANKS")


def _buffers(state: Any) -> dict:
    """The state's buffers (declared in its State): arrays, or None until an option or an update
    creates them."""
    return {name: getattr(state, name) for name in fields.buffers(state)}


def _zero_dim_as_arrays(state: Any) -> Any:
    """NumPy returns scalars for 0-d arithmetic; keep a 0-d parameter's buffers 0-d arrays."""
    scalars = {f.name: np.asarray(getattr(state, f.name)) for f in dataclass_fields(state)
               if isinstance(getattr(state, f.name), np.generic)}
    return replace(state, **scalars) if scalars else state


# One class per family of the registry (optim.registry); each gets its defaults, positional
# arguments, state names and torch's construction quirks from the family's declarations.
class SGD(Optimizer):
    family = sgd


class MomentumSGD(Optimizer):
    """TorchLean's momentum SGD (no torch.optim class) with the torch-style interface (see optim.momentum_sgd)."""
    family = momentum_sgd


class Adam(Optimizer):
    family = adam


class AdamW(Optimizer):
    family = adamw


class Adadelta(Optimizer):
    family = adadelta


class Adagrad(Optimizer):
    family = adagrad


class RMSprop(Optimizer):
    family = rmsprop


class Adamax(Optimizer):
    family = adamax


class NAdam(Optimizer):
    family = nadam


class RAdam(Optimizer):
    family = radam


class Rprop(Optimizer):
    family = rprop


class ASGD(Optimizer):
    family = asgd


class Adafactor(Optimizer):
    family = adafactor


class Muon(Optimizer):
    family = muon


class Lion(Optimizer):
    family = lion


NOT_IN_TRAIN_MODE = ("Optimizer was not in train mode when step is called. Please insert .train() and .eval() "
                     "calls on the optimizer. See documentation for details.")   # schedule_free's words


class ScheduleFree(Optimizer):
    """schedule_free's two modes: while training the params are y, where the gradient is taken;
    ``eval()`` loads the average x = lerp(y, z, 1 − 1/β) to evaluate or save, ``train()`` goes
    back (y = lerp(x, z, 1 − β)).  A new optimizer is in eval mode and ``step()`` refuses to run
    outside train mode, as schedule_free's.  The mode is not in ``state_dict`` (save in eval
    mode, as schedule_free asks; a loaded optimizer starts in eval mode)."""

    train_mode: bool = False   # a new optimizer is in eval mode

    def step(self, grads: Iterable[np.ndarray]) -> None:
        if not self.train_mode:
            raise RuntimeError(NOT_IN_TRAIN_MODE)
        super().step(grads)

    def train(self) -> None:
        self._move(train=True)

    def eval(self) -> None:
        self._move(train=False)

    def _move(self, train: bool) -> None:
        if self.train_mode == train:
            return
        moved = []
        for index, group, p in self._indexed():   # every new value before any write
            state = self.state.get(index)
            if state is not None:
                beta = self._functional(self._settings(group))[self.family.INTERPOLATION]
                to = interpolated_params if train else averaged_params
                moved.append((p, to(p, state.z, beta)))
        for p, value in moved:
            np.copyto(p, value)
        self.train_mode = train


class SGDScheduleFree(ScheduleFree):
    family = schedule_free_sgd


class AdamWScheduleFree(ScheduleFree):
    family = schedule_free_adamw


class LARS(Optimizer):
    family = lars


class LAMB(Optimizer):
    family = lamb


CLASSES = {cls.__name__: cls for cls in (SGD, MomentumSGD, Adam, AdamW, Adadelta, Adagrad, RMSprop, Adamax,
                                         NAdam, RAdam, Rprop, ASGD, Adafactor, Muon, Lion, SGDScheduleFree, AdamWScheduleFree,
                                         LARS, LAMB)}
# The classes torch.optim has, compared with it by the tests.
TORCH_OPTIMIZERS = {family.name: CLASSES[family.name] for family in FAMILIES if family.torch_positional is not None}
