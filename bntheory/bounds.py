"""The stated bounds as plain functions of the instance.

Each function names its source and the THEORY.md tag of the statement. Convention: a
function named ``*_iterate_rate`` returns the per-step contraction factor of the ITERATE
error (``||w_k - w*||``-like); for quadratics the loss-gap rate is its square
(:func:`gap_rate`). Functions that return a bound on ``rho(w_t) - rho*`` or on a loss gap
say so.
"""

from __future__ import annotations

import numpy as np

from bntheory._checks import as_int, as_real, as_spd, as_vector

from .bounds_kohler import (
    kohler_asymptotic_gap_rate,
    kohler_halfspace_bound,
    kohler_ols_bound,
)

__all__ = [
    "bngd_best_iterate_rate",
    "bngd_local_iterate_rate",
    "bngd_spectrum",
    "bngd_stability_threshold",
    "gap_rate",
    "gd_divergence_threshold",
    "gd_iterate_rate",
    "gd_one_over_L_iterate_rate",
    "gd_optimal_iterate_rate",
    "kappa_star",
    "kohler_asymptotic_gap_rate",
    "kohler_halfspace_bound",
    "kohler_ols_bound",
    "yang_linear_rate",
    "yang_relu_rate",
]

Array = np.ndarray


def _finite_or_raise(value: float, message: str) -> float:
    """Return ``value`` if finite, else raise ``ValueError(message)`` (a bound that
    overflows float64 is reported by name, never returned as inf or NaN)."""
    if not np.isfinite(value):
        raise ValueError(message)
    return value


def _kappa(kappa: float) -> float:
    k = as_real(kappa, "kappa")
    if k < 1:
        raise ValueError(f"kappa must be >= 1, got {k}")
    return k


def gap_rate(iterate_rate: float) -> float:
    """Loss-gap rate of a quadratic from its iterate rate: ``r^2`` (gap = 1/2 e^T H e).

    Parameters
    ----------
    iterate_rate : float
        Per-step contraction of the iterate error, >= 0.

    Returns
    -------
    float
        The loss-gap rate ``r^2``.
    """
    r = as_real(iterate_rate, "iterate_rate", nonneg=True)
    return _finite_or_raise(r * r, f"iterate_rate={r!r} is too large: its square overflows float64")


# ---------------------------------------------------------------------- GD on OLS
def gd_iterate_rate(eigenvalues: object, lr: float) -> float:
    """Exact asymptotic iterate rate of GD on a quadratic: ``max_i |1 - lr lambda_i|``.

    Source: standard (Nesterov 2004, Sec. 1.2.3); THEORY.md Sec. 2 [D].

    Parameters
    ----------
    eigenvalues : (d,) array_like
        Spectrum of the Hessian.
    lr : float
        Step size > 0.

    Returns
    -------
    float
        ``max_i |1 - lr lambda_i|``.
    """
    lam = as_vector(eigenvalues, "eigenvalues")
    lr = as_real(lr, "lr", positive=True)
    with np.errstate(over="ignore", invalid="ignore"):
        out = float(np.max(np.abs(1 - lr * lam)))
    return _finite_or_raise(
        out, "lr and eigenvalues: max |1 - lr * lambda| overflows float64 (lr too large)"
    )


def gd_optimal_iterate_rate(kappa: float) -> float:
    """``(kappa - 1)/(kappa + 1)``: GD iterate rate at ``lr = 2/(L + mu)`` (THEORY.md Sec. 2 [D]).

    Parameters
    ----------
    kappa : float
        Condition number >= 1.

    Returns
    -------
    float
        ``(kappa - 1)/(kappa + 1)``.
    """
    k = _kappa(kappa)
    return (k - 1) / (k + 1)


def gd_one_over_L_iterate_rate(kappa: float) -> float:
    """``1 - 1/kappa``: GD iterate rate at ``lr = 1/L`` (THEORY.md Sec. 2 [D]).

    Parameters
    ----------
    kappa : float
        Condition number >= 1.

    Returns
    -------
    float
        ``1 - 1/kappa``.
    """
    return 1 - 1 / _kappa(kappa)


def gd_divergence_threshold(lam_max: float) -> float:
    """``2 / lambda_max``: GD on OLS converges iff ``0 < lr < 2/lambda_max`` (THEORY.md Sec. 2 [D]).

    Parameters
    ----------
    lam_max : float
        Largest Hessian eigenvalue > 0.

    Returns
    -------
    float
        ``2 / lambda_max``.
    """
    lam = as_real(lam_max, "lam_max", positive=True)
    with np.errstate(over="ignore"):
        out = float(np.float64(2.0) / np.float64(lam))
    return _finite_or_raise(out, f"lam_max={lam!r} is too small: 2 / lam_max overflows float64")


# ---------------------------------------------------------------------- BNGD (Cai et al.)
def bngd_spectrum(H: object, w_star: object) -> Array:
    """Non-zero spectrum (ascending) of Cai et al.'s ``H* = H - H w* w*^T H / (w*^T H w*)``.

    Cai, Li & Shen (2019), Sec. 3 [U: notation unverified]; THEORY.md Sec. 2 (iii) [D+].
    ``H*`` is PSD with exactly one zero eigenvalue (direction ``w*``) when ``H > 0``; it is
    dropped. Dense ``eigvalsh`` (eigenvalues only), by the one implementation
    :func:`bntheory.measures.effective_spectrum`; for ``d = 1`` (``H* = 0``) the empty
    array.

    Parameters
    ----------
    H : (d, d) array_like
        Symmetric positive definite.
    w_star : (d,) array_like
        Non-zero minimiser direction.

    Returns
    -------
    numpy.ndarray, shape (d - 1,)
        The non-zero eigenvalues of ``H*``, ascending.
    """
    from bntheory.measures.conditioning import effective_spectrum

    if np.shape(H) == (1, 1):
        H1, _ = as_spd(H, "H")
        w = as_vector(w_star, "w_star", 1)
        if not np.any(w):
            raise ValueError("w_star must be non-zero")
        return np.empty(0)
    return effective_spectrum(H, w_star)


def _matrix_free_extremes(H: object, w_star: object):
    """The certified extremes of ``spec+(H*)`` when ``H`` is a ``LinearOperator`` (never
    formed; :func:`bntheory.measures.matfree.effective_conditioning`); None for an array,
    which keeps the dense ``eigvalsh`` path (faster than Lanczos with Cholesky solves up to
    d = 8000 as measured in benchmarks/bench_scale.py)."""
    from scipy.sparse.linalg import LinearOperator

    if not isinstance(H, LinearOperator):
        return None
    from bntheory.measures.conditioning import effective_conditioning_any

    return effective_conditioning_any(H, w_star)


def kappa_star(H: object, w_star: object) -> float:
    """``kappa* = lambda_max(H*) / lambda_min^+(H*)`` (Cai et al. 2019; ``kappa* <= kappa`` by interlacing [D]).

    The prediction's name for :func:`bntheory.measures.effective_condition_number` (one
    implementation, ``method="auto"``): an array by ``eigvalsh`` of ``H*``, a
    ``scipy.sparse.linalg.LinearOperator`` never formed (secular equation for a structured
    ``SpectralOperator``, Lanczos + CG otherwise). The paths agree to about 1e-12 relative
    (tests: 1e-10).

    Parameters
    ----------
    H : (d, d) array_like or LinearOperator
        Symmetric positive definite, ``d >= 2``.
    w_star : (d,) array_like
        Non-zero minimiser direction.

    Returns
    -------
    float
        ``kappa* >= 1``.

    Raises
    ------
    ValueError
        Naming ``H`` or ``w_star`` (bad input; ``d = 1``, where ``H* = 0`` and ``kappa*`` is
        undefined; ``H*`` or ``kappa*`` not representable in float64), never NaN.
    """
    from bntheory.measures.conditioning import effective_condition_number

    out = float(effective_condition_number(H, w_star))
    return _finite_or_raise(out, "H and w_star: kappa* is not representable")


def bngd_local_iterate_rate(H: object, w_star: object, eps_hat: float) -> float:
    """``max_{lambda in spec+(H*)} |1 - eps_hat lambda|``: BNGD's local iterate rate.

    Linearization ``delta_{k+1} = (I - eps_hat_k H*) delta_k`` near ``w || w*``
    (THEORY.md Sec. 2 (iii) [D+]); the loss-gap rate is the square. ``|1 - eps lambda|`` is
    convex in ``lambda``, so for an operator only the certified extremes
    ``lambda_min^+`` and ``lambda_max`` of ``H*`` are computed (matrix-free).

    Parameters
    ----------
    H : (d, d) array_like or LinearOperator
        Symmetric positive definite.
    w_star : (d,) array_like
        Non-zero minimiser direction.
    eps_hat : float
        Effective step > 0.

    Returns
    -------
    float
        The local iterate rate.
    """
    ext = _matrix_free_extremes(H, w_star)
    if ext is not None:
        eps = as_real(eps_hat, "eps_hat", positive=True)
        lam = np.array([ext.lam_min_plus.value, ext.lam_max.value])
    else:
        lam = bngd_spectrum(H, w_star)
        eps = as_real(eps_hat, "eps_hat", positive=True)
    if not lam.size:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        out = float(np.max(np.abs(1 - eps * lam)))
    return _finite_or_raise(out, "eps_hat: max |1 - eps_hat * lambda| overflows float64")


def bngd_best_iterate_rate(H: object, w_star: object) -> float:
    """``(kappa* - 1)/(kappa* + 1)``: best local BNGD iterate rate over ``eps_hat`` [D].

    Parameters
    ----------
    H : (d, d) array_like or LinearOperator
        Symmetric positive definite.
    w_star : (d,) array_like
        Non-zero minimiser direction.

    Returns
    -------
    float
        ``(kappa* - 1)/(kappa* + 1)``.
    """
    k = kappa_star(H, w_star)
    return (k - 1) / (k + 1)


def bngd_stability_threshold(H: object, w_star: object) -> float:
    """``2 / lambda_max(H*)``: the effective step below which BNGD contracts locally [D].

    Matrix-free (certified ``lambda_max(H*)``) for an operator.

    Parameters
    ----------
    H : (d, d) array_like or LinearOperator
        Symmetric positive definite.
    w_star : (d,) array_like
        Non-zero minimiser direction.

    Returns
    -------
    float
        ``2 / lambda_max(H*)`` (inf when ``d = 1``).
    """
    ext = _matrix_free_extremes(H, w_star)
    lam = np.array([ext.lam_max.value]) if ext is not None else bngd_spectrum(H, w_star)
    if not lam.size:
        return np.inf  # H* = 0 (d = 1): every step is stable
    with np.errstate(over="ignore", divide="ignore"):
        out = float(2 / lam[-1])
    return _finite_or_raise(
        out, "H: lambda_max(H*) is too small, 2 / lambda_max(H*) overflows float64"
    )


# ---------------------------------------------------------------------- Yang et al.
def _yang_B(B: object) -> int:
    B = as_int(B, "B", minimum=4)
    return B


def yang_linear_rate(B: int) -> float:
    """``(B-2)/(B-3)``: per-layer growth of the SQUARED gradient norm in a deep linear BN net.

    Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz (2019), linear case; THEORY.md Sec. 7
    [P] (and [D+] Monte Carlo). Requires ``B >= 4``.

    Parameters
    ----------
    B : int
        Batch size >= 4.

    Returns
    -------
    float
        ``(B-2)/(B-3)``.
    """
    B = _yang_B(B)
    return (B - 2) / (B - 3)  # int / int: correctly rounded, no overflow for any B


def yang_relu_rate(B: int) -> float:
    """Theorem 8 (ReLU, ``alpha = 1``): per-layer growth of the SQUARED gradient norm.

    ``lambda = (B - 2 + J'(c) + J(c)) / ((B - 3)(1 - J(c)))`` with ``c = -1/(B-1)``,
    ``J(c) = (sqrt(1-c^2) + (pi - arccos c) c)/pi`` and ``J'(c) = (pi - arccos c)/pi``;
    decreasing to ``pi/(pi-1)``. Yang et al. (2019), Thm 8; THEORY.md Sec. 7 [P]/[D+]
    (B=32 gives 1.522). Requires ``B >= 4``.

    Parameters
    ----------
    B : int
        Batch size >= 4.

    Returns
    -------
    float
        The per-layer growth factor ``lambda``.
    """
    B = _yang_B(B)
    if B > 2**62:
        # c = -1/(B-1) is below 1e-18: J(c) = J(0) and (B - 2 + ...)/(B - 3) = 1 to float64
        # precision (and float(B) would overflow for B > 1e308): the limit pi/(pi - 1)
        return float(np.pi / (np.pi - 1))
    c = -1.0 / (B - 1)
    ac = np.arccos(c)
    J = (np.sqrt(1 - c * c) + (np.pi - ac) * c) / np.pi
    Jp = (np.pi - ac) / np.pi
    return float((B - 2 + Jp + J) / ((B - 3) * (1 - J)))
