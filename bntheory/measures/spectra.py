"""Hessian spectra: operators, Lanczos, top eigenvalues and SLQ spectral densities.

The design follows curvlinops (curvature as a ``scipy.sparse.linalg.LinearOperator``) and
hessian-eigenthings (``algorithms/spectral_density.py``): Lanczos with full
re-orthogonalisation, stochastic Lanczos quadrature (SLQ) with a documented Gaussian
width, a log-spectrum mode, deflation of outliers, and a frozen result that keeps the raw
quadrature nodes and weights so that any other smoothing can be redone without new
matrix-vector products.

References
----------
Lanczos (1950); Paige (1972) for the loss of orthogonality that full re-orthogonalisation
cures; Golub & Meurant (2009), *Matrices, Moments and Quadrature*, Ch. 6 (Gauss quadrature
from the Lanczos tridiagonal: nodes = Ritz values, weights = squared first components of
the Ritz vectors); Ubaru, Chen & Saad (2017), "Fast estimation of tr(f(A)) via stochastic
Lanczos quadrature", SIAM J. Matrix Anal. Appl. 38(4); Ghorbani, Krishnan & Xiao (2019),
"An investigation into neural net optimization via Hessian eigenvalue density", ICML
(Gaussian-smoothed SLQ density, outlier deflation, log-scale plots).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

from ..gradcheck import as_generator
from ._validation import as_operator, finite_vector, positive_float, positive_int

__all__ = [
    "SLQ_MAX_BYTES",
    "SLQ_MAX_GRID",
    "LanczosResult",
    "SpectralDensity",
    "dense_matrix",
    "hessian_operator",
    "lanczos",
    "slq_density",
    "top_eigenvalues",
]

Array = np.ndarray
RngLike = int | np.random.Generator | np.random.SeedSequence | None

#: ``auto`` uses dense ``eigh`` up to this dimension.
DENSE_MAX_DIM = 500

#: Default cap on the number of grid points of :func:`slq_density` (``max_grid=``): the
#: smoothing costs ``len(grid) * n_runs * n_steps`` kernel evaluations (1e6 points x 800
#: nodes ~ 5 s) and two float64 arrays of ``len(grid)``.
SLQ_MAX_GRID = 10**6

#: Default cap, in bytes, on the Lanczos storage of :func:`slq_density` (``max_bytes=``):
#: the basis of all runs, ``8 n_runs min(n_steps, d) d`` bytes, plus the start vectors.
SLQ_MAX_BYTES = 2 * 1024**3


def _readonly(a: Array) -> Array:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


# --------------------------------------------------------------------------- operators


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
    """
    A, M = as_operator(op, "op")
    if M is not None:
        return M.copy() if M is op else M
    d = A.shape[0]
    D = np.asarray(A.matmat(np.eye(d)), dtype=np.float64)
    if not np.all(np.isfinite(D)):
        raise ValueError("op produced NaN or infinite values")
    return 0.5 * (D + D.T)


# --------------------------------------------------------------------------- Lanczos


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
        """Ritz values (ascending) and eigenvectors ``S`` of ``T_m``."""
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


# --------------------------------------------------------------------------- top eigenvalues


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


# --------------------------------------------------------------------------- SLQ density


@dataclass(frozen=True, slots=True)
class SpectralDensity:
    """Stochastic Lanczos quadrature estimate of the spectral measure of a symmetric matrix.

    The (normalised) spectral measure ``mu = (1/d) sum_i delta_{lambda_i}`` is estimated
    by the discrete measure ``(1/n_runs) sum_r sum_j weights[r, j] delta_{nodes[r, j]}``
    plus, when outliers were deflated, an exact atom of mass ``1/d`` at each
    ``outliers[i]``. ``density`` is this measure convolved with a Gaussian of standard
    deviation ``sigma`` evaluated on ``grid`` (both in log10 units when ``log_spectrum``).

    Attributes
    ----------
    nodes : ndarray, shape (n_runs, n_steps)
        Raw quadrature nodes (Ritz values, eigenvalue units) of each run. A run that broke
        down early is padded by repeating its last node with weight 0.
    weights : ndarray, shape (n_runs, n_steps)
        Raw Gauss quadrature weights; each run's weights sum to ``(d - n_deflated) / d``.
    outliers : ndarray, shape (n_deflated,)
        Deflated top eigenvalues (each an atom of mass ``1/d``).
    grid : ndarray
        Evaluation points (eigenvalue units, or ``log10`` of them when ``log_spectrum``).
    density : ndarray
        Smoothed density on ``grid`` (integrates to ~1 over a grid covering the nodes).
    sigma : float
        Absolute Gaussian width used, in grid units.
    log_spectrum : bool
        Whether ``grid``/``density``/``sigma`` refer to ``log10(lambda)``.
    log_floor : float
        In log mode, nodes below this value were placed at it before taking ``log10``.
    dim : int
        Dimension ``d`` of the operator.
    """

    nodes: Array
    weights: Array
    outliers: Array
    grid: Array
    density: Array
    sigma: float
    log_spectrum: bool
    log_floor: float
    dim: int

    @property
    def n_runs(self) -> int:
        return int(self.nodes.shape[0])

    def atoms(self) -> tuple[Array, Array]:
        """The pooled discrete measure ``(values, masses)`` (masses sum to 1)."""
        vals = np.concatenate([self.nodes.ravel(), self.outliers])
        mass = np.concatenate(
            [self.weights.ravel() / self.n_runs, np.full(self.outliers.shape, 1.0 / self.dim)]
        )
        keep = mass > 0
        return vals[keep], mass[keep]

    def mean(self) -> float:
        """Mean of the estimated spectral measure (an estimate of ``tr(A) / d``)."""
        v, w = self.atoms()
        return float(np.sum(v * w) / np.sum(w))

    def wasserstein_to(self, eigenvalues: object) -> float:
        """Wasserstein-1 distance (eigenvalue units) to the uniform measure on ``eigenvalues``.

        Uses the raw nodes and weights (not the smoothed density), so it measures the
        quadrature error only; ``scipy.stats.wasserstein_distance`` normalises masses.
        """
        ev = finite_vector(eigenvalues, "eigenvalues")
        if ev.shape[0] == 0:
            raise ValueError("eigenvalues must be non-empty")
        from scipy.stats import wasserstein_distance  # lazy: scipy.stats costs ~0.3 s to import

        v, w = self.atoms()
        return float(wasserstein_distance(v, ev, u_weights=w))


def _smooth(points: Array, masses: Array, grid: Array, sigma: float) -> Array:
    out = np.zeros_like(grid)
    # points per chunk: 4096, or fewer for long grids so that the (grid x chunk)
    # temporaries stay near 2**22 elements (32 MiB) whatever len(grid) is
    chunk = 4096 if grid.shape[0] <= 1024 else max(1, 2**22 // grid.shape[0])
    with np.errstate(over="ignore", divide="ignore"):
        norm = 1.0 / (np.sqrt(2 * np.pi) * np.float64(sigma))
    if not np.isfinite(norm):
        raise ValueError(
            f"sigma: the absolute kernel width {sigma!r} is too small (the density would "
            "overflow float64); the spectrum of op is too narrow, use sigma_relative=False "
            "with a larger sigma"
        )
    # far-away grid points give z**2 = inf and exp(-inf) = 0, the correct limit
    with np.errstate(over="ignore", under="ignore"):
        for start in range(0, points.shape[0], chunk):
            p = points[start : start + chunk]
            m = masses[start : start + chunk]
            z = (grid[:, None] - p[None, :]) / sigma
            out += norm * (m[None, :] * np.exp(-0.5 * z**2)).sum(axis=1)
    return out


def slq_density(
    op: object,
    *,
    n_runs: int = 10,
    n_steps: int = 80,
    sigma: float = 0.01,
    sigma_relative: bool = True,
    grid: int | object = 1000,
    deflate: int = 0,
    log_spectrum: bool = False,
    log_floor: float = 1e-12,
    rng: RngLike = None,
    max_grid: int | None = None,
    max_bytes: int | None = None,
) -> SpectralDensity:
    """Spectral density by stochastic Lanczos quadrature (SLQ).

    Source: Ubaru, Chen & Saad (2017), Alg. 1; Gaussian smoothing and deflation as in
    Ghorbani, Krishnan & Xiao (2019), Sec. 2-3; hessian-eigenthings
    ``algorithms/spectral_density.py``.

    For each run ``r`` a Rademacher vector ``z`` (projected onto the orthogonal
    complement of the deflated eigenvectors, then normalised) starts ``n_steps`` of fully
    re-orthogonalised Lanczos; the Ritz values ``theta_j`` of ``T_m`` are the nodes and
    ``tau_j = (e_1^T s_j)^2`` the weights of a Gauss quadrature for
    ``v^T f(A) v ~ (1/d) tr f(A)``. All runs advance together (one ``op.matmat`` with
    ``n_runs`` columns per step), which reads a data matrix once per step.

    Parameters
    ----------
    op : LinearOperator or array_like, shape (d, d)
        Symmetric operator.
    n_runs : int
        Number of random start vectors (``>= 1``).
    n_steps : int
        Lanczos steps per run (``>= 1``; clipped to ``d - deflate``).
    sigma : float
        Gaussian kernel width (standard deviation). With ``sigma_relative=True`` (default)
        the absolute width is ``sigma * spread``, where ``spread`` is the range
        ``max - min`` of all nodes and outliers in grid units (eigenvalue units, or
        ``log10`` units in log mode); if the spread is 0 it is replaced by
        ``max(|node|, 1)``. With ``sigma_relative=False`` ``sigma`` is absolute.
    sigma_relative : bool
        See ``sigma``.
    grid : int or array_like
        Number of equally spaced points from ``min - 5 w`` to ``max + 5 w`` (``w`` the
        absolute width), or the evaluation points themselves (grid units).
    deflate : int
        Number of top (largest algebraic) eigenpairs to compute first (with
        :func:`top_eigenvalues`) and remove: each becomes an exact atom of mass ``1/d``;
        the SLQ runs see the operator on the complement of their span.
    log_spectrum : bool
        Smooth in ``t = log10(lambda)``: nodes below ``log_floor * max|node|`` (including
        non-positive ones) are placed at that floor first. ``density`` is then the density
        of ``log10(lambda)``.
    log_floor : float
        Relative floor for the log mode.
    rng : int, Generator, SeedSequence or None
        Seeds the start vectors (and the deflation's ``v0``).
    max_grid : int, optional
        Largest accepted number of grid points (default :data:`SLQ_MAX_GRID`, 10**6); a
        longer grid raises ValueError before anything is computed. Raise it on purpose.
    max_bytes : int, optional
        Largest accepted Lanczos storage ``8 n_runs min(n_steps, d - deflate) d`` bytes
        (default :data:`SLQ_MAX_BYTES`, 2 GiB), checked before allocating.

    Returns
    -------
    SpectralDensity
    """
    A, M = as_operator(op, "op")
    d = A.shape[0]
    n_runs = positive_int(n_runs, "n_runs")
    n_steps = positive_int(n_steps, "n_steps")
    sigma = positive_float(sigma, "sigma")
    log_floor = positive_float(log_floor, "log_floor")
    deflate = positive_int(deflate, "deflate", minimum=0)
    if deflate >= d:
        raise ValueError(f"deflate must be < the dimension {d}, got {deflate}")
    max_grid = SLQ_MAX_GRID if max_grid is None else positive_int(max_grid, "max_grid")
    max_bytes = SLQ_MAX_BYTES if max_bytes is None else positive_int(max_bytes, "max_bytes")
    if isinstance(grid, (int, np.integer)) and not isinstance(grid, bool):
        n_grid = positive_int(grid, "grid", minimum=2)
        g_user = None
    else:
        g_user = finite_vector(grid, "grid")
        n_grid = g_user.shape[0]
    if n_grid > max_grid:
        raise ValueError(
            f"grid: {n_grid} points exceed max_grid={max_grid} (the smoothing costs "
            f"len(grid) x n_runs x n_steps kernel evaluations); pass max_grid= to allow it"
        )
    need = 8 * n_runs * (min(n_steps, d - deflate) + 1) * d
    if need > max_bytes:
        raise ValueError(
            f"n_runs, n_steps: the Lanczos storage of {n_runs} runs x {min(n_steps, d - deflate)} "
            f"steps x dimension {d} needs about {need / 1e9:.3g} GB, above max_bytes="
            f"{max_bytes}; lower n_runs / n_steps or pass max_bytes="
        )
    gen = as_generator(rng)

    outliers = np.zeros(0)
    Qd = None
    if deflate:
        outliers, Qd = top_eigenvalues(
            M if M is not None else A, deflate, which="LA", rng=gen, return_eigenvectors=True
        )
        Qd, _ = np.linalg.qr(Qd)
    m = min(n_steps, d - deflate)
    Z = gen.integers(0, 2, size=(d, n_runs)).astype(np.float64) * 2.0 - 1.0
    if Qd is not None:
        Z -= Qd @ (Qd.T @ Z)
    nz = np.linalg.norm(Z, axis=0)
    if np.any(nz == 0):
        raise ValueError("deflate: a start vector lies in the deflated subspace; use another rng")
    V0 = Z / nz
    al, be, lengths, _, _ = _lanczos_runs(A.matmat, V0, m, reorthogonalize=True, deflate=Qd)
    bulk = (d - deflate) / d
    nodes = np.zeros((n_runs, m))
    weights = np.zeros((n_runs, m))
    for r in range(n_runs):
        n = int(lengths[r])
        theta, S = _tridiag_eigh(al[r, :n], be[r, : n - 1])
        tau = S[0, :] ** 2
        nodes[r, :n] = theta
        weights[r, :n] = bulk * tau / tau.sum()
        nodes[r, n:] = theta[-1]

    pts = np.concatenate([nodes.ravel(), outliers])
    mass = np.concatenate([weights.ravel() / n_runs, np.full(outliers.shape, 1.0 / d)])
    floor = 0.0
    if log_spectrum:
        floor = log_floor * float(np.max(np.abs(pts)))
        if floor <= 0:
            raise ValueError("op: log_spectrum needs a non-zero spectrum")
        tpts = np.log10(np.maximum(pts, floor))
    else:
        tpts = pts
    lo, hi = float(tpts.min()), float(tpts.max())
    spread = hi - lo
    with np.errstate(over="ignore"):
        if sigma_relative:
            width = sigma * (spread if spread > 0 else max(abs(hi), 1.0))
        else:
            width = sigma
        if not np.isfinite(width) or not np.isfinite(10 * width + max(abs(lo), abs(hi))):
            raise ValueError(f"sigma: the kernel width {width!r} overflows the grid range")
    if g_user is None:
        g = np.linspace(lo - 5 * width, hi + 5 * width, n_grid)
    else:
        g = g_user
    dens = _smooth(tpts, mass, g, width)
    return SpectralDensity(
        nodes=_readonly(nodes),
        weights=_readonly(weights),
        outliers=_readonly(outliers),
        grid=_readonly(g),
        density=_readonly(dens),
        sigma=float(width),
        log_spectrum=bool(log_spectrum),
        log_floor=float(floor),
        dim=int(d),
    )
