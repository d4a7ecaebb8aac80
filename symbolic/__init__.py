"""The SymPy backend and the trusted decider.

``symbolic.obligation`` the data a theorem hands to the decider (obligations, variables)
``symbolic.prover``     ``decide_theorem(TheoremData)`` / ``decide_obligation(Obligation, variables)``
                        -> ``Verdict``: PROVED / REFUTED / UNKNOWN
``symbolic.tensor``     symbolic tensors (generic-entry or explicit shape) and their context
``symbolic.domains``    variable domains (ℝ, ℝ>0, [0, 1), ℕ, ℝ<0, ℝ∖{0}, ...)
``symbolic.timelimit``  the hard time limit each decision runs under
"""
from symbolic.domains import DOMAINS, Domain
from symbolic.prover import (PROVED, REFUTED, UNKNOWN, ClaimError, Verdict, decide_obligation,
                             decide_theorem)

__all__ = ["DOMAINS", "Domain", "PROVED", "REFUTED", "UNKNOWN", "ClaimError", "Verdict",
           "decide_obligation", "decide_theorem"]
