"""Matrix products of symbolic shapes: X·Xᵀ of an (m, n) matrix needs two indices over its rows
(X_i_j·X_i2_j summed over j: ``symbolic.tensor`` aliases).  Exact and in the rounding model,
where each entry of a product is a signed sum: Higham's |fl(X·Y) − X·Y| ≤ γ·|X|·|Y| is shown,
one rounding fewer is not, and two entries of one rounded matrix never share their roundings."""
from fractions import Fraction

import numpy as np
import pytest
import sympy

from optim import muon
from optim.context import context_of
from proofs.harness import PROVED, REFUTED, Theorem, build_theorem, equation, inequality
from proofs.runner import run_theorem
from proofs.theorems.precision import newton_schulz_contract
from symbolic import prover

TINY = sympy.Rational(1, 2**24)


def _run(build):
    return run_theorem(Theorem("Test.matrix_products", "a claim about matrix products", PROVED, build,
                               "A claim about matrix products.", __name__), time_limit=120.0)


def _unit(x):
    u = x.positive("u")
    x.assume(u <= TINY)
    return u


def test_a_gram_matrix_of_symbolic_shape_is_symmetric():
    def build(x):
        big = x.tensor("X", shape=("m", "n"))
        ctx = context_of(big)
        gram = ctx.matmul(big, ctx.transpose(big))
        assert ctx.shape(gram) == (ctx.shape(big)[0],) * 2     # the code sees (m, m)
        return equation(gram, ctx.transpose(gram))
    assert _run(build).verdict == PROVED


def test_an_outer_products_two_indices_refute_nothing():
    # x·xᵀ ≥ 0 is false (x = (1, −1)) — but not at a one-row x, where i = i2: the entries at two
    # indices are two variables, so their counterexample is not one to the theorem
    def build(x):
        column = x.tensor("x", shape=("m", 1))
        ctx = context_of(column)
        outer = ctx.matmul(column, ctx.transpose(column))
        return inequality(0 * outer, outer)
    result = _run(build)
    assert result.verdict not in (PROVED, REFUTED) and "refute" in result.reason, result.reason

    def symmetric(x):
        column = x.tensor("x", shape=("m", 1))
        ctx = context_of(column)
        outer = ctx.matmul(column, ctx.transpose(column))
        return equation(outer, ctx.transpose(outer))
    assert _run(symmetric).verdict == PROVED


def test_a_product_is_not_its_operands_entrywise_product():
    def build(x):
        big, other = x.tensor("X", shape=("m", "n")), x.tensor("Y", shape=("n", "k"))
        ctx = context_of(big)
        return equation(ctx.matmul(big, other), ctx.matmul(big, other) + 0 * ctx.matmul(big, other) + 1)
    assert _run(build).verdict != PROVED


def _product_bound(count, gram=False):
    def build(x):
        u = _unit(x)
        big = x.tensor("X", shape=("m", "n"))
        other = None if gram else x.tensor("Y", shape=("n", "k"))
        ctx = context_of(big)
        right = (lambda: ctx.transpose(big)) if gram else (lambda: other)
        exact = ctx.matmul(big, right())
        with x.rounding(u) as rounded:
            computed = ctx.matmul(big, right())
        gamma = rounded.summation_bound(ctx.shape(big)[1])
        sizes = ctx.matmul(ctx.abs(big), ctx.transpose(ctx.abs(big)) if gram else ctx.abs(other))
        return inequality(ctx.abs(computed - exact), count(u, gamma) * sizes)
    return build


@pytest.mark.parametrize("gram", [False, True], ids=["X·Y", "X·Xᵀ"])
def test_a_rounded_product_is_within_gamma_n_of_the_product_of_sizes(gram):
    # Higham's (3.13): each product rounds once, the n − 1 additions within γ_{n−1}
    assert _run(_product_bound(lambda u, gamma: (1 + u) * (1 + gamma) - 1, gram)).verdict == PROVED
    # one rounding fewer: false at n = 1 (fl(x·y) is x·y rounded once)
    assert _run(_product_bound(lambda u, gamma: gamma, gram)).verdict != PROVED
    # relative to the product itself: false where its terms cancel
    def relative(x):
        u = _unit(x)
        big = x.tensor("X", shape=("m", "n"))
        ctx = context_of(big)
        exact = ctx.matmul(big, ctx.transpose(big))
        with x.rounding(u):
            computed = ctx.matmul(big, ctx.transpose(big))
        return inequality(ctx.abs(computed - exact), 3 * u * ctx.abs(exact))
    assert _run(relative).verdict != PROVED


def test_two_entries_of_a_rounded_matrix_round_independently():
    # fl(X·Xᵀ) need not be symmetric (BLAS adds the (i, k) and (k, i) entries in its own orders):
    # the transpose's entry at (i, i2) is another entry, with roundings of its own
    def inside(x):
        u = _unit(x)
        big = x.tensor("X", shape=("m", "n"))
        ctx = context_of(big)
        with x.rounding(u):
            gram = ctx.matmul(big, ctx.transpose(big))
            skew = gram - ctx.transpose(gram)
        return inequality(ctx.abs(skew), 0 * u)
    assert _run(inside).verdict != PROVED

    def outside(x):     # no fresh roundings outside the block: refused, never shared
        u = _unit(x)
        big = x.tensor("X", shape=("m", "n"))
        ctx = context_of(big)
        with x.rounding(u):
            gram = ctx.matmul(big, ctx.transpose(big))
        return equation(gram, ctx.transpose(gram))
    result = _run(outside)
    assert result.verdict != PROVED and "rounds independently" in result.reason, result.reason


def _newton_schulz(products=7, sums=2):
    return lambda x: newton_schulz_contract(x, products, sums)


def test_muons_newton_schulz_step_has_a_proved_float_contract():
    assert _run(_newton_schulz()).verdict == PROVED


def _shown_by_the_error_analysis(build) -> bool:
    """Whether the forward error analysis shows the claim (the method that proves the contract;
    a claim it does not show would leave the other deciders minutes on a thousand-term bound)."""
    data = build_theorem(Theorem("Test.matrix_products", "a claim", PROVED, build, "A claim.", __name__))
    return all(prover._by_error_propagation(ob, data.variables, 0, list(data.hypotheses)) is not None
               for ob in data.obligations)


@pytest.mark.parametrize("products, sums", [(6, 2), (7, 1)])
def test_the_newton_schulz_contract_needs_every_rounding_it_counts(products, sums):
    # A·A·X's entry: X·Xᵀ (a product, n additions), A·A (a product, m additions), c·, + b·A,
    # ·X (a product, m additions), + a·X: seven roundings and two sums over each axis
    assert _shown_by_the_error_analysis(_newton_schulz())
    assert not _shown_by_the_error_analysis(_newton_schulz(products, sums))


def _gamma(k, unit):
    return (k - 1) * unit / (1 - (k - 1) * unit)


def _exact(matrix):
    return [[Fraction(float(v)) for v in row] for row in matrix]


def _product(left, right):
    return [[sum(left[i][k] * right[k][j] for k in range(len(right))) for j in range(len(right[0]))]
            for i in range(len(left))]


def _transpose(matrix):
    return [list(column) for column in zip(*matrix)]


def _step(x, a, b, c):
    gram = _product(x, _transpose(x))
    square = _product(gram, gram)
    inner = [[b * g + c * s for g, s in zip(gr, sr)] for gr, sr in zip(gram, square)]
    return [[a * v + w for v, w in zip(xr, wr)] for xr, wr in zip(x, _product(inner, x))]


@pytest.mark.parametrize("dtype, unit", [(np.float32, Fraction(1, 2**24)), (np.float64, Fraction(1, 2**53))])
def test_the_newton_schulz_contract_holds_in_numpy(dtype, unit):
    """NumPy's Newton–Schulz step (muon's own code, torch's coefficients) against the exact step
    from the same float input, in exact rationals: within the proved bound at every entry, for
    shapes wide and tall and inputs of Muon's norm (‖X‖_F ≤ 1) or far from it."""
    rng = np.random.default_rng(5)
    coefficients = [dtype(v) for v in (3.4445, -4.775, 2.0315)]     # in the tensor's dtype, as the contract has them
    a, b, c = (Fraction(float(v)) for v in coefficients)
    worst = 0.0
    for m, n in [(2, 3), (4, 7), (6, 4), (1, 5)]:
        for scale in (1.0, 0.1, 3.0):
            x = rng.normal(size=(m, n))
            x = (scale * x / np.linalg.norm(x)).astype(dtype)
            computed = muon.newton_schulz_step(x, *coefficients)
            exact_x = _exact(x)
            exact = _step(exact_x, a, b, c)
            sizes = _step([[abs(v) for v in row] for row in exact_x], abs(a), abs(b), abs(c))
            kappa = (1 + unit) ** 7 * (1 + _gamma(n, unit)) ** 2 * (1 + _gamma(m, unit)) ** 2 - 1
            for i in range(m):
                for j in range(n):
                    error = abs(Fraction(float(computed[i][j])) - exact[i][j])
                    assert error <= kappa * sizes[i][j], (m, n, scale, i, j)
                    worst = max(worst, float(error / (kappa * sizes[i][j])))
    assert worst > 1e-4       # the check compares real errors, not zeros


# ---------------------------------------------------------------------------------------
# A float input known to within B of the exact one (``rounded.within``): the later
# Newton–Schulz steps, whose input is the last step's float result.

def _gram_within(carried: bool):
    def build(x):
        u = _unit(x)
        big = x.tensor("X", shape=("m", "n"))
        error = x.tensor("B", shape=("m", "n"), entries="nonnegative")
        ctx = context_of(big)
        gram = lambda y: ctx.matmul(y, ctx.transpose(y))
        exact = gram(big)
        with x.rounding(u) as rounded:
            computed = gram(rounded.within(big, error))
        kappa = (1 + u) * (1 + rounded.summation_bound(ctx.shape(big)[1])) - 1
        if carried:     # the input's error through the product on sizes, and the product's own roundings
            bound = x.multiplied_out((1 + kappa) * gram(ctx.abs(big) + error) - gram(ctx.abs(big)))
        else:
            bound = x.multiplied_out(kappa * gram(ctx.abs(big) + error))
        return inequality(ctx.abs(computed - exact), bound)
    return build


def test_a_products_input_error_is_carried_through_it_on_sizes():
    assert _run(_gram_within(carried=True)).verdict == PROVED
    assert not _shown_by_the_error_analysis(_gram_within(carried=False))


def test_within_takes_an_exact_row_and_bounds_of_its_shape():
    def build(bad):
        def theorem(x):
            u = _unit(x)
            big = x.tensor("X", shape=("m", "n"))
            with x.rounding(u) as rounded:
                if bad == "rounded":
                    rounded.within(big * 3, x.tensor("B", shape=("m", "n")))
                elif bad == "shape":
                    rounded.within(big, x.tensor("B", shape=("n", "m")))
                else:
                    near = rounded.within(big, x.tensor("B", shape=("m", "n")))
                    assert rounded.exact(near).entries == big.entries    # η = 0: the value itself
            return inequality(0 * u, u)
        return theorem
    for bad in ("rounded", "shape"):
        result = _run(build(bad))
        assert result.verdict != PROVED and "within takes" in result.reason, result.reason
    assert _run(build("none")).verdict == PROVED


def test_five_newton_schulz_steps_stay_within_the_chained_contract(monkeypatch):
    """Muon's five steps in float32 from a normalised float input X₀ (Muon's own code, torch's
    Python coefficients), against the exact iterates from the same X₀ (arb balls, 300 bits):
    within B₅, where B₀ = 0 and Bₖ₊₁ = (1 + κ)·Q(|Xₖ| + Bₖ) − Q(|Xₖ|) — the proved perturbed step
    contract (κ with (1 + u)⁸: each coefficient rounds to float32 where it meets X), used five times."""
    flint = pytest.importorskip("flint")
    monkeypatch.setattr(flint.ctx, "prec", 300)     # this test's own: the enclosures' 256 bits after it
    rng = np.random.default_rng(9)
    coefficients = (3.4445, -4.775, 2.0315)
    a, b, c = (flint.arb(v) for v in coefficients)
    unit = flint.arb(2) ** -24

    checked = 0
    for m, n in [(3, 5), (4, 4), (2, 7)]:
        x = rng.normal(size=(m, n))
        floats = (x / np.linalg.norm(x)).astype(np.float32)
        exact = [[flint.arb(float(v)) for v in row] for row in floats]
        bound = [[flint.arb(0)] * n for _ in range(m)]
        kappa = (1 + unit) ** 8 * (1 + _gamma(n, unit)) ** 2 * (1 + _gamma(m, unit)) ** 2 - 1
        for _ in range(5):      # the exact step on arb balls: _step's arithmetic, whatever the numbers
            sizes = [[abs(v) for v in row] for row in exact]
            widened = [[s + e for s, e in zip(sr, er)] for sr, er in zip(sizes, bound)]
            big, small = _step(widened, abs(a), abs(b), abs(c)), _step(sizes, abs(a), abs(b), abs(c))
            bound = [[(1 + kappa) * w - s for w, s in zip(wr, sr)] for wr, sr in zip(big, small)]
            exact = _step(exact, a, b, c)
            floats = muon.newton_schulz_step(floats, *coefficients)
        for i in range(m):
            for j in range(n):
                error = abs(flint.arb(float(floats[i][j])) - exact[i][j])
                assert error.upper() <= bound[i][j].lower(), (m, n, i, j)
                checked += 1
    assert checked == 15 + 16 + 14


def test_renaming_an_index_never_captures_it():
    # S = Σ_(i2<m) X_i2_j·X_i_j, free in i: moving i to i2 must rename the sum's own i2 first,
    # or S would become Σ X_i2_j² — another value
    from symbolic.tensor import RowSum, SymTensor, _entry_at, alias_of, renamed
    m, n = sympy.Symbol("m", integer=True, positive=True), sympy.Symbol("n", integer=True, positive=True)
    entry = SymTensor.symbols("X", (m, n), real=True).entries[0]
    second, third = _entry_at(entry, (alias_of(m, 1), n)), _entry_at(entry, (alias_of(m, 2), n))
    total = RowSum(second * entry, alias_of(m, 1))
    moved = renamed(total, {m: alias_of(m, 1)})
    assert moved == RowSum(third * second, alias_of(m, 2))
    assert moved != RowSum(second ** 2, alias_of(m, 1))


def test_a_tensors_sign_is_the_running_theorems_own():
    # B ≥ 0 in one theorem says nothing of a real B in the next: fl(Σ B_i) is within Γ·Σ|B|, not Γ·Σ B
    def declared(entries):
        def build(x):
            u = _unit(x)
            values = x.tensor("B", length="n", entries=entries)
            ctx = context_of(values)
            exact = values.sum()
            with x.rounding(u) as rounded:
                computed = values.sum()
            return inequality(ctx.abs(computed - exact), rounded.summation_bound(ctx.shape(values)[0]) * exact)
        return build
    assert _shown_by_the_error_analysis(declared("nonnegative"))
    assert not _shown_by_the_error_analysis(declared("real"))


def test_numpys_own_products_of_symbolic_matrices_are_refused():
    # np.matmul, np.dot and @ would treat the symbolic values as object arrays (another
    # computation): a theorem must go through the context, which knows the model
    def build(call):
        def theorem(x):
            big = x.tensor("X", shape=("m", "n"))
            return equation(call(big), call(big))
        return theorem
    for call in (lambda big: np.matmul(big, big), lambda big: np.dot(big, big), lambda big: big @ big):
        result = _run(build(call))
        assert result.verdict != PROVED and "could not be built" in result.reason, result.reason
