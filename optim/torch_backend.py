"""The PyTorch backend: the same optimizer definitions on torch tensors (CPU or CUDA), and
``torch.optim.Optimizer`` subclasses built from them, so the proven update trains a real
``torch.nn.Module`` (param groups, ``state_dict``, closures, as torch does).

torch is optional (``pip install 'optlaws[torch]'``): importing this module imports torch;
nothing else in ``optim`` does.
"""
from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, Callable

import torch

from optim import stateful
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

    def shape(self, x):
        return tuple(x.shape)

    def dtype(self, x):
        return str(x.dtype)

    def check_tensor(self, x, role):
        if x.dtype not in FLOATING:
            raise TypeError(f"{role} must be a floating-point tensor, got dtype {x.dtype}")


TORCH = TorchContext()
register_context(torch.Tensor, TORCH)


class TorchOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose step is the functional ``family.update``."""

    family: Any = None
    defaults_: dict = {}
    state_names: dict = {}

    def __init__(self, params, **hyperparameters):
        unknown = set(hyperparameters) - set(self.defaults_) - set(stateful.TORCH_EXECUTION_OPTIONS)
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(unknown)}")
        settings = {k: v for k, v in {**self.defaults_, **hyperparameters}.items()
                    if k not in stateful.TORCH_EXECUTION_OPTIONS}
        self._functional(settings)  # validation with torch's messages, before any state
        super().__init__(params, settings)

    def _functional(self, group: dict) -> dict:
        kwargs = stateful.functional_arguments({k: group[k] for k in self.defaults_})
        self.family.init(torch.zeros(0), **kwargs)
        return kwargs

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        self._functional(self.param_groups[-1])

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            settings = self._functional(group)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._load(p, settings)
                new_state, new_p = self.family.update(state, p.detach(), p.grad)
                p.copy_(new_p)
                self._save(p, new_state)
        return loss

    def _load(self, p, settings):
        saved = self.state[p]
        # Fresh buffers at the first step only; afterwards every buffer comes from the state.
        like = torch.zeros(0, dtype=p.dtype, device=p.device) if saved else p.detach()
        blank = self.family.init(like, **settings)
        values = {field: saved[name] for name, field in self.state_names.items() if name in saved}
        if "t" in values:
            values["t"] = int(values["t"])
        names = {f.name for f in fields(blank)}
        return replace(blank, **values, **{k: v for k, v in settings.items() if k in names})

    def _save(self, p, state):
        entry = self.state[p]
        for name, field in self.state_names.items():
            value = getattr(state, field)
            if value is not None:
                entry[name] = torch.tensor(float(value)) if field == "t" else value


def _torch_optimizer(cls: type) -> type:
    return type(cls.__name__, (TorchOptimizer,), {
        "family": cls.family, "defaults_": dict(cls.defaults), "state_names": dict(cls.state_names),
        "__doc__": f"torch.optim.{cls.__name__}'s interface; the update is optim.{cls.family.__name__.split('.')[-1]}.update.",
    })


OPTIMIZERS = {name: _torch_optimizer(cls) for name, cls in stateful.TORCH_OPTIMIZERS.items()}
globals().update(OPTIMIZERS)
