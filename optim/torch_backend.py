"""The PyTorch backend: the same optimizer definitions on torch tensors (CPU or CUDA), and
``torch.optim.Optimizer`` subclasses built from them, so the proven update trains a real
``torch.nn.Module`` (param groups, ``state_dict``, closures, as torch does).

torch is optional (``pip install 'optlaws[torch]'``): importing this module imports torch;
nothing else in ``optim`` does.

Never a silent wrong result:

* a step is all or nothing: every group's hyperparameters, every gradient and every state entry
  are checked and every update computed before the first param or state is written;
* ``execution="compiled"``: the traced update (``optim.replay``) compiled by ``torch.compile``
  over every param of a group, one fused kernel per tensor (``optim.torch_compiled``; the first
  step compiles, on copies, so a failure changes nothing); ``"eager"`` (the default for now):
  the functional update on each param;
* ``torch.compile`` of a training step runs the optimizer's step as it is (dynamo does not trace
  it: the eager or the compiled execution above, never a third; ``fullgraph=True`` is refused
  with the reason);
* torch's execution options are accepted at the value that means this implementation
  (``foreach``/``fused`` None or False, ``capturable``/``differentiable`` False) and refused
  otherwise, never ignored;
* sparse gradients: torch's sparse Adagrad and momentum-free SGD (the update on the rows the
  gradient touches), torch's error for every other optimizer, before anything changes;
* ``load_state_dict`` takes torch.optim's state (its 0-d tensors read with ``.item()``, as torch
  reads them) and refuses a malformed one (missing or unknown entries, wrong shape, dtype or
  type, a bad step count, string keys from JSON) before anything changes; the state is saved in
  torch's layout (``step``, ``mu_product``, ``eta``, ``mu`` as 0-d tensors).
"""
from __future__ import annotations

import inspect
import math
import numbers
from dataclasses import replace
from typing import Any, Callable

import numpy as np
import torch

from optim import (_checks, adadelta, adafactor, adagrad, adam, adamax, adamw, asgd, fields, lamb, lars, lion, momentum_sgd, muon, nadam,
                   radam, rmsprop, rprop, schedule_free_adamw, schedule_free_sgd, sgd, stateful, torch_compiled,
                   torch_plan)
from optim._shared import averaged_params, interpolated_params
from optim.plan import frozen
from optim.registry import torch_positional
from optim.replay import Programs, present_after, stepped, structure
from optim.trace import Untraceable
from optim.context import register_context

FLOATING = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _is_tensor(x) -> bool:
    return isinstance(x, torch.Tensor)


def _extremum(x, y, elementwise, clamp_side: str, scalar):
    """max/min of two tensors, a tensor and a number (a clamp), or two numbers."""
    if _is_tensor(x) and _is_tensor(y):
        return elementwise(x, y)
    if _is_tensor(x) or _is_tensor(y):
        tensor, bound = (x, y) if _is_tensor(x) else (y, x)
        return torch.clamp(tensor, **{clamp_side: bound})
    return scalar(x, y)


class TorchContext:
    name = "torch"

    def sqrt(self, x):
        return torch.sqrt(x) if _is_tensor(x) else x**0.5

    def square(self, x):
        return x * x

    def abs(self, x):
        return torch.abs(x) if _is_tensor(x) else abs(x)

    def sign(self, x):
        return torch.sign(x) if _is_tensor(x) else float((x > 0) - (x < 0))

    def maximum(self, x, y):
        return _extremum(x, y, torch.maximum, "min", max)

    def minimum(self, x, y):
        return _extremum(x, y, torch.minimum, "max", min)

    def where(self, condition, x, y):
        like = next(v for v in (x, y, condition) if _is_tensor(v))
        dtype = like.dtype if like.dtype in FLOATING else torch.get_default_dtype()
        x = x if _is_tensor(x) else torch.full_like(like, x, dtype=dtype)
        y = y if _is_tensor(y) else torch.full_like(like, y, dtype=dtype)
        return torch.where(condition, x, y)

    def select(self, condition, if_true, if_false):
        return if_true() if condition else if_false()

    def round_float32(self, x):
        return float(torch.tensor(x, dtype=torch.float32))

    def copy(self, x):
        return x.clone()

    def zeros_like(self, x):
        return torch.zeros_like(x)

    def full_like(self, x, value):
        return torch.full_like(x, value)

    def total(self, x):
        return torch.sum(x)   # a 0-d tensor

    def scalar_max(self, bound, x):
        return max(bound, x.item() if _is_tensor(x) else x)   # torch's own max(bound, t.item())

    def sum(self, x, axis):
        return torch.sum(x, dim=axis, keepdim=True)

    def matmul(self, a, b):
        return a @ b

    def transpose(self, x):
        return x.transpose(-1, -2)

    def zeros(self, like, shape):
        return torch.zeros(shape, dtype=like.dtype, device=like.device)

    def machine_epsilon(self, like):
        return torch.finfo(like.dtype).eps

    def shape(self, x):
        return tuple(x.shape)

    def dtype(self, x):
        return str(x.dtype)

    def check_tensor(self, x, role):
        if x.dtype not in FLOATING:
            raise TypeError(f"{role} must be a floating-point tensor, got dtype {x.dtype}")


TORCH = TorchContext()
register_context(torch.Tensor, TORCH)


# Execution options of torch.optim's constructors.  They choose torch's kernels; this backend has
# one implementation (the functional update, one param at a time, under no_grad), so each is
# accepted only at the value that means that implementation, and refused otherwise.
OPTION_NO_OPS = {"foreach": (None, False), "fused": (None, False),
                 "capturable": (False,), "differentiable": (False,)}
OPTION_REASONS = {
    "foreach": "the multi-tensor kernels are torch's; this backend steps one parameter at a time",
    "fused": "the fused kernels are torch's; this backend runs the functional update",
    "capturable": "CUDA-graph capture needs the state on the device and no host syncs",
    "differentiable": "the step runs under no_grad: gradients do not flow through it",
}


def _torch_options(name: str, defaults: dict) -> dict:
    """The arguments of torch.optim.<name> 2.x beyond the hyperparameters, with torch's defaults."""
    reference = getattr(torch.optim, name, None)
    if reference is None:
        return {k: v[0] for k, v in OPTION_NO_OPS.items()}
    signature = inspect.signature(reference.__init__)
    options = {k: p.default for k, p in signature.parameters.items()
               if k not in ("self", "params") and k not in defaults}
    unknown = set(options) - set(OPTION_NO_OPS)
    if unknown:   # a torch release with an argument this backend has never heard of
        raise RuntimeError(f"torch.optim.{name} has arguments {sorted(unknown)} that "
                           f"optim.torch_backend.{name} does not know")
    return options


def _check_option(key: str, value: Any) -> None:
    if not any(value is allowed for allowed in OPTION_NO_OPS[key]):
        raise ValueError(f"{key}={value!r} is not implemented by optim.torch_backend "
                         f"({OPTION_REASONS[key]}); use {key}={OPTION_NO_OPS[key][0]!r} or torch.optim")


def _real_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_hyperparameter(key: str, value: Any, default: Any, allow_nan: bool) -> None:
    """The kind of each hyperparameter, as torch's default has it: a bool option is a bool, a
    number is a real Python number (not NaN), a pair is a pair of them."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError(f"{key} must be a bool, got {value!r}")
        return
    if isinstance(default, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(default):
            raise TypeError(f"{key} must be a tuple of {len(default)} numbers, got {value!r}")
        for item, default_item in zip(value, default):
            if not (item is None and default_item is None):   # Adafactor's eps[0]: None is its default
                _check_number(key, item, allow_nan)
        return
    if default is None or isinstance(default, str):   # a choice (Muon's adjust_lr_fn): the family checks it
        return
    _check_number(key, value, allow_nan)


def _check_number(key: str, value: Any, allow_nan: bool) -> None:
    if isinstance(value, torch.Tensor):
        raise TypeError(f"{key} must be a Python number; a Tensor {key} (torch's capturable path) is "
                        f"not implemented by optim.torch_backend: pass float({key})")
    if not _real_number(value):
        raise TypeError(f"{key} must be a real number, got {value!r}")
    if not allow_nan and math.isnan(value):
        raise ValueError(f"{key} must not be NaN")


# torch.optim's optimizers that take a sparse gradient (Adagrad, SGD without momentum); the others
# raise torch's error (2.13) here, before anything changes.
SPARSE = ("SGD", "Adagrad")
_SPARSE_ERRORS = {
    "Adam": "Adam does not support sparse gradients, please consider SparseAdam instead",
    "AdamW": "Adam does not support sparse gradients, please consider SparseAdam instead",
}


# Dynamo traced this step wrongly (its per-parameter state got mixed across params after a graph
# break in the validation: one param's step went 1 -> 3 -> 5, another stayed at 1), so it does not
# trace it: a compiled step runs this step eagerly and gives the eager result, bit for bit.
COMPILE_REASON = ("optim.torch_backend runs its step eagerly under torch.compile (the same result as "
                  "without compile, no speed-up); fullgraph=True cannot include it")


# execution="compiled": the traced update compiled by torch.compile over every param of a group
# (optim.torch_compiled); "eager": the functional update on each param, as it is.
EXECUTIONS = ("eager", "compiled")
_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}   # the dtypes the tracer knows
_PROXIES = {dtype: np.zeros((), numpy_dtype) for dtype, numpy_dtype in _NUMPY_DTYPES.items()}


def _scalar_dtype() -> torch.dtype:
    """torch.optim's dtype for ``step`` and the scalar state tensors (``_get_scalar_dtype``)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


class TorchOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose step is the functional ``family.update``.

    A step is all or nothing: every group's hyperparameters, every gradient and every state entry
    are checked and every update computed (the functional update is pure) before the first param
    or state is written.  Under ``torch.compile`` the step runs eagerly (dynamo is disabled for
    it), so a compiled step is the eager step, bit for bit.
    """

    family: Any = None
    defaults_: dict = {}
    state_names: dict = {}
    made_by_update_: set = set()   # torch's names of the buffers the update makes when missing
    scalar_entries_: tuple = ()    # (torch name, field, counts steps) of the scalar state entries
    buffer_entries_: tuple = ()    # (torch name, field) of the others
    all_saved_: bool = False
    options_: dict = {}
    scalar_state: dict = {}   # torch's 0-d tensor state name -> True for the step counter
    family_in_torch: bool = True   # torch.optim has this optimizer (its scalar dtype applies)
    by_rank_: bool = False         # a param's state depends on its rank (stateful.by_rank)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "family" not in cls.__dict__:
            return
        interface = stateful.torch_interface(cls.family)
        cls.defaults_ = interface["defaults"]
        cls.state_names = interface["state_names"]
        made = fields.made_by_update(cls.family.State)
        cls.made_by_update_ = {name for name, field in cls.state_names.items() if field in made}
        cls.constructor_only = interface["constructor_only"]
        cls.state_at_construction = interface["state_at_construction"]
        cls.options_ = _torch_options(cls.__name__, cls.defaults_)
        cls.family_in_torch = torch_positional(cls.family) is not None
        cls.by_rank_ = stateful.by_rank(cls.family)
        declared = fields.declarations(cls.family.State)
        cls.scalar_state = {name: declared.fields[field].domain == "natural"
                            for name, field in cls.state_names.items()
                            if declared.fields[field].kind == fields.SCALAR}
        cls.scalar_entries_ = tuple((name, cls.state_names[name], counts) for name, counts in cls.scalar_state.items())
        cls.buffer_entries_ = tuple((name, field) for name, field in cls.state_names.items()
                                    if name not in cls.scalar_state)
        # Every buffer and scalar an update evolves is saved (so a recalled call may read its
        # next state from what it saved without reading the entries back one by one).
        cls.all_saved_ = declared.evolvable <= set(cls.state_names.values())
        if cls.__doc__ is None:
            cls.__doc__ = (f"torch.optim.{cls.__name__}'s interface; the update is "
                           f"{cls.family.__name__}.update.")

    def __init__(self, params, *, execution: str = "eager", **hyperparameters):
        if execution not in EXECUTIONS:
            raise ValueError(f"execution must be one of {EXECUTIONS}, got {execution!r}")
        self.execution = execution
        self._programs = Programs(type(self).family.update)   # traced steps, for the compiled execution
        unknown = set(hyperparameters) - set(self.defaults_) - set(self.options_)
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(unknown)}")
        settings = {**self.defaults_, **self.options_, **hyperparameters}
        self._settings(settings)  # validation with torch's messages, before any state
        super().__init__(params, settings)
        if self.state_at_construction:   # as torch: the params given here, later ones at their first step
            for group in self.param_groups:
                for p in group["params"]:
                    self._save(p, self.family.init(p.detach(), **self._settings(group)))

    # -- hyperparameters ----------------------------------------------------------------------
    def _functional(self, group: dict) -> dict:
        kwargs = stateful.functional_arguments({k: group[k] for k in self.defaults_}, self.family)
        self.family.init(torch.zeros(0), **kwargs)
        return kwargs

    def _settings(self, group: dict) -> dict:
        """The group's functional arguments, after checking every hyperparameter and option."""
        if not isinstance(group, dict):
            raise TypeError(f"a param group must be a dict, got {type(group).__name__}")
        missing = [k for k in self.defaults_ if k not in group]
        if missing:
            raise ValueError(f"param group is missing hyperparameters {missing}")
        for key, default in self.defaults_.items():
            _check_hyperparameter(key, group[key], default, allow_nan=True)
        for key in self.options_:
            if key in group:
                _check_option(key, group[key])
        kwargs = self._functional(group)   # torch's conditions and messages
        for key, default in self.defaults_.items():
            _check_hyperparameter(key, group[key], default, allow_nan=False)
        # self.defaults is not yet set while __init__ checks its own arguments
        stateful.check_constructor_only(type(self).__name__, self.constructor_only, group,
                                        getattr(self, "defaults", group))
        return kwargs

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        try:
            self._settings(self.param_groups[-1])
            if hasattr(self.family, "check_param"):   # Muon: matrices only, torch's constructor check
                for p in self.param_groups[-1]["params"]:
                    self.family.check_param(p.size())
        except Exception:
            self.param_groups.pop()
            raise

    # -- the step -----------------------------------------------------------------------------
    @torch.compiler.disable(reason=COMPILE_REASON)
    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        plan = self._current_plan()
        compiled, eager = [], []
        for entry in plan.entries:
            (compiled if self._compilable(*entry) else eager).append(entry)
        results = [self._update(p, rows, state) for p, rows, state in eager]
        calls, recalled = self._recalled_calls(compiled, plan), True
        if calls is None:
            calls, recalled = self._compiled_calls(compiled, plan), False
        for step, rows, scalars, _ in calls:   # every compilation before any write
            if not recalled:   # else the layouts of the last step, which prepared them
                step.prepare(rows, scalars)
        next_states: dict = {}
        for step, rows, scalars, saves in calls:   # nothing written before here
            step(rows, scalars)
            if recalled:
                next_states.update(self._saved_recalled(*saves))
            else:
                for p, new_state in saves:
                    self._save(p, new_state)
        for (p, rows, _), (new_state, new_p) in zip(eager, results):
            if rows is None:
                p.copy_(new_p)
            else:
                p.index_put_(*new_p)   # (indices, the new rows)
            self._save(p, new_state)
        self._kept(plan, next_states)
        return loss

    # -- what a step checked, kept for the next (optim.torch_plan) ------------------------------
    def _current_plan(self) -> torch_plan.Plan:
        """Every group, param and state entry checked, and each param's functional state; the
        last step's, when nothing it checked has changed since."""
        key, values = torch_plan.fingerprint(self.execution, self.defaults, self.param_groups)
        plan, self._plan = self.__dict__.get("_plan"), None   # none kept while checking
        if plan is not None and plan.current(key, self.state):
            plan.fresh = plan.values != values
            if plan.fresh:   # hyperparameters edited (a schedule): the groups checked again
                plan.entries = self._resettled(plan.entries)
                plan.values = values
            return plan
        return torch_plan.Plan(key, values, list(self.param_groups), self._checked_entries())

    def _checked_entries(self) -> list:
        """(param, sparse rows or None, functional state) for every param with a gradient."""
        entries, seen = [], set()
        for index, group in enumerate(self.param_groups):
            settings = self._group_settings(index, group)
            memo: dict = {}
            for p in group["params"]:
                if p.grad is None:
                    continue
                if id(p) in seen:
                    raise ValueError("a parameter appears twice in the param groups: a step would "
                                     "update it twice (torch.optim only warns); remove the duplicate")
                seen.add(id(p))
                rows = self._sparse_rows(p.grad, settings)
                values = self._checked_entry(p, self.state.get(p, {}), settings, "state")
                entries.append((p, rows, self._state(p, settings, values, memo)))
        return entries

    def _group_settings(self, index: int, group: dict) -> dict:
        try:
            return self._settings(group)
        except (TypeError, ValueError) as error:
            raise type(error)(f"param group {index}: {error}") from error

    def _settings_by_param(self) -> dict:
        """id(param) -> (its group's checked settings, the group's memo for ``_state``)."""
        by_param = {}
        for index, group in enumerate(self.param_groups):
            settings, memo = self._group_settings(index, group), {}
            for p in group["params"]:
                by_param[id(p)] = (settings, memo)
        return by_param

    def _resettled(self, entries: list) -> list:
        """The entries' states with their groups' new settings: every group checked again, and
        each saved entry against them (an option may need a buffer the state lacks)."""
        by_param = self._settings_by_param()
        settled, passed = [], set()
        for p, rows, state in entries:
            settings, memo = by_param[id(p)]
            saved = self.state.get(p, {})
            kind = (id(settings), p.dtype, tuple(saved))   # the check reads no more than these
            if saved and kind not in passed:
                self._check_missing(p, saved, settings, "state")
                passed.add(kind)
            settled.append((p, rows, fields.with_settings(state, self._blank(p, settings, memo))))
        return settled

    def _kept(self, plan: torch_plan.Plan, next_states: dict) -> None:
        """Keep the plan for the next step, with each param's state as that step would read it from
        what this one saved: ``next_states`` has those of the recalled calls; the others are read
        back in full (a sparse gradient's rows are read afresh each step: no plan kept)."""
        if any(rows is not None for _, rows, _ in plan.entries):
            return
        try:
            by_param = self._settings_by_param() if len(next_states) < len(plan.entries) else {}
            entries = []
            for p, _, _ in plan.entries:
                state = next_states.get(p)
                if state is None:
                    settings, memo = by_param[id(p)]
                    state = self._state(p, settings, self._checked_entry(p, self.state.get(p, {}), settings, "state"),
                                        memo)
                entries.append((p, None, state))
        except (TypeError, ValueError):   # the next step's full check says why
            return
        plan.entries = entries
        plan.keep(self.state)
        self._plan = plan

    def _saved_recalled(self, changed: dict, members: list) -> dict:
        """Save the new state of each param of a recalled call (``_save``'s entries), and return
        each one's state as the next step reads it back: each scalar through its 0-d tensor
        (torch's scalar dtype rounds it) and its checks, as ``_checked_entry`` and ``_state`` do.
        The params of a recalled call hold the very buffers the step wrote and share every scalar
        object (they bound to one result), so the scalars are saved, read back and checked once
        per call; ``changed``: the scalars the step changed."""
        first = members[0][1]
        dtype = self._scalar_dtype()
        scalars, read = [], {}
        for name, field, counts_steps in self.scalar_entries_:
            value = changed.get(field, first.__dict__[field])
            if value is None:
                continue
            scalars.append((name, float(value)))
            tensor = torch.scalar_tensor(float(value), dtype=dtype)
            read[field] = _step_count(tensor, name) if counts_steps else _scalar(tensor, name)
        checks = fields.declarations(first).checks
        after = {**changed, **_checks.checked(read, {n: c for n, c in checks.items() if n in read})}
        next_states = {}
        for p, state in members:
            entry = {name: torch.scalar_tensor(value, dtype=dtype) for name, value in scalars}
            entry.update((name, state.__dict__[field]) for name, field in self.buffer_entries_
                         if state.__dict__[field] is not None)
            if entry or p in self.state:
                self.state[p] = entry
            next_states[p] = fields.evolve(state, **after)
        return next_states

    # -- the compiled step (optim.torch_compiled) ------------------------------------------------
    def _compilable(self, p, rows, state) -> bool:
        """Dense float32/float64 plain tensors.  A tensor subclass (FSDP's DTensor shards) takes the
        eager step: compiled, its in-place writes were lost in one of three steps (measured with
        torch 2.13 under fully_shard), a silent wrong result.  A step with a reduction (LARS's and
        LAMB's norms) is no elementwise program: eager."""
        return (self.execution == "compiled" and rows is None and p.dtype in _NUMPY_DTYPES
                and type(p.detach()) is torch.Tensor and not getattr(self.family, "REDUCES", False))

    def _compiled_calls(self, entries: list, plan: torch_plan.Plan) -> list:
        """(compiled step, rows, scalars tensor, [(param, new state)]) per traced program and
        scalars: one call per group of params that share them.  Where the step neither makes nor
        drops a buffer, the plan keeps which params share which call, for the next step
        (``_recalled_calls``)."""
        calls: dict = {}
        keys: dict = {}   # id(scalars) -> their key: params that share a bound share its scalars list
        recipes: dict = {}
        steady = True
        for p, _, state in entries:
            proxy = _PROXIES[p.dtype]
            program, scalars, results = self._programs.bound(state, proxy, proxy)
            names = fields.buffers(state)
            present = [getattr(state, n) for n in names if getattr(state, n) is not None]
            outputs = {n: getattr(state, n) if getattr(state, n) is not None else torch.empty_like(p)
                       for n, node in zip(names, program.outputs[1:]) if node is not None}
            dropped = {n: None for n, node in zip(names, program.outputs[1:]) if node is None}   # left None by the update
            steady = steady and len(outputs) == len(present) and not any(getattr(state, n) is not None for n in dropped)
            data = p.detach()
            row = [data, p.grad, *present, data, *outputs.values()]
            new_state = stepped(state, results, {**outputs, **dropped})
            step = torch_compiled.compiled_step(program.tape, program.outputs)
            # Params whose scalars are the same numbers (``frozen``: type, value, sign of a zero)
            # share a call, one compiled graph: each param's step count is its own int object, and
            # keyed by identity every param got a graph of its own, past torch's recompile limit.
            if id(scalars) not in keys:
                keys[id(scalars)] = tuple(map(frozen, scalars))
            key = (id(step), keys[id(scalars)], p.device)   # both kept alive below: their ids stay theirs
            if key not in calls:
                values = torch.tensor([float(v) for v in scalars] or [0.0], dtype=torch.float64, device=p.device)
                calls[key] = (step, [], values, [], scalars)
            calls[key][1].append(row)
            calls[key][3].append((p, new_state))
            if key not in recipes:
                recipes[key] = (program, structure(state, proxy), step, p.device, [])
            recipes[key][4].append((p, tuple(outputs)))
        plan.calls = list(recipes.values()) if steady and len(recipes) == len(calls) else None
        return [call[:4] for call in calls.values()]

    def _recalled_calls(self, entries: list, plan: torch_plan.Plan) -> list | None:
        """The last step's calls again, on this step's grads and states, when the plan is the last
        step's and that step neither made nor dropped a buffer: each param's state holds the very
        buffers it wrote, so the outputs are those buffers and the layouts are those prepared.  A
        call's params still share its program and scalars: each binds to the same result (the
        replay keeps it for the very same inputs); where one does not, None (built afresh)."""
        recipe = getattr(plan, "calls", None)
        if recipe is None or not self.all_saved_ or len(entries) != sum(len(members) for *_, members in recipe):
            return None
        states = {id(p): state for p, _, state in entries}
        calls = []
        for program, traced_structure, step, device, members in recipe:
            first = states.get(id(members[0][0]))
            bound = None if first is None else program.bind(first)
            if bound is None:
                return None
            scalars, results = bound
            changed = {name: value for name, value in results.items() if value is not first.__dict__[name]}
            rows, saves = [], []
            for p, outputs in members:
                state = states.get(id(p))
                if state is None or program.bind(state) is not bound:
                    return None
                # New settings may flip a flag, which the scalars do not show: the structure again.
                if plan.fresh and structure(state, _PROXIES[p.dtype]) != traced_structure:
                    return None
                buffers = {n: getattr(state, n) for n in outputs}
                data = p.detach()
                rows.append([data, p.grad, *buffers.values(), data, *buffers.values()])
                saves.append((p, state))
            values = torch.tensor([float(v) for v in scalars] or [0.0], dtype=torch.float64, device=device)
            calls.append((step, rows, values, (changed, saves)))
        return calls

    def _update(self, p, rows, state):
        if rows is None:
            new_state, new_p = self.family.update(state, p.detach(), p.grad)
            self._check_result(p, new_p, p.shape)
            return new_state, new_p
        # A sparse gradient (torch's sparse Adagrad, SGD): the update on the rows it touches.
        indices, values = rows
        buffers = {name: getattr(state, name) for name in fields.buffers(state) if getattr(state, name) is not None}
        local = replace(state, **{k: v[indices] for k, v in buffers.items()})
        new_local, new_rows = self.family.update(local, p.detach()[indices], values)
        self._check_result(p, new_rows, values.shape)
        merged = {}
        for name, full in buffers.items():
            written = full.clone()   # the old buffer stays as it was until the write phase
            written.index_put_(indices, getattr(new_local, name))
            merged[name] = written
        return replace(new_local, **merged), (indices, new_rows)

    @staticmethod
    def _check_result(p, new, shape):
        if new.dtype != p.dtype or tuple(new.shape) != tuple(shape):
            raise RuntimeError(f"the update gave a {new.dtype} {tuple(new.shape)} result for a {p.dtype} "
                               f"{tuple(shape)} parameter; nothing was written")

    def _sparse_rows(self, grad, settings):
        """None for a dense gradient; for a sparse one, torch's behaviour or torch's error."""
        if grad.layout == torch.strided:
            return None
        name = type(self).__name__
        if name not in SPARSE:
            raise RuntimeError(_SPARSE_ERRORS.get(name, f"{name} does not support sparse gradients"))
        if settings.get("weight_decay", 0) != 0:
            if name == "Adagrad":
                raise RuntimeError("weight_decay option is not compatible with sparse gradients")
            raise RuntimeError(f"{name}: weight_decay is not compatible with sparse gradients "
                               "(torch.optim.SGD fails with: add(sparse, dense) is not supported)")
        if name == "SGD" and settings.get("momentum", 0) != 0:
            raise RuntimeError("SGD with momentum and sparse gradients is not implemented by "
                               "optim.torch_backend (torch.optim.SGD keeps a sparse momentum buffer); "
                               "use momentum=0, dense gradients or torch.optim.SGD")
        if grad.layout != torch.sparse_coo:
            raise RuntimeError(f"{name}: sparse gradients must be sparse COO tensors, got {grad.layout}")
        grad = grad.coalesce()   # the update is non-linear: one value per index, as torch does
        return tuple(grad._indices()), grad._values()

    # -- state ----------------------------------------------------------------------------------
    def _expected(self, settings: dict, p) -> set:
        """The state entries a step of ``p`` with these settings keeps (what torch.optim keeps)."""
        dtype = p.dtype
        # the rank too where a buffer is not shaped like the params (Adafactor) or the family
        # takes matrices only (Muon)
        ndim = p.dim() if self.by_rank_ else None
        last = self.__dict__.get("_last_expected")   # the params of a group ask with one settings dict
        if last is not None and last[0] is settings and last[1] == (dtype, ndim):
            return last[2]
        kinds = self.__dict__.setdefault("_kinds", {})
        key = (repr(sorted(settings.items())), dtype, ndim)
        if key not in kinds:
            if len(kinds) >= 64:   # a schedule gives a new lr each step: the cache stays bounded
                kinds.clear()
            present = (self._present_after_one_update(settings, dtype) if ndim is None
                       else self._present_for_rank(settings, dtype, ndim))
            kinds[key] = {name for name, field in self.state_names.items() if field in present}
        self._last_expected = (settings, (dtype, ndim), kinds[key])
        return kinds[key]

    def _present_for_rank(self, settings: dict, dtype, ndim: int) -> set:
        """The fields not None after one update of a param of rank ``ndim`` (a 1-entry proxy)."""
        proxy = torch.zeros((1,) * ndim, dtype=dtype)
        probe, _ = self.family.update(self.family.init(proxy, **settings), proxy, proxy)
        return {name for name, value in probe.__dict__.items() if value is not None}

    def _present_after_one_update(self, settings: dict, dtype) -> set:
        """The fields not None after one update of a state of these settings: read from the traced
        program where one applies (float32, float64: the tracer's dtypes; its guards decide
        whether it applies, as for a step), which a schedule's new lr costs a bind, not an update
        run; else from the update run on empty tensors."""
        empty = torch.zeros(0, dtype=dtype)
        state = self.family.init(empty, **settings)
        if dtype in _PROXIES:
            try:
                program, _, results = self._programs.bound(state, _PROXIES[dtype], _PROXIES[dtype])
            except Untraceable:
                pass
            else:
                return {name for name, present in present_after(program, state, results).items() if present}
        probe, _ = self.family.update(state, empty, empty)
        return {name for name, value in probe.__dict__.items() if value is not None}

    def _checked_entry(self, p, saved, settings, where, any_device=False) -> dict:
        """The functional fields of a saved state entry, after checking each against ``p``."""
        if not isinstance(saved, dict):
            raise TypeError(f"{where}: a parameter's state must be a dict, got {type(saved).__name__}")
        unknown = set(saved) - set(self.state_names)
        if unknown:
            raise ValueError(f"{where}: unknown {type(self).__name__} state entries {sorted(map(str, unknown))} "
                             f"(known: {sorted(self.state_names)})")
        if not saved:
            return {}
        self._check_missing(p, saved, settings, where)
        values = {}
        for name, value in saved.items():
            field = self.state_names[name]
            if self.scalar_state.get(name):    # the step counter
                values[field] = _step_count(value, f"{where}: {name}")
            elif name in self.scalar_state:
                values[field] = _scalar(value, f"{where}: {name}")
            else:
                _check_buffer(value, p, f"{where}: {name}", any_device,
                              fields.declarations(self.family.State).fields[field].shape_for(tuple(p.shape)))
                values[field] = value
        return values

    def _check_missing(self, p, saved: dict, settings: dict, where: str) -> None:
        expected = self._expected(settings, p)
        # A buffer the update makes when it is missing (SGD's momentum buffer) may be missing, as in torch.
        missing = expected - set(saved) - self.made_by_update_
        if missing:
            raise ValueError(f"{where}: the state misses {sorted(missing)}; with these hyperparameters "
                             f"a {type(self).__name__} state has {sorted(expected)}")

    def _state(self, p, settings, values, memo: dict):
        """The param's functional state: fresh buffers at the first step only; afterwards every
        buffer and scalar from its saved state on the group's checked settings.  ``memo``, one per
        group and step: a checked blank state of the settings per dtype and device, and each step
        count as one int object (the replay's arithmetic then runs once per group: ``Program.bind``
        keeps its last result for the very same inputs)."""
        if not values:
            return self.family.init(p.detach(), **settings)
        values = {k: memo.setdefault(("step", v), v) if type(v) is int else v for k, v in values.items()}
        return fields.with_saved(self._blank(p, settings, memo), **values)

    def _blank(self, p, settings: dict, memo: dict):
        """A checked state of the group's settings for ``p``'s dtype and device, one per group and step."""
        rank = p.dim() if self.by_rank_ else 1   # Adafactor's buffers follow the param's rank
        blank = memo.get((p.dtype, p.device, rank))
        if blank is None:
            blank = memo[p.dtype, p.device, rank] = self.family.init(
                torch.zeros((0,) * rank, dtype=p.dtype, device=p.device), **settings)
        return blank

    def _scalar_dtype(self) -> torch.dtype:
        """The dtype of the scalar state tensors: torch.optim's for its optimizers; float64 for the
        others, whose references keep Python floats (schedule_free's weight_sum, lr_max)."""
        return _scalar_dtype() if self.family_in_torch else torch.float64

    def _save(self, p, state):
        entry = {}
        for name, field in self.state_names.items():
            value = getattr(state, field)
            if value is None:
                continue
            if name in self.scalar_state:   # torch's 0-d tensors
                value = torch.scalar_tensor(float(value), dtype=self._scalar_dtype())
            entry[name] = value
        if entry or p in self.state:   # as torch.optim.SGD without momentum: no entry, not an empty one
            self.state[p] = entry

    # -- loading --------------------------------------------------------------------------------
    def load_state_dict(self, state_dict: dict) -> None:
        """torch's ``load_state_dict``, after checking every group and state entry against this
        optimizer: a malformed state dict is refused before anything changes."""
        self._check_state_dict(state_dict)
        super().load_state_dict(state_dict)

    def _check_state_dict(self, state_dict) -> None:
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("a state dict is a dict with 'state' and 'param_groups'")
        groups, state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or not isinstance(state, dict):
            raise TypeError("state_dict['param_groups'] must be a list and state_dict['state'] a dict")
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        owners = {}
        for index, (saved, current) in enumerate(zip(groups, self.param_groups)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError(f"loaded param group {index} must be a dict with a 'params' list")
            if len(saved["params"]) != len(current["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match "
                                 "the size of optimizer's group")
            try:
                settings = self._settings(saved)
            except (TypeError, ValueError) as error:
                raise type(error)(f"loaded param group {index}: {error}") from error
            for saved_id, p in zip(saved["params"], current["params"]):
                owners[saved_id] = (p, settings)
        for key, entry in state.items():
            if key not in owners:
                if isinstance(key, str) and key.lstrip("-").isdigit():
                    raise TypeError(f"loaded state has the string key {key!r} where torch has an int "
                                    "(a JSON round trip?): convert the keys with int() before loading")
                raise ValueError(f"loaded state has an entry for {key!r}, which no param group lists")
            p, settings = owners[key]
            self._checked_entry(p, entry, settings, f"loaded state of parameter {key!r}", any_device=True)


def _step_count(value, where) -> int:
    if _is_tensor(value):
        if value.numel() != 1 or value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"{where} must be a real number or a 0-d tensor, got a {value.dtype} "
                            f"tensor of shape {tuple(value.shape)}")
        value = value.item()
    if not _real_number(value):
        raise TypeError(f"{where} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise ValueError(f"{where} must be a whole number of steps >= 0, got {value!r}")
    return int(value)


def _scalar(value, where) -> float:
    if _is_tensor(value):
        if value.dim() != 0 or value.dtype not in FLOATING:
            raise TypeError(f"{where} must be a 0-d floating tensor or a number, got a {value.dtype} "
                            f"tensor of shape {tuple(value.shape)}")
        value = value.item()
    if not _real_number(value):
        raise TypeError(f"{where} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{where} must be finite, got {value!r}")
    return float(value)


def _check_buffer(value, p, where, any_device, shape) -> None:
    if not _is_tensor(value):
        raise TypeError(f"{where} must be a tensor, got {type(value).__name__}")
    if value.layout != torch.strided:
        raise ValueError(f"{where} must be a dense tensor, got layout {value.layout}")
    if tuple(value.shape) != shape:
        needs = "the parameter has" if shape == tuple(p.shape) else f"a parameter of shape {tuple(p.shape)} needs"
        raise ValueError(f"{where} has shape {tuple(value.shape)} but {needs} {shape}")
    if value.dtype != p.dtype:
        raise TypeError(f"{where} has dtype {value.dtype} but the parameter has {p.dtype}")
    if not any_device and value.device != p.device:
        raise ValueError(f"{where} is on {value.device} but the parameter is on {p.device}")


# One class per family of the registry (optim.registry), each a torch.optim.Optimizer whose defaults,
# state names and construction quirks come from the family's declarations.
class SGD(TorchOptimizer):
    family = sgd


class MomentumSGD(TorchOptimizer):
    """TorchLean's momentum SGD (no torch.optim class) as a torch.optim.Optimizer (see optim.momentum_sgd)."""
    family = momentum_sgd


class Adam(TorchOptimizer):
    family = adam


class AdamW(TorchOptimizer):
    family = adamw


class Adadelta(TorchOptimizer):
    family = adadelta


class Adagrad(TorchOptimizer):
    family = adagrad


class RMSprop(TorchOptimizer):
    family = rmsprop


class Adamax(TorchOptimizer):
    family = adamax


class NAdam(TorchOptimizer):
    family = nadam


class RAdam(TorchOptimizer):
    family = radam


class Rprop(TorchOptimizer):
    family = rprop


class ASGD(TorchOptimizer):
    family = asgd


class Adafactor(TorchOptimizer):
    family = adafactor


class Muon(TorchOptimizer):
    family = muon


class Lion(TorchOptimizer):
    family = lion


class ScheduleFree(TorchOptimizer):
    """schedule_free's train and eval modes (see ``optim.stateful.ScheduleFree``), on torch tensors."""

    train_mode: bool = False   # a new optimizer is in eval mode

    def step(self, closure: Callable | None = None):
        if not self.train_mode:
            raise RuntimeError(stateful.NOT_IN_TRAIN_MODE)
        return super().step(closure)

    def train(self) -> None:
        self._move(train=True)

    def eval(self) -> None:
        self._move(train=False)

    @torch.no_grad()
    def _move(self, train: bool) -> None:
        if self.train_mode == train:
            return
        moved = []
        for group in self.param_groups:   # every new value before any write
            beta = self._functional(group)[self.family.INTERPOLATION]
            for p in group["params"]:
                z = self.state.get(p, {}).get("z")
                if z is not None:
                    moved.append((p, (interpolated_params if train else averaged_params)(p.detach(), z, beta)))
        for p, value in moved:
            p.copy_(value)
        self.train_mode = train


class SGDScheduleFree(ScheduleFree):
    family = schedule_free_sgd


class AdamWScheduleFree(ScheduleFree):
    family = schedule_free_adamw


class LARS(TorchOptimizer):
    family = lars


class LAMB(TorchOptimizer):
    family = lamb


CLASSES = {cls.__name__: cls for cls in (SGD, MomentumSGD, Adam, AdamW, Adadelta, Adagrad, RMSprop, Adamax,
                                         NAdam, RAdam, Rprop, ASGD, Adafactor, Muon, Lion, SGDScheduleFree, AdamWScheduleFree,
                                         LARS, LAMB)}
# The classes torch.optim has (the tests compare them with it).
OPTIMIZERS = {name: CLASSES[name] for name in stateful.TORCH_OPTIMIZERS}
