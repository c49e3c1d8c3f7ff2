"""Condition numbers: the plain ``kappa(H)`` and Cai's effective ``kappa*``.

References
----------
Cai, Li & Shen (2019), "A Quantitative Analysis of the Effect of Batch Normalization on
Gradient Descent", ICML (arXiv 1810.00122), Sec. 3: the linearisation of BNGD near the
minimiser ``w = s w*`` is governed by the *effective Hessian*

.. math:: H^* = H - \\frac{H w^* w^{*\\top} H}{w^{*\\top} H w^*},

which is positive semi-definite with ``H* w* = 0`` and, by Cauchy interlacing,
``0 = lambda_1(H*) <= lambda_1(H) <= lambda_2(H*) <= ... <= lambda_d(H*) <= lambda_d(H)``.
Hence ``kappa* = lambda_max(H*) / lambda^+_min(H*) <= kappa(H)`` (THEORY.md Sec. 2, [D+]).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ._validation import finite_vector, symmetric_matrix

if TYPE_CHECKING:
    from .matfree import EffectiveConditioning

__all__ = [
    "condition_number",
    "effective_condition_number",
    "effective_hessian",
    "effective_spectrum",
]

Array = np.ndarray


def _spd_eigenvalues(H: object, name: str = "H") -> Array:
    A = symmetric_matrix(H, name)
    lam = np.linalg.eigvalsh(A)
    if lam[0] <= 0.0 or lam[0] <= 10 * A.shape[0] * np.finfo(float).eps * abs(lam[-1]):
        raise ValueError(
            f"{name} must be symmetric positive definite (smallest eigenvalue {lam[0]:.3e}, largest {lam[-1]:.3e})"
        )
    return lam


def _spd_checked(H: object, name: str = "H") -> tuple[Array, Array]:
    """``(H, cholesky factor)``: symmetric (same test as :func:`symmetric_matrix`) and
    positive definite as proved by the Cholesky factorization (no eigvalsh)."""
    A = symmetric_matrix(H, name)
    try:
        C = np.linalg.cholesky(A)
    except np.linalg.LinAlgError as exc:
        raise ValueError(f"{name} must be symmetric positive definite (Cholesky fails)") from exc
    return A, C


def condition_number(H: object) -> float:
    """Spectral condition number ``kappa(H) = lambda_max(H) / lambda_min(H)``.

    Parameters
    ----------
    H : array_like, shape (d, d)
        Symmetric positive definite matrix (the Hessian of a quadratic,
        ``H = E[x x^T]`` in Cai, Li & Shen (2019), Sec. 2).

    Returns
    -------
    float
        ``kappa(H) >= 1``.

    Raises
    ------
    ValueError
        If ``H`` is not square, not symmetric, not finite or not positive definite
        (smallest eigenvalue ``<= 10 d eps lambda_max``).
    """
    lam = _spd_eigenvalues(H, "H")
    return float(lam[-1] / lam[0])


def effective_hessian(H: object, w_star: object) -> Array:
    """Cai's effective Hessian ``H* = H - H w* w*^T H / (w*^T H w*)``.

    Source: Cai, Li & Shen (2019), Sec. 3 (THEORY.md Sec. 2, structural fact (iii)).

    Parameters
    ----------
    H : array_like, shape (d, d)
        Symmetric positive definite matrix.
    w_star : array_like, shape (d,)
        The minimiser direction ``w* = H^{-1} u`` (any non-zero multiple gives the same
        ``H*``).

    Returns
    -------
    numpy.ndarray, shape (d, d)
        The symmetric positive semi-definite matrix ``H*`` with ``H* w* = 0``.
    """
    A = symmetric_matrix(H, "H")
    w = finite_vector(w_star, "w_star", A.shape[0])
    # H* is invariant under w -> t w, and H* (c B) = c B*: work with u = w / max|w| and
    # B = H / max|H| (entries in [-1, 1]) so that no product over- or underflows
    wmax = float(np.max(np.abs(w))) if w.size else 0.0
    c = float(np.max(np.abs(A))) if A.size else 0.0
    if wmax == 0.0 or c == 0.0:
        raise ValueError(
            "w_star must satisfy w_star^T H w_star > 0 (w_star is zero or H is not positive definite)"
        )
    u = w / wmax
    B = A / c
    Bu = B @ u
    q = float(u @ Bu)
    if not q > 0.0:
        raise ValueError(
            "w_star must satisfy w_star^T H w_star > 0 (w_star is zero or H is not positive definite)"
        )
    # in place (same operations, same rounding as c * (B - outer(Bu, Bu) / q)): at most two
    # d x d arrays alive at once besides H (issue 13)
    with np.errstate(over="ignore", invalid="ignore"):
        O = np.outer(Bu, Bu)
        O /= q
        np.subtract(B, O, out=B)
        del O
        B *= c
    Hs = B
    if not np.isfinite(Hs).all():
        raise ValueError(
            "H: w_star^T H w_star is too small relative to ||H w_star||^2 "
            "(H is not positive definite or is numerically singular)"
        )
    with np.errstate(over="ignore"):
        out = Hs + Hs.T
    if np.isfinite(out).all():
        out *= 0.5
    else:  # entries near the float limit: halve first (the same numbers otherwise)
        out = 0.5 * Hs + 0.5 * Hs.T
    del Hs, B
    return out


def _h_star_unscaled(A: Array, w: Array) -> Array:
    """``A - (A w)(A w)^T / (w^T A w)`` in one new ``d x d`` array (outer product, divided
    and subtracted in place: the same operations and rounding as the textbook formula)."""
    Aw = A @ w
    O = np.outer(Aw, Aw)
    O /= float(w @ Aw)
    np.subtract(A, O, out=O)
    return O


def effective_spectrum(H: object, w_star: object) -> Array:
    """Eigenvalues of ``H*`` with the single structural zero (``H* w* = 0``) removed.

    The one implementation behind :func:`effective_condition_number` (dense),
    :func:`bntheory.bounds.kappa_star` and :func:`bntheory.bounds.bngd_spectrum`.
    ``H`` must be symmetric positive definite (proved by a Cholesky factorization);
    ``H* = H - H w w^T H / (w^T H w)`` is formed as written (retried with
    ``w / max|w|`` if that overflows: ``H*`` is invariant to the scale of ``w``),
    symmetrized, and its eigenvalues computed without eigenvectors. The removed eigenvalue
    is the one of smallest absolute value (it is ``O(eps ||H||)`` in floating point,
    possibly slightly negative). Source: Cai, Li & Shen (2019), Sec. 3.

    Parameters
    ----------
    H : array_like, shape (d, d)
        Symmetric positive definite matrix, ``d >= 2``.
    w_star : array_like, shape (d,)
        Non-zero minimiser direction.

    Returns
    -------
    numpy.ndarray, shape (d - 1,)
        The non-zero spectrum of ``H*``, ascending.

    Raises
    ------
    ValueError
        Naming ``H`` or ``w_star``: bad shapes or values, ``H`` not positive definite,
        ``d = 1`` (``H* = 0``: no non-zero eigenvalue, ``kappa*`` undefined), or ``H*``
        not representable in float64.
    """
    A = _spd_checked(H, "H")[0]  # the factor proved definiteness; not kept alive
    w = finite_vector(w_star, "w_star", A.shape[0])
    if not np.any(w):
        raise ValueError("w_star must be non-zero")
    if A.shape[0] < 2:
        raise ValueError(
            "H must be at least 2 x 2: for d = 1, H* = 0 has no non-zero eigenvalue "
            "(kappa* is undefined)"
        )
    with np.errstate(all="ignore"):
        Hs = _h_star_unscaled(A, w)
        if not np.isfinite(Hs).all():
            del Hs
            Hs = _h_star_unscaled(A, w / np.max(np.abs(w)))
    if not np.isfinite(Hs).all():
        raise ValueError("H: H* = H - H w w^T H / (w^T H w) overflows float64 (rescale H)")
    S = Hs + Hs.T
    del Hs
    S *= 0.5
    lam = np.linalg.eigvalsh(S)
    return np.delete(lam, int(np.argmin(np.abs(lam))))


def _kappa_star_dense(H: object, w_star: object) -> float:
    lam = effective_spectrum(H, w_star)
    with np.errstate(all="ignore"):
        out = float(lam[-1] / lam[0])
    if not (lam[0] > 0 and np.isfinite(out)):
        raise ValueError(
            "H and w_star: lambda_min^+(H*) is zero or below float64 resolution, so kappa* "
            "is not representable (H numerically singular or too ill-conditioned)"
        )
    return out


def effective_condition_number(
    H: object, w_star: object, *, method: str = "auto", return_certificate: bool = False
) -> float | object:
    """Cai's effective condition number ``kappa* = lambda_max(H*) / lambda^+_min(H*)``.

    Source: Cai, Li & Shen (2019), Sec. 3; ``kappa* <= kappa(H)`` by Cauchy interlacing.
    The one zero eigenvalue of ``H*`` (eigenvector ``w*``) is dropped robustly: the
    eigenvalue of smallest modulus is removed, the others form the non-zero spectrum
    (they are ``>= lambda_min(H) > 0`` by interlacing).

    Parameters
    ----------
    H : array_like, shape (d, d)
        Symmetric positive definite matrix, ``d >= 2``.
    w_star : array_like, shape (d,)
        Minimiser direction.

    method : {"auto", "dense", "matrix-free"}
        ``dense``: ``eigvalsh`` of ``H*`` (positive definiteness proved by a Cholesky
        factorization, not by a second ``eigvalsh``). ``matrix-free``
        (:func:`bntheory.measures.matfree.effective_conditioning`): Lanczos on ``H*`` for
        ``lambda_max`` and on ``P H^{-1} P`` for ``lambda_min^+``, ``H^{-1}`` by the
        Cholesky factor (array input), an exact inverse (``SpectralOperator``: then the
        secular equation is used) or CG (other operators). ``auto``: dense for an array
        (measured faster than Lanczos with Cholesky solves up to d = 8000 on 2 cores:
        65 s vs 195 s at d = 8000; both need 2 d x d arrays), matrix-free for a
        ``LinearOperator`` or when ``return_certificate``. Both agree to ~1e-12 relative
        (tested to 1e-10 at d <= 4000).
    return_certificate : bool
        Return the :class:`~bntheory.measures.matfree.EffectiveConditioning` record
        (values and relative residuals) instead of the float (matrix-free only).

    Returns
    -------
    float
        ``kappa*``, with ``1 <= kappa* <= kappa(H)`` up to round-off.
    """
    if method not in ("auto", "dense", "matrix-free"):
        raise ValueError(f"method must be 'auto', 'dense' or 'matrix-free', got {method!r}")
    if method == "auto":
        method = "matrix-free" if (isinstance(H, LinearOperator) or return_certificate) else "dense"
    if method == "matrix-free":
        res = effective_conditioning_any(H, w_star)
        return res if return_certificate else float(res.kappa_star)
    if return_certificate:
        raise ValueError("return_certificate needs method='matrix-free' (or 'auto')")
    return _kappa_star_dense(H, w_star)


def effective_conditioning_any(
    H: object, w_star: object, *, rng: object = 0
) -> EffectiveConditioning:
    """Matrix-free ``kappa*`` with certificates for an array or an operator ``H``.

    Array: Cholesky factor for ``H^{-1}``; ``SpectralOperator`` (structured ``H``): the
    secular equation in its eigenbasis; other ``LinearOperator``: CG solves.

    Parameters
    ----------
    H : array_like or LinearOperator
        Symmetric positive definite ``(d, d)``.
    w_star : (d,) array_like
        Non-zero minimiser direction.
    rng : int or Generator
        Seed of the Lanczos start vectors.

    Returns
    -------
    EffectiveConditioning
        ``kappa*`` and the certified extremes of ``spec+(H*)``.
    """
    from .matfree import effective_conditioning

    if isinstance(H, LinearOperator):
        if hasattr(H, "eigenvalues") and hasattr(H, "to_eigen"):
            w = finite_vector(w_star, "w_star", H.shape[0])
            if not np.any(w):
                raise ValueError("w_star must be non-zero")
            return effective_conditioning(None, None, eigh=(H.eigenvalues, H.to_eigen(w)))
        solve = getattr(H, "solve", None)
        return effective_conditioning(H, w_star, solve=solve, rng=rng)
    import scipy.linalg

    A, C = _spd_checked(H, "H")

    def solve(b: Array) -> Array:
        return scipy.linalg.cho_solve((C, True), b, check_finite=False)

    return effective_conditioning(A, w_star, solve=solve, rng=rng)
