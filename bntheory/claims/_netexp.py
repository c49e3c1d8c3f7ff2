"""Multi-seed network measurements shared by the deep-network claims.

Each function runs one of :mod:`bntheory.nets.measurements` (the nets helper's
implementation of a published experiment, scaled down) for ONE seed and returns plain
floats; the claims run it over :func:`~bntheory.claims.core.measurement_seeds` (quick: 3,
full: 10 seeds, the same configuration in both modes) and report median and range.
Results are cached per process by seed, so claims sharing a measurement key share the work.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from bntheory.claims.core import measurement_seeds, shared_result

#: Learning-rate grid of the stability sweep (half-decade spacing).
LR_GRID = tuple(float(x) for x in np.logspace(-2, 1.5, 8))


def per_seed(key: str, fn, quick: bool, rng: np.random.Generator, variant: str = "") -> list:
    """``[fn(seed) for seed in measurement_seeds(key, quick, rng)]``, each computed once per
    ledger run (shared across claims and worker processes, ``core.shared_result``);
    ``variant`` distinguishes settings that share the seeds of ``key`` but not results."""
    return [
        shared_result(f"{key}{variant}-{'q' if quick else 'f'}", s, lambda s=s: fn(s))
        for s in measurement_seeds(key, quick, rng)
    ]


# ----------------------------------------------------------------- Bjorck / Santurkar Fig. 1
@lru_cache(maxsize=64)
def lr_sweep(seed: int) -> dict:
    """Largest trainable learning rate with and without BN (Bjorck et al. 2018, Sec. 2;
    Santurkar et al. 2018, Fig. 1 compare learning rates the same way).

    Setup (deep enough for the effect Bjorck et al. describe, "activations growing
    uncontrollably with network depth"): 8 hidden ReLU layers of width 32, He
    initialization, softmax cross-entropy on a 4-class Gaussian mixture in 16-D (512
    training points), SGD with batch 64 for 100 steps from the same initial weights and
    batch order, learning rates ``LR_GRID``. "Trains" (Bjorck et al.: the unnormalized net
    diverges at large rates) = no divergence and final full-batch loss <= 0.5 x initial
    (:func:`bntheory.nets.measurements.bjorck_lr_sweep`).
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
                net, data.X_train, data.Y_train, LR_GRID, steps=100, batch_size=64, rng=seed + 2
            )
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
def dln_ics(seed: int) -> dict:
    """Santurkar et al. (2018), Def. 2.1 (:func:`bntheory.nets.measurements.internal_covariate_shift`):
    mean over layers >= 1 and 10 SGD steps (lr 0.02, at which the unnormalized net trains; batch 32) of ``||G - G'||/||G||`` and
    ``cos(G, G')``, with and without BN, same data and batch order."""
    from bntheory.nets.measurements import internal_covariate_shift

    out = {}
    for bn in (False, True):
        net, X, Y = _dln(seed, bn)
        with np.errstate(all="ignore"):
            r = internal_covariate_shift(net, X, Y, lr=0.02, steps=10, batch_size=32, rng=seed + 2)
        tag = "bn" if bn else "plain"
        ok = r.status == "completed"
        out[f"rel_{tag}"] = float(np.mean(r.relative[:, 1:])) if ok else float("inf")
        out[f"cos_{tag}"] = float(np.mean(r.cosine[:, 1:])) if ok else float("nan")
    return out


@lru_cache(maxsize=64)
def dln_landscape(seed: int, lr: float) -> dict:
    """Santurkar et al. (2018), Fig. 4 (:func:`bntheory.nets.measurements.santurkar_landscape`):
    along the gradient at each of 10 SGD steps (learning rate ``lr``, batch 32), the loss range over
    ``w - lr s grad``, ``s in {0.5, ..., 4.1}``, relative to the current loss, and the
    effective beta-smoothness; means over the steps, with and without BN."""
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


# ----------------------------------------------------------------- Ioffe & Szegedy Fig. 1
@lru_cache(maxsize=64)
def ioffe_fig1(seed: int, quick: bool) -> dict:
    """Ioffe & Szegedy (2015), Fig. 1 (:func:`bntheory.nets.measurements.ioffe_figure1`):
    3 sigmoid hidden layers, SGD batch 60 (lr 0.5), scikit-learn's 8x8 digits instead of
    MNIST; quick: width 32, 200 steps; full: width 64, 600 steps. Drift = max over
    checkpoints of |percentile - initial percentile| ({15, 50, 85}th) of the sigmoid input of
    one last-hidden-layer unit, divided by the initial 15-85 spread; KL = histogram KL from
    the first checkpoint to the last."""
    from bntheory.nets.measurements import ioffe_figure1

    hidden, steps = (32, 200) if quick else (64, 600)
    r = ioffe_figure1(steps=steps, eval_every=steps // 4, hidden=hidden, rng=seed)
    out = {"dataset_digits": float(r.dataset == "digits")}
    for tag, sh, acc in (
        ("plain", r.shift_plain, r.accuracy_plain),
        ("bn", r.shift_bn, r.accuracy_bn),
    ):
        p = sh.percentiles
        out[f"drift_{tag}"] = float(np.max(np.abs(p - p[:1])) / (p[0, 2] - p[0, 0]))
        out[f"kl_{tag}"] = float(sh.kl_from_first[-1])
        out[f"acc_{tag}"] = float(acc[-1])
    return out


@lru_cache(maxsize=64)
def sigmoid_drift_layers(seed: int) -> dict:
    """Per-layer drift of the sigmoid inputs (all 3 hidden layers, one unit each) in the
    Ioffe & Szegedy Fig. 1 setting (width 32, 300 SGD steps, batch 60, lr 0.5, 10-class
    Gaussian mixture in 20-D): the article says the stabilization is strongest in early
    layers; Fig. 1 shows only the last hidden layer."""
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


# ----------------------------------------------------------------- Karakida et al.
def fisher_widths(quick: bool) -> tuple[int, ...]:
    return (32, 128) if quick else (32, 128, 256)


@lru_cache(maxsize=64)
def fisher(seed: int, quick: bool) -> dict:
    """Karakida, Akaho & Amari (2019): exact lambda_max of the FIM (Gauss-Newton) of a random
    ReLU net ``[8, M, M, 1]`` (He init, no bias, fixed gamma = 1, beta = 0) on 32 Gaussian
    inputs, without BN, with BN in the output layer only, and with BN in the hidden layers
    (:func:`bntheory.nets.measurements.fisher_spectrum`)."""
    from bntheory.nets import MLP
    from bntheory.nets.measurements import fisher_spectrum

    X = np.random.default_rng(seed).normal(size=(32, 8))
    out = {}
    for M in fisher_widths(quick):
        for bn in ("none", "output", "all"):
            net = MLP(
                [8, M, M, 1], "relu", bn=bn, bias=False, train_affine=False, sigma_w2=2.0,
                rng=seed + M,
            )  # fmt: skip
            out[f"lmax_{bn}_M{M}"] = fisher_spectrum(net, X).lambda_max
    return out
