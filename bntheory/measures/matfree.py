"""Matrix-free extreme eigenvalues, ``kappa`` and Cai's ``kappa*`` with certificates.

Everything here touches ``H`` only through products ``H v`` (and, for the bottom of the
spectrum, solves ``H x = b`` by a Cholesky factor, an exact structured inverse or
conjugate gradients), so it runs at ``d = 100,000`` where a dense ``eigvalsh`` cannot.

* ``lambda_max``: ARPACK Lanczos (``eigsh``, ``which="LA"``, seeded ``v0``).
* ``lambda_min``: Lanczos on the inverse, ``1 / lambda_max(H^{-1})`` (shift-invert at
  shift 0), with ``H^{-1}`` applied by the given solver or by CG.
* Cai's effective Hessian ``H* = H - b b^T / rho`` (``b = H w*``, ``rho = w*^T H w*``;
  Cai, Li & Shen 2019, Sec. 3) is a rank-one downdate of ``H`` with ``H* w* = 0``. Its
  pseudo-inverse on ``range(H*) = w*^perp`` is ``P H^{-1} P`` with ``P = I - w w^T/||w||^2``
  (for ``v perp w``: ``H* (H^{-1} v + alpha w) = v - b (w^T v)/rho = v``, since
  ``H^{-1} b = w``), so ``lambda_min^+(H*) = 1 / lambda_max(P H^{-1} P)``: no Woodbury
  inverse of the singular ``H*`` is needed.
* When the eigendecomposition ``H = Q diag(lambda) Q^T`` is known (structured
  generators), ``H* = Q (diag(lambda) - z z^T) Q^T`` with ``z = diag(lambda) c / sqrt(rho)``,
  ``c = Q^T w*``, and the extreme eigenvalues of the diagonal-minus-rank-one matrix are
  roots of the secular equation ``1 - sum_i z_i^2 / (lambda_i - t) = 0`` (Golub 1973;
  Bunch, Nielsen & Sorensen 1978), found by bisection in ``O(d)`` per evaluation to
  float64 resolution.

Every result carries a certificate: the relative residual ``||A x - theta x|| /
(|theta| ||x||)`` of the returned Ritz pair in the ORIGINAL operator (``H`` or ``H*``).

Layout: :mod:`bntheory.measures.extremes` holds the certified ``lambda_max``/``lambda_min``
and ``cg_solve``, :mod:`bntheory.measures.secular` the secular equation; this module holds
Cai's ``kappa*`` and re-exports every name it had before the split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from .._checks import as_generator
from ._validation import as_operator, finite_vector

# The certified Lanczos extremes and the secular equation live in their own modules
# (extremes, secular); this module keeps Cai's kappa* and re-exports every earlier name.
from .extremes import (
    _NCV,
    CG_RTOL,
    SMALL_DIM,
    EigenCertificate,
    Solver,
    _dense_small,
    _inverse_operator,
    _rel_residual,
    _top_pair,
    cg_solve,
    lambda_max,
    lambda_min,
)
from .secular import secular_extremes

__all__ = [
    "CG_RTOL",
    "EffectiveConditioning",
    "EigenCertificate",
    "cg_solve",
    "effective_conditioning",
    "lambda_max",
    "lambda_min",
    "secular_extremes",
]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class EffectiveConditioning:
    """``kappa* = lambda_max(H*) / lambda_min^+(H*)`` with certificates (Cai et al. 2019, Sec. 3)."""

    kappa_star: float
    lam_max: EigenCertificate
    lam_min_plus: EigenCertificate

    @property
    def residual(self) -> float:
        """The larger of the two relative residuals."""
        return max(self.lam_max.residual, self.lam_min_plus.residual)


def effective_conditioning(
    H: object,
    w_star: object,
    *,
    solve: Solver | None = None,
    eigh: tuple[Array, Array] | None = None,
    rng: object = 0,
    tol: float = 0.0,
    cg_rtol: float = CG_RTOL,
) -> EffectiveConditioning:
    """Matrix-free ``kappa* = lambda_max(H*) / lambda_min^+(H*)`` with certificates.

    Parameters
    ----------
    H : LinearOperator or array_like, shape (d, d)
        Symmetric positive definite ``H`` (only products ``H v`` are used).
    w_star : array_like, shape (d,)
        Minimiser direction (any non-zero multiple).
    solve : callable, optional
        ``solve(b) = H^{-1} b`` (Cholesky or exact structured inverse); default CG to
        ``cg_rtol``.
    eigh : (eigenvalues, coordinates of w_star in the eigenbasis), optional
        Known eigendecomposition: then the secular equation gives both values to float64
        resolution in ``O(d)`` memory, without any product with ``H``.
    rng : seed of the Lanczos start vectors.
    tol : ARPACK relative accuracy (0 = machine precision).
    cg_rtol : relative residual of the CG solves when ``solve`` is not given.

    Returns
    -------
    EffectiveConditioning
        Source: Cai, Li & Shen (2019), Sec. 3 (THEORY.md Sec. 2 (iii)).
    """
    if eigh is not None:
        lam = finite_vector(eigh[0], "eigh[0]")
        c = finite_vector(eigh[1], "eigh[1]", lam.shape[0])
        if lam.shape[0] < 2:
            raise ValueError(
                "eigh[0]: H must be at least 2 x 2 (H* of a 1 x 1 H has no non-zero eigenvalue)"
            )
        cmax = float(np.max(np.abs(c)))
        if cmax == 0.0:
            raise ValueError("w_star must be non-zero")
        c = c / cmax
        rho = float(c @ (lam * c))
        top, bottom = secular_extremes(lam, lam * c / np.sqrt(rho))
        return EffectiveConditioning(float(top.value / bottom.value), top, bottom)
    A, M = as_operator(H, "H")
    d = A.shape[0]
    if d < 2:
        raise ValueError(
            f"H must be at least 2 x 2 (got {d} x {d}): H* = H - H w* w*^T H / (w*^T H w*) "
            "has no non-zero eigenvalue"
        )
    w = finite_vector(w_star, "w_star", d)
    wmax = float(np.max(np.abs(w)))
    if wmax == 0.0:
        raise ValueError("w_star must be non-zero")
    w = w / wmax
    b = np.asarray(A.matvec(w), float)
    rho = float(w @ b)
    if not rho > 0:
        raise ValueError("H must be positive definite (w_star^T H w_star <= 0)")
    Hs = LinearOperator(
        (d, d), matvec=lambda v: A.matvec(np.ravel(v)) - b * (b @ np.ravel(v)) / rho, dtype=float
    )
    if d <= SMALL_DIM:
        ev = _dense_small(Hs)
        ev = np.delete(ev, int(np.argmin(np.abs(ev))))
        top = EigenCertificate(float(ev[-1]), 0.0, "dense")
        bottom = EigenCertificate(float(ev[0]), 0.0, "dense")
        return EffectiveConditioning(top.value / bottom.value, top, bottom)
    theta, x = _top_pair(Hs, rng, tol)
    top = EigenCertificate(theta, _rel_residual(Hs, x, theta), "lanczos")
    inv = _inverse_operator(A, solve, cg_rtol)
    e = w / np.linalg.norm(w)

    def pinv(v: Array) -> Array:
        v = np.ravel(v)
        v = v - e * (e @ v)
        y = inv(v)
        return y - e * (e @ y)

    Pinv = LinearOperator((d, d), matvec=pinv, dtype=float)
    gen = as_generator(rng)
    v0 = gen.standard_normal(d)
    v0 -= e * (e @ v0)
    vals, vecs = eigsh(Pinv, k=1, which="LA", v0=v0, tol=tol, ncv=min(d - 1, _NCV))
    if not vals[0] > 0:
        raise ValueError("H: lambda_min^+(H*) is not positive (H numerically singular)")
    lam_min = 1.0 / float(vals[0])
    bottom = EigenCertificate(lam_min, _rel_residual(Hs, vecs[:, 0], lam_min), "lanczos-inverse")
    return EffectiveConditioning(float(top.value / bottom.value), top, bottom)
