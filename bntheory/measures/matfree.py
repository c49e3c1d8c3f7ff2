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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg, eigsh

from .._checks import as_generator
from ._validation import as_operator, finite_vector, positive_float

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


def secular_extremes(lam: object, z: object) -> tuple[EigenCertificate, EigenCertificate]:
    """``lambda_max`` and ``lambda_min^+`` of ``diag(lam) - z z^T`` (one structural zero).

    The matrix is PSD with exactly one zero eigenvalue when ``z^T diag(lam)^{-1} z = 1``
    (Cai's ``H*`` in the eigenbasis of ``H``). Entries with ``z_i = 0`` (to ``1e-15 ||z||``)
    and copies of repeated ``lam_i`` beyond the first of a group are eigenvalues as they
    are (deflation, Bunch, Nielsen & Sorensen 1978); the others are roots of
    ``f(t) = 1 - sum_i z_i^2/(lam_i - t)``, one in each interval between consecutive
    distinct poles and one (the structural zero) below the smallest. Roots are bracketed
    and bisected to adjacent float64 numbers, in coordinates relative to the left pole.
    The residual of a secular root ``t`` with vector ``v_i = z_i/(lam_i - t)`` is
    ``||z|| |f(t)| / (|t| ||v||)``.

    Parameters
    ----------
    lam : (d,) array_like
        Eigenvalues of ``H`` (positive).
    z : (d,) array_like
        ``diag(lam) c / sqrt(c^T diag(lam) c)``, ``c`` the eigen-coordinates of ``w*``.

    Returns
    -------
    tuple
        ``(lambda_max, lambda_min^+)`` certificates.
    """
    lam = finite_vector(lam, "lam")
    z = finite_vector(z, "z", lam.shape[0])
    order = np.argsort(lam, kind="stable")
    lam, z = lam[order], z[order]
    zmax = float(np.max(np.abs(z))) if z.size else 0.0
    zn = zmax * float(np.linalg.norm(z / zmax)) if zmax > 0 else 0.0
    if not np.isfinite(zn * zn):
        raise ValueError(f"z: ||z||^2 overflows float64 (max |z_i| = {zmax:.3g})")
    keep = np.abs(z) > 1e-15 * zn
    deflated = list(lam[~keep])
    lk, zk = lam[keep], z[keep]
    # merge exactly repeated poles: one secular entry per distinct value, the rest deflated
    uniq, start, counts = np.unique(lk, return_index=True, return_counts=True)
    z2 = np.add.reduceat(zk * zk, start) if lk.size else np.zeros(0)
    for val, cnt in zip(uniq, counts, strict=True):
        deflated.extend([val] * (int(cnt) - 1))
    cands_max: list[EigenCertificate] = []
    cands_min: list[EigenCertificate] = []
    if deflated:
        dv = np.asarray(deflated)
        cands_max.append(EigenCertificate(float(dv.max()), 0.0, "secular"))
        pos = dv[dv > 0]
        if pos.size:
            cands_min.append(EigenCertificate(float(pos.min()), 0.0, "secular"))
    if uniq.size >= 2:
        # one root in each gap between distinct poles; the one below the smallest pole
        # is the structural zero (dropped)
        low = _secular_root(uniq, z2, 1)
        cands_min.append(low)
        cands_max.append(low if uniq.size == 2 else _secular_root(uniq, z2, uniq.size - 1))
    if not cands_max or not cands_min:
        raise ValueError("lam, z: H* has no positive eigenvalue (dimension 1)")
    top = max(cands_max, key=lambda c: c.value)
    bottom = min(cands_min, key=lambda c: c.value)
    return top, bottom


def _secular_root(poles: Array, z2: Array, j: int) -> EigenCertificate:
    """Root of ``1 - sum z2_i/(poles_i - t)`` in ``(poles[j-1], poles[j])``."""
    base = poles[j - 1]
    delta = poles - base  # exact for the neighbouring poles up to one rounding
    gap = float(delta[j])

    def f(t: float) -> float:
        return 1.0 - float(np.sum(z2 / (delta - t)))

    lo, hi = 0.0, gap
    for _ in range(2200):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        if f(mid) > 0:  # f decreases from +inf (left pole) to -inf (right pole)
            lo = mid
        else:
            hi = mid
    t = 0.5 * (lo + hi)
    value = float(base + t)
    v = np.sqrt(z2) / (delta - t)
    resid = float(np.sqrt(np.sum(z2)) * abs(f(t)) / (abs(value) * np.linalg.norm(v)))
    return EigenCertificate(value, resid, "secular")


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
