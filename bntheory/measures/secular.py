"""Extreme eigenvalues of a diagonal-minus-rank-one matrix by the secular equation.

For ``diag(lam) - z z^T`` the eigenvalues are the roots of
``f(t) = 1 - sum_i z_i^2 / (lam_i - t)`` (Golub 1973, "Some modified matrix eigenvalue
problems", SIAM Review 15(2); Bunch, Nielsen & Sorensen 1978, "Rank-one modification of
the symmetric eigenproblem", Numer. Math. 31), one in each gap between consecutive
distinct poles, found here by bisection in ``O(d)`` per evaluation to float64 resolution.
Cai, Li & Shen (2019, Sec. 3)'s effective Hessian ``H*`` has this form in the eigenbasis
of ``H``. Re-exported by :mod:`bntheory.measures.matfree` (the import path of earlier
versions).
"""

from __future__ import annotations

import numpy as np

from ._validation import finite_vector
from .extremes import EigenCertificate

__all__ = ["secular_extremes"]

Array = np.ndarray


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
