"""Structured, never-formed second-moment operators for large least-squares problems.

* :class:`HouseholderBasis`: ``Q = (I - 2 v_1 v_1^T) ... (I - 2 v_k v_k^T)``, an orthogonal
  matrix applied in ``O(k d)`` time and memory (Golub & Van Loan 2013, Sec. 5.1).
* :class:`SpectralOperator`: ``H = Q diag(lambda) Q^T`` with a known spectrum; ``H v``,
  ``H^{-1} v`` and the eigen-coordinates ``Q^T v`` in ``O(k d)``.
* :class:`SampleOperator`: ``H = X^T X / n`` (optionally ``- m m^T``, the centred
  covariance) applied as ``X^T (X v) / n - m (m^T v)``, ``X`` dense or scipy.sparse.

All are ``scipy.sparse.linalg.LinearOperator`` subclasses, so every measure accepts them.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

__all__ = ["HouseholderBasis", "SampleOperator", "SpectralOperator"]

Array = np.ndarray


class HouseholderBasis:
    """Orthogonal ``Q = H_1 H_2 ... H_k``, ``H_i = I - 2 v_i v_i^T`` (unit ``v_i``, rows of ``V``)."""

    def __init__(self, V: Array):
        V = np.atleast_2d(np.asarray(V, dtype=np.float64))
        norms = np.linalg.norm(V, axis=1)
        if not np.all(norms > 0):
            raise ValueError("V: every reflection vector must be non-zero")
        self.V = V / norms[:, None]
        self.V.setflags(write=False)  # read-only, like every problem array (issue 11)
        self.dim = int(V.shape[1])

    @classmethod
    def random(cls, dim: int, n_reflections: int, gen: np.random.Generator) -> HouseholderBasis:
        """``n_reflections`` reflections along Gaussian directions.

        Parameters
        ----------
        dim : int
            Dimension.
        n_reflections : int
            Number of reflections.
        gen : numpy.random.Generator
            Source of the directions.

        Returns
        -------
        HouseholderBasis
            The basis.
        """
        return cls(gen.standard_normal((n_reflections, dim)))

    def _reflect(self, X: Array, v: Array) -> Array:
        if X.ndim == 1:
            return X - (2.0 * float(v @ X)) * v
        return X - np.outer(2.0 * v, v @ X)

    def apply(self, X: Array) -> Array:
        """``Q X`` for ``X`` of shape ``(d,)`` or ``(d, m)``.

        Parameters
        ----------
        X : numpy.ndarray
            Shape ``(d,)`` or ``(d, m)``.

        Returns
        -------
        numpy.ndarray
            ``Q X``.
        """
        X = np.asarray(X, dtype=np.float64)
        for v in self.V[::-1]:
            X = self._reflect(X, v)
        return X

    def apply_t(self, X: Array) -> Array:
        """``Q^T X``.

        Parameters
        ----------
        X : numpy.ndarray
            Shape ``(d,)`` or ``(d, m)``.

        Returns
        -------
        numpy.ndarray
            ``Q^T X``.
        """
        X = np.asarray(X, dtype=np.float64)
        for v in self.V:
            X = self._reflect(X, v)
        return X

    @property
    def nbytes(self) -> int:
        return int(self.V.nbytes)


class SpectralOperator(LinearOperator):
    """``H = Q diag(lambda) Q^T`` (``Q`` a :class:`HouseholderBasis` or the identity when None)."""

    def __init__(self, eigenvalues: Array, basis: HouseholderBasis | None = None):
        lam = np.asarray(eigenvalues, dtype=np.float64)
        super().__init__(np.float64, (lam.shape[0], lam.shape[0]))
        self.eigenvalues = lam
        self.basis = basis

    def to_eigen(self, X: Array) -> Array:
        """Coordinates ``Q^T X`` in the eigenbasis.

        Parameters
        ----------
        X : numpy.ndarray
            Shape ``(d,)`` or ``(d, m)``.

        Returns
        -------
        numpy.ndarray
            ``Q^T X``.
        """
        return np.asarray(X, float) if self.basis is None else self.basis.apply_t(X)

    def from_eigen(self, X: Array) -> Array:
        """``Q X``.

        Parameters
        ----------
        X : numpy.ndarray
            Shape ``(d,)`` or ``(d, m)``.

        Returns
        -------
        numpy.ndarray
            ``Q X``.
        """
        return np.asarray(X, float) if self.basis is None else self.basis.apply(X)

    def _scale(self, X: Array, s: Array) -> Array:
        return s * X if X.ndim == 1 else s[:, None] * X

    def _matvec(self, x: Array) -> Array:
        x = np.ravel(x)
        return self.from_eigen(self.eigenvalues * self.to_eigen(x))

    def _matmat(self, X: Array) -> Array:
        return self.from_eigen(self._scale(self.to_eigen(X), self.eigenvalues))

    def _adjoint(self) -> SpectralOperator:
        return self

    def solve(self, b: Array) -> Array:
        """``H^{-1} b`` exactly (up to rounding).

        Parameters
        ----------
        b : numpy.ndarray
            Shape ``(d,)`` or ``(d, m)``.

        Returns
        -------
        numpy.ndarray
            ``H^{-1} b``.
        """
        b = np.asarray(b, float)
        return self.from_eigen(self._scale(self.to_eigen(b), 1.0 / self.eigenvalues))


class SampleOperator(LinearOperator):
    """``H = X^T X / n - m m^T`` applied as ``X^T (X v) / n - m (m^T v)`` (never formed).

    ``m`` is the vector of column means when ``center`` (the centred covariance), else 0.
    ``X`` may be a dense array or any scipy.sparse matrix (kept sparse).
    """

    def __init__(self, X: object, mean: Array | None = None):
        n, d = X.shape
        super().__init__(np.float64, (d, d))
        self.X = X
        self.n = int(n)
        self.mean = mean

    def _matvec(self, v: Array) -> Array:
        v = np.ravel(v)
        out = np.asarray(self.X.T @ np.asarray(self.X @ v).ravel()).ravel() / self.n
        if self.mean is not None:
            out -= self.mean * float(self.mean @ v)
        return out

    def _matmat(self, V: Array) -> Array:
        out = np.asarray(self.X.T @ np.asarray(self.X @ V)) / self.n
        if self.mean is not None:
            out -= np.outer(self.mean, self.mean @ V)
        return out

    def _adjoint(self) -> SampleOperator:
        return self
