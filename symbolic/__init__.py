"""The SymPy backend and the prover.

``symbolic.tensor``   symbolic tensors (generic-entry or explicit shape) and their context
``symbolic.domains``  variable domains (ℝ, ℝ>0, [0, 1), ℕ, ...)
``symbolic.prover``   ``decide(Claim) -> Verdict``: PROVED / REFUTED / UNKNOWN
``symbolic.timelimit`` the hard time limit each decision runs under
"""
from symbolic.tensor import SYMPY, NotElementwise, SymTensor
from symbolic.domains import DOMAINS, Domain, Variable, make_variable
from symbolic.prover import PROVED, REFUTED, UNKNOWN, Claim, ClaimError, Verdict, decide

__all__ = [
    "SYMPY", "NotElementwise", "SymTensor", "DOMAINS", "Domain", "Variable", "make_variable",
    "PROVED", "REFUTED", "UNKNOWN", "Claim", "ClaimError", "Verdict", "decide",
]
