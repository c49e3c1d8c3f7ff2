"""Confidence intervals for the ledger's stochastic measurements.

Each helper returns ``(values, intervals)`` dicts to merge into a
:class:`~bntheory.claims.core.Measurement`, so the decision rule sees the interval under
the quantity's own name. Quantiles come from ``scipy.special`` (``stdtrit``,
``betaincinv``), not ``scipy.stats``, whose import costs a second per worker process.
Intervals: Student (1908) t-interval of a mean; Clopper & Pearson (1934) exact binomial
interval of a proportion.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

__all__ = ["exponent", "log_ratio_ci", "mean_ci", "proportion_ci"]

Values = dict[str, float]
Intervals = dict[str, tuple[float, float]]


def _samples(x: Sequence[float], name: str) -> np.ndarray:
    """``x`` as a 1-D float array of at least 2 samples (errors name ``name``)."""
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(x).__name__}")
    try:
        a = np.asarray(list(x), dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sequence of real numbers") from exc
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"{name} must hold at least 2 samples, got {a.size}")
    return a


def _level(level: float) -> float:
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, numbers.Real):
        raise TypeError(f"level must be a real number in (0, 1), got {type(level).__name__}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(level)


def mean_ci(
    name: str, samples: Sequence[float], *, level: float = 0.95
) -> tuple[Values, Intervals]:
    """Mean of ``samples`` with its two-sided Student-t interval at ``level`` (Student 1908).

    Parameters
    ----------
    name : str
        Name of the quantity (the key of the mean and its interval).
    samples : sequence of float
        At least 2 samples (e.g. one per seed).
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    values : dict
        ``{name: mean, name_sd: sample sd, name_n: n}``. A non-finite sample makes the
        mean NaN (stored as ``None``: decides as inconclusive) and the interval dict empty,
        never a silent drop.
    intervals : dict
        ``{name: (low, high)}``.

    Raises
    ------
    TypeError
        For non-numeric ``samples`` or ``level``.
    ValueError
        For fewer than 2 samples, ``level`` outside (0, 1), or samples so large that the
        mean, sd or interval overflows float64.
    """
    from scipy.special import stdtrit

    level = _level(level)
    a = _samples(samples, "samples")
    if not np.all(np.isfinite(a)):
        return {name: float("nan"), f"{name}_n": float(a.size)}, {}
    with np.errstate(over="ignore", invalid="ignore"):
        m, sd = float(a.mean()), float(a.std(ddof=1))
        half = float(stdtrit(a.size - 1, 0.5 + level / 2)) * sd / math.sqrt(a.size)
        lo, hi = m - half, m + half
    if not all(math.isfinite(v) for v in (m, sd, lo, hi)):
        raise ValueError("samples: the mean, sd or interval overflows float64 (rescale samples)")
    return {name: m, f"{name}_sd": sd, f"{name}_n": float(a.size)}, {name: (lo, hi)}


def log_ratio_ci(
    name: str,
    numerator: Sequence[float],
    denominator: Sequence[float],
    *,
    level: float = 0.95,
) -> tuple[Values, Intervals]:
    """Paired ratio ``numerator / denominator`` over seeds, summarised on the log scale.

    ``name`` is the geometric mean ratio and its interval is ``exp`` of the t-interval of
    the mean log ratio (:func:`mean_ci`); ``name + "_log10"`` carries the same in decades.

    Parameters
    ----------
    name : str
        Name of the quantity.
    numerator, denominator : sequence of float
        Paired positive samples (same length, at least 2); a diverged run is not a ratio:
        report it separately.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    values : dict
        ``{name: geometric mean ratio, name_log10: its log10, name_n: n}`` (NaN and no
        interval when the mean log ratio is not finite).
    intervals : dict
        ``{name: (low, high), name_log10: (low, high)}``.

    Raises
    ------
    TypeError
        For non-numeric input.
    ValueError
        For unpaired or non-positive samples, ``level`` outside (0, 1), or a ratio or
        interval outside the float64 range.
    """
    a = _samples(numerator, "numerator")
    b = _samples(denominator, "denominator")
    if a.shape != b.shape:
        raise ValueError("numerator and denominator must be paired (same length)")
    if np.any(~(a > 0)) or np.any(~(b > 0)):
        raise ValueError("ratios need positive finite numerator and denominator")
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        r = a / b
    # a ratio outside the float range: the log ratio as a difference of logs (finite)
    logs = np.where((r > 0) & np.isfinite(r), np.log(np.where(r > 0, r, 1.0)), 0.0)
    bad = ~((r > 0) & np.isfinite(r))
    if np.any(bad):
        logs[bad] = np.log(a[bad]) - np.log(b[bad])
    v, iv = mean_ci("_log", logs, level=level)
    if not math.isfinite(v["_log"]):
        return {name: float("nan"), f"{name}_n": float(a.size)}, {}
    lo, hi = iv["_log"]
    if max(abs(lo), abs(hi), abs(v["_log"])) > 709.0:
        raise ValueError(
            "numerator, denominator: the ratio or its interval overflows float64 "
            f"(log ratio {v['_log']:.4g} in [{lo:.4g}, {hi:.4g}])"
        )
    out = {
        name: math.exp(v["_log"]),
        f"{name}_log10": v["_log"] / math.log(10),
        f"{name}_n": float(a.size),
    }
    ivs = {
        name: (math.exp(lo), math.exp(hi)),
        f"{name}_log10": (lo / math.log(10), hi / math.log(10)),
    }
    return out, ivs


def proportion_ci(
    name: str, successes: int, trials: int, *, level: float = 0.95
) -> tuple[Values, Intervals]:
    """Fraction ``successes / trials`` with its Clopper & Pearson (1934) exact binomial interval.

    Parameters
    ----------
    name : str
        Name of the quantity.
    successes : int
        Number of successes, in ``[0, trials]``.
    trials : int
        Number of trials (>= 1).
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    values : dict
        ``{name: successes / trials, name_n: trials}``.
    intervals : dict
        ``{name: (low, high)}``.

    Raises
    ------
    TypeError
        For a non-numeric ``level``.
    ValueError
        For a non-int or out-of-range count, or ``level`` outside (0, 1).
    """
    from scipy.special import betaincinv

    level = _level(level)
    if (
        isinstance(trials, (bool, np.bool_))
        or not isinstance(trials, (int, np.integer))
        or trials < 1
    ):
        raise ValueError(f"trials must be a positive int, got {trials!r}")
    if (
        isinstance(successes, (bool, np.bool_))
        or not isinstance(successes, (int, np.integer))
        or not 0 <= successes <= trials
    ):
        raise ValueError(f"successes must be an int in [0, trials], got {successes!r}")
    k, n, alpha = int(successes), int(trials), 1 - level
    lo = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return {name: k / n, f"{name}_n": float(n)}, {name: (lo, hi)}


def exponent(rate: float) -> float:
    """Convergence exponent ``-log(rate)`` of a linear rate; compare exponents, not rates
    near 1.

    Parameters
    ----------
    rate : float
        A linear convergence rate.

    Returns
    -------
    float
        ``-log(rate)``: ``inf`` at 0, ``nan`` when ``rate`` is not in [0, 1) (no rate).

    Raises
    ------
    TypeError
        When ``rate`` is not a real number.
    """
    if rate is None or isinstance(rate, (bool, np.bool_, str, bytes, complex)):
        raise TypeError(f"rate must be a real number, got {type(rate).__name__}")
    try:
        r = float(rate)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"rate must be a real number, got {type(rate).__name__}") from exc
    if not 0 <= r < 1:
        return float("nan")
    return math.inf if r == 0 else -math.log(r)
