"""Training (full-batch GD and mini-batch SGD) of :class:`bntheory.nets.MLP` with test-set
evaluation and activation probes, on the package's one loop (:func:`bntheory.nets.loop.sgd`).

Divergence is a status: a non-finite or exploding loss / parameter vector stops the run
with ``status="diverged"``; overflow never leaks as a RuntimeWarning or a NaN in a result.

Divergence rule. :func:`train` declares divergence when a mini-batch loss exceeds
``divergence_factor * max(1, L_0)`` with ``divergence_factor = 1e6``
(:data:`TRAIN_DIVERGENCE_FACTOR`), not the ``1e12`` of :data:`bntheory.status.DIVERGENCE_FACTOR`
used by :func:`bntheory.solvers.solve`. Both are loss rules; ``solve`` watches the full
objective of a deterministic problem, ``train`` the noisy loss of one mini-batch. In the
ledger (quick and full, seed 0) the training rule never fires (every diverging run ends on
a non-finite loss, gradient or parameter vector first), so the two factors give the same
ledger; the figures' training runs (e.g. the diverging residual ReLU net of
``gradient_depth``) were not all re-checked under ``1e12``, so the training value is kept
until they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bntheory._checks import as_generator
from bntheory.nets.loop import safe_loss_and_grad, sgd
from bntheory.nets.mlp import MLP
from bntheory.status import Status

__all__ = ["TRAIN_DIVERGENCE_FACTOR", "TrainResult", "accuracy", "safe_loss_and_grad", "train"]

Array = np.ndarray
#: Default divergence factor of :func:`train` (a mini-batch-loss rule; see the module docstring).
TRAIN_DIVERGENCE_FACTOR = 1e6


@dataclass(frozen=True, slots=True)
class TrainResult:
    """Record of a training run.

    Attributes
    ----------
    status : Status
        ``Status.COMPLETED`` or ``Status.DIVERGED`` (equal to the strings "completed" /
        "diverged").
    steps : int
        Number of parameter updates performed.
    losses : ndarray (steps,)
        Train-mode loss of the mini-batch used at each step (before the update).
    grad_norms : ndarray (steps, n_layers)
        Euclidean norm of the gradient of each dense layer's parameters at each step.
    eval_steps : ndarray
        Steps at which the evaluation was recorded (0 = initialization).
    test_loss, test_accuracy : ndarray
        Eval-mode loss / accuracy on the test set at ``eval_steps`` (empty without a test
        set; accuracy is nan for regression).
    activations : dict
        ``(layer, unit) -> ndarray (len(eval_steps), n_probe)``: the input of the
        nonlinearity ``z_layer[:, unit]`` (after BN) on the probe inputs, eval mode.
    theta : ndarray
        Final flat parameters (the last finite ones when diverged).
    message : str
    """

    status: Status
    steps: int
    losses: Array = field(repr=False)
    grad_norms: Array = field(repr=False)
    eval_steps: Array = field(repr=False)
    test_loss: Array = field(repr=False)
    test_accuracy: Array = field(repr=False)
    activations: dict = field(repr=False)
    theta: Array = field(repr=False)
    message: str = ""


def accuracy(net: MLP, X: Array, labels: Array) -> float:
    """Eval-mode classification accuracy.

    Parameters
    ----------
    net : MLP
    X : array_like (N, d_in)
    labels : array_like (N,) of int

    Returns
    -------
    float
        Fraction of samples whose largest output is the label.

    Raises
    ------
    TypeError
        When ``net`` is not an MLP or ``X``/``labels`` are not numeric arrays.
    ValueError
        For a bad ``X`` or a number of labels other than ``N``.
    """
    from bntheory.nets.checks import check_net

    net = check_net(net)
    X = net.check_X(X)
    if labels is None or isinstance(labels, (str, bytes)):
        raise TypeError(f"labels must be an array of class indices, got {type(labels).__name__}")
    try:
        y = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise TypeError("labels must be a flat array of class indices") from exc
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"labels must have shape ({X.shape[0]},) (one per row of X), got {y.shape}"
        )
    with np.errstate(all="ignore"):
        out = net.predict(X)
    return float(np.mean(np.argmax(out, axis=1) == y))


def _scaled_norm(v: Array) -> float:
    """Euclidean norm without overflow in the squares (scaled by the largest entry)."""
    m = float(np.max(np.abs(v))) if v.size else 0.0
    if m == 0.0 or not np.isfinite(m):
        return m
    with np.errstate(over="ignore"):
        return float(m * np.linalg.norm(v / m))


def layer_norms(net: MLP, g: Array) -> Array:
    """Euclidean norm of each dense layer's block of the flat vector ``g`` (overflow-free).

    Parameters
    ----------
    net : MLP
    g : ndarray (dim,)

    Returns
    -------
    ndarray (n_layers,)
    """
    return np.array([_scaled_norm(g[s]) for s in net.layer_slices])


def train(
    net: MLP,
    X: Array,
    Y: Array,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    rng: int | np.random.Generator | None = None,
    X_test: Array | None = None,
    Y_test: Array | None = None,
    eval_every: int = 0,
    probe: Sequence[tuple[int, int]] = (),
    X_probe: Array | None = None,
    divergence_factor: float = TRAIN_DIVERGENCE_FACTOR,
    update_stats: bool = True,
    probe_training: bool = False,
    dropout_rng: int | np.random.Generator | None = None,
) -> TrainResult:
    """Train ``net`` in place with GD (``batch_size=None``) or SGD on shuffled mini-batches.

    Parameters
    ----------
    net : MLP
    X, Y : array_like
        Training data.
    lr : float
        Learning rate (> 0).
    steps : int
        Number of updates.
    batch_size : int, optional
        Mini-batch size; ``None`` = full batch.
    rng : int, Generator or None
        Seed of the mini-batch order.
    X_test, Y_test : array_like, optional
        Test set evaluated (eval mode) every ``eval_every`` steps and at the end.
    eval_every : int
        0 = evaluate only at initialization and at the end.
    probe : sequence of (layer, unit)
        Activations ``z_layer[:, unit]`` recorded on ``X_probe`` (default ``X_test``) at the
        evaluation steps.
    divergence_factor : float
        The run is declared diverged when the loss exceeds ``divergence_factor * max(1, L0)``
        or anything becomes non-finite (default 1e6, see the module docstring).
    probe_training : bool
        Record the probe activations in train mode (batch statistics of the whole probe
        set, i.e. its population statistics) instead of eval mode (running averages, which
        are still at their initial 0 / 1 at step 0).
    update_stats : bool
        Update the BN running statistics with each step's mini-batch (during the forward
        pass of the step, as frameworks do).
    dropout_rng : int, Generator or None
        Seed of the dropout masks (one fresh mask per step, :meth:`MLP.dropout_masks`) when
        ``net.dropout > 0``. Default: a child spawned from ``rng`` (``Generator.spawn``
        draws nothing from it), so the mini-batch order is the same with and without
        dropout. Evaluations (test set, probes) never use dropout.

    Returns
    -------
    TrainResult
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an MLP, got {type(net).__name__}")
    if isinstance(lr, bool) or not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    X = net.check_X(X)
    Y = net.check_Y(Y, X.shape[0])
    n = X.shape[0]
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError("batch_size must be an int or None")
        if batch_size < 1 or batch_size > n:
            raise ValueError(f"batch_size must lie in [1, {n}], got {batch_size}")
        if net.bn_layers and batch_size < 2:
            raise ValueError("batch_size must be >= 2 for a train-mode BN network")
    gen = as_generator(rng)
    mask_gen = None
    if net.dropout > 0:
        if dropout_rng is not None:
            mask_gen = as_generator(dropout_rng)
        else:
            try:
                mask_gen = gen.spawn(1)[0]
            except (TypeError, AttributeError):  # a bit generator without a SeedSequence
                mask_gen = np.random.default_rng(int(gen.integers(2**63)))
    has_test = X_test is not None and Y_test is not None
    if has_test:
        X_test = net.check_X(X_test)
        Y_test_raw = np.asarray(Y_test)
        Y_test_m = net.check_Y(Y_test, X_test.shape[0])
    if X_probe is None and probe:
        if not has_test:
            raise ValueError("X_probe is required for probe without a test set")
        X_probe = X_test
    if probe:
        X_probe = net.check_X(X_probe)
        for layer, unit in probe:
            if not (0 <= layer < net.n_layers - 1) or not (0 <= unit < net.sizes[layer + 1]):
                raise ValueError(f"probe entry {(layer, unit)} is not a hidden (layer, unit)")
    classify = net.loss_name == "cross_entropy"

    gnorms: list[Array] = []
    ev_steps, te_loss, te_acc = [], [], []
    acts: dict = {tuple(p): [] for p in probe}

    def evaluate(step: int) -> None:
        # everything is computed before anything is recorded: an evaluation that fails
        # (eval-mode BN on overflowing weights) leaves the records aligned
        loss_acc = None
        if has_test:
            with np.errstate(all="ignore"):
                out = net.forward_trace(X_test, training=False).out
                lt, _ = net.output_loss_and_grad(out, Y_test_m)
            loss_acc = (
                float(lt) if np.isfinite(lt) else np.inf,
                float(np.mean(np.argmax(out, axis=1) == Y_test_raw.reshape(-1)))
                if classify and Y_test_raw.ndim == 1
                else np.nan,
            )
        probes = {}
        if probe:
            fw = net.forward_trace(X_probe, training=probe_training)
            probes = {(layer, unit): fw.z[layer][:, unit].copy() for layer, unit in probe}
        ev_steps.append(step)
        if loss_acc is not None:
            te_loss.append(loss_acc[0])
            te_acc.append(loss_acc[1])
        for key, v in probes.items():
            acts[key].append(v)

    def diverged_evaluation(step: int) -> str | None:
        """Evaluate at ``step``; the message that ends the run when the weights have grown
        so large that the evaluation overflows (the input was checked on entry: a
        ValueError here is numerical)."""
        try:
            evaluate(step)
        except ValueError as exc:
            return f"evaluation at step {step} failed on overflowing weights: {exc}"
        return None

    def record_norms(step: int, theta: Array, g: Array, Xb: Array, Yb: Array) -> None:
        gnorms.append(layer_norms(net, g))

    def after_step(done: int) -> str | None:
        if eval_every and done % eval_every == 0 and done < steps:
            return diverged_evaluation(done)
        return None

    evaluate(0)
    run = sgd(
        net, X, Y, lr=lr, steps=steps, batch_size=batch_size, rng=gen, probe=record_norms,
        after_step=after_step, update_stats=update_stats, mask_rng=mask_gen,
        divergence_factor=divergence_factor,
    )  # fmt: skip
    done, status, message = run.steps, run.status, run.message
    if status == Status.COMPLETED and steps > 0 and (not ev_steps or ev_steps[-1] != done):
        message = diverged_evaluation(done) or ""
        status = Status.DIVERGED if message else status
    return TrainResult(
        status,
        done,
        run.losses,
        np.asarray(gnorms, dtype=float).reshape(-1, net.n_layers),
        np.asarray(ev_steps),
        np.asarray(te_loss, dtype=float),
        np.asarray(te_acc, dtype=float),
        {k: np.asarray(v) for k, v in acts.items()},
        run.theta,
        message,
    )
