"""A NumPy multilayer perceptron with train-mode batch normalization, exact gradients and
exact Hessian-vector products.

Architecture (Ioffe & Szegedy 2015, Sec. 3.2: BN on ``x = W u`` *before* the nonlinearity,
bias dropped because ``beta`` subsumes it)::

    h_0 = X
    a_k = h_{k-1} W_k (+ b_k)          dense layer k = 1..L+1 (L hidden layers + output layer)
    z_k = BN_{gamma_k, beta_k}(a_k)    if layer k has BN, else z_k = a_k
    h_k = phi(z_k) m_k (+ h_{k-1})     phi = activation for hidden layers (identity for the
                                       output layer); "+ h_{k-1}" only with ``residual=True``
                                       and equal widths; m_k an optional inverted-dropout mask

Dropout (Srivastava et al. 2014, Sec. 4 and 10, "inverted" form): with ``dropout=p > 0`` a
training step multiplies each hidden output ``phi(z_k)`` by a mask ``m_k`` whose entries are
``0`` with probability ``p`` and ``1/(1-p)`` otherwise (so ``E[m_k] = 1`` and the eval-mode
network is the same network without masks). Masks are explicit arguments
(:meth:`MLP.dropout_masks` draws them; :func:`bntheory.nets.train.train` draws one per step):
every evaluation without masks is deterministic and dropout-free, and with fixed masks the
loss is a deterministic function of the parameters, whose gradient and HVP are exact (the
mask multiplies ``phi'`` and ``phi''`` in the backward and R-operator passes).

Layers are indexed from 0 in the code (``layer 0`` is the first dense layer, ``layer L`` the
output layer). Activations and losses: :mod:`bntheory.nets.activations`. The BN forward and
backward are :func:`bntheory.bn.batch_norm_forward` / :func:`bntheory.bn.batch_norm_backward`;
the running statistics and the eval-mode folded map are those of :class:`bntheory.bn.BatchNorm`
(one object per BN layer, whose ``gamma`` / ``beta`` are views into the flat parameter vector).

This module holds the network (layout, parameters, forward pass); the backward pass, the exact
R-operator (Pearlmutter 1994) and the products built on them are in
:mod:`bntheory.nets.derivatives` and :mod:`bntheory.nets.rop`, the input checks in
:mod:`bntheory.nets.checks`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from bntheory._checks import as_generator
from bntheory.bn import BatchNorm, batch_norm_forward
from bntheory.nets._dropout import DropoutMasks
from bntheory.nets.activations import ACTIVATIONS, LOSSES
from bntheory.nets.activations import activation as _activation
from bntheory.nets.checks import check_architecture, check_int, parse_bn
from bntheory.nets.derivatives import MLPDerivatives
from bntheory.nets.input_checks import InputChecks
from bntheory.nets.objective import NetObjective
from bntheory.nets.records import ForwardTrace, NetTrace, ParamSpec

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "ForwardTrace",
    "NetObjective",
    "NetTrace",
    "ParamSpec",
]

Array = np.ndarray
#: Largest parameter vector an MLP may allocate (bytes of float64); raise it to go bigger.
MAX_PARAMETER_BYTES = 4 * 2**30


class MLP(MLPDerivatives, InputChecks, DropoutMasks):
    """Fully connected network with optional train-mode BN before each nonlinearity.

    Parameters
    ----------
    sizes : sequence of int
        ``(d_in, h_1, ..., h_L, d_out)``; ``L >= 0`` hidden layers.
    activation : {"linear", "relu", "tanh", "sigmoid"}
        Nonlinearity of the hidden layers (the output layer is linear).
    bn : bool, "all", "none", "last", "output" or iterable of int
        Which dense layers get BN on their pre-activation. ``True`` / ``"all"``: every
        hidden layer (Ioffe & Szegedy 2015, Sec. 4.1); ``"last"``: only the last hidden
        layer; ``"output"``: only the output layer (Karakida et al. 2019, "BN in the last
        layer"); an iterable: those 0-based layer indices (the output layer is
        ``len(sizes) - 2``).
    eps : float
        BN epsilon (``eps = 0`` allowed, as in Yang et al. 2019).
    momentum : float
        Weight of the new batch in the running statistics (PyTorch convention, see
        :class:`bntheory.bn.BatchNorm`).
    train_affine : bool
        Whether ``gamma`` and ``beta`` are trainable (part of the flat vector). When False
        they stay fixed at ``gamma_init`` and ``0``.
    gamma_init : float
        Initial (or fixed) value of ``gamma``.
    bias : bool
        Bias on layers *without* BN (layers with BN never have one: ``beta`` subsumes it,
        Ioffe & Szegedy Sec. 3.2, and its absence makes ``W_k`` scale-invariant, Arora et al.).
    residual : bool
        Add identity skip connections ``h_k = h_{k-1} + phi(z_k)`` on hidden layers whose
        input and output widths are equal.
    loss : {"mse", "cross_entropy", "linear"}
    sigma_w2 : float, optional
        Weights ``W_k ~ N(0, sigma_w2 / fan_in)``; default 2 for ReLU (He), 1 otherwise.
    rng : int, Generator or None
        Seed of the initialization.
    dropout : float
        Dropout rate ``p`` in ``[0, 1)`` of the hidden outputs (inverted dropout, Srivastava
        et al. 2014; applied after the nonlinearity, i.e. after BN where a layer has it). It
        acts only where masks are passed (training); 0 = no dropout.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        *,
        bn: bool | str | Iterable[int] = True,
        eps: float = 1e-5,
        momentum: float = 0.1,
        train_affine: bool = True,
        gamma_init: float = 1.0,
        bias: bool = True,
        residual: bool = False,
        loss: str = "mse",
        sigma_w2: float | None = None,
        rng: int | np.random.Generator | None = None,
        dropout: float = 0.0,
    ) -> None:
        self.sizes = check_architecture(sizes, activation, loss, eps, sigma_w2, dropout)
        self.dropout = float(dropout)
        self.activation = activation
        self.loss_name = loss
        self.eps = float(eps)
        self.train_affine = bool(train_affine)
        self.residual = bool(residual)
        self.n_layers = len(self.sizes) - 1
        L = self.n_layers
        self.bn_layers = parse_bn(bn, L)
        self.has_bias = tuple(bool(bias) and k not in self.bn_layers for k in range(L))
        self.skip = tuple(
            self.residual and k < L - 1 and self.sizes[k] == self.sizes[k + 1] and k > 0
            for k in range(L)
        )
        # parameter layout: per layer W, b, gamma, beta contiguous
        specs: list[ParamSpec] = []
        off = 0
        self.layer_slices: list[slice] = []
        for k in range(L):
            start = off
            shapes = [("W", (self.sizes[k], self.sizes[k + 1]))]
            if self.has_bias[k]:
                shapes.append(("b", (self.sizes[k + 1],)))
            if k in self.bn_layers and self.train_affine:
                shapes += [("gamma", (self.sizes[k + 1],)), ("beta", (self.sizes[k + 1],))]
            for kind, shp in shapes:
                n = int(np.prod(shp))
                specs.append(ParamSpec(f"{kind}{k}", k, kind, shp, slice(off, off + n)))
                off += n
            self.layer_slices.append(slice(start, off))
        self.specs = tuple(specs)
        self.dim = off
        if 8 * off > MAX_PARAMETER_BYTES:
            raise ValueError(
                f"sizes: {sizes!r} gives {off:.3g} parameters ({8 * off / 2**30:.3g} GiB of "
                f"float64), above the limit of {MAX_PARAMETER_BYTES / 2**30:.0f} GiB "
                "(bntheory.nets.mlp.MAX_PARAMETER_BYTES)"
            )
        self._theta = np.zeros(off)
        self._views: list[dict[str, Array]] = [{} for _ in range(L)]
        for s in specs:
            self._views[s.layer][s.kind] = self._theta[s.slice].reshape(s.shape)
        self.batchnorms: dict[int, BatchNorm] = {}
        for k in sorted(self.bn_layers):
            bno = BatchNorm(self.sizes[k + 1], eps=self.eps, momentum=momentum)
            if self.train_affine:
                bno.gamma, bno.beta = self._views[k]["gamma"], self._views[k]["beta"]
            else:
                bno.gamma = np.full(self.sizes[k + 1], float(gamma_init))
                bno.beta = np.zeros(self.sizes[k + 1])
            self.batchnorms[k] = bno
        if sigma_w2 is None:
            sigma_w2 = 2.0 if activation == "relu" else 1.0
        self.sigma_w2 = float(sigma_w2)
        self.gamma_init = float(gamma_init)
        self.reset(rng)

    def reset(self, rng: int | np.random.Generator | None = None) -> None:
        """Re-initialize: ``W ~ N(0, sigma_w2/fan_in)``, biases and ``beta`` 0, ``gamma`` =
        ``gamma_init``; running statistics 0 / 1.

        Parameters
        ----------
        rng : int, Generator or None
            Seed of the weights.

        Returns
        -------
        None
        """
        gen = as_generator(rng)
        for k in range(self.n_layers):
            v = self._views[k]
            v["W"][...] = gen.standard_normal(v["W"].shape) * np.sqrt(self.sigma_w2 / self.sizes[k])
            if "b" in v:
                v["b"][...] = 0.0
            if "gamma" in v:
                v["gamma"][...] = self.gamma_init
                v["beta"][...] = 0.0
        for bno in self.batchnorms.values():
            bno.running_mean = np.zeros(bno.num_features)
            bno.running_var = np.ones(bno.num_features)
            bno.num_batches_tracked = 0

    def __repr__(self) -> str:
        return (
            f"MLP(sizes={self.sizes}, activation={self.activation!r}, bn={sorted(self.bn_layers)}, "
            f"residual={self.residual}, loss={self.loss_name!r}, dim={self.dim}"
            + (f", dropout={self.dropout:g})" if self.dropout else ")")
        )

    # ----------------------------------------------------------------- flat parameters
    def get_flat(self) -> Array:
        """Copy of the flat parameter vector.

        Returns
        -------
        ndarray (dim,)
        """
        return self._theta.copy()

    def set_flat(self, theta: Array) -> None:
        """Overwrite the parameters with ``theta``.

        Parameters
        ----------
        theta : array_like (dim,)
            Finite flat parameters (:attr:`specs` layout).

        Returns
        -------
        None
        """
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.dim,):
            raise ValueError(f"theta must have shape ({self.dim},), got {theta.shape}")
        if not np.all(np.isfinite(theta)):
            raise ValueError("theta contains NaN or inf")
        self._theta[...] = theta

    def params(self, layer: int) -> dict[str, Array]:
        """Views of the parameters of ``layer`` (writing into them changes the network).

        Parameters
        ----------
        layer : int
            Dense layer index (0-based).

        Returns
        -------
        dict of str to ndarray
            ``"W"`` and, where present, ``"b"``, ``"gamma"``, ``"beta"``.
        """
        return self._views[check_int(layer, "layer", 0)]

    def unflatten(self, vec: Array) -> list[dict[str, Array]]:
        """Per-layer views of a flat vector laid out like the parameters (:attr:`specs`).

        Parameters
        ----------
        vec : ndarray (dim,)
            A flat vector (a gradient, a direction); writing into the views writes into it.

        Returns
        -------
        list of dict of str to ndarray
            One dict per dense layer with the keys of :meth:`params`.
        """
        views: list[dict[str, Array]] = [{} for _ in range(self.n_layers)]
        for s in self.specs:
            views[s.layer][s.kind] = vec[s.slice].reshape(s.shape)
        return views

    def gamma(self, layer: int) -> Array:
        """Current ``gamma`` of a BN layer (trainable or fixed).

        Parameters
        ----------
        layer : int
            A BN layer.

        Returns
        -------
        ndarray
        """
        layer = check_int(layer, "layer", 0)  # a list or an array: a named error, not "unhashable"
        if layer not in self.bn_layers:
            raise ValueError(f"layer {layer} has no BN")
        return self.batchnorms[layer].gamma

    # ----------------------------------------------------------------- forward pass
    def forward_trace(
        self,
        X: Array,
        training: bool = True,
        *,
        update_stats: bool = False,
        masks: Sequence | None = None,
    ) -> ForwardTrace:
        """One forward pass keeping every intermediate quantity (the input of
        :meth:`backward` and :meth:`rop`).

        Parameters
        ----------
        X : array_like (N, d_in)
            Inputs (train mode with BN: ``N >= 2``).
        training : bool
            Batch statistics (train mode) or the folded running statistics (eval mode).
        update_stats : bool
            Train mode: also update the BN running statistics with this batch.
        masks : list, optional
            Dropout masks (:meth:`dropout_masks`), train mode only.

        Returns
        -------
        ForwardTrace
        """
        X = self.check_batch(X, training)
        masks = self.check_masks(masks, X.shape[0]) if training else None
        return self._forward(X, training, update_stats, masks)

    def _forward(
        self, X: Array, training: bool, update_stats: bool = False, masks: list | None = None
    ) -> ForwardTrace:
        """:meth:`forward_trace` without the input checks (``X`` already validated)."""
        fw = ForwardTrace()
        h = X
        L = self.n_layers
        for k in range(L):
            p = self._views[k]
            a = h @ p["W"]
            if self.has_bias[k]:
                a = a + p["b"]
            cache = None
            if k in self.bn_layers:
                bno = self.batchnorms[k]
                if not np.all(np.isfinite(a)):
                    raise FloatingPointError(f"non-finite pre-activation in layer {k}")
                if training:
                    try:
                        if update_stats:  # one pass: batch statistics and running update
                            z = bno.forward(a, training=True)
                            cache = bno.last_cache
                        else:
                            z, cache = batch_norm_forward(a, bno.gamma, bno.beta, self.eps)
                    except ValueError as exc:  # name the user's argument, not BN's
                        if "running statistics" in str(exc):
                            raise
                        raise ValueError(f"X: pre-activation of layer {k}: {exc}") from exc
                else:
                    folded = bno.fold()  # its errors name the running statistics
                    try:
                        z = folded(a)
                    except ValueError as exc:  # name the user's argument, not BN's
                        raise ValueError(f"X: pre-activation of layer {k}: {exc}") from exc
            else:
                z = a
            if k < L - 1:
                hk, d1, d2 = _activation(self.activation, z)
                if training and masks is not None and masks[k] is not None:
                    # inverted dropout: h = phi(z) m, so dh/dz = phi'(z) m, d2h/dz2 = phi''(z) m
                    mk = masks[k]
                    hk, d1, d2 = hk * mk, d1 * mk, d2 * mk
            else:
                hk, d1, d2 = z, None, None
            if self.skip[k]:
                hk = hk + h
            fw.inputs.append(h)
            fw.a.append(a)
            fw.z.append(z)
            fw.h.append(hk)
            fw.d1.append(d1)
            fw.d2.append(d2)
            fw.cache.append(cache)
            h = hk
        fw.out = h
        return fw
