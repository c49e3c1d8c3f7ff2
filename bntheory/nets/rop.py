"""Pearlmutter's R-operator (1994) for :class:`bntheory.nets.MLP`: exact forward- and
reverse-mode tangents along a parameter direction, i.e. Hessian-vector products ``H v``,
Jacobian-vector products ``J v`` and second derivatives with respect to activations.

A forward-mode pass gives the directional derivatives ``R{a_k}, R{z_k}, R{h_k}`` of every
activation and the backward pass is differentiated once more along ``v``. Through BN (train
mode, batch statistics) the forward tangent is
``R x_hat = (1/s)(R a - mean(R a) - x_hat mean(x_hat R a))`` with ``s = sqrt(sigma_B^2 + eps)``,
and the tangent of the backward map ``g_a = (1/s) P(g_xhat)``,
``P(u) = u - mean(u) - x_hat mean(u x_hat)``, is
``R g_a = -(R s/s) g_a + (1/s)(P(R g_xhat) - R x_hat mean(g_xhat x_hat)
- x_hat mean(g_xhat R x_hat))`` with ``R s = mean(x_hat R a)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bntheory.nets.activations import output_grad_tangent
from bntheory.nets.records import ForwardTrace, Tangents

if TYPE_CHECKING:
    from bntheory.nets.mlp import MLP

__all__ = ["r_operator"]

Array = np.ndarray


def r_operator(
    net: MLP,
    fw: ForwardTrace,
    Y: Array | None,
    g_out: Array | None,
    v: Array | None,
    inject: tuple[int, str, Array] | None = None,
    *,
    backward: bool = True,
) -> Tangents:
    """Forward- and reverse-mode tangents of ``net`` along the parameter direction ``v``.

    Parameters
    ----------
    net : MLP
        The network, at the parameters of ``fw``.
    fw : ForwardTrace
        Train-mode forward pass (:meth:`MLP.forward_trace`).
    Y : ndarray or None
        Targets (needed by the reverse pass only).
    g_out : ndarray or None
        ``dL/d out`` of the forward pass (needed by the reverse pass only).
    v : ndarray (dim,) or None
        Parameter direction; None = no parameter tangent (with ``inject``).
    inject : (k, "a" or "z", T), optional
        Adds the tangent ``T`` to ``R a_k`` or ``R z_k`` (second derivatives with respect to
        activations; Santurkar et al. 2018, Theorem 4.2).
    backward : bool
        False stops after the forward tangent (the Jacobian-vector product ``R o = J v``).

    Returns
    -------
    Tangents
        ``(R grad, R o, R g_a list, R g_z list)``; the reverse-pass entries are None when
        ``backward`` is False.
    """
    L = net.n_layers
    V = net.unflatten(v) if v is not None else [dict() for _ in range(L)]
    Rz_l, Rxh_l, rho_l, Ra_l = [None] * L, [None] * L, [None] * L, [None] * L
    Rh_l = [None] * L
    Rh = None  # R h_{k-1}; the data X is fixed
    for k in range(L):
        p = net.params(k)
        Ra = None
        if Rh is not None:
            Ra = Rh @ p["W"]
        if "W" in V[k]:
            t = fw.inputs[k] @ V[k]["W"]
            if "b" in V[k]:
                t = t + V[k]["b"]
            Ra = t if Ra is None else Ra + t
        if inject is not None and inject[0] == k and inject[1] == "a":
            Ra = inject[2] if Ra is None else Ra + inject[2]
        if Ra is None:
            Ra = np.zeros_like(fw.a[k])
        Ra_l[k] = Ra
        if k in net.bn_layers:
            c = fw.cache[k]
            xh, inv = c.x_hat, c.inv_std
            mxr = np.mean(xh * Ra, axis=0)
            Rxh = inv * (Ra - Ra.mean(axis=0) - xh * mxr)
            Rz = net.batchnorms[k].gamma * Rxh
            if "gamma" in V[k]:
                Rz = Rz + V[k]["gamma"] * xh + V[k]["beta"]
            Rxh_l[k], rho_l[k] = Rxh, mxr * inv
        else:
            Rz = Ra
        if inject is not None and inject[0] == k and inject[1] == "z":
            Rz = Rz + inject[2]
        Rz_l[k] = Rz
        Rh_k = Rz * fw.d1[k] if k < L - 1 else Rz
        if net.skip[k]:
            Rh_k = Rh_k + Rh
        Rh_l[k] = Rh_k
        Rh = Rh_k
    Ro = Rh
    if not backward:
        return Tangents(None, Ro, None, None)
    # reverse pass of the tangent
    Rgrad = np.zeros(net.dim)
    Rg = net.unflatten(Rgrad)
    Rg_a_l, Rg_z_l = [None] * L, [None] * L
    g_h_fw, Rg_h = g_out, output_grad_tangent(net.loss_name, fw.out, Y, Ro)
    for k in range(L - 1, -1, -1):
        if k < L - 1:
            g_z = g_h_fw * fw.d1[k]
            Rg_z = Rg_h * fw.d1[k] + g_h_fw * fw.d2[k] * Rz_l[k]
        else:
            g_z, Rg_z = g_h_fw, Rg_h
        Rg_z_l[k] = Rg_z
        if k in net.bn_layers:
            c = fw.cache[k]
            xh, inv = c.x_hat, c.inv_std
            gam = net.batchnorms[k].gamma
            g_xh = gam * g_z
            Rg_xh = gam * Rg_z
            if "gamma" in V[k]:
                Rg_xh = Rg_xh + V[k]["gamma"] * g_z
                Rg[k]["gamma"][...] = np.sum(Rg_z * xh + g_z * Rxh_l[k], axis=0)
                Rg[k]["beta"][...] = np.sum(Rg_z, axis=0)
            mgx = np.mean(g_xh * xh, axis=0)
            g_a = inv * (g_xh - g_xh.mean(axis=0) - xh * mgx)
            Rxh = Rxh_l[k]
            Rg_a = -rho_l[k] * g_a + inv * (
                Rg_xh
                - Rg_xh.mean(axis=0)
                - Rxh * mgx
                - xh * np.mean(Rg_xh * xh + g_xh * Rxh, axis=0)
            )
        else:
            g_a, Rg_a = g_z, Rg_z
            if net.has_bias[k]:
                Rg[k]["b"][...] = Rg_a.sum(axis=0)
        Rg_a_l[k] = Rg_a
        Rin = Rh_l[k - 1] if k > 0 else None
        RW = fw.inputs[k].T @ Rg_a
        if Rin is not None:
            RW += Rin.T @ g_a
        Rg[k]["W"][...] = RW
        if k > 0:
            W = net.params(k)["W"]
            g_prev = g_a @ W.T
            Rg_prev = Rg_a @ W.T
            if "W" in V[k]:
                Rg_prev += g_a @ V[k]["W"].T
            if net.skip[k]:
                g_prev = g_prev + g_h_fw
                Rg_prev = Rg_prev + Rg_h
            g_h_fw, Rg_h = g_prev, Rg_prev
    return Tangents(Rgrad, Ro, Rg_a_l, Rg_z_l)
