"""Measures: condition numbers, Hessian spectra, traces, smoothness constants and rate fits.

Everything here works on duck types: a *problem* is any object with ``dim``,
``loss(x)``, ``grad(x)``, ``hvp(x, v)`` (optionally ``hessian(x)``); a *result* is any
object with ``losses``, ``gaps`` (may be None), ``grad_norms``.
"""

from __future__ import annotations

from .conditioning import (
    condition_number,
    effective_condition_number,
    effective_hessian,
    effective_spectrum,
)
from .density import SpectralDensity, slq_density
from .eigen import top_eigenvalues
from .lanczos import LanczosResult, lanczos
from .matfree import EffectiveConditioning, EigenCertificate, effective_conditioning
from .operators import dense_matrix, hessian_operator
from .rates import RateFit, fit_linear_rate, sequence_of
from .smoothness import (
    LineProfile,
    SmoothnessProfile,
    global_smoothness,
    gradient_lipschitz_along,
    local_smoothness,
    trajectory_smoothness,
)
from .trace import TraceEstimate, hutchinson_trace, hutchinson_variance

__all__ = [
    "EffectiveConditioning",
    "EigenCertificate",
    "LanczosResult",
    "LineProfile",
    "RateFit",
    "SmoothnessProfile",
    "SpectralDensity",
    "TraceEstimate",
    "condition_number",
    "dense_matrix",
    "effective_condition_number",
    "effective_conditioning",
    "effective_hessian",
    "effective_spectrum",
    "fit_linear_rate",
    "global_smoothness",
    "gradient_lipschitz_along",
    "hessian_operator",
    "hutchinson_trace",
    "hutchinson_variance",
    "lanczos",
    "local_smoothness",
    "sequence_of",
    "slq_density",
    "top_eigenvalues",
    "trajectory_smoothness",
]
