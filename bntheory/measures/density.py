"""Stochastic Lanczos quadrature (SLQ) spectral densities, with outlier deflation and a
log-spectrum mode.

References: Golub & Meurant (2009), *Matrices, Moments and Quadrature*, Ch. 6 (Gauss
quadrature from the Lanczos tridiagonal: nodes = Ritz values, weights = squared first
components of the Ritz vectors); Ubaru, Chen & Saad (2017), "Fast estimation of tr(f(A))
via stochastic Lanczos quadrature", SIAM J. Matrix Anal. Appl. 38(4); Ghorbani, Krishnan &
Xiao (2019), "An investigation into neural net optimization via Hessian eigenvalue
density", ICML (Gaussian-smoothed SLQ density, outlier deflation, log-scale plots).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import as_generator
from ._validation import as_operator, finite_vector, positive_float, positive_int
from .eigen import top_eigenvalues
from .lanczos import RngLike, _lanczos_runs, _readonly, _tridiag_eigh

__all__ = ["SLQ_MAX_BYTES", "SLQ_MAX_GRID", "SpectralDensity", "slq_density"]

Array = np.ndarray

#: Default cap on the number of grid points of :func:`slq_density` (``max_grid=``): the
#: smoothing costs ``len(grid) * n_runs * n_steps`` kernel evaluations (1e6 points x 800
#: nodes ~ 5 s) and two float64 arrays of ``len(grid)``.
SLQ_MAX_GRID = 10**6

#: Default cap, in bytes, on the Lanczos storage of :func:`slq_density` (``max_bytes=``):
#: the basis of all runs, ``8 n_runs min(n_steps, d) d`` bytes, plus the start vectors.
SLQ_MAX_BYTES = 2 * 1024**3


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
        """The pooled discrete measure of all runs and deflated outliers.

        Returns
        -------
        tuple of numpy.ndarray
            ``(values, masses)``: atoms with positive mass; the masses sum to 1.
        """
        vals = np.concatenate([self.nodes.ravel(), self.outliers])
        mass = np.concatenate(
            [self.weights.ravel() / self.n_runs, np.full(self.outliers.shape, 1.0 / self.dim)]
        )
        keep = mass > 0
        return vals[keep], mass[keep]

    def mean(self) -> float:
        """Mean of the estimated spectral measure.

        Returns
        -------
        float
            An estimate of ``tr(A) / d`` (in log10 units when ``log_spectrum``).
        """
        v, w = self.atoms()
        return float(np.sum(v * w) / np.sum(w))

    def wasserstein_to(self, eigenvalues: object) -> float:
        """Wasserstein-1 distance (eigenvalue units) to the uniform measure on ``eigenvalues``.

        Uses the raw nodes and weights (not the smoothed density), so it measures the
        quadrature error only; ``scipy.stats.wasserstein_distance`` normalises masses.

        Parameters
        ----------
        eigenvalues : array_like, shape (n,)
            The exact eigenvalues (finite, non-empty).

        Returns
        -------
        float
            The Wasserstein-1 distance.
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
