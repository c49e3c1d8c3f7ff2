"""Lanczos tridiagonalisation with full re-orthogonalisation (blocks of independent runs).

References: Lanczos (1950); Paige (1972) for the loss of orthogonality that full
re-orthogonalisation cures; Golub & Meurant (2009), *Matrices, Moments and Quadrature*,
Ch. 6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh_tridiagonal

from .._checks import as_generator
from ._validation import as_operator, finite_vector, positive_int

__all__ = ["LanczosResult", "lanczos"]

Array = np.ndarray
RngLike = int | np.random.Generator | np.random.SeedSequence | None


def _readonly(a: Array) -> Array:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, slots=True)
class LanczosResult:
    """Tridiagonal Lanczos decomposition ``A Q_m = Q_m T_m + beta_m q_{m+1} e_m^T``.

    Attributes
    ----------
    alphas : ndarray, shape (m,)
        Diagonal of ``T_m``.
    betas : ndarray, shape (m - 1,)
        Off-diagonal of ``T_m``.
    basis : ndarray, shape (d, m) or None
        Orthonormal Lanczos vectors ``Q_m`` (only when requested).
    residual_beta : float
        ``beta_m`` (norm of the next residual); ``0`` after a breakdown.
    breakdown : bool
        True when an invariant subspace was found before ``n_steps`` (``m < n_steps``).
    """

    alphas: Array
    betas: Array
    basis: Array | None
    residual_beta: float
    breakdown: bool

    @property
    def n_steps(self) -> int:
        return int(self.alphas.shape[0])

    def ritz(self) -> tuple[Array, Array]:
        """Ritz values (ascending) and eigenvectors of ``T_m``.

        Returns
        -------
        tuple of numpy.ndarray
            ``(theta, S)``: the eigenvalues of ``T_m`` in ascending order and its
            orthonormal eigenvectors as columns of ``S`` (Ritz vectors are ``Q_m S``).
        """
        return _tridiag_eigh(self.alphas, self.betas)


def _tridiag_eigh(alphas: Array, betas: Array) -> tuple[Array, Array]:
    if alphas.shape[0] == 1:
        return alphas.copy(), np.ones((1, 1))
    return eigh_tridiagonal(alphas, betas)


def _column_norms(W: Array) -> Array:
    """Euclidean norms of the columns of ``W``, scaled by the column max (no overflow for
    entries near the float64 limit, no underflow for tiny ones)."""
    s = np.max(np.abs(W), axis=0) if W.shape[0] else np.zeros(W.shape[1])
    safe = np.where(s > 0, s, 1.0)
    return s * np.linalg.norm(W / safe, axis=0)


def _lanczos_runs(
    matmat,
    V0: Array,
    n_steps: int,
    *,
    reorthogonalize: bool = True,
    deflate: Array | None = None,
    keep_basis: bool = False,
    stop_check=None,
    check_every: int = 10,
) -> tuple[Array, Array, Array, Array, Array | None]:
    """Run ``b`` independent Lanczos recurrences at once (one ``matmat`` per step).

    ``V0`` holds ``b`` unit start vectors as columns. With ``reorthogonalize`` each new
    vector is orthogonalised twice (classical Gram-Schmidt, "twice is enough") against its
    own previous Lanczos vectors and against the columns of ``deflate``.

    Returns ``alphas (b, m)``, ``betas (b, m)`` (``betas[:, j]`` couples step ``j`` and
    ``j + 1``; the last one is the residual norm), ``lengths (b,)`` (steps done per run,
    smaller after a breakdown), ``breakdown (b,)`` and optionally ``basis (m, d, b)``.
    ``stop_check(alphas[:, :j+1], betas[:, :j+1]) -> bool`` is called every
    ``check_every`` steps; True ends all runs there (without a breakdown flag). The basis
    storage grows by doubling, so a large ``n_steps`` used as a cap costs no memory.
    """
    d, b = V0.shape
    m = n_steps
    alphas = np.zeros((b, m))
    betas = np.zeros((b, m))
    lengths = np.full(b, m, dtype=int)
    active = np.ones(b, dtype=bool)
    broke = np.zeros(b, dtype=bool)
    store = reorthogonalize or keep_basis
    Q = np.zeros((min(m, 64), d, b)) if store else None
    q = V0.copy()
    q_prev = np.zeros_like(q)
    beta_prev = np.zeros(b)
    scale = np.zeros(b)
    for j in range(m):
        if store:
            if j == Q.shape[0]:
                Q = np.concatenate([Q, np.zeros((min(m, 2 * j) - j, d, b))])
            Q[j] = q
        # entries near the float64 limit: overflow shows up as inf, checked below
        with np.errstate(over="ignore", invalid="ignore"):
            w = np.asarray(matmat(q), dtype=np.float64).reshape(d, b)
            if not np.all(np.isfinite(w[:, active])):
                raise ValueError("op produced NaN or infinite values")
            a = np.einsum("ij,ij->j", q, w)
            w -= a * q + beta_prev * q_prev
            if reorthogonalize:
                for _ in range(2):
                    c = np.einsum("kij,ij->kj", Q[: j + 1], w)
                    w -= np.einsum("kij,kj->ij", Q[: j + 1], c)
                    if deflate is not None:
                        w -= deflate @ (deflate.T @ w)
            elif deflate is not None:
                w -= deflate @ (deflate.T @ w)
            if not (np.all(np.isfinite(a[active])) and np.all(np.isfinite(w[:, active]))):
                raise ValueError("op: the Lanczos recurrence overflows float64 (entries too large)")
        bnorm = _column_norms(w)
        alphas[active, j] = a[active]
        betas[active, j] = bnorm[active]
        scale = np.maximum(scale, np.maximum(np.abs(a), bnorm))
        newly = active & (bnorm <= 1e-12 * np.maximum(scale, np.finfo(float).tiny))
        if np.any(newly):
            lengths[newly] = j + 1
            broke[newly] = j + 1 < m
            betas[newly, j] = 0.0
            active &= ~newly
        if not np.any(active) or j == m - 1:
            break
        if (
            stop_check is not None
            and (j + 1) % check_every == 0
            and stop_check(alphas[:, : j + 1], betas[:, : j + 1])
        ):
            lengths[active] = j + 1
            break
        q_prev = q
        safe = np.where(active, bnorm, 1.0)
        q = np.where(active, w / safe, 0.0)
        beta_prev = np.where(active, bnorm, 0.0)
    basis = Q[: int(lengths.max())] if keep_basis else None
    return alphas, betas, lengths, broke, basis


def lanczos(
    op: object,
    n_steps: int,
    rng: RngLike = None,
    *,
    reorthogonalize: bool = True,
    return_basis: bool = False,
    v0: object | None = None,
) -> LanczosResult:
    """Symmetric Lanczos tridiagonalisation with full re-orthogonalisation.

    Source: Lanczos (1950); full re-orthogonalisation (classical Gram-Schmidt applied
    twice per step) as in hessian-eigenthings / Golub & Van Loan (2013), Sec. 10.3.

    Parameters
    ----------
    op : LinearOperator or array_like, shape (d, d)
        Symmetric operator (only ``matmat``/``matvec`` is used).
    n_steps : int
        Number of Lanczos steps ``m >= 1``; values above ``d`` are clipped to ``d`` (the
        Krylov space cannot be larger). The run stops early at a breakdown (invariant
        subspace, ``beta_j <= 1e-12 max_i(|alpha_i|, beta_i)``).
    rng : int, Generator, SeedSequence or None
        Seed for the Gaussian start vector (ignored when ``v0`` is given).
    reorthogonalize : bool
        Full re-orthogonalisation (default). Without it the plain three-term recurrence is
        used and ghost eigenvalues can appear (Paige 1972).
    return_basis : bool
        Also return the ``(d, m)`` orthonormal basis.
    v0 : array_like, shape (d,), optional
        Start vector (normalised internally).

    Returns
    -------
    LanczosResult
    """
    A, _ = as_operator(op, "op")
    d = A.shape[0]
    m = min(positive_int(n_steps, "n_steps"), d)
    if v0 is None:
        v = as_generator(rng).standard_normal(d)
    else:
        v = finite_vector(v0, "v0", d)
    nv = np.linalg.norm(v)
    if nv == 0:
        raise ValueError("v0 must be non-zero")
    V0 = (v / nv)[:, None]
    al, be, lengths, broke, Q = _lanczos_runs(
        A.matmat, V0, m, reorthogonalize=reorthogonalize, keep_basis=return_basis
    )
    n = int(lengths[0])
    basis = None
    if return_basis:
        basis = _readonly(Q[:n, :, 0].T)
    return LanczosResult(
        alphas=_readonly(al[0, :n]),
        betas=_readonly(be[0, : n - 1]),
        basis=basis,
        residual_beta=float(be[0, n - 1]),
        breakdown=bool(broke[0]),
    )
