"""Santurkar, Tsipras, Ilyas & Madry (2018), "How does batch normalization help
optimization?", NeurIPS, measured on :class:`bntheory.nets.MLP`: the landscape along the
gradient during training (Sec. 3.1, Fig. 4), internal covariate shift (Def. 2.1, Fig. 3) and
Theorems 4.1 and 4.2 (Sec. 4.1, in :mod:`bntheory.nets.santurkar2018_theorems`). All losses and gradients are of the train-mode objective
(batch statistics); the training runs go through :func:`bntheory.nets.loop.sgd`, whose probe
callbacks (:class:`LandscapeProbe`, :class:`ICSProbe`) do the measuring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bntheory.nets.checks import check_batch_size, check_count, check_training
from bntheory.nets.loop import loss_and_grad_at, sgd
from bntheory.nets.mlp import MLP
from bntheory.nets.santurkar2018_theorems import (
    TheoremCheck,
    santurkar_theorem41,
    santurkar_theorem42,
)
from bntheory.status import Status

__all__ = [
    "ICSProbe",
    "ICSResult",
    "LandscapeProbe",
    "LandscapeResult",
    "TheoremCheck",
    "internal_covariate_shift",
    "santurkar_landscape",
    "santurkar_theorem41",
    "santurkar_theorem42",
]

Array = np.ndarray
#: Default step multipliers ``s`` of the landscape probe: 0.5, 1.1, ..., 4.1.
S_GRID = tuple(np.arange(0.5, 4.11, 0.6))


@dataclass(frozen=True, slots=True)
class LandscapeResult:
    """Landscape along the gradient at each training step (Santurkar et al. 2018, Fig. 4).

    Attributes
    ----------
    status : Status
        ``COMPLETED`` or ``DIVERGED``.
    steps : ndarray
        Training steps at which the landscape was probed.
    s_grid : ndarray
        Step multipliers ``s``: probes at ``w - lr * s * grad``.
    loss_range : ndarray
        ``max_s L - min_s L`` over the probes (``inf`` if a probe overflowed).
    grad_predictiveness : ndarray
        ``max_s ||grad L(w - lr s g) - grad L(w)||`` (``inf`` if a probe overflowed).
    beta_smoothness : ndarray
        ``max_s ||grad L(w - lr s g) - grad L(w)|| / (lr s ||g||)`` ("effective
        beta-smoothness").
    train_loss : ndarray
        Mini-batch loss at every step.
    loss_by_s, grad_change_by_s, beta_by_s : ndarray (n_probes, len(s_grid))
        The per-``s`` values the three reductions are taken over.
    """

    status: Status
    steps: Array = field(repr=False)
    s_grid: Array = field(repr=False)
    loss_range: Array = field(repr=False)
    grad_predictiveness: Array = field(repr=False)
    beta_smoothness: Array = field(repr=False)
    train_loss: Array = field(repr=False)
    loss_by_s: Array = field(default=None, repr=False)
    grad_change_by_s: Array = field(default=None, repr=False)
    beta_by_s: Array = field(default=None, repr=False)


class LandscapeProbe:
    """Probe of :func:`bntheory.nets.loop.sgd`: loss and gradient at ``w - lr s g`` for every
    step multiplier ``s`` (Santurkar et al. 2018, Sec. 3.1) on the step's mini-batch.

    Parameters
    ----------
    net : MLP
        The network being trained (the probe moves it; the loop restores it).
    lr : float
        The training learning rate.
    s_grid : ndarray
        Positive step multipliers.

    Attributes
    ----------
    steps : list of int
        Probed steps.
    loss, grad_change, beta : list of list of float
        Per probed step and multiplier: ``L(w - lr s g)``, ``||grad L(w - lr s g) - g||`` and
        that change over ``lr s ||g||`` (``inf`` where a probe overflowed).
    """

    def __init__(self, net: MLP, lr: float, s_grid: Array) -> None:
        self.net, self.lr, self.s_grid = net, lr, s_grid
        self.steps: list[int] = []
        self.loss: list[list[float]] = []
        self.grad_change: list[list[float]] = []
        self.beta: list[list[float]] = []

    def __call__(self, step: int, theta: Array, grad: Array, X: Array, Y: Array) -> None:
        """Probe the landscape at ``theta`` along ``-grad`` on the batch ``(X, Y)``.

        Parameters
        ----------
        step : int
        theta, grad : ndarray (dim,)
            Current parameters and mini-batch gradient.
        X, Y : ndarray
            The step's mini-batch.

        Returns
        -------
        None
        """
        lr, g = self.lr, grad
        with np.errstate(all="ignore"):
            gn = float(np.linalg.norm(g))
        Ls, dg, bs = [], [], []
        for s in self.s_grid:
            with np.errstate(all="ignore"):
                Ls_, gs = loss_and_grad_at(self.net, theta - lr * s * g, X, Y)
            Ls.append(Ls_)
            if gs is None:
                dg.append(np.inf)
                bs.append(np.inf)
            else:
                with np.errstate(all="ignore"):  # huge but finite gradients -> inf
                    d = float(np.linalg.norm(gs - g))
                    dg.append(d)
                    bs.append(d / (lr * s * gn) if gn > 0 else 0.0)
        self.steps.append(step)
        self.loss.append(Ls)
        self.grad_change.append(dg)
        self.beta.append(bs)


def santurkar_landscape(
    net: MLP,
    X: Array,
    Y: Array,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    s_grid: Sequence[float] = S_GRID,
    every: int = 1,
    rng: int | np.random.Generator | None = None,
) -> LandscapeResult:
    """Train with (S)GD and, every ``every`` steps, probe the loss and gradient along the
    current gradient direction on the current mini-batch (Santurkar et al. 2018, Sec. 3.1,
    Fig. 4). The paper does not give its grid of step multipliers; the default
    ``s = 0.5, 1.1, ..., 4.1`` follows the spacing of a public JAX replication.

    Parameters
    ----------
    net : MLP
        Trained in place (left at the last finite parameters).
    X, Y : array_like
        Training data.
    lr : float
        Learning rate.
    steps : int
        SGD steps.
    batch_size : int, optional
        Mini-batch size in ``[2, N]``; None = full batch.
    s_grid : sequence of float
        Positive step multipliers.
    every : int
        Probe every ``every`` steps (from step 0).
    rng : int, Generator or None
        Seed of the mini-batch order.

    Returns
    -------
    LandscapeResult
    """
    net, X, Y, lr, steps = check_training(net, X, Y, lr, steps)
    every = check_count(every, "every")
    s_grid = np.asarray(s_grid, dtype=float)
    if s_grid.ndim != 1 or s_grid.size < 1 or np.any(s_grid <= 0):
        raise ValueError("s_grid must be a non-empty 1-D array of positive multipliers")
    check_batch_size(batch_size, X.shape[0])
    probe = LandscapeProbe(net, lr, s_grid)
    run = sgd(
        net, X, Y, lr=lr, steps=steps, batch_size=batch_size, rng=rng, probe=probe, every=every
    )
    lrange = [max(L) - min(L) if np.all(np.isfinite(L)) else np.inf for L in probe.loss]
    shape = (-1, s_grid.size)
    return LandscapeResult(
        run.status,
        np.asarray(probe.steps),
        s_grid,
        np.asarray(lrange, dtype=float),
        np.asarray([max(d) for d in probe.grad_change], dtype=float),
        np.asarray([max(b) for b in probe.beta], dtype=float),
        run.losses,
        np.asarray(probe.loss, dtype=float).reshape(shape),
        np.asarray(probe.grad_change, dtype=float).reshape(shape),
        np.asarray(probe.beta, dtype=float).reshape(shape),
    )


@dataclass(frozen=True, slots=True)
class ICSResult:
    """Internal covariate shift (Santurkar et al. 2018, Def. 2.1; Fig. 3).

    Attributes
    ----------
    steps : ndarray
    l2 : ndarray (n_records, n_layers)
        ``||G_{t,i} - G'_{t,i}||``: change of layer ``i``'s gradient when layers ``< i`` take
        their step first (same mini-batch). Layer 0 has no earlier layer (0 by definition).
    cosine : ndarray (n_records, n_layers)
        Cosine between ``G`` and ``G'`` (1 for layer 0).
    relative : ndarray
        ``l2 / ||G||``.
    status : Status
    """

    steps: Array = field(repr=False)
    l2: Array = field(repr=False)
    cosine: Array = field(repr=False)
    relative: Array = field(repr=False)
    status: Status


class ICSProbe:
    """Probe of :func:`bntheory.nets.loop.sgd`: Santurkar et al.'s (2018) Def. 2.1 at one step.

    For every dense layer ``i >= 1``, the gradient ``G'`` of layer ``i``'s parameters after
    the earlier layers took their step (same mini-batch), against the step's gradient ``G``.

    Parameters
    ----------
    net : MLP
        The network being trained (the probe moves it; the loop restores it).
    lr : float
        The training learning rate.

    Attributes
    ----------
    steps : list of int
    l2, cosine, relative : list of ndarray (n_layers,)
        ``||G - G'||``, the cosine between them and ``||G - G'|| / ||G||`` per probed step.
    """

    def __init__(self, net: MLP, lr: float) -> None:
        self.net, self.lr = net, lr
        self.steps: list[int] = []
        self.l2: list[Array] = []
        self.cosine: list[Array] = []
        self.relative: list[Array] = []

    def __call__(self, step: int, theta: Array, grad: Array, X: Array, Y: Array) -> None:
        """Measure Def. 2.1 at ``theta`` on the batch ``(X, Y)``.

        Parameters
        ----------
        step : int
        theta, grad : ndarray (dim,)
            Current parameters and mini-batch gradient.
        X, Y : ndarray
            The step's mini-batch.

        Returns
        -------
        None
        """
        net, lr, g = self.net, self.lr, grad
        nl = net.n_layers
        l2, cs, rl = np.zeros(nl), np.ones(nl), np.zeros(nl)
        for i in range(1, nl):
            sl = net.layer_slices[i]
            th2 = theta.copy()
            with np.errstate(all="ignore"):
                th2[: sl.start] -= lr * g[: sl.start]  # earlier layers updated
            _, g2 = loss_and_grad_at(net, th2, X, Y)
            if g2 is None:
                l2[i], cs[i], rl[i] = np.inf, 0.0, np.inf
                continue
            G, G2 = g[sl], g2[sl]
            with np.errstate(all="ignore"):  # a diverging plain net: inf, not a warning
                nG, nG2 = np.linalg.norm(G), np.linalg.norm(G2)
                l2[i] = np.linalg.norm(G - G2)
                cs[i] = float(G @ G2 / (nG * nG2)) if nG > 0 and nG2 > 0 else 1.0
                rl[i] = l2[i] / nG if nG > 0 else 0.0
            if not np.isfinite(cs[i]):
                cs[i] = 0.0  # the cosine of overflowing vectors is undefined
        self.steps.append(step)
        self.l2.append(l2)
        self.cosine.append(cs)
        self.relative.append(rl)


def internal_covariate_shift(
    net: MLP,
    X: Array,
    Y: Array,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    every: int = 1,
    rng: int | np.random.Generator | None = None,
) -> ICSResult:
    """ICS by Santurkar et al. (2018), Definition 2.1, measured while training with (S)GD.

    ``G_{t,i} = grad_{W_i} L(W_1^t, ..., W_k^t)`` and ``G'_{t,i} = grad_{W_i}
    L(W_1^{t+1}, ..., W_{i-1}^{t+1}, W_i^t, ..., W_k^t)`` on the same batch; ``W_i`` is all
    parameters of dense layer ``i`` (weights, bias, BN scale and shift).

    Parameters
    ----------
    net : MLP
        Trained in place (left at the last finite parameters).
    X, Y : array_like
        Training data.
    lr : float
    steps : int
    batch_size : int, optional
        In ``[2, N]``; None = full batch.
    every : int
        Measure every ``every`` steps (from step 0).
    rng : int, Generator or None
        Seed of the mini-batch order.

    Returns
    -------
    ICSResult
    """
    net, X, Y, lr, steps = check_training(net, X, Y, lr, steps)
    every = check_count(every, "every")
    check_batch_size(batch_size, X.shape[0])
    probe = ICSProbe(net, lr)
    run = sgd(
        net, X, Y, lr=lr, steps=steps, batch_size=batch_size, rng=rng, probe=probe, every=every
    )
    shape = (-1, net.n_layers)
    return ICSResult(
        np.asarray(probe.steps),
        np.asarray(probe.l2).reshape(shape),
        np.asarray(probe.cosine).reshape(shape),
        np.asarray(probe.relative).reshape(shape),
        run.status,
    )
