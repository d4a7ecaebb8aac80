import sys

import pytest

import optim  # noqa: F401  (registers the NumPy backend)
import symbolic.tensor  # noqa: F401  (registers the SymPy backend)


# The buffers (array fields) of the seed's five families, as the tests of their values and of
# bad input expect them in a state from ``init`` (SGD without momentum keeps none).
SEED_BUFFERS = {
    "SGD": (),
    "MomentumSGD": ("buf",),
    "Adam": ("m", "v"),
    "AdamW": ("m", "v"),
    "Adadelta": ("v", "u"),
}


@pytest.fixture(autouse=True)
def schedule_free_steps_without_train(request, monkeypatch):
    """The suites that run every class (never-silent, fast paths, torch backend, …) construct
    and step; a schedule-free optimizer steps only in train mode, so there it starts in it.
    tests/test_schedule_free.py tests the modes themselves, from eval mode as schedule_free."""
    if request.module.__name__.rsplit(".", 1)[-1] == "test_schedule_free":
        return
    from optim import stateful
    monkeypatch.setattr(stateful.ScheduleFree, "train_mode", True)
    if "optim.torch_backend" in sys.modules:
        monkeypatch.setattr(sys.modules["optim.torch_backend"].ScheduleFree, "train_mode", True)
