"""The API torch users know, over NumPy arrays: ``optim.Adam(params, lr=1e-3, betas=...)``.

A thin shell over the pure functional updates; it adds no arithmetic.

* ``opt.step(grads)`` updates the param arrays in place (grads in the order of the params,
  group after group).  Every grad is checked (count, shape, dtype) and every state built
  before any array is written, so a bad call changes nothing.
* ``param_groups`` is a list of dicts with per-group hyperparameters, as in torch; edits to
  them (a learning-rate schedule) take effect at the next step.
* ``state_dict()`` / ``load_state_dict()`` use torch's layout and state names
  (``exp_avg``, ``step``, …) and round-trip exactly.
* ``execution``: how the one definition runs.  ``"workspace"`` (default) traces the update and
  replays its NumPy ufuncs in place into buffers reused between steps (bit-identical to the
  functional run, without its temporaries); ``"fused"`` compiles the trace into one numba loop
  (needs numba; raises ``NotFusable`` where it does not apply); ``"functional"`` calls the pure
  update as it is.

torch's execution options ``foreach``, ``fused``, ``capturable`` and ``differentiable`` are
accepted and ignored: they choose torch kernels, not the update.
"""
from __future__ import annotations

import copy as _copy
from dataclasses import fields, replace
from typing import Any, Iterable

import numpy as np

from optim import adadelta, adagrad, adam, adamax, adamw, asgd, nadam, radam, rmsprop, rprop, sgd
from optim._checks import check_layout
from optim.trace import Workspace, run_fused, run_workspace, trace

TORCH_EXECUTION_OPTIONS = ("foreach", "fused", "capturable", "differentiable")
# torch's argument names that are spelled differently in the functional states.
RENAMED = {"eps": ("epsilon",), "betas": ("beta1", "beta2"), "etas": ("etaminus", "etaplus"),
           "step_sizes": ("step_size_min", "step_size_max")}


def functional_arguments(settings: dict) -> dict:
    """torch's arguments -> the functional init's keyword arguments (betas -> beta1, beta2, …)."""
    out = {}
    for key, value in settings.items():
        if key == "params":
            continue
        if key in RENAMED:
            names = RENAMED[key]
            values = tuple(value) if len(names) > 1 else (value,)
            if len(values) != len(names):
                raise ValueError(f"{key} must have {len(names)} values, got {value!r}")
            out.update(zip(names, values))
        else:
            out[key] = value
    return out


class Optimizer:
    family: Any = None          # the functional module: State, init, update
    defaults: dict = {}         # torch's arguments and defaults, in torch's order
    state_names: dict = {}      # torch's state key -> functional State field

    def __init__(self, params: Iterable, *args: Any, execution: str = "workspace", **kwargs: Any) -> None:
        if execution not in EXECUTIONS:
            raise ValueError(f"execution must be one of {EXECUTIONS}, got {execution!r}")
        if execution == "fused":
            _require_numba()
        self.execution = execution
        self._workspace = Workspace()
        names = list(type(self).defaults)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} hyperparameters")
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
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups and hyperparameters --------------------------------------------------
    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        params = group.pop("params")
        params = [params] if isinstance(params, np.ndarray) else list(params)
        for p in params:
            if not isinstance(p, np.ndarray):
                raise TypeError(f"params must be NumPy arrays, got {type(p).__name__}")
            if p.dtype not in (np.float32, np.float64):
                raise TypeError(f"params must be float32 or float64 arrays, got dtype {p.dtype}")
            if not p.flags.writeable:
                raise ValueError("params must be writeable arrays: step() updates them in place")
        known = [q for g in self.param_groups for q in g["params"]]
        if any(p is q for p in params for q in known):
            raise ValueError("some parameters appear in more than one parameter group")
        for key in TORCH_EXECUTION_OPTIONS:
            group.pop(key, None)
        unknown = set(group) - set(self.defaults)
        if unknown:
            raise TypeError(f"unexpected hyperparameters in a param group: {sorted(unknown)}")
        settings = {**self.defaults, **group}
        self._check(settings)
        self.param_groups.append({"params": params, **settings})

    def _functional(self, settings: dict) -> dict:
        return functional_arguments(settings)

    def _check(self, settings: dict) -> None:
        """Validate hyperparameters with torch's messages, before any state exists."""
        self.family.init(np.zeros(0), **self._functional(settings))

    # -- stepping ---------------------------------------------------------------------
    def _indexed(self):
        return self._indexed_in(self.param_groups)

    def _prepared_state(self, index: int, group: dict, p: np.ndarray) -> Any:
        settings = self._functional(group)
        state = self.state.get(index)
        if state is None:
            return self.family.init(p, **settings)
        names = {f.name for f in fields(state)}
        return replace(state, **{k: v for k, v in settings.items() if k in names})

    def step(self, grads: Iterable[np.ndarray]) -> None:
        grads = list(grads)
        entries = list(self._indexed())
        if len(grads) != len(entries):
            raise ValueError(f"step() got {len(grads)} gradients for {len(entries)} parameters")
        states = [self._prepared_state(i, group, p) for i, group, p in entries]
        if self.execution == "functional":
            results = [self.family.update(s, p, g) for s, (_, _, p), g in zip(states, entries, grads)]
            for (index, _, p), (state, new_p) in zip(entries, results):
                p[...] = new_p
                self.state[index] = _zero_dim_as_arrays(state)
            return
        for s, (_, _, p), g in zip(states, entries, grads):  # every check before any write
            check_layout(p, g, **{k: v for k, v in _tensor_fields(s).items() if v is not None})
        traces = [trace(self.family.update, s, p, g, list(_tensor_fields(s)))
                  for s, (_, _, p), g in zip(states, entries, grads)]
        for (index, _, p), s, (tape, outputs, new_state) in zip(entries, states, traces):
            self.state[index] = self._write(tape, outputs, new_state, s, p)

    def _write(self, tape, outputs, new_state, old_state, p):
        """Write the traced step's outputs into p and the state's arrays (allocated once)."""
        names = list(_tensor_fields(old_state))
        destinations = [p] + [getattr(old_state, n) if getattr(old_state, n) is not None
                              else (np.empty_like(p) if o is not None else None)
                              for n, o in zip(names, outputs[1:])]
        if self.execution == "fused":
            run_fused(tape, outputs, destinations)
        else:
            run_workspace(tape, outputs, self._workspace, destinations)
        return replace(new_state, **dict(zip(names, destinations[1:])))

    # -- saving and loading -----------------------------------------------------------
    def state_dict(self) -> dict:
        state = {}
        for index, s in self.state.items():
            entry = {}
            for torch_name, field in self.state_names.items():
                value = getattr(s, field)
                if value is not None:
                    entry[torch_name] = value.copy() if isinstance(value, np.ndarray) else value
            state[index] = entry
        groups, start = [], 0
        for group in self.param_groups:
            count = len(group["params"])
            settings = {k: _copy.deepcopy(v) for k, v in group.items() if k != "params"}
            groups.append({**settings, "params": list(range(start, start + count))})
            start += count
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for saved, current in zip(groups, self.param_groups):
            if len(saved["params"]) != len(current["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match "
                                 "the size of optimizer's group")
        new_groups = []
        for saved, current in zip(groups, self.param_groups):
            settings = {k: _copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            self._check({**self.defaults, **settings})
            new_groups.append({"params": current["params"], **self.defaults, **settings})
        order = [i for g in groups for i in g["params"]]
        entries = list(self._indexed_in(new_groups))
        new_state = {}
        for saved_index, (index, group, p) in zip(order, entries):
            if saved_index not in state_dict["state"]:
                continue
            saved = state_dict["state"][saved_index]
            unknown = set(saved) - set(self.state_names)
            if unknown:
                raise ValueError(f"unknown state entries for parameter {saved_index}: {sorted(unknown)}")
            blank = self.family.init(p, **self._functional(group))
            values = {self.state_names[k]: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
                      for k, v in saved.items()}
            state = replace(blank, **values)
            _check_buffers(state, p, self.state_names)
            new_state[index] = state
        self.param_groups = new_groups
        self.state = new_state

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


EXECUTIONS = ("workspace", "fused", "functional")


def _require_numba() -> None:
    try:
        import numba  # noqa: F401
    except ImportError as error:
        raise ImportError("execution='fused' needs numba: pip install 'optlaws[fast]'") from error


def _tensor_fields(state: Any) -> dict:
    """The state's buffers: arrays, and fields still None that an update may create."""
    return {f.name: getattr(state, f.name) for f in fields(state)
            if isinstance(getattr(state, f.name), np.ndarray) or getattr(state, f.name) is None}


def _zero_dim_as_arrays(state: Any) -> Any:
    """NumPy returns scalars for 0-d arithmetic; keep a 0-d parameter's buffers 0-d arrays."""
    scalars = {f.name: np.asarray(getattr(state, f.name)) for f in fields(state)
               if isinstance(getattr(state, f.name), np.generic)}
    return replace(state, **scalars) if scalars else state


def _check_buffers(state: Any, p: np.ndarray, state_names: dict) -> None:
    for field in state_names.values():
        value = getattr(state, field)
        if isinstance(value, np.ndarray):
            if value.shape != p.shape:
                raise ValueError(f"loaded {field} has shape {value.shape} but the parameter has {p.shape}")
            if value.dtype != p.dtype:
                raise TypeError(f"loaded {field} has dtype {value.dtype} but the parameter has {p.dtype}")


def _optimizer(name: str, family: Any, defaults: dict, state_names: dict, doc: str) -> type:
    return type(name, (Optimizer,), {"family": family, "defaults": defaults,
                                     "state_names": state_names, "__doc__": doc})


SGD = _optimizer("SGD", sgd, dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                                  nesterov=False, maximize=False),
                 {"momentum_buffer": "buf"}, "torch.optim.SGD over NumPy arrays (see optim.sgd).")
Adam = _optimizer("Adam", adam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                     amsgrad=False, maximize=False, decoupled_weight_decay=False),
                  {"step": "t", "exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "v_max"},
                  "torch.optim.Adam over NumPy arrays (see optim.adam).")
AdamW = _optimizer("AdamW", adamw, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                                        amsgrad=False, maximize=False),
                   {"step": "t", "exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "v_max"},
                   "torch.optim.AdamW over NumPy arrays (see optim.adamw).")
Adadelta = _optimizer("Adadelta", adadelta, dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False),
                      {"step": "t", "square_avg": "v", "acc_delta": "u"},
                      "torch.optim.Adadelta over NumPy arrays (see optim.adadelta).")
Adagrad = _optimizer("Adagrad", adagrad, dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                                              initial_accumulator_value=0.0, eps=1e-10, maximize=False),
                     {"step": "t", "sum": "sum"}, "torch.optim.Adagrad over NumPy arrays (see optim.adagrad).")
RMSprop = _optimizer("RMSprop", rmsprop, dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                                              centered=False, maximize=False),
                     {"step": "t", "square_avg": "square_avg", "grad_avg": "grad_avg",
                      "momentum_buffer": "momentum_buffer"},
                     "torch.optim.RMSprop over NumPy arrays (see optim.rmsprop).")
Adamax = _optimizer("Adamax", adamax, dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                           maximize=False),
                    {"step": "t", "exp_avg": "m", "exp_inf": "u"},
                    "torch.optim.Adamax over NumPy arrays (see optim.adamax).")
NAdam = _optimizer("NAdam", nadam, dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                        momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False),
                   {"step": "t", "mu_product": "mu_product", "exp_avg": "m", "exp_avg_sq": "v"},
                   "torch.optim.NAdam over NumPy arrays (see optim.nadam).")
RAdam = _optimizer("RAdam", radam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                        decoupled_weight_decay=False, maximize=False),
                   {"step": "t", "exp_avg": "m", "exp_avg_sq": "v"},
                   "torch.optim.RAdam over NumPy arrays (see optim.radam).")
Rprop = _optimizer("Rprop", rprop, dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0), maximize=False),
                   {"step": "t", "prev": "prev", "step_size": "step_size"},
                   "torch.optim.Rprop over NumPy arrays (see optim.rprop).")
ASGD = _optimizer("ASGD", asgd, dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False),
                  {"step": "t", "eta": "eta", "mu": "mu", "ax": "ax"},
                  "torch.optim.ASGD over NumPy arrays (see optim.asgd).")

TORCH_OPTIMIZERS = {cls.__name__: cls for cls in
                    (SGD, Adam, AdamW, Adadelta, Adagrad, RMSprop, Adamax, NAdam, RAdam, Rprop, ASGD)}
