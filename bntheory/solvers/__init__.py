"""Solvers: GD, BNGD (Cai et al.), GDNP (Kohler et al.); ``solve(problem, solver, x0) -> Result``."""

from __future__ import annotations

from ._base import Diagnostics, Result, solve
from .bngd import BNGD
from .gd import GradientDescent
from .gdnp import GDNP, KohlerCheck, bisection, kohler_bound_ratio, kohler_grid

__all__ = [
    "BNGD",
    "GDNP",
    "Diagnostics",
    "GradientDescent",
    "KohlerCheck",
    "Result",
    "bisection",
    "kohler_bound_ratio",
    "kohler_grid",
    "solve",
]
