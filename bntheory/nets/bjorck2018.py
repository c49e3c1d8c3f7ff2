"""Bjorck, Gomes, Selman & Weinberger (2018), "Understanding batch normalization",
NeurIPS, measured on :class:`bntheory.nets.MLP`: the largest learning rate that still trains
(Sec. 2) and the relative loss change after one gradient step (Sec. 3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bntheory._checks import as_generator
from bntheory.nets.checks import check_net
from bntheory.nets.loop import loss_and_grad_at, safe_loss_and_grad
from bntheory.nets.mlp import MLP
from bntheory.nets.train import train
from bntheory.status import Status

__all__ = ["LRSweepResult", "RelativeLossChange", "bjorck_lr_sweep", "relative_loss_change"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class LRSweepResult:
    """Learning-rate sweep (Bjorck et al. 2018).

    Attributes
    ----------
    lrs : ndarray
    final_loss : ndarray
        Full-batch train-mode loss after training (``inf`` when diverged).
    initial_loss : float
    status : tuple of Status
        ``COMPLETED``, ``DIVERGED`` or ``SKIPPED`` (not run, ``stop_at_largest``) per
        learning rate (equal to the strings "completed", "diverged", "skipped").
    trained : ndarray of bool
        Completed and ``final_loss <= threshold * initial_loss``.
    max_lr : float or None
        Largest learning rate that trained (None if none did).
    """

    lrs: Array = field(repr=False)
    final_loss: Array = field(repr=False)
    initial_loss: float
    status: tuple[Status, ...]
    trained: Array = field(repr=False)
    max_lr: float | None


def bjorck_lr_sweep(
    net: MLP,
    X: Array,
    Y: Array,
    lrs: Sequence[float],
    *,
    steps: int,
    batch_size: int | None = None,
    threshold: float = 0.5,
    rng: int | np.random.Generator | None = 0,
    stop_at_largest: bool = False,
) -> LRSweepResult:
    """Largest learning rate that still trains (Bjorck et al. 2018, Sec. 2: only the BN
    network trains at large learning rates). Every run starts from ``net``'s current
    parameters (restored afterwards) with the same mini-batch order; "trains" means no
    divergence and a final full-batch loss at most ``threshold`` times the initial one.

    ``stop_at_largest=True`` runs the rates from the largest down and stops at the first
    that trains: the same ``max_lr`` (the first success from the top is the largest one)
    at a fraction of the cost; the rates not run get status ``"skipped"`` (final loss nan,
    not trained).

    Parameters
    ----------
    net : MLP
        Start of every run (its parameters are restored at the end).
    X, Y : array_like
        Training data.
    lrs : sequence of float
        Positive learning rates (sorted ascending in the result).
    steps : int
        Training steps of each run (:func:`bntheory.nets.train.train`).
    batch_size : int, optional
        None = full batch.
    threshold : float
        In ``(0, 1]``: "trains" = final loss at most ``threshold`` times the initial one.
    rng : int, Generator or None
        Seed of the mini-batch order (one seed drawn, shared by every run).
    stop_at_largest : bool
        Run from the largest rate down and stop at the first that trains.

    Returns
    -------
    LRSweepResult
    """
    net = check_net(net)
    lrs = np.sort(np.asarray(lrs, dtype=float))
    if lrs.ndim != 1 or lrs.size < 1 or np.any(~np.isfinite(lrs)) or np.any(lrs <= 0):
        raise ValueError("lrs must be a non-empty 1-D array of positive learning rates")
    if not (0 < threshold <= 1):
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    X = net.check_X(X)
    Yc = net.check_Y(Y, X.shape[0])
    theta0 = net.get_flat()
    seed = int(as_generator(rng).integers(2**63))
    L0 = net.loss(X, Yc)
    finals, statuses = [np.nan] * lrs.size, [Status.SKIPPED] * lrs.size
    order = range(lrs.size - 1, -1, -1) if stop_at_largest else range(lrs.size)
    for i in order:
        net.set_flat(theta0)
        r = train(net, X, Yc, lr=float(lrs[i]), steps=steps, batch_size=batch_size, rng=seed)
        if r.status == Status.DIVERGED:
            finals[i] = np.inf
        else:
            res = safe_loss_and_grad(net, X, Yc)
            finals[i] = np.inf if res is None else res[0]
        statuses[i] = Status(r.status) if np.isfinite(finals[i]) else Status.DIVERGED
        if stop_at_largest and statuses[i] == Status.COMPLETED and finals[i] <= threshold * L0:
            break
    net.set_flat(theta0)
    finals_a = np.asarray(finals, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.array([s == Status.COMPLETED for s in statuses]) & (finals_a <= threshold * L0)
    return LRSweepResult(
        lrs, finals_a, float(L0), tuple(statuses), ok, float(lrs[ok].max()) if ok.any() else None
    )


@dataclass(frozen=True, slots=True)
class RelativeLossChange:
    """``(L(x - alpha grad L) - L(x)) / L(x)`` at the current point (Bjorck et al. 2018).

    Attributes
    ----------
    alphas : ndarray
        Step sizes.
    rel_change : ndarray
        Relative loss change per step size (``inf`` where the step overflowed).
    loss : float
        ``L(x)``.
    grad_norm : float
        ``||grad L(x)||``.
    """

    alphas: Array = field(repr=False)
    rel_change: Array = field(repr=False)
    loss: float
    grad_norm: float


def relative_loss_change(
    net: MLP, X: Array, Y: Array, alphas: Sequence[float]
) -> RelativeLossChange:
    """Relative loss change after one full gradient step of size ``alpha`` (Bjorck et al.
    2018, Sec. 3); ``inf`` where the step overflows.

    Parameters
    ----------
    net : MLP
        Evaluated at its current parameters (restored afterwards).
    X, Y : array_like
        The batch.
    alphas : sequence of float
        Positive step sizes.

    Returns
    -------
    RelativeLossChange
    """
    net = check_net(net)
    try:
        alphas = np.asarray(alphas, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"alphas must be a 1-D array of step sizes, got {alphas!r:.60}") from None
    if alphas.ndim != 1 or np.any(alphas <= 0) or np.any(~np.isfinite(alphas)):
        raise ValueError("alphas must be a 1-D array of positive step sizes")
    theta = net.get_flat()
    L, g = net.loss_and_grad(X, Y)
    Xc = net.check_X(X)
    Yc = net.check_Y(Y, Xc.shape[0])
    out = []
    for a in alphas:
        La, _ = loss_and_grad_at(net, theta - a * g, Xc, Yc)
        out.append((La - L) / L if np.isfinite(La) else np.inf)
    net.set_flat(theta)
    return RelativeLossChange(alphas, np.asarray(out), float(L), float(np.linalg.norm(g)))
