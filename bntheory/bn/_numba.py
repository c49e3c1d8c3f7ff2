"""Training-mode BN on ``(N, C)`` input as fused compiled loops (numba; the optional extra
``fast``), selected with :func:`bntheory.bn.use_kernels`.

Same interface and same float64 statistics as :mod:`bntheory.bn._dense`, with each pass a
single loop nest over the C-contiguous array (rows outer, channels inner and vectorized):

* forward: the column sums, the centred squares, then ``x - mean`` and ``y`` written in
  one pass (three reads and two writes of the array; NumPy needs seven operations);
* backward: ``sum(dy)`` and ``sum(dy * (x - mean))`` in one pass, the per-channel
  coefficients, then ``dx`` with its per-channel sums (the finiteness check) in another,
  all in one compiled call (the per-channel arithmetic costs NumPy ~10 calls).

Float32 input: the element-wise arithmetic (``x - mean``, ``y``, ``dx``) is float32 and the
statistics and reductions accumulate float64 products, as in the NumPy kernels (so both
accept and reject the same borderline input; the sums differ in order only). Compiled with
``error_model="numpy"`` (a division by zero gives inf, as in NumPy; the caller's checks
name it) and without fast-math (NaN and inf propagate, summation order is as written).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._common import Array
from ._dense import DX_NOT_FINITE, OK, SUMS_NOT_FINITE

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def _forward(x, gamma, beta, eps, y, xc, stats, scale, mean_x):  # pragma: no cover - compiled
    n, C = x.shape
    mean, var, inv_std, s = stats[0], stats[1], stats[2], stats[3]
    s[:] = 0.0
    for i in range(n):
        for c in range(C):
            s[c] += x[i, c]
    for c in range(C):
        mean[c] = s[c] / n
        mean_x[c] = mean[c]  # rounded to the dtype of x
        s[c] = 0.0
    for i in range(n):
        for c in range(C):
            d = np.float64(x[i, c] - mean_x[c])  # in the precision of x, as NumPy
            s[c] += d * d
    gg = bb = vi = 0.0
    for c in range(C):
        var[c] = s[c] / n
        inv_std[c] = 1.0 / math.sqrt(var[c] + eps)
        scale[c] = gamma[c] * inv_std[c]  # rounded to the dtype of x
        gg += np.float64(gamma[c]) * gamma[c]
        bb += np.float64(beta[c]) * beta[c]
        vi += var[c] * inv_std[c]
    for i in range(n):
        for c in range(C):
            d = x[i, c] - mean_x[c]
            xc[i, c] = d
            y[i, c] = d * scale[c] + beta[c]
    return gg, bb, vi


@numba.njit(**_JIT)
def _backward(dy, xc, gamma, inv_std, m, dx, out, coef):  # pragma: no cover - compiled
    n, C = dy.shape
    s1, s2, t = out[0], out[1], out[2]
    s1[:] = 0.0
    s2[:] = 0.0
    for i in range(n):
        for c in range(C):
            g = np.float64(dy[i, c])  # float32 input: float64 products, as NumPy's einsum
            s1[c] += g
            s2[c] += g * np.float64(xc[i, c])
    check = 0.0
    for c in range(C):
        s2[c] *= inv_std[c]  # dgamma
        check += s1[c] * s2[c]
    if not math.isfinite(check):  # an overflow of finite sums passes
        for c in range(C):
            if not (math.isfinite(s1[c]) and math.isfinite(s2[c])):
                return SUMS_NOT_FINITE
    a, k, b = coef[0], coef[1], coef[2]
    for c in range(C):
        kc = gamma[c] * inv_std[c]
        km = kc * (1.0 / m)
        a[c] = -(km * inv_std[c]) * s2[c]
        k[c] = kc
        b[c] = km * s1[c]
        t[c] = 0.0
    for i in range(n):
        for c in range(C):
            v = xc[i, c] * a[c] + dy[i, c] * k[c] - b[c]
            dx[i, c] = v
            t[c] += v
    total = 0.0
    for c in range(C):
        total += t[c]
    if math.isfinite(total):
        return OK
    for i in range(n):  # an overflow of the sums of finite values passes
        for c in range(C):
            if not math.isfinite(dx[i, c]):
                return DX_NOT_FINITE
    return OK


def forward(x: Array, gamma: Array, beta: Array, m: int, eps: float) -> tuple:
    """Centred input, statistics and output of training-mode BN on 2-D ``x`` (three loop
    nests in one compiled call).

    Parameters
    ----------
    x, gamma, beta, m, eps
        As :func:`bntheory.bn._dense.forward`.

    Returns
    -------
    tuple
        ``(y, xc, mean, var, inv_std, scale, gg, bb, vi)`` as
        :func:`bntheory.bn._dense.forward` (``gg`` and ``bb`` accumulated in float64).
    """
    x = np.ascontiguousarray(x)
    out = np.empty((2, *x.shape), x.dtype)
    stats = np.empty((4, x.shape[1]))
    scale, mean_x = np.empty((2, x.shape[1]), x.dtype)
    gg, bb, vi = _forward(x, gamma, beta, float(eps), out[0], out[1], stats, scale, mean_x)
    return out[0], out[1], stats[0], stats[1], stats[2], scale, gg, bb, vi


def backward(dy: Array, xc: Array, gamma: Array, inv_std: Array, m: int) -> tuple:
    """Backward pass of training-mode BN on 2-D input from ``xc = x - mean``, as
    :func:`bntheory.bn._dense.backward` (one pass for both reductions, one for ``dx``).

    Parameters
    ----------
    dy, xc, gamma, inv_std, m
        As :func:`bntheory.bn._dense.backward`.

    Returns
    -------
    tuple
        ``(dx, dgamma, dbeta, status)`` as :func:`bntheory.bn._dense.backward`.
    """
    dy, xc = np.ascontiguousarray(dy), np.ascontiguousarray(xc)
    dx = np.empty_like(xc)
    out = np.empty((3, dx.shape[1]))
    coef = np.empty((3, dx.shape[1]), dx.dtype)
    status = _backward(dy, xc, gamma, inv_std, float(m), dx, out, coef)
    return (None if status == SUMS_NOT_FINITE else dx), out[1], out[0], status
