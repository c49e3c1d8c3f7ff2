"""Kohler et al.'s bounds for GD in normalized parametrization (GDNP), as predictions.

Kohler, Daneshmand, Lucchi, Zhou, Neymeyr & Hofmann (2019), "Exponential convergence
rates for Batch Normalization: The power of length-direction decoupling in non-convex
optimization", Sec. 3-4. Re-exported by :mod:`bntheory.bounds` (the import path of
earlier versions). The measured/bound ratios that decide a claim live with the claims
and tests, not here.
"""

from __future__ import annotations

import numpy as np

from bntheory._checks import as_int, as_real, as_spd, as_vector

__all__ = ["kohler_asymptotic_gap_rate", "kohler_halfspace_bound", "kohler_ols_bound"]

Array = np.ndarray


# ---------------------------------------------------------------------- Kohler et al.
def kohler_ols_bound(t: object, rho_gap0: float, mu: float, L: float) -> Array | float:
    """``(1 - mu/L)^{2t} (rho(w_0) - rho*)``: bound on ``rho(w_t) - rho*`` for GDNP on OLS.

    Kohler et al. (2019), OLS theorem [U: recalled]; THEORY.md Sec. 3 [D+]: holds with the
    step ``eta_t = ||w_t||_S^2 / (2 L |rho(w_t)|)``.

    Parameters
    ----------
    t : int or array_like
        Step counts >= 0.
    rho_gap0 : float
        ``rho(w_0) - rho* >= 0``.
    mu : float
        ``lambda_min(S) > 0``.
    L : float
        ``lambda_max(S) >= mu``.

    Returns
    -------
    float or numpy.ndarray
        The bound (an array for array ``t``).
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

    Parameters
    ----------
    t : int or array_like
        Step counts >= 0.
    rho_gap0 : float
        ``rho(w_0) - rho* >= 0``.
    mu : float
        ``lambda_min(S) > 0``.
    L : float
        ``lambda_max(S) >= mu``.
    Phi : float
        ``sup|phi'|`` of the loss (Kohler's (A3)).
    zeta : float
        ``sup|phi''|`` of the loss.
    n_bisection : int
        ``T_s``, bisection steps per length step.
    bracket_width : float
        ``|b_0 - a_0|``, the initial bisection bracket.

    Returns
    -------
    float or numpy.ndarray
        The bound (an array for array ``t``).
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

    Parameters
    ----------
    S : (d, d) array_like
        Symmetric positive definite input covariance.
    u : (d,) array_like
        ``E[z]`` (Kohler's model ``z ~ N(u, S)``).

    Returns
    -------
    float
        ``(1 - theta/L)^2`` (0 for ``d = 1``).
    """
    S, _ = as_spd(S, "S")
    u = as_vector(u, "u", S.shape[0])
    w_star = np.linalg.solve(S, u)
    from bntheory.bounds import bngd_spectrum  # (bounds re-exports this module)

    lam = bngd_spectrum(S, w_star)
    L = float(np.linalg.eigvalsh(S)[-1])
    return float((1 - lam[0] / L) ** 2) if lam.size else 0.0
