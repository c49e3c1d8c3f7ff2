"""SymPy proofs of the batch-normalization backward pass and related identities.

``verify_backward(m)`` builds Algorithm 1 of Ioffe & Szegedy (2015) for a concrete batch
size, differentiates it with ``sympy.diff`` and proves the paper's equations, the closed
form, the projection structure of the Jacobian, Theorem 4.1 of Santurkar et al. (2018),
scale invariance, the unbiased running variance and the conv = dense reduction; general
proofs for a symbolic batch size are included. ``symbolic_backward(m)`` compiles the
symbolic gradient for cross-checks of :mod:`bntheory.bn`.
"""

from __future__ import annotations

from bntheory.symbolic.backward import check_formula, closed_form_dx, paper_dmean, paper_dx
from bntheory.symbolic.codegen import symbolic_backward
from bntheory.symbolic.report import IdentityResult, SymbolicReport
from bntheory.symbolic.verify import verify_backward, verify_backward_range

__all__ = [
    "IdentityResult",
    "SymbolicReport",
    "check_formula",
    "closed_form_dx",
    "paper_dmean",
    "paper_dx",
    "symbolic_backward",
    "verify_backward",
    "verify_backward_range",
]
