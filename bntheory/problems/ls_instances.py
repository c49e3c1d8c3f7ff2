"""Building blocks of the least-squares generators: spectra, alignments, Haar bases.

The random instances of :class:`~bntheory.problems.LeastSquares` follow the setting of
Cai, Li & Shen (2019), Sec. 5 (ill-conditioned ``H`` with a prescribed spectrum) and
Kohler et al. (2019), Sec. 4 (Gaussian inputs with covariance ``S``); the Haar-random
orthogonal basis is the QR factor of a Gaussian matrix with the sign of ``diag(R)``
fixed (Mezzadri 2007, "How to generate random matrices from the classical compact
groups", Sec. 5).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from bntheory._checks import as_real, as_vector

__all__ = [
    "CG_TOL",
    "DENSE_EIG_MAX_DIM",
    "FROM_SAMPLES_DENSE_MAX_DIM",
    "ILL_CONDITIONED_ARRAYS",
    "ILL_CONDITIONED_MAX_BYTES",
    "LEAN_MIN_DIM",
    "haar_spd",
]

Array = np.ndarray

#: Default cap, in bytes, on the peak memory of ``LeastSquares.ill_conditioned``
#: (``max_bytes=`` overrides it), estimated as ``ILL_CONDITIONED_ARRAYS`` dense ``d x d``
#: float64 arrays: 2 GiB allows ``d`` up to about 11,500.
ILL_CONDITIONED_MAX_BYTES = 2 * 1024**3
#: Dense ``d x d`` arrays alive at once in ``ill_conditioned`` above :data:`LEAN_MIN_DIM`
#: (the result ``H`` and its Cholesky factor; the QR and ``B B^T`` steps also stay at 2).
ILL_CONDITIONED_ARRAYS = 2
#: Up to this dimension ``ill_conditioned`` keeps its original arithmetic (NumPy QR,
#: ``(Q diag(lambda)) Q^T``, symmetrized; about 8 ``d x d`` arrays at peak, 2 MB at
#: ``d = 512``), so every instance of the ledger and the figures is bit-for-bit the same;
#: above it the in-place path of :func:`haar_spd` (2 ``d x d`` arrays at peak).
LEAN_MIN_DIM = 512
SPECTRA = ("geometric", "linear", "two-cluster", "spiked")
#: Above this dimension ``L``, ``mu`` and ``kappa`` of a dense ``H`` come from Lanczos
#: (``lambda_max``), not from a full ``eigvalsh`` (which is kept below it, as the reference).
DENSE_EIG_MAX_DIM = 1000
#: ``from_samples(..., matrix_free=None)`` keeps a dense ``H`` up to this dimension.
FROM_SAMPLES_DENSE_MAX_DIM = 4000
#: Default relative residual of the conjugate-gradient solve for ``w*`` in
#: ``LeastSquares.from_operator`` and of the CG solves of matrix-free spectra.
CG_TOL = 1e-12
ALIGN = (None, "random", "top", "bottom", "extremes")


def generator_args(dim: int, kappa: object, spectrum: object, noise: object) -> tuple[float, float]:
    """Validated ``(kappa, noise)`` of the generators (``spectrum`` checked too).

    Parameters
    ----------
    dim : int
        The dimension (already validated).
    kappa : float
        Condition number ``>= 1`` (``1`` when ``dim == 1``).
    spectrum : str
        One of :data:`SPECTRA`.
    noise : float
        Residual variance ``>= 0``.

    Returns
    -------
    tuple of float
        ``(kappa, noise)``.
    """
    kappa = as_real(kappa, "kappa")
    if kappa < 1:
        raise ValueError(f"kappa must be >= 1, got {kappa}")
    if dim == 1 and kappa != 1:
        raise ValueError("kappa must be 1 when dim == 1")
    noise = as_real(noise, "noise", nonneg=True)
    if spectrum not in SPECTRA:
        raise ValueError(f"spectrum must be one of {SPECTRA}, got {spectrum!r}")
    return kappa, noise


def as_sparse_samples(X: object, name: str) -> object:
    """A scipy.sparse ``X`` as float64 CSR, checked real, 2-D, non-empty and finite.

    Parameters
    ----------
    X : scipy.sparse matrix
        The samples.
    name : str
        The argument's name in error messages.

    Returns
    -------
    scipy.sparse.csr_matrix
        A float64 CSR copy (or view) of ``X``.
    """
    if np.issubdtype(np.dtype(X.dtype), np.complexfloating):
        raise TypeError(f"{name} must be real, got complex values (dtype {X.dtype})")
    if len(X.shape) != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must be 2-D and non-empty, got shape {X.shape}")
    try:
        S = X.tocsr().astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sparse matrix of real numbers") from exc
    if not np.isfinite(S.data).all():
        raise ValueError(f"{name} contains NaN or inf")
    return S


def spectrum_of(dim: int, kappa: float, kind: str) -> Array:
    """Eigenvalues (ascending, in ``[1/kappa, 1]``) of the generators' ``H``.

    Parameters
    ----------
    dim : int
        Dimension.
    kappa : float
        Condition number.
    kind : {"geometric", "linear", "two-cluster", "spiked"}
        The shape (see ``LeastSquares.ill_conditioned``).

    Returns
    -------
    numpy.ndarray, shape (dim,)
        The spectrum, ascending.
    """
    if dim == 1:
        return np.ones(1)
    if kind == "geometric":
        return kappa ** (-(dim - 1 - np.arange(dim)) / (dim - 1))
    if kind == "linear":
        return np.linspace(1.0 / kappa, 1.0, dim)
    if kind == "two-cluster":
        lam = np.ones(dim)
        lam[: dim // 2] = 1.0 / kappa
        return lam
    # spiked
    hi = min(1.0, 10.0 / kappa)
    rest = np.geomspace(1.0 / kappa, hi, dim - 1) if dim > 2 else np.array([1.0 / kappa])
    return np.sort(np.append(rest, 1.0))


def alignment(dim: int, align: object, gen: np.random.Generator) -> Array:
    """Unit coordinates of ``w*`` in the eigenbasis (ascending eigenvalues).

    Parameters
    ----------
    dim : int
        Dimension.
    align : None, "random", "top", "bottom", "extremes" or float in [0, 1]
        See ``LeastSquares.ill_conditioned``.
    gen : numpy.random.Generator
        Source of the random directions.

    Returns
    -------
    numpy.ndarray, shape (dim,)
        A unit vector.
    """
    if isinstance(align, str) or align is None:
        if align not in ALIGN:
            raise ValueError(f"align must be one of {ALIGN} or a float in [0, 1], got {align!r}")
        if align in (None, "random"):
            v = gen.standard_normal(dim)
        else:
            v = np.zeros(dim)
            if align in ("top", "extremes"):
                v[-1] = 1.0
            if align in ("bottom", "extremes"):
                v[0] = 1.0
    else:
        t = as_real(align, "align")
        if not 0 <= t <= 1:
            raise ValueError(f"align must be in [0, 1] when a float, got {t}")
        r = gen.standard_normal(dim)
        r /= np.linalg.norm(r)
        top = np.zeros(dim)
        top[-1] = 1.0
        v = (1 - t) * r + t * top
    return v / np.linalg.norm(v)


def haar_basis(gen: np.random.Generator, dim: int) -> Array:
    """Haar-random orthogonal ``Q`` (QR of a Gaussian matrix, signs of ``diag(R)`` fixed),
    computed in place: one ``d x d`` array at the end, two at peak (Mezzadri 2007, Sec. 5).

    Parameters
    ----------
    gen : numpy.random.Generator
        Source of the Gaussian matrix (``dim * dim`` draws, the same as NumPy's path).
    dim : int
        Dimension.

    Returns
    -------
    numpy.ndarray, shape (dim, dim)
        ``Q`` (Fortran order), the same matrix as ``np.linalg.qr`` of the same draws with
        the sign fix, up to rounding.
    """
    G = gen.standard_normal((dim, dim))
    A = np.asfortranarray(G)
    del G
    geqrf, orgqr = scipy.linalg.get_lapack_funcs(("geqrf", "orgqr"), (A,))
    lwork = max(1, 64 * dim)
    qr, tau, _, info = geqrf(A, lwork=lwork, overwrite_a=1)
    if info != 0:  # pragma: no cover - LAPACK argument error
        raise RuntimeError(f"LAPACK geqrf failed (info={info})")
    sign = np.sign(np.diag(qr))
    Q, _, info = orgqr(qr, tau, lwork=lwork, overwrite_a=1)
    if info != 0:  # pragma: no cover
        raise RuntimeError(f"LAPACK orgqr failed (info={info})")
    Q *= sign[None, :]
    return Q


def haar_spd(
    gen: np.random.Generator, lam: Array, align: object
) -> tuple[Array, Array | None, Array, Array, Array]:
    """A Haar-rotated ``H = Q diag(lam) Q^T``, its Cholesky factor and ``w*``, at two
    ``d x d`` arrays at peak.

    ``Q`` comes from :func:`haar_basis`, then the alignment of ``w*`` from the same
    generator (the order of draws of the original construction); ``Q`` is scaled in place
    to ``B = Q diag(lam)^{1/2}``, ``H = B B^T`` by a symmetric rank-k update (exactly
    symmetric) and ``B`` is freed before the Cholesky factorization.

    Parameters
    ----------
    gen : numpy.random.Generator
        Source of the basis and of the alignment.
    lam : numpy.ndarray, shape (d,)
        Positive eigenvalues, ascending.
    align : None, str or float
        See :func:`alignment`.

    Returns
    -------
    tuple
        ``(H, C, w_star, u, coef)``: ``H``, its lower Cholesky factor (None when the
        factorization fails: ``H`` not numerically positive definite), ``w* = Q coef``,
        ``u = Q (lam coef)`` and the eigen-coordinates ``coef`` of ``w*``.
    """
    if not isinstance(gen, np.random.Generator):
        raise TypeError(f"gen must be a numpy Generator, got {type(gen).__name__}")
    lam = as_vector(lam, "lam")
    if not np.all(lam >= 0):
        raise ValueError("lam must hold non-negative eigenvalues")
    dim = lam.shape[0]
    Q = haar_basis(gen, dim)
    coef = alignment(dim, align, gen)
    w_star = Q @ coef
    u = Q @ (lam * coef)
    Q *= np.sqrt(lam)[None, :]
    H = np.dot(Q, Q.T)  # BLAS syrk: one triangle computed, mirrored exactly
    del Q
    potrf = scipy.linalg.get_lapack_funcs(("potrf",), (H,))[0]
    # H is symmetric, so its C-ordered buffer read as Fortran is H itself
    C, info = potrf(H.T, lower=1, clean=1, overwrite_a=0)
    if info != 0 or not np.all(np.isfinite(np.diag(C))):
        return H, None, w_star, u, coef
    return H, C, w_star, u, coef
