"""Theorems about ``optim.adafactor`` (Shazeer & Stern 2018; torch.optim.Adafactor 2.13).
Adafactor keeps, for a matrix, EMAs of the row and column means R, C of g² instead of g² itself,
and rebuilds V̂ = R·C / mean(R): exact when g² has rank 1.  Means are reductions: the matrix
theorems are stated on the explicit shape (2, 3) and hold for it only; the vector's for any length n."""
from optim import adafactor
from optim.context import context_of
from proofs.harness import Given, equation, theorem

SOURCE = "Shazeer & Stern 2018, Alg. 4 and eq. (4); torch.optim.Adafactor 2.13"


def rank_one(x: Given, rows: int, columns: int):
    """g = a·bᵀ from fresh reals a₁…, b₁… (a rank-1 matrix)."""
    a = [x.real(f"a{i}") for i in range(1, rows + 1)]
    b = [x.real(f"b{j}") for j in range(1, columns + 1)]
    return x.matrix([[ai * bj for bj in b] for ai in a]), a, b


@theorem("Optim.Adafactor.factored_estimate_exact_at_rank_one", source=SOURCE,
         statement="g = a·bᵀ (2×3), R = mean_cols(g²), C = mean_rows(g²), ε1 ≤ mean(R) ⟹ R·C / max(mean(R), ε1) = g²")
def factored_estimate(x: Given):
    """Adafactor's factored second moment — the outer product of the row means and the column
    means of g², over the mean of all of g² — is g² itself when g² has rank 1 (g = a·bᵀ):
    R_i = a_i²·mean(b²), C_j = mean(a²)·b_j², mean(R) = mean(a²)·mean(b²)."""
    g, _, _ = rank_one(x, 2, 3)
    epsilon1 = x.positive("epsilon1")
    rows, columns = adafactor.mean_square(g, -1), adafactor.mean_square(g, -2)
    x.assume(epsilon1 <= context_of(g).sum(rows, -2) / 2)
    return equation(adafactor.factored_estimate(rows, columns, epsilon1), g * g)


@theorem("Optim.Adafactor.update_factors_eq", source=SOURCE,
         statement="2×3 ⟹ Rᵢ′ = (1 − w)·Rᵢ + w·(Σⱼ gᵢⱼ²)/3,  Cⱼ′ = (1 − w)·Cⱼ + w·(Σᵢ gᵢⱼ²)/2,  w = (t+1)^τ")
def factors(x: Given):
    """For a matrix Adafactor keeps m + n numbers, not m·n: EMAs of the row means and the column
    means of g² (torch takes each as ‖row‖², squared back from a root, over its length)."""
    state = x.state(adafactor, shape=(2, 3))
    p, g = x.tensor("params", shape=(2, 3)), x.tensor("grads", shape=(2, 3))
    new, _ = adafactor.update(state, p, g)
    weight = (state.t + 1) ** state.beta2_decay
    square = [[g[i, j] * g[i, j] for j in range(3)] for i in range(2)]
    row_means = x.matrix([[sum(square[i]) / 3] for i in range(2)])
    column_means = x.matrix([[(square[0][j] + square[1][j]) / 2 for j in range(3)]])
    return equation((new.row_var, new.col_var),
                    ((1 - weight) * state.row_var + weight * row_means,
                     (1 - weight) * state.col_var + weight * column_means))


@theorem("Optim.Adafactor.update_variance_eq", source=SOURCE,
         statement="a vector of any length n ⟹ V′ = (1 − (t+1)^τ)·V + (t+1)^τ·g²")
def variance(x: Given):
    """For a vector Adafactor keeps the full second moment, an EMA of g² whose weight on the new
    g², (t+1)^τ (τ = beta2_decay ≤ 0), decays from 1 at the first step: 1 − β̂2_t in the paper."""
    state = x.state(adafactor, length="n", maximize=False)
    p, g = x.tensor("params", length="n"), x.tensor("grads", length="n")
    new, _ = adafactor.update(state, p, g)
    weight = (state.t + 1) ** state.beta2_decay
    return equation(new.variance, (1 - weight) * state.variance + weight * (g * g))
