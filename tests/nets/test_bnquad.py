"""BNQuadratic: the Santurkar et al. (2018) Sec. 4 setting L(BN(y))."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.measures import dense_matrix, hessian_operator
from bntheory.nets.bnquad import BNQuadratic


def _problem(seed: int, m: int = 8, gamma: float = 1.3) -> BNQuadratic:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(m, m))
    return BNQuadratic(A @ A.T / m + 0.1 * np.eye(m), rng.normal(size=m), gamma)


@pytest.mark.parametrize("seed", range(5))
def test_hvp_matches_finite_differences_of_the_library_gradient(seed):
    p = _problem(seed)
    rng = np.random.default_rng(100 + seed)
    y = rng.normal(size=p.dim) * 2 + 1
    for _ in range(3):
        v = rng.normal(size=p.dim)
        h = 1e-5
        fd = (p.grad(y + h * v) - p.grad(y - h * v)) / (2 * h)
        np.testing.assert_allclose(p.hvp(y, v), fd, rtol=1e-7, atol=1e-9)


def test_gradient_matches_finite_differences_of_the_loss():
    p = _problem(7)
    y = np.random.default_rng(1).normal(size=p.dim)
    h = 1e-6
    fd = [(p.loss(y + h * e) - p.loss(y - h * e)) / (2 * h) for e in np.eye(p.dim)]
    np.testing.assert_allclose(p.grad(y), fd, rtol=1e-6, atol=1e-8)


def test_hessian_is_symmetric_and_annihilates_the_invariant_directions():
    p = _problem(3)
    y = np.random.default_rng(2).normal(size=p.dim)
    Hh = dense_matrix(hessian_operator(p, y))
    raw = np.column_stack([p.hvp(y, e) for e in np.eye(p.dim)])
    np.testing.assert_allclose(raw, raw.T, atol=1e-10)
    np.testing.assert_allclose(Hh @ np.ones(p.dim), 0.0, atol=1e-10)
    # scale invariance: Hess y = -grad (differentiate grad(t y) = grad(y) / t at t = 1)
    np.testing.assert_allclose(Hh @ y, -p.grad(y), atol=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_global_minimizer_is_stationary_and_not_beaten_by_random_points(seed):
    p = _problem(seed)
    ys, mu = p.global_minimizer()
    assert np.linalg.norm(p.grad(ys)) < 1e-10
    Hh = dense_matrix(hessian_operator(p, ys))
    B = p.complement_basis(ys)
    assert np.linalg.eigvalsh(B.T @ Hh @ B)[0] > -1e-10  # a minimum: PSD on the complement
    rng = np.random.default_rng(seed)
    best = min(p.loss(rng.normal(size=p.dim)) for _ in range(500))
    assert p.loss(ys) <= best + 1e-12


def test_complement_basis_is_orthonormal_and_orthogonal_to_one_and_y():
    p = _problem(4)
    y = np.random.default_rng(5).normal(size=p.dim)
    B = p.complement_basis(y)
    assert B.shape == (p.dim, p.dim - 2)
    np.testing.assert_allclose(B.T @ B, np.eye(p.dim - 2), atol=1e-12)
    np.testing.assert_allclose(B.T @ np.ones(p.dim), 0.0, atol=1e-12)
    np.testing.assert_allclose(B.T @ (y - y.mean()), 0.0, atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="H"):
        BNQuadratic(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="gamma"):
        BNQuadratic(np.eye(3), np.ones(3), gamma=0.0)
    with pytest.raises(ValueError, match="constant"):
        BNQuadratic(np.eye(3), np.ones(3)).grad(np.ones(3))
