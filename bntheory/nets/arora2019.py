"""Arora, Li & Lyu (2019), "Theoretical analysis of auto rate-tuning by batch
normalization", ICLR, measured on :class:`bntheory.nets.MLP`: scale invariance of the weights
feeding BN (Lemma 2.4: ``w`` orthogonal to its gradient, the norm identity of a GD step) and
the effective learning rate ``eta / ||w||^2``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bntheory.nets.checks import check_count, check_lr, check_net
from bntheory.nets.mlp import MLP

__all__ = ["AroraResult", "arora_scale_invariance"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class AroraResult:
    """Scale invariance of the weights feeding BN (Arora, Li & Lyu 2019, Lemma 2.4).

    Attributes
    ----------
    layers : tuple of int
        Scale-invariant layers (BN, no bias).
    orthogonality : ndarray (steps,)
        ``max_{layer, unit} |<w, grad_w L>| / (||w|| ||grad_w L||)`` at each step.
    norm_identity : ndarray (steps,)
        ``max |‖w_{t+1}‖² - ‖w_t‖² - η²‖grad‖²| / ‖w_{t+1}‖²`` per step (per unit row).
    weight_norms : ndarray (steps + 1, n_layers)
        Frobenius norm of each scale-invariant ``W`` along the run.
    effective_lr : ndarray (steps + 1, n_layers)
        ``eta / mean_j ||w_j||^2`` (Arora et al.: the learning rate on the sphere).
    """

    layers: tuple[int, ...]
    orthogonality: Array = field(repr=False)
    norm_identity: Array = field(repr=False)
    weight_norms: Array = field(repr=False)
    effective_lr: Array = field(repr=False)


def arora_scale_invariance(
    net: MLP, X: Array, Y: Array, *, lr: float, steps: int = 1
) -> AroraResult:
    """Run ``steps`` GD steps and check, for every unit ``j`` of every BN layer without bias
    (incoming weights ``w_j = W[:, j]``), ``w_j ⟂ grad_{w_j} L`` and
    ``||w_j^{t+1}||^2 = ||w_j^t||^2 + eta^2 ||grad_{w_j} L||^2`` (Arora, Li & Lyu 2019,
    Lemma 2.4; exact for ``eps = 0``, approximate for ``eps > 0``).

    Parameters
    ----------
    net : MLP
        Trained in place (``steps`` full-batch GD steps).
    X, Y : array_like
        The batch.
    lr : float
        Learning rate ``eta``.
    steps : int
        Number of GD steps; the run stops early (shorter arrays) when a step overflows.

    Returns
    -------
    AroraResult
    """
    net = check_net(net)
    lr = check_lr(lr)
    steps = check_count(steps)
    layers = tuple(k for k in sorted(net.bn_layers) if not net.has_bias[k])
    if not layers:
        raise ValueError("net has no scale-invariant layer (BN without bias)")
    spec = {s.layer: s for s in net.specs if s.kind == "W"}
    X = net.check_X(X)
    Y = net.check_Y(Y, X.shape[0])
    orth, ident, norms, elr = [], [], [], []

    def record_norms() -> None:
        ws = [net.params(k)["W"] for k in layers]
        norms.append([np.linalg.norm(W) for W in ws])
        elr.append([lr / np.mean(np.sum(W * W, axis=0)) for W in ws])

    record_norms()
    for _ in range(steps):
        theta = net.get_flat()
        _, g = net.loss_and_grad(X, Y)
        os_, ds = [0.0], [0.0]
        with np.errstate(over="ignore", invalid="ignore"):
            new = theta - lr * g
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(new))):
            break  # diverged: the run stops here (as the torch twin's), no warning, no NaN
        with np.errstate(all="ignore"):  # an overflow is caught just below
            for k in layers:
                s = spec[k]
                W, G, W2 = (a[s.slice].reshape(s.shape) for a in (theta, g, new))
                nw, ng = np.linalg.norm(W, axis=0), np.linalg.norm(G, axis=0)
                dots = np.abs(np.sum(W * G, axis=0))
                os_.append(float(np.max(dots / np.maximum(nw * ng, 1e-300))))
                lhs = np.sum(W2 * W2, axis=0)
                ds.append(float(np.max(np.abs(lhs - nw**2 - (lr * lr) * ng**2) / lhs)))
        if not (np.all(np.isfinite(os_)) and np.all(np.isfinite(ds))):
            break  # a norm overflowed: the step diverged
        o, d = max(os_), max(ds)
        orth.append(o)
        ident.append(d)
        net.set_flat(new)
        record_norms()
    return AroraResult(
        layers, np.asarray(orth), np.asarray(ident), np.asarray(norms), np.asarray(elr)
    )
