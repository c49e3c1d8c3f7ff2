"""The train-mode loss of an :class:`~bntheory.nets.MLP` on a fixed batch, as a problem of
the flat parameters (the interface of :mod:`bntheory.problems`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bntheory.nets.mlp import MLP

__all__ = ["NetObjective"]

Array = np.ndarray


class NetObjective:
    """The train-mode loss of ``net`` on a fixed batch as a problem of the flat parameters.

    Has the interface of :mod:`bntheory.problems` (``dim``, ``loss(x)``, ``grad(x)``,
    ``hvp(x, v)``, ``hessian(x)`` for small nets), so the measures (Lanczos, SLQ, Hutchinson,
    Lipschitz estimates) apply unchanged. Every call sets the network's parameters to ``x``.

    Parameters
    ----------
    net : MLP
    X, Y : array_like
        The batch.
    """

    def __init__(self, net: MLP, X: Array, Y: Array) -> None:
        from bntheory.nets.mlp import MLP

        if not isinstance(net, MLP):
            raise TypeError(f"net must be an MLP, got {type(net).__name__}")
        self.net = net
        self.X = net.check_batch(X, True)
        self.Y = net.check_Y(Y, self.X.shape[0])
        self.dim = net.dim

    def loss(self, x: Array) -> float:
        """Loss at ``x``.

        Parameters
        ----------
        x : array_like (dim,)

        Returns
        -------
        float
        """
        self.net.set_flat(self.net.check_vector(x, "x"))
        return self.net.loss(self.X, self.Y)

    def grad(self, x: Array) -> Array:
        """Gradient at ``x``.

        Parameters
        ----------
        x : array_like (dim,)

        Returns
        -------
        ndarray (dim,)
        """
        return self.net.loss_and_grad_flat(self.net.check_vector(x, "x"), self.X, self.Y)[1]

    def loss_and_grad(self, x: Array) -> tuple[float, Array]:
        """Loss and gradient at ``x``.

        Parameters
        ----------
        x : array_like (dim,)

        Returns
        -------
        tuple of (float, ndarray (dim,))
        """
        return self.net.loss_and_grad_flat(self.net.check_vector(x, "x"), self.X, self.Y)

    def hvp(self, x: Array, v: Array) -> Array:
        """Exact Hessian-vector product at ``x``.

        Parameters
        ----------
        x, v : array_like (dim,)

        Returns
        -------
        ndarray (dim,)
        """
        x, v = self.net.check_vector(x, "x"), self.net.check_vector(v, "v")
        return self.net.hvp_flat(x, self.X, self.Y, v)

    def hessian(self, x: Array) -> Array:
        """Dense Hessian from ``dim`` exact HVPs (symmetrized); small networks only.

        Parameters
        ----------
        x : array_like (dim,)

        Returns
        -------
        ndarray (dim, dim)
        """
        if self.dim > 4000:
            raise ValueError(f"hessian: dim = {self.dim} is too large for a dense Hessian")
        x = self.net.check_vector(x, "x")
        H = np.column_stack([self.hvp(x, e) for e in np.eye(self.dim)])
        return 0.5 * (H + H.T)
