"""Hutchinson's stochastic trace estimator.

References
----------
Hutchinson (1990), "A stochastic estimator of the trace of the influence matrix for
Laplacian smoothing splines", Commun. Stat. Simul. Comput. 19(2): for Rademacher ``z``,
``E[z^T A z] = tr(A)`` and ``Var[z^T A z] = 2 (||A||_F^2 - sum_i A_ii^2)`` (A symmetric).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import as_generator
from ._validation import as_operator, positive_int

__all__ = ["TraceEstimate", "hutchinson_trace", "hutchinson_variance"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class TraceEstimate:
    """Result of :func:`hutchinson_trace`.

    Attributes
    ----------
    estimate : float
        Sample mean of ``z_i^T A z_i``.
    standard_error : float
        Sample standard deviation (``ddof=1``) divided by ``sqrt(n_samples)``.
    n_samples : int
    samples : ndarray, shape (n_samples,)
        The individual quadratic forms ``z_i^T A z_i``.
    """

    estimate: float
    standard_error: float
    n_samples: int
    samples: Array


def hutchinson_variance(A: object) -> float:
    """Exact variance of one Rademacher sample, ``2 (||A||_F^2 - sum_i A_ii^2)``.

    Source: Hutchinson (1990), "A stochastic estimator of the trace of the influence
    matrix for Laplacian smoothing splines".

    Parameters
    ----------
    A : array_like, shape (d, d)
        A dense symmetric matrix (reference use; operators are rejected).

    Returns
    -------
    float
        The variance of ``z^T A z`` for one Rademacher vector ``z``.
    """
    _, M = as_operator(A, "A")
    if M is None:
        raise TypeError("A must be a dense symmetric matrix for the exact variance")
    return float(2.0 * (np.sum(M * M) - np.sum(np.diag(M) ** 2)))


def hutchinson_trace(
    op: object, n_samples: int = 100, rng: object = None, *, block: int = 32
) -> TraceEstimate:
    """Estimate ``tr(A)`` with Rademacher probes (Hutchinson 1990).

    Parameters
    ----------
    op : LinearOperator or array_like, shape (d, d)
        Symmetric operator.
    n_samples : int
        Number of probes, ``>= 2`` (two are needed for a standard error).
    rng : int, Generator, SeedSequence or None
        Seed for the probes.
    block : int
        Probes applied per ``op.matmat`` call.

    Returns
    -------
    TraceEstimate
        Estimate and standard error ``s / sqrt(n)``; the theoretical standard error is
        ``sqrt(hutchinson_variance(A) / n)``.
    """
    A, _ = as_operator(op, "op")
    n = positive_int(n_samples, "n_samples", minimum=2)
    block = positive_int(block, "block")
    gen = as_generator(rng)
    d = A.shape[0]
    vals = np.empty(n)
    for s in range(0, n, block):
        b = min(block, n - s)
        Z = gen.integers(0, 2, size=(d, b)).astype(np.float64) * 2.0 - 1.0
        with np.errstate(over="ignore", invalid="ignore"):
            AZ = np.asarray(A.matmat(Z), dtype=np.float64).reshape(d, b)
            vals[s : s + b] = np.einsum("ij,ij->j", Z, AZ)
    if not np.all(np.isfinite(vals)):
        raise ValueError("op produced NaN or infinite values")
    vals.flags.writeable = False
    # mean and std of vals / max|vals|, scaled back: no overflow for samples near the
    # float64 limit (the plain sum of squares overflows beyond ~1e154)
    top = float(np.max(np.abs(vals)))
    u = vals / top if top > 0 else vals
    with np.errstate(over="ignore"):
        estimate = top * float(u.mean()) if top > 0 else 0.0
        se = top * float(u.std(ddof=1) / np.sqrt(n)) if top > 0 else 0.0
    if not (np.isfinite(estimate) and np.isfinite(se)):
        raise ValueError("op: the trace samples are too large for float64 statistics")
    return TraceEstimate(
        estimate=float(estimate),
        standard_error=float(se),
        n_samples=n,
        samples=vals,
    )
