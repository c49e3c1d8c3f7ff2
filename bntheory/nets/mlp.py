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
output layer). Losses: ``"mse"`` ``(1/2N) sum ||o_i - y_i||^2``; ``"cross_entropy"``
``-(1/N) sum_i <y_i, log softmax(o_i)>`` (``Y`` one-hot / probabilities, or integer labels);
``"linear"`` ``(1/N) sum_i <y_i, o_i>`` (the random linear loss of Yang et al. 2019).

The BN forward/backward are :func:`bntheory.bn.batch_norm_forward` /
:func:`bntheory.bn.batch_norm_backward`; the running statistics and the eval-mode folded map
are those of :class:`bntheory.bn.BatchNorm` (one object per BN layer, whose ``gamma`` /
``beta`` are views into the network's flat parameter vector).

Hessian-vector products are **exact** (Pearlmutter's R-operator, 1994): a forward-mode
pass gives the directional derivatives ``R{a_k}, R{z_k}, R{h_k}`` of every activation, and
the backward pass is differentiated once more along ``v``. Through BN (train mode, batch
statistics) the forward tangent is ``R x_hat = (1/s)(R a - mean(R a) - x_hat mean(x_hat R a))``
with ``s = sqrt(sigma_B^2 + eps)``, and the tangent of the backward map
``g_a = (1/s) P(g_xhat)``, ``P(u) = u - mean(u) - x_hat mean(u x_hat)`` is
``R g_a = -(R s/s) g_a + (1/s)(P(R g_xhat) - R x_hat mean(g_xhat x_hat)
- x_hat mean(g_xhat R x_hat))`` with ``R s = mean(x_hat R a)``. Why exact rather than
central differences of the gradient: the R-operator costs about three gradients, is exact to
round-off (so the Taylor-remainder slope 3 of :func:`bntheory.gradcheck.check_hvp` is visible
over the whole step range, and Lanczos on it does not see a finite-difference noise floor),
and the same machinery gives Jacobian-vector products (Gauss-Newton / Fisher products) and
second derivatives with respect to intermediate activations (Santurkar et al. Thm 4.2).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bntheory.bn import BatchNorm, batch_norm_backward, batch_norm_forward
from bntheory.gradcheck import as_generator

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "NetObjective",
    "NetTrace",
    "ParamSpec",
]

Array = np.ndarray
#: Largest parameter vector an MLP may allocate (bytes of float64); raise it to go bigger.
MAX_PARAMETER_BYTES = 4 * 2**30
ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid")
LOSSES = ("mse", "cross_entropy", "linear")


# --------------------------------------------------------------------------- activations
def _activation(name: str, z: Array) -> tuple[Array, Array, Array]:
    """Return ``phi(z), phi'(z), phi''(z)``."""
    if name == "linear":
        return z, np.ones_like(z), np.zeros_like(z)
    if name == "relu":
        pos = z > 0
        return np.where(pos, z, 0.0), pos.astype(np.float64), np.zeros_like(z)
    if name == "tanh":
        t = np.tanh(z)
        d1 = 1.0 - t * t
        return t, d1, -2.0 * t * d1
    if name == "sigmoid":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic function
        d1 = s * (1.0 - s)
        return s, d1, d1 * (1.0 - 2.0 * s)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")  # pragma: no cover


# --------------------------------------------------------------------------- records
@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter array inside the flat vector.

    Attributes
    ----------
    name : str
        ``"W3"``, ``"b3"``, ``"gamma3"``, ``"beta3"``.
    layer : int
        Dense layer index (0-based; the output layer is ``n_layers - 1``).
    kind : str
        ``"W"``, ``"b"``, ``"gamma"`` or ``"beta"``.
    shape : tuple of int
    slice : slice
        Position in the flat vector.
    """

    name: str
    layer: int
    kind: str
    shape: tuple[int, ...]
    slice: slice


@dataclass(frozen=True, slots=True)
class NetTrace:
    """Everything one train-mode forward and backward pass computed, per layer.

    Lists are indexed by dense layer ``k``; entries that do not exist (e.g. ``x_hat`` of a
    layer without BN) are ``None``.

    Attributes
    ----------
    loss : float
    grad : ndarray
        Flat gradient of the loss.
    inputs : list of ndarray
        ``h_{k-1}``, the input of dense layer ``k``.
    a, z, h : list of ndarray
        Pre-BN pre-activation, post-BN pre-activation (input of ``phi``), output.
    x_hat : list of ndarray or None
        Normalized pre-activation of BN layers.
    inv_std : list of ndarray or None
        ``1 / sqrt(sigma_B^2 + eps)`` per feature of BN layers.
    var : list of ndarray or None
        Biased batch variance of ``a_k`` of BN layers.
    gamma : list of ndarray or None
        Scale of BN layers.
    g_a, g_z, g_h : list of ndarray
        Gradients of the loss with respect to ``a_k``, ``z_k`` and ``h_k``.
    output : ndarray
    """

    loss: float
    grad: Array = field(repr=False)
    inputs: list = field(repr=False)
    a: list = field(repr=False)
    z: list = field(repr=False)
    h: list = field(repr=False)
    x_hat: list = field(repr=False)
    inv_std: list = field(repr=False)
    var: list = field(repr=False)
    gamma: list = field(repr=False)
    g_a: list = field(repr=False)
    g_z: list = field(repr=False)
    g_h: list = field(repr=False)
    output: Array = field(repr=False)


class _Forward:
    """Mutable scratch record of one forward pass (internal)."""

    __slots__ = ("inputs", "a", "z", "h", "d1", "d2", "cache", "out")

    def __init__(self) -> None:
        self.inputs, self.a, self.z, self.h, self.d1, self.d2, self.cache = ([] for _ in range(7))
        self.out: Array | None = None


# --------------------------------------------------------------------------- validation
def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_matrix(A, name: str, cols: int | None = None, rows: int | None = None) -> Array:
    if isinstance(A, (str, bytes)) or A is None:
        raise TypeError(f"{name} must be a numeric array, got {type(A).__name__}")
    arr = np.asarray(A)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N, features), got shape {arr.shape}")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns, got shape {arr.shape}")
    if rows is not None and arr.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows (one per sample), got shape {arr.shape}")
    if arr.shape[0] < 1:
        raise ValueError(f"{name} must contain at least one sample, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


# --------------------------------------------------------------------------- the network
class MLP:
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
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
            raise TypeError("sizes must be a sequence of ints (d_in, h_1, ..., d_out)")
        if len(sizes) < 2:
            raise ValueError(f"sizes must have at least 2 entries (d_in, d_out), got {sizes}")
        self.sizes = tuple(_check_int(s, "sizes", 1) for s in sizes)
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        if not isinstance(loss, str) or loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or eps < 0:
            raise ValueError(f"eps must be a number >= 0, got {eps!r}")
        if sigma_w2 is not None and (
            isinstance(sigma_w2, bool)
            or not isinstance(sigma_w2, (int, float, np.integer, np.floating))
            or not np.isfinite(sigma_w2)
            or sigma_w2 <= 0
        ):
            raise ValueError(f"sigma_w2 must be a positive number, got {sigma_w2!r}")
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, (int, float, np.integer, np.floating))
            or not 0.0 <= float(dropout) < 1.0
        ):
            raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
        self.dropout = float(dropout)
        self.activation = activation
        self.loss_name = loss
        self.eps = float(eps)
        self.train_affine = bool(train_affine)
        self.residual = bool(residual)
        self.n_layers = len(self.sizes) - 1
        L = self.n_layers
        self.bn_layers = self._parse_bn(bn, L)
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

    # ----------------------------------------------------------------- construction helpers
    @staticmethod
    def _parse_bn(bn, L: int) -> frozenset[int]:
        if bn is True or bn == "all":
            return frozenset(range(L - 1))
        if bn is False or bn is None or bn == "none":
            return frozenset()
        if bn == "last":
            return frozenset({L - 2}) if L >= 2 else frozenset()
        if bn == "output":
            return frozenset({L - 1})
        if isinstance(bn, str):
            raise ValueError(
                f"bn must be a bool, 'all', 'none', 'last', 'output' or layer indices, got {bn!r}"
            )
        try:
            idx = frozenset(int(i) for i in bn)
        except TypeError as exc:
            raise TypeError("bn must be a bool, a string or an iterable of layer indices") from exc
        if any(i < 0 or i >= L for i in idx):
            raise ValueError(f"bn layer indices must lie in [0, {L - 1}], got {sorted(idx)}")
        return idx

    def reset(self, rng: int | np.random.Generator | None = None) -> None:
        """Re-initialize: ``W ~ N(0, sigma_w2/fan_in)``, biases and ``beta`` 0, ``gamma`` =
        ``gamma_init``; running statistics 0 / 1."""
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
        """Copy of the flat parameter vector."""
        return self._theta.copy()

    def set_flat(self, theta) -> None:
        """Overwrite the parameters with ``theta`` (shape ``(dim,)``, finite)."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.dim,):
            raise ValueError(f"theta must have shape ({self.dim},), got {theta.shape}")
        if not np.all(np.isfinite(theta)):
            raise ValueError("theta contains NaN or inf")
        self._theta[...] = theta

    def params(self, layer: int) -> dict[str, Array]:
        """Views of the parameters of ``layer`` (writing into them changes the network)."""
        return self._views[_check_int(layer, "layer", 0)]

    def gamma(self, layer: int) -> Array:
        """Current ``gamma`` of a BN layer (trainable or fixed)."""
        if layer not in self.bn_layers:
            raise ValueError(f"layer {layer} has no BN")
        return self.batchnorms[layer].gamma

    # ----------------------------------------------------------------- dropout
    def dropout_masks(self, n: int, rng: int | np.random.Generator | None = None) -> list:
        """Inverted-dropout masks for a batch of ``n`` samples (Srivastava et al. 2014).

        Returns a list with one entry per dense layer: for hidden layer ``k`` an array
        ``(n, sizes[k+1])`` of ``0`` (probability ``dropout``) and ``1/(1-dropout)``; ``None``
        for the output layer (and for every layer when ``dropout == 0``).
        """
        n = _check_int(n, "n", 1)
        L = self.n_layers
        if self.dropout == 0.0:
            return [None] * L
        gen = as_generator(rng)
        keep = 1.0 - self.dropout
        return [
            (gen.random((n, self.sizes[k + 1])) < keep) / keep if k < L - 1 else None
            for k in range(L)
        ]

    def _check_masks(self, masks, n: int) -> list | None:
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
            out.append(_check_matrix(m, f"masks[{k}]", cols=self.sizes[k + 1], rows=n))
        return out

    # ----------------------------------------------------------------- validation
    def _check_X(self, X) -> Array:
        return _check_matrix(X, "X", cols=self.sizes[0])

    def _check_Y(self, Y, n: int) -> Array:
        d_out = self.sizes[-1]
        if self.loss_name == "cross_entropy":
            arr = np.asarray(Y)
            if arr.ndim == 1 and np.issubdtype(arr.dtype, np.integer):
                if arr.shape[0] != n:
                    raise ValueError(f"Y must have {n} labels, got shape {arr.shape}")
                if np.any(arr < 0) or np.any(arr >= d_out):
                    raise ValueError(f"Y labels must lie in [0, {d_out - 1}]")
                return np.eye(d_out)[arr]
        return _check_matrix(Y, "Y", cols=d_out, rows=n)

    def _check_batch(self, X, training: bool) -> Array:
        X = self._check_X(X)
        if training and self.bn_layers and X.shape[0] < 2:
            raise ValueError(
                f"X: a train-mode BN network needs a batch of at least 2 samples, got {X.shape[0]}"
            )
        return X

    # ----------------------------------------------------------------- forward / backward
    def _forward(
        self, X: Array, training: bool, update_stats: bool = False, masks: list | None = None
    ) -> _Forward:
        fw = _Forward()
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
                            cache = bno._cache
                        else:
                            z, cache = batch_norm_forward(a, bno.gamma, bno.beta, self.eps)
                    except ValueError as exc:  # name the user's argument, not BN's
                        if "running statistics" in str(exc):
                            raise
                        raise ValueError(f"X: pre-activation of layer {k}: {exc}") from exc
                else:
                    z = bno.fold()(a)
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

    def _loss_grad(self, out: Array, Y: Array) -> tuple[float, Array]:
        n = out.shape[0]
        if self.loss_name == "mse":
            r = out - Y
            return 0.5 * float(np.sum(r * r)) / n, r / n
        if self.loss_name == "linear":
            return float(np.sum(Y * out)) / n, Y / n
        m = np.max(out, axis=1, keepdims=True)
        e = np.exp(out - m)
        se = np.sum(e, axis=1, keepdims=True)
        logp = out - m - np.log(se)
        p = e / se
        rs = np.sum(Y, axis=1, keepdims=True)
        return -float(np.sum(Y * logp)) / n, (p * rs - Y) / n

    def _loss_grad_tangent(self, out: Array, Y: Array, Ro: Array) -> Array:
        n = out.shape[0]
        if self.loss_name == "mse":
            return Ro / n
        if self.loss_name == "linear":
            return np.zeros_like(Ro)
        m = np.max(out, axis=1, keepdims=True)
        e = np.exp(out - m)
        p = e / np.sum(e, axis=1, keepdims=True)
        pr = p * Ro
        return np.sum(Y, axis=1, keepdims=True) * (pr - p * np.sum(pr, axis=1, keepdims=True)) / n

    def _backward(self, fw: _Forward, g_out: Array, record: bool = False):
        grad = np.zeros(self.dim)
        gviews = self._grad_views(grad)
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

    def _grad_views(self, grad: Array) -> list[dict[str, Array]]:
        views: list[dict[str, Array]] = [{} for _ in range(self.n_layers)]
        for s in self.specs:
            views[s.layer][s.kind] = grad[s.slice].reshape(s.shape)
        return views

    # ----------------------------------------------------------------- R-operator
    def _rop(
        self,
        fw: _Forward,
        Y: Array,
        g_out: Array,
        v: Array | None,
        inject: tuple[int, str, Array] | None = None,
        *,
        backward: bool = True,
    ):
        """Forward- and reverse-mode tangents along parameter direction ``v`` (Pearlmutter 1994).

        ``inject = (k, "a"|"z", T)`` adds the tangent ``T`` to ``R a_k`` or ``R z_k`` (second
        derivatives with respect to activations); ``backward=False`` stops after the forward
        tangent (Jacobian-vector product ``R o``).
        Returns ``(R grad, R o, R g_a list, R g_z list)``.
        """
        L = self.n_layers
        V = self._grad_views(v) if v is not None else [dict() for _ in range(L)]
        Rz_l, Rxh_l, rho_l, Ra_l = [None] * L, [None] * L, [None] * L, [None] * L
        Rh_l = [None] * L
        Rh = None  # R h_{k-1}; the data X is fixed
        for k in range(L):
            p = self._views[k]
            Ra = None
            if Rh is not None:
                Ra = Rh @ p["W"]
            if "W" in V[k]:
                t = fw.inputs[k] @ V[k]["W"]
                if "b" in V[k]:
                    t = t + V[k]["b"]
                Ra = t if Ra is None else Ra + t
            if inject is not None and inject[0] == k and inject[1] == "a":
                Ra = inject[2] if Ra is None else Ra + inject[2]
            if Ra is None:
                Ra = np.zeros_like(fw.a[k])
            Ra_l[k] = Ra
            if k in self.bn_layers:
                c = fw.cache[k]
                xh, inv = c.x_hat, c.inv_std
                mxr = np.mean(xh * Ra, axis=0)
                Rxh = inv * (Ra - Ra.mean(axis=0) - xh * mxr)
                Rz = self.batchnorms[k].gamma * Rxh
                if "gamma" in V[k]:
                    Rz = Rz + V[k]["gamma"] * xh + V[k]["beta"]
                Rxh_l[k], rho_l[k] = Rxh, mxr * inv
            else:
                Rz = Ra
            if inject is not None and inject[0] == k and inject[1] == "z":
                Rz = Rz + inject[2]
            Rz_l[k] = Rz
            Rh_k = Rz * fw.d1[k] if k < L - 1 else Rz
            if self.skip[k]:
                Rh_k = Rh_k + Rh
            Rh_l[k] = Rh_k
            Rh = Rh_k
        Ro = Rh
        if not backward:
            return None, Ro, None, None
        # reverse pass of the tangent
        Rgrad = np.zeros(self.dim)
        Rg = self._grad_views(Rgrad)
        Rg_a_l, Rg_z_l = [None] * L, [None] * L
        g_h_fw, Rg_h = g_out, self._loss_grad_tangent(fw.out, Y, Ro)
        for k in range(L - 1, -1, -1):
            if k < L - 1:
                g_z = g_h_fw * fw.d1[k]
                Rg_z = Rg_h * fw.d1[k] + g_h_fw * fw.d2[k] * Rz_l[k]
            else:
                g_z, Rg_z = g_h_fw, Rg_h
            Rg_z_l[k] = Rg_z
            if k in self.bn_layers:
                c = fw.cache[k]
                xh, inv = c.x_hat, c.inv_std
                gam = self.batchnorms[k].gamma
                g_xh = gam * g_z
                Rg_xh = gam * Rg_z
                if "gamma" in V[k]:
                    Rg_xh = Rg_xh + V[k]["gamma"] * g_z
                    Rg[k]["gamma"][...] = np.sum(Rg_z * xh + g_z * Rxh_l[k], axis=0)
                    Rg[k]["beta"][...] = np.sum(Rg_z, axis=0)
                mgx = np.mean(g_xh * xh, axis=0)
                g_a = inv * (g_xh - g_xh.mean(axis=0) - xh * mgx)
                Rxh = Rxh_l[k]
                Rg_a = -rho_l[k] * g_a + inv * (
                    Rg_xh
                    - Rg_xh.mean(axis=0)
                    - Rxh * mgx
                    - xh * np.mean(Rg_xh * xh + g_xh * Rxh, axis=0)
                )
            else:
                g_a, Rg_a = g_z, Rg_z
                if self.has_bias[k]:
                    Rg[k]["b"][...] = Rg_a.sum(axis=0)
            Rg_a_l[k] = Rg_a
            Rin = Rh_l[k - 1] if k > 0 else None
            RW = fw.inputs[k].T @ Rg_a
            if Rin is not None:
                RW += Rin.T @ g_a
            Rg[k]["W"][...] = RW
            if k > 0:
                W = self._views[k]["W"]
                g_prev = g_a @ W.T
                Rg_prev = Rg_a @ W.T
                if "W" in V[k]:
                    Rg_prev += g_a @ V[k]["W"].T
                if self.skip[k]:
                    g_prev = g_prev + g_h_fw
                    Rg_prev = Rg_prev + Rg_h
                g_h_fw, Rg_h = g_prev, Rg_prev
        return Rgrad, Ro, Rg_a_l, Rg_z_l

    # ----------------------------------------------------------------- public evaluation
    def forward(self, X, training: bool = True, *, update_stats: bool = False, masks=None) -> Array:
        """Network output; train mode uses batch statistics (and updates the running
        statistics when ``update_stats``; applies the dropout ``masks`` if given), eval
        mode the folded running statistics and no dropout."""
        X = self._check_batch(X, training)
        masks = self._check_masks(masks, X.shape[0]) if training else None
        return self._forward(X, training, update_stats, masks).out

    def predict(self, X) -> Array:
        """Eval-mode output (Ioffe & Szegedy 2015, Alg. 2: inference network)."""
        return self.forward(X, training=False)

    def loss(self, X, Y, training: bool = True, *, masks=None) -> float:
        """Loss of the batch ``(X, Y)`` at the current parameters (train mode: with the
        dropout ``masks`` if given)."""
        X = self._check_batch(X, training)
        Y = self._check_Y(Y, X.shape[0])
        masks = self._check_masks(masks, X.shape[0]) if training else None
        fw = self._forward(X, training, masks=masks)
        with np.errstate(over="ignore", invalid="ignore"):
            L = self._loss_grad(fw.out, Y)[0]
        return self._finite_loss(L)

    @staticmethod
    def _finite_loss(L: float, grad: Array | None = None) -> float:
        if not np.isfinite(L) or (grad is not None and not np.all(np.isfinite(grad))):
            raise ValueError("X, Y: the loss or its gradient overflows float64 (values too large)")
        return L

    def loss_and_grad(self, X, Y, *, update_stats: bool = False, masks=None) -> tuple[float, Array]:
        """Train-mode loss and flat gradient at the current parameters (the running BN
        statistics are updated with this batch when ``update_stats``; ``masks`` from
        :meth:`dropout_masks` apply dropout)."""
        X = self._check_batch(X, True)
        Y = self._check_Y(Y, X.shape[0])
        masks = self._check_masks(masks, X.shape[0])
        fw = self._forward(X, True, update_stats, masks)
        with np.errstate(over="ignore", invalid="ignore"):
            L, g_out = self._loss_grad(fw.out, Y)
            try:
                grad = self._backward(fw, g_out)[0]
            except ValueError:  # BN backward refuses a non-finite upstream gradient
                grad = np.full(self.dim, np.nan)
        return self._finite_loss(L, grad), grad

    def hvp(self, X, Y, v, *, masks=None) -> Array:
        """Exact Hessian-vector product of the train-mode loss at the current parameters
        (with fixed dropout ``masks`` if given)."""
        X = self._check_batch(X, True)
        Y = self._check_Y(Y, X.shape[0])
        v = self._check_vector(v, "v")
        masks = self._check_masks(masks, X.shape[0])
        fw = self._forward(X, True, masks=masks)
        _, g_out = self._loss_grad(fw.out, Y)
        return self._rop(fw, Y, g_out, v)[0]

    def _check_vector(self, v, name: str) -> Array:
        v = np.asarray(v, dtype=np.float64)
        if v.shape != (self.dim,):
            raise ValueError(f"{name} must have shape ({self.dim},), got {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} contains NaN or inf")
        return v

    def loss_and_grad_flat(self, theta, X, Y) -> tuple[float, Array]:
        """Train-mode loss and gradient at ``theta`` (the network is left at ``theta``)."""
        self.set_flat(theta)
        return self.loss_and_grad(X, Y)

    def hvp_flat(self, theta, X, Y, v) -> Array:
        """Exact Hessian-vector product at ``theta`` (the network is left at ``theta``)."""
        self.set_flat(theta)
        return self.hvp(X, Y, v)

    def trace(self, X, Y) -> NetTrace:
        """One train-mode forward + backward pass with every intermediate quantity."""
        X = self._check_batch(X, True)
        Y = self._check_Y(Y, X.shape[0])
        fw = self._forward(X, True)
        L, g_out = self._loss_grad(fw.out, Y)
        grad, g_a, g_z, g_h = self._backward(fw, g_out, record=True)
        nl = self.n_layers
        xh = [fw.cache[k].x_hat if fw.cache[k] is not None else None for k in range(nl)]
        inv = [fw.cache[k].inv_std if fw.cache[k] is not None else None for k in range(nl)]
        var = [fw.cache[k].var if fw.cache[k] is not None else None for k in range(nl)]
        gam = [self.batchnorms[k].gamma.copy() if k in self.bn_layers else None for k in range(nl)]
        return NetTrace(
            L, grad, fw.inputs, fw.a, fw.z, fw.h, xh, inv, var, gam, g_a, g_z, g_h, fw.out
        )

    def activation_hessian_quadratic(self, X, Y, layer: int, where: str, T) -> float:
        """``<T, (d^2 L / d u^2) T>`` for ``u = a_layer`` (``where="a"``, before BN) or
        ``u = z_layer`` (``where="z"``, after BN), with everything else fixed; exact (R-operator).

        Used for Santurkar et al. (2018), Theorem 4.2.
        """
        X = self._check_batch(X, True)
        Y = self._check_Y(Y, X.shape[0])
        layer = _check_int(layer, "layer", 0)
        if layer >= self.n_layers:
            raise ValueError(f"layer must be < {self.n_layers}, got {layer}")
        if where not in ("a", "z"):
            raise ValueError(f"where must be 'a' or 'z', got {where!r}")
        fw = self._forward(X, True)
        T = np.asarray(T, dtype=np.float64)
        if T.shape != fw.a[layer].shape:
            raise ValueError(f"T must have shape {fw.a[layer].shape}, got {T.shape}")
        _, g_out = self._loss_grad(fw.out, Y)
        _, _, Rg_a, Rg_z = self._rop(fw, Y, g_out, None, inject=(layer, where, T))
        R = Rg_a[layer] if where == "a" else Rg_z[layer]
        return float(np.sum(T * R))

    # ----------------------------------------------------------------- Jacobian products
    def jvp(self, X, v) -> Array:
        """``J v``: directional derivative of the train-mode output (N, d_out) along ``v``."""
        X = self._check_batch(X, True)
        v = self._check_vector(v, "v")
        fw = self._forward(X, True)
        return self._rop(fw, None, None, v, backward=False)[1]

    def vjp(self, X, U) -> Array:
        """``J^T U`` for a cotangent ``U`` of the train-mode output (N, d_out)."""
        X = self._check_batch(X, True)
        U = _check_matrix(U, "U", cols=self.sizes[-1], rows=X.shape[0])
        fw = self._forward(X, True)
        return self._backward(fw, U)[0]

    def gauss_newton_vp(self, X, v) -> Array:
        """``J^T J v / N``: Gauss-Newton (= Fisher information for MSE with unit noise)
        product of the train-mode output map (Karakida et al. 2019)."""
        X = self._check_batch(X, True)
        v = self._check_vector(v, "v")
        fw = self._forward(X, True)
        Ro = self._rop(fw, None, None, v, backward=False)[1]
        return self._backward(fw, Ro / X.shape[0])[0]

    def objective(self, X, Y) -> NetObjective:
        """Problem-like adapter (``dim``, ``loss``, ``grad``, ``hvp``) for a fixed batch."""
        return NetObjective(self, X, Y)


class NetObjective:
    """The train-mode loss of ``net`` on a fixed batch as a problem of the flat parameters.

    Has the interface of :mod:`bntheory.problems` (``dim``, ``loss(x)``, ``grad(x)``,
    ``hvp(x, v)``, ``hessian(x)`` for small nets), so the measures (Lanczos, SLQ, Hutchinson,
    Lipschitz estimates) apply unchanged. Every call sets the network's parameters to ``x``.
    """

    def __init__(self, net: MLP, X, Y) -> None:
        if not isinstance(net, MLP):
            raise TypeError(f"net must be an MLP, got {type(net).__name__}")
        self.net = net
        self.X = net._check_batch(X, True)
        self.Y = net._check_Y(Y, self.X.shape[0])
        self.dim = net.dim

    def loss(self, x) -> float:
        self.net.set_flat(x)
        return self.net.loss(self.X, self.Y)

    def grad(self, x) -> Array:
        return self.net.loss_and_grad_flat(x, self.X, self.Y)[1]

    def loss_and_grad(self, x) -> tuple[float, Array]:
        return self.net.loss_and_grad_flat(x, self.X, self.Y)

    def hvp(self, x, v) -> Array:
        return self.net.hvp_flat(x, self.X, self.Y, v)

    def hessian(self, x) -> Array:
        """Dense Hessian from ``dim`` exact HVPs (symmetrized); small networks only."""
        if self.dim > 4000:
            raise ValueError(f"hessian: dim = {self.dim} is too large for a dense Hessian")
        H = np.column_stack([self.hvp(x, e) for e in np.eye(self.dim)])
        return 0.5 * (H + H.T)
