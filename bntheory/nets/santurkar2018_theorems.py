"""Santurkar, Tsipras, Ilyas & Madry (2018), "How does batch normalization help
optimization?", Sec. 4.1: Theorems 4.1 (gradient magnitude) and 4.2 (second-order term)
checked numerically, per feature of one BN layer of :class:`bntheory.nets.MLP`, with the
exact gradients and activation Hessians of the network (R-operator)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bntheory.nets.checks import check_net
from bntheory.nets.mlp import MLP

__all__ = ["TheoremCheck", "santurkar_theorem41", "santurkar_theorem42"]

Array = np.ndarray


@dataclass(frozen=True, slots=True)
class TheoremCheck:
    """An inequality ``lhs <= rhs`` checked numerically, per BN feature.

    Attributes
    ----------
    lhs, rhs : ndarray
        Per feature.
    rel_gap : ndarray
        ``(rhs - lhs) / max(|rhs|, |lhs|)``: 0 means equality, negative means violated.
    holds : bool
        ``lhs <= rhs`` up to ``1e-10`` relative, for every feature.
    max_abs_rel_gap : float
    source : str
    """

    lhs: Array = field(repr=False)
    rhs: Array = field(repr=False)
    rel_gap: Array = field(repr=False)
    holds: bool
    max_abs_rel_gap: float
    source: str


def _theorem_check(lhs: Array, rhs: Array, source: str) -> TheoremCheck:
    lhs, rhs = np.asarray(lhs, float), np.asarray(rhs, float)
    scale = np.maximum(np.maximum(np.abs(lhs), np.abs(rhs)), 1e-300)
    gap = (rhs - lhs) / scale
    return TheoremCheck(
        lhs, rhs, gap, bool(np.all(gap >= -1e-10)), float(np.max(np.abs(gap))), source
    )


def _bn_layer(net: MLP, layer: int) -> int:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
        raise TypeError("layer must be an int")
    if layer not in net.bn_layers:
        raise ValueError(f"layer {layer} has no BN (BN layers: {sorted(net.bn_layers)})")
    return int(layer)


def santurkar_theorem41(net: MLP, X: Array, Y: Array, layer: int) -> TheoremCheck:
    r"""Santurkar et al. (2018), Theorem 4.1 on BN layer ``layer``, every feature ``j``.

    .. math::
        \|\nabla_{y_j}\hat{\mathcal L}\|^2 \le \frac{\gamma^2}{\sigma_j^2}\Big(
        \|\nabla_{z_j}\mathcal L\|^2 - \tfrac1m\langle\mathbf 1,\nabla_{z_j}\mathcal L\rangle^2
        - \tfrac1m\langle\nabla_{z_j}\mathcal L,\hat y_j\rangle^2\Big)

    with ``y_j`` the BN input (pre-activation) column, ``z_j`` the BN output, ``m`` the batch
    size. With ``eps > 0`` the scale is read as ``sigma_j^2 + eps`` and ``\hat y_j`` is the
    actual normalized value, so ``||\hat y_j||^2 = m sigma^2/(sigma^2+eps) < m``; then the
    bound is strict (gap ``(1 - sigma^2/(sigma^2+eps)) <g, \hat y>^2 / m`` times the
    prefactor). At ``eps = 0`` it is an equality.

    Parameters
    ----------
    net : MLP
    X, Y : array_like
        The batch (train mode).
    layer : int
        A BN layer.

    Returns
    -------
    TheoremCheck
        ``lhs <= rhs`` per feature.
    """
    net = check_net(net)
    layer = _bn_layer(net, layer)
    tr = net.trace(X, Y)
    g, gy = tr.g_z[layer], tr.g_a[layer]
    xh, inv, gam = tr.x_hat[layer], tr.inv_std[layer], tr.gamma[layer]
    m = g.shape[0]
    lhs = np.sum(gy * gy, axis=0)
    rhs = (gam * inv) ** 2 * (
        np.sum(g * g, axis=0) - np.sum(g, axis=0) ** 2 / m - np.sum(g * xh, axis=0) ** 2 / m
    )
    return _theorem_check(lhs, rhs, "Santurkar et al. (2018), Theorem 4.1")


def santurkar_theorem42(net: MLP, X: Array, Y: Array, layer: int) -> TheoremCheck:
    r"""Santurkar et al. (2018), Theorem 4.2 (first inequality) on BN layer ``layer``.

    For each feature ``j``, with ``v = \nabla_{y_j}\hat{\mathcal L}`` (gradient with respect
    to the BN input column), ``\hat H`` the Hessian of the loss with respect to that column
    and ``H_{jj}`` the Hessian with respect to the BN output column ``z_j``:

    .. math::
        v^\top \hat H v \le \frac{\gamma^2}{\sigma^2} v^\top H_{jj} v
        - \frac{\gamma}{m\sigma^2}\langle \nabla_{z_j}\mathcal L, \hat y_j\rangle \|v\|^2 .

    Both quadratic forms are exact (R-operator, :meth:`MLP.activation_hessian_quadratic`).
    ``sigma^2`` is read as ``sigma_j^2 + eps``. Equality at ``eps = 0`` (``v`` lies in
    the range of the BN projection).

    Parameters
    ----------
    net : MLP
    X, Y : array_like
        The batch (train mode).
    layer : int
        A BN layer.

    Returns
    -------
    TheoremCheck
        ``lhs <= rhs`` per feature.
    """
    net = check_net(net)
    layer = _bn_layer(net, layer)
    tr = net.trace(X, Y)
    g, gy = tr.g_z[layer], tr.g_a[layer]
    xh, inv, gam = tr.x_hat[layer], tr.inv_std[layer], tr.gamma[layer]
    m, C = g.shape
    lhs, rhs = np.zeros(C), np.zeros(C)
    for j in range(C):
        T = np.zeros_like(gy)
        T[:, j] = gy[:, j]
        lhs[j] = net.activation_hessian_quadratic(X, Y, layer, "a", T)
        qz = net.activation_hessian_quadratic(X, Y, layer, "z", T)
        vv = float(gy[:, j] @ gy[:, j])
        rhs[j] = (gam[j] * inv[j]) ** 2 * qz - gam[j] * inv[j] ** 2 / m * float(
            g[:, j] @ xh[:, j]
        ) * vv
    return _theorem_check(lhs, rhs, "Santurkar et al. (2018), Theorem 4.2")
