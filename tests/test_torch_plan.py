"""The torch backend keeps what a step checked (``optim.torch_plan``) and, on the compiled path, which
params share which call: never when something the checks read has changed.

Each case edits the params, groups or state between steps the way a user can, on torch.optim.Adam
and on ours alike, and ours must go on exactly as torch.optim does (float64; torch.optim reads its
state afresh every step, so it is the independent reference), or refuse the edit as the full
check does, before any change.
"""
import os

import pytest

torch = pytest.importorskip("torch") if os.environ.get("CI") != "true" else __import__("torch")

from optim import torch_backend  # noqa: E402
from optim.stateful import by_rank  # noqa: E402
from _families import matrix_only, takes_rank  # noqa: E402

STEPS = 6


def _edit_lr(opt, p, step):
    opt.param_groups[0]["lr"] = 0.05 / (1 + step)


def _replace_buffer(opt, p, step):
    opt.state[p]["exp_avg"] = torch.full_like(p, 0.25 * step)


def _buffer_data_reassigned(opt, p, step):   # the same object on new memory (no version bump)
    opt.state[p]["exp_avg_sq"].data = torch.full_like(p, 0.5 + step)


def _buffer_written_in_place(opt, p, step):
    opt.state[p]["exp_avg"].mul_(-1.0)


def _step_in_place(opt, p, step):   # a 0-d state tensor edited in place: its version counter
    opt.state[p]["step"] += 5


def _step_written_through_data(opt, p, step):   # an alias by .data has a version counter of its own
    opt.state[p]["step"].data.fill_(float(3 * step))


def _step_data_reassigned(opt, p, step):   # the same object and layout, new memory: no version bump
    opt.state[p]["step"].data = torch.tensor(float(7 * step))


def _step_replaced(opt, p, step):
    opt.state[p]["step"] = torch.tensor(float(10 * step))


def _param_data_reassigned(opt, p, step):
    p.data = p.detach() * 2.0


def _state_deleted(opt, p, step):   # both start this param again
    if step == 3:
        del opt.state[p]


def _weight_decay_switched_on(opt, p, step):   # a guard of the trace flips
    opt.param_groups[0]["weight_decay"] = 0.1 if step >= 2 else 0.0


def _maximize_toggled(opt, p, step):   # a flag: another program
    opt.param_groups[0]["maximize"] = step % 2 == 1


def _grad_made_strided(opt, p, step):
    p.grad = torch.stack([p.grad, torch.zeros_like(p.grad)], dim=-1)[..., 0]


def _loaded_back(opt, p, step):
    if step == 2:
        _loaded_back.saved = {k: v.clone() for k, v in opt.state[p].items()}
    if step == 4:
        for key, value in _loaded_back.saved.items():
            opt.state[p][key] = value.clone()


EDITS = [_edit_lr, _replace_buffer, _buffer_data_reassigned, _buffer_written_in_place, _step_in_place,
         _step_written_through_data, _step_data_reassigned, _step_replaced, _param_data_reassigned, _state_deleted, _weight_decay_switched_on, _maximize_toggled,
         _grad_made_strided, _loaded_back]


def _pair(execution):
    torch.manual_seed(0)
    start = torch.randn(4, 3, dtype=torch.float64)
    ours_p, theirs_p = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    ours = torch_backend.Adam([ours_p], lr=0.05, execution=execution)
    theirs = torch.optim.Adam([theirs_p], lr=0.05, foreach=False)
    return (ours, ours_p), (theirs, theirs_p)


@pytest.mark.parametrize("execution", ["eager", "compiled"])
@pytest.mark.parametrize("edit", EDITS, ids=lambda f: f.__name__.strip("_"))
def test_every_edit_between_steps_is_followed_as_torch_optim_follows_it(edit, execution):
    (ours, ours_p), (theirs, theirs_p) = _pair(execution)
    for step in range(STEPS):
        grad = torch.sin(torch.arange(12, dtype=torch.float64).reshape(4, 3) + step)
        for opt, p in ((ours, ours_p), (theirs, theirs_p)):
            p.grad = grad.clone()
            if step > 0:
                edit(opt, p, step)
            opt.step()
        torch.testing.assert_close(ours_p.detach(), theirs_p.detach(), rtol=1e-12, atol=1e-14,
                                   msg=lambda m: f"step {step + 1}: {m}")
        for key, value in theirs.state[theirs_p].items():
            torch.testing.assert_close(ours.state[ours_p][key].double(), value.double(), rtol=1e-12, atol=1e-14)


def _buffer_reshaped(opt, p):
    opt.state[p]["exp_avg"].data = torch.zeros(5, dtype=p.dtype)


def _buffer_redtyped(opt, p):
    opt.state[p]["exp_avg_sq"].data = opt.state[p]["exp_avg_sq"].float()


def _step_made_negative(opt, p):
    opt.state[p]["step"].fill_(-1.0)


def _amsgrad_switched_on(opt, p):
    opt.param_groups[0]["amsgrad"] = True


def _entry_removed(opt, p):
    del opt.state[p]["exp_avg"]


def _param_reshaped(opt, p):
    p.data = torch.zeros(12, dtype=p.dtype)   # its grad keeps its shape: the state no longer fits


def _lr_made_nan(opt, p):
    opt.param_groups[0]["lr"] = float("nan")


@pytest.mark.parametrize("execution", ["eager", "compiled"])
@pytest.mark.parametrize("edit,message", [
    (_buffer_reshaped, "has shape"), (_buffer_redtyped, "has dtype"), (_step_made_negative, "whole number"),
    (_amsgrad_switched_on, "misses"), (_entry_removed, "misses"), (_lr_made_nan, "learning rate"),
    (_param_reshaped, "has shape")],
    ids=lambda x: x.__name__.strip("_") if callable(x) else "")
def test_an_edit_the_full_check_refuses_is_refused_after_steps_too(edit, message, execution):
    """Edits after a few steps (when the plan and the recalled calls are in use): refused as the
    first step would refuse them, before anything changes."""
    (ours, p), _ = _pair(execution)
    for _ in range(3):
        p.grad = torch.ones_like(p)
        ours.step()
    edit(ours, p)
    before = p.detach().clone(), {k: (v.clone(), v.shape) for k, v in ours.state[p].items()}
    with pytest.raises((ValueError, TypeError), match=message):
        ours.step()
    assert torch.equal(p.detach(), before[0])
    assert {k: v.shape for k, v in ours.state[p].items()} == {k: s for k, (_, s) in before[1].items()}


@pytest.mark.parametrize("execution", ["eager", "compiled"])
def test_params_that_shared_a_call_part_when_one_groups_lr_changes(execution):
    """Two groups with equal settings share one compiled call; then a schedule edits the first
    group's lr alone: each param must step with its own group's lr (torch.optim as reference)."""
    torch.manual_seed(0)
    starts = [torch.randn(3, dtype=torch.float64) for _ in range(2)]
    ours_ps = [torch.nn.Parameter(s.clone()) for s in starts]
    theirs_ps = [torch.nn.Parameter(s.clone()) for s in starts]
    ours = torch_backend.Adam([{"params": [ours_ps[0]]}, {"params": [ours_ps[1]]}], lr=0.05, execution=execution)
    theirs = torch.optim.Adam([{"params": [theirs_ps[0]]}, {"params": [theirs_ps[1]]}], lr=0.05, foreach=False)
    for step in range(STEPS):
        for opt, ps in ((ours, ours_ps), (theirs, theirs_ps)):
            for p in ps:
                p.grad = torch.cos(p.detach() + step)
            if step >= 3:
                opt.param_groups[0]["lr"] = 0.05 / step
            opt.step()
        for a, b in zip(ours_ps, theirs_ps):
            torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-12, atol=1e-14)


def test_a_steady_compiled_step_recalls_its_calls_and_checks_nothing_again(monkeypatch):
    """From the third step on (the first makes the compiled step, the second keeps its calls), a
    step with nothing edited neither checks a state entry nor prepares a call again."""
    params = [torch.nn.Parameter(torch.randn(5, dtype=torch.float64)) for _ in range(3)]
    opt = torch_backend.Adam(params, lr=0.01, execution="compiled")
    counts = {"entries": 0, "prepare": 0}
    checked_entry, prepare = torch_backend.TorchOptimizer._checked_entry, torch_backend.torch_compiled.CompiledStep.prepare

    def counting_entry(self, *args, **kwargs):
        counts["entries"] += 1
        return checked_entry(self, *args, **kwargs)

    def counting_prepare(self, *args):
        counts["prepare"] += 1
        return prepare(self, *args)

    monkeypatch.setattr(torch_backend.TorchOptimizer, "_checked_entry", counting_entry)
    monkeypatch.setattr(torch_backend.torch_compiled.CompiledStep, "prepare", counting_prepare)
    for step in range(5):
        for p in params:
            p.grad = torch.ones_like(p)
        before = dict(counts)
        opt.step()
        if step >= 2:
            assert counts == before, f"step {step + 1} checked again: {counts} after {before}"
    assert all(int(opt.state[p]["step"]) == 5 for p in params)


@pytest.mark.parametrize("name", sorted(torch_backend.OPTIMIZERS))
@pytest.mark.parametrize("execution", ["eager", "compiled"])
def test_a_kept_plan_steps_bit_for_bit_as_the_full_check_does(name, execution):
    """The same run twice: once with the plan (and, compiled, the recalled calls), once with every
    step checked in full and its calls built afresh.  Params and every state entry (the scalars
    read back through torch's float32 0-d tensors: ASGD's η and μ, NAdam's μ product) are equal
    bit for bit, at a step count past float32's exact integers too."""
    runs = []
    columns = 2 if matrix_only(torch_backend.OPTIMIZERS[name]) else 1   # Muon takes matrices only
    for keep in (True, False):
        params = [torch.nn.Parameter(torch.linspace(-1, 1, n * columns).reshape((n, columns) if columns > 1 else (n,)))
                  for n in (3, 5)]
        opt = torch_backend.OPTIMIZERS[name](params, execution=execution)
        for step in range(4):
            for p in params:
                p.grad = torch.cos(p.detach() * (step + 1))
            if step == 1:
                for p in params:
                    opt.state[p]["step"] = torch.tensor(float(2**24 + 1)) if "step" in opt.state[p] else None
                    opt.state[p] = {k: v for k, v in opt.state[p].items() if v is not None}
            if not keep:
                opt.__dict__.pop("_plan", None)
            opt.step()
        runs.append((params, opt))
    (kept, kept_opt), (full, full_opt) = runs
    for a, b in zip(kept, full):
        assert torch.equal(a.detach(), b.detach())
        assert kept_opt.state[a].keys() == full_opt.state[b].keys()
        for key in kept_opt.state[a]:
            assert torch.equal(kept_opt.state[a][key], full_opt.state[b][key]), key


OPTION_SETS = {"Adam": [dict(amsgrad=True), dict(weight_decay=0.1, maximize=True)], "AdamW": [dict(amsgrad=True)],
               "SGD": [dict(momentum=0.9), dict(momentum=0.9, nesterov=True, dampening=0.0)],
               "RMSprop": [dict(centered=True, momentum=0.5)], "Adagrad": [dict(lr_decay=0.1)],
               "ASGD": [dict(t0=0.0)], "RAdam": [dict(decoupled_weight_decay=True)],
               "NAdam": [dict(decoupled_weight_decay=True, weight_decay=0.1)],
               "Adafactor": [dict(weight_decay=0.1, maximize=True), dict(eps=(1e-20, 1e-3), d=1.5, beta2_decay=-0.5)],
               "Muon": [dict(nesterov=False, weight_decay=0.0), dict(adjust_lr_fn="match_rms_adamw", ns_steps=3)]}


@pytest.mark.parametrize("name", sorted(torch_backend.OPTIMIZERS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_the_state_entries_a_step_keeps_are_read_from_the_program_as_from_an_update_run(name, dtype):
    """Which state entries a step keeps (the check of a saved state, at each new lr of a schedule)
    is read from the traced program for the tracer's dtypes: what one update run leaves.  Where
    they depend on the param's rank (Adafactor: row and column factors for a matrix, a variance
    for a vector; Muon: matrices only), for a param of each rank the optimizer takes, from an
    update run on a param of that shape."""
    cls = torch_backend.OPTIMIZERS[name]
    shapes = [s for s in ((3,), (3, 2)) if takes_rank(cls, len(s))] if by_rank(cls.family) else [(3,)]
    for options in [dict()] + OPTION_SETS.get(name, []):
        for shape in shapes:
            p = torch.nn.Parameter(torch.zeros(shape, dtype=dtype))
            opt = cls([p], **options)
            settings = opt._settings(opt.param_groups[0])
            probe = torch.zeros(shape, dtype=dtype) if by_rank(cls.family) else torch.zeros(0, dtype=dtype)
            ran, _ = cls.family.update(cls.family.init(probe, **settings), probe, probe)
            expected = {key for key, field in opt.state_names.items() if getattr(ran, field) is not None}
            assert opt._expected(settings, p) == expected, (options, shape)


def test_a_kept_0d_value_is_compared_with_the_sign_of_its_zero():
    """A saved scalar whose value the step reads back (η, μ) is compared exactly: 0.0 written over
    -0.0 through a .data alias (no version bump, the same layout) makes the entry differ, as a new
    hyperparameter's signed zero does (optim.plan.frozen)."""
    from optim import torch_plan
    entry = {"mu": torch.tensor(-0.0), "ax": torch.zeros(3)}
    picture = torch_plan.entry_picture(entry)
    assert torch_plan.same_entry(entry, picture)
    entry["mu"].data.fill_(0.0)
    assert entry["mu"]._version == picture[0][3]
    assert not torch_plan.same_entry(entry, picture)
