"""The trusted decider: verdicts on obligation data (``symbolic.obligation``).

It never imports ``proofs/``, ``optim/`` or a theorem file: it sees only SymPy expressions,
variables with domains, hypotheses, path conditions and the definedness conditions the
untrusted builder recorded.

Verdicts (docs/ARCHITECTURE.md, "The trust story"):

* PROVED, only from an exact symbolic decision, with its method:
  - ``definitional``: both sides are the same expression (after the hypotheses are applied);
  - ``normal form``: ``cancel(lhs − rhs)`` is 0 (roots and symbolic powers are atoms);
  - ``… under the proven signs``: the same once each symbol is a dummy carrying only the
    signs shown from its domain and the hypotheses (v ≥ 0 makes √(v²) = v);
  - ``… radicals rewritten``: SymPy's *non-forced* ``expand_power_base``/``powdenest`` on
    radicands whose factors are shown ≥ 0 (such factors become sign-carrying dummies);
  - for ``≤``/``<``: interval bounds, sign facts, squaring nonnegative sides, or z3 (said so);
  and only when every definedness condition is discharged: the recorded ones, every partial
  operation left in the final expressions, and the definedness of every expression a
  decision rested on.  Otherwise UNKNOWN "holds where defined, but not shown: …".
  ``force=True`` rewrites and ``simplify`` are never used.
* REFUTED, only with a counterexample (``symbolic.search``): a point inside every domain,
  satisfying every hypothesis and path condition, where every condition holds, and whose
  difference is certified nonzero exactly or by outward-rounded interval arithmetic.
* UNKNOWN, with a reason naming the obligation, the path, the pair and what remained.

A path whose conditions contradict the hypotheses is infeasible and demands nothing; a
theorem whose own hypotheses are contradictory is PROVED *vacuously*, and says so.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import asdict, dataclass, field

import sympy

from symbolic import propagation, z3check
from symbolic.certify import certainly_nonzero, is_real_number
from symbolic.domains import DOMAINS
from symbolic.knowledge import ClaimError, Knowledge, exact, partial_conditions, show, undefined
from symbolic.notation import shortened
from symbolic.obligation import (ABSTRACTED_SUMS, INDEPENDENT_ENTRIES, RATIOS, RELATIVE, ROUNDING_ERROR, ROW_SUM_RATIO, SUM_ERROR_BOUND, AT_MOST, EQUAL, FOR_EVERY, LESS, NONNEGATIVE, NONZERO, RELATIONS, Condition,
                                 POWER, Obligation, TheoremData)
from symbolic.search import Space, search, value_of

PROVED, REFUTED, UNKNOWN = "PROVED", "REFUTED", "UNKNOWN"
VERDICTS = (PROVED, REFUTED, UNKNOWN)

__all__ = ["PROVED", "REFUTED", "UNKNOWN", "VERDICTS", "ClaimError", "Verdict", "decide_obligation",
           "decide_theorem"]


@dataclass
class Verdict:
    status: str
    method: str = ""
    reason: str = ""
    side_conditions: list = field(default_factory=list)
    counterexample: dict | None = None
    shape: str = ""
    lhs: str = ""
    rhs: str = ""
    hypotheses_used: list = field(default_factory=list)
    obligations: list = field(default_factory=list)   # one row per obligation (decide_theorem)
    vacuous: bool = False            # PROVED because the hypotheses are contradictory
    infeasible: bool = False         # PROVED because the path's conditions are contradictory
    confirmed_by: str = ""           # a second procedure that agreed with PROVED ("z3")
    paths: list = field(default_factory=list)         # per path: conditions and outcome
    name: str = ""                   # the obligation's name (decide_obligation)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------------------
# The setting of one obligation.

class Setting:
    """An obligation with its variables, knowledge and admissible points."""

    def __init__(self, ob: Obligation, variables: list, seed: int = 0, extra_hypotheses: list = ()):
        if ob.relation not in RELATIONS:
            raise ClaimError(f"unknown relation {ob.relation!r}; expected one of {RELATIONS}")
        self.ob = ob
        self.seed = seed
        self.symbols, self.labels, self.specs = {}, {}, {}
        for spec in variables:
            if spec.domain not in DOMAINS:
                raise ClaimError(f"variable {spec.name}: unknown domain {spec.domain!r}")
            for s in spec.symbols:
                if s in self.symbols:
                    raise ClaimError(f"two variables share the symbol {s}")
                self.symbols[s] = DOMAINS[spec.domain]
                self.specs[s] = spec
                generic = spec.tensor and spec.shape is None
                self.labels[s] = spec.name + " (every entry)" if generic else (
                    spec.name if not spec.tensor else str(s))
        self.pairs = []
        for entry in ob.pairs:
            if len(entry) != 3:
                raise ClaimError("each pair must be (label, lhs, rhs)")
            label, lhs, rhs = entry
            self.pairs.append((str(label), exact(lhs), exact(rhs)))
        self.conditions = [Condition(c.kind, exact(c.expr), None if c.exponent is None else exact(c.exponent),
                                     c.origin) for c in ob.conditions]
        hypotheses = list(extra_hypotheses) + [h for h in ob.hypotheses if h not in list(extra_hypotheses)]
        self.hypotheses = [exact(h) for h in hypotheses]
        self.path = [exact(p) for p in ob.path]
        stray = set()
        for _, lhs, rhs in self.pairs:
            stray |= (lhs.free_symbols | rhs.free_symbols) - set(self.symbols)
        for c in self.conditions:
            stray |= c.expr.free_symbols - set(self.symbols)
            if c.exponent is not None:
                stray |= c.exponent.free_symbols - set(self.symbols)
        if stray:
            raise ClaimError(f"obligation {ob.name!r} mentions undeclared symbols {sorted(map(str, stray))}")
        self.relations = self.hypotheses + self.path
        self.theory = Knowledge(self.symbols, [(h, "hypothesis") for h in self.hypotheses])
        self.k = self.theory if not self.path else Knowledge(
            self.symbols, [(h, "hypothesis") for h in self.hypotheses] + [(p, "path condition") for p in self.path])
        self.domain_intervals = {s: d.interval for s, d in self.symbols.items()}
        self.k.note_floors([side for _, lhs, rhs in self.pairs for side in (lhs, rhs)] + self.path)
        # What a counterexample must satisfy: every recorded condition, every partial
        # operation in the sides as written, and in the conditions themselves.
        required = list(self.conditions)
        for _, lhs, rhs in self.pairs:
            required += partial_conditions(lhs) + partial_conditions(rhs)
        for c in list(required):
            required += partial_conditions(c.expr) + partial_conditions(c.exponent)
        self.required = _unique(required)

    def path_text(self) -> str:
        return " ∧ ".join(show(p) for p in self.path) if self.path else "the only path"

    def verdict(self, status: str = UNKNOWN) -> Verdict:
        return Verdict(status, shape=self.ob.shape, name=self.ob.name, hypotheses_used=self.k.describe(),
                       lhs=_show_sides(lhs for _, lhs, _ in self.pairs),
                       rhs=_show_sides(rhs for _, _, rhs in self.pairs))

    def space(self, conditions: list | None = None) -> Space:
        return Space(self.symbols, self.labels, self.relations,
                     self.required if conditions is None else conditions, self.k, self.seed)

    def where(self, label: str) -> str:
        return f"obligation {self.ob.name!r}, path {self.path_text()}, pair {label!r}"

    # -- definedness -------------------------------------------------------------------
    def demands(self, finals: list, replace: dict | None = None) -> list:
        """Every condition a PROVED needs, in applied form, with how each is discharged
        (``replace``: values fixed for some symbols, e.g. a for-every coefficient)."""
        todo = list(self.conditions)
        if replace:
            todo = [Condition(c.kind, c.expr.xreplace(replace),
                              None if c.exponent is None else c.exponent.xreplace(replace), c.origin) for c in todo]
        for e in finals:
            todo += partial_conditions(e, "the final expression")
        rows, seen, looked = [], set(), 0
        while True:
            while todo:
                c = todo.pop(0)
                expr = self.k.apply(c.expr)
                exponent = None if c.exponent is None else self.k.apply(c.exponent)
                key = (c.kind, expr, exponent)
                if key in seen:
                    continue
                seen.add(key)
                todo += partial_conditions(c.expr, "inside a condition") + partial_conditions(expr, "inside a condition")
                if exponent is not None:
                    todo += partial_conditions(c.exponent, "inside an exponent")
                if (c.kind == NONZERO and expr.is_number and not undefined(expr)
                        and certainly_nonzero(expr)):
                    continue
                if c.kind == NONNEGATIVE and expr.is_Rational and expr >= 0:
                    continue
                applied = Condition(c.kind, expr, exponent, c.origin)
                how = None if undefined(expr) or undefined(exponent) else self.k.discharge(applied)
                text = applied.show()
                if undefined(expr) or undefined(exponent):
                    text = f"{Condition(c.kind, c.expr, c.exponent).show()} (undefined after the substitutions)"
                elif expr.is_number and how is None:
                    text += " (false)"
                rows.append({"condition": text, "kind": c.kind, "origin": c.origin,
                             "discharged": how is not None, "by": how or "not shown"})
            if looked == len(self.k.decided):
                return rows
            for e in self.k.decided[looked:]:
                todo += partial_conditions(e, "an expression a decision rested on")
            looked = len(self.k.decided)


def _unique(conditions: list) -> list:
    out, seen = [], set()
    for c in conditions:
        key = (c.kind, c.expr, c.exponent)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _show_sides(entries) -> str:
    shown = [show(e) for e in entries]
    text = shown[0] if len(shown) == 1 else "[" + ", ".join(shown) + "]"
    return shortened(text, 2000)


def missing_text(rows: list) -> str:
    return "; ".join(r["condition"] for r in rows if not r["discharged"])


# ---------------------------------------------------------------------------------------
# Deciding an equation exactly.

def _zero(e) -> bool:
    try:
        return e == 0 or sympy.cancel(e) == 0
    except (sympy.PolynomialError, TypeError, ValueError):
        return False


def _factored(base):
    try:
        return sympy.factor(base) if sympy.count_ops(base) <= 80 else base
    except (sympy.PolynomialError, TypeError, ValueError):
        return base


def _radicals(e, k: Knowledge):
    """Radicands factored (exposing squares), their factors of known sign replaced by
    sign-carrying dummies, then SymPy's non-forced expand_power_base and powdenest."""
    e = e.replace(lambda n: n.is_Pow and not n.exp.is_Integer and not n.base.is_Atom,
                  lambda n: sympy.Pow(_factored(n.base), n.exp))
    mapping = {}
    for node in list(sympy.preorder_traversal(e)):
        if not (node.is_Pow and not node.exp.is_Integer):
            continue
        for f in sympy.Mul.make_args(node.base):
            g = f.base if f.is_Pow and f.exp.is_Integer else f
            if g.is_number or g.is_Symbol or g in mapping:
                continue
            if sympy.expand(-g) in mapping:
                mapping[g] = -mapping[sympy.expand(-g)]
                continue
            original = k.without_signs(g)
            if k.how_positive(original):
                mapping[g] = sympy.Dummy("P", positive=True)
            elif k.how_nonnegative(original):
                mapping[g] = sympy.Dummy("N", nonnegative=True)
            elif k.how_positive(-original):
                mapping[g] = -sympy.Dummy("P", positive=True)
            elif k.how_nonnegative(-original):
                mapping[g] = -sympy.Dummy("N", nonnegative=True)
            else:
                continue
            k.decided.append(original)
    if mapping:
        extra = {sympy.expand(-g): -v for g, v in mapping.items()}
        e = e.xreplace({**extra, **mapping})
    return sympy.powdenest(sympy.expand_power_base(e))


def prove_equal(lhs, rhs, k: Knowledge) -> str | None:
    """The method that shows lhs = rhs wherever both are defined, or None."""
    if lhs == rhs:
        return "definitional"
    d = lhs - rhs
    if _zero(d):
        return "normal form"
    signed = k.with_signs(d)
    if _zero(signed):
        return "normal form under the proven signs"
    try:
        if _zero(_radicals(signed, k)):
            return "normal form under the proven signs, radicals rewritten (non-forced)"
    except (sympy.PolynomialError, TypeError, ValueError, RecursionError):
        pass
    if _in_ideal_of_equalities(d, k):
        return "in the ideal of the hypotheses' equalities (Gröbner basis)"
    return None


def _in_ideal_of_equalities(d, k: Knowledge) -> bool:
    """Whether the numerator of lhs − rhs is a polynomial combination of the hypotheses' polynomial
    equalities E = 0 (κ² + ς² − 1 for a rotation): then it is 0 wherever they hold, whatever the
    denominator (whose definedness is demanded apart).  Decided exactly: a Gröbner basis over ℚ
    and the remainder of the numerator's division by it."""
    if not k.zeros or d.has(sympy.Piecewise, sympy.Min, sympy.Max, sympy.Abs, sympy.sign):
        return False
    try:
        numerator, _ = sympy.fraction(sympy.together(d))
        generators = sorted(numerator.free_symbols.union(*(z.free_symbols for z in k.zeros)), key=str)
        equalities = [z for z in k.zeros if z.is_polynomial(*generators)]
        if not equalities or not numerator.is_polynomial(*generators) or sympy.count_ops(numerator) > 5000:
            return False
        basis = sympy.groebner(equalities, *generators, order="grevlex", domain="QQ")
        return basis.contains(sympy.expand(numerator))
    except (sympy.PolynomialError, sympy.polys.polyerrors.CoercionFailed, TypeError, ValueError, RecursionError):
        return False


def _residual(lhs, rhs, k: Knowledge) -> str:
    try:
        return shortened(show(sympy.cancel(k.with_signs(lhs - rhs)).xreplace(
            {d: s for s, d in k.dummies.items()})), 300)
    except (sympy.PolynomialError, TypeError, ValueError):
        return shortened(show(lhs - rhs), 300)


def _confirm(setting: Setting, negations: list) -> bool:
    """z3 shows every negation unsat under the domains, hypotheses and path."""
    if not z3check.AVAILABLE:
        return False
    for negation in negations:
        if sympy.count_ops(negation) > 400:
            return False
        if not z3check.unsat(setting.symbols, setting.domain_intervals, setting.relations, negation, ms=1000):
            return False
    return True


def _decide_equation(s: Setting) -> Verdict:
    v = s.verdict()
    k = s.k
    methods, finals, failures, undefined_pairs = [], [], [], []
    for label, lhs, rhs in s.pairs:
        left, right = k.apply(lhs), k.apply(rhs)
        if undefined(left) or undefined(right):
            side = "lhs" if undefined(left) else "rhs"
            undefined_pairs.append(f"{s.where(label)}: the {side} is undefined after applying the hypotheses "
                                   f"({show(left if side == 'lhs' else right)}): a divisor became 0 or a root "
                                   "negative")
            continue
        finals += [left, right]
        method = prove_equal(left, right, k)
        if method is None:
            failures.append((label, left, right))
        else:
            methods.append(method)
    if undefined_pairs:
        v.method = "none"
        v.reason = "; ".join(undefined_pairs)
        v.side_conditions = s.demands(finals)
        return v
    if not failures:
        rows = s.demands(finals)
        v.side_conditions = rows
        method = " + ".join(dict.fromkeys(methods)) or "definitional"
        if k.substitution:
            method += " after substituting " + ", ".join(f"{a} = {show(b)}" for a, b in k.substitution.items())
        missing = missing_text(rows)
        if missing:
            v.method = method + " (where defined)"
            v.reason = (f"{s.where(s.pairs[0][0]) if len(s.pairs) == 1 else f'obligation {s.ob.name!r}, path {s.path_text()}'}: "
                        f"every pair holds where defined, but not shown: {missing}. State it as a hypothesis.")
            return v
        v.status, v.method = PROVED, method
        if _confirm(s, [sympy.Ne(lhs, rhs) for _, lhs, rhs in s.pairs]):
            v.confirmed_by = "z3"
        return v
    found, tried = _search_equation(s)

    def reason() -> str:
        label, left, right = failures[0]
        return (f"{s.where(label)}: no exact decision — lhs − rhs reduces to {_residual(left, right, k)}, "
                f"not shown 0; no counterexample among {tried} admissible points (evidence, not proof)"
                + (f"; {len(failures) - 1} more pair(s) undecided" if len(failures) > 1 else ""))

    return _refuted_or_unknown(v, found, "counterexample, checked exactly or by certified intervals", reason)


def _refuted_or_unknown(v: Verdict, found, method: str, reason) -> Verdict:
    """The end of a decision that showed nothing: REFUTED by the counterexample ``found`` (checked
    as ``method`` says) where the search found one, else ``v`` as it is (UNKNOWN) with method
    "none" and ``reason()`` (the evidence, not proof)."""
    if found is not None:
        v.status, v.method = REFUTED, method
        v.counterexample = found
        return v
    v.method = "none"
    v.reason = reason()
    return v


def _search_equation(s: Setting):
    def test(point):
        for index, (label, lhs, rhs) in enumerate(s.pairs):
            left, right = lhs.xreplace(point), rhs.xreplace(point)
            if not (is_real_number(left) and is_real_number(right)):
                return None
            difference = left - right
            if certainly_nonzero(difference):
                return counterexample(s, point, index, left, right, difference)
        return None

    exprs = [e for _, lhs, rhs in s.pairs for e in (lhs, rhs)]
    return search(s.space(), test, exprs, seconds=_budget(exprs))


def _budget(exprs) -> float:
    size = sum(sympy.count_ops(e) for e in exprs)
    return 1.0 if size > 2000 else 2.0


def counterexample(s: Setting, point: dict, index: int, left, right, difference) -> dict:
    label = s.pairs[index][0]
    return {"values": s.space([]).describe(point), "entry": None if len(s.pairs) == 1 else index,
            "pair": label, "obligation": s.ob.name, "path": s.path_text(),
            "lhs": value_of(left), "rhs": value_of(right), "difference": value_of(difference)}


# ---------------------------------------------------------------------------------------
# Public API.

def _infeasible(s: Setting, check_hypotheses: bool = True) -> Verdict | None:
    """PROVED (vacuous or infeasible path) when the relations are shown contradictory."""
    checks = [(s.theory, s.hypotheses, True)] if check_hypotheses else []
    if s.path:
        checks.append((s.k, s.relations, False))
    for k, relations, vacuous in checks:
        reason = k.contradiction
        how = ""
        if reason is None and relations and z3check.integer_unsat(s.symbols, relations, ms=500):
            reason, how = "z3 integer arithmetic: unsat", " (shown by z3)"
        if reason is None and relations and z3check.unsat(s.symbols, s.domain_intervals, relations, ms=500):
            reason, how = "z3 nonlinear real arithmetic: unsat", " (shown by z3)"
        if reason is None:
            continue
        v = s.verdict(PROVED)
        if vacuous and s.path:      # hypotheses stated on this path only (the float test's branch, assumed)
            v.infeasible = True
            v.method = f"infeasible path: {s.path_text()}: the hypotheses stated on it are contradictory ({reason}){how}"
        elif vacuous:
            v.vacuous = True
            v.method = f"vacuous: the hypotheses are contradictory ({reason}){how}"
        else:
            v.infeasible = True
            v.method = f"infeasible path: {s.path_text()} contradicts the hypotheses and domains ({reason}){how}"
        return v
    return None


def decide_obligation(ob: Obligation, variables: list, seed: int = 0, *, extra_hypotheses: list = (),
                      _check_hypotheses: bool = True) -> Verdict:
    """Decide one obligation under its hypotheses and path (``extra_hypotheses``: the
    theorem's, added where the obligation does not already list them)."""
    s = Setting(ob, variables, seed, list(extra_hypotheses))
    shortcut = _infeasible(s, check_hypotheses=_check_hypotheses)
    if shortcut is not None:
        return shortcut
    if ob.relation == EQUAL:
        if not ob.pairs:    # definedness alone (a branch condition's): where a rounded divisor or root meets it
            found = _by_error_propagation(ob, variables, seed, list(extra_hypotheses))
            if found is not None:
                return found
        return _decide_equation(s)
    from symbolic import forms
    if ob.relation in (AT_MOST, LESS):
        # The error analysis costs one decision; the vertex decision, exact where the error's
        # terms may cancel, costs 2^k: it runs where the analysis did not show the claim.
        for method in (_by_error_propagation, _at_rounding_vertices):
            found = method(ob, variables, seed, list(extra_hypotheses))
            if found is not None:
                return found
        return forms.decide_inequality(s, strict=ob.relation == LESS)
    return forms.decide_for_every(s)


def _rounding_box(ob: Obligation, variables: list, extra: list) -> tuple | None:
    """The rounding errors δ of ``x.rounding``, the box [a_δ, b_δ] the hypotheses give each, and
    the other hypotheses; None unless every δ has both ends and no other hypothesis, path
    condition or claimed bound mentions a δ."""
    every = {v.symbols[0] for v in variables if v.note == ROUNDING_ERROR}
    if not every or not (ob.relation == AT_MOST or ob.relation == EQUAL and not ob.pairs):
        return None
    met = set()
    for e in [x for _, lhs, rhs in ob.pairs for x in (lhs, rhs)] + [c.expr for c in ob.conditions] + list(ob.path):
        met |= every & e.free_symbols
    deltas = sorted(met | {d for h in list(ob.hypotheses) + list(extra) for d in every & getattr(h, "free_symbols", set())},
                    key=str)   # the roundings of this obligation's path (another path may have its own)
    if not deltas:
        return None
    box, others = {}, []
    for h in list(ob.hypotheses) + list(extra):
        touched = [d for d in deltas if d in getattr(h, "free_symbols", set())]
        if not touched:
            others.append(h)
            continue
        if len(touched) != 1 or not isinstance(h, (sympy.LessThan, sympy.GreaterThan)):
            return None
        d = touched[0]
        low, high = (h.lhs, h.rhs) if isinstance(h, sympy.LessThan) else (h.rhs, h.lhs)
        if high == d and d not in low.free_symbols:
            box.setdefault(d, [None, None])[0] = low
        elif low == d and d not in high.free_symbols:
            box.setdefault(d, [None, None])[1] = high
        else:
            return None
    if set(box) != set(deltas) or any(None in ends for ends in box.values()):
        return None
    if any(set(deltas) & getattr(rhs, "free_symbols", set()) for _, _, rhs in ob.pairs):
        return None
    return deltas, box, others   # a path condition may hold δ: a branch on a rounded value


def _at_rounding_vertices(ob: Obligation, variables: list, seed: int, extra: list) -> Verdict | None:
    """|E| ≤ B where E is multilinear in rounding errors δ₁ … δ_k, each in a box [a_k, b_k] that the
    hypotheses state, and nothing else mentions them: a multilinear function is affine in each δ
    alone, so its largest and smallest values on the box are at its 2^k vertices — the claim holds
    on the box iff E ≤ B and −E ≤ B hold at every vertex (each decided as its own obligation,
    without δ).  PROVED if every vertex is; None otherwise (the usual decision then runs)."""
    found = _rounding_box(ob, variables, extra)
    if found is None:
        return None
    deltas, box, others = found
    if len(deltas) > 10 or any(set(deltas) & c.expr.free_symbols for c in ob.conditions) or \
            any(set(deltas) & p.free_symbols for p in ob.path):
        return None
    pairs = []
    for label, lhs, rhs in ob.pairs:
        if not isinstance(lhs, sympy.Abs) or set(deltas) & rhs.free_symbols:
            return None
        inner = lhs.args[0]
        try:
            poly = sympy.Poly(sympy.expand(inner), *deltas)
        except sympy.PolynomialError:
            return None
        if any(e > 1 for monomial in poly.monoms() for e in monomial):
            return None
        pairs.append((label, inner, rhs))
    remaining = [v for v in variables if v.note != ROUNDING_ERROR]
    proved = 0
    for corner in itertools.product(*(box[d] for d in deltas)):
        at = dict(zip(deltas, corner))
        vertex = Obligation(
            name=ob.name, relation=AT_MOST,
            pairs=[(f"{label} ({sign})", sign_of * inner.xreplace(at), rhs)
                   for label, inner, rhs in pairs for sign, sign_of in (("+", 1), ("−", -1))],
            hypotheses=others, path=list(ob.path), conditions=list(ob.conditions), shape=ob.shape, ops=ob.ops)
        verdict = decide_obligation(vertex, remaining, seed, _check_hypotheses=False)
        if verdict.status != PROVED:
            return None
        proved += 1
    v = Verdict(PROVED, shape=ob.shape, name=ob.name)
    v.method = (f"multilinear in the {len(deltas)} rounding errors: decided at the {proved} vertices of their box "
                "(a multilinear function's extremes on a box are at its vertices)")
    return v


def _by_error_propagation(ob: Obligation, variables: list, seed: int, extra: list) -> Verdict | None:
    """|F| ≤ B where F vanishes with every δ: a bound e on |F| over the whole box by forward error
    analysis (``symbolic.propagation``: a rule per operation, every order of δ included), then
    B − e ≥ 0 shown by grouping over u-free monomials.  Every divisor and radicand met with δ
    inside is shown nonzero / nonnegative over the box (a relative bound < 1 on it, and its
    exact value's sign); the exact values' own conditions as usual.  PROVED, or None (the
    usual decision then runs)."""
    found = _rounding_box(ob, variables, extra)
    if found is None:
        return None
    deltas, box, others = found
    if any(box[d][0] != -box[d][1] for d in deltas):
        return None
    remaining = [v for v in variables if v.note != ROUNDING_ERROR]
    plain = [c for c in ob.conditions if not set(deltas) & _symbols_of(c)]
    # the unit roundoffs: what the boxes' half-widths are made of, but a sum's Γ (a quantity ≥ 0)
    sum_bounds = {v.symbols[0] for v in variables if v.note in (SUM_ERROR_BOUND, ROW_SUM_RATIO)}
    units = set().union(*(box[d][1].free_symbols for d in deltas)) - sum_bounds
    def analysed(path: list) -> tuple:
        base = Obligation(name=ob.name, relation=AT_MOST, pairs=[], hypotheses=others, path=path,
                          conditions=plain, shape=ob.shape, ops=ob.ops)
        setting = Setting(base, remaining, seed)
        return setting, propagation.Propagation({d: box[d][1] for d in deltas}, setting.k, units, ob.lemmas, others)

    path = [p for p in ob.path if not set(deltas) & p.free_symbols]
    bounded, shown = [], []
    try:
        setting, analysis = analysed(path)
        if setting.k.contradiction is not None:
            return None
        if len(path) != len(ob.path):
            # A branch on a rounded value: the path holds where the exact value satisfies it, when
            # no rounding in the box can change its truth (shown with the δ-free conditions only);
            # a contradiction among the exact run's branches is an infeasible path.  One that a
            # rounding may flip is left out: the bound is then shown for every δ in the box,
            # whichever way the branch went (a larger set of points: sound).
            path = [e for e in map(analysis.exact_or_none, ob.path) if e is not None]
            setting, analysis = analysed(path)
            infeasible = _infeasible(setting, check_hypotheses=False)
            if infeasible is not None:
                infeasible.method = ("no rounding in the box changes the branches taken on rounded values; "
                                     + infeasible.method)
                return infeasible
            if setting.k.contradiction is not None:
                return None
        k = setting.k
        # a divisor or radicand with δ inside: its exact value's condition (shown with the
        # others below), and a relative bound < 1, which keeps the sign and a zero for every δ
        exact_conditions = []
        for c in ob.conditions:
            if c in plain:
                continue
            if c.kind == POWER and not set(deltas) & c.expr.free_symbols and k.how_positive(c.expr):
                continue    # b ** y with b > 0 is a real number for every exponent, rounded or not
            n = analysis.node(c.expr)
            if n.rel is None or not analysis.below_one(sum(n.rel)):
                return None
            if c.kind in (NONZERO, NONNEGATIVE):
                exact_conditions.append(Condition(c.kind, n.value, origin=c.origin))
            elif c.kind == POWER and c.exponent is not None and not set(deltas) & c.exponent.free_symbols:
                # b̂ = b·(1 + θ), |θ| < 1, has b's sign and zero: b̂ ** y is real exactly where b ** y is
                exact_conditions.append(Condition(POWER, n.value, c.exponent, origin=c.origin))
            else:
                return None
        for label, lhs, rhs in ob.pairs:
            if not isinstance(lhs, sympy.Abs):
                return None
            error, how = _monomial_bound(lhs.args[0], deltas, box, k), None
            if error is not None:
                how = _dominated_on_path(error, rhs, units, k)
            if how is None:
                n = analysis.node(lhs.args[0])
                if n.value != 0 and not prove_equal(n.value, sympy.Integer(0), k):
                    return None
                error, how = n.error, _dominated_on_path(n.error, rhs, units, k)
            else:
                how = f"a polynomial in the δ, each monomial at most |its coefficient|·u^degree; {how}"
            if how is None:
                return None
            bounded.append((label, error, rhs))
            shown.append(f"{label}: {how}" if label else how)
    except (propagation.CannotBound, sympy.PolynomialError, TypeError, ValueError, ZeroDivisionError, RecursionError):
        return None     # not bounded, or not shown: the usual decision runs
    checked = Obligation(name=ob.name, relation=AT_MOST, pairs=bounded, hypotheses=others, path=path,
                         conditions=plain + exact_conditions, shape=ob.shape, ops=ob.ops)
    s = Setting(checked, remaining, seed)
    # a lemma's bound took an error's place: where it is undefined, nothing was shown
    rows = s.demands([e for _, error, rhs in bounded for e in (error, rhs)]
                     + [b[0] if kind in RATIOS else b for kind, _, b in analysis.used])
    if missing_text(rows):
        return None
    v = s.verdict(PROVED)
    v.side_conditions = rows
    if not ob.pairs:
        v.method = (f"defined for every one of the {len(deltas)} rounding errors: each rounded divisor and radicand "
                    "within a relative bound < 1 of its exact value (symbolic.propagation), whose condition is shown")
        return v
    v.method = (f"forward error analysis over the {len(deltas)} rounding errors (a sound bound per operation, every "
                f"order: symbolic.propagation), then the claimed bound shown larger: " + "; ".join(shown)
                + "".join(f"; lemma |fl(X) − X| ≤ {_lemma_text(kind, bound, show)}, "
                          f"X = {show(value)}, shown where met: {how}" for (kind, value, bound), how in analysis.used.items()))
    return v


def _lemma_text(kind: str, bound, show) -> str:
    if kind in RATIOS:
        return f"{show(bound[0])} ≤ {show(bound[1])}·|X| (a hypothesis: the ratio the inputs give)"
    return f"{show(bound)}{'·|X|' if kind == RELATIVE else ''}"


def _dominated_on_path(error, claimed, units: set, k) -> str | None:
    """``propagation.dominated`` on this path, with its equalities substituted into both sides
    (λ = 0 makes the claim's |g + λ·p| the |g| the error analysis met), where that leaves them
    defined."""
    error_here, claimed_here = k.subst(error), k.subst(claimed)
    if undefined(error_here) or undefined(claimed_here):
        error_here, claimed_here = error, claimed
    return propagation.dominated(error_here, claimed_here, units, k)


def _monomial_bound(inner: sympy.Expr, deltas: list, box: dict, k) -> sympy.Expr | None:
    """Σ_S |c_S|·Π_{δ∈S} b_δ^{e_δ} ≥ |inner| on the box |δ| ≤ b_δ, when ``inner`` is a polynomial
    in the δ with coefficients c_S free of them and no constant term (shown 0): the triangle
    inequality, term by term — exact when the terms' signs agree (a sum of terms ≥ 0, such as
    Adam's v), where it is cheaper than deciding at every vertex.  None otherwise."""
    present = [d for d in deltas if d in inner.free_symbols]
    if not present or len(present) > 12 or not inner.is_polynomial(*present):
        return None     # a δ under a root, a maximum or a divisor: expanding it would only be slow
    try:
        poly = sympy.Poly(sympy.expand(inner), *present)
    except sympy.PolynomialError:
        return None
    if poly.length() > 200 or any(c.has(*present) for c in poly.coeffs()):
        return None
    bound = []
    for monomial, c in poly.terms():
        if not any(monomial):
            if c != 0 and not prove_equal(c, sympy.Integer(0), k):
                return None
            continue
        size = _signed_size(c, k)
        bound.append(size * sympy.Mul(*(box[d][1] ** e for d, e in zip(present, monomial))))
    return sympy.Add(*bound)


def _signed_size(c: sympy.Expr, k) -> sympy.Expr:
    """|c| as ±c where a sign is shown (a sum regrouped by one of its symbols may show it:
    −β₂g² + β₂v + g² as β₂v + (1 − β₂)g²), else |c|."""
    for form in [sympy.factor_terms(c)] + [sympy.collect(c, x) for x in sorted(c.free_symbols, key=str)]:
        if k.how_nonnegative(form):
            return form
        if k.how_nonnegative(-form):
            return -form
    return sympy.Abs(c)


def _symbols_of(c: Condition) -> set:
    return c.expr.free_symbols | (c.exponent.free_symbols if c.exponent is not None else set())


def _row(ob: Obligation, v: Verdict) -> dict:
    return {"name": ob.name, "verdict": v.status, "method": v.method, "reason": v.reason,
            "path": " ∧ ".join(show(p) for p in ob.path) or "the only path", "lhs": v.lhs, "rhs": v.rhs,
            "counterexample": v.counterexample, "confirmed_by": v.confirmed_by, "infeasible": v.infeasible,
            "refutes_theorem": ob.refutes_theorem, "side_conditions": v.side_conditions}


def _one_point_for_all(feasible: list) -> bool:
    """Whether refutations on several paths cover every coefficient together: always when no
    path condition mentions the coefficient (the path is then fixed by the other variables, so
    any one refuted path covers every c); otherwise only when every refutation is at the same
    values of the variables the coefficient may depend on."""
    coefficient = feasible[0][0].coefficient
    if not any(coefficient in getattr(p, "free_symbols", set()) for ob, _ in feasible for p in ob.path):
        return True
    fixed = [str(s) for s in (feasible[0][0].fixed or [])]
    seen = set()
    for _, o in feasible:
        values = (o.counterexample or {}).get("values", {})
        seen.add(tuple((name, str(values.get(name, {}).get("exact"))) for name in fixed))
    return len(seen) == 1


def _for_every_theorem(v: Verdict, decided: list) -> Verdict:
    """"No c works" holds only if it is shown on every feasible path: paths may split c's
    range (c = 0, c ≠ 0), and a path not refuted may hold the c that works."""
    feasible = [(ob, o) for ob, o in decided if not o.infeasible]
    if len(feasible) > 1 and all(o.status == REFUTED for _, o in feasible) and not _one_point_for_all(feasible):
        v.method = "none"
        v.reason = ("each execution path was refuted, but at different values of the variables the coefficient "
                    "may depend on, and the paths' conditions involve the coefficient: a coefficient that "
                    "switches path with those variables is not refuted")
        return v
    if feasible and all(o.status == REFUTED for _, o in feasible):
        ob, o = feasible[0]
        v.status = REFUTED
        v.method = "; ".join(f"[{' ∧ '.join(show(p) for p in b.path) or 'the only path'}] {r.method}"
                             for b, r in feasible) if len(feasible) > 1 else o.method
        v.counterexample = o.counterexample
        return v
    if len(feasible) == 1 and feasible[0][1].status == PROVED and not feasible[0][0].path:
        v.status, v.method = PROVED, feasible[0][1].method
        return v
    ob, o = next(((b, r) for b, r in feasible if r.status != REFUTED), feasible[0] if feasible else decided[0])
    v.method = "none"
    v.reason = (f"obligation {ob.name!r} on path {' ∧ '.join(show(p) for p in ob.path) or 'the only path'} "
                f"is {o.status}: {o.reason or o.method}")
    return v


def decide_theorem(data: TheoremData, seed: int = 0) -> Verdict:
    """PROVED if every obligation of every path is PROVED (an infeasible path counts, as it
    demands nothing); REFUTED if an obligation that refutes the theorem is refuted; else
    UNKNOWN naming the first failing obligation."""
    start = time.monotonic()
    hypotheses = list(data.hypotheses)
    probe = Setting(Obligation("hypotheses", EQUAL, []), data.variables, seed, hypotheses)
    vacuous = _infeasible(probe)
    if vacuous is not None:
        vacuous.name = ""
        vacuous.shape = data.obligations[0].shape if data.obligations else ""
        vacuous.lhs = vacuous.rhs = ""
        return vacuous
    # The theorem's hypotheses were shown consistent-or-not above; an obligation's own
    # hypotheses (an inductive step's) and its path are checked with it.
    decided = [(ob, decide_obligation(ob, data.variables, seed, extra_hypotheses=hypotheses,
                                      _check_hypotheses=set(ob.hypotheses) - set(hypotheses) != set()))
               for ob in data.obligations]
    v = Verdict(UNKNOWN, shape=decided[0][1].shape if decided else "")
    v.obligations = [_row(ob, o) for ob, o in decided]
    v.side_conditions = [dict(c, condition=f"[{ob.name}] {c['condition']}") for ob, o in decided
                         for c in o.side_conditions]
    v.hypotheses_used = list(dict.fromkeys(h for _, o in decided for h in o.hypotheses_used))
    if len(decided) == 1:
        v.lhs, v.rhs = decided[0][1].lhs, decided[0][1].rhs
    paths = {}
    for ob, o in decided:
        key = " ∧ ".join(show(p) for p in ob.path) or "the only path"
        entry = paths.setdefault(key, {"path": key, "obligations": 0, "infeasible": True, "verdicts": []})
        entry["obligations"] += 1
        entry["infeasible"] = entry["infeasible"] and o.infeasible
        entry["verdicts"].append(o.status)
    v.paths = list(paths.values())
    if not decided:
        v.reason = "the theorem produced no obligation"
        return v
    if any(ob.relation == FOR_EVERY for ob, _ in decided):
        return _for_every_theorem(v, decided)
    failing = [(ob, o) for ob, o in decided if o.status != PROVED]
    if not failing:
        v.status = PROVED
        if len(decided) == 1:
            v.method = decided[0][1].method
        else:
            v.method = "; ".join(f"{ob.name} [{' ∧ '.join(show(p) for p in ob.path) or 'the only path'}] "
                                 f"({o.method})" for ob, o in decided)
        feasible = [o for _, o in decided if not o.infeasible]
        if feasible and all(o.confirmed_by == "z3" for o in feasible):
            v.confirmed_by = "z3"
        return v
    refuting = [(ob, o) for ob, o in failing if o.status == REFUTED and ob.refutes_theorem]
    if refuting:
        ob, o = refuting[0]
        v.status, v.method = REFUTED, f"counterexample to obligation {ob.name!r} ({o.method})"
        v.counterexample = o.counterexample
        return v
    ob, o = failing[0]
    v.method = "none"
    v.counterexample = o.counterexample
    what = ("is false (counterexample below), but a counterexample to it is not one to the theorem"
            if o.status == REFUTED else "is undecided")
    if o.status == REFUTED and ABSTRACTED_SUMS in ob.shape:
        what += (" (it gives the sums over the row values of their own, which no row may have: state the "
                 "theorem on an explicit shape to refute it)")
    elif o.status == REFUTED and INDEPENDENT_ENTRIES in ob.shape:
        what += (" (it gives a matrix's entries at two indices of one axis values of their own, which a one-row "
                 "matrix cannot have: state the theorem on an explicit shape to refute it)")
    v.reason = f"obligation {ob.name!r} {what}: {o.reason or o.method}".strip()
    del start
    return v
