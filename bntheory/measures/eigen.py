"""The ``k`` extreme eigenvalues of a symmetric matrix or operator: dense ``eigh``, ARPACK
``eigsh`` or a restarted Lanczos with full re-orthogonalisation that keeps multiplicities."""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

from .._checks import as_generator
from ._validation import as_operator, positive_float, positive_int
from .lanczos import RngLike, _lanczos_runs, _tridiag_eigh
from .operators import dense_matrix

__all__ = ["DENSE_MAX_DIM", "top_eigenvalues"]

Array = np.ndarray

#: ``auto`` uses dense ``eigh`` up to this dimension.
DENSE_MAX_DIM = 500


def _order(values: Array, which: str) -> Array:
    if which == "LA":
        return np.argsort(-values, kind="stable")
    if which == "SA":
        return np.argsort(values, kind="stable")
    return np.argsort(-np.abs(values), kind="stable")


def top_eigenvalues(
    op_or_matrix: object,
    k: int,
    *,
    which: Literal["LA", "SA", "LM"] = "LA",
    rng: RngLike = None,
    tol: float = 0.0,
    method: Literal["auto", "dense", "eigsh", "lanczos"] = "auto",
    return_eigenvectors: bool = False,
) -> Array | tuple[Array, Array]:
    """The ``k`` extreme eigenvalues of a symmetric matrix or operator, best first.

    Parameters
    ----------
    op_or_matrix : LinearOperator or array_like, shape (d, d)
        Symmetric matrix or matrix-free operator (e.g. :func:`hessian_operator`).
    k : int
        Number of eigenvalues, ``1 <= k <= d`` (``k < d`` for ``method="eigsh"``).
    which : {"LA", "SA", "LM"}
        Largest algebraic (sorted descending), smallest algebraic (ascending) or largest
        magnitude (descending ``|lambda|``).
    rng : int, Generator, SeedSequence or None
        Seeds the start vector ``v0`` of ``eigsh`` / Lanczos.
    tol : float
        Relative accuracy; ``0`` means machine precision (ARPACK convention). For
        ``method="lanczos"`` ``0`` means a Ritz residual ``<= 1e-12 |theta|``.
    method : {"auto", "dense", "eigsh", "lanczos"}
        ``dense``: ``numpy.linalg.eigh`` (an operator is materialised first); ``eigsh``:
        implicitly restarted Lanczos (ARPACK) with a seeded ``v0``; ``lanczos``: our
        fully re-orthogonalised Lanczos, checked every ``max(5, k // 2)`` steps and stopped
        once the ``k`` wanted Ritz pairs have residual ``beta_m |s_mi| <= tol |theta_i|``
        (or at a breakdown), then restarted in the orthogonal complement of what it found
        until a restart changes nothing, so that exactly repeated eigenvalues are found
        with their multiplicity (see :func:`_restarted_lanczos`); ``auto``:
        dense when ``d <= 500`` or ``k >= d - 1``, else ``eigsh``.
    return_eigenvectors : bool
        Also return the eigenvectors as columns of a ``(d, k)`` array.

    Returns
    -------
    ndarray, shape (k,)  (or a tuple ``(values, vectors)``)
    """
    if which not in ("LA", "SA", "LM"):
        raise ValueError(f"which must be 'LA', 'SA' or 'LM', got {which!r}")
    if method not in ("auto", "dense", "eigsh", "lanczos"):
        raise ValueError(f"method must be 'auto', 'dense', 'eigsh' or 'lanczos', got {method!r}")
    A, M = as_operator(op_or_matrix, "op_or_matrix")
    d = A.shape[0]
    k = positive_int(k, "k")
    if k > d:
        raise ValueError(f"k must be <= the dimension {d}, got {k}")
    tol = positive_float(tol, "tol", allow_zero=True)
    if method == "auto":
        method = "dense" if (d <= DENSE_MAX_DIM or k >= d - 1) else "eigsh"
    gen = as_generator(rng)

    if method == "dense":
        D = M if M is not None else dense_matrix(A)
        vals, vecs = _dense_extremes(D, k, which, return_eigenvectors)
    elif method == "eigsh":
        if k >= d:
            raise ValueError(f"k must be < the dimension {d} for method='eigsh', got {k}")
        v0 = gen.standard_normal(d)
        try:
            res = eigsh(
                A, k=k, which=which, v0=v0, tol=tol, return_eigenvectors=return_eigenvectors
            )
        except ArpackError as exc:
            # e.g. ARPACK -9 ("starting vector is zero") for the zero operator, whose
            # Krylov space is trivial: small problems fall back to the dense path
            if d > DENSE_MAX_DIM:
                raise ValueError(
                    f"op_or_matrix: ARPACK failed ({exc}); the operator may be zero or "
                    "v0 may lie in a small invariant subspace; try method='lanczos' or "
                    "another rng"
                ) from exc
            res = None
        if res is None:
            D = M if M is not None else dense_matrix(A)
            vals, vecs = _dense_extremes(D, k, which, return_eigenvectors)
        else:
            lam, vec = res if return_eigenvectors else (res, None)
            idx = _order(lam, which)
            vals = lam[idx]
            vecs = vec[:, idx] if vec is not None else None
    else:
        rtol = tol if tol > 0 else 1e-12
        vals, vecs = _restarted_lanczos(A, k, which, rtol, gen)
    vals = np.asarray(vals, dtype=np.float64)
    if return_eigenvectors:
        return vals, np.asarray(vecs, dtype=np.float64)
    return vals


def _dense_extremes(D: Array, k: int, which: str, vectors: bool) -> tuple[Array, Array | None]:
    """Dense ``eigh``; ``eigvalsh`` when the vectors are not wanted and ``d > DENSE_MAX_DIM``
    (no ``d x d`` basis; below that size ``eigh`` is kept so small results stay bit-identical
    to earlier releases, and the basis costs little)."""
    if vectors or D.shape[0] <= DENSE_MAX_DIM:
        lam, vec = np.linalg.eigh(D)
    else:
        lam, vec = np.linalg.eigvalsh(D), None
    idx = _order(lam, which)[:k]
    return lam[idx], (None if vec is None else vec[:, idx])


def _restarted_lanczos(
    A: LinearOperator, k: int, which: str, rtol: float, gen: np.random.Generator
) -> tuple[Array, Array]:
    """The ``k`` extreme eigenpairs by fully re-orthogonalised Lanczos with explicit restarts.

    One Lanczos run from a random vector sees each DISTINCT eigenvalue once: with an
    exactly repeated eigenvalue it breaks down (finds an invariant subspace) or converges
    with one copy only, and the second copy is silently replaced by the next eigenvalue.
    So every run ("block") is followed by another one started from a random vector in the
    orthogonal complement of everything found so far (deflation; Saad 2011, *Numerical
    Methods for Large Eigenvalue Problems*, Sec. 4.2 and 5.3):

    * a block that breaks down spans an invariant subspace: all its Ritz pairs are exact and
      its whole basis is deflated;
    * a block that stops because its ``k`` wanted Ritz pairs have residual
      ``beta_m |s_mi| <= rtol |theta_i|`` contributes those pairs, which are deflated.

    A block's best Ritz value is the extreme eigenvalue of the operator on the remaining
    complement (its start vector is random there). The loop stops when a block leaves the
    ``k`` extreme values found so far unchanged (to ``1e-10`` relative to the spectrum's
    scale), or when the complement is exhausted. Returns ``(values, vectors)`` best first.
    """
    d = A.shape[0]
    vals = np.zeros(0)
    vecs = np.zeros((d, 0))
    P: Array | None = None  # orthonormal basis of everything deflated so far
    top: Array | None = None
    scale = np.finfo(float).tiny
    while vecs.shape[1] < d and (P is None or P.shape[1] < d):
        room = d - (0 if P is None else P.shape[1])
        v = gen.standard_normal(d)
        if P is not None:
            for _ in range(2):
                v -= P @ (P.T @ v)
        v /= np.linalg.norm(v)
        kk = min(k, room)

        def converged(al: Array, be: Array, kk: int = kk) -> bool:
            n = al.shape[1]
            if n < kk:
                return False
            theta, S = _tridiag_eigh(al[0], be[0, : n - 1])
            idx = _order(theta, which)[:kk]
            resid = be[0, n - 1] * np.abs(S[-1, idx])
            return bool(
                np.all(resid <= rtol * np.maximum(np.abs(theta[idx]), np.finfo(float).tiny))
            )

        al, be, lengths, broke, Q = _lanczos_runs(
            A.matmat,
            v[:, None],
            room,
            deflate=P,
            keep_basis=True,
            stop_check=converged,
            check_every=max(5, k // 2),
        )
        n = int(lengths[0])
        theta, S = _tridiag_eigh(al[0, :n], be[0, : n - 1])
        basis = Q[:n, :, 0].T
        if broke[0] or n == room:  # invariant subspace: every Ritz pair is exact
            idx = np.arange(n)
            new_defl = basis
        else:
            idx = _order(theta, which)[:kk]
            new_defl = basis @ S[:, idx]
        vals = np.concatenate([vals, theta[idx]])
        vecs = np.hstack([vecs, basis @ S[:, idx]])
        P = new_defl if P is None else np.hstack([P, new_defl])
        scale = max(scale, float(np.max(np.abs(theta))))
        order = _order(vals, which)[:k]
        new_top = vals[order]
        if top is not None and top.shape == new_top.shape:
            if np.all(np.abs(new_top - top) <= 1e-10 * scale):
                break
        top = new_top
    order = _order(vals, which)[:k]
    return vals[order], vecs[:, order]
