"""RAdam's float contracts with L2 weight decay (``proofs/theorems/precision.py``,
``radam_l2_contract``: Optim.RAdam.float_step_error_le_{unrectified,rectified}_weight_decay) count
every rounding they need: one fewer anywhere in the claim, or R's step once, and the step on the
real branch is not shown.  (A file of its own: the rectified claims take seconds each to decide,
and CI's workers split the tests by file.)"""
import functools

import pytest

from proofs.harness import PROVED, Theorem, build_theorem
from proofs.theorems import precision as contracts
from symbolic import prover

COUNTS = {False: (7, 5, 3), True: (21, 5, 3)}


def _shown_paths(build) -> int:
    """How many of the theorem's obligations the forward error analysis shows (an infeasible path
    is left to the other methods: not shown by it, whatever the claim)."""
    data = build_theorem(Theorem("Test.radam", "a claim", PROVED, build, "A claim.", __name__))
    return sum(prover._by_error_propagation(ob, data.variables, 0, list(data.hypotheses)) is not None
               for ob in data.obligations)


@functools.cache
def _shown_as_stated(rectified: bool) -> int:
    return _shown_paths(lambda x: contracts.radam_l2_contract(x, rectified=rectified, counts=COUNTS[rectified]))


@pytest.mark.parametrize("rectified, fewer", [
    (False, dict(counts=(6, 5, 3))), (False, dict(counts=(7, 4, 3))), (False, dict(counts=(7, 5, 2))),
    (True, dict(counts=(20, 5, 3))), (True, dict(counts=(21, 5, 2))), (True, dict(steps_by_r=1))])
def test_radams_weight_decay_contracts_count_every_rounding_they_need(rectified, fewer):
    full = _shown_as_stated(rectified)
    assert full >= 2
    assert _shown_paths(lambda x: contracts.radam_l2_contract(
        x, rectified=rectified, **{"counts": COUNTS[rectified], **fewer})) < full
