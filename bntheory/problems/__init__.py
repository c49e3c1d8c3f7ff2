"""Objectives with exact loss / grad / hvp: least squares, Gaussian halfspaces, BN reparametrization."""

from __future__ import annotations

from .halfspace import LOSSES, EmpiricalHalfspace, GaussianHalfspace
from .least_squares import LeastSquares
from .normalized import Normalized

__all__ = ["LOSSES", "EmpiricalHalfspace", "GaussianHalfspace", "LeastSquares", "Normalized"]
