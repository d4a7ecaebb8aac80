"""Math notation for people, printed from SymPy expressions by two printers.

* :class:`TextPrinter` (a ``StrPrinter``): one line of text, ``-grads·lr + params``,
  ``beta1^(t + 1)``, ``grads²``, ``√(v)``, ``x ≤ y``, ``a ∧ b`` (the Markdown report, the
  relations the forms describe);
* :class:`MathMLPrinter` (a ``MathMLPresentationPrinter``): presentation MathML that
  browsers render natively, offline.  A name is one identifier (``weight_decay``, ``sum``,
  ``lr``: upright, never split into subscripts; only a Greek letter's name with an optional
  number becomes a letter, ``beta1`` → β₁), every product has a visible ``·``, numbers are
  exact (``1/2`` a fraction, no ``5.00000000000000``) and all text is escaped (``&lt;``).

Both print expressions, never text: nothing here parses or rewrites printed output.
"""
from __future__ import annotations

import html
import re
from xml.dom.minidom import Document

import sympy
from sympy import Mul, Pow, S
from sympy.printing.mathml import MathMLPresentationPrinter, greek_unicode
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

__all__ = ["MathMLPrinter", "TextPrinter", "math_text", "mathml"]

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_RELATION = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_OPERATORS = {"-": "\u2212"}
_GREEK = re.compile(r"([A-Za-z]+?)(\d*)")   # a symbol's *name*: a Greek letter's name and a number


def shortened(text: str, limit: int) -> str:
    """``text`` cut to its first ``limit`` characters, with " …" where it was cut (a reason, a
    method, a note: text a person reads, never one a program parses)."""
    return text if len(text) <= limit else text[:limit] + " …"


def _greek(name: str) -> tuple[str, str] | None:
    """(letter, index) when ``name`` is a Greek letter's name with an optional number."""
    match = _GREEK.fullmatch(name)
    if match is None or match.group(1) not in greek_unicode:
        return None
    return greek_unicode[match.group(1)], match.group(2)


def _float(value: sympy.Float) -> str:
    """A Float as its shortest decimal (the data contract has none; never ``5.00000000000000``)."""
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _split(expr: sympy.Expr) -> tuple[str, list, list]:
    """A product as (sign, numerator factors, denominator factors), in print order."""
    coeff, rest = expr.as_coeff_Mul()
    sign = ""
    if coeff.is_Number and coeff.is_negative:
        sign, coeff = "-", -coeff
    factors = ([coeff] if coeff is not S.One else []) + list(Mul.make_args(rest))
    numerator, denominator = [], []
    for factor in factors:
        if factor.is_Rational and not factor.is_Integer:
            if factor.p != 1:
                numerator.append(sympy.Integer(factor.p))
            denominator.append(sympy.Integer(factor.q))
        elif factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
            exponent = -factor.exp
            denominator.append(factor.base if exponent == 1 else Pow(factor.base, exponent, evaluate=False))
        elif factor is not S.One or not factors[1:]:
            numerator.append(factor)
    return sign, numerator, denominator


class TextPrinter(StrPrinter):
    """SymPy's text printer with the notation of a page: ``·``, ``²``, ``^``, ``√``, ``≤``, ``∧``."""

    def _print_Mul(self, expr):
        prec = precedence(expr)
        sign, numerator, denominator = _split(expr)
        if len(numerator) == 1 and sign:
            top = self.parenthesize(numerator[0], 0.5 * (PRECEDENCE["Pow"] + PRECEDENCE["Mul"]))
        else:
            top = "·".join(self.parenthesize(f, prec) for f in numerator) or "1"
        if not denominator:
            return sign + top
        bottom = "·".join(self.parenthesize(f, prec) for f in denominator)
        return sign + top + "/" + (bottom if len(denominator) == 1 else f"({bottom})")

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.base, expr.exp
        if exponent is S.Half:
            inner = self._print(base)
            return "√" + (inner if base.is_Atom and not (base.is_Number and base.is_negative) else f"({inner})")
        if exponent.is_Rational and exponent.is_negative:
            inverse = base if exponent == -1 else Pow(base, -exponent, evaluate=False)
            return "1/" + self.parenthesize(inverse, PRECEDENCE["Mul"], strict=True)
        shown = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
        if exponent.is_Integer:
            return shown + str(exponent).translate(_SUPERSCRIPT)
        power = self._print(exponent)
        return f"{shown}^{power if exponent.is_Atom else f'({power})'}"

    def _print_Float(self, expr):
        return _float(expr)

    def _print_Relational(self, expr):
        return f"{self._print(expr.lhs)} {_RELATION[expr.rel_op]} {self._print(expr.rhs)}"

    def _connect(self, expr, symbol: str) -> str:
        return f" {symbol} ".join(self.parenthesize(a, precedence(expr)) for a in expr.args)

    def _print_And(self, expr):
        return self._connect(expr, "∧")

    def _print_Or(self, expr):
        return self._connect(expr, "∨")

    def _print_Not(self, expr):
        return "¬" + self.parenthesize(expr.args[0], PRECEDENCE["Not"])

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Max(self, expr):
        return f"max({self.stringify(expr.args, ', ')})"

    def _print_Min(self, expr):
        return f"min({self.stringify(expr.args, ', ')})"

    def _print_Piecewise(self, expr):
        pieces = [self._print(e) + (" otherwise" if c is S.true else f" if {self._print(c)}") for e, c in expr.args]
        return "{" + "; ".join(pieces) + "}"

    def _print_BooleanTrue(self, expr):
        return "true"

    def _print_BooleanFalse(self, expr):
        return "false"


class MathMLPrinter(MathMLPresentationPrinter):
    """Presentation MathML for a report page (see the module's docstring)."""

    def __init__(self, settings=None):
        super().__init__({"mul_symbol": "dot", **(settings or {})})
        # SymPy writes entities (``&#xB7;``) as raw text and leaves ``<`` unescaped: make every
        # text node a real character node, which the DOM escapes when it writes the page; the
        # operator SymPy spells "-" is the minus sign.
        def text(data):
            data = html.unescape(str(data))
            return Document.createTextNode(self.dom, _OPERATORS.get(data, data))

        self.dom.createTextNode = text

    def _element(self, tag: str, text: str | None = None, **attributes) -> object:
        node = self.dom.createElement(tag)
        for key, value in attributes.items():
            node.setAttribute(key, value)
        if text is not None:
            node.appendChild(self.dom.createTextNode(text))
        return node

    def _row(self, *children) -> object:
        row = self.dom.createElement("mrow")
        for child in children:
            row.appendChild(child)
        return row

    def _print_Symbol(self, sym, style="plain"):
        greek = _greek(sym.name)
        if greek is not None:
            letter, index = greek
            node = self._element("mi", letter)
            return node if not index else self._wrap("msub", node, self._element("mn", index))
        if len(sym.name) == 1:
            return self._element("mi", sym.name)
        return self._element("mi", sym.name, mathvariant="normal")

    def _wrap(self, tag: str, *children) -> object:
        node = self.dom.createElement(tag)
        for child in children:
            node.appendChild(child)
        return node

    def _print_Float(self, expr):
        return self._element("mn", _float(expr))

    def _print_BooleanTrue(self, expr):
        return self._element("mi", "true", mathvariant="normal")

    def _print_BooleanFalse(self, expr):
        return self._element("mi", "false", mathvariant="normal")

    def _function(self, name: str, args) -> object:
        inner = self._row(*[part for i, a in enumerate(args)
                            for part in ([self._element("mo", ",")] if i else []) + [self._print(a)]])
        return self._row(self._element("mi", name, mathvariant="normal"), self._element("mo", "("), inner,
                         self._element("mo", ")"))

    def _print_Max(self, expr):
        return self._function("max", expr.args)

    def _print_Min(self, expr):
        return self._function("min", expr.args)

    def _print_sign(self, expr):
        return self._function("sign", expr.args)

    def _print_Not(self, expr):
        return self._row(self._element("mo", "¬"), self.parenthesize(expr.args[0], PRECEDENCE["Not"]))

    def _print_Piecewise(self, expr):
        table = self._element("mtable", columnalign="left left")
        for value, condition in expr.args:
            cells = [self._print(value), self._row(self._element("mtext", "otherwise\u00a0")) if condition is S.true
                     else self._row(self._element("mtext", "if\u00a0"), self._print(condition))]
            row = self.dom.createElement("mtr")
            for cell in cells:
                row.appendChild(self._wrap("mtd", cell))
            table.appendChild(row)
        return self._row(self._element("mo", "{", stretchy="true", fence="true", form="prefix"), table)


_TEXT = TextPrinter()


def math_text(expr) -> str:
    """One line of text for an expression or relation (anything else: ``str``)."""
    return _TEXT.doprint(expr) if isinstance(expr, sympy.Basic) else str(expr)


def mathml(expr, relation: str = "", rhs=None, display: bool = True) -> str:
    """One ``<math>`` element: ``expr``, or ``expr relation rhs`` (a relation's symbol, e.g.
    ``≤``, or words such as ``≠ for every c``, printed as an operator)."""
    printer = MathMLPrinter()
    body = printer.doprint(expr)
    if relation:
        operator = printer._element("mo", relation)
        body += operator.toxml().encode("ascii", "xmlcharrefreplace").decode() + printer.doprint(rhs)
    mode = "block" if display else "inline"
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{mode}"><mrow>{body}</mrow></math>'
