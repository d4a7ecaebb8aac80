"""The torch backend never gives a silent wrong result (issue 9): a compiled step equals the eager
one; a step is all or nothing across groups; torch options it does not implement are refused;
sparse gradients get torch's behaviour or torch's error before any change; ``load_state_dict``
takes torch.optim's own state and refuses a malformed one, changing nothing."""
import copy
import inspect
import os
import re

import pytest

torch = pytest.importorskip("torch") if os.environ.get("CI") != "true" else __import__("torch")

from optim import torch_backend  # noqa: E402
from _families import matrix_only, newton_schulz_at_param_dtype, takes_rank  # noqa: E402

NAMES = sorted(torch_backend.OPTIMIZERS)
SETTINGS = {   # a setting per optimizer that exercises its state (buffers and scalars)
    "SGD": dict(lr=0.05, momentum=0.9, weight_decay=1e-3),
    "Adam": dict(lr=1e-2, amsgrad=True, weight_decay=1e-3),
    "AdamW": dict(lr=1e-2),
    "Adadelta": dict(lr=1.0),
    "Adagrad": dict(lr=0.05, lr_decay=1e-3),
    "RMSprop": dict(lr=1e-2, centered=True, momentum=0.5),
    "Adamax": dict(lr=1e-2),
    "NAdam": dict(lr=1e-2, weight_decay=1e-2),
    "RAdam": dict(lr=1e-2),
    "Rprop": dict(lr=1e-2),
    "ASGD": dict(lr=1e-2, t0=2),
    "Adafactor": dict(lr=1e-2, weight_decay=1e-2, beta2_decay=-0.5, d=1.5),
    "Muon": dict(lr=1e-2, nesterov=False, weight_decay=0.0, adjust_lr_fn="match_rms_adamw", ns_steps=3),
}


def stepped(name, parameters):
    """The params an optimizer of this name steps: all of them, or the matrices for Muon (which
    takes matrices only; the model's biases then stay as they are)."""
    return [p for p in parameters if takes_rank(torch_backend.OPTIMIZERS[name], p.dim())]


def shape(name, n):
    """A vector of n entries, or n × 2 for an optimizer that takes matrices only (Muon)."""
    return (n, 2) if matrix_only(torch_backend.OPTIMIZERS[name]) else (n,)


def reference(name, params, **settings):
    """torch.optim's optimizer on its single-tensor path (``foreach=False`` where it has the option:
    Muon has not), stepping Muon's Newton–Schulz at the param's dtype as ours does."""
    cls = getattr(torch.optim, name)
    opt = cls(params, **settings, **({"foreach": False} if "foreach" in inspect.signature(cls).parameters else {}))
    step = opt.step

    def at_param_dtype(*args, **kwargs):
        with newton_schulz_at_param_dtype():
            return step(*args, **kwargs)
    opt.step = at_param_dtype
    return opt


def model_and_data(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    data = torch.randn(32, 4)
    return model, data, data.sum(dim=1, keepdim=True).sin()


def train(make, steps=6, compile_backend=None, optimizer_out=None):
    model, data, target = model_and_data()
    opt = make(model.parameters())
    step = opt.step if compile_backend is None else torch.compile(opt.step, backend=compile_backend)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(data), target).backward()
        step()
    if optimizer_out is not None:
        optimizer_out.append(opt)
    return [p.detach().clone() for p in model.parameters()]


def snapshot(opt):
    params = [p.detach().clone() for g in opt.param_groups for p in g["params"]]
    return params, copy.deepcopy(opt.state_dict())


def assert_same(a, b):
    (pa, sa), (pb, sb) = a, b
    for x, y in zip(pa, pb, strict=True):
        assert torch.equal(x, y)
    assert sa["state"].keys() == sb["state"].keys()
    for i in sa["state"]:
        assert sa["state"][i].keys() == sb["state"][i].keys()
        for k, v in sa["state"][i].items():
            w = sb["state"][i][k]
            assert (torch.equal(v, w) if torch.is_tensor(v) else v == w), (i, k)
    assert [{k: v for k, v in g.items()} for g in sa["param_groups"]] == \
           [{k: v for k, v in g.items()} for g in sb["param_groups"]]


# -- 1. torch.compile --------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.parametrize("name", NAMES)
def test_a_compiled_step_gives_the_eager_result(name):
    make = lambda p: getattr(torch_backend, name)(stepped(name, p), **SETTINGS[name])  # noqa: E731
    eager_opt, compiled_opt = [], []
    eager = train(make, optimizer_out=eager_opt)
    compiled = train(make, compile_backend="aot_eager", optimizer_out=compiled_opt)
    for a, b in zip(eager, compiled, strict=True):
        assert torch.equal(a, b), (name, (a - b).abs().max())
    steps = [float(s["step"]) for s in compiled_opt[0].state.values() if "step" in s]
    assert all(s == 6 for s in steps), steps


def test_a_compiled_training_step_gives_the_eager_result():
    # forward, backward and step in one compiled function (the usual pattern)
    results = []
    for backend in (None, "aot_eager"):
        torch._dynamo.reset()
        model, data, target = model_and_data()
        opt = torch_backend.NAdam(model.parameters(), **SETTINGS["NAdam"])

        def train_step():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(data), target)
            loss.backward()
            opt.step()
            return loss
        run = train_step if backend is None else torch.compile(train_step, backend=backend)
        losses = [float(run()) for _ in range(6)]
        results.append(([p.detach().clone() for p in model.parameters()], losses))
    (eager, eager_losses), (compiled, compiled_losses) = results
    assert eager_losses == compiled_losses
    for a, b in zip(eager, compiled, strict=True):
        assert torch.equal(a, b)


def test_fullgraph_compile_is_refused_with_the_reason():
    opt = torch_backend.Adam([torch.nn.Parameter(torch.ones(2))], lr=0.1)
    with pytest.raises(Exception, match="runs its step eagerly under torch.compile"):
        torch.compile(opt.step, backend="eager", fullgraph=True)()


def test_a_step_compiled_with_inductor_gives_the_eager_result():
    make = lambda p: torch_backend.Adam(p, lr=1e-2, amsgrad=True)  # noqa: E731
    eager, compiled = train(make), train(make, compile_backend="inductor")
    for a, b in zip(eager, compiled, strict=True):
        assert torch.equal(a, b)


# -- 2. all or nothing -------------------------------------------------------------------------

def two_groups(name, **second):
    w = torch.nn.Parameter(torch.linspace(-1, 1, 6).reshape(2, 3))
    b = torch.nn.Parameter(torch.linspace(0.5, 1, 4).reshape((2, 2) if matrix_only(torch_backend.OPTIMIZERS[name])
                                                             else (4,)))   # (Muon takes matrices only)
    opt = getattr(torch_backend, name)([{"params": [w]}, {"params": [b], **second}], **SETTINGS[name])
    w.grad, b.grad = torch.full_like(w, 0.3), torch.full_like(b, -0.2)
    opt.step()
    w.grad, b.grad = torch.full_like(w, -0.1), torch.full_like(b, 0.4)
    return opt, w, b


BAD_GROUP_VALUES = [("lr", -0.1), ("lr", float("nan")), ("lr", 0.01 + 0.5j), ("lr", "0.01"), ("lr", None),
                    ("lr", [0.01]), ("lr", torch.tensor(0.01, dtype=torch.complex64)), ("maximize", 1)]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("key,value", BAD_GROUP_VALUES, ids=[f"{k}={v!r}" for k, v in BAD_GROUP_VALUES])
def test_a_bad_hyperparameter_in_the_second_group_changes_nothing(name, key, value):
    opt, w, b = two_groups(name)
    if key not in opt.param_groups[1]:   # a flag given 1: Muon has no maximize, its flag is nesterov
        key = next(k for k, v in opt.defaults.items() if isinstance(v, bool))
    before = snapshot(opt)
    opt.param_groups[1][key] = value            # a buggy schedule
    with pytest.raises((ValueError, TypeError)):
        opt.step()
    opt.param_groups[1][key] = before[1]["param_groups"][1][key]
    assert_same(snapshot(opt), before)


@pytest.mark.parametrize("name", NAMES)
def test_a_sparse_grad_on_the_second_param_changes_nothing(name):
    opt, w, b = two_groups(name)
    if "weight_decay" in opt.param_groups[1]:
        opt.param_groups[1]["weight_decay"] = 0.1    # torch refuses sparse grads with weight decay
    before = snapshot(opt)
    dense = torch.zeros_like(b)
    dense.view(-1)[[0, 2]] = torch.tensor([1.0, 2.0])
    b.grad = dense.to_sparse()   # entries 0 and 2 (of the vector; of Muon's 2 × 2 matrix)
    with pytest.raises(RuntimeError):   # torch's errors for these settings (weight decay, momentum)
        opt.step()
    assert_same(snapshot(opt), before)


def test_a_bad_state_on_the_second_param_changes_nothing():
    opt, w, b = two_groups("Adam")
    opt.state[b]["exp_avg"] = torch.zeros(5)
    before = snapshot(opt)
    with pytest.raises(ValueError, match="exp_avg"):
        opt.step()
    assert_same(snapshot(opt), before)


def test_add_param_group_with_a_bad_hyperparameter_adds_nothing():
    opt, w, b = two_groups("Adam")
    with pytest.raises(ValueError):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(2))], "lr": -1.0})
    assert len(opt.param_groups) == 2


# -- 3. torch options we do not implement -------------------------------------------------------

def torch_options(name):
    ours = getattr(torch_backend, name).defaults_
    signature = inspect.signature(getattr(torch.optim, name).__init__)
    return {k: p.default for k, p in signature.parameters.items() if k not in ("self", "params") and k not in ours}


def test_every_torch_constructor_argument_is_known():
    for name in NAMES:
        options = torch_options(name)
        assert set(options) <= {"foreach", "fused", "capturable", "differentiable"}, (name, options)


@pytest.mark.parametrize("name", NAMES)
def test_options_we_do_not_implement_are_refused(name):
    p = torch.nn.Parameter(torch.ones(shape(name, 3)))
    for option, default in torch_options(name).items():
        getattr(torch_backend, name)([p], **{option: default})          # torch's default: a no-op
        getattr(torch_backend, name)([p], **{option: False})            # False: the same no-op
        with pytest.raises(ValueError, match=f"{option}=True is not implemented"):
            getattr(torch_backend, name)([p], **{option: True})
        with pytest.raises(ValueError, match=f"{option}=True is not implemented"):
            getattr(torch_backend, name)([{"params": [p], option: True}])
    unknown = {"fused", "capturable"} - set(torch_options(name))
    for option in unknown:   # not an argument of this torch.optim class: torch's TypeError
        with pytest.raises(TypeError, match="unexpected"):
            getattr(torch_backend, name)([p], **{option: False})


def test_the_options_are_kept_in_the_groups_as_torch_keeps_them():
    p = torch.nn.Parameter(torch.ones(3))
    ours = torch_backend.Adam([p], foreach=False)
    theirs = torch.optim.Adam([p], foreach=False)
    assert ours.param_groups[0].keys() == theirs.param_groups[0].keys()
    assert {k: v for k, v in ours.param_groups[0].items() if k != "params"} == \
           {k: v for k, v in theirs.param_groups[0].items() if k != "params"}


# -- 4. sparse gradients -----------------------------------------------------------------------

def embedding_run(make, steps=5, dtype=torch.float64):
    torch.manual_seed(1)
    emb = torch.nn.Embedding(10, 3, sparse=True).to(dtype)
    opt = make(emb.parameters())
    for i in range(steps):
        opt.zero_grad()
        idx = torch.tensor([[1, 3, 3, 7], [0, 1, 9, 3], [2, 2, 2, 2], [4, 5, 6, 1], [3, 7, 7, 0]][i])
        (emb(idx) ** 2).sum().mul(0.5 + i).backward()
        opt.step()
    return emb.weight.detach().clone(), opt


ADAGRAD_SPARSE = [dict(lr=0.1), dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
                  dict(lr=0.1, maximize=True, eps=0.0)]


def within_rounding(ours, theirs, steps=5):
    # torch adds the sparse update with add_(alpha=-clr), one rounding or two (a fused multiply-add
    # on vector kernels) where ours rounds clr·x then the difference: each step the two differ by
    # at most 2u·(|p| + |clr·x|) ≤ 4u·max|p| per element here (|clr·x| ≤ |p|); the feedback through
    # the gradient (a multiple of p) is ≤ 1 per step over 5 steps.  Measured: ≤ 1 ulp of max|p|.
    u = torch.finfo(theirs.dtype).eps / 2
    return torch.allclose(ours, theirs, rtol=0, atol=4 * u * steps * float(theirs.abs().max()))


UNTOUCHED = 8   # no batch of embedding_run looks up row 8


@pytest.mark.parametrize("kwargs", ADAGRAD_SPARSE, ids=str)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sparse_adagrad_is_torchs(kwargs, dtype):
    ours, ours_opt = embedding_run(lambda p: torch_backend.Adagrad(p, **kwargs), dtype=dtype)
    theirs, their_opt = embedding_run(lambda p: torch.optim.Adagrad(p, **kwargs), dtype=dtype)
    assert within_rounding(ours, theirs), (ours - theirs).abs().max()
    a, b = ours_opt.state_dict()["state"][0], their_opt.state_dict()["state"][0]
    assert within_rounding(a["sum"], b["sum"]) and float(a["step"]) == float(b["step"]) == 5
    initial, _ = embedding_run(lambda p: torch_backend.Adagrad(p, **kwargs), steps=0, dtype=dtype)
    # rows without a gradient are untouched, bit for bit (a dense step with eps=0 would make 0/0)
    assert torch.equal(ours[UNTOUCHED], initial[UNTOUCHED]) and torch.equal(ours[UNTOUCHED], theirs[UNTOUCHED])
    assert torch.equal(a["sum"][UNTOUCHED], b["sum"][UNTOUCHED])
    assert not torch.isnan(ours).any()


SGD_SPARSE = [dict(lr=0.1), dict(lr=0.1, maximize=True)]


@pytest.mark.parametrize("kwargs", SGD_SPARSE, ids=str)
def test_sparse_sgd_without_momentum_is_torchs(kwargs):
    ours, _ = embedding_run(lambda p: torch_backend.SGD(p, **kwargs))
    theirs, _ = embedding_run(lambda p: torch.optim.SGD(p, **kwargs))
    assert within_rounding(ours, theirs), (ours - theirs).abs().max()


def sparse_error(make, unchanged=True):
    p = torch.nn.Parameter(torch.ones(4, 2))
    opt = make([p])
    p.grad = torch.sparse_coo_tensor(torch.tensor([[1]]), torch.ones(1, 2), (4, 2))
    before = snapshot(opt)
    with pytest.raises(RuntimeError) as info:
        opt.step()
    if unchanged:
        assert_same(snapshot(opt), before)
    return str(info.value)


SPARSE_ERRORS = [(name, {}) for name in NAMES if name not in ("Adagrad", "SGD")] + [
    ("Adagrad", dict(weight_decay=0.1)), ("SGD", dict(weight_decay=0.1))]


@pytest.mark.parametrize("name,kwargs", SPARSE_ERRORS, ids=str)
def test_sparse_grads_get_torchs_error_before_any_change(name, kwargs):
    ours = sparse_error(lambda ps: getattr(torch_backend, name)(ps, **kwargs))
    # (torch.optim.Adagrad counts the step before it raises: ours changes nothing)
    theirs = sparse_error(lambda ps: reference(name, ps, **kwargs), unchanged=False)
    if name == "SGD":   # torch's is an internal one: ours names the cause and quotes it
        assert "weight_decay is not compatible with sparse gradients" in ours and theirs[:20] in ours
    else:
        assert ours == theirs


def test_sparse_sgd_with_momentum_is_refused_clearly():
    message = sparse_error(lambda ps: torch_backend.SGD(ps, lr=0.1, momentum=0.9))
    assert "sparse" in message and "momentum" in message


# -- 5. load_state_dict ------------------------------------------------------------------------

def trained(module, name, steps=3):
    model, data, target = model_and_data()
    make = (lambda ps, **kw: reference(name, ps, **kw)) if module is torch.optim else getattr(module, name)
    opt = make(stepped(name, model.parameters()), **SETTINGS[name])
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(data), target).backward()
        opt.step()
    return model, opt, data, target


@pytest.mark.parametrize("name", NAMES)
def test_a_state_saved_by_torch_optim_loads_and_continues_as_torch_does(name):
    model, theirs, data, target = trained(torch.optim, name)
    saved = copy.deepcopy(theirs.state_dict())
    mine = copy.deepcopy(model)
    ours = getattr(torch_backend, name)(stepped(name, mine.parameters()), **SETTINGS[name])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours.load_state_dict(saved)
        for m, opt in ((model, theirs), (mine, ours)):
            for _ in range(3):
                opt.zero_grad()
                torch.nn.functional.mse_loss(m(data), target).backward()
                opt.step()
    for a, b in zip(model.parameters(), mine.parameters()):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-6), (name, (a - b).abs().max())
    # and the state we save is torch's layout: torch.optim loads it
    ours_saved = ours.state_dict()
    assert {i: set(s) for i, s in ours_saved["state"].items()} == \
           {i: set(s) for i, s in theirs.state_dict()["state"].items()}
    for i, entry in ours_saved["state"].items():
        for key, value in entry.items():
            reference = theirs.state_dict()["state"][i][key]
            assert torch.is_tensor(value) and value.dtype == reference.dtype and value.shape == reference.shape


def test_asgd_and_nadam_scalars_loaded_from_torch_are_read_as_torch_reads_them():
    # torch reads eta with .item() (a double): η·g is not rounded to float32 first.
    for name in ("ASGD", "NAdam"):
        model, theirs, data, target = trained(torch.optim, name, steps=4)
        mine = copy.deepcopy(model)
        ours = getattr(torch_backend, name)(mine.parameters(), **SETTINGS[name])
        ours.load_state_dict(copy.deepcopy(theirs.state_dict()))
        for m, opt in ((model, theirs), (mine, ours)):
            opt.zero_grad()
            torch.nn.functional.mse_loss(m(data), target).backward()
            opt.step()
        for a, b in zip(model.parameters(), mine.parameters()):
            assert torch.allclose(a, b, rtol=0, atol=4e-7), (name, (a - b).abs().max())


def malformed(name="Adam"):
    model, opt, _, _ = trained(torch_backend, name)
    return opt, opt.state_dict()


def assert_load_refused(opt, bad, error, match=None):
    """load_state_dict(bad) raises ``error`` (its message matching ``match``) and changes nothing."""
    before = snapshot(opt)
    with pytest.raises(error, match=match):
        opt.load_state_dict(bad)
    assert_same(snapshot(opt), before)


def _drop(sd, key):
    del sd["state"][0][key]


def _set(key, value):
    def edit(sd):
        sd["state"][0][key] = value(sd["state"][0][key]) if callable(value) else value
    return edit


MALFORMED = {   # case: (edit, its argument, the error and what its message says)
    "missing buffer": (_drop, "exp_avg_sq", ValueError, r"misses \['exp_avg_sq'\]"),
    "missing step": (_drop, "step", ValueError, r"misses \['step'\]"),
    "wrong shape": (_set("exp_avg", lambda v: v[:2]), None, ValueError, r"shape \(2, 4\)"),
    "wrong dtype": (_set("exp_avg", lambda v: v.double()), None, TypeError, "dtype torch.float64"),
    "list buffer": (_set("exp_avg", lambda v: v.tolist()), None, TypeError, "must be a tensor, got list"),
    "string step": (_set("step", "3"), None, TypeError, "step must be a number, got '3'"),
    "bool step": (_set("step", True), None, TypeError, "step must be a number, got True"),
    "bool step tensor": (_set("step", torch.tensor(True)), None, TypeError, "torch.bool"),
    "negative step": (_set("step", torch.tensor(-1.0)), None, ValueError, "whole number of steps"),
    "fractional step": (_set("step", 2.5), None, ValueError, "whole number of steps >= 0, got 2.5"),
    "nan step": (_set("step", float("nan")), None, ValueError, "whole number of steps >= 0, got nan"),
    "unknown entry": (_set("momentum_buffer", torch.zeros(8, 4)), None, ValueError, "momentum_buffer"),
    "sparse buffer": (_set("exp_avg", lambda v: v.to_sparse()), None, ValueError, "dense"),
    "integer buffer": (_set("exp_avg", lambda v: v.long()), None, TypeError, "torch.int64"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_state_dict_is_refused_and_changes_nothing(case):
    opt, sd = malformed()
    edit, arg, error, match = MALFORMED[case]
    bad = copy.deepcopy(sd)
    edit(bad, arg) if arg is not None else edit(bad)
    assert_load_refused(opt, bad, error, match)


@pytest.mark.parametrize("bad", [{}, {"state": {}}, {"param_groups": []}, [], "sd", None],
                         ids=["empty", "no param_groups", "no state", "a list", "a string", "None"])
def test_a_state_dict_that_is_not_a_dict_of_state_and_groups_is_refused(bad):
    opt, _ = malformed()
    assert_load_refused(opt, bad, ValueError, "a state dict is a dict with 'state' and 'param_groups'")


MALFORMED_OTHER = [
    ("NAdam", "mu_product", "0.9"), ("NAdam", "mu_product", torch.ones(3)),
    ("ASGD", "eta", [0.01]), ("ASGD", "mu", float("nan")), ("Adagrad", "sum", None),
]


@pytest.mark.parametrize("name,key,value", MALFORMED_OTHER, ids=str)
def test_malformed_scalar_state_is_refused(name, key, value):
    opt, sd = malformed(name)
    sd = copy.deepcopy(sd)
    sd["state"][0][key] = value
    assert_load_refused(opt, sd, (ValueError, TypeError), key)


def test_malformed_groups_are_refused():
    opt, sd = malformed()
    for edit in (lambda g: g.pop("lr"), lambda g: g.update(lr="0.1"), lambda g: g.update(betas=(0.9,)),
                 lambda g: g.update(fused=True)):
        bad = copy.deepcopy(sd)
        edit(bad["param_groups"][0])
        before = snapshot(opt)
        with pytest.raises((ValueError, TypeError)):
            opt.load_state_dict(bad)
        assert_same(snapshot(opt), before)


@pytest.mark.parametrize("group", ["not a dict", {"lr": 0.1}, {"params": 0}, {"params": "01"}],
                         ids=["not a dict", "no params", "params an int", "params a string"])
def test_a_group_that_is_not_a_dict_with_a_params_list_is_refused(group):
    opt, sd = malformed()
    bad = copy.deepcopy(sd)
    bad["param_groups"][0] = group
    assert_load_refused(opt, bad, ValueError, "must be a dict with a 'params' list")


def test_a_json_round_trip_with_string_keys_is_refused_not_dropped():
    opt, sd = malformed()
    bad = copy.deepcopy(sd)
    bad["state"] = {str(k): v for k, v in bad["state"].items()}
    assert_load_refused(opt, bad, (ValueError, TypeError), "JSON|str")


def test_an_lr_scheduler_still_works():
    model, opt, data, target = trained(torch_backend, "Adam")
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(data), target).backward()
    opt.step()
    sched.step()
    again = torch_backend.Adam(copy.deepcopy(model).parameters(), **SETTINGS["Adam"])
    again.load_state_dict(opt.state_dict())   # the group carries initial_lr: a scheduler's key
    assert again.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == SETTINGS["Adam"]["lr"] / 2


def test_adagrad_state_at_construction_and_group_values_are_torchs():
    """torch.optim.Adagrad builds step and sum in __init__ from the constructor's
    initial_accumulator_value and ignores a group's: ours has the same state and refuses a
    group value torch would ignore (construction, add_param_group, a later edit, loading)."""
    ours_p, ref_p = torch.zeros(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64)
    ours = torch_backend.Adagrad([ours_p], lr=0.1, initial_accumulator_value=0.25)
    ref = torch.optim.Adagrad([ref_p], lr=0.1, initial_accumulator_value=0.25)
    mine, theirs = ours.state_dict()["state"], ref.state_dict()["state"]
    assert sorted(mine) == sorted(theirs) == [0]
    assert mine[0]["step"].dtype == theirs[0]["step"].dtype and float(mine[0]["step"]) == 0.0
    assert torch.equal(mine[0]["sum"], theirs[0]["sum"])
    with pytest.raises(ValueError, match="initial_accumulator_value from its constructor only"):
        torch_backend.Adagrad([{"params": [torch.zeros(2)], "initial_accumulator_value": 0.5}], lr=0.1)
    with pytest.raises(ValueError, match="constructor only"):
        ours.add_param_group({"params": [torch.zeros(2)], "initial_accumulator_value": 0.7})
    assert len(ours.param_groups) == 1
    before = copy.deepcopy(ours.state_dict())
    ours_p.grad = torch.ones(2, 3, dtype=torch.float64)
    ours.param_groups[0]["initial_accumulator_value"] = 0.3
    with pytest.raises(ValueError, match="constructor only"):
        ours.step()
    ours.param_groups[0]["initial_accumulator_value"] = 0.25
    assert torch.equal(ours_p, torch.zeros(2, 3, dtype=torch.float64))
    assert torch.equal(ours.state_dict()["state"][0]["sum"], before["state"][0]["sum"])
    bad = copy.deepcopy(before)
    bad["param_groups"][0]["initial_accumulator_value"] = 0.3
    with pytest.raises(ValueError, match="constructor only"):
        ours.load_state_dict(bad)
    ref_p.grad = torch.ones(2, 3, dtype=torch.float64)
    ours.step()
    ref.step()
    assert torch.equal(ours_p, ref_p)
    assert torch.equal(ours.state_dict()["state"][0]["sum"], ref.state_dict()["state"][0]["sum"])


def _nan_cases():
    """Every real hyperparameter of every optimizer (each entry of a pair), set to NaN."""
    for name in NAMES:
        signature = inspect.signature(getattr(torch.optim, name).__init__)
        for key, parameter in signature.parameters.items():
            default = parameter.default
            if isinstance(default, bool) or key in ("self", "params"):
                continue
            if isinstance(default, tuple):
                for i in range(len(default)):
                    yield name, key, tuple(float("nan") if j == i else v for j, v in enumerate(default))
            elif isinstance(default, (int, float)):
                yield name, key, float("nan")


@pytest.mark.parametrize("name,key,value", list(_nan_cases()))
def test_a_nan_hyperparameter_gets_torchs_message_or_a_clear_error(name, key, value):
    """Where torch.optim refuses a NaN hyperparameter, both our classes (torch backend and
    NumPy) raise its ValueError with its exact message; where torch accepts one (SGD's
    dampening, ASGD's lambd, Rprop's step sizes …), which would fill every param with NaN,
    ours refuse it with a ValueError.  An option that counts (Muon's ns_steps, an int; torch checks
    it at the step) refuses NaN as not an int: a TypeError."""
    import numpy as np

    import optim
    from optim import fields
    state_type = torch_backend.OPTIMIZERS[name].family.State
    declared = fields.declarations(state_type).arguments
    option = all(declared[n].kind == fields.FLAG for n in fields.torch_arguments(state_type)[key])
    try:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(shape(name, 2)))], **{key: value})
        expected = None
    except ValueError as error:
        expected = str(error)
    for make in (lambda: getattr(torch_backend, name)([torch.nn.Parameter(torch.ones(shape(name, 2)))], **{key: value}),
                 lambda: getattr(optim, name)([np.ones(shape(name, 2))], **{key: value})):
        with pytest.raises(TypeError if option else ValueError) as raised:
            make()
        if expected is not None:
            assert str(raised.value) == expected
        elif option:
            assert key in str(raised.value) and "nan" in str(raised.value)


def test_the_torch_context_where_takes_numbers_on_either_side():
    """ctx.where(condition, x, y) with a tensor on one side and a number on the other, or
    numbers on both sides: torch.where's result, in the tensor's dtype."""
    ctx = torch_backend.TorchContext()
    condition = torch.tensor([True, False, True])
    t = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    assert torch.equal(ctx.where(condition, t, 0.5), torch.tensor([1.0, 0.5, 3.0], dtype=torch.float64))
    assert torch.equal(ctx.where(condition, -0.5, t), torch.tensor([-0.5, 2.0, -0.5], dtype=torch.float64))
    both = ctx.where(condition, 1.5, -2.0)
    assert both.dtype == torch.get_default_dtype() and both.tolist() == [1.5, -2.0, 1.5]


@pytest.mark.parametrize("entry", [[1.0], torch.zeros(3), None, "state"], ids=["list", "tensor", "None", "str"])
def test_a_loaded_state_entry_that_is_not_a_dict_is_refused(entry):
    opt, sd = malformed()
    bad = copy.deepcopy(sd)
    bad["state"][0] = entry
    assert_load_refused(opt, bad, TypeError, "a parameter's state must be a dict")


def test_a_state_buffer_on_another_device_is_refused_at_the_step_before_any_change():
    """torch's load_state_dict moves buffers to the param's device; a buffer put on another
    device afterwards (here the meta device, which every build has) is refused by the step."""
    opt, _ = malformed()
    p = opt.param_groups[0]["params"][0]
    p.grad = torch.ones_like(p)
    opt.state[p]["exp_avg"] = opt.state[p]["exp_avg"].to("meta")
    params_before = [q.detach().clone() for g in opt.param_groups for q in g["params"]]
    with pytest.raises(ValueError, match="exp_avg is on meta but the parameter is on cpu"):
        opt.step()
    for q, before in zip([q for g in opt.param_groups for q in g["params"]], params_before):
        assert torch.equal(q.detach(), before)


def test_a_state_saved_on_another_device_loads_onto_the_params_device():
    """torch.optim casts a loaded buffer to its param's device (a checkpoint saved on the GPU
    loads on the CPU); so does ours, and checks it first.  Here the params are on the meta
    device and the checkpoint on the CPU."""
    source = torch.nn.Parameter(torch.ones(3))
    saved = torch_backend.Adam([source], lr=0.1)
    source.grad = torch.ones(3)
    saved.step()
    target = torch.nn.Parameter(torch.ones(3, device="meta"))
    opt = torch_backend.Adam([target], lr=0.1)
    opt.load_state_dict(saved.state_dict())
    assert opt.state[target]["exp_avg"].device.type == "meta"
    assert opt.state[target]["exp_avg_sq"].device.type == "meta"


# -- every refusal and skip of the step and of loading, by its message --------------------------

@pytest.mark.parametrize("name", NAMES)
def test_a_param_without_grad_is_skipped_as_torch_skips_it(name):
    """torch.optim leaves a param whose grad is None untouched and without state; so do we."""
    results = []
    for module in (torch.optim, torch_backend):
        torch.manual_seed(0)
        w, b = torch.nn.Parameter(torch.randn(2, 3)), torch.nn.Parameter(torch.randn(shape(name, 4)))
        make = (lambda ps, **kw: reference(name, ps, **kw)) if module is torch.optim else getattr(module, name)
        opt = make([w, b], **SETTINGS[name])
        start = b.detach().clone()
        for k in range(3):
            w.grad = torch.full_like(w, 0.3 - 0.2 * k)
            opt.step()
        assert torch.equal(b.detach(), start) and len(opt.state[w]) > 0
        results.append((w.detach().clone(), sorted(opt.state[b])))   # Adagrad's sum from construction only
    assert torch.allclose(results[0][0], results[1][0], rtol=1e-6, atol=1e-7), name
    assert results[0][1] == results[1][1] == (["step", "sum"] if name == "Adagrad" else [])


def test_a_param_put_in_two_groups_after_construction_is_refused_before_any_change():
    opt, w, b = two_groups("Adam")
    before = snapshot(opt)
    opt.param_groups[1]["params"].append(w)
    with pytest.raises(ValueError, match="a parameter appears twice in the param groups"):
        opt.step()
    opt.param_groups[1]["params"].pop()
    assert_same(snapshot(opt), before)


def test_a_group_replaced_by_something_else_is_refused_before_any_change():
    opt, w, b = two_groups("Adam")
    before = snapshot(opt)
    group = opt.param_groups[1]
    opt.param_groups[1] = [b]
    with pytest.raises(TypeError, match="param group 1: a param group must be a dict, got list"):
        opt.step()
    opt.param_groups[1] = group
    assert_same(snapshot(opt), before)


def test_the_functional_update_refuses_integer_tensors():
    from optim import adam
    state = adam.init(torch.zeros(3), lr=0.1)
    with pytest.raises(TypeError, match="must be a floating-point tensor, got dtype torch.int64"):
        adam.update(state, torch.zeros(3, dtype=torch.int64), torch.zeros(3))


LOAD_REFUSALS = [   # (edit of a good state dict, error, message)
    (lambda sd: sd.update(param_groups={"0": sd["param_groups"][0]}), TypeError,
     "state_dict['param_groups'] must be a list and state_dict['state'] a dict"),
    (lambda sd: sd.update(state=list(sd["state"].values())), TypeError,
     "state_dict['param_groups'] must be a list and state_dict['state'] a dict"),
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), ValueError,
     "loaded state dict has a different number of parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), ValueError,
     "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"),
    (lambda sd: sd["state"].update(w=sd["state"][0]), ValueError,
     "loaded state has an entry for 'w', which no param group lists"),
    (lambda sd: sd["state"].update({99: sd["state"][0]}), ValueError,
     "loaded state has an entry for 99, which no param group lists"),
]


@pytest.mark.parametrize("edit,error,message", LOAD_REFUSALS, ids=[m[:40] + str(i) for i, (_, _, m) in
                                                                  enumerate(LOAD_REFUSALS)])
def test_every_load_refusal_has_its_message(edit, error, message):
    opt, sd = malformed()
    bad = copy.deepcopy(sd)
    edit(bad)
    assert_load_refused(opt, bad, error, re.escape(message))
