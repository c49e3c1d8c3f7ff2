"""Confidence intervals of the multi-seed network measurements (paired ratios, rank
correlations) and their one-line rendering; re-exported by :mod:`bntheory.claims._netexp`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["fmt_ci", "paired_ratio_ci", "spearman_ci"]


def paired_ratio_ci(
    name: str,
    numerator: Sequence[float] | np.ndarray,
    denominator: Sequence[float] | np.ndarray,
    *,
    max_bad_fraction: float = 0.25,
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """:func:`bntheory.claims.stats.log_ratio_ci` of paired per-seed values.

    A pair with a non-finite or non-positive member (a diverged run, a net with no
    trainable rate) is a status, not a ratio: it is left out and counted in
    ``name + "_bad_pairs"``; when more than ``max_bad_fraction`` of the pairs are bad (or
    fewer than 2 remain) the value is nan (decides as inconclusive).

    Parameters
    ----------
    name : str
        Key of the ratio in the returned dicts.
    numerator, denominator : array_like (n,)
        Paired per-seed values (same seed order).
    max_bad_fraction : float
        Largest fraction of bad pairs for which a ratio is still reported.

    Returns
    -------
    values : dict
        ``{name: geometric-mean ratio or nan, name + "_bad_pairs": count, ...}``.
    intervals : dict
        ``{name: (lo, hi)}``; empty when the value is nan.

    Raises
    ------
    ValueError
        ``numerator`` and ``denominator`` not paired 1-D samples of one length.
    """
    from bntheory.claims.stats import log_ratio_ci

    a = np.asarray(numerator, dtype=float)
    b = np.asarray(denominator, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"numerator and denominator must be paired 1-D samples, got shapes {a.shape} "
            f"and {b.shape}"
        )
    good = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
    bad = int(a.size - good.sum())
    if bad > max_bad_fraction * a.size or good.sum() < 2:
        return {name: float("nan"), f"{name}_bad_pairs": float(bad)}, {}
    v, iv = log_ratio_ci(name, a[good], b[good])
    v[f"{name}_bad_pairs"] = float(bad)
    return v, iv


def fmt_ci(intervals: dict[str, tuple[float, float]], name: str) -> str:
    """``"[lo, hi]"`` of ``intervals[name]`` (3 significant digits), ``"n/a"`` if absent.

    Parameters
    ----------
    intervals : dict
        ``{name: (lo, hi)}`` as returned by :func:`paired_ratio_ci` or :func:`spearman_ci`.
    name : str
        The interval to format.

    Returns
    -------
    str
        ``"[lo, hi]"`` or ``"n/a"``.
    """
    lo, hi = intervals.get(name, (None, None))
    if lo is None or hi is None:
        return "n/a"
    return f"[{lo:.3g}, {hi:.3g}]"


def spearman_ci(
    name: str,
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Spearman rank correlation of paired samples with a Fisher-z interval.

    The interval is that of Fieller, Hartley & Pearson (1957), "Tests for rank correlation
    coefficients. I", Biometrika 44: ``atanh(rho) +- z_{level} sqrt(1.06 / (n - 3))``.

    Parameters
    ----------
    name : str
        Key of the correlation in the returned dicts.
    x, y : array_like (n,)
        Paired samples, ``n >= 4``.
    level : float
        Confidence level of the interval.

    Returns
    -------
    values : dict
        ``{name: rho, name + "_n": n}`` (rho nan when a sample is not finite or constant).
    intervals : dict
        ``{name: (lo, hi)}``; empty when rho is nan.

    Raises
    ------
    ValueError
        Unpaired or too short samples, ``level`` outside (0, 1).
    TypeError
        ``level`` not a real number.
    """
    from scipy import stats

    from bntheory.claims.stats import _level

    level = _level(level)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 4:
        raise ValueError("x and y must be paired 1-D samples of at least 4 values")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return {name: float("nan"), f"{name}_n": float(x.size)}, {}
    if np.all(x == x[0]) or np.all(y == y[0]):  # no ranking: rho undefined (SciPy would warn)
        return {name: float("nan"), f"{name}_n": float(x.size)}, {}
    rho = float(stats.spearmanr(x, y)[0])
    z = np.arctanh(np.clip(rho, -0.999999, 0.999999))
    half = float(stats.norm.ppf(0.5 + level / 2)) * np.sqrt(1.06 / (x.size - 3))
    return {name: rho, f"{name}_n": float(x.size)}, {
        name: (float(np.tanh(z - half)), float(np.tanh(z + half)))
    }
