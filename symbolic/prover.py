"""The prover: decides an equation between symbolic values under domains and hypotheses.

Verdicts (DESIGN.md rule 1):

* PROVED, only from an exact symbolic decision, with its method:
  - ``definitional``: both sides are the same expression (after SymPy's automatic
    evaluation and any equality hypotheses substituted);
  - ``normal form``: ``cancel(lhs − rhs)`` is 0, a rational-function identity with roots
    and symbolic powers kept as independent atoms;
  - ``... under assumptions``: the same, once the symbols carry their declared domains
    (e.g. √(v²) = v needs v ≥ 0), or after rewriting √(ab) = √a·√b, which is only done
    when every radicand factor is shown ≥ 0 from the domains;
  and only when every side condition (divisor ≠ 0, radicand ≥ 0) is discharged from the
  domains and hypotheses.  Otherwise the identity holds only "where defined": UNKNOWN.
* REFUTED, only with a counterexample: exact rational values for every variable that
  satisfy the domains and hypotheses, make both sides defined, and give a difference that
  is certified nonzero (exactly, or by outward-rounded interval arithmetic).
* UNKNOWN, with the reason, in every other case.  Sampling alone never yields PROVED:
  points are only ever used to build counterexamples.

The prover knows nothing of optimizers: a claim is two sides, variables and hypotheses.
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import sympy

from symbolic.bounds import bound, excludes_zero, nonnegative
from symbolic.certify import certainly_nonzero, enclose, is_real_number
from symbolic.domains import Interval, Variable
from symbolic.notation import math_text
from symbolic.tensor import SymTensor, to_sympy

PROVED, REFUTED, UNKNOWN = "PROVED", "REFUTED", "UNKNOWN"
VERDICTS = (PROVED, REFUTED, UNKNOWN)


class ClaimError(ValueError):
    """A claim that cannot be decided as stated (mismatched sides, unknown symbols, ...)."""


@dataclass
class Claim:
    lhs: Any
    rhs: Any
    variables: Sequence[Variable]
    hypotheses: Sequence[sympy.Basic] = ()


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
    obligations: list = field(default_factory=list)   # for induction and simulation

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------------------
# Preparing a claim: pairs of entries, hypotheses sorted by use, side conditions.

@dataclass
class _Pair:
    lhs: sympy.Expr
    rhs: sympy.Expr


def _exact(expr: Any) -> sympy.Expr:
    """SymPy Floats (from Python floats in scalar code) become the rationals they store."""
    expr = to_sympy(expr)
    floats = expr.atoms(sympy.Float)
    return expr.xreplace({f: sympy.Rational(f) for f in floats}) if floats else expr


def _sides(lhs: Any, rhs: Any) -> tuple[list[_Pair], str, set, set]:
    """Entry pairs, how every shape is covered, the trace's ops, and its recorded conditions."""
    if isinstance(lhs, (tuple, list)) or isinstance(rhs, (tuple, list)):
        if not (isinstance(lhs, (tuple, list)) and isinstance(rhs, (tuple, list)) and len(lhs) == len(rhs)):
            raise ClaimError("both sides must be sequences of the same length")
        pairs, shapes, ops, conditions = [], [], set(), set()
        for a, b in zip(lhs, rhs):
            p, s, o, c = _sides(a, b)
            pairs += p
            shapes.append(s)
            ops |= o
            conditions |= c
        return pairs, "; ".join(dict.fromkeys(shapes)), ops, conditions
    if isinstance(lhs, SymTensor) != isinstance(rhs, SymTensor):
        raise ClaimError("one side is a tensor and the other a scalar")
    if not isinstance(lhs, SymTensor):
        return [_Pair(_exact(lhs), _exact(rhs))], "scalar claim", set(), set()
    if lhs.shape != rhs.shape:
        raise ClaimError(f"the sides have different shapes: {lhs.shape} and {rhs.shape}")
    pairs = [_Pair(_exact(a), _exact(b)) for a, b in zip(lhs.entries, rhs.entries)]
    ops = set(lhs.ops | rhs.ops)
    if lhs.is_generic:
        shape = ("every shape: the trace was elementwise (ops: " + ", ".join(sorted(ops) or ["none"])
                 + "), so one generic entry stands for every index of every shape")
    else:
        shape = f"explicit shape {lhs.shape}: all {len(pairs)} entries compared"
    return pairs, shape, ops, set(lhs.conditions | rhs.conditions)


@dataclass
class _Hypotheses:
    substitution: dict                 # symbol -> expression (from Eq(symbol, expr))
    rewrites: dict                     # subexpression -> what the hypotheses make it
    facts: list                        # inequalities known true, as (">" | "≥", expression)
    intervals: dict                    # symbol -> Interval (domains, tightened)
    nonzero: list                      # expressions stated ≠ 0
    all: list                          # every hypothesis, checked on counterexamples
    used: list                         # what the report says about each


def _symbols_of(variables: Sequence[Variable]) -> dict:
    table = {}
    for variable in variables:
        for symbol in variable.symbols:
            if symbol in table:
                raise ClaimError(f"two variables share the symbol {symbol}")
            table[symbol] = variable
    return table


def _tighten(interval: Interval, relation: sympy.Basic, symbol_on_left: bool) -> Interval | None:
    kind = type(relation)
    if not symbol_on_left:
        kind = {sympy.StrictLessThan: sympy.StrictGreaterThan, sympy.LessThan: sympy.GreaterThan,
                sympy.StrictGreaterThan: sympy.StrictLessThan, sympy.GreaterThan: sympy.LessThan}.get(kind)
    value = relation.rhs if symbol_on_left else relation.lhs
    if kind in (sympy.StrictLessThan, sympy.LessThan):
        opened = kind is sympy.StrictLessThan
        if value < interval.hi or (value == interval.hi and opened):
            return Interval(interval.lo, value, interval.lo_open, opened)
        return interval
    if kind in (sympy.StrictGreaterThan, sympy.GreaterThan):
        opened = kind is sympy.StrictGreaterThan
        if value > interval.lo or (value == interval.lo and opened):
            return Interval(value, interval.hi, opened, interval.hi_open)
        return interval
    return None


def _prepare_hypotheses(hypotheses: Sequence[Any], symbols: dict) -> _Hypotheses:
    intervals = {s: v.domain.interval for s, v in symbols.items()}
    prepared = _Hypotheses({}, {}, [], intervals, [], [], [])
    for raw in hypotheses:
        h = _exact(raw)
        if not isinstance(h, sympy.core.relational.Relational):
            raise ClaimError(f"a hypothesis must be a relation (Eq, Ne, <, ≤, >, ≥), got {raw!r}")
        unknown = h.free_symbols - set(symbols)
        if unknown:
            raise ClaimError(f"hypothesis {h} mentions undeclared symbols {sorted(map(str, unknown))}")
        prepared.all.append(h)
        if isinstance(h, sympy.Eq) and h.lhs in symbols and h.lhs not in h.rhs.free_symbols \
                and h.lhs not in prepared.substitution:
            prepared.substitution[h.lhs] = h.rhs
            prepared.used.append(f"{_show(h)}: substituted")
        elif isinstance(h, sympy.Ne):
            prepared.nonzero.append(sympy.expand(h.lhs - h.rhs))
            prepared.used.append(f"{_show(h)}: discharges side conditions")
        elif isinstance(h, sympy.Eq) and not h.lhs.is_number:
            prepared.rewrites[h.lhs] = h.rhs
            prepared.used.append(f"{_show(h)}: rewrites {_show(h.lhs)} as {_show(h.rhs)}")
        else:
            _relation_facts(h, prepared)
    _close_substitution(prepared.substitution)
    return prepared


def _relation_facts(h: sympy.Basic, prepared: "_Hypotheses") -> None:
    """An inequality hypothesis decides the branch conditions it states (a piecewise value's
    ``ρ > 5``), the sign of its side against 0, and bounds a lone symbol."""
    normal = _normal_relation(h)
    if normal is not None:
        prepared.facts.append(normal)
    notes = ["decides the branch it names"]
    difference = h.lhs - h.rhs
    if isinstance(h, (sympy.StrictGreaterThan, sympy.StrictLessThan)):
        positive = isinstance(h, sympy.StrictGreaterThan)
        prepared.rewrites[sympy.sign(difference)] = sympy.Integer(1 if positive else -1)
        if h.rhs == 0:
            prepared.rewrites[sympy.sign(h.lhs)] = sympy.Integer(1 if positive else -1)
        notes.append("fixes the sign of " + _show(difference if h.rhs != 0 else h.lhs))
    if h.rhs.is_number or h.lhs.is_number:  # bounds a symbol, or a whole subexpression
        side = h.lhs if h.rhs.is_number else h.rhs
        tightened = _tighten(prepared.intervals.get(side, Interval()), h, side is h.lhs)
        if tightened is not None:
            prepared.intervals[side] = tightened
            notes.append(f"bounds {_show(side)} to {tightened.show()}")
    prepared.used.append(f"{_show(h)}: " + "; ".join(notes))


def _normal_relation(relation: sympy.Basic) -> tuple | None:
    """x > y, y < x, x − y > 0 all become (">", x − y); likewise "≥"."""
    strict = isinstance(relation, (sympy.StrictGreaterThan, sympy.StrictLessThan))
    if isinstance(relation, (sympy.StrictGreaterThan, sympy.GreaterThan)):
        return (">" if strict else "≥", relation.lhs - relation.rhs)
    if isinstance(relation, (sympy.StrictLessThan, sympy.LessThan)):
        return (">" if strict else "≥", relation.rhs - relation.lhs)
    return None


def _condition_value(condition: sympy.Basic, facts: list) -> sympy.Basic:
    """true / false when a known fact decides ``condition`` (an exact identity of the two
    sides, by ``cancel``), else the condition unchanged."""
    normal = _normal_relation(condition)
    if normal is None:
        return condition
    kind, expr = normal
    negated = ("≥" if kind == ">" else ">", -expr)  # ¬(E > 0) is −E ≥ 0
    for fact_kind, fact in facts:
        def implies(target_kind: str, target: sympy.Expr) -> bool:  # E > 0 also gives E ≥ 0
            stronger = fact_kind == target_kind or (fact_kind, target_kind) == (">", "≥")
            return stronger and sympy.cancel(fact - target) == 0

        if implies(kind, expr):
            return sympy.true
        if implies(*negated):
            return sympy.false
    return condition


def _decide_branches(expr: sympy.Expr, facts: list) -> sympy.Expr:
    if not facts or not expr.has(sympy.Piecewise):
        return expr

    def decide(piecewise):
        return sympy.Piecewise(*[(e, _condition_value(c, facts)) for e, c in piecewise.args])

    return expr.replace(lambda e: isinstance(e, sympy.Piecewise), decide)


def _apply_hypotheses(expr: sympy.Expr, hyps: "_Hypotheses") -> sympy.Expr:
    """Substitute equal variables, rewrite what the hypotheses fix, decide the branches
    they name (to a fixed point)."""
    expr = expr.xreplace(hyps.substitution)
    for _ in range(4):
        rewritten = expr.xreplace(hyps.rewrites) if hyps.rewrites else expr
        rewritten = _decide_branches(rewritten, hyps.facts)
        if rewritten == expr:
            return expr
        expr = rewritten
    return expr



def _close_substitution(substitution: dict) -> None:
    """Make each substituted value free of substituted symbols (x = y, y = 0 gives x = 0)."""
    for _ in range(len(substitution)):
        for symbol, value in substitution.items():
            substitution[symbol] = value.xreplace(substitution)
    for symbol, value in substitution.items():
        if value.free_symbols & set(substitution):
            raise ClaimError(f"equality hypotheses are circular at {symbol}")


def _show(expr: Any) -> str:
    return sympy.sstr(expr) if isinstance(expr, sympy.Basic) else str(expr)


# ---------------------------------------------------------------------------------------
# Side conditions: every divisor ≠ 0 and every radicand ≥ 0 must follow from the domains.

def _conditions_in(expr: sympy.Expr) -> set:
    found = set()
    for node in sympy.preorder_traversal(expr):
        if node.is_Pow and node.exp.is_number:
            if node.exp.is_negative:
                found.add(("nonzero", node.base))
            if node.exp.is_Rational and not node.exp.is_Integer:
                found.add(("nonnegative", node.base))
    return found


def _discharge(kind: str, expr: sympy.Expr, hyps: _Hypotheses, assumed: dict) -> str | None:
    """How ``expr`` is shown ≠ 0 (or ≥ 0) from domains and hypotheses, or None."""
    interval = bound(expr, hyps.intervals)
    if kind == "nonzero" and excludes_zero(interval):
        return f"interval bounds from domains and hypotheses: value in {interval.show()}"
    if kind == "nonnegative" and nonnegative(interval):
        return f"interval bounds from domains and hypotheses: value in {interval.show()}"
    for fact_kind, fact in hyps.facts:
        if sympy.cancel(fact - expr) == 0 and (kind == "nonnegative" or fact_kind == ">"):
            return "a hypothesis states it"
    if kind == "nonzero":
        factors = sympy.Mul.make_args(expr)
        if all(any(sympy.cancel(f - z) == 0 or sympy.cancel(f + z) == 0 for z in hyps.nonzero)
               or excludes_zero(bound(f, hyps.intervals)) for f in factors):
            return "hypothesis ≠ 0 (and interval bounds for the other factors)"
    with_assumptions = expr.xreplace(assumed)
    holds = with_assumptions.is_nonzero if kind == "nonzero" else with_assumptions.is_nonnegative
    if holds:
        return "SymPy's assumptions from the declared domains"
    return None


def _side_conditions(pairs: list[_Pair], recorded: set, hyps: _Hypotheses, assumed: dict) -> list[dict]:
    found = set()
    for kind, expr in recorded:
        found.add((kind, _apply_hypotheses(_exact(expr), hyps)))
    for pair in pairs:
        found |= _conditions_in(pair.lhs) | _conditions_in(pair.rhs)
    rows = []
    for kind, expr in sorted(found, key=lambda c: (c[0], sympy.default_sort_key(c[1]))):
        if expr.is_number and kind == "nonzero" and expr != 0:
            continue
        if expr.is_number and kind == "nonnegative" and expr >= 0:
            continue
        how = _discharge(kind, expr, hyps, assumed)
        relation = "≠ 0" if kind == "nonzero" else "≥ 0"
        rows.append({"condition": f"{math_text(expr)} {relation}", "kind": kind,
                     "discharged": how is not None, "by": how or "not shown"})
    return rows


# ---------------------------------------------------------------------------------------
# Deciding.

def _all_zero(differences) -> bool:
    return all(d == 0 for d in differences)


def _radical_rewrite(expr: sympy.Expr) -> sympy.Expr:
    """√(ab) → √a·√b and (x^a)^b → x^(ab): sound only for nonnegative bases (checked)."""
    return sympy.powdenest(sympy.expand_power_base(expr, force=True), force=True)


def _radicands_nonnegative(pairs: list[_Pair], hyps: _Hypotheses) -> list[str] | None:
    """Every base under a non-integer power, and each of its factors, shown ≥ 0; else None."""
    shown = []
    for pair in pairs:
        for side in (pair.lhs, pair.rhs):
            for node in sympy.preorder_traversal(side):
                if not (node.is_Pow and not node.exp.is_Integer):
                    continue
                parts = [node.base, *sympy.Mul.make_args(node.base)]
                parts += [p.base for p in list(parts) if p.is_Pow]
                for part in parts:
                    if not nonnegative(bound(part, hyps.intervals)):
                        return None
                    shown.append(f"{math_text(part)} ≥ 0")
    return sorted(set(shown))


def _only_field_operations(pairs: list[_Pair]) -> bool:
    """+, ·, powers and roots only: the forced radical rewrite is justified for nothing else."""
    return not any(side.atoms(sympy.Function) for p in pairs for side in (p.lhs, p.rhs))


def _try_prove(pairs: list[_Pair], hyps: _Hypotheses, assumed: dict) -> tuple[str, list] | None:
    """(method, extra side-condition rows) if an exact decision shows every pair equal."""
    if all(p.lhs == p.rhs for p in pairs):
        return "definitional", []
    if _all_zero(sympy.cancel(p.lhs - p.rhs) for p in pairs):
        return "normal form", []
    strong = [_Pair(p.lhs.xreplace(assumed), p.rhs.xreplace(assumed)) for p in pairs]
    if all(p.lhs == p.rhs for p in strong):
        return "definitional under assumptions (the declared domains)", []
    if _all_zero(sympy.cancel(p.lhs - p.rhs) for p in strong):
        return "normal form under assumptions (the declared domains)", []
    radicands = _radicands_nonnegative(strong, hyps) if _only_field_operations(strong) else None
    if radicands:
        rewritten = (sympy.cancel(_radical_rewrite(p.lhs) - _radical_rewrite(p.rhs)) for p in strong)
        if _all_zero(rewritten):
            rows = [{"condition": r, "kind": "nonnegative", "discharged": True,
                     "by": "interval bounds (needed by the rewrite √(ab) = √a·√b)"} for r in radicands]
            return "normal form under assumptions (radicals rewritten; radicands shown ≥ 0)", rows
    return None


@dataclass
class Prepared:
    """A claim made ready for a decision: its entry pairs, hypotheses sorted by use, symbols."""

    symbols: dict
    pairs: list
    shape: str
    recorded: set
    hyps: _Hypotheses
    assumed: dict
    substituted: list

    def verdict(self) -> Verdict:
        return Verdict(UNKNOWN, shape=self.shape, hypotheses_used=self.hyps.used,
                       lhs=_show_sides(p.lhs for p in self.pairs), rhs=_show_sides(p.rhs for p in self.pairs))

    def side_conditions(self) -> list:
        return _side_conditions(self.substituted, self.recorded, self.hyps, self.assumed)


def prepare(claim: Claim) -> Prepared:
    symbols = _symbols_of(claim.variables)
    pairs, shape, _, recorded = _sides(claim.lhs, claim.rhs)
    stray = set().union(*(p.lhs.free_symbols | p.rhs.free_symbols for p in pairs)) - set(symbols)
    if stray:
        raise ClaimError(f"the claim mentions undeclared symbols {sorted(map(str, stray))}")
    hyps = _prepare_hypotheses(claim.hypotheses, symbols)
    assumed = {s: sympy.Symbol(s.name, **v.domain.assumptions) for s, v in symbols.items()}
    hyps.intervals.update({assumed[s]: i for s, i in list(hyps.intervals.items()) if s in assumed})
    substituted = [_Pair(_apply_hypotheses(p.lhs, hyps), _apply_hypotheses(p.rhs, hyps)) for p in pairs]
    return Prepared(symbols, pairs, shape, recorded, hyps, assumed, substituted)


def decide(claim: Claim, max_points: int = 200, seed: int = 0) -> Verdict:
    prepared = prepare(claim)
    symbols, pairs, recorded = prepared.symbols, prepared.pairs, prepared.recorded
    hyps, assumed, substituted = prepared.hyps, prepared.assumed, prepared.substituted
    verdict = prepared.verdict()

    proof = _try_prove(substituted, hyps, assumed)
    if proof is not None:
        method, extra = proof
        if hyps.substitution:
            method += " after substituting " + ", ".join(
                f"{s} = {_show(v)}" for s, v in hyps.substitution.items())
        if hyps.rewrites:
            method += " under the hypotheses"
        rows = prepared.side_conditions()
        known = {r["condition"] for r in rows}
        verdict.side_conditions = rows + [r for r in extra if r["condition"] not in known]
        missing = [c["condition"] for c in verdict.side_conditions if not c["discharged"]]
        if not missing:
            verdict.status, verdict.method = PROVED, method
            return verdict
        verdict.method = method + " (where defined)"
        verdict.reason = ("the identity holds wherever both sides are defined, but the domains and "
                          "hypotheses do not show: " + "; ".join(missing) + ". State it as a hypothesis.")
        return verdict

    counterexample = _search_counterexample(pairs, recorded, symbols, hyps, max_points, seed)
    if counterexample is not None:
        verdict.status, verdict.method = REFUTED, "counterexample, checked exactly"
        verdict.counterexample = counterexample
        return verdict
    residual = _show(sympy.cancel(substituted[0].lhs - substituted[0].rhs))
    verdict.method = "none"
    verdict.reason = (f"no exact decision: the normal form of lhs − rhs is {_shorten(residual)}, not 0; "
                      f"and no counterexample among {max_points} candidate points (that is evidence, not proof)")
    return verdict


def _show_sides(entries) -> str:
    shown = [_show(e) for e in entries]
    return shown[0] if len(shown) == 1 else "[" + ", ".join(shown) + "]"


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + " …"


# ---------------------------------------------------------------------------------------
# Refuting: candidate points, each checked exactly.

def _candidate_points(free: list, symbols: dict, count: int, seed: int):
    rng = random.Random(seed)
    samples = {s: symbols[s].domain.samples for s in free}
    yield {s: samples[s][0] for s in free}
    for i in range(count - 1):
        yield {s: (samples[s][i % len(samples[s])] if i < 8 else rng.choice(samples[s])) for s in free}


def _in_domain(value: sympy.Expr, variable: Variable) -> bool:
    interval = variable.domain.interval
    if not is_real_number(value):
        return False
    if variable.domain.integer and not value.is_integer:
        return False
    above = value > interval.lo or (value == interval.lo and not interval.lo_open)
    below = value < interval.hi or (value == interval.hi and not interval.hi_open)
    return bool(above and below)


def _holds(relation: sympy.Basic, point: dict) -> bool:
    value = relation.xreplace(point)
    if value in (sympy.true, sympy.false):
        return bool(value)
    difference = value.lhs - value.rhs  # decide the sign with certified intervals
    if isinstance(value, sympy.Ne):
        return certainly_nonzero(difference)
    if isinstance(value, sympy.Eq) or not is_real_number(difference):
        return False
    try:
        box = enclose(difference)
    except Exception:
        return False
    strict = isinstance(value, (sympy.StrictGreaterThan, sympy.StrictLessThan))
    positive_side = isinstance(value, (sympy.StrictGreaterThan, sympy.GreaterThan))
    return (box.a > 0 or (not strict and box.a >= 0)) if positive_side else (box.b < 0 or (not strict and box.b <= 0))


def _defined_at(recorded: set, point: dict) -> bool:
    for kind, expr in recorded:
        value = _exact(expr).xreplace(point)
        if kind == "nonzero" and not certainly_nonzero(value):
            return False
        if kind == "nonnegative" and not (is_real_number(value) and _holds(sympy.Ge(value, 0), {})):
            return False
    return True


def _search_counterexample(pairs, recorded, symbols, hyps, max_points, seed) -> dict | None:
    free = [s for s in symbols if s not in hyps.substitution]
    for pair in pairs:  # a counterexample must make every divisor ≠ 0 and every radicand ≥ 0
        recorded = recorded | _conditions_in(pair.lhs) | _conditions_in(pair.rhs)
    for base in _candidate_points(free, symbols, max_points, seed):
        point = dict(base)
        point.update({s: v.xreplace(base) for s, v in hyps.substitution.items()})
        if not all(_in_domain(point[s], symbols[s]) for s in point):
            continue
        if not all(_holds(h, point) for h in hyps.all) or not _defined_at(recorded, point):
            continue
        for index, pair in enumerate(pairs):
            left, right = pair.lhs.xreplace(point), pair.rhs.xreplace(point)
            if not (is_real_number(left) and is_real_number(right)):
                break  # undefined here: not a counterexample
            difference = left - right
            if certainly_nonzero(difference):
                return _describe_counterexample(point, symbols, left, right, difference, index, len(pairs))
    return None


def _value(x: sympy.Expr) -> dict:
    exact = _show(x)
    approx = exact if x.is_Rational and x.q == 1 else f"{float(sympy.N(x, 20)):.10g}"
    return {"exact": exact, "approx": approx}


def _describe_counterexample(point, symbols, left, right, difference, index, count) -> dict:
    values = {}
    for symbol, value in point.items():
        variable = symbols[symbol]
        label = variable.name if not variable.is_tensor or variable.value.is_generic else str(symbol)
        if variable.is_tensor and variable.value.is_generic:
            label += " (every entry)"
        values[label] = _value(value)
    return {
        "values": values,
        "entry": None if count == 1 else index,
        "lhs": _value(left),
        "rhs": _value(right),
        "difference": _value(difference),
    }
