"""Theorems about ``optim.muon`` (Jordan et al. 2024; torch.optim.Muon 2.13).  The Newton–Schulz
step X ← a·X + (b·A + c·A²)·X, A = X·Xᵀ, acts on each singular value σ of X through the quintic
q(σ) = a·σ + b·σ³ + c·σ⁵: stated on explicit 2×2 matrices (a diagonal one, and a rotation of it),
and the scalar facts about q with torch's coefficients (3.4445, −4.775, 2.0315, as the binary
doubles torch holds) as polynomial inequalities: q maps (0, 1] into (0, 1.21), grows every σ up
to 4/5, keeps [0.68, 1.21] — and does not converge to 1 (it overshoots: refuted)."""
from fractions import Fraction

from optim import muon
from optim.context import context_of
from proofs.harness import REFUTED, Given, equation, inequality, theorem

SOURCE = "torch.optim.Muon 2.13 (_zeropower_via_newtonschulz); Jordan et al. 2024"
A, B, C = 3.4445, -4.775, 2.0315      # torch's DEFAULT_A, DEFAULT_B, DEFAULT_C
LOW, HIGH = 0.68, 1.21


def q(sigma):
    return muon.ns_polynomial(sigma, A, B, C)


def diagonal(x: Given, first, second):
    return x.matrix([[first, 0], [0, second]])


@theorem("Optim.Muon.newton_schulz_step_on_singular_values", source=SOURCE,
         statement="X = diag(σ₁, σ₂) (2×2) ⟹ newton_schulz_step(X) = diag(q(σ₁), q(σ₂)), q(σ) = aσ + bσ³ + cσ⁵")
def step_on_diagonal(x: Given):
    """On a diagonal matrix — its own SVD — one Newton–Schulz step applies the quintic to each
    diagonal entry, for any coefficients a, b, c."""
    a, b, c = x.real("a"), x.real("b"), x.real("c")
    s1, s2 = x.real("s1"), x.real("s2")
    step = muon.newton_schulz_step(diagonal(x, s1, s2), a, b, c)
    return equation(step, diagonal(x, muon.ns_polynomial(s1, a, b, c), muon.ns_polynomial(s2, a, b, c)))


@theorem("Optim.Muon.newton_schulz_step_commutes_with_rotations", source=SOURCE,
         statement="Q = [[κ, −ς], [ς, κ]], κ² + ς² = 1, X 2×2 ⟹ newton_schulz_step(Q·X) = Q·newton_schulz_step(X)")
def step_commutes_with_rotation(x: Given):
    """Rotating X rotates its step the same way (A = X·Xᵀ turns into Q·A·Qᵀ): with the diagonal
    theorem, the step maps U·diag(σ)·Vᵀ to U·diag(q(σ))·Vᵀ — it acts on the singular values only."""
    a, b, c = x.real("a"), x.real("b"), x.real("c")
    kappa, varsigma = x.real("kappa"), x.real("varsigma")
    x.assume(kappa * kappa + varsigma * varsigma == 1)
    m = x.tensor("X", shape=(2, 2))
    rotation = x.matrix([[kappa, -varsigma], [varsigma, kappa]])
    matmul = context_of(m).matmul
    return equation(muon.newton_schulz_step(matmul(rotation, m), a, b, c),
                    matmul(rotation, muon.newton_schulz_step(m, a, b, c)))


@theorem("Optim.Muon.ns_polynomial_positive_and_bounded_on_unit", form="inequality", source=SOURCE,
         statement="0 < σ ≤ 1 ⟹ 0 < q(σ) < 1.21 (torch's a, b, c)")
def bounded_on_unit(x: Given):
    """After the normalisation X/‖X‖_F every singular value lies in (0, 1]; one step keeps it
    positive and below 1.21 (the maximum, about 1.2024, is at σ ≈ 0.5545)."""
    sigma = x.positive("sigma")
    x.assume(sigma <= 1)
    return inequality((0, q(sigma)), (q(sigma), HIGH), strict=True)


@theorem("Optim.Muon.ns_polynomial_grows_small_values", form="inequality", source=SOURCE,
         statement="0 < σ ≤ 4/5 ⟹ q(σ) ≥ σ (torch's a, b, c)")
def grows_small(x: Given):
    """Small singular values grow at every step (q(σ)/σ → a = 3.4445 as σ → 0): the iteration
    lifts the gradient's weak directions, up to σ ≈ 0.868."""
    sigma = x.positive("sigma")
    x.assume(5 * sigma <= 4)
    return inequality(sigma, q(sigma))


@theorem("Optim.Muon.ns_polynomial_keeps_its_band", form="inequality", source=SOURCE,
         statement="0.68 ≤ σ ≤ 1.21 ⟹ 0.68 ≤ q(σ) ≤ 1.21 (torch's a, b, c)")
def keeps_band(x: Given):
    """Once in [0.68, 1.21] a singular value stays there (q's minimum there is about 0.6836, at
    σ ≈ 1.05): the iteration ends near 1, not at 1 (torch's "US'Vᵀ, S' ~ Uniform(0.5, 1.5)")."""
    sigma = x.positive("sigma")
    x.assume(LOW <= sigma, sigma <= HIGH)
    return inequality((LOW, q(sigma)), (q(sigma), HIGH))


@theorem("Optim.Muon.ns_polynomial_lipschitz_on_band", form="inequality", source=SOURCE,
         statement="0 ≤ τ ≤ σ ≤ 1.21 ⟹ −2·(σ − τ) ≤ q(σ) − q(τ) ≤ 4.3·(σ − τ) (torch's a, b, c)")
def lipschitz_on_band(x: Given):
    """Where every singular value lives after the first step, q is 4.3-Lipschitz (its slope
    reaches 4.245 at 1.21 and falls to about −1.6 at σ ≈ 0.84): by the Frobenius-norm lemma of
    ``tools/precision.py``'s ``muon_step_bound``, one step multiplies an input's error
    ‖X̂ − X‖_F by at most 4.3 while ‖X‖₂ and ‖X̂‖₂ stay ≤ 1.21."""
    sigma, tau = x.nonnegative("sigma"), x.nonnegative("tau")
    x.assume(tau <= sigma, sigma <= HIGH)
    rise = q(sigma) - q(tau)
    return inequality((-2 * (sigma - tau), rise), (rise, Fraction(43, 10) * (sigma - tau)))


@theorem("Optim.Muon.ns_polynomial_at_most_one", form="inequality", expect=REFUTED, source=SOURCE,
         statement="0 < σ ≤ 1 ⟹ q(σ) ≤ 1 (torch's a, b, c)")
def at_most_one(x: Given):
    """The coefficients maximise the slope at 0, not convergence: q overshoots 1 (q(1/2) ≈ 1.19),
    so the iteration is no orthogonalisation to the letter (refuted, with a σ where q(σ) > 1)."""
    sigma = x.positive("sigma")
    x.assume(sigma <= 1)
    return inequality(q(sigma), 1)


@theorem("Optim.Muon.update_buf_eq", source=SOURCE,
         statement="2×2 ⟹ B′ = μ·B + (1 − μ)·g")
def buf(x: Given):
    """The momentum buffer is the EMA of the gradients (torch's ``buf.lerp_(grad, 1 − μ)``, in
    either of its two roundings); stated with no Newton–Schulz step (ns_steps = 0), which the
    buffer does not see."""
    state = x.state(muon, shape=(2, 2), ns_steps=0)
    p, g = x.tensor("params", shape=(2, 2)), x.tensor("grads", shape=(2, 2))
    new, _ = muon.update(state, p, g)
    return equation(new.buf, state.momentum * state.buf + (1 - state.momentum) * g)


@theorem("Optim.Muon.update_without_iterations_is_normalised_sgd", source=SOURCE,
         statement="3×2, μ = 0, ns_steps = 0 ⟹ p′ = p·(1 − lr·λ) − lr·√(3/2)·g / max(‖g‖_F, ε)")
def normalised_sgd(x: Given):
    """With no momentum and no Newton–Schulz step, Muon is SGD on the Frobenius-normalised
    gradient — through the transposition of a tall matrix and back, and with torch's learning-rate
    factor √max(1, rows/cols) for the 3×2 shape."""
    state = x.state(muon, shape=(3, 2), ns_steps=0, momentum=0.0)
    p, g = x.tensor("params", shape=(3, 2)), x.tensor("grads", shape=(3, 2))
    _, new = muon.update(state, p, g)
    ctx = context_of(g)
    scale = ctx.maximum(ctx.sqrt(ctx.total(g * g)), state.epsilon)
    return equation(new, p * (1 - state.lr * state.weight_decay) - state.lr * ctx.sqrt(Fraction(3, 2)) * (g / scale))
