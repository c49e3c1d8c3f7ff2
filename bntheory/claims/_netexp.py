"""Multi-seed network measurements shared by the deep-network claims.

Each function runs one of :mod:`bntheory.nets.measurements` (the nets helper's
implementation of a published experiment, scaled down) for ONE seed and returns plain
floats (a diverged run is reported as a status flag, ``completed_*``, never as a number);
the claims run it over :func:`~bntheory.claims.core.measurement_seeds` (a pre-registered
number per claim, default quick 3 / full 10, the same configuration in both modes unless
the docstring says otherwise) and decide on confidence intervals: :func:`paired_ratio_ci`
(paired BN / no-BN log ratios), :func:`spearman_ci` (rank correlations). Results are cached
per process by seed, so claims sharing a measurement key share the work. The digits-based
measurements raise :class:`~bntheory.claims.core.Unavailable` without scikit-learn.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from bntheory.claims._netexp_ci import fmt_ci, paired_ratio_ci, spearman_ci  # noqa: F401
from bntheory.claims.core import per_seed  # noqa: F401 - re-exported
from bntheory.claims.core import subseeds as _subseeds

#: Learning-rate grid of the stability sweep (half-decade spacing).
LR_GRID = tuple(float(x) for x in np.logspace(-2, 1.5, 8))


#: Seeds of the deep-linear-net ICS runs (ics-03, cs-06), quick and full alike: the
#: per-seed log ratio of the ICS scatters with a standard deviation of about 0.6 (a pilot
#: on 12 seeds), so 20 seeds put the 95 % interval within about +-0.3 of the mean.
N_DLN = 20

#: Seeds of the ICS-vs-speed correlation (cs-07, the same runs): full mode 160 seeds (320
#: runs, Fisher-z half-width about 0.11, enough to separate a correlation of about 0.5 from
#: the 0.3 bound); quick mode uses the 20 of ics-03 (half-width about 0.33).
N_DLN_CORR = {True: N_DLN, False: 160}


# ----------------------------------------------------------------- Bjorck / Santurkar Fig. 1
@lru_cache(maxsize=64)
def lr_sweep(seed: int) -> dict[str, float]:
    """Largest trainable learning rate with and without BN (Bjorck et al. 2018, Sec. 2;
    Santurkar et al. 2018, Fig. 1 compare learning rates the same way).

    Setup (deep enough for the effect Bjorck et al. describe, "activations growing
    uncontrollably with network depth"): 8 hidden ReLU layers of width 32, He
    initialization, softmax cross-entropy on a 4-class Gaussian mixture in 16-D (512
    training points), SGD with batch 64 for 100 steps from the same initial weights and
    batch order, learning rates ``LR_GRID``. "Trains" (Bjorck et al.: the unnormalized net
    diverges at large rates) = no divergence and final full-batch loss <= 0.5 x initial
    (:func:`bntheory.nets.measurements.bjorck_lr_sweep`).

    Parameters
    ----------
    seed : int
        Seed of the data (``seed``), the weights (``seed + 1``) and the batch order
        (``seed + 2``).

    Returns
    -------
    dict
        ``{"plain": rate, "bn": rate}``: the largest trainable rate of ``LR_GRID``
        (0.0 when none trains).
    """
    from bntheory.nets import MLP, gaussian_mixture
    from bntheory.nets.measurements import bjorck_lr_sweep

    data = gaussian_mixture(512, 128, 16, 4, separation=2.0, rng=seed)
    out = {}
    for bn in (False, True):
        net = MLP(
            [16] + [32] * 8 + [4], "relu", bn=bn, loss="cross_entropy", sigma_w2=2.0, rng=seed + 1
        )
        with np.errstate(all="ignore"):
            r = bjorck_lr_sweep(
                net, data.X_train, data.Y_train, LR_GRID, steps=100, batch_size=64,
                rng=seed + 2, stop_at_largest=True,
            )  # fmt: skip
        out["bn" if bn else "plain"] = 0.0 if r.max_lr is None else float(r.max_lr)
    return out


# ----------------------------------------------------------------- Santurkar Def. 2.1 / Fig. 4
def _dln(seed: int, bn: bool):
    """Deep linear network of Santurkar et al. (2018) (their Fig. 3/4 use 25 layers; here 10
    layers of width 16), MSE regression on a random linear teacher, 128 points in 16-D."""
    from bntheory.nets import MLP

    g = np.random.default_rng(seed)
    X = g.normal(size=(128, 16))
    Y = X @ g.normal(size=(16, 4)) / 4.0
    net = MLP([16] + [16] * 10 + [4], "linear", bn=bn, loss="mse", rng=seed + 1)
    return net, X, Y


@lru_cache(maxsize=64)
def dln_ics(seed: int) -> dict[str, float]:
    """Santurkar et al. (2018), Def. 2.1 (:func:`bntheory.nets.measurements.internal_covariate_shift`).

    Mean over layers >= 1 and every second of 10 SGD steps (lr 0.02, at which the
    unnormalized net trains; batch 32) of ``||G - G'||/||G||`` and ``cos(G, G')``, with and
    without BN, same data and batch order; training speed ``log(L_0 / L_10) / 10``
    (full-batch loss).

    Parameters
    ----------
    seed : int
        Seed of the data and teacher (``seed``), the weights (``seed + 1``) and the batch
        order (``seed + 2``).

    Returns
    -------
    dict
        Per net (suffix ``_plain`` / ``_bn``): ``completed`` (1.0 or 0.0), ``rel``, ``cos``
        and ``speed`` (inf / nan when the run diverged).
    """
    from bntheory.nets.measurements import internal_covariate_shift

    out = {}
    for bn in (False, True):
        net, X, Y = _dln(seed, bn)
        L0 = net.loss(X, Y)
        with np.errstate(all="ignore"):
            r = internal_covariate_shift(
                net, X, Y, lr=0.02, steps=10, batch_size=32, every=2, rng=seed + 2
            )
            L1 = net.loss(X, Y) if r.status == "completed" else float("inf")
        tag = "bn" if bn else "plain"
        ok = r.status == "completed" and bool(np.isfinite(L1))
        out[f"completed_{tag}"] = float(ok)
        out[f"rel_{tag}"] = float(np.mean(r.relative[:, 1:])) if ok else float("inf")
        out[f"cos_{tag}"] = float(np.mean(r.cosine[:, 1:])) if ok else float("nan")
        out[f"speed_{tag}"] = float(np.log(L0 / L1) / 10) if ok else float("nan")
    return out


@lru_cache(maxsize=64)
def dln_landscape(seed: int, lr: float) -> dict[str, float]:
    """Santurkar et al. (2018), Fig. 4 (:func:`bntheory.nets.measurements.santurkar_landscape`).

    Along the gradient at each of 10 SGD steps (learning rate ``lr``, batch 32), the loss
    range over ``w - lr s grad``, ``s in {0.5, ..., 4.1}``, relative to the current loss,
    and the effective beta-smoothness; means over the steps, with and without BN.

    Parameters
    ----------
    seed : int
        Seed of the data, weights and batch order (as in :func:`dln_ics`).
    lr : float
        SGD learning rate.

    Returns
    -------
    dict
        Per net (suffix ``_plain`` / ``_bn``): ``range`` and ``beta`` (inf when the run
        diverged).
    """
    from bntheory.nets.measurements import santurkar_landscape

    out = {}
    for bn in (False, True):
        net, X, Y = _dln(seed, bn)
        with np.errstate(all="ignore"):
            r = santurkar_landscape(net, X, Y, lr=lr, steps=10, batch_size=32, rng=seed + 2)
        tag = "bn" if bn else "plain"
        if r.status != "completed":
            out[f"range_{tag}"] = out[f"beta_{tag}"] = float("inf")
            continue
        out[f"range_{tag}"] = float(np.mean(r.loss_range / r.train_loss[r.steps]))
        out[f"beta_{tag}"] = float(np.mean(r.beta_smoothness))
    return out


# ----------------------------------------------------------------- the article's own readings
@lru_cache(maxsize=64)
def dln_moment_shift(seed: int) -> dict[str, float]:
    """The reference article's measure of internal covariate shift on the run of :func:`dln_ics`.

    L2 change of the mean and std of layer inputs between iterations
    (:func:`bntheory.nets.measurements.layer_input_moment_shift`) on the same net, data,
    lr 0.02, batch 32 and batch order, 10 steps: mean over layers >= 1 and steps of the
    relative shift, with and without BN.

    Parameters
    ----------
    seed : int
        Seed of the data, weights and batch order (as in :func:`dln_ics`).

    Returns
    -------
    dict
        Per net (suffix ``_plain`` / ``_bn``): ``completed`` (1.0 or 0.0) and ``moment``
        (nan when the run diverged).
    """
    from bntheory.nets.measurements import layer_input_moment_shift

    out = {}
    for bn in (False, True):
        net, X, Y = _dln(seed, bn)
        with np.errstate(all="ignore"):
            r = layer_input_moment_shift(net, X, Y, lr=0.02, steps=10, batch_size=32, rng=seed + 2)
        tag = "bn" if bn else "plain"
        ok = r.status == "completed"
        out[f"completed_{tag}"] = float(ok)
        out[f"moment_{tag}"] = float(np.mean(r.relative[:, 1:])) if ok else float("nan")
    return out


@lru_cache(maxsize=64)
def hessian_isotropy_bn(seed: int) -> dict[str, float]:
    """The reference article's reading of Bjorck et al. (2018): BN makes the curvature
    more isotropic. Exact train-mode Hessian (:func:`bntheory.nets.measurements.hessian_isotropy`)
    of a ReLU net ``[8, 16, 16, 16, 4]`` (He init, cross-entropy, 4-class Gaussian mixture,
    128 training points, full batch), with and without BN, same data and init seed, at
    initialization and after 200 SGD steps (lr 0.1, batch 32, same batch order); stochastic
    Lanczos quadrature with 2 probes of 30 steps. Anisotropy = ``max|lambda| / mean|lambda|``
    (1 = isotropic).

    Parameters
    ----------
    seed : int
        Parent seed of the data, weights, batch order and Lanczos probes (four children).

    Returns
    -------
    dict
        Per net (suffix ``_plain`` / ``_bn``): ``completed``, ``aniso0`` / ``aniso``
        (before / after training), ``part0`` / ``part`` (participation ratios) and ``loss``.
    """
    from bntheory.nets import MLP, gaussian_mixture, train
    from bntheory.nets.measurements import hessian_isotropy

    s_data, s_init, s_order, s_lz = _subseeds(seed, 4)
    d = gaussian_mixture(128, 64, 8, 4, separation=2.0, rng=s_data)
    out = {}
    for bn in (False, True):
        tag = "bn" if bn else "plain"
        net = MLP([8, 16, 16, 16, 4], "relu", bn=bn, loss="cross_entropy", rng=s_init)
        h0 = hessian_isotropy(net, d.X_train, d.Y_train, rng=s_lz)
        with np.errstate(all="ignore"):
            r = train(net, d.X_train, d.Y_train, lr=0.1, steps=200, batch_size=32, rng=s_order)
        out[f"completed_{tag}"] = float(r.status == "completed")
        h1 = hessian_isotropy(net, d.X_train, d.Y_train, rng=s_lz)
        out[f"aniso0_{tag}"], out[f"aniso_{tag}"] = h0.anisotropy, h1.anisotropy
        out[f"part0_{tag}"], out[f"part_{tag}"] = h0.participation, h1.participation
        out[f"loss_{tag}"] = float(net.loss(d.X_train, d.Y_train))
    return out


@lru_cache(maxsize=64)
def representation_separation(seed: int) -> dict[str, float]:
    """The reference article (its ref. [10]): BN improves the clustering of hidden
    representations. ReLU net ``[64, 64, 64, 64, 10]`` (He init, cross-entropy) on
    scikit-learn's 8x8 digits (raises ``Unavailable`` without scikit-learn), with and
    without BN, same init seed and batch order, 400 SGD steps (lr 0.1, batch 60); Fisher
    separation index ``tr(S_b)/tr(S_w)`` of the last hidden layer's outputs on the test set
    (eval mode), at initialization and after training, and the test accuracy.

    Parameters
    ----------
    seed : int
        Parent seed of the data split, weights and batch order (three children).

    Returns
    -------
    dict
        Per net (suffix ``_plain`` / ``_bn``): ``sep0`` / ``sep`` (before / after
        training; nan for non-finite features), ``completed`` and ``acc``.
    """
    from bntheory.nets import MLP, train
    from bntheory.nets.measurements import separation_index

    d, s_init, s_order = _digits_split(seed)
    out = {}
    for bn in (False, True):
        tag = "bn" if bn else "plain"
        net = MLP([64, 64, 64, 64, 10], "relu", bn=bn, loss="cross_entropy", rng=s_init)

        def sep(net=net) -> float:
            with np.errstate(all="ignore"):
                h = net.forward_trace(d.X_test, False).inputs[-1]
            return separation_index(h, d.Y_test) if np.all(np.isfinite(h)) else float("nan")

        out[f"sep0_{tag}"] = sep()
        with np.errstate(all="ignore"):
            r = train(
                net, d.X_train, d.Y_train, lr=0.1, steps=400, batch_size=60, rng=s_order,
                X_test=d.X_test, Y_test=d.Y_test,
            )  # fmt: skip
        out[f"completed_{tag}"] = float(r.status == "completed")
        out[f"sep_{tag}"] = sep()
        out[f"acc_{tag}"] = float(r.test_accuracy[-1])
    return out


# Ioffe & Szegedy Fig. 1 and saturation measurements (re-exported; see _netexp_ioffe).
from bntheory.claims._netexp_ioffe import (  # noqa: E402
    IOFFE_MNIST_KEY,
    N_IOFFE_MNIST,
    _attenuation,
    _digits_or_unavailable,
    _digits_split,
    ioffe_fig1,
    ioffe_mnist,
    ioffe_mnist_rows,
    sigmoid_drift_layers,
    sigmoid_saturation,
)

__all__ = [
    "IOFFE_MNIST_KEY",
    "LR_GRID",
    "N_DLN",
    "N_DLN_CORR",
    "N_IOFFE_MNIST",
    "dln_ics",
    "dln_landscape",
    "dln_moment_shift",
    "fmt_ci",
    "hessian_isotropy_bn",
    "ioffe_fig1",
    "ioffe_mnist",
    "ioffe_mnist_rows",
    "lr_sweep",
    "paired_ratio_ci",
    "per_seed",
    "representation_separation",
    "sigmoid_drift_layers",
    "sigmoid_saturation",
    "spearman_ci",
    "_attenuation",
    "_digits_or_unavailable",
]
