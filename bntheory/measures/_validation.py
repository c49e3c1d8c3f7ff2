"""Input checks shared by the measures (every message names the offending argument)."""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from bntheory._checks import as_int, as_real, as_vector

Array = np.ndarray


def symmetric_matrix(H: object, name: str = "H", *, rtol: float = 1e-10) -> Array:
    """Return ``H`` as a finite, square, symmetric float64 array (symmetrised exactly).

    Symmetry is checked as ``max|H - H^T| <= rtol * max|H|``.

    Parameters
    ----------
    H : array_like, shape (d, d)
        Real matrix.
    name : str
        The argument's name in error messages.
    rtol : float
        Relative symmetry tolerance.

    Returns
    -------
    numpy.ndarray
        ``0.5 (H + H^T)`` as float64 (``H`` itself, no copy, when exactly symmetric float64).
    """
    try:
        raw = np.asarray(H)
        if np.iscomplexobj(raw):
            raise TypeError(
                f"{name} must be real, got complex values (dtype {raw.dtype}); "
                "Hermitian matrices are not supported"
            )
        A = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, TypeError) and str(exc).startswith(name):
            raise
        raise TypeError(f"{name} must be a real 2-D array, got {type(H).__name__}") from exc
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square 2-D array, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} must be non-empty")
    # Row blocks: the checks need O(block x d) temporaries, not d x d ones (issue 13)
    d = A.shape[0]
    step = max(1, min(d, 2**18 // d))  # 2 MiB row blocks
    scale = 0.0
    for i in range(0, d, step):
        blk = A[i : i + step]
        if not np.isfinite(blk).all():
            raise ValueError(f"{name} contains NaN or infinite entries")
        scale = max(scale, float(np.abs(blk).max()))
    asym = 0.0
    with np.errstate(over="ignore"):  # entries near the float64 limit: inf is the answer
        for i in range(0, d, step):
            asym = max(asym, float(np.abs(A[i : i + step] - A[:, i : i + step].T).max()))
    if asym > rtol * max(scale, np.finfo(float).tiny):
        raise ValueError(
            f"{name} must be symmetric (max |{name} - {name}^T| exceeds {rtol:g} * max |{name}|)"
        )
    if asym == 0.0:
        # exactly symmetric: 0.5 (A + A^T) == A bit for bit; no copy
        return A
    with np.errstate(over="ignore"):
        total = A + A.T
    if not np.isfinite(total).all():
        return 0.5 * A + 0.5 * A.T
    total *= 0.5
    return total


def finite_vector(x: object, name: str, dim: int | None = None) -> Array:
    """Return ``x`` as a finite non-empty 1-D float64 array (of length ``dim`` when given).

    Parameters
    ----------
    x : array_like
        Real numbers.
    name : str
        The argument's name in error messages.
    dim : int, optional
        Required length.

    Returns
    -------
    numpy.ndarray
        A float64 copy (:func:`bntheory._checks.as_vector`).
    """
    return as_vector(x, name, dim)


def positive_int(n: object, name: str, *, minimum: int = 1) -> int:
    """Return ``n`` as an int ``>= minimum`` (bools rejected).

    Parameters
    ----------
    n : int
        The value.
    name : str
        The argument's name in error messages.
    minimum : int
        Smallest allowed value.

    Returns
    -------
    int
        The value (:func:`bntheory._checks.as_int`).
    """
    return as_int(n, name, minimum=minimum)


def positive_float(x: object, name: str, *, allow_zero: bool = False) -> float:
    """Return ``x`` as a finite float ``> 0`` (or ``>= 0``).

    Parameters
    ----------
    x : real number
        The value (not a bool).
    name : str
        The argument's name in error messages.
    allow_zero : bool
        Accept ``0``.

    Returns
    -------
    float
        The value (:func:`bntheory._checks.as_real`).
    """
    return as_real(x, name, positive=not allow_zero, nonneg=allow_zero)


def as_operator(A: object, name: str = "op") -> tuple[LinearOperator, Array | None]:
    """Return ``(LinearOperator, dense_or_None)`` for a square matrix or operator.

    A dense (or array-like) input is validated as a symmetric matrix and also returned as
    the second element, so that callers can take a dense path for small problems.

    Parameters
    ----------
    A : LinearOperator, scipy.sparse matrix or array_like
        A real square operator (a matrix must be symmetric).
    name : str
        The argument's name in error messages.

    Returns
    -------
    tuple
        ``(operator, dense)``: a ``LinearOperator`` and the validated dense matrix, or
        None for an operator or a sparse matrix.
    """
    if isinstance(A, LinearOperator):
        if np.issubdtype(np.dtype(A.dtype), np.complexfloating):
            raise TypeError(f"{name} must be a real operator, got dtype {A.dtype}")
        if len(A.shape) != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"{name} must be a square operator, got shape {A.shape}")
        if A.shape[0] == 0:
            raise ValueError(f"{name} must be non-empty")
        return A, None
    if hasattr(A, "tocsr") and hasattr(A, "shape"):  # scipy.sparse matrix / array
        return aslinearoperator(_symmetric_sparse(A, name)), None
    M = symmetric_matrix(A, name)
    return aslinearoperator(M), M


def _symmetric_sparse(A: object, name: str, *, rtol: float = 1e-10) -> object:
    """Validate a scipy.sparse matrix as real, finite, square and symmetric (same test as
    :func:`symmetric_matrix`: ``max|A - A^T| <= rtol max|A|``); return it as float64 CSR."""
    if len(A.shape) != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be square, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} must be non-empty")
    if np.issubdtype(np.dtype(A.dtype), np.complexfloating):
        raise TypeError(f"{name} must be real, got complex values (dtype {A.dtype})")
    try:
        S = A.tocsr().astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sparse matrix of real numbers") from exc
    if not np.all(np.isfinite(S.data)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    scale = float(np.max(np.abs(S.data))) if S.nnz else 0.0
    if scale > 0:
        D = (S / scale) - (S.T / scale).tocsr()
        asym = float(np.max(np.abs(D.data))) if D.nnz else 0.0
        if asym > rtol:
            raise ValueError(
                f"{name} must be symmetric (max |{name} - {name}^T| exceeds {rtol:g} * max |{name}|)"
            )
    return S
