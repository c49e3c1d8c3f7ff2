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


def _as_block(X: object, dim: int, name: str) -> Array:
    """``X`` as a finite float64 array of shape ``(dim,)`` or ``(dim, m)``."""
    if isinstance(X, np.ndarray) and X.dtype == np.float64:
        arr = X
    else:
        if X is None or isinstance(X, (str, bytes)):
            raise TypeError(f"{name} must be a real array, got {type(X).__name__}")
        try:
            raw = np.asarray(X)
            if np.iscomplexobj(raw):
                raise TypeError(f"{name} must be real, got complex values")
            arr = raw.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a rectangular real array") from exc
    if arr.ndim not in (1, 2) or arr.shape[0] != dim:
        raise ValueError(f"{name} must have shape ({dim},) or ({dim}, m), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _finite_result(out: Array, name: str) -> Array:
    if not np.isfinite(out).all():
        raise ValueError(f"{name}: the result overflows float64 (rescale {name})")
    return out


class HouseholderBasis:
    """Orthogonal ``Q = H_1 H_2 ... H_k``, ``H_i = I - 2 v_i v_i^T`` (unit ``v_i``, rows of ``V``)."""

    #: largest ``n_reflections * dim`` of :meth:`random` (8 bytes each)
    max_entries: int = 10**9

    def __init__(self, V: Array):
        if V is None or isinstance(V, (str, bytes)):
            raise TypeError(f"V must be a real array, got {type(V).__name__}")
        try:
            raw = np.asarray(V)
            if np.iscomplexobj(raw):
                raise TypeError("V must be real, got complex values")
            V = np.atleast_2d(raw.astype(np.float64))
        except (TypeError, ValueError) as exc:
            raise TypeError("V must be a rectangular real array") from exc
        if V.ndim != 2 or V.shape[1] < 1:
            raise ValueError(f"V must be a (k, dim) array of reflection vectors, got {V.shape}")
        if not np.isfinite(V).all():
            raise ValueError("V contains NaN or inf")
        with np.errstate(over="ignore", under="ignore"):  # norms of huge rows: rescaled
            amax = np.max(np.abs(V), axis=1, keepdims=True) if V.size else V
            V = V / np.where(amax > 0, amax, 1.0) if V.size and np.max(amax) > 1e150 else V
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
        from bntheory._checks import as_int

        dim = as_int(dim, "dim", minimum=1)
        n_reflections = as_int(n_reflections, "n_reflections", minimum=0)
        if dim * n_reflections > cls.max_entries:
            raise ValueError(
                f"dim * n_reflections = {dim * n_reflections} exceeds "
                f"HouseholderBasis.max_entries = {cls.max_entries} (8 bytes each)"
            )
        if not isinstance(gen, np.random.Generator):
            raise TypeError(f"gen must be a numpy Generator, got {type(gen).__name__}")
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
        X = _as_block(X, self.dim, "X")
        with np.errstate(over="ignore", invalid="ignore"):
            X = self._apply(X)
        return _finite_result(X, "X")

    def _apply(self, X: Array) -> Array:  # unchecked (the operators' inner loop)
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
        X = _as_block(X, self.dim, "X")
        with np.errstate(over="ignore", invalid="ignore"):
            X = self._apply_t(X)
        return _finite_result(X, "X")

    def _apply_t(self, X: Array) -> Array:  # unchecked (the operators' inner loop)
        for v in self.V:
            X = self._reflect(X, v)
        return X

    @property
    def nbytes(self) -> int:
        return int(self.V.nbytes)


class SpectralOperator(LinearOperator):
    """``H = Q diag(lambda) Q^T`` (``Q`` a :class:`HouseholderBasis` or the identity when None)."""

    def __init__(self, eigenvalues: Array, basis: HouseholderBasis | None = None):
        if eigenvalues is None or isinstance(eigenvalues, (str, bytes)):
            raise TypeError(f"eigenvalues must be a real vector, got {type(eigenvalues).__name__}")
        try:
            lam = np.asarray(eigenvalues, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError("eigenvalues must be a real vector") from exc
        if lam.ndim != 1 or lam.size < 1 or not np.isfinite(lam).all():
            raise ValueError(f"eigenvalues must be a non-empty finite vector, got {lam.shape}")
        if basis is not None and (
            not isinstance(basis, HouseholderBasis) or basis.dim != lam.shape[0]
        ):
            raise ValueError(
                f"basis must be a HouseholderBasis of dimension {lam.shape[0]} or None, "
                f"got {basis!r}"
            )
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
        X = _as_block(X, self.shape[0], "X")
        return X if self.basis is None else self.basis.apply_t(X)

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
        X = _as_block(X, self.shape[0], "X")
        return X if self.basis is None else self.basis.apply(X)

    def _scale(self, X: Array, s: Array) -> Array:
        return s * X if X.ndim == 1 else s[:, None] * X

    def _to(self, X: Array) -> Array:  # unchecked to_eigen (NaN propagates, as before)
        return np.asarray(X, float) if self.basis is None else self.basis._apply_t(X)

    def _from(self, X: Array) -> Array:  # unchecked from_eigen
        return np.asarray(X, float) if self.basis is None else self.basis._apply(X)

    def _matvec(self, x: Array) -> Array:
        x = np.ravel(x)
        return self._from(self.eigenvalues * self._to(x))

    def _matmat(self, X: Array) -> Array:
        return self._from(self._scale(self._to(X), self.eigenvalues))

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
        b = _as_block(b, self.shape[0], "b")
        if not np.all(self.eigenvalues != 0):
            raise ValueError("eigenvalues: H is singular (a zero eigenvalue), no H^{-1} b")
        with np.errstate(over="ignore", invalid="ignore"):
            y = self._from(self._scale(self._to(b), 1.0 / self.eigenvalues))
        return _finite_result(y, "b")


class SampleOperator(LinearOperator):
    """``H = X^T X / n - m m^T`` applied as ``X^T (X v) / n - m (m^T v)`` (never formed).

    ``m`` is the vector of column means when ``center`` (the centred covariance), else 0.
    ``X`` may be a dense array or any scipy.sparse matrix (kept sparse).
    """

    def __init__(self, X: object, mean: Array | None = None):
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) != 2 or isinstance(X, (str, bytes)):
            raise TypeError(f"X must be a 2-D array or scipy.sparse matrix, got {type(X).__name__}")
        n, d = X.shape
        if n < 1 or d < 1:
            raise ValueError(f"X must have at least one row and one column, got shape {shape}")
        if mean is not None:
            mean = np.asarray(mean, dtype=np.float64)
            if mean.shape != (d,) or not np.isfinite(mean).all():
                raise ValueError(f"mean must be a finite vector of shape ({d},), got {mean.shape}")
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
