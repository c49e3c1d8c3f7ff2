"""Gradient explosion at initialization in deep BN networks (Yang, Pennington, Rao,
Sohl-Dickstein & Schoenholz, ICLR 2019): Monte Carlo measurement of the growth factor per
layer of the squared gradient norm (:func:`yang_gradient_rate`) and the paper's closed-form
prediction (:func:`yang_formula`). The comparison of the two is the caller's (the
``yang_rate`` experiment, the tests): the measurement record holds only what was measured.

Setup (Yang et al. 2019, Sec. 2 and Sec. 6): fully connected, width ``N``,
depth ``D`` BN layers, ``W ~ N(0, 1/N)`` (``sigma_w^2 = 1``), no bias, ``gamma = 1``,
``beta = 0`` fixed, ``eps = 0`` (train mode, batch statistics), Gaussian input batch of size
``B``, a random linear loss on top of a final dense layer. The rate is the factor
``||dL/da_{l}||^2 / ||dL/da_{l+1}||^2`` by which the squared gradient norm (with respect to
the pre-BN pre-activations, summed over batch and width) grows per layer going down; it is
averaged (geometric mean) over middle layers ``[lo, hi)`` to skip the transient near the
input and the top, then over independent networks (mean and standard error).

Known biases: at finite width the rate is biased low by about ``c/N``
(0.3-0.6% at N = 500-1000); at ``B = 4`` the batch variance is heavy-tailed and simulations
sit 3-6% low; for linear networks at large ``B`` the per-layer rate drifts with depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bntheory._checks import as_generator
from bntheory.nets.mlp import MLP

__all__ = ["YangResult", "yang_formula", "yang_gradient_rate"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class YangResult:
    """Monte Carlo growth rate of the squared gradient norm per layer.

    Attributes
    ----------
    activation : str
    width, depth, batch_size, n_networks : int
    layers : tuple of int
        Layer window ``(lo, hi)`` of the average.
    measured : float
        Mean over networks of the per-network rate (geometric mean over the window).
    stderr : float
        Standard error of ``measured`` over networks.
    per_network : ndarray
        Rate of each network.
    measured_weights : float
        The same rate computed from the weight gradients ``||dL/dW_l||^2``.
    profile : ndarray
        Mean over networks of the per-layer ratios ``||g_l||^2 / ||g_{l+1}||^2``,
        ``l = 0..depth-2`` (to see drift with depth).
    """

    activation: str
    width: int
    depth: int
    batch_size: int
    n_networks: int
    layers: tuple[int, int]
    measured: float
    stderr: float
    per_network: Array = field(repr=False)
    measured_weights: float
    profile: Array = field(repr=False)


def yang_formula(activation: str, batch_size: int) -> float:
    """Closed-form per-layer growth rate of the squared gradient norm predicted by Yang et
    al. (2019): linear ``(B-2)/(B-3)``, ReLU Theorem 8 (:mod:`bntheory.bounds`).

    Parameters
    ----------
    activation : str
        ``"linear"`` or ``"relu"`` (other activations have no closed form here).
    batch_size : int
        ``B >= 4``.

    Returns
    -------
    float
        The predicted rate.

    Raises
    ------
    ValueError
        naming ``activation`` for an activation without a closed form here (the prediction
        is unknown, not a number: callers that sweep other activations skip the comparison).
    """
    if activation == "linear":
        from bntheory.bounds import yang_linear_rate

        return float(yang_linear_rate(batch_size))
    if activation == "relu":
        from bntheory.bounds import yang_relu_rate

        return float(yang_relu_rate(batch_size))
    raise ValueError(
        f"activation: no closed-form rate for {activation!r} (Yang et al. 2019 give one for "
        "'linear' and 'relu')"
    )


def yang_gradient_rate(
    activation: str = "relu",
    *,
    width: int = 500,
    depth: int = 50,
    batch_size: int = 32,
    n_networks: int = 10,
    layers: tuple[int, int] = (10, 40),
    eps: float = 0.0,
    rng: int | np.random.Generator | None = None,
) -> YangResult:
    """Measure the per-layer growth factor of the squared gradient norm at initialization.

    Parameters
    ----------
    activation : {"linear", "relu", "tanh", "sigmoid"}
    width, depth, batch_size : int
        ``N``, number of BN layers ``D``, batch size ``B`` (``B >= 4``; Yang's formulas need
        ``B > 3``).
    n_networks : int
        Independent networks (fresh weights, input batch and loss) for the error bar.
    layers : (lo, hi)
        Window of layers averaged over, ``0 <= lo < hi <= depth - 1``.
    eps : float
        BN epsilon (Yang et al. analyse ``eps = 0``).
    rng : int, Generator or None
        Seed of the weights, input batches and losses.

    Returns
    -------
    YangResult
    """
    for name, val, lo_ in (
        ("width", width, 2),
        ("depth", depth, 2),
        ("batch_size", batch_size, 4),
        ("n_networks", n_networks, 2),
    ):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < lo_:
            raise ValueError(f"{name} must be an int >= {lo_}, got {val!r}")
    lo, hi = layers
    if not (0 <= lo < hi <= depth - 1):
        raise ValueError(
            f"layers must satisfy 0 <= lo < hi <= depth - 1 = {depth - 1}, got {layers}"
        )
    gen = as_generator(rng)
    net = MLP(
        [width] * (depth + 1) + [width],
        activation,
        bn=True,
        eps=eps,
        train_affine=False,
        bias=False,
        loss="linear",
        sigma_w2=1.0,
        rng=gen,
    )
    rates, wrates, profiles = [], [], []
    for i in range(n_networks):
        if i > 0:
            net.reset(gen)
        X = gen.standard_normal((batch_size, width))
        C = gen.standard_normal((batch_size, width))
        tr = net.trace(X, C)
        ga = np.array([np.sum(tr.g_a[k] ** 2) for k in range(depth)])
        gw = np.array([np.sum(tr.grad[net.layer_slices[k]] ** 2) for k in range(depth)])
        rates.append((ga[lo] / ga[hi]) ** (1.0 / (hi - lo)))
        wrates.append((gw[lo] / gw[hi]) ** (1.0 / (hi - lo)))
        profiles.append(ga[:-1] / ga[1:])
    rates_a = np.asarray(rates)
    measured = float(rates_a.mean())
    stderr = float(rates_a.std(ddof=1) / np.sqrt(n_networks))
    return YangResult(
        activation,
        int(width),
        int(depth),
        int(batch_size),
        int(n_networks),
        (int(lo), int(hi)),
        measured,
        stderr,
        rates_a,
        float(np.mean(wrates)),
        np.mean(profiles, axis=0),
    )
