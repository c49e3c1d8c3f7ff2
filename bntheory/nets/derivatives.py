"""Backward pass, R-operator and the products built on them, for :class:`bntheory.nets.MLP`.

:class:`MLPDerivatives` is the half of :class:`~bntheory.nets.MLP` that differentiates: the
public trace API (:meth:`~MLPDerivatives.backward` and :meth:`~MLPDerivatives.rop` on a
:class:`~bntheory.nets.records.ForwardTrace` from :meth:`MLP.forward_trace`), and the
evaluations at the current parameters: loss, gradient, exact Hessian-vector products
(Pearlmutter 1994, :mod:`bntheory.nets.rop`), Jacobian-vector products, Gauss-Newton products
(Karakida et al. 2019) and second derivatives with respect to activations (Santurkar et al.
2018, Theorem 4.2). All train-mode quantities use batch statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from bntheory.bn import batch_norm_backward
from bntheory.nets._jacobian import MLPJacobianProducts
from bntheory.nets.activations import loss_and_output_grad
from bntheory.nets.checks import check_int
from bntheory.nets.records import ForwardTrace, NetTrace, Tangents
from bntheory.nets.rop import r_operator

if TYPE_CHECKING:
    from bntheory.nets.objective import NetObjective

__all__ = ["MLPDerivatives"]

Array = np.ndarray


class MLPDerivatives(MLPJacobianProducts):
    """Derivatives of :class:`~bntheory.nets.MLP` (a mixin: it uses the network's layout,
    parameters, forward pass and input checks)."""

    # ----------------------------------------------------------------- trace API
    def output_loss_and_grad(self, out: Array, Y: Array) -> tuple[float, Array]:
        """The network's loss of the outputs ``out`` and its gradient with respect to them.

        Parameters
        ----------
        out : ndarray (N, d_out)
            Outputs (e.g. ``forward_trace(X).out``).
        Y : ndarray (N, d_out)
            Targets as returned by :meth:`check_Y`.

        Returns
        -------
        tuple of (float, ndarray)
            Loss and ``dL/d out``.
        """
        return loss_and_output_grad(self.loss_name, out, Y)

    def backward(self, trace: ForwardTrace, g_out: Array) -> Array:
        """Reverse pass through a train-mode forward trace: ``J^T g_out``.

        Parameters
        ----------
        trace : ForwardTrace
            From :meth:`forward_trace` at the current parameters (train mode).
        g_out : ndarray (N, d_out)
            Cotangent of the output (``dL/d out`` gives the loss gradient).

        Returns
        -------
        ndarray (dim,)
            Flat gradient.
        """
        return self._backward(trace, g_out)[0]

    def _backward(self, fw: ForwardTrace, g_out: Array, record: bool = False) -> tuple:
        """:meth:`backward` returning ``(grad, g_a list, g_z list, g_h list)`` (the lists are
        filled when ``record``)."""
        grad = np.zeros(self.dim)
        gviews = self.unflatten(grad)
        L = self.n_layers
        g_a_l, g_z_l, g_h_l = [None] * L, [None] * L, [None] * L
        g_h = g_out
        for k in range(L - 1, -1, -1):
            g_z = g_h * fw.d1[k] if k < L - 1 else g_h
            if k in self.bn_layers:
                g_a, dgamma, dbeta = batch_norm_backward(g_z, fw.cache[k])
                if self.train_affine:
                    gviews[k]["gamma"][...] = dgamma
                    gviews[k]["beta"][...] = dbeta
            else:
                g_a = g_z
                if self.has_bias[k]:
                    gviews[k]["b"][...] = g_a.sum(axis=0)
            gviews[k]["W"][...] = fw.inputs[k].T @ g_a
            if record:
                g_a_l[k], g_z_l[k], g_h_l[k] = g_a, g_z, g_h
            if k > 0:
                g_prev = g_a @ self._views[k]["W"].T
                if self.skip[k]:
                    g_prev = g_prev + g_h
                g_h = g_prev
        return grad, g_a_l, g_z_l, g_h_l

    def rop(
        self,
        trace: ForwardTrace,
        v: Array | None,
        *,
        Y: Array | None = None,
        g_out: Array | None = None,
        inject: tuple[int, str, Array] | None = None,
        backward: bool = True,
    ) -> Tangents:
        """Pearlmutter's R-operator along ``v`` on a train-mode forward trace
        (:func:`bntheory.nets.rop.r_operator`).

        Parameters
        ----------
        trace : ForwardTrace
            From :meth:`forward_trace` at the current parameters (train mode).
        v : ndarray (dim,) or None
            Parameter direction (None: only the ``inject``-ed activation tangent).
        Y, g_out : ndarray, optional
            Targets and ``dL/d out``; required when ``backward``.
        inject : (layer, "a" or "z", T), optional
            Extra tangent ``T`` of the pre-BN (``"a"``) or post-BN (``"z"``) pre-activation.
        backward : bool
            False: forward tangent only (``J v`` in ``.output``).

        Returns
        -------
        Tangents
        """
        if backward and (Y is None or g_out is None):
            raise ValueError("Y and g_out are required for the reverse pass (backward=True)")
        return r_operator(self, trace, Y, g_out, v, inject, backward=backward)

    # ----------------------------------------------------------------- evaluations
    def forward(
        self,
        X: Array,
        training: bool = True,
        *,
        update_stats: bool = False,
        masks: Sequence | None = None,
    ) -> Array:
        """Network output; train mode uses batch statistics (and updates the running
        statistics when ``update_stats``; applies the dropout ``masks`` if given), eval
        mode the folded running statistics and no dropout.

        Parameters
        ----------
        X : array_like (N, d_in)
        training : bool
        update_stats : bool
        masks : list, optional

        Returns
        -------
        ndarray (N, d_out)
        """
        return self.forward_trace(X, training, update_stats=update_stats, masks=masks).out

    def predict(self, X: Array) -> Array:
        """Eval-mode output (Ioffe & Szegedy 2015, Alg. 2: inference network).

        Parameters
        ----------
        X : array_like (N, d_in)

        Returns
        -------
        ndarray (N, d_out)
        """
        return self.forward(X, training=False)

    def loss(
        self, X: Array, Y: Array, training: bool = True, *, masks: Sequence | None = None
    ) -> float:
        """Loss of the batch ``(X, Y)`` at the current parameters (train mode: with the
        dropout ``masks`` if given).

        Parameters
        ----------
        X, Y : array_like
            Inputs and targets.
        training : bool
            Train mode (batch statistics) or eval mode (running statistics).
        masks : list, optional

        Returns
        -------
        float
        """
        X = self.check_batch(X, training)
        Y = self.check_Y(Y, X.shape[0])
        masks = self.check_masks(masks, X.shape[0]) if training else None
        fw = self._forward(X, training, masks=masks)
        with np.errstate(over="ignore", invalid="ignore"):
            L = self.output_loss_and_grad(fw.out, Y)[0]
        return self._finite_loss(L)

    @staticmethod
    def _finite_loss(L: float, grad: Array | None = None) -> float:
        if not np.isfinite(L) or (grad is not None and not np.all(np.isfinite(grad))):
            raise ValueError("X, Y: the loss or its gradient overflows float64 (values too large)")
        return L

    def loss_and_grad(
        self,
        X: Array,
        Y: Array,
        *,
        update_stats: bool = False,
        masks: Sequence | None = None,
    ) -> tuple[float, Array]:
        """Train-mode loss and flat gradient at the current parameters.

        Parameters
        ----------
        X, Y : array_like
            The batch.
        update_stats : bool
            Update the running BN statistics with this batch.
        masks : list, optional
            Dropout masks from :meth:`dropout_masks`.

        Returns
        -------
        tuple of (float, ndarray (dim,))
        """
        X = self.check_batch(X, True)
        Y = self.check_Y(Y, X.shape[0])
        masks = self.check_masks(masks, X.shape[0])
        fw = self._forward(X, True, update_stats, masks)
        with np.errstate(over="ignore", invalid="ignore"):
            L, g_out = self.output_loss_and_grad(fw.out, Y)
            try:
                grad = self._backward(fw, g_out)[0]
            except ValueError:  # BN backward refuses a non-finite upstream gradient
                grad = np.full(self.dim, np.nan)
        return self._finite_loss(L, grad), grad

    def hvp(self, X: Array, Y: Array, v: Array, *, masks: Sequence | None = None) -> Array:
        """Exact Hessian-vector product of the train-mode loss at the current parameters
        (with fixed dropout ``masks`` if given).

        Parameters
        ----------
        X, Y : array_like
            The batch.
        v : array_like (dim,)
            Direction.
        masks : list, optional

        Returns
        -------
        ndarray (dim,)
        """
        X = self.check_batch(X, True)
        Y = self.check_Y(Y, X.shape[0])
        v = self.check_vector(v, "v")
        masks = self.check_masks(masks, X.shape[0])
        fw = self._forward(X, True, masks=masks)
        _, g_out = self.output_loss_and_grad(fw.out, Y)
        return r_operator(self, fw, Y, g_out, v).grad

    def loss_and_grad_flat(self, theta: Array, X: Array, Y: Array) -> tuple[float, Array]:
        """Train-mode loss and gradient at ``theta`` (the network is left at ``theta``).

        Parameters
        ----------
        theta : array_like (dim,)
        X, Y : array_like

        Returns
        -------
        tuple of (float, ndarray (dim,))
        """
        self.set_flat(theta)
        return self.loss_and_grad(X, Y)

    def hvp_flat(self, theta: Array, X: Array, Y: Array, v: Array) -> Array:
        """Exact Hessian-vector product at ``theta`` (the network is left at ``theta``).

        Parameters
        ----------
        theta, v : array_like (dim,)
        X, Y : array_like

        Returns
        -------
        ndarray (dim,)
        """
        self.set_flat(theta)
        return self.hvp(X, Y, v)

    def trace(self, X: Array, Y: Array) -> NetTrace:
        """One train-mode forward + backward pass with every intermediate quantity.

        Parameters
        ----------
        X, Y : array_like
            The batch.

        Returns
        -------
        NetTrace
        """
        X = self.check_batch(X, True)
        Y = self.check_Y(Y, X.shape[0])
        fw = self._forward(X, True)
        L, g_out = self.output_loss_and_grad(fw.out, Y)
        grad, g_a, g_z, g_h = self._backward(fw, g_out, record=True)
        nl = self.n_layers
        xh = [fw.cache[k].x_hat if fw.cache[k] is not None else None for k in range(nl)]
        inv = [fw.cache[k].inv_std if fw.cache[k] is not None else None for k in range(nl)]
        var = [fw.cache[k].var if fw.cache[k] is not None else None for k in range(nl)]
        gam = [self.batchnorms[k].gamma.copy() if k in self.bn_layers else None for k in range(nl)]
        return NetTrace(
            L, grad, fw.inputs, fw.a, fw.z, fw.h, xh, inv, var, gam, g_a, g_z, g_h, fw.out
        )

    def activation_hessian_quadratic(
        self, X: Array, Y: Array, layer: int, where: str, T: Array
    ) -> float:
        """``<T, (d^2 L / d u^2) T>`` for ``u = a_layer`` (``where="a"``, before BN) or
        ``u = z_layer`` (``where="z"``, after BN), everything else fixed; exact (R-operator).
        Used for Santurkar et al. (2018), Theorem 4.2.

        Parameters
        ----------
        X, Y : array_like
            The batch.
        layer : int
            Dense layer.
        where : {"a", "z"}
        T : array_like
            Direction, of the shape of ``a_layer``.

        Returns
        -------
        float
        """
        X = self.check_batch(X, True)
        Y = self.check_Y(Y, X.shape[0])
        layer = check_int(layer, "layer", 0)
        if layer >= self.n_layers:
            raise ValueError(f"layer must be < {self.n_layers}, got {layer}")
        if where not in ("a", "z"):
            raise ValueError(f"where must be 'a' or 'z', got {where!r}")
        fw = self._forward(X, True)
        T = np.asarray(T, dtype=np.float64)
        if T.shape != fw.a[layer].shape:
            raise ValueError(f"T must have shape {fw.a[layer].shape}, got {T.shape}")
        _, g_out = self.output_loss_and_grad(fw.out, Y)
        _, _, Rg_a, Rg_z = r_operator(self, fw, Y, g_out, None, inject=(layer, where, T))
        R = Rg_a[layer] if where == "a" else Rg_z[layer]
        return float(np.sum(T * R))

    def objective(self, X: Array, Y: Array) -> NetObjective:
        """Problem-like adapter (``dim``, ``loss``, ``grad``, ``hvp``) for a fixed batch.

        Parameters
        ----------
        X, Y : array_like
            The batch.

        Returns
        -------
        NetObjective
        """
        from bntheory.nets.objective import NetObjective

        return NetObjective(self, X, Y)
