"""Ioffe & Szegedy (2015), Sec. 4.1 and Fig. 1, on the real MNIST at the paper's protocol.

The paper's experiment (Sec. 4.1; THEORY.md Sec. 1): a fully connected network
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
from dataclasses import dataclass, field

import numpy as np

from bntheory.nets.data import Dataset
from bntheory.nets.mlp import MLP
from bntheory.nets.train import safe_loss_and_grad

__all__ = [
    "BATCH",
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
    status : {"completed", "diverged"}
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
    status: str
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
        """Whether the run used the shortened quick protocol."""
        return self.protocol == QUICK_LABEL


def protocol_label(*, quick: bool, steps: int, batch: int, data: Dataset) -> str:
    """The protocol a run follows: :data:`QUICK_LABEL` when ``quick``; :data:`PAPER_LABEL`
    only for 50,000 steps of mini-batches of 60 on the full MNIST (60,000 / 10,000 images);
    :data:`CUSTOM_LABEL` otherwise (so a shortened run is never labelled as the paper's)."""
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


def percentile_drift(percentiles, *, reference: str = "initial") -> Array | float:
    """Largest move of the {15, 50, 85}th percentiles from their initial values, in units of
    a 15-85 spread: ``max_t max_j |P_j(t) - P_j(0)| / S``.

    ``reference="initial"``: ``S = P_85(0) - P_15(0)``, the initial spread (the definition of
    the ledger's ics-02, :func:`bntheory.claims._netexp.ioffe_fig1`); it is large when the
    initial distribution is narrow. ``reference="mean"``: ``S`` = the mean of
    ``P_85(t) - P_15(t)`` over the checkpoints (the typical spread during training).
    ``percentiles`` has shape ``(n_eval, 3)`` (one unit: a float) or ``(n_eval, 3, units)``
    (one value per unit).
    """
    P = np.asarray(percentiles, dtype=float)
    if P.ndim not in (2, 3) or P.shape[1] != 3 or P.shape[0] < 1:
        raise ValueError(f"percentiles must have shape (n_eval, 3[, units]), got {P.shape}")
    if reference == "initial":
        spread = P[0, 2] - P[0, 0]
    elif reference == "mean":
        spread = np.mean(P[:, 2] - P[:, 0], axis=0)
    else:
        raise ValueError(f"reference must be 'initial' or 'mean', got {reference!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.max(np.abs(P - P[:1]), axis=(0, 1)) / spread
    return float(d) if P.ndim == 2 else d


def _check_int(v, name: str, minimum: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return int(v)


def _check_data(data) -> Dataset:
    if data is None:
        from bntheory.nets.data import load_mnist

        return load_mnist()  # DataUnavailable when missing: never a substitute
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a bntheory.nets.data.Dataset or None, got {type(data)}")
    if data.n_classes < 2:
        raise ValueError(f"data must be a classification data set, got n_classes={data.n_classes}")
    for name in ("X_train", "X_test"):
        X = getattr(data, name)
        if X.ndim != 2 or X.shape[0] < 1:
            raise ValueError(f"data.{name} must be a non-empty 2-D array, got {X.shape}")
    return data


def _population_statistics(net: MLP, X_pop: Array) -> None:
    """Alg. 2, lines 8-10: population statistics of every BN layer from the training
    network's batch statistics over the mini-batches ``X_pop`` (n_pop, batch, d), stored as
    the layers' running statistics (used by the eval-mode forward pass)."""
    if not net.bn_layers:
        return
    acts: dict[int, list[Array]] = {k: [] for k in net.bn_layers}
    with np.errstate(all="ignore"):
        for Xb in X_pop:
            fw = net._forward(Xb, True)
            for k in net.bn_layers:
                acts[k].append(fw.a[k])
    for k in net.bn_layers:
        net.batchnorms[k].population_statistics(acts[k])


def _evaluate(net: MLP, X_test: Array, y_test: Array) -> tuple[float, float, list[Array]]:
    """Inference-network test accuracy, mean cross-entropy and the sigmoid inputs of every
    hidden layer."""
    with np.errstate(all="ignore"):
        fw = net._forward(X_test, False)
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
        MNIST is not installed). Tests pass a slice or a synthetic set.
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
    steps = _check_int(steps, "steps", 0)
    eval_every = (QUICK_EVAL_EVERY if quick else EVAL_EVERY) if eval_every is None else eval_every
    eval_every = _check_int(eval_every, "eval_every", 1)
    batch = _check_int(batch, "batch", 2)
    seed = _check_int(seed, "seed", 0)
    pop_batches = _check_int(pop_batches, "pop_batches", 1)
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)):
        raise TypeError(f"lr must be a number, got {type(lr).__name__}")
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    data = _check_data(data)
    X, y = np.asarray(data.X_train, dtype=np.float64), np.asarray(data.Y_train)
    X_test, y_test = np.asarray(data.X_test, dtype=np.float64), np.asarray(data.Y_test)
    n = X.shape[0]
    if batch > n:
        raise ValueError(f"batch must be <= the number of training images {n}, got {batch}")
    sizes = (X.shape[1], *HIDDEN, int(data.n_classes))
    layer = len(HIDDEN) - 1
    unit = _check_int(unit, "unit", 0)
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

    checkpoint(0)
    status, message = "completed", ""
    train_loss = np.empty(steps)
    order, pos, done, t_train, cpu_train = order_gen.permutation(n), 0, 0, 0.0, 0.0
    for t in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        if pos + batch > n:
            order, pos = order_gen.permutation(n), 0
        idx = order[pos : pos + batch]
        pos += batch
        res = safe_loss_and_grad(net, X[idx], y[idx])
        if res is None:
            status, message = "diverged", f"non-finite loss or gradient at step {t}"
            break
        with np.errstate(all="ignore"):
            new = net.get_flat() - lr * res[1]
        if not np.all(np.isfinite(new)):
            status, message = "diverged", f"non-finite parameters after step {t}"
            break
        net.set_flat(new)
        train_loss[t] = res[0]
        done = t + 1
        t_train += time.perf_counter() - t0
        cpu_train += time.process_time() - c0
        if done % eval_every == 0 and done < steps:
            checkpoint(done)
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
        status=status,
        message=message,
        eval_steps=np.asarray(ev_steps, dtype=np.int64),
        test_accuracy=np.asarray(accs, dtype=float),
        test_loss=np.asarray(losses_te, dtype=float),
        percentiles=U[:, :, unit].copy(),
        unit_percentiles=U,
        hidden_percentiles=H if all_layers else np.empty(0),
        train_loss=train_loss[:done].copy(),
        theta=net.get_flat(),
        pop_mean=pop_mean,
        pop_var=pop_var,
        pop_index=pop_index,
        seconds=time.perf_counter() - t_start,
        seconds_per_step=t_train / done if done else float("nan"),
        cpu_seconds_per_step=cpu_train / done if done else float("nan"),
    )


def inference_network(run: IoffeFig1Run) -> MLP:
    """The final network of ``run`` as an inference network (Alg. 2): an :class:`MLP` with
    the run's final parameters and its population statistics as running statistics, so that
    ``net.predict`` / eval mode reproduces the run's last checkpoint."""
    if not isinstance(run, IoffeFig1Run):
        raise TypeError(f"run must be an IoffeFig1Run, got {type(run).__name__}")
    net = MLP(list(run.sizes), "sigmoid", bn=run.bn, loss="cross_entropy", rng=0)
    net.set_flat(run.theta)
    for i, k in enumerate(sorted(net.bn_layers)):
        net.batchnorms[k].running_mean = run.pop_mean[i].copy()
        net.batchnorms[k].running_var = run.pop_var[i].copy()
    return net
