"""Searching for a counterexample, and certifying one.

A counterexample is a point (exact rationals for every free symbol; substituted symbols get
their substituted values) that

* lies inside every variable's domain (checked exactly: ℕ is an integer ≥ 0, [0, 1) excludes 1);
* satisfies every hypothesis and path condition (each side evaluated exactly, compared with
  certified intervals: ``certify.compare``);
* makes every recorded condition hold (every divisor ≠ 0, radicand ≥ 0, power defined) and
  both sides real numbers (no ``zoo``, ``nan``, complex value);

and where the claim fails, certified (``certify``).  Candidates: each domain's samples, the
edges of the intervals the domains and relations give (``lo + 1/1000`` …), random rationals;
then a local search around valid points: the real roots of every switch expression (the
arguments of ``Max``/``Min``/``Abs``/``sign``, branch and hypothesis boundaries) in one
variable, approached by rationals from both sides, and random perturbations at several
scales.  Sampling never proves anything: a search that finds nothing leaves UNKNOWN.
"""
from __future__ import annotations

import random
import time

import sympy

from symbolic.certify import compare, is_real_number
from symbolic.knowledge import normal_relation, show
from symbolic.obligation import NONNEGATIVE, NONZERO

R = sympy.Rational


def value_of(x) -> dict:
    exact = show(x)
    try:
        approx = exact if x.is_Rational and x.q == 1 else f"{float(sympy.N(x, 20)):.10g}"
    except (TypeError, ValueError):
        approx = exact
    return {"exact": exact, "approx": approx}


def holds(relation, point: dict) -> bool | None:
    """Whether the relation holds at the point, certified; None if not decided."""
    if relation in (sympy.true, True):
        return True
    if relation in (sympy.false, False):
        return False
    if isinstance(relation, sympy.And):
        values = [holds(a, point) for a in relation.args]
        return False if False in values else (True if all(values) else None)
    if isinstance(relation, sympy.Or):
        values = [holds(a, point) for a in relation.args]
        return True if True in values else (False if all(v is False for v in values) else None)
    if isinstance(relation, sympy.Not):
        value = holds(relation.args[0], point)
        return None if value is None else not value
    normal = normal_relation(relation)
    if normal is None:
        return None
    left, right = relation.lhs.xreplace(point), relation.rhs.xreplace(point)
    if not (is_real_number(left) and is_real_number(right)):
        return False   # a side undefined: the relation does not hold there
    c = compare(left, right)
    if c is None:
        return None
    kind = normal[0]
    if isinstance(relation, (sympy.StrictLessThan, sympy.LessThan)):
        c = {"<": ">", ">": "<", "=": "="}[c]
    return {">": c == ">", "≥": c in (">", "="), "=": c == "=", "≠": c in ("<", ">")}[kind]


def condition_holds(condition, point: dict) -> bool:
    value = condition.expr.xreplace(point)
    if not is_real_number(value):
        return False
    c = compare(value, 0)
    if condition.kind == NONZERO:
        return c in ("<", ">")
    if condition.kind == NONNEGATIVE:
        return c in (">", "=")
    exponent = condition.exponent.xreplace(point)
    if not is_real_number(exponent):
        return False
    if exponent.is_Integer:
        return bool(exponent >= 0) or c in ("<", ">")
    return c == ">" or (c == "=" and compare(exponent, 0) == ">")


def switches(exprs) -> list:
    """Expressions whose sign change switches a branch: where narrow windows hide."""
    found = []
    for expr in exprs:
        if not isinstance(expr, sympy.Basic):
            continue
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, (sympy.Max, sympy.Min)):
                args = node.args
                found += [a - b for i, a in enumerate(args) for b in args[i + 1:]]
            elif isinstance(node, (sympy.Abs, sympy.sign, sympy.Heaviside)):
                found.append(node.args[0])
            elif isinstance(node, sympy.core.relational.Relational):
                found.append(node.lhs - node.rhs)
    unique = []
    for f in found:
        if f.free_symbols and f not in unique:
            unique.append(f)
    return unique[:24]


class Space:
    """The points a counterexample may use."""

    def __init__(self, symbols: dict, labels: dict, relations: list, conditions: list, knowledge, seed: int = 0):
        self.symbols = symbols                  # Symbol -> Domain
        self.labels = labels                    # Symbol -> name shown
        self.relations = relations
        self.conditions = conditions
        self.k = knowledge
        self.free = [s for s in symbols if s not in knowledge.substitution]
        self.rng = random.Random(seed)
        self.values = {s: self._values(s) for s in self.free}

    # ------------------------------------------------------------------ candidates
    def _inside(self, s, v) -> bool:
        i = self.k.intervals.get(s, self.symbols[s].interval)
        try:
            above = v > i.lo or (v == i.lo and not i.lo_open)
            below = v < i.hi or (v == i.hi and not i.hi_open)
        except TypeError:
            return False
        return bool(above and below) and self.symbols[s].contains(v)

    def _values(self, s) -> list:
        domain = self.symbols[s]
        i = self.k.intervals.get(s, domain.interval)
        values = list(domain.samples)
        lo, hi = sympy.sympify(i.lo), sympy.sympify(i.hi)
        lo = lo if lo.is_Rational else None
        hi = hi if hi.is_Rational else None
        if lo is not None:
            values += [lo, lo + R(1, 1000), lo + R(1, 2), lo + 1, lo + 2, lo + R(1, 10**6)]
        if hi is not None:
            values += [hi, hi - R(1, 1000), hi - R(1, 2), hi - 1, hi - R(1, 10**6)]
        if lo is not None and hi is not None:
            values += [(lo + hi) / 2, lo + (hi - lo) / 10, hi - (hi - lo) / 10]
        if domain.integer:
            start = max(0, int(sympy.ceiling(lo))) if lo is not None else 0
            values += [sympy.Integer(start + k) for k in range(6)]
        kept = []
        for v in values:
            v = sympy.nsimplify(v) if not isinstance(v, sympy.Basic) else v
            if v not in kept and self._inside(s, v):
                kept.append(v)
        return kept

    def _random_value(self, s):
        domain = self.symbols[s]
        i = self.k.intervals.get(s, domain.interval)
        lo, hi = sympy.sympify(i.lo), sympy.sympify(i.hi)
        for _ in range(20):
            if domain.integer:
                v = sympy.Integer(self.rng.randint(0, 12))
            elif lo.is_Rational and hi.is_Rational:
                v = lo + (hi - lo) * R(self.rng.randint(1, 99), 100)
            else:
                v = R(self.rng.randint(-60, 60), self.rng.randint(1, 12))
                if lo.is_Rational:
                    v = lo + abs(v)
                elif hi.is_Rational:
                    v = hi - abs(v)
            if self._inside(s, v):
                return v
        return None

    def candidates(self, count: int):
        if not self.free:
            yield {}
            return
        longest = max(len(v) for v in self.values.values()) if self.values else 0
        seen = set()
        for n in range(min(count, longest * 2)):
            base = {}
            for j, s in enumerate(self.free):
                vals = self.values[s]
                if not vals:
                    return
                base[s] = vals[(n + j * (n // max(1, longest))) % len(vals)] if n < longest else \
                    vals[(n * (j + 1) + j) % len(vals)]
            key = tuple(base.values())
            if key not in seen:
                seen.add(key)
                yield base
        for _ in range(count):
            base = {}
            for s in self.free:
                v = self.rng.choice(self.values[s]) if self.rng.random() < 0.6 else self._random_value(s)
                if v is None:
                    v = self.rng.choice(self.values[s])
                base[s] = v
            key = tuple(base.values())
            if key not in seen:
                seen.add(key)
                yield base

    def neighbours(self, base: dict, switch_exprs: list):
        """Rationals near the real roots of each switch expression, one variable at a time,
        then random perturbations of the point at several scales."""
        for s in self.free:
            others = {k: v for k, v in base.items() if k != s}
            for w in switch_exprs:
                if s not in w.free_symbols:
                    continue
                for root in _roots_in(w.xreplace(others), s):
                    for v in _near(root):
                        if self._inside(s, v):
                            yield {**base, s: v}
        for scale in (R(1, 10), R(1, 100), R(1, 1000), R(1, 10**5)):
            for _ in range(3):
                moved = dict(base)
                for s in self.free:
                    if self.symbols[s].integer:
                        v = base[s] + self.rng.choice((-1, 0, 1))
                    else:
                        v = base[s] + scale * R(self.rng.randint(-10, 10), 10)
                    if self._inside(s, v):
                        moved[s] = v
                yield moved

    # ------------------------------------------------------------------ validity
    def complete(self, base: dict) -> dict | None:
        """The full point (substituted symbols included) if it is admissible, else None."""
        point = dict(base)
        for s, value in self.k.substitution.items():
            point[s] = value.xreplace(base)
        for s, v in point.items():
            if not is_real_number(v) or not self.symbols[s].contains(v):
                return None
        for relation in self.relations:
            if holds(relation, point) is not True:
                return None
        for condition in self.conditions:
            if not condition_holds(condition, point):
                return None
        return point

    def describe(self, point: dict) -> dict:
        return {self.labels.get(s, str(s)): value_of(v) for s, v in point.items()}


def _roots_in(expr, s) -> list:
    variants = [expr]
    if expr.has(sympy.Abs):
        variants = [expr.replace(sympy.Abs, lambda a: a), expr.replace(sympy.Abs, lambda a: -a)]
    roots = []
    for f in variants:
        try:
            numerator = sympy.fraction(sympy.cancel(sympy.together(f)))[0]
            if numerator.free_symbols != {s}:
                continue
            poly = sympy.Poly(numerator, s, domain="QQ")
            if 0 < poly.degree() <= 8:
                roots += list(poly.real_roots())
        except (sympy.PolynomialError, sympy.CoercionFailed, sympy.GeneratorsNeeded, ValueError, TypeError):
            continue
    return roots[:8]


def _near(root) -> list:
    try:
        approx = sympy.Rational(str(sympy.N(root, 30))).limit_denominator(10**12)
    except (TypeError, ValueError):
        return []
    out = [approx.limit_denominator(10**k) for k in (1, 2, 4, 7)]
    for k in (1, 2, 3, 4, 6, 9):
        out += [approx + R(1, 10**k), approx - R(1, 10**k)]
    if root.is_Rational:
        out.insert(0, root)
    return out


def _try(fn, *args):
    """A point where SymPy cannot even build a value (Max(zoo, 1)) is no counterexample."""
    try:
        return fn(*args)
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError, RecursionError):
        return None


def search(space: Space, test, exprs: list, count: int = 200, seconds: float = 3.0):
    """The first admissible point where ``test(point)`` returns a description, or None.
    Returns (description or None, number of admissible points tried)."""
    start = time.monotonic()
    valid = []
    tried = 0

    def probe(base):
        """(admissible, description or None) of the point ``base`` completes to."""
        nonlocal tried
        point = _try(space.complete, base)
        if point is None:
            return False, None
        tried += 1
        return True, _try(test, point)

    for base in space.candidates(count):
        if time.monotonic() - start > seconds:
            break
        admissible, found = probe(base)
        if found is not None:
            return found, tried
        if admissible and len(valid) < 8:
            valid.append(base)
    switch_exprs = switches(list(exprs) + list(space.relations))
    for base in valid:
        for moved in space.neighbours(base, switch_exprs):
            if time.monotonic() - start > seconds * 2:
                return None, tried
            found = probe(moved)[1]
            if found is not None:
                return found, tried
    return None, tried
