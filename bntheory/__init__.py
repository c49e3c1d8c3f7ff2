"""bntheory: verify the theory of batch normalization.

Symbolic proofs (SymPy) of the backward-pass algebra, exact population objectives
(least squares, Gaussian halfspaces) with and without normalization, solvers (GD, BNGD,
GDNP), curvature measures, and a claims ledger that checks the reference article.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
