"""Training-mode BN: Algorithm 1 of Ioffe & Szegedy (2015) and its backward pass.

Memory traffic (one "pass" = one read or write of an array the size of ``x``): the forward
pass reads ``x`` twice for the two-pass statistics, writes and rescales ``x_hat`` in place
and writes ``y`` (gamma = 1 and beta = 0 skip their pass). The backward pass reads ``dy`` and
``x_hat`` for the two reductions, forms ``dx`` in one output buffer with in-place updates,
and reads ``dx`` once more to prove it finite. No other pass is made: NaN/inf in ``x`` or
``dy`` are detected from the per-channel sums (any non-finite value makes its channel's
sum non-finite), and the output ``y`` is proved finite from the bound
``|x_hat| <= sqrt(m')`` (the squares of a channel's ``x_hat`` sum to at most ``m'``).

Arrays larger than one block (:data:`~bntheory.bn._common.BLOCK_BYTES`) are processed block
by block: the operations that follow one another on the same data (centring and sum of
squares; rescaling ``x_hat`` and forming ``y``; the two backward reductions; the four
updates of ``dx`` and its check) run on one cache-resident block before the next. The
arithmetic, and so every result bit, is that of the plain whole-array NumPy expressions.

Input with one value per sample and channel (``(N, C)``, or spatial sizes all 1) takes the
kernels of :mod:`bntheory.bn._dense` instead: BLAS column sums, blocks of whole rows with
per-channel vectors applied as block-sized tiles, ``x - mean`` kept instead of ``x_hat``
(which :attr:`BNCache.x_hat` forms on first access) and ``1/sqrt(var + eps)`` folded into
the coefficients of ``y`` and ``dx``. There the checks are read from the statistics too:
``var @ inv_std`` is finite iff both are (``0 * inf`` is NaN), and ``dbeta @ dgamma``
likewise; only when such a test fails are the arrays examined to name the problem. Inside
:func:`~bntheory.bn.use_kernels` ``("numba")`` the same kernels are fused compiled loops
(:mod:`bntheory.bn._numba`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import _dense, _kernels
from ._common import (
    F32_MAX,
    F64_MAX,
    Array,
    all_finite,
    as_float_array,
    blocked_sums,
    bshape,
    centered_moments,
    channel_dot,
    channel_sum,
    check_eps,
    check_param,
    check_x,
    tiling,
)

__all__ = ["BNCache", "batch_norm_backward", "batch_norm_forward"]


@dataclass(frozen=True, slots=True, eq=False)
class BNCache:
    """What the backward pass needs: the normalized input and ``1/sqrt(var + eps)``.

    Attributes
    ----------
    x_hat : ndarray
        Normalized input, shape of ``x`` (read-only property; for ``(N, C)`` input it is
        formed from :attr:`centered` on first access and kept).
    centered : ndarray or None
        ``x - mean`` (shape and dtype of ``x``) when the forward pass kept it instead of
        ``x_hat`` (input with one value per sample and channel), else None.
    inv_std : ndarray
        ``1 / sqrt(sigma_B^2 + eps)`` per channel (float64).
    gamma : ndarray
        Scale per channel.
    mean, var : ndarray
        Batch mean and biased batch variance per channel (float64).
    m : int
        Effective batch size ``m' = N * prod(spatial)``.
    eps : float
    """

    centered: Array | None = field(repr=False)
    inv_std: Array
    gamma: Array
    mean: Array
    var: Array
    m: int
    eps: float
    _x_hat: Array | None = field(default=None, repr=False)

    @property
    def x_hat(self) -> Array:
        """Normalized input ``(x - mean) / sqrt(var + eps)``, shape and dtype of ``x``."""
        if self._x_hat is None:
            xc = self.centered
            inv = self.inv_std.astype(xc.dtype).reshape(bshape(xc))
            object.__setattr__(self, "_x_hat", xc * inv)
        return self._x_hat


#: Inputs of at least this many values check for gamma = 1, beta = 0 and k = 1 and skip the
#: corresponding pass over memory (x * 1 and x + 0 are exact); smaller ones do not bother.
_SHORTCUT_SIZE = 1 << 15


def _is_constant(p: Array, value: float, size: int) -> bool:
    """Whether every entry of the per-channel vector ``p`` equals ``value`` (checked only
    for inputs of ``size >= _SHORTCUT_SIZE`` values; False otherwise)."""
    return size >= _SHORTCUT_SIZE and bool(p.min() == value and p.max() == value)


def _centred(x: Array, m: int) -> tuple[Array, Array, Array]:
    """Per-channel mean, ``x - mean`` (a new array) and the biased variance.

    Same arithmetic as :func:`~bntheory.bn._common.centered_moments` (bit for bit); where
    :func:`~bntheory.bn._common.blocked_sums` allows, the centring and the sums of squares
    run block by block, each block of ``x - mean`` summed while it is in cache.
    """
    if not blocked_sums(x):
        mean, xc, var, _ = centered_moments(x)
        return mean, xc, var
    mean = channel_sum(x) / m
    xc = np.empty_like(x)
    (x3, xc3), vshape, tiles = tiling(x, xc)
    mean3 = mean.astype(x.dtype).reshape(vshape)
    sq = np.empty(x3.shape[:2], x.dtype)
    for idx, vidx in tiles:
        b = np.subtract(x3[idx], mean3[vidx], out=xc3[idx])
        np.einsum("ncs,ncs->nc", b, b, out=sq[idx])
    return mean, xc, np.add.reduce(sq, axis=0, dtype=np.float64) / m


def _normalize_affine(x_hat: Array, inv_std: Array, gamma: Array, beta: Array) -> Array:
    """``x_hat *= inv_std`` in place and ``y = gamma * x_hat + beta`` (new array), block by
    block so that ``x_hat`` is read from memory once; ``gamma = 1`` and ``beta = 0`` skip
    their operation (the values are unchanged)."""
    y = np.empty_like(x_hat)
    (xh3, y3), vshape, tiles = tiling(x_hat, y)
    inv3 = inv_std.astype(x_hat.dtype).reshape(vshape)
    g3, b3 = gamma.reshape(vshape), beta.reshape(vshape)
    unit, zero = _is_constant(gamma, 1.0, y.size), _is_constant(beta, 0.0, y.size)
    for idx, vidx in tiles:
        xh = xh3[idx]
        xh *= inv3[vidx]
        yb = y3[idx]
        if unit:
            np.copyto(yb, xh)
        else:
            np.multiply(xh, g3[vidx], out=yb)
        if not zero:
            yb += b3[vidx]
    return y


def _stat_error(x: Array, mean: Array, var: Array, inv_std: Array | None, eps: float) -> None:
    """Raise the named error for non-finite or unusable batch statistics (the slow path,
    taken only when a cheap test of the statistics failed; returns if all is well)."""
    if not all_finite(mean, var):
        if not np.isfinite(x).all():
            raise ValueError("x contains NaN or inf")
        raise ValueError("x: values too large, the batch variance overflows")
    if eps == 0.0 and var.min() <= 0:
        bad = int(np.flatnonzero(var <= 0)[0])
        raise ValueError(
            "eps=0 requires a positive batch variance in every channel; "
            f"channel {bad} of x is constant"
        )
    if inv_std is not None and not all_finite(inv_std):
        raise ValueError(
            "x: batch variance too small for eps (1/sqrt(var + eps) overflows); increase eps"
        )


def _check_params(gg: float, bb: float, gamma: Array, beta: Array) -> None:
    """Name a NaN/inf in ``gamma`` or ``beta`` when ``|gamma|^2 + |beta|^2`` is not finite
    (an overflow of the squares of finite values passes)."""
    if not math.isfinite(gg + bb):
        for p, name in ((gamma, "gamma"), (beta, "beta")):
            if not np.isfinite(p).all():
                raise ValueError(f"{name} contains NaN or inf")


def batch_norm_forward(
    x: object, gamma: object, beta: object, eps: float = 1e-5
) -> tuple[Array, BNCache]:
    r"""Batch-normalizing transform in training mode (Ioffe & Szegedy 2015, Algorithm 1).

    .. math::
        \mu_B = \frac1{m}\sum_i x_i,\quad \sigma_B^2 = \frac1{m}\sum_i (x_i-\mu_B)^2,\quad
        \hat x_i = \frac{x_i-\mu_B}{\sqrt{\sigma_B^2+\epsilon}},\quad y_i=\gamma\hat x_i+\beta.

    Parameters
    ----------
    x : array_like, shape (N, C) or (N, C, *spatial)
        Mini-batch; statistics per channel over every axis but axis 1.
    gamma, beta : array_like, shape (C,) (or scalars)
        Scale and shift.
    eps : float, default 1e-5
        Added to the variance. ``eps = 0`` is allowed when every channel's batch variance is
        positive.

    Returns
    -------
    y : ndarray, same shape and dtype as ``x``
        The normalized, scaled and shifted batch.
    cache : BNCache
        Input of :func:`batch_norm_backward`.

    Raises
    ------
    ValueError
        When a channel has a single value (``m' = 1``), when ``x``, ``gamma`` or ``beta``
        hold NaN/inf, on shape mismatch, ``eps < 0``, or ``eps = 0`` with a zero variance.
    """
    # NaN/inf in x are detected from the statistics (a NaN or inf anywhere makes its
    # channel's mean or variance non-finite), which saves a full pass over x.
    x = check_x(x, check_finite=False)
    eps = check_eps(eps)
    C = x.shape[1]
    gamma = check_param(gamma, "gamma", C, x.dtype, check_finite=False)
    beta = check_param(beta, "beta", C, x.dtype, check_finite=False)
    m = x.size // C
    if m < 2:
        raise ValueError(
            f"x: expected more than 1 value per channel in training mode, got input shape {x.shape}"
        )
    with np.errstate(all="ignore"):
        # |gamma|^2 and |beta|^2 (gg, bb): finite iff the parameters are (or an overflow,
        # checked then), and the bound on |y| below
        if m == x.shape[0]:  # one value per sample and channel: the (N, C) kernels
            kern = _kernels.module()
            y, xc, mean, var, inv_std, scale, gg, bb, vi = kern.forward(
                x.reshape(m, C), gamma, beta, m, eps
            )
            _check_params(gg, bb, gamma, beta)
            # var finite => mean and x finite (a NaN/inf in x or an overflow of the mean
            # makes the centred values and so var non-finite); vi = var @ inv_std is finite
            # iff both are (0 * inf = NaN; the products are at most sqrt(var))
            if not math.isfinite(vi):
                _stat_error(x, mean, var, inv_std, eps)
            y, xc = y.reshape(x.shape), xc.reshape(x.shape)
            cache = BNCache(xc, inv_std, gamma, mean, var, m, eps)
            f32_scale_ok = True
            if x.dtype == np.float32:  # x_hat (formed on demand) must fit float32 too
                if float(inv_std.max()) > F32_MAX:
                    raise ValueError("gamma and beta: the output gamma * x_hat + beta overflows")
                f32_scale_ok = bool(np.isfinite(scale).all())
        else:
            gg, bb = float(np.dot(gamma, gamma)), float(np.dot(beta, beta))
            _check_params(gg, bb, gamma, beta)
            mean, x_hat, var = _centred(x, m)
            if not all_finite(mean, var):
                _stat_error(x, mean, var, None, eps)
            if eps == 0.0 and var.min() <= 0:
                _stat_error(x, mean, var, None, eps)
            inv_std = 1.0 / np.sqrt(var + eps)
            if not all_finite(inv_std):
                _stat_error(x, mean, var, inv_std, eps)
            y = _normalize_affine(x_hat, inv_std, gamma, beta)
            cache = BNCache(None, inv_std, gamma, mean, var, m, eps, x_hat)
            f32_scale_ok = x.dtype != np.float32 or float(inv_std.max()) <= F32_MAX
        # |x_hat| <= sqrt(m) exactly (a channel's squares sum to m var / (var + eps)); the
        # factor 2 covers round-off. Within the bound y cannot overflow: no pass over y.
        # (For float32 x the bound needs gamma / sqrt(var + eps), or 1/sqrt(var + eps),
        # to fit float32: with var = 0 and a tiny eps it does not, and 0 * inf is NaN.)
        f32 = x.dtype == np.float32
        bound = math.sqrt(gg) * 2.0 * math.sqrt(m) + math.sqrt(bb)
        safe = bound < (F32_MAX if f32 else F64_MAX) and f32_scale_ok
        if not safe and not np.isfinite(y).all():
            raise ValueError("gamma and beta: the output gamma * x_hat + beta overflows")
    return y, cache


def _dy_sums(dy: Array, x_hat: Array) -> tuple[Array, Array]:
    """``dbeta = sum(dy)`` and ``dgamma = sum(dy * x_hat)`` per channel (float64).

    Same arithmetic as :func:`~bntheory.bn._common.channel_sum` and
    :func:`~bntheory.bn._common.channel_dot` (bit for bit); where
    :func:`~bntheory.bn._common.blocked_sums` allows, both reductions of a block are made
    while it is in cache.
    """
    if not blocked_sums(dy, x_hat):
        return channel_sum(dy), channel_dot(dy, x_hat)
    (dy3, xh3), _, tiles = tiling(dy, x_hat)
    s1 = np.empty(dy3.shape[:2], dy.dtype)
    s2 = np.empty(dy3.shape[:2], dy.dtype)
    for idx, _ in tiles:
        b = dy3[idx]
        np.add.reduce(b, axis=2, out=s1[idx])
        np.einsum("ncs,ncs->nc", b, xh3[idx], out=s2[idx])
    return np.add.reduce(s1, axis=0, dtype=np.float64), np.add.reduce(s2, axis=0, dtype=np.float64)


def _dx(
    dy: Array, x_hat: Array, k: Array, dgamma: Array, dbeta: Array, m: int
) -> tuple[Array, bool]:
    """``dx = k * (dy - dbeta/m - x_hat * dgamma/m)`` as ``x_hat * a + dy * k - b``, block by
    block into one output buffer, and whether every value of ``dx`` is finite (from the
    sums of the blocks, made while they are in cache)."""
    dtype = x_hat.dtype
    dx = np.empty_like(x_hat)
    (xh3, dy3, dx3), vshape, tiles = tiling(x_hat, dy, dx)
    a3 = (-k * dgamma / m).astype(dtype).reshape(vshape)
    b3 = (k * dbeta / m).astype(dtype).reshape(vshape)
    k3 = None if _is_constant(k, 1.0, dx.size) else k.astype(dtype).reshape(vshape)
    total = 0.0
    tmp = None if k3 is None else np.empty(xh3[tiles[0][0]].size, dtype)  # first = largest
    for idx, vidx in tiles:
        o = np.multiply(xh3[idx], a3[vidx], out=dx3[idx])
        if k3 is None:
            o += dy3[idx]
        else:  # dy * k into a reused block-sized buffer, then added
            o += np.multiply(dy3[idx], k3[vidx], out=tmp[: o.size].reshape(o.shape))
        o -= b3[vidx]
        total += float(np.add.reduce(o, axis=None))
    return dx, math.isfinite(total) or bool(np.isfinite(dx).all())


def _dy_error(dy_in: object, dy: Array, dtype: np.dtype) -> ValueError:
    """The error for a non-finite reduction of ``dy``: NaN/inf in the input, values too
    large for a float32 ``x``, or an overflow of the gradient."""
    if not np.isfinite(as_float_array(dy_in, "dy", check_finite=False)).all():
        return ValueError("dy contains NaN or inf")
    if dtype == np.float32 and not np.isfinite(dy).all():
        return ValueError("dy has values too large for the float32 input x")
    return ValueError("dy: the input gradient overflows (dy or gamma / sqrt(var + eps) too large)")


def batch_norm_backward(dy: object, cache: BNCache) -> tuple[Array, Array, Array]:
    r"""Backward pass of :func:`batch_norm_forward` in the simplified one-pass closed form.

    With :math:`\hat g_i = \gamma\,\partial\ell/\partial y_i` (Ioffe & Szegedy 2015, Sec. 3,
    simplified; proven equal to the paper's chain rule in :mod:`bntheory.symbolic`):

    .. math::
        \frac{\partial\ell}{\partial x_i} = \frac{1}{m\sqrt{\sigma_B^2+\epsilon}}
        \Big(m\hat g_i-\sum_j\hat g_j-\hat x_i\sum_j\hat g_j\hat x_j\Big),\quad
        \frac{\partial\ell}{\partial\gamma}=\sum_i \frac{\partial\ell}{\partial y_i}\hat x_i,\quad
        \frac{\partial\ell}{\partial\beta}=\sum_i \frac{\partial\ell}{\partial y_i}.

    Parameters
    ----------
    dy : array_like
        Upstream gradient, same shape as the forward input.
    cache : BNCache
        From :func:`batch_norm_forward`.

    Returns
    -------
    dx : ndarray (dtype of the forward input)
        Gradient with respect to the input.
    dgamma, dbeta : ndarray, shape (C,), float64
        Gradients with respect to the scale and the shift.

    Raises
    ------
    TypeError
        When ``cache`` is not a :class:`BNCache` or ``dy`` is not a real array.
    ValueError
        When ``dy`` has the wrong shape, holds NaN/inf, does not fit a float32 ``x``, or
        the gradient overflows.
    """
    if not isinstance(cache, BNCache):
        raise TypeError(
            f"cache must be the BNCache returned by batch_norm_forward, got {type(cache).__name__}"
        )
    x_hat = cache.centered if cache.centered is not None else cache.x_hat
    dtype = x_hat.dtype
    dy_in = dy
    dy = as_float_array(dy, "dy", check_finite=False)
    if dy.shape != x_hat.shape:
        raise ValueError(f"dy must have the shape of x, {x_hat.shape}, got {dy.shape}")
    m = cache.m
    with np.errstate(all="ignore"):
        # a float64 dy too large for a float32 x becomes inf in the cast, caught below
        dy = dy.astype(dtype, copy=False)
        xc = cache.centered
        if xc is not None:  # (N, C) kernels, from x - mean: 1/sqrt(var + eps) folded in
            n, C = xc.shape[0], xc.shape[1]
            dy2, xc2 = dy.reshape(n, C), xc.reshape(n, C)
            kern = _kernels.module()
            dx, dgamma, dbeta, status = kern.backward(dy2, xc2, cache.gamma, cache.inv_std, m)
            if status == _dense.SUMS_NOT_FINITE:
                raise _dy_error(dy_in, dy, dtype)
            finite = status == _dense.OK
            dx = dx.reshape(xc.shape)
        else:
            dbeta, dgamma = _dy_sums(dy, x_hat)
            if not all_finite(dbeta, dgamma):
                raise _dy_error(dy_in, dy, dtype)
            k = cache.gamma.astype(np.float64) * cache.inv_std
            dx, finite = _dx(dy, x_hat, k, dgamma, dbeta, m)
        if not finite:
            raise ValueError(
                "dy: the input gradient overflows (dy or gamma / sqrt(var + eps) too large)"
            )
    return dx, dgamma, dbeta
