"""Validation and per-channel reductions shared by the training and inference modes of BN.

Every check here costs O(C) or O(1) work except where stated: the O(m' C) finiteness tests
of the large arrays are derived by the callers from reductions they compute anyway (a NaN
or inf anywhere makes its channel's sum non-finite), so that a forward+backward pass reads
and writes memory as few times as the arithmetic needs.
"""

from __future__ import annotations

import functools
import math

import numpy as np

Array = np.ndarray

_FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))
F32_MAX = float(np.finfo(np.float32).max)
F64_MAX = float(np.finfo(np.float64).max)
#: Bytes of one block of the cache-blocked element-wise passes. The backward pass touches
#: four blocks (x_hat, dy, dx and a temporary), which stay in the L2/L3 caches; smaller
#: blocks cost Python overhead per block (measured best between 512 KiB and 2 MiB on the
#: 2-core machine of benchmarks/bench_bn.py: 1 MiB L2 per core, 32 MiB L3).
BLOCK_BYTES = 1 << 20


def as_float_array(a: object, name: str, check_finite: bool = True) -> Array:
    """Convert ``a`` to a float32 or float64 array, with errors naming the argument.

    Parameters
    ----------
    a : array_like
        Real numeric data; float32 and float64 are kept as they are (no copy), any other
        real or boolean type is converted to float64.
    name : str
        The argument's name in error messages.
    check_finite : bool, default True
        Raise on NaN or inf (one pass over ``a``). Callers that derive finiteness from
        a reduction they compute anyway pass False.

    Returns
    -------
    ndarray
        float32 or float64 array.

    Raises
    ------
    TypeError
        For strings, None, objects, complex values.
    ValueError
        For NaN or inf when ``check_finite``.
    """
    if isinstance(a, np.ndarray) and a.dtype in _FLOAT_TYPES:
        arr = a  # fast path: no dtype inspection needed
    else:
        if isinstance(a, (str, bytes)) or a is None:
            raise TypeError(f"{name} must be a numeric array, got {type(a).__name__}")
        try:
            arr = np.asarray(a)
        except Exception as exc:  # pragma: no cover - exotic inputs
            raise TypeError(f"{name} must be a numeric array") from exc
        if arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
        ):
            raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
        if np.iscomplexobj(arr):
            raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
        if arr.dtype not in _FLOAT_TYPES:
            arr = arr.astype(np.float64)
    if check_finite and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def check_x(x: object, name: str = "x", check_finite: bool = True) -> Array:
    """Validate a mini-batch of shape ``(N, C)`` or ``(N, C, *spatial)``.

    Parameters
    ----------
    x : array_like
        The mini-batch.
    name : str, default "x"
        The argument's name in error messages.
    check_finite : bool, default True
        Raise on NaN or inf (one pass over ``x``).

    Returns
    -------
    ndarray
        float32 or float64 array with at least two axes and one channel.
    """
    x = as_float_array(x, name, check_finite)
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape (N, C) or (N, C, *spatial), got shape {x.shape}")
    if x.shape[1] < 1:
        raise ValueError(f"{name} must have at least one channel (axis 1), got shape {x.shape}")
    return x


def check_param(
    p: object, name: str, channels: int, dtype: np.dtype | type, check_finite: bool = True
) -> Array:
    """Validate a per-channel parameter (a scalar is broadcast to every channel).

    Parameters
    ----------
    p : array_like, shape (channels,) or scalar
        The parameter.
    name : str
        The argument's name in error messages.
    channels : int
        Number of channels ``C``.
    dtype : numpy dtype
        The dtype the parameter is returned in; for float32 the values must fit it.
    check_finite : bool, default True
        Raise on NaN or inf. Callers that derive finiteness from a reduction they compute
        anyway pass False (a float64 parameter for float32 ``x`` is always checked).

    Returns
    -------
    ndarray, shape (channels,)
        The parameter in ``dtype``.
    """
    p = as_float_array(p, name, check_finite)
    if p.ndim == 0:
        p = np.full(channels, p, dtype=np.float64)
    if p.shape != (channels,):
        raise ValueError(
            f"{name} must have shape ({channels},), one value per channel, got {p.shape}"
        )
    if np.dtype(dtype) == np.float32 and p.dtype != np.float32:
        if not np.isfinite(p).all():
            raise ValueError(f"{name} contains NaN or inf")
        if np.abs(p).max() > F32_MAX:
            raise ValueError(f"{name} has values too large for the float32 input x")
    return p.astype(dtype, copy=False)


def check_eps(eps: object) -> float:
    """Validate ``eps``: a finite real number >= 0.

    Parameters
    ----------
    eps : float
        The variance offset.

    Returns
    -------
    float
        ``eps`` as a Python float.
    """
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"eps must be a real number, got {type(eps).__name__}")
    eps = float(eps)
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number >= 0, got {eps}")
    return eps


def all_finite(*arrays: Array) -> bool:
    """True when every value of the (small) arrays is finite.

    One summation per array decides in the common case; a non-finite total of finite
    values (an overflow) falls back to the element-wise test. Call it inside
    ``np.errstate(over="ignore", invalid="ignore")``: the sums may overflow.

    Parameters
    ----------
    *arrays : ndarray
        Typically per-channel statistics, shape (C,).

    Returns
    -------
    bool
        Whether every value of every array is finite.
    """
    total = 0.0
    for a in arrays:
        total += float(a.sum())
    return math.isfinite(total) or all(bool(np.isfinite(a).all()) for a in arrays)


def axes(x: Array) -> tuple[int, ...]:
    """The reduction axes of BN: every axis but the channel axis 1.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, *spatial)

    Returns
    -------
    tuple of int
        ``(0, 2, 3, ..., x.ndim - 1)``.
    """
    return (0,) + tuple(range(2, x.ndim))


def bshape(x: Array) -> tuple[int, ...]:
    """Shape ``(1, C, 1, ...)`` that broadcasts a per-channel vector against ``x``.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, *spatial)

    Returns
    -------
    tuple of int
        ``(1, C)`` followed by one 1 per spatial axis.
    """
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def as3(a: Array) -> Array:
    """View of ``a`` as (N, C, S) with S the product of the spatial sizes (1 if none).

    Parameters
    ----------
    a : ndarray, shape (N, C) or (N, C, *spatial)

    Returns
    -------
    ndarray, shape (N, C, S)
        A view when the spatial axes can be merged without a copy (always for
        C-contiguous ``a``), else a copy.
    """
    return a.reshape(a.shape[0], a.shape[1], -1)


def channel_sum(a: Array) -> Array:
    """Per-channel sum over batch and space, float64.

    Contiguous runs are summed in the input's precision (NumPy's pairwise summation), the
    partial sums are combined in float64.

    Parameters
    ----------
    a : ndarray, shape (N, C) or (N, C, *spatial)

    Returns
    -------
    ndarray, shape (C,), float64
    """
    if a.ndim == 2:
        return np.add.reduce(a, axis=0, dtype=np.float64)
    a3 = as3(a)
    if a3.shape[2] == 1:
        return np.add.reduce(a3[:, :, 0], axis=0, dtype=np.float64)
    return np.add.reduce(a3.sum(axis=2), axis=0, dtype=np.float64)


def channel_dot(a: Array, b: Array) -> Array:
    """Per-channel sum of ``a * b`` over batch and space, float64, without a temporary.

    Parameters
    ----------
    a, b : ndarray, same shape (N, C) or (N, C, *spatial)

    Returns
    -------
    ndarray, shape (C,), float64
    """
    if a.ndim == 2:
        return np.einsum("nc,nc->c", a, b, dtype=np.float64)
    a3, b3 = as3(a), as3(b)
    if a3.shape[2] == 1:
        return np.einsum("nc,nc->c", a3[:, :, 0], b3[:, :, 0], dtype=np.float64)
    return np.add.reduce(np.einsum("ncs,ncs->nc", a3, b3), axis=0, dtype=np.float64)


def centered_moments(x: Array) -> tuple[Array, Array, Array, int]:
    """Per-channel mean, centred input, biased variance (two-pass, no cancellation) and m'.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, *spatial)

    Returns
    -------
    mean : ndarray, shape (C,), float64
    xc : ndarray
        ``x - mean`` in the precision of ``x`` (a new array the caller may overwrite).
    var : ndarray, shape (C,), float64
    m : int
        Values per channel, ``N * prod(spatial)``.
    """
    m = x.size // x.shape[1]
    mean = channel_sum(x) / m
    xc = x - mean.astype(x.dtype).reshape(bshape(x))
    var = channel_dot(xc, xc) / m
    return mean, xc, var, m


Index = tuple[slice, slice]


@functools.lru_cache(maxsize=64)
def blocks(
    n: int, c: int, s: int, itemsize: int, block_bytes: int = BLOCK_BYTES
) -> tuple[tuple[Index, Index], ...]:
    """Cache-sized blocks of an (N, C, S) C-contiguous array, for blocked element-wise passes.

    A block is whole samples ``[n0:n1, :, :]`` when one sample fits in ``block_bytes``,
    otherwise a run of channels of one sample ``[n, c0:c1, :]``; each block is contiguous.
    The blocks tile the array in memory order.

    Parameters
    ----------
    n, c, s : int
        The (N, C, S) shape.
    itemsize : int
        Bytes per value.
    block_bytes : int, default BLOCK_BYTES
        Target size of a block.

    Returns
    -------
    tuple of (index, vector_index)
        ``index`` selects the block of an (N, C, S) array, ``vector_index`` the matching
        part of a per-channel vector reshaped to (1, C, 1).
    """
    sample = c * s * itemsize
    if sample <= block_bytes:
        k = max(1, block_bytes // max(sample, 1))
        every = (slice(None), slice(None))
        return tuple(((slice(i, min(i + k, n)), slice(None)), every) for i in range(0, n, k))
    kc = max(1, block_bytes // (s * itemsize))
    out = []
    for i in range(n):
        for j in range(0, c, kc):
            cs = slice(j, min(j + kc, c))
            out.append(((slice(i, i + 1), cs), (slice(None), cs)))
    return tuple(out)


#: Longest contiguous run (values) that NumPy's einsum sums in one piece; longer rows are
#: summed in buffer-sized pieces whose split depends on the array's shape, so blocked and
#: unblocked sums of such rows differ in round-off. The blocked reductions stay below it.
_EINSUM_RUN = 8192


def blocked_sums(*arrays: Array) -> bool:
    """Whether per-channel reductions over ``arrays`` may run block by block with the same
    arithmetic (bit for bit) as :func:`channel_sum` / :func:`channel_dot`: C-contiguous
    arrays larger than one block, with spatial axes of at most 8192 values per (sample,
    channel).

    Parameters
    ----------
    *arrays : ndarray
        Arrays of one shape (N, C, *spatial).

    Returns
    -------
    bool
        True when the blocked reductions apply.
    """
    a = arrays[0]
    if a.nbytes <= BLOCK_BYTES:
        return False  # one block: the plain reductions cost fewer calls
    s = a.size // max(a.shape[0] * a.shape[1], 1)
    return 1 < s <= _EINSUM_RUN and all(b.flags.c_contiguous for b in arrays)


def tiling(*arrays: Array) -> tuple[list[Array], tuple[int, ...], tuple[tuple[Index, Index], ...]]:
    """Views and blocks for a blocked element-wise pass over arrays of one shape.

    Parameters
    ----------
    *arrays : ndarray
        Arrays of one shape (N, C, *spatial) and itemsize.

    Returns
    -------
    views : list of ndarray
        (N, C, S) views when every array is C-contiguous and larger than one block, else
        the arrays themselves.
    vector_shape : tuple of int
        The shape a per-channel vector takes to broadcast against a view.
    blocks : tuple of (index, vector_index)
        Cache-sized blocks (:func:`blocks`), or one block covering everything for small or
        non-contiguous arrays.
    """
    a = arrays[0]
    if a.nbytes > BLOCK_BYTES and all(b.flags.c_contiguous for b in arrays):
        views = [as3(b) for b in arrays]
        n, c, s = views[0].shape
        return views, (1, c, 1), blocks(n, c, s, a.itemsize, BLOCK_BYTES)
    return list(arrays), bshape(a), ((..., ...),)
