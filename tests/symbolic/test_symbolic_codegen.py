"""Cross-check of bntheory.bn against the lambdified SymPy gradient."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.bn import batch_norm_backward, batch_norm_forward
from bntheory.symbolic import symbolic_backward


def _rel(a, b):
    return np.linalg.norm(np.asarray(a) - np.asarray(b)) / max(np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize(
    "shape, eps",
    [((2, 3), 1e-5), ((5, 4), 0.0), ((8, 2), 1e-3), ((3, 2, 2, 2), 1e-5), ((2, 3, 3), 0.5)],
)
def test_bn_backward_matches_sympy(shape, eps):
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(loc=1.5, scale=2.0, size=shape)
    dy = rng.normal(size=shape)
    c = shape[1]
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    y, cache = batch_norm_forward(x, gamma, beta, eps=eps)
    dx, dgamma, dbeta = batch_norm_backward(dy, cache)
    m = shape[0] * int(np.prod(shape[2:]))
    sdx, sdgamma, sdbeta = symbolic_backward(m)(x, gamma, beta, eps, dy)
    # dx is a difference of terms of size |gamma| |dy| / sqrt(var + eps); for m = 2 and small eps it
    # nearly cancels (rank m - 2 = 0 at eps = 0), so the error is measured relative to that term
    # scale. Both sides are O(1)-operation float64 evaluations: 1e-12 leaves ~1e3 ulp margin.
    axes = (0, *range(2, x.ndim))
    std = np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    scale = np.linalg.norm(gamma.reshape(1, c, *([1] * (x.ndim - 2))) * dy / std)
    assert sdx.shape == x.shape
    assert np.linalg.norm(dx - sdx) / scale <= 1e-12
    assert _rel(dgamma, sdgamma) <= 1e-12
    assert _rel(dbeta, sdbeta) <= 1e-12


def test_symbolic_backward_against_finite_differences():
    # independent of bn.py: central differences of l(x) = sum dy * y on a 1-D batch
    rng = np.random.default_rng(3)
    m, eps, gamma, beta = 4, 1e-2, 1.3, -0.2
    x, dy = rng.normal(size=m), rng.normal(size=m)

    def loss(v):
        xh = (v - v.mean()) / np.sqrt(v.var() + eps)
        return float(np.sum(dy * (gamma * xh + beta)))

    h = 1e-6
    fd = np.array([(loss(x + h * e) - loss(x - h * e)) / (2 * h) for e in np.eye(m)])
    dx, dgamma, dbeta = symbolic_backward(m)(x, gamma, beta, eps, dy)
    assert _rel(dx, fd) <= 1e-7  # central-difference truncation + round-off ~ h^2 + 1e-16/h
    assert np.isclose(dbeta, dy.sum(), rtol=1e-14)


def test_symbolic_backward_bad_input():
    f = symbolic_backward(3)
    with pytest.raises(ValueError, match="x"):
        f(np.zeros((4, 2)), 1.0, 0.0, 1e-5, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="dy"):
        f(np.zeros((3, 2)), 1.0, 0.0, 1e-5, np.zeros((3, 1)))
    with pytest.raises(ValueError, match="m"):
        symbolic_backward(1)
    with pytest.raises(TypeError, match="m"):
        symbolic_backward(2.5)
