"""Inference-mode BN: population statistics and the folded affine map (Ioffe & Szegedy
2015, Algorithm 2, lines 8-11)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ._common import (
    F32_MAX,
    Array,
    bshape,
    centered_moments,
    check_eps,
    check_param,
    check_x,
)

__all__ = ["FoldedAffine", "batch_norm_inference", "population_statistics"]


def moments(x: Array, name: str = "x") -> tuple[Array, Array, int]:
    """Per-channel mean and biased variance of a validated batch, and m'.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, *spatial)
        The batch.
    name : str, default "x"
        The argument's name in error messages.

    Returns
    -------
    mean, var : ndarray, shape (C,), float64
        Mean and biased (``1/m'``) variance per channel.
    m : int
        Values per channel.

    Raises
    ------
    ValueError
        Naming ``name`` when the statistics are not finite (NaN/inf in the data, or an
        overflowing variance).
    """
    with np.errstate(all="ignore"):
        mean, _, var, m = centered_moments(x)
        unbiased = var * (m / max(m - 1, 1))
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(unbiased))):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contains NaN or inf")
        raise ValueError(f"{name}: values too large, the batch variance overflows")
    return mean, var, m


def fold_params(
    mean: Array, var: Array, gamma: Array, beta: Array, eps: float
) -> tuple[Array, Array]:
    """The folded inference parameters ``scale = gamma / sqrt(var + eps)`` and
    ``shift = beta - scale * mean`` (float64).

    Parameters
    ----------
    mean, var, gamma, beta : ndarray, shape (C,)
        Population (or running) statistics and the affine parameters.
    eps : float
        Variance offset.

    Returns
    -------
    scale, shift : ndarray, shape (C,), float64
        The per-channel affine map.

    Raises
    ------
    ValueError
        Naming the arguments instead of returning inf/NaN with an overflow warning.
    """
    denom = var + eps
    if np.any(denom <= 0):
        raise ValueError("var + eps must be positive in every channel (eps=0 with a zero variance)")
    with np.errstate(all="ignore"):
        scale = gamma / np.sqrt(denom)
        shift = beta - scale * mean
    if not np.all(np.isfinite(scale)):
        raise ValueError(
            "gamma, var and eps: gamma / sqrt(var + eps) overflows float64 (variance too small "
            "for eps, or gamma too large)"
        )
    if not np.all(np.isfinite(shift)):
        raise ValueError(
            "mean and beta: the shift beta - gamma * mean / sqrt(var + eps) overflows float64"
        )
    return scale, shift


def apply_affine(x: Array, scale: Array, shift: Array) -> Array:
    """``x * scale + shift`` per channel in the precision of ``x``.

    Inference mode gets the same guards as training mode.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, *spatial)
        Validated input.
    scale, shift : ndarray, shape (C,), float64
        The folded parameters.

    Returns
    -------
    ndarray
        Same shape and dtype as ``x``.

    Raises
    ------
    ValueError
        When the folded parameters do not fit the dtype of ``x`` or the output overflows.
    """
    if x.dtype == np.float32:
        if np.any(np.abs(scale) > F32_MAX) or np.any(np.abs(shift) > F32_MAX):
            raise ValueError(
                "x is float32 but gamma / sqrt(var + eps) or the shift exceeds the float32 "
                "range; pass float64 x"
            )
    bs = bshape(x)
    with np.errstate(all="ignore"):
        y = x * scale.astype(x.dtype).reshape(bs)
        y += shift.astype(x.dtype).reshape(bs)
    if not np.all(np.isfinite(y)):
        raise ValueError(
            f"x: values too large, the inference output scale * x + shift overflows {x.dtype}"
        )
    return y


def batch_norm_inference(
    x: object, mean: object, var: object, gamma: object, beta: object, eps: float = 1e-5
) -> Array:
    r"""Inference-mode BN with fixed statistics (Ioffe & Szegedy 2015, Alg. 2 line 11).

    :math:`y = \frac{\gamma}{\sqrt{\mathrm{Var}[x]+\epsilon}}x + \big(\beta - \frac{\gamma E[x]}{\sqrt{\mathrm{Var}[x]+\epsilon}}\big)`.
    Works for any batch size, including one.

    Parameters
    ----------
    x : array_like, shape (N, C) or (N, C, *spatial)
        The batch (any N >= 1).
    mean, var : array_like, shape (C,) (or scalars)
        Population mean and variance (``var >= 0``).
    gamma, beta : array_like, shape (C,) (or scalars)
        Scale and shift.
    eps : float, default 1e-5
        Added to the variance.

    Returns
    -------
    ndarray
        Same shape and dtype as ``x``.

    Raises
    ------
    ValueError
        On NaN/inf, shape mismatch, negative variance, ``var + eps = 0`` or overflow.
    """
    x = check_x(x)
    eps = check_eps(eps)
    C = x.shape[1]
    mean = check_param(mean, "mean", C, np.float64)
    var = check_param(var, "var", C, np.float64)
    if np.any(var < 0):
        raise ValueError("var must be non-negative")
    gamma = check_param(gamma, "gamma", C, np.float64)
    beta = check_param(beta, "beta", C, np.float64)
    scale, shift = fold_params(mean, var, gamma, beta, eps)
    return apply_affine(x, scale, shift)


def population_statistics(batches: Iterable) -> tuple[Array, Array]:
    r"""Population statistics of Ioffe & Szegedy (2015), Algorithm 2, lines 8-10.

    :math:`E[x] \leftarrow E_B[\mu_B]` and
    :math:`\mathrm{Var}[x] \leftarrow \frac{m}{m-1} E_B[\sigma_B^2]`: the mean of the batch
    means and ``m/(m-1)`` times the mean of the (biased) batch variances, where ``m`` is the
    (effective) size of every batch. All batches must have the same effective size, as in
    the algorithm.

    Parameters
    ----------
    batches : iterable of array_like, each (N, C) or (N, C, *spatial)
        The mini-batches.

    Returns
    -------
    mean, var : ndarray, shape (C,), float64
        Population mean and unbiased population variance.
    """
    if isinstance(batches, np.ndarray):
        raise TypeError(
            "batches must be an iterable of arrays (a list of mini-batches), not one array"
        )
    means, variances, m, channels, shape = [], [], None, None, None
    for k, b in enumerate(batches):
        b = check_x(b, f"batches[{k}]")
        if channels is None:
            channels, shape = b.shape[1], b.shape
        if b.shape[1] != channels or b.shape[2:] != shape[2:]:
            raise ValueError(f"batches[{k}] has shape {b.shape}, incompatible with {shape}")
        mean, var, mb = moments(b, f"batches[{k}]")
        if m is None:
            m = mb
        if mb != m:
            raise ValueError(
                f"batches: Algorithm 2 uses mini-batches of one size m; batches[{k}] has {mb} values per channel, not {m}"
            )
        if m < 2:
            raise ValueError(
                f"batches[{k}]: need more than 1 value per channel to estimate a variance"
            )
        means.append(mean)
        variances.append(var)
    if not means:
        raise ValueError("batches must contain at least one mini-batch")
    with np.errstate(all="ignore"):
        mean = np.mean(means, axis=0)
        var = m / (m - 1) * np.mean(variances, axis=0)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        raise ValueError("batches: values too large, the population statistics overflow")
    return mean, var


@dataclass(frozen=True, slots=True)
class FoldedAffine:
    r"""The inference-time affine map of Algorithm 2, line 11: ``y = scale * x + shift``.

    Iterating yields ``(scale, shift)`` so ``scale, shift = bn.fold()`` works.

    Attributes
    ----------
    scale, shift : ndarray, shape (C,)
        ``gamma / sqrt(Var + eps)`` and ``beta - scale * E[x]``.
    """

    scale: Array
    shift: Array

    def __iter__(self) -> Iterator[Array]:
        yield self.scale
        yield self.shift

    def __call__(self, x: object) -> Array:
        """Apply the map to ``x`` of shape (N, C) or (N, C, *spatial).

        Parameters
        ----------
        x : array_like
            The batch.

        Returns
        -------
        ndarray
            ``scale * x + shift`` per channel, dtype of ``x``.
        """
        x = check_x(x)
        if x.shape[1] != self.scale.shape[0]:
            raise ValueError(f"x must have {self.scale.shape[0]} channels, got shape {x.shape}")
        return apply_affine(x, np.asarray(self.scale, float), np.asarray(self.shift, float))
