"""Numerical batch normalization: Algorithms 1 and 2 of Ioffe & Szegedy (2015).

Conventions
-----------
* ``x`` has shape ``(N, C)`` or ``(N, C, *spatial)``; the statistics of channel ``c`` are
  taken over every axis but axis 1, i.e. over the batch and all spatial locations, so the
  effective mini-batch size is ``m' = N * prod(spatial)`` (Ioffe & Szegedy 2015, Sec. 3.2),
  with one ``(gamma, beta)`` pair per channel.
* Training mode uses the biased (``1/m'``) batch variance, as Algorithm 1 does; running and
  population variances are the unbiased ``m'/(m'-1)`` versions, as Algorithm 2 line 10.

Precision
---------
float64 and float32 inputs are accepted (other real inputs are converted to float64). The
per-channel statistics (means, variances and the reductions of the backward pass) are
accumulated in float64 whatever the input type; the element-wise arithmetic runs in the
input's precision and the outputs have the input's dtype. For float64 input everything is
float64.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "BNCache",
    "BackwardBeforeForwardError",
    "BatchNorm",
    "FoldedAffine",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_inference",
    "population_statistics",
]

Array = np.ndarray


# --------------------------------------------------------------------------- validation
def _as_float_array(a, name: str, check_finite: bool = True) -> Array:
    if isinstance(a, (str, bytes)) or a is None:
        raise TypeError(f"{name} must be a numeric array, got {type(a).__name__}")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name} must be a numeric array") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if check_finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _check_x(x, name: str = "x", check_finite: bool = True) -> Array:
    x = _as_float_array(x, name, check_finite)
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape (N, C) or (N, C, *spatial), got shape {x.shape}")
    if x.shape[1] < 1:
        raise ValueError(f"{name} must have at least one channel (axis 1), got shape {x.shape}")
    return x


def _check_param(p, name: str, channels: int, dtype) -> Array:
    p = _as_float_array(p, name)
    if p.ndim == 0:
        p = np.full(channels, p, dtype=np.float64)
    if p.shape != (channels,):
        raise ValueError(
            f"{name} must have shape ({channels},), one value per channel, got {p.shape}"
        )
    if np.dtype(dtype) == np.float32 and np.any(np.abs(p) > np.finfo(np.float32).max):
        raise ValueError(f"{name} has values too large for the float32 input x")
    return p.astype(dtype, copy=False)


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"eps must be a real number, got {type(eps).__name__}")
    eps = float(eps)
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number >= 0, got {eps}")
    return eps


def _axes(x: Array) -> tuple[int, ...]:
    return (0,) + tuple(range(2, x.ndim))


def _bshape(x: Array) -> tuple[int, ...]:
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _as3(a: Array) -> Array:
    """View of ``a`` as (N, C, S) with S the product of the spatial sizes (1 if none)."""
    return a.reshape(a.shape[0], a.shape[1], -1)


def _channel_sum(a: Array) -> Array:
    """Per-channel sum over batch and space. Contiguous runs are summed in the input's
    precision (NumPy's pairwise summation), the partial sums are combined in float64."""
    a3 = _as3(a)
    if a3.shape[2] == 1:
        return np.add.reduce(a3[:, :, 0], axis=0, dtype=np.float64)
    return np.add.reduce(a3.sum(axis=2), axis=0, dtype=np.float64)


def _channel_dot(a: Array, b: Array) -> Array:
    """Per-channel sum of ``a * b`` over batch and space, without a temporary array."""
    a3, b3 = _as3(a), _as3(b)
    if a3.shape[2] == 1:
        return np.einsum("nc,nc->c", a3[:, :, 0], b3[:, :, 0], dtype=np.float64)
    return np.add.reduce(np.einsum("ncs,ncs->nc", a3, b3), axis=0, dtype=np.float64)


def _centered_moments(x: Array) -> tuple[Array, Array, Array, int]:
    """Per-channel mean, the centred input ``x - mean`` (a new array) and the biased
    variance computed from it (two-pass, no cancellation), and m'."""
    m = x.size // x.shape[1]
    mean = _channel_sum(x) / m
    xc = x - mean.astype(x.dtype).reshape(_bshape(x))
    var = _channel_dot(xc, xc) / m
    return mean, xc, var, m


def _moments(x: Array, name: str = "x") -> tuple[Array, Array, int]:
    """Per-channel mean and biased variance, and m'; ValueError naming ``name`` when they
    are not finite (NaN/inf in the data, or an overflowing variance)."""
    with np.errstate(all="ignore"):
        mean, _, var, m = _centered_moments(x)
        unbiased = var * (m / max(m - 1, 1))
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(unbiased))):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contains NaN or inf")
        raise ValueError(f"{name}: values too large, the batch variance overflows")
    return mean, var, m


class BackwardBeforeForwardError(ValueError, RuntimeError):
    """:meth:`BatchNorm.backward` called before any :meth:`BatchNorm.forward`.

    A ``ValueError`` (bad call order, like bad input) and, for code written against
    earlier versions, a ``RuntimeError``."""


def _fold_params(
    mean: Array, var: Array, gamma: Array, beta: Array, eps: float
) -> tuple[Array, Array]:
    """``scale = gamma / sqrt(var + eps)`` and ``shift = beta - scale * mean`` (float64),
    with a ValueError naming the arguments instead of inf/NaN and an overflow warning."""
    denom = var + eps
    if np.any(denom <= 0):
        raise ValueError("var + eps must be positive in every channel (eps=0 with a zero variance)")
    with np.errstate(all="ignore"):
        scale = gamma / np.sqrt(denom)
        shift = beta - scale * mean
    if not np.all(np.isfinite(scale)):
        raise ValueError(
            "gamma, var and eps: gamma / sqrt(var + eps) overflows float64 (variance too small "
            "for eps, or gamma too large)"
        )
    if not np.all(np.isfinite(shift)):
        raise ValueError(
            "mean and beta: the shift beta - gamma * mean / sqrt(var + eps) overflows float64"
        )
    return scale, shift


def _apply_affine(x: Array, scale: Array, shift: Array) -> Array:
    """``x * scale + shift`` per channel in the precision of ``x``; a ValueError naming the
    argument when the folded parameters do not fit the dtype of ``x`` or the output
    overflows (inference mode gets the same guards as training mode)."""
    if x.dtype == np.float32:
        big = float(np.finfo(np.float32).max)
        if np.any(np.abs(scale) > big) or np.any(np.abs(shift) > big):
            raise ValueError(
                "x is float32 but gamma / sqrt(var + eps) or the shift exceeds the float32 "
                "range; pass float64 x"
            )
    bs = _bshape(x)
    with np.errstate(all="ignore"):
        y = x * scale.astype(x.dtype).reshape(bs)
        y += shift.astype(x.dtype).reshape(bs)
    if not np.all(np.isfinite(y)):
        raise ValueError(
            f"x: values too large, the inference output scale * x + shift overflows {x.dtype}"
        )
    return y


# --------------------------------------------------------------------------- Algorithm 1
@dataclass(frozen=True, slots=True)
class BNCache:
    """What the backward pass needs: the normalized input and ``1/sqrt(var + eps)``.

    Attributes
    ----------
    x_hat : ndarray
        Normalized input, shape of ``x``.
    inv_std : ndarray
        ``1 / sqrt(sigma_B^2 + eps)`` per channel (float64).
    gamma : ndarray
        Scale per channel.
    mean, var : ndarray
        Batch mean and biased batch variance per channel (float64).
    m : int
        Effective batch size ``m' = N * prod(spatial)``.
    eps : float
    """

    x_hat: Array = field(repr=False)
    inv_std: Array
    gamma: Array
    mean: Array
    var: Array
    m: int
    eps: float


def batch_norm_forward(x, gamma, beta, eps: float = 1e-5) -> tuple[Array, BNCache]:
    r"""Batch-normalizing transform in training mode (Ioffe & Szegedy 2015, Algorithm 1).

    .. math::
        \mu_B = \frac1{m}\sum_i x_i,\quad \sigma_B^2 = \frac1{m}\sum_i (x_i-\mu_B)^2,\quad
        \hat x_i = \frac{x_i-\mu_B}{\sqrt{\sigma_B^2+\epsilon}},\quad y_i=\gamma\hat x_i+\beta.

    Parameters
    ----------
    x : array_like, shape (N, C) or (N, C, *spatial)
        Mini-batch; statistics per channel over every axis but axis 1.
    gamma, beta : array_like, shape (C,) (or scalars)
        Scale and shift.
    eps : float, default 1e-5
        Added to the variance. ``eps = 0`` is allowed when every channel's batch variance is
        positive.

    Returns
    -------
    y : ndarray, same shape and dtype as ``x``
    cache : BNCache
        Input of :func:`batch_norm_backward`.

    Raises
    ------
    ValueError
        When a channel has a single value (``m' = 1``), when ``x``, ``gamma`` or ``beta``
        hold NaN/inf, on shape mismatch, ``eps < 0``, or ``eps = 0`` with a zero variance.
    """
    # NaN/inf in x are detected from the statistics (a NaN or inf anywhere makes its
    # channel's mean or variance non-finite), which saves a full pass over x.
    x = _check_x(x, check_finite=False)
    eps = _check_eps(eps)
    C = x.shape[1]
    gamma = _check_param(gamma, "gamma", C, x.dtype)
    beta = _check_param(beta, "beta", C, x.dtype)
    m = x.size // C
    if m < 2:
        raise ValueError(
            f"x: expected more than 1 value per channel in training mode, got input shape {x.shape}"
        )
    with np.errstate(all="ignore"):
        mean, x_hat, var, m = _centered_moments(x)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        if not np.all(np.isfinite(x)):
            raise ValueError("x contains NaN or inf")
        raise ValueError("x: values too large, the batch variance overflows")
    if eps == 0.0 and np.any(var <= 0):
        bad = int(np.flatnonzero(var <= 0)[0])
        raise ValueError(
            f"eps=0 requires a positive batch variance in every channel; channel {bad} of x is constant"
        )
    with np.errstate(all="ignore"):
        inv_std = 1.0 / np.sqrt(var + eps)
    if not np.all(np.isfinite(inv_std)):
        raise ValueError(
            "x: batch variance too small for eps (1/sqrt(var + eps) overflows); increase eps"
        )
    bs = _bshape(x)
    with np.errstate(all="ignore"):
        x_hat *= inv_std.astype(x.dtype).reshape(bs)  # in place: x - mean was a fresh array
        y = np.multiply(x_hat, gamma.reshape(bs))
        y += beta.reshape(bs)
    if not np.all(np.isfinite(y)):
        raise ValueError("gamma and beta: the output gamma * x_hat + beta overflows")
    return y, BNCache(x_hat, inv_std, gamma, mean, var, m, eps)


def batch_norm_backward(dy, cache: BNCache) -> tuple[Array, Array, Array]:
    r"""Backward pass of :func:`batch_norm_forward` in the simplified one-pass closed form.

    With :math:`\hat g_i = \gamma\,\partial\ell/\partial y_i` (Ioffe & Szegedy 2015, Sec. 3,
    simplified; proven equal to the paper's chain rule in :mod:`bntheory.symbolic`):

    .. math::
        \frac{\partial\ell}{\partial x_i} = \frac{1}{m\sqrt{\sigma_B^2+\epsilon}}
        \Big(m\hat g_i-\sum_j\hat g_j-\hat x_i\sum_j\hat g_j\hat x_j\Big),\quad
        \frac{\partial\ell}{\partial\gamma}=\sum_i \frac{\partial\ell}{\partial y_i}\hat x_i,\quad
        \frac{\partial\ell}{\partial\beta}=\sum_i \frac{\partial\ell}{\partial y_i}.

    Parameters
    ----------
    dy : array_like
        Upstream gradient, same shape as the forward input.
    cache : BNCache
        From :func:`batch_norm_forward`.

    Returns
    -------
    dx : ndarray (dtype of the forward input)
    dgamma, dbeta : ndarray, shape (C,), float64
    """
    if not isinstance(cache, BNCache):
        raise TypeError(
            f"cache must be the BNCache returned by batch_norm_forward, got {type(cache).__name__}"
        )
    x_hat = cache.x_hat
    dy = _as_float_array(dy, "dy")
    if dy.shape != x_hat.shape:
        raise ValueError(f"dy must have the shape of x, {x_hat.shape}, got {dy.shape}")
    if x_hat.dtype == np.float32 and np.any(np.abs(dy) > np.finfo(np.float32).max):
        raise ValueError("dy has values too large for the float32 input x")
    dy = dy.astype(x_hat.dtype, copy=False)
    bs = _bshape(x_hat)
    m = cache.m
    # dx = k * (dy - dbeta/m - x_hat * dgamma/m), in three in-place passes
    with np.errstate(all="ignore"):
        dbeta = _channel_sum(dy)
        dgamma = _channel_dot(dy, x_hat)
        k = cache.gamma.astype(np.float64) * cache.inv_std
        dx = np.multiply(x_hat, (-k * dgamma / m).astype(x_hat.dtype).reshape(bs))
        dx += dy * k.astype(x_hat.dtype).reshape(bs) if np.any(k != 1) else dy
        dx -= (k * dbeta / m).astype(x_hat.dtype).reshape(bs)
    if not (np.all(np.isfinite(dx)) and np.all(np.isfinite(dgamma)) and np.all(np.isfinite(dbeta))):
        raise ValueError(
            "dy: the input gradient overflows (dy or gamma / sqrt(var + eps) too large)"
        )
    return dx, dgamma, dbeta


def batch_norm_inference(x, mean, var, gamma, beta, eps: float = 1e-5) -> Array:
    r"""Inference-mode BN with fixed statistics (Ioffe & Szegedy 2015, Alg. 2 line 11).

    :math:`y = \frac{\gamma}{\sqrt{\mathrm{Var}[x]+\epsilon}}x + \big(\beta - \frac{\gamma E[x]}{\sqrt{\mathrm{Var}[x]+\epsilon}}\big)`.
    Works for any batch size, including one.
    """
    x = _check_x(x)
    eps = _check_eps(eps)
    C = x.shape[1]
    mean = _check_param(mean, "mean", C, np.float64)
    var = _check_param(var, "var", C, np.float64)
    if np.any(var < 0):
        raise ValueError("var must be non-negative")
    gamma = _check_param(gamma, "gamma", C, np.float64)
    beta = _check_param(beta, "beta", C, np.float64)
    scale, shift = _fold_params(mean, var, gamma, beta, eps)
    return _apply_affine(x, scale, shift)


# --------------------------------------------------------------------------- Algorithm 2
def population_statistics(batches: Iterable) -> tuple[Array, Array]:
    r"""Population statistics of Ioffe & Szegedy (2015), Algorithm 2, lines 8-10.

    :math:`E[x] \leftarrow E_B[\mu_B]` and
    :math:`\mathrm{Var}[x] \leftarrow \frac{m}{m-1} E_B[\sigma_B^2]`: the mean of the batch
    means and ``m/(m-1)`` times the mean of the (biased) batch variances, where ``m`` is the
    (effective) size of every batch. All batches must have the same effective size, as in
    the algorithm.

    Parameters
    ----------
    batches : iterable of array_like, each (N, C) or (N, C, *spatial)

    Returns
    -------
    mean, var : ndarray, shape (C,), float64
    """
    if isinstance(batches, np.ndarray):
        raise TypeError(
            "batches must be an iterable of arrays (a list of mini-batches), not one array"
        )
    means, variances, m, channels, shape = [], [], None, None, None
    for k, b in enumerate(batches):
        b = _check_x(b, f"batches[{k}]")
        if channels is None:
            channels, shape = b.shape[1], b.shape
        if b.shape[1] != channels or b.shape[2:] != shape[2:]:
            raise ValueError(f"batches[{k}] has shape {b.shape}, incompatible with {shape}")
        mean, var, mb = _moments(b, f"batches[{k}]")
        if m is None:
            m = mb
        if mb != m:
            raise ValueError(
                f"batches: Algorithm 2 uses mini-batches of one size m; batches[{k}] has {mb} values per channel, not {m}"
            )
        if m < 2:
            raise ValueError(
                f"batches[{k}]: need more than 1 value per channel to estimate a variance"
            )
        means.append(mean)
        variances.append(var)
    if not means:
        raise ValueError("batches must contain at least one mini-batch")
    with np.errstate(all="ignore"):
        mean = np.mean(means, axis=0)
        var = m / (m - 1) * np.mean(variances, axis=0)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        raise ValueError("batches: values too large, the population statistics overflow")
    return mean, var


@dataclass(frozen=True, slots=True)
class FoldedAffine:
    r"""The inference-time affine map of Algorithm 2, line 11: ``y = scale * x + shift``.

    Iterating yields ``(scale, shift)`` so ``scale, shift = bn.fold()`` works.
    """

    scale: Array
    shift: Array

    def __iter__(self):
        yield self.scale
        yield self.shift

    def __call__(self, x) -> Array:
        x = _check_x(x)
        if x.shape[1] != self.scale.shape[0]:
            raise ValueError(f"x must have {self.scale.shape[0]} channels, got shape {x.shape}")
        return _apply_affine(x, np.asarray(self.scale, float), np.asarray(self.shift, float))


class BatchNorm:
    r"""A batch-normalization layer with running statistics (Ioffe & Szegedy 2015, Alg. 2).

    Parameters
    ----------
    num_features : int
        Number of channels ``C`` (axis 1 of the input).
    eps : float, default 1e-5
    momentum : float in [0, 1] or None, default 0.1
        Weight of the NEW batch in the exponential moving average (PyTorch's convention):
        ``running <- (1 - momentum) * running + momentum * batch_statistic``. The reference
        article and Keras/TensorFlow write ``running <- m * running + (1 - m) * batch`` with
        ``m = 0.9`` or ``0.99``; that ``m`` is ``1 - momentum`` here, so the article's 0.9 /
        0.99 are ``momentum = 0.1`` / ``0.01``. ``momentum=None`` gives the cumulative
        (equal-weight) average of all batches seen, which is Algorithm 2's plain average.

    Attributes
    ----------
    gamma, beta : ndarray, shape (C,)
        Learnable scale (ones) and shift (zeros).
    running_mean, running_var : ndarray, shape (C,)
        Moving averages of the batch mean and of the UNBIASED batch variance
        (``m'/(m'-1)`` times the biased one); initialised to 0 and 1.
    num_batches_tracked : int
    dgamma, dbeta : ndarray or None
        Parameter gradients of the last :meth:`backward`.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1):
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)):
            raise TypeError(f"num_features must be an int, got {type(num_features).__name__}")
        if num_features < 1:
            raise ValueError(f"num_features must be >= 1, got {num_features}")
        self.num_features = int(num_features)
        self.eps = _check_eps(eps)
        if momentum is not None:
            if isinstance(momentum, bool) or not isinstance(
                momentum, (int, float, np.integer, np.floating)
            ):
                raise TypeError(
                    f"momentum must be a number in [0, 1] or None, got {type(momentum).__name__}"
                )
            momentum = float(momentum)
            if not (0.0 <= momentum <= 1.0):
                raise ValueError(
                    f"momentum must lie in [0, 1] (weight of the new batch), got {momentum}"
                )
        self.momentum = momentum
        self.gamma = np.ones(self.num_features)
        self.beta = np.zeros(self.num_features)
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self.num_batches_tracked = 0
        self.dgamma: Array | None = None
        self.dbeta: Array | None = None
        self._cache: BNCache | None = None
        self._eval_input: Array | None = None

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features}, eps={self.eps}, momentum={self.momentum})"

    def _check_channels(self, x: Array) -> None:
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"x must have {self.num_features} channels on axis 1, got shape {x.shape}"
            )

    def forward(self, x, training: bool = True) -> Array:
        """Normalize ``x``: batch statistics when ``training`` (and update the running
        statistics), running statistics otherwise."""
        x = _check_x(x)
        self._check_channels(x)
        if training:
            y, cache = batch_norm_forward(x, self.gamma, self.beta, self.eps)
            m = cache.m
            w = 1.0 / (self.num_batches_tracked + 1) if self.momentum is None else self.momentum
            with np.errstate(all="ignore"):
                unbiased = cache.var * (m / (m - 1))
                new_mean = (1.0 - w) * self.running_mean + w * cache.mean
                new_var = (1.0 - w) * self.running_var + w * unbiased
            if not (np.all(np.isfinite(new_mean)) and np.all(np.isfinite(new_var))):
                raise ValueError("x: values too large, the running statistics overflow")
            self.running_mean, self.running_var = new_mean, new_var
            self.num_batches_tracked += 1
            self._cache, self._eval_input = cache, None
            return y
        folded = self.fold()
        self._cache, self._eval_input = None, x
        return folded(x)

    __call__ = forward

    def backward(self, dy) -> Array:
        """Gradient with respect to the input of the last :meth:`forward`; stores
        :attr:`dgamma` and :attr:`dbeta`."""
        if self._cache is not None:
            dx, self.dgamma, self.dbeta = batch_norm_backward(dy, self._cache)
            return dx
        if self._eval_input is None:
            raise BackwardBeforeForwardError(
                "dy: backward called before forward (no input to differentiate); call "
                "forward(x) first"
            )
        # eval mode: y = gamma * (x - E) / sqrt(Var + eps) + beta, statistics fixed
        x = self._eval_input
        dy = _as_float_array(dy, "dy")
        if dy.shape != x.shape:
            raise ValueError(f"dy must have the shape of x, {x.shape}, got {dy.shape}")
        if x.dtype == np.float32 and np.any(np.abs(dy) > np.finfo(np.float32).max):
            raise ValueError("dy has values too large for the float32 input x")
        bs, axes = _bshape(x), _axes(x)
        with np.errstate(all="ignore"):
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            x_hat = (x - self.running_mean.reshape(bs)) * inv_std.reshape(bs)
            dbeta = np.sum(dy, axis=axes, dtype=np.float64)
            dgamma = np.sum(dy * x_hat, axis=axes, dtype=np.float64)
            k = (self.gamma * inv_std).astype(x.dtype).reshape(bs)
            dx = (dy * k).astype(x.dtype, copy=False)
        if not (
            np.all(np.isfinite(dx)) and np.all(np.isfinite(dgamma)) and np.all(np.isfinite(dbeta))
        ):
            raise ValueError(
                "dy: the eval-mode gradient overflows (dy, x or gamma / sqrt(running_var + eps) "
                "too large)"
            )
        self.dbeta, self.dgamma = dbeta, dgamma
        return dx

    def population_statistics(
        self, batches: Iterable, *, update: bool = True
    ) -> tuple[Array, Array]:
        """Algorithm 2 lines 8-10 on ``batches``; store them as the running statistics
        when ``update``. See :func:`population_statistics`."""
        batches = list(batches)
        for k, b in enumerate(batches):
            self._check_channels(_check_x(b, f"batches[{k}]"))
        mean, var = population_statistics(batches)
        if update:
            self.running_mean, self.running_var = mean, var
        return mean, var

    def fold(self) -> FoldedAffine:
        r"""Inference affine map of Algorithm 2 line 11 from the running statistics:
        ``scale = gamma / sqrt(Var + eps)``, ``shift = beta - scale * E[x]``."""
        denom = self.running_var + self.eps
        if np.any(denom <= 0):
            raise ValueError(
                "running_var + eps must be positive to fold (eps=0 with a zero running variance)"
            )
        scale, shift = _fold_params(
            self.running_mean, self.running_var, self.gamma, self.beta, self.eps
        )
        return FoldedAffine(scale, shift)
