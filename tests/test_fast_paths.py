"""The workspace and fused executions of the one definition agree with the functional run:
the workspace path bit for bit, the fused path to within 1 ulp, for every optimizer, both dtypes."""
import os

import numpy as np
import pytest

import optim
from optim.trace import NotFusable, Tape, TraceTensor, run_fused
from _families import matrix_only

try:
    import numba  # noqa: F401
    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False

OPTIONS = {  # every option whose code path differs (maximize, an exact negation of g, rides with another)
    "SGD": [dict(momentum=0.9, nesterov=True, weight_decay=0.1), dict(momentum=0.5, dampening=0.2, maximize=True)],
    "Adam": [dict(amsgrad=True, weight_decay=0.1, maximize=True), dict(decoupled_weight_decay=True, weight_decay=0.1)],
    "AdamW": [dict(amsgrad=True, maximize=True)],
    "Adadelta": [dict(weight_decay=0.1, maximize=True)],
    "Adagrad": [dict(lr_decay=0.01, initial_accumulator_value=0.1, maximize=True)],
    "RMSprop": [dict(centered=True, momentum=0.5), dict(weight_decay=0.1, maximize=True)],
    "Adamax": [dict(weight_decay=0.1, maximize=True)],
    "NAdam": [dict(decoupled_weight_decay=True, weight_decay=0.1), dict(weight_decay=0.1, maximize=True)],
    "RAdam": [dict(betas=(0.9, 0.7)), dict(weight_decay=0.1),
              dict(decoupled_weight_decay=True, weight_decay=0.1, maximize=True)],
    "Rprop": [dict(etas=(0.3, 1.5), step_sizes=(1e-3, 0.05), maximize=True)],
    "ASGD": [dict(t0=3, lambd=0.01, maximize=True)],
    "MomentumSGD": [dict(momentum=0.5)],
    "Lion": [dict(weight_decay=0.1), dict(betas=(0.0, 0.5), maximize=True)],
    "SGDScheduleFree": [dict(weight_decay=0.1, warmup_steps=2), dict(momentum=0.5, r=1.0, weight_lr_power=0.0)],
    "AdamWScheduleFree": [dict(weight_decay=0.1, warmup_steps=2), dict(betas=(0.5, 0.9), r=0.5)],
    # a reduction: every execution runs the functional update (tests/test_lars_lamb.py)
    "LARS": [dict(weight_decay=0.1, nesterov=True)],
    "LAMB": [dict(weight_decay=0.1)],
    "Adafactor": [dict(weight_decay=0.1, maximize=True), dict(eps=(1e-20, 1e-3), d=1.5, beta2_decay=-0.5)],
    # (Muon takes matrices only: its second param is a 7 × 2 matrix, its long one a column)
    "Muon": [dict(nesterov=False, weight_decay=0.0), dict(adjust_lr_fn="match_rms_adamw", ns_steps=3)],
}
CASES = [(n, o, d) for n, opts in OPTIONS.items() for o in opts for d in (np.float32, np.float64)]
IDS = [f"{n}-{'-'.join(map(str, o))}-{d.__name__}" for n, o, d in CASES]


def run(name, options, dtype, execution, steps=12):
    rng = np.random.default_rng(7)
    second = (7, 2) if matrix_only(optim.CLASSES[name]) else (7,)
    params = [rng.standard_normal((33, 5)).astype(dtype), rng.standard_normal(second).astype(dtype)]
    opt = optim.CLASSES[name](params, lr=0.05, execution=execution, **options)
    history = []
    for step in range(steps):
        grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
        if step % 4 == 3:
            grads[0][0, 0] = 0.0  # Rprop's zero-product case, and exact zeros elsewhere
        opt.step(grads)
        history.append(([p.copy() for p in params], opt.state_dict()))
    return history


@pytest.mark.parametrize("name,options,dtype", CASES, ids=IDS)
def test_workspace_path_is_bit_identical_to_the_functional_update(name, options, dtype):
    for (a, sa), (b, sb) in zip(run(name, options, dtype, "functional"), run(name, options, dtype, "workspace")):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
        for i in sa["state"]:
            for key, value in sa["state"][i].items():
                np.testing.assert_array_equal(value, sb["state"][i][key])
                assert np.asarray(sb["state"][i][key]).dtype == np.asarray(value).dtype


@pytest.mark.skipif(not HAVE_NUMBA and os.environ.get("CI") != "true",
                    reason="numba is not installed (pip install 'optlaws[fast]')")
@pytest.mark.parametrize("name,options,dtype", CASES, ids=IDS)
def test_fused_path_agrees_within_one_ulp(name, options, dtype):
    for (a, sa), (b, sb) in zip(run(name, options, dtype, "functional"), run(name, options, dtype, "fused")):
        for x, y in zip(a, b):
            np.testing.assert_array_max_ulp(x, y, maxulp=1)
        for i in sa["state"]:
            for key, value in sa["state"][i].items():
                if isinstance(value, np.ndarray):
                    np.testing.assert_array_max_ulp(value, sb["state"][i][key], maxulp=1)
                else:
                    assert value == sb["state"][i][key]


@pytest.mark.skipif(not HAVE_NUMBA and os.environ.get("CI") != "true",
                    reason="numba is not installed (pip install 'optlaws[fast]')")
@pytest.mark.parametrize("name", [n for n in sorted(OPTIONS) if not getattr(optim.CLASSES[n].family, "REDUCES", False)])
def test_a_large_group_runs_the_parallel_kernel_and_a_small_one_the_serial_one(name, monkeypatch):
    """A call over more than SERIAL_UP_TO elements in all runs numba's parallel loop over its
    work items (a param several chunks long, the short last chunk included, and a small param
    beside it), one over fewer the same loop compiled serially: both agree with the functional
    run within 1 ulp, every element written."""
    from optim import trace
    monkeypatch.setattr(trace, "_KERNELS", {})
    cls = optim.CLASSES[name]
    rng = np.random.default_rng(4)
    for size, parallel in ((2 * trace.FUSED_CHUNK + 17, True), (40, False)):
        shapes = [(size, 1), (7, 2)] if matrix_only(cls) else [(size,), (7,)]
        start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(2)]
        results = {}
        for execution in ("functional", "fused"):
            params = [p.copy() for p in start]
            opt = cls(params, lr=0.05, **OPTIONS[name][0], execution=execution)
            for g in grads:
                opt.step(g)
            results[execution] = params
        for fused, functional, first in zip(results["fused"], results["functional"], start):
            assert not np.array_equal(functional, first)
            np.testing.assert_array_max_ulp(fused, functional, maxulp=1)
        kinds = {kernel.targetoptions.get("parallel", False) for kernel in trace._KERNELS.values()}
        assert kinds == ({True} if parallel else {True, False}), (size, kinds)


def test_workspace_is_bounded_by_the_block_size_not_the_parameter_size():
    big = np.zeros(1_000_000, np.float32)
    opt = optim.Adam([big], lr=0.1)
    opt.step([np.ones_like(big)])
    buffers = opt.state[0].m, opt.state[0].v
    opt.step([np.ones_like(big)])
    assert opt.state[0].m is buffers[0] and opt.state[0].v is buffers[1]   # written in place
    from optim.trace import CHUNK
    assert 0 < opt._workspace.nbytes() <= 12 * CHUNK * 4   # the default path: a few block-sized buffers
    functional = optim.Adam([np.zeros(10, np.float32)], lr=0.1, execution="functional")
    functional.step([np.ones(10, np.float32)])
    assert functional._workspace.nbytes() == 0             # the functional path has no workspace
    big_opt = optim.Adam([np.zeros(4_000_000, np.float32)], lr=0.1)
    big_opt.step([np.ones(4_000_000, np.float32)])
    assert big_opt._workspace.nbytes() == opt._workspace.nbytes()  # independent of the size


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")
def test_the_fused_path_is_never_chosen_where_it_does_not_apply():
    tape = Tape((3,), np.float64)
    x = tape.input(np.ones(3))
    y = tape.record("erf", x)  # an operation the generator does not know
    with pytest.raises(NotFusable):
        run_fused(tape, [y.index], [np.empty(3)])
    assert isinstance(y, TraceTensor)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")
@pytest.mark.parametrize("execution", ["workspace", "fused"])
def test_a_strided_param_is_updated_in_place_not_skipped(execution):
    # It used to be refused (fused) or silently never written (workspace) while the step
    # counter advanced: a flat reshape of a strided view is a copy.
    buffer = np.ones((3, 4))
    opt = optim.SGD([np.ones(3)], lr=0.1, execution=execution)
    opt.param_groups[0]["params"][0] = buffer[:, 0]
    opt.step([np.ones(3)])
    np.testing.assert_array_equal(buffer[:, 0], 0.9)
    np.testing.assert_array_equal(buffer[:, 1:], 1.0)
    transposed = np.ones((4, 3)).T
    opt = optim.Adam([transposed], lr=0.1, execution=execution)
    opt.step([np.ones((3, 4))])
    np.testing.assert_allclose(transposed, 0.9, rtol=1e-6)


def test_unknown_execution_is_rejected():
    with pytest.raises(ValueError, match="execution"):
        optim.Adam([np.ones(2)], execution="turbo")


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_a_param_of_many_blocks_is_updated_whole_on_any_thread_count(name, threads, monkeypatch):
    """Blocks are shared out to lanes (threads): every block of a param several blocks long,
    the short last one included, is written, bit-identical to the functional run, whatever
    the number of threads this machine has (forced to 1 and 3 here)."""
    import optim.trace
    monkeypatch.setattr(optim.trace, "_THREADS", threads)
    size = 3 * optim.trace.CHUNK + 17
    shape = (size, 1) if matrix_only(optim.CLASSES[name]) else (size,)
    rng = np.random.default_rng(3)
    start = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(2)]
    results = {}
    for execution in ("functional", "workspace"):
        p = start.copy()
        opt = optim.CLASSES[name]([p], lr=0.05, **OPTIONS[name][0], execution=execution)
        for g in grads:
            opt.step([g])
        results[execution] = (p, opt.state_dict()["state"][0] if opt.state_dict()["state"] else {})
    (p_f, s_f), (p_w, s_w) = results["functional"], results["workspace"]
    assert not np.array_equal(p_f, start)
    np.testing.assert_array_equal(p_w, p_f)
    for key, value in s_f.items():
        np.testing.assert_array_equal(s_w[key], value)


@pytest.mark.parametrize("compare", ["gt", "lt", "ge", "le"])
def test_every_traced_comparison_selects_as_numpy_does(compare):
    """The tracer records >, <, >=, <= (no update uses all four yet; a new family may):
    a where() on each, replayed by the workspace, selects exactly as NumPy does."""
    from optim.trace import TraceContext, Workspace, run_workspace
    a, b = np.array([1.0, 2.0, 3.0, -1.0]), np.array([2.0, 2.0, 1.0, -1.0])
    tape = Tape(a.shape, np.float64)
    x, y = tape.input(a), tape.input(b)
    ops = {"gt": lambda p, q: p > q, "lt": lambda p, q: p < q, "ge": lambda p, q: p >= q, "le": lambda p, q: p <= q}
    chosen = TraceContext().where(ops[compare](x, y), x, -y)
    out = np.empty_like(a)
    run_workspace(tape, [chosen.index], Workspace(), [out])
    np.testing.assert_array_equal(out, np.where(ops[compare](a, b), a, -b))


def test_the_numpy_context_keeps_python_numbers_python_numbers():
    """On Python numbers (hyperparameter arithmetic) the NumPy context returns Python floats:
    a NumPy float64 scalar would be a strong type under NEP 50 and turn float32 params into
    float64."""
    from optim.numpy_backend import NUMPY as ctx
    for value, sign in ((-2.5, -1.0), (0.0, 0.0), (3.0, 1.0), (float("nan"), 0.0)):
        assert type(ctx.sign(value)) is float and ctx.sign(value) == sign
    assert type(ctx.abs(-2.5)) is float and type(ctx.maximum(1.0, 2.0)) is float
    assert type(ctx.minimum(1.0, 2.0)) is float and type(ctx.sqrt(4.0)) is float


@pytest.mark.parametrize("value", [-2.5, -0.5, 0.0, 0.5, 1.0, 3.0, float("nan")])
def test_the_trace_context_on_numbers_and_traced_scalars_computes_as_numpy(value):
    """The trace context's functions on Python numbers (and on traced scalars, replayed) give
    the NumPy context's values: sign, abs, sqrt, maximum and minimum with 1."""
    from optim.numpy_backend import NUMPY
    from optim.trace import TRACE, ScalarTape
    for name, args in (("sign", (value,)), ("abs", (value,)), ("sqrt", (abs(value),)),
                       ("maximum", (value, 1.0)), ("minimum", (value, 1.0))):
        expected = getattr(NUMPY, name)(*args)
        direct = getattr(TRACE, name)(*args)
        tape = ScalarTape()
        traced = getattr(TRACE, name)(*(tape.input(a) for a in args))
        replayed = tape.evaluate(args)[traced.index]
        for got in (direct, replayed):
            assert got == expected or (got != got and expected != expected), (name, args, got, expected)


def test_an_array_outside_the_trace_is_refused_not_taken_for_a_scalar():
    tape = Tape((3,), np.float64)
    x = tape.input(np.ones(3))
    for outside in (np.ones(3), np.ones((1, 3))):
        with pytest.raises(NotFusable, match="not part of the trace"):
            x + outside
    assert (x * np.float64(2.0)).tape is tape     # a NumPy scalar is a scalar


def test_a_numpy_scalar_in_the_trace_is_replayed_as_a_python_number():
    """A NumPy float64 scalar is a strong type under NEP 50: left as it is, float32 × it would be
    computed in float64 and rounded once, not in float32 as the update with a Python float."""
    from optim.trace import Workspace, run_workspace
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    tape = Tape(x.shape, x.dtype)
    y = tape.input(x) * np.float64(0.1)
    out = np.empty_like(x)
    run_workspace(tape, [y.index], Workspace(), [out])
    np.testing.assert_array_equal(out, x * 0.1, strict=True)


def test_every_context_squares_as_x_times_x():
    """``square`` is part of the context protocol (no update of ours calls it yet): on each
    backend it is x·x, one rounding, as the updates write it."""
    from optim.numpy_backend import NUMPY
    from optim.trace import TRACE, Workspace, run_workspace
    x = np.random.default_rng(1).standard_normal(257).astype(np.float32)
    np.testing.assert_array_equal(NUMPY.square(x), x * x, strict=True)
    tape = Tape(x.shape, x.dtype)
    squared = TRACE.square(tape.input(x))
    out = np.empty_like(x)
    run_workspace(tape, [squared.index], Workspace(), [out])
    np.testing.assert_array_equal(out, x * x, strict=True)
    assert TRACE.square(3.0) == NUMPY.square(3.0) == 9.0


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "pow"])
def test_a_number_on_the_left_of_a_traced_tensor_is_replayed_as_numpy_computes_it(op):
    """scalar ∘ tensor goes through the traced tensor's reflected operator (__radd__, …); no
    update of ours writes every one of them that way, so each is pinned here, bit for bit."""
    import operator as ops
    from optim.trace import Workspace, run_workspace
    x = np.random.default_rng(2).uniform(0.5, 2.0, 300).astype(np.float32)
    tape = Tape(x.shape, x.dtype)
    y = getattr(ops, op)(1.5, tape.input(x))
    out = np.empty_like(x)
    run_workspace(tape, [y.index], Workspace(), [out])
    np.testing.assert_array_equal(out, getattr(ops, op)(1.5, x), strict=True)


# ------------------------------------------------------------------ kernels kept on disk
# A step's kernel, compiled in one process and loaded in the next (optim.fused_kernels): the
# loaded one computes the same bits, a file whose text is not its name's is written again, and
# without a usable folder the kernel is compiled in memory, writing nothing.
KERNEL_RUN = """
import json, sys
import numpy as np
import optim
from optim import trace
p = np.linspace(-1, 1, 37, dtype=np.float32)
opt = optim.Adam([p], lr=0.1, weight_decay=0.1, execution="fused")
for step in range(3):
    opt.step([np.cos(np.arange(37, dtype=np.float32) * (step + 1))])
hits = sum(sum(k.stats.cache_hits.values()) for k in trace._KERNELS.values())
misses = sum(sum(k.stats.cache_misses.values()) for k in trace._KERNELS.values())
print(json.dumps({"p": p.tolist(), "hits": hits, "misses": misses, "kernels": len(trace._KERNELS)}))
"""


def _kernel_run(folder) -> dict:
    import json
    import subprocess
    import sys
    env = {**os.environ, "OPTLAWS_KERNEL_CACHE": str(folder)}
    run = subprocess.run([sys.executable, "-c", KERNEL_RUN], env=env, capture_output=True, text=True,
                         timeout=300, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not HAVE_NUMBA and os.environ.get("CI") != "true", reason="the fused path needs numba")
def test_a_kernel_compiled_once_is_loaded_by_the_next_process_with_the_same_bits(tmp_path):
    first = _kernel_run(tmp_path)
    assert first["kernels"] >= 1 and first["misses"] >= 1 and first["hits"] == 0
    kept = sorted(f.name for f in tmp_path.glob("optlaws_kernel_*.py"))
    assert len(kept) == first["kernels"]
    second = _kernel_run(tmp_path)
    assert second["hits"] == second["kernels"] and second["misses"] == 0    # loaded, not compiled
    assert second["p"] == first["p"]
    for name in kept:                       # a file whose text is not its name's: written again
        (tmp_path / name).write_text("def kernel(addresses, scalars, work):\n    pass\n")
    third = _kernel_run(tmp_path)
    assert third["p"] == first["p"]         # the kernel that does nothing was not run
    assert all((tmp_path / name).read_text().count("def kernel") == 1 and
               "prange" in (tmp_path / name).read_text() for name in kept)
    off = _kernel_run("off")
    assert off["p"] == first["p"] and off["hits"] == 0
    blocked = tmp_path / "a-file"
    blocked.write_text("")                  # a folder that cannot be made: compiled in memory
    unwritable = _kernel_run(blocked / "kernels")
    assert unwritable["p"] == first["p"] and unwritable["hits"] == 0
