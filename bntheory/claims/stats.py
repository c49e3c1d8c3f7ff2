"""Confidence intervals for the ledger's stochastic measurements.

Each helper returns ``(values, intervals)`` dicts to merge into a
:class:`~bntheory.claims.core.Measurement`, so the decision rule sees the interval under
the quantity's own name. Quantiles come from ``scipy.special`` (``stdtrit``,
``betaincinv``), not ``scipy.stats``, whose import costs a second per worker process.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["exponent", "log_ratio_ci", "mean_ci", "proportion_ci"]


def _samples(x: Sequence[float], name: str) -> np.ndarray:
    a = np.asarray(list(x), dtype=float)
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"{name} must hold at least 2 samples, got {a.size}")
    return a


def mean_ci(
    name: str, samples: Sequence[float], *, level: float = 0.95
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Mean of ``samples`` with its two-sided Student-t interval at ``level``.

    Values: ``{name: mean, name_sd: sample sd, name_n: n}``; a non-finite sample makes the
    mean NaN (stored as ``None``: decides as inconclusive), never a silent drop.
    """
    from scipy.special import stdtrit

    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    a = _samples(samples, "samples")
    if not np.all(np.isfinite(a)):
        return {name: float("nan"), f"{name}_n": float(a.size)}, {}
    m, sd = float(a.mean()), float(a.std(ddof=1))
    half = float(stdtrit(a.size - 1, 0.5 + level / 2)) * sd / math.sqrt(a.size)
    return {name: m, f"{name}_sd": sd, f"{name}_n": float(a.size)}, {name: (m - half, m + half)}


def log_ratio_ci(
    name: str,
    numerator: Sequence[float],
    denominator: Sequence[float],
    *,
    level: float = 0.95,
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Paired ratio ``numerator / denominator`` over seeds, summarised on the log scale.

    ``name`` is the geometric mean ratio and its interval is ``exp`` of the t-interval of
    the mean log ratio; ``name + "_log10"`` carries the same in decades. Pairs must be
    positive (a diverged run is not a ratio: report it separately).
    """
    a = _samples(numerator, "numerator")
    b = _samples(denominator, "denominator")
    if a.shape != b.shape:
        raise ValueError("numerator and denominator must be paired (same length)")
    if np.any(~(a > 0)) or np.any(~(b > 0)):
        raise ValueError("ratios need positive finite numerator and denominator")
    v, iv = mean_ci("_log", np.log(a / b), level=level)
    if not math.isfinite(v["_log"]):
        return {name: float("nan"), f"{name}_n": float(a.size)}, {}
    lo, hi = iv["_log"]
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
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Fraction ``successes / trials`` with its Clopper-Pearson (exact binomial) interval."""
    from scipy.special import betaincinv

    if not isinstance(trials, (int, np.integer)) or trials < 1:
        raise ValueError(f"trials must be a positive int, got {trials!r}")
    if not isinstance(successes, (int, np.integer)) or not 0 <= successes <= trials:
        raise ValueError(f"successes must be an int in [0, trials], got {successes!r}")
    k, n, alpha = int(successes), int(trials), 1 - level
    lo = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return {name: k / n, f"{name}_n": float(n)}, {name: (lo, hi)}


def exponent(rate: float) -> float:
    """Convergence exponent ``-log(rate)`` of a linear rate (``inf`` at 0, ``nan`` if the
    rate is not in [0, 1)); compare exponents, not rates near 1."""
    r = float(rate)
    if not 0 <= r < 1:
        return float("nan")
    return math.inf if r == 0 else -math.log(r)
