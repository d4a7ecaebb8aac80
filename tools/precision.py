"""``make precision``: how far the executed floats are from the proved reals.

For every optimizer and option, float32 and float64, one NumPy step is compared with the
certified enclosure of the exact real step from the same float inputs (``symbolic.enclosure``:
the same definition on arb balls of 256 bits).  The error bound is certified: |float − x| ≤ it
for the exact x.  It is reported in ulps of the float result and relative to the step's size
(max|error| / max|p′ − p| of the exact step, per tensor), worst over the entries, over input
cases that include the hard ones: the first step (m = v = 0, bias corrections at t = 1), huge
and tiny gradients, ε dominating √v, a step that cancels the param.  Beside each, the
first-order bound of the rounding model (``symbolic.rounding``: every operation rounds with
|δ| ≤ u, scalar arithmetic at float64's u, a float32 store at float32's) and how tight it is.

Then the drift: 10⁴ steps of every optimizer on a small model (a linear least-squares fit,
P ∈ ℝ^{3×4}), float32 and float64 against the certified real trajectory, with a PNG.

Writes ``precision.md``, ``precision.json`` and ``precision.png``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import optim  # noqa: E402
from optim.stateful import functional_arguments  # noqa: E402
from symbolic.obligation import ENTRY_ERROR_RATIO, ROW_SUM_RATIO, SUM_ERROR_BOUND  # noqa: E402
from symbolic import enclosure, rounding  # noqa: E402

DTYPES = {"float32": np.float32, "float64": np.float64}
WARMUP = 5


def options() -> dict:
    """Each optimizer's defaults, then every option whose code path differs (the fast-path
    suite's table: one definition of 'every option')."""
    from test_fast_paths import OPTIONS
    return {name: [{}] + OPTIONS.get(name, []) for name in optim.CLASSES}


def shapes(name: str) -> list:
    return [(4, 5), (3, 2)] if getattr(optim.CLASSES[name].family, "RANKS", None) else [(4, 5), (3,)]


def arguments(name: str, kwargs: dict) -> dict:
    cls = optim.CLASSES[name]
    return functional_arguments({**cls.defaults, "lr": 0.01, **kwargs}, cls.family)


CASES = {
    "random state": dict(scale=1.0, warm=True),
    "first step (m = v = 0, t = 1)": dict(scale=1.0, warm=False),
    "huge gradients": dict(scale={"float32": 1e15, "float64": 1e140}, warm=False),
    "tiny gradients": dict(scale={"float32": 1e-15, "float64": 1e-140}, warm=False),
    "ε dominates √v": dict(scale=1e-12, warm=False),
    "the step cancels p": dict(scale=1.0, warm=False, cancel=True),
}


def inputs(name: str, kwargs: dict, dtype_name: str, case: dict, rng) -> list:
    """Per param: (state, params, grads) in the dtype, the state after WARMUP float steps for a
    warm case."""
    dtype = DTYPES[dtype_name]
    family = optim.CLASSES[name].family
    scale = case["scale"][dtype_name] if isinstance(case["scale"], dict) else case["scale"]
    out = []
    for shape in shapes(name):
        p = rng.standard_normal(shape).astype(dtype)
        state = family.init(p, **arguments(name, kwargs))
        if case["warm"]:
            for _ in range(WARMUP):
                state, p = family.update(state, p, rng.standard_normal(shape).astype(dtype))
        g = (rng.standard_normal(shape) * scale).astype(dtype)
        if case.get("cancel"):
            g = (p / 0.01).astype(dtype)   # SGD-like steps land near 0: the ulps of a tiny result
        out.append((state, p, g))
    return out


# The prover's whole-step contracts (proofs/theorems/precision.py) and where each applies: the
# fields its theorem fixes (``_fixed``: every flag and option at its default, as ``x.state`` gives
# a theorem, and the values it names) and its hypotheses, read off the inputs' state — so every
# option whose state meets them is checked against the contract, not the defaults alone.
AWAY = 1 - 2.0**-20       # away_from_one's β ≤ 1 − 2⁻²⁰
LAMB_COMPOSED = "Optim.LAMB.float_direction_error_le_weight_decay ∘ float_trust_step_error_le"
MUON_COMPOSED = ("Optim.Muon.float_momentum_error_le(_plain) ∘ float_normalisation_error_le ∘ "
                 "(float_newton_schulz_step_error_le_perturbed, and in ‖·‖_F ns_polynomial_lipschitz)^k ∘ "
                 "float_decayed_step_error_le")


def _fixed(state, **values) -> bool:
    flags = optim.fields.declarations(type(state)).of(optim.fields.FLAG)
    return all(getattr(state, name) == d.default for name, d in flags.items() if name not in values) and \
        all(getattr(state, name) == value for name, value in values.items())


def _below(*values) -> bool:
    return all(v <= AWAY for v in values)


def _rho(state) -> float:
    return optim.radam.rho(state.beta2, state.t + 1)


CONTRACTS = {
    "Adam": [("Optim.Adam.float_step_error_le",
              lambda kw, state, dtype: _fixed(state, weight_decay=0) and _below(state.beta1, state.beta2)),
             ("Optim.Adam.float_step_error_le_decoupled",
              lambda kw, state, dtype: _fixed(state, decoupled_weight_decay=True) and state.weight_decay > 0
              and _below(state.beta1, state.beta2, state.lr * state.weight_decay))]
            # L2 decay (d = g + λp), amsgrad or not: κ ≤ 1/8 read off the inputs
            + [(f"Optim.Adam.float_step_error_le_weight_decay{suffix}",
                lambda kw, state, dtype, flags=flags: _fixed(state, **flags) and state.weight_decay > 0
                and _below(state.beta1, state.beta2))
               for suffix, flags in (("", {}), ("_amsgrad", dict(amsgrad=True)))],
    "AdamW": [(f"Optim.AdamW.float_step_error_le{suffix}",
               lambda kw, state, dtype, flags=flags: _fixed(state, **flags) and state.weight_decay > 0
               and _below(state.beta1, state.beta2, state.lr * state.weight_decay))
              for suffix, flags in (("", {}), ("_amsgrad", dict(amsgrad=True)), ("_maximize", dict(maximize=True)),
                                    ("_amsgrad_maximize", dict(amsgrad=True, maximize=True)))],
    "Adamax": [("Optim.Adamax.float_step_error_le",
                lambda kw, state, dtype: _fixed(state, weight_decay=0) and _below(state.beta1)),
               ("Optim.Adamax.float_step_error_le_weight_decay",
                lambda kw, state, dtype: _fixed(state) and state.weight_decay > 0 and _below(state.beta1))],
    "Adagrad": [("Optim.Adagrad.float_step_error_le", lambda kw, state, dtype: _fixed(state, weight_decay=0)),
                # L2 decay: κ ≤ 1/8 (d = g + λp not cancelling to its roundings), read off the inputs
                ("Optim.Adagrad.float_step_error_le_weight_decay", lambda kw, state, dtype: _fixed(state))],
    "RMSprop": [("Optim.RMSprop.float_step_error_le",
                 lambda kw, state, dtype: _fixed(state, weight_decay=0, momentum=0)),
                # L2 decay: κ ≤ 1/8 (d = g + λp not cancelling to its roundings), read off the inputs
                ("Optim.RMSprop.float_step_error_le_weight_decay",
                 lambda kw, state, dtype: _fixed(state, momentum=0) and state.weight_decay > 0),
                # centered with momentum: κ ≤ 1/8 (v′ − ḡ′² not cancelling to its roundings)
                ("Optim.RMSprop.float_step_error_le_centered_momentum",
                 lambda kw, state, dtype: _fixed(state, centered=True, weight_decay=0) and state.momentum > 0),
                ("Optim.RMSprop.float_step_error_le_centered",
                 lambda kw, state, dtype: _fixed(state, centered=True, weight_decay=0, momentum=0)),
                ("Optim.RMSprop.float_step_error_le_momentum",
                 lambda kw, state, dtype: _fixed(state, weight_decay=0) and state.momentum > 0)],
    "Adadelta": [("Optim.Adadelta.float_step_error_le", lambda kw, state, dtype: _fixed(state, weight_decay=0)),
                 ("Optim.Adadelta.float_step_error_le_weight_decay",
                  lambda kw, state, dtype: _fixed(state) and state.weight_decay > 0)],
    "Rprop": ("Optim.Rprop.float_step_error_le", lambda kw, state, dtype: _fixed(state)),
    "Lion": [("Optim.Lion.float_step_error_le", lambda kw, state, dtype: _fixed(state, weight_decay=0)),
             ("Optim.Lion.float_step_error_le_weight_decay",
              lambda kw, state, dtype: _fixed(state) and state.weight_decay > 0 and _below(state.lr * state.weight_decay)),
             ("Optim.Lion.float_step_error_le_maximize",
              lambda kw, state, dtype: _fixed(state, weight_decay=0, maximize=True))],
    "ASGD": ("Optim.ASGD.float_step_error_le",
             lambda kw, state, dtype: _fixed(state, weight_decay=0) and _below(state.lambd * state.eta)),
    "LARS": [("Optim.LARS.float_step_error_le", lambda kw, state, dtype: _fixed(state, weight_decay=0)),
             ("Optim.LARS.float_step_error_le_weight_decay", lambda kw, state, dtype: _fixed(state)),
             ("Optim.LARS.float_step_error_le_weight_decay_nesterov",
              lambda kw, state, dtype: _fixed(state, nesterov=True))],
    # two proved contracts composed (``lamb_step_bound``), any weight decay λ ≥ 0; ρ ≤ 1/8 read off d
    "LAMB": (LAMB_COMPOSED, lambda kw, state, dtype: _fixed(state, eps_root=0) and _below(state.beta1, state.beta2)),
    "SGDScheduleFree": [("Optim.SGDScheduleFree.float_step_error_le",
                         lambda kw, state, dtype: _fixed(state, warmup_steps=0)),
                        ("Optim.SGDScheduleFree.float_step_error_le_with_warmup",
                         lambda kw, state, dtype: _fixed(state, weight_lr_power=2)),
                        ("Optim.SGDScheduleFree.float_step_error_le_with_warmup_power_le_4",
                         lambda kw, state, dtype: _fixed(state) and 0 <= state.weight_lr_power <= 4),
                        ("Optim.SGDScheduleFree.float_step_error_le_with_warmup_power_le_64",
                         lambda kw, state, dtype: _fixed(state) and 0 <= state.weight_lr_power <= 64)],
    "AdamWScheduleFree": [("Optim.AdamWScheduleFree.float_step_error_le",
                           lambda kw, state, dtype: _fixed(state, warmup_steps=0) and _below(state.beta1, state.beta2)),
                          ("Optim.AdamWScheduleFree.float_step_error_le_with_warmup",
                           lambda kw, state, dtype: _fixed(state, weight_lr_power=2) and _below(state.beta1, state.beta2)),
                          ("Optim.AdamWScheduleFree.float_step_error_le_with_warmup_power_le_64",
                           lambda kw, state, dtype: _fixed(state) and 0 <= state.weight_lr_power <= 64
                           and _below(state.beta1, state.beta2))],
    # RAdam's first steps (ρ_t ≤ 5, SGD with momentum on m̂) and its rectified ones; without weight
    # decay, with L2 weight decay (κ ≤ 1/8 read off the inputs), with decoupled weight decay
    "RAdam": [(f"Optim.RAdam.float_step_error_le_{regime}{suffix}",
               lambda kw, state, dtype, rectified=regime == "rectified", decay=suffix: _decay_as_stated(state, decay)
               and _below(state.beta1, state.beta2) and (_rho(state) > optim.radam.RECTIFICATION_THRESHOLD) == rectified)
              for regime in ("unrectified", "rectified") for suffix in ("", "_weight_decay", "_decoupled")],
    # NAdam's first step (μ_prod = 1) and every later one (μ_prod ≤ 53/100: Optim.NAdam.mu_product_regime);
    # without weight decay, with L2 weight decay, with decoupled weight decay
    "NAdam": [(f"Optim.NAdam.float_step_error_le{suffix}{step}",
               lambda kw, state, dtype, decay=suffix, first=bool(step): _nadam_regime(state, decay) and (
                   state.t == 0 and state.mu_product == 1 if first
                   else state.t <= 2**30 and Fraction(float(state.mu_product)) <= Fraction(53, 100)))
              for suffix in ("", "_weight_decay", "_decoupled") for step in ("_first", "")],
    # plain SGD: TorchLean's contract (u per operation) holds in float64, where lr's conversion is
    # exact; the NumPy one, with that conversion, in both dtypes
    "SGD": [("Optim.SGD.float_step_error_le",
             lambda kw, state, dtype: _fixed(state, weight_decay=0, momentum=0, dampening=0) and dtype == "float64"),
            ("Optim.SGD.float_numpy_step_error_le", lambda kw, state, dtype: _fixed(state, weight_decay=0, momentum=0))]
           # with momentum: its first step (torch's buffer a copy of g) and the later ones, maximize or not
           + [(f"Optim.SGD.float_momentum{step}_error_le{suffix}",
               lambda kw, state, dtype, flags=flags, first=step == "_first_step": _fixed(state, weight_decay=0, **flags)
               and state.momentum > 0 and (state.buf is None) == first)
              for step in ("_first_step", "_step") for suffix, flags in (("", {}), ("_maximize", dict(maximize=True)))]
           # nesterov, with L2 weight decay or without: its first step and the later ones
           + [(f"Optim.SGD.float_nesterov{step}_error_le{suffix}",
               lambda kw, state, dtype, first=step == "_first_step", decay=bool(suffix): _fixed(state, nesterov=True)
               and state.momentum > 0 and state.dampening == 0 and (state.weight_decay > 0) == decay
               and (state.buf is None) == first)
              for step in ("_first_step", "_step") for suffix in ("_weight_decay", "")],
    "MomentumSGD": ("Optim.MomentumSGD.float_step_error_le", lambda kw, state, dtype: True),
    # four proved contracts composed (``muon_step_bound``): the momentum's (nesterov or not), the
    # normalisation's, the Newton–Schulz step's (ns_steps times) and the decayed step's
    "Muon": (MUON_COMPOSED, lambda kw, state, dtype: _muon_applies(state)),
    # a vector's (V) and a matrix's (its factors R, C; a tensor of 3 or more axes has none yet), where
    # the float test of torch's lerp, |fl(w)| < ½, agrees with the exact one (exact(branches="assumed"))
    "Adafactor": [(f"Optim.Adafactor.float_step_error_le_{kind}{suffix}",
                   lambda kw, state, dtype, flags=flags, kind=kind: _fixed(state, **flags)
                   and (state.variance is not None if kind == "vector" else np.ndim(state.row_var) == 2)
                   and _lerp_test_agrees(state.t + 1, state.beta2_decay)
                   and ("weight_decay" in flags or state.weight_decay > 0 and _below(state.lr * state.weight_decay)))
                  for kind in ("vector", "matrix")
                  for suffix, flags in (("", dict(weight_decay=0)), ("_maximize", dict(weight_decay=0, maximize=True)),
                                        ("_weight_decay", {}), ("_weight_decay_maximize", dict(maximize=True)))],
}
_CONTRACT_DATA: dict = {}


def _decay_as_stated(state, decay: str) -> bool:
    """The weight decay a RAdam or NAdam contract states: none, L2 (λ > 0), or decoupled (λ > 0,
    lr·λ ≤ 1 − 2⁻²⁰), by the suffix of its name."""
    if not decay:
        return _fixed(state, weight_decay=0)
    if decay == "_weight_decay":
        return _fixed(state) and state.weight_decay > 0
    return _fixed(state, decoupled_weight_decay=True) and state.weight_decay > 0 and _below(state.lr * state.weight_decay)


def _muon_applies(state) -> bool:
    """The four contracts' conditions on the state: 0 ≤ μ ≤ 1, lr·λ ≤ 1 − 2⁻²⁰, and the float test
    |fl(1 − μ)| < ½ of torch's lerp agreeing with the exact one (|μ| < ½ is exact: μ is the float)."""
    momentum = Fraction(state.momentum)
    return (0 <= momentum <= 1 and Fraction(state.lr) * Fraction(state.weight_decay) <= Fraction(AWAY)
            and (abs(1 - state.momentum) < 0.5) == (abs(1 - momentum) < Fraction(1, 2)))


def _lerp_test_agrees(t, power) -> bool:
    """Whether |w| < ½ for Python's float w = t ** power and for the exact real one agree."""
    import mpmath
    with mpmath.workdps(60):
        exact = mpmath.power(mpmath.mpf(t), _as_mpf(power))
        return (abs(float(t) ** power) < 0.5) == (abs(exact) < 0.5)


def _nadam_regime(state, decay: str = "") -> bool:
    """NAdam's contracts' conditions: β1, β2 ≤ 1 − 2⁻²⁰, ψ ≤ 1, and the weight decay the contract
    states (none; ``_weight_decay``, L2, λ > 0 — κ ≤ 1/8 read off the inputs; ``_decoupled``, as RAdam's)."""
    return _decay_as_stated(state, decay) and _below(state.beta1, state.beta2) and state.momentum_decay <= 1


def applicable_contract(name: str, kwargs: dict, state, dtype_name: str) -> str | None:
    """The first of the optimizer's proved contracts whose conditions these inputs meet (an entry
    of CONTRACTS is one (theorem, condition) or a list of them, the tightest first), or None."""
    entries = CONTRACTS.get(name, [])
    for theorem_name, applies in entries if isinstance(entries, list) else [entries]:
        if applies(kwargs, state, dtype_name):
            return theorem_name
    return None


def _contract(theorem_name: str) -> tuple:
    """(paths, row): the contract's claimed bound per path — (path conditions, its symbols, the
    bound as an mpmath function of them) — and, over a row, what its whole-row quantities are
    (``_Row``)."""
    if theorem_name not in _CONTRACT_DATA:
        import sympy
        from proofs.harness import build_theorem, registry
        import proofs.theorems.precision  # noqa: F401  (registers the contracts)
        theorem = next(t for t in registry if t.name == theorem_name)
        data = build_theorem(theorem)
        paths = []
        for ob in data.obligations:
            if ob.pairs:
                bound = ob.pairs[0][2]
                symbols = sorted(bound.free_symbols | set().union(*(c.free_symbols for c in ob.path)), key=str)
                paths.append((ob.path, symbols, sympy.lambdify(symbols, bound, modules="mpmath")))
        _CONTRACT_DATA[theorem_name] = paths, _Row(data)
    return _CONTRACT_DATA[theorem_name]


class _Row:
    """A contract over a row (a vector of length n, or a matrix (m, n): the whole tensor): its
    sums Σk (as their summands, over some of its axes: a sum along one axis is a value per entry
    of the others), its summation bounds Γ (each at the γ of its own length), its row sums' ratios
    ρ (the least the hypothesis Σ e ≤ ρ·Σ s allows), its ratio lemmas' κ (the least E ≤ κ·|X| at
    every entry allows) and the hypotheses on these, which the inputs must meet."""

    def __init__(self, data):
        import sympy
        from proofs.crosscheck import _row_axes
        self.axes = next((_row_axes(v.note) for v in data.variables if v.name == "params" and _row_axes(v.note)),
                         ("n",))     # the lengths' names, axis by axis (a matrix's m, n)
        self.sums = {v.name: (v.summand, v.over or ("n",)) for v in data.variables if v.summand is not None}
        self.gammas = {v.name: h.rhs for v in data.variables if v.note == SUM_ERROR_BOUND for h in data.hypotheses
                       if isinstance(h, sympy.LessThan) and h.lhs == v.symbols[0] and "u" in map(str, h.rhs.free_symbols)}
        ratios = {v.symbols[0] for v in data.variables if v.note == ROW_SUM_RATIO}
        self.ratios = {str(r): h for r in ratios for h in data.hypotheses     # Σ e ≤ ρ·Σ s, not φ's box
                       if isinstance(h, sympy.LessThan) and r in h.rhs.free_symbols and r not in h.lhs.free_symbols
                       and not any(str(s).startswith("delta") for s in h.free_symbols)}
        kappas = {v.symbols[0] for v in data.variables if v.note == ENTRY_ERROR_RATIO}
        self.entry_ratios = {str(k): h for k in kappas for h in data.hypotheses     # E ≤ κ·|X| at every entry
                             if isinstance(h, sympy.LessThan) and k in h.rhs.free_symbols and k not in h.lhs.free_symbols}
        whole = {str(s) for s in ratios | kappas} | {*self.sums, *self.gammas, *self.axes}
        own = [h for h in data.hypotheses if h not in self.ratios.values() and h not in self.entry_ratios.values()
               and not any(str(s).startswith("delta") for s in h.free_symbols)]     # not a rounding error's box
        self.hypotheses = [h for h in own if {str(s) for s in h.free_symbols} & whole
                           and not any(_entry_name(str(s)) != str(s) for s in h.free_symbols)]
        # the others; those on the entries (RMSprop centered's v′ − ḡ′² ≥ 0, or an entry against a
        # sum) are checked at each entry, with the whole-row values there
        self.local = [h for h in own if h not in self.hypotheses]

    def entry_hypotheses(self, arrays: dict) -> list:
        """The hypotheses on the entries of these arrays (a row's ``g_i``, a tensor's ``g``)."""
        return [h for h in self.local if {_entry_name(str(s)) for s in h.free_symbols} & set(arrays)]

    def values(self, entries: dict, scalars: dict, size: int, unit: float) -> dict:
        """The lengths, each Σk (at 60 digits, from the floats' exact values: over every entry, or an
        array of the sums along its axes), each Γ = γ of its length, each κ = max E/|X|, each
        ρ = Σ e/Σ s."""
        import mpmath
        import sympy
        shape = np.shape(entries["params"])
        lengths = dict(zip(self.axes, shape)) if len(self.axes) == len(shape) else {self.axes[0]: size}
        values = {name: sympy.Integer(n) for name, n in lengths.items()}
        ratio_names = set(self.entry_ratios) | set(self.ratios)
        for name, gamma in self.gammas.items():     # first: a ratio lemma's E may hold one (Adafactor's Γ_n)
            values[name] = gamma.xreplace({s: sympy.Rational(*float(unit).as_integer_ratio()) if str(s) == "u"
                                           else values[str(s)] for s in gamma.free_symbols})
        with mpmath.workdps(60):
            for name, (summand, over) in self.sums.items():    # κ's E may hold a sum, ρ's e κ: those sums last
                if not {str(s) for s in summand.free_symbols} & ratio_names:
                    values[name] = self._sum(summand, over, entries, {**scalars, **values}, shape)
            for name, h in self.entry_ratios.items():   # κ = max E/|X| over the entries
                values[name] = self._entry_ratio(sympy.Symbol(name, real=True), h, entries, {**scalars, **values})
            for name, (summand, over) in self.sums.items():
                if name not in values:
                    values[name] = self._sum(summand, over, entries, {**scalars, **values}, shape)
        waiting = dict(self.ratios)
        while waiting:     # each ρ once the ratios its e holds are known (Adafactor's ρ holds ρ_R)
            ready = [name for name, h in waiting.items()
                     if not {str(s) for s in h.free_symbols} & (set(waiting) - {name})]
            if not ready:
                raise ValueError(f"the row sums' ratios {sorted(waiting)} depend on each other")
            for name in ready:
                h, rho, known = waiting.pop(name), sympy.Symbol(name, real=True), {**scalars, **values}
                total, per_rho = (h.lhs.xreplace(_symbols_at(h.lhs, known)),
                                  h.rhs.coeff(rho).xreplace(_symbols_at(h.rhs, known)))
                values[name] = total / per_rho if per_rho > 0 else (0 if total == 0 else sympy.oo)
        return values

    def _sum(self, summand, over: tuple, entries: dict, known: dict, shape: tuple):
        """Σ summand over the axes of ``over``: a number where it sums every axis, else an array
        (of ``shape``) holding at each entry the sum along those axes through it."""
        import mpmath
        import sympy
        symbols = sorted(summand.free_symbols, key=str)
        f = sympy.lambdify(symbols, summand, modules="mpmath")
        terms = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            terms[index] = f(*[_as_mpf(_entry_at(s.name, entries, known, index)) for s in symbols])
        axes = tuple(self.axes.index(n) for n in over) if len(self.axes) == len(shape) else tuple(range(len(shape)))
        if len(axes) == len(shape):
            return sympy.Float(mpmath.fsum(terms.ravel()), 60)
        along = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            through = tuple(slice(None) if k in axes else i for k, i in enumerate(index))
            along[index] = sympy.Float(mpmath.fsum(terms[through].ravel()), 60)
        first = along.flat[0]
        return first if all(v == first for v in along.flat) else along   # a summand free of the others (Σᵢ Rᵢ): one number

    @staticmethod
    def _entry_ratio(kappa, h, entries: dict, known: dict):
        """The least κ with E ≤ κ·|X| at every entry (∞ where X = 0 < E)."""
        import mpmath
        import sympy
        per_kappa = h.rhs.coeff(kappa)
        symbols = sorted((h.lhs.free_symbols | per_kappa.free_symbols) - {kappa}, key=str)
        error, scale = (sympy.lambdify(symbols, side, modules="mpmath") for side in (h.lhs, per_kappa))
        worst = mpmath.mpf(0)
        for index in np.ndindex(np.shape(entries["params"])):
            at = [_as_mpf(_entry_at(s.name, entries, known, index)) for s in symbols]
            e, x = error(*at), scale(*at)
            worst = max(worst, e / x if x > 0 else (0 if e == 0 else mpmath.inf))
        return sympy.Float(worst, 60) if mpmath.isfinite(worst) else sympy.oo

    def hypotheses_hold(self, values: dict) -> bool:
        """Every whole-row hypothesis at these values; one on a sum along an axis (Σⱼ g_i_j² ≥ 0) at
        every entry."""
        def holds(h) -> bool:
            along = [v for v in (values.get(str(s)) for s in h.free_symbols) if isinstance(v, np.ndarray)]
            if not along:
                return _holds_at(h, values)
            return all(_holds_at(h, {k: v[index] if isinstance(v, np.ndarray) else v for k, v in values.items()})
                       for index in np.ndindex(along[0].shape))
        return all(holds(h) for h in self.hypotheses)


ROW_INDICES = ("_i_j", "_i", "_j")   # a row's entry names its indices: g_i, a matrix's g_i_j, its factors' R_i, C_j


def _entry_name(name: str) -> str:
    """The array a row's entry symbol reads (``grads_i_j``: grads), or the name itself."""
    return next((name[:-len(suffix)] for suffix in ROW_INDICES if name.endswith(suffix)), name)


def _entry_at(name: str, entries: dict, known: dict, index):
    """A symbol's value at an entry: a row's entry (``g_i``; a matrix's ``g_i_j``, its row factor's
    ``R_i``, broadcast to the entry), a tensor's of every shape (``g``), a sum along axes (at the
    entry), a scalar."""
    array = _entry_name(name)
    if array != name and array in entries or array in entries:
        shape = np.shape(entries["params"])
        return np.broadcast_to(entries[array], shape)[index]
    value = known[name]
    return value[index] if isinstance(value, np.ndarray) else value


def _symbols_at(e, values: dict) -> dict:
    """``e``'s symbols at ``values``, as 60-digit numbers (exact rationals would carry β^1001 in full)."""
    import sympy
    return {s: sympy.Float(values[str(s)], 60) if isinstance(values[str(s)], (int, float, np.floating, np.integer))
            else sympy.Float(values[str(s)], 60) if values[str(s)].is_number and values[str(s)].is_finite
            else values[str(s)] for s in e.free_symbols if str(s) in values}


# the optimizers whose update starts g ← −g under maximize (``_shared.gradient_preamble`` or
# ``maximized`` first), so that a step with maximize is the step without it on −g, float for float
# (tests/test_precision.py checks it bit for bit)
NEGATED_FIRST = ("Adadelta", "Adagrad", "Adam", "Adamax", "ASGD", "NAdam", "RAdam", "RMSprop", "Rprop", "SGD")


def contract_bound(name: str, kwargs: dict, state, p, g, dtype_name: str) -> np.ndarray | None:
    """The proved contract's bound on |fl(p′) − p′| at these inputs, entry by entry (the claimed
    bound evaluated at 50 digits from the exact values of the float inputs), or None where no
    contract applies (its conditions, or its whole-row hypotheses, fail at these inputs)."""
    import mpmath
    import sympy
    theorem_name = applicable_contract(name, kwargs, state, dtype_name)
    if theorem_name is None and getattr(state, "maximize", False) and name in NEGATED_FIRST:
        # maximize = True is maximize = False on −g, bit for bit (the first line of the update negates g,
        # exactly): a contract stated for every g holds at −g
        return contract_bound(name, kwargs, dataclasses.replace(state, maximize=False), p, -g, dtype_name)
    if theorem_name is None or rounding.underflows(optim.CLASSES[name].family, state, p, g):
        return None     # the contracts are stated without underflow: there an error is absolute, not relative
    if theorem_name in COMPOSED:
        return COMPOSED[theorem_name](state, p, g, dtype_name)
    paths, row = _contract(theorem_name)
    out = np.zeros(np.shape(p))
    unit = float(np.finfo(DTYPES[dtype_name]).eps) / 2
    arrays = {"params": p, "grads": g, **{f.name: getattr(state, f.name) for f in dataclasses.fields(state)
                                          if isinstance(getattr(state, f.name), np.ndarray)}}
    scalars = {"u": unit, "unit": unit, **{f.name: getattr(state, f.name) for f in dataclasses.fields(state)
                                           if not isinstance(getattr(state, f.name), (np.ndarray, bool, str, type(None)))}}
    if getattr(state, "epsilon1", 0) is None:    # Adafactor's default ε1: the dtype's machine epsilon
        scalars["epsilon1"] = float(np.finfo(DTYPES[dtype_name]).eps)
    whole = row.values(arrays, scalars, int(np.size(p)), unit)
    if not row.hypotheses_hold({**{k: v for k, v in scalars.items()}, **whole}):
        return None
    on_entries = row.entry_hypotheses(arrays)
    taken: dict = {}    # each path's truth, by the values its conditions read (a row's sums: once)
    with mpmath.workdps(50):
        for index in np.ndindex(np.shape(p)):
            values = {"params": p[index], "grads": g[index], "u": unit, "unit": unit}
            for field in dataclasses.fields(state):
                value = getattr(state, field.name)
                values[field.name] = (np.broadcast_to(value, np.shape(p))[index] if isinstance(value, np.ndarray)
                                      else scalars.get(field.name, value))     # a matrix's factor R at its row
            values.update({f"{k}{suffix}": v for k, v in list(values.items()) for suffix in ROW_INDICES})  # g_i, g_i_j
            exact = {k: v if isinstance(v, sympy.Basic) else sympy.Rational(*float(v).as_integer_ratio())
                     for k, v in values.items() if v is not None and not isinstance(v, (bool, str))}
            exact.update({k: v[index] if isinstance(v, np.ndarray) else v for k, v in whole.items()})
            if not all(_holds_at(h, exact) for h in on_entries):
                return None     # the theorem says nothing about this entry
            for number, (path, symbols, bound) in enumerate(paths):
                # a branch on a rounded value is taken as the exact run takes it (the theorem shows
                # no rounding changes it): its rounding errors at 0
                at = {s: exact.get(str(s), 0 if str(s).startswith("delta") else None) for s in symbols}
                if _path_holds(number, path, at, taken):
                    out[index] = float(bound(*[_as_mpf(at[s]) for s in symbols]))
                    break
            else:
                raise ValueError(f"no path of {theorem_name} holds at these inputs")
    return out


def _exactly(state, fields: tuple, buffers: tuple):
    """The state at the exact values its floats store: hyperparameters as balls (their products,
    1 − μ, lr·λ, exact — not Python's float64 ones), buffers as ball tensors."""
    from symbolic.enclosure import Ball, BallTensor, _arb
    return dataclasses.replace(state, **{f: Ball(_arb(getattr(state, f))) for f in fields},
                               **{b: BallTensor.exact(getattr(state, b)) for b in buffers})


def _as_written(value):
    """The theorems' ``form`` (``x.multiplied_out`` there): here the bound as written."""
    return value


def _rounded_up(t):
    """A ball tensor of bounds as the exact numbers at its balls' upper ends: a bound ≥ the true
    one, which the next contract may take as its input's error (each holds for any larger bound)."""
    import flint
    from symbolic.enclosure import BallTensor
    return BallTensor(np.vectorize(lambda v: flint.arb(v.upper()), otypes=[object])(t.a), t.origin)


def _row_ratio(ctx, error, square):
    """ρ = Σ e/Σ s (rounded up), the least a row sum's lemma allows; None where Σ s = 0."""
    total = ctx.total(square).v
    return (ctx.total(error).v / total).upper() if total > 0 else None


def _unit_and_gamma(dtype_name: str) -> tuple:
    import flint
    u = flint.arb(float(np.finfo(DTYPES[dtype_name]).eps)) / 2
    return u, lambda k: (k - 1) * u / (1 - (k - 1) * u)


def lamb_step_bound(state, p, g, dtype_name: str) -> np.ndarray | None:
    """A bound on |fl(p′) − p′| for LAMB's step, weight decay λ ≥ 0: its two proved contracts chained
    (the direction's E, then the trust-ratio step from any float direction within E), evaluated on
    arb balls as ``muon_step_bound``; None where ρ > 1/8 (d cancelling to its roundings) or
    (n − 1)u > 2⁻⁵."""
    import flint
    from optim import lamb
    from proofs.theorems import precision as contracts
    from symbolic.enclosure import BallTensor
    u, gamma = _unit_and_gamma(dtype_name)
    exact = _exactly(state, ("lr", "beta1", "beta2", "epsilon", "eps_root", "weight_decay"), ("m", "v"))
    params, grads = BallTensor.exact(p), BallTensor.exact(g)
    ctx = optim.context.context_of(params)
    error = _rounded_up(contracts.lamb_decay_direction_bound(_as_written, u, exact, params, grads))
    d = lamb.direction(exact, params, grads)[3]
    n = int(np.size(p))
    rho = _row_ratio(ctx, contracts.square_error_within(_as_written, u, d, error), d * d)
    if rho is None or not rho <= flint.arb(1) / 8 or not (n - 1) * u <= flint.arb(1) / 32:
        return None
    bound = contracts.lamb_trust_step_bound(_as_written, u, exact, params, d, error, gamma(n), rho,
                                            lamb.trust_step(exact, params, d))
    return bound.bound_above()


def muon_step_bound(state, p, g, dtype_name: str) -> np.ndarray | None:
    """A bound on |fl(p′) − p′| for Muon's step, entry by entry: its four proved contracts chained
    (``proofs/theorems/precision.py``; each holds for every float input within its bound of the
    exact value, so each one's bound is the next one's input error), evaluated on arb balls from the
    exact values of the inputs and hyperparameters — each bound rounded up to an exact number before
    it enters the next — or None where a contract's hypothesis fails (ρ ≤ 1/8: D̂ not cancelling
    to its roundings; Γ ≤ 1/31).  The step's lr ratio r is the Python float the code computes; its
    own error, lr·|r̂ − r|·|O|, is added (the decayed step's contract is stated at r̂).

    Through the Newton–Schulz steps a second bound runs beside the entrywise one, on eₖ ≥ ‖X̂ₖ − Xₖ‖_F:
    eₖ₊₁ = ‖κ·Q(|Xₖ| + Bₖ)‖_F + L(sₖ)·eₖ — the step's own roundings (the perturbed contract at X̂ₖ
    itself, B = 0; Q is increasing and |X̂ₖ| ≤ |Xₖ| + Bₖ) plus the exact step's change,
    ‖q(X̂) − q(X)‖_F ≤ L·‖X̂ − X‖_F, L = max |q′| on [0, s], s ≥ ‖X‖₂ + eₖ ≥ ‖X̂‖₂.  That last
    inequality is a lemma proved by hand, not by the prover: for symmetric A = Σ λᵢ·uᵢuᵢᵀ,
    B = Σ μⱼ·vⱼvⱼᵀ with spectra in an interval where f is L-Lipschitz, the entries of f(A) − f(B)
    and A − B in those bases are (f(λᵢ) − f(μⱼ))·uᵢᵀvⱼ and (λᵢ − μⱼ)·uᵢᵀvⱼ, so
    ‖f(A) − f(B)‖_F ≤ L·‖A − B‖_F; apply it to H(X) = [[0, X], [Xᵀ, 0]], whose spectrum is ±σᵢ(X)
    (and 0) and for which q(H(X)) = H(q(X)) (q odd: the step is p(X·Xᵀ)·X, the theorems
    ``Optim.Muon.newton_schulz_step_on_singular_values`` and ``…_commutes_with_rotations``), and
    ‖H(E)‖_F = √2·‖E‖_F.  Each bound holds, so each entry takes the smaller (``_entrywise_min``):
    the entrywise one grows ~28× a step once X is near orthogonal, the norm-wise one ≤ 4.3× (q's
    slope on [0, 1.21], ``Optim.Muon.ns_polynomial_lipschitz_on_band``)."""
    import math

    import flint
    from optim import muon
    from proofs.theorems import precision as contracts
    from symbolic.enclosure import BallTensor
    u, gamma = _unit_and_gamma(dtype_name)
    exact = _exactly(state, ("lr", "weight_decay", "momentum", "a", "b", "c", "epsilon"), ("buf",))
    params, grads = BallTensor.exact(p), BallTensor.exact(g)
    ctx = optim.context.context_of(params)
    buf, d = muon.momentum_direction(exact, grads)
    error = _rounded_up(contracts.muon_momentum_bound(_as_written, u, exact.buf, grads, buf, d, state.nesterov))
    rows, columns = np.shape(p)
    wide = (lambda t: ctx.transpose(t)) if rows > columns else (lambda t: t)   # the iteration's orientation
    d, error = wide(d), wide(error)
    m, n = d.shape
    rho = _row_ratio(ctx, contracts.square_error_within(_as_written, u, d, error), d * d)
    if rho is None or not rho <= flint.arb(1) / 8 or not gamma(m * n) <= flint.arb(1) / 31:
        return None
    bound = _rounded_up(contracts.muon_normalisation_bound(_as_written, u, d, error, exact.epsilon, gamma(m * n), rho))
    x = muon.normalised(d, exact.epsilon)
    kappa = contracts.newton_schulz_kappa(_as_written, u, gamma(m), gamma(n))
    lipschitz = _newton_schulz_lipschitz(state)
    norm_error = _frobenius_above(bound)
    for _ in range(state.ns_steps):
        bound = _entrywise_min(bound, norm_error)
        # the step's own roundings: the perturbed contract at X̂ itself (B = 0), κ·Q(|X̂|) ≤ κ·Q(|X| + B)
        own = kappa * contracts.newton_schulz_sizes(ctx.abs(x) + bound, exact.a, exact.b, exact.c)
        carried = lipschitz(_spectral_above(x) + norm_error) * norm_error      # ‖q(X̂) − q(X)‖_F
        norm_error = flint.arb((_frobenius_above(own) + carried).upper())
        bound = _rounded_up(contracts.newton_schulz_error(_as_written, kappa, x, bound, exact.a, exact.b, exact.c))
        x = muon.newton_schulz_step(x, exact.a, exact.b, exact.c)
    o, bound = wide(x), wide(_entrywise_min(bound, norm_error))
    ratio = muon.lr_ratio(state.adjust_lr_fn, (rows, columns), math.sqrt)       # the float the code uses
    stepped = muon.decayed_step(exact, params, o, ratio)
    total_bound = (contracts.muon_decayed_bound(_as_written, u, exact, params, o, bound, ratio, stepped)
                   + abs(exact.lr * (ratio - muon.lr_ratio(state.adjust_lr_fn, (rows, columns), ctx.sqrt))) * abs(o))
    return total_bound.bound_above()


def _frobenius_above(t):
    """An exact number ≥ ‖t‖_F (the code's own ``norm``, on balls)."""
    import flint
    from optim._shared import norm
    return flint.arb(norm(t).v.upper())


def _entrywise_min(bound, norm_error):
    """Each entry's bound, or ‖B‖_F where that is smaller: both bound every entry of |X̂ − X|."""
    from symbolic.enclosure import BallTensor
    return BallTensor(np.vectorize(lambda v: v if v <= norm_error else norm_error, otypes=[object])(bound.a), bound.origin)


def _spectral_above(x):
    """An exact number ≥ ‖X‖₂: ‖X‖₂² is the largest eigenvalue λ of G = X·Xᵀ (symmetric, ≥ 0),
    and λ^(2ᵏ) is at most G^(2ᵏ)'s largest row sum of sizes and its trace (the sum of its
    eigenvalues, all ≥ 0); the least over k = 0…3 (near orthogonal G ≈ I and the row sums are
    tight; near rank one the trace is: ‖X‖_F)."""
    import flint
    gram, best = x.a @ x.a.T, None
    for k in range(4):
        row = flint.arb(min(max(sum(abs(v) for v in r).upper() for r in gram),
                            sum((gram[i, i] for i in range(len(gram))), flint.arb(0)).upper()))
        for _ in range(k):
            row = flint.arb(row.sqrt().upper())
        best = row if best is None or row < best else best
        gram = gram @ gram
    return flint.arb(best.sqrt().upper())


def _newton_schulz_lipschitz(state):
    """s ↦ an exact number ≥ max |q′(σ)| over |σ| ≤ s, q the Newton–Schulz step on a scalar
    (``muon.ns_polynomial``: the code's own arithmetic, on torch's coefficients as the doubles the
    state holds), differentiated by SymPy; its range enclosed in arb on 256 pieces of [0, s]
    (q′ is even: q is odd).  By the lemma in ``muon_step_bound``, this bounds
    ‖q(X̂) − q(X)‖_F/‖X̂ − X‖_F when ‖X‖₂, ‖X̂‖₂ ≤ s."""
    import flint
    import sympy
    from optim import muon
    from symbolic.tensor import SymScalar
    sigma = SymScalar.symbol("sigma", real=True)
    a, b, c = (sympy.Rational(*float(v).as_integer_ratio()) for v in (state.a, state.b, state.c))
    slope = sympy.Poly(sympy.diff(muon.ns_polynomial(sigma, a, b, c).expr, sigma.expr), sigma.expr)
    coefficients = [flint.arb(int(k.p)) / int(k.q) for k in slope.all_coeffs()]

    def at_most(s, pieces: int = 256):
        width = flint.arb(s) / pieces
        worst = flint.arb(0)
        for i in range(pieces):
            piece = flint.arb((width * (2 * i + 1) / 2).mid(), (width / 2).upper() * (1 + flint.arb(2) ** -40))
            value = flint.arb(0)
            for k in coefficients:
                value = value * piece + k
            worst = max(worst, flint.arb(abs(value).upper()), key=lambda v: v.upper())
        return worst
    return at_most


# the whole-step bounds composed of proved contracts, by the name CONTRACTS gives them
COMPOSED = {MUON_COMPOSED: muon_step_bound, LAMB_COMPOSED: lamb_step_bound}


def _holds_at(relation, values: dict) -> bool:
    """Whether ``relation`` holds at ``values``, at 60 digits: a side equal to the other's up to
    10⁻⁴⁰ of their size counts as equal (Γ = γ_{n−1} meets its own formula)."""
    import sympy
    at = _symbols_at(relation, values)
    lhs, rhs = (sympy.N(side.xreplace(at), 60) for side in (relation.lhs, relation.rhs))
    slack = sympy.Float(10, 60) ** -40 * (abs(lhs) + abs(rhs))
    close = bool(lhs.is_finite and rhs.is_finite) and abs(lhs - rhs) <= slack   # ∞ is close to nothing
    if isinstance(relation, (sympy.Eq, sympy.Ne)):
        return bool(close) == isinstance(relation, sympy.Eq)
    strictly = bool(lhs < rhs) if isinstance(relation, (sympy.LessThan, sympy.StrictLessThan)) else bool(lhs > rhs)
    if isinstance(relation, (sympy.LessThan, sympy.GreaterThan)):
        return strictly or bool(close)
    return strictly and not bool(close)


def _path_holds(number: int, path: list, at: dict, taken: dict) -> bool:
    read = tuple(sorted((str(s), at[s]) for c in path for s in c.free_symbols if s in at))
    if (number, read) not in taken:
        taken[number, read] = all(_holds_at(c, {str(s): v for s, v in at.items()}) for c in path)
    return taken[number, read]


def _as_mpf(value):
    """A float (exactly), a SymPy number or a 60-digit Float as an mpmath number."""
    import mpmath
    import sympy
    if isinstance(value, sympy.Float):
        return mpmath.mpf(str(value))
    value = sympy.Rational(*float(value).as_integer_ratio()) if isinstance(value, (float, np.floating)) else sympy.Rational(value)
    return mpmath.mpf(value.p) / value.q


def one_step(name: str, kwargs: dict, dtype_name: str, case: dict, rng) -> dict:
    family = optim.CLASSES[name].family
    worst = {"ulps": 0.0, "of step": 0.0, "bound ulps": 0.0, "error / bound": 0.0, "buffer ulps": 0.0,
             "certified ulps": 0.0, "error / certified": 0.0}
    for state, p, g in inputs(name, kwargs, dtype_name, case, rng):
        new_state, new_p = family.update(state, p, g)
        exact_state, exact_p = enclosure.enclosed_step(family, state, p, g)
        error = exact_p.error_bound(new_p)
        spacing = _ulp(new_p)
        step = np.max(np.abs(exact_p.midpoint() - p.astype(np.float64)))
        bound = rounding.step_bound(family, state, p, g)
        if not np.all(np.isfinite(bound)):
            worst["overflow"] = True   # a value past the dtype's range: no rounding model applies
        try:
            certified = enclosure.certified_bound(family, state, p, g)
        except enclosure.Undecided:   # the model's roundings could reach a divisor of 0: no ball
            certified = np.full(p.shape, np.inf)
        if worst.get("overflow"):
            certified = np.full(p.shape, np.inf)
        worst["certified ulps"] = max(worst["certified ulps"], float(np.max(certified / spacing)))
        worst["error / certified"] = max(worst["error / certified"], _worst_ratio(error, certified))
        worst["ulps"] = max(worst["ulps"], float(np.max(error / spacing)))
        worst["of step"] = max(worst["of step"], float(np.max(error)) / step if step > 0 else 0.0)
        worst["bound ulps"] = max(worst["bound ulps"], float(np.max(bound / spacing)))
        worst["error / bound"] = max(worst["error / bound"], _worst_ratio(error, bound))
        proved = None if worst.get("overflow") else contract_bound(name, kwargs, state, p, g, dtype_name)
        if proved is None:      # why: a value below the dtype's normal range, or no theorem for this param
            why = "underflow for shapes" if rounding.underflows(family, state, p, g) else "no contract for shapes"
            worst[why] = sorted({*worst.get(why, []), str(np.shape(p))})
        if proved is not None:
            worst["proved ulps"] = max(worst.get("proved ulps", 0.0), float(np.max(proved / spacing)))
            worst["error / proved"] = max(worst.get("error / proved", 0.0), _worst_ratio(error, proved))
        for field in optim.fields.buffers(new_state):
            value, ball = getattr(new_state, field), getattr(exact_state, field)
            if isinstance(value, np.ndarray) and isinstance(ball, enclosure.BallTensor):
                worst["buffer ulps"] = max(worst["buffer ulps"], float(np.max(ball.error_bound(value) / _ulp(value))))
    return worst


def _ulp(values: np.ndarray) -> np.ndarray:
    """The spacing of the floats at each entry (at least the dtype's smallest normal's)."""
    return np.spacing(np.maximum(np.abs(values), np.finfo(values.dtype).tiny)).astype(np.float64)


def _worst_ratio(error: np.ndarray, bound: np.ndarray) -> float:
    """max error / bound over the entries (0/0 is 0, a nonzero error over a zero bound ∞)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.max(np.where(bound > 0, error / bound, np.where(error > 0, np.inf, 0.0))))


# ---------------------------------------------------------------------------------------------
# Drift on a small model: ½‖P·X − Y‖² / 5, P ∈ ℝ^{3×4}

def model(rng):
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    return x, y, rng.standard_normal((3, 4))


def gradient(p, x, y):
    """(P·X − Y)·Xᵀ / 5 in the array's own arithmetic (floats, or arb balls on object arrays)."""
    return (p @ x - y) @ x.T / 5


def drift(name: str, steps: int, every: int, rng) -> dict:
    family = optim.CLASSES[name].family
    x, y, p0 = model(rng)
    out = {"steps": [], "float32": [], "float64": [], "radius": []}
    runs = {}
    for dtype_name, dtype in DTYPES.items():
        p = p0.astype(dtype)
        runs[dtype_name] = (family.init(p, **arguments(name, {})), p, x.astype(dtype), y.astype(dtype))
    ball_p = enclosure.BallTensor.exact(p0.astype(np.float64))
    ball_x, ball_y = enclosure.BallTensor.exact(x), enclosure.BallTensor.exact(y)
    ball_state = family.init(ball_p, **arguments(name, {}))
    lost = None
    for k in range(1, steps + 1):
        for dtype_name, (state, p, xx, yy) in runs.items():
            state, p = family.update(state, p, gradient(p, xx, yy).astype(p.dtype))
            runs[dtype_name] = (state, p, xx, yy)
        if lost is None:
            try:
                g = enclosure.BallTensor(gradient(ball_p.a, ball_x.a, ball_y.a), np.float64)
                ball_state, ball_p = family.update(ball_state, ball_p, g)
            except enclosure.Undecided as error:
                lost = f"step {k}: {error}"
        if k % every == 0 or k == steps:
            if lost is not None:
                break
            scale = max(float(np.max(np.abs(ball_p.midpoint()))), 1e-300)
            out["steps"].append(k)
            for dtype_name in DTYPES:
                out[dtype_name].append(float(np.max(ball_p.error_bound(runs[dtype_name][1]))) / scale)
            out["radius"].append(float(np.max(ball_p.radius())) / scale)
    out["lost"] = lost
    return out


BITS, MAX_BITS = 256, 262144     # Muon's five Newton–Schulz products a step cost it about 17 bits a step


def certified_drift(name: str, steps: int, every: int, seed: int = 1) -> dict:
    """``drift`` with enough bits to keep the real trajectory's balls finite and small to the last
    step: radius ≤ 10⁻³ of every float64 gap it certifies (or ≤ 10⁻³⁰).  Ball arithmetic cannot
    see that P and the gradient move together, so a ball's radius grows by a constant factor a
    step (1.03 for SGD here, 1.3 with momentum): a run at 256 bits says how many bits a step
    costs, and one more run takes that many for every step (up to 262,144 bits: Muon's 10⁴ steps
    need about 170,000, an hour of one core; the others 256 to 32,768)."""
    bits = BITS
    while True:
        with enclosure.precision(bits):
            result = drift(name, steps, every, np.random.default_rng(seed))
        result["bits"] = bits
        gaps = [g for g in result["float64"] if g > 0]
        enough = max(result["radius"], default=0.0) <= max(1e-30, 1e-3 * min(gaps, default=1.0))
        if (result["lost"] is None and enough) or bits >= MAX_BITS:
            return result
        if result["lost"] is not None:   # all the bits used up by the step it reached
            reached = result["steps"][-1] if result["steps"] else 1
            needed = int(bits * steps / reached * 1.5) + 64
        else:                            # finite but too wide: the bits its radius used up, and 128 more
            needed = int(bits + np.log2(max(result["radius"][-1], 2.0**-bits))) + 128 + 64
        bits = min(MAX_BITS, 1 << (needed - 1).bit_length())


# ---------------------------------------------------------------------------------------------

def markdown(result: dict) -> str:
    lines = ["# Precision: the executed floats against the proved reals", "",
             "One NumPy step against the certified enclosure of the exact real step from the same float inputs "
             "(`symbolic.enclosure`, arb balls of 256 bits): the worst certified |float − exact| over the entries, "
             "in ulps of the float result, and relative to the step (max error / max |p′ − p|). Two bounds on that "
             "error, both in the standard rounding model (each operation rounds with |δ| ≤ u; Python-scalar "
             "arithmetic at float64's u; a Python float meeting a float32 tensor, and NAdam's and ASGD's float32 "
             "stores, at float32's; a power at 2u; a sum of n terms at (n − 1)·u of their magnitudes): the "
             "*certified* one (`enclosure.certified_bound`: the balls of every float evaluation the model allows, "
             "rigorous, not first order) and the *first-order* one (`symbolic.rounding.step_bound`). *error / …*: "
             "the worst ratio over the entries (≤ 1: the measurement lies inside the bound). "
             "*overflow*: a value of the float step passed the dtype's largest, where no rounding model applies "
             "(the float step is then wrong by up to the whole step: its *of the step* column says how much).", ""]
    lines += ["## Worst per optimizer and dtype, over every option and case", "",
              "Ulps leave out the cancelling step, whose result is tiny (there the error is many ulps of the "
              "result and a tiny part of the step: *error / step* covers every case). *Overflow*: the cases whose "
              "float step left the dtype's range (no bound applies; the float step is then wrong).", "",
              "*Proved*: the prover's whole-step contract (`proofs/theorems/precision.py`, "
              "`Optim.<name>.float_step_error_le`, `…_with_warmup` for schedule-free SGD with a warmup (`…_power_le_4` "
              "or `…_power_le_64` where its weight_lr_power is not 2; the same two for schedule-free AdamW), "
              "`…_first` for NAdam's first step (and `…_weight_decay[_first]`, `…_decoupled[_first]`), `Optim.SGD.float_numpy_step_error_le` for plain SGD in float32 "
              "(TorchLean's contract, u per operation, in float64), and "
              "`…_unrectified` and `…_rectified` for RAdam's first steps (ρ_t ≤ 5) and its rectified ones, each also "
              "`…_weight_decay` (L2, κ ≤ 1/8) and `…_decoupled`): a bound "
              "PROVED for every shape and every u in [2⁻⁵³, 2⁻²⁴]) evaluated at the measured inputs, where one applies "
              "(the options its theorem fixes; the first whose conditions hold, its whole-row hypotheses too — LAMB's ρ ≤ 1/8, d = w + λp not cancelling to its roundings (two contracts composed, as Muon's below); "
              "Adafactor's κ ≤ 1/8 and ρ ≤ 1/8 on its vector params (`Optim.Adafactor.float_step_error_le_vector…`), "
              "κ_R, κ_C, ρ_R, ρ ≤ 1/64 on its matrices (`…_matrix…`; a tensor of 3 or more axes has none): "
              "with maximize where no contract states it (`NEGATED_FIRST`), the contract at −g: the update negates g "
              "first, exactly, so the step is the one without maximize on −g, bit for bit (tested); "
              "where a contract covers some params, the shapes it leaves are named; no contract applies where a "
              "value of the step falls below the dtype's smallest normal (the contracts are stated without "
              "underflow): those cases are named; — elsewhere).  Muon's is four proved contracts composed "
              "(`muon_step_bound`: the momentum's, the normalisation's with ρ ≤ 1/8, the perturbed Newton–Schulz step's "
              "once per step, the decayed step's — each holds for every float input within the last one's bound), "
              "evaluated on arb balls, with a Frobenius-norm bound beside the entrywise one through the "
              "Newton–Schulz steps (each step's own roundings from its contract, the input's error times "
              "max |q′| on [0, s], s ≥ ‖X‖₂: a lemma proved by hand, stated in `muon_step_bound`; the entrywise "
              "majorant alone grows ~28× a step and is vacuous in float32): about 10⁵ ulps in either dtype "
              "where ‖D‖ > ε (error / bound ~10⁻³), within 7× where ε dominates ‖D‖ — on these small shapes: in "
              "float32 it reaches 0.86 of the step at 16×32 and is vacuous from 32×64 (each step's own rounding "
              "grows like n²·u in the worst case; the README says more).", "",
              "| optimizer | dtype | error (ulps) | certified bound (ulps) | first-order bound (ulps) | proved bound (ulps) | "
              "error / step | error / certified | error / first-order | error / proved | overflow |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for (name, dtype_name), rows in _by_optimizer(result["one_step"]).items():
        finite = [r["worst"] for r in rows if not r["worst"].get("overflow")]
        plain = [r["worst"] for r in rows if not r["worst"].get("overflow") and r["case"] != "the step cancels p"]
        overflow = sorted({r["case"] for r in rows if r["worst"].get("overflow")})
        if not finite:
            continue
        proved = [w for w in plain if "proved ulps" in w]
        proved_ulps = f"{max(w['proved ulps'] for w in proved):.3g}" if proved else "—"
        uncovered = sorted({s for w in proved for s in w.get("no contract for shapes", [])})
        if proved and uncovered:    # a contract for some params only: say which it leaves
            proved_ulps += f" (none for shape {', '.join(uncovered)})"
        underflow = sorted({f"{r['case']}, {s}" for r in rows for s in r["worst"].get("underflow for shapes", [])})
        if proved and underflow:    # outside every contract's statement: say where
            proved_ulps += f" (none where a value underflows: {'; '.join(underflow)})"
        # an option no contract states (in no case, overflow apart): named, so the worst is not read as covering it
        bare = sorted({r["options"] for r in rows if r["options"]} - {r["options"] for r in rows if "proved ulps" in r["worst"]})
        if proved and bare:
            proved_ulps += f" (**no contract** for {'; '.join(bare)})"
        proved_ratio = [w["error / proved"] for w in finite if "error / proved" in w]
        lines.append(f"| {name} | {dtype_name} | {max(w['ulps'] for w in plain):.3g} | "
                     f"{max(w['certified ulps'] for w in plain):.3g} | {max(w['bound ulps'] for w in plain):.3g} | "
                     f"{proved_ulps} | {max(w['of step'] for w in finite):.2g} | "
                     f"{max(w['error / certified'] for w in finite):.2g} | {max(w['error / bound'] for w in finite):.2g} | "
                     + (f"{max(proved_ratio):.2g}" if proved_ratio else "—") + f" | {', '.join(overflow) or '—'} |")
    lines += ["", "## Every option and case", "",
              "| optimizer | options | dtype | case | ulps | of the step | certified (ulps) | error / certified | "
              "first-order (ulps) | error / first-order | buffers (ulps) |",
              "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["one_step"]:
        w = r["worst"]
        certified = "overflow" if w.get("overflow") else f"{w['certified ulps']:.3g}"
        bound = "overflow" if w.get("overflow") else f"{w['bound ulps']:.3g}"
        lines.append(f"| {r['optimizer']} | {r['options'] or 'defaults'} | {r['dtype']} | {r['case']} | "
                     f"{w['ulps']:.3g} | {w['of step']:.2g} | {certified} | {w['error / certified']:.2g} | {bound} | "
                     f"{w['error / bound']:.2g} | {w['buffer ulps']:.3g} |")
    lines += ["", f"## Drift over {result['drift_steps']:,} steps", "",
              "A linear least-squares fit ½‖P·X − Y‖²/5, P ∈ ℝ^{3×4}, every optimizer at its defaults with lr = 0.01, "
              "from one start: the float32 and float64 trajectories against the certified real one, "
              "max |p_float − p_real| / max |p_real| at the last step (and the ball's own radius, the certification's "
              f"slack, at the *bits* that keep it small to the end, from {BITS} up to {MAX_BITS:,}: ball arithmetic cannot see "
              "that P and its gradient move together, so a ball grows by a constant factor a step). The adaptive "
              "methods end in a cycle around the minimum where a step is about ±lr in each coordinate: there a float "
              "trajectory and the real one can sit in different phases of the cycle, about lr apart, whatever the "
              "dtype (RMSprop, Adafactor, LAMB: 10⁻³–10⁻²). `precision.png` plots it along the way.", "",
              "| optimizer | float32 | float64 | ball radius | bits | certified to the end |",
              "| --- | ---: | ---: | ---: | ---: | --- |"]
    for name, d in result["drift"].items():
        if not d["steps"]:
            lines.append(f"| {name} | — | — | — | {d['bits']} | no: {d['lost']} |")
            continue
        radius = f"{d['radius'][-1]:.1e}" if d["radius"][-1] > 0 else "< 1e-300"
        lines.append(f"| {name} | {d['float32'][-1]:.2e} | {d['float64'][-1]:.2e} | {radius} | "
                     f"{d['bits']} | " + ("yes" if d["lost"] is None else f"until step {d['steps'][-1]} ({d['lost']})")
                     + " |")
    return "\n".join(lines) + "\n"


def _by_optimizer(rows: list) -> dict:
    out: dict = {}
    for r in rows:
        out.setdefault((r["optimizer"], r["dtype"]), []).append(r)
    return out


def plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(result["drift"])
    columns = 5
    rows = (len(names) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
    for axis, name in zip(axes.flat, names):
        d = result["drift"][name]
        for dtype_name in DTYPES:
            axis.loglog(d["steps"], np.maximum(d[dtype_name], 1e-300), label=dtype_name)
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("step", fontsize=8)
    for axis in list(axes.flat)[len(names):]:
        axis.axis("off")
    axes.flat[0].set_ylabel("max |p_float − p_real| / max |p_real|", fontsize=8)
    axes.flat[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def _merged(old: dict, new: dict, names: list) -> dict:
    """The existing report with the rows and drifts of ``names`` replaced, in the library's order."""
    if old.get("drift_steps") != new["drift_steps"] or old.get("bits") != new["bits"]:
        raise SystemExit("--merge: the existing report has other drift steps or precision; rerun it whole")
    order = list(optim.CLASSES)
    rows = [r for r in old["one_step"] if r["optimizer"] not in names] + new["one_step"]
    rows.sort(key=lambda r: order.index(r["optimizer"]))    # stable: each optimizer's rows keep their order
    drifts = {**old["drift"], **new["drift"]}
    return {**new, "one_step": rows, "drift": {n: drifts[n] for n in order if n in drifts},
            "seconds": old.get("seconds", 0.0), "rerun": sorted(set(old.get("rerun", [])) | set(names))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--steps", type=int, default=10_000, help="drift steps")
    parser.add_argument("-k", "--select", help="only these optimizers (names separated by commas)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other optimizers' rows and drifts from the existing report")
    parser.add_argument("--one-step-only", action="store_true",
                        help="with --merge: rerun the one-step rows, keep every drift from the existing report "
                             "(Muon's takes an hour)")
    args = parser.parse_args()
    if args.one_step_only and not args.merge:
        parser.error("--one-step-only keeps the existing drifts: it needs --merge")
    names = [n for n in optim.CLASSES if not args.select or n in args.select.split(",")]
    started = time.perf_counter()
    rows = []
    for name in names:
        for kwargs in options()[name]:
            for dtype_name in DTYPES:
                for case_name, case in CASES.items():
                    rng = np.random.default_rng(0)
                    try:
                        worst = one_step(name, kwargs, dtype_name, case, rng)
                    except (enclosure.Undecided, FloatingPointError, OverflowError) as error:
                        worst = {"ulps": float("nan"), "of step": float("nan"), "bound ulps": float("nan"),
                                 "error / bound": float("nan"), "buffer ulps": float("nan"), "undecided": str(error)}
                    rows.append({"optimizer": name, "options": ", ".join(f"{k}={v}" for k, v in kwargs.items()),
                                 "dtype": dtype_name, "case": case_name, "worst": worst})
        print(f"{name}: one step done ({time.perf_counter() - started:.0f} s)", flush=True)
    drifts = {}
    for name in [] if args.one_step_only else names:
        drifts[name] = certified_drift(name, args.steps, max(1, args.steps // 50))
        print(f"{name}: drift done ({time.perf_counter() - started:.0f} s)", flush=True)
    result = {"one_step": rows, "drift": drifts, "drift_steps": args.steps, "bits": enclosure.PRECISION,
              "numpy": np.__version__, "seconds": time.perf_counter() - started}
    if args.merge and (args.out / "precision.json").exists():
        result = _merged(json.loads((args.out / "precision.json").read_text()), result, names)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "precision.json").write_text(json.dumps(result, indent=1))
    (args.out / "precision.md").write_text(markdown(result))
    plot(result, args.out / "precision.png")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
