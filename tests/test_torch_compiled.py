"""The torch backend's compiled execution (``execution="compiled"``, optim.torch_compiled): the traced
update compiled by torch.compile over every param of a group.  Each compilation takes seconds, so
the optimizers here are those whose traces use every kind of operation: buffers created at the
first step (SGD's momentum), a maximum (Adam's amsgrad), comparisons, where and sign (Rprop),
float32-rounded scalars (NAdam, ASGD).  The reducing optimizers (LARS, LAMB, Adafactor, Muon: norms,
means, matrix products) have no elementwise trace: under the compiled execution they take their
eager step, which the last test here checks."""
import copy
import os

import pytest

torch = pytest.importorskip("torch") if os.environ.get("CI") != "true" else __import__("torch")

import numpy as np  # noqa: E402

from optim import torch_backend, torch_compiled  # noqa: E402
from test_torch_backend import SETTINGS, SLACK, model_and_data, one_step_bounds  # noqa: E402
from test_torch_conformance import SCALAR_KEYS, UNIT_ROUNDOFF  # noqa: E402
from _families import takes_rank  # noqa: E402

CASES = ("SGD", "Adam", "Rprop", "NAdam", "ASGD")


def _model(dtype):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).to(dtype)


def _train(name, dtype, execution, steps=6, edit=None):
    model = _model(dtype)
    opt = torch_backend.OPTIMIZERS[name](model.parameters(), execution=execution, **SETTINGS[name])
    x = torch.randn(32, 6, dtype=dtype, generator=torch.Generator().manual_seed(1))
    history = []
    for step in range(steps):
        if edit is not None:
            edit(opt, step)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), x.sum(dim=1, keepdim=True).sin()).backward()
        opt.step()
        # the compiled step writes the state tensors in place: the history keeps copies
        history.append(([p.detach().clone() for p in model.parameters()], copy.deepcopy(opt.state_dict())))
    return history


def _ulps(a, b):
    """The distance in units in the last place of a (a float tensor) between a and b."""
    spacing = torch.nextafter(a.abs(), torch.full_like(a, float("inf"))) - a.abs()
    return ((a - b).abs() / spacing).max().item() if a.numel() else 0.0


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_compiled_step_is_within_the_rounding_bound_of_the_definition(name):
    """Six training steps; before each, the compiled optimizer gets the eager one's params, state
    and gradients, so each step starts from the same state.  The compiled step evaluates the same
    operations, rounded differently here and there (Inductor's float32 sqrt is correctly rounded,
    the eager kernel's is not always): each result is within the first-order rounding bound of
    the exact value of the definition (test_torch_conformance's analysis), so compiled and eager
    are within twice that bound of each other."""
    u = UNIT_ROUNDOFF["float32"]
    models = model_and_data(torch.float32)[0], model_and_data(torch.float32)[0]
    _, data, target = model_and_data(torch.float32)
    eager, compiled = (torch_backend.OPTIMIZERS[name](m.parameters(), execution=e, **SETTINGS[name])
                       for m, e in zip(models, ("eager", "compiled")))
    for _ in range(6):
        eager.zero_grad()
        torch.nn.functional.mse_loss(models[0](data), target).backward()
        before = [(p.detach().clone(), p.grad.clone(), copy.deepcopy(eager.state[p])) for p in models[0].parameters()]
        with torch.no_grad():
            for a, b in zip(models[0].parameters(), models[1].parameters()):
                b.copy_(a)
                b.grad = a.grad.clone()
        compiled.load_state_dict(copy.deepcopy(eager.state_dict()))
        eager.step()
        compiled.step()
        for p, q, (p0, grad, saved) in zip(models[0].parameters(), models[1].parameters(), before):
            saved = {k: v.item() if k in SCALAR_KEYS else v for k, v in saved.items()}
            for key, (exact, coefficients) in one_step_bounds(name, p0, grad, saved).items():
                theirs = p if key == "param" else eager.state[p][key]
                mine = q if key == "param" else compiled.state[q][key]
                theirs, mine = (t.detach().double().numpy() for t in (theirs, mine))
                bound = u * coefficients * SLACK
                assert np.all(np.abs(mine - exact) <= bound), (name, key, np.max(np.abs(mine - exact) - bound))
                assert np.all(np.abs(mine - theirs) <= 2 * bound), (name, key)


def test_a_new_learning_rate_or_step_count_does_not_recompile():
    from torch._dynamo.utils import counters

    def schedule(opt, step):
        opt.param_groups[0]["lr"] = 1e-2 / (step + 1)

    _train("Adam", torch.float64, "compiled", steps=2)
    graphs = counters["stats"]["unique_graphs"]
    eager = _train("Adam", torch.float64, "eager", steps=5, edit=schedule)
    compiled = _train("Adam", torch.float64, "compiled", steps=5, edit=schedule)
    assert counters["stats"]["unique_graphs"] == graphs
    for (pa, sa), (pb, sb) in zip(eager, compiled):
        for a, b in zip(pa, pb):
            assert _ulps(a, b) <= 1
        assert sa["param_groups"] == sb["param_groups"] and sa["state"].keys() == sb["state"].keys()
        for i, entry in sa["state"].items():
            assert entry.keys() == sb["state"][i].keys(), i   # no buffer the options do not create
            for key, value in entry.items():
                other = sb["state"][i][key]
                assert value.dtype == other.dtype and value.shape == other.shape, (i, key)
                assert _ulps(value, other) <= 1, (i, key)


@pytest.mark.parametrize("execution", ["eager", "compiled"])
@pytest.mark.parametrize("name,options", [("Adam", {}), ("SGD", {"momentum": 0.0}), ("Rprop", {})],
                         ids=["Adam", "SGD", "Rprop"])
def test_a_buffer_the_options_do_not_create_is_not_in_the_state(name, options, execution):
    """Adam without amsgrad has no max_exp_avg_sq, SGD without momentum no momentum_buffer (and
    no entry at all): both steps keep torch.optim's entries, with its values (Rprop: the step
    sizes clamped by scalars)."""
    results = []
    for module, execution in ((torch.optim, None), (torch_backend, execution)):
        torch.manual_seed(0)
        w = torch.nn.Parameter(torch.randn(3, 4, dtype=torch.float64))
        extra = {} if execution is None else {"execution": execution}
        opt = getattr(module, name)([w], lr=0.1, **options, **extra)
        for k in range(3):
            w.grad = torch.full_like(w, 0.5 - 0.25 * k)
            opt.step()
        results.append((w.detach().clone(), opt.state_dict()["state"]))
    (w_torch, torch_state), (w_ours, our_state) = results
    assert torch.allclose(w_torch, w_ours, rtol=1e-12, atol=0)
    assert {i: sorted(e) for i, e in our_state.items()} == {i: sorted(e) for i, e in torch_state.items()}


def test_a_compilation_that_fails_changes_nothing(monkeypatch):
    """Every group is compiled (on copies) before any param is written: a failure in the second
    group leaves the first one's params and state as they were."""
    first, second = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = torch_backend.Adam([{"params": [first]}, {"params": [second], "amsgrad": True}], lr=0.1,
                             execution="compiled")
    for p in (first, second):
        p.grad = torch.ones_like(p)
    opt.step()
    before = [p.detach().clone() for p in (first, second)], opt.state_dict()
    real_prepare = torch_compiled.CompiledStep.prepare
    calls = []

    def failing(self, rows, scalars):
        calls.append(rows)
        if len(calls) == 2:
            raise RuntimeError("the compiler failed")
        return real_prepare(self, rows, scalars)

    monkeypatch.setattr(torch_compiled.CompiledStep, "prepare", failing)
    for p in (first, second):   # a new layout of the grads: compiled afresh
        p.grad = torch.ones(6, dtype=p.dtype)[::2]
    with pytest.raises(RuntimeError, match="the compiler failed"):
        opt.step()
    assert all(torch.equal(p.detach(), b) for p, b in zip((first, second), before[0]))
    assert opt.state_dict()["state"][0]["step"] == before[1]["state"][0]["step"]
    assert torch.equal(opt.state_dict()["state"][0]["exp_avg"], before[1]["state"][0]["exp_avg"])


def test_an_unknown_execution_is_refused():
    with pytest.raises(ValueError, match="execution must be one of"):
        torch_backend.Adam([torch.nn.Parameter(torch.ones(2))], execution="fast")


def test_half_precision_params_and_sparse_gradients_take_the_eager_step():
    """What the tracer does not know (float16, bfloat16) and sparse gradients are stepped by the
    eager update inside the compiled optimizer's step: the same results as the eager optimizer."""
    def make(execution):
        half = torch.nn.Parameter(torch.linspace(-1, 1, 5).half())
        table = torch.nn.Parameter(torch.ones(4, 2))
        opt = torch_backend.SGD([half, table], lr=0.1, execution=execution)
        half.grad = torch.linspace(0, 1, 5).half()
        table.grad = torch.sparse_coo_tensor([[0, 2]], torch.ones(2, 2), (4, 2))
        opt.step()
        return half, table

    compiled_before = sum(len(s.layouts) for s in torch_compiled._STEPS.values())
    for a, b in zip(make("eager"), make("compiled")):
        assert torch.equal(a, b)
    assert sum(len(s.layouts) for s in torch_compiled._STEPS.values()) == compiled_before   # nothing compiled


REDUCING = sorted(name for name, cls in torch_backend.CLASSES.items() if getattr(cls.family, "REDUCES", False))


@pytest.mark.parametrize("name", REDUCING)
def test_a_reducing_optimizer_takes_its_eager_step_under_the_compiled_execution(name):
    """LARS, LAMB, Adafactor, Muon under execution="compiled": bit for bit the eager optimizer's
    params and state after each of six training steps, and nothing compiled (Muon on the model's
    matrices only)."""
    assert {"LARS", "LAMB", "Adafactor", "Muon"} <= set(REDUCING)
    compiled_before = sum(len(s.layouts) for s in torch_compiled._STEPS.values())
    cls = torch_backend.CLASSES[name]
    models = _model(torch.float32), _model(torch.float32)
    optimizers = [cls([p for p in m.parameters() if takes_rank(cls, p.dim())], execution=execution,
                      **SETTINGS.get(name, {}))
                  for m, execution in zip(models, ("eager", "compiled"))]
    x = torch.randn(32, 6, generator=torch.Generator().manual_seed(1))
    for _ in range(6):
        for model, opt in zip(models, optimizers):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), x.sum(dim=1, keepdim=True).sin()).backward()
            opt.step()
        for a, b in zip(models[0].parameters(), models[1].parameters()):
            assert torch.equal(a, b)
        eager, compiled = (opt.state_dict()["state"] for opt in optimizers)
        assert eager.keys() == compiled.keys()
        for i, entry in eager.items():
            assert entry.keys() == compiled[i].keys()
            for key, value in entry.items():
                assert torch.equal(value, compiled[i][key]), (i, key)
    assert sum(len(s.layouts) for s in torch_compiled._STEPS.values()) == compiled_before
