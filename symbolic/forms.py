"""The decider's relations beyond one equation: inequalities and "for every value".

* **Inequality** lhs ≤ rhs (or <), pair by pair.  PROVED when rhs − lhs is shown ≥ 0 (> 0):
  interval bounds (of the difference and of its normal form), sign facts from the
  hypotheses, SymPy's assumptions on sign-carrying dummies (sums of squares, products of
  known signs), the numerator and denominator of the normal form factored and signed
  factor by factor, or by squaring when both sides are shown ≥ 0 (rhs ≥ lhs ⇔ rhs² ≥ lhs²).
  Where none of these decide, z3's nonlinear real arithmetic may (the method says so).  A
  SymPy decision that z3 also shows is ``confirmed_by = "z3"``.  REFUTED by an admissible
  point where rhs − lhs is certified < 0 (≤ 0 for <).
* **For every** (non-equivalence): "no value of the coefficient c, possibly depending on the
  ``fixed`` symbols, makes every pair equal for all the other variables".  At an admissible
  point P of the other variables the residual of a pair is a rational function r(c); its
  numerator's and denominator's real roots (and those of every divisor that mentions c) are
  found exactly.  Every other c in c's domain is refuted at P; each root z is refuted at a
  second admissible point that keeps the fixed symbols' values.  Every point used satisfies
  the domains, hypotheses, path conditions and recorded conditions.  REFUTED then means "no
  c works".  If a root makes every pair provably equal, the verdict is PROVED ("c = z works").
"""
from __future__ import annotations

import sympy

from symbolic import z3check
from symbolic.certify import certainly_nonzero, compare, is_real_number
from symbolic.knowledge import ClaimError, add_sign_facts, show, undefined
from symbolic.obligation import NONNEGATIVE, NONZERO
from symbolic.prover import (PROVED, REFUTED, UNKNOWN, Setting, Verdict, _confirm, _refuted_or_unknown, _residual,
                             counterexample, missing_text, prove_equal)
from symbolic.search import Space, _try, holds, search, value_of

# ---------------------------------------------------------------------------------------
# Inequalities.


def _signs_of_factors(e, k) -> tuple | None:
    """(nonnegative, positive) for a product whose factors each have a shown sign."""
    try:
        coefficient, factors = sympy.factor_list(e)
    except (sympy.PolynomialError, TypeError, ValueError):
        return None
    negative_count, strict = (1 if coefficient < 0 else 0), coefficient != 0
    for factor, power in factors:
        if power % 2 == 0:
            strict = strict and bool(k.how_nonzero(factor))
            continue
        if k.how_positive(factor):
            continue
        if k.how_positive(-factor):
            negative_count += 1
            continue
        if k.how_nonnegative(factor):
            strict = False
            continue
        if k.how_nonnegative(-factor):
            negative_count += 1
            strict = False
            continue
        return None
    return (negative_count % 2 == 0, strict and negative_count % 2 == 0)


def _shows(difference, strict: bool, k) -> str | None:
    how = k.how_positive(difference) if strict else k.how_nonnegative(difference)
    if how:
        return how
    signed = k.with_signs(difference)
    try:
        numerator, denominator = sympy.fraction(sympy.cancel(sympy.together(signed)))
    except (sympy.PolynomialError, TypeError, ValueError):
        return None
    top = _signs_of_factors(k.without_signs(numerator), k)
    bottom = k.how_positive(k.without_signs(denominator))
    if top is not None and bottom and (top[1] if strict else top[0]):
        return "the normal form's numerator and denominator signed factor by factor"
    return None


def _prove_at_most(lhs, rhs, strict: bool, k, depth: int = 0) -> str | None:
    difference = rhs - lhs
    how = _shows(difference, strict, k)
    if how:
        return f"rhs − lhs {'>' if strict else '≥'} 0: {how}"
    if depth == 0 and k.how_nonnegative(lhs) and k.how_nonnegative(rhs):
        squared = sympy.expand(rhs**2 - lhs**2)
        how = _shows(squared, strict, k)
        if how:
            return f"both sides ≥ 0, so squaring: rhs² − lhs² = {show(squared)} {'>' if strict else '≥'} 0 ({how})"
    if depth == 0 and k.how_nonnegative(-lhs) and (k.how_positive(rhs) if strict else k.how_nonnegative(rhs)):
        return "lhs ≤ 0 ≤ rhs" if not strict else "lhs ≤ 0 < rhs"
    return None


def decide_inequality(s: Setting, strict: bool = False) -> Verdict:
    v = s.verdict()
    k = s.k
    relation = "<" if strict else "≤"
    shown, finals, open_pairs, z3_pairs = [], [], [], []
    for label, lhs, rhs in s.pairs:
        left, right = k.apply(lhs), k.apply(rhs)
        if undefined(left) or undefined(right):
            v.method = "none"
            v.reason = f"{s.where(label)}: a side is undefined after applying the hypotheses"
            return v
        finals += [left, right]
        how = _prove_at_most(left, right, strict, k)
        if how:
            shown.append(f"{label}: {how}")
            continue
        negation = sympy.Gt(lhs, rhs) if not strict else sympy.Ge(lhs, rhs)
        if z3check.AVAILABLE and sympy.count_ops(negation) <= 400 and z3check.unsat(
                s.symbols, s.domain_intervals, s.relations, negation, ms=2000):
            z3_pairs.append(label)
            shown.append(f"{label}: z3 nonlinear real arithmetic (SymPy had no decision)")
            continue
        open_pairs.append((label, left, right))
    if not open_pairs:
        rows = s.demands(finals)
        v.side_conditions = rows
        method = "; ".join(shown)
        missing = missing_text(rows)
        if missing:
            v.method = method + " (where defined)"
            v.reason = (f"obligation {s.ob.name!r}, path {s.path_text()}: lhs {relation} rhs holds where "
                        f"defined, but not shown: {missing}. State it as a hypothesis.")
            return v
        v.status, v.method = PROVED, method
        if not z3_pairs and _confirm(s, [sympy.Gt(lhs, rhs) if not strict else sympy.Ge(lhs, rhs)
                                         for _, lhs, rhs in s.pairs]):
            v.confirmed_by = "z3"
        return v

    def test(point):
        for index, (label, lhs, rhs) in enumerate(s.pairs):
            left, right = lhs.xreplace(point), rhs.xreplace(point)
            if not (is_real_number(left) and is_real_number(right)):
                return None
            c = compare(right, left)
            if c == "<" or (strict and c == "="):
                return counterexample(s, point, index, left, right, left - right)
        return None

    exprs = [e for _, lhs, rhs in s.pairs for e in (lhs, rhs)]
    found, tried = search(s.space(), test, exprs)

    def reason() -> str:
        label, left, right = open_pairs[0]
        return (f"{s.where(label)}: not shown lhs {relation} rhs (rhs − lhs = {_residual(right, left, k)}) by "
                f"interval bounds, sign facts, squaring{', z3' if z3check.AVAILABLE else ''}; no counterexample "
                f"among {tried} admissible points (evidence, not proof)")

    return _refuted_or_unknown(v, found, "counterexample, checked by certified intervals", reason)


# ---------------------------------------------------------------------------------------
# "For every value of c, some pair differs".

def _fixed_symbols(s: Setting, coefficient) -> set:
    ob = s.ob
    if ob.fixed is None:
        return {x for x, spec in s.specs.items() if not spec.tensor and x != coefficient}
    fixed = set()
    by_name = {}
    for x, spec in s.specs.items():
        by_name.setdefault(spec.name, []).append(x)
        by_name.setdefault(str(x), []).append(x)
    for item in ob.fixed:
        if isinstance(item, sympy.Symbol) and item in s.symbols:
            fixed.add(item)
        elif str(item) in by_name:
            fixed.update(by_name[str(item)])
        else:
            raise ClaimError(f"fixed: {item!r} names no variable of the theorem")
    fixed.discard(coefficient)
    return fixed


def _roots(poly) -> list:
    return [] if poly.degree() <= 0 else sorted(set(poly.real_roots()), key=lambda r: float(r))


def _poly(e, c):
    numerator, denominator = sympy.fraction(sympy.cancel(sympy.together(e)))
    return sympy.Poly(numerator, c, domain="QQ"), sympy.Poly(denominator, c, domain="QQ")


def decide_for_every(s: Setting) -> Verdict:
    v = s.verdict()
    c = s.ob.coefficient
    if c is None or c not in s.symbols:
        raise ClaimError(f"for every: the coefficient {c} is not a declared variable")
    fixed = _fixed_symbols(s, c)
    domain = s.symbols[c]
    with_c_relations = [r for r in s.relations if c in r.free_symbols]
    if any(r.free_symbols - fixed - {c} for r in with_c_relations):
        v.method = "none"
        v.reason = (f"obligation {s.ob.name!r}: a hypothesis or path condition ties {c} to a variable it may "
                    "not depend on; the for-every decision does not cover that")
        return v
    with_c = [x for x in s.required if c in x.expr.free_symbols or
              (x.exponent is not None and c in x.exponent.free_symbols)]
    if any(x.kind not in (NONZERO, NONNEGATIVE) for x in with_c):
        v.method = "none"
        v.reason = (f"obligation {s.ob.name!r}: a power with {c} in it is not supported by the for-every "
                    "decision")
        return v
    without_c = [x for x in s.required if x not in with_c]
    space = Space(s.symbols, s.labels, [r for r in s.relations if r not in with_c_relations], without_c, s.k,
                  s.seed)
    full_space = s.space()
    signs = {}
    add_sign_facts(signs, domain.interval)
    # Only c's domain: every value considered lies in it, so SymPy may drop |g + c·p| on it.
    signed_c = sympy.Dummy(c.name, **({"integer": True} if domain.integer else {"real": True}), **signs)

    def in_c(e, point):
        return e.xreplace(point).xreplace({c: signed_c}).xreplace({signed_c: c})

    witnesses_pool = []
    for base in space.candidates(120):
        base = {x: val for x, val in base.items() if x != c}
        point = _complete_without(space, base, c)  # c's value matters only for its domain
        if point is None:
            continue
        point.pop(c, None)
        witnesses_pool.append(base)
        if not all(_nonnegative_for_every(in_c(x.expr, point), c, domain) for x in with_c if x.kind == NONNEGATIVE):
            continue

        def admissible(z):
            return domain.contains(z) and all(holds(r, {**point, c: z}) is True for r in with_c_relations)

        residual = None
        for label, lhs, rhs in s.pairs:
            r = in_c(lhs - rhs, point)
            if r.free_symbols - {c} or undefined(r):
                continue
            try:
                top, bottom = _poly(r, c)
            except (sympy.PolynomialError, sympy.CoercionFailed, sympy.GeneratorsNeeded, ValueError, TypeError):
                continue
            if not top.is_zero:
                residual = (top, bottom)
                break
        if residual is None:
            continue
        top, bottom = residual
        exceptions = _roots(top) + _roots(bottom)
        for x in with_c:
            if x.kind != NONZERO:
                continue
            try:
                a, b = _poly(in_c(x.expr, point), c)
                exceptions += _roots(a) + _roots(b)
            except (sympy.PolynomialError, sympy.CoercionFailed, sympy.GeneratorsNeeded, ValueError, TypeError):
                exceptions = None
                break
        if exceptions is None:
            continue
        exceptions = [z for z in dict.fromkeys(exceptions) if admissible(z)]
        kept = {x: val for x, val in point.items() if x in fixed}
        covered = {}
        for z in exceptions:
            witness = _witness(s, full_space, witnesses_pool, kept, c, z)
            if witness is None:
                break
            covered[z] = witness
        else:
            v.status = REFUTED
            names = ", ".join(sorted(map(str, fixed))) or "nothing"
            v.method = (f"for every {c} (that may depend on {names}): at one admissible point the residual is "
                        f"a rational function of {c} whose real roots are found exactly; each root is refuted "
                        f"at a second admissible point with the same {names}")
            v.counterexample = {
                "values": space.describe(point),
                "lhs": {"exact": f"residual(lhs − rhs) = ({show(top.as_expr())}) / ({show(bottom.as_expr())})",
                        "approx": ""},
                "rhs": {"exact": f"zero or undefined only for {c} ∈ {{{', '.join(map(show, covered)) or '∅'}}}",
                        "approx": ""},
                "difference": {"exact": f"nonzero for every other {c}", "approx": ""},
                "for_every": str(c), "obligation": s.ob.name, "path": s.path_text(),
                "exceptions": [{"value": show(z), **w} for z, w in covered.items()], "entry": None,
            }
            return v
        # An exception no point refutes: perhaps it works.
        for z in exceptions:
            if z in covered:
                continue
            works = _works(s, c, z)
            if works and s.path:
                v.method = "none"
                v.reason = (f"obligation {s.ob.name!r}: {c} = {show(z)} makes every pair equal on the path "
                            f"{s.path_text()} ({works})")
                return v
            if works:
                v.status = PROVED
                v.method = f"{c} = {show(z)} makes every pair equal ({works}): some value of {c} works"
                return v
        break
    v.method = "none"
    v.reason = (f"obligation {s.ob.name!r}, path {s.path_text()}: no admissible point made the residual a "
                f"nonzero rational function of {c} whose exceptional roots could all be refuted at admissible "
                "points")
    return v


def _nonnegative_for_every(e, c, domain) -> bool:
    """p(c) ≥ 0 for every c in the domain, decided exactly: the sign of a polynomial is
    constant between consecutive real roots, so one rational point per gap decides it."""
    if undefined(e) or e.free_symbols - {c}:
        return False
    if not e.free_symbols:
        return compare(e, 0) in (">", "=")
    try:
        top, bottom = _poly(e, c)
    except (sympy.PolynomialError, sympy.CoercionFailed, sympy.GeneratorsNeeded, ValueError, TypeError):
        return False
    if bottom.degree() > 0:
        return False
    cuts = {sympy.Rational(str(sympy.N(r, 50))) for r in _roots(top)}
    cuts |= {end for end in (domain.interval.lo, domain.interval.hi) if end.is_finite}
    cuts = sorted(cuts)
    if not cuts:
        cuts = [sympy.Integer(0)]
    # The domain's ends are cuts too, so each gap between consecutive cuts lies wholly
    # inside or outside the domain; the sign is constant on it.
    probes = cuts + [(a + b) / 2 for a, b in zip(cuts, cuts[1:])] + [cuts[0] - 1, cuts[-1] + 1]
    for x in probes:
        if domain.contains(x) and top.eval(x) / bottom.eval(x) < 0:
            return False
    return True


def _complete_without(space, base, c):
    """Admissibility of a point without the coefficient (its domain may exclude 0)."""
    for value in space.symbols[c].samples:
        point = _try(space.complete, {**base, c: value})
        if point is not None:
            return point
    return None


def _witness(s: Setting, space, pool, kept: dict, c, z) -> dict | None:
    candidates = list(pool) + list(space.candidates(80))
    for base in candidates:
        point = _try(space.complete, {**base, **kept, c: z})
        if point is None:
            continue
        found = _try(_differs, s, space, point)
        if found is not None:
            return found
    return None


def _differs(s: Setting, space, point: dict) -> dict | None:
    for label, lhs, rhs in s.pairs:
        left, right = lhs.xreplace(point), rhs.xreplace(point)
        if is_real_number(left) and is_real_number(right) and certainly_nonzero(left - right):
            return {"values": space.describe(point), "pair": label, "lhs": value_of(left), "rhs": value_of(right)}
    return None


def _works(s: Setting, c, z) -> str | None:
    """Whether c = z makes every pair equal (exactly, every condition discharged)."""
    finals, methods = [], []
    for _, lhs, rhs in s.pairs:
        left, right = s.k.apply(lhs.xreplace({c: z})), s.k.apply(rhs.xreplace({c: z}))
        if undefined(left) or undefined(right):
            return None
        method = prove_equal(left, right, s.k)
        if method is None:
            return None
        finals += [left, right]
        methods.append(method)
    rows = s.demands(finals, {c: z})
    if any(not r["discharged"] for r in rows):
        return None
    return " + ".join(dict.fromkeys(methods))


__all__ = ["decide_inequality", "decide_for_every", "PROVED", "REFUTED", "UNKNOWN"]
