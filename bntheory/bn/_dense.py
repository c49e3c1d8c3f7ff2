"""Training-mode BN on ``(N, C)`` input (one value per sample and channel): the statistics
and the element-wise passes of Algorithm 1 of Ioffe & Szegedy (2015) and of its backward
pass, written for NumPy's fastest paths.

* Column sums of float64 data are BLAS matrix-vector products ``ones @ a`` (faster than one
  streaming pass); float32 data are summed with :func:`numpy.add.reduce` into float64.
* Arrays larger than one block are processed in blocks of whole rows
  (:data:`BLOCK_BYTES`), the operations on one block following each other while it is in
  cache. A per-channel vector is applied as a block-sized *tile* (the vector repeated on
  every row of the block), so that every element-wise operation works on arrays of one
  shape: NumPy's broadcasting of a row vector over a 2-D block costs about twice as much
  as an operation on two arrays of one shape.
* Small arrays are processed whole, with as few NumPy calls as the arithmetic needs.

The forward pass stores ``x - mean`` (not ``x_hat``); the backward pass folds
``1/sqrt(var + eps)`` into its per-channel coefficients. Validity is read from
statistics computed anyway (see :mod:`bntheory.bn._train`).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ._common import Array, all_finite

F64 = np.dtype(np.float64)
#: Bytes of one block of rows. Measured on the 2-core machine of benchmarks/bench_bn.py
#: (1 MiB L2 per core, 32 MiB L3) at (256, 4096) float64: 1 MiB blocks are fastest, 256 KiB
#: blocks cost 4 % more (Python overhead per block), 2 MiB blocks 50 % more (cache misses).
BLOCK_BYTES = 1 << 20


#: Status codes of :func:`backward`: success, a non-finite ``sum(dy)`` or ``sum(dy * x_hat)``
#: (then ``dx`` is None), a non-finite ``dx``.
OK, SUMS_NOT_FINITE, DX_NOT_FINITE = 0, 1, 2


@functools.lru_cache(maxsize=16)
def _ones(n: int, dtype: np.dtype) -> Array:
    """A read-only vector of ``n`` ones (the left factor of BLAS column sums)."""
    o = np.ones(n, dtype)
    o.flags.writeable = False
    return o


def _rows(x: Array) -> int:
    """Rows per block for ``x``: 0 when ``x`` is processed whole (small or not C-contiguous)."""
    if x.nbytes <= 2 * BLOCK_BYTES or not x.flags.c_contiguous:
        return 0
    return max(1, BLOCK_BYTES // (x.shape[1] * x.itemsize))


def col_sum(a: Array) -> Array:
    """Per-column sum of a 2-D array, float64 (BLAS for float64 input).

    Parameters
    ----------
    a : ndarray, shape (N, C), float32 or float64

    Returns
    -------
    ndarray, shape (C,), float64
    """
    if a.dtype == F64:
        return _ones(a.shape[0], F64) @ a
    return np.add.reduce(a, axis=0, dtype=F64)


def _partial_sum(a: Array, out: Array) -> None:
    """Column sum of one block into the float64 ``out`` (BLAS for float64)."""
    if a.dtype == F64:
        np.matmul(_ones(a.shape[0], F64), a, out=out)
    else:
        np.add.reduce(a, axis=0, dtype=F64, out=out)


def _partial_dot(a: Array, b: Array, tmp: Array, out: Array) -> None:
    """Column sums of ``a * b`` for one block into the float64 ``out`` (float64: einsum, no
    temporary; float32: the product into ``tmp``, accumulated in float64)."""
    if a.dtype == F64:
        np.einsum("nc,nc->c", a, b, out=out)
    else:
        np.add.reduce(np.multiply(a, b, out=tmp[: a.shape[0]]), axis=0, dtype=F64, out=out)


def _spans(n_rows: int, k: int) -> list[tuple[slice, int]]:
    """Row slices of the blocks of ``k`` rows and their lengths."""
    return [(slice(r, r + k), min(k, n_rows - r)) for r in range(0, n_rows, k)]


def forward(x: Array, gamma: Array, beta: Array, m: int, eps: float) -> tuple:
    """Centred input, statistics and output of training-mode BN on 2-D ``x``.

    Parameters
    ----------
    x : ndarray, shape (N, C), float32 or float64
    gamma, beta : ndarray, shape (C,), dtype of ``x``
    m : int
        ``N``.
    eps : float

    Returns
    -------
    tuple
        ``(y, xc, mean, var, inv_std, scale, gg, bb, vi)`` with ``xc = x - mean`` in the
        precision of ``x``, ``mean``, ``var`` (biased) and ``inv_std = 1/sqrt(var + eps)``
        in float64, ``scale = gamma * inv_std`` in the precision of ``x``, and the floats
        ``gg = gamma @ gamma``, ``bb = beta @ beta`` and ``vi = var @ inv_std`` (the
        caller's checks). Non-finite statistics are returned as they are (the caller
        checks them); ``y`` is then meaningless.
    """
    gg, bb = float(np.dot(gamma, gamma)), float(np.dot(beta, beta))
    y, xc, mean, var, inv_std, scale = _forward(x, gamma, beta, m, eps)
    return y, xc, mean, var, inv_std, scale, gg, bb, float(var @ inv_std)


def _forward(x: Array, gamma: Array, beta: Array, m: int, eps: float) -> tuple:
    """:func:`forward` without the scalar checks."""
    dt = x.dtype
    k = _rows(x)
    if not k and dt == F64:  # fewest calls (the sum is divided by m, not summed with
        # weights 1/m: a constant channel then has mean = its value exactly when the sum
        # is exact, and so a zero variance)
        ones = _ones(m, F64)
        mean = ones @ x / m
        xc = x - mean
        var = ones @ (xc * xc) / m
        inv_std = 1.0 / np.sqrt(var + eps)
        scale = gamma * inv_std
        y = xc * scale
        y += beta
        return y, xc, mean, var, inv_std, scale
    mean = col_sum(x) / m
    mean_x = mean if dt == F64 else mean.astype(dt)
    if not k:
        xc = x - mean_x
        var = np.einsum("nc,nc->c", xc, xc, dtype=F64) / m
        inv_std = 1.0 / np.sqrt(var + eps)
        scale = (gamma * inv_std).astype(dt, copy=False)
        y = xc * scale
        y += beta
        return y, xc, mean, var, inv_std, scale
    spans = _spans(x.shape[0], k)
    tile, tmp = np.empty((2, k, x.shape[1]), dt)
    parts = np.empty((len(spans), x.shape[1]))
    tile[...] = mean_x
    xc = np.empty_like(x)
    for i, (sl, n) in enumerate(spans):
        xb = np.subtract(x[sl], tile[:n], out=xc[sl])
        _partial_dot(xb, xb, tmp, parts[i])
    var = col_sum(parts) / m
    inv_std = 1.0 / np.sqrt(var + eps)
    scale = (gamma * inv_std).astype(dt, copy=False)
    tile[...] = scale
    tmp[...] = beta
    y = np.empty_like(x)
    for sl, n in spans:
        yb = np.multiply(xc[sl], tile[:n], out=y[sl])
        yb += tmp[:n]
    return y, xc, mean, var, inv_std, scale


def backward_sums(dy: Array, xc: Array) -> tuple[Array, Array]:
    """``sum(dy)`` and ``sum(dy * xc)`` per column, float64.

    Parameters
    ----------
    dy, xc : ndarray, shape (N, C), one dtype

    Returns
    -------
    dbeta, dot : ndarray, shape (C,), float64
    """
    k = _rows(dy) if xc.flags.c_contiguous else 0
    if not k:
        if dy.dtype == F64:
            return col_sum(dy), _ones(dy.shape[0], F64) @ (dy * xc)
        return col_sum(dy), np.einsum("nc,nc->c", dy, xc, dtype=F64)
    spans = _spans(dy.shape[0], k)
    tmp = np.empty((k, dy.shape[1]), dy.dtype)
    p1, p2 = np.empty((2, len(spans), dy.shape[1]))
    for i, (sl, _) in enumerate(spans):
        d = dy[sl]
        _partial_sum(d, p1[i])
        _partial_dot(d, xc[sl], tmp, p2[i])
    return col_sum(p1), col_sum(p2)


def backward_dx(dy: Array, xc: Array, a: Array, k_: Array, b: Array) -> tuple[Array, bool]:
    """``dx = xc * a + dy * k - b`` (coefficients per column) and whether it is finite.

    Parameters
    ----------
    dy, xc : ndarray, shape (N, C), one dtype
    a, k_, b : ndarray, shape (C,), that dtype

    Returns
    -------
    dx : ndarray, shape (N, C)
    finite : bool
        Whether every value of ``dx`` is finite (from the sum of ``dx``, made block by
        block while in cache; an overflowing sum falls back to the element-wise test).
    """
    k = _rows(dy) if xc.flags.c_contiguous else 0
    if not k:
        dx = xc * a
        dx += dy * k_
        dx -= b
        total = float(np.add.reduce(dx, axis=None))
        return dx, math.isfinite(total) or bool(np.isfinite(dx).all())
    ta, tk, tb, tmp = np.empty((4, k, dy.shape[1]), dy.dtype)
    ta[...], tk[...], tb[...] = a, k_, b
    dx = np.empty_like(xc)
    spans = _spans(dy.shape[0], k)
    sums = np.empty((len(spans), dy.shape[1]))
    for i, (sl, n) in enumerate(spans):
        o = np.multiply(xc[sl], ta[:n], out=dx[sl])
        o += np.multiply(dy[sl], tk[:n], out=tmp[:n])
        o -= tb[:n]
        _partial_sum(o, sums[i])  # while in cache: any NaN/inf makes the total non-finite
    total = float(np.add.reduce(sums, axis=None))
    return dx, math.isfinite(total) or bool(np.isfinite(dx).all())


def backward(dy: Array, xc: Array, gamma: Array, inv_std: Array, m: int) -> tuple:
    """Backward pass of training-mode BN on 2-D input from ``xc = x - mean``.

    ``dgamma = sum(dy * xc) * inv_std``, ``dbeta = sum(dy)`` and, with
    ``k = gamma * inv_std``, ``dx = k * (dy - dbeta/m - xc * inv_std * dgamma/m)`` formed as
    ``xc * a + dy * k - b`` (1/sqrt(var + eps) folded into the coefficients).

    Parameters
    ----------
    dy, xc : ndarray, shape (N, C), one dtype
    gamma : ndarray, shape (C,), that dtype
    inv_std : ndarray, shape (C,), float64
    m : int
        ``N``.

    Returns
    -------
    tuple
        ``(dx, dgamma, dbeta, status)``: ``dx`` in the dtype of ``dy`` (None when
        ``status`` is :data:`SUMS_NOT_FINITE`), ``dgamma`` and ``dbeta`` in float64,
        ``status`` one of :data:`OK`, :data:`SUMS_NOT_FINITE`, :data:`DX_NOT_FINITE`.
    """
    dbeta, dot = backward_sums(dy, xc)
    dgamma = dot * inv_std
    # finite iff both are (0 * inf = NaN), barring an overflow of the products
    if not math.isfinite(float(dbeta @ dgamma)) and not all_finite(dbeta, dgamma):
        return None, dgamma, dbeta, SUMS_NOT_FINITE
    k = gamma * inv_std  # float64 (gamma has the dtype of x)
    km = k * (1.0 / m)
    a, b = km * inv_std, km * dbeta
    a *= -dgamma
    if dy.dtype != F64:
        a, k, b = a.astype(dy.dtype), k.astype(dy.dtype), b.astype(dy.dtype)
    dx, finite = backward_dx(dy, xc, a, k, b)
    return dx, dgamma, dbeta, OK if finite else DX_NOT_FINITE
