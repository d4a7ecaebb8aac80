"""The torch-style classes: construction, validation (torch's conditions and messages, checked
against torch itself where it is installed), bad steps that change nothing, param groups."""
import os

import numpy as np
import pytest

import optim
from _families import matrix_only

try:
    import torch
except ImportError:  # the messages are also pinned below, so most tests run without torch
    torch = None

INVALID = {
    "SGD": [dict(lr=-1.0), dict(momentum=-0.5), dict(weight_decay=-0.1),
            dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1)],
    "Adam": [dict(lr=-1.0), dict(eps=-1e-8), dict(betas=(1.0, 0.999)), dict(betas=(0.9, 1.0)),
             dict(betas=(-0.1, 0.999)), dict(weight_decay=-0.1), dict(lr=float("nan"))],
    "AdamW": [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(0.9, 1.5)), dict(weight_decay=-1.0)],
    "Adadelta": [dict(lr=-1.0), dict(rho=1.5), dict(rho=-0.1), dict(eps=-1.0), dict(weight_decay=-1.0)],
    "Adagrad": [dict(lr=-1.0), dict(lr_decay=-1.0), dict(weight_decay=-1.0),
                dict(initial_accumulator_value=-1.0), dict(eps=-1.0)],
    "RMSprop": [dict(lr=-1.0), dict(eps=-1.0), dict(momentum=-1.0), dict(weight_decay=-1.0), dict(alpha=-1.0)],
    "Adamax": [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(1.0, 0.5)), dict(betas=(0.5, 1.0)),
               dict(weight_decay=-1.0)],
    "NAdam": [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(1.0, 0.5)), dict(betas=(0.5, 1.0)),
              dict(weight_decay=-1.0), dict(momentum_decay=-1.0)],
    "RAdam": [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(1.0, 0.5)), dict(betas=(0.5, 1.0)),
              dict(weight_decay=-1.0)],
    "Rprop": [dict(lr=-1.0), dict(etas=(1.5, 1.2)), dict(etas=(0.5, 0.9)), dict(etas=(0.0, 1.2)),
              dict(etas=(1.0, 1.2)), dict(etas=(0.5, 1.0))],   # every bound of 0 < η− < 1 < η+
    "ASGD": [dict(lr=-1.0), dict(weight_decay=-1.0)],
    "Adafactor": [dict(lr=-1.0), dict(beta2_decay=0.5), dict(eps=(-1.0, 1e-3)), dict(eps=(None, -1.0)),
                  dict(d=0.5), dict(weight_decay=-1.0)],
    "Muon": [dict(lr=-1.0), dict(momentum=-1.0), dict(weight_decay=-1.0), dict(adjust_lr_fn="cosine")],
}
CASES = [(name, kwargs) for name, cases in INVALID.items() for kwargs in cases]
PINNED = {  # torch.optim 2.13's messages, for machines without torch
    "SGD": ["Invalid learning rate: -1.0", "Invalid momentum value: -0.5", "Invalid weight_decay value: -0.1",
            "Nesterov momentum requires a momentum and zero dampening",
            "Nesterov momentum requires a momentum and zero dampening"],
    "Rprop": ["Invalid learning rate: -1.0", "Invalid eta values: 1.5, 1.2", "Invalid eta values: 0.5, 0.9",
              "Invalid eta values: 0.0, 1.2", "Invalid eta values: 1.0, 1.2", "Invalid eta values: 0.5, 1.0"],
}


def _shape(name, n=3):
    """A vector, or a matrix for an optimizer that takes matrices only (Muon)."""
    return (n, 2) if matrix_only(optim.TORCH_OPTIMIZERS[name]) else (n,)


def _ours_message(name, kwargs):
    with pytest.raises(ValueError) as info:
        optim.TORCH_OPTIMIZERS[name]([np.zeros(_shape(name))], **kwargs)
    return str(info.value)


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{sorted(k)}" for n, k in CASES])
def test_invalid_hyperparameters_raise_torchs_message(name, kwargs):
    ours = _ours_message(name, kwargs)
    if torch is None:
        if os.environ.get("CI") == "true":
            pytest.fail("torch is required in CI")
        pytest.skip("torch is not installed: the message is compared with torch's")
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(_shape(name), requires_grad=True)], **kwargs)
    assert ours == str(theirs.value)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_pinned_messages(name):
    assert [_ours_message(name, k) for k in INVALID[name]] == PINNED[name]


def test_validation_happens_at_construction_before_any_state():
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.Adam([np.zeros(2)], betas=(0.9, 1.0))
    opt = optim.Adam([np.zeros(2)], lr=0.1)
    assert opt.state == {} and opt.state_dict()["state"] == {}


def test_positional_hyperparameters_and_torch_execution_options():
    p = np.ones(2)
    opt = optim.Adam([p], 0.1, (0.5, 0.6), foreach=False, fused=None)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["betas"] == (0.5, 0.6)
    with pytest.raises(TypeError, match="unexpected"):
        optim.Adam([p], learning_rate=0.1)


@pytest.mark.parametrize("name", sorted(optim.TORCH_OPTIMIZERS))
def test_a_bad_step_changes_nothing(name):
    second = _shape(name, 4)
    params = [np.ones((2, 3)), np.full(second, 2.0)]
    before = [p.copy() for p in params]
    opt = optim.TORCH_OPTIMIZERS[name](params, lr=0.1)
    opt.step([np.full((2, 3), 0.5), np.full(second, -0.5)])
    after_one = [p.copy() for p in params]
    saved = opt.state_dict()
    for bad in ([np.ones((2, 3))],                                   # too few
                [np.ones((2, 3)), np.ones(5)],                       # wrong shape, second param
                [np.ones((2, 3)), np.ones(second, np.float32)]):     # wrong dtype, second param
        with pytest.raises((ValueError, TypeError)):
            opt.step(bad)
        for p, q in zip(params, after_one):
            np.testing.assert_array_equal(p, q)
        _assert_same_state(opt.state_dict(), saved)
    assert not all(np.array_equal(p, q) for p, q in zip(before, after_one))


def _assert_same_state(a, b):
    assert a["state"].keys() == b["state"].keys()
    for i in a["state"]:
        for key, value in a["state"][i].items():
            np.testing.assert_array_equal(value, b["state"][i][key])


def test_param_groups_have_their_own_hyperparameters():
    slow, fast = np.ones(2), np.ones(2)
    opt = optim.SGD([{"params": [slow]}, {"params": [fast], "lr": 0.5}], lr=0.1)
    opt.step([np.ones(2), np.ones(2)])
    np.testing.assert_allclose(slow, 0.9)
    np.testing.assert_allclose(fast, 0.5)
    opt.param_groups[0]["lr"] = 0.2   # a schedule: read at the next step
    opt.step([np.ones(2), np.ones(2)])
    np.testing.assert_allclose(slow, 0.7)


def test_params_are_validated():
    with pytest.raises(TypeError):
        optim.Adam([[1.0, 2.0]])
    with pytest.raises(TypeError):
        optim.Adam([np.arange(3)])
    p = np.ones(2)
    with pytest.raises(ValueError, match="more than one"):
        optim.Adam([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])


def test_load_state_dict_rejects_a_mismatched_layout_before_changing_anything():
    opt = optim.Adam([np.ones(2), np.ones(3)], lr=0.1)
    opt.step([np.ones(2), np.ones(3)])
    other = optim.Adam([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="size of optimizer's group"):
        opt.load_state_dict(other.state_dict())
    swapped = optim.Adam([np.ones(3), np.ones(2)], lr=0.1)
    swapped.step([np.ones(3), np.ones(2)])
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(swapped.state_dict())
    assert opt.state[0].t == 1


def test_the_functional_update_is_the_single_definition():
    # A step of the class equals one pure update of the functional module.
    p, g = np.array([1.0, -2.0]), np.array([0.3, 0.4])
    state = optim.adam.init(p, lr=0.1)
    _, expected = optim.adam.update(state, p, g)
    opt = optim.Adam([p], lr=0.1)
    opt.step([g])
    np.testing.assert_array_equal(p, expected)
