"""No silent wrong result on the NumPy side (issue 9).

* Every layout (transposes, Fortran order, column slices, strided and reversed views, 0-d,
  empty) is updated in place by every execution path, with the functional result; a layout
  that cannot be updated (read-only, self-overlapping, overlapping another param) is refused
  before anything changes.
* A step is all or nothing: a bad hyperparameter, param or gradient in the *last* group or
  param leaves every param and every state buffer bit-identical.
* Hyperparameters are real numbers (a 0-d array counts, as a 0-d tensor does in torch); a
  string, None, list, complex or bool is refused at construction and, when a schedule writes
  it into a group, at the next step before anything changes.
* The same array twice, or overlapping views of one buffer, are refused.
* ``load_state_dict`` is strict: keys, counts, buffer types, shapes and dtypes, step values;
  a missing buffer is an error; a state dict that went through JSON is refused clearly.
* The functional layout check compares every state buffer with params.
"""
from __future__ import annotations

import copy
import os
import json
import re
from dataclasses import fields, replace

import numpy as np
import pytest

import optim
from optim.stateful import by_rank, functional_arguments
from _families import matrix_only, takes_rank

try:
    import numba  # noqa: F401
    PATHS = ("functional", "workspace", "fused")
except ImportError:  # pragma: no cover
    PATHS = ("functional", "workspace")

# One setting per optimizer that creates every buffer it can have.
OPTIONS = {
    "SGD": dict(momentum=0.9, nesterov=True, weight_decay=0.1),
    "Adam": dict(amsgrad=True, weight_decay=0.1),
    "AdamW": dict(amsgrad=True),
    "Adadelta": dict(weight_decay=0.1),
    "Adagrad": dict(lr_decay=0.01, initial_accumulator_value=0.1),
    "RMSprop": dict(centered=True, momentum=0.5),
    "Adamax": dict(weight_decay=0.1),
    "NAdam": dict(),
    "RAdam": dict(betas=(0.9, 0.7)),
    "Rprop": dict(),
    "ASGD": dict(t0=1),
    "MomentumSGD": dict(),
    "Lion": dict(weight_decay=0.1),
    "SGDScheduleFree": dict(weight_decay=0.1, warmup_steps=2),
    "AdamWScheduleFree": dict(weight_decay=0.1, r=0.5),
    "LARS": dict(weight_decay=0.1, nesterov=True),
    "LAMB": dict(weight_decay=0.1),
    "Adafactor": dict(weight_decay=0.1, maximize=True, eps=(1e-20, 1e-3), d=1.5, beta2_decay=-0.5),
    "Muon": dict(nesterov=False, weight_decay=0.0, adjust_lr_fn="match_rms_adamw", ns_steps=3),
}
NAMES = sorted(OPTIONS)


def _shape(name_or_cls, n, columns=2):
    """A vector of n entries, or an n × columns matrix for a family that takes matrices only
    (Muon): the shape the suite's plain params have for that family."""
    cls = optim.CLASSES[name_or_cls] if isinstance(name_or_cls, str) else name_or_cls
    return (n, columns) if matrix_only(cls) else (n,)


def _values(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(dtype)


# Each layout: (seed, dtype) -> a writeable array that is a view with that layout.
LAYOUTS = {
    "contiguous": lambda s, d: _values((4, 3), d, s),
    "transpose": lambda s, d: _values((3, 4), d, s).T,
    "fortran": lambda s, d: np.asfortranarray(_values((4, 3), d, s)),
    "column_slice": lambda s, d: _values((4, 5), d, s)[:, :2],
    "step_slice": lambda s, d: _values((8, 6), d, s)[::2, ::2],
    "negative_strides": lambda s, d: _values((4, 3), d, s)[::-1, ::-1],
    "strided_1d": lambda s, d: _values(10, d, s)[1::3],
    "transposed_3d": lambda s, d: _values((2, 3, 4), d, s).transpose(2, 0, 1),
    "zero_d": lambda s, d: np.array(_values((), d, s)),
    "zero_d_view": lambda s, d: _values(5, d, s)[2, ...],
    "empty": lambda s, d: np.zeros((0, 3), d),
    "empty_view": lambda s, d: _values((3, 4), d, s)[:, 4:],
}
DTYPES = (np.float32, np.float64)
# Each optimizer with each layout of a rank it takes (Muon: the 2-d layouts only).
LAYOUT_CASES = [(name, layout) for name in NAMES for layout in LAYOUTS
                if takes_rank(optim.CLASSES[name], LAYOUTS[layout](0, np.float64).ndim)]


def _reference(cls, settings, p0, grads):
    """The functional result on contiguous copies: params and the state after each step."""
    state = cls.family.init(np.array(p0, order="C"), **functional_arguments(settings, cls.family))
    p = np.array(p0, order="C")
    for g in grads:
        state, p = cls.family.update(state, p, np.array(g, order="C"))
    return p, state


def _assert_close(actual, expected, path):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    if path == "fused":   # one fused loop: within 1 ulp of the ufunc sequence, as test_fast_paths
        np.testing.assert_array_max_ulp(actual, expected, maxulp=1)
    else:
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,layout", LAYOUT_CASES)
def test_every_layout_is_updated_in_place_with_the_functional_result(name, layout, dtype, path):
    cls = optim.CLASSES[name]
    odd = LAYOUTS[layout](1, dtype)
    plain = _values(_shape(cls, 5), dtype, 2)
    p0 = [odd.copy(), plain.copy()]
    grads = [[LAYOUTS[layout](10 + k, dtype), _values(_shape(cls, 5), dtype, 20 + k)] for k in range(3)]
    opt = cls([odd, plain], lr=0.05, execution=path, **OPTIONS[name])
    if name == "Adafactor" and odd.size == 0 and odd.ndim > 1:
        # its row or column factor would be a mean over 0 entries, 0/0 (torch: ZeroDivisionError):
        # refused, and nothing moves
        with pytest.raises(ValueError, match="empty matrix"):
            opt.step(grads[0])
        np.testing.assert_array_equal(plain, p0[1])
        assert opt.state == {}
        return
    for g in grads:
        opt.step(g)
    assert opt.param_groups[0]["params"][0] is odd   # the user's own array, updated in place
    settings = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    saved = opt.state_dict()["state"]
    for index, (p, start) in enumerate(zip((odd, plain), p0)):
        expected_p, expected_state = _reference(cls, settings, start, [g[index] for g in grads])
        _assert_close(p, expected_p, path)
        if p.size:
            assert not np.array_equal(p, start), "the param was never updated"
        for key, field in cls.state_names.items():
            value = getattr(expected_state, field)
            if value is None:
                continue
            if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == np.ndim(start):
                _assert_close(saved[index][key], value, path)
            else:
                assert saved[index][key] == value, (key, saved[index][key], value)


@pytest.mark.parametrize("path", PATHS)
def test_the_fused_and_workspace_paths_read_grads_of_any_layout(path):
    # A grad that is a reversed view of a buffer, with a param in Fortran order.
    p = np.asfortranarray(_values((5, 4), np.float64, 3))
    start = p.copy()
    g = _values((5, 4), np.float64, 4)[::-1]
    opt = optim.Adam([p], lr=0.1, execution=path)
    opt.step([g])
    expected, _ = _reference(optim.Adam, {**optim.Adam.defaults, "lr": 0.1}, start, [g])
    _assert_close(p, expected, path)


# ---------------------------------------------------------------------------------------
# Layouts that cannot be updated in place are refused before anything changes.
# ---------------------------------------------------------------------------------------

def _snapshot(opt, params):
    return [p.copy() for p in params], copy.deepcopy(opt.state_dict())


def _assert_nothing_changed(opt, params, snapshot):
    old_params, old_state = snapshot
    for p, q in zip(params, old_params):
        assert p.dtype == q.dtype and p.shape == q.shape and p.tobytes() == q.tobytes()
    new_state = opt.state_dict()
    assert new_state["param_groups"] == old_state["param_groups"]
    assert new_state["state"].keys() == old_state["state"].keys()
    for i, entry in old_state["state"].items():
        assert new_state["state"][i].keys() == entry.keys()
        for key, value in entry.items():
            mine = new_state["state"][i][key]
            assert type(mine) is type(value)
            if isinstance(value, np.ndarray):
                assert mine.dtype == value.dtype and mine.tobytes() == value.tobytes(), (i, key)
            else:
                assert mine == value, (i, key)


def test_read_only_params_are_refused_at_construction():
    p = np.ones(3)
    p.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        optim.Adam([p])
    with pytest.raises(ValueError, match="writeable"):
        optim.Adam([np.broadcast_to(np.ones(3), (2, 3))])


@pytest.mark.parametrize("path", PATHS)
def test_a_param_made_read_only_later_is_refused_before_anything_changes(path):
    params = [np.ones(3), np.full((2, 2), 2.0)]
    opt = optim.Adam(params, lr=0.1, execution=path)
    opt.step([np.ones(3), np.ones((2, 2))])
    params[1].flags.writeable = False
    snapshot = _snapshot(opt, params)
    with pytest.raises(ValueError, match="writeable"):
        opt.step([np.ones(3), np.ones((2, 2))])
    _assert_nothing_changed(opt, params, snapshot)


def test_a_param_whose_elements_overlap_is_refused():
    base = np.zeros(4)
    overlapping = np.lib.stride_tricks.as_strided(base, shape=(3, 3), strides=(8, 8))
    assert overlapping.flags.writeable
    with pytest.raises(ValueError, match="overlap"):
        optim.SGD([overlapping], lr=0.1)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_ndarray_subclasses_are_updated_in_place_and_masked_arrays_refused():
    m = np.asmatrix(np.ones((2, 2)))
    opt = optim.SGD([m], lr=0.5)
    opt.step([np.ones((2, 2))])
    np.testing.assert_array_equal(np.asarray(m), np.full((2, 2), 0.5))
    with pytest.raises(TypeError, match="masked"):
        optim.SGD([np.ma.masked_array(np.ones(3), mask=[0, 1, 0])], lr=0.1)


@pytest.mark.parametrize("path", ["workspace", "fused", "functional"])
def test_a_masked_gradient_is_refused_before_any_change(path):
    """The update would read the masked entries as numbers: refused, at every step (the step's
    kept checks do not cover gradients, which change every step)."""
    p = np.ones(3)
    opt = optim.Adam([p], lr=0.1, execution=path)
    opt.step([np.ones(3)])
    before = p.copy(), opt.state_dict()
    with pytest.raises(TypeError, match="grads must not be masked arrays"):
        opt.step([np.ma.masked_array(np.ones(3), mask=[0, 1, 0])])
    np.testing.assert_array_equal(p, before[0])
    assert opt.state[0].t == before[1]["state"][0]["step"]


# ---------------------------------------------------------------------------------------
# All-or-nothing steps: inject each failure in the last group / the last param.
# ---------------------------------------------------------------------------------------

def _two_groups(path, name="Adam"):
    params = [np.asfortranarray(_values((3, 2), np.float64, 1)), _values(_shape(name, 4), np.float64, 2),
              _values((2, 2), np.float64, 3).T, _values(_shape(name, 3), np.float64, 4)]
    opt = optim.CLASSES[name]([{"params": params[:2]}, {"params": params[2:], "lr": 0.01}],
                                       lr=0.1, execution=path)
    grads = [np.ones_like(p) for p in params]
    opt.step(grads)
    opt.step([-g for g in grads])
    return opt, params, grads


def _group_edit(key, value):
    def edit(opt, params, grads):
        opt.param_groups[-1][key] = value
        return grads
    return edit


def _grad_edit(make):
    def edit(opt, params, grads):
        return grads[:-1] + [make(grads[-1])]
    return edit


def _param_edit(make):
    def edit(opt, params, grads):
        opt.param_groups[-1]["params"][-1] = make(params)
        return grads
    return edit


def _read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


FAILURES = {
    "negative lr": (_group_edit("lr", -1.0), ValueError, "Invalid learning rate: -1.0"),
    "nan lr": (_group_edit("lr", float("nan")), ValueError, "Invalid learning rate: nan"),
    "string lr": (_group_edit("lr", "0.1"), TypeError, "lr"),
    "None lr": (_group_edit("lr", None), TypeError, "lr"),
    "list lr": (_group_edit("lr", [0.1]), TypeError, "lr"),
    "complex lr": (_group_edit("lr", 0.1 + 1j), TypeError, "lr"),
    "bool lr": (_group_edit("lr", True), TypeError, "lr"),
    "1-d array lr": (_group_edit("lr", np.array([0.1])), TypeError, "lr"),
    "complex 0-d lr": (_group_edit("lr", np.array(0.1 + 1j)), TypeError, "lr"),
    "bad beta": (_group_edit("betas", (0.9, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
    "string beta": (_group_edit("betas", (0.9, "0.99")), TypeError, "beta"),
    "one beta": (_group_edit("betas", (0.9,)), ValueError, "betas"),
    "string eps": (_group_edit("eps", "1e-8"), TypeError, "eps"),
    "non-bool amsgrad": (_group_edit("amsgrad", 1), TypeError, "bool"),
    "amsgrad switched on": (_group_edit("amsgrad", True), ValueError, "max_exp_avg_sq"),
    "grad of another shape": (_grad_edit(lambda g: np.ones(4)), ValueError, "shape"),
    "grad of another dtype": (_grad_edit(lambda g: g.astype(np.float32)), TypeError, "float32"),
    "integer grad": (_grad_edit(lambda g: g.astype(np.int64)), TypeError, "int64"),
    "list grad": (_grad_edit(lambda g: g.tolist()), TypeError, "list"),
    "None grad": (_grad_edit(lambda g: None), TypeError, "NoneType"),
    "complex grad": (_grad_edit(lambda g: g.astype(complex)), TypeError, "complex"),
    "too few grads": (lambda opt, params, grads: grads[:-1], ValueError, "3 gradients for 4"),
    "read-only param": (_param_edit(lambda ps: _read_only(ps[-1])), ValueError, "writeable"),
    "integer param": (_param_edit(lambda ps: np.arange(3)), TypeError, "int"),
    "duplicate param": (_param_edit(lambda ps: ps[0]), ValueError, "more than one"),
    "overlapping param": (_param_edit(lambda ps: ps[1][1:]), ValueError, "overlap"),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("failure", FAILURES)
def test_a_failing_step_changes_nothing(failure, path):
    edit, error, match = FAILURES[failure]
    opt, params, grads = _two_groups(path)
    bad_grads = edit(opt, params, [g.copy() for g in grads])
    snapshot = _snapshot(opt, params + opt.param_groups[-1]["params"][-1:])
    with pytest.raises(error, match=match):
        opt.step(bad_grads)
    _assert_nothing_changed(opt, params + opt.param_groups[-1]["params"][-1:], snapshot)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("path", PATHS)
def test_an_invalid_lr_in_the_second_group_changes_nothing(name, path):
    opt, params, grads = _two_groups(path, name)
    for bad, error in ((-1.0, ValueError), ("0.1", TypeError), (None, TypeError), (0.1j, TypeError)):
        opt.param_groups[1]["lr"] = bad
        snapshot = _snapshot(opt, params)
        with pytest.raises(error):
            opt.step(grads)
        _assert_nothing_changed(opt, params, snapshot)
    opt.param_groups[1]["lr"] = 0.01    # fixed by the user: the next step works
    opt.step(grads)


# ---------------------------------------------------------------------------------------
# Hyperparameter types at construction.
# ---------------------------------------------------------------------------------------

BAD_VALUES = {"string": "0.1", "None": None, "list": [0.1], "complex": 0.1 + 0.2j, "bool": True,
              "1-d array": np.array([0.1]), "complex numpy": np.complex128(0.1),
              "string array": np.array("0.1")}
FLOAT_KEYS = sorted({(name, key) for name, cls in optim.CLASSES.items()
                     for key, value in cls.defaults.items() if isinstance(value, float)})


@pytest.mark.parametrize("bad", BAD_VALUES)
@pytest.mark.parametrize("name,key", FLOAT_KEYS)
def test_a_hyperparameter_that_is_not_a_real_number_is_refused_at_construction(name, key, bad):
    cls = optim.CLASSES[name]
    label = "Invalid learning rate" if key == "lr" else f"Invalid {key} value"   # torch's wording
    message = f"^{re.escape(label)}: .*{key} must be a real number"
    with pytest.raises(TypeError, match=message):
        cls([np.ones(_shape(cls, 2))], **{key: BAD_VALUES[bad]})
    opt = cls([np.ones(_shape(cls, 2))])
    with pytest.raises(TypeError, match=message):
        opt.add_param_group({"params": [np.ones(_shape(cls, 2))], key: BAD_VALUES[bad]})
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("name", NAMES)
def test_pair_hyperparameters_are_pairs_of_real_numbers(name):
    cls = optim.CLASSES[name]
    for key, value in cls.defaults.items():
        if not isinstance(value, tuple):
            continue
        for bad in (None, "ab", (value[0],), (value[0], "x"), (value[0], 1j), value[0]):
            with pytest.raises((TypeError, ValueError), match=key.rstrip("s")):
                cls([np.ones(_shape(cls, 2))], **{key: bad})
        cls([np.ones(_shape(cls, 2))], **{key: list(value)})   # a list of two numbers is a pair, as in torch


def test_the_functional_init_refuses_non_numbers():
    for bad in BAD_VALUES.values():
        with pytest.raises(TypeError, match="lr"):
            optim.adam.init(np.ones(2), lr=bad)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", NAMES)
def test_a_zero_d_array_lr_is_its_float_value(name, path):
    # torch accepts a 0-d tensor lr; a 0-d array lr here is the same as its float value.
    cls = optim.CLASSES[name]
    a, b = _values(_shape(cls, 5), np.float32, 1), _values(_shape(cls, 5), np.float32, 1)
    opt_a = cls([a], lr=np.array(0.05), execution=path)
    opt_b = cls([b], lr=0.05, execution=path)
    for k in range(3):
        g = _values(_shape(cls, 5), np.float32, 10 + k)
        opt_a.step([g])
        opt_b.step([g])
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    p = np.ones(3, np.float32)
    _, q = optim.adam.update(optim.adam.init(p, lr=np.array(0.1)), p, np.ones(3, np.float32))
    _, r = optim.adam.update(optim.adam.init(p, lr=0.1), p, np.ones(3, np.float32))
    np.testing.assert_array_equal(q, r)
    with pytest.raises(ValueError) as as_float:    # torch's message ("Invalid learning rate: -1.0" for
        cls([np.ones(_shape(cls, 2))], lr=-1.0)   # most, "Learning rate should be >= 0 …" for Adafactor, Muon)
    assert str(as_float.value).endswith(": -1.0")
    with pytest.raises(ValueError, match=f"^{re.escape(str(as_float.value))}$"):   # the 0-d array's: the same
        cls([np.ones(_shape(cls, 2))], lr=np.array(-1.0))


# ---------------------------------------------------------------------------------------
# Duplicates and overlapping views.
# ---------------------------------------------------------------------------------------

def test_the_same_array_twice_in_a_group_is_refused():
    p = np.ones(3)
    with pytest.raises(ValueError, match="duplicate"):
        optim.SGD([p, p], lr=0.1)


def test_the_same_array_in_two_groups_is_refused():
    p = np.ones(3)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [np.ones(2), p]})
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("views", [
    lambda x: (x[:3], x[2:]),
    lambda x: (x, x[::2]),
    lambda x: (x.reshape(2, 3), x[1:4]),
    lambda x: (x.reshape(2, 3).T, x.reshape(2, 3)[:, 1]),
])
def test_overlapping_views_of_one_buffer_are_refused(views):
    a, b = views(np.zeros(6))
    with pytest.raises(ValueError, match="overlap"):
        optim.SGD([a, b], lr=0.1)
    with pytest.raises(ValueError, match="overlap"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="overlap"):
        opt.add_param_group({"params": [b]})


@pytest.mark.parametrize("path", PATHS)
def test_disjoint_views_of_one_buffer_are_updated_each_once(path):
    base = np.arange(12, dtype=np.float64)
    views = [base[0::2], base[1::2].reshape(2, 3)]   # interleaved, disjoint
    opt = optim.SGD(views, lr=0.5, execution=path)
    opt.step([np.ones(6), np.ones((2, 3))])
    np.testing.assert_array_equal(base, np.arange(12) - 0.5)


# ---------------------------------------------------------------------------------------
# Strict load_state_dict.
# ---------------------------------------------------------------------------------------

def _trained(name="Adam", **options):
    params = [_values((2, 3), np.float32, 1), _values(_shape(name, 4), np.float32, 2),
              _values(_shape(name, 3), np.float32, 3)]
    opt = optim.CLASSES[name]([{"params": params[:2]}, {"params": params[2:], "lr": 0.01}],
                                       lr=0.1, **options)
    for k in range(2):
        opt.step([_values(p.shape, np.float32, 10 + k) for p in params])
    return opt, params


def _set(path, value):
    def corrupt(sd):
        target = sd
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value
    return corrupt


def _delete(path):
    def corrupt(sd):
        target = sd
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return corrupt


def _json(sd):
    def encode(x):
        return x.tolist() if isinstance(x, np.ndarray) else x
    text = json.dumps({"state": {i: {k: encode(v) for k, v in e.items()} for i, e in sd["state"].items()},
                       "param_groups": sd["param_groups"]})
    loaded = json.loads(text)
    sd.clear()
    sd.update(loaded)


CORRUPTIONS = {
    "missing state": (_delete(("state",)), ValueError, "state"),
    "missing param_groups": (_delete(("param_groups",)), ValueError, "param_groups"),
    "extra top-level key": (_set(("extra",), 1), ValueError, "extra"),
    "not a dict": (lambda sd: sd.update(state=[]), TypeError, "state"),
    "one group fewer": (_set(("param_groups",), lambda g: g[:1]), ValueError, "parameter groups"),
    "a param fewer": (_set(("param_groups", 1, "params"), lambda ps: ps[:0]), ValueError, "size"),
    "duplicate param index": (_set(("param_groups", 1, "params"), [0]), ValueError,
                              r"saved param index \[0\] appears more than once"),
    "string param index": (_set(("param_groups", 1, "params"), ["2"]), TypeError, "index"),
    "group without params": (_delete(("param_groups", 1, "params")), TypeError,
                             "needs 'params', a list of param indices"),
    "params an int": (_set(("param_groups", 1, "params"), 2), TypeError, "needs 'params', a list"),
    "missing buffer": (_delete(("state", 2, "exp_avg")), ValueError, "exp_avg"),
    "missing step": (_delete(("state", 2, "step")), ValueError, "step"),
    "missing max_exp_avg_sq": (_delete(("state", 2, "max_exp_avg_sq")), ValueError, "max_exp_avg_sq"),
    "unknown buffer": (_set(("state", 2, "momentum_buffer"), np.zeros(3, np.float32)), ValueError,
                       "momentum_buffer"),
    "list buffer": (_set(("state", 2, "exp_avg"), lambda a: a.tolist()), TypeError, "exp_avg"),
    "buffer of another shape": (_set(("state", 2, "exp_avg"), np.zeros(4, np.float32)), ValueError,
                                "shape"),
    "buffer of another dtype": (_set(("state", 2, "exp_avg_sq"), np.zeros(3)), TypeError, "float64"),
    "integer buffer": (_set(("state", 2, "exp_avg"), np.zeros(3, np.int32)), TypeError, "int32"),
    "string step": (_set(("state", 2, "step"), "2"), TypeError, "step"),
    "negative step": (_set(("state", 2, "step"), -1), ValueError, "step"),
    "fractional step": (_set(("state", 2, "step"), 1.5), ValueError, "step"),
    "None step": (_set(("state", 2, "step"), None), TypeError, "step"),
    "state of an unknown param": (_set(("state", 7), {}), ValueError, "7"),
    "string state key": (lambda sd: sd["state"].update({"2": sd["state"].pop(2)}), TypeError, "JSON"),
    "string lr": (_set(("param_groups", 1, "lr"), "0.1"), TypeError, "lr"),
    "negative lr": (_set(("param_groups", 1, "lr"), -0.1), ValueError, "Invalid learning rate"),
    "unknown group key": (_set(("param_groups", 1, "momentum"), 0.9), ValueError, "momentum"),
    "missing group key": (_delete(("param_groups", 1, "eps")), ValueError, "eps"),
    "amsgrad off with its buffer": (_set(("param_groups", 1, "amsgrad"), False), ValueError,
                                    "max_exp_avg_sq"),
    "JSON round trip": (_json, TypeError, "JSON"),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_load_state_dict_refuses_a_bad_state_dict_and_changes_nothing(corruption):
    corrupt, error, match = CORRUPTIONS[corruption]
    opt, params = _trained(amsgrad=True)
    twin, twin_params = _trained(amsgrad=True)
    snapshot = _snapshot(opt, params)
    bad = copy.deepcopy(opt.state_dict())
    corrupt(bad)
    with pytest.raises(error, match=match):
        opt.load_state_dict(bad)
    _assert_nothing_changed(opt, params, snapshot)
    grads = [np.full(p.shape, 0.5, np.float32) for p in params]
    opt.step(grads)
    twin.step(grads)
    for p, q in zip(params, twin_params):
        assert p.tobytes() == q.tobytes()


def test_load_state_dict_accepts_torchs_execution_options_and_a_list_for_betas():
    opt, params = _trained()
    sd = copy.deepcopy(opt.state_dict())
    for group in sd["param_groups"]:
        group.update(foreach=None, fused=None, capturable=False, differentiable=False)
        group["betas"] = list(group["betas"])
    fresh = optim.Adam([{"params": [p.copy() for p in params[:2]]}, {"params": [params[2].copy()]}])
    fresh.load_state_dict(sd)
    assert fresh.state[0].t == 2


def test_a_param_without_state_may_stay_without_state():
    opt, params = _trained("SGD", momentum=0.9)
    sd = copy.deepcopy(opt.state_dict())
    del sd["state"][1]                     # as if it had never had a gradient
    opt.load_state_dict(sd)
    assert 1 not in opt.state
    sd = copy.deepcopy(opt.state_dict())
    del sd["state"][0]["momentum_buffer"]  # but a stepped SGD with momentum has its buffer
    with pytest.raises(ValueError, match="momentum_buffer"):
        opt.load_state_dict(sd)
    plain, _ = _trained("SGD")             # without momentum there is no buffer at all
    plain.load_state_dict(copy.deepcopy(plain.state_dict()))


@pytest.mark.parametrize("name", NAMES)
def test_a_state_dict_round_trip_is_accepted_and_exact(name):
    opt, params = _trained(name, **OPTIONS[name])
    sd = copy.deepcopy(opt.state_dict())
    resumed_params = [p.copy() for p in params]
    resumed = optim.CLASSES[name]([{"params": resumed_params[:2]}, {"params": resumed_params[2:]}],
                                           lr=0.1, **OPTIONS[name])
    resumed.load_state_dict(sd)
    grads = [np.full(p.shape, 0.25, np.float32) for p in params]
    opt.step(grads)
    resumed.step(grads)
    for p, q in zip(params, resumed_params):
        assert p.tobytes() == q.tobytes()


# ---------------------------------------------------------------------------------------
# The functional layout check compares every buffer with params.
# ---------------------------------------------------------------------------------------

FUNCTIONAL_OPTIONS = {
    "SGD": dict(momentum=0.9), "MomentumSGD": dict(), "Adam": dict(amsgrad=True), "AdamW": dict(amsgrad=True),
    "Adadelta": dict(), "Adagrad": dict(), "RMSprop": dict(centered=True, momentum=0.5), "Adamax": dict(),
    "NAdam": dict(), "RAdam": dict(), "Rprop": dict(), "ASGD": dict(), "Lion": dict(), "SGDScheduleFree": dict(), "AdamWScheduleFree": dict(),
    "LARS": dict(), "LAMB": dict(), "Adafactor": dict(), "Muon": dict(),
}


def _buffer_shapes(module):
    """A vector, and a matrix where the buffers follow the param's rank (Adafactor's row and column
    factors; Muon takes matrices only)."""
    return [shape for shape in ((3,), (3, 4))
            if takes_rank(module, len(shape)) and (len(shape) == 1 or by_rank(module))]


def _buffer_cases():
    for name, module in optim.OPTIMIZERS.items():
        for shape in _buffer_shapes(module):
            p = np.ones(shape)
            state, _ = module.update(module.init(p, **FUNCTIONAL_OPTIONS[name]), p, np.ones(shape))
            for f in fields(state):
                if isinstance(getattr(state, f.name), np.ndarray):
                    yield name, shape, f.name


BUFFER_CASES = list(_buffer_cases())
MALFORMED = {"shape": (lambda b: np.zeros(4), ValueError), "row": (lambda b: b[np.newaxis], ValueError),
             "dtype": (lambda b: b.astype(np.float32), TypeError), "list": (lambda b: b.tolist(), TypeError),
             "int": (lambda b: b.astype(np.int64), TypeError), "scalar": (lambda b: np.float64(0), ValueError)}


@pytest.mark.parametrize("malformed", MALFORMED)
@pytest.mark.parametrize("name,shape,buffer", BUFFER_CASES,
                         ids=[f"{n}-{'x'.join(map(str, s))}-{b}" for n, s, b in BUFFER_CASES])
def test_every_state_buffer_is_checked_against_params(name, shape, buffer, malformed):
    module = optim.OPTIMIZERS[name]
    p, g = np.ones(shape), np.ones(shape)
    state, _ = module.update(module.init(p, **FUNCTIONAL_OPTIONS[name]), p, g)
    make, error = MALFORMED[malformed]
    bad = replace(state, **{buffer: make(getattr(state, buffer))})
    with pytest.raises(error, match=buffer if malformed != "list" else "list"):
        module.update(bad, p, g)
    np.testing.assert_array_equal(p, np.ones(shape))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("aliasing", ["shifted", "itself", "other_param"])
def test_a_grad_on_a_params_memory_is_read_before_it_is_written(path, aliasing):
    base = _values(12, np.float64, 5)
    if aliasing == "shifted":      # grad = the same buffer two elements further
        params, grads = [base[:8]], lambda: [base[2:10]]
    elif aliasing == "itself":     # the param is its own gradient
        params, grads = [base[:8]], lambda: [base[:8]]
    else:                          # the second param's grad is the first param
        params, grads = [base[:6], base[6:]], lambda: [np.ones(6), base[:6]]
    expected = []
    for p, g in zip(params, grads()):
        ref, _ = _reference(optim.Adam, {**optim.Adam.defaults, "lr": 0.1}, p.copy(), [g.copy()])
        expected.append(ref)
    opt = optim.Adam(params, lr=0.1, execution=path)
    opt.step(grads())
    for p, ref in zip(params, expected):
        _assert_close(p, ref, path)


# ---------------------------------------------------------------------------------------
# Adagrad: torch builds the state in __init__ and reads initial_accumulator_value from the
# constructor only (a param group's value is silently ignored by torch): ours builds the same
# state and refuses a group value that torch would ignore, before anything changes.
# ---------------------------------------------------------------------------------------
def test_adagrad_has_torchs_state_right_after_construction():
    a, b = np.zeros((2, 3)), np.zeros(4, np.float32)
    opt = optim.Adagrad([a, b], lr=0.1, initial_accumulator_value=0.25)
    sd = opt.state_dict()["state"]
    assert sorted(sd) == [0, 1]
    for index, p in enumerate((a, b)):      # torch: step = tensor(0.), sum = full_like(p, 0.25)
        assert sd[index]["step"] == 0
        assert sd[index]["sum"].dtype == p.dtype
        np.testing.assert_array_equal(sd[index]["sum"], np.full(p.shape, 0.25))
    opt.add_param_group({"params": [np.zeros(2)], "lr": 0.5})   # torch: no state before its first step
    assert sorted(opt.state_dict()["state"]) == [0, 1]
    opt.step([np.ones((2, 3)), np.ones(4, np.float32), np.ones(2)])
    # sum = 0.25 + 1 for the first params; the added one starts at the constructor's 0.25 too
    for index in range(3):
        np.testing.assert_array_equal(opt.state_dict()["state"][index]["sum"], 1.25)


def test_a_group_initial_accumulator_value_that_torch_ignores_is_refused():
    with pytest.raises(ValueError, match="initial_accumulator_value from its constructor only"):
        optim.Adagrad([{"params": [np.zeros(2)], "initial_accumulator_value": 0.5}], lr=0.1)
    same = optim.Adagrad([{"params": [np.zeros(2)], "initial_accumulator_value": 0.5}],
                         initial_accumulator_value=0.5)            # the constructor's own value: fine
    assert same.state[0].sum.tolist() == [0.5, 0.5]
    params = [np.zeros(2), np.ones(3)]
    opt = optim.Adagrad(params, lr=0.1)
    before = _snapshot(opt, params)
    with pytest.raises(ValueError, match="this group has 0.7, the optimizer 0.0"):
        opt.add_param_group({"params": [np.zeros(2)], "initial_accumulator_value": 0.7})
    assert len(opt.param_groups) == 1
    opt.param_groups[0]["initial_accumulator_value"] = 0.3        # written by hand after construction
    with pytest.raises(ValueError, match="constructor only"):
        opt.step([np.ones(2), np.ones(3)])
    opt.param_groups[0]["initial_accumulator_value"] = 0.0
    _assert_nothing_changed(opt, params, before)
    sd = copy.deepcopy(opt.state_dict())
    sd["param_groups"][0]["initial_accumulator_value"] = 0.3
    with pytest.raises(ValueError, match="constructor only"):
        opt.load_state_dict(sd)
    _assert_nothing_changed(opt, params, before)


# ---------------------------------------------------------------------------------------
# Boolean options choose the code path: only a bool (or a NumPy bool) is one.  torch takes
# any truthy value, so amsgrad="no" would silently turn amsgrad on.
# ---------------------------------------------------------------------------------------
WITHOUT_MAXIMIZE = {"Muon"}   # torch.optim.Muon has no maximize (test_defaults checks ours against torch's)


@pytest.mark.parametrize("name", [n for n in NAMES   # (the others have no bool option)
                                  if any(isinstance(v, bool) for v in optim.CLASSES[n].defaults.values())])
def test_an_option_that_is_not_a_bool_is_refused_and_a_numpy_bool_is_its_value(name):
    cls = optim.CLASSES[name]
    options = [k for k, v in cls.defaults.items() if isinstance(v, bool)]
    assert "maximize" in options or name not in optim.TORCH_OPTIMIZERS or name in WITHOUT_MAXIMIZE
    shape = _shape(cls, 3)
    grad = np.resize([0.5, -1.0, 2.0], shape)
    for key in options:
        extra = dict(momentum=0.9) if key == "nesterov" else {}
        for bad in ("no", 1, 0, None, 1.0, [True]):
            with pytest.raises(TypeError, match="bool"):
                cls([np.ones(_shape(cls, 2))], lr=0.1, **extra, **{key: bad})
        params = [np.ones(shape), np.ones(shape)]
        numpy_bool = cls([params[0]], lr=0.1, **extra, **{key: np.bool_(True)})
        plain = cls([params[1]], lr=0.1, **extra, **{key: True})
        for _ in range(2):
            numpy_bool.step([grad.copy()])
            plain.step([grad.copy()])
        assert params[0].tobytes() == params[1].tobytes(), key
        before = _snapshot(plain, params[1:])
        plain.param_groups[0][key] = "yes"          # written into the group later: refused at the step
        with pytest.raises(TypeError, match="bool"):
            plain.step([np.ones(shape)])
        plain.param_groups[0][key] = True
        _assert_nothing_changed(plain, params[1:], before)
    with pytest.raises(TypeError, match="bool"):
        cls.family.init(np.ones(_shape(cls, 2)), **{options[0]: "no"})


@pytest.mark.parametrize("family", [f.module for f in optim.registry.FAMILIES],
                         ids=[f.name for f in optim.registry.FAMILIES])
def test_the_functional_init_refuses_a_nan_hyperparameter(family):
    """Every real argument of every init: NaN is a ValueError (torch's message where torch
    has a check; ours where torch has none and would fill the params with NaN)."""
    import inspect
    options = optim.fields.declarations(family.State).of(optim.fields.FLAG)   # flags and options
    reals = [n for n, p in inspect.signature(family.init).parameters.items()
             if n != "params" and not isinstance(p.default, bool) and n not in options]
    assert "lr" in reals
    for name in reals:
        with pytest.raises(ValueError, match="nan"):
            family.init(np.ones(2), **{name: float("nan")})
    for name in [n for n, d in options.items() if not isinstance(d.default, bool)]:   # Muon's ns_steps (an
        with pytest.raises((TypeError, ValueError), match="nan"):                     # int), adjust_lr_fn (a
            family.init(np.ones(2), **{name: float("nan")})                            # name): not numbers


@pytest.mark.parametrize("group", [[np.zeros(2)], (("params", [np.zeros(2)]),), np.zeros(2), None],
                         ids=["a list of arrays", "pairs", "an array", "None"])
def test_add_param_group_refuses_what_is_not_a_dict_and_adds_nothing(group):
    opt = optim.Adam([np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="a param group must be a dict"):
        opt.add_param_group(group)
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("name", sorted(optim.CLASSES))
@pytest.mark.parametrize("kind", [np.float32, np.float64, np.int64, "0-d"])
def test_a_loaded_scalar_of_numpy_type_steps_as_its_python_value(name, kind):
    """A state dict converted from torch with ``.numpy()`` holds NumPy scalars (np.float32
    steps, mu_products, etas).  torch reads them with ``.item()``; so do we: β ** np.float32(t)
    would compute the bias correction in float32 and silently change every param."""
    rng = np.random.default_rng(2)
    start = rng.standard_normal(_shape(name, 10, 5)).astype(np.float32)   # 50 entries
    grads = [rng.standard_normal(start.shape).astype(np.float32) for _ in range(3)]
    first = optim.CLASSES[name]([start.copy()], lr=0.01, **({"momentum": 0.9} if name == "SGD" else {}))
    first.step([grads[0]])
    saved = first.state_dict()
    results = []
    for convert in (False, True):
        state = copy.deepcopy(saved)
        if convert:
            for key, value in state["state"][0].items():
                # a conversion that keeps the value (schedule-free's float64 weight_sum is no float32)
                if (not isinstance(value, np.ndarray) and (kind != np.int64 or key == "step")
                        and (kind == "0-d" or float(kind(value)) == value)):
                    state["state"][0][key] = np.array(value) if kind == "0-d" else kind(value)
        p = first.param_groups[0]["params"][0].copy()
        opt = optim.CLASSES[name]([p], **first.defaults)
        opt.load_state_dict(state)
        for g in grads[1:]:
            opt.step([g])
        results.append((p, opt.state_dict()))
    np.testing.assert_array_equal(results[0][0], results[1][0], strict=True)
    for key, value in results[0][1]["state"][0].items():
        other = results[1][1]["state"][0][key]
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, other, strict=True)
        else:
            assert type(other) is type(value) and other == value, key


def test_an_unknown_hyperparameter_in_an_added_group_is_named():
    opt = optim.Adam([np.ones(3)], lr=0.1)
    with pytest.raises(TypeError, match=r"unexpected hyperparameters in a param group: \['momentum'\]"):
        opt.add_param_group({"params": [np.ones(2)], "momentum": 0.9})
    assert len(opt.param_groups) == 1


def test_the_fused_execution_without_numba_is_refused_at_construction(monkeypatch):
    """Never a silent fallback to another execution: without numba, execution='fused' is an
    ImportError when the optimizer is built; the default execution does not need numba."""
    import sys
    monkeypatch.setitem(sys.modules, "numba", None)   # import numba now raises ImportError
    with pytest.raises(ImportError, match="execution='fused' needs numba"):
        optim.Adam([np.ones(3)], lr=0.1, execution="fused")
    p = np.ones(3)
    optim.Adam([p], lr=0.1).step([np.ones(3)])
    assert np.all(p < 1)


def test_a_fused_kernel_that_cannot_be_generated_in_a_later_group_changes_nothing(monkeypatch):
    """Every group's kernel is generated (or refused) before any param is written."""
    pytest.importorskip("numba") if os.environ.get("CI") != "true" else None
    from optim import trace
    first, second = np.ones(4), np.ones(4)
    opt = optim.Adam([{"params": [first]}, {"params": [second], "amsgrad": True}], lr=0.1, execution="fused")
    monkeypatch.delitem(trace._EXPRESSIONS, "maximum")   # amsgrad's max(v_max, v) has no code now
    monkeypatch.setattr(trace, "_KERNELS", {})
    with pytest.raises(trace.NotFusable, match="maximum"):
        opt.step([np.ones(4), np.ones(4)])
    assert np.all(first == 1) and np.all(second == 1) and opt.state == {}


@pytest.mark.parametrize("name,key,pair", [("Adam", "betas", (0.8, 0.99)), ("Rprop", "etas", (0.4, 1.3)),
                                           ("Rprop", "step_sizes", (1e-5, 10.0))])
def test_a_pair_given_as_a_numpy_array_is_its_two_values(name, key, pair):
    """torch takes a pair (betas, etas, step_sizes) as a tuple, a list or a 1-D tensor; a 1-D NumPy
    array of two numbers is the same two values, with the same steps."""
    results = []
    for value in (pair, list(pair), np.array(pair)):
        p = np.linspace(-1, 1, 6)
        opt = optim.CLASSES[name]([p], lr=0.01, **{key: value})
        for g in (np.ones(6), -np.ones(6), np.ones(6)):
            opt.step([g])
        results.append(p)
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other, strict=True)
    with pytest.raises(TypeError, match=f"{key} must be a pair"):
        optim.CLASSES[name]([np.ones(2)], **{key: np.array([[pair[0], pair[1]]])})


def test_a_group_without_params_is_refused_with_its_own_message():
    opt = optim.Adam([np.ones(3)], lr=0.1)
    with pytest.raises(ValueError, match="a param group needs its 'params'"):
        opt.add_param_group({"lr": 0.01})
    with pytest.raises(ValueError, match="a param group needs its 'params'"):
        optim.Adam([{"lr": 0.01}])
    assert len(opt.param_groups) == 1


def test_a_size_one_axis_of_any_stride_is_not_an_overlap():
    """A size-1 axis may have any stride (NumPy gives some new axes stride 0); its one index never
    repeats an element, so such a view is a param like any other, updated in place."""
    from numpy.lib.stride_tricks import as_strided
    base = np.linspace(-1, 1, 6)
    for view in (base[None], as_strided(base, (1, 6), (0, 8), writeable=True),
                 as_strided(base, (6, 1), (8, 0), writeable=True), as_strided(base, (2, 1, 3), (24, 8, 8), writeable=True)):
        expected = view.copy()
        opt = optim.SGD([view], lr=0.5)
        opt.step([np.ones(view.shape)])
        np.testing.assert_array_equal(view, expected - 0.5)
        base[:] = np.linspace(-1, 1, 6)


# -- every refusal of the shell, by its message (mutant samples: a refusal no test reaches is a
#    check that can be dropped unnoticed) -------------------------------------------------------
CONSTRUCTION_REFUSALS = [   # (constructor call, error, torch's or our message)
    (lambda: optim.Adam([np.ones(2)], 0.1, lr=0.2), TypeError, "Adam got multiple values for argument 'lr'"),
    (lambda: optim.Adam(np.ones(2)), TypeError, "params argument given to the optimizer should be an iterable"),
    (lambda: optim.Adam({"params": [np.ones(2)]}), TypeError, "should be an iterable of arrays or dicts, but got dict"),
    (lambda: optim.Adam({1, 2}), TypeError, "should be an iterable of arrays or dicts, but got set"),
    (lambda: optim.Adam([]), ValueError, "optimizer got an empty parameter list"),
    (lambda: optim.Adam([np.ones(2)], execution="eager"), ValueError, "execution must be one of"),
    (lambda: optim.Adam([np.ones(2)], 0.1, (0.9, 0.99), 1e-8, 0.0, False, True), TypeError,
     "Adam takes at most 5 positional hyperparameters"),
]


@pytest.mark.parametrize("make,error,message", CONSTRUCTION_REFUSALS, ids=[m for _, _, m in CONSTRUCTION_REFUSALS])
def test_every_construction_refusal_has_its_message(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_a_set_of_params_in_an_added_group_is_refused_and_adds_nothing():
    opt = optim.Adam([np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {1}})
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("path", PATHS)
def test_step_given_one_array_instead_of_a_list_of_grads_is_refused(path):
    p = np.ones(3)
    opt = optim.SGD([p], lr=0.5, execution=path)
    with pytest.raises(TypeError, match=re.escape("step() takes a list of gradients, one per parameter")):
        opt.step(np.ones(3))
    assert np.all(p == 1) and opt.state == {}


def test_a_state_dict_of_the_wrong_types_is_refused_by_its_message():
    opt, params = _trained()
    snapshot = _snapshot(opt, params)
    sd = opt.state_dict()
    for bad, message in [([], "a state dict is a dict, got list"),
                         ({**sd, "param_groups": [1]}, "the state dict's 'param_groups' must be a list of dicts"),
                         ({**sd, "param_groups": "g"}, "the state dict's 'param_groups' must be a list of dicts"),
                         ({**sd, "state": {**sd["state"], 0: [1]}}, "saved state of parameter 0 must be a dict")]:
        with pytest.raises(TypeError, match=re.escape(message)):
            opt.load_state_dict(bad)
        _assert_nothing_changed(opt, params, snapshot)


def test_the_repr_lists_each_group_and_its_hyperparameters():
    opt = optim.SGD([{"params": [np.ones(2)]}, {"params": [np.ones(3)], "lr": 0.25}], lr=0.5, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and text.endswith("\n)")
    first, second = text.split("Parameter Group 1")
    assert "    lr: 0.5" in first and "    momentum: 0.9" in first and "    lr: 0.25" in second
    assert "params" not in text


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
@pytest.mark.parametrize("path", PATHS)
def test_a_grad_of_an_ndarray_subclass_is_its_elements(path):
    """np.matrix grads (``*`` is a matrix product there) and memmaps step as plain arrays."""
    expected, actual = np.linspace(-1, 1, 6).reshape(2, 3), np.linspace(-1, 1, 6).reshape(2, 3)
    g = np.arange(6.0).reshape(2, 3) / 7
    optim.Adam([expected], lr=0.1, execution=path).step([g])
    optim.Adam([actual], lr=0.1, execution=path).step([np.asmatrix(g)])
    np.testing.assert_array_equal(actual, expected, strict=True)


def test_functional_arguments_drop_the_params_of_a_group():
    assert functional_arguments({"params": [np.ones(2)], "lr": 0.1, "betas": (0.8, 0.9)}, optim.adam) == \
        {"lr": 0.1, "beta1": 0.8, "beta2": 0.9}


@pytest.mark.parametrize("path", PATHS)
def test_a_state_buffer_whose_elements_overlap_is_refused_before_anything_changes(path):
    params = [np.ones(3), np.ones(4)]
    opt = optim.SGD(params, lr=0.1, momentum=0.9, execution=path)
    opt.step([np.ones(3), np.ones(4)])
    buf = opt.state[1].buf
    opt.state[1] = replace(opt.state[1], buf=np.lib.stride_tricks.as_strided(buf, (4,), (0,), writeable=True))
    snapshot = [p.copy() for p in params], opt.state[0].buf.copy()
    with pytest.raises(ValueError, match="parameter 1's buf buffer's elements overlap in memory"):
        opt.step([np.ones(3), np.ones(4)])
    assert all(np.array_equal(p, q) for p, q in zip(params, snapshot[0]))
    assert np.array_equal(opt.state[0].buf, snapshot[1])


@pytest.mark.parametrize("path", PATHS)
def test_two_states_sharing_a_buffer_are_refused_before_anything_changes(path):
    params = [np.ones(3), np.ones(3)]
    opt = optim.SGD(params, lr=0.1, momentum=0.9, execution=path)
    opt.step([np.ones(3), np.ones(3)])
    opt.state[1] = replace(opt.state[1], buf=opt.state[0].buf)
    before = opt.state[0].buf.copy()
    with pytest.raises(ValueError, match="two arrays the step writes .* share memory"):
        opt.step([np.ones(3), np.ones(3)])
    assert np.all(params[0] == params[1]) and np.array_equal(opt.state[0].buf, before)


@pytest.mark.parametrize("path", PATHS)
def test_a_state_object_swapped_for_another_is_the_one_stepped(path):
    """Replacing ``opt.state[i]`` by a new object (same count of states) makes the next step use it."""
    p, q = np.ones(3), np.ones(3)
    opt = optim.SGD([p], lr=0.5, momentum=0.5, execution=path)
    ref = optim.SGD([q], lr=0.5, momentum=0.5, execution="functional")
    for o in (opt, ref):
        o.step([np.ones(3)])
        o.step([np.ones(3)])   # the plan of the last step is kept
        o.state[0] = replace(o.state[0], buf=np.full(3, 4.0))
        o.step([np.ones(3)])
    np.testing.assert_array_equal(p, q, strict=True)
    np.testing.assert_array_equal(p, np.ones(3) - 0.5 - 0.5 * 1.5 - 0.5 * 3.0)


FAMILIES = [f.module for f in optim.registry.FAMILIES]


# Arguments whose values are names, not numbers (Muon's adjust_lr_fn: None, "original" or
# "match_rms_adamw"): a string is of their kind, and any value but those names is torch's ValueError.
NAMED_ARGUMENTS = {(optim.muon, "adjust_lr_fn"): "Adjust learning rate function {} is not supported"}


@pytest.mark.parametrize("family", FAMILIES, ids=lambda m: m.__name__)
def test_every_init_argument_of_the_wrong_kind_is_a_type_error_naming_it(family):
    import inspect
    for name, parameter in inspect.signature(family.init).parameters.items():
        if name == "params":
            continue
        if (family, name) in NAMED_ARGUMENTS:
            for bad in ("0.5", 0.5, True):
                with pytest.raises(ValueError, match=f"^{re.escape(NAMED_ARGUMENTS[family, name].format(bad))}$"):
                    family.init(np.ones(2), **{name: bad})
            continue
        with pytest.raises(TypeError, match=name):
            family.init(np.ones(2), **{name: "0.5"})


@pytest.mark.parametrize("family", FAMILIES, ids=lambda m: m.__name__)
def test_every_update_refuses_another_familys_state(family):
    other = FAMILIES[(FAMILIES.index(family) + 1) % len(FAMILIES)]
    p = np.ones(2)
    state = other.init(p, lr=0.1)
    with pytest.raises(TypeError, match=f"{family.__name__}.update needs a {family.__name__}.State, "
                                        f"got {other.__name__}.State"):
        family.update(state, p, np.ones(2))
    assert np.all(p == 1)


def test_grads_of_another_backend_than_the_params_are_refused():
    torch = pytest.importorskip("torch") if os.environ.get("CI") != "true" else __import__("torch")
    import optim.torch_backend  # noqa: F401  (registers the torch context)
    with pytest.raises(TypeError, match="grads is a Tensor but params is a ndarray"):
        optim.adam.update(optim.adam.init(np.ones(2)), np.ones(2), torch.ones(2))


def test_the_numpy_single_precision_rounding_takes_real_numbers_only():   # no 'float32': a fast test
    from optim.numpy_backend import NUMPY
    assert NUMPY.round_float32(np.array(0.1)) == float(np.float32(0.1)) == NUMPY.round_float32(0.1)
    assert type(NUMPY.round_float32(np.array(3))) is float
    for bad in ("0.1", True, np.array([0.1]), None):
        with pytest.raises(TypeError, match="a real number was expected"):
            NUMPY.round_float32(bad)


@pytest.mark.parametrize("build", ["init", "State"])
def test_a_check_whose_message_names_the_field_is_not_prefixed_and_one_that_does_not_is(build):
    """The check's own message when it names the field (torch's wording stays exact), else
    ``field: message``; through ``init`` and through the State constructor alike."""
    p = np.ones(2)
    make = (lambda **kw: optim.adam.init(p, **kw)) if build == "init" else \
        (lambda **kw: adam_state_with(p, **kw))
    with pytest.raises(TypeError, match=r"^Invalid learning rate: 'x' \(lr must be a real number, got a str\)$"):
        make(lr="x")
    with pytest.raises(TypeError, match=r"^amsgrad: expected a bool option, got 'yes'$"):
        make(amsgrad="yes")


def adam_state_with(p, **kw):
    base = dict(lr=0.1, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.0, amsgrad=False,
                maximize=False, m=np.zeros_like(p), v=np.zeros_like(p), v_max=None, t=0)
    return optim.adam.State(**{**base, **kw})


def test_a_state_without_a_buffer_its_update_always_needs_is_refused_naming_it():
    state = replace(optim.adam.init(np.ones(2)), m=None)
    with pytest.raises(ValueError, match=r"^this state has no m buffer: build it with init\(\.\.\.\)$"):
        optim.adam.update(state, np.ones(2), np.ones(2))


def test_an_intermediate_class_without_a_family_is_a_base_for_one_with_a_family():
    class Base(optim.stateful.Optimizer):
        """A user's shared base."""

    class MyAdam(Base):
        family = optim.adam

    assert Base.defaults == {} and Base.__doc__ == "A user's shared base."
    assert MyAdam.defaults == optim.Adam.defaults and MyAdam.state_names == optim.Adam.state_names
    p = np.ones(2)
    MyAdam([p], lr=0.5).step([np.ones(2)])
    np.testing.assert_allclose(p, 0.5)


@pytest.mark.parametrize("path", PATHS)
def test_one_array_on_a_params_memory_given_as_the_grad_of_two_params(path):
    """Both grads alias param 0 (which the step writes) and each other: each is read before
    any write, as the functional path reads them."""
    results = []
    for execution in (path, "functional"):
        params = [np.linspace(-1, 1, 4), np.linspace(0, 2, 4)]
        opt = optim.Adam(params, lr=0.1, execution=execution)
        for _ in range(2):
            opt.step([params[0], params[0]])
        results.append(params)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b, strict=True)


@pytest.mark.parametrize("execution", ["workspace", "functional"])
def test_a_loaded_state_dict_is_copied_and_later_steps_leave_it_as_it_was(execution):
    """load_state_dict takes copies of the saved buffers (torch.optim deep-copies too): stepping
    afterwards never writes into the caller's state dict, nor does saving give away the buffers."""
    p = np.array([1.0, -2.0, 0.5])
    source = optim.Adam([p.copy()], lr=0.1)
    source.step([np.array([0.5, 1.0, -1.0])])
    saved = source.state_dict()
    before = {k: v.copy() for k, v in saved["state"][0].items() if isinstance(v, np.ndarray)}
    opt = optim.Adam([p], lr=0.1, execution=execution)
    opt.load_state_dict(saved)
    for _ in range(2):
        opt.step([np.array([0.25, -0.5, 2.0])])
    for key, value in before.items():
        np.testing.assert_array_equal(saved["state"][0][key], value)
    mine = opt.state_dict()
    mine["state"][0]["exp_avg"][:] = 7.0   # editing a saved copy changes nothing in the optimizer
    assert not np.any(opt.state[0].m == 7.0)
