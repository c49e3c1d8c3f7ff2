"""Certified extreme eigenvalues of a symmetric operator from products ``H v`` alone.

* :func:`lambda_max`: ARPACK Lanczos (``eigsh``, ``which="LA"``, seeded ``v0``).
* :func:`lambda_min`: Lanczos on the inverse, ``1 / lambda_max(H^{-1})`` (shift-invert at
  shift 0), with ``H^{-1}`` applied by the given solver (a Cholesky factor, an exact
  structured inverse) or by conjugate gradients (:func:`cg_solve`).

Every result is an :class:`EigenCertificate`: the value with the relative residual
``||A x - theta x|| / (|theta| ||x||)`` of the returned Ritz pair in the ORIGINAL operator
(Lanczos 1950; the residual bound is Bauer & Fike 1960 / Weyl 1912). Below
:data:`SMALL_DIM` the operator is materialised and ``eigvalsh`` is used. Re-exported by
:mod:`bntheory.measures.matfree` (the import path of earlier versions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg, eigsh

from .._checks import as_generator
from ._validation import as_operator, positive_float

__all__ = [
    "CG_RTOL",
    "SMALL_DIM",
    "EigenCertificate",
    "cg_solve",
    "lambda_max",
    "lambda_min",
]

Array = np.ndarray
Solver = Callable[[Array], Array]

#: Default relative residual of the conjugate-gradient solves (``||H x - b|| <= CG_RTOL ||b||``).
CG_RTOL = 1e-12
#: Below this dimension the "matrix-free" routines materialise the operator and use ``eigh``.
SMALL_DIM = 8
_NCV = 40


@dataclass(frozen=True, slots=True)
class EigenCertificate:
    """One extreme eigenvalue with its certificate.

    Attributes
    ----------
    value : float
        The eigenvalue.
    residual : float
        ``||A x - value x|| / (|value| ||x||)`` for the returned vector ``x`` in the
        original operator ``A`` (a relative residual; by Bauer-Fike / Weyl some
        eigenvalue of ``A`` lies within ``residual * |value|`` of ``value``).
    method : str
        ``"lanczos"``, ``"lanczos-inverse"``, ``"secular"`` or ``"dense"``.
    """

    value: float
    residual: float
    method: str


def cg_solve(
    op: LinearOperator, b: Array, *, rtol: float = CG_RTOL, maxiter: int | None = None
) -> tuple[Array, float]:
    """``x ~ H^{-1} b`` by conjugate gradients; returns ``(x, ||H x - b|| / ||b||)``.

    Raises ValueError naming ``H`` when CG does not reach ``rtol`` within ``maxiter``
    (default ``max(10 d, 1000)``) iterations (H not positive definite, or too ill-conditioned).

    Parameters
    ----------
    op : LinearOperator
        Symmetric positive definite ``H``.
    b : numpy.ndarray
        Right-hand side.
    rtol : float
        Relative residual to reach.
    maxiter : int, optional
        Iteration cap.

    Returns
    -------
    tuple
        ``(x, ||H x - b|| / ||b||)``.
    """
    d = op.shape[0]
    nb = float(np.linalg.norm(b))
    if nb == 0.0:
        return np.zeros(d), 0.0
    maxiter = max(10 * d, 1000) if maxiter is None else maxiter
    # a singular or indefinite H makes CG divide by a zero curvature p^T H p: the
    # floating-point warnings are suppressed here and the outcome is judged by its residual
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x, info = cg(op, b, rtol=rtol, atol=0.0, maxiter=maxiter)
        res = float(np.linalg.norm(op.matvec(x) - b)) / nb
    if not np.all(np.isfinite(x)) or not np.isfinite(res):
        raise ValueError(
            "H (op): conjugate gradients broke down (zero or negative curvature p^T H p); "
            "H is not positive definite"
        )
    if info != 0 and res > 10 * rtol:
        raise ValueError(
            f"H (op): conjugate gradients did not reach rtol={rtol:g} in {maxiter} iterations "
            f"(residual {res:.3g}); H may not be positive definite or is too ill-conditioned"
        )
    return x, res


def _seed(rng: object, d: int) -> Array:
    return as_generator(rng).standard_normal(d)


def _top_pair(op: LinearOperator, rng: object, tol: float) -> tuple[float, Array]:
    d = op.shape[0]
    v0 = _seed(rng, d)
    vals, vecs = eigsh(op, k=1, which="LA", v0=v0, tol=tol, ncv=min(d - 1, _NCV))
    return float(vals[0]), vecs[:, 0]


def _rel_residual(op: LinearOperator, x: Array, theta: float) -> float:
    r = op.matvec(x) - theta * x
    return float(np.linalg.norm(r) / (abs(theta) * np.linalg.norm(x)))


def _dense_small(op: LinearOperator) -> Array:
    d = op.shape[0]
    D = np.asarray(op.matmat(np.eye(d)), float)
    return np.linalg.eigvalsh(0.5 * (D + D.T))


def lambda_max(op: object, *, rng: object = 0, tol: float = 0.0) -> EigenCertificate:
    """Largest eigenvalue of a symmetric operator by Lanczos (ARPACK ``eigsh``, seeded ``v0``).

    ``tol`` is ARPACK's relative accuracy (0: machine precision).

    Parameters
    ----------
    op : LinearOperator or array_like
        Symmetric ``(d, d)``.
    rng : int or Generator
        Seed of the start vector.
    tol : float
        ARPACK relative accuracy (0: machine precision).

    Returns
    -------
    EigenCertificate
        The value, its relative residual and the method.
    """
    A, _ = as_operator(op, "op")
    tol = positive_float(tol, "tol", allow_zero=True)
    if A.shape[0] <= SMALL_DIM:
        return EigenCertificate(float(_dense_small(A)[-1]), 0.0, "dense")
    theta, x = _top_pair(A, rng, tol)
    return EigenCertificate(theta, _rel_residual(A, x, theta), "lanczos")


def _inverse_operator(A: LinearOperator, solve: Solver | None, cg_rtol: float) -> Solver:
    if solve is not None:
        return solve
    return lambda b: cg_solve(A, b, rtol=cg_rtol)[0]


def lambda_min(
    op: object,
    *,
    solve: Solver | None = None,
    rng: object = 0,
    tol: float = 0.0,
    cg_rtol: float = CG_RTOL,
) -> EigenCertificate:
    """Smallest eigenvalue of a symmetric positive definite operator: ``1 / lambda_max(H^{-1})``.

    ``solve(b)`` applies ``H^{-1}`` (a Cholesky factor, an exact structured inverse); without
    it, conjugate gradients to ``cg_rtol``. The certificate is the relative residual of the
    Ritz pair in ``H`` itself.

    Parameters
    ----------
    op : LinearOperator or array_like
        Symmetric positive definite ``(d, d)``.
    solve : callable, optional
        ``b -> H^{-1} b``.
    rng : int or Generator
        Seed of the start vector.
    tol : float
        ARPACK relative accuracy.
    cg_rtol : float
        CG tolerance when ``solve`` is not given.

    Returns
    -------
    EigenCertificate
        The value, its relative residual in ``H`` and the method.
    """
    A, _ = as_operator(op, "op")
    tol = positive_float(tol, "tol", allow_zero=True)
    cg_rtol = positive_float(cg_rtol, "cg_rtol")
    d = A.shape[0]
    if d <= SMALL_DIM:
        return EigenCertificate(float(_dense_small(A)[0]), 0.0, "dense")
    inv = _inverse_operator(A, solve, cg_rtol)
    Ainv = LinearOperator((d, d), matvec=lambda v: inv(np.ravel(v)), dtype=np.float64)
    theta, x = _top_pair(Ainv, rng, tol)
    if not theta > 0:
        raise ValueError("op must be positive definite (lambda_max(H^-1) <= 0)")
    lam = 1.0 / theta
    return EigenCertificate(lam, _rel_residual(A, x, lam), "lanczos-inverse")
