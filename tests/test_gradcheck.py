"""gradcheck must accept right derivatives and reject wrong ones (it can fail)."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.gradcheck import as_generator, check_gradient, check_hvp, taylor_slope

A = np.random.default_rng(0).standard_normal((6, 6))
A = A + A.T


def f(x):
    return float(np.sum(np.sin(x)) + 0.5 * x @ A @ x + np.sum(x**4) / 4)


def grad(x):
    return np.cos(x) + A @ x + x**3


def hvp(x, v):
    return -np.sin(x) * v + A @ v + 3 * x**2 * v


X0 = np.linspace(-1, 1, 6)


def test_right_gradient_passes_with_slope_two():
    res = check_gradient(f, grad, X0, rng=1)
    assert res.ok
    assert abs(res.slope - 2) < 0.1
    assert res.rel_error < 1e-8


@pytest.mark.parametrize("wrong", [lambda x: grad(x) + 1e-4, lambda x: 1.01 * grad(x)])
def test_wrong_gradient_fails(wrong):
    res = check_gradient(f, wrong, X0, rng=1)
    assert not res.ok


def test_right_hvp_passes_with_slopes_two_and_three():
    res = check_hvp(grad, hvp, X0, rng=2, f=f)
    assert res.ok
    assert abs(res.slope - 2) < 0.1
    assert abs(res.cost_slope - 3) < 0.15
    assert res.symmetry < 1e-14


def test_asymmetric_or_wrong_hvp_fails():
    B = np.triu(np.ones((6, 6)))
    assert not check_hvp(grad, lambda x, v: hvp(x, v) + 1e-3 * B @ v, X0, rng=3).ok
    assert not check_hvp(grad, lambda x, v: 0.99 * hvp(x, v), X0, rng=3, f=f).ok


def test_quadratic_is_exact():
    res = check_hvp(lambda x: A @ x, lambda x, v: A @ v, X0, rng=4, f=lambda x: 0.5 * x @ A @ x)
    assert res.ok and np.isinf(res.slope)


def test_taylor_slope_recovers_power_law_with_floor():
    ts = np.logspace(-8, 0, 30)
    r = np.maximum(ts**2, 1e-15)  # round-off floor below t = 3e-8
    slope, (i, j) = taylor_slope(ts, r)
    assert abs(slope - 2) < 1e-6


def test_bad_input():
    with pytest.raises(ValueError, match="x"):
        check_gradient(f, grad, np.array([np.nan, 1.0]))
    with pytest.raises(TypeError, match="f"):
        check_gradient(3, grad, X0)
    with pytest.raises(TypeError, match="rng"):
        as_generator("seed")
