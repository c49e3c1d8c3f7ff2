"""Solvers: GD, BNGD (Cai et al.), GDNP (Kohler et al.); ``solve(problem, solver, x0) -> Result``."""

from __future__ import annotations

from ._base import Diagnostics, Result, Status, solve
from .bngd import BNGD
from .gd import GradientDescent
from .gdnp import GDNP, bisection

__all__ = [
    "BNGD",
    "GDNP",
    "Diagnostics",
    "GradientDescent",
    "Result",
    "Status",
    "bisection",
    "solve",
]
