"""Gradient and Hessian-vector-product checks.

Modelled on pymanopt's ``tools/diagnostics.py``: along a random direction ``v`` the
Taylor remainder

* ``|f(x + t v) - f(x) - t <grad f(x), v>|`` is ``O(t^2)`` when ``grad`` is right
  (slope 2 on a log-log plot, slope 1 when it is wrong);
* ``||grad(x + t v) - grad(x) - t hvp(x, v)||`` is ``O(t^2)`` when ``hvp`` is right
  (slope 2 for the *gradient* remainder, which is the third-order Taylor term of ``f``:
  pymanopt reports it as "slope 3" for the cost remainder ``f(x+tv) - f - t g.v -
  t^2/2 v.Hv``; we report both).

The slope is fitted by least squares over the window of step sizes where the remainder is
above round-off and below the non-asymptotic regime, found automatically as the longest
run of consecutive points whose local slopes agree with the fitted slope.

Besides the slopes, each check reports the relative error of the directional derivative
against a central finite difference at a step chosen for float64
(``h = eps^(1/3) * max(1, ||x||)``), and for HVPs the symmetry defect
``|<u, Hv> - <Hu, v>| / (||u|| ||Hv|| + ||Hu|| ||v||)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# as_generator lives in bntheory._checks; re-exported here for the old import path
from bntheory._checks import as_finite_array, as_generator, as_int, as_real, as_real_array

__all__ = [
    "GradientCheck",
    "HVPCheck",
    "as_generator",
    "check_gradient",
    "check_hvp",
    "taylor_slope",
]

Array = np.ndarray


def taylor_slope(
    ts: Array, remainders: Array, *, min_points: int = 4
) -> tuple[float, tuple[int, int]]:
    """Fit the slope of ``log(remainder)`` against ``log(t)`` over the linear window.

    The window is the longest run of consecutive step sizes whose pairwise local slopes
    lie within 0.3 of their median, after discarding points at the round-off floor
    (remainder below ``1e-13`` times the largest remainder).

    Parameters
    ----------
    ts : array_like, shape (n,)
        Step sizes (positive).
    remainders : array_like, shape (n,)
        Taylor remainders at those steps.
    min_points : int
        Fewest usable points for a fit.

    Returns
    -------
    tuple
        ``(slope, (i, j))`` with the window ``ts[i:j]``; ``(nan, (0, 0))`` when fewer than
        ``min_points`` usable points.
    """
    ts = as_real_array(ts, "ts")
    r = as_real_array(remainders, "remainders")
    if ts.shape != r.shape or ts.ndim != 1:
        raise ValueError("ts and remainders must be 1-D arrays of the same length")
    if not np.all(np.isfinite(ts) & (ts > 0)):
        raise ValueError("ts must hold finite step sizes > 0 (their logarithms are fitted)")
    finite = np.isfinite(r) & (r > 0)
    if finite.sum() < min_points:
        return float("nan"), (0, 0)
    floor = 1e-13 * np.max(r[finite])
    usable = finite & (r > floor)
    lt, lr = np.log(ts), np.log(np.where(usable, r, 1.0))
    local = np.diff(lr) / np.diff(lt)
    ok_pair = usable[:-1] & usable[1:]
    if not ok_pair.any():
        return float("nan"), (0, 0)
    med = np.median(local[ok_pair])
    good = ok_pair & (np.abs(local - med) < 0.3)
    best, best_run, start = (0, 0), 0, None
    for k, g in enumerate(np.append(good, False)):
        if g and start is None:
            start = k
        elif not g and start is not None:
            if k - start > best_run:
                best_run, best = k - start, (start, k + 1)
            start = None
    i, j = best
    if j - i < min_points:
        return float("nan"), (i, j)
    slope = np.polyfit(lt[i:j], lr[i:j], 1)[0]
    return float(slope), (i, j)


def _direction(x: Array, gen: np.random.Generator) -> Array:
    v = gen.standard_normal(x.shape)
    return v / np.linalg.norm(v)


def _steps(x: Array, n: int = 25) -> Array:
    scale = max(1.0, float(np.linalg.norm(x)))
    return scale * np.logspace(-8, 0, n)


@dataclass(frozen=True, slots=True)
class GradientCheck:
    """Result of :func:`check_gradient`.

    Attributes
    ----------
    ok : bool
        ``slope >= 1.8`` (or the remainder is at round-off everywhere, i.e. ``f`` is
        linear along the directions) and ``rel_error <= tol``.
    rel_error : float
        Worst relative error of ``<grad f(x), v>`` against a central difference, over the
        directions.
    slope : float
        Worst (smallest) fitted slope of the first-order Taylor remainder; about 2 when
        the gradient is right, about 1 when it is wrong.
    slopes : tuple of float
        Slope per direction.
    steps, remainders : numpy arrays
        Step sizes and remainders of the first direction (for plotting).
    """

    ok: bool
    rel_error: float
    slope: float
    slopes: tuple[float, ...]
    steps: Array = field(repr=False)
    remainders: Array = field(repr=False)


@dataclass(frozen=True, slots=True)
class HVPCheck:
    """Result of :func:`check_hvp`.

    Attributes
    ----------
    ok : bool
        ``slope >= 1.8``, ``rel_error <= tol`` and ``symmetry <= tol``.
    rel_error : float
        Worst relative error of ``hvp(x, v)`` against a central difference of ``grad``.
    slope : float
        Worst fitted slope of ``||grad(x+tv) - grad(x) - t hvp(x, v)||`` (about 2 when
        right; this is the third-order remainder of ``f``, "slope 3" in pymanopt's terms
        for the cost, see :attr:`cost_slope`).
    cost_slope : float
        Slope of ``|f(x+tv) - f(x) - t g.v - t^2/2 v.Hv|`` when ``f`` is given, else nan
        (about 3 when right).
    symmetry : float
        Worst relative symmetry defect ``|<u,Hv> - <Hu,v>| / (|u||Hv| + |Hu||v|)``.
    """

    ok: bool
    rel_error: float
    slope: float
    cost_slope: float
    symmetry: float
    slopes: tuple[float, ...]
    steps: Array = field(repr=False)
    remainders: Array = field(repr=False)


#: most random directions a check accepts (each costs a few function evaluations)
MAX_DIRECTIONS = 100_000


def check_gradient(
    f: Callable[[Array], float],
    grad: Callable[[Array], Array],
    x: Array,
    rng: int | np.random.Generator | None = None,
    *,
    n_directions: int = 3,
    tol: float = 1e-6,
) -> GradientCheck:
    """Check ``grad`` against ``f`` at ``x`` by Taylor-remainder slopes and finite differences.

    Parameters
    ----------
    f : callable
        Scalar function of an array shaped like ``x``.
    grad : callable
        Its claimed gradient, returning an array shaped like ``x``.
    x : array_like
        Point of the check (float64 is used).
    rng : int, Generator or None
        Seed of the random directions.
    n_directions : int
        Number of random unit directions.
    tol : float
        Tolerance of the finite-difference relative error.

    Returns
    -------
    GradientCheck
        ``ok`` (relative error ``<= tol`` and slope ``>= 1.8``), the worst relative error,
        the smallest slope, one slope per direction, the steps and the first remainders.
    """
    if not callable(f):
        raise TypeError("f must be callable")
    if not callable(grad):
        raise TypeError("grad must be callable")
    x = as_finite_array(x, "x")
    gen = as_generator(rng)
    n_directions = as_int(n_directions, "n_directions", maximum=MAX_DIRECTIONS)
    tol = as_real(tol, "tol", positive=True)
    f0 = float(f(x))
    g0 = np.asarray(grad(x), dtype=np.float64)
    if g0.shape != x.shape:
        raise ValueError(f"grad returned shape {g0.shape}, expected {x.shape}")
    ts = _steps(x)
    h = np.finfo(float).eps ** (1 / 3) * max(1.0, float(np.linalg.norm(x)))
    errs, slopes, first = [], [], None
    for _ in range(n_directions):
        v = _direction(x, gen)
        dd = float(np.vdot(g0, v))
        fd = (float(f(x + h * v)) - float(f(x - h * v))) / (2 * h)
        denom = max(abs(dd), abs(fd), np.linalg.norm(g0) * 1e-3, 1e-300)
        errs.append(abs(dd - fd) / denom)
        rem = np.array([abs(float(f(x + t * v)) - f0 - t * dd) for t in ts])
        scale = max(abs(f0), 1e-300)
        if np.all(rem <= 1e-12 * scale + 1e-300):
            slopes.append(np.inf)  # f is (numerically) linear along v: nothing left to fit
        else:
            slopes.append(taylor_slope(ts, rem)[0])
        if first is None:
            first = rem
    slope = float(np.nanmin(slopes)) if not np.all(np.isnan(slopes)) else float("nan")
    rel = float(max(errs))
    ok = bool(rel <= tol and (slope >= 1.8))
    return GradientCheck(ok, rel, slope, tuple(float(s) for s in slopes), ts, first)


def check_hvp(
    grad: Callable[[Array], Array],
    hvp: Callable[[Array, Array], Array],
    x: Array,
    rng: int | np.random.Generator | None = None,
    *,
    f: Callable[[Array], float] | None = None,
    n_directions: int = 3,
    tol: float = 1e-6,
) -> HVPCheck:
    """Check ``hvp`` against ``grad`` at ``x`` (and against ``f`` when given).

    Parameters
    ----------
    grad : callable
        Gradient of the objective.
    hvp : callable
        ``hvp(x, v)``: the claimed Hessian-vector product.
    x : array_like
        Point of the check.
    rng : int, Generator or None
        Seed of the random directions.
    f : callable, optional
        The objective itself; enables the cost-remainder slope (about 3).
    n_directions : int
        Number of random directions.
    tol : float
        Tolerance of the relative error and of the symmetry defect.

    Returns
    -------
    HVPCheck
        ``ok``, the worst relative error against a central difference of ``grad``, the
        gradient-remainder slope (about 2), the cost-remainder slope (about 3, nan without
        ``f``), the symmetry defect, per-direction slopes, the steps and remainders.
    """
    if not callable(grad):
        raise TypeError("grad must be callable")
    if not callable(hvp):
        raise TypeError("hvp must be callable")
    x = as_finite_array(x, "x")
    gen = as_generator(rng)
    n_directions = as_int(n_directions, "n_directions", maximum=MAX_DIRECTIONS)
    tol = as_real(tol, "tol", positive=True)
    g0 = np.asarray(grad(x), dtype=np.float64)
    f0 = float(f(x)) if f is not None else None
    ts = _steps(x)
    h = np.finfo(float).eps ** (1 / 3) * max(1.0, float(np.linalg.norm(x)))
    errs, slopes, cslopes, syms, first = [], [], [], [], None
    for _ in range(n_directions):
        v = _direction(x, gen)
        u = _direction(x, gen)
        hv = np.asarray(hvp(x, v), dtype=np.float64)
        if hv.shape != x.shape:
            raise ValueError(f"hvp returned shape {hv.shape}, expected {x.shape}")
        hu = np.asarray(hvp(x, u), dtype=np.float64)
        fd = (np.asarray(grad(x + h * v)) - np.asarray(grad(x - h * v))) / (2 * h)
        denom = max(np.linalg.norm(hv), np.linalg.norm(fd), np.linalg.norm(g0) * 1e-3, 1e-300)
        errs.append(float(np.linalg.norm(hv - fd) / denom))
        sden = np.linalg.norm(u) * np.linalg.norm(hv) + np.linalg.norm(hu) * np.linalg.norm(v)
        syms.append(float(abs(np.vdot(u, hv) - np.vdot(hu, v)) / max(sden, 1e-300)))
        rem = np.array([np.linalg.norm(np.asarray(grad(x + t * v)) - g0 - t * hv) for t in ts])
        if np.all(rem <= 1e-12 * max(np.linalg.norm(g0), 1e-300) + 1e-300):
            slopes.append(np.inf)  # gradient is linear along v (quadratic objective)
        else:
            slopes.append(taylor_slope(ts, rem)[0])
        if f is not None:
            dd, vhv = float(np.vdot(g0, v)), float(np.vdot(v, hv))
            crem = np.array(
                [abs(float(f(x + t * v)) - f0 - t * dd - 0.5 * t * t * vhv) for t in ts]
            )
            if np.all(crem <= 1e-12 * max(abs(f0), 1e-300) + 1e-300):
                cslopes.append(np.inf)
            else:
                cslopes.append(taylor_slope(ts, crem)[0])
        if first is None:
            first = rem
    slope = float(np.nanmin(slopes)) if not np.all(np.isnan(slopes)) else float("nan")
    cslope = (
        float(np.nanmin(cslopes)) if cslopes and not np.all(np.isnan(cslopes)) else float("nan")
    )
    rel, sym = float(max(errs)), float(max(syms))
    ok = bool(rel <= tol and sym <= tol and slope >= 1.8 and (f is None or not cslope < 2.7))
    return HVPCheck(ok, rel, slope, cslope, sym, tuple(float(s) for s in slopes), ts, first)
