"""Decisions for the theorem forms beyond one equation.

* **Obligations** (induction over steps, simulation between optimizers): a list of equations,
  each decided by ``prover.decide``.  PROVED only if every obligation is PROVED.  A refuted
  obligation refutes the theorem only where it is an instance of the theorem itself (the base
  case of an invariant, the initial relation); a refuted inductive step means the invariant or
  relation is not inductive: UNKNOWN, naming the obligation and showing its counterexample.
* **For every value** (non-equivalence): "no value of c makes lhs = rhs".  At one point P of
  the other variables the residual is a rational function r(c); its numerator's real roots are
  computed exactly (``Poly.real_roots``).  Every c that is not a root (nor a pole) is refuted
  at P; each root is refuted at a second point.  So every value of c is covered.
* **Inequality** lhs ≤ rhs (or <): PROVED when interval bounds show rhs − lhs ≥ 0 (> 0) after
  bringing it to one fraction; REFUTED by a point where the difference is certified negative.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from symbolic import prover
from symbolic.bounds import bound
from symbolic.certify import certainly_nonzero, enclose, is_real_number
from symbolic.notation import math_text
from symbolic.prover import PROVED, REFUTED, UNKNOWN, Claim, ClaimError, Verdict


@dataclass
class Obligation:
    name: str
    claim: Claim
    refutes_theorem: bool = False  # is a counterexample to it one to the theorem itself?


def decide_obligations(form: str, obligations: list[Obligation]) -> Verdict:
    decided = [(o, prover.decide(o.claim)) for o in obligations]
    verdict = Verdict(UNKNOWN, shape=decided[0][1].shape if decided else "")
    verdict.obligations = [_obligation_row(o, v) for o, v in decided]
    verdict.side_conditions = [dict(c, condition=f"[{o.name}] {c['condition']}")
                               for o, v in decided for c in v.side_conditions]
    verdict.hypotheses_used = sorted({h for _, v in decided for h in v.hypotheses_used})
    failing = [(o, v) for o, v in decided if v.status != PROVED]
    if not failing:
        verdict.status = PROVED
        verdict.method = f"{form}: " + "; ".join(f"{o.name} ({v.method})" for o, v in decided)
        return verdict
    obligation, failed = failing[0]
    if failed.status == REFUTED and obligation.refutes_theorem:
        verdict.status, verdict.method = REFUTED, f"{form}: counterexample to the {obligation.name}"
        verdict.counterexample = failed.counterexample
        return verdict
    verdict.method = "none"
    verdict.counterexample = failed.counterexample
    what = {REFUTED: "is false (counterexample below)", UNKNOWN: "is undecided"}[failed.status]
    verdict.reason = (f"the {obligation.name} obligation {what}: the "
                      f"{'invariant' if form == 'induction' else 'relation'} is not shown to be "
                      f"preserved. {failed.reason}").strip()
    return verdict


def _obligation_row(obligation: Obligation, verdict: Verdict) -> dict:
    return {"name": obligation.name, "verdict": verdict.status, "method": verdict.method,
            "reason": verdict.reason, "lhs": math_text(verdict.lhs), "rhs": math_text(verdict.rhs),
            "counterexample": verdict.counterexample}


# ---------------------------------------------------------------------------------------
# "For every value of c, lhs ≠ rhs somewhere".

def decide_for_every(claim: Claim, coefficient: sympy.Symbol, fixed: set | None = None,
                     max_points: int = 200) -> Verdict:
    """Refute "∃ c: lhs = rhs for all data" where c may depend on the ``fixed`` variables (by
    default the scalar ones: hyperparameters) but not on the others (tensors: the data).  The
    witnesses for the roots of c keep the fixed variables' values."""
    prepared = prover.prepare(claim)
    if coefficient not in prepared.symbols:
        raise ClaimError(f"{coefficient} is not a declared variable of the claim")
    if fixed is None:
        fixed = {s for s, v in prepared.symbols.items() if not v.is_tensor and s != coefficient}
    verdict = prepared.verdict()
    variable = prepared.symbols[coefficient]
    others = {s: v for s, v in prepared.symbols.items() if s != coefficient}
    points = list(_valid_points(prepared, others, max_points))
    for point in points:
        residual = _residual_in(prepared, point, coefficient)
        if residual is None:
            continue
        numerator, denominator = residual
        exceptions = [z for z in _real_roots(numerator) + _real_roots(denominator)
                      if prover._in_domain(z, variable)]
        covered = {}
        kept = {s: v for s, v in point.items() if s in fixed}
        for z in exceptions:
            witness = _witness(prepared, points, {**kept, coefficient: z})
            if witness is None:
                break
            covered[z] = witness
        else:
            verdict.status = REFUTED
            kept_names = ", ".join(sorted(map(str, fixed))) or "nothing"
            verdict.method = (f"for every {coefficient} (that may depend on {kept_names}): the residual at "
                              f"one point is a rational function of {coefficient} whose real roots are "
                              "found exactly; each root is refuted at a second point with the same "
                              f"{kept_names}")
            verdict.counterexample = _every_value_table(prepared, coefficient, point, numerator,
                                                        denominator, covered)
            return verdict
    verdict.method = "none"
    verdict.reason = (f"no point among {len(points)} made the residual a nonzero rational function of "
                      f"{coefficient} whose roots could all be refuted")
    return verdict


def _valid_points(prepared, free: dict, count: int):
    """Candidate values of the variables in ``free`` that respect domains and hypotheses."""
    seen = set()
    for base in prover._candidate_points([s for s in free if s not in prepared.hyps.substitution],
                                         prepared.symbols, count, 1):
        key = tuple(sorted((str(k), v) for k, v in base.items()))
        if key in seen:
            continue
        seen.add(key)
        yield base


def _residual_in(prepared, point: dict, coefficient: sympy.Symbol):
    """(numerator, denominator) polynomials in the coefficient of the first entry whose residual
    at ``point`` is a nonzero rational function of it, or None."""
    for pair in prepared.pairs:
        residual = (pair.lhs - pair.rhs).xreplace(point)
        residual = residual.xreplace({s: v.xreplace(point) for s, v in prepared.hyps.substitution.items()})
        if residual.free_symbols - {coefficient}:
            continue
        # The coefficient's domain (c ≥ 0, say) lets SymPy drop |g + c·p| for positive g, p.
        with_domain = prepared.assumed[coefficient]
        residual = residual.xreplace({coefficient: with_domain}).xreplace({with_domain: coefficient})
        numerator, denominator = sympy.fraction(sympy.cancel(sympy.together(residual)))
        try:
            top = sympy.Poly(numerator, coefficient, domain="QQ")
            bottom = sympy.Poly(denominator, coefficient, domain="QQ")
        except (sympy.PolynomialError, sympy.CoercionFailed, sympy.GeneratorsNeeded):
            continue
        if not top.is_zero:
            return top, bottom
    return None


def _real_roots(poly: sympy.Poly) -> list:
    return [] if poly.degree() <= 0 else sorted(set(poly.real_roots()), key=lambda r: float(r))


def _witness(prepared, points, fixed: dict):
    """A point where the claim fails with ``fixed`` values (checked exactly), or None."""
    for base in points:
        point = {**base, **fixed}
        point.update({s: v.xreplace(point) for s, v in prepared.hyps.substitution.items()})
        if not all(prover._holds(h, point) for h in prepared.hyps.all):
            continue
        for pair in prepared.pairs:
            left, right = pair.lhs.xreplace(point), pair.rhs.xreplace(point)
            if is_real_number(left) and is_real_number(right) and certainly_nonzero(left - right):
                return {"values": {str(k): prover._value(v) for k, v in base.items()},
                        "lhs": prover._value(left), "rhs": prover._value(right)}
    return None


def _every_value_table(prepared, coefficient, point, numerator, denominator, covered) -> dict:
    return {
        "values": {str(k): prover._value(v) for k, v in point.items()},
        "lhs": {"exact": f"residual(lhs − rhs) = ({math_text(numerator.as_expr())}) / "
                         f"({math_text(denominator.as_expr())})", "approx": ""},
        "rhs": {"exact": f"zero only for {coefficient} ∈ {{{', '.join(map(str, covered)) or '∅'}}}",
                "approx": ""},
        "difference": {"exact": f"nonzero for every other {coefficient}", "approx": ""},
        "for_every": str(coefficient),
        "exceptions": [{"value": str(z), **w} for z, w in covered.items()],
        "entry": None,
    }


# ---------------------------------------------------------------------------------------
# Inequalities.

def decide_inequality(claim: Claim, strict: bool = False, max_points: int = 200) -> Verdict:
    """lhs ≤ rhs (lhs < rhs if strict), entrywise."""
    prepared = prover.prepare(claim)
    verdict = prepared.verdict()
    relation = "<" if strict else "≤"
    shown = []
    for pair in prepared.substituted:
        difference = pair.rhs - pair.lhs
        with_domains = difference.xreplace(prepared.assumed)  # |lr·x| = lr·|x| needs lr ≥ 0
        forms = (difference, sympy.cancel(sympy.together(difference)), with_domains,
                 sympy.cancel(sympy.together(with_domains)))
        for form in forms:
            interval = bound(form, prepared.hyps.intervals)
            if (interval.lo > 0 or (interval.lo == 0 and interval.lo_open)) if strict else interval.lo >= 0:
                shown.append(f"rhs − lhs = {math_text(form)} ∈ {interval.show()}")
                break
        else:
            break
    else:
        rows = prepared.side_conditions()
        missing = [c["condition"] for c in rows if not c["discharged"]]
        verdict.side_conditions = rows
        if not missing:
            verdict.status = PROVED
            verdict.method = f"interval bounds on rhs − lhs ({'; '.join(shown)})"
            return verdict
        verdict.reason = "the bound holds where defined, but these are not shown: " + "; ".join(missing)
        return verdict
    counterexample = _inequality_counterexample(prepared, strict, max_points)
    if counterexample is not None:
        verdict.status, verdict.method = REFUTED, "counterexample, checked by certified intervals"
        verdict.counterexample = counterexample
        return verdict
    verdict.method = "none"
    verdict.reason = (f"interval bounds do not show lhs {relation} rhs, and no counterexample among "
                      f"{max_points} candidate points (evidence, not proof)")
    return verdict


def _inequality_counterexample(prepared, strict: bool, count: int):
    free = [s for s in prepared.symbols if s not in prepared.hyps.substitution]
    recorded = set(prepared.recorded)
    for pair in prepared.pairs:
        recorded |= prover._conditions_in(pair.lhs) | prover._conditions_in(pair.rhs)
    for base in prover._candidate_points(free, prepared.symbols, count, 0):
        point = dict(base)
        point.update({s: v.xreplace(base) for s, v in prepared.hyps.substitution.items()})
        if not all(prover._in_domain(point[s], prepared.symbols[s]) for s in point):
            continue
        if not all(prover._holds(h, point) for h in prepared.hyps.all) or not prover._defined_at(recorded, point):
            continue
        for index, pair in enumerate(prepared.pairs):
            left, right = pair.lhs.xreplace(point), pair.rhs.xreplace(point)
            if not (is_real_number(left) and is_real_number(right)):
                break
            difference = right - left
            try:
                box = enclose(difference) if not difference.is_Rational else None
            except Exception:
                continue
            violated = (difference < 0 or (strict and difference == 0)) if box is None else box.b < 0
            if violated:
                return prover._describe_counterexample(point, prepared.symbols, left, right, left - right,
                                                       index, len(prepared.pairs))
    return None
