"""Normalized (BN reparametrization): derivatives, scale invariance, Cai's J, Kohler's rho."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.gradcheck import check_gradient, check_hvp
from bntheory.problems import GaussianHalfspace, LeastSquares, Normalized


@pytest.fixture
def ls():
    return LeastSquares.ill_conditioned(6, 30, rng=0)


def _theta(d, seed=1, g=0.8):
    return np.r_[g, np.random.default_rng(seed).standard_normal(d)]


def test_derivatives_least_squares(ls):
    nb = Normalized(ls)
    th = _theta(6)
    assert check_gradient(nb.loss, nb.grad, th, rng=2).ok
    assert check_hvp(nb.grad, nb.hvp, th, rng=3, f=nb.loss).ok


def test_derivatives_halfspace():
    ls = LeastSquares.ill_conditioned(4, 10, rng=1)
    nb = Normalized(GaussianHalfspace.from_moments(ls.u, ls.H))
    th = _theta(4, 2, 1.5)
    assert check_gradient(nb.loss, nb.grad, th, rng=2).ok
    assert check_hvp(nb.grad, nb.hvp, th, rng=3, f=nb.loss).ok


def test_cai_closed_form(ls):
    # J(a, w) = 1/2 (c - 2 a w^T u / ||w||_H + a^2): Cai, Li & Shen (2019), THEORY.md Sec. 2.
    nb = Normalized(ls)
    a, w = 0.7, np.random.default_rng(4).standard_normal(6)
    ref = 0.5 * (ls.c - 2 * a * (w @ ls.u) / np.sqrt(w @ ls.H @ w) + a * a)
    np.testing.assert_allclose(nb.J(a, w), ref, rtol=1e-12)


def test_scale_invariance(ls):
    nb = Normalized(ls)
    th = _theta(6, 5)
    gw = nb.grad(th)[1:]
    assert abs(th[1:] @ gw) < 1e-12 * np.linalg.norm(th[1:]) * np.linalg.norm(gw)
    for c in (1e-3, 0.5, 7.0, 1e4):
        th_c = np.r_[th[0], c * th[1:]]
        np.testing.assert_allclose(nb.loss(th_c), nb.loss(th), rtol=1e-12)
        np.testing.assert_allclose(nb.grad(th_c)[1:], gw / c, rtol=1e-9, atol=1e-14 / c)


def test_rho_and_gap(ls):
    nb = Normalized(ls)
    w = np.random.default_rng(6).standard_normal(6)
    np.testing.assert_allclose(nb.rho(w), -((ls.u @ w) ** 2) / (w @ ls.H @ w), rtol=1e-12)
    np.testing.assert_allclose(nb.rho_star, -ls.u @ np.linalg.solve(ls.H, ls.u), rtol=1e-10)
    np.testing.assert_allclose(nb.rho_gap(w), nb.rho(w) - nb.rho_star, rtol=1e-8)
    # rho - rho* = 2 (J(a*(w), w) - J*): Kohler's f_ols is twice Cai's J.
    a_opt = (w @ ls.u) / np.sqrt(w @ ls.H @ w)
    np.testing.assert_allclose(nb.rho_gap(w), 2 * (nb.J(a_opt, w) - ls.J_star), rtol=1e-8)
    assert check_gradient(nb.rho, nb.grad_rho, w, rng=7).ok


def test_zero_w_rejected(ls):
    nb = Normalized(ls)
    with pytest.raises(ValueError, match="w"):
        nb.loss(np.zeros(7))
    with pytest.raises(TypeError, match="problem"):
        Normalized(object())


def test_rho_at_zero_is_a_named_error():
    # rho(w) = -(u^T w)^2 / (w^T S w) is undefined at w = 0 (used to be ZeroDivisionError)
    nb = Normalized(LeastSquares(np.eye(2), [1.0, 0.0], 1.0))
    for f in (nb.rho, nb.grad_rho, nb.rho_gap):
        with pytest.raises(ValueError, match="w must be non-zero"):
            f([0.0, 0.0])
    assert nb.rho([2.0, 0.0]) == pytest.approx(-1.0, rel=1e-15)  # closed form -(2)^2/4
