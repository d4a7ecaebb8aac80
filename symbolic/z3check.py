"""A second decision procedure: z3's nonlinear real arithmetic (z3-solver, pinned in
pyproject.toml; the version is in ``VERSION``).

Encoding (see docs/ARCHITECTURE.md, "The trust story"): every symbol is a z3 real (an integer
for ℕ) confined to its domain; ``x**(p/q)`` is ``y**p`` for a fresh ``y ≥ 0`` with ``y**q = x`` (and ``x ≥ 0``);
``x**-n`` is ``r**n`` for a fresh ``r`` with ``r·x = 1`` (and ``x ≠ 0``): division is never
z3's total division.  Anything else (a symbolic power ``βᵗ``, a ``Piecewise``) is a fresh
real confined to the interval that ``bounds.bound`` gives it — sound, only weaker.
``Abs``, ``Max``, ``Min``, ``sign`` become ``If``.  The guards restrict the question to the
points where every operation is defined; the decider discharges definedness separately.

Only an ``unsat`` answer is used: as a second confirmation of an equation or inequality
SymPy proved (``confirmed_by = "z3"``), as the decision of an inequality SymPy has none for,
or to show relations contradictory — each says so in its method.  It never turns an
equation into PROVED.  ``sat`` and ``unknown`` are ignored (no model is trusted).
"""
from __future__ import annotations

import sympy

from symbolic.bounds import bound
from symbolic.knowledge import normal_relation, undefined

try:
    import z3
    VERSION = z3.get_version_string()
except ImportError:  # the decider works without it: no confirmation, fewer inequalities
    z3 = None
    VERSION = None

AVAILABLE = z3 is not None


class Unsupported(Exception):
    pass


class Encoder:
    def __init__(self, symbols: dict, intervals: dict, relax_integers: bool = False):
        self.symbols = symbols           # Symbol -> Domain
        self.relax_integers = relax_integers
        self.intervals = intervals       # Symbol / subexpression -> Interval
        self.vars: dict = {}
        self.atoms: dict = {}
        self.premises: list = []
        self.count = 0

    def _fresh(self, prefix: str):
        self.count += 1
        return z3.Real(f"{prefix}!{self.count}")

    def _confine(self, var, interval) -> None:
        lo, hi = sympy.sympify(interval.lo), sympy.sympify(interval.hi)
        if lo.is_Rational:
            lo = z3.RealVal(str(lo))
            self.premises.append(var > lo if interval.lo_open else var >= lo)
        if hi.is_Rational:
            hi = z3.RealVal(str(hi))
            self.premises.append(var < hi if interval.hi_open else var <= hi)

    def symbol(self, s):
        if s not in self.vars:
            domain = self.symbols.get(s)
            if domain is None:
                raise Unsupported(f"undeclared symbol {s}")
            if domain.integer and not self.relax_integers:
                var = z3.ToReal(z3.Int(s.name))
            else:
                var = z3.Real(s.name)
            self._confine(var, self.intervals.get(s, domain.interval))
            if domain.nonzero:
                self.premises.append(var != 0)
            self.vars[s] = var
        return self.vars[s]

    def _atom(self, e):
        if e not in self.atoms:
            var = self._fresh("atom")
            self._confine(var, bound(e, self.intervals))
            self.atoms[e] = var
        return self.atoms[e]

    def _power(self, x, n: int):
        result = z3.RealVal(1)
        for _ in range(n):
            result = result * x
        return result

    def expr(self, e):
        if undefined(e):
            raise Unsupported("undefined value")
        if e.is_Rational:
            return z3.RealVal(str(e))
        if e.is_Symbol:
            return self.symbol(e)
        if e.is_Add:
            parts = [self.expr(a) for a in e.args]
            return z3.Sum(parts) if len(parts) > 1 else parts[0]
        if e.is_Mul:
            result = self.expr(e.args[0])
            for a in e.args[1:]:
                result = result * self.expr(a)
            return result
        if e.is_Pow and e.exp.is_Rational:
            base = self.expr(e.base)
            p, q = int(e.exp.p), int(e.exp.q)
            if abs(p) > 12 or q > 4:
                return self._atom(e)
            if q != 1:
                root = self._fresh("root")
                self.premises += [root >= 0, self._power(root, q) == base, base >= 0]
                base = root
            if p < 0:
                inverse = self._fresh("inv")
                self.premises += [base != 0, inverse * base == 1]
                return self._power(inverse, -p)
            return self._power(base, p)
        if isinstance(e, sympy.Abs):
            x = self.expr(e.args[0])
            return z3.If(x >= 0, x, -x)
        if isinstance(e, (sympy.Max, sympy.Min)) and len(e.args) == 2:
            a, b = self.expr(e.args[0]), self.expr(e.args[1])
            return z3.If(a >= b, a, b) if isinstance(e, sympy.Max) else z3.If(a <= b, a, b)
        if isinstance(e, sympy.sign):
            x = self.expr(e.args[0])
            return z3.If(x > 0, z3.RealVal(1), z3.If(x < 0, z3.RealVal(-1), z3.RealVal(0)))
        return self._atom(e)

    def relation(self, r):
        if r in (sympy.true, True):
            return z3.BoolVal(True)
        if r in (sympy.false, False):
            return z3.BoolVal(False)
        if isinstance(r, sympy.And):
            return z3.And(*[self.relation(a) for a in r.args])
        if isinstance(r, sympy.Or):
            return z3.Or(*[self.relation(a) for a in r.args])
        if isinstance(r, sympy.Not):
            return z3.Not(self.relation(r.args[0]))
        normal = normal_relation(r)
        if normal is None:
            raise Unsupported(f"relation {r}")
        kind, e = normal
        x = self.expr(e)
        return {">": x > 0, "≥": x >= 0, "=": x == 0, "≠": x != 0}[kind]


def unsat(symbols: dict, intervals: dict, relations: list, goal_negation=None, ms: int = 1500,
          relax_integers: bool = False) -> bool:
    """True only if z3 answers unsat for: domains ∧ relations (∧ goal_negation, a SymPy
    relation, the negation of what is to be shown).  ``relax_integers``: an ℕ symbol is a
    real ≥ 0 — a weaker question (every integer point is a real one), so its unsat holds for
    the integers too, and it stays in nonlinear real arithmetic, which answers where the
    mixed integer-real one does not."""
    if z3 is None:
        return False
    try:
        encoder = Encoder(symbols, intervals, relax_integers)
        formulas = [encoder.relation(r) for r in relations]
        if goal_negation is not None:
            formulas.append(encoder.relation(goal_negation))
        solver = z3.Solver()
        solver.set("timeout", ms)
        solver.add(*encoder.premises, *formulas)
        return solver.check() == z3.unsat
    except (Unsupported, z3.Z3Exception, TypeError, ValueError, RecursionError):
        return False


def _scaled(e, integers: dict):
    """(z3 integer term of c·e, c) for a positive integer c, or None unless ``e`` is a
    polynomial with rational coefficients in the integer symbols (a number included)."""
    if not e.free_symbols <= set(integers):
        return None
    try:
        poly = sympy.Poly(e, *sorted(e.free_symbols, key=str)) if e.free_symbols else None
    except sympy.PolynomialError:
        return None
    if poly is None:
        number = sympy.sympify(e)
        return (z3.IntVal(int(number.p)), int(number.q)) if number.is_Rational else None
    if not poly.domain.is_QQ and not poly.domain.is_ZZ:
        return None
    scale, poly = poly.clear_denoms(convert=True)
    terms = []
    for powers, coefficient in poly.terms():
        term = z3.IntVal(int(coefficient))
        for symbol, power in zip(poly.gens, powers):
            for _ in range(power):
                term = term * integers[symbol]
        terms.append(term)
    return (z3.Sum(terms) if len(terms) > 1 else terms[0]), int(scale)


def _integer_polynomial(e, integers: dict):
    """``e`` as a z3 integer term, scaled by a positive constant to clear its denominators;
    None unless ``e`` is a polynomial with rational coefficients in integer symbols."""
    found = _scaled(e, integers) if e.free_symbols else None
    return None if found is None else found[0]


def _floors(relations: list, integers: dict, premises: list) -> list:
    """The relations with each ``⌊P/Q⌋`` (P, Q polynomials in integer symbols) replaced by a
    fresh integer k, and k's definition added to ``premises``: Q·k ≤ P < Q·k + Q when Q > 0,
    reversed when Q < 0 (Q ≠ 0: where the quotient is defined)."""
    nodes = set()
    for r in relations:
        nodes |= {n for n in sympy.preorder_traversal(r) if isinstance(n, sympy.floor)}
    replaced = {}
    for node in sorted(nodes, key=lambda n: (sympy.count_ops(n), str(n))):   # inner floors first
        numerator, denominator = sympy.fraction(sympy.together(node.args[0].xreplace(replaced)))
        top, bottom = _scaled(sympy.expand(numerator), integers), _scaled(sympy.expand(denominator), integers)
        if top is None or bottom is None:
            continue
        # a·N over b·D: N/D = (b·(a·N)) / (a·(b·D))
        (p, a), (q, b) = top, bottom
        P, Q = b * p, a * q
        symbol = sympy.Dummy("floor", integer=True)
        k = z3.Int(f"floor!{len(integers)}")
        integers[symbol] = k
        premises.append(Q != 0)
        premises.append(z3.Or(z3.And(Q > 0, Q * k <= P, P < Q * k + Q), z3.And(Q < 0, Q * k >= P, P > Q * k + Q)))
        replaced[node] = symbol
    return [r.xreplace(replaced) for r in relations] if replaced else list(relations)


def _integer_domains(symbols: dict, integers: dict) -> list:
    premises = []
    for s, var in integers.items():
        interval = symbols[s].interval
        lo, hi = sympy.sympify(interval.lo), sympy.sympify(interval.hi)
        if lo.is_Rational:
            premises.append(var * lo.q > lo.p if interval.lo_open else var * lo.q >= lo.p)
        if hi.is_Rational:
            premises.append(var * hi.q < hi.p if interval.hi_open else var * hi.q <= hi.p)
    return premises


def integer_unsat(symbols: dict, relations: list, ms: int = 1500) -> bool:
    """True only if z3 answers unsat for the relations among ``relations`` that are
    polynomial (in)equations between integer symbols (ℕ), over z3's integers.

    The mixed real encoding of :func:`unsat` (an ℕ symbol as ``ToReal`` of an integer) sends
    ``t < T ∧ t + 1 ≥ T ∧ t + 1 ≠ T`` to nonlinear real arithmetic, which does not answer in
    seconds; over the integers it is linear arithmetic, which z3 decides.  A subset of the
    relations being contradictory makes all of them contradictory, so the others are left
    out, not guessed."""
    if z3 is None:
        return False
    integers = {s: z3.Int(s.name) for s, d in symbols.items() if d.integer}
    if not integers:
        return False
    try:
        premises = _integer_domains(symbols, integers)
        formulas = []
        for r in _floors(relations, integers, premises):
            normal = normal_relation(r)
            term = None if normal is None else _integer_polynomial(normal[1], integers)
            if term is not None:
                formulas.append({">": term > 0, "≥": term >= 0, "=": term == 0, "≠": term != 0}[normal[0]])
        if not formulas:
            return False
        solver = z3.Solver()
        solver.set("timeout", ms)
        solver.add(*premises, *formulas)
        return solver.check() == z3.unsat
    except (z3.Z3Exception, TypeError, ValueError, RecursionError):
        return False
