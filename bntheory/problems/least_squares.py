"""Population least squares: the OLS model of Cai, Li & Shen (2019) and Kohler et al. (2019).

The objective is :math:`J_0(w) = \\tfrac12 E(y - x^\\top w)^2 = \\tfrac12 w^\\top H w - u^\\top w + c/2`
with :math:`H = E[xx^\\top] \\succ 0`, :math:`u = E[xy]`, :math:`c = E[y^2]`
(THEORY.md Sec. 2, "OLS / GD baseline" [D]).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator

from bntheory._checks import as_int, as_matrix, as_real, as_spd, as_vector
from bntheory.gradcheck import as_generator

from .operators import HouseholderBasis, SampleOperator, SpectralOperator

__all__ = ["LeastSquares"]

Array = np.ndarray

#: Default cap, in bytes, on the peak memory of :meth:`LeastSquares.ill_conditioned`
#: (``max_bytes=`` overrides it): about ``ILL_CONDITIONED_ARRAYS`` dense ``d x d`` float64
#: arrays live at once (Gaussian draw, QR factors, H and its validation copies), i.e.
#: ``64 d^2`` bytes: 2 GiB allows ``d`` up to about 5,800.
ILL_CONDITIONED_MAX_BYTES = 2 * 1024**3
ILL_CONDITIONED_ARRAYS = 8
_SPECTRA = ("geometric", "linear", "two-cluster", "spiked")
#: Above this dimension ``L``, ``mu`` and ``kappa`` of a dense ``H`` come from Lanczos
#: (``lambda_max``) and Lanczos on ``H^{-1}`` by the Cholesky factor (``lambda_min``), not
#: from a full ``eigvalsh`` (which is kept below it, as the reference).
DENSE_EIG_MAX_DIM = 1000
#: ``from_samples(..., matrix_free=None)`` keeps a dense ``H`` up to this dimension.
FROM_SAMPLES_DENSE_MAX_DIM = 4000
#: Default relative residual of the conjugate-gradient solve for ``w*`` in
#: :meth:`LeastSquares.from_operator` and of the CG solves of matrix-free spectra.
CG_TOL = 1e-12
_ALIGN = (None, "random", "top", "bottom", "extremes")


class LeastSquares:
    """Population objective ``1/2 E(y - x^T w)^2 = 1/2 w^T H w - u^T w + c/2``.

    Parameters
    ----------
    H : (d, d) array_like
        Second moment ``E[x x^T]``; symmetric positive definite.
    u : (d,) array_like
        Cross moment ``E[x y]``.
    c : float
        ``E[y^2]``; must satisfy ``c >= q = u^T H^{-1} u`` (Cauchy-Schwarz), up to 1e-10 relative.

    Attributes
    ----------
    dim, H, u, c, w_star (``H^{-1} u``), q (``u^T H^{-1} u``), J_star (``(c - q)/2``),
    eigenvalues (ascending, cached), L, mu, kappa, norm_matrix (``H``: the matrix of the
    BN normalization ``||w||_H``), X, y (the samples, only for :meth:`from_samples`).

    Notes
    -----
    The gradient is evaluated as ``H (w - w*)`` rather than ``H w - u`` and the loss as
    ``J* + 1/2 (w - w*)^T H (w - w*)``: both are mathematically equal to the textbook forms
    and free of cancellation near the optimum (THEORY.md Sec. 2 warns that differences of
    large numbers put a floor near 1e-13 relative on fitted rates).
    """

    def __init__(self, H: object, u: object, c: object, *, _eigenvalues: Array | None = None):
        self.H, self._chol = as_spd(H, "H")
        self.dim = self.H.shape[0]
        self.u = as_vector(u, "u", self.dim)
        self.c = as_real(c, "c")
        with np.errstate(all="ignore"):
            self.w_star = scipy.linalg.cho_solve((self._chol, True), self.u)
            self.q = float(self.u @ self.w_star)
        if not (np.all(np.isfinite(self.w_star)) and np.isfinite(self.q)):
            raise ValueError(
                "u and H give an optimum w* = H^-1 u or u^T H^-1 u that overflows float64 "
                "(rescale u or H)"
            )
        if self.c < self.q - 1e-10 * max(abs(self.q), 1.0):
            raise ValueError(
                f"c must be >= u^T H^-1 u = {self.q:.6g} (E[y^2] >= explained part), got {self.c}"
            )
        # J* = (c - q)/2, clipped at 0 against round-off when c == q.
        self.J_star = max(0.5 * (self.c - self.q), 0.0)
        self._eig = None if _eigenvalues is None else np.sort(np.asarray(_eigenvalues, float))
        self._eig_given = _eigenvalues is not None
        self.X: Array | None = None
        self.y: Array | None = None
        self._init_extras(matrix_free=False)

    def _init_extras(self, *, matrix_free: bool) -> None:
        self.matrix_free = matrix_free
        #: ``||H w* - u|| / ||u||`` when ``w*`` came from an iterative solve (certificate).
        self.w_star_residual: float | None = None
        #: certificates of the matrix-free ``L`` / ``mu`` (``EigenCertificate``), when computed.
        self.spectrum_certificates: dict[str, object] = {}
        self._solve_fn = None
        self._eig_coords: Array | None = None  # Q^T w* of a structured H
        self._L: float | None = None
        self._mu: float | None = None

    # ------------------------------------------------------------------ spectrum
    @property
    def operator(self) -> LinearOperator:
        """``H`` as a ``LinearOperator`` (the stored one when matrix-free)."""
        if isinstance(self.H, LinearOperator):
            return self.H
        from scipy.sparse.linalg import aslinearoperator

        return aslinearoperator(self.H)

    def _large(self) -> bool:
        return self.matrix_free or self.dim > DENSE_EIG_MAX_DIM

    def solve(self, b: object) -> Array:
        """``H^{-1} b``: Cholesky when dense, exact for a structured ``H``, else CG to
        :data:`CG_TOL` (relative residual)."""
        b = as_vector(b, "b", self.dim)
        if self._chol is not None:
            return scipy.linalg.cho_solve((self._chol, True), b, check_finite=False)
        if self._solve_fn is not None:
            return self._solve_fn(b)
        from bntheory.measures.matfree import cg_solve

        return cg_solve(self.H, b, rtol=CG_TOL)[0]

    @property
    def eigenvalues(self) -> Array:
        """Eigenvalues of ``H`` in ascending order (dense ``eigvalsh``, cached).

        A matrix-free ``H`` has them only when its spectrum was given (structured
        generators); otherwise ValueError (use ``L``, ``mu`` or ``top_eigenvalues``).
        """
        if self._eig is None:
            if self.matrix_free:
                raise ValueError(
                    "H is matrix-free: its full spectrum is not computed (use L, mu, kappa "
                    "or measures.top_eigenvalues(problem.H, k))"
                )
            self._eig = np.linalg.eigvalsh(self.H)
        return self._eig

    @property
    def L(self) -> float:
        """Smoothness constant ``lambda_max(H)``.

        Dense ``eigvalsh`` up to :data:`DENSE_EIG_MAX_DIM`; above it (or matrix-free)
        Lanczos to machine precision, certificate in ``spectrum_certificates["L"]`` (so the
        ``"1/L"`` step rule never runs a full ``eigvalsh`` there).
        """
        if self._L is not None:
            return self._L
        if self._eig is None and self._large():
            if self._L is None:
                from bntheory.measures.matfree import lambda_max

                cert = lambda_max(self.operator, rng=0)
                self.spectrum_certificates["L"] = cert
                self._L = cert.value
            return self._L
        return float(self.eigenvalues[-1])

    @property
    def mu(self) -> float:
        """Strong-convexity constant ``lambda_min(H)``.

        ``eigvalsh`` has an absolute error of about ``d eps lambda_max``, so a smaller
        lambda_min comes out as round-off (even 0 or negative, for an H that is positive
        definite). Then it is recomputed from the Cholesky factor ``H = C C^T``:
        ``lambda_min = 1 / ||C^{-1}||_2^2``, whose largest singular value is accurate.

        A dense ``H`` uses ``eigvalsh`` at every ``d``: Lanczos on ``H^{-1}`` by Cholesky
        solves was measured slower here (23.5 s vs 6.9 s at d = 4000, geometric spectrum,
        one BLAS thread: the solves are memory-bound and a clustered bottom needs ~160 of
        them). A matrix-free ``H`` uses Lanczos on ``H^{-1}`` (exact structured inverse or
        CG to 1e-12), certificate in ``spectrum_certificates["mu"]``.
        """
        if self._eig is None and self.matrix_free:
            if self._mu is None:
                from bntheory.measures.matfree import lambda_min

                cert = lambda_min(self.operator, solve=self.solve, rng=0)
                if not (np.isfinite(cert.value) and cert.value > 0):
                    raise ValueError("H: lambda_min(H) is not positive (H numerically singular)")
                self.spectrum_certificates["mu"] = cert
                self._mu = cert.value
            return self._mu
        lam0 = float(self.eigenvalues[0])
        if self._eig_given or lam0 > 64 * self.dim * np.finfo(float).eps * self.L:
            return lam0
        Cinv = scipy.linalg.solve_triangular(self._chol, np.eye(self.dim), lower=True)
        s = float(np.max(np.abs(Cinv)))
        with np.errstate(all="ignore"):
            top = float(np.linalg.eigvalsh((Cinv / s).T @ (Cinv / s))[-1])
            mu = (1.0 / s) ** 2 / top
        if not (np.isfinite(mu) and mu > 0):
            raise ValueError("H: lambda_min(H) is below the float64 range (H too ill-conditioned)")
        return mu

    @property
    def kappa(self) -> float:
        """Condition number ``lambda_max / lambda_min`` (a ValueError naming H when it
        overflows float64)."""
        with np.errstate(all="ignore"):
            out = self.L / self.mu
        if not np.isfinite(out):
            raise ValueError(
                f"H: the condition number lambda_max / lambda_min = {self.L:.3g} / "
                f"{self.mu:.3g} overflows float64"
            )
        return out

    @property
    def norm_matrix(self) -> Array:
        """Matrix ``S`` of the BN normalization ``||w||_S`` (population BN of ``x^T w``)."""
        return self.H

    # ------------------------------------------------------------------ objective
    def _w(self, w: object) -> Array:
        return as_vector(w, "w", self.dim)

    def loss_grad_gap(self, w: Array) -> tuple[float, Array, float]:
        """Loss, gradient and optimality gap at ``w`` from one matrix-vector product."""
        d = w - self.w_star
        g = self.H @ d
        gap = 0.5 * float(d @ g)
        return self.J_star + gap, g, gap

    @staticmethod
    def _checked(out, name: str):
        # Public evaluations raise a named error instead of leaking an overflow warning
        # or returning inf / NaN (the solvers use loss_grad_gap and report divergence).
        if not np.all(np.isfinite(out)):
            raise ValueError(f"{name} is too large: the result overflows float64")
        return out

    def loss(self, w: object) -> float:
        """``1/2 w^T H w - u^T w + c/2`` (evaluated as ``J* + gap``)."""
        w = self._w(w)
        with np.errstate(all="ignore"):
            return self._checked(self.loss_grad_gap(w)[0], "w")

    def grad(self, w: object) -> Array:
        """``H w - u`` (evaluated as ``H (w - w*)``)."""
        w = self._w(w)
        with np.errstate(all="ignore"):
            return self._checked(self.H @ (w - self.w_star), "w")

    def hvp(self, w: object, v: object) -> Array:
        """``H v``."""
        self._w(w)
        v = as_vector(v, "v", self.dim)
        with np.errstate(all="ignore"):
            return self._checked(self.H @ v, "v")

    def hessian(self, w: object | None = None) -> Array:
        """``H`` (constant); a matrix-free ``H`` is materialised only up to d = 4000."""
        if self.matrix_free:
            if self.dim > FROM_SAMPLES_DENSE_MAX_DIM:
                raise ValueError(
                    f"H is matrix-free with d = {self.dim} > {FROM_SAMPLES_DENSE_MAX_DIM}: "
                    "it is not materialised (use hvp or the operator problem.H)"
                )
            D = np.asarray(self.H.matmat(np.eye(self.dim)), float)
            return 0.5 * (D + D.T)
        return self.H.copy()

    def effective_conditioning(self, *, rng: object = 0):
        """Cai's ``kappa*`` of this instance with certificates (matrix-free, see
        :func:`bntheory.measures.matfree.effective_conditioning`): the secular equation
        when the eigendecomposition is known (structured generators), Lanczos on ``H*``
        and on ``P H^{-1} P`` by the Cholesky factor (dense) or CG (operators) otherwise."""
        from bntheory.measures.matfree import effective_conditioning

        if self._eig_coords is not None and self._eig is not None:
            return effective_conditioning(None, None, eigh=(self._eig, self._eig_coords))
        return effective_conditioning(self.operator, self.w_star, solve=self.solve, rng=rng)

    def gap(self, w: object) -> float:
        """``J_0(w) - J* = 1/2 (w - w*)^T H (w - w*)``, without cancellation."""
        w = self._w(w)
        with np.errstate(all="ignore"):
            return self._checked(self.loss_grad_gap(w)[2], "w")

    def __repr__(self) -> str:
        mf = ", matrix_free=True" if self.matrix_free else ""
        return f"LeastSquares(dim={self.dim}, J_star={self.J_star:.4g}{mf})"

    # ------------------------------------------------------------------ matrix-free
    @classmethod
    def _from_parts(
        cls,
        op: LinearOperator,
        u: Array,
        c: float,
        w_star: Array,
        *,
        eigenvalues: Array | None = None,
        solve=None,
        w_star_residual: float | None = None,
    ) -> LeastSquares:
        self = cls.__new__(cls)
        self.H = op
        self._chol = None
        self.dim = int(op.shape[0])
        self.u = u
        self.c = c
        self.w_star = w_star
        self.q = float(u @ w_star)
        if not np.isfinite(self.q):
            raise ValueError("u: u^T H^-1 u overflows float64 (rescale u or H)")
        if self.c < self.q - 1e-10 * max(abs(self.q), 1.0):
            raise ValueError(
                f"c must be >= u^T H^-1 u = {self.q:.6g} (E[y^2] >= explained part), got {self.c}"
            )
        self.J_star = max(0.5 * (self.c - self.q), 0.0)
        self._eig = None if eigenvalues is None else np.sort(np.asarray(eigenvalues, float))
        self._eig_given = eigenvalues is not None
        self.X = None
        self.y = None
        self._init_extras(matrix_free=True)
        self._solve_fn = solve
        self.w_star_residual = w_star_residual
        return self

    @classmethod
    def from_operator(
        cls,
        H_op: object,
        u: object,
        c: object,
        *,
        w_star: object | None = None,
        tol: float = CG_TOL,
        maxiter: int | None = None,
        eigenvalues: object | None = None,
    ) -> LeastSquares:
        """Least squares whose ``H`` is only available as products ``H v`` (never formed).

        Parameters
        ----------
        H_op : scipy.sparse.linalg.LinearOperator, shape (d, d)
            Symmetric positive definite ``H`` (or anything ``aslinearoperator`` accepts).
        u : (d,) array_like
            ``E[x y]``.
        c : float
            ``E[y^2] >= u^T H^{-1} u``.
        w_star : (d,) array_like, optional
            The optimum ``H^{-1} u`` when known exactly; otherwise conjugate gradients to
            the relative residual ``||H w* - u|| <= tol ||u||``.
        tol : float
            CG tolerance (default :data:`CG_TOL` = 1e-12). The achieved relative residual
            (recomputed, not CG's recursive estimate) is stored as ``w_star_residual``, the
            certificate; the loss gap ``J(w) - J*`` of any ``w`` is then exact up to
            ``O(w_star_residual * ||u|| ||w - w*||)``.
        maxiter : int, optional
            CG iteration cap (default ``max(10 d, 1000)``).
        eigenvalues : (d,) array_like, optional
            The spectrum of ``H`` when known (then ``L``, ``mu``, ``kappa`` are exact).

        Returns
        -------
        LeastSquares
            ``matrix_free = True``; ``H`` is the operator; ``hessian()`` materialises it only
            for ``d <= 4000``.
        """
        from scipy.sparse.linalg import aslinearoperator

        from bntheory.measures.matfree import cg_solve

        if not isinstance(H_op, LinearOperator):
            try:
                H_op = aslinearoperator(H_op)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"H_op must be a LinearOperator (or a matrix), got {type(H_op).__name__}"
                ) from exc
        if len(H_op.shape) != 2 or H_op.shape[0] != H_op.shape[1] or H_op.shape[0] == 0:
            raise ValueError(f"H_op must be square and non-empty, got shape {H_op.shape}")
        if np.issubdtype(np.dtype(H_op.dtype), np.complexfloating):
            raise TypeError(f"H_op must be real, got dtype {H_op.dtype}")
        d = int(H_op.shape[0])
        u = as_vector(u, "u", d)
        c = as_real(c, "c")
        tol = as_real(tol, "tol", positive=True)
        if maxiter is not None:
            maxiter = as_int(maxiter, "maxiter")
        eig = None if eigenvalues is None else as_vector(eigenvalues, "eigenvalues", d)
        if eig is not None and not np.all(eig > 0):
            raise ValueError("eigenvalues must be > 0 (H positive definite)")
        with np.errstate(all="ignore"):
            if w_star is None:
                ws, res = cg_solve(H_op, u, rtol=tol, maxiter=maxiter)
            else:
                ws = as_vector(w_star, "w_star", d)
                nu = float(np.linalg.norm(u))
                res = float(np.linalg.norm(H_op.matvec(ws) - u)) / nu if nu > 0 else 0.0
        if not np.all(np.isfinite(ws)):
            raise ValueError("H_op and u: w* = H^-1 u overflows float64")
        if np.any(ws) and not float(ws @ H_op.matvec(ws)) > 0:
            raise ValueError("H_op must be positive definite (w*^T H w* <= 0)")
        solve = H_op.solve if hasattr(H_op, "solve") else None
        return cls._from_parts(H_op, u, c, ws, eigenvalues=eig, solve=solve, w_star_residual=res)

    @classmethod
    def structured(
        cls,
        dim: int,
        kappa: float,
        spectrum: str = "geometric",
        *,
        align: str | float | None = None,
        noise: float = 1.0,
        n_reflections: int = 4,
        rng: int | np.random.Generator | None = None,
    ) -> LeastSquares:
        """Ill-conditioned instance of any ``kappa`` at any ``d`` in ``O(d)`` memory.

        ``H = Q diag(lambda) Q^T`` with ``Q`` a product of ``n_reflections`` Householder
        reflections along Gaussian directions (``O(k d)`` memory and time per product;
        :class:`~bntheory.problems.operators.HouseholderBasis`), ``lambda`` and the
        alignment of ``w*`` exactly as in :meth:`ill_conditioned` (same ``spectrum`` and
        ``align`` options). ``w* = Q coef`` and ``u = Q (lambda coef)`` are exact, so
        ``L``, ``mu``, ``kappa`` are the constructed ones and ``kappa*`` comes from the
        secular equation (:meth:`effective_conditioning`). The eigenvectors are not
        Haar-distributed (``Q`` differs from the identity by a rank-``k`` term).
        """
        dim = as_int(dim, "dim")
        kappa, noise = _generator_args(dim, kappa, spectrum, noise)
        k = as_int(n_reflections, "n_reflections", minimum=0)
        gen = as_generator(rng)
        lam = _spectrum(dim, kappa, spectrum)
        if not np.all(lam > 0):
            raise ValueError(f"kappa={kappa:g}: the smallest eigenvalue 1/kappa underflows float64")
        basis = HouseholderBasis.random(dim, k, gen) if k else None
        coef = _alignment(dim, align, gen)
        op = SpectralOperator(lam, basis)
        w_star = op.from_eigen(coef)
        u = op.from_eigen(lam * coef)
        q = float(coef @ (lam * coef))
        prob = cls._from_parts(op, u, q + noise, w_star, eigenvalues=lam, solve=op.solve)
        prob._eig = lam  # ascending by construction; coordinates below match this order
        prob._eig_coords = coef
        prob.q = q
        prob.J_star = 0.5 * noise
        prob.w_star_residual = 0.0
        return prob

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_samples(
        cls,
        X: object,
        y: object,
        *,
        center: bool = False,
        matrix_free: bool | None = None,
        tol: float = CG_TOL,
    ) -> LeastSquares:
        """Population of the empirical distribution of the samples ``(X, y)``.

        ``H = X^T X / n``, ``u = X^T y / n``, ``c = y^T y / n`` (biased 1/n moments, no
        intercept). With ``center=True`` the column means of ``X`` and the mean of ``y``
        are subtracted first, so ``H`` is the empirical covariance (the statistics that
        population BN of ``x^T w`` uses). The samples are kept as ``.X`` and ``.y`` (after
        centering), which mini-batch BNGD needs.

        Parameters
        ----------
        X : (n, d) array_like or scipy.sparse matrix
        y : (n,) array_like
        center : bool
        matrix_free : bool, optional
            ``True``: ``H`` is never formed; it is the operator
            ``v -> X^T (X v) / n - m (m^T v)`` (:class:`~bntheory.problems.operators.SampleOperator`,
            ``m`` the column means when ``center``, else 0) and ``w*`` comes from conjugate
            gradients to relative residual ``tol`` (certificate ``w_star_residual``).
            ``None`` (default): matrix-free when ``X`` is sparse or
            ``d > FROM_SAMPLES_DENSE_MAX_DIM`` (4000), dense otherwise (as before).
            A sparse ``X`` with ``center=True`` stays sparse: ``.X`` is then the
            UNcentred matrix and ``.x_mean`` the column means (mini-batch BNGD centres each
            batch, which is invariant to that shift).
        tol : float
            CG tolerance of the matrix-free path.
        """
        sparse = hasattr(X, "tocsr") and hasattr(X, "nnz")
        if matrix_free is not None and not isinstance(matrix_free, bool):
            raise TypeError(f"matrix_free must be a bool or None, got {type(matrix_free).__name__}")
        if sparse:
            X = _as_sparse_samples(X, "X")
        else:
            X = as_matrix(X, "X")
        n, d = X.shape
        if matrix_free is None:
            matrix_free = sparse or d > FROM_SAMPLES_DENSE_MAX_DIM
        y = as_vector(y, "y", n)
        if matrix_free:
            return cls._from_samples_matrix_free(X, y, center=center, sparse=sparse, tol=tol)
        if sparse:
            X = X.toarray()
        with np.errstate(all="ignore"):
            if center:
                X = X - X.mean(axis=0)
                y = y - y.mean()
            H, u, c = X.T @ X / n, X.T @ y / n, float(y @ y) / n
        if not (np.all(np.isfinite(H)) and np.all(np.isfinite(u)) and np.isfinite(c)):
            raise ValueError("X and y: the second moments overflow float64 (rescale X or y)")
        try:
            prob = cls(H, u, c)
        except ValueError as exc:
            raise ValueError(
                f"X must have full column rank (n >= d = {d} independent rows): {exc}"
            ) from exc
        prob.X, prob.y = X.copy(), y.copy()
        return prob

    @classmethod
    def _from_samples_matrix_free(
        cls, X: object, y: Array, *, center: bool, sparse: bool, tol: float
    ) -> LeastSquares:
        n, d = X.shape
        mean = None
        with np.errstate(all="ignore"):
            if center:
                mean = np.asarray(X.mean(axis=0), float).ravel()
                if not sparse:
                    X = X - mean
                    mean = None
                y = y - y.mean()
            u = np.asarray(X.T @ y, float).ravel() / n
            if mean is not None:
                u = u - mean * float(y.sum()) / n  # y is centred: sum(y) = 0 up to rounding
            c = float(y @ y) / n
        if not (np.all(np.isfinite(u)) and np.isfinite(c)):
            raise ValueError("X and y: the second moments overflow float64 (rescale X or y)")
        op = SampleOperator(X, mean)
        try:
            prob = cls.from_operator(op, u, c, tol=tol)
        except ValueError as exc:
            raise ValueError(
                f"X must have full column rank (n >= d = {d} independent rows): {exc}"
            ) from exc
        prob.X, prob.y = (X if sparse else X.copy()), y.copy()
        prob.x_mean = mean
        return prob

    @classmethod
    def ill_conditioned(
        cls,
        dim: int,
        kappa: float,
        spectrum: str = "geometric",
        *,
        basis: str = "random",
        align: str | float | None = None,
        noise: float = 1.0,
        rng: int | np.random.Generator | None = None,
        max_bytes: int | None = None,
    ) -> LeastSquares:
        """Random instance with prescribed spectrum of ``H`` and alignment of ``w*``.

        Parameters
        ----------
        dim : int
            Dimension ``d >= 1`` (``d = 1`` needs ``kappa = 1``).
        kappa : float
            Condition number ``>= 1``. Eigenvalues lie in ``[1/kappa, 1]`` (so ``L = 1``).
        spectrum : {"geometric", "linear", "two-cluster", "spiked"}
            ``geometric``: ``kappa^{-(d-1-i)/(d-1)}``; ``linear``: evenly spaced;
            ``two-cluster``: ``floor(d/2)`` eigenvalues at ``1/kappa``, the rest at 1;
            ``spiked``: one eigenvalue 1, the other ``d-1`` geometric in
            ``[1/kappa, min(1, 10/kappa)]``.
        basis : {"random", "identity"}
            Eigenvectors: Haar-random orthogonal (QR with sign fix) or the standard basis.
        align : None, "random", "top", "bottom", "extremes" or float in [0, 1]
            Direction of ``w*`` (unit norm) in the eigenbasis: random Gaussian (None /
            "random"), the top or bottom eigenvector, ``(v_min + v_max)/sqrt(2)``, or a float
            ``t`` mixing a random unit direction ``r`` with the top one:
            ``w* ∝ (1 - t) r + t v_max``. Aligning ``w*`` with an isolated eigenvalue
            ("spiked" + "top") makes Cai's ``kappa*`` much smaller than ``kappa``.
        noise : float
            Residual variance: ``c = q + noise``, so ``J* = noise / 2``.
        rng : int, Generator or None
            Seed.
        max_bytes : int, optional
            Largest accepted peak memory, estimated as ``8 * 8 d^2`` bytes (eight dense
            ``d x d`` float64 arrays); default :data:`ILL_CONDITIONED_MAX_BYTES` (2 GiB,
            ``d`` up to about 5,800). A larger ``dim`` raises ValueError before anything
            is allocated; pass a larger ``max_bytes`` on purpose.

        Raises
        ------
        ValueError
            Bad arguments (named); ``dim`` above the memory limit; ``kappa`` so large that
            ``H`` is not numerically positive definite in float64 (random basis: about
            ``kappa > 1e15``; identity basis: ``1/kappa`` below the float64 range).
        """
        dim = as_int(dim, "dim")
        limit = ILL_CONDITIONED_MAX_BYTES if max_bytes is None else as_int(max_bytes, "max_bytes")
        need = ILL_CONDITIONED_ARRAYS * 8 * dim * dim
        if need > limit:
            raise ValueError(
                f"dim={dim} needs about {need / 1e9:.3g} GB at peak ({ILL_CONDITIONED_ARRAYS} "
                f"dense d x d float64 arrays), above max_bytes={limit}; pass a larger "
                "max_bytes to allow it"
            )
        kappa, noise = _generator_args(dim, kappa, spectrum, noise)
        if basis not in ("random", "identity"):
            raise ValueError(f"basis must be 'random' or 'identity', got {basis!r}")
        gen = as_generator(rng)
        lam = _spectrum(dim, kappa, spectrum)
        if basis == "random":
            Q, R = np.linalg.qr(gen.standard_normal((dim, dim)))
            Q = Q * np.sign(np.diag(R))
        else:
            Q = np.eye(dim)
        coef = _alignment(dim, align, gen)
        w_star = Q @ coef
        H = (Q * lam) @ Q.T
        H = 0.5 * (H + H.T)
        u = Q @ (lam * coef)
        q = float(coef @ (lam * coef))
        if not np.all(lam > 0):
            raise ValueError(f"kappa={kappa:g}: the smallest eigenvalue 1/kappa underflows float64")
        try:
            prob = cls(H, u, q + noise, _eigenvalues=lam)
        except ValueError as exc:
            raise ValueError(
                f"kappa={kappa:g} is too large for dim={dim} with basis={basis!r}: "
                f"H = Q diag(lambda) Q^T is not numerically positive definite in float64 "
                f"({exc}); use a smaller kappa or basis='identity'"
            ) from exc
        return prob._with_w_star(w_star)

    @classmethod
    def heterogeneous_features(
        cls,
        dim: int,
        *,
        scale_ratio: float | None = None,
        growth: float | None = None,
        correlation: float | str = 0.0,
        noise: float = 1.0,
        rng: int | np.random.Generator | None = None,
    ) -> LeastSquares:
        """Features with exponentially increasing standard deviations: ``H = D C D``.

        The setting the reference article describes for Cai et al.'s experiments
        ("features generated with heterogeneous variances (e.g. exponentially increasing
        scales)"). ``D = diag(s)`` with ``s_i = scale_ratio^{i/(d-1)}`` (default ratio 100)
        or ``s_i = growth^i``; ``C`` is the identity (``correlation=0``), the equicorrelation
        matrix ``(1-r) I + r 1 1^T`` (float ``0 <= r < 1``), or ``"random"``: a Wishart
        matrix with ``2d`` degrees of freedom normalized to unit diagonal. The teacher is
        ``w* ~ N(0, I_d / d)``; ``u = H w*``; ``c = q + noise``.
        """
        dim = as_int(dim, "dim")
        if scale_ratio is not None and growth is not None:
            raise ValueError("give only one of scale_ratio and growth")
        gen = as_generator(rng)
        if growth is not None:
            growth = as_real(growth, "growth", positive=True)
            s = growth ** np.arange(dim, dtype=float)
        else:
            ratio = (
                100.0 if scale_ratio is None else as_real(scale_ratio, "scale_ratio", positive=True)
            )
            s = ratio ** (np.arange(dim) / max(dim - 1, 1))
        if isinstance(correlation, str):
            if correlation != "random":
                raise ValueError(
                    f"correlation must be a float in [0, 1) or 'random', got {correlation!r}"
                )
            G = gen.standard_normal((dim, 2 * dim))
            W = G @ G.T
            dd = np.sqrt(np.diag(W))
            C = W / np.outer(dd, dd)
        else:
            r = as_real(correlation, "correlation")
            if not 0 <= r < 1:
                raise ValueError(f"correlation must be in [0, 1), got {r}")
            C = (1 - r) * np.eye(dim) + r * np.ones((dim, dim))
        H = s[:, None] * C * s[None, :]
        w_star = gen.standard_normal(dim) / np.sqrt(dim)
        u = H @ w_star
        noise = as_real(noise, "noise", nonneg=True)
        return cls(H, u, float(w_star @ u) + noise)

    def _with_w_star(self, w_star: Array) -> LeastSquares:
        # The generators know w* exactly; replacing the Cholesky solve removes its error.
        self.w_star = np.asarray(w_star, float)
        return self


def _generator_args(
    dim: int, kappa: object, spectrum: object, noise: object
) -> tuple[float, float]:
    """Validated ``(kappa, noise)`` of the generators (``spectrum`` checked too)."""
    kappa = as_real(kappa, "kappa")
    if kappa < 1:
        raise ValueError(f"kappa must be >= 1, got {kappa}")
    if dim == 1 and kappa != 1:
        raise ValueError("kappa must be 1 when dim == 1")
    noise = as_real(noise, "noise", nonneg=True)
    if spectrum not in _SPECTRA:
        raise ValueError(f"spectrum must be one of {_SPECTRA}, got {spectrum!r}")
    return kappa, noise


def _as_sparse_samples(X: object, name: str) -> object:
    """A scipy.sparse ``X`` as float64 CSR, checked real, 2-D, non-empty and finite."""
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


def _spectrum(dim: int, kappa: float, kind: str) -> Array:
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


def _alignment(dim: int, align: object, gen: np.random.Generator) -> Array:
    if isinstance(align, str) or align is None:
        if align not in _ALIGN:
            raise ValueError(f"align must be one of {_ALIGN} or a float in [0, 1], got {align!r}")
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
