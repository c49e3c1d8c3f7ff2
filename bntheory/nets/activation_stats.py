"""Distribution shift of activations over training (Ioffe & Szegedy 2015, Fig. 1(b, c);
Santurkar et al. 2018, Fig. 2) and the saturation of sigmoid inputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bntheory.nets.mlp import MLP

__all__ = ["ActivationShift", "activation_shift", "histogram_kl", "saturated_fraction"]

Array = np.ndarray


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
    """
    p = np.asarray(p_samples, float).ravel()
    q = np.asarray(q_samples, float).ravel()
    if p.size < 2 or q.size < 2 or not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise ValueError("p_samples and q_samples must hold at least 2 finite values each")
    if bins < 1 or alpha <= 0:
        raise ValueError("bins must be >= 1 and alpha > 0")
    pooled = np.concatenate([p, q])
    lo, hi = np.percentile(pooled, [0.5, 99.5])
    if hi <= lo:
        hi = lo + 1e-12
    edges = np.concatenate([[-np.inf], np.linspace(lo, hi, bins + 1), [np.inf]])
    cp = np.histogram(p, edges)[0] + alpha
    cq = np.histogram(q, edges)[0] + alpha
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
    S = np.asarray(samples, float)
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] < 2:
        raise ValueError(f"samples must have shape (n_checkpoints, n_values>=2), got {S.shape}")
    pct = np.percentile(S, [15, 50, 85], axis=1).T
    kl = np.array([histogram_kl(S[0], s, bins=bins, alpha=alpha) for s in S])
    mu, sd = S.mean(axis=1), S.std(axis=1)
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
    with np.errstate(all="ignore"):
        fw = net.forward_trace(X, True)
    zs = [np.abs(z) for z in fw.z[: net.n_layers - 1]]
    return float(sum(np.count_nonzero(~(z <= at)) for z in zs) / sum(z.size for z in zs))
