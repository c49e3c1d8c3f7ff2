"""The empirical halfspace objective ``(1/n) sum_i phi(-y_i x_i^T w)`` (Kohler et al. 2019,
Sec. 4, with the population expectation replaced by the sample mean). Re-exported by
:mod:`bntheory.problems.halfspace`.
"""

from __future__ import annotations

import numpy as np

from bntheory._checks import as_matrix, as_vector

from .gaussian_expectations import _get_loss
from .ls_data import frozen

__all__ = ["EmpiricalHalfspace"]

Array = np.ndarray


class EmpiricalHalfspace:
    """Empirical halfspace objective ``(1/n) sum_i phi(-y_i x_i^T w)``.

    ``norm_matrix = X^T X / n``, ``u = -(1/n) X^T y`` (sample versions of ``S`` and ``E[z]``).
    """

    def __init__(self, X: object, y: object, *, loss: str = "logistic"):
        self.X = frozen(as_matrix(X, "X"))  # read-only private copies (issue 11)
        n, self.dim = self.X.shape
        self.y = frozen(as_vector(y, "y", n))
        if not np.all(np.isin(self.y, (-1.0, 1.0))):
            raise ValueError("y must contain only -1 and +1")
        self._phi, self.Phi = _get_loss(loss)
        self.Z = -self.y[:, None] * self.X
        with np.errstate(over="ignore", invalid="ignore"):
            self.u = self.Z.mean(axis=0)
            self.norm_matrix = self.X.T @ self.X / n
        if not (np.all(np.isfinite(self.u)) and np.all(np.isfinite(self.norm_matrix))):
            raise ValueError("X: values too large, the second moments X^T X / n overflow")
        for a in (self.Z, self.u, self.norm_matrix):
            a.setflags(write=False)
        self.model = "empirical"

    def loss(self, w: object) -> float:
        """Mean loss.

        Parameters
        ----------
        w : (d,) array_like
            The weight.

        Returns
        -------
        float
            The mean loss.
        """
        return float(np.mean(self._phi(self.Z @ as_vector(w, "w", self.dim), 0)))

    def grad(self, w: object) -> Array:
        """Mean gradient ``(1/n) sum phi'(z_i^T w) z_i``.

        Parameters
        ----------
        w : (d,) array_like
            The weight.

        Returns
        -------
        numpy.ndarray
            The mean gradient.
        """
        t = self.Z @ as_vector(w, "w", self.dim)
        return self.Z.T @ self._phi(t, 1) / len(t)

    def hvp(self, w: object, v: object) -> Array:
        """``(1/n) sum phi''(z_i^T w) z_i z_i^T v``.

        Parameters
        ----------
        w : (d,) array_like
            The weight.
        v : (d,) array_like
            The direction.

        Returns
        -------
        numpy.ndarray
            ``Hess f(w) v``.
        """
        t = self.Z @ as_vector(w, "w", self.dim)
        return self.Z.T @ (self._phi(t, 2) * (self.Z @ as_vector(v, "v", self.dim))) / len(t)

    def hessian(self, w: object) -> Array:
        """Dense Hessian.

        Parameters
        ----------
        w : (d,) array_like
            The weight.

        Returns
        -------
        numpy.ndarray
            The dense Hessian.
        """
        t = self.Z @ as_vector(w, "w", self.dim)
        return (self.Z.T * self._phi(t, 2)) @ self.Z / len(t)
