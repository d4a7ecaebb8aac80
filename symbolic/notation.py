"""Math notation for reports: SymPy's text made readable (x**2 → x², a*b → a·b, sqrt → √)."""
from __future__ import annotations

import re

import sympy

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
