"""Distribution shift of activations over training (Ioffe & Szegedy 2015, Fig. 1(b, c);
Santurkar et al. 2018, Fig. 2) and the saturation of sigmoid inputs."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from bntheory.nets.mlp import MLP

__all__ = ["ActivationShift", "activation_shift", "histogram_kl", "saturated_fraction"]

Array = np.ndarray


#: largest number of histogram bins :func:`histogram_kl` accepts
MAX_BINS = 10**6


def _finite_samples(x: object, name: str) -> Array:
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    try:
        a = np.asarray(x, float).ravel()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a rectangular array of real numbers") from exc
    if a.size < 2 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must hold at least 2 finite values (p_samples and q_samples)")
    return a


def histogram_kl(
    p_samples: Array, q_samples: Array, *, bins: int = 30, alpha: float = 0.5
) -> float:
    """Histogram estimate of ``KL(p || q)`` from samples.

    Binning: ``bins`` equal-width bins spanning the pooled 0.5th-99.5th percentiles of both
    samples, plus one open bin on each side (so no sample is dropped). Smoothing: ``alpha``
    pseudo-counts are added to every bin of both histograms (additive/Jeffreys smoothing for
    ``alpha = 0.5``) before normalizing, so the estimate is finite; it is biased upward by
    about ``(bins - 1) / (2 n)`` for identical distributions with ``n`` samples each.

    Parameters
    ----------
    p_samples, q_samples : array_like
        At least 2 finite values each.
    bins : int
        Number of equal-width inner bins.
    alpha : float
        Pseudo-count added to every bin.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        For non-numeric samples, a non-int ``bins`` or a non-real ``alpha``.
    ValueError
        For fewer than 2 or non-finite samples, ``bins`` outside ``[1, MAX_BINS]`` or
        ``alpha <= 0``.
    """
    p = _finite_samples(p_samples, "p_samples")
    q = _finite_samples(q_samples, "q_samples")
    if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, (int, np.integer)):
        raise TypeError(f"bins must be an int, got {type(bins).__name__}")
    if not 1 <= bins <= MAX_BINS:
        raise ValueError(f"bins must lie in [1, {MAX_BINS}], got {bins}")
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a real number, got {type(alpha).__name__}")
    if not (alpha > 0 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha}")
    amax = max(float(np.max(np.abs(p))), float(np.max(np.abs(q))))
    if amax > 1e300:  # the estimate is scale invariant: an exact power-of-2 rescaling
        p, q = np.ldexp(p, -8), np.ldexp(q, -8)  # keeps percentiles and edges finite
    pooled = np.concatenate([p, q])
    lo, hi = np.percentile(pooled, [0.5, 99.5])
    if hi <= lo:
        hi = lo + 1e-12
    edges = np.concatenate([[-np.inf], np.linspace(lo, hi, bins + 1), [np.inf]])
    cp = np.histogram(p, edges)[0] + alpha
    cq = np.histogram(q, edges)[0] + alpha
    if alpha * (bins + 2) > 1e300:  # the sums would overflow: an exact power-of-2 rescaling
        cp, cq = np.ldexp(cp, -64), np.ldexp(cq, -64)
    P, Q = cp / cp.sum(), cq / cq.sum()
    return float(np.sum(P * np.log(P / Q)))


@dataclass(frozen=True, slots=True)
class ActivationShift:
    """Distribution shift of one activation over training.

    Attributes
    ----------
    percentiles : ndarray (n_checkpoints, 3)
        {15, 50, 85}th percentiles (Ioffe & Szegedy 2015, Fig. 1(b, c)).
    kl_from_first : ndarray
        :func:`histogram_kl` between the first checkpoint and each checkpoint.
    mean_shift, std_shift : ndarray
        ``|mean_k - mean_0|`` and ``|std_k - std_0|`` (Santurkar et al. 2018, Fig. 2 measure).
    """

    percentiles: Array = field(repr=False)
    kl_from_first: Array = field(repr=False)
    mean_shift: Array = field(repr=False)
    std_shift: Array = field(repr=False)


def activation_shift(samples: Array, *, bins: int = 30, alpha: float = 0.5) -> ActivationShift:
    """Percentiles, KL to the first checkpoint and moment shifts of ``samples``.

    Parameters
    ----------
    samples : array_like (n_checkpoints, n_values >= 2)
        One activation's values at each checkpoint.
    bins, alpha : int, float
        Of :func:`histogram_kl`.

    Returns
    -------
    ActivationShift
    """
    if samples is None or isinstance(samples, (str, bytes)):
        raise TypeError(f"samples must be a 2-D array, got {type(samples).__name__}")
    try:
        S = np.asarray(samples, float)
    except (TypeError, ValueError) as exc:
        raise TypeError("samples must be a rectangular array of real numbers") from exc
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] < 2:
        raise ValueError(f"samples must have shape (n_checkpoints, n_values>=2), got {S.shape}")
    if not np.all(np.isfinite(S)):
        raise ValueError("samples contains NaN or inf")
    if float(np.max(np.abs(S))) > 1e300:
        raise ValueError("samples: values above 1e300 overflow the moment shifts (rescale)")
    pct = np.percentile(S, [15, 50, 85], axis=1).T
    kl = np.array([histogram_kl(S[0], s, bins=bins, alpha=alpha) for s in S])
    # moments of values beyond ~1e154 overflow when squared: compute them on an exact
    # power-of-2 rescaling (k = 0, the identity, for every ordinary input)
    k = 512 if float(np.max(np.abs(S))) > 2.0**500 else 0
    Ss = np.ldexp(S, -k)
    mu, sd = np.ldexp(Ss.mean(axis=1), k), np.ldexp(Ss.std(axis=1), k)
    return ActivationShift(pct, kl, np.abs(mu - mu[0]), np.abs(sd - sd[0]))


def saturated_fraction(net: MLP, X: Array, at: float) -> float:
    """Fraction of the hidden nonlinearities' inputs ``z`` (all units, train mode on ``X``)
    with ``|z| > at`` (non-finite inputs count as saturated).

    Parameters
    ----------
    net : MLP
    X : array_like (N, d_in)
        Inputs (train mode: the batch statistics of ``X``).
    at : float
        Saturation threshold.

    Returns
    -------
    float
    """
    from bntheory.nets.checks import check_net

    net = check_net(net)
    if isinstance(at, (bool, np.bool_)) or not isinstance(at, numbers.Real) or math.isnan(at):
        raise TypeError(f"at must be a real number, got {at!r}")
    with np.errstate(all="ignore"):
        fw = net.forward_trace(X, True)
    zs = [np.abs(z) for z in fw.z[: net.n_layers - 1]]
    return float(sum(np.count_nonzero(~(z <= at)) for z in zs) / sum(z.size for z in zs))
