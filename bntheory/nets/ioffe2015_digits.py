"""Ioffe & Szegedy (2015), Fig. 1, scaled down: the digits (or a Gaussian-mixture) analogue of
the MNIST experiment of :mod:`bntheory.nets.ioffe2015`, with the sigmoid-input distribution
shift and saturation of the networks without and with BN."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from bntheory._checks import as_generator
from bntheory.nets.activation_stats import ActivationShift, activation_shift, saturated_fraction
from bntheory.nets.checks import check_int
from bntheory.nets.data import gaussian_mixture, load_digits_split
from bntheory.nets.train import train
from bntheory.status import Status

__all__ = ["IoffeFigure1", "ioffe_figure1"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class IoffeFigure1:
    """Ioffe & Szegedy (2015), Fig. 1 analogue, for the network without and with BN.

    Attributes
    ----------
    dataset : str
        ``"digits"``, or ``"gaussian_mixture"`` when asked for (``use_digits=False``).
    eval_steps : ndarray
    accuracy_plain, accuracy_bn : ndarray
        Test accuracy (eval mode) at ``eval_steps``.
    shift_plain, shift_bn : ActivationShift
        Sigmoid input of unit ``unit`` of the last hidden layer on the test inputs.
    status_plain, status_bn : Status
    saturation_plain, saturation_bn : ndarray (2,)
        Fraction of all hidden sigmoid inputs (every unit of the 3 hidden layers, test set,
        train mode) with ``|z| > saturated_at`` at initialization and after training (NaN
        after training when the run diverged and its batch statistics overflow).
    grad_norms_plain, grad_norms_bn : ndarray (steps, 4)
        Mini-batch gradient norm of each dense layer's parameters at every step
        (:attr:`bntheory.nets.TrainResult.grad_norms`).
    """

    dataset: str
    eval_steps: Array = field(repr=False)
    accuracy_plain: Array = field(repr=False)
    accuracy_bn: Array = field(repr=False)
    shift_plain: ActivationShift
    shift_bn: ActivationShift
    status_plain: Status
    status_bn: Status
    saturation_plain: Array = field(default=None, repr=False)
    saturation_bn: Array = field(default=None, repr=False)
    grad_norms_plain: Array = field(default=None, repr=False)
    grad_norms_bn: Array = field(default=None, repr=False)


def ioffe_figure1(
    *,
    steps: int = 3000,
    lr: float = 0.5,
    batch_size: int = 60,
    eval_every: int = 250,
    unit: int = 0,
    hidden: int = 100,
    rng: int | np.random.Generator | None = 0,
    use_digits: bool = True,
    saturated_at: float = 4.0,
) -> IoffeFigure1:
    """Fig. 1 of Ioffe & Szegedy (2015): 3 fully connected sigmoid hidden layers of 100 units,
    softmax cross-entropy, SGD with mini-batches of 60, with and without BN on every hidden
    layer, same initial weights and batch order. Data: scikit-learn's 8x8 digits (no
    download) instead of MNIST (``ImportError`` naming ``pip install 'bntheory[data]'`` if
    scikit-learn is missing: never a silent substitute); a 10-class Gaussian mixture in 64-D
    only when asked for with ``use_digits=False``. The paper does not give the optimizer's learning rate.
    Activations are the sigmoid inputs of unit ``unit`` of the last hidden layer on the
    test set, normalized with the test set's own batch statistics (train mode over the whole
    test set), so that the step-0 distribution is not distorted by running averages that
    have not been updated yet; accuracy is measured in eval mode. Saturation (the reference
    article: ICS drives sigmoids into saturation): fraction of all hidden sigmoid inputs with
    ``|z| > saturated_at`` (default 4, where ``sigmoid'(z) < 0.018``, 7 % of its maximum).

    Parameters
    ----------
    steps, lr, batch_size, eval_every : int, float, int, int
        SGD steps, learning rate (positive, finite), mini-batch size and evaluation spacing
        (0: at the start and the end only).
    unit : int
        Probed unit of the last hidden layer (``0 <= unit < hidden``).
    hidden : int
        Width of the 3 hidden layers.
    rng : int, Generator or None
        Seed of the weights, the data split and the mini-batch order.
    use_digits : bool
        Digits (True) or the Gaussian mixture.
    saturated_at : float
        Saturation threshold of the sigmoid inputs.

    Returns
    -------
    IoffeFigure1

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or value (the message names it).
    """
    from bntheory import nets

    hidden = check_int(hidden, "hidden", 1)
    unit = check_int(unit, "unit", 0)
    if unit >= hidden:
        raise ValueError(f"unit must be < hidden = {hidden}, got {unit}")
    eval_every = check_int(eval_every, "eval_every", 0)
    if not isinstance(use_digits, (bool, np.bool_)):
        raise TypeError(f"use_digits must be a bool, got {type(use_digits).__name__}")
    checked = []
    for name, v in (("lr", lr), ("saturated_at", saturated_at)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
        f = float(v) if abs(v) < 2.0**1023 else np.inf  # no OverflowError for a huge int
        if not (np.isfinite(f) and f > 0):
            raise ValueError(f"{name} must be a positive finite number, got {v!r:.40}")
        checked.append(f)
    lr, saturated_at = checked
    gen = as_generator(rng)
    seed_init, seed_data, seed_order = (int(s) for s in gen.integers(2**63, size=3))
    if use_digits:  # no silent substitute: a missing scikit-learn raises ImportError
        d, name = load_digits_split(rng=seed_data), "digits"
    else:
        d, name = (
            gaussian_mixture(1347, 450, 64, 10, separation=3.0, rng=seed_data),
            ("gaussian_mixture"),
        )
    out, sat = {}, {}
    for use_bn in (False, True):
        try:
            net = nets.MLP(  # looked up at call time: tests substitute bntheory.nets.MLP
                [d.X_train.shape[1], hidden, hidden, hidden, d.n_classes],
                "sigmoid",
                bn=use_bn,
                loss="cross_entropy",
                rng=seed_init,
            )
        except ValueError as exc:  # too many parameters: name the argument that sets them
            raise ValueError(f"hidden={hidden}: {exc}") from None
        sat0 = saturated_fraction(net, d.X_test, saturated_at)
        r = train(
            net, d.X_train, d.Y_train, lr=lr, steps=steps, batch_size=batch_size,
            rng=seed_order, X_test=d.X_test, Y_test=d.Y_test, eval_every=eval_every,
            probe=[(2, unit)], probe_training=True,
        )  # fmt: skip
        out[use_bn] = r
        try:
            sat1 = saturated_fraction(net, d.X_test, saturated_at)
        except (ValueError, FloatingPointError):  # BN statistics overflow: weights diverged
            if r.status != Status.DIVERGED:
                raise
            sat1 = np.nan  # the run's status says why; no saturation of overflowing inputs
        sat[use_bn] = np.array([sat0, sat1])
    return IoffeFigure1(
        name,
        out[True].eval_steps,
        out[False].test_accuracy,
        out[True].test_accuracy,
        activation_shift(out[False].activations[(2, unit)]),
        activation_shift(out[True].activations[(2, unit)]),
        out[False].status,
        out[True].status,
        sat[False],
        sat[True],
        out[False].grad_norms,
        out[True].grad_norms,
    )
