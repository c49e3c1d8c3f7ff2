"""The BN layer: Algorithm 1 in training mode, Algorithm 2's running statistics and folded
affine map in eval mode (Ioffe & Szegedy 2015)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ._common import Array, as_float_array, axes, bshape, check_eps, check_x
from ._inference import FoldedAffine, fold_params, population_statistics
from ._train import BNCache, batch_norm_backward, batch_norm_forward

__all__ = ["BackwardBeforeForwardError", "BatchNorm"]


class BackwardBeforeForwardError(ValueError, RuntimeError):
    """:meth:`BatchNorm.backward` called before any :meth:`BatchNorm.forward`.

    A ``ValueError`` (bad call order, like bad input) and, for code written against
    earlier versions, a ``RuntimeError``."""


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
    last_cache : BNCache or None
        Read-only: the cache of the last training-mode :meth:`forward`.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1):
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)):
            raise TypeError(f"num_features must be an int, got {type(num_features).__name__}")
        if num_features < 1:
            raise ValueError(f"num_features must be >= 1, got {num_features}")
        self.num_features = int(num_features)
        self.eps = check_eps(eps)
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

    @property
    def last_cache(self) -> BNCache | None:
        """The :class:`BNCache` of the last training-mode :meth:`forward` (read-only).

        Returns
        -------
        BNCache or None
            Batch statistics, ``x_hat`` and ``1/sqrt(var + eps)`` of the last forward pass
            in training mode, as :func:`batch_norm_forward` returns them; None before any
            forward pass and after an eval-mode one. Treat it as read-only: it is what
            :meth:`backward` differentiates.
        """
        return self._cache

    def _check_channels(self, x: Array) -> None:
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"x must have {self.num_features} channels on axis 1, got shape {x.shape}"
            )

    def forward(self, x: object, training: bool = True) -> Array:
        """Normalize ``x``: batch statistics when ``training`` (and update the running
        statistics), running statistics otherwise.

        Parameters
        ----------
        x : array_like, shape (N, num_features) or (N, num_features, *spatial)
            The mini-batch.
        training : bool, default True
            Algorithm 1 with the batch statistics (and an update of the running ones), or
            Algorithm 2's folded inference map with the running statistics.

        Returns
        -------
        ndarray
            Same shape and dtype as ``x``.
        """
        # NaN/inf in x are found by batch_norm_forward (training) or the folded map (eval)
        x = check_x(x, check_finite=False)
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

    def backward(self, dy: object) -> Array:
        """Gradient with respect to the input of the last :meth:`forward`; stores
        :attr:`dgamma` and :attr:`dbeta`.

        Parameters
        ----------
        dy : array_like
            Upstream gradient, shape of the last forward input.

        Returns
        -------
        ndarray
            Gradient with respect to that input (its dtype).

        Raises
        ------
        BackwardBeforeForwardError
            When no forward pass has been made.
        """
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
        dy = as_float_array(dy, "dy")
        if dy.shape != x.shape:
            raise ValueError(f"dy must have the shape of x, {x.shape}, got {dy.shape}")
        if x.dtype == np.float32 and np.any(np.abs(dy) > np.finfo(np.float32).max):
            raise ValueError("dy has values too large for the float32 input x")
        bs, red = bshape(x), axes(x)
        with np.errstate(all="ignore"):
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            x_hat = (x - self.running_mean.reshape(bs)) * inv_std.reshape(bs)
            dbeta = np.sum(dy, axis=red, dtype=np.float64)
            dgamma = np.sum(dy * x_hat, axis=red, dtype=np.float64)
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
        when ``update``. See :func:`population_statistics`.

        Parameters
        ----------
        batches : iterable of array_like
            Mini-batches of one effective size, each with ``num_features`` channels.
        update : bool, default True
            Store the result in :attr:`running_mean` and :attr:`running_var`.

        Returns
        -------
        mean, var : ndarray, shape (num_features,)
            Population mean and unbiased population variance.
        """
        if isinstance(batches, (str, bytes)) or not isinstance(batches, Iterable):
            raise TypeError(f"batches must be an iterable of arrays, got {type(batches).__name__}")
        batches = list(batches)
        for k, b in enumerate(batches):
            self._check_channels(check_x(b, f"batches[{k}]"))
        mean, var = population_statistics(batches)
        if update:
            self.running_mean, self.running_var = mean, var
        return mean, var

    def fold(self) -> FoldedAffine:
        r"""Inference affine map of Algorithm 2 line 11 from the running statistics:
        ``scale = gamma / sqrt(Var + eps)``, ``shift = beta - scale * E[x]``.

        Returns
        -------
        FoldedAffine
            The map; ``scale, shift = bn.fold()`` unpacks it.
        """
        denom = self.running_var + self.eps
        if np.any(denom <= 0):
            raise ValueError(
                "running_var + eps must be positive to fold (eps=0 with a zero running variance)"
            )
        scale, shift = fold_params(
            self.running_mean, self.running_var, self.gamma, self.beta, self.eps
        )
        return FoldedAffine(scale, shift)
