"""Least squares from data: sample matrices (dense or sparse) and ``LinearOperator`` s.

The population of the empirical distribution of samples ``(X, y)`` (Cai, Li & Shen 2019,
Sec. 2: ``H = E[x x^T]``, ``u = E[x y]``, ``c = E[y^2]``), and problems whose ``H`` is only
available as products ``H v``, with ``w*`` by conjugate gradients (Hestenes & Stiefel
1952) to a stated tolerance. A mixin of :class:`~bntheory.problems.LeastSquares`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse.linalg import LinearOperator

from bntheory._checks import as_int, as_matrix, as_real, as_vector

from .ls_instances import CG_TOL, FROM_SAMPLES_DENSE_MAX_DIM, as_sparse_samples
from .operators import SampleOperator

if TYPE_CHECKING:
    from .least_squares import LeastSquares

__all__ = ["LeastSquaresFromData", "frozen"]

Array = np.ndarray


def frozen(a: object, *, copy: bool = True) -> Array:
    """A read-only float64 array: a private copy of ``a`` (or ``a`` itself, ``copy=False``,
    when the caller owns it), so that assigning into a problem's arrays raises instead of
    silently leaving its cached quantities (``w*``, ``kappa``, ...) stale.

    Parameters
    ----------
    a : array_like
        The values.
    copy : bool
        Copy first (default); ``False`` freezes an array the caller just created.

    Returns
    -------
    numpy.ndarray
        The read-only array.
    """
    out = np.array(a, dtype=float, copy=True) if copy else np.asarray(a, dtype=float)
    out.setflags(write=False)
    return out


class LeastSquaresFromData:
    """Constructors of ``LeastSquares`` from samples and from operators (mixin)."""

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
        self.u = frozen(u)
        self.c = c
        self.w_star = frozen(w_star)
        self.q = float(u @ w_star)
        if not np.isfinite(self.q):
            raise ValueError("u: u^T H^-1 u overflows float64 (rescale u or H)")
        if self.c < self.q - 1e-10 * max(abs(self.q), 1.0):
            raise ValueError(
                f"c must be >= u^T H^-1 u = {self.q:.6g} (E[y^2] >= explained part), got {self.c}"
            )
        self.J_star = max(0.5 * (self.c - self.q), 0.0)
        self._eig = (
            None
            if eigenvalues is None
            else frozen(np.sort(np.asarray(eigenvalues, float)), copy=False)
        )
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
            The inputs, one sample per row.
        y : (n,) array_like
            The targets.
        center : bool
            Subtract the column means of ``X`` and the mean of ``y`` first.
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

        Returns
        -------
        LeastSquares
            The problem; ``.X``, ``.y`` hold read-only copies of the (centred) samples.
        """
        sparse = hasattr(X, "tocsr") and hasattr(X, "nnz")
        if matrix_free is not None and not isinstance(matrix_free, bool):
            raise TypeError(f"matrix_free must be a bool or None, got {type(matrix_free).__name__}")
        if sparse:
            X = as_sparse_samples(X, "X")
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
        prob.X, prob.y = frozen(X), frozen(y)
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
        prob.X, prob.y = (X if sparse else frozen(X)), frozen(y)
        prob.x_mean = None if mean is None else frozen(mean, copy=False)
        return prob
