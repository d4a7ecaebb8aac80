"""One declaration per hyperparameter and per state field, on an optimizer's ``State`` itself.

Each field of a ``State`` says what it is, once::

    @fields.state(checked_first=("lr", "epsilon"))
    class State:
        lr: Any = fields.hyper(1e-3, check=check.learning_rate, domain="nonnegative")
        beta1: Any = fields.hyper(0.9, torch=("betas", 0), check=check.beta(0), domain="unit")
        amsgrad: bool = fields.flag()
        m: Any = fields.buffer(torch="exp_avg")
        v_max: Any = fields.buffer(torch="max_exp_avg_sq", when="amsgrad", domain="nonnegative")
        t: Any = fields.step()

* ``hyper(default, torch=, check=, domain=)``: a real hyperparameter: its default (the ``init``
  default and the dataclass default), torch's argument name (``"lr"``, or ``("betas", 0)`` for an
  entry of a pair; the field's own name when omitted), the check that validates and normalises it
  with torch's message, and the prover's domain (the name of a ``proofs.Given`` method: ``real``,
  ``nonnegative``, ``positive``, ``unit``, ``closed_unit``, …; it may be narrower than torch's
  check, e.g. ε > 0 so that every step is defined).
* ``flag(default, torch=)``: a bool option; it chooses the code path.
* ``buffer(torch=, init=zeros, when=, domain=)``: a tensor like the params: its torch state name,
  its value at ``init`` (``zeros``, a function ``(context, params, hyperparameters)``, or None: the
  first update creates it), the field that creates it (``when="amsgrad"``: a flag, or a
  hyperparameter that is nonzero), and the domain of its entries.
* ``scalar(init, torch=, check=, domain=)``: a non-tensor entry of the state (NAdam's μ product,
  ASGD's η and μ); ``step()`` is torch's ``step`` counter ``t``, a natural number.
* ``init_only(default, check=, domain=)``: an argument of ``init`` (and of torch's constructor)
  that is not kept in the state: Adagrad's ``initial_accumulator_value``.  Written as a class
  attribute among the fields; its position there is its position in ``init``'s signature.

From these, ``@fields.state`` makes a frozen dataclass whose ``__post_init__`` runs the checks
(torch's order: ``checked_first``, then the declaration order), and this module derives the
rest: ``init`` (signature, defaults, initial buffers), the buffers a state must have for its
update, torch's constructor defaults and argument names, torch's state names, the domains of a
symbolic arbitrary state (``proofs.Given.state``).
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from dataclasses import MISSING, dataclass
from typing import Any, Callable

from optim import _checks
from optim.context import context_of, init_rule
from optim.context import update_rule as _update_rule

HYPER, FLAG, BUFFER, SCALAR, INIT_ONLY = "hyperparameter", "flag", "buffer", "scalar", "init-only"
_KEY = "optlaws"


def zeros(ctx: Any, params: Any, hyperparameters: dict) -> Any:
    """A buffer's initial value: zeros like the params."""
    return ctx.zeros_like(params)


@dataclass(frozen=True)
class Declaration:
    """What one field (or init-only argument) of a State is."""

    kind: str
    # init's default (hyperparameters, flags, init-only arguments); MISSING: none
    default: Any = dataclasses.field(default_factory=lambda: MISSING)
    torch: Any = None              # torch's name: "lr", ("betas", 0); None: the field's name
    check: Callable | None = None  # validates and normalises, with torch's message
    domain: str | None = None      # the prover's domain (for a buffer: of its entries)
    when: str | None = None        # buffer: the flag (or nonzero hyperparameter) that creates it
    # buffer, scalar: the value at init, a constant or f(ctx, params, hyperparameters); a buffer
    # with None is created by the first update
    initial: Any = dataclasses.field(default_factory=lambda: MISSING)
    # buffer: its shape for a param's shape (None: no such buffer for that param); None: the param's
    shape: Callable | None = None

    def initial_value(self, ctx: Any, params: Any, hyperparameters: dict) -> Any:
        if self.when is not None and not creates(hyperparameters[self.when]):
            return None
        if self.shape is not None:
            shape = self.shape(tuple(ctx.shape(params)))
            if shape is None:
                return None
            if self.initial is zeros:
                return ctx.zeros(params, shape)
        return self.initial(ctx, params, hyperparameters) if callable(self.initial) else self.initial

    def shape_for(self, param_shape: tuple) -> tuple | None:
        """This buffer's shape for a param of ``param_shape`` (None: the param has no such buffer)."""
        return tuple(param_shape) if self.shape is None else self.shape(tuple(param_shape))


def creates(value: Any) -> Any:
    """Whether the value of a ``when`` field creates its buffer: a flag that is on, or a
    hyperparameter that is nonzero (a branch on a symbolic value)."""
    return value if isinstance(value, bool) else value != 0


def _field(declaration: Declaration, default: Any = MISSING, kw_only: bool = False) -> Any:
    # Hyperparameters and flags may be given by position, in declaration order (theorem files
    # write ``sgd.State(lr)``); buffers and scalars are keyword-only.
    return dataclasses.field(default=default, kw_only=kw_only, metadata={_KEY: declaration})


def hyper(default: Any, *, torch: Any = None, check: Callable = _checks.number, domain: str = "real") -> Any:
    """A real hyperparameter (see the module's docstring)."""
    return _field(Declaration(HYPER, default, torch, check, domain), default)


def flag(default: bool = False, *, torch: str | None = None) -> Any:
    """A bool option."""
    return _field(Declaration(FLAG, default, torch, _checks.flag), default)


def option(default: Any, *, check: Callable, torch: str | None = None) -> Any:
    """A setting that chooses the code path and is not a real number (Muon's ``ns_steps``, which
    counts loop iterations, and ``adjust_lr_fn``, a name): kept like a flag (the prover takes its
    default unless a theorem gives another), validated by ``check``."""
    return _field(Declaration(FLAG, default, torch, check), default)


def buffer(*, torch: str, init: Any = zeros, when: str | None = None, domain: str = "real",
           shape: Callable | None = None) -> Any:
    """A tensor like the params; keyword-only in the State's constructor, None by default when
    an option or the first update creates it.  ``shape``: for a buffer not shaped like the params,
    its shape as a function of the param's (None where the param has no such buffer: Adafactor's
    row factor exists for matrices only)."""
    optional = when is not None or init is None or shape is not None
    return _field(Declaration(BUFFER, torch=torch, domain=domain, when=when, initial=init, shape=shape),
                  None if optional else MISSING, kw_only=True)


def scalar(init: Any, *, torch: str | None = None, check: Callable | None = None, domain: str = "real") -> Any:
    """A non-tensor state entry; keyword-only in the State's constructor."""
    return _field(Declaration(SCALAR, torch=torch, check=check, domain=domain, initial=init),
                  MISSING if callable(init) else init, kw_only=True)


def step() -> Any:
    """torch's ``step``: the number of updates taken, a natural number."""
    return scalar(0, torch="step", check=_checks.step_count, domain="natural")


def init_only(default: Any, *, torch: str | None = None, check: Callable, domain: str = "real") -> Declaration:
    """An argument of ``init`` that is not kept in the state (a class attribute of the State)."""
    return Declaration(INIT_ONLY, default, torch, check, domain)


@dataclass(frozen=True)
class Declared:
    """Every declaration of one State, in order."""

    fields: dict          # field name -> Declaration, in the dataclass's field order
    arguments: dict       # init's arguments -> Declaration: hyperparameters, flags, init-only, in order
    checks: dict          # name -> check, in torch's order (fields and init-only arguments)

    def of(self, *kinds: str) -> dict:
        return {n: d for n, d in self.fields.items() if d.kind in kinds}

    @functools.cached_property
    def buffer_names(self) -> tuple:   # asked for by every step: computed once per State class
        return tuple(self.of(BUFFER))

    @functools.cached_property
    def made_by_update(self) -> frozenset:   # buffers ``init`` leaves to the update (init=None)
        return frozenset(n for n, d in self.of(BUFFER).items() if d.initial is None)

    @functools.cached_property
    def evolvable(self) -> frozenset:   # what ``evolve`` may change, asked for by every step
        return frozenset(self.of(BUFFER, SCALAR))

    def torch_name(self, name: str) -> Any:
        declaration = self.fields.get(name) or self.arguments[name]
        return declaration.torch if declaration.torch is not None else name


def declarations(state_type: Any) -> Declared:
    """The declarations of a State class (or of a state's class)."""
    cls = state_type if isinstance(state_type, type) else type(state_type)
    declared = cls.__dict__.get("__declared__")
    if declared is None:
        raise TypeError(f"{cls.__qualname__} is not declared with optim.fields.state")
    return declared


def _post_init(self: Any) -> None:
    declared = declarations(self)
    _checks.validate_hyperparameters(self, **{n: c for n, c in declared.checks.items() if n in declared.fields})
    cross_check = getattr(self, "cross_check", None)
    if cross_check is not None:
        cross_check()
    _refuse_nan(self, declared)


def _refuse_nan(state: Any, declared: Declared) -> None:
    """NaN passes the hyperparameters torch.optim does not check (SGD's dampening, ASGD's lambd,
    alpha and t0, Rprop's step sizes) and would silently fill every param with NaN: refused,
    after torch's own checks, so that torch's message comes first where torch has one."""
    for name in declared.checks:
        value = getattr(state, name, None)
        if _checks.is_number(value) and math.isnan(value):
            torch_name = declared.torch_name(name)
            if isinstance(torch_name, tuple):
                torch_name = f"{torch_name[0]}[{torch_name[1]}]"
            raise ValueError(f"Invalid {torch_name} value: nan ({name} must not be NaN)")


def state(cls: type | None = None, *, checked_first: tuple = ()) -> Any:
    """Make ``cls`` a frozen dataclass from its declarations.  ``checked_first``: the names torch
    checks first, in torch's order (a bad ε is reported before a bad β, as torch.optim.Adam
    does); every other check follows in declaration order.  A method ``cross_check(self)`` runs
    after the checks (conditions on several fields: SGD's nesterov, Rprop's etas)."""
    def make(cls: type) -> type:
        annotations = cls.__dict__.get("__annotations__", {})
        own_init_only = {n: v for n, v in list(cls.__dict__.items())
                         if isinstance(v, Declaration) and v.kind == INIT_ONLY}
        order: list[str] = []
        for base in reversed(cls.__mro__[1:]):
            order += [n for n in getattr(base, "__declared_order__", ()) if n not in order]
        order += [n for n in annotations if n not in order]
        missing = [n for n in own_init_only if n not in annotations]
        if missing:
            raise TypeError(f"{cls.__qualname__}: annotate the init-only arguments {missing} (their place "
                            f"among the fields is their place in init)")
        for name in own_init_only:
            delattr(cls, name)
            annotations.pop(name)
        cls.__post_init__ = _post_init
        cls = dataclass(frozen=True)(cls)
        undeclared = [f.name for f in dataclasses.fields(cls) if _KEY not in f.metadata]
        if undeclared:
            raise TypeError(f"{cls.__qualname__}: the fields {undeclared} need a declaration (optim.fields)")
        fields = {f.name: f.metadata[_KEY] for f in dataclasses.fields(cls)}
        init_only = {n: d for base in reversed(cls.__mro__[1:]) if "__declared__" in base.__dict__
                     for n, d in base.__declared__.arguments.items() if d.kind == INIT_ONLY}
        init_only.update(own_init_only)
        everything = {n: fields.get(n) or init_only[n] for n in order}
        arguments = {n: d for n, d in everything.items() if d.kind in (HYPER, FLAG, INIT_ONLY)}
        first = checked_first or getattr(cls, "__checked_first__", ())
        ordered = list(first) + [n for n in everything if n not in first]
        checks = {n: everything[n].check for n in ordered if everything[n].check is not None}
        cls.__declared_order__ = tuple(order)
        cls.__checked_first__ = tuple(first)
        cls.__declared__ = Declared(fields, arguments, checks)
        return cls

    return make if cls is None else make(cls)


# ---------------------------------------------------------------------------------------------
# What the declarations give

def init_function(state_type: type, doc: str = "") -> Callable:
    """The family's ``init(params, **hyperparameters)``: its signature has the declared arguments
    and defaults, in order; the arguments are checked (torch's order and messages) before any
    buffer is made; each buffer and scalar takes its declared initial value."""
    declared = declarations(state_type)
    signature = inspect.Signature(
        [inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d.default)
           for n, d in declared.arguments.items()],
        return_annotation=state_type.__qualname__)

    def init(params: Any, *args: Any, **kwargs: Any) -> Any:
        if not args and declared.arguments.keys() >= kwargs.keys():   # by keyword: as the signature binds
            given = {n: kwargs[n] if n in kwargs else d.default for n, d in declared.arguments.items()}
        else:
            bound = signature.bind(params, *args, **kwargs)
            bound.apply_defaults()
            given = dict(bound.arguments)
            params = given.pop("params")
        checks = {n: c for n, c in declared.checks.items() if n in given}
        hyperparameters = _checks.checked(given, checks)
        ctx = context_of(params)
        values = {n: v for n, v in hyperparameters.items() if n in declared.fields}
        for name, declaration in declared.of(BUFFER, SCALAR).items():
            values[name] = declaration.initial_value(ctx, params, hyperparameters)
        return state_type(**values)

    init.__signature__ = signature
    init.__module__ = state_type.__module__
    init.__doc__ = doc or f"A fresh {state_type.__module__}.State for ``params`` (see optim.fields)."
    return init_rule(init)


def update_rule(state_type: type) -> Callable:
    """Declares a family's pure ``update(state, params, grads)``: ``optim.context.update_rule``
    (the state's type; the backend adopts the state), then the layout of params, grads and every
    buffer the state's options need (``layout_buffers``), before the update's first operation."""
    def declare(update: Callable) -> Callable:
        @functools.wraps(update)
        def checked(state: Any, params: Any, grads: Any) -> Any:
            buffers = layout_buffers(state, params)
            _checks.check_layout(params, grads, buffer_shapes(state, params, buffers), **buffers)
            return update(state, params, grads)
        return _update_rule(state_type)(checked)
    return declare


def evolve(state: Any, **changes: Any) -> Any:
    """``state`` with some buffers and scalars (step, η, …) changed and no check run: only for
    values an update computed from a checked state.  A hyperparameter or a flag changes only
    through ``dataclasses.replace``, which checks it."""
    if not declarations(state).evolvable.issuperset(changes):
        refused = [n for n in changes if n not in declarations(state).evolvable]
        raise TypeError(f"evolve changes buffers and scalars only, not {refused}: use dataclasses.replace")
    new = object.__new__(type(state))
    new.__dict__.update(state.__dict__)
    new.__dict__.update(changes)
    return new


def with_saved(blank: Any, **saved: Any) -> Any:
    """``blank`` — a state whose construction checked its settings (``init`` of a group's) — with
    a saved param's buffers and scalars, each scalar checked as the constructor checks it (the
    same checks, order and messages; NaN refused) and the settings not again: what
    ``dataclasses.replace(blank, **saved)`` gives, without checking every setting per param."""
    declared = declarations(blank)
    state = evolve(blank, **_checks.checked(saved, {n: c for n, c in declared.checks.items() if n in saved}))
    _refuse_nan(state, declared)
    return state


def with_settings(state: Any, settings_from: Any) -> Any:
    """``state`` with the hyperparameters and flags of ``settings_from``, a state of the same type
    whose construction checked them (``init`` of a group's settings), and no check run again: its
    buffers and scalars stay, and no check of a State relates them to the settings."""
    if type(settings_from) is not type(state):
        raise TypeError(f"settings of a {type(settings_from).__qualname__} for a {type(state).__qualname__}")
    new = object.__new__(type(state))
    new.__dict__.update(state.__dict__)
    new.__dict__.update({n: settings_from.__dict__[n] for n in declarations(state).of(HYPER, FLAG)})
    return new


def made_by_update(state_type: Any) -> frozenset:
    """The buffers ``init`` does not make (declared ``init=None``): an update makes each when it
    is missing (SGD's momentum buffer, from the gradient, as torch.optim does)."""
    return declarations(state_type).made_by_update


def buffers(state_type: Any) -> tuple:
    """The names of the State's buffers (tensors like the params), in field order."""
    return declarations(state_type).buffer_names


def shaped_by_param(state_type: Any) -> bool:
    """Whether some buffer of this State is not shaped like the params (declared ``shape=``): which
    buffers a param has then depends on its shape."""
    return any(d.shape is not None for d in declarations(state_type).of(BUFFER).values())


def buffer_shapes(state: Any, params: Any, buffers: dict) -> dict:
    """The shape each of ``buffers`` must have for ``params``, where it is not the params' own."""
    declared = declarations(state).of(BUFFER)
    if not any(declared[n].shape is not None for n in buffers):
        return {}
    param_shape = tuple(context_of(params).shape(params))
    return {n: declared[n].shape_for(param_shape) for n in buffers if declared[n].shape is not None}


def layout_buffers(state: Any, params: Any = None) -> dict:
    """The buffers an update of ``state`` reads, for the layout check: those its options create
    (an option that needs a missing buffer is an error) and those the first update created.  A
    buffer declared with a ``shape`` exists for the params' shapes it gives a shape for: it is
    required for those and refused for the others."""
    out = {}
    for name, declaration in declarations(state).of(BUFFER).items():
        value = getattr(state, name)
        if declaration.shape is not None and params is not None:
            param_shape = tuple(context_of(params).shape(params))
            if declaration.shape_for(param_shape) is None:
                if value is not None:
                    raise ValueError(f"this state has a {name} buffer, which a param of shape {param_shape} "
                                     f"does not have: it is another param's state")
                continue
        if declaration.initial is None:   # created by the first update: checked once it exists
            if value is not None:
                out[name] = value
            continue
        if declaration.when is not None and not creates(getattr(state, declaration.when)):
            continue
        if value is None:
            if declaration.shape is not None and params is not None:
                raise ValueError(f"this state has no {name} buffer, which a param of shape "
                                 f"{tuple(context_of(params).shape(params))} needs: build the state with "
                                 f"init(params) for this param")
            if declaration.when is None:
                raise ValueError(f"this state has no {name} buffer: build it with init(...)")
            raise ValueError(f"{declaration.when} needs the {name} buffer: build the state with "
                             f"init(..., {declaration.when}={getattr(state, declaration.when)!r})")
        out[name] = value
    return out


def creating_flags(state_type: Any) -> tuple:
    """The flags that create a buffer (Adam's amsgrad, RMSprop's centered)."""
    declared = declarations(state_type)
    return tuple(n for n, d in declared.of(FLAG).items()
                 if any(b.when == n for b in declared.of(BUFFER).values()))


def torch_defaults(state_type: Any) -> dict:
    """torch's constructor arguments and defaults, in torch's order: a pair such as ``betas`` from
    the hyperparameters declared ``torch=("betas", 0)`` and ``("betas", 1)``."""
    declared = declarations(state_type)
    out: dict = {}
    for name, declaration in declared.arguments.items():
        key = declared.torch_name(name)
        if isinstance(key, tuple):
            pair, index = key
            entries = list(out.get(pair, ()))
            entries[index:index + 1] = [declaration.default]
            out[pair] = tuple(entries)
        else:
            out[key] = declaration.default
    return out


def torch_arguments(state_type: Any) -> dict:
    """torch's argument name -> the init arguments it stands for (``betas`` -> beta1, beta2)."""
    declared = declarations(state_type)
    out: dict = {}
    for name in declared.arguments:
        key = declared.torch_name(name)
        pair, index = key if isinstance(key, tuple) else (key, 0)
        names = out.setdefault(pair, [])
        names[index:index] = [name]
    return {k: tuple(v) for k, v in out.items()}


def state_names(state_type: Any) -> dict:
    """torch's state name -> field, in torch's order: the step counter, the other scalars, the
    buffers (each in field order)."""
    declared = declarations(state_type)
    scalars = declared.of(SCALAR)
    ordered = [n for n, d in scalars.items() if d.domain == "natural"] \
        + [n for n, d in scalars.items() if d.domain != "natural"] + list(declared.of(BUFFER))
    return {declared.torch_name(n): n for n in ordered}


def init_only_arguments(state_type: Any) -> tuple:
    """The init arguments that are not kept in the state (read from torch's constructor only)."""
    return tuple(n for n, d in declarations(state_type).arguments.items() if d.kind == INIT_ONLY)


def convert(state: Any, target: type, drop: tuple = (), **changes: Any) -> Any:
    """``state`` as a ``target`` State: every field of the same name, then ``changes``.  A field
    the target lacks must be listed in ``drop`` (it would be lost)."""
    names = {f.name for f in dataclasses.fields(target)}
    lost = [f.name for f in dataclasses.fields(state)
            if f.name not in names and f.name not in drop and f.name not in changes]
    if lost:
        raise TypeError(f"{target.__module__}.State has no {lost}: pass drop=... to leave them out")
    kept = {f.name: getattr(state, f.name) for f in dataclasses.fields(state) if f.name in names}
    return target(**{**kept, **changes})


# ---------------------------------------------------------------------------------------------
# Declarations several families share (one place for "lr ≥ 0", torch's "eps", …)

def lr(default: Any) -> Any:
    """The learning rate: torch's ``lr``, ≥ 0."""
    return hyper(default, check=_checks.learning_rate, domain="nonnegative")


def epsilon(default: Any) -> Any:
    """torch's ``eps`` (≥ 0 for torch; > 0 for the prover, so that every step is defined)."""
    return hyper(default, torch="eps", check=_checks.epsilon, domain="positive")


def weight_decay(default: Any = 0.0) -> Any:
    """torch's ``weight_decay`` λ ≥ 0."""
    return hyper(default, check=_checks.weight_decay, domain="nonnegative")


def momentum(default: Any) -> Any:
    """torch's ``momentum`` μ ≥ 0."""
    return hyper(default, check=_checks.momentum, domain="nonnegative")
