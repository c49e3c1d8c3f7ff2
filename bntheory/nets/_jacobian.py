"""Jacobian-vector, vector-Jacobian and Gauss-Newton products of :class:`bntheory.nets.MLP`.

A mixin of :class:`bntheory.nets.derivatives.MLPDerivatives`, built on its forward pass,
backward pass and the exact R-operator (Pearlmutter 1994, :mod:`bntheory.nets.rop`); the
Gauss-Newton product is the Fisher information of Karakida et al. (2019) for MSE with unit
noise. All quantities use batch statistics (train mode).
"""

from __future__ import annotations

import numpy as np

from bntheory.nets.checks import check_matrix
from bntheory.nets.rop import r_operator

__all__ = ["MLPJacobianProducts"]

Array = np.ndarray


class MLPJacobianProducts:
    """Jacobian products of the train-mode output map (mixin of ``MLPDerivatives``)."""

    def jvp(self, X: Array, v: Array) -> Array:
        """``J v``: directional derivative of the train-mode output along ``v``.

        Parameters
        ----------
        X : array_like (N, d_in)
        v : array_like (dim,)

        Returns
        -------
        ndarray (N, d_out)
        """
        X = self.check_batch(X, True)
        v = self.check_vector(v, "v")
        fw = self._forward(X, True)
        return r_operator(self, fw, None, None, v, backward=False).output

    def vjp(self, X: Array, U: Array) -> Array:
        """``J^T U`` for a cotangent ``U`` of the train-mode output.

        Parameters
        ----------
        X : array_like (N, d_in)
        U : array_like (N, d_out)

        Returns
        -------
        ndarray (dim,)
        """
        X = self.check_batch(X, True)
        U = check_matrix(U, "U", cols=self.sizes[-1], rows=X.shape[0])
        fw = self._forward(X, True)
        return self._backward(fw, U)[0]

    def gauss_newton_vp(self, X: Array, v: Array) -> Array:
        """``J^T J v / N``: Gauss-Newton (= Fisher information for MSE with unit noise)
        product of the train-mode output map (Karakida et al. 2019).

        Parameters
        ----------
        X : array_like (N, d_in)
        v : array_like (dim,)

        Returns
        -------
        ndarray (dim,)
        """
        X = self.check_batch(X, True)
        v = self.check_vector(v, "v")
        fw = self._forward(X, True)
        Ro = r_operator(self, fw, None, None, v, backward=False).output
        return self._backward(fw, Ro / X.shape[0])[0]
