"""The declarations of ``optim.fields``: one per field, and what is derived from them.

* Every field of every family's State (and every init-only argument) has exactly one
  declaration, of a known kind, with a domain the prover knows.
* The derived ``init`` has the declared arguments, in order, with the declared defaults; the
  derived torch-style classes (both backends) have the derived defaults and state names; every
  family of the registry has its class on both backends, declared statically.
* The declared buffers are the arrays of a state with every option on; ``Given.state`` declares
  every variable in its declared domain.
* Validation runs in torch's order: with two bad hyperparameters, the message is torch's own
  (compared with torch.optim itself, when torch is installed).
* No State is built positionally in ``optim/`` or ``proofs/theorems/``.
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import types
from pathlib import Path

import numpy as np
import pytest

import optim
from optim import adam, adamw, fields, registry, stateful
from proofs.harness import Given
from symbolic.domains import DOMAINS
from _families import matrix_only, takes_rank

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = {family.name: family.module for family in registry.FAMILIES}
KINDS = (fields.HYPER, fields.FLAG, fields.BUFFER, fields.SCALAR, fields.INIT_ONLY)


@pytest.mark.parametrize("name", FAMILIES)
def test_every_field_has_exactly_one_declaration(name):
    state_type = FAMILIES[name].State
    declared = fields.declarations(state_type)
    names = [f.name for f in dataclasses.fields(state_type)]
    assert list(declared.fields) == names
    for f in dataclasses.fields(state_type):
        assert isinstance(f.metadata.get("optlaws"), fields.Declaration), f.name
        assert declared.fields[f.name] is f.metadata["optlaws"]
    init_only = [n for n, d in declared.arguments.items() if d.kind == fields.INIT_ONLY]
    assert not set(init_only) & set(names), "an init-only argument is also a field"
    everything = {**declared.fields, **{n: declared.arguments[n] for n in init_only}}
    for field, declaration in everything.items():
        assert declaration.kind in KINDS, field
        if declaration.kind == fields.FLAG:   # a bool flag, or an option with its own check (Muon's ns_steps,
            if isinstance(declaration.default, bool):                 # an int; adjust_lr_fn, a name)
                assert declaration.check is optim._checks.flag, field
            else:
                assert declaration.check not in (None, optim._checks.flag), field
            continue
        assert declaration.domain in DOMAINS, (field, declaration.domain)
        if declaration.kind in (fields.HYPER, fields.INIT_ONLY):
            assert declaration.check is not None, field
            assert declaration.default is not dataclasses.MISSING, field
        if declaration.kind == fields.BUFFER:
            assert not DOMAINS[declaration.domain].integer, field
            assert declaration.when is None or declaration.when in declared.fields, field
    # one torch name per field, and the pairs complete
    torch_names = [declared.torch_name(n) for n in everything]
    assert len(set(torch_names)) == len(torch_names), torch_names


@pytest.mark.parametrize("name", FAMILIES)
def test_the_derived_init_has_the_declared_arguments_and_defaults(name):
    family = FAMILIES[name]
    declared = fields.declarations(family.State)
    parameters = inspect.signature(family.init).parameters
    assert list(parameters) == ["params", *declared.arguments]
    for argument, declaration in declared.arguments.items():
        assert parameters[argument].default == declaration.default, argument
        assert type(parameters[argument].default) is type(declaration.default), argument
    # the dataclass defaults are the same declared values
    for f in dataclasses.fields(family.State):
        declaration = f.metadata["optlaws"]
        if declaration.kind in (fields.HYPER, fields.FLAG):
            assert f.default == declaration.default, f.name
    # init with every default builds a state whose hyperparameters are the defaults
    state = family.init(np.zeros(3))
    for argument, declaration in declared.arguments.items():
        if argument in declared.fields:
            assert getattr(state, argument) == declaration.default, argument


@pytest.mark.parametrize("name", FAMILIES)
def test_init_takes_its_arguments_by_position_too(name):
    family = FAMILIES[name]
    declared = fields.declarations(family.State)
    defaults = [d.default for d in declared.arguments.values()]
    assert repr(family.init(np.zeros(2), *defaults)) == repr(family.init(np.zeros(2)))
    with pytest.raises(TypeError):
        family.init(np.zeros(2), *defaults, 0.0)
    with pytest.raises(TypeError):
        family.init(np.zeros(2), no_such_hyperparameter=1.0)


def test_every_family_of_the_registry_has_its_class_on_both_backends():
    assert list(optim.OPTIMIZERS) == [f.name for f in registry.FAMILIES]
    assert set(stateful.CLASSES) == set(FAMILIES)
    for name, module in FAMILIES.items():
        cls = stateful.CLASSES[name]
        assert cls.__name__ == name and cls.family is module
        assert getattr(optim, name) is cls
        source = Path(inspect.getsourcefile(stateful)).read_text()
        # declared statically, visible to tools (schedule-free's through its modes' class)
        assert f"class {name}(Optimizer):" in source or f"class {name}(ScheduleFree):" in source
        assert issubclass(cls, stateful.Optimizer)
    torch_names = {f.name for f in registry.FAMILIES if f.torch_positional is not None}
    assert set(optim.TORCH_OPTIMIZERS) == torch_names
    assert "MomentumSGD" not in optim.TORCH_OPTIMIZERS


def test_every_family_of_the_registry_has_its_torch_backend_class():
    pytest.importorskip("torch")
    from optim import torch_backend

    source = Path(inspect.getsourcefile(torch_backend)).read_text()
    assert "globals()" not in source
    assert set(torch_backend.CLASSES) == set(FAMILIES)
    for name, module in FAMILIES.items():
        cls = torch_backend.CLASSES[name]
        assert cls.family is module and getattr(torch_backend, name) is cls
        assert f"class {name}(TorchOptimizer):" in source or f"class {name}(ScheduleFree):" in source
        assert issubclass(cls, torch_backend.TorchOptimizer)
        assert cls.defaults_ == fields.torch_defaults(module.State)
        assert cls.state_names == stateful.CLASSES[name].state_names
    assert set(torch_backend.OPTIMIZERS) == set(optim.TORCH_OPTIMIZERS)


@pytest.mark.parametrize("name", FAMILIES)
def test_the_classes_are_derived_from_the_declarations(name):
    cls, state_type = stateful.CLASSES[name], FAMILIES[name].State
    declared = fields.declarations(state_type)
    assert cls.defaults == fields.torch_defaults(state_type)
    # torch's names cover every init argument, pairs complete and in order
    covered = [n for names in fields.torch_arguments(state_type).values() for n in names]
    assert covered == list(declared.arguments)
    assert set(cls.state_names.values()) == set(declared.of(fields.BUFFER, fields.SCALAR))
    assert cls.constructor_only == fields.init_only_arguments(state_type)
    assert cls.state_at_construction == bool(cls.constructor_only)
    assert 1 <= cls.positional <= len(cls.defaults)


def test_a_family_torch_lacks_has_both_class_paths():
    """MomentumSGD (TorchLean's; no torch.optim class): the torch-style classes are derived from its
    declarations like any other family's, and step as the functional update does."""
    p, g = np.ones(3), np.array([0.1, 0.2, 0.3])
    state, expected = optim.momentum_sgd.init(p.copy(), lr=0.1), p.copy()
    for _ in range(2):
        state, expected = optim.momentum_sgd.update(state, expected, g)
    opt = optim.MomentumSGD([p], lr=0.1)
    opt.step([g])
    opt.step([g])
    np.testing.assert_array_equal(p, expected)
    saved = opt.state_dict()
    assert list(saved["state"][0]) == ["momentum_buffer"]
    again = optim.MomentumSGD([np.ones(3)], 0.1, 0.9)
    again.load_state_dict(saved)
    np.testing.assert_array_equal(again.state[0].buf, state.buf)
    torch = pytest.importorskip("torch")
    from optim import torch_backend

    t = torch.ones(3, dtype=torch.float64, requires_grad=True)
    backend = torch_backend.MomentumSGD([t], lr=0.1)
    for _ in range(2):
        t.grad = torch.tensor(g)
        backend.step()
    np.testing.assert_array_equal(t.detach().numpy(), expected)
    np.testing.assert_array_equal(backend.state[t]["momentum_buffer"].numpy(), state.buf)


def _lion():
    """A family torch.optim lacks, written as a user would (Chen et al. 2023, Lion): one module's
    worth of declarations and an update."""
    from dataclasses import replace
    from typing import Any

    from optim import _checks
    from optim.context import context_of

    @fields.state
    class State:
        lr: Any = fields.lr(1e-4)
        beta1: Any = fields.hyper(0.9, torch=("betas", 0), check=_checks.beta(0), domain="unit")
        beta2: Any = fields.hyper(0.99, torch=("betas", 1), check=_checks.beta(1), domain="unit")
        weight_decay: Any = fields.weight_decay()
        m: Any = fields.buffer(torch="exp_avg")

    @fields.update_rule(State)
    def update(state, params, grads):
        direction = context_of(params).sign(state.m * state.beta1 + (1 - state.beta1) * grads)
        params = params * (1 - state.lr * state.weight_decay) - state.lr * direction
        return replace(state, m=state.m * state.beta2 + (1 - state.beta2) * grads), params

    module = types.ModuleType("lion")
    module.State, module.init, module.update = State, fields.init_function(State), update
    return module


def test_a_family_outside_the_registry_gets_its_classes_from_its_declarations():
    lion = _lion()

    class Lion(stateful.Optimizer):
        family = lion

    assert Lion.defaults == {"lr": 1e-4, "betas": (0.9, 0.99), "weight_decay": 0.0}
    assert Lion.positional == 3 and Lion.state_names == {"exp_avg": "m"}
    p, g = np.ones(3), np.array([0.5, -0.5, 0.0])
    opt = Lion([p], lr=0.1, betas=(0.5, 0.9))
    opt.step([g])
    np.testing.assert_allclose(p, [0.9, 1.1, 1.0])
    with pytest.raises(ValueError, match=r"^Invalid beta parameter at index 1: 1\.5$"):
        Lion([p], betas=(0.5, 1.5))
    torch = pytest.importorskip("torch")
    from optim import torch_backend

    class TorchLion(torch_backend.TorchOptimizer):
        family = lion

    t = torch.ones(3, dtype=torch.float64, requires_grad=True)
    t.grad = torch.tensor(g)
    TorchLion([t], lr=0.1, betas=(0.5, 0.9)).step()
    np.testing.assert_allclose(t.detach().numpy(), [0.9, 1.1, 1.0])


def _full_state(name, p):
    """A state with every option that creates a buffer on (and SGD's buffer, made by its first step)."""
    family = FAMILIES[name]
    state = family.init(p, **dict.fromkeys(fields.creating_flags(family.State), True),
                        **({"momentum": 0.5} if "momentum" in fields.declarations(family.State).arguments else {}))
    return family.update(state, p, np.ones_like(p))[0]


# A matrix, and a vector for the families that take one (Muon takes matrices only).
FULL_STATE_CASES = [(name, shape) for name in FAMILIES for shape in ((2, 3), (4,))
                    if takes_rank(FAMILIES[name], len(shape))]


@pytest.mark.parametrize("name,shape", FULL_STATE_CASES)
def test_the_declared_buffers_are_the_arrays_of_a_full_state(name, shape):
    """Every declared buffer a param of this shape has (Adafactor: row and column factors for a
    matrix, one variance for a vector) is an array of the full state, and no other field is."""
    p = np.zeros(shape)
    state = _full_state(name, p)
    arrays = {f.name for f in dataclasses.fields(state) if isinstance(getattr(state, f.name), np.ndarray)}
    declared = fields.declarations(state).of(fields.BUFFER)
    assert arrays == {n for n in fields.buffers(state) if declared[n].shape_for(shape) is not None}
    assert set(fields.layout_buffers(state, p)) == arrays
    for name_ in arrays:
        assert getattr(state, name_).shape == declared[name_].shape_for(shape), name_


def test_an_option_that_needs_a_missing_buffer_is_refused():
    p = np.zeros(3)
    state = dataclasses.replace(adam.init(p), amsgrad=True)
    with pytest.raises(ValueError, match="amsgrad needs the v_max buffer"):
        adam.update(state, p, p)


# A generic state (every shape), or, for a family whose buffers follow the param's shape
# (Adafactor), the states of a matrix and of a vector, which it must be given.
GIVEN_CASES = [(name, shape) for name, family in FAMILIES.items()
               for shape in (((2, 3), (4,)) if fields.shaped_by_param(family.State) else (None,))]


@pytest.mark.parametrize("name,shape", GIVEN_CASES)
def test_given_state_declares_every_variable_in_its_declared_domain(name, shape):
    family = FAMILIES[name]
    declared = fields.declarations(family.State)
    x = Given()
    flags = dict.fromkeys(fields.creating_flags(family.State), True)
    state = x.state(family, **flags) if shape is None else x.state(family, shape=shape, **flags)
    assert isinstance(state, family.State)
    variables = {v.name: v for v in x.variables}
    for field, declaration in declared.fields.items():
        if declaration.kind == fields.FLAG:
            assert getattr(state, field) is flags.get(field, declaration.default)
        elif declaration.kind == fields.BUFFER and declaration.initial is None:
            assert getattr(state, field) is None and field not in variables   # the first update makes it
        elif declaration.kind == fields.BUFFER and shape is not None and declaration.shape_for(shape) is None:
            assert getattr(state, field) is None and field not in variables   # not this shape's buffer
        else:
            assert variables[field].domain.name == declaration.domain, field
            assert variables[field].is_tensor == (declaration.kind == fields.BUFFER), field
    assert list(variables) == [n for n in declared.fields if n in variables]   # in field order


def test_given_state_takes_domains_and_values():
    from optim import rmsprop, sgd

    x = Given()
    state = x.state(rmsprop, lr="positive", momentum=0.0)
    domains = {v.name: v.domain.name for v in x.variables}
    assert domains["lr"] == "positive" and "momentum" not in domains
    assert state.momentum == 0.0 and state.momentum_buffer is None and state.grad_avg is None
    x = Given()
    state = x.state(sgd, buf="real")
    assert {v.name for v in x.variables} == {"lr", "momentum", "dampening", "weight_decay", "buf"}
    hyper = Given().hyperparameters(adam, amsgrad=True)
    assert list(hyper) == list(fields.declarations(adam.State).arguments) and hyper["amsgrad"] is True
    with pytest.raises(ValueError, match="no_such"):
        Given().state(sgd, no_such=1)


def test_convert_keeps_every_field_or_says_what_it_drops():
    p = np.zeros(2)
    w = adamw.init(p, weight_decay=0.3, amsgrad=True)
    a = adamw.as_adam(w)
    assert isinstance(a, adam.State) and a.decoupled_weight_decay is True
    assert (a.weight_decay, a.amsgrad, a.v_max is w.v_max) == (0.3, True, True)
    with pytest.raises(TypeError, match="decoupled_weight_decay"):
        fields.convert(a, adamw.State)
    assert repr(fields.convert(a, adamw.State, drop=("decoupled_weight_decay",))) == repr(w)


def _positional_state_calls(path: Path) -> list:
    calls = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "State":
                calls.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return calls


def sgd_state_by_position():
    return FAMILIES["SGD"].State(0.5, 0.9, 0.1)


def test_no_state_is_built_positionally():
    """The library and its theorems name every field (a positional value binds by declaration
    order); users may give the hyperparameters and flags by position, as theorem files write
    ``sgd.State(lr)``, while buffers and scalars are keyword-only."""
    assert sgd_state_by_position() == FAMILIES["SGD"].State(lr=0.5, momentum=0.9, dampening=0.1)
    with pytest.raises(TypeError, match="positional argument"):
        FAMILIES["Adam"].State(*([0.1] * 20))   # never as far as the buffers
    files = sorted((ROOT / "optim").glob("*.py")) + sorted((ROOT / "proofs" / "theorems").glob("*.py"))
    assert [c for f in files for c in _positional_state_calls(f)] == []


# --------------------------------------------------------------------------------------------
# torch's order of validation: with two bad values, torch's message (torch.optim is the oracle)
def _bad_settings(cls) -> list:
    """One bad value per real hyperparameter (each entry of a pair on its own); not the flags and
    options (Muon's ns_steps and adjust_lr_fn: ours refuses a bad ns_steps at construction, where
    torch fails at the step; tests/test_adafactor_muon.py has adjust_lr_fn's message)."""
    bad = []
    declared = fields.declarations(cls.family.State)
    arguments = fields.torch_arguments(cls.family.State)
    for key, default in cls.defaults.items():
        if all(declared.arguments[n].kind == fields.FLAG for n in arguments[key]):
            continue
        if isinstance(default, tuple):
            bad += [(key, tuple(-1.0 if i == j else d for j, d in enumerate(default))) for i in range(len(default))]
        else:
            bad.append((key, -1.0))
    return bad


def _outcome(make):
    try:
        make()
    except (ValueError, TypeError) as error:
        return type(error).__name__, str(error)
    return None


TORCH_NAMES = [f.name for f in registry.FAMILIES if f.torch_positional is not None]


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_two_bad_hyperparameters_give_torchs_message(name):
    torch = pytest.importorskip("torch")
    cls = optim.TORCH_OPTIMIZERS[name]
    shape = (2, 2) if matrix_only(cls) else (2,)
    for (key_a, a), (key_b, b) in itertools.combinations(_bad_settings(cls), 2):
        settings = {key_a: a}
        settings[key_b] = tuple(-1.0 if -1.0 in (u, v) else u for u, v in zip(a, b)) if key_a == key_b else b
        theirs = _outcome(lambda: getattr(torch.optim, name)([torch.zeros(shape)], **settings))
        ours = _outcome(lambda: cls([np.zeros(shape)], **settings))
        assert (ours and ours[1]) == (theirs and theirs[1]), (name, settings)


def test_a_state_class_with_a_field_or_argument_not_declared_is_refused_by_name():
    from typing import Any

    from optim import _checks
    with pytest.raises(TypeError, match=r"Bare: the fields \['lr', 'm'\] need a declaration"):
        @fields.state
        class Bare:
            lr: Any = 0.1
            m: Any = None
    with pytest.raises(TypeError, match=r"annotate the init-only arguments \['start'\]"):
        @fields.state
        class Unplaced:
            lr: Any = fields.lr(0.1)
            start = fields.init_only(0.0, check=_checks.number)
    with pytest.raises(TypeError, match="int is not declared with optim.fields.state"):
        fields.declarations(int)


def test_evolve_changes_buffers_and_scalars_only():
    from optim import adam
    state = adam.init(np.ones(2), lr=0.1)
    moved = fields.evolve(state, m=np.full(2, 3.0), t=4)
    assert moved.t == 4 and np.all(moved.m == 3.0) and moved.lr == 0.1 and state.t == 0
    with pytest.raises(TypeError, match=r"evolve changes buffers and scalars only, not \['lr'\]"):
        fields.evolve(state, lr=0.2, t=1)
    with pytest.raises(TypeError, match=r"evolve changes buffers and scalars only, not \['beta1', 'bogus'\]"):
        fields.evolve(state, t=1, beta1=0.5, bogus=2)


def test_init_binds_keywords_as_its_signature_does():
    """init by keyword (the shell's every call) gives what the signature's binding gives, and
    refuses what it refuses, with its message."""
    import inspect

    from optim import adam
    p = np.ones(2)
    by_keyword = adam.init(p, lr=0.5, amsgrad=True, beta2=0.9)
    by_position = adam.init(p, 0.5, 0.9, 0.9, amsgrad=True)   # lr, beta1, beta2
    assert [(k, v) for k, v in vars(by_keyword).items() if not isinstance(v, np.ndarray)] == \
        [(k, v) for k, v in vars(by_position).items() if not isinstance(v, np.ndarray)]
    assert list(inspect.signature(adam.init).parameters)[:3] == ["params", "lr", "beta1"]
    assert (by_keyword.lr, by_keyword.beta1, by_keyword.beta2, by_keyword.amsgrad) == (0.5, 0.9, 0.9, True)
    assert adam.init(p).lr == 1e-3   # the declared default
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        adam.init(p, bogus=1)
    with pytest.raises(TypeError, match="multiple values for argument 'params'"):
        adam.init(p, params=p)
    with pytest.raises(ValueError, match=r"^Invalid learning rate: -1.0$"):
        adam.init(p, lr=-1.0)


def test_with_saved_is_replace_without_checking_the_settings_again():
    """A saved param's buffers and scalars on a group's checked state: the values replace gives,
    each scalar checked by its own check with its message (a step count made an int, NaN refused)."""
    from optim import asgd, nadam
    blank = nadam.init(np.zeros(0), lr=0.5)
    m, v = np.full(2, 0.25), np.full(2, 0.5)
    got = fields.with_saved(blank, m=m, v=v, t=np.float64(3.0), mu_product=0.75)
    want = dataclasses.replace(blank, m=m, v=v, t=np.float64(3.0), mu_product=0.75)
    assert [(k, type(a), a) for k, a in vars(got).items() if not isinstance(a, np.ndarray)] == \
        [(k, type(b), b) for k, b in vars(want).items() if not isinstance(b, np.ndarray)]
    assert got.m is m and got.v is v and type(got.t) is int and got.lr == 0.5
    for bad, error in [(dict(t=-1), r"^Invalid step count: -1 \(a natural number is required\)$"),
                       (dict(t=2.5), r"^Invalid step count: 2.5"), (dict(mu_product=float("nan")), "must not be NaN")]:
        with pytest.raises(ValueError, match=error):
            fields.with_saved(blank, **bad)
        with pytest.raises(ValueError, match=error):
            dataclasses.replace(blank, **bad)
    with pytest.raises(TypeError, match="evolve changes buffers and scalars only"):
        fields.with_saved(asgd.init(np.zeros(0)), lr=0.1)
