"""The Hessian of a problem as a ``scipy.sparse.linalg.LinearOperator``, and its dense form.

The design follows curvlinops (curvature as a ``LinearOperator``, matrix-free products).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ._validation import as_operator, finite_vector, positive_int

__all__ = ["dense_matrix", "hessian_operator"]

Array = np.ndarray


def hessian_operator(problem: object, x: object) -> LinearOperator:
    """The Hessian of ``problem`` at ``x`` as a symmetric ``LinearOperator``.

    Matrix-free: ``op @ v = problem.hvp(x, v)``; ``rmatvec`` is the same map (the Hessian
    is symmetric). ``matmat`` applies ``hvp`` column by column. ``x`` is copied, so later
    changes to the caller's array do not change the operator.

    Parameters
    ----------
    problem : object
        Anything with ``dim`` and ``hvp(x, v)`` (duck-typed problem).
    x : array_like, shape (dim,)
        The point.

    Returns
    -------
    scipy.sparse.linalg.LinearOperator
        Shape ``(dim, dim)``, dtype float64.
    """
    if not hasattr(problem, "hvp") or not hasattr(problem, "dim"):
        raise TypeError("problem must have attributes 'dim' and 'hvp(x, v)'")
    d = positive_int(problem.dim, "problem.dim")
    x0 = finite_vector(x, "x", d).copy()
    hvp = problem.hvp

    def matvec(v: Array) -> Array:
        return np.asarray(
            hvp(x0, np.asarray(v, dtype=np.float64).reshape(d)), dtype=np.float64
        ).reshape(d)

    def matmat(V: Array) -> Array:
        V = np.asarray(V, dtype=np.float64)
        return (
            np.column_stack([matvec(V[:, j]) for j in range(V.shape[1])])
            if V.shape[1]
            else V.copy()
        )

    return LinearOperator(
        (d, d), matvec=matvec, rmatvec=matvec, matmat=matmat, rmatmat=matmat, dtype=np.float64
    )


def dense_matrix(op: object) -> Array:
    """Materialise a square operator (or matrix) as a dense symmetric float64 array.

    Applies the operator to the identity (``d`` products), then symmetrises. Meant for
    small ``d`` and for reference computations in tests.

    Parameters
    ----------
    op : LinearOperator, scipy.sparse matrix or array_like, shape (d, d)
        A real square operator (a dense matrix must be symmetric).

    Returns
    -------
    numpy.ndarray, shape (d, d)
        The symmetric float64 matrix (a copy when ``op`` is already such an array).
    """
    A, M = as_operator(op, "op")
    if M is not None:
        return M.copy() if M is op else M
    d = A.shape[0]
    D = np.asarray(A.matmat(np.eye(d)), dtype=np.float64)
    if not np.all(np.isfinite(D)):
        raise ValueError("op produced NaN or infinite values")
    return 0.5 * (D + D.T)
