"""Sound interval bounds on an expression, from the intervals of its symbols.

Used to discharge side conditions (a denominator ≠ 0, a radicand ≥ 0) from the declared
domains and hypotheses.  Every rule returns an interval that contains every value the
expression can take; when a rule does not apply, the answer is (−∞, ∞), which proves
nothing.  Openness is tracked because "β ∈ [0, 1) ⇒ 1 − βᵗ⁺¹ > 0" needs the open end.
"""
from __future__ import annotations

import sympy

from symbolic.domains import Interval

oo = sympy.oo
ANY = Interval()


def point(x) -> Interval:
    return Interval(x, x, False, False)


def excludes_zero(i: Interval) -> bool:
    return i.lo > 0 or (i.lo == 0 and i.lo_open) or i.hi < 0 or (i.hi == 0 and i.hi_open)


def nonnegative(i: Interval) -> bool:
    return i.lo >= 0


def bound(expr: sympy.Expr, env: dict) -> Interval:
    """An interval containing every value of ``expr`` when each symbol s lies in env[s].

    ``env`` may also bound whole subexpressions (a hypothesis ``ρ_t > 5``).  A comparison
    SymPy cannot decide on the interval ends gives (−∞, ∞), which proves nothing."""
    try:
        return _bound(expr, env)
    except (TypeError, ValueError, RecursionError):
        return ANY


def _bound(expr: sympy.Expr, env: dict) -> Interval:
    if expr in env:
        return env[expr]
    if expr.is_Number:
        return point(expr) if expr.is_finite and expr.is_real else ANY
    if expr.is_number and expr.is_Function and expr.is_real and expr.is_finite:
        # log(0.96): rational ends around SymPy's 40-digit value (its evalf tracks precision),
        # widened by 10⁻³⁰ — exact ends compare exactly, where a log would stay a relation
        value = sympy.Rational(str(expr.evalf(40)))
        slack = sympy.Rational(1, 10**30) * max(1, abs(value))
        return Interval(value - slack, value + slack, False, False)
    if expr.is_Symbol:
        return env.get(expr, ANY)
    if expr.is_Add:
        number, terms = _split_number(expr)
        for key, known in env.items():  # a bounded sum inside a longer one, or shifted: (q) + rest + c
            if key.is_Add and key != expr:
                key_number, key_terms = _split_number(key)
                if set(key_terms) <= set(terms):
                    rest = sympy.Add(*[a for a in terms if a not in key_terms])
                    return _add(_add(known, point(number - key_number)), bound(rest, env))
        result = point(sympy.Integer(0))
        for arg in expr.args:
            result = _add(result, bound(arg, env))
        return result
    if expr.is_Mul:
        for key, known in env.items():          # a bounded product inside a longer one: (lr·λ)·rest
            if key.is_Mul and key != expr and set(key.args) <= set(expr.args):
                rest = sympy.Mul(*[a for a in expr.args if a not in key.args])
                return _mul(known, bound(rest, env))
        result, rest = point(sympy.Integer(1)), list(expr.args)
        for ratio, (a, b) in _shifted_ratios(rest):
            result = _mul(result, _shifted_ratio(ratio, b, env))
            rest.remove(a)
            rest.remove(b)
        for arg in rest:
            result = _mul(result, bound(arg, env))
        return result
    if expr.is_Pow:
        return _pow(bound(expr.base, env), expr.exp, env)
    if isinstance(expr, sympy.Abs):
        return _abs(bound(expr.args[0], env))
    if isinstance(expr, (sympy.Max, sympy.Min)):
        parts = [bound(a, env) for a in expr.args]
        pick = max if isinstance(expr, sympy.Max) else min
        return Interval(pick(p.lo for p in parts), pick(p.hi for p in parts), False, False)
    if isinstance(expr, sympy.Piecewise):  # one of the branches: their hull
        parts = [bound(value, env) for value, _ in expr.args]
        return _hull(parts)
    if isinstance(expr, sympy.cos):
        return Interval(-1, 1, False, False)
    if isinstance(expr, sympy.floor):    # ⌊x⌋ ∈ [⌊lo⌋, ⌊hi⌋]
        inner = bound(expr.args[0], env)
        return Interval(sympy.floor(inner.lo), sympy.floor(inner.hi), inner.lo == -sympy.oo, inner.hi == sympy.oo)
    if isinstance(expr, sympy.sign):
        inner = bound(expr.args[0], env)
        if inner.lo > 0 or (inner.lo == 0 and inner.lo_open):
            return point(sympy.Integer(1))
        if inner.hi < 0 or (inner.hi == 0 and inner.hi_open):
            return point(sympy.Integer(-1))
        return Interval(-1, 1, False, False)
    return ANY


def _split_number(total: sympy.Expr) -> tuple:
    """A sum as (its number term, its other terms): ρ_t − 4 and the hypothesis ρ_t > 5 share
    every term but the number, once SymPy has merged ρ_t's −1 with the −4."""
    first = total.args[0]
    if first.is_Number:
        return first, total.args[1:]
    return sympy.Integer(0), total.args


def _shifted_ratios(factors: list) -> list:
    """Pairs of factors a and 1/(a + s), s a number (ρ_t and 1/(ρ_t − 4)): as (s, (a, its divisor))."""
    found, used = [], set()
    for b in factors:
        if not (b.is_Pow and b.exp == -1 and b.base.is_Add):
            continue
        shift, terms = _split_number(b.base)
        for a in factors:
            if a is b or a in used or b in used:
                continue
            a_number, a_terms = _split_number(a) if a.is_Add else (sympy.Integer(0), (a,))
            if set(a_terms) == set(terms):
                found.append((shift - a_number, (a, b)))
                used |= {a, b}
    return found


def _shifted_ratio(shift, divisor, env: dict) -> Interval:
    """a/(a + s) = 1 − s/(a + s): a single use of a + s, where the product of the two factors'
    intervals would forget they move together (ρ_t/(ρ_t − 4) < 5 for ρ_t > 5, not ρ∞)."""
    return _add(point(sympy.Integer(1)), _mul(point(-shift), bound(divisor, env)))


def _hull(parts: list) -> Interval:
    lo = min(p.lo for p in parts)
    hi = max(p.hi for p in parts)
    lo_open = all(p.lo_open for p in parts if p.lo == lo)
    hi_open = all(p.hi_open for p in parts if p.hi == hi)
    return Interval(lo, hi, lo_open, hi_open)


def _add(a: Interval, b: Interval) -> Interval:
    return Interval(a.lo + b.lo, a.hi + b.hi, a.lo_open or b.lo_open, a.hi_open or b.hi_open)


def _neg(a: Interval) -> Interval:
    return Interval(-a.hi, -a.lo, a.hi_open, a.lo_open)


def is_zero(a: Interval) -> bool:
    return a.lo == 0 and a.hi == 0


def _mul(a: Interval, b: Interval) -> Interval:
    """Terminates: a [0, 0] factor answers at once; each sign flip below leaves a factor
    with lo ≥ 0, which the next call handles without flipping it again."""
    if is_zero(a) or is_zero(b):
        return point(sympy.Integer(0))
    if a.lo >= 0 and b.lo >= 0:
        return _mul_nonnegative(a, b)
    if a.hi <= 0:
        return _neg(_mul(_neg(a), b))
    if b.hi <= 0:
        return _neg(_mul(a, _neg(b)))
    if a.lo >= 0 and b.lo >= 0:
        return _mul_nonnegative(a, b)
    if all(x.is_finite for x in (a.lo, a.hi, b.lo, b.hi)):
        corners = [x * y for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
        return Interval(min(corners), max(corners), False, False)
    return ANY


def _mul_nonnegative(a: Interval, b: Interval) -> Interval:
    if a.hi == 0 or b.hi == 0:  # one factor is exactly 0
        return point(sympy.Integer(0))
    lo = a.lo * b.lo
    if lo == 0:
        zero_reachable = (a.lo == 0 and not a.lo_open) or (b.lo == 0 and not b.lo_open)
        lo_open = not zero_reachable
    else:
        lo_open = a.lo_open or b.lo_open
    hi = a.hi * b.hi
    return Interval(lo, hi, lo_open, a.hi_open or b.hi_open or hi == oo)


def _reciprocal(a: Interval) -> Interval:
    positive = a.lo > 0 or (a.lo == 0 and a.lo_open)
    if positive:
        lo = sympy.Integer(0) if a.hi == oo else 1 / a.hi
        hi = oo if a.lo == 0 else 1 / a.lo
        return Interval(lo, hi, a.hi_open, a.lo_open or hi == oo)
    if a.hi < 0 or (a.hi == 0 and a.hi_open):
        return _neg(_reciprocal(_neg(a)))
    return ANY


def _abs(a: Interval) -> Interval:
    if a.lo >= 0:
        return a
    if a.hi <= 0:
        return _neg(a)
    return Interval(sympy.Integer(0), max(-a.lo, a.hi), False, a.hi_open and a.lo_open)


def _monotone_power(a: Interval, r) -> Interval:
    """x ↦ x**r on x ≥ 0 for a positive rational r: increasing, keeps openness."""
    return Interval(a.lo**r, a.hi**r, a.lo_open, a.hi_open)


def _pow(base: Interval, exponent: sympy.Expr, env: dict) -> Interval:
    if exponent.is_Integer:
        n = int(exponent)
        if n == 0:
            return point(sympy.Integer(1))
        if n < 0:
            return _reciprocal(_pow(base, -exponent, env))
        if base.lo >= 0:
            return _monotone_power(base, n)
        if base.hi <= 0:
            return _monotone_power(_neg(base), n) if n % 2 == 0 else _neg(_monotone_power(_neg(base), n))
        return _monotone_power(_abs(base), n) if n % 2 == 0 else ANY
    if exponent.is_Rational:
        if base.lo < 0:  # not a real number for a negative base
            return ANY
        if exponent < 0:
            return _reciprocal(_monotone_power(base, -exponent))
        return _monotone_power(base, exponent)
    return _symbolic_power(base, bound(exponent, env))


SMALL_POWER = 64      # the largest integer power of an interval's end taken exactly


def _symbolic_power(base: Interval, exponent: Interval) -> Interval:
    """x**e for x in [0, 1] and e > 0 stays in [0, 1], below 1 if x is; e ≥ 1 keeps x**e ≤ x.
    Past 1: x**e > 0 for every real e where x > 0, and x**e ≥ 1 where x ≥ 1 and e ≥ 0."""
    positive = base.lo > 0 or (base.lo == 0 and base.lo_open)
    if base.hi > 1 and positive:
        if base.lo >= 1 and exponent.lo >= 0:
            return Interval(sympy.Integer(1), sympy.oo, False, True)
        if base.lo >= 1 and exponent.hi <= 0:   # x**e = 1/x**(−e) ≤ 1 (Adafactor's (t + 1)^τ, τ ≤ 0)
            return Interval(sympy.Integer(0), sympy.Integer(1), True, False)
        return Interval(sympy.Integer(0), sympy.oo, True, True)
    if base.lo < 0 or base.hi > 1:
        return ANY
    if positive and exponent.lo >= 0 and exponent.hi.is_finite and sympy.ceiling(exponent.hi) <= SMALL_POWER:
        # x ↦ x**e increases on (0, 1] for e ≥ 0, e ↦ x**e decreases for x ≤ 1: x**e ≥ lo**⌈e_hi⌉,
        # ≤ hi**⌊e_lo⌋ (NAdam's 0.96^ψ ≥ 0.96 for ψ ≤ 1); integer powers keep the ends exact and small
        return Interval(base.lo ** int(sympy.ceiling(exponent.hi)), base.hi ** int(sympy.floor(exponent.lo)),
                        False, False)
    if exponent.lo > 0 or (exponent.lo == 0 and exponent.lo_open):
        zero_reachable = base.lo == 0 and not base.lo_open
        if exponent.lo >= 1:  # x**e ≤ x on [0, 1]
            return Interval(sympy.Integer(0), base.hi, not zero_reachable, base.hi_open)
        below_one = base.hi < 1 or base.hi_open
        return Interval(sympy.Integer(0), sympy.Integer(1), not zero_reachable, below_one)
    if exponent.lo >= 0:  # e may be 0: x**0 = 1
        return Interval(sympy.Integer(0), sympy.Integer(1), False, False)
    return ANY
