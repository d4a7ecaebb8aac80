"""Authoring theorems: what a theorem file uses, and how a theorem becomes data.

A theorem is a function that receives ``Given`` (where it declares its variables, each with
a domain, and its hypotheses), calls the optimizers of ``optim/`` on them, and returns a
form: ``equation(lhs, rhs)``, ``inequality``, ``induction``, ``simulation`` or
``for_every``.  The decorator ``@theorem`` registers it with its Lean-style name, its
statement in math notation, and the verdict it must get::

    @theorem("Optim.SGD.update_eq", statement="(update s p g).params = p − s.lr · g")
    def _(x: Given):
        \"\"\"SGD is definitionally p - lr * g.\"\"\"
        state = sgd.State(lr=x.real("lr"))
        params, grads = x.tensor("params"), x.tensor("grads")
        return equation(sgd.update(state, params, grads)[1],
                        params - grads * state.lr)  # reference side: the seed's equation

The left side must come from running ``optim/``; a right side that is a formula is a
*reference* (the seed's or a paper's equation), never a copy of the optimizer.

``build_theorem`` runs the build on every execution path (``symbolic.paths``) and returns
only data (``symbolic.obligation.TheoremData``): this module is the untrusted side, and
runs in a child process that the decider never shares.
"""
from __future__ import annotations

import inspect
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy

from optim.context import context_of
from proofs.forms import Form, Goal
from proofs.forms.equation import Equation, Inequality, equation, inequality
from proofs.forms.for_every import ForEvery, for_every
from proofs.forms.induction import Induction, induction
from proofs.forms.simulation import Simulation, simulation
from symbolic.domains import (CLOSED_UNIT, DOMAINS, NATURAL, NONNEGATIVE, POSITIVE, REAL, UNIT, Domain,
                              plain_assumptions)
from symbolic.flatten import compare
from symbolic.notation import shortened
from symbolic.obligation import ABSOLUTE, ENTRY_ERROR_RATIO, NONNEGATIVE_RATIO, RATIO, RELATIVE, ROUNDING_ERROR, ROUNDING_NOTES, ROW_SUM_RATIO, SUM_ERROR_BOUND, AT_MOST, EQUAL, LESS, NONNEGATIVE as AT_LEAST_ZERO, NONZERO, Condition, Obligation, \
    TheoremData, VariableSpec
from proofs.runner import MAX_TIME_LIMIT, valid_time_limit
from symbolic.paths import explore, note_domain
from symbolic.propagation import multiplied_out
from symbolic.tensor import Sym, SymBool, SymScalar, SymTensor, is_row_shape, to_sympy

PROVED, REFUTED, UNKNOWN = "PROVED", "REFUTED", "UNKNOWN"
VERDICTS = (PROVED, REFUTED, UNKNOWN)

__all__ = ["theorem", "Given", "equation", "inequality", "induction", "simulation", "for_every",
           "Equation", "Inequality", "Induction", "Simulation", "ForEvery", "Theorem", "TheoremError",
           "PROVED", "REFUTED", "UNKNOWN", "registry", "build_theorem"]


class TheoremError(ValueError):
    """A theorem that cannot be built: bad declaration, duplicate name, wrong return value."""


@dataclass(frozen=True)
class Variable:
    """A theorem variable: a scalar symbol, or a tensor of symbols (generic or explicit)."""

    name: str
    domain: Domain
    value: object  # SymScalar or SymTensor
    symbols: tuple = field(default=())

    @property
    def is_tensor(self) -> bool:
        return isinstance(self.value, SymTensor)

    def describe(self) -> str:
        if not self.is_tensor:
            return f"{self.name} ∈ {self.domain.notation}"
        shape = ("every shape" if self.value.is_generic else _row_description(self.value.shape) if self.value.is_row
                 else f"shape {self.value.shape}")
        return f"{self.name}: tensor ({shape}), entries in {self.domain.notation}"


def _row_note(shape: tuple) -> str:
    """A row variable's note: "length n: its entry at the index i", or for a matrix's row factor
    "shape (m, 1): its entry at the index i" (the second check reads the shape from it)."""
    from symbolic.tensor import row_indices
    index = ", ".join(letter for letter, _ in row_indices(shape))
    return f"{_row_description(shape)}: its entry at the index {index}"


def _row_description(shape: tuple) -> str:
    """"length n" for a row, "shape (m, n)" for a matrix of symbolic lengths."""
    return f"length {shape[0]}" if len(shape) == 1 else f"shape ({', '.join(map(str, shape))})"


def make_variable(name: str, domain: Domain, shape: tuple | None = None, tensor: bool = False) -> Variable:
    assumptions = plain_assumptions(domain)
    if tensor:
        value = SymTensor.symbols(name, shape, **assumptions)
        return Variable(name, domain, value, tuple(value.entries))
    value = SymScalar.symbol(name, **assumptions)
    return Variable(name, domain, value, (value.expr,))


def _relations(h: Any) -> list[tuple]:
    """A hypothesis as (SymPy relation, definedness conditions) pairs: one, or one per entry of
    an explicit tensor of conditions."""
    if isinstance(h, SymBool):
        return [(h.expr, h.conditions)]
    if isinstance(h, SymTensor) and all(_is_relation(e) for e in h.entries):
        return [(e, h.conditions) for e in h.entries]
    if isinstance(h, bool):
        return [(sympy.true if h else sympy.false, frozenset())]
    if isinstance(h, Sym) or not _is_relation(h):
        raise TheoremError(f"a hypothesis must be a relation (==, !=, <, ≤, >, ≥), got {h!r}")
    partial = _partial_operations(h)
    if partial:
        raise TheoremError(f"the SymPy hypothesis {h} holds {partial[0]}, a division, root or power whose "
                           "definedness SymPy does not record: write it with Python's operators on the "
                           "theorem's values (x.assume(ctx.sqrt(g) > 1)), which keep it")
    return [(h, frozenset())]


def _partial_operations(h: sympy.Basic) -> list:
    """Divisions, roots and powers that are not natural in a raw SymPy hypothesis: SymPy would
    not record where they are defined (inside an Or, nothing says which side needs it)."""
    return [node for node in sympy.preorder_traversal(h)
            if isinstance(node, sympy.Pow) and not (node.exp.is_Integer and node.exp >= 0)]


def _is_relation(h: Any) -> bool:
    return isinstance(h, sympy.logic.boolalg.Boolean) and not isinstance(h, sympy.Expr)


_DECLARED = object()   # a field left to its declaration


def _present(declaration: Any, values: dict) -> bool:
    """Whether an arbitrary state has this buffer: not one the first update creates, and not one
    an option left out (a flag that is off, a hyperparameter given as 0; a symbolic one may be
    nonzero, so the buffer is there)."""
    if declaration.initial is None:
        return False
    if declaration.when is None:
        return True
    option = values[declaration.when]
    return bool(option) if isinstance(option, (bool, int, float)) else True


class Given:
    """The variables and hypotheses of one theorem, declared as the theorem is built."""

    def __init__(self, concrete: Any = None) -> None:
        self.variables: list[Variable] = []
        self.hypotheses: list[sympy.Basic] = []
        self.conditions: set = set()     # definedness of what the hypotheses compute
        # The second check (proofs.crosscheck) binds every variable to exact numbers; a
        # hypothesis that is false there puts the point outside the statement.
        self.concrete = concrete
        self.violated: list = []
        self.rounding_errors: set = set()   # the δ of x.rounding: relative errors of one operation each
        self.sum_bounds: set = set()        # the Γ of x.rounding: error bounds of sums over rows
        self.exact_run_demands: set = set()  # rounding.exact(): the exact run takes this path's branches
        self.lemmas: list = []               # rounding.error_at_most(): (kind, exact value, its error bound)
        self.row_sum_ratios: set = set()     # the ρ of rounding.row_sum_error_at_most
        self.row_sum_lemmas: list = []       # (ρ, the exact summand, its error bound e): the lemmas declared
        self.entry_error_ratios: set = set()  # the κ of rounding.entry_error_ratio
        self.row_sum_pairs: list = []        # ((label, |ŝ − s₀|, e), ŝ's conditions): each lemma a row sum used

    def _declare(self, name: str, domain: Domain, tensor: bool = False, shape: tuple | None = None):
        if not isinstance(name, str) or not name.isidentifier():
            raise TheoremError(f"a variable name must be an identifier, got {name!r}")
        if any(v.name == name for v in self.variables):
            raise TheoremError(f"variable {name!r} is declared twice")
        variable = make_variable(name, domain, shape=shape, tensor=tensor)
        taken = {s.name for v in self.variables for s in v.symbols}
        clash = sorted(s.name for s in variable.symbols if s.name in taken)
        if clash:  # tensor m of shape (2,) has entries m_0, m_1: a scalar m_1 would alias one
            raise TheoremError(f"variable {name!r} would reuse the symbol(s) {clash} of another variable")
        self.variables.append(variable)
        if self.concrete is None:
            for symbol in variable.symbols:
                note_domain(symbol, domain.interval)
            if tensor and domain.interval.lo >= 0:
                from symbolic import tensor as tensors
                tensors.NONNEGATIVE_ENTRIES.update(variable.symbols)
        return variable.value if self.concrete is None else self._concrete_value(variable)

    def _concrete_value(self, variable: Variable) -> Any:
        values = self.concrete
        try:
            if not variable.is_tensor:
                return SymScalar(values.scalars[variable.name])
            if variable.value.is_row and len(variable.value.shape) > 1:   # (m, 1) of a point's (2, 3): (2, 1)
                shape = tuple(1 if d == 1 else k for d, k in zip(variable.value.shape, values.shape))
                return SymTensor(values.tensors[variable.name][:math.prod(shape)], shape)
            if variable.value.is_generic or variable.value.is_row:
                return SymTensor(values.tensors[variable.name], values.shape)
            return SymTensor([values.scalars[s.name] for s in variable.symbols], variable.value.shape)
        except KeyError as missing:
            raise TheoremError(f"the second check has no value for {missing}: the theorem declared a "
                               "variable the symbolic build did not") from None

    # scalars
    def real(self, name: str) -> SymScalar: return self._declare(name, REAL)
    def positive(self, name: str) -> SymScalar: return self._declare(name, POSITIVE)
    def nonnegative(self, name: str) -> SymScalar: return self._declare(name, NONNEGATIVE)
    def unit(self, name: str) -> SymScalar:
        """A value in [0, 1): a β or momentum coefficient as torch.optim accepts it."""
        return self._declare(name, UNIT)
    def closed_unit(self, name: str) -> SymScalar: return self._declare(name, CLOSED_UNIT)
    def negative(self, name: str) -> SymScalar: return self._declare(name, DOMAINS["negative"])
    def nonzero(self, name: str) -> SymScalar: return self._declare(name, DOMAINS["nonzero"])
    def natural(self, name: str) -> SymScalar: return self._declare(name, NATURAL)

    def scalar(self, name: str, domain: str) -> SymScalar:
        """A scalar in any domain of ``symbolic.domains.DOMAINS`` by name."""
        if domain not in DOMAINS:
            raise TheoremError(f"unknown domain {domain!r}; one of {sorted(DOMAINS)}")
        return self._declare(name, DOMAINS[domain])

    # tensors
    def tensor(self, name: str, entries: str = "real", shape: tuple | None = None,
               length: str | None = None) -> SymTensor:
        """A tensor of every shape (``shape=None``: one generic entry), of an explicit shape, or a
        row of a symbolic length (``length="n"``: a 1-d tensor of n ≥ 1 entries, its entry at a
        generic index i; sums over it stay symbolic, and rows of one length name share it), or of
        symbolic lengths (``shape=("m", "n")``, ``("m", 1)``: its entry at the generic index
        (i, j), sums along an axis and over all of it stay symbolic), with entries in a domain of
        ``symbolic.domains.DOMAINS`` (real, positive, …)."""
        if entries not in DOMAINS or DOMAINS[entries].integer:
            raise TheoremError(f"tensor entries must be one of "
                               f"{sorted(k for k, d in DOMAINS.items() if not d.integer)}, got {entries!r}")
        if isinstance(shape, tuple) and any(isinstance(d, (str, sympy.Symbol)) for d in shape):
            shape = self._symbolic_shape(shape)
        elif shape is not None and (not isinstance(shape, tuple) or not all(isinstance(d, int) and d > 0 for d in shape)):
            raise TheoremError(f"a tensor's shape must be a tuple of positive ints, got {shape!r}")
        if length is not None:
            if shape is not None:
                raise TheoremError("give a tensor a shape or a length, not both")
            shape = (self._length(length),)
        return self._declare(name, DOMAINS[entries], tensor=True, shape=shape)

    def _symbolic_shape(self, shape: tuple) -> tuple:
        """("m", "n") or ("m", 1) as lengths' symbols: each name declared once (``_length``)."""
        named = tuple(self._length(d.name if isinstance(d, sympy.Symbol) else d) if isinstance(d, (str, sympy.Symbol))
                      else d for d in shape)
        if not is_row_shape(named):
            raise TheoremError(f"a tensor of symbolic lengths has 1 to 3 axes, each a length's name or 1, no name "
                               f"twice (a square matrix's two indices would be one), got {shape!r}")
        return named

    def _length(self, name: str) -> sympy.Symbol:
        """The symbol of a rows' length, declared once (ℕ ≥ 1) and shared by the rows naming it."""
        if not isinstance(name, str) or not name.isidentifier():
            raise TheoremError(f"a length is named by an identifier, got {name!r}")
        for v in self.variables:
            if v.name == name:
                if v.domain is not DOMAINS["length"]:
                    raise TheoremError(f"{name!r} is already a variable, not a length")
                return v.symbols[0]
        self._declare(name, DOMAINS["length"])
        return self.variables[-1].symbols[0]

    def rounding(self, u: Any, python_scalars: bool = False) -> "_Rounding":
        """``with x.rounding(u):`` the code below runs in the standard rounding model: every
        arithmetic result (each entry of a tensor, each scalar; + − × ÷ ** √) is its exact value
        times (1 + δ_k), a fresh variable δ_k with −u ≤ δ_k ≤ u declared for it.  What the code
        computes there is the float evaluation, to compare with the exact one computed outside.

        ``python_scalars=True`` models how NumPy runs it: Python scalar arithmetic rounds at
        float64's 2⁻⁵³, each scalar that meets a tensor is first rounded to the tensor's dtype
        (at u), and ``round_float32`` at float32's 2⁻²⁴ — so u ≥ 2⁻⁵³ covers both dtypes.

        A power rounds at 2u (libm's pow is within 1 ulp).  A sum over a row of length n rounds
        each entry and its additions, with an error bound Γ ≤ γ_{n−1} (``summation_bound(n)``):
        relative to the sum where its summand is row values of one sign times roundings, relative
        to Σ|a| where the row values a have no shown sign (they may cancel).  Anything the model has no
        sound error for raises while the block runs (a matrix product, a sum along an axis, a
        schedule's cos).  ``exact(value)`` gives the exact run of what the block computed, and
        demands that the exact run takes the branches the rounded one took (or, with
        ``branches="assumed"``, makes it a hypothesis)."""
        return _Rounding(self, u, python_scalars)

    def matrix(self, rows: list) -> SymTensor:
        """An explicit 2-d tensor whose entries are the theorem's scalars, values computed from
        them, or numbers: ``x.matrix([[s1, 0], [0, s2]])`` (each entry keeps where it is defined)."""
        if not rows or not all(isinstance(r, (list, tuple)) and len(r) == len(rows[0]) > 0 for r in rows):
            raise TheoremError("a matrix is a non-empty list of rows of one length")
        if any(isinstance(e, SymTensor) for r in rows for e in r):
            raise TheoremError("a matrix's entries are scalars, not tensors")
        scalars = [e if isinstance(e, SymScalar) else SymScalar(e) for r in rows for e in r]
        return SymTensor([e.expr for e in scalars], (len(rows), len(rows[0])),
                         frozenset().union(*(e.ops for e in scalars)) | {"matrix"},
                         frozenset().union(*(e.conditions for e in scalars)))

    def multiplied_out(self, value: Any) -> Any:
        """``value`` (a scalar) with its products of sums multiplied out — the form a claimed
        float error bound's coefficients take, so that each term meets the error analysis's
        (``symbolic.propagation.dominated`` groups by products, and keeps a u-free sum whole)."""
        if isinstance(value, SymTensor) and value.is_row:     # a row's generic entry (a bound over a matrix)
            return SymTensor((multiplied_out(value.entries[0]),), value.shape, value.ops, value.conditions)
        if not isinstance(value, SymScalar):
            raise TheoremError("multiplied_out takes a scalar or a row computed from the theorem's variables")
        return SymScalar(multiplied_out(value.expr), value.ops, value.conditions)

    def fresh(self, name: str, like: Any, entries: str = "real") -> Any:
        """A new variable for a form (an arbitrary field of a state): a tensor of ``like``'s
        shape, or a scalar, with values in ``entries``; named ``name``, or ``name_2``, … where
        that name or one of its entry symbols is taken."""
        taken = {v.name for v in self.variables} | {str(s) for v in self.variables for s in v.symbols}
        candidate, n = name, 1
        while candidate in taken or any(s.startswith(candidate + "_") for s in taken):
            n += 1
            candidate = f"{name}_{n}"
        if isinstance(like, SymTensor):
            shape = like.shape
            if self.concrete is not None and candidate in self.concrete.tensors:
                shape = None  # generic in the symbolic build; the second check binds it at its shape
            return self.tensor(candidate, entries, shape)
        return self.scalar(candidate, entries)

    # the library's optimizers, from the declarations of their States (optim.fields)
    def state(self, family: Any, shape: tuple | None = None, length: str | None = None, **given: Any) -> Any:
        """An arbitrary state of an optimizer family (``x.state(optim.adam)``), from the
        declarations of its ``State``: every real hyperparameter, scalar and buffer is a fresh
        variable named as its field, in its declared domain (ε > 0, β ∈ [0, 1), t ∈ ℕ, v ≥ 0, …),
        declared in field order; every flag takes its default; a buffer that an option leaves out
        (Adam's v_max without amsgrad, a momentum buffer with momentum = 0) or that the first update
        creates (SGD's momentum buffer) is None.  ``given`` sets fields: a domain name (a str)
        declares that variable in that domain instead (``lr="positive"``, ``buf="real"``); any
        other value is the field's value (``amsgrad=True``, ``weight_decay=0.0``, ``buf=None``).
        ``shape``: the state of a param of that explicit shape — every buffer an explicit tensor of
        its declared shape for it (Adafactor's row and column factors), or None where that param
        has no such buffer; without it every buffer is generic (every shape), which a family whose
        buffers follow the param's shape cannot have.  ``length``: the state of a row of that
        symbolic length (``x.tensor(name, length="n")``), every buffer a row of it."""
        if length is not None:
            if shape is not None:
                raise TheoremError("give a state a shape or a length, not both")
            shape = (self._length(length),)
        elif isinstance(shape, tuple) and any(isinstance(d, str) for d in shape):
            shape = self._symbolic_shape(shape)
        return family.State(**self._declared(family, given, state=True, shape=shape))

    def hyperparameters(self, family: Any, **given: Any) -> dict:
        """The arguments of ``family.init`` as ``state`` declares them: every real hyperparameter
        (and init-only argument) a fresh variable in its declared domain, flags at their defaults;
        ``given`` as for ``state``.  ``family.init(params, **x.hyperparameters(family))``."""
        return self._declared(family, given, state=False)

    def _declared(self, family: Any, given: dict, state: bool, shape: tuple | None = None) -> dict:
        from optim import fields

        declared = fields.declarations(family.State)
        entries = declared.fields if state else declared.arguments
        unknown = sorted(set(given) - set(entries))
        if unknown:
            raise TheoremError(f"{family.__name__}.State has no {unknown}: its fields are {list(entries)}")
        values: dict = {}
        for name, declaration in entries.items():
            value = given.get(name, _DECLARED)
            domain = value if isinstance(value, str) else declaration.domain
            if declaration.kind == fields.FLAG:
                values[name] = declaration.default if value is _DECLARED else value
            elif not isinstance(value, str) and value is not _DECLARED:
                values[name] = value
            elif declaration.kind != fields.BUFFER:
                values[name] = self.scalar(name, domain)
            elif value is _DECLARED and not _present(declaration, values):
                values[name] = None
            elif shape is None and declaration.shape is not None:
                raise TheoremError(f"{family.__name__}'s {name} is not shaped like the params: build the "
                                   f"state of a param of an explicit shape, x.state({family.__name__}, shape=(…))")
            elif shape is not None and declaration.shape_for(shape) is None:
                if value is not _DECLARED:
                    raise TheoremError(f"a param of shape {shape} has no {name} buffer")
                values[name] = None
            elif shape is not None and is_row_shape(shape):
                buffer = declaration.shape_for(shape)     # Adafactor's row factor (m, 1) of a matrix (m, n)
                if not is_row_shape(buffer):
                    raise TheoremError(f"{name} of a param of shape {shape} has the shape {buffer}: give the state an "
                                       "explicit shape")
                values[name] = self.tensor(name, entries=domain, shape=buffer)
            else:
                values[name] = self.tensor(name, entries=domain,
                                           shape=None if shape is None else declaration.shape_for(shape))
        return values

    def assume(self, *hypotheses: Any) -> None:
        """Hypotheses: relations on the variables, written with Python's operators
        (``x.assume(lr > 0)``, ``x.assume(g * prev > 0)`` for every entry of a tensor) or as SymPy
        relations (``sympy.Eq(state.weight_decay, 0)``).  A hypothesis computed with a division
        or a root holds only where that is defined: ``x.assume(c == b / b)`` also assumes b ≠ 0."""
        for h in hypotheses:
            for relation, conditions in _relations(h):
                if self.concrete is not None:
                    if relation is not sympy.true:
                        self.violated.append(relation)
                    continue
                if relation.has(sympy.Float):
                    raise TheoremError(f"the hypothesis {relation} holds a rounded SymPy Float: write exact numbers")
                if relation is not sympy.true:
                    self.hypotheses.append(relation)
                for condition in sorted(conditions, key=lambda c: (c.kind, sympy.default_sort_key(c.expr))):
                    self._assume_defined(condition)

    def _assume_defined(self, condition: Condition) -> None:
        """Part of a hypothesis: where it is defined.  A divisor ≠ 0 or a radicand ≥ 0 is
        assumed with it; a power's definedness, not a single relation, is demanded instead."""
        if condition.kind == NONZERO:
            self.hypotheses.append(sympy.Ne(condition.expr, 0))
        elif condition.kind == AT_LEAST_ZERO:
            self.hypotheses.append(sympy.Ge(condition.expr, 0))
        else:
            self.conditions.add(condition)

    def specs(self) -> list[VariableSpec]:
        def spec(v: Variable) -> VariableSpec:
            if v.is_tensor and v.value.is_row:   # sampled as a generic tensor by the second check
                return VariableSpec(v.name, v.domain.name, tuple(v.symbols), True, None,
                                    note=_row_note(v.value.shape))
            return VariableSpec(v.name, v.domain.name, tuple(v.symbols), v.is_tensor,
                                v.value.shape if v.is_tensor else None,
                                note=ROUNDING_ERROR if v.name in self.rounding_errors else
                                SUM_ERROR_BOUND if v.name in self.sum_bounds else
                                ROW_SUM_RATIO if v.name in self.row_sum_ratios else
                                ENTRY_ERROR_RATIO if v.name in self.entry_error_ratios else "")
        return [spec(v) for v in self.variables]


class _Rounding:
    FLOAT64, FLOAT32 = sympy.Rational(1, 2**53), sympy.Rational(1, 2**24)

    def __init__(self, given: "Given", u: Any, python_scalars: bool):
        self.given, self.u, self.count = given, u, 0
        # round_float32 rounds at float32's unit whatever u is (a float64 u alone would miss it)
        self.units = ({"tensor": u, "convert": u, "scalar": self.FLOAT64, "float32": self.FLOAT32}
                      if python_scalars else {"tensor": u, "scalar": u, "float32": self.FLOAT32})
        self.bound_of: dict = {}        # each δ -> the u of its box [−u, u]
        self.gammas: dict = {}          # a sum's length n -> its Γ (summation_bound)

    def fresh(self, kind: str, like: sympy.Expr | None = None, terms: Any = None, ulps: int = 1,
              summand: sympy.Expr | None = None, conditions: frozenset = frozenset()) -> Any:
        """A new δ for one rounding of ``kind``; ``like=δ``: a copy of δ, with its box; ``kind="sum"``:
        the relative error of a sum of ``terms`` values of one sign, |θ| ≤ γ_{n−1} (stated with
        its hypothesis (n − 1)·u < 1, Higham's Lemma 3.1, whatever the order NumPy adds in);
        ``kind="row sum"``: (s₀, φ) for a sum over a row of ``summand`` that a lemma covers, or None."""
        from symbolic import tensor
        if kind == "row sum":
            return self._row_sum(summand, terms, conditions)
        tensor.ROUNDING = None          # declaring δ and its bounds is itself no rounded arithmetic
        try:
            if like is not None:
                unit = self.bound_of[like]
            elif kind == "sum":
                unit = self._summation_bound(terms)
            elif kind == "sign":        # a signed row sum's σ (symbolic.tensor._signed_sum)
                unit = sympy.Integer(1)
            else:
                unit = self.units.get(kind)
                if unit is not None and ulps != 1:   # a power: libm's pow is within 1 ulp, 2u
                    unit = ulps * unit
            if unit is None:
                return None
            return self._declare_error(unit)
        finally:
            tensor.ROUNDING = self.fresh

    def _declare_error(self, unit: Any) -> sympy.Expr:
        self.count += 1
        delta = self.given.real(f"delta{self.count}")
        self.given.rounding_errors.add(f"delta{self.count}")
        self.given.assume(-unit <= delta, delta <= unit)
        self.bound_of[delta.expr] = unit
        from symbolic import tensor
        tensor.ROUNDING_ERRORS.add(delta.expr)
        return delta.expr

    def row_sum_error_at_most(self, summand: Any, bound: Any, name: str = "rho") -> SymScalar:
        """A lemma for a sum over a row whose summand's rounding does not factor out of the row's
        values (LAMB's ‖u‖: each uᵢ a signed sum, rounded): ``summand`` is the summand's exact
        value s₀ (a row, ≥ 0: ``u * u``) and ``bound`` e (a row, without δ) a bound on each
        entry's error, |ŝᵢ − s₀ᵢ| ≤ eᵢ.  Returns ρ, a new variable ≥ 0 with the hypothesis
        Σ e ≤ ρ·Σ s₀.  A sum the code takes over such a summand is then Σ s₀·(1 + φ), a new
        rounding error with |φ| ≤ ρ + Γ(1 + ρ), Γ the summation's γ_{n−1} bound: the entries
        move the sum by at most Σ e ≤ ρ·Σ s₀, and the additions by at most Γ·Σ|ŝ| ≤ Γ(1 + ρ)·Σ s₀
        (Higham's (3.4), any order, any signs).  Nothing is trusted: each sum that uses the lemma
        gives the theorem an obligation of its own, |ŝ − s₀| ≤ e for the summand as the code
        rounded it, every δ in its box, under the theorem's hypotheses alone (no path's conditions:
        the model every path rests on must hold for every input); and s₀ ≥ 0 is a condition shown
        like a radicand's."""
        from symbolic import tensor
        if not (isinstance(summand, SymTensor) and isinstance(bound, SymTensor) and summand.is_row
                and bound.is_row and summand.shape == bound.shape):
            raise TheoremError("row_sum_error_at_most takes a row's summand and a row of bounds of its length")
        deltas = self._deltas()
        if (summand.entries[0].free_symbols | bound.entries[0].free_symbols) & deltas:
            raise TheoremError("a row sum's lemma states the exact summand and a bound without rounding errors δ "
                               "(compute them outside the block, or with rounded.exact)")
        before, tensor.ROUNDING = tensor.ROUNDING, None
        try:
            rho = self.given.nonnegative(name)
            self.given.row_sum_ratios.add(name)
            self.given.assume(bound.sum() <= rho * summand.sum())
        finally:
            tensor.ROUNDING = before
        self.given.conditions |= set(summand.conditions) | set(bound.conditions) | {
            Condition(AT_LEAST_ZERO, summand.entries[0], origin="a row sum's lemma: its exact summand is ≥ 0")}
        self.given.row_sum_lemmas.append((rho, summand.entries[0], bound.entries[0]))
        return rho

    def entry_error_ratio(self, value: Any, bound: Any, name: str = "kappa", nonnegative: bool = False) -> SymScalar:
        """A lemma for a rounded value whose error is bounded relative to other values, not to its
        own (Adafactor's lerp of g² and V, V + w·(g² − V): a signed difference, rounded): ``value``
        is X (a row, a tensor of every shape, or a scalar: its exact run where it was computed in
        this block) and ``bound`` E (δ-free) a bound on |X̂ − X|.  Returns κ, a new variable ≥ 0 with the hypothesis
        E ≤ κ·|X| (at every entry of a row): the inputs give it (``make precision`` takes the
        least).  The error analysis shows |X̂ − X| ≤ E where it meets a value equal to X, as for
        ``error_at_most`` — never assumed — and then carries X̂ = X·(1 + φ), |φ| ≤ κ, a relative
        bound the rules for quotients, roots and maxima need.  ``nonnegative``: X ≥ 0 is a
        condition, shown like a radicand's, and X̂ keeps it (κ < 1)."""
        from symbolic import tensor
        elementwise = isinstance(value, SymTensor) and (value.is_row or value.is_generic)   # one entry stands for each
        if not (isinstance(value, SymScalar) or elementwise) or \
                isinstance(bound, SymTensor) and not (isinstance(value, SymTensor) and bound.shape == value.shape):
            raise TheoremError("entry_error_ratio takes a row, a tensor of every shape or a scalar, and a bound shaped "
                               "like it (or a scalar)")
        exact_value, error = self._exact_and_bound(value, bound)
        exact = _entry_of(exact_value)
        before, tensor.ROUNDING = tensor.ROUNDING, None
        try:
            kappa = self.given.nonnegative(name)
            self.given.entry_error_ratios.add(name)
            self.given.assume(bound <= kappa * context_of(exact_value).abs(exact_value))  # where both are defined
        finally:
            tensor.ROUNDING = before
        if nonnegative:
            self.given.conditions.add(Condition(AT_LEAST_ZERO, exact, origin="a ratio lemma's value is ≥ 0"))
        self.given.lemmas.append((NONNEGATIVE_RATIO if nonnegative else RATIO, exact, (error, kappa.expr)))
        return kappa

    def _row_sum(self, summand: sympy.Expr, terms: Any, conditions: frozenset) -> tuple | None:
        from symbolic import tensor
        zero = {d: sympy.Integer(0) for d in summand.free_symbols & self._deltas()}
        at_zero = summand.xreplace(zero)
        found = [lemma for lemma in self.given.row_sum_lemmas if sympy.expand(at_zero - lemma[1]) == 0]
        if not found:
            return None
        rho, exact, bound = found[0]
        before, tensor.ROUNDING = tensor.ROUNDING, None
        try:
            gamma = self._summation_bound(terms)
            phi = self._declare_error(rho + gamma + gamma * rho)   # multiplied out: a claim names each term
        finally:
            tensor.ROUNDING = before
        self.given.row_sum_pairs.append((("|ŝᵢ − sᵢ| ≤ eᵢ", sympy.Abs(summand - exact), bound), frozenset(conditions)))
        return exact, phi

    def within(self, value: Any, bound: Any) -> Any:
        """A value known only to within ``bound`` of ``value`` (a row and a δ-free row of bounds of
        its shape): value + η·bound, η a new variable in [−1, 1] that, like a δ, stands for each
        entry's own.  Any float input X̂ with |X̂ − X| ≤ |B| is such a value: a contract shown on
        it holds for every one (Newton–Schulz's later steps, whose input is the last step's float
        result).  ``exact`` takes η = 0: the value itself."""
        from symbolic import tensor
        if not (isinstance(value, SymTensor) and isinstance(bound, SymTensor) and value.is_row
                and bound.shape == value.shape):
            raise TheoremError("within takes a row (a tensor of symbolic lengths) and a row of bounds of its shape")
        deltas = self._deltas()
        if (value.entries[0].free_symbols | bound.entries[0].free_symbols) & deltas:
            raise TheoremError("within takes an exact value and a bound without rounding errors δ")
        before, tensor.ROUNDING = tensor.ROUNDING, None
        try:
            eta = self._declare_error(sympy.Integer(1))
        finally:
            tensor.ROUNDING = before
        return SymTensor((value.entries[0] + eta * bound.entries[0],), value.shape, value.ops | bound.ops | {"within"},
                         value.conditions | bound.conditions)

    def summation_bound(self, terms: Any) -> SymScalar:
        """Γ, the bound on the relative error of a sum of ``terms`` values of one sign (a row's
        length n): a variable with 0 ≤ Γ ≤ γ_{n−1} = (n − 1)u/(1 − (n − 1)u), the bound each such
        sum's rounding error θ, −Γ ≤ θ ≤ Γ, is stated with — so a claim bounds it with Γ."""
        from symbolic import tensor
        before, tensor.ROUNDING = tensor.ROUNDING, None
        try:
            return self._summation_bound(terms)
        finally:
            tensor.ROUNDING = before

    def _summation_bound(self, terms: Any) -> SymScalar:
        n = to_sympy(terms)
        if n not in self.gammas:
            n_u = SymScalar((n - 1) * to_sympy(self.units["tensor"]))
            name = f"gamma{len(self.gammas) + 1}"
            gamma = self.given.real(name)
            self.given.sum_bounds.add(name)
            self.given.assume(n_u < 1, gamma >= 0, gamma <= n_u / (1 - n_u))
            self.gammas[n] = gamma
        return self.gammas[n]

    def exact(self, value: Any, branches: str = "demanded") -> Any:
        """``value`` computed in this block with every rounding error 0: the exact run, in the
        very form SymPy gave the rounded one (so a bound stated with it names the quantities the
        prover's error analysis meets); a state, tuple or list field by field.

        A branch taken on a rounded value: the exact run takes it too only where the condition
        holds with every δ = 0, or the "exact" value would be the other branch's formula, not the
        exact run.  ``branches="demanded"``: shown on every obligation of this path (a rounded
        sign of a product keeps its sign).  ``branches="assumed"``: a hypothesis of this path
        instead — the claim then speaks of the runs whose float test agrees with the exact one,
        and its statement must say where that holds (RAdam's ρ_t > 5: a lemma bounds fl(ρ_t) − ρ_t)."""
        if branches not in ("demanded", "assumed"):
            raise TheoremError(f'exact(branches=...) is "demanded" or "assumed", got {branches!r}')
        zero = {d: sympy.Integer(0) for d in self._deltas()}
        from symbolic.paths import conditions_so_far
        for taken in conditions_so_far():
            if set(zero) & taken.free_symbols:
                if branches == "assumed":
                    self._assume_taken(taken.xreplace(zero))
                else:
                    self.given.exact_run_demands |= _holds(taken.xreplace(zero))

        def cond(c: Condition) -> Condition:
            return Condition(c.kind, c.expr.xreplace(zero), None if c.exponent is None else c.exponent.xreplace(zero),
                             c.origin)

        def at_zero(x: Any) -> Any:
            if isinstance(x, SymTensor):
                return SymTensor([e.xreplace(zero) for e in x.entries], x.shape, x.ops, map(cond, x.conditions))
            if isinstance(x, SymScalar):
                return SymScalar(x.expr.xreplace(zero), x.ops, map(cond, x.conditions))
            if isinstance(x, (tuple, list)):
                return type(x)(at_zero(e) for e in x)
            if dataclasses.is_dataclass(x) and not isinstance(x, type):
                return dataclasses.replace(x, **{f.name: at_zero(getattr(x, f.name)) for f in dataclasses.fields(x)})
            return x
        return at_zero(value)

    def error_at_most(self, value: Any, bound: Any) -> None:
        """A lemma for the error analysis: |fl(X) − X| ≤ ``bound`` for X = ``value``, a scalar (its
        exact run, where it was computed in this block).  Nothing is assumed: the decider shows it
        where its analysis meets a value equal to X (the analysis's own bound there is at most
        ``bound``) and only then carries ``bound`` on in place of its own — a simpler form a
        claim can name (RAdam's ρ_t, whose error the analysis writes as a long sum).  A lemma not
        shown is not used; the proof's method names each lemma it used."""
        self._lemma(ABSOLUTE, value, bound)

    def relative_error_at_most(self, value: Any, bound: Any) -> None:
        """``error_at_most`` relative to X: |fl(X) − X| ≤ ``bound``·|X|, shown on the analysis's
        relative bound there (RAdam's r², a quotient of six rounded factors: the sum of their
        relative errors)."""
        self._lemma(RELATIVE, value, bound)

    def _deltas(self) -> set:
        """The rounding errors δ declared so far (this block's and any before it)."""
        return {v.symbols[0] for v in self.given.variables if v.name in self.given.rounding_errors}

    def _lemma(self, kind: str, value: Any, bound: Any) -> None:
        number = isinstance(bound, (int, float)) or isinstance(bound, sympy.Expr) and bound.is_number
        row = isinstance(value, SymTensor) and value.is_row
        if row:     # a row's generic entry: its δ stand for every entry's own, as the analysis reads them
            if isinstance(bound, SymTensor) and bound.shape != value.shape or not isinstance(
                    bound, (SymTensor, SymScalar)) and not number:
                raise TheoremError("a lemma on a row's error takes a bound of the row's length, or a scalar")
        elif not isinstance(value, SymScalar) or not (isinstance(bound, SymScalar) or number):
            raise TheoremError("a lemma on an error takes a scalar value and a scalar bound, or a row and a row's bound")
        exact, bound = self._exact_and_bound(value, bound)
        self.given.lemmas.append((kind, _entry_of(exact), bound))

    def _exact_and_bound(self, value: Any, bound: Any) -> tuple:
        """(``value``'s exact run, ``bound`` as SymPy's) for a lemma: the bound must hold no δ."""
        deltas = self._deltas()
        bound = _entry_of(bound)
        if bound.free_symbols & deltas:
            raise TheoremError("a lemma's bound must not hold a rounding error δ (compute it outside the block)")
        return (self.exact(value) if _entry_of(value).free_symbols & deltas else value), bound

    def _assume_taken(self, relation: sympy.Basic) -> None:
        if relation is sympy.false:
            raise TheoremError("exact(branches=\"assumed\"): the exact run can never take the rounded run's branch "
                               "here (its condition is false with every δ = 0): an assumption that empties the path")
        if relation is not sympy.true:
            self.given.hypotheses.append(relation)

    def __enter__(self) -> "_Rounding":
        from symbolic import tensor
        if tensor.ROUNDING is not None:
            raise TheoremError("x.rounding(...) blocks do not nest")
        tensor.ROUNDING = self.fresh
        return self

    def __exit__(self, *_: Any) -> None:
        from symbolic import tensor
        tensor.ROUNDING = None


def _entry_of(x: Any) -> sympy.Expr:
    """A scalar's expression, a row's generic entry, a number as SymPy's."""
    if isinstance(x, SymTensor):
        return x.entries[0]
    return x.expr if isinstance(x, SymScalar) else sympy.sympify(x)


def _holds(relation: sympy.Basic) -> set:
    """``relation`` (a branch condition) as definedness conditions that demand it."""
    if relation is sympy.true:
        return set()
    if relation is sympy.false:     # the exact run never takes this path: nothing shows 0 ≠ 0
        return {Condition(NONZERO, sympy.Integer(0), origin="the exact run takes the rounded run's branch")}
    kinds = {sympy.StrictGreaterThan: ((AT_LEAST_ZERO, 1), (NONZERO, 1)), sympy.GreaterThan: ((AT_LEAST_ZERO, 1),),
             sympy.StrictLessThan: ((AT_LEAST_ZERO, -1), (NONZERO, 1)), sympy.LessThan: ((AT_LEAST_ZERO, -1),),
             sympy.Equality: ((AT_LEAST_ZERO, 1), (AT_LEAST_ZERO, -1)), sympy.Unequality: ((NONZERO, 1),)}
    if type(relation) not in kinds:
        raise TheoremError(f"exact(): the rounded run branched on {relation} with every δ = 0, which the exact run "
                           "must take too and cannot be stated: compute the exact run outside x.rounding instead")
    difference = relation.lhs - relation.rhs
    return {Condition(kind, sign * difference, origin="the exact run takes the rounded run's branch")
            for kind, sign in kinds[type(relation)]}


@dataclass
class Theorem:
    name: str
    statement: str
    expect: str
    build: Callable[[Given], Form]
    docstring: str
    module: str
    form: str = ""        # a label such as "k-step"; otherwise the form of what build returns
    source: str = ""      # the paper or document the statement comes from
    time_limit: float | None = None   # seconds this theorem may take, where more than the run's limit


registry: list[Theorem] = []
FORMS = ("equation", "k-step", "induction", "simulation", "non-equivalence", "inequality")


def theorem(name: str, *, statement: str, expect: str = PROVED, form: str = "", source: str = "",
            time_limit: float | None = None) -> Callable:
    """Register a theorem under a dotted Lean-style name, with the verdict it must get, and
    optionally its form label (e.g. ``"k-step"``), the source it comes from, and the seconds
    it may take where that is more than the run's limit (at most ``MAX_TIME_LIMIT``)."""
    if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float))
                                   or not valid_time_limit(float(time_limit))):
        raise TheoremError(f"time_limit must be a number of seconds in (0, {MAX_TIME_LIMIT:g}], got {time_limit!r}")
    if expect not in VERDICTS:
        raise TheoremError(f"expect must be one of {VERDICTS}, got {expect!r}")
    if form and form not in FORMS:
        raise TheoremError(f"form must be one of {FORMS}, got {form!r}")

    def register(build: Callable[[Given], Form]) -> Callable[[Given], Form]:
        if any(t.name == name for t in registry):
            raise TheoremError(f"theorem {name!r} is defined twice")
        doc = inspect.getdoc(build)
        if not doc:
            raise TheoremError(f"theorem {name!r} needs a docstring (one sentence saying the claim)")
        registry.append(Theorem(name, statement, expect, build, doc, build.__module__, form, source,
                                None if time_limit is None else float(time_limit)))
        return build

    return register


# ---------------------------------------------------------------------------------------
# From a theorem to data.

def _run_build(theorem: Theorem) -> tuple[Given, Form, list[Goal]]:
    given = Given()
    built = theorem.build(given)
    if not isinstance(built, Form):
        raise TheoremError("a theorem must return equation(...), inequality(...), for_every(...), "
                           f"induction(...) or simulation(...), got {type(built).__name__}")
    return given, built, built.goals(given)


def _hypothesis_conditions(goal: Goal) -> tuple[list, set]:
    relations, conditions = [], set()
    for h in goal.hypotheses:
        if isinstance(h, SymBool):
            conditions |= set(h.conditions)
            h = h.expr
        relations.append(h)
    return relations, conditions


def _obligation(goal: Goal, given: Given, path) -> Obligation:
    compared = compare(goal.lhs, goal.rhs, inequality=goal.relation in (AT_MOST, LESS))
    extra, extra_conditions = _hypothesis_conditions(goal)
    coefficient = goal.coefficient.expr if isinstance(goal.coefficient, SymScalar) else goal.coefficient
    return Obligation(
        name=goal.name, relation=goal.relation, pairs=compared.pairs,
        hypotheses=list(given.hypotheses) + extra, path=list(path.conditions),
        conditions=sorted(compared.conditions | path.definedness | given.conditions | given.exact_run_demands
                          | extra_conditions,
                          key=lambda c: (c.kind, sympy.default_sort_key(c.expr))),
        shape=compared.shape(), ops=sorted(compared.ops), refutes_theorem=goal.refutes_theorem,
        coefficient=coefficient, fixed=goal.fixed, lemmas=list(given.lemmas))


def _branch_defined(before: tuple, definedness: frozenset, givens: list) -> Obligation:
    """The code evaluated a branch condition after the branches ``before``: it must be defined
    there, whichever way it then went (a way shown infeasible demands nothing else).  Under
    the hypotheses every path through it states: one stated after the branch on one way only
    (``exact(branches="assumed")``: the float test agrees with the exact one) says nothing
    about where the condition was evaluated."""
    hypotheses = [h for h in givens[0].hypotheses if all(h in g.hypotheses for g in givens[1:])]
    return Obligation(
        name="a branch condition is defined where the code evaluates it", relation=EQUAL, pairs=[],
        hypotheses=hypotheses, path=list(before),
        conditions=sorted(set(definedness) | givens[0].conditions, key=lambda c: (c.kind, sympy.default_sort_key(c.expr))),
        shape="scalar claim", refutes_theorem=False)


def _row_sum_lemma(pair: tuple, conditions: frozenset, givens: list) -> Obligation:
    """A row sum's lemma, |ŝᵢ − s₀ᵢ| ≤ eᵢ at the generic entry for every δ: under the hypotheses
    every path states and no path condition, since every path's model of the sum rests on it."""
    hypotheses = [h for h in givens[0].hypotheses if all(h in g.hypotheses for g in givens[1:])]
    return Obligation(
        name="a row sum's lemma holds at every entry", relation=AT_MOST, pairs=[pair], hypotheses=hypotheses, path=[],
        conditions=sorted(set(conditions) | givens[0].conditions, key=lambda c: (c.kind, sympy.default_sort_key(c.expr))),
        shape="the generic entry of a row", refutes_theorem=False, lemmas=list(givens[0].lemmas))


def build_theorem(theorem: Theorem) -> TheoremData:
    """Run the theorem's build and its form's goals on every execution path; the data the
    decider gets.  Every path must declare the same variables."""
    from symbolic import tensor
    tensor.ROW_TOTALS.clear()
    tensor.MAJORIZED.clear()
    tensor.ROUNDING_ERRORS.clear()
    tensor.NONNEGATIVE_ENTRIES.clear()     # B_i_j ≥ 0 in one theorem is a real B_i_j in the next
    paths = explore(lambda: _run_build(theorem))
    first_given, first_form, _ = paths[0].result
    specs = [s for s in first_given.specs() if s.note not in ROUNDING_NOTES]
    reused = sorted(s.name for v in specs for s in v.symbols if s in tensor.ALIAS_ENTRIES)
    if reused:   # X_i2_j is X's entry at a second row index: a variable of that name would be confused with it
        raise TheoremError(f"variable symbol(s) {reused} name entries of a matrix at other indices: rename them")
    rounding_errors: dict = {}      # a path's own roundings: each path bounds the δ and Γ it declared
    obligations, branches, row_sum_lemmas = [], {}, {}
    for path in paths:
        given, form, goals = path.result
        if [s for s in given.specs() if s.note not in ROUNDING_NOTES] != specs:
            raise TheoremError("the theorem declares different variables on different execution paths: "
                               "declare every variable before branching")
        rounding_errors.update({s.name: s for s in given.specs() if s.note in ROUNDING_NOTES})
        obligations += [_obligation(goal, given, path) for goal in goals]
        for before, definedness in path.branches:
            branches.setdefault((before, definedness), []).append(given)
        for pair, conditions in given.row_sum_pairs:
            row_sum_lemmas.setdefault((pair, conditions), []).append(given)
    obligations += [_branch_defined(before, definedness, givens) for (before, definedness), givens in branches.items()]
    obligations += [_row_sum_lemma(pair, conditions, givens) for (pair, conditions), givens in row_sum_lemmas.items()]
    # A hypothesis stated on one path only (after a branch, or computed from a path's values)
    # belongs to that path's obligations; the theorem's own are those every path states.
    common = [h for h in first_given.hypotheses if all(h in p.result[0].hypotheses for p in paths)]
    specs += [rounding_errors[name] for name in sorted(rounding_errors, key=_name_and_number)]
    return _entries_as_variables(_sums_as_variables(TheoremData(variables=specs, obligations=obligations, form=first_form.name,
                                          relation=first_form.describe(), hypotheses=common, paths=len(paths))))


def _name_and_number(name: str) -> tuple:
    """delta2 before delta10: a δ's or Γ's name and its number."""
    stem = name.rstrip("0123456789")
    return stem, int(name[len(stem):])


SUM_VARIABLE_NOTE = "= Σ"   # a row sum's variable Σk: its note, followed by its indices and summand
SUM_NOTE_SUMMAND = 400      # a longer summand (LAMB's e with weight decay: 3,000 characters) is cut in the note


def _sum_note(atom: Any) -> str:
    """Σ_(i<n) g_i², or Σ_(i<m, j<n) g_i_j² over a matrix: the sum a variable Σk stands for."""
    from symbolic.tensor import ROW_INDICES, base_length
    summand, lengths = atom.args[0], atom.args[1:]
    letters = {}
    for entry in summand.free_symbols & set(ROW_INDICES):
        letters.update(ROW_INDICES[entry])
    indices = ", ".join(f"{letters.get(n, 'i')}<{base_length(n)}" for n in lengths)
    # a note is read by people: the summand travels whole beside it
    return f"{SUM_VARIABLE_NOTE}_({indices}) {shortened(str(summand), SUM_NOTE_SUMMAND)}"


def _zero_row_bases(relation: Any) -> list:
    """The bases fₖ at the index i when ``relation`` says a norm over rows is 0 — Σ_(i<n) Σₖ cₖ·fₖ² = 0
    or its root, the cₖ > 0 numbers — so every fₖ(i) = 0 (the fact the sums' variables would
    lose: a row whose norm is 0 is 0).  Empty otherwise."""
    from symbolic.tensor import RowSum

    if not isinstance(relation, sympy.Eq) or 0 not in (relation.lhs, relation.rhs):
        return []
    side = relation.rhs if relation.lhs == 0 else relation.lhs
    if side.is_Pow and side.exp == sympy.Rational(1, 2):
        side = side.base
    bases = []
    for term in sympy.Add.make_args(side):
        coefficient, rest = term.as_coeff_Mul()
        if not (coefficient.is_Rational and coefficient > 0 and isinstance(rest, RowSum)):
            return []
        for square in sympy.Add.make_args(rest.args[0]):
            base = _square_root_of(square)
            if base is None:
                return []
            bases.append(base)
    return bases


def _nonnegative_where_defined(e: sympy.Expr, radicands: set) -> bool:
    """Whether ``e`` ≥ 0 wherever it is defined: a positive number times factors each an even
    power, a root, a power of a radicand (an expression the definedness conditions demand
    ≥ 0: u_i² = a_i²/X_i where √X_i was taken), |·|, or a sum over rows of such."""
    from symbolic.tensor import NONNEGATIVE_ENTRIES, RowSum
    coefficient, rest = e.as_coeff_Mul()
    if not (coefficient.is_Rational and coefficient > 0) or rest == 1:
        return False

    def nonnegative(factor) -> bool:
        if factor in radicands or (1 / factor) in radicands:
            return True
        if factor.is_Mul:
            return all(nonnegative(f) for f in factor.args)
        if isinstance(factor, RowSum):      # a sum of values ≥ 0 (|X|·|X|ᵀ's entries)
            return _nonnegative_where_defined(factor.args[0], radicands) or factor.args[0].is_nonnegative is True
        if isinstance(factor, sympy.Max):   # ≥ each argument: ≥ 0 if one is (Adafactor's max(V, ε1²))
            return any(nonnegative(a) for a in factor.args)
        if factor.is_Pow and factor.exp == -1 and isinstance(factor.base, sympy.Max):
            return nonnegative(factor.base)
        if factor.is_nonnegative is True or factor in NONNEGATIVE_ENTRIES:
            return True
        base, exponent = (factor.base, factor.exp) if factor.is_Pow else (factor, sympy.Integer(1))
        even = exponent.is_Integer and exponent % 2 == 0
        root = exponent.is_Rational and not exponent.is_Integer and exponent.q % 2 == 0
        return bool(even or root or base in radicands)

    return rest in radicands or all(nonnegative(f) for f in sympy.Mul.make_args(rest))


def _square_root_of(term: sympy.Expr) -> sympy.Expr | None:
    """b with b² = ``term`` when ``term`` is a positive number times even powers (g_i², or
    g_i²·(ε + √v_i)⁻²: b = g_i/(ε + √v_i)); None otherwise."""
    coefficient, rest = term.as_coeff_Mul()
    if not (coefficient.is_Rational and coefficient > 0) or rest == 1:
        return None
    base = sympy.sqrt(coefficient)
    for factor in sympy.Mul.make_args(rest):
        exponent = factor.exp if factor.is_Pow else sympy.Integer(1)
        if not (exponent.is_Integer and exponent % 2 == 0):
            return None
        base *= factor.base ** (exponent // 2)
    return base


def _expressions(ob: Obligation):
    """Every expression an obligation holds: its pairs' sides, hypotheses, path and conditions."""
    yield from (e for _, lhs, rhs in ob.pairs for e in (lhs, rhs))
    yield from ob.hypotheses
    yield from ob.path
    yield from (c.expr for c in ob.conditions)
    yield from (c.exponent for c in ob.conditions if c.exponent is not None)


def _entries_as_variables(data: TheoremData) -> TheoremData:
    """A matrix's entry at a second index that an obligation still holds outside a sum (x_i·x_i2
    of an outer product) as a variable of its own, in the matrix's domain."""
    from dataclasses import replace as replaced

    from symbolic.tensor import ALIAS_ENTRIES, ENTRY_OF
    present = set()
    for ob in data.obligations:
        for e in _expressions(ob):
            if isinstance(e, sympy.Basic):
                present |= e.free_symbols & ALIAS_ENTRIES
    domains = {v.name: v.domain for v in data.variables}
    added = [VariableSpec(str(symbol), domains.get(ENTRY_OF[symbol][0], "real"), (symbol,),   # real: no sign assumed
                          note=f"{ENTRY_OF[symbol][0]}'s entry at other indices, a variable of its own")
             for symbol in sorted(present, key=str)]
    return replaced(data, variables=list(data.variables) + added) if added else data


def _independent_entries(data: TheoremData) -> TheoremData:
    """An obligation that holds a matrix's entry at a second index of one axis (X_i2_j beside
    X_i_j, from X·Xᵀ) proves the claim for independent values of the two, i = i2 among them: a
    generalisation, sound for PROVED; a counterexample may need i ≠ i2, which a one-row matrix
    lacks, so it refutes nothing."""
    from dataclasses import replace as replaced

    from symbolic.obligation import INDEPENDENT_ENTRIES
    from symbolic.tensor import ALIAS_ENTRIES

    def aliased(ob: Obligation) -> bool:
        return any(isinstance(e, sympy.Basic) and e.free_symbols & ALIAS_ENTRIES for e in _expressions(ob))

    return replaced(data, obligations=[
        replaced(ob, shape=f"{ob.shape}; {INDEPENDENT_ENTRIES}", refutes_theorem=False) if aliased(ob) else ob
        for ob in data.obligations])


def _sums_as_variables(data: TheoremData) -> TheoremData:
    """Each distinct sum over a row (``RowSum``, from rows of a symbolic length) as a variable of
    its own, Σ1, Σ2, …, ≥ 0 where its summand is (a sum of squares): the decider then proves the
    claim for *every* value of the sums, a generalisation of the claim — sound for PROVED.  A
    counterexample may give a sum a value no row has, so an obligation with a sum refutes nothing
    (its shapes text says so)."""
    from dataclasses import replace as replaced

    from symbolic.obligation import ABSTRACTED_SUMS
    from symbolic.tensor import RowSum, base_length

    data = _independent_entries(data)
    atoms: dict = {}
    for e in [e for ob in data.obligations for e in _expressions(ob)] + list(data.hypotheses):
        if isinstance(e, sympy.Basic):
            for atom in sorted(e.atoms(RowSum), key=sympy.default_sort_key):
                atoms.setdefault(atom, None)
    if not atoms:
        return data
    taken = {s.name for v in data.variables for s in v.symbols}
    mapping, specs = {}, list(data.variables)
    for k, atom in enumerate(sorted(atoms, key=lambda a: (sympy.count_ops(a), sympy.default_sort_key(a))), 1):
        name = f"Σ{k}"
        while name in taken:
            name += "_"
        summand = atom.args[0].xreplace(mapping)   # a sum inside it (Σ_(j<n) g_i_j² in Σ_(i<m)) as its own variable
        squares = all(_square_root_of(t) is not None for t in sympy.Add.make_args(summand))
        of_sizes = _nonnegative_where_defined(atom.args[0], set())   # |X|·|X|ᵀ: |·| and sums of them
        domain = "nonnegative" if squares or of_sizes or summand.is_nonnegative else "real"
        symbol = sympy.Symbol(name, real=True)
        mapping[atom] = symbol
        specs.append(VariableSpec(name, domain, (symbol,), summand=summand,
                                  over=tuple(str(base_length(d)) for d in atom.args[1:]),
                                  note=f"{_sum_note(atom)}, a variable of its own"))

    def swap(e):   # every sum at once (xreplace takes the outermost match, a nested one is its own key)
        if isinstance(e, tuple):    # a ratio lemma's (E, κ)
            return tuple(swap(part) for part in e)
        return e.xreplace(mapping) if isinstance(e, sympy.Basic) else e

    from symbolic.tensor import MAJORIZED, ROW_TOTALS
    totals = list(dict.fromkeys((t, e) for t, e in ROW_TOTALS if not t.is_number))
    majorized = list(dict.fromkeys((t, e) for t, e in MAJORIZED if t != e and t.atoms(RowSum)))
    obligations = []
    for ob in data.obligations:
        present = set().union(*(e.atoms(RowSum) for e in _expressions(ob) if isinstance(e, sympy.Basic)))
        touched = bool(present)
        radicands = {c.expr for c in ob.conditions if c.kind == AT_LEAST_ZERO}
        # each sum the build took of a summand ≥ 0 (where the obligation is defined), over sums
        # this obligation has: ≥ 0, a fact of the rows
        ob = replaced(ob, hypotheses=list(ob.hypotheses) + [
            sympy.Ge(total, 0) for total, summand in totals
            if total.atoms(RowSum) <= present and _nonnegative_where_defined(summand, radicands)])
        # a sum beside a majorant of it (Σ_k P_ik·|X_kj| for Σ_k A_ik·X_kj): |S| ≤ T
        ob = replaced(ob, hypotheses=list(ob.hypotheses) + [
            fact for total, size in majorized if (total.atoms(RowSum) | size.atoms(RowSum)) <= present
            for fact in (sympy.Le(total, size), sympy.Le(-total, size))])
        # a row's zero norm: each base is 0, so its numerator is (its denominator is a divisor,
        # demanded ≠ 0 by the definedness conditions)
        ob = replaced(ob, hypotheses=list(ob.hypotheses) + [
            sympy.Eq(sympy.fraction(sympy.together(base))[0], 0) for r in ob.path + ob.hypotheses
            for base in _zero_row_bases(r)])
        conditions = [replaced(c, expr=swap(c.expr), exponent=None if c.exponent is None else swap(c.exponent))
                      for c in ob.conditions]
        obligations.append(replaced(
            ob, pairs=[(label, swap(lhs), swap(rhs)) for label, lhs, rhs in ob.pairs],
            hypotheses=[swap(h) for h in ob.hypotheses], path=[swap(p) for p in ob.path], conditions=conditions,
            lemmas=[(kind, swap(value), swap(bound)) for kind, value, bound in ob.lemmas],
            shape=f"{ob.shape}; {ABSTRACTED_SUMS}" if touched else ob.shape,
            refutes_theorem=ob.refutes_theorem and not touched))
    return replaced(data, variables=specs, obligations=obligations, hypotheses=[swap(h) for h in data.hypotheses])
