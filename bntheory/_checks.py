"""Argument validation shared across the package (messages name the argument)."""

from __future__ import annotations

import numbers

import numpy as np

Array = np.ndarray


def _float_array(x: object, name: str) -> Array:
    """``x`` as a float64 array; complex input is rejected by name (casting it to real would
    silently drop the imaginary part, with a leaked ``ComplexWarning``)."""
    if type(x) is np.ndarray and x.dtype == np.float64:
        return x.copy()  # fast path (the common case inside solver loops): same result
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers") from exc
    if np.iscomplexobj(raw):
        raise TypeError(f"{name} must be real, got complex values (dtype {raw.dtype})")
    try:
        return np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of real numbers") from exc


def as_real_array(x: object, name: str) -> Array:
    """``x`` as a float64 array of any shape; TypeError naming ``name`` for complex or
    non-numeric input (no ``ComplexWarning``)."""
    return _float_array(x, name)


def as_vector(x: object, name: str, dim: int | None = None) -> Array:
    """Return ``x`` as a finite float64 1-D array (of length ``dim`` when given)."""
    arr = _float_array(x, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must be non-empty")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{name} must have length {dim}, got {arr.shape[0]}")
    if not np.isfinite(arr).all():  # method call: ~40 % cheaper than np.all(...) per call
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def as_matrix(x: object, name: str, shape: tuple[int | None, int | None] = (None, None)) -> Array:
    """Return ``x`` as a finite float64 2-D array with the given (partial) shape."""
    arr = _float_array(x, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {arr.shape}")
    for k, want in enumerate(shape):
        if want is not None and arr.shape[k] != want:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must be non-empty")
    if not np.isfinite(arr).all():  # method call: ~40 % cheaper than np.all(...) per call
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def as_spd(x: object, name: str) -> tuple[Array, Array]:
    """Validate a symmetric positive-definite matrix; return ``(matrix, cholesky_factor)``.

    Symmetry is checked to ``1e-10`` relative (Frobenius) and the matrix is then
    symmetrized exactly; positive definiteness by a Cholesky factorization.
    """
    arr = as_matrix(x, name)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be square, got shape {arr.shape}")
    # Norms of the matrix divided by its largest entry: no overflow for entries near 1e308.
    amax = float(np.max(np.abs(arr)))
    if amax == 0.0:
        raise ValueError(f"{name} must be positive definite (it is zero)")
    a = arr / amax
    if np.linalg.norm(a - a.T) > 1e-10 * np.linalg.norm(a):
        raise ValueError(f"{name} must be symmetric")
    arr = 0.5 * arr + 0.5 * arr.T
    try:
        with np.errstate(all="ignore"):
            chol = np.linalg.cholesky(arr)
    except np.linalg.LinAlgError as exc:
        raise ValueError(f"{name} must be positive definite") from exc
    if not np.all(np.isfinite(chol)):
        raise ValueError(f"{name}: its Cholesky factor overflows float64 (rescale {name})")
    return arr, chol


def as_real(x: object, name: str, *, positive: bool = False, nonneg: bool = False) -> float:
    """Return a finite real scalar (optionally > 0 or >= 0)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    v = float(x)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    if nonneg and not v >= 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def as_int(x: object, name: str, *, minimum: int = 1) -> int:
    """Return an integer >= ``minimum``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__}")
    v = int(x)
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return v
