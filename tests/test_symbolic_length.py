"""Rows of a symbolic length n (``x.tensor(name, length="n")``): elementwise code runs on the
entry at a generic index i, and a sum over the row stays a sum, Σ_(i<n) …, kept linear; before
deciding, each distinct sum becomes a variable of its own.  That is a generalisation — every
value of the sums, also values no row has — so a PROVED holds for every length, and nothing is
ever REFUTED through the sums (UNKNOWN instead: a counterexample must come from an explicit
shape).  True statements are PROVED; false ones, and true ones that need the link between an
entry and its row's sum, are not."""
import pytest
import sympy

from optim import clipping, lars
from optim.context import context_of
from proofs.harness import Given, Theorem, TheoremError, build_theorem, equation, inequality
from symbolic import PROVED, REFUTED, UNKNOWN, decide_theorem, wire
from symbolic.tensor import NotElementwise, RowSum, row_total, SymTensor


def verdict(build):
    return decide_theorem(build_theorem(Theorem("Rows.claim", "", PROVED, build, "a row claim", __name__)))


def total(t):
    return context_of(t).total(t)


# ------------------------------------------------------------------ true, and proved
def test_a_sum_is_linear():
    def build(x: Given):
        g, h, c = x.tensor("g", length="n"), x.tensor("h", length="n"), x.real("c")
        return equation(total(c * g + 2 * h), c * total(g) + 2 * total(h))
    assert verdict(build).status == PROVED


def test_a_sum_of_a_constant_is_n_times_it():
    def build(x: Given):
        g, c = x.tensor("g", length="n"), x.real("c")
        return equation(total(g * 0 + c) * 2, total(g * 0 + 2 * c))
    assert verdict(build).status == PROVED


def test_clipping_by_global_norm_at_any_length():
    def build(x: Given):
        max_norm, g = x.nonnegative("max_norm"), x.tensor("g", length="n")
        (clipped,), _ = clipping.clip_by_global_norm([g], max_norm)
        return inequality(clipping.global_norm([clipped]), max_norm)
    v = verdict(build)
    assert v.status == PROVED, v.reason


def test_the_lars_step_has_norm_lr_eta_norm_p_at_any_length():
    def build(x: Given):
        p, g = x.tensor("params", length="n"), x.tensor("grads", length="n")
        state = x.state(lars, momentum=0.0, epsilon=0.0, b=x.tensor("b", length="n"))
        x.assume(lars.norm(p) > 0, lars.norm(g + state.weight_decay * p) > 0)
        _, new = lars.update(state, p, g)
        step = new - p
        return equation(total(step * step), (state.lr * state.trust_coefficient * lars.norm(p)) ** 2)
    v = verdict(build)
    assert v.status == PROVED, v.reason


def test_a_sum_of_a_long_summand_builds_and_crosses_the_wire():
    """A row sum's variable carries its summand whole; its note, read by people, is cut (LAMB's
    e with weight decay is 3,000 characters: the note once broke the wire's 2,000 limit)."""
    def build(x: Given):
        g = x.tensor("g", length="n")
        scalars = sum(x.real(f"a_coefficient_of_some_length_{k}") ** 2 for k in range(80))
        return inequality(sympy.Integer(0), total(context_of(g).sqrt(g * g + scalars)))
    data = build_theorem(Theorem("Rows.long", "", PROVED, build, "a row claim", __name__))
    (spec,) = [v for v in data.variables if v.summand is not None]
    assert len(str(spec.summand)) > 2000 and len(spec.note) < 500 and spec.note.endswith("…, a variable of its own")
    assert wire.decode(wire.encode(data)).variables[-1].summand == spec.summand
    assert decide_theorem(data).status == PROVED


# ------------------------------------------------------------------ false, and never proved or refuted through the sums
@pytest.mark.parametrize("claim", [
    lambda g: equation(total(g * g), total(g * 0 + 1) * g * g),       # ‖g‖² = n·g_i²
    lambda g: inequality(0, total(g)),                                 # Σ g_i ≥ 0
    lambda g: equation(total(g * g), total(g) * total(g)),             # Σ g² = (Σ g)²
    lambda g: inequality(total(g * g), 1),
])
def test_a_false_claim_about_sums_is_unknown_not_proved_nor_refuted(claim):
    v = verdict(lambda x: claim(x.tensor("g", length="n")))
    assert v.status == UNKNOWN
    assert "values of their own" in v.reason


def test_a_true_claim_needing_an_entry_and_its_sum_together_is_not_proved():
    """g_i² ≤ Σ g² holds, but the sum is a variable apart from the entry: UNKNOWN, honestly."""
    v = verdict(lambda x: (lambda g: inequality(g * g, total(g * g)))(x.tensor("g", length="n")))
    assert v.status == UNKNOWN


def test_an_entry_false_claim_is_still_refuted():
    """A claim about the entry alone has no sum in it: refuted as for a generic tensor."""
    v = verdict(lambda x: (lambda g: inequality(g, 0))(x.tensor("g", length="n")))
    assert v.status == REFUTED


# ------------------------------------------------------------------ what a row refuses
@pytest.mark.parametrize("use", [
    lambda g, h: g + h,                  # rows of different lengths
    lambda g, h: g[0],
    lambda g, h: len(g),
    lambda g, h: bool(g),
    lambda g, h: list(g),
    lambda g, h: context_of(g).sum(g, 1),          # no second axis
    lambda g, h: context_of(g).matmul(g, g),
])
def test_a_row_refuses_what_would_need_its_length(use):
    def build(x: Given):
        g, h = x.tensor("g", length="n"), x.tensor("h", length="m")
        use(g, h)
        return equation(g, g)
    with pytest.raises((NotElementwise, ValueError, TypeError, IndexError, TheoremError)):
        build_theorem(Theorem("Rows.bad", "", PROVED, build, "a bad use", __name__))


def test_a_shape_and_a_length_together_are_refused():
    with pytest.raises(TheoremError, match="shape or a length"):
        Given().tensor("g", shape=(2,), length="n")


def test_row_total_keeps_sums_apart_from_factors():
    g = SymTensor.symbols("g", (sympy.Symbol("n", integer=True, positive=True),))
    n, gi = g.shape[0], g.entries[0]
    c = sympy.Symbol("c")
    assert row_total(c * gi**2 + 3, n) == c * RowSum(gi**2, n) + 3 * n
    inner = RowSum(gi**2, n)
    assert row_total(gi**2 / inner, n) == RowSum(gi**2, n) / inner


# ------------------------------------------------------------------ a norm that is 0: every entry is 0
def _entry_zero_where(sum_of):
    def build(x: Given):
        g, h = x.tensor("g", length="n"), x.tensor("h", length="n")
        x.assume(total(sum_of(g, h)) == 0)
        return equation(g, 0 * g)
    return verdict(build)


def test_a_row_whose_sum_of_squares_is_0_is_0():
    assert _entry_zero_where(lambda g, h: g * g + 3 * (h * h)).status == PROVED


@pytest.mark.parametrize("sum_of", [
    lambda g, h: g,                      # Σ g = 0 does not make g 0
    lambda g, h: g * g - h * h,          # not a sum of squares
    lambda g, h: h * h,                  # another row's norm
])
def test_a_zero_sum_that_is_no_norm_of_the_row_gives_nothing(sum_of):
    assert _entry_zero_where(sum_of).status != PROVED


def test_a_zero_norm_of_a_quotient_row_is_zero_where_defined():
    """Σ g_i²/(1 + h_i²)² = 0 gives g_i/(1 + h_i²) = 0, so g_i = 0 (LAMB's ‖m̂/(√v̂ + ε)‖ = 0)."""
    def build(x: Given):
        g, h = x.tensor("g", length="n"), x.tensor("h", length="n")
        x.assume(total((g / (1 + h * h)) * (g / (1 + h * h))) == 0)
        return equation(g, 0 * g)
    assert verdict(build).status == PROVED


def test_an_odd_power_in_the_summand_gives_nothing():
    def build(x: Given):
        g, h = x.tensor("g", length="n"), x.tensor("h", length="n")
        x.assume(total(g * g * h) == 0)
        return equation(g, 0 * g)
    assert verdict(build).status != PROVED


def test_the_state_of_a_row_has_rows_for_buffers():
    def build(x: Given):
        state = x.state(lars, length="n")
        assert state.b.is_row and state.b.shape == x.tensor("g", length="n").shape
        return equation(state.b, state.b)
    assert verdict(build).status == PROVED


# ------------------------------------------------------------------ a sum of what is ≥ 0 is ≥ 0
def test_a_norm_split_into_sums_stays_nonnegative():
    """Σ (g_i + h_i)² becomes Σ g² + 2·Σ g·h + Σ h², which alone could be negative: the sum of a
    square is recorded ≥ 0 before the split."""
    v = verdict(lambda x: (lambda g, h: inequality(0, total((g + h) * (g + h))))(
        x.tensor("g", length="n"), x.tensor("h", length="n")))
    assert v.status == PROVED, v.reason


def test_a_sum_of_a_product_is_not_taken_nonnegative():
    v = verdict(lambda x: (lambda g, h: inequality(0, total(g * h)))(
        x.tensor("g", length="n"), x.tensor("h", length="n")))
    assert v.status == UNKNOWN


def test_a_quotient_by_a_radicand_counts_as_nonnegative():
    """Σ a_i²/w_i where √w_i was taken (so w_i ≥ 0 where defined): ≥ 0."""
    def build(x: Given):
        a, w = x.tensor("a", length="n"), x.tensor("w", length="n", entries="positive")
        ctx = context_of(a)
        u = a / ctx.sqrt(w)
        return inequality(0, total(u * u))
    v = verdict(build)
    assert v.status == PROVED, v.reason


def test_lamb_is_invariant_to_the_gradients_scale_from_any_state():
    """With ε = ε_root = λ = 0, m scaled by c and v by c², LAMB's step does not change, for any
    length (the theorem the explicit shape left UNKNOWN)."""
    from dataclasses import replace

    from optim import lamb

    def build(x: Given):
        c = x.positive("c")
        p, g = x.tensor("params", length="n"), x.tensor("grads", length="n", entries="nonzero")
        state = x.state(lamb, length="n", epsilon=0.0, eps_root=0.0, weight_decay=0.0)
        scaled = replace(state, m=c * state.m, v=(c * c) * state.v)
        x.assume(lars.norm(p) > 0)
        return equation(lamb.update(scaled, p, c * g)[1], lamb.update(state, p, g)[1])
    v = verdict(build)
    assert v.status == PROVED, v.reason


# ------------------------------------------------------------------ a matrix of symbolic lengths (m, n)
def _sums_of_a_matrix(x: Given):
    g = x.tensor("g", shape=("m", "n"))
    ctx = context_of(g)
    return g, ctx, ctx.shape(g)


def test_a_matrix_sums_along_an_axis_to_a_row_of_the_other_and_over_both_to_one_sum():
    """Σ_j g_i_j² is a value of the row i ((m, 1)), Σ_i g_i_j² of the column j ((1, n)); the sum of
    the row sums is the sum over both indices (one sum, canonical), as is the column sums'."""
    x = Given()
    g, ctx, (m, n) = _sums_of_a_matrix(x)
    entry = g.entries[0]
    rows, columns = ctx.sum(g * g, -1), ctx.sum(g * g, 0)
    assert rows.shape == (m, 1) and rows.entries[0] == RowSum(entry**2, n)
    assert columns.shape == (1, n) and columns.entries[0] == RowSum(entry**2, m)
    whole = RowSum(entry**2, m, n)
    assert total(g * g).expr == whole
    assert ctx.sum(rows, 0).entries[0] == whole and ctx.sum(columns, 1).entries[0] == whole
    assert ctx.sum(rows, 1) is rows     # an axis of length 1 sums its one entry: itself


def test_a_row_factor_times_a_column_factor_broadcasts_to_the_matrix():
    x = Given()
    r, c = x.tensor("r", shape=("m", 1)), x.tensor("c", shape=(1, "n"))
    outer = r * c
    assert outer.shape == (r.shape[0], c.shape[1]) and outer.entries[0] == r.entries[0] * c.entries[0]
    # Σ_j r_i·c_j = r_i·Σ_j c_j: a factor free of j leaves the sum
    assert context_of(r).sum(outer, -1).entries[0] == r.entries[0] * RowSum(c.entries[0], c.shape[1])


@pytest.mark.parametrize("shape", [("n", "n"), ("m", 2), ("m", "n", "k", "l"), ("m", 0)])
def test_a_matrix_shape_of_lengths_is_refused_where_its_indices_would_be_ambiguous(shape):
    """A square (n, n) would make its two indices one; a concrete length beside a symbolic one has
    no generic entry; four axes are not a row, nor is an axis of length 0."""
    with pytest.raises(TheoremError):
        Given().tensor("g", shape=shape)


def test_rows_of_different_lengths_do_not_broadcast():
    x = Given()
    r, c = x.tensor("r", shape=("m", 1)), x.tensor("v", length="m")
    with pytest.raises(ValueError):
        r + c       # (m, 1) with (m,): NumPy's (m, m), whose two indices would be one
    with pytest.raises(ValueError):
        x.tensor("a", shape=("m", "n")) + x.tensor("b", shape=("n", "m"))


def test_the_sum_of_a_matrix_is_its_row_sums_sum():
    def build(x: Given):
        g, ctx, _ = _sums_of_a_matrix(x)
        return equation(total(g * g), total(ctx.sum(g * g, -1)))
    v = verdict(build)
    assert v.status == PROVED, v.reason


def test_a_false_claim_over_a_matrix_sum_is_not_proved():
    """Σ_i,j g_i_j² = m·Σ_j g_i_j² holds only where every row has the same sum: not PROVED, and not
    REFUTED through the sums' variables."""
    def build(x: Given):
        g, ctx, (m, _) = _sums_of_a_matrix(x)
        return equation(total(g * g), m * ctx.sum(g * g, -1))
    assert verdict(build).status == UNKNOWN


def test_a_matrix_row_sum_rounds_with_its_own_lengths_summation_bound():
    """fl(Σ_j g_i_j²) within (1 + u)(1 + Γ_n) − 1 of Σ_j g_i_j² (n − 1 additions along the row),
    PROVED; with Γ_m, the other axis's bound, or without the squares' rounding, not."""
    from proofs.runner import run_theorem

    def claim(bound_of):
        def build(x: Given):
            u = x.positive("u")
            x.assume(u <= sympy.Rational(1, 2**24))
            g, ctx, (m, n) = _sums_of_a_matrix(x)
            exact = ctx.sum(g * g, -1)
            rounded = x.rounding(u)
            gammas = {"n": rounded.summation_bound(n), "m": rounded.summation_bound(m)}
            with rounded:
                computed = ctx.sum(g * g, -1)
            return inequality(ctx.abs(computed - exact), bound_of(u, gammas) * exact)
        return run_theorem(Theorem("Rows.matrix_sum", "", PROVED, build, "a matrix row sum", __name__),
                           time_limit=60.0).verdict
    assert claim(lambda u, gammas: (1 + u) * (1 + gammas["n"]) - 1) == PROVED
    assert claim(lambda u, gammas: (1 + u) * (1 + gammas["m"]) - 1) != PROVED
    assert claim(lambda u, gammas: gammas["n"]) != PROVED
