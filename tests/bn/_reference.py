"""The tests' independent BN reference: Ioffe & Szegedy (2015), Algorithm 1 and the Sec. 3
chain rule (dL/dx_hat, dL/dvar, dL/dmu) term by term in float64, statistics over every axis
but axis 1. No code shared with bntheory.bn."""

from __future__ import annotations

import numpy as np


def bn_reference(x, gamma, beta, eps, dy):
    """``(y, dx, dgamma, dbeta, x_hat)`` of training-mode BN, float64."""
    x, dy = np.asarray(x, np.float64), np.asarray(dy, np.float64)
    ax = (0,) + tuple(range(2, x.ndim))
    bs = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    g = np.asarray(gamma, np.float64).reshape(bs)
    b = np.asarray(beta, np.float64).reshape(bs)
    m = x.size // x.shape[1]
    mu = x.mean(axis=ax, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=ax, keepdims=True)
    xh = (x - mu) / np.sqrt(var + eps)
    dxh = dy * g
    dvar = np.sum(dxh * (x - mu), axis=ax, keepdims=True) * -0.5 * (var + eps) ** -1.5
    dmu = (
        np.sum(-dxh / np.sqrt(var + eps), axis=ax, keepdims=True)
        + dvar * np.sum(-2 * (x - mu), axis=ax, keepdims=True) / m
    )
    dx = dxh / np.sqrt(var + eps) + dvar * 2 * (x - mu) / m + dmu / m
    return g * xh + b, dx, np.sum(dy * xh, axis=ax), np.sum(dy, axis=ax), xh


def rel_error(a, ref) -> float:
    """Largest absolute difference relative to the largest reference value."""
    return float(np.max(np.abs(np.asarray(a, np.float64) - ref)) / np.max(np.abs(ref)))
