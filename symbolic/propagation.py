"""Forward error analysis in the standard rounding model, for claims no vertex argument reaches.

A float contract compares F(δ) — the code run with every arithmetic result times (1 + δ_k),
|δ_k| ≤ u — with F(0), the exact run.  When F is multilinear in the δ the prover decides the
claim at the vertices of their box (``symbolic.prover._at_rounding_vertices``); a full adaptive
step (roots, quotients, a few dozen roundings) is neither multilinear nor small.  This module
bounds sup over the box of |F(δ) − F(0)| instead, by structural induction over F's expression
tree, each node getting

* ``value``: its exact value E(0), an expression without δ;
* ``error``: e ≥ 0, without δ, with |E(δ) − E(0)| ≤ e for every δ in the box;
* ``rel``: where known, (N, D) with |E(δ) − E(0)| ≤ N/(1 − D)·|E(0)| and N ≤ D < 1: a relative
  bound, kept through products, quotients, roots and sums of terms of one shown sign (N and D
  are expressions without δ: in u, and in the hypotheses' quantities where a subtraction
  amplifies a rounding, 2⁻⁵³·β/(1 − β) for 1 − β·(1 + δ));
* ``sign``: +1 or −1 when E(0) ≥ 0 or ≤ 0 is shown, else None.

Each rule is a textbook inequality, valid for *every* δ in the box (no first-order step):

* sums: |Σ Êᵢ − Σ Eᵢ| ≤ Σ eᵢ; terms of one shown sign with relative bounds keep the largest;
* products: |Π Êᵢ − Π Eᵢ| ≤ Π(|Eᵢ| + eᵢ) − Π|Eᵢ|, multiplied out; relative: (Σ Nᵢ, Σ Dᵢ), since
  Π(1 + Nᵢ/(1 − Dᵢ)) ≤ 1/(1 − Σ Dᵢ) when Nᵢ ≤ Dᵢ;
* a power E^q other than a natural one needs a relative bound R < 1 on E (N + D < 1, shown over
  the whole range of u) and E of known sign (≥ 0 for a fractional q, ≠ 0 for a negative one):
  then Ê lies in [E(1 − R), E(1 + R)], so Ê^q is defined and within (N/2, D + N/2) for q = ½,
  (N, D) for other q in (0, 1), ⌈q⌉ times (N, D) for q > 1 and ⌈|q|⌉ times (N, D + N) for q < 0
  (each at least the exact max of |(1 ± R)^q − 1|);
* a rounded exponent: b^ŷ/b^y = exp((ŷ − y)·ln b), within N/(1 − N), N = e_y·|ln b|;
* a relative bound is turned into an error with the number 1/(1 − sup D), sup D from interval
  bounds: a bound polynomial in u, as γ_n ≤ c·n·u is stated;
* |·|, max and min (1-Lipschitz in each argument; relative when all arguments have one sign);
* sign(E): exact when E has a relative bound R < 1 (Ê then has E's sign), else within 2; a
  branch (Piecewise) only where each condition's sides are exact or one is 0 and the other has a
  relative bound R < 1 (the float run then takes the exact run's branch).

A theorem may propose lemmas (``Obligation.lemmas``: |X̂ − X| ≤ B, or ≤ R·|X|) for values X met on
the way, in a form its claim can name (RAdam's ρ_t and r²): at a node of value X the lemma's bound
replaces the node's own only where ``dominated`` shows it at least as large (R ≥ N/(1 − sup D) for a
relative one) — never assumed; ``used`` records each lemma shown and how.  A lemma's value may
also be met as some of a product's factors (SymPy flattens NAdam's step coefficient into the
step's product): those factors are then bounded as one, where the lemma is shown on them.

Anything else containing a δ (a comparison that may flip, a floor, a function) is not bounded:
the caller then says UNKNOWN.  The bound proves nothing by itself; ``dominated`` then shows the claimed
bound B ≥ e, exactly, by grouping terms over the same u-free monomial and deciding each
coefficient's sign as a rational function of u on the declared range of u ([u_min, u_max]).
"""
from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import sympy

from symbolic import bounds
from symbolic.domains import Interval
from symbolic.knowledge import same_function, same_up_to_sign
from symbolic.obligation import RATIO, RATIOS, RELATIVE


class CannotBound(Exception):
    """The expression has a part no rule bounds; the message says which."""


@dataclass
class Node:
    value: sympy.Expr
    error: sympy.Expr
    rel: tuple | None      # (N, D): |Ê − E| ≤ N/(1 − D)·|E|, N ≤ D < 1
    sign: int | None


ZERO = sympy.Integer(0)


def _free_symbols(bound) -> set:
    """A lemma's bound's symbols: an expression's, or a ratio's pair's (E, κ)."""
    return set().union(*(b.free_symbols for b in bound)) if isinstance(bound, tuple) else bound.free_symbols


class Propagation:
    """``deltas``: δ symbol -> its bound b (the box is −b ≤ δ ≤ b); ``k``: the obligation's
    Knowledge (signs of δ-free expressions, the range of each unit roundoff)."""

    GROUPED_FROM = 6    # rounded factors of a product from which those with a relative bound are taken as one
    LEMMA_GROUPS = 8    # a product's groups of factors searched (2⁸ sets) for a lemma's value

    def __init__(self, deltas: dict, k, units: set, lemmas: list = (), hypotheses: list = ()):
        self.deltas, self.k, self.units = deltas, k, set(units)
        # [(kind, X, B)]: "|X̂ − X| ≤ B" or "≤ B·|X|", each shown before it is used (one with a δ in it says nothing)
        self.lemmas = [(kind, x, b) for kind, x, b in lemmas
                       if not (x.free_symbols | _free_symbols(b)) & set(deltas)]
        self.used: dict = {}            # the lemmas shown: (kind, X, B) -> how
        self.cache: dict = {}
        self.majorants = majorants(hypotheses)   # a row sum's variable S -> T, where |S| ≤ T is a hypothesis

    # ------------------------------------------------------------------ entry point
    def node(self, e: sympy.Expr) -> Node:
        if e in self.cache:
            return self.cache[e]
        result = self._by_lemma(self._node(e))
        self.cache[e] = result
        return result

    def _by_lemma(self, n: Node) -> Node:
        """``n`` with a lemma's bound in place of its error, where the lemma's value is n's and
        its bound is shown at least n's (``dominated``, the decision every claim gets; for a
        relative bound R, R ≥ n's relative bound N/(1 − sup D)): still a bound on |Ê − E| for
        every δ in the box, in a form a later claim can name.  A lemma not shown is not used."""
        if n.error == 0:
            return n
        for lemma in self.lemmas:
            kind, value, bound = lemma
            if not same_up_to_sign(n.value, value):
                continue        # −X has X's error: |−X̂ + X| = |X̂ − X|
            if kind == RELATIVE:
                how = self._relative_lemma(n, bound)
                replaced = None if how is None else self._relative_or_none(n.value, (bound, bound), n.sign)
            elif kind in RATIOS:    # |X̂ − X| ≤ E shown, E ≤ κ·|X| a hypothesis: X̂ = X·(1 + φ), |φ| ≤ κ
                error, ratio = bound
                how = dominated(n.error, error, self.units, self.k) if self.below_one(2 * ratio) else None
                sign = n.sign if kind == RATIO else 1 if same_function(n.value, value) else -1
                replaced = None if how is None else self._relative_or_none(n.value, (ratio, ratio), sign)
            else:
                how = dominated(n.error, bound, self.units, self.k)
                replaced = None if how is None else self._with_rel(Node(n.value, bound, None, n.sign))
            if replaced is not None:
                self.used[lemma] = how
                return replaced
        return n

    def _relative_lemma(self, n: Node, bound) -> str | None:
        """How R ≥ N/(1 − sup D) is shown for n's relative bound (N, D), with R < 1 (so that
        R/(1 − R) bounds it on: a relative bound's form), or None."""
        if n.rel is None or not self.below_one(2 * bound):
            return None
        top = bounds.bound(n.rel[1], self.k.env).hi
        if not (top.is_finite and top < 1):
            return None
        return dominated(n.rel[0] / (1 - top), bound, self.units, self.k)

    def _node(self, e) -> Node:
        if not (e.free_symbols & set(self.deltas)):
            return Node(e, ZERO, (ZERO, ZERO), self.sign_of(e))
        if e in self.deltas:
            return Node(ZERO, self.deltas[e], None, None)
        if e.is_Add:
            return self._add([self.node(a) for a in e.args])
        if e.is_Mul:
            return self._mul([self.node(a) for a in e.args])
        if e.is_Pow:
            return self._pow(e)
        if isinstance(e, sympy.Abs):
            a = self.node(e.args[0])
            return Node(sympy.Abs(a.value), a.error, a.rel, 1)
        if isinstance(e, (sympy.Max, sympy.Min)):
            return self._extremum(type(e), [self.node(a) for a in e.args])
        if isinstance(e, sympy.sign):
            return self._sign(self.node(e.args[0]))
        if isinstance(e, sympy.Piecewise):
            return self._piecewise(e)
        raise CannotBound(f"{type(e).__name__} of an expression with rounding errors: {e}")

    # ------------------------------------------------------------------ the rules
    def _add(self, parts: list) -> Node:
        value = sympy.Add(*[p.value for p in parts])
        signs = {p.sign for p in parts}
        sign = signs.pop() if len(signs) == 1 and None not in signs else self.sign_of(value)
        if self._one_signed(parts):
            relative = self._relative_or_none(value, self._max([p.rel for p in parts]), sign)
            if relative is not None:
                return relative
        return self._with_rel(Node(value, sympy.Add(*[p.error for p in parts]), None, sign))

    def _mul(self, parts: list, lemma_factors: bool = True) -> Node:
        if lemma_factors and self.lemmas:
            parts = self._lemma_factors_together(parts)
        value = sympy.Mul(*[p.value for p in parts])
        signs = [p.sign for p in parts]
        sign = math.prod(signs) if None not in signs else self.sign_of(value)
        if all(p.rel is not None for p in parts):
            relative = self._relative_or_none(value, (sympy.Add(*[p.rel[0] for p in parts]),
                                                      sympy.Add(*[p.rel[1] for p in parts])), sign)
            if relative is not None:
                return relative
        return self._with_rel(Node(value, self._product_error(self._relative_together(parts)), None, sign))

    def _lemma_factors_together(self, parts: list) -> list:
        """The parts whose values multiply to ±X, for a lemma's value X, taken as one factor
        (the lemma tried on it): SymPy flattens NAdam's −lr·(1 − μ)/(1 − μ_prod) into the step's
        product, so no node has X's value.  The same product, regrouped, where the lemma is shown
        there; the roundings SymPy left loose beside it (factors 1 + δ, value 1) stay outside,
        each bounded apart."""
        for _, value, _ in self.lemmas:
            chosen = self._parts_of(parts, value)
            if chosen is None:
                continue
            together = self._mul(chosen, lemma_factors=False)
            shown = self._by_lemma(together)
            if shown is not together:       # a lemma not shown changes nothing: the parts stay apart
                parts = [p for p in parts if not any(p is c for c in chosen)] + [shown]
        return parts

    def _parts_of(self, parts: list, value) -> list | None:
        """The fewest parts (two or more, one rounded, not all) whose values multiply to ±value, or
        None — also where the whole product is ±value (RAdam's r²: the lemma bounds it with its
        loose roundings, and is tried on all of it).  Parts that share a symbol value lacks are
        taken together, since only together can they cancel out of it: at NAdam's first step
        μ_prod = 1, and −lr·(1 − μ)/(1 − μ) is −lr."""
        own = value.free_symbols
        whole = sympy.Mul(*[p.value for p in parts])
        if same_up_to_sign(whole, value):
            return None
        groups: list = []
        for p in parts:
            if not p.value.free_symbols:            # numbers and the loose roundings (value 1)
                continue
            linked = [g for g in groups if any((q.value.free_symbols & p.value.free_symbols) - own for q in g)]
            groups = [g for g in groups if not any(g is k for k in linked)] + [sum(linked, []) + [p]]
        if len(groups) > self.LEMMA_GROUPS:
            return None
        for size in range(1, len(groups) + 1):
            for combination in itertools.combinations(groups, size):
                chosen = sum(combination, [])
                if len(chosen) < 2 or len(chosen) == len(parts) or all(p.error == 0 for p in chosen):
                    continue
                product = sympy.Mul(*[p.value for p in chosen])
                if same_up_to_sign(product, value):
                    return chosen
        return None

    def _relative_together(self, parts: list) -> list:
        """The parts with a relative bound and an error, taken as one factor with the product's
        relative bound: the same product, its error 2^k − 1 terms fewer (RAdam's step has a
        dozen rounded factors beside m̂, whose lerp has no relative bound)."""
        if sum(p.error != 0 for p in parts) < self.GROUPED_FROM:
            return parts        # few terms: multiplied out, each keeps its own form (Adam's m)
        moving = [p for p in parts if p.rel is not None and p.error != 0]
        if len(moving) < 2:
            return parts
        signs = [p.sign for p in moving]
        together = self._relative_or_none(
            sympy.Mul(*[p.value for p in moving]),
            (sympy.Add(*[p.rel[0] for p in moving]), sympy.Add(*[p.rel[1] for p in moving])),
            math.prod(signs) if None not in signs else None)
        if together is None:      # the product's relative bound is not shown < 1: each factor apart
            return parts
        return [p for p in parts if not any(p is m for m in moving)] + [together]

    def _pow(self, e) -> Node:
        base, q = self.node(e.base), e.exp
        if q.free_symbols & set(self.deltas):
            return self._rounded_exponent(e)
        value = base.value ** q
        if q.is_Integer and q > 0:          # the relative rule where its denominator is shown > 0, else x·x·…
            sign = 1 if q % 2 == 0 else base.sign
            if base.rel is not None:
                relative = self._relative_or_none(value, (q * base.rel[0], q * base.rel[1]), sign)
                if relative is not None:
                    return relative
            return self._with_rel(Node(value, self._product_error([base] * int(q)), None, sign))
        lo, hi = (q, q) if q.is_Rational else self._exponent_range(e)
        if base.rel is None:
            raise CannotBound(f"no relative error bound on the base of {e} (its terms cancel, or have no known sign)")
        n, d = base.rel
        if not self.below_one(n + d):
            raise CannotBound(f"the relative error bound {n}/(1 − ({d})) on the base of {e} is not shown < 1")
        if not q.is_Integer and base.sign != 1:     # is_Integer: a number (a symbol's parity is unknown)
            raise CannotBound(f"the base of {e} is not shown ≥ 0")
        if lo < 0 and not self.k.how_nonzero(base.value):
            raise CannotBound(f"the base of {e} is not shown ≠ 0")
        # |(1 + θ)^q − 1| for |θ| ≤ R < 1 and q in [lo, hi] is at most its value at the integer power
        # C = max(1, ⌈hi⌉, ⌈−lo⌉): (1 + R)^C − 1 for q ≥ 0 (increasing in q; 1 − (1 − R)^q ≤ q·R ≤ R for
        # q < 1), (1/(1 − R))^C − 1 for q < 0, 1/(1 − R) − 1 = N/(1 − D − N); a symbolic exponent (schedule-
        # free's max(γ̂, lr_max)^weight_lr_power) takes its interval bounds' C
        power = max(1, math.ceil(hi), math.ceil(-lo))
        if q == sympy.Rational(1, 2):       # 1 − √(1 − R) ≤ R/(2 − R)
            rel = (n / 2, d + n / 2)
        elif lo >= 0:
            rel = (power * n, power * d)
        else:
            rel = (power * n, power * (d + n))
        sign = 1 if base.sign == 1 or q.is_Integer and q % 2 == 0 else (base.sign if q.is_Integer else None)
        return self.relative(value, rel, sign)

    def _exponent_range(self, e) -> tuple:
        """(lo, hi), numbers: interval bounds on the exact symbolic exponent of ``e``."""
        try:
            exponent = bounds.bound(e.exp, self.k.env)
        except (TypeError, ValueError, RecursionError):
            exponent = None
        if exponent is None or not (exponent.lo.is_number and exponent.hi.is_number
                                    and exponent.lo.is_finite and exponent.hi.is_finite):
            raise CannotBound(f"the symbolic exponent of {e} has no finite bounds (state them as hypotheses)")
        return exponent.lo, exponent.hi

    def _rounded_exponent(self, e) -> Node:
        """b^ŷ with b > 0 exact and |ŷ − y| ≤ e_y: b^ŷ/b^y = exp((ŷ − y)·ln b), within
        exp(N) − 1 ≤ N/(1 − N) of 1, N = e_y·|ln b| (NAdam's 0.96^(ψ·t)), |ln b| a rational
        bound where b is a rational number (``log_bound``)."""
        if e.base.free_symbols & set(self.deltas) or not self.k.how_positive(e.base):
            raise CannotBound(f"a power with a rounded exponent of a base not shown > 0 and exact: {e}")
        exponent = self.node(e.exp)
        n = exponent.error * log_bound(e.base)
        return self.relative(e.base ** exponent.value, (n, n), 1)

    def _extremum(self, kind, parts: list) -> Node:
        value = kind(*[p.value for p in parts])
        signs = {p.sign for p in parts}
        sign = signs.pop() if len(signs) == 1 and None not in signs else self.sign_of(value)
        if self._one_signed(parts):
            return self.relative(value, self._max([p.rel for p in parts]), sign)
        moving = [p for p in parts if p.error != 0]
        if kind is sympy.Max and moving and all(p.rel is not None and p.sign == 1 for p in moving):
            # |max(âᵢ) − max(aᵢ)| ≤ maxᵢ |âᵢ − aᵢ| ≤ maxᵢ rᵢ·aᵢ ≤ (max rᵢ)·max(a) for the rounded aᵢ ≥ 0,
            # the exact parts of any sign: schedule-free's max(γ̂, lr_max), lr_max from −1
            relative = self._relative_or_none(value, self._max([p.rel for p in moving]), 1)
            if relative is not None:
                return relative
        return Node(value, sympy.Add(*[p.error for p in parts]), None, sign)

    def _piecewise(self, e) -> Node:
        """Branches taken alike by the float and the exact run: each condition compares sides
        that are exact (error 0, e.g. the sign of a product: a relative error < 1 keeps it),
        or a side with a relative bound < 1 against 0 (its sign is kept).  The error is then
        at most the sum of the branches' (whichever is taken)."""
        pieces = [(self.node(v), self.same_truth(c)) for v, c in e.args]
        value = sympy.Piecewise(*[(n.value, c) for n, c in pieces])
        signs = {n.sign for n, _ in pieces}
        sign = signs.pop() if len(signs) == 1 and None not in signs else self.sign_of(value)
        if all(n.error == 0 for n, _ in pieces):
            return Node(value, ZERO, (ZERO, ZERO), sign)
        return Node(value, sympy.Add(*[n.error for n, _ in pieces]), None, sign)

    def same_truth(self, condition) -> sympy.Basic:
        """``condition`` with every δ = 0, where no rounding error in the box can change its
        truth: its sides are exact (error 0, e.g. the sign of a product), or one side is 0 and
        the other has a relative bound < 1 (its sign, and whether it is 0, are kept).  Raises
        CannotBound where a rounding may flip it."""
        if condition in (sympy.true, sympy.false) or not condition.free_symbols & set(self.deltas):
            return condition
        if not isinstance(condition, sympy.core.relational.Relational):
            raise CannotBound(f"a branch condition with rounding errors that is not a comparison: {condition}")
        left, right = self.node(condition.lhs), self.node(condition.rhs)
        if not (left.error == 0 and right.error == 0):
            side = left if right.value == 0 and right.error == 0 else right if left.value == 0 and left.error == 0 else None
            if side is None or side.rel is None or not self.below_one(side.rel[0] + side.rel[1]):
                raise CannotBound(f"a branch the rounding errors may flip: {condition}")
        exact = condition.xreplace({d: 0 for d in self.deltas})
        if isinstance(exact, sympy.Ne) and exact.rhs == 0 and self.k.how_nonnegative(exact.lhs):
            return sympy.Gt(exact.lhs, 0)       # a norm ≠ 0 is a norm > 0: what bounds then use
        return exact

    def exact_or_none(self, condition) -> sympy.Basic | None:
        """``same_truth(condition)``, or None where a rounding in the box may flip it."""
        try:
            return self.same_truth(condition)
        except CannotBound:
            return None

    def _sign(self, a: Node) -> Node:
        value = sympy.sign(a.value)
        if a.rel is not None and self.below_one(a.rel[0] + a.rel[1]):
            return Node(value, ZERO, (ZERO, ZERO), a.sign)
        return Node(value, sympy.Integer(2), None, a.sign)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _one_signed(parts: list) -> bool:
        """Every part has a relative bound and one shown sign, the same for all: then
        Σ rᵢ·|Eᵢ| ≤ max rᵢ·|Σ Eᵢ| (a sum, max or min of them keeps the largest relative bound).
        The sum's own sign is not enough: g·(1 + δ) + (1 − g) is 1, its error u·|g|."""
        signs = {p.sign for p in parts}
        return all(p.rel is not None for p in parts) and len(signs) == 1 and None not in signs
    def _product_error(self, parts: list):
        """Π(|Eᵢ| + eᵢ) − Π|Eᵢ|, multiplied out: the sum over the nonempty sets S of factors of
        Π_{i∈S} eᵢ · Π_{i∉S} |Eᵢ| — no term that must cancel, so an error never merges into
        a value (a rounding of float64 scalars is a number, not a multiple of u)."""
        fixed = sympy.Mul(*[self.magnitude(p.value, p.sign) for p in parts if p.error == 0])
        # a factor whose value is 0 (σ·(h − 1), a rounding's own error) is in every nonzero term:
        # the sets without it are skipped, not multiplied out (2^k terms for k such factors)
        zero = [p for p in parts if p.error != 0 and p.value == 0]
        moving = [p for p in parts if p.error != 0 and p.value != 0]
        total = []
        for chosen in itertools.product((False, True), repeat=len(moving)):
            if any(chosen) or zero:
                total.append(sympy.Mul(*[p.error if c else self.magnitude(p.value, p.sign)
                                         for p, c in zip(moving, chosen)]))
        return fixed * sympy.Mul(*[p.error for p in zero]) * sympy.Add(*total)

    def relative(self, value, rel: tuple, sign) -> Node:
        """A node with relative bound N/(1 − D): its absolute error is N·c·|E| with the number
        c = 1/(1 − sup D), sup D from interval bounds over the domains (u ≤ u_max): a bound
        polynomial in u, as numerical analysts state them (γ_n ≤ c·n·u)."""
        n, d = rel
        error = _times(n, self.magnitude(value, sign))
        if d == 0:
            return Node(value, error, rel, sign)
        top = bounds.bound(d, self.k.env).hi
        if not (top.is_finite and top < 1):
            raise CannotBound(f"the relative bound's denominator 1 − ({d}) is not shown > 0")
        return Node(value, error / (1 - top), rel, sign)

    def _relative_or_none(self, value, rel: tuple, sign) -> Node | None:
        """``relative``, or None where its denominator is not shown > 0 (β(1 − c) − 1 as β → 1):
        the absolute rule, always sound, then bounds the node instead."""
        try:
            return self.relative(value, rel, sign)
        except CannotBound:
            return None

    def _with_rel(self, n: Node) -> Node:
        """A relative bound read off an absolute one, for E ≠ 0 of known sign: r = e/|E| (1 + δ:
        u; 1 − β·(1 + δ): u·β/(1 − β), which may be large — a power then needs it < 1)."""
        if n.rel is not None or n.sign is None:
            return n
        try:
            ratio = n.error / (n.sign * n.value)
        except (sympy.PolynomialError, ZeroDivisionError, TypeError):
            return n
        if ratio.is_finite is not False and self.k.how_nonzero(n.value):
            n.rel = (ratio, ratio)       # r ≤ r/(1 − r)
        return n

    def magnitude(self, value, sign):
        if sign == 1:
            return value
        if sign == -1:
            return -value
        if self.majorants and value.free_symbols & set(self.majorants):
            return self._triangle(value)
        return sympy.Abs(value)

    def _triangle(self, value):
        """|value| ≤ Σ over its terms of |c|·Π|f|, a sum S over rows taken at its majorant T
        (|S| ≤ T, a hypothesis of the triangle inequality: ``proofs.harness``): the size a signed
        sum of sums is compared with, a·X + b·(A·X) against |a|·|X| + |b|·(|A|·|X|)."""
        terms = []
        for term in sympy.Add.make_args(value):
            coefficient, factors = term.as_coeff_mul()
            sizes = [self.majorants[f] if f in self.majorants else
                     f if self.k.how_nonnegative(f) else sympy.Abs(f) for f in factors]
            terms.append(abs(coefficient) * sympy.Mul(*sizes))
        return sympy.Add(*terms)

    def sign_of(self, e) -> int | None:
        if e.is_number:
            return 1 if e >= 0 else -1
        if self.k.how_nonnegative(e):
            return 1
        if self.k.how_nonnegative(-e):
            return -1
        return None

    def _max(self, rels: list) -> tuple:
        return tuple(self._larger([r[i] for r in rels]) for i in (0, 1))

    def _larger(self, values: list):
        best = values[0]
        for r in values[1:]:
            if r == best or self.k.how_nonnegative(best - r):
                continue
            best = r if self.k.how_nonnegative(r - best) else best + r
        return best

    def below_one(self, r) -> bool:
        """r < 1 for every u in its range and every value of the domains (interval bounds)."""
        return positive_on(1 - r, self.units, self.k) or bool(self.k.how_positive(1 - r))


def majorants(hypotheses: list) -> dict:
    """S -> T for each pair of hypotheses S ≤ T and −S ≤ T between symbols (the triangle
    inequality for a signed row sum's variable and its majorant's, ``proofs.harness``)."""
    above: dict = {}
    for h in hypotheses:
        if isinstance(h, sympy.LessThan) and h.rhs.is_Symbol:
            above.setdefault(h.lhs, set()).add(h.rhs)
    return {s: t for s, ts in above.items() if s.is_Symbol for t in ts if t in above.get(-s, ())}


def log_bound(b):
    """A rational number ≥ |ln b| for a rational b > 0 — ln(1 + x) ≤ x − x²/2 + x³/3 for x ≥ 0, with
    1 + x = max(b, 1/b) — within 10⁻⁶ of it for b = 0.96 (NAdam's base): a coefficient a claim
    can write and compare, where ln b itself is irrational, and expanding splits it into
    log(1080863910568919) − 50·log(2), which no claim names.  |ln b| for any other b.
    (x − x²/2 + x³/3 − ln(1 + x) is 0 at 0 and its derivative x³/(1 + x) ≥ 0.)"""
    b = sympy.sympify(b)
    if not (b.is_Rational and b > 0):
        return sympy.Abs(sympy.log(b))
    x = max(b, 1 / b) - 1
    return x - x ** 2 / 2 + x ** 3 / 3


def _times(n, magnitude):
    """N·|E|, with each term e/|E| of N (a relative bound read off an error e: a lemma's) taken
    apart, so that it gives e back; the other terms stay together, as N·|E| always was."""
    factors = set(sympy.Mul.make_args(magnitude))
    back, rest = [], []
    for term in sympy.Add.make_args(n):
        divides = any(f.is_Pow and f.exp.is_negative and f.base in factors for f in sympy.Mul.make_args(term))
        (back if divides else rest).append(term)
    if not back:
        return n * magnitude
    return sympy.Add(*[term * magnitude for term in back]) + sympy.Add(*rest) * magnitude


# ---------------------------------------------------------------------------------------
# Signs of rational functions of one unit roundoff on its declared range (0, u_max].

def _range(unit, k) -> tuple | None:
    """[lo, hi] (lo may be 0) of a unit roundoff: its declared range, bounded above."""
    i: Interval = k.intervals.get(unit)
    if i is None or not (i.lo >= 0 and i.hi.is_finite and i.hi > i.lo):
        return None
    return i.lo, i.hi


def _sign_on(f, units: set, k, strict: bool) -> bool:
    try:
        return _decided_sign_on(f, units, k, strict)
    except (sympy.PolynomialError, TypeError, ValueError):   # not a rational function of u: not shown
        return False


def _decided_sign_on(f, units: set, k, strict: bool) -> bool:
    f = sympy.cancel(sympy.together(f))
    free = f.free_symbols
    if not free:
        return bool(f > 0) if strict else bool(f >= 0)
    if len(free) != 1 or not free <= units:
        return False
    (u,) = free
    ends = _range(u, k)
    if ends is None:
        return False
    num, den = sympy.fraction(f)
    return _poly_sign_on(num, u, ends, strict) and _poly_sign_on(den, u, ends, True) or \
        _poly_sign_on(-num, u, ends, strict) and _poly_sign_on(-den, u, ends, True)


def _poly_sign_on(p, u, ends, strict: bool) -> bool:
    """p ≥ 0 (> 0 if strict) on [lo, hi] (on (0, hi] when lo = 0: u > 0), exactly: no root of
    odd multiplicity strictly inside, the right sign at one inner point, and at the closed
    ends; for strict, no root at all where u may be."""
    lo, hi = ends
    poly = sympy.Poly(p, u)
    if poly.is_zero:
        return not strict
    if lo > 0 and (poly.eval(lo) < 0 or strict and poly.eval(lo) == 0):
        return False
    if poly.eval(hi) < 0 or strict and poly.eval(hi) == 0:
        return False
    _, factors = poly.sqf_list()
    for factor, multiplicity in factors:
        if strict or multiplicity % 2:
            inside = factor.count_roots(lo, hi) - (factor.eval(lo) == 0) - (factor.eval(hi) == 0)
            if inside:
                return False
    for point in (lo + (hi - lo) / 2, lo + (hi - lo) / 3, lo + (hi - lo) / 5, lo + (hi - lo) / 7):
        value = poly.eval(point)
        if value != 0:
            return value > 0
    return False


def nonnegative_on(f, units: set, k) -> bool:
    return _sign_on(f, units, k, strict=False)


def positive_on(f, units: set, k) -> bool:
    return _sign_on(f, units, k, strict=True)


# ---------------------------------------------------------------------------------------
# The claimed bound against the propagated one.

def dominated(bound, claimed, units: set, k) -> str | None:
    """Whether claimed − bound ≥ 0 is shown, and how: both are written over u-free atoms
    (every u-free sum, |·|, root or function becomes one), multiplied out, and grouped by the
    u-free monomial; each monomial must be ≥ 0 (``k``) and its coefficient — a polynomial in u
    over a denominator shown > 0 — ≥ 0 on the range of u.  None when not shown."""
    atoms: dict = {"roots": _root_orders(claimed - bound)}
    if (claimed - bound).free_symbols & units:
        difference = _atomize(claimed - bound, units, atoms, k)
    else:   # Python's scalars round at the number 2⁻⁵³: no u to group by, so the terms are atomised apart
        difference = sympy.Add(*[_atom(term, atoms, k) for term in
                                 sympy.Add.make_args(multiplied_out(claimed) - multiplied_out(bound))])
    num, den = sympy.fraction(sympy.together(difference))
    sign_of = _atom_signs(atoms.get("originals", {}), units, k)
    den_sign = sign_of(den)
    if den_sign is None:
        return None
    num = num * den_sign
    how = _grouped(num, units, k, sign_of)
    spread = None
    if how is None:     # a u-free sum may hold terms the claim names apart: c·(6w + s)/(w + s) against w, s
        spread = _spread_sums(num, atoms, k, sign_of)
        how = None if spread is None else _grouped(spread, units, k, sign_of)
    if how is None:     # a bounded factor's terms apart: X·(1 − β2ᵗ) split into X and −X·β2ᵗ
        ends = _bounded_factors(num if spread is None else spread, units, atoms, k)
        for candidate in ([num] if spread is None else [num, spread]):
            how = _grouped(candidate, units, k, sign_of, ends) if ends else None
            if how is not None:
                break
    return how


def multiplied_out(e: sympy.Expr) -> sympy.Expr:
    """``e`` with its products of sums multiplied out, each power of a sum other than a natural
    one (1/(ρ_t − 4), √(1 − β2ᵗ)) kept as written: the form the hypotheses name it in (ρ_t − 4 > 1
    is read off ρ_t > 5 only so)."""
    kept: dict = {}
    masked, back = _number_powers_masked(e)
    return sympy.expand(_divisors_kept(masked, kept)).xreplace(kept).xreplace(back)


def _divisors_kept(e: sympy.Expr, kept: dict) -> sympy.Expr:
    if e.is_Pow and e.base.is_Add and not (e.exp.is_Integer and e.exp > 0):
        placeholder = sympy.Dummy("kept")
        kept[placeholder] = e
        return placeholder
    if not e.args:
        return e
    return e.func(*[_divisors_kept(a, kept) for a in e.args])


def _bounded_factors(num, units: set, atoms: dict, k) -> dict:
    """{a: (lo, hi)}: the symbols and atoms of ``num`` that interval bounds put in a finite
    [lo, hi] (β2ᵗ ∈ [0, 1]), at most three."""
    originals = atoms.get("originals", {})
    ends = {}
    for a in sorted(num.free_symbols - set(units), key=sympy.default_sort_key):
        try:
            i = bounds.bound(originals.get(a, a), k.env)
        except (TypeError, ValueError, RecursionError):
            continue
        if i.lo.is_finite and i.hi.is_finite and i.lo.is_number and i.hi.is_number and i.lo < i.hi:
            ends[a] = (i.lo, i.hi)
    return dict(list(ends.items())[:3]) if len(ends) <= 3 else {}


def _grouped(num, units: set, k, sign_of, ends: dict | None = None) -> str | None:
    """num ≥ 0, shown monomial by monomial: num multiplied out and grouped by its u-free
    monomials apart from the bounded factors ``ends`` ({a: (lo, hi)}, none by default), each
    monomial of a known sign with a coefficient of that sign on u's range.  A coefficient
    holding bounded factors must be affine in each (multilinear), so that its least value on
    their box is at a corner, and is checked at every corner."""
    ends = ends or {}
    bounded = list(ends)
    groups: dict = {}
    for term in sympy.Add.make_args(sympy.expand(num)):
        free, in_u = term.as_independent(*units, as_Add=False)
        number, monomial = free.as_coeff_Mul()
        rest, part = monomial.as_independent(*bounded, as_Add=False) if bounded else (monomial, 1)
        groups[rest] = groups.get(rest, 0) + number * in_u * part
    for monomial, coefficient in groups.items():
        sign = sign_of(monomial)
        if sign is None or not _nonnegative_at_corners(sign * coefficient, units, k, ends):
            return None
    if not bounded:
        return f"grouped over {len(groups)} u-free monomials, each coefficient ≥ 0 for every u in its range"
    return (f"grouped over {len(groups)} u-free monomials apart from {len(bounded)} bounded factors, each "
            "coefficient affine in them and ≥ 0 at every corner of their box, for every u in its range")


def _nonnegative_at_corners(coefficient, units: set, k, ends: dict) -> bool:
    """coefficient ≥ 0 for every u in its range and every value of the bounded factors it holds,
    each in [lo, hi]: shown by its Bernstein coefficients over their box (each a polynomial in u,
    shown ≥ 0 on u's range).  The polynomial is a convex combination of them, so this is sound at
    any degree; where it is affine in each factor they are its values at the corners."""
    present = [a for a in ends if a in coefficient.free_symbols]
    if not present:
        return nonnegative_on(coefficient, units, k)
    try:
        return all(nonnegative_on(sympy.expand(b), units, k) for b in _bernstein(coefficient, present, ends))
    except sympy.PolynomialError:
        return False


def _bernstein(p, factors: list, ends: dict) -> list:
    """The tensor-product Bernstein coefficients of ``p`` (a polynomial in ``factors``, any other
    symbols in its coefficients) over the box ∏ [lo, hi] of ``ends``: p(x) = Σ b_k·B_k(t), t the
    box's own coordinates in [0, 1], each B_k ≥ 0 and Σ B_k = 1 there — so min b_k ≤ p."""
    if not factors:
        return [p]
    a, rest = factors[0], factors[1:]
    lo, hi = ends[a]
    t = sympy.Dummy("t")
    powers = sympy.Poly(sympy.expand(p.xreplace({a: lo + (hi - lo) * t})), t)
    degree = max(powers.degree(), 0)     # the zero polynomial's is −∞
    c = [powers.coeff_monomial(t ** j) for j in range(degree + 1)]
    coefficients = [sum(sympy.binomial(i, j) / sympy.binomial(degree, j) * c[j] for j in range(i + 1))
                    for i in range(degree + 1)]
    return [b for coefficient in coefficients for b in _bernstein(sympy.expand(coefficient), rest, ends)]


def _spread_sums(num, atoms: dict, k, sign_of):
    """``num`` with each atom that stands for a u-free sum of terms of known signs replaced by
    that sum (its terms atomised): the same value, so grouping it is as sound, and its terms
    can meet the claim's.  None when there is no such atom."""
    originals = atoms.get("originals", {})
    spread = {}
    for atom in num.free_symbols & set(originals):
        original = originals[atom]
        if not original.is_Add:
            continue
        terms = [_atom(term, atoms, k) for term in original.args]
        if all(sign_of(term) is not None for term in terms):
            spread[atom] = sympy.Add(*terms)
    return num.xreplace(spread) if spread else None


def _atom_signs(originals: dict, units: set, k):
    """sign(product): +1 if shown ≥ 0, −1 if shown ≤ 0, None if unknown, factor by factor (a
    denominator is nonzero where defined — definedness is shown separately — so ≥ 0 is > 0)."""
    def factor_sign(f):
        if f.is_Number:
            return 1 if f >= 0 else -1
        if f.is_Pow and f.exp.is_Integer:
            base = factor_sign(f.base)
            return 1 if f.exp % 2 == 0 else base
        if f.free_symbols & units:
            return 1 if nonnegative_on(f, units, k) else (-1 if nonnegative_on(-f, units, k) else None)
        return where_defined(f.xreplace(originals))

    def where_defined(e):
        """A real root is ≥ 0 wherever it is defined (definedness is shown apart)."""
        if e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer:
            return 1
        if e.is_Mul:
            signs = [where_defined(a) for a in e.args]
            return None if None in signs else math.prod(signs)
        if e.is_Add:
            signs = {where_defined(a) for a in e.args}
            if len(signs) == 1 and None not in signs:
                return signs.pop()
        if k.how_nonnegative(e):
            return 1
        if k.how_nonnegative(-e):
            return -1
        return None

    def sign(product):
        total = 1
        for f in sympy.Mul.make_args(product):
            s = factor_sign(f)
            if s is None:
                return None
            total *= s
        return total
    return sign


def _atomize(e, units: set, atoms: dict, k):
    if not (e.free_symbols & units):
        return _atom(e, atoms, k)
    if e.is_Add or e.is_Mul or e.is_Pow:
        return e.func(*[_atomize(a, units, atoms, k) for a in e.args])
    return e


def _atom(e, atoms: dict, k):
    """A u-free expression as a monomial over atoms, one atom per u-free sum, |·|, root or
    function up to sign, whatever form SymPy gave it (the key is its expanded form, or minus
    that, whichever sorts first): (β − 1)·x and (1 − β)·x meet."""
    if e.is_Symbol or e.is_Number:
        return e
    if e.is_Mul:
        return sympy.Mul(*[_atom(a, atoms, k) for a in e.args])
    if e.is_Pow and e.exp.is_Integer:
        if e.base.is_Symbol and e.base.is_real and e.exp % 2 == 0 and not k.how_nonnegative(e.base):
            # x² = |x|² for a real x: the analysis meets |x|·|x| (a product of two bounds), a
            # claim writes x² (SymPy's own form of |x|·|x|): one atom for both
            return _atom(sympy.Abs(e.base), atoms, k) ** e.exp
        return _atom(e.base, atoms, k) ** e.exp
    if isinstance(e, sympy.Abs):          # |a·b| = |a|·|b|, |a^n| = |a|^n, and |a| = ±a for a of known sign
        inner = e.args[0]
        if inner.is_Mul:
            return sympy.Mul(*[_atom(sympy.Abs(a), atoms, k) for a in inner.args])
        if inner.is_Pow and inner.exp.is_Integer:
            return _atom(sympy.Abs(inner.base), atoms, k) ** inner.exp
        if inner.is_number or k.how_nonnegative(inner):
            return _atom(inner, atoms, k) if not inner.is_number else abs(inner)
        if k.how_nonnegative(-inner):
            return _atom(-inner, atoms, k)
    if e.is_Pow and e.exp.is_Rational:              # X^(p/q) = (X^(1/Q))^(pQ/q), one atom per radicand
        key = _canonical(e.base)
        order = atoms["roots"].get(key)
        if order is not None and (e.exp * order).is_Integer:
            return _new_atom(("root", key, order), 1, e.base ** sympy.Rational(1, order), atoms) ** int(e.exp * order)
    sign = 1
    if e.is_Add:
        factored = _canonical(e)
        if not factored.is_Add:                      # a product of canonical factors
            if factored == e or _factors_lose_sign(factored, e, k):
                return _new_atom(factored, 1, e, atoms)
            return _atom(factored, atoms, k)
        for sign in (1, -1):                         # X = (X^(1/Q))^Q, or −(−X) where −X is the radicand
            key = _canonical(sign * e)
            order = atoms["roots"].get(key)
            if order is not None:
                return sign * _new_atom(("root", key, order), 1, (sign * e) ** sympy.Rational(1, order), atoms) ** order
        key, sign = _signed_key(e)
    elif isinstance(e, sympy.Abs):
        inner, negated = _canonical(e.args[0]), _canonical(-e.args[0])
        key = sympy.Abs(min(inner, negated, key=sympy.default_sort_key), evaluate=False)
    else:
        key = e.func(*[_canonical(a) for a in e.args])
    return _new_atom(key, sign, e, atoms)


def _factors_lose_sign(factored, e, k) -> bool:
    """Whether ``e``'s sign is shown as written but a factor of its factored form has none:
    ρ_t − 4 > 0 from the hypothesis ρ_t > 5, whose factored form is a polynomial in β2, β2ᵗ and
    t over (1 − β2)(1 − β2ᵗ) — kept one atom, or every monomial holding it has no sign."""
    def signed(f) -> bool:
        even = f.is_Pow and f.exp.is_Integer and f.exp % 2 == 0
        return f.is_Number or even or bool(k.how_nonnegative(f) or k.how_nonnegative(-f))
    # the factors first: most sums factor into factors of known sign, and e is the larger question
    if all(signed(f) for f in sympy.Mul.make_args(factored)):
        return False
    return bool(k.how_positive(e) or k.how_positive(-e))


def _signed_key(e) -> tuple:
    """(key, sign) with e = sign·key, key the canonical form of ±e that sorts first."""
    key, negated = _canonical(e), _canonical(-e)
    if sympy.default_sort_key(negated) < sympy.default_sort_key(key):
        return negated, -1
    return key, 1


def _root_orders(e) -> dict:
    """For each radicand (by key), the least common multiple of the root orders taken of it."""
    orders: dict = {}
    for node in sympy.preorder_traversal(e):
        if node.is_Pow and node.exp.is_Rational and not node.exp.is_Integer:
            key = _canonical(node.base)
            orders[key] = sympy.ilcm(orders.get(key, 1), node.exp.q)
    return orders


@functools.lru_cache(maxsize=8192)   # asked again for the same sums on every path and group
def _canonical(e):
    """One form per rational function of the atoms SymPy keeps (roots, symbolic powers):
    factored, which also fixes each factor's sign — with each root's radicand in its own
    canonical form first, so that √((a + b)/(1 − c)) and √(−(a + b)/(c − 1)), one value, are one
    atom."""
    e = e.replace(_is_root, lambda root: _factored_in_powers(root.base) ** root.exp)
    return _factored_in_powers(e)


def _factored_in_powers(e):
    masked, back = _number_powers_masked(e)
    unified, powers = _symbolic_powers_unified(masked)
    return _factored(unified).xreplace(powers).xreplace(back)


def _symbolic_powers_unified(e) -> tuple:
    """``e`` with each symbolic power of one base written as a power of one placeholder where its
    exponent is a whole multiple of another's (β1^(2t + 2) = (β1^(t + 1))²), and the way back:
    SymPy's factor takes the two for unrelated generators, so 1 − 2β1^(t+1) + β1^(2t+2) and
    (1 − β1^(t+1))² — one value — would be two atoms."""
    by_base: dict = {}
    for a in e.atoms(sympy.Pow):
        if not a.base.is_number and not a.exp.is_number:
            by_base.setdefault(a.base, set()).add(a.exp)
    replaced, back = {}, {}
    for base, exponents in by_base.items():
        for unit in sorted(exponents, key=sympy.default_sort_key):
            multiples = {x: sympy.simplify(x / unit) for x in exponents}
            if all(k.is_Integer and k > 0 for k in multiples.values()):
                placeholder = sympy.Dummy("power")
                back[placeholder] = base ** unit
                replaced.update({base ** x: placeholder ** k for x, k in multiples.items()})
                break
    return (e.xreplace(replaced), back) if replaced else (e, {})


def _number_powers_masked(e) -> tuple:
    """``e`` with each number to a symbolic power (NAdam's 0.96^(ψ·(t + 1))) a placeholder, and the
    way back: factoring and multiplying out would split it into 1080863910568919^(ψt)·…/2^(50ψt),
    which no claim names."""
    powers = [a for a in e.atoms(sympy.Pow) if a.base.is_number and not a.exp.is_number]
    if not powers:
        return e, {}
    back = {sympy.Dummy("power", positive=True): power for power in powers}
    return e.xreplace({power: dummy for dummy, power in back.items()}), back


def _is_root(node) -> bool:
    return node.is_Pow and node.exp.is_Rational and not node.exp.is_Integer and not node.base.is_Atom


def _factored(e):
    try:
        return sympy.factor(e)
    except (sympy.PolynomialError, TypeError, ValueError, RecursionError):
        return sympy.cancel(e)


def _new_atom(key, sign, e, atoms: dict):
    if key not in atoms:
        atoms[key] = sympy.Dummy(f"A{len(atoms)}")
        atoms.setdefault("originals", {})[atoms[key]] = sign * e   # the form SymPy gave, for sign questions
    return sign * atoms[key]
