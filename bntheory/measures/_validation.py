"""Input checks shared by the measures (every message names the offending argument)."""

from __future__ import annotations

import numbers

import numpy as np
from scipy.sparse.linalg import LinearOperator, aslinearoperator

Array = np.ndarray


def symmetric_matrix(H: object, name: str = "H", *, rtol: float = 1e-10) -> Array:
    """Return ``H`` as a finite, square, symmetric float64 array (symmetrised exactly).

    Symmetry is checked as ``max|H - H^T| <= rtol * max|H|``.
    """
    try:
        A = np.asarray(H, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real 2-D array, got {type(H).__name__}") from exc
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square 2-D array, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} must be non-empty")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    scale = float(np.max(np.abs(A)))
    with np.errstate(over="ignore"):  # entries near the float64 limit: inf is the answer
        asym = float(np.max(np.abs(A - A.T)))
        total = A + A.T
    if asym > rtol * max(scale, np.finfo(float).tiny):
        raise ValueError(
            f"{name} must be symmetric (max |{name} - {name}^T| exceeds {rtol:g} * max |{name}|)"
        )
    if not np.all(np.isfinite(total)):
        return 0.5 * A + 0.5 * A.T
    return 0.5 * total


def finite_vector(x: object, name: str, dim: int | None = None) -> Array:
    """Return ``x`` as a finite 1-D float64 array (of length ``dim`` when given)."""
    try:
        v = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real 1-D array, got {type(x).__name__}") from exc
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {v.shape}")
    if dim is not None and v.shape[0] != dim:
        raise ValueError(f"{name} must have length {dim}, got {v.shape[0]}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return v


def positive_int(n: object, name: str, *, minimum: int = 1) -> int:
    """Return ``n`` as an int ``>= minimum`` (bools rejected)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(n).__name__}")
    if int(n) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return int(n)


def positive_float(x: object, name: str, *, allow_zero: bool = False) -> float:
    """Return ``x`` as a finite float ``> 0`` (or ``>= 0``)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    v = float(x)
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {x}")
    return v


def as_operator(A: object, name: str = "op") -> tuple[LinearOperator, Array | None]:
    """Return ``(LinearOperator, dense_or_None)`` for a square matrix or operator.

    A dense (or array-like) input is validated as a symmetric matrix and also returned as
    the second element, so that callers can take a dense path for small problems.
    """
    if isinstance(A, LinearOperator):
        if len(A.shape) != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"{name} must be a square operator, got shape {A.shape}")
        if A.shape[0] == 0:
            raise ValueError(f"{name} must be non-empty")
        return A, None
    if hasattr(A, "tocsr") and hasattr(A, "shape"):  # scipy.sparse matrix / array
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"{name} must be square, got shape {A.shape}")
        return aslinearoperator(A), None
    M = symmetric_matrix(A, name)
    return aslinearoperator(M), M
