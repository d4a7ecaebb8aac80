"""A cached trace is replayed only where a fresh one would compute the same thing, and the
checks a step keeps (``optim.plan``) are redone after any edit they depend on.

The reference is the functional path (``execution="functional"``), which neither traces nor
caches: it calls the pure update on the arrays.  The cached workspace path must match it bit for
bit while every kind of hyperparameter changes between steps — reals to other reals, to 0 and
back (``weight_decay != 0`` is a branch of the update), to ints, to -0.0, to 0-d arrays and NumPy
scalars, flags toggled, pairs changed element by element — and while the step count crosses the
updates' own branches (RAdam's rectification regime, ASGD's averaging start).
"""
import copy
import os

import numpy as np
import pytest

import optim
from optim.stateful import CLASSES, TORCH_EXECUTION_OPTIONS, by_rank
from _families import matrix_only, takes_rank

try:
    import numba  # noqa: F401
    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False

REALS = [0.0, -0.0, 1, 2, 0.5, 0.9, 0.999, 1e-3, 0.05, np.float32(0.25), np.array(0.125), np.array(3)]


def _edits(defaults: dict, rng: np.random.Generator) -> dict:
    """One or two random edits of a group's hyperparameters: key -> new value."""
    keys = [k for k in defaults if k not in TORCH_EXECUTION_OPTIONS]
    edits = {}
    for key in rng.choice(keys, size=rng.integers(1, 3), replace=False):
        default = defaults[key]
        if isinstance(default, bool):
            edits[key] = not default if rng.random() < 0.5 else default
        elif isinstance(default, tuple):
            pair = list(default)
            pair[rng.integers(2)] = REALS[rng.integers(len(REALS))]
            edits[key] = tuple(pair)
        else:
            edits[key] = REALS[rng.integers(len(REALS))]
    return edits


def _params(rng, name=None):
    """Two groups: a float32 matrix and vector, a float64 vector (matrices for Muon, which takes
    matrices only)."""
    if name is not None and matrix_only(CLASSES[name]):
        return [[rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((5, 2)).astype(np.float32)],
                [rng.standard_normal((7, 2))]]
    return [[rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(5).astype(np.float32)],
            [rng.standard_normal(7)]]


def _outcome(opt, grads):
    try:
        opt.step(grads)
    except (TypeError, ValueError) as error:
        return type(error), str(error)
    return None


def _assert_same(a, b):
    for ga, gb in zip(a.param_groups, b.param_groups):
        for pa, pb in zip(ga["params"], gb["params"]):
            assert pa.dtype == pb.dtype
            np.testing.assert_array_equal(pa, pb, strict=True)
    sa, sb = a.state_dict()["state"], b.state_dict()["state"]
    assert sa.keys() == sb.keys()
    for i in sa:
        assert sa[i].keys() == sb[i].keys()
        for key, value in sa[i].items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, sb[i][key], strict=True)
            else:
                assert type(value) is type(sb[i][key]) and value == sb[i][key], (i, key)


def _fresh_traces(execution):
    """An optimizer factory whose every step is traced afresh with concrete scalars (the fused
    reference: its kernels are the same code, so the results must be the same bits)."""
    def make(name, groups):
        opt = CLASSES[name](groups, execution=execution)
        opt._programs.bound = _untraceable
        return opt
    return make


def _untraceable(*args):
    from optim.trace import Untraceable
    raise Untraceable("traced afresh each step")


REFERENCES = {"workspace": lambda name, groups: CLASSES[name](groups, execution="functional"),
              "fused": _fresh_traces("fused")}


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("seed,execution", [(0, "workspace"), (1, "workspace"), (2, "fused")])
def test_replayed_steps_match_fresh_ones_while_every_hyperparameter_changes(name, seed, execution):
    if execution == "fused" and not HAVE_NUMBA and os.environ.get("CI") != "true":
        pytest.skip("numba is not installed (pip install 'optlaws[fast]')")
    rng = np.random.default_rng(seed)
    groups = _params(rng, name)
    cached = CLASSES[name]([{"params": g} for g in groups], execution=execution)
    reference = REFERENCES[execution](name, [{"params": [p.copy() for p in g]} for g in groups])
    for step in range(40):
        grads = [rng.standard_normal(p.shape).astype(p.dtype) for g in groups for p in g]
        if step % 5 == 4:
            grads[0][0, 0] = 0.0
        number = rng.integers(2)
        undo = {}
        if step % 3 == 2:   # some steps edit nothing: the cached plan and trace serve them
            edits = _edits(CLASSES[name].defaults, rng)
            undo = {k: cached.param_groups[number][k] for k in edits}
            for opt in (cached, reference):
                opt.param_groups[number].update(copy.deepcopy(edits))
        assert _outcome(cached, grads) == _outcome(reference, [g.copy() for g in grads]), step
        _assert_same(cached, reference)
        if step % 2 and undo:   # half the edits stay, half are undone (a value back to the cached one)
            for opt in (cached, reference):
                opt.param_groups[number].update(copy.deepcopy(undo))


def _adam(**options):
    p = np.linspace(-1, 1, 6).astype(np.float32)
    return p, optim.Adam([p], lr=0.1, **options)


def test_a_step_that_changes_nothing_traces_nothing():
    p, opt = _adam()
    for _ in range(3):
        opt.step([np.ones_like(p)])
    traced = opt._programs.traced
    for _ in range(5):
        opt.step([np.ones_like(p)])
    opt.param_groups[0]["lr"] = 0.01          # a value the trace reads, not a branch it took
    opt.step([np.ones_like(p)])
    assert opt._programs.traced == traced


def test_a_step_that_changes_nothing_keeps_the_checks_of_the_last_one():
    p, opt = _adam()
    for _ in range(3):
        opt.step([np.ones_like(p)])
    plan = opt._plan
    opt.step([np.ones_like(p)])
    assert opt._plan is plan
    values = plan.values
    opt.param_groups[0]["lr"] = 0.01   # a schedule's edit: the groups are checked again, the params not
    opt.step([np.ones_like(p)])
    assert opt._plan is plan and plan.values != values and opt.state[0].lr == 0.01
    before = p.copy(), copy.deepcopy(opt.state_dict())
    opt.param_groups[0]["lr"] = -0.01   # refused before anything changes, and no plan kept
    with pytest.raises(ValueError, match="Invalid learning rate: -0.01"):
        opt.step([np.ones_like(p)])
    assert opt._plan is None and np.array_equal(p, before[0]) and opt.state[0].lr == 0.01
    opt.param_groups[0]["lr"] = 0.02
    opt.step([np.ones_like(p)])
    assert opt.state[0].lr == 0.02
    opt.param_groups.append({**opt.param_groups[0], "params": [np.ones(2)]})   # the structure: in full
    opt.step([np.ones_like(p), np.ones(2)])
    assert opt._plan is not plan


@pytest.mark.parametrize("lr", [np.float32(0.01), np.float64(0.01), np.array(0.01), 0.01, 1])
def test_a_hyperparameter_of_any_numpy_kind_keeps_the_plan_while_unchanged(lr):
    p, opt = _adam()
    opt.param_groups[0]["lr"] = lr
    for _ in range(3):
        opt.step([np.ones_like(p)])
    plan = opt._plan
    opt.step([np.ones_like(p)])
    assert opt._plan is plan


def test_a_branch_that_flips_retraces_once_and_flipping_back_reuses_the_first_trace():
    p, opt = _adam()
    opt.step([np.ones_like(p)])
    traced = opt._programs.traced
    opt.param_groups[0]["weight_decay"] = 0.1   # weight_decay != 0: the update takes the other branch
    opt.step([np.ones_like(p)])
    assert opt._programs.traced == traced + 1
    opt.param_groups[0]["weight_decay"] = 0.0
    opt.step([np.ones_like(p)])
    opt.param_groups[0]["weight_decay"] = 0.1
    opt.step([np.ones_like(p)])
    assert opt._programs.traced == traced + 1


@pytest.mark.parametrize("name,options,steps", [
    ("RAdam", dict(betas=(0.9, 0.999)), 10),      # ρ_t > 5 from step 6 on: the rectified branch
    ("ASGD", dict(t0=3.0), 8),                    # μ = 1 / max(1, t − t0) leaves 1 after step 4
])
def test_the_updates_own_branches_on_the_step_count_are_guards(name, options, steps):
    rng = np.random.default_rng(3)
    p = rng.standard_normal(5)
    cached = CLASSES[name]([p], **options)
    reference = CLASSES[name]([p.copy()], execution="functional", **options)
    for _ in range(steps):
        g = rng.standard_normal(5)
        cached.step([g])
        reference.step([g.copy()])
        _assert_same(cached, reference)
    assert cached._programs.traced == 2   # one program per regime, each traced once


def test_an_int_where_a_float_was_is_another_structure():
    p, opt = _adam()
    reference = optim.Adam([p.copy()], lr=0.1, execution="functional")
    for lr in (0.1, 1, 0.1, 1):
        for o in (opt, reference):
            o.param_groups[0]["lr"] = lr
            o.step([np.full_like(p, 0.5)])
        _assert_same(opt, reference)


def test_a_state_edited_in_place_is_checked_again_before_anything_changes():
    p, opt = _adam()
    opt.step([np.ones_like(p)])
    opt.step([np.ones_like(p)])
    before = p.copy(), opt.state_dict()
    opt.state[0].m.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        opt.step([np.ones_like(p)])
    np.testing.assert_array_equal(p, before[0])
    opt.state[0].m.flags.writeable = True
    opt.state[0].v.shape = (2, 3)             # reshaped in place: no longer the param's shape
    with pytest.raises(ValueError, match="shape"):
        opt.step([np.ones_like(p)])
    np.testing.assert_array_equal(p, before[0])


def test_a_param_edited_in_place_is_checked_again():
    p, opt = _adam()
    opt.step([np.ones_like(p)])
    opt.step([np.ones_like(p)])
    p.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        opt.step([np.ones_like(p)])
    p.flags.writeable = True
    p.shape = (2, 3)
    with pytest.raises(ValueError, match="shape"):
        opt.step([np.ones((2, 3), np.float32)])


def test_a_state_replaced_or_loaded_is_used():
    p, opt = _adam()
    q, other = _adam()
    for _ in range(3):
        opt.step([np.ones_like(p)])
    other.step([np.full_like(q, -2.0)])
    opt.load_state_dict(other.state_dict())
    reference = optim.Adam([p.copy()], lr=0.1, execution="functional")
    reference.load_state_dict(other.state_dict())
    opt.step([np.ones_like(p)])
    reference.step([np.ones_like(p)])
    _assert_same(opt, reference)


def test_a_grad_on_a_state_buffer_is_read_before_the_buffer_is_written():
    p, opt = _adam()
    reference = optim.Adam([p.copy()], lr=0.1, execution="functional")
    for o in (opt, reference):
        o.step([np.ones_like(p)])
        o.step([np.ones_like(p)])
    opt.step([opt.state[0].m[::-1]])          # a reversed view of the buffer the step writes
    reference.step([reference.state[0].m[::-1].copy()])
    _assert_same(opt, reference)


def _power_update(state, params, grads):
    """A toy update whose one tensor operand is 2 ** t: an int for t ≥ 0, a float for t < 0."""
    return state, params * (2 ** state.t)


def test_a_replay_whose_operand_types_differ_is_refused():
    from dataclasses import replace

    from optim import adam
    from optim.replay import Programs
    p = np.ones(3)
    programs = Programs(_power_update)
    state = replace(adam.init(p), t=2)                  # 2 ** 2 is the int 4
    program, scalars, _ = programs.bound(state, p, p)
    assert scalars == [4] and type(scalars[0]) is int
    # t = -1 is refused by the state's check, but the replay is asked directly: 2 ** -1 is 0.5
    stranger = adam.State.__new__(adam.State)
    stranger.__dict__.update(vars(state), t=-1)
    assert program.bind(stranger) is None
    assert program.bind(state)[0] == [4]


def _floating_update(state, params, grads):
    return state, params * float(state.lr)


def test_an_update_that_turns_a_scalar_into_a_number_is_traced_every_step_instead():
    from optim import adam
    from optim.replay import Programs
    from optim.trace import Untraceable
    p = np.ones(3)
    with pytest.raises(Untraceable):
        Programs(_floating_update).bound(adam.init(p), p, p)
    q, opt = _adam()
    reference = optim.Adam([q.copy()], lr=0.1, execution="functional")

    def refuse(*args):
        raise Untraceable("not replayable")

    opt._programs.bound = refuse
    for lr in (0.1, 0.2):
        for o in (opt, reference):
            o.param_groups[0]["lr"] = lr
            o.step([np.full_like(q, 0.5)])
        _assert_same(opt, reference)


def test_a_constructor_value_edited_after_construction_is_checked_again():
    p = np.ones(4)
    opt = optim.Adagrad([p], lr=0.1, initial_accumulator_value=0.5)
    opt.step([np.ones_like(p)])
    opt.step([np.ones_like(p)])
    opt.defaults["initial_accumulator_value"] = 0.25   # the group's 0.5 now differs from it
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        opt.step([np.ones_like(p)])


@pytest.mark.parametrize("execution", ["workspace", "fused"])
def test_tensors_of_every_size_and_layout_share_one_pass_with_the_functional_result(execution):
    """One pass over a group: small tensors packed into shared blocks, large ones cut into
    blocks, all on the threads together (workspace); one kernel over work items of all tensors
    (fused).  Sizes straddle the pack limit and the block size; layouts include a 0-d, an empty,
    a transposed and a strided param."""
    if execution == "fused" and not HAVE_NUMBA and os.environ.get("CI") != "true":
        pytest.skip("numba is not installed (pip install 'optlaws[fast]')")
    from optim import trace
    rng = np.random.default_rng(5)
    sizes = [1, 5, trace.PACK_BELOW - 1, trace.PACK_BELOW, trace.CHUNK - 1, trace.CHUNK, trace.CHUNK + 1, 300_000]
    params = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    params += [np.array(0.5, np.float32), np.zeros(0, np.float32),
               rng.standard_normal((40, 30)).astype(np.float32).T, rng.standard_normal(999).astype(np.float32)[::3]]
    copies = [p.copy() for p in params]
    opt = optim.Adam(params, lr=0.01, weight_decay=0.1, execution=execution)
    reference = optim.Adam(copies, lr=0.01, weight_decay=0.1, execution="functional")
    for _ in range(3):
        grads = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
        opt.step(grads)
        reference.step([g.copy() for g in grads])
    for a, b in zip(params, copies):
        if execution == "workspace":
            np.testing.assert_array_equal(a, b, strict=True)
        else:
            np.testing.assert_array_max_ulp(a, b, maxulp=1)


# -- the tracer's own contract: what it refuses and what it records ------------------------------

def test_a_tape_takes_its_inputs_first_and_one_trace_at_a_time():
    from optim.trace import Tape
    tape, other = Tape((3,), np.float64), Tape((3,), np.float64)
    x, y = tape.input(np.ones(3)), other.input(np.ones(3))
    x + 1.0
    with pytest.raises(RuntimeError, match="inputs must be declared before any operation"):
        tape.input(np.ones(3))
    with pytest.raises(ValueError, match="tensors from two different traces"):
        x + y
    with pytest.raises(TypeError, match="a traced tensor has no truth value"):
        bool(x > 0)


def test_the_shape_of_a_replayed_trace_answers_nothing_but_itself():
    from optim.trace import ANY_SHAPE, Untraceable
    assert ANY_SHAPE == ANY_SHAPE and not (ANY_SHAPE != ANY_SHAPE) and repr(ANY_SHAPE) == "AnyShape()"
    for ask in (lambda s: s == (3,), lambda s: s != (3,), len, lambda s: s[0], bool, lambda s: s < (1,)):
        with pytest.raises(Untraceable, match="uses the shape of its tensors"):
            ask(ANY_SHAPE)


def test_the_scalar_tape_replays_its_arithmetic_and_refuses_what_raises_or_mixes_traces():
    import operator
    from optim.trace import ScalarTape
    tape, other = ScalarTape(), ScalarTape()
    x, y = tape.input(-2.0), other.input(1.0)
    result = abs(1.0 / x) ** 0.5 - (-x)
    assert repr(result) == f"TraceScalar({abs(1.0 / -2.0) ** 0.5 - 2.0!r})"
    values = tape.evaluate((-4.0,))
    assert values[result.index] == abs(1.0 / -4.0) ** 0.5 - 4.0
    assert tape.evaluate((0.0,)) is None            # 1 / 0: the fresh trace raises it where the update does
    with pytest.raises(ValueError, match="scalars from two different traces"):
        x + y
    assert operator.add(x, 1).value == -1.0


def test_the_trace_context_refuses_an_untraced_tensor_and_an_output_outside_the_trace():
    from optim import sgd
    from optim.trace import TRACE, NotFusable, trace
    with pytest.raises(TypeError, match="params must be a traced tensor, got ndarray"):
        TRACE.check_tensor(np.ones(2), "params")

    def leaks(state, params, grads):
        return state, np.zeros(3)

    with pytest.raises(NotFusable, match="an output of the update is not a traced tensor"):
        trace(leaks, sgd.init(np.ones(3), lr=0.1), np.ones(3), np.ones(3), [])


def test_an_unknown_operation_is_refused_by_every_executor():
    from optim import trace as tr
    from optim.torch_compiled import NotCompilable, source
    with pytest.raises(tr.NotFusable, match="unknown traced operation cosh"):
        tr._apply("cosh", [np.ones(2)], np.empty(2))
    tape = tr.Tape((2,), np.float64)
    x = tape.input(np.ones(2))
    tape.record("cosh", x)
    with pytest.raises(NotCompilable, match="no torch code for the traced operation cosh"):
        source(tape, [1])


def test_the_fused_path_without_numba_is_refused_by_the_compiler(monkeypatch):
    import sys
    from optim import trace as tr
    tape = tr.Tape((2,), np.float64)
    x = tape.input(np.ones(2))
    y = x * 3.0
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.setattr(tr, "_KERNELS", {})
    with pytest.raises(tr.NotFusable, match="the fused path needs numba"):
        tr.compile_tape(tape, [y.index])


def test_small_tensors_are_packed_up_to_a_block_and_no_further():
    from types import SimpleNamespace
    from optim.trace import _packs
    jobs = [SimpleNamespace(size=n) for n in (3, 3, 3, 5, 1)]
    sizes = [[j.size for j in pack] for pack in _packs(jobs, 6)]
    assert sizes == [[3, 3], [3], [5, 1]]
    assert [[j.size for j in pack] for pack in _packs(jobs, 100)] == [[3, 3, 3, 5, 1]]


def test_many_small_tensors_over_several_packs_give_the_functional_result():
    from optim import trace
    rng = np.random.default_rng(9)
    n = trace.PACK_BELOW - 3
    params = [rng.standard_normal(n).astype(np.float32) for _ in range(trace.CHUNK // n + 3)]
    copies = [p.copy() for p in params]
    opt = optim.Adam(params, lr=0.01)
    reference = optim.Adam(copies, lr=0.01, execution="functional")
    for _ in range(2):
        grads = [rng.standard_normal(n).astype(np.float32) for _ in params]
        opt.step(grads)
        reference.step(grads)
    for a, b in zip(params, copies):
        np.testing.assert_array_equal(a, b, strict=True)


def test_the_fused_work_items_cover_each_element_once_and_their_cache_is_bounded():
    from optim import trace
    work = trace._work((3, trace.FUSED_CHUNK + 2, 0))
    assert work.tolist() == [[0, 0, 3], [1, 0, trace.FUSED_CHUNK], [1, trace.FUSED_CHUNK, trace.FUSED_CHUNK + 2]]
    for n in range(300):
        trace._work((n + 1,))
    assert len(trace._WORK) <= 257


def _outside_update(state, params, grads):
    from dataclasses import replace
    return replace(state, t=7), params - grads


def _other_trace_update(state, params, grads):
    from dataclasses import replace
    from optim.trace import ScalarTape
    return replace(state, lr=ScalarTape().input(0.5)), params - grads


def test_an_update_whose_scalars_do_not_come_from_its_trace_is_not_replayed():
    from optim import adam
    from optim.replay import Programs
    from optim.trace import Untraceable
    p = np.ones(3)
    with pytest.raises(Untraceable, match="the update set t to a value computed outside the trace"):
        Programs(_outside_update).bound(adam.init(p), p, p)
    with pytest.raises(Untraceable, match="a scalar of another trace"):
        Programs(_other_trace_update).bound(adam.init(p), p, p)


def test_a_state_whose_field_the_structure_cannot_compare_is_traced_every_step():
    """A user's family may keep a field of any kind (here a list its check lets through): such a
    state has no structure to cache a program under, so each of its steps is traced afresh."""
    from typing import Any

    from optim import adam, fields
    from optim.replay import Programs, structure

    @fields.state
    class Tagged:
        lr: Any = fields.hyper(0.1, check=lambda v: v)
        m: Any = fields.buffer(torch="exp_avg")

    p = np.ones(3)
    odd = Tagged(lr=[0.1], m=np.zeros(3))
    assert structure(odd, p) is None
    assert structure(adam.init(p), p) is not None
    programs = Programs(lambda s, x, g: (s, x - g))
    programs.bound(adam.init(p), p, p)
    programs.bound(adam.init(p), p, p)
    assert programs.traced == 1 and len(programs.by_structure) == 1
    programs.bound(odd, p, p)
    programs.bound(odd, p, p)
    assert programs.traced == 3 and len(programs.by_structure) == 1   # never kept under a None key


def _fused_or_skip():
    if not HAVE_NUMBA and os.environ.get("CI") != "true":
        pytest.skip("numba is not installed (pip install 'optlaws[fast]')")


def test_a_kept_fused_step_reads_each_steps_grads_whatever_their_layout():
    """While the plan is kept, the fused calls of the last step are rebound to the new grads and
    scalars; a grad that is not one C-order block (or a param read from a copy) is prepared
    afresh.  Every step equals the functional one."""
    _fused_or_skip()
    rng = np.random.default_rng(3)
    shapes = [(6, 5), (7,), (4, 3)]
    params = [rng.standard_normal(s) for s in shapes] + [rng.standard_normal((5, 4)).T]   # a transposed param
    copies = [p.copy() for p in params]
    opt = optim.Adam(params, lr=0.01, amsgrad=True, execution="fused")
    reference = optim.Adam(copies, lr=0.01, amsgrad=True, execution="functional")
    rebound = 0
    for step in range(6):
        grads = [rng.standard_normal(p.shape) for p in params]
        if step == 3:
            grads[0] = np.asfortranarray(grads[0])
        if step == 4:
            grads[1] = rng.standard_normal(14)[::2]
        kept = opt._fused
        opt.step(grads)
        rebound += kept is not None and opt._fused is kept
        reference.step([g.copy() for g in grads])
        for a, b in zip(params, copies):
            np.testing.assert_array_max_ulp(a, b, maxulp=1)
    assert rebound >= 3


def test_a_kept_fused_step_keeps_no_grad_alive():
    import gc
    import weakref
    _fused_or_skip()
    p = np.ones(10)
    opt = optim.Adam([p], lr=0.1, execution="fused")
    for _ in range(3):
        g = np.full(10, 0.5)
        seen = weakref.ref(g)
        opt.step([g])
        del g
        gc.collect()
        assert seen() is None


def test_the_tensors_of_a_group_share_one_schedule_per_step(monkeypatch):
    """The buffer plan of a program (which values alias, when each is last used) depends on the
    tape and the step's scalars, which every param of a group shares: it is made once per group
    and step, not once per tensor."""
    from optim import trace
    made = []
    real = trace._Schedule.__init__

    def counting(self, *args):
        made.append(1)
        real(self, *args)

    monkeypatch.setattr(trace._Schedule, "__init__", counting)
    params = [np.full(n, 0.5) for n in range(1, 31)]
    opt = optim.Adam(params, lr=0.1)
    for _ in range(3):
        opt.step([np.ones_like(p) for p in params])
    assert 0 < len(made) <= 3


@pytest.mark.parametrize("sizes,width", [([8, 8], 16), ([3, 4], 8), ([1, 1, 1], 4), ([5], 5)])
def test_small_tensors_share_blocks_of_the_next_power_of_two_and_no_more(sizes, width):
    """The workspace a step keeps is bounded by its blocks: small tensors packed together use
    buffers of the smallest power of two that holds them all (few distinct lengths in the pool);
    a tensor alone uses its own length."""
    params = [np.full(n, 0.5) for n in sizes]
    opt = optim.Adam(params, lr=0.1)
    opt.step([np.ones(n) for n in sizes])
    lengths = {shape for (_, shape, _) in opt._workspace.pool}
    assert lengths == {(width,)}


def test_a_traced_scalar_leaves_an_array_operand_to_the_array_and_records_a_0d_one():
    from optim.trace import ScalarTape, TraceScalar
    tape = ScalarTape()
    x = tape.input(2.0)
    for array in (np.ones(3), np.ones((2, 2)), np.ones((1, 1, 1))):
        assert x.__mul__(array) is NotImplemented and x.__radd__(array) is NotImplemented
    zero_d = x * np.array(3.0)
    assert isinstance(zero_d, TraceScalar) and zero_d.value == 6.0
    assert tape.evaluate((5.0,))[zero_d.index] == 15.0
    # Recorded with the 0-d array itself: NumPy's result type (np.float64, which upcasts a float32
    # array under NEP 50) as the functional run computes it, not the Python float of an element.
    assert type(zero_d.value) is np.float64 and type(tape.evaluate((5.0,))[zero_d.index]) is np.float64


OPTIONS = {"Adam": [dict(amsgrad=True), dict(weight_decay=0.1, maximize=True)], "SGD": [dict(momentum=0.9),
           dict(momentum=0.9, nesterov=True, dampening=0.0)], "RMSprop": [dict(centered=True, momentum=0.5)],
           "Adagrad": [dict(lr_decay=0.1)], "ASGD": [dict(t0=0.0)], "Rprop": [dict()], "RAdam": [dict(decoupled_weight_decay=True)],
           "Adafactor": [dict(weight_decay=0.1, maximize=True), dict(eps=(1e-20, 1e-3), d=1.5, beta2_decay=-0.5)],
           "Muon": [dict(nesterov=False, weight_decay=0.0), dict(adjust_lr_fn="match_rms_adamw", ns_steps=3)]}


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_state_a_step_leaves_is_read_from_the_traced_program_as_from_the_update_run(name, dtype):
    """Which of torch's state keys a group's param has after a step (buffers and scalars, per
    option) is read from the traced program; it equals what one run of the update leaves.  Where
    it depends on the param's rank (Adafactor's factors or variance; Muon takes matrices only,
    and neither is traced), for each rank the optimizer takes."""
    from optim import fields
    cls = CLASSES[name]
    ranks = [n for n in (1, 2) if takes_rank(cls, n)] if by_rank(cls.family) else [1]
    for options in [dict()] + OPTIONS.get(name, []):
        for ndim in ranks:
            opt = cls([np.zeros((3,) * ndim, dtype)], **options)
            settings = opt._settings(opt.param_groups[0])
            proxy = np.zeros((1,) * ndim, dtype)
            state, _ = cls.family.update(cls.family.init(proxy, **opt._functional(settings)), proxy,
                                         np.zeros_like(proxy))
            ran = {key: isinstance(getattr(state, field), np.ndarray)
                   for key, field in opt.state_names.items() if getattr(state, field) is not None}
            assert opt._expected_state(settings, np.dtype(dtype), ndim) == ran, (options, ndim)
            assert any(ran.values()) == bool(fields.buffers(state) and any(
                getattr(state, b) is not None for b in fields.buffers(state)))


def test_a_schedule_that_turns_on_a_buffer_the_state_lacks_is_refused_before_any_change():
    """amsgrad switched on after the first step: the state has no max_exp_avg_sq (torch.optim
    fails on the missing key too); the step is refused whatever the path, nothing changes."""
    for execution in ("workspace", "fused", "functional"):
        if execution == "fused" and not HAVE_NUMBA:
            continue
        p = np.ones(4)
        opt = optim.Adam([p], lr=0.1, execution=execution)
        for lr in (0.1, 0.05):   # a schedule first: the plan is kept, the groups checked again
            opt.param_groups[0]["lr"] = lr
            opt.step([np.full(4, 0.5)])
        before, state = p.copy(), opt.state[0]
        opt.param_groups[0]["amsgrad"] = True
        with pytest.raises(ValueError, match=r"^parameter 0 has no 'max_exp_avg_sq' state \(the group's options "
                                             r"changed after its first step\?\): its step would need it$"):
            opt.step([np.full(4, 0.5)])
        assert np.array_equal(p, before) and opt.state[0] is state


def test_a_fused_step_that_allocates_a_buffer_keeps_no_calls_and_the_next_one_prepares_them():
    """SGD's momentum buffer is made by its first step: the calls of that step wrote into new
    memory and are not kept; the next steps keep and rebind theirs.  Every step equals the
    functional one."""
    _fused_or_skip()
    rng = np.random.default_rng(5)
    params = [rng.standard_normal(s) for s in [(3, 4), (5,)]]
    copies = [p.copy() for p in params]
    opt = optim.SGD(params, lr=0.1, momentum=0.9, execution="fused")
    reference = optim.SGD(copies, lr=0.1, momentum=0.9, execution="functional")
    kept = []
    for _ in range(4):
        grads = [rng.standard_normal(p.shape) for p in params]
        opt.step(grads)
        reference.step(grads)
        kept.append(opt._fused)
        for a, b in zip(params, copies):
            np.testing.assert_array_max_ulp(a, b, maxulp=1)
    assert kept[0] is None and kept[1] is not None and kept[2] is kept[1] and kept[3] is kept[1]


def test_the_structure_reads_each_fields_type_and_each_flags_value():
    """Two states differ in structure when a field's type, a flag's value or a buffer's presence
    does; a field added to the instance, or a buffer slot holding a list, has none."""
    from optim import adam
    from optim.replay import structure
    p = np.ones(3)
    base = adam.init(p)
    assert structure(base, p) == structure(adam.init(np.zeros(3)), p)
    assert structure(base, p) != structure(adam.init(p, amsgrad=True), p)
    assert structure(base, p) != structure(adam.init(p, maximize=True), p)
    from optim import fields
    assert structure(base, p) != structure(fields.evolve(base, t=2.0), p)   # a float step: another type
    assert structure(base, p) == structure(fields.evolve(base, t=2), p)
    assert structure(base, p) != structure(base, p.astype(np.float32))  # the dtype
    odd = copy.copy(base)
    object.__setattr__(odd, "extra", 1.0)
    assert structure(odd, p) is None
    listed = copy.copy(base)
    object.__setattr__(listed, "epsilon", [1e-8])
    assert structure(listed, p) is None
    reordered = copy.copy(base)
    moved = reordered.__dict__.pop("lr")
    reordered.__dict__["lr"] = moved   # the same fields and types, in another order
    assert structure(reordered, p) is None


def test_a_torch_state_replays_its_program_every_step():
    """The torch backend's states hold torch tensors as buffers: they have a structure, so the
    compiled step replays one program per structure instead of tracing every param each step."""
    torch = pytest.importorskip("torch")
    from optim import torch_backend
    params = [torch.nn.Parameter(torch.ones(n)) for n in (3, 4, 5)]
    for p in params:
        p.grad = torch.full_like(p, 0.5)
    opt = torch_backend.Adam(params, lr=0.1, execution="compiled")
    opt.step()
    traced = opt._programs.traced
    for _ in range(3):
        opt.step()
    assert opt._programs.traced == traced


def test_the_compiled_torch_step_computes_a_groups_scalars_once_whatever_its_step_count(monkeypatch):
    """Each param keeps its own step tensor; read back, equal counts are one int object, so the
    replay's scalar arithmetic (bias corrections, …) runs once per group and step, past the
    small ints that Python shares anyway, and the group makes one compiled call."""
    torch = pytest.importorskip("torch")
    from optim import torch_backend
    from optim.replay import Program
    params = [torch.nn.Parameter(torch.ones(n)) for n in (3, 4, 5, 6)]
    for p in params:
        p.grad = torch.full_like(p, 0.5)
    opt = torch_backend.Adam(params, lr=0.1, execution="compiled")
    opt.step()
    for p in params:
        opt.state[p]["step"] = torch.tensor(1000.0)
    evaluated = []
    real = Program._bind
    monkeypatch.setattr(Program, "_bind", lambda self, inputs: evaluated.append(inputs) or real(self, inputs))
    calls = []
    real_calls = opt._compiled_calls
    monkeypatch.setattr(opt, "_compiled_calls", lambda entries, plan: calls.append(real_calls(entries, plan)) or calls[-1])
    opt.step()
    assert len(evaluated) == 1 and len(calls[-1]) == 1 and len(calls[-1][0][1]) == 4
    assert all(float(opt.state[p]["step"]) == 1001.0 for p in params)


def _alternating_family():
    """A user's family whose update makes a buffer at one step and drops it at the next (the
    buffer's presence is part of the traced structure)."""
    import types
    from dataclasses import replace
    from typing import Any

    from optim import fields

    @fields.state
    class State:
        lr: Any = fields.lr(0.1)
        m: Any = fields.buffer(torch="last_grad", init=None)

    @fields.update_rule(State)
    def update(state, params, grads):
        if state.m is None:
            return replace(state, m=grads * 1.0), params - state.lr * grads
        return replace(state, m=None), params - state.lr * (state.m + grads) * 0.5

    module = types.ModuleType("alternating")
    module.State, module.init, module.update = State, fields.init_function(State), update
    return module


@pytest.mark.parametrize("execution", ["workspace", "fused", "functional"])
def test_a_buffer_the_update_drops_is_dropped_on_every_path(execution):
    """The new state has exactly the buffers the update leaves: one it sets to None is None
    (the replayed paths kept the old array), and the params follow the functional update."""
    if execution == "fused" and not HAVE_NUMBA:
        pytest.skip("numba is not installed")
    from optim import stateful
    alternating = _alternating_family()

    class Alternating(stateful.Optimizer):
        family = alternating
    p = np.ones(3)
    opt = Alternating([p], lr=0.5, execution=execution)
    grads = [np.full(3, 2.0), np.full(3, 4.0), np.full(3, 1.0), np.full(3, 3.0), np.full(3, 1.0)]
    want, m = np.ones(3), None
    for g in grads:
        opt.step([g])
        want, m = (want - 0.5 * g, g) if m is None else (want - 0.5 * (m + g) * 0.5, None)
        np.testing.assert_array_equal(p, want)
        assert (opt.state[0].m is None) == (m is None)
        if m is not None:
            np.testing.assert_array_equal(opt.state[0].m, m)


@pytest.mark.parametrize("execution", ["eager", "compiled"])
def test_a_buffer_the_update_drops_is_dropped_by_the_torch_backend(execution):
    torch = pytest.importorskip("torch")
    from optim import torch_backend
    alternating = _alternating_family()

    class Alternating(torch_backend.TorchOptimizer):
        family = alternating
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = Alternating([p], lr=0.5, execution=execution)
    want, m = torch.ones(3, dtype=torch.float64), None
    for value in (2.0, 4.0, 1.0, 3.0):
        g = torch.full((3,), value, dtype=torch.float64)
        p.grad = g.clone()
        opt.step()
        want, m = (want - 0.5 * g, g) if m is None else (want - 0.5 * (m + g) * 0.5, None)
        assert torch.equal(p.detach(), want)
        assert ("last_grad" in opt.state[p]) == (m is not None)


def test_sgd_made_momentum_after_its_first_steps_starts_its_buffer_from_the_gradient_as_torch():
    """momentum switched on after steps without it: torch.optim.SGD starts the buffer from the
    gradient (its first-step rule); so do both backends (they refused)."""
    torch = pytest.importorskip("torch")
    from optim import torch_backend
    start = np.array([1.0, -2.0, 0.5])
    grads = [np.array([0.5, 1.0, -1.0]), np.array([0.25, -0.5, 2.0]), np.array([1.0, 1.0, 1.0])]
    reference = torch.nn.Parameter(torch.tensor(start))
    ours_torch = torch.nn.Parameter(torch.tensor(start))
    p = start.copy()
    optimizers = [torch.optim.SGD([reference], lr=0.1), torch_backend.SGD([ours_torch], lr=0.1),
                  optim.SGD([p], lr=0.1)]
    for step, g in enumerate(grads):
        if step == 1:
            for o in optimizers:
                o.param_groups[0]["momentum"] = 0.9
        reference.grad, ours_torch.grad = torch.tensor(g), torch.tensor(g)
        for o in optimizers[:2]:
            o.step()
        optimizers[2].step([g])
        # torch's kernels may fuse a multiply-add (AVX2, AVX-512): agreement to rounding, not bits
        np.testing.assert_allclose(ours_torch.detach().numpy(), reference.detach().numpy(), rtol=1e-14, atol=0)
        np.testing.assert_allclose(p, reference.detach().numpy(), rtol=1e-14, atol=0)
    assert "momentum_buffer" in optimizers[1].state[ours_torch] and optimizers[2].state_dict()["state"][0]["momentum_buffer"] is not None


def test_a_state_shares_the_previous_params_binding_only_with_its_very_scalars_and_buffer_types():
    """``replay.shares_binding``: what lets a group's params bind once per step.  Anything a
    binding or a structure reads that differs — a scalar's object (even of an equal value), a
    buffer's presence or type, the class, a field added — shares nothing."""
    from optim import adam, fields, rmsprop
    from optim.replay import shares_binding
    p = np.ones(3)
    base = fields.evolve(adam.init(p), t=700)
    assert shares_binding(base, fields.evolve(base, m=np.zeros(3), v=np.ones(3)))
    assert not shares_binding(base, fields.evolve(base, t=int("700")))        # equal, another object
    assert not shares_binding(base, fields.evolve(base, t=700.0))
    assert not shares_binding(adam.init(p), adam.init(p, amsgrad=True))      # a buffer made
    assert not shares_binding(base, fields.evolve(base, m=np.zeros(3).view(np.matrix)))
    assert not shares_binding(base, rmsprop.init(p))
    odd = copy.copy(base)
    object.__setattr__(odd, "extra", 1.0)
    assert not shares_binding(base, odd) and not shares_binding(odd, base)
    missing = copy.copy(base)
    del missing.__dict__["lr"]
    missing.__dict__["other"] = base.lr
    assert not shares_binding(base, missing)


@pytest.mark.parametrize("execution", ["workspace", "fused"])
def test_params_of_one_group_with_different_step_counts_each_step_from_their_own(execution):
    """The params of a group usually hold the very same step count and share one binding; a
    param whose state says otherwise (loaded from elsewhere, an equal count of another object,
    a float count) steps from its own, as the functional path does."""
    if execution == "fused" and not HAVE_NUMBA and os.environ.get("CI") != "true":
        pytest.skip("numba is not installed (pip install 'optlaws[fast]')")
    from dataclasses import replace
    rng = np.random.default_rng(5)
    params = [rng.standard_normal(n).astype(np.float32) for n in (5, 6, 7, 8)]
    cached = optim.Adam([p.copy() for p in params], lr=0.1, execution=execution)
    reference = optim.Adam([p.copy() for p in params], lr=0.1, execution="functional")
    for step in range(6):
        grads = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
        if step == 2:
            for opt in (cached, reference):
                opt.state[0] = replace(opt.state[0], t=300)
                opt.state[1] = replace(opt.state[1], t=40)
                opt.state[2] = replace(opt.state[2], t=int("300"))
                opt.state[3] = replace(opt.state[3], t=300.0)
        cached.step(grads)
        reference.step([g.copy() for g in grads])
        _assert_same(cached, reference)
    assert [cached.state[i].t for i in range(4)] == [304, 44, 304, 304.0]
