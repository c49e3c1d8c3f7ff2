from __future__ import annotations

import numpy as np
import pytest

from bntheory.measures import (
    LineProfile,
    global_smoothness,
    gradient_lipschitz_along,
    local_smoothness,
    trajectory_smoothness,
)

from ._problems import HvpOnlyQuadratic, Quadratic, logistic_problem, random_spd


def test_global_smoothness_of_quadratic_is_lambda_max():
    rng = np.random.default_rng(0)
    H, lam = random_spd(50, rng, lo=0.5, hi=40.0)
    b = rng.standard_normal(50)
    assert global_smoothness(H) == pytest.approx(lam[-1], rel=1e-10)
    assert global_smoothness(Quadratic(H, b)) == pytest.approx(lam[-1], rel=1e-10)
    # matrix-free (no .hessian), d > 500 -> eigsh on the hvp operator
    H2, lam2 = random_spd(520, rng, lo=0.5, hi=40.0)
    assert global_smoothness(HvpOnlyQuadratic(H2, np.zeros(520)), rng=0) == pytest.approx(
        lam2[-1], rel=1e-8
    )


def test_global_smoothness_uses_spectral_norm_for_indefinite():
    assert global_smoothness(np.diag([-5.0, 1.0, 2.0])) == pytest.approx(5.0, rel=1e-14)


def test_trajectory_smoothness_on_gd_quadratic_matches_rayleigh_ratios():
    rng = np.random.default_rng(1)
    H, lam = random_spd(20, rng, lo=1.0, hi=30.0)
    p = Quadratic(H, rng.standard_normal(20))
    xs = [rng.standard_normal(20)]
    for _ in range(30):
        xs.append(xs[-1] - (1.0 / lam[-1]) * p.grad(xs[-1]))
    xs = np.array(xs)
    prof = trajectory_smoothness(p, xs)
    dX = np.diff(xs, axis=0)
    ref = np.linalg.norm(dX @ H, axis=1) / np.linalg.norm(dX, axis=1)  # grad difference = H dx
    np.testing.assert_allclose(prof.per_step, ref, rtol=1e-9)
    assert prof.max_ratio <= lam[-1] * (1 + 1e-12)
    assert prof.max_ratio >= lam[0]
    assert prof.moved.all() and prof.step_norms.shape == (30,)


def test_local_smoothness_zero_steps_and_bad_input():
    xs = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 2.0]])
    gs = np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 0.0], [3.0, 2.0]])
    prof = local_smoothness(gs, xs)
    np.testing.assert_array_equal(prof.moved, [True, False, True])
    np.testing.assert_allclose(prof.per_step, [3.0, 0.0, 1.0])
    assert prof.max_ratio == 3.0
    with pytest.raises(ValueError, match="grads"):
        local_smoothness(gs[:3], xs)
    with pytest.raises(ValueError, match="xs"):
        local_smoothness(gs[:1], xs[:1])
    with pytest.raises(ValueError, match="grads"):
        local_smoothness(np.full_like(gs, np.nan), xs)


def test_gradient_lipschitz_along_logistic():
    rng = np.random.default_rng(2)
    p = logistic_problem(100, 8, rng, lam=1e-2)
    x = rng.standard_normal(8)
    direction = -0.1 * p.grad(x)
    prof = gradient_lipschitz_along(p, x, direction, np.array([1e-6, 0.5, 1.0, 2.0, 4.0]))
    assert isinstance(prof, LineProfile)
    # global bound for logistic loss: L <= ||X||_2^2 / (4 n) + lam (sigmoid' <= 1/4)
    L_bound = np.linalg.norm(p.X, 2) ** 2 / (4 * p.n) + p.lam
    assert np.all(prof.ratios <= L_bound * (1 + 1e-12))
    # for a tiny move the ratio is ||H d|| / ||d|| with the dense Hessian (first-order Taylor)
    Hd = p.hessian(x) @ direction
    assert prof.ratios[0] == pytest.approx(np.linalg.norm(Hd) / np.linalg.norm(direction), rel=1e-4)
    losses = np.array([p.loss(x + s * direction) for s in prof.steps] + [p.loss(x)])
    assert prof.loss_range == pytest.approx(np.ptp(losses), rel=1e-12)
    assert prof.effective_smoothness == prof.ratios.max()


def test_gradient_lipschitz_along_bad_input():
    p = logistic_problem(10, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="direction"):
        gradient_lipschitz_along(p, np.zeros(3), np.zeros(3), [1.0])
    with pytest.raises(ValueError, match="steps"):
        gradient_lipschitz_along(p, np.zeros(3), np.ones(3), [np.nan])
    with pytest.raises(ValueError, match="x"):
        gradient_lipschitz_along(p, np.zeros(2), np.ones(3), [1.0])
