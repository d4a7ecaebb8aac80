"""Whole-step float contracts composed of proved contracts that chain (each holds for every float
input within its bound of the exact value, ``rounded.within``): Muon's four (the momentum's, the
normalisation's, the Newton–Schulz step's k times, the decayed step's) and LAMB's two with weight
decay (the direction's, the trust-ratio step's); proofs/theorems/precision.py.  Each is tight in
the roundings it counts, and each composition (tools/precision.py, ``muon_step_bound``,
``lamb_step_bound``) holds against NumPy's float step and the exact step from the same inputs (arb
balls, every hyperparameter at the exact value of its float)."""
import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from optim import lamb, muon
from proofs.harness import PROVED, Theorem, build_theorem
from proofs.theorems import precision as contracts
from symbolic import prover

flint = pytest.importorskip("flint")
from symbolic.enclosure import Ball, BallTensor, _arb  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import precision  # noqa: E402


def _shown(build) -> bool:
    """Whether the forward error analysis (the method that proves the contracts) shows the claim."""
    data = build_theorem(Theorem("Test.muon", "a claim", PROVED, build, "A claim.", __name__))
    return all(prover._by_error_propagation(ob, data.variables, 0, list(data.hypotheses)) is not None
               for ob in data.obligations)


@pytest.mark.parametrize("contract, fewer", [
    (lambda x: contracts.muon_momentum_contract(x, nesterov=False),
     lambda x: contracts.muon_momentum_contract(x, nesterov=False, count=4)),
    (lambda x: contracts.muon_normalisation_contract(x), lambda x: contracts.muon_normalisation_contract(x, relative=3)),
    (lambda x: contracts.muon_normalisation_contract(x), lambda x: contracts.muon_normalisation_contract(x, norm_terms=False)),
    (lambda x: contracts.muon_decayed_step_contract(x), lambda x: contracts.muon_decayed_step_contract(x, decay=3)),
    (lambda x: contracts.muon_decayed_step_contract(x), lambda x: contracts.muon_decayed_step_contract(x, direction=4)),
    (lambda x: contracts.lamb_decay_direction_contract(x), lambda x: contracts.lamb_decay_direction_contract(x, decay=2)),
    (lambda x: contracts.lamb_decay_direction_contract(x), lambda x: contracts.lamb_decay_direction_contract(x, relative=11)),
    (lambda x: contracts.lamb_decay_direction_contract(x), lambda x: contracts.lamb_decay_direction_contract(x, apart=3)),
    (lambda x: contracts.lamb_trust_step_contract(x), lambda x: contracts.lamb_trust_step_contract(x, steps=11)),
    (lambda x: contracts.lamb_trust_step_contract(x), lambda x: contracts.lamb_trust_step_contract(x, carried=12)),
    # ‖d̂‖ is within ρ + Γ + Γρ of ‖d‖ (the row sum's lemma, the additions), ‖p̂‖ within Γ: without ρ,
    # or without Γ, the trust ratio's error is not covered
    (lambda x: contracts.lamb_trust_step_contract(x),
     lambda x: contracts.lamb_trust_step_contract(x, norm_error=lambda gamma, rho: 3 * gamma)),
    (lambda x: contracts.lamb_trust_step_contract(x),
     lambda x: contracts.lamb_trust_step_contract(x, norm_error=lambda gamma, rho: 2 * rho)),
])
def test_each_piece_counts_every_rounding_it_needs(contract, fewer):
    assert _shown(contract)
    assert not _shown(fewer)


def test_the_nesterov_direction_counts_its_second_lerp():
    # (1 − μ)² meets the analysis here (two lerps' weights): Bernstein's coefficients bound it.  The
    # first lerp's count is the plain contract's (above)
    assert not _shown(lambda x: contracts.muon_momentum_contract(x, nesterov=True, outer=4))


def _exact_step(state, p, g):
    """Muon's step on the exact reals the float inputs store, every hyperparameter too."""
    exact = dataclasses.replace(state, **{f: Ball(_arb(getattr(state, f)))
                                          for f in ("lr", "weight_decay", "momentum", "a", "b", "c", "epsilon")})
    return muon.update(exact, BallTensor.exact(p), BallTensor.exact(g))[1]


def _inputs(shape, dtype, scale, rng, **options):
    p = rng.standard_normal(shape).astype(dtype)
    state = muon.init(p, lr=0.02, **options)
    state = dataclasses.replace(state, buf=rng.standard_normal(shape).astype(dtype))
    return state, p, (scale * rng.standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("options", [{}, dict(nesterov=False, weight_decay=0.0),
                                     dict(adjust_lr_fn="match_rms_adamw", ns_steps=3, momentum=0.3)])
def test_the_composed_contract_holds_wide_and_tall(dtype_name, options):
    """Every entry of NumPy's step within the composed bound, on wide and tall matrices (the
    iteration runs on the transpose), gradients of norm ~1 and ones ε dominates — where the chain is
    tight (within 20× there: its bound is not blanket)."""
    rng = np.random.default_rng(3)
    dtype = precision.DTYPES[dtype_name]
    tightest = np.inf
    for shape in [(3, 5), (6, 2), (4, 4)]:
        for scale in (1.0, 1e-12):
            state, p, g = _inputs(shape, dtype, scale, rng, **options)
            if scale < 1:
                state = dataclasses.replace(state, buf=np.zeros(shape, dtype))   # ‖D‖ < ε
            bound = precision.muon_step_bound(state, p, g, dtype_name)
            assert bound is not None, (shape, scale)
            computed = muon.update(state, p, g)[1]
            error = _exact_step(state, p, g).error_bound(computed)
            assert np.all(error <= bound), (shape, scale, np.max(error / bound))
            if scale < 1:
                tightest = min(tightest, float(np.min(bound / np.maximum(error, np.finfo(dtype).tiny))))
    assert tightest < 20


def test_the_composition_says_nothing_where_the_direction_cancels_to_its_roundings():
    # B′ = μ·B + (1 − μ)·g is 0 for g = −μB/(1 − μ) up to its roundings: Σe > ρ·ΣD² for ρ = 1/8
    state, p, _ = _inputs((3, 4), np.float32, 1.0, np.random.default_rng(4), nesterov=False)
    g = (-state.momentum / (1 - state.momentum) * state.buf).astype(np.float32)
    assert precision.muon_step_bound(state, p, g, "float32") is None
    assert precision.muon_step_bound(state, p, g + 1, "float32") is not None


def test_the_composition_applies_only_where_each_pieces_hypotheses_hold():
    state = muon.init(np.ones((2, 3)))
    assert precision._muon_applies(state)
    assert not precision._muon_applies(dataclasses.replace(state, momentum=1.5))
    assert not precision._muon_applies(dataclasses.replace(state, lr=1.0, weight_decay=1.0))


def _exact_lamb_step(state, p, g):
    exact = dataclasses.replace(state, **{f: Ball(_arb(getattr(state, f)))
                                          for f in ("lr", "beta1", "beta2", "epsilon", "eps_root", "weight_decay")})
    return lamb.update(exact, BallTensor.exact(p), BallTensor.exact(g))[1]


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_lambs_composed_weight_decay_contract_holds_and_is_tight(dtype_name):
    """LAMB with weight decay, warm moments, vectors and a matrix (the norm over every entry): every
    entry within the composed bound, and in float32 within 4× of it somewhere (not a blanket)."""
    rng = np.random.default_rng(6)
    dtype = precision.DTYPES[dtype_name]
    closest = 0.0
    for shape in [(7,), (3, 4), (40,)]:
        p = rng.standard_normal(shape).astype(dtype)
        state = dataclasses.replace(lamb.init(p, lr=0.01, weight_decay=0.1), t=3,
                                    m=(0.1 * rng.standard_normal(shape)).astype(dtype),
                                    v=np.abs(0.01 * rng.standard_normal(shape)).astype(dtype))
        g = rng.standard_normal(shape).astype(dtype)
        bound = precision.lamb_step_bound(state, p, g, dtype_name)
        assert bound is not None, shape
        error = _exact_lamb_step(state, p, g).error_bound(lamb.update(state, p, g)[1])
        assert np.all(error <= bound), (shape, np.max(error / bound))
        closest = max(closest, float(np.max(error / bound)))
    assert closest > (0.25 if dtype_name == "float32" else 0.005)


def test_lambs_composition_says_nothing_where_the_direction_cancels_to_its_roundings():
    # d = w + λp with λp = −w: d is its roundings alone, Σe > ρ·Σd² for ρ = 1/8
    p = np.array([1.0, -2.0, 0.5, 3.0], np.float32)
    state = lamb.init(p, lr=0.01, weight_decay=0.5)
    g = np.array([0.3, -0.1, 0.7, 0.2], np.float32)
    w = lamb.direction(dataclasses.replace(state, weight_decay=0.0), p, g)[3]
    p_cancel = (-w / 0.5).astype(np.float32)
    assert precision.lamb_step_bound(state, p_cancel, g, "float32") is None
    assert precision.lamb_step_bound(state, p, g, "float32") is not None


# Muon's Frobenius-norm bound through the Newton–Schulz steps (``muon_step_bound``'s docstring):
# a spectral norm from above, q's slope from above, and the lemma ‖q(X̂) − q(X)‖_F ≤ L·‖X̂ − X‖_F.
A, B, C = 3.4445, -4.775, 2.0315      # torch.optim.Muon's DEFAULT_A, DEFAULT_B, DEFAULT_C


def _slope(sigma):
    """q′(σ) = a + 3bσ² + 5cσ⁴, differentiated by hand (the tool differentiates the code)."""
    return A + 3 * B * sigma ** 2 + 5 * C * sigma ** 4


def test_the_spectral_norm_from_above_holds_and_is_tight_near_orthogonal():
    rng = np.random.default_rng(11)
    for shape in [(3, 5), (4, 4), (2, 7)]:
        for x in (rng.standard_normal(shape), np.outer(rng.standard_normal(shape[0]), rng.standard_normal(shape[1]))):
            above = float(precision._spectral_above(BallTensor.exact(x)))
            assert np.linalg.norm(x, 2) <= above <= np.linalg.norm(x, "fro") * (1 + 1e-12)
        rows = np.linalg.qr(rng.standard_normal(shape[::-1]))[0].T[: min(shape)]   # orthonormal rows
        assert float(precision._spectral_above(BallTensor.exact(rows))) <= 1 + 1e-9


def test_the_slope_from_above_bounds_q_prime_and_meets_the_theorem():
    state = muon.init(np.ones((2, 3)))
    lipschitz = precision._newton_schulz_lipschitz(state)
    for s in (0.5, 1.0, 1.21, 1.5):
        grid = np.linspace(0, s, 4001)
        largest = np.max(np.abs(_slope(grid)))
        assert largest <= float(lipschitz(flint.arb(s))) <= largest * (1 + 1e-2)
    assert 4.2 < float(lipschitz(flint.arb(1.21))) <= 4.3      # Optim.Muon.ns_polynomial_lipschitz_on_band


def _q_exact(x):
    """The quintic on a matrix, in exact rationals: a·X + (b·A + c·A·A)·X, A = X·Xᵀ."""
    from fractions import Fraction
    a, b, c = (Fraction(v) for v in (A, B, C))
    gram = x @ x.T
    return a * x + (b * gram + c * (gram @ gram)) @ x


def test_the_frobenius_lemma_holds_on_exact_matrices_and_its_constant_is_reached():
    """‖q(X + E) − q(X)‖_F ≤ L·‖E‖_F, L = max |q′| on [0, s], s ≥ both spectral norms, in exact
    rationals on random matrices; and on X = diag(1.2, 0.3) with E along the first singular value
    the ratio is q′(1.2)-ish: the lemma's constant is not slack."""
    from fractions import Fraction
    lipschitz = precision._newton_schulz_lipschitz(muon.init(np.ones((2, 3))))
    rng = np.random.default_rng(12)
    exact = np.vectorize(Fraction, otypes=[object])
    for shape in [(3, 5), (4, 4)]:
        for _ in range(4):
            x = rng.standard_normal(shape)
            x *= 1.1 / np.linalg.norm(x, 2)
            e = 1e-3 * rng.standard_normal(shape)
            s = max(np.linalg.norm(x, 2), np.linalg.norm(x + e, 2)) * (1 + 1e-9)
            change = _q_exact(exact(x + e)) - _q_exact(exact(x))
            squared = float(sum(v * v for v in change.flat)) / float(sum(v * v for v in exact(e).flat))
            assert squared <= float(lipschitz(flint.arb(s))) ** 2
    x, e = np.diag([1.2, 0.3]), np.diag([1e-6, 0.0])
    change = _q_exact(exact(x + e)) - _q_exact(exact(x))
    ratio = float(abs(change[0, 0]) / Fraction(1e-6))
    assert 0.99 * abs(_slope(1.2)) <= ratio <= float(lipschitz(flint.arb(1.2 + 1e-6)))


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_muons_composed_bound_is_useful_where_the_direction_dominates_eps(dtype_name):
    """Where ‖D‖ > ε the entrywise chain alone is vacuous in float32 (~10²⁸ ulps, its majorants grow
    ~28× a step); with the norm-wise bound beside it, the bound is a small part of the step
    lr·r·|O| (1.3% of it in float32 here, against 10²⁰ times it before), still far above the error
    (a worst case: 10⁴–10⁵ ulps)."""
    rng = np.random.default_rng(13)
    dtype = precision.DTYPES[dtype_name]
    for shape in [(3, 5), (6, 2)]:
        state, p, g = _inputs(shape, dtype, 1.0, rng)
        bound = precision.muon_step_bound(state, p, g, dtype_name)
        computed = muon.update(state, p, g)[1]
        step = np.abs(computed.astype(np.float64) - p.astype(np.float64))
        assert np.max(bound) <= 0.05 * np.max(step) * (np.finfo(dtype).eps / np.finfo(np.float32).eps)
        error = _exact_step(state, p, g).error_bound(computed)
        assert np.all(error <= bound)
        assert np.max(bound / np.spacing(np.abs(computed))) > 1e3      # a worst case: loose, and honest about it
