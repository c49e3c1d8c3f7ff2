"""The one (stochastic) gradient-descent loop of :mod:`bntheory.nets`, with probe callbacks.

Every training run of the package goes through :func:`sgd`: :func:`bntheory.nets.train.train`,
the landscape and covariate-shift measurements of Santurkar et al. (2018)
(:mod:`bntheory.nets.santurkar2018`), the layer-input moment shift
(:mod:`bntheory.nets.moments`) and the MNIST protocol of Ioffe & Szegedy (2015)
(:mod:`bntheory.nets.ioffe2015`). The mini-batches come from one rng stream
(:class:`MiniBatches`: a permutation drawn at the start, a fresh one whenever the epoch runs
out); what a caller measures is a callback:

* ``probe(step, theta, grad, X_batch, Y_batch)`` every ``every`` steps, after the step's
  loss and gradient and before the update (it may move the network: the loop restores it);
* ``after_step(done)`` after every update (the network is at the new parameters); returning
  a message stops the run as diverged.

Divergence is a status (:class:`bntheory.status.Status`), never an exception or a NaN: a
non-finite loss, gradient or parameter vector, or (with ``divergence_factor``) a mini-batch
loss above ``divergence_factor * max(1, L_0)``, stops the run with ``Status.DIVERGED`` and a
message, and the network is left at the last finite parameters.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bntheory._checks import as_generator, as_int
from bntheory.nets.mlp import MLP
from bntheory.status import Status

__all__ = ["MiniBatches", "SGDRun", "loss_and_grad_at", "safe_loss_and_grad", "sgd"]

Array = np.ndarray
#: ``probe(step, theta, grad, X_batch, Y_batch)``
Probe = Callable[[int, Array, Array, Array, Array], None]
#: ``after_step(done) -> None`` (go on) or a message (stop: diverged)
AfterStep = Callable[[int], "str | None"]


class MiniBatches:
    """Reshuffled mini-batch indices from one rng stream.

    A permutation of ``range(n)`` is drawn at construction (also for the full batch, so the
    stream is the same whatever the batch size) and a new one whenever fewer than
    ``batch_size`` indices are left in the current one.

    Parameters
    ----------
    n : int
        Number of training samples.
    batch_size : int or None
        Mini-batch size in ``[1, n]``; None = the full batch every step.
    rng : int, Generator or None
        Source of the permutations.

    Raises
    ------
    TypeError
        When ``n`` or ``batch_size`` is not an int.
    ValueError
        When ``n`` is not in ``[1, MiniBatches.max_n]`` (the permutation is held in memory:
        8 bytes a sample; raise the class attribute to go further) or ``batch_size`` is not
        in ``[1, n]``; refused before anything is allocated.
    """

    #: largest number of samples (a permutation of 10**8 indices takes 800 MB)
    max_n: int = 10**8

    def __init__(self, n: int, batch_size: int | None, rng: int | np.random.Generator | None):
        n = as_int(n, "n", minimum=1, maximum=self.max_n)  # max_n: a class attribute
        if batch_size is not None:
            batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=n)
        self.n, self.batch_size = n, batch_size
        self._gen = as_generator(rng)
        self._order, self._pos = self._gen.permutation(self.n), 0

    def next(self) -> Array | None:
        """Indices of the next mini-batch.

        Returns
        -------
        ndarray of int or None
            None for the full batch.
        """
        if self.batch_size is None:
            return None
        if self._pos + self.batch_size > self.n:
            self._order, self._pos = self._gen.permutation(self.n), 0
        idx = self._order[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx


def safe_loss_and_grad(
    net: MLP, X: Array, Y: Array, *, update_stats: bool = False, masks: list | None = None
) -> tuple[float, Array] | None:
    """``net.loss_and_grad`` with floating-point trouble turned into ``None``.

    Parameters
    ----------
    net : MLP
    X, Y : array_like
        The batch.
    update_stats : bool
        Update the BN running statistics with this batch.
    masks : list, optional
        Dropout masks.

    Returns
    -------
    tuple of (float, ndarray) or None
        Loss and gradient, or None on overflow or non-finite activations.
    """
    try:
        with np.errstate(all="ignore"):
            L, g = net.loss_and_grad(X, Y, update_stats=update_stats, masks=masks)
    except FloatingPointError:
        return None
    except ValueError as exc:
        if "overflows" in str(exc):
            return None
        raise
    if not (np.isfinite(L) and np.all(np.isfinite(g))):
        return None
    return L, g


def loss_and_grad_at(net: MLP, theta: Array, X: Array, Y: Array) -> tuple[float, Array | None]:
    """Train-mode loss and gradient at the parameters ``theta`` (the network is left there),
    with overflow as ``(inf, None)``.

    Parameters
    ----------
    net : MLP
    theta : ndarray (dim,)
        Parameters; non-finite ones give ``(inf, None)`` without touching the network.
    X, Y : ndarray
        The batch (already validated).

    Returns
    -------
    tuple of (float, ndarray or None)
    """
    if theta is None or isinstance(theta, (str, bytes)):
        raise TypeError(f"theta must be a real vector, got {type(theta).__name__}")
    try:
        theta = np.asarray(theta, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"theta must be a real vector of shape ({net.dim},)") from exc
    if theta.shape != (net.dim,):
        raise ValueError(f"theta must have shape ({net.dim},), got {theta.shape}")
    if not np.all(np.isfinite(theta)):
        return float("inf"), None
    net.set_flat(theta)
    res = safe_loss_and_grad(net, X, Y)
    if res is None:
        return float("inf"), None
    return res


@dataclass(frozen=True, slots=True)
class SGDRun:
    """What :func:`sgd` did.

    Attributes
    ----------
    status : Status
        ``COMPLETED`` or ``DIVERGED``.
    message : str
        Why the run diverged ("" when it completed).
    steps : int
        Parameter updates performed.
    losses : ndarray
        Mini-batch loss (before the update) of every step whose loss and gradient were finite
        and within the divergence factor: ``steps`` entries, or ``steps + 1`` when the update
        of the last one overflowed.
    theta : ndarray
        The last finite parameters (the network is left there).
    seconds, cpu_seconds : float
        Wall and CPU (``time.process_time``) time of the steps, probes and callbacks excluded.
    """

    status: Status
    message: str
    steps: int
    losses: Array = field(repr=False)
    theta: Array = field(repr=False)
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def sgd(
    net: MLP,
    X: Array,
    Y: Array,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    rng: int | np.random.Generator | None = None,
    probe: Probe | None = None,
    every: int = 1,
    after_step: AfterStep | None = None,
    update_stats: bool = False,
    mask_rng: np.random.Generator | None = None,
    divergence_factor: float | None = None,
) -> SGDRun:
    """Train ``net`` in place with (S)GD, ``theta <- theta - lr * grad L_batch(theta)``.

    Parameters
    ----------
    net : MLP
    X, Y : array_like
        Training data.
    lr : float
        Learning rate (> 0).
    steps : int
        Number of updates (>= 0).
    batch_size : int, optional
        Mini-batch size (:class:`MiniBatches`); None = full batch.
    rng : int, Generator or None
        Seed of the mini-batch order.
    probe : callable, optional
        ``probe(step, theta, grad, X_batch, Y_batch)`` at every step ``t`` with
        ``t % every == 0``, after the loss and gradient and before the update.
    every : int
        Probe spacing (>= 1).
    after_step : callable, optional
        ``after_step(done)`` after every update; a returned message stops the run (diverged).
    update_stats : bool
        Update the BN running statistics with each step's mini-batch.
    mask_rng : Generator, optional
        Source of one dropout mask per step (:meth:`MLP.dropout_masks`); None = no dropout.
    divergence_factor : float, optional
        Also declare divergence when a mini-batch loss exceeds
        ``divergence_factor * max(1, L_0)`` (``L_0`` the first step's loss).

    Returns
    -------
    SGDRun
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP, got {type(net).__name__}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if not np.isfinite(lr):
        raise ValueError(f"lr must be finite, got {lr!r}")
    for name, val, lo in (("steps", steps, 0), ("every", every, 1)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {val!r}")
    X = net.check_X(X)
    Y = net.check_Y(Y, X.shape[0])
    batches = MiniBatches(X.shape[0], batch_size, rng)
    theta = net.get_flat()
    losses: list[float] = []
    status, message, done, L0 = Status.COMPLETED, "", 0, None
    seconds = cpu = 0.0
    for t in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        idx = batches.next()
        Xb, Yb = (X, Y) if idx is None else (X[idx], Y[idx])
        masks = None if mask_rng is None else net.dropout_masks(Xb.shape[0], mask_rng)
        res = safe_loss_and_grad(net, Xb, Yb, update_stats=update_stats, masks=masks)
        if res is None:
            status, message = Status.DIVERGED, f"non-finite loss or gradient at step {t}"
            break
        L, g = res
        if divergence_factor is not None:
            L0 = L if L0 is None else L0
            if L > divergence_factor * max(1.0, L0):
                status = Status.DIVERGED
                message = f"loss {L:.3g} exceeded {divergence_factor:g} x max(1, L0)"
                break
        losses.append(L)
        seconds += time.perf_counter() - t0
        cpu += time.process_time() - c0
        if probe is not None and t % every == 0:
            probe(t, theta, g, Xb, Yb)
        t0, c0 = time.perf_counter(), time.process_time()
        with np.errstate(all="ignore"):
            new = theta - lr * g
        if not np.all(np.isfinite(new)):
            status, message = Status.DIVERGED, f"non-finite parameters after step {t}"
            break
        net.set_flat(new)
        theta = new
        done = t + 1
        seconds += time.perf_counter() - t0
        cpu += time.process_time() - c0
        if after_step is not None:
            msg = after_step(done)
            if msg is not None:
                status, message = Status.DIVERGED, str(msg)
                break
    net.set_flat(theta)
    return SGDRun(
        status, message, done, np.asarray(losses, dtype=float), theta.copy(), seconds, cpu
    )
