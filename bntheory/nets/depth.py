"""Gradient-norm profiles of very deep fully connected networks, at initialization and after
training (the reference article's gradient-flow claims: 90-layer nets on permutation-invariant
MNIST, its ref. [12]; >100-layer nets with BN and skip connections, He et al. 2016).

The data are permutation-invariant: images flattened to vectors, so a fully connected net
sees no spatial structure. MNIST (:func:`bntheory.nets.data.load_mnist`) when it is
available offline, otherwise scikit-learn's 8x8 digits, and the result says which
(``dataset``); never one under the other's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from bntheory.nets.checks import check_net
from bntheory.nets.loop import safe_loss_and_grad
from bntheory.nets.mlp import MLP
from bntheory.nets.train import train
from bntheory.status import Status

__all__ = [
    "DepthProfile",
    "GradientFlowResult",
    "depth_profile",
    "gradient_flow",
    "permutation_invariant_data",
]

Array = np.ndarray

#: Floor of a gradient norm before taking logs (an exactly zero layer gradient is the
#: strongest possible decay, reported as 1e-300 rather than -inf).
NORM_FLOOR = 1e-300


@lru_cache(maxsize=4)
def permutation_invariant_data(n: int) -> tuple[Array, Array, str]:
    """The first ``n`` training images (flattened, pixels in [0, 1]) and labels, and the data
    set's name: ``"MNIST"`` when :func:`~bntheory.nets.data.load_mnist` finds it, otherwise
    ``"digits"`` (:func:`~bntheory.nets.data.load_digits_split`, which raises
    :class:`~bntheory.nets.data.DataUnavailable` without scikit-learn).

    Parameters
    ----------
    n : int
        Number of images (>= 2, at most the training set's size: ``ValueError`` otherwise).

    Returns
    -------
    tuple of (ndarray (n, pixels), ndarray (n,), str)
        Read-only images, labels and the data set's name.
    """
    from bntheory.nets import data

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    d, name = None, "digits"
    if hasattr(data, "load_mnist"):
        try:
            d, name = data.load_mnist(), "MNIST"
        except data.DataUnavailable:
            d = None
    if d is None:
        d = data.load_digits_split()
    if n > len(d.X_train):
        raise ValueError(f"n must be <= {len(d.X_train)} (the {name} training images), got {n}")
    X = np.ascontiguousarray(d.X_train[:n], dtype=np.float64)
    y = np.asarray(d.Y_train[:n])
    X.flags.writeable = False
    return X, y, name


@dataclass(frozen=True, slots=True)
class DepthProfile:
    """Per-layer gradient norms of one deep network before and after training.

    Attributes
    ----------
    init, trained : ndarray (n_layers,)
        ``||grad_{W_k, ...} L||`` of every dense layer (full batch, train mode).
    log10_first_over_last_init, log10_first_over_last_trained : float
        ``log10(||grad_0|| / ||grad_{last hidden}||)``: negative = the gradient decays
        towards the input (norms floored at :data:`NORM_FLOOR`).
    loss_init, loss_trained : float
        Full-batch loss before and after training (``inf`` if diverged).
    status : str
        ``"completed"`` or ``"diverged"``.
    dataset : str
    """

    init: Array = field(repr=False)
    trained: Array = field(repr=False)
    log10_first_over_last_init: float
    log10_first_over_last_trained: float
    loss_init: float
    loss_trained: float
    status: str
    dataset: str


@dataclass(frozen=True, slots=True)
class GradientFlowResult:
    """Per-layer gradient norms at initialization and after training.

    Attributes
    ----------
    init : ndarray (n_layers,)
        ``||grad_{layer k} L||`` (all parameters of dense layer ``k``) at initialization.
    trained : ndarray (n_layers,)
        The same after ``steps`` of training (the last finite parameters if diverged).
    status : Status
    final_loss : float
    """

    init: Array = field(repr=False)
    trained: Array = field(repr=False)
    status: Status
    final_loss: float


def gradient_flow(
    net: MLP,
    X: Array,
    Y: Array,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    rng: int | np.random.Generator | None = 0,
) -> GradientFlowResult:
    """Per-layer gradient norms (full batch, train mode) at initialization and after brief
    (S)GD training: the reference article's claim that BN prevents the exponential decay of
    gradient norms in a 90-layer network (its ref. [12]).

    Parameters
    ----------
    net : MLP
        Trained in place.
    X, Y : array_like
        Training data (the gradient norms are of the full batch).
    lr : float
    steps : int
    batch_size : int, optional
        None = full batch.
    rng : int, Generator or None
        Seed of the mini-batch order.

    Returns
    -------
    GradientFlowResult
    """
    net = check_net(net)
    X = net.check_X(X)
    Y = net.check_Y(Y, X.shape[0])

    def norms() -> tuple[Array, float]:
        res = safe_loss_and_grad(net, X, Y)
        if res is None:
            return np.full(net.n_layers, np.inf), np.inf
        L, g = res
        return np.array([np.linalg.norm(g[s]) for s in net.layer_slices]), L

    g0, _ = norms()
    r = train(net, X, Y, lr=lr, steps=steps, batch_size=batch_size, rng=rng)
    g1, L1 = norms()
    return GradientFlowResult(g0, g1, r.status, float(L1))


def _ratio(g: Array, last: int) -> float:
    a = max(float(g[0]), NORM_FLOOR)
    b = max(float(g[last]), NORM_FLOOR)
    return float(np.log10(a / b))


def depth_profile(
    activation: str,
    bn: bool,
    depth: int,
    width: int,
    *,
    residual: bool = False,
    steps: int,
    lr: float,
    batch_size: int,
    n_train: int,
    rng: int,
) -> DepthProfile:
    """Train a ``depth``-hidden-layer net (width ``width``, softmax cross-entropy) with SGD
    on permutation-invariant data and record its per-layer gradient norms at
    initialization and after ``steps`` steps (:func:`gradient_flow`).

    Initialization: He (``sigma_w^2 = 2``) for ReLU, ``sigma_w^2 = 1`` otherwise; BN (when
    ``bn``) on every hidden pre-activation (Ioffe & Szegedy 2015, Sec. 3.2); ``residual``
    adds identity skips ``h_k = h_{k-1} + phi(z_k)`` (He et al. 2016).

    Parameters
    ----------
    activation : str
        Hidden nonlinearity.
    bn : bool
        BN on every hidden layer.
    depth, width : int
        Hidden layers and their width.
    residual : bool
        Identity skip connections.
    steps : int
        SGD steps.
    lr : float
    batch_size : int
    n_train : int
        Training images used.
    rng : int
        Seed of the weights and the mini-batch order.

    Returns
    -------
    DepthProfile
    """
    from bntheory.nets import MLP  # looked up at call time: tests substitute it

    X, y, name = permutation_invariant_data(int(n_train))
    seeds = np.random.SeedSequence(int(rng)).generate_state(2)
    net = MLP(
        [X.shape[1]] + [int(width)] * int(depth) + [10],
        activation,
        bn=bool(bn),
        residual=residual,
        loss="cross_entropy",
        sigma_w2=2.0 if activation == "relu" else 1.0,
        rng=int(seeds[0]),
    )
    with np.errstate(all="ignore"):
        loss0 = float(net.loss(X, y))
        r = gradient_flow(net, X, y, lr=lr, steps=steps, batch_size=batch_size, rng=int(seeds[1]))
    last = int(depth) - 1
    return DepthProfile(
        r.init,
        r.trained,
        _ratio(r.init, last),
        _ratio(r.trained, last),
        loss0,
        float(r.final_loss),
        str(r.status),
        name,
    )
