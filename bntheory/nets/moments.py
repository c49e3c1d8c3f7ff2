"""How much the moments of every dense layer's input move between consecutive training
iterations: the measure the reference article attributes to Santurkar et al. (2018) ("the L2
difference in mean and standard deviation of layer inputs"), whose Def. 2.1 measures a
gradient change instead (:func:`bntheory.nets.santurkar2018.internal_covariate_shift`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bntheory.nets.checks import check_batch_size, check_matrix, check_training
from bntheory.nets.loop import sgd
from bntheory.nets.mlp import MLP
from bntheory.status import Status

__all__ = ["MomentShiftResult", "layer_input_moment_shift"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class MomentShiftResult:
    """Shift of the mean and standard deviation of every dense layer's input between
    consecutive training iterations.

    Attributes
    ----------
    steps : ndarray
        Iterations ``t`` (the shift is from ``t`` to ``t + 1``).
    mean_shift, std_shift : ndarray (steps, n_layers)
        ``||mu_k(t+1) - mu_k(t)||_2`` and ``||sd_k(t+1) - sd_k(t)||_2`` of the per-feature
        mean / standard deviation of layer ``k``'s input over the probe set.
    relative : ndarray (steps, n_layers)
        ``sqrt(mean_shift^2 + std_shift^2) / ||sd_k(t)||_2`` (scale free, so networks with
        and without BN are comparable). Layer 0's input is the data: 0.
    status : Status
    """

    steps: Array = field(repr=False)
    mean_shift: Array = field(repr=False)
    std_shift: Array = field(repr=False)
    relative: Array = field(repr=False)
    status: Status


def _input_moments(net: MLP, X: Array) -> tuple[list[Array], list[Array]] | None:
    try:
        with np.errstate(all="ignore"):  # overflow is reported as None, never as a warning
            fw = net.forward_trace(X, True)
            mus = [h.mean(axis=0) for h in fw.inputs]
            sds = [h.std(axis=0) for h in fw.inputs]
    except (FloatingPointError, ValueError):
        return None
    if not all(
        np.all(np.isfinite(m)) and np.all(np.isfinite(s)) for m, s in zip(mus, sds, strict=True)
    ):
        return None
    return mus, sds


def layer_input_moment_shift(
    net: MLP,
    X: Array,
    Y: Array,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    X_probe: Array | None = None,
    rng: int | np.random.Generator | None = None,
) -> MomentShiftResult:
    """Train with (S)GD and record, after every step, how much the mean and standard
    deviation of each dense layer's input (on the fixed probe set ``X_probe``, default
    ``X``, train mode) moved. With the same ``rng`` as
    :func:`~bntheory.nets.santurkar2018.internal_covariate_shift` both see the same
    mini-batches, so they follow the same trajectory.

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
    X_probe : array_like, optional
        Inputs whose layer moments are tracked (default ``X``).
    rng : int, Generator or None
        Seed of the mini-batch order.

    Returns
    -------
    MomentShiftResult
    """
    net, X, Y, lr, steps = check_training(net, X, Y, lr, steps)
    Xp = X if X_probe is None else check_matrix(X_probe, "X_probe", cols=net.sizes[0])
    check_batch_size(batch_size, X.shape[0])
    nl = net.n_layers
    prev = _input_moments(net, Xp)
    rec, ms, ss, rel = [], [], [], []

    def after_step(done: int) -> str | None:
        nonlocal prev
        cur = _input_moments(net, Xp)
        if cur is None:
            return f"non-finite layer-input moments after step {done - 1}"
        dm = np.array([np.linalg.norm(cur[0][k] - prev[0][k]) for k in range(nl)])
        ds = np.array([np.linalg.norm(cur[1][k] - prev[1][k]) for k in range(nl)])
        sd = np.array([np.linalg.norm(prev[1][k]) for k in range(nl)])
        with np.errstate(all="ignore"):
            r = np.where(sd > 0, np.hypot(dm, ds) / np.where(sd > 0, sd, 1.0), 0.0)
        rec.append(done - 1)
        ms.append(dm)
        ss.append(ds)
        rel.append(r)
        prev = cur
        return None

    run = sgd(
        net, X, Y, lr=lr, steps=steps if prev is not None else 0, batch_size=batch_size,
        rng=rng, after_step=after_step,
    )  # fmt: skip
    status = run.status if prev is not None else Status.DIVERGED
    shape = (-1, nl)
    return MomentShiftResult(
        np.asarray(rec),
        np.asarray(ms, dtype=float).reshape(shape),
        np.asarray(ss, dtype=float).reshape(shape),
        np.asarray(rel, dtype=float).reshape(shape),
        status,
    )
