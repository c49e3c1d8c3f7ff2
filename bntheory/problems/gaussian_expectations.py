"""Losses of the halfspace problems and the Gaussian expectations they need.

The logistic and sigmoid losses with their derivatives, 1-D Gaussian expectations
``E[phi^(k)(m + s xi)]`` by quadrature and truncated-normal moments (Kohler et al. 2019,
Sec. 4, Eq. 16: every expectation of the Gaussian-input halfspace problem is
one-dimensional).

Quadrature accuracy (documented, tested against Monte Carlo and brute-force quadrature):
1-D Gaussian expectations use the trapezoidal rule in ``xi ~ N(0, 1)`` on ``[-10, 10]`` with
step ``min(1/8, 1/(4 s))`` (``s`` the standard deviation of the argument of ``phi``). For
integrands analytic in the strip ``|Im t| < pi`` (logistic, sigmoid) the error is below
``exp(-2 pi^2 / (s h)) <= e^-79`` plus the tail mass ``< 1e-21``, i.e. round-off level.
For ``s > 1e3`` (the uniform grid would need ``40 s`` points) they use the graded
Gauss-Legendre panels below, centred on the kink ``xi = -m/s`` (relative error ~1e-12).
Half-line integrals of the teacher model use composite 8-point Gauss-Legendre on
``[0, 10]`` with geometrically graded panels near 0 (1e-10 .. 10), uniform panels of
width ``min(1/4, 1/(4 tau))`` where ``|tau xi| < 40`` and of width 1/4 beyond: relative error ~1e-12 in our checks.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import expit, ndtr

__all__ = ["LOSSES", "WOverflowError"]

Array = np.ndarray
_SQRT2PI = np.sqrt(2 * np.pi)
#: above this standard deviation, 1-D expectations use graded Gauss-Legendre panels
_WIDE = 1e3


# ---------------------------------------------------------------------- losses
def _sigmoid_derivs(t: Array, k: int) -> Array:
    """k-th derivative of the logistic sigmoid ``s(t) = 1/(1+e^-t)``, k = 0..4."""
    s = expit(t)
    if k == 0:
        return s
    d1 = s * (1 - s)
    if k == 1:
        return d1
    if k == 2:
        return d1 * (1 - 2 * s)
    if k == 3:
        return d1 * (1 - 6 * s + 6 * s * s)
    if k == 4:
        return d1 * (1 - 14 * s + 36 * s * s - 24 * s**3)
    raise ValueError(f"derivative order must be <= 4, got {k}")


def _logistic(t: Array, k: int) -> Array:
    """Softplus ``log(1 + e^t)`` (logistic loss) and its derivatives; ``|phi'| <= 1``."""
    if k == 0:
        return np.logaddexp(0.0, t)
    return _sigmoid_derivs(t, k - 1)


def _sigmoid_loss(t: Array, k: int) -> Array:
    """Sigmoid loss ``1/(1 + e^-t)`` (bounded, non-convex); ``|phi'| <= 1/4``."""
    return _sigmoid_derivs(t, k)


#: name -> (phi(t, k) giving the k-th derivative, Phi = sup |phi'|)
LOSSES = {"logistic": (_logistic, 1.0), "sigmoid": (_sigmoid_loss, 0.25)}


def _get_loss(loss: str):
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got {loss!r}")
    return LOSSES[loss]


def _normal_expect(phi, orders: tuple[int, ...], m: float, s: float) -> list[float]:
    """``E phi^{(k)}(m + s xi)``, ``xi ~ N(0,1)``, for each k in ``orders`` (trapezoid, see module doc)."""
    if s == 0.0:
        return [float(phi(np.array([m]), k)[0]) for k in orders]
    if not (np.isfinite(s) and np.isfinite(m)):
        return [float("nan")] * len(orders)
    if s > _WIDE:
        # Wide Gaussian: the uniform grid would need 40 s points. Gauss-Legendre panels
        # graded around the kink xi0 = -m/s instead (the nodes of the teacher model,
        # fine where |s (xi - xi0)| < 40), cut at |xi| <= 10; O(1000) nodes for any s.
        eta, we = _half_line_nodes(2.0 * s)
        eta, we = 2.0 * eta, 2.0 * we
        xi0 = -m / s
        # the argument of phi is t = m + s xi = s (xi - xi0) = +-s eta, taken directly:
        # for s > ~1e11 the nodes xi0 +- eta (eta ~ 40/s) round to xi0 itself
        eta_m = eta[1:] if eta[0] == 0 else eta
        xi = np.concatenate([xi0 + eta, xi0 - eta_m])
        t = np.concatenate([s * eta, -s * eta_m])
        wq = np.concatenate([we, we[1:] if eta[0] == 0 else we])
        keep = np.abs(xi) <= 10.0
        xi, wq, t = xi[keep], wq[keep] * np.exp(-0.5 * xi[keep] ** 2) / _SQRT2PI, t[keep]
        # k >= 3: Gaussian integration by parts (Stein), E phi^(k)(m + s xi) =
        # s^-(k-1) E[phi'(m + s xi) He_{k-1}(xi)]; the direct sum of phi^(k) cancels to
        # O(1/s^(k-1)) and drowns in round-off (O(eps/s)) once s > ~1e5
        hermite = {3: xi * xi - 1.0, 4: xi * (xi * xi - 3.0)}
        d1 = phi(t, 1) if any(k in hermite for k in orders) else None
        out = []
        for k in orders:
            if k in hermite:
                val = float(wq @ (d1 * hermite[k]))
                for _ in range(k - 1):  # / s^(k-1) without overflow of s^(k-1)
                    val /= s
                out.append(val)
            else:
                out.append(float(wq @ phi(t, k)))
        return out
    h = min(0.125, 0.25 / s)
    n = int(np.ceil(10.0 / h))
    xi, w = _trapezoid_grid(n)
    t = m + s * xi
    return [float(w @ phi(t, k)) for k in orders]


@lru_cache(maxsize=128)
def _trapezoid_grid(n: int) -> tuple[Array, Array]:
    """Nodes ``xi`` (``2n + 1`` points on ``[-10, 10]``) and weights ``phi(xi) h`` of the
    trapezoidal rule, built once per ``n`` (GDNP's bisection asks for them ~10^5 times)."""
    xi = np.linspace(-10.0, 10.0, 2 * n + 1)
    w = np.exp(-0.5 * xi * xi) * (xi[1] - xi[0]) / _SQRT2PI
    xi.flags.writeable = False
    w.flags.writeable = False
    return xi, w


def _s_norm(S: Array, w: Array) -> float:
    """``||w||_S = sqrt(w^T S w)`` (clipped at 0), without overflow or underflow.

    For ``max|w|`` outside ``[1e-100, 1e100]`` it is computed as ``c ||w / c||_S`` with
    ``c = max|w|`` (the plain formula, used otherwise, overflows beyond ~1e154); the result
    is ``inf`` only when the norm itself exceeds the float64 range.
    """
    c = float(np.max(np.abs(w))) if w.size else 0.0
    if c == 0.0:
        return 0.0
    if 1e-100 <= c <= 1e100:
        return float(np.sqrt(max(float(w @ S @ w), 0.0)))
    v = w / c
    return c * float(np.sqrt(max(float(v @ (S @ v)), 0.0)))  # python float: inf, no warning


class WOverflowError(ValueError, OverflowError):
    """``w`` (or ``v``) is so large that the objective overflows float64.

    A ``ValueError`` (bad argument) and an ``OverflowError`` (an ``ArithmeticError``, which
    the solvers record as divergence, never a crash).
    """


def _check_w(m: float, s: float) -> None:
    """Raise when ``u^T w`` or ``||w||_S`` is beyond the float64 range (``w`` too large)."""
    if not (np.isfinite(m) and np.isfinite(s) and np.isfinite(abs(m) + 10.0 * s)):
        raise WOverflowError(
            "w is too large: u^T w or ||w||_S (times the quadrature range) overflows float64"
        )


_GL8 = np.polynomial.legendre.leggauss(8)
_GRADED = np.geomspace(1e-10, 10.0, 60)


@lru_cache(maxsize=256)
def _half_line_nodes(tau: float) -> tuple[Array, Array]:
    """Gauss-Legendre nodes/weights on [0, 10] (graded near 0, uniform width min(1/4, 1/(4 tau))).

    Cached per ``tau`` (read-only arrays): the bisection on ``g`` re-evaluates the same
    ``tau`` values, and the Legendre rule and graded panel ends are module constants."""
    # phi(tau xi) has its curvature where |tau xi| < 40 (beyond, phi is linear or constant
    # up to e^-40): fine panels there, panels of width 1/4 elsewhere.
    tau = max(tau, 1e-300)
    fine_end = min(10.0, 40.0 / tau)
    h = min(0.25, 0.25 / tau)
    parts = [
        [0.0],
        _GRADED,
        np.arange(h, fine_end, h),
        np.arange(fine_end, 10.0, 0.25),
    ]
    brk = np.unique(np.concatenate([*parts, [10.0]]))
    x, w = _GL8
    lo, hi = brk[:-1, None], brk[1:, None]
    nodes = (0.5 * (hi - lo) * x + 0.5 * (hi + lo)).ravel()
    weights = (0.5 * (hi - lo) * w).ravel()
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


@lru_cache(maxsize=256)
def _half_line_density(tau: float) -> tuple[Array, Array]:
    """``(xi, weights * N(0,1) density at xi)`` of :func:`_half_line_nodes`, cached."""
    xi, wq = _half_line_nodes(tau)
    dens = wq * np.exp(-0.5 * xi * xi) / _SQRT2PI
    dens.flags.writeable = False
    return xi, dens


def _trunc_moments(m: Array, s: float, k: int) -> Array:
    """``E[a^k 1{a > 0}]`` for ``a ~ N(m, s^2)`` (k = 0, 1, 2), elementwise in ``m``."""
    if s == 0.0:
        pos = (m > 0).astype(float)
        return pos * m**k
    z = m / s
    Phi = ndtr(z)
    pdf = np.exp(-0.5 * z * z) / _SQRT2PI
    if k == 0:
        return Phi
    if k == 1:
        return m * Phi + s * pdf
    if k == 2:
        return (m * m + s * s) * Phi + m * s * pdf
    raise ValueError("k must be 0, 1 or 2")
