"""Obligations on the wire: ``TheoremData`` as JSON text, never as pickle.

The theorem builder runs a user's theorem file, so everything it sends is untrusted.  What
crosses from it to the decider is JSON text, and :func:`decode` is the trust boundary: it
never calls ``eval``, ``sympify``, ``parse_expr`` or ``pickle`` and it builds only what an
allowlist names.  Anything else is a :class:`WireError`.

Format (version 1)::

    {"wire": "optlaws.obligations", "version": 1,
     "nodes": [NODE, ...],      # every distinct SymPy subexpression once, children first
     "data": VALUE}             # the TheoremData

A NODE is a JSON list whose first item names its head:

* ``["Symbol", name, {assumption: bool}]`` with ``name`` a Python identifier and the
  assumptions among ``real``, ``integer``, ``positive``, ``nonnegative``, ``nonzero``;
* ``["Integer", "-12"]``, ``["Rational", "3", "4"]`` (decimal strings, canonical form);
* constants: ``["pi"]``, ``["E"]``, ``["oo"]``, ``["-oo"]``, ``["zoo"]``, ``["nan"]``,
  ``["true"]``, ``["false"]`` — the decider must be able to see undefined values;
* operations on earlier nodes, by index: ``Add``, ``Mul`` (two or more terms), ``Pow`` (base,
  exponent), ``Abs``, ``sign``, ``cos``, ``floor`` (a schedule's), ``Max``, ``Min``, ``Piecewise`` (of ``ExprCondPair``
  nodes), ``ExprCondPair`` (expression, condition), the relations ``Eq``, ``Ne``, ``Lt``,
  ``Le``, ``Gt``, ``Ge``, and ``And``, ``Or``, ``Not``.

There is no SymPy ``Float`` on the wire: floats must have become exact rationals before.
Operations are rebuilt with ``evaluate=False``, so an expression arrives as it was sent: a
tree that SymPy had not simplified is not simplified on the way.  Indices point backwards
only (no cycles), every node's nesting depth is at most :data:`MAX_DEPTH`, and the text, the
node count and every number's size are bounded.

A VALUE is ``null``, ``true``/``false``, a JSON integer, a string, a JSON list (a Python
list), ``{"tuple": [VALUE, ...]}``, ``{"dict": [[key, VALUE], ...]}`` (string keys),
``{"expr": index}``, or ``{"type": NAME, "fields":
{field: VALUE}}`` for the four dataclasses of :mod:`symbolic.obligation` (``Condition``,
``VariableSpec``, ``Obligation``, ``TheoremData``).  The fields every decider relies on are
type-checked on arrival.
"""
from __future__ import annotations

import json
import math
from dataclasses import fields, is_dataclass
from typing import Any

import sympy
from sympy.core.relational import (Equality, GreaterThan, LessThan, StrictGreaterThan, StrictLessThan,
                                   Unequality)
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.logic.boolalg import And, Not, Or

from symbolic.obligation import (ABSOLUTE, FOR_EVERY, NONNEGATIVE, NONZERO, POWER, RATIOS, RELATIONS, RELATIVE, Condition,
                                 Obligation, TheoremData, VariableSpec)

LEMMA_KINDS = (ABSOLUTE, RELATIVE) + RATIOS

MAGIC, VERSION = "optlaws.obligations", 1
MAX_DEPTH = 600               # nesting of one expression (SymPy recurses on it)
MAX_NODES = 2_000_000
MAX_TEXT = 256 * 1024 * 1024  # characters of JSON text
MAX_VALUE_DEPTH = 64          # nesting of the plain data around the expressions
MAX_NAME = 200
ASSUMPTIONS = ("real", "integer", "positive", "nonnegative", "nonzero")


class WireError(ValueError):
    """Text that is not a well-formed obligation message, or a value that cannot be sent."""


# ------------------------------------------------------------------------------ the heads
_CONSTANTS = {"pi": sympy.pi, "E": sympy.E, "oo": sympy.oo, "-oo": -sympy.oo, "zoo": sympy.zoo,
              "nan": sympy.nan, "true": sympy.true, "false": sympy.false}
_CONSTANT_NAMES = {type(v): k for k, v in _CONSTANTS.items()}
_RELATIONS = {"Eq": Equality, "Ne": Unequality, "Lt": StrictLessThan, "Le": LessThan,
              "Gt": StrictGreaterThan, "Ge": GreaterThan}
_ARITHMETIC = {"Add": sympy.Add, "Mul": sympy.Mul, "Pow": sympy.Pow, "Abs": sympy.Abs,
               "sign": sympy.sign, "Max": sympy.Max, "Min": sympy.Min, "cos": sympy.cos, "floor": sympy.floor}
_LOGIC = {"And": And, "Or": Or, "Not": Not}
_OPERATIONS = {**_ARITHMETIC, **_RELATIONS, **_LOGIC, "Piecewise": sympy.Piecewise,
               "ExprCondPair": ExprCondPair}
_HEAD_OF = {cls: name for name, cls in _OPERATIONS.items()}
# name -> (minimum, maximum) number of arguments
_ARITY = {"Add": (2, None), "Mul": (2, None), "Pow": (2, 2), "Abs": (1, 1), "sign": (1, 1), "cos": (1, 1),
          "floor": (1, 1),
          "Max": (2, None), "Min": (2, None), "Piecewise": (1, None), "ExprCondPair": (2, 2),
          "And": (2, None), "Or": (2, None), "Not": (1, 1), **{r: (2, 2) for r in _RELATIONS}}
_DATACLASSES = {cls.__name__: cls for cls in (Condition, VariableSpec, Obligation, TheoremData)}


def _is_expr(value: Any) -> bool:
    return isinstance(value, sympy.Expr)


def _is_boolean(value: Any) -> bool:
    """A condition: a relation, And/Or/Not, true or false (a Symbol is a Boolean to SymPy too)."""
    return isinstance(value, sympy.logic.boolalg.Boolean) and not isinstance(value, sympy.Expr)


# --------------------------------------------------------------------------------- encode
def _key(node: sympy.Basic) -> tuple:
    """Equal subtrees share a node; the type is part of the key (SymPy's ``==`` can equate
    objects of different types)."""
    return type(node), node


class _Encoder:
    def __init__(self) -> None:
        self.nodes: list = []
        self.index: dict = {}       # expression -> node index (equal subtrees are sent once)
        self.depth: list = []

    def expr(self, root: sympy.Basic) -> int:
        """The node index of ``root``, adding it and its subexpressions (iteratively)."""
        if not isinstance(root, sympy.Basic):
            raise WireError(f"not a SymPy object: {type(root).__name__}")
        stack = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if _key(node) in self.index:
                continue
            head = self._head(node)
            if head in _OPERATIONS and not ready:
                stack.append((node, True))
                stack.extend((a, False) for a in reversed(node.args) if _key(a) not in self.index)
                continue
            if head in _OPERATIONS:
                children = [self.index[_key(a)] for a in node.args]
                depth = 1 + max(self.depth[c] for c in children)
                if depth > MAX_DEPTH:
                    raise WireError(f"expression nested deeper than {MAX_DEPTH} levels")
                self._add(node, [head, *children], depth)
            else:
                self._add(node, self._atom(node, head), 1)
            if len(self.nodes) > MAX_NODES:
                raise WireError(f"more than {MAX_NODES} distinct subexpressions")
        return self.index[_key(root)]

    def _add(self, node, encoded, depth) -> None:
        self.index[_key(node)] = len(self.nodes)
        self.nodes.append(encoded)
        self.depth.append(depth)

    @staticmethod
    def _head(node: sympy.Basic) -> str:
        cls = type(node)
        if cls is sympy.Symbol:
            return "Symbol"
        if isinstance(node, sympy.Float):
            raise WireError(f"a SymPy Float ({node}) cannot be sent: floats must be exact rationals first")
        if isinstance(node, sympy.Integer):
            return "Integer"
        if isinstance(node, sympy.Rational):
            return "Rational"
        if cls in _CONSTANT_NAMES:
            return _CONSTANT_NAMES[cls]
        if cls in _HEAD_OF:
            return _HEAD_OF[cls]
        raise WireError(f"{cls.__name__} is not among the expressions that can be sent ({node})")

    @staticmethod
    def _atom(node: sympy.Basic, head: str) -> list:
        if head == "Symbol":
            name = node.name
            _check_name(name)
            given = node._assumptions_orig
            kept = {k: bool(v) for k, v in given.items() if k in ASSUMPTIONS and v is not None}
            if sympy.Symbol(name, **kept) != node:
                raise WireError(f"symbol {name!r} has assumptions that cannot be sent "
                                f"(only {', '.join(ASSUMPTIONS)}): {dict(given)}")
            return ["Symbol", name, kept]
        if head == "Integer":
            return ["Integer", str(int(node))]
        if head == "Rational":
            return ["Rational", str(node.p), str(node.q)]
        return [head]

    def value(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_VALUE_DEPTH:
            raise WireError("data nested too deeply")
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            raise WireError(f"a Python float ({value!r}) cannot be sent: make it an exact rational first")
        if isinstance(value, sympy.Basic):
            return {"expr": self.expr(value)}
        if isinstance(value, list):
            return [self.value(v, depth + 1) for v in value]
        if isinstance(value, tuple):
            return {"tuple": [self.value(v, depth + 1) for v in value]}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise WireError("only dicts with string keys can be sent")
            return {"dict": [[k, self.value(v, depth + 1)] for k, v in value.items()]}
        if is_dataclass(value) and type(value).__name__ in _DATACLASSES \
                and type(value) is _DATACLASSES[type(value).__name__]:
            return {"type": type(value).__name__,
                    "fields": {f.name: self.value(getattr(value, f.name), depth + 1) for f in fields(value)}}
        raise WireError(f"a {type(value).__name__} cannot be sent")


def encode(data: TheoremData) -> str:
    """``data`` as JSON text; raises ``WireError`` for anything the decoder would refuse."""
    if not isinstance(data, TheoremData):
        raise WireError(f"expected TheoremData, got {type(data).__name__}")
    return _message(data, "the obligations are")


def _message(value: Any, what: str) -> str:
    """``value`` encoded, with its expression nodes, as one JSON message; raises ``WireError``
    where it is too large (``what``: "the obligations are", …)."""
    encoder = _Encoder()
    data = encoder.value(value)
    text = json.dumps({"wire": MAGIC, "version": VERSION, "nodes": encoder.nodes, "data": data},
                      ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if len(text) > MAX_TEXT:
        raise WireError(f"{what} too large to send ({len(text)} characters)")
    return text


def encode_value(value: Any) -> str:
    """Plain data with expressions in it (None, bools, ints, strings, lists, tuples, dicts with
    string keys, allowed SymPy expressions) as JSON text: points of the second check and what
    the theorem computes at them."""
    return _message(value, "the data is")


def decode_value(text: str) -> Any:
    """What :func:`encode_value` sent, under the same allowlist and bounds as :func:`decode`."""
    return _decode_message(text)


def encode_expr(expr: sympy.Basic) -> str:
    """One expression as JSON text (for tests and tools)."""
    encoder = _Encoder()
    root = encoder.expr(expr)
    return json.dumps({"wire": MAGIC, "version": VERSION, "nodes": encoder.nodes, "data": {"expr": root}},
                      ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# --------------------------------------------------------------------------------- decode
def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.isidentifier() or len(name) > MAX_NAME:
        raise WireError(f"a symbol name must be a Python identifier of at most {MAX_NAME} characters, "
                        f"got {str(name)[:60]!r}")


def _number(text: Any) -> int:
    if not isinstance(text, str) or not text or len(text) > 4000:
        raise WireError("a number must be a decimal string of at most 4000 digits")
    digits = text[1:] if text.startswith("-") else text
    if not digits.isascii() or not digits.isdigit() or (len(digits) > 1 and digits[0] == "0"):
        raise WireError(f"not a canonical decimal integer: {text[:60]!r}")
    return int(text)


def _reject_constant(name: str):
    raise WireError(f"{name} is not a JSON number this format accepts")


def _reject_float(text: str):
    raise WireError(f"a JSON float ({text[:40]}) is not accepted: numbers are exact")


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise WireError(f"expected JSON text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise WireError(f"message too large ({len(text)} characters)")
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_reject_float)
    except WireError:
        raise
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise WireError(f"not valid JSON: {str(error)[:200]}") from None


class _Decoder:
    def __init__(self, nodes: Any) -> None:
        if not isinstance(nodes, list):
            raise WireError("'nodes' must be a list")
        if len(nodes) > MAX_NODES:
            raise WireError(f"more than {MAX_NODES} nodes")
        self.built: list = []
        self.depth: list = []
        for position, node in enumerate(nodes):
            expr, depth = self._node(position, node)
            self.built.append(expr)
            self.depth.append(depth)

    def _node(self, position: int, node: Any) -> tuple[sympy.Basic, int]:
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            raise WireError(f"node {position} is not [head, ...]")
        head, args = node[0], node[1:]
        if head == "Symbol":
            if len(args) != 2 or not isinstance(args[1], dict):
                raise WireError(f"node {position}: a Symbol is [\"Symbol\", name, {{assumptions}}]")
            name, assumptions = args
            _check_name(name)
            for key, value in assumptions.items():
                if key not in ASSUMPTIONS or not isinstance(value, bool):
                    raise WireError(f"node {position}: assumption {key!r}={value!r} is not accepted")
            try:
                return sympy.Symbol(name, **assumptions), 1
            except Exception as error:  # inconsistent assumptions, e.g. positive and not nonzero
                raise WireError(f"node {position}: inconsistent assumptions: {error}") from None
        if head == "Integer":
            if len(args) != 1:
                raise WireError(f"node {position}: an Integer is [\"Integer\", digits]")
            return sympy.Integer(_number(args[0])), 1
        if head == "Rational":
            if len(args) != 2:
                raise WireError(f"node {position}: a Rational is [\"Rational\", p, q]")
            p, q = _number(args[0]), _number(args[1])
            if q < 2 or math.gcd(p, q) != 1:
                raise WireError(f"node {position}: Rational {p}/{q} is not in lowest terms with q > 1")
            return sympy.Rational(p, q), 1
        if head in _CONSTANTS:
            if args:
                raise WireError(f"node {position}: constant {head} takes no arguments")
            return _CONSTANTS[head], 1
        if head not in _OPERATIONS:
            raise WireError(f"node {position}: {head[:60]!r} is not among the accepted expressions")
        low, high = _ARITY[head]
        if len(args) < low or (high is not None and len(args) > high):
            raise WireError(f"node {position}: {head} with {len(args)} arguments")
        children = []
        for a in args:
            if type(a) is not int or not 0 <= a < position:
                raise WireError(f"node {position}: argument {a!r} is not the index of an earlier node")
            children.append(self.built[a])
        depth = 1 + max(self.depth[a] for a in args)
        if depth > MAX_DEPTH:
            raise WireError(f"node {position}: expression nested deeper than {MAX_DEPTH} levels")
        self._check_kinds(position, head, children)
        try:
            if head == "ExprCondPair":   # takes no ``evaluate``; it builds its two arguments as given
                return ExprCondPair(*children), depth
            return _OPERATIONS[head](*children, evaluate=False), depth
        except Exception as error:
            raise WireError(f"node {position}: {head} cannot be built: {str(error)[:200]}") from None

    @staticmethod
    def _check_kinds(position: int, head: str, children: list) -> None:
        if head in _ARITHMETIC or head in _RELATIONS:
            wanted, ok = "expressions", all(map(_is_expr, children))
        elif head in _LOGIC:
            wanted, ok = "conditions", all(map(_is_boolean, children))
        elif head == "ExprCondPair":
            wanted, ok = "an expression and a condition", _is_expr(children[0]) and _is_boolean(children[1])
        else:  # Piecewise
            wanted, ok = "ExprCondPair nodes", all(type(c) is ExprCondPair for c in children)
        if not ok:
            raise WireError(f"node {position}: {head} takes {wanted}")

    def expr(self, index: Any) -> sympy.Basic:
        if type(index) is not int or not 0 <= index < len(self.built):
            raise WireError(f"{index!r} is not a node index")
        return self.built[index]

    def value(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_VALUE_DEPTH:
            raise WireError("data nested too deeply")
        if value is None or isinstance(value, (bool, str, int)):
            return value
        if isinstance(value, list):
            return [self.value(v, depth + 1) for v in value]
        if not isinstance(value, dict):
            raise WireError(f"unexpected JSON value of type {type(value).__name__}")
        if set(value) == {"expr"}:
            return self.expr(value["expr"])
        if set(value) == {"tuple"} and isinstance(value["tuple"], list):
            return tuple(self.value(v, depth + 1) for v in value["tuple"])
        if set(value) == {"dict"} and isinstance(value["dict"], list):
            items = value["dict"]
            if not all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) for i in items):
                raise WireError("a dict is a list of [string key, value] items")
            if len({k for k, _ in items}) != len(items):
                raise WireError("a dict with a repeated key")
            return {k: self.value(v, depth + 1) for k, v in items}
        if set(value) == {"type", "fields"} and isinstance(value["fields"], dict):
            cls = _DATACLASSES.get(value["type"]) if isinstance(value["type"], str) else None
            if cls is None:
                raise WireError(f"{str(value['type'])[:60]!r} is not a type that can be received")
            known = {f.name for f in fields(cls)}
            unknown = set(value["fields"]) - known
            if unknown:
                raise WireError(f"{cls.__name__} has no field {sorted(unknown)[0][:60]!r}")
            given = {k: self.value(v, depth + 1) for k, v in value["fields"].items()}
            _CHECKS[cls](given)
            try:
                return cls(**given)
            except TypeError as error:
                raise WireError(f"{cls.__name__}: {error}") from None
        raise WireError(f"unexpected object with keys {sorted(value)[:5]}")


def decode(text: str) -> TheoremData:
    """The ``TheoremData`` in ``text``; raises ``WireError`` on anything malformed or not allowed."""
    data = _decode_message(text)
    if not isinstance(data, TheoremData):
        raise WireError("the message does not hold a TheoremData")
    return data


def decode_expr(text: str) -> sympy.Basic:
    """One expression sent by :func:`encode_expr`."""
    data = _decode_message(text)
    if not isinstance(data, sympy.Basic):
        raise WireError("the message does not hold an expression")
    return data


def _decode_message(text: str) -> Any:
    message = _parse(text)
    if not isinstance(message, dict) or set(message) != {"wire", "version", "nodes", "data"}:
        raise WireError("not an obligation message (expected keys wire, version, nodes, data)")
    if message["wire"] != MAGIC or message["version"] != VERSION:
        raise WireError(f"unknown message format {str(message['wire'])[:40]!r} "
                        f"version {str(message['version'])[:10]}")
    decoder = _Decoder(message["nodes"])
    return decoder.value(message["data"])


# ------------------------------------------------------------ checks of the received data
def _need(ok: bool, what: str) -> None:
    if not ok:
        raise WireError(what)


def _list_of(value: Any, test, kinds=(list,)) -> bool:
    return isinstance(value, kinds) and all(test(v) for v in value)


def _symbol(value: Any) -> bool:
    return type(value) is sympy.Symbol


def _check_condition(f: dict) -> None:
    _need(f.get("kind") in (NONZERO, NONNEGATIVE, POWER), f"Condition: unknown kind {str(f.get('kind'))[:40]!r}")
    _need(_is_expr(f.get("expr")), "Condition: expr must be an expression")
    exponent = f.get("exponent")
    _need(exponent is None or _is_expr(exponent), "Condition: exponent must be an expression or null")
    _need(f["kind"] != POWER or exponent is not None, "Condition: a power condition needs its exponent")
    _need(isinstance(f.get("origin", ""), str), "Condition: origin must be a string")


def _check_variable(f: dict) -> None:
    _need(isinstance(f.get("name"), str), "VariableSpec: name must be a string")
    domain = f.get("domain")
    _need(isinstance(domain, str), "VariableSpec: domain must be a string")
    from symbolic.domains import DOMAINS
    _need(domain in DOMAINS, f"VariableSpec: unknown domain {domain[:40]!r}")
    _need(_list_of(f.get("symbols"), _symbol, (tuple, list)) and len(f["symbols"]) >= 1,
          "VariableSpec: symbols must be a non-empty tuple of symbols")
    f["symbols"] = tuple(f["symbols"])
    _need(isinstance(f.get("tensor", False), bool), "VariableSpec: tensor must be a bool")
    _need(isinstance(f.get("note", ""), str) and len(f.get("note", "")) <= 2000, "VariableSpec: note must be a string of at most 2000 characters")
    _need(f.get("summand") is None or _is_expr(f["summand"]), "VariableSpec: summand must be an expression or null")
    _need(_list_of(f.get("over", ()), lambda n: isinstance(n, str) and n.isidentifier(), (tuple, list))
          and len(f.get("over", ())) <= 3, "VariableSpec: over must be a tuple of at most 3 length names")
    f["over"] = tuple(f.get("over", ()))
    shape = f.get("shape")
    if shape is not None:
        _need(_list_of(shape, lambda n: type(n) is int and 0 <= n <= 1_000_000, (tuple, list)),
              "VariableSpec: shape must be null or a tuple of finite sizes")
        f["shape"] = tuple(shape)
        _need(len(f["symbols"]) == math.prod(shape) and len(shape) <= 32,
              "VariableSpec: an explicit shape needs one symbol per entry")


def _pair(value: Any) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(v, sympy.Basic) for v in value[1:]))


def _check_obligation(f: dict) -> None:
    _need(isinstance(f.get("name"), str), "Obligation: name must be a string")
    _need(f.get("relation") in RELATIONS, f"Obligation: unknown relation {str(f.get('relation'))[:40]!r}")
    _need(_list_of(f.get("pairs"), _pair), "Obligation: pairs must be a list of (label, lhs, rhs)")
    f["pairs"] = [tuple(p) for p in f["pairs"]]
    for key in ("hypotheses", "path"):
        _need(_list_of(f.get(key, []), _is_boolean), f"Obligation: {key} must be a list of conditions")
    _need(_list_of(f.get("conditions", []), lambda c: isinstance(c, Condition)),
          "Obligation: conditions must be a list of Condition")
    _need(isinstance(f.get("shape", ""), str), "Obligation: shape must be a string")
    _need(_list_of(f.get("ops", []), lambda o: isinstance(o, str)), "Obligation: ops must be a list of strings")
    _need(isinstance(f.get("refutes_theorem", True), bool), "Obligation: refutes_theorem must be a bool")
    coefficient, fixed = f.get("coefficient"), f.get("fixed")
    _need(coefficient is None or _symbol(coefficient), "Obligation: coefficient must be a symbol or null")
    _need(fixed is None or _list_of(fixed, _symbol, (list, tuple)), "Obligation: fixed must be symbols or null")
    _need(f["relation"] != FOR_EVERY or coefficient is not None, "Obligation: 'for every' needs its coefficient")
    _need(_list_of(f.get("lemmas", []), _lemma), "Obligation: lemmas must be a list of (kind, value, bound)")
    f["lemmas"] = [(k, x, tuple(b) if isinstance(b, list) else b) for k, x, b in f.get("lemmas", [])]


def _lemma(lemma: Any) -> bool:
    """(kind, X, B), a ratio's B the pair (E, κ)."""
    if not (isinstance(lemma, (tuple, list)) and len(lemma) == 3 and lemma[0] in LEMMA_KINDS and _is_expr(lemma[1])):
        return False
    bound = lemma[2]
    if lemma[0] in RATIOS:
        return isinstance(bound, (tuple, list)) and len(bound) == 2 and all(_is_expr(e) for e in bound)
    return _is_expr(bound)


def _check_theorem(f: dict) -> None:
    _need(_list_of(f.get("variables"), lambda v: isinstance(v, VariableSpec)),
          "TheoremData: variables must be a list of VariableSpec")
    _need(_list_of(f.get("obligations"), lambda o: isinstance(o, Obligation)),
          "TheoremData: obligations must be a list of Obligation")
    for key in ("form", "relation"):
        _need(isinstance(f.get(key, ""), str), f"TheoremData: {key} must be a string")
    _need(_list_of(f.get("hypotheses", []), _is_boolean), "TheoremData: hypotheses must be conditions")
    paths = f.get("paths", 1)
    _need(type(paths) is int and paths >= 1, "TheoremData: paths must be a positive integer")


_CHECKS = {Condition: _check_condition, VariableSpec: _check_variable, Obligation: _check_obligation,
           TheoremData: _check_theorem}
