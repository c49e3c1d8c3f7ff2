"""The input checks of :class:`bntheory.nets.MLP` (a mixin): inputs, targets and mini-batches
validated against the network's architecture, every bad argument a ``TypeError`` or
``ValueError`` naming the argument. The argument validators it builds on live in
:mod:`bntheory.nets.checks` (which re-exports :class:`InputChecks`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bntheory.nets.checks import check_matrix

__all__ = ["InputChecks"]

Array = np.ndarray


class InputChecks:
    """Input checks of :class:`~bntheory.nets.MLP` (a mixin: uses ``sizes``, ``loss_name``,
    ``bn_layers``, ``n_layers`` and ``dim`` of the network)."""

    sizes: tuple[int, ...]
    loss_name: str
    bn_layers: frozenset[int]
    n_layers: int
    dim: int

    def check_X(self, X: object) -> Array:
        """``X`` as a finite float64 input batch.

        Parameters
        ----------
        X : array_like (N, d_in)
            Inputs.

        Returns
        -------
        ndarray (N, d_in)
        """
        return check_matrix(X, "X", cols=self.sizes[0])

    def check_Y(self, Y: object, n: int) -> Array:
        """``Y`` as finite float64 targets for ``n`` samples (integer labels become one-hot
        rows for the cross-entropy loss).

        Parameters
        ----------
        Y : array_like (n, d_out) or (n,) of int
            Targets.
        n : int
            Number of samples.

        Returns
        -------
        ndarray (n, d_out)
        """
        d_out = self.sizes[-1]
        if self.loss_name == "cross_entropy":
            arr = np.asarray(Y)
            if arr.ndim == 1 and np.issubdtype(arr.dtype, np.integer):
                if arr.shape[0] != n:
                    raise ValueError(f"Y must have {n} labels, got shape {arr.shape}")
                if np.any(arr < 0) or np.any(arr >= d_out):
                    raise ValueError(f"Y labels must lie in [0, {d_out - 1}]")
                onehot = np.zeros((n, d_out))  # n x d_out, not an identity of d_out^2
                onehot[np.arange(n), arr] = 1.0
                return onehot
        return check_matrix(Y, "Y", cols=d_out, rows=n)

    def check_batch(self, X: object, training: bool) -> Array:
        """:meth:`check_X`, plus at least 2 samples for a train-mode BN network.

        Parameters
        ----------
        X : array_like (N, d_in)
            Inputs.
        training : bool
            Whether the batch goes through BN in train mode.

        Returns
        -------
        ndarray (N, d_in)
        """
        X = self.check_X(X)
        if training and self.bn_layers and X.shape[0] < 2:
            raise ValueError(
                f"X: a train-mode BN network needs a batch of at least 2 samples, got {X.shape[0]}"
            )
        return X

    def check_vector(self, v: object, name: str) -> Array:
        """``v`` as a finite float64 vector of the parameter dimension.

        Parameters
        ----------
        v : array_like (dim,)
            A parameter-space vector.
        name : str
            Argument name used in the error messages.

        Returns
        -------
        ndarray (dim,)
        """
        if v is None or isinstance(v, (str, bytes)):
            raise TypeError(f"{name} must be a numeric vector, got {type(v).__name__}")
        try:
            v = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a real numeric vector of shape ({self.dim},)") from exc
        if v.shape != (self.dim,):
            raise ValueError(f"{name} must have shape ({self.dim},), got {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} contains NaN or inf")
        return v

    def check_masks(self, masks: Sequence | None, n: int) -> list | None:
        """Validate dropout masks (:meth:`~bntheory.nets.MLP.dropout_masks`) for ``n`` samples.

        Parameters
        ----------
        masks : list or None
            One entry (array ``(n, sizes[k+1])`` or None) per dense layer; None = no dropout.
        n : int
            Batch size.

        Returns
        -------
        list or None
            The masks as float64 arrays.
        """
        if masks is None:
            return None
        if isinstance(masks, np.ndarray) or not isinstance(masks, Sequence):
            raise TypeError("masks must be a list with one entry (array or None) per dense layer")
        masks = list(masks)
        if len(masks) != self.n_layers:
            raise ValueError(f"masks must have {self.n_layers} entries, got {len(masks)}")
        out: list = []
        for k, m in enumerate(masks):
            if m is None:
                out.append(None)
                continue
            if k == self.n_layers - 1:
                raise ValueError("masks: the output layer takes no dropout mask (use None)")
            out.append(check_matrix(m, f"masks[{k}]", cols=self.sizes[k + 1], rows=n))
        return out
