"""Certified evaluation of exact numbers, to check a counterexample.

A candidate counterexample substitutes exact rationals into both sides.  If the
difference is a rational number, it is decided exactly.  Otherwise (square roots, powers
with rational exponents, π, cosines, floors) it is enclosed with outward-rounded interval arithmetic
(mpmath.iv); the difference is certified nonzero only if its interval excludes 0.
"""
from __future__ import annotations

import mpmath
import sympy


class Uncertifiable(ValueError):
    """The expression has a form the interval evaluator does not handle."""


def _iv(expr: sympy.Expr):
    iv = mpmath.iv
    if expr.is_Rational:
        return iv.mpf(int(expr.p)) / iv.mpf(int(expr.q))
    if expr.is_Add:
        total = iv.mpf(0)
        for arg in expr.args:
            total = total + _iv(arg)
        return total
    if expr.is_Mul:
        total = iv.mpf(1)
        for arg in expr.args:
            total = total * _iv(arg)
        return total
    if isinstance(expr, (sympy.Max, sympy.Min)):
        parts = [_iv(a) for a in expr.args]
        pick = max if isinstance(expr, sympy.Max) else min
        return iv.mpf([pick(p.a for p in parts), pick(p.b for p in parts)])
    if expr.is_Pow and not expr.exp.is_Rational and expr.exp.is_number:
        base, exponent = _iv(expr.base), _iv(expr.exp)
        if not base.a > 0:
            raise Uncertifiable(f"a real power of a possibly nonpositive number: {expr}")
        return iv.exp(iv.log(base) * exponent)
    if expr.is_Pow and expr.exp.is_Rational:
        base = _iv(expr.base)
        if expr.exp.is_Integer:
            return base ** int(expr.exp)
        if base.a < 0:
            raise Uncertifiable(f"root of a possibly negative number: {expr.base}")
        root = iv.sqrt(base) if expr.exp.q == 2 else iv.exp(iv.log(base) / expr.exp.q)
        return root ** int(expr.exp.p)
    if isinstance(expr, sympy.Abs):
        x = _iv(expr.args[0])
        return abs(x)
    if expr is sympy.pi:
        return iv.pi
    if isinstance(expr, sympy.cos):
        return iv.cos(_iv(expr.args[0]))
    if isinstance(expr, sympy.floor):
        x = _iv(expr.args[0])
        return iv.mpf([mpmath.floor(x.a), mpmath.floor(x.b)])
    raise Uncertifiable(f"cannot enclose {type(expr).__name__}: {expr}")


def enclose(expr: sympy.Expr, digits: int = 30):
    """An interval (mpmath.iv) certainly containing the exact value of ``expr``."""
    # mpmath.workdps sets the precision of mpmath.mp only; the interval context has its own.
    saved = mpmath.iv.dps
    mpmath.iv.dps = digits
    try:
        return _iv(sympy.sympify(expr))
    finally:
        mpmath.iv.dps = saved


def certainly_nonzero(value: sympy.Expr) -> bool:
    """True only if the exact real number ``value`` is shown ≠ 0 (exactly or by intervals)."""
    if not value.is_number or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
        return False
    if value.is_Rational:
        return value != 0
    for digits in (30, 120):
        try:
            box = enclose(value, digits)
        except (Uncertifiable, ZeroDivisionError, ValueError, TypeError):
            return False
        if box.a > 0 or box.b < 0:
            return True
    return False


def is_real_number(value: sympy.Expr) -> bool:
    """A finite real number (not undefined, not complex), decided exactly where possible."""
    if not value.is_number or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
        return False
    return value.is_real is True


def compare(a, b) -> str | None:
    """"<", "=" or ">" for exact real numbers ``a`` and ``b``, certified; None if not shown."""
    difference = sympy.sympify(a) - sympy.sympify(b)
    if not is_real_number(difference):
        return None
    if difference.is_Rational:
        return ">" if difference > 0 else "<" if difference < 0 else "="
    for digits in (30, 120):
        try:
            box = enclose(difference, digits)
        except (Uncertifiable, ZeroDivisionError, ValueError, TypeError):
            return None
        if box.a > 0:
            return ">"
        if box.b < 0:
            return "<"
    return "=" if sympy.cancel(difference) == 0 else None
