"""The protocol of Ioffe & Szegedy (2015), Sec. 4.1 / Fig. 1 (its stated and declared settings,
the labels of a run's protocol) and the record of one run (:class:`IoffeFig1Run`); the run
itself is :func:`bntheory.nets.ioffe2015.ioffe_figure1_mnist`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bntheory._checks import as_real_array
from bntheory.nets.data import Dataset
from bntheory.status import Status

__all__ = [
    "BATCH",
    "CUSTOM_LABEL",
    "EVAL_EVERY",
    "HIDDEN",
    "LR",
    "PAPER_LABEL",
    "PAPER_STEPS",
    "PERCENTILES",
    "POP_BATCHES",
    "QUICK_EVAL_EVERY",
    "QUICK_LABEL",
    "QUICK_STEPS",
    "IoffeFig1Run",
    "percentile_drift",
    "protocol_label",
]

Array = np.ndarray

#: The paper's protocol (Ioffe & Szegedy 2015, Sec. 4.1).
PAPER_STEPS = 50_000
BATCH = 60
HIDDEN = (100, 100, 100)
PERCENTILES = (15.0, 50.0, 85.0)
#: Declared settings (not in the paper): SGD learning rate and the shortened quick protocol.
LR = 0.5
QUICK_STEPS = 3_000
#: Default checkpoint spacing (steps) of the paper protocol and of the quick one.
EVAL_EVERY = 500
QUICK_EVAL_EVERY = 200
#: Training mini-batches of Alg. 2's population statistics (50 x 60 = 3,000 images).
POP_BATCHES = 50
#: Protocol labels carried by the result (and by the experiment's figure and data).
PAPER_LABEL = "paper (Ioffe & Szegedy 2015, Sec. 4.1)"
QUICK_LABEL = "quick (shortened protocol)"
CUSTOM_LABEL = "custom (not the paper's protocol)"


@dataclass(frozen=True, slots=True)
class IoffeFig1Run:
    """One network (with or without BN) of Ioffe & Szegedy's Fig. 1 experiment.

    Attributes
    ----------
    bn : bool
    protocol : str
        :data:`PAPER_LABEL`, :data:`QUICK_LABEL` or :data:`CUSTOM_LABEL` (see
        :func:`protocol_label`).
    dataset : str
        Name of the data set (``"mnist"`` for the real one).
    n_train, n_test : int
    sizes : tuple of int
        Layer widths ``(784, 100, 100, 100, 10)``.
    steps : int
        SGD steps performed (fewer than asked when the run diverged).
    batch, lr, seed, layer, unit : int, float, int, int, int
        Mini-batch size, learning rate, seed, the probed hidden layer (0-based dense-layer
        index of the last hidden layer) and unit.
    status : Status
        ``COMPLETED`` or ``DIVERGED``.
    message : str
    eval_steps : ndarray (n_eval,)
        Checkpoints (0 = initialization).
    test_accuracy, test_loss : ndarray (n_eval,)
        Inference-network accuracy and mean cross-entropy on the test set.
    percentiles : ndarray (n_eval, 3)
        {15, 50, 85}th percentiles over the test set of the sigmoid input of ``unit``.
    unit_percentiles : ndarray (n_eval, 3, width)
        The same for every unit of the last hidden layer.
    hidden_percentiles : ndarray (n_eval, n_hidden, 3, width)
        The same for every unit of every hidden layer when the run was asked for
        ``all_layers=True`` (for the layer dependence of the drift); shape ``(0,)`` otherwise.
    train_loss : ndarray (steps,)
        Train-mode loss of each step's mini-batch (before the update).
    theta : ndarray
        Final flat parameters (:meth:`MLP.get_flat` layout).
    pop_mean, pop_var : ndarray (n_bn_layers, width)
        Final population statistics of the BN layers (shape ``(0, width)`` without BN).
    pop_index : ndarray (n_pop, batch) of int
        Training-set indices of the population-statistics mini-batches.
    seconds : float
        Wall time of the whole run.
    seconds_per_step : float
        Wall time of the SGD steps alone (no evaluation) per step.
    cpu_seconds_per_step : float
        CPU time (``time.process_time``) of the SGD steps alone per step; unlike the wall
        time it does not grow when other processes share the machine.
    """

    bn: bool
    protocol: str
    dataset: str
    n_train: int
    n_test: int
    sizes: tuple[int, ...]
    steps: int
    batch: int
    lr: float
    seed: int
    layer: int
    unit: int
    status: Status
    message: str
    eval_steps: Array = field(repr=False)
    test_accuracy: Array = field(repr=False)
    test_loss: Array = field(repr=False)
    percentiles: Array = field(repr=False)
    unit_percentiles: Array = field(repr=False)
    hidden_percentiles: Array = field(repr=False)
    train_loss: Array = field(repr=False)
    theta: Array = field(repr=False)
    pop_mean: Array = field(repr=False)
    pop_var: Array = field(repr=False)
    pop_index: Array = field(repr=False)
    seconds: float = 0.0
    seconds_per_step: float = 0.0
    cpu_seconds_per_step: float = 0.0

    @property
    def quick(self) -> bool:
        """Whether the run used the shortened quick protocol.

        Returns
        -------
        bool
        """
        return self.protocol == QUICK_LABEL


def protocol_label(*, quick: bool, steps: int, batch: int, data: Dataset) -> str:
    """The protocol a run follows: :data:`QUICK_LABEL` when ``quick``; :data:`PAPER_LABEL`
    only for 50,000 steps of mini-batches of 60 on the full MNIST (60,000 / 10,000 images);
    :data:`CUSTOM_LABEL` otherwise (so a shortened run is never labelled as the paper's).

    Parameters
    ----------
    quick : bool
    steps, batch : int
    data : Dataset

    Returns
    -------
    str
    """
    if not (isinstance(quick, (bool, np.bool_)) or (isinstance(quick, int) and quick in (0, 1))):
        raise TypeError(f"quick must be a bool, got {type(quick).__name__} {quick!r:.20}")
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a Dataset, got {type(data).__name__}")
    if quick:
        return QUICK_LABEL
    full = (
        data.name == "mnist"
        and data.X_train.shape == (60_000, 784)
        and data.X_test.shape == (10_000, 784)
    )
    if full and steps == PAPER_STEPS and batch == BATCH:
        return PAPER_LABEL
    return CUSTOM_LABEL


def percentile_drift(percentiles: Array, *, reference: str = "initial") -> Array | float:
    """Largest move of the {15, 50, 85}th percentiles from their initial values, in units of
    a 15-85 spread: ``max_t max_j |P_j(t) - P_j(0)| / S``.

    ``reference="initial"``: ``S = P_85(0) - P_15(0)``, the initial spread (the definition of
    the ledger's ics-02, :func:`bntheory.claims._netexp.ioffe_fig1`); it is large when the
    initial distribution is narrow. ``reference="mean"``: ``S`` = the mean of
    ``P_85(t) - P_15(t)`` over the checkpoints (the typical spread during training).
    ``percentiles`` has shape ``(n_eval, 3)`` (one unit: a float) or ``(n_eval, 3, units)``
    (one value per unit).

    Parameters
    ----------
    percentiles : array_like (n_eval, 3[, units])
        {15, 50, 85}th percentiles per checkpoint.
    reference : {"initial", "mean"}
        The spread ``S``.

    Returns
    -------
    float or ndarray
        The drift (per unit for 3-D input).
    """
    P = as_real_array(percentiles, "percentiles")  # NaN allowed: a diverged run's checkpoints
    if P.ndim not in (2, 3) or P.shape[1] != 3 or P.shape[0] < 1:
        raise ValueError(f"percentiles must have shape (n_eval, 3[, units]), got {P.shape}")
    finite = np.abs(P[np.isfinite(P)])
    if finite.size and finite.max() > 2.0**1000:  # differences (and the mean spread) of values
        P = P * 2.0**-24  # near 1e308 overflow; a power-of-2 rescaling leaves the ratio unchanged
    if reference == "initial":
        spread = P[0, 2] - P[0, 0]
    elif reference == "mean":
        spread = np.mean(P[:, 2] - P[:, 0], axis=0)
    else:
        raise ValueError(f"reference must be 'initial' or 'mean', got {reference!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.max(np.abs(P - P[:1]), axis=(0, 1)) / spread
    return float(d) if P.ndim == 2 else d
