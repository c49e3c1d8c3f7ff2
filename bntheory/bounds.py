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
    """Loss-gap rate of a quadratic from its iterate rate: ``r^2`` (gap = 1/2 e^T H e)."""
    r = as_real(iterate_rate, "iterate_rate", nonneg=True)
    return _finite_or_raise(r * r, f"iterate_rate={r!r} is too large: its square overflows float64")


# ---------------------------------------------------------------------- GD on OLS
def gd_iterate_rate(eigenvalues: object, lr: float) -> float:
    """Exact asymptotic iterate rate of GD on a quadratic: ``max_i |1 - lr lambda_i|``.

    Source: standard (Nesterov 2004, Sec. 1.2.3); THEORY.md Sec. 2 [D].
    """
    lam = as_vector(eigenvalues, "eigenvalues")
    lr = as_real(lr, "lr", positive=True)
    with np.errstate(over="ignore", invalid="ignore"):
        out = float(np.max(np.abs(1 - lr * lam)))
    return _finite_or_raise(
        out, "lr and eigenvalues: max |1 - lr * lambda| overflows float64 (lr too large)"
    )


def gd_optimal_iterate_rate(kappa: float) -> float:
    """``(kappa - 1)/(kappa + 1)``: GD iterate rate at ``lr = 2/(L + mu)`` (THEORY.md Sec. 2 [D])."""
    k = _kappa(kappa)
    return (k - 1) / (k + 1)


def gd_one_over_L_iterate_rate(kappa: float) -> float:
    """``1 - 1/kappa``: GD iterate rate at ``lr = 1/L`` (THEORY.md Sec. 2 [D])."""
    return 1 - 1 / _kappa(kappa)


def gd_divergence_threshold(lam_max: float) -> float:
    """``2 / lambda_max``: GD on OLS converges iff ``0 < lr < 2/lambda_max`` (THEORY.md Sec. 2 [D])."""
    lam = as_real(lam_max, "lam_max", positive=True)
    with np.errstate(over="ignore"):
        out = float(np.float64(2.0) / np.float64(lam))
    return _finite_or_raise(out, f"lam_max={lam!r} is too small: 2 / lam_max overflows float64")


# ---------------------------------------------------------------------- BNGD (Cai et al.)
def bngd_spectrum(H: object, w_star: object) -> Array:
    """Non-zero spectrum (ascending) of Cai et al.'s ``H* = H - H w* w*^T H / (w*^T H w*)``.

    Cai, Li & Shen (2019), Sec. 3 [U: notation unverified]; THEORY.md Sec. 2 (iii) [D+].
    ``H*`` is PSD with exactly one zero eigenvalue (direction ``w*``) when ``H > 0``; it is
    dropped. Dense ``eigvalsh``.
    """
    H, _ = as_spd(H, "H")
    w = as_vector(w_star, "w_star", H.shape[0])
    if not np.any(w):
        raise ValueError("w_star must be non-zero")
    with np.errstate(all="ignore"):
        Hw = H @ w
        Hs = H - np.outer(Hw, Hw) / float(w @ Hw)
        if not np.all(np.isfinite(Hs)):
            # H* is invariant to the scale of w*: retry with w* / max|w*|
            w = w / np.max(np.abs(w))
            Hw = H @ w
            Hs = H - np.outer(Hw, Hw) / float(w @ Hw)
    if not np.all(np.isfinite(Hs)):
        raise ValueError("H: H* = H - H w w^T H / (w^T H w) overflows float64 (rescale H)")
    lam = np.linalg.eigvalsh(0.5 * (Hs + Hs.T))
    return np.delete(lam, int(np.argmin(np.abs(lam))))


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

    ``H`` may be an array (dense ``eigvalsh`` of ``H*``) or a
    ``scipy.sparse.linalg.LinearOperator`` (never formed: secular equation for a
    structured ``SpectralOperator``, Lanczos + CG otherwise; Lanczos with Cholesky solves
    for an array via ``measures.effective_condition_number(H, w, method="matrix-free")``).
    The paths agree to about 1e-12 relative (tests: 1e-10).
    """

    ext = _matrix_free_extremes(H, w_star)
    if ext is not None:
        out = float(ext.kappa_star)
        return _finite_or_raise(out, "H and w_star: kappa* is not representable")
    lam = bngd_spectrum(H, w_star)
    if lam.size == 0:
        return 1.0
    with np.errstate(all="ignore"):
        out = float(lam[-1] / lam[0])
    if not (np.isfinite(out) and lam[0] > 0):
        raise ValueError(
            "H and w_star: lambda_min^+(H*) is zero or below float64 resolution, so kappa* "
            "is not representable (H too ill-conditioned)"
        )
    return out


def bngd_local_iterate_rate(H: object, w_star: object, eps_hat: float) -> float:
    """``max_{lambda in spec+(H*)} |1 - eps_hat lambda|``: BNGD's local iterate rate.

    Linearization ``delta_{k+1} = (I - eps_hat_k H*) delta_k`` near ``w || w*``
    (THEORY.md Sec. 2 (iii) [D+]); the loss-gap rate is the square. ``|1 - eps lambda|`` is
    convex in ``lambda``, so for an operator only the certified extremes
    ``lambda_min^+`` and ``lambda_max`` of ``H*`` are computed (matrix-free).
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
    """``(kappa* - 1)/(kappa* + 1)``: best local BNGD iterate rate over ``eps_hat`` [D]."""
    k = kappa_star(H, w_star)
    return (k - 1) / (k + 1)


def bngd_stability_threshold(H: object, w_star: object) -> float:
    """``2 / lambda_max(H*)``: the effective step below which BNGD contracts locally [D].

    Matrix-free (certified ``lambda_max(H*)``) for an operator."""
    ext = _matrix_free_extremes(H, w_star)
    lam = np.array([ext.lam_max.value]) if ext is not None else bngd_spectrum(H, w_star)
    if not lam.size:
        return np.inf  # H* = 0 (d = 1): every step is stable
    with np.errstate(over="ignore", divide="ignore"):
        out = float(2 / lam[-1])
    return _finite_or_raise(
        out, "H: lambda_max(H*) is too small, 2 / lambda_max(H*) overflows float64"
    )


# ---------------------------------------------------------------------- Kohler et al.
def kohler_ols_bound(t: object, rho_gap0: float, mu: float, L: float) -> Array | float:
    """``(1 - mu/L)^{2t} (rho(w_0) - rho*)``: bound on ``rho(w_t) - rho*`` for GDNP on OLS.

    Kohler et al. (2019), OLS theorem [U: recalled]; THEORY.md Sec. 3 [D+]: holds with the
    step ``eta_t = ||w_t||_S^2 / (2 L |rho(w_t)|)``. Returns an array for array ``t``.
    """
    mu = as_real(mu, "mu", positive=True)
    L = as_real(L, "L", positive=True)
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu}, L={L}")
    g0 = as_real(rho_gap0, "rho_gap0", nonneg=True)
    try:
        raw = np.asarray(t)
        if np.iscomplexobj(raw):
            raise TypeError("t must be real")
        tt = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"t must be a real number or array of step counts ({exc})") from exc
    if np.any(np.isnan(tt)) or np.any(tt < 0):
        raise ValueError("t must be >= 0 (and not NaN)")
    # (1 - mu/L)^(2t): 2t may overflow to inf for huge t, and base^inf = 0 (base < 1) or 1
    # (base = 1 in float64, mu/L below the rounding unit): both the correct limits
    with np.errstate(over="ignore", under="ignore"):
        out = np.power(1 - mu / L, 2 * tt) * g0
    return float(out) if out.ndim == 0 else out


def kohler_halfspace_bound(
    t: object,
    rho_gap0: float,
    mu: float,
    L: float,
    *,
    Phi: float,
    zeta: float,
    n_bisection: int,
    bracket_width: float,
) -> Array | float:
    """``(1-mu/L)^{2t} Phi^2 (rho(w_0)-rho*) + 2^{-T_s} zeta |b_0 - a_0| / mu^2`` (loss-gap bound).

    Kohler et al. (2019), halfspace theorem, recalled shape only [U]: THEORY.md Sec. 3.
    The constants (``zeta``, exact powers) are not confirmed; use as a hypothesis.
    """
    Phi = as_real(Phi, "Phi", positive=True)
    zeta = as_real(zeta, "zeta", nonneg=True)
    ts = as_int(n_bisection, "n_bisection", minimum=0)
    width = as_real(bracket_width, "bracket_width", nonneg=True)
    base = np.asarray(kohler_ols_bound(t, rho_gap0, mu, L), dtype=float)
    mu = as_real(mu, "mu", positive=True)
    # 2^-T_s underflows to 0 for T_s > 1074 (Python raises OverflowError for huge ints)
    half_pow = 0.0 if ts > 1100 else 2.0**-ts
    with np.errstate(all="ignore"):
        out = np.float64(Phi) ** 2 * base + half_pow * zeta * width / np.float64(mu) ** 2
    if not np.all(np.isfinite(out)):
        raise ValueError(
            "Phi, zeta, bracket_width and mu: the bound overflows float64 (Phi^2 or "
            "zeta |b_0 - a_0| / mu^2 too large)"
        )
    return float(out) if out.ndim == 0 else out


def kohler_asymptotic_gap_rate(S: object, u: object) -> float:
    """Exact asymptotic per-step rate of ``rho(w_t) - rho*`` under GDNP (factor 2): ``(1 - theta/L)^2``.

    ``theta`` = smallest non-zero eigenvalue of ``S - u u^T / (u^T S^-1 u)`` (= Cai's ``H*``
    with ``H = S``), ``L = lambda_max(S)``. THEORY.md Sec. 3 [D+] (short proof:
    ``w' - alpha w* = (I - S/L)(w - alpha w*)``).
    """
    S, _ = as_spd(S, "S")
    u = as_vector(u, "u", S.shape[0])
    w_star = np.linalg.solve(S, u)
    lam = bngd_spectrum(S, w_star)
    L = float(np.linalg.eigvalsh(S)[-1])
    return float((1 - lam[0] / L) ** 2) if lam.size else 0.0


# ---------------------------------------------------------------------- Yang et al.
def _yang_B(B: object) -> int:
    B = as_int(B, "B", minimum=4)
    return B


def yang_linear_rate(B: int) -> float:
    """``(B-2)/(B-3)``: per-layer growth of the SQUARED gradient norm in a deep linear BN net.

    Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz (2019), linear case; THEORY.md Sec. 7
    [P] (and [D+] Monte Carlo). Requires ``B >= 4``.
    """
    B = _yang_B(B)
    return (B - 2) / (B - 3)  # int / int: correctly rounded, no overflow for any B


def yang_relu_rate(B: int) -> float:
    """Theorem 8 (ReLU, ``alpha = 1``): per-layer growth of the SQUARED gradient norm.

    ``lambda = (B - 2 + J'(c) + J(c)) / ((B - 3)(1 - J(c)))`` with ``c = -1/(B-1)``,
    ``J(c) = (sqrt(1-c^2) + (pi - arccos c) c)/pi`` and ``J'(c) = (pi - arccos c)/pi``;
    decreasing to ``pi/(pi-1)``. Yang et al. (2019), Thm 8; THEORY.md Sec. 7 [P]/[D+]
    (B=32 gives 1.522). Requires ``B >= 4``.
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
