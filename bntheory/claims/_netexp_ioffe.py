"""Ioffe & Szegedy (2015) Fig. 1 and sigmoid-saturation measurements of the deep-network
claims (ics-02, ics-09, cs-08): the digits analogue, the MNIST runs at the paper's protocol
(shared with the ``ioffe_fig1_mnist`` experiment) and the per-layer drift.

Part of :mod:`bntheory.claims._netexp`, which re-exports every name (use that path; the
mutation tests patch the cached functions there).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from bntheory.claims.core import subseeds as _subseeds


# ----------------------------------------------------------------- Ioffe & Szegedy Fig. 1
def _digits_or_unavailable() -> None:
    """Raise :class:`~bntheory.claims.core.Unavailable` when scikit-learn (the digits data
    set) is missing: the Ioffe & Szegedy substitutes are never run on other data."""
    import importlib.util

    from bntheory.claims.core import Unavailable

    if importlib.util.find_spec("sklearn") is None:
        raise Unavailable(
            "scikit-learn (its bundled 8x8 digits, the MNIST stand-in) is not installed; "
            "pip install 'bntheory[data]'"
        )


def _digits_split(seed: int) -> tuple[Any, int, int]:
    """``(split, init seed, batch-order seed)`` of a digits measurement: the three children
    of ``seed`` (data, init, order) and scikit-learn's digits split with the first; raises
    ``Unavailable`` without scikit-learn."""
    from bntheory.nets import load_digits_split

    _digits_or_unavailable()
    s_data, s_init, s_order = _subseeds(seed, 3)
    return load_digits_split(rng=s_data), s_init, s_order


@lru_cache(maxsize=64)
def ioffe_fig1(seed: int, quick: bool) -> dict:
    """Ioffe & Szegedy (2015), Fig. 1 (:func:`bntheory.nets.measurements.ioffe_figure1`):
    3 sigmoid hidden layers, SGD batch 60 (lr 0.5), scikit-learn's 8x8 digits instead of
    MNIST (raises ``Unavailable`` without scikit-learn); quick: width 32, 200 steps; full:
    width 64, 600 steps. Drift = max over checkpoints of |percentile - initial percentile|
    ({15, 50, 85}th) of the sigmoid input of one last-hidden-layer unit, divided by the
    initial 15-85 spread; KL = histogram KL from the first checkpoint to the last;
    saturation = fraction of all hidden sigmoid inputs with ``|z| > 4`` at the end;
    attenuation = ||grad of the first dense layer|| / ||grad of the output layer||
    (mini-batch), mean over the last tenth of the steps divided by the mean over the first
    tenth.

    Parameters
    ----------
    seed : int
        Seed of data split, weights and batch order.
    quick : bool
        Quick (width 32, 200 steps) or full (width 64, 600 steps).

    Returns
    -------
    dict
        Per net (``plain``, ``bn``): completed flag, drift, KL, accuracy, saturation,
        attenuation; ``dataset_digits``.
    """
    from bntheory.nets.measurements import ioffe_figure1

    _digits_or_unavailable()
    hidden, steps = (32, 200) if quick else (64, 600)
    r = ioffe_figure1(steps=steps, eval_every=steps // 4, hidden=hidden, rng=seed)
    out = {"dataset_digits": float(r.dataset == "digits")}
    for tag, sh, acc, st, sat, gn in (
        ("plain", r.shift_plain, r.accuracy_plain, r.status_plain, r.saturation_plain,
         r.grad_norms_plain),
        ("bn", r.shift_bn, r.accuracy_bn, r.status_bn, r.saturation_bn, r.grad_norms_bn),
    ):  # fmt: skip
        p = sh.percentiles
        out[f"completed_{tag}"] = float(st == "completed")
        out[f"drift_{tag}"] = float(np.max(np.abs(p - p[:1])) / (p[0, 2] - p[0, 0]))
        out[f"kl_{tag}"] = float(sh.kl_from_first[-1])
        out[f"acc_{tag}"] = float(acc[-1])
        out[f"sat0_{tag}"], out[f"sat_{tag}"] = float(sat[0]), float(sat[1])
        out[f"atten_{tag}"] = _attenuation(gn)
    return out


#: Seeds of the MNIST Fig. 1 runs at Ioffe & Szegedy's protocol (ics-02 and cs-08, full
#: mode): each network costs about 2 CPU-minutes (50,000 SGD steps of batch 60), so 3 seeds
#: (6 networks, the experiment's own number) keep the full ledger's extra time near 10
#: minutes on 2 cores; the per-seed log drift ratio of the digits analogue scatters by about
#: 0.3, so 3 seeds (t = 4.3) bound the ratio within a factor of about 2.
N_IOFFE_MNIST = 3
IOFFE_MNIST_KEY = "ioffe-fig1-mnist"


def ioffe_mnist(seed: int) -> dict[str, float]:
    """Ioffe & Szegedy (2015), Sec. 4.1 / Fig. 1 on MNIST at the paper's protocol, one seed.

    784-100-100-100-10 sigmoid, SGD batch 60, 50,000 steps, declared lr 0.5, with and
    without BN, same initial weights and batch order: the runs of the experiment
    ``ioffe_fig1_mnist`` (:func:`bntheory.experiments.ioffe_fig1_mnist.runs`, read from its
    sweep store when ``bntheory reproduce`` or an earlier ledger run computed them).

    Parameters
    ----------
    seed : int
        Seed of both networks (weights, batch order, population batches).

    Returns
    -------
    dict of str to float
        Per net (``plain``, ``bn``): ``completed_<net>`` (1 or 0), ``drift_<net>`` = max
        over checkpoints of |percentile - initial percentile| ({15, 50, 85}th, test set,
        inference network) of the sigmoid input of unit 0 of the last hidden layer over the
        initial 15-85 spread (as in :func:`ioffe_fig1`), ``drift_<net>_layer<k>`` = the
        median over the 100 units of hidden layer ``k`` of the same drift, ``acc_<net>`` =
        final test accuracy, ``steps_<net>``.
    """
    from bntheory.experiments.ioffe_fig1_mnist import runs

    out = {}
    for r in runs([int(seed)], quick=False):
        tag = "bn" if r["bn"] else "plain"
        out[f"completed_{tag}"] = float(r["status"] == "completed")
        out[f"drift_{tag}"] = float(r["drift"])
        out[f"acc_{tag}"] = float(np.asarray(r["test_accuracy"], dtype=float)[-1])
        out[f"steps_{tag}"] = float(r["steps"])
        for k, d in enumerate(np.asarray(r["layer_drift_median"], dtype=float)):
            out[f"drift_{tag}_layer{k}"] = float(d)
    return out


def ioffe_mnist_rows(rng: np.random.Generator, *, reverse: bool = False) -> list[dict[str, float]]:
    """:func:`ioffe_mnist` over the :data:`N_IOFFE_MNIST` seeds of :data:`IOFFE_MNIST_KEY`.

    Each seed is computed once per ledger run (``shared_result``) and once per machine (the
    experiment's sweep store).

    Parameters
    ----------
    rng : numpy.random.Generator
        The claim's generator (used for the seeds only outside a ledger run).
    reverse : bool
        Walk the seeds backwards, so that two claims started at the same time in two
        workers split the work instead of waiting for each other.

    Returns
    -------
    list of dict
        One :func:`ioffe_mnist` record per seed, in seed order.

    Raises
    ------
    bntheory.claims.core.Unavailable
        MNIST is not installed (never a substitute).
    """
    from bntheory.claims.core import Unavailable, measurement_seeds, shared_result
    from bntheory.nets.data import DataUnavailable, load_mnist

    try:
        load_mnist()
    except DataUnavailable as exc:
        raise Unavailable(f"MNIST is not available here: {exc}") from exc
    seeds = measurement_seeds(IOFFE_MNIST_KEY, False, rng, n=N_IOFFE_MNIST)
    got = {
        s: shared_result(f"{IOFFE_MNIST_KEY}-f", s, lambda s=s: ioffe_mnist(s))
        for s in (seeds[::-1] if reverse else seeds)
    }
    return [got[s] for s in seeds]


@lru_cache(maxsize=64)
def sigmoid_drift_layers(seed: int) -> dict:
    """Per-layer drift of the sigmoid inputs (all 3 hidden layers, one unit each) in the
    Ioffe & Szegedy Fig. 1 setting (width 32, 300 SGD steps, batch 60, lr 0.5, 10-class
    Gaussian mixture in 20-D): the article says the stabilization is strongest in early
    layers; Fig. 1 shows only the last hidden layer.

    Parameters
    ----------
    seed : int
        Seed of data, weights and batch order.

    Returns
    -------
    dict
        ``drift_<net>_layer<k>`` for ``net`` in (plain, bn) and ``k`` in 0..2.
    """
    from bntheory.nets import MLP, gaussian_mixture, train

    data = gaussian_mixture(600, 300, 20, 10, separation=3.0, rng=seed)
    out = {}
    for bn in (False, True):
        net = MLP([20, 32, 32, 32, 10], "sigmoid", bn=bn, loss="cross_entropy", rng=seed + 1)
        res = train(
            net, data.X_train, data.Y_train, lr=0.5, steps=300, batch_size=60, rng=seed + 2,
            X_test=data.X_test, Y_test=data.Y_test, eval_every=30,
            probe=[(k, 0) for k in range(3)], probe_training=True,
        )  # fmt: skip
        for k in range(3):
            p = np.percentile(res.activations[(k, 0)], [15, 50, 85], axis=1)
            out[f"drift_{'bn' if bn else 'plain'}_layer{k}"] = float(
                np.max(np.abs(p - p[:, :1])) / (p[2, 0] - p[0, 0])
            )
    return out


def _attenuation(grad_norms: np.ndarray) -> float:
    """``A = ||grad first layer|| / ||grad output layer||`` (mini-batch, per step): mean over
    the last tenth of the steps divided by the mean over the first tenth."""
    k = max(1, grad_norms.shape[0] // 10)
    a = grad_norms[:, 0] / grad_norms[:, -1]
    return float(np.mean(a[-k:]) / np.mean(a[:k]))


@lru_cache(maxsize=64)
def sigmoid_saturation(seed: int) -> dict:
    """The reference article (ICS section): shifts amplified through many layers drive
    sigmoids into saturation, which causes vanishing gradients (Ioffe & Szegedy 2015,
    Sec. 1). Deep sigmoid net ``[64] + [32] * 6 + [10]`` (init ``N(0, 1/fan_in)``,
    cross-entropy) on scikit-learn's 8x8 digits (``Unavailable`` without scikit-learn),
    with and without BN, same init seed and batch order, 200 SGD steps (lr 0.5, batch 60,
    the Fig. 1 optimizer). Saturation = fraction of all hidden sigmoid inputs (test set,
    train mode) with ``|z| > 4`` after training; attenuation as in :func:`_attenuation`.

    Parameters
    ----------
    seed : int
        Seed of the data split, weights and batch order (three children).

    Returns
    -------
    dict
        Per net: saturation at init and after training, attenuation, accuracy,
        completed flag.
    """
    from bntheory.nets import MLP, train
    from bntheory.nets.activation_stats import saturated_fraction

    d, s_init, s_order = _digits_split(seed)
    out = {}
    for bn in (False, True):
        tag = "bn" if bn else "plain"
        net = MLP([64] + [32] * 6 + [10], "sigmoid", bn=bn, loss="cross_entropy", rng=s_init)
        out[f"sat0_{tag}"] = saturated_fraction(net, d.X_test, 4.0)
        with np.errstate(all="ignore"):
            r = train(
                net, d.X_train, d.Y_train, lr=0.5, steps=200, batch_size=60, rng=s_order,
                X_test=d.X_test, Y_test=d.Y_test,
            )  # fmt: skip
        out[f"completed_{tag}"] = float(r.status == "completed")
        out[f"sat_{tag}"] = saturated_fraction(net, d.X_test, 4.0)
        out[f"atten_{tag}"] = _attenuation(r.grad_norms)
        out[f"acc_{tag}"] = float(r.test_accuracy[-1])
    return out
