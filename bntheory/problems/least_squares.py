"""Population least squares: the OLS model of Cai, Li & Shen (2019) and Kohler et al. (2019).

The objective is :math:`J_0(w) = \\tfrac12 E(y - x^\\top w)^2 = \\tfrac12 w^\\top H w - u^\\top w + c/2`
with :math:`H = E[xx^\\top] \\succ 0`, :math:`u = E[xy]`, :math:`c = E[y^2]`
(THEORY.md Sec. 2, "OLS / GD baseline" [D]).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator

from bntheory._checks import as_real, as_spd, as_vector

from .ls_data import LeastSquaresFromData, frozen
from .ls_generators import LeastSquaresGenerators
from .ls_instances import (  # noqa: F401  (re-exported: the import paths of earlier versions)
    CG_TOL,
    DENSE_EIG_MAX_DIM,
    FROM_SAMPLES_DENSE_MAX_DIM,
    ILL_CONDITIONED_ARRAYS,
    ILL_CONDITIONED_MAX_BYTES,
    LEAN_MIN_DIM,
)
from .ls_instances import alignment as _alignment  # noqa: F401
from .ls_instances import as_sparse_samples as _as_sparse_samples  # noqa: F401
from .ls_instances import generator_args as _generator_args  # noqa: F401
from .ls_instances import spectrum_of as _spectrum  # noqa: F401

__all__ = ["LeastSquares"]

Array = np.ndarray


class LeastSquares(LeastSquaresFromData, LeastSquaresGenerators):
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
        H, chol = as_spd(H, "H")
        dim = H.shape[0]
        self._set_dense(H, chol, as_vector(u, "u", dim), as_real(c, "c"), _eigenvalues)

    def _set_dense(self, H: Array, chol: Array, u: Array, c: float, eig: Array | None) -> None:
        # The stored arrays are read-only (issue 11): ``ls.H[0, 0] = 99`` raises instead of
        # changing ``loss`` while ``w*``, ``kappa`` and the Cholesky factor stay stale.
        self.H = frozen(H, copy=False)
        self._chol = frozen(chol, copy=False)
        self.dim = self.H.shape[0]
        self.u = frozen(u)
        self.c = c
        with np.errstate(all="ignore"):
            w_star = scipy.linalg.cho_solve((self._chol, True), self.u)
            self.q = float(self.u @ w_star)
        if not (np.all(np.isfinite(w_star)) and np.isfinite(self.q)):
            raise ValueError(
                "u and H give an optimum w* = H^-1 u or u^T H^-1 u that overflows float64 "
                "(rescale u or H)"
            )
        self.w_star = frozen(w_star, copy=False)
        if self.c < self.q - 1e-10 * max(abs(self.q), 1.0):
            raise ValueError(
                f"c must be >= u^T H^-1 u = {self.q:.6g} (E[y^2] >= explained part), got {self.c}"
            )
        # J* = (c - q)/2, clipped at 0 against round-off when c == q.
        self.J_star = max(0.5 * (self.c - self.q), 0.0)
        self._eig = None if eig is None else frozen(np.sort(np.asarray(eig, float)), copy=False)
        self._eig_given = eig is not None
        self.X: Array | None = None
        self.y: Array | None = None
        self._init_extras(matrix_free=False)

    @classmethod
    def _from_dense_parts(
        cls, H: Array, chol: Array, u: Array, c: float, w_star: Array, eig: Array
    ) -> LeastSquares:
        """A dense problem from a generator that built ``H`` exactly symmetric, its
        Cholesky factor and the exact ``w*`` (no validation copies: ``H`` and ``chol``
        are kept, not copied)."""
        self = cls.__new__(cls)
        self._set_dense(H, chol, u, c, eig)
        return self._with_w_star(w_star)

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
        :data:`CG_TOL` (relative residual).

        Parameters
        ----------
        b : (d,) array_like
            Right-hand side.

        Returns
        -------
        numpy.ndarray, shape (d,)
            ``H^{-1} b``.
        """
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
            self._eig = frozen(np.linalg.eigvalsh(self.H), copy=False)
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

        A dense ``H`` uses the eigenvalues-only ``eigvalsh`` at every ``d`` (cached, so
        ``kappa`` and the ``"2/(L+mu)"`` step rule pay for it once), unless a generator
        gave the spectrum (then nothing is computed). Decision (issue 13): Lanczos on
        ``H^{-1}`` by solves with the stored Cholesky factor (shift-invert at 0) was
        measured slower here (23.5 s vs 6.9 s at d = 4000, geometric spectrum, one BLAS
        thread: the triangular solves are memory-bound and a clustered bottom needs ~160
        of them), so it is not used for arrays. A matrix-free ``H`` uses Lanczos on ``H^{-1}`` (exact structured inverse or
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
        """Loss, gradient and optimality gap at ``w`` from one matrix-vector product.

        Unchecked (the solvers' inner loop: no validation, overflow gives inf / NaN that
        ``solve`` reports as divergence).

        Parameters
        ----------
        w : numpy.ndarray, shape (d,)
            A float64 point.

        Returns
        -------
        tuple
            ``(loss, gradient, gap)``.
        """
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
        """``1/2 w^T H w - u^T w + c/2`` (evaluated as ``J* + gap``).

        Parameters
        ----------
        w : (d,) array_like
            The weight.

        Returns
        -------
        float
            The population loss.
        """
        w = self._w(w)
        with np.errstate(all="ignore"):
            return self._checked(self.loss_grad_gap(w)[0], "w")

    def grad(self, w: object) -> Array:
        """``H w - u`` (evaluated as ``H (w - w*)``).

        Parameters
        ----------
        w : (d,) array_like
            The weight.

        Returns
        -------
        numpy.ndarray, shape (d,)
            The gradient.
        """
        w = self._w(w)
        with np.errstate(all="ignore"):
            return self._checked(self.H @ (w - self.w_star), "w")

    def hvp(self, w: object, v: object) -> Array:
        """``H v`` (the Hessian is constant).

        Parameters
        ----------
        w : (d,) array_like
            The point (validated, unused).
        v : (d,) array_like
            The direction.

        Returns
        -------
        numpy.ndarray, shape (d,)
            ``H v``.
        """
        self._w(w)
        v = as_vector(v, "v", self.dim)
        with np.errstate(all="ignore"):
            return self._checked(self.H @ v, "v")

    def hessian(self, w: object | None = None) -> Array:
        """``H`` (constant); a matrix-free ``H`` is materialised only up to d = 4000.

        Parameters
        ----------
        w : (d,) array_like, optional
            Unused (the Hessian is constant).

        Returns
        -------
        numpy.ndarray, shape (d, d)
            A writable copy of ``H``.
        """
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
        and on ``P H^{-1} P`` by the Cholesky factor (dense) or CG (operators) otherwise.

        Parameters
        ----------
        rng : int or Generator
            Seed of the Lanczos start vectors.

        Returns
        -------
        bntheory.measures.matfree.EffectiveConditioning
            ``kappa*``, ``lambda_max(H*)``, ``lambda_min^+(H*)`` and their residuals.
        """
        from bntheory.measures.matfree import effective_conditioning

        if self._eig_coords is not None and self._eig is not None:
            return effective_conditioning(None, None, eigh=(self._eig, self._eig_coords))
        return effective_conditioning(self.operator, self.w_star, solve=self.solve, rng=rng)

    def gap(self, w: object) -> float:
        """``J_0(w) - J* = 1/2 (w - w*)^T H (w - w*)``, without cancellation.

        Parameters
        ----------
        w : (d,) array_like
            The weight.

        Returns
        -------
        float
            The optimality gap.
        """
        w = self._w(w)
        with np.errstate(all="ignore"):
            return self._checked(self.loss_grad_gap(w)[2], "w")

    def __repr__(self) -> str:
        mf = ", matrix_free=True" if self.matrix_free else ""
        return f"LeastSquares(dim={self.dim}, J_star={self.J_star:.4g}{mf})"
