"""Ioffe & Szegedy (2015), Sec. 4.1 and Fig. 1, on the real MNIST at the paper's protocol.

The paper's experiment (Sec. 4.1): a fully connected network
784-100-100-100-10 with sigmoid hidden units ``y = g(Wu + b)``, weights initialized to "small
random Gaussian values", the last hidden layer followed by a fully connected 10-way layer and
cross-entropy loss, trained for 50,000 steps on mini-batches of 60 examples, with and without
BN on every hidden layer. Fig. 1(a) shows the test accuracy over training; Fig. 1(b, c) the
{15, 50, 85}th percentiles, over the test set, of the input to the sigmoid of one typical unit
of the last hidden layer, without (b) and with (c) BN.

What this module does (and the settings the paper does not state, declared here once):

* data: MNIST from :func:`bntheory.nets.data.load_mnist` (60,000 training / 10,000 test
  images, pixels in [0, 1]); never substituted (a missing MNIST raises ``DataUnavailable``);
* network: :class:`bntheory.nets.MLP` ``[784, 100, 100, 100, 10]``, sigmoid, softmax
  cross-entropy; with BN, train-mode BN on the pre-activation of each hidden layer (Alg. 1,
  ``eps = 1e-5``, trainable ``gamma = 1``, ``beta = 0`` at the start, no bias on those layers;
  the output layer has a bias and no BN); without BN, every layer has a bias (0 at the start);
* "small random Gaussian values": ``W ~ N(0, 1/fan_in)`` (std 0.036 for the first layer,
  0.1 for the others), the MLP's default for sigmoid networks; the two networks of a seed
  start from the same weight matrices;
* optimizer (not stated in the paper): plain SGD, no momentum, no weight decay, constant
  learning rate :data:`LR` ``= 0.5`` (declared before any MNIST run; the value of the
  project's digits analogue, ``experiments/ioffe_fig1.py``, and the usual step for sigmoid
  MLPs with mean cross-entropy on MNIST, e.g. Nielsen 2015, ch. 3); the mini-batches are
  drawn by reshuffling the training set every epoch, the same order for both networks;
* evaluation as the paper's inference (Alg. 2): at every checkpoint the BN layers get the
  population statistics ``E[x] = E_B[mu_B]``, ``Var[x] = m/(m-1) E_B[sigma_B^2]`` of the
  training network over :data:`POP_BATCHES` fixed training mini-batches of 60 (drawn once
  per seed; :meth:`bntheory.bn.BatchNorm.population_statistics`), and the test set goes
  through the inference network (eval mode). The recorded "sigmoid input" is then
  ``gamma (a - E[a]) / sqrt(Var[a] + eps) + beta`` with BN and ``a = W u + b`` without;
  test accuracy and loss come from the same inference network. No running averages are
  used (they would sit at their 0 / 1 initial values at step 0).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from bntheory._checks import as_real_array
from bntheory.nets.checks import check_int
from bntheory.nets.data import Dataset
from bntheory.nets.ioffe2015_protocol import (
    BATCH,
    CUSTOM_LABEL,
    EVAL_EVERY,
    HIDDEN,
    LR,
    PAPER_LABEL,
    PAPER_STEPS,
    PERCENTILES,
    POP_BATCHES,
    QUICK_EVAL_EVERY,
    QUICK_LABEL,
    QUICK_STEPS,
    IoffeFig1Run,
    percentile_drift,
    protocol_label,
)
from bntheory.nets.loop import sgd
from bntheory.nets.mlp import MLP

__all__ = [
    "BATCH",
    "CUSTOM_LABEL",
    "EVAL_EVERY",
    "PAPER_LABEL",
    "QUICK_EVAL_EVERY",
    "QUICK_LABEL",
    "HIDDEN",
    "LR",
    "PAPER_STEPS",
    "PERCENTILES",
    "POP_BATCHES",
    "QUICK_STEPS",
    "IoffeFig1Run",
    "inference_network",
    "ioffe_figure1_mnist",
    "percentile_drift",
    "protocol_label",
]

Array = np.ndarray


#: Largest ``data.n_classes`` accepted (labels become a dense one-hot ``(N, n_classes)``
#: target; MNIST has 10).
MAX_CLASSES = 4096


def _check_images(X: object, name: str) -> Array:
    """``data.<name>``: a finite real 2-D array with at least one row and one column (float64;
    no copy when it already is one)."""
    if isinstance(X, np.ndarray) and X.dtype.kind in "fiu" and X.dtype != np.float16:
        X = np.asarray(X, dtype=np.float64)
    else:
        X = as_real_array(X, f"data.{name}")  # TypeError for complex/bool/non-numeric input
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"data.{name} must be a non-empty 2-D array, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"data.{name} must be finite (it contains NaN or inf)")
    return X


def _check_labels(y: object, name: str, rows: int, n_classes: int) -> Array:
    """``data.<name>``: ``rows`` integer class labels in ``[0, n_classes)`` (int64)."""
    arr = np.asarray(y) if isinstance(y, (np.ndarray, list, tuple)) else None
    if arr is None or arr.dtype.kind not in "iuf":
        raise TypeError(f"data.{name} must be an array of integer labels, got {type(y).__name__}")
    if arr.shape != (rows,):
        raise ValueError(f"data.{name} must have shape ({rows},), got {arr.shape}")
    if not (np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
        raise ValueError(f"data.{name} must hold integer class labels")
    if rows and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"data.{name} must lie in [0, data.n_classes - 1 = {n_classes - 1}]")
    return arr.astype(np.int64)


def _check_data(data) -> Dataset:
    """``data`` checked (or MNIST when None): every field the run reads, named on error."""
    if data is None:
        from bntheory.nets.data import load_mnist

        return load_mnist()  # DataUnavailable when missing: never a substitute
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a bntheory.nets.data.Dataset or None, got {type(data)}")
    k = data.n_classes
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"data.n_classes must be an int, got {type(k).__name__}")
    if not 2 <= k <= MAX_CLASSES:
        raise ValueError(f"data.n_classes must lie in [2, {MAX_CLASSES}] (classes), got {k}")
    X = _check_images(data.X_train, "X_train")
    X_test = _check_images(data.X_test, "X_test")
    if X_test.shape[1] != X.shape[1]:
        raise ValueError(
            f"data.X_test must have {X.shape[1]} columns like data.X_train, got {X_test.shape[1]}"
        )
    y = _check_labels(data.Y_train, "Y_train", X.shape[0], int(k))
    y_test = _check_labels(data.Y_test, "Y_test", X_test.shape[0], int(k))
    return replace(data, X_train=X, Y_train=y, X_test=X_test, Y_test=y_test, n_classes=int(k))


def _population_statistics(net: MLP, X_pop: Array) -> None:
    """Alg. 2, lines 8-10: population statistics of every BN layer from the training
    network's batch statistics over the mini-batches ``X_pop`` (n_pop, batch, d), stored as
    the layers' running statistics (used by the eval-mode forward pass)."""
    if not net.bn_layers:
        return
    acts: dict[int, list[Array]] = {k: [] for k in net.bn_layers}
    with np.errstate(all="ignore"):
        for Xb in X_pop:
            fw = net.forward_trace(Xb, True)
            for k in net.bn_layers:
                acts[k].append(fw.a[k])
    for k in net.bn_layers:
        net.batchnorms[k].population_statistics(acts[k])


def _evaluate(net: MLP, X_test: Array, y_test: Array) -> tuple[float, float, list[Array]]:
    """Inference-network test accuracy, mean cross-entropy and the sigmoid inputs of every
    hidden layer."""
    with np.errstate(all="ignore"):
        fw = net.forward_trace(X_test, False)
        out = fw.out
        m = np.max(out, axis=1, keepdims=True)
        logp = out - m - np.log(np.sum(np.exp(out - m), axis=1, keepdims=True))
    loss = float(-np.mean(logp[np.arange(len(y_test)), y_test]))
    acc = float(np.mean(np.argmax(out, axis=1) == y_test))
    return acc, loss, fw.z[:-1]


def ioffe_figure1_mnist(
    *,
    bn: bool,
    steps: int | None = None,
    batch: int = BATCH,
    eval_every: int | None = None,
    lr: float = LR,
    seed: int = 0,
    quick: bool = False,
    data: Dataset | None = None,
    unit: int = 0,
    pop_batches: int = POP_BATCHES,
    all_layers: bool = False,
) -> IoffeFig1Run:
    """Train one network of Ioffe & Szegedy (2015), Sec. 4.1 / Fig. 1 and record accuracy and
    the sigmoid-input percentiles of one last-hidden-layer unit over training.

    See the module docstring for the protocol and the declared settings.

    Parameters
    ----------
    bn : bool
        BN on every hidden layer (Fig. 1 "with BN") or none ("without BN").
    steps : int, optional
        SGD steps; default :data:`PAPER_STEPS` (50,000), or :data:`QUICK_STEPS` when ``quick``.
    batch : int
        Mini-batch size (paper: 60).
    eval_every : int, optional
        Checkpoint spacing in steps (plus step 0 and the last step); default
        :data:`EVAL_EVERY`, or :data:`QUICK_EVAL_EVERY` when ``quick``.
    lr : float
        Constant SGD learning rate (declared: :data:`LR`; the paper gives none).
    seed : int
        Seed of the weights, the mini-batch order and the population-statistics batches
        (three children of ``SeedSequence(seed)``); both values of ``bn`` with the same
        seed start from the same weight matrices and see the same mini-batches.
    quick : bool
        Shortened protocol (labelled :data:`QUICK_LABEL` in the result).
    data : Dataset, optional
        Default: :func:`bntheory.nets.data.load_mnist` (raises ``DataUnavailable`` when
        MNIST is not installed). Tests pass a slice or a synthetic set: finite 2-D inputs
        with the same columns, integer labels in ``[0, n_classes)``, ``2 <= n_classes <=``
        :data:`MAX_CLASSES` (``TypeError``/``ValueError`` naming the field otherwise).
    unit : int
        The fixed unit of the last hidden layer whose percentiles are ``percentiles``.
    pop_batches : int
        Number of training mini-batches of Alg. 2's population statistics (at most
        ``n_train // batch``).
    all_layers : bool
        Also record the percentiles of every unit of every hidden layer
        (``hidden_percentiles``; costs two more percentile passes per checkpoint).

    Returns
    -------
    IoffeFig1Run
    """
    if not isinstance(bn, bool):
        raise TypeError(f"bn must be a bool, got {type(bn).__name__}")
    if not isinstance(quick, bool):
        raise TypeError(f"quick must be a bool, got {type(quick).__name__}")
    if not isinstance(all_layers, bool):
        raise TypeError(f"all_layers must be a bool, got {type(all_layers).__name__}")
    steps = (QUICK_STEPS if quick else PAPER_STEPS) if steps is None else steps
    steps = check_int(steps, "steps", 0)
    eval_every = (QUICK_EVAL_EVERY if quick else EVAL_EVERY) if eval_every is None else eval_every
    eval_every = check_int(eval_every, "eval_every", 1)
    batch = check_int(batch, "batch", 2)
    seed = check_int(seed, "seed", 0)
    pop_batches = check_int(pop_batches, "pop_batches", 1)
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)):
        raise TypeError(f"lr must be a number, got {type(lr).__name__}")
    lr_f = float(lr) if abs(lr) < 2.0**1023 else np.inf  # no OverflowError for a huge int
    if not (np.isfinite(lr_f) and lr_f > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r:.40}")
    lr = lr_f
    data = _check_data(data)
    X, y = np.asarray(data.X_train, dtype=np.float64), np.asarray(data.Y_train)
    X_test, y_test = np.asarray(data.X_test, dtype=np.float64), np.asarray(data.Y_test)
    n = X.shape[0]
    if batch > n:
        raise ValueError(f"batch must be <= the number of training images {n}, got {batch}")
    sizes = (X.shape[1], *HIDDEN, int(data.n_classes))
    layer = len(HIDDEN) - 1
    unit = check_int(unit, "unit", 0)
    if unit >= HIDDEN[-1]:
        raise ValueError(f"unit must be < {HIDDEN[-1]}, got {unit}")
    protocol = protocol_label(quick=quick, steps=steps, batch=batch, data=data)

    t_start = time.perf_counter()
    ss_init, ss_order, ss_pop = np.random.SeedSequence(seed).spawn(3)
    net = MLP(sizes, "sigmoid", bn=bn, loss="cross_entropy", rng=np.random.default_rng(ss_init))
    order_gen = np.random.default_rng(ss_order)
    n_pop = min(pop_batches, n // batch)
    pop_index = np.random.default_rng(ss_pop).choice(n, n_pop * batch, replace=False)
    pop_index = pop_index.reshape(n_pop, batch)
    X_pop = X[pop_index]

    ev_steps: list[int] = []
    accs: list[float] = []
    losses_te: list[float] = []
    pcts: list[Array] = []

    def checkpoint(step: int) -> None:
        ev_steps.append(step)
        try:
            _population_statistics(net, X_pop)
            acc, loss, zs = _evaluate(net, X_test, y_test)
        except (ValueError, FloatingPointError):  # overflowing statistics: nothing to record
            accs.append(np.nan)
            losses_te.append(np.nan)
            pcts.append(np.full((len(HIDDEN) if all_layers else 1, 3, HIDDEN[-1]), np.nan))
            return
        accs.append(acc)
        losses_te.append(loss)
        if all_layers:
            pcts.append(np.array([np.percentile(z, PERCENTILES, axis=0) for z in zs]))
        else:
            pcts.append(np.percentile(zs[layer], PERCENTILES, axis=0)[None])

    def after_step(done: int) -> None:
        if done % eval_every == 0 and done < steps:
            checkpoint(done)

    checkpoint(0)
    run = sgd(net, X, y, lr=lr, steps=steps, batch_size=batch, rng=order_gen, after_step=after_step)
    done = run.steps
    if done > 0 and ev_steps[-1] != done:
        checkpoint(done)
    H = np.asarray(pcts, dtype=float)  # (n_eval, n_hidden or 1, 3, width)
    U = H[:, -1]  # last hidden layer: (n_eval, 3, width)
    bn_layers = sorted(net.bn_layers)
    width = HIDDEN[-1]
    pop_mean = np.array([net.batchnorms[k].running_mean for k in bn_layers]).reshape(-1, width)
    pop_var = np.array([net.batchnorms[k].running_var for k in bn_layers]).reshape(-1, width)
    return IoffeFig1Run(
        bn=bn,
        protocol=protocol,
        dataset=str(data.name),
        n_train=int(n),
        n_test=int(X_test.shape[0]),
        sizes=tuple(int(s) for s in sizes),
        steps=done,
        batch=batch,
        lr=float(lr),
        seed=seed,
        layer=layer,
        unit=unit,
        status=run.status,
        message=run.message,
        eval_steps=np.asarray(ev_steps, dtype=np.int64),
        test_accuracy=np.asarray(accs, dtype=float),
        test_loss=np.asarray(losses_te, dtype=float),
        percentiles=U[:, :, unit].copy(),
        unit_percentiles=U,
        hidden_percentiles=H if all_layers else np.empty(0),
        train_loss=run.losses[:done].copy(),
        theta=net.get_flat(),
        pop_mean=pop_mean,
        pop_var=pop_var,
        pop_index=pop_index,
        seconds=time.perf_counter() - t_start,
        seconds_per_step=run.seconds / done if done else float("nan"),
        cpu_seconds_per_step=run.cpu_seconds / done if done else float("nan"),
    )


def inference_network(run: IoffeFig1Run) -> MLP:
    """The final network of ``run`` as an inference network (Alg. 2): an :class:`MLP` with
    the run's final parameters and its population statistics as running statistics, so that
    ``net.predict`` / eval mode reproduces the run's last checkpoint.

    Parameters
    ----------
    run : IoffeFig1Run
        A run of :func:`ioffe_figure1_mnist` (its ``sizes``, ``bn``, ``theta``, ``pop_mean``
        and ``pop_var`` are checked against each other).

    Returns
    -------
    MLP
        Eval mode uses ``run.pop_mean`` / ``run.pop_var`` as the BN statistics.

    Raises
    ------
    TypeError, ValueError
        A field of ``run`` of the wrong type, shape or value (the message names it).
    """
    if not isinstance(run, IoffeFig1Run):
        raise TypeError(f"run must be an IoffeFig1Run, got {type(run).__name__}")
    if not isinstance(run.bn, (bool, np.bool_)):
        raise TypeError(f"run.bn must be a bool, got {type(run.bn).__name__}")
    try:
        net = MLP(list(run.sizes), "sigmoid", bn=bool(run.bn), loss="cross_entropy", rng=0)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"run.sizes: {exc}") from None
    try:
        net.set_flat(run.theta)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"run.theta: {exc}") from None
    layers = sorted(net.bn_layers)
    stats = {}
    for name in ("pop_mean", "pop_var"):
        v = getattr(run, name)
        if isinstance(v, np.ndarray) and v.dtype.kind in "fiu" and v.dtype != np.float16:
            v = np.asarray(v, dtype=np.float64)
        else:
            v = as_real_array(v, f"run.{name}")
        if v.ndim != 2 or v.shape[0] != len(layers):
            raise ValueError(f"run.{name} must have one row per BN layer, got shape {v.shape}")
        if not np.all(np.isfinite(v)) or (name == "pop_var" and np.any(v < 0)):
            raise ValueError(
                f"run.{name} must be finite" + (" and >= 0" if name == "pop_var" else "")
            )
        stats[name] = v
    for i, k in enumerate(layers):
        width = net.sizes[k + 1]
        if stats["pop_mean"].shape[1] != width or stats["pop_var"].shape[1] != width:
            raise ValueError(f"run.pop_mean and run.pop_var must have {width} columns (layer {k})")
        net.batchnorms[k].running_mean = stats["pop_mean"][i].copy()
        net.batchnorms[k].running_var = stats["pop_var"][i].copy()
    return net
