"""What the domains, hypotheses and path conditions establish, used soundly by the decider.

``Knowledge`` reads the relations an obligation is stated under (the theorem's hypotheses
and its path's branch conditions) by meaning:

* ``Eq(symbol, value)`` substitutes ``value`` for the symbol (sequentially, so no cycle
  can form); the value must lie in the symbol's domain: a value outside it makes the
  relations contradictory, and a symbolic value inherits the domain as new facts;
* ``Ne(a, b)`` is the fact ``a − b ≠ 0``;
* ``<, ≤, >, ≥`` are facts ``E > 0`` / ``E ≥ 0``; one with a number on one side bounds the
  other side (a symbol, or a whole subexpression such as ``ρ_t``) by an interval;
* other equalities are facts both ways and rewrite their left side.

It answers sign questions (``decide``, ``how_nonzero``, ``how_nonnegative``, …) from interval
bounds, matching facts (equal as rational functions, by ``cancel``), structure (a product of
nonzero factors is nonzero) and SymPy's assumptions on dummies that carry only *proven*
signs.  A decision about an expression that rewrites it (``cancel``) is only valid where the
expression is defined: every expression a decision rested on is kept in ``decided`` and the
decider demands its definedness like any other side condition.

It detects contradictions it can see: a substituted value outside its domain, an empty
interval, a fact whose bound says it is false, ``E > 0`` against ``E ≤ 0``, ``E ≠ 0`` for an
``E`` that is 0.  Nothing here uses ``force=True`` or ``simplify``.
"""
from __future__ import annotations

import functools

import sympy

from symbolic.bounds import bound, excludes_zero, is_zero
from symbolic.certify import compare
from symbolic.domains import Interval
from symbolic.obligation import NONNEGATIVE, NONZERO, POWER, Condition

UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I)
GT, GE = ">", "≥"


class ClaimError(ValueError):
    """An obligation that cannot be decided as stated (undeclared symbols, bad relation, …)."""


def undefined(expr) -> bool:
    """``zoo``, ``nan``, ``±oo`` or ``I`` inside: some operation was undefined over ℝ."""
    return isinstance(expr, sympy.Basic) and expr.has(*UNDEFINED)


def show(expr) -> str:
    return sympy.sstr(expr) if isinstance(expr, sympy.Basic) else str(expr)


def exact(expr):
    """SymPy Floats (the data contract has none) become the rationals they store."""
    expr = sympy.sympify(expr)
    floats = expr.atoms(sympy.Float)
    return expr.xreplace({f: sympy.Rational(f) for f in floats}) if floats else expr


def partial_conditions(expr, origin: str = "scan") -> list:
    """Every partial operation left in ``expr``: a negative power needs its base ≠ 0, a
    fractional power its base ≥ 0 (and ≠ 0 if negative), a symbolic power the ``power``
    condition.  Undecided ``Piecewise`` nodes are scanned whole (every branch may be taken)."""
    found = []
    if not isinstance(expr, sympy.Basic):
        return found
    for node in sympy.preorder_traversal(expr):
        if not node.is_Pow:
            continue
        e = node.exp
        if e.is_Integer:
            if e < 0:
                found.append(Condition(NONZERO, node.base, origin=origin))
        elif e.is_Rational:
            found.append(Condition(NONNEGATIVE, node.base, origin=origin))
            if e < 0:
                found.append(Condition(NONZERO, node.base, origin=origin))
        else:
            found.append(Condition(POWER, node.base, e, origin=origin))
    return found


def normal_relation(relation) -> tuple | None:
    """(kind, E) with kind ">", "≥", "=", "≠" and the relation meaning ``E kind 0``."""
    if isinstance(relation, sympy.StrictGreaterThan):
        return GT, relation.lhs - relation.rhs
    if isinstance(relation, sympy.StrictLessThan):
        return GT, relation.rhs - relation.lhs
    if isinstance(relation, sympy.GreaterThan):
        return GE, relation.lhs - relation.rhs
    if isinstance(relation, sympy.LessThan):
        return GE, relation.rhs - relation.lhs
    if isinstance(relation, sympy.Eq):
        return "=", relation.lhs - relation.rhs
    if isinstance(relation, sympy.Ne):
        return "≠", relation.lhs - relation.rhs
    return None


def empty(i: Interval) -> bool:
    try:
        return bool(i.lo > i.hi or (i.lo == i.hi and (i.lo_open or i.hi_open)))
    except TypeError:
        return False


def intersect(a: Interval, b: Interval) -> Interval:
    try:
        if a.lo > b.lo or (a.lo == b.lo and a.lo_open):
            lo, lo_open = a.lo, a.lo_open
        else:
            lo, lo_open = b.lo, b.lo_open
        if a.hi < b.hi or (a.hi == b.hi and a.hi_open):
            hi, hi_open = a.hi, a.hi_open
        else:
            hi, hi_open = b.hi, b.hi_open
        return Interval(lo, hi, lo_open, hi_open)
    except TypeError:
        return a


def add_sign_facts(facts: dict, i: Interval) -> None:
    """Add to ``facts`` (SymPy assumptions) the sign the interval ``i`` gives its values:
    positive or nonnegative from below, negative or nonpositive from above.  A bound SymPy cannot
    compare raises TypeError, after the facts already added."""
    if i.lo > 0 or (i.lo == 0 and i.lo_open):
        facts["positive"] = True
    elif i.lo >= 0:
        facts["nonnegative"] = True
    if i.hi < 0 or (i.hi == 0 and i.hi_open):
        facts["negative"] = True
    elif i.hi <= 0:
        facts["nonpositive"] = True


_POINT_VALUES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)   # integers: a symbolic power βᵗ stays rational


def _differ_at_a_point(a, b) -> bool:
    """a ≠ b shown at one rational point (exactly): then they are not the same function, and
    the costly cancellation (minutes for a float error bound's long sums) is not asked."""
    symbols = sorted(a.free_symbols, key=str)
    point = {s: sympy.Integer(_POINT_VALUES[i % len(_POINT_VALUES)] + 37 * (i // len(_POINT_VALUES)))
             for i, s in enumerate(symbols)}
    try:
        difference = (a - b).xreplace(point)
    except (TypeError, ValueError, ZeroDivisionError):
        return False
    return bool(difference.is_number and difference.is_finite and difference.is_zero is False)


@functools.lru_cache(maxsize=4096)
def same_function(a, b) -> bool:
    """Equal as rational functions (roots and powers as atoms).  False means only "not
    shown": expressions over different symbols are not compared (speed)."""
    a, b = sympy.sympify(a), sympy.sympify(b)
    if a == b:
        return True
    if a.free_symbols != b.free_symbols:
        return False
    if _differ_at_a_point(a, b):
        return False
    try:
        return sympy.cancel(a - b) == 0
    except (sympy.PolynomialError, TypeError, ValueError):
        return False


def same_up_to_sign(a, b) -> bool:
    """a = b or a = −b as rational functions (``same_function``): one magnitude."""
    return same_function(a, b) or same_function(a, -b)


def _zero_squares(relation) -> list | None:
    """The bases fᵢ when ``relation`` says √(Σ cᵢ·fᵢ²) = 0 or Σ cᵢ·fᵢ² = 0 with every cᵢ > 0 a
    number (a norm that is 0): then every fᵢ = 0 over the reals.  None otherwise."""
    lhs, rhs = relation.lhs, relation.rhs
    if lhs == 0:
        lhs, rhs = rhs, lhs
    if rhs != 0:
        return None
    if lhs.is_Pow and lhs.exp == sympy.Rational(1, 2):
        lhs = lhs.base
    bases = []
    for term in sympy.Add.make_args(lhs):
        coefficient, rest = term.as_coeff_Mul()
        if not (coefficient.is_Rational and coefficient > 0 and rest.is_Pow and rest.exp == 2):
            return None
        bases.append(rest.base)
    return bases if len(bases) > 1 or lhs.is_Pow or (bases and lhs != bases[0]) else None


@functools.lru_cache(maxsize=4096)
def _cancelled(e):
    """e over one denominator, common factors cancelled (None where SymPy cannot): remembered,
    since the same sums meet every path, vertex and Knowledge, and cancelling is most of a sign
    question's cost."""
    try:
        return sympy.cancel(sympy.together(e))
    except (sympy.PolynomialError, TypeError, ValueError):
        return None


class Knowledge:
    """Everything the relations establish; ``contradiction`` is set (a reason) if they are
    shown contradictory, in which case no other answer matters."""

    def __init__(self, symbols: dict, relations: list, check_symbols: bool = True):
        self.symbols = symbols                      # Symbol -> Domain
        self.intervals = {s: d.interval for s, d in symbols.items()}
        self.substitution: dict = {}
        self.rewrites: dict = {}
        self.facts: list = []                       # (kind, E): E > 0 or E ≥ 0
        self.nonzero: list = []                     # E with E ≠ 0
        self.zeros: list = []                       # E with E = 0 (not a substitution)
        self.opaque: list = []                      # relations only checked at points
        self.used: list = []                        # what each relation did, for the report (text made on demand)
        self.decided: list = []                     # expressions decisions rested on
        self.contradiction: str | None = None
        self._nodes: dict = {}                      # node -> (decided node, expressions it rested on)
        self._answers: dict = {}                    # (question, E, depth) -> (answer, expressions it rested on)
        self._floor_offsets: dict = {}              # (floor, floor) -> their proven difference, or None
        self._floor_pool: set = set()               # floors of counters seen (note_floors, apply)
        self._domain_values: list = []
        self._pending: list = []
        self._orders: list = []                     # (strict, x, y): x > y (or ≥) between two variables
        flat = []
        for relation, source in relations:
            relation = exact(relation)
            if check_symbols and isinstance(relation, sympy.Basic):
                stray = relation.free_symbols - set(symbols)
                if stray:
                    raise ClaimError(f"{source} {show(relation)} mentions undeclared symbols "
                                     f"{sorted(map(str, stray))}")
            flat += [(r, source) for r in self._flatten(relation, source)]
        for relation, source in flat:
            if self.contradiction is None and isinstance(relation, sympy.Eq):
                self._equality(relation, source)
        for symbol, value in self._domain_values:
            if self.contradiction is None:
                self._inherit_domain(symbol, value)
        for relation, source in self._pending + [(r, s) for r, s in flat if not isinstance(r, sympy.Eq)]:
            if self.contradiction is None:
                self._relation(relation, source)
        self._carry_orders()
        if self.contradiction is None:
            self._check_consistency()
        self.dummies = self._make_dummies() if self.contradiction is None else {}
        self.env = dict(self.intervals)
        self.env.update({d: self.intervals[s] for s, d in self.dummies.items()})

    # ---------------------------------------------------------------- reading relations
    def _flatten(self, relation, source) -> list:
        if relation is sympy.true or relation is True:
            return []
        if relation is sympy.false or relation is False:
            self.contradiction = f"{source} is false"
            return []
        if isinstance(relation, sympy.And):
            return [r for a in relation.args for r in self._flatten(a, source)]
        if isinstance(relation, sympy.Eq):
            zeros = _zero_squares(relation)
            if zeros is not None:   # a norm that is 0: every entry is 0
                self.used.append(lambda: f"{show(relation)} ({source}): a sum of squares that is 0, so each base is 0")
                return [relation] + [sympy.Eq(base, 0) for base in zeros]
        if isinstance(relation, sympy.core.relational.Relational):
            return [relation]
        if isinstance(relation, sympy.logic.boolalg.Boolean):
            self.opaque.append(relation)
            self.used.append(lambda: f"{show(relation)}: checked at every counterexample point only")
            return []
        raise ClaimError(f"{source} must be a relation (Eq, Ne, <, ≤, >, ≥), got {relation!r}")

    def subst(self, expr):
        return expr.xreplace(self.substitution) if self.substitution and isinstance(expr, sympy.Basic) else expr

    def _settled(self, relation, source, r, after: str) -> bool:
        """Whether ``r``, the relation after the substitutions, settles it: true (recorded as used)
        or false (a contradiction, false after ``after``)."""
        if r is sympy.true:
            self.used.append(lambda: f"{show(relation)} ({source}): implied by the substitutions")
            return True
        if r is sympy.false:
            self.contradiction = f"{show(relation)} ({source}) is false after {after}"
            return True
        return False

    def _undefined_side(self, relation, source, r) -> bool:
        """Whether a side of ``r`` is undefined, so the relation never holds (a contradiction)."""
        if undefined(r.lhs) or undefined(r.rhs):
            self.contradiction = f"{show(relation)} ({source}) has an undefined side: it never holds"
            return True
        return False

    def _equality(self, relation, source) -> None:
        r = self.subst(relation)
        if self._settled(relation, source, r, "substituting the others") or self._undefined_side(relation, source, r):
            return
        for symbol, value in ((r.lhs, r.rhs), (r.rhs, r.lhs)):
            if symbol in self.symbols and symbol not in self.substitution and symbol not in value.free_symbols:
                updated = {k: v.xreplace({symbol: value}) for k, v in self.substitution.items()}
                for k, v in updated.items():
                    if undefined(v):
                        self.contradiction = (f"{show(relation)} ({source}) makes {k} = {show(v)}, "
                                              "which is undefined")
                        return
                updated[symbol] = value
                self.substitution = updated
                self._domain_values.append((symbol, value))
                self.used.append(lambda: f"{show(relation)} ({source}): substituted")
                return
        self._pending.append((relation, source))

    def _inherit_domain(self, symbol, value) -> None:
        """The substituted value must lie in the symbol's domain."""
        domain = self.symbols[symbol]
        value = self.subst(value)
        where = f"{symbol} = {show(value)}"
        if value.is_number:
            if not domain.contains(value):
                self.contradiction = f"{where} lies outside {symbol}'s domain {domain.notation}"
            return
        if domain.integer and value.is_integer is False:
            self.contradiction = f"{where} is not an integer, but {symbol} ∈ {domain.notation}"
            return
        i = domain.interval
        source = f"{symbol}'s domain {domain.notation}, carried by {where}"
        if i.lo != -sympy.oo:
            self._relation((sympy.Gt if i.lo_open else sympy.Ge)(value, i.lo, evaluate=False), source)
        if i.hi != sympy.oo and self.contradiction is None:
            self._relation((sympy.Lt if i.hi_open else sympy.Le)(value, i.hi, evaluate=False), source)
        if domain.nonzero and self.contradiction is None:
            self._relation(sympy.Ne(value, 0, evaluate=False), source)
        if domain.integer:
            self.opaque.append(sympy.Eq(value, value))  # integrality: checked at points via the domain

    def _relation(self, relation, source) -> None:
        r = self.subst(relation)
        if self._settled(relation, source, r, "substitution"):
            return
        if not isinstance(r, sympy.core.relational.Relational):
            self.opaque.append(r)
            return
        if self._undefined_side(relation, source, r):
            return
        kind, e = normal_relation(r)
        if e.is_number:
            c = compare(e, 0)
            holds = {GT: c == ">", GE: c in (">", "="), "=": c == "=", "≠": c in ("<", ">")}[kind]
            if c is not None and not holds:
                self.contradiction = f"{show(relation)} ({source}) is false"
            elif c is None:
                self.opaque.append(r)
            return
        notes = []
        if kind == "≠":
            if same_function(e, 0):
                self.contradiction = f"{show(relation)} ({source}): both sides are the same"
                return
            self.nonzero.append(e)
            notes.append("a nonzero fact")
        elif kind == "=":
            c = sympy.cancel(e)
            if c.is_number and c != 0:
                self.contradiction = f"{show(relation)} ({source}): the sides differ by {show(c)}"
                return
            self.facts += [(GE, e), (GE, -e)]
            self.zeros.append(e)
            if not r.lhs.is_number:
                self.rewrites[r.lhs] = r.rhs
                notes.append(lambda lhs=r.lhs, rhs=r.rhs: f"rewrites {show(lhs)} as {show(rhs)}")
            if r.rhs.is_number or r.lhs.is_number:
                side, number = (r.lhs, r.rhs) if r.rhs.is_number else (r.rhs, r.lhs)
                self._tighten(side, Interval(number, number, False, False))
        else:
            self.facts.append((kind, e))
            notes.append("a sign fact")
            self._note_order(kind, e)
            if r.rhs.is_number or r.lhs.is_number:
                side = r.lhs if r.rhs.is_number else r.rhs
                number = r.rhs if r.rhs.is_number else r.lhs
                upper = isinstance(r, (sympy.StrictLessThan, sympy.LessThan)) == (side is r.lhs)
                strict = kind == GT
                limit = (Interval(-sympy.oo, number, True, strict) if upper
                         else Interval(number, sympy.oo, strict, True))
                self._tighten(side, limit)
                notes.append(lambda side=side, now=self.intervals.get(side, limit): f"bounds {show(side)} to {now.show()}")
        self.used.append(lambda: f"{show(relation)} ({source}): " + "; ".join(n if isinstance(n, str) else n() for n in notes))

    def _note_order(self, kind, e) -> None:
        """E = x − y > 0 (or ≥ 0) for two variables: an order that carries bounds across."""
        terms = sympy.Add.make_args(e)
        above = [t for t in terms if t.is_Symbol]
        below = [-t for t in terms if (-t).is_Symbol]
        if len(terms) == 2 and len(above) == 1 and len(below) == 1:
            self._orders.append((kind == GT, above[0], below[0]))

    def _carry_orders(self) -> None:
        """x > y: x lies above y's lower bound, y below x's upper one (lr_max > lr > 0 gives
        lr_max > 0); repeated until a chain of orders has carried every bound along it (a round
        that changes no bound ends it: the next would change none either)."""
        for _ in range(len(self._orders)):
            before = dict(self.intervals)
            for strict, x, y in self._orders:
                if self.contradiction is not None:
                    return
                low, high = bound(y, self.intervals), bound(x, self.intervals)
                if low.lo != -sympy.oo:
                    self._tighten(x, Interval(low.lo, sympy.oo, low.lo_open or strict, True))
                if high.hi != sympy.oo:
                    self._tighten(y, Interval(-sympy.oo, high.hi, True, high.hi_open or strict))
            if self.intervals == before:
                return

    def _tighten(self, key, limit: Interval) -> None:
        current = self.intervals.get(key)
        if current is None:
            current = bound(key, self.intervals)
        self.intervals[key] = intersect(current, limit)
        if empty(self.intervals[key]):
            self.contradiction = f"{show(key)} would lie in the empty set {self.intervals[key].show()}"

    def _check_consistency(self) -> None:
        for key, i in self.intervals.items():
            if empty(i):
                self.contradiction = f"{show(key)} would lie in the empty set {i.show()}"
                return
        for kind, e in self.facts:
            b = bound(e, self.intervals)
            try:
                impossible = bool((b.hi <= 0) if kind == GT else (b.hi < 0 or (b.hi == 0 and b.hi_open)))
            except TypeError:
                impossible = False
            if impossible:
                self.contradiction = (f"{show(e)} {kind} 0 is stated, but the domains and other relations "
                                      f"put it in {b.show()}")
                return
        for i, (k1, e1) in enumerate(self.facts):
            for k2, e2 in self.facts[i + 1:]:
                if GT in (k1, k2) and same_function(e1, -e2):
                    self.contradiction = f"{show(e1)} {k1} 0 and {show(e2)} {k2} 0 contradict each other"
                    return
        for e in self.nonzero:
            if is_zero(bound(e, self.intervals)):
                self.contradiction = f"{show(e)} ≠ 0 is stated, but it is 0"
                return

    def _make_dummies(self) -> dict:
        dummies = {}
        for s, domain in self.symbols.items():
            if s in self.substitution:
                continue
            i = self.intervals[s]
            facts = {"integer": True} if domain.integer else {"real": True}
            try:
                add_sign_facts(facts, i)
            except TypeError:
                pass
            if domain.nonzero or any(same_up_to_sign(e, s) for e in self.nonzero):
                facts["nonzero"] = True
            dummies[s] = sympy.Dummy(s.name, **facts)
        return dummies

    def with_signs(self, expr):
        """``expr`` over dummies carrying the proven sign facts of each symbol."""
        return expr.xreplace(self.dummies)

    def without_signs(self, expr):
        return expr.xreplace({d: s for s, d in self.dummies.items()})

    # ----------------------------------------------------------------- sign questions
    def _remembered(self, question, e, depth: int) -> str | None:
        """``question(e, depth)``, asked once: the error analysis asks the sign of the same
        atoms on every path and at every rounding.  The facts are fixed once read (__init__),
        so an answer stays true; what it rested on is recorded again, as ``_decide_node`` does."""
        key = (question.__name__, e, depth)
        if key not in self._answers:
            before = len(self.decided)
            answer = question(e, depth)
            self._answers[key] = (answer, self.decided[before:])
        else:
            answer, rested_on = self._answers[key]
            self.decided.extend(rested_on)
        return answer

    def _bounds(self, e):
        """Interval bounds of ``e`` as written, then of its cancelled form: lazily, since the
        cancelled form costs most of a sign question and is needed only where the first fails."""
        yield bound(e, self.env)
        if e.is_Add or e.is_Mul or e.is_Pow:
            together = _cancelled(e)
            if together is not None and together != e:
                yield bound(together, self.env)

    def _assumed(self, e, attribute: str) -> bool:
        try:
            return getattr(self.with_signs(e), attribute) is True
        except (TypeError, ValueError, RecursionError, AttributeError):
            return False

    def how_positive(self, e, depth: int = 0) -> str | None:
        return self._remembered(self._how_positive_once, e, depth)

    def _how_positive_once(self, e, depth: int) -> str | None:
        for b in self._bounds(e):
            if b.lo > 0 or (b.lo == 0 and b.lo_open):
                return f"interval bounds: value in {b.show()}"
        if any(k == GT and same_function(f, e) for k, f in self.facts):
            return "a hypothesis or path condition states it"
        if depth < 5 and any(same_up_to_sign(z, e) for z in self.nonzero) and self.how_nonnegative(e, depth + 1):
            return "nonnegative, and stated nonzero"     # ‖d‖ ≠ 0 on a path, ‖d‖ ≥ 0 a root
        if self._assumed(e, "is_positive"):
            return "SymPy's assumptions from the proven signs"
        if depth < 5 and self._structurally(e, True, depth):
            return "the signs of its parts"
        if depth < 5 and self._cosine_difference(e, strict=True):
            return "cos is decreasing on [0, π]"
        if depth == 0 and self._by_integer_arithmetic(GT, e):
            return "z3 integer arithmetic from the facts between counters"
        return None

    def how_nonnegative(self, e, depth: int = 0) -> str | None:
        return self._remembered(self._how_nonnegative_once, e, depth)

    def _how_nonnegative_once(self, e, depth: int) -> str | None:
        for b in self._bounds(e):
            if b.lo >= 0:
                return f"interval bounds: value in {b.show()}"
        if any(same_function(f, e) for _, f in self.facts):
            return "a hypothesis or path condition states it"
        if self._assumed(e, "is_nonnegative"):
            return "SymPy's assumptions from the proven signs"
        if depth < 5 and self._structurally(e, False, depth):
            return "the signs of its parts"
        if depth < 5 and self._cosine_difference(e, strict=False):
            return "cos is decreasing on [0, π]"
        if depth == 0 and self._by_integer_arithmetic(GE, e):
            return "z3 integer arithmetic from the facts between counters"
        return None

    def _structurally(self, e, strict: bool, depth: int) -> bool:
        """Sign from the parts, without rewriting (valid wherever ``e`` is defined): a sum
        of nonnegative terms (one positive), a product of factors of known sign, a power of
        a positive base or an even power of a nonzero one."""
        pos = lambda x: self.how_positive(x, depth + 1)      # noqa: E731
        nonneg = lambda x: self.how_nonnegative(x, depth + 1)  # noqa: E731
        if e.is_Add:
            if not all(nonneg(a) for a in e.args):
                return False
            return not strict or any(pos(a) for a in e.args)
        if e.is_Mul:
            negative = 0
            for f in e.args:
                if (pos(f) if strict else nonneg(f)):
                    continue
                if (pos(-f) if strict else nonneg(-f)):
                    negative += 1
                    continue
                return False
            return negative % 2 == 0
        if e.is_Pow:
            if pos(e.base):
                return True
            if e.exp.is_Integer and e.exp % 2 == 0:
                return bool(self.how_nonzero(e.base, depth + 1)) if strict else True
            return not strict and e.exp.is_positive is True and bool(nonneg(e.base))
        if isinstance(e, sympy.Abs):
            return bool(self.how_nonzero(e.args[0], depth + 1)) if strict else True
        return False

    def how_nonzero(self, e, depth: int = 0) -> str | None:
        return self._remembered(self._how_nonzero_once, e, depth)

    def _how_nonzero_once(self, e, depth: int) -> str | None:
        if e.is_number:
            return "a nonzero number" if compare(e, 0) in ("<", ">") else None
        for b in self._bounds(e):
            if excludes_zero(b):
                return f"interval bounds: value in {b.show()}"
        if any(same_up_to_sign(z, e) for z in self.nonzero):
            return "a hypothesis or path condition states it"
        if any(z.is_Pow and z.exp.is_positive and same_up_to_sign(z.base, e) for z in self.nonzero):
            return "a positive power of it is stated nonzero (0 to a positive power is 0)"
        sign = self.how_positive(e, depth) or self.how_positive(-e, depth)
        if sign:
            return "its sign is known: " + sign
        if depth < 6:
            if e.is_Mul and all(self.how_nonzero(f, depth + 1) for f in e.args):
                return "every factor is nonzero"
            if e.is_Pow and self.how_nonzero(e.base, depth + 1):
                return "a power of a nonzero base"
            if isinstance(e, sympy.Abs) and self.how_nonzero(e.args[0], depth + 1):
                return "the absolute value of a nonzero value"
        if self._assumed(e, "is_nonzero"):
            return "SymPy's assumptions from the proven signs"
        if depth == 0:
            return self._cosine_off_its_extremes(e)
        return None

    def _cosine_difference(self, e, strict: bool) -> bool:
        """``c·(cos(π·A) − cos(π·B))`` with c > 0 is ≥ 0 when 0 ≤ A ≤ B ≤ 1 (> 0 when A < B):
        cos is strictly decreasing on [0, π]."""
        if not e.is_Add or not e.has(sympy.cos):
            return False
        terms = sympy.Add.make_args(e)
        if len(terms) != 2:
            return False
        (c1, f1), (c2, f2) = (t.as_coeff_Mul() for t in terms)
        if c1 != -c2 or c1 == 0 or not isinstance(f1, sympy.cos) or not isinstance(f2, sympy.cos):
            return False
        high, low = (f1, f2) if c1 > 0 else (f2, f1)      # e = |c|·(high − low)
        a, b = sympy.expand(high.args[0] / sympy.pi), sympy.expand(low.args[0] / sympy.pi)
        if a.has(sympy.pi) or b.has(sympy.pi):
            return False

        def nonnegative(x) -> bool:
            x = sympy.cancel(x)
            return bool(self.how_nonnegative(x, 5) or self._by_z3(GE, x))

        gap = (lambda x: bool(self.how_positive(sympy.cancel(x), 5) or self._by_z3(GT, x))) if strict else nonnegative
        return nonnegative(a) and gap(b - a) and nonnegative(1 - b)

    def _integer_multiple(self, ratio) -> int | None:
        """1 if the facts show ``ratio`` (a quotient of counters) an odd integer, 2 if an even
        one, else None: ``P − r·Q − 2Q·⌊(P − r·Q)/(2Q)⌋ = 0`` by z3 over the integers."""
        if not self._counters_only(ratio):
            return None
        p, q = sympy.fraction(sympy.together(ratio))
        for rest, answer in ((1, 1), (0, 2)):
            remainder = p - rest * q - 2 * q * sympy.floor((p - rest * q) / (2 * q))
            if self._by_integer_arithmetic("=", remainder):
                return answer
        return None

    def _cosine_at_multiples(self, node):
        """cos(π·(A + B)) = ±cos(π·B) when the facts make A an odd (−) or even (+) integer:
        A is the whole argument over π (then cos is ∓1) or one of its terms."""
        ratio = sympy.expand(node.args[0] / sympy.pi)
        if ratio.has(sympy.pi):
            return node
        terms = sympy.Add.make_args(ratio)
        for part in ([ratio] if len(terms) == 1 else [ratio, *terms]):
            multiple = self._integer_multiple(part)
            if multiple is not None:
                rest = sympy.cos(sympy.pi * (ratio - part))
                return -rest if multiple == 1 else rest
        return node

    def _cosine_off_its_extremes(self, e) -> str | None:
        """``cos(π·P/Q) ∓ 1 ≠ 0`` for counters P, Q: cos x = −1 exactly at the odd multiples
        of π and cos x = 1 at the even ones, so it suffices that no integer k has P = (2k + 1)·Q
        (resp. P = 2k·Q) under the facts — z3 over the integers."""
        terms = sympy.Add.make_args(sympy.expand(e))
        if len(terms) != 2 or not any(t.is_number for t in terms):
            return None
        number, other = (terms[0], terms[1]) if terms[0].is_number else (terms[1], terms[0])
        coefficient, cosine = other.as_coeff_Mul()
        if not isinstance(cosine, sympy.cos) or number / coefficient not in (1, -1):
            return None
        ratio = cosine.args[0] / sympy.pi
        if ratio.has(sympy.pi) or not self._counters_only(ratio):
            return None
        p, q = sympy.fraction(sympy.together(ratio))
        from symbolic import z3check
        from symbolic.domains import Domain, Interval
        k = sympy.Dummy("k", integer=True)
        symbols = {**self.symbols, k: Domain("integer", "ℤ", {"integer": True}, Interval(), (), integer=True)}
        # cos x + 1 = 0 at x = (2k + 1)π; cos x − 1 = 0 at x = 2kπ
        multiple = 2 * k + 1 if number / coefficient == 1 else 2 * k
        relations = self._fact_relations() + [sympy.Ne(q, 0), sympy.Eq(p, multiple * q)]
        if z3check.integer_unsat(symbols, relations, ms=500):
            self.decided.append(e)
            return ("π·" + show(ratio) + " is no " + ("odd" if number / coefficient == 1 else "even")
                    + " multiple of π under the facts (z3 over the integers)")
        return None

    def how_zero(self, e) -> str | None:
        if same_function(e, 0):
            return "normal form 0"
        if same_function(self.with_signs(e), 0):
            return "normal form 0 under the proven signs"
        return None

    def decide(self, kind: str, e) -> bool | None:
        """Whether ``E kind 0`` holds wherever E is defined (E's definedness is recorded in
        ``decided`` for the decider to demand)."""
        e = self.subst(e)
        if undefined(e):
            return None
        if e.is_number:
            c = compare(e, 0)
            if c is None:
                return None
            return {GT: c == ">", GE: c in (">", "="), "=": c == "=", "≠": c in ("<", ">")}[kind]
        answer = None
        if kind in (GT, GE):
            positive = self.how_positive(e) if kind == GT else self.how_nonnegative(e)
            if positive:
                answer = True
            elif (self.how_nonnegative(-e) if kind == GT else self.how_positive(-e)):
                answer = False
        else:
            if self.how_zero(e):
                answer = kind == "="
            elif self.how_nonzero(e):
                answer = kind == "≠"
        if answer is None:
            answer = self._by_integer_arithmetic(kind, e)
        if answer is not None:
            self.decided.append(e)
        return answer

    def _fact_relations(self) -> list:
        """The sign and nonzero facts as SymPy relations, for z3."""
        return ([sympy.Gt(f, 0) if kind == GT else sympy.Ge(f, 0) for kind, f in self.facts]
                + [sympy.Ne(f, 0) for f in self.nonzero])

    def _counters_only(self, expr) -> bool:
        """``expr`` has symbols, every one a counter (an ℕ variable)."""
        return bool(expr.free_symbols) and all(getattr(self.symbols.get(x), "integer", False)
                                               for x in expr.free_symbols)

    def _by_z3(self, kind: str, e) -> str | None:
        """A definedness condition that mixes counters and reals (``s·T + t·(e − s) ≠ 0`` from
        ``s, e > 0`` and ``t < T``): z3 on the facts, counters relaxed to reals ≥ 0."""
        from symbolic import z3check
        if not z3check.AVAILABLE or sympy.count_ops(e) > 200:
            return None
        relations = self._fact_relations()
        negation = {"≠": sympy.Eq(e, 0), GE: sympy.Lt(e, 0), GT: sympy.Le(e, 0)}[kind]
        if z3check.unsat(self.symbols, self.intervals, relations, negation, ms=500, relax_integers=True):
            self.decided.append(e)
            return "z3 nonlinear real arithmetic from the facts (counters relaxed to reals): unsat"
        return None

    def _by_integer_arithmetic(self, kind: str, e) -> bool | None:
        """A question about counters (ℕ symbols only, a polynomial) decided by z3 over the
        integers from the facts between counters: ``t + 1 ≤ T`` gives ``T − t > 0``, which
        the interval and sign reasoning above, being over the reals, does not see."""
        if not self._counters_only(e):
            return None
        from symbolic import z3check      # z3check reads this module's normal_relation
        relations = self._fact_relations()
        wanted = {GT: sympy.Gt, GE: sympy.Ge, "=": sympy.Eq, "≠": sympy.Ne}[kind](e, 0)
        if z3check.integer_unsat(self.symbols, relations + [sympy.Not(wanted)], ms=300):
            return True
        if z3check.integer_unsat(self.symbols, relations + [wanted], ms=300):
            return False
        return None

    def decide_condition(self, condition) -> bool | None:
        if condition in (sympy.true, True):
            return True
        if condition in (sympy.false, False):
            return False
        if isinstance(condition, sympy.And):
            values = [self.decide_condition(a) for a in condition.args]
            return False if False in values else (True if all(v is True for v in values) else None)
        if isinstance(condition, sympy.Or):
            values = [self.decide_condition(a) for a in condition.args]
            return True if True in values else (False if all(v is False for v in values) else None)
        if isinstance(condition, sympy.Not):
            value = self.decide_condition(condition.args[0])
            return None if value is None else not value
        normal = normal_relation(condition)
        return None if normal is None else self.decide(*normal)

    # ---------------------------------------------------------------- applying it
    def apply(self, expr):
        """Substitute, rewrite what the relations fix, and decide the branches, signs,
        absolute values and max/min they settle (to a fixed point)."""
        if not isinstance(expr, sympy.Basic):
            return expr
        expr = self.subst(exact(expr))
        for _ in range(6):
            new = expr.xreplace(self.rewrites) if self.rewrites else expr
            new = self._same_floors(new)
            if not undefined(new):
                new = new.replace(lambda n: isinstance(n, (sympy.Piecewise, sympy.sign, sympy.Abs,
                                                           sympy.Max, sympy.Min, sympy.cos)), self._decide_node)
            if new == expr:
                return expr
            expr = new
        return expr

    def _counter_floors(self, expr) -> set:
        return {n for n in sympy.preorder_traversal(expr) if isinstance(n, sympy.floor) and self._counters_only(n)}

    def note_floors(self, exprs) -> None:
        """Floors of counters the obligation's sides hold: each side is then written with the
        same representatives, whichever is applied first."""
        for e in exprs:
            if isinstance(e, sympy.Basic):
                self._floor_pool |= self._counter_floors(self.subst(exact(e)))

    def _same_floors(self, expr):
        """Floors of counters that the facts fix relative to each other written with one of
        them: on the path where step_size ∤ t + 1, ⌊(t + 1)/s⌋ is ⌊t/s⌋; where it divides,
        ⌊t/s⌋ + 1 (each shown by z3 over the integers, :meth:`_by_integer_arithmetic`).  The
        representative is a number (0, ±1) when the facts fix it, else the smallest floor noted
        that differs by a shown constant."""
        floors = self._counter_floors(expr)
        if not floors:
            return expr
        self._floor_pool |= floors
        pool = sorted(self._floor_pool, key=lambda n: (sympy.count_ops(n), str(n)))
        written = {}
        for later in floors:
            if (later, None) not in self._floor_offsets:
                self._floor_offsets[(later, None)] = next(
                    (c for c in (0, 1, -1) if self._by_integer_arithmetic("=", later - c)), None)
            if self._floor_offsets[(later, None)] is not None:    # a number: ⌊1/s⌋ = 0 where s ∤ 1
                written[later] = sympy.Integer(self._floor_offsets[(later, None)])
                self.decided.append(later)
                continue
            for earlier in pool:
                if earlier == later or (sympy.count_ops(earlier), str(earlier)) > (sympy.count_ops(later), str(later)):
                    continue
                key = (later, earlier)
                if key not in self._floor_offsets:
                    self._floor_offsets[key] = next(
                        (c for c in (0, 1, -1) if self._by_integer_arithmetic("=", later - earlier - c)), None)
                offset = self._floor_offsets[key]
                if offset is not None:
                    written[later] = earlier + offset
                    self.decided.append(later - earlier)
                    break
        return expr.xreplace(written) if written else expr

    def _decide_node(self, node):
        """``_decide_node_once``, remembered: ``apply`` meets the same branch, sign and absolute
        value in every pair and at every round; what a decision rested on is recorded again."""
        if node not in self._nodes:
            before = len(self.decided)
            decided = self._decide_node_once(node)
            self._nodes[node] = (decided, self.decided[before:])
        else:
            decided, rested_on = self._nodes[node]
            self.decided.extend(rested_on)
        return self._nodes[node][0]

    def _decide_node_once(self, node):
        if isinstance(node, sympy.Piecewise):
            kept = []
            for value, condition in node.args:
                decision = self.decide_condition(condition)
                if decision is True:
                    if not kept:
                        return value
                    kept.append((value, True))
                    break
                if decision is None:
                    kept.append((value, condition))
            if not kept or len(kept) == len(node.args):
                return node
            return sympy.Piecewise(*kept)
        if isinstance(node, sympy.sign):
            e = node.args[0]
            if self.decide(GT, e):
                return sympy.Integer(1)
            if self.decide(GT, -e):
                return sympy.Integer(-1)
            if self.decide("=", e):
                return sympy.Integer(0)
            return node
        if isinstance(node, sympy.Abs):
            e = node.args[0]
            if self.decide(GE, e):
                return e
            if self.decide(GE, -e):
                return -e
            return node
        if isinstance(node, sympy.cos):
            return self._cosine_at_multiples(node)
        if isinstance(node, (sympy.Max, sympy.Min)) and len(node.args) == 2:
            a, b = node.args
            first = self.decide(GE, a - b) if isinstance(node, sympy.Max) else self.decide(GE, b - a)
            if first:
                return a
            second = self.decide(GE, b - a) if isinstance(node, sympy.Max) else self.decide(GE, a - b)
            if second:
                return b
        return node

    # ---------------------------------------------------------------- conditions
    def discharge(self, condition: Condition) -> str | None:
        """How the condition is shown from the domains and relations, or None."""
        e = self.apply(condition.expr)
        if undefined(e):
            return None
        if condition.kind == NONZERO:
            return self.how_nonzero(e) or self._by_z3("≠", e)
        if condition.kind == NONNEGATIVE:
            return self.how_nonnegative(e) or self._by_z3(GE, e)
        exponent = self.apply(condition.exponent)
        if undefined(exponent):
            return None
        integer = exponent.is_integer is True or self._assumed(exponent, "is_integer")
        if integer and (how := self.how_nonnegative(exponent)):
            return f"a natural exponent ({how})"
        if integer and (how := self.how_nonzero(e)):
            return f"an integer exponent and a nonzero base ({how})"
        if how := self.how_positive(e):
            return f"a positive base ({how})"
        if (how := self.how_nonnegative(e)) and self.how_positive(exponent):
            return f"a nonnegative base ({how}) and a positive exponent"
        if how := self._by_z3(GT, e):
            return f"a positive base ({how})"
        if self.how_positive(exponent) and (how := self._by_z3(GE, e)):
            return f"a nonnegative base ({how}) and a positive exponent"
        return None

    def describe(self) -> list:
        return [note() for note in self.used]
