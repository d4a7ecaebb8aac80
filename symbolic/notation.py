"""Math notation for reports: SymPy's text made readable (x**2 → x², a*b → a·b, sqrt → √)."""
from __future__ import annotations

import re

import sympy
from sympy.printing.mathml import mathml as _presentation

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_RELATIONS = {sympy.Eq: "=", sympy.Ne: "≠", sympy.Lt: "<", sympy.Le: "≤", sympy.Gt: ">", sympy.Ge: "≥"}


def math_text(expr) -> str:
    if isinstance(expr, sympy.core.relational.Relational):
        symbol = _RELATIONS.get(type(expr), expr.rel_op)
        return f"{math_text(expr.lhs)} {symbol} {math_text(expr.rhs)}"
    text = sympy.sstr(expr) if isinstance(expr, sympy.Basic) else str(expr)
    text = re.sub(r"\*\*(-?\d+)\b", lambda m: m.group(1).translate(_SUPERSCRIPT), text)
    text = text.replace("**", "^").replace("*", "·").replace("sqrt(", "√(")
    return text


def mathml(text: str) -> str:
    """Presentation MathML for an expression given as SymPy text ('' if it does not parse):
    browsers render it natively, offline."""
    if not text:
        return ""
    try:
        expr = sympy.parse_expr(text)
        parts = expr if isinstance(expr, (list, tuple)) else [expr]
        body = "<mo>,</mo>".join(_presentation(e, printer="presentation") for e in parts)
    except Exception:
        return ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mrow>{body}</mrow></math>'
