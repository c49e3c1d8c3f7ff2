"""GradientDescent on OLS: exact rates, divergence threshold, status handling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bntheory.problems import GaussianHalfspace, LeastSquares
from bntheory.solvers import GradientDescent, solve
from bntheory.testing import assert_converges, assert_rate_close


@pytest.mark.parametrize(
    ("kappa", "spectrum"), [(10, "geometric"), (100, "two-cluster"), (300, "linear")]
)
def test_rate_at_two_over_L_plus_mu(kappa, spectrum):
    ls = LeastSquares.ill_conditioned(20, kappa, spectrum, rng=1)
    res = solve(ls, GradientDescent("2/(L+mu)"), np.zeros(20), max_steps=20000, tol=0.0)
    it_rate = (kappa - 1) / (kappa + 1)  # closed form, THEORY.md Sec. 2 [D]
    # Gap = 1/2 e^T H e, so the gap rate is the square of the iterate rate; 1 % as the brief states.
    assert_rate_close(res, it_rate**2, rtol=0.01, allow_status=("converged", "max_steps"))
    assert_rate_close(np.sqrt(res.gaps), it_rate, rtol=0.01)


def test_rate_at_one_over_L():
    ls = LeastSquares.ill_conditioned(15, 50, "two-cluster", rng=2)
    res = solve(ls, GradientDescent("1/L"), np.zeros(15), max_steps=20000, tol=0.0)
    assert_rate_close(res, (1 - 1 / 50) ** 2, rtol=0.01, allow_status=("converged", "max_steps"))


def test_converges_and_diverges_around_threshold():
    ls = LeastSquares.ill_conditioned(10, 20, rng=3)
    lam_max = np.linalg.eigvalsh(ls.H)[-1]
    ok = solve(ls, GradientDescent(0.99 * 2 / lam_max), np.zeros(10), max_steps=50000)
    assert_converges(ok)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad = solve(ls, GradientDescent(1.01 * 2 / lam_max), np.zeros(10), max_steps=50000)
    assert bad.status == "diverged"
    assert np.all(np.isfinite(bad.losses)) and np.all(np.isfinite(bad.x))
    assert bad.losses[-1] > 1e11 * max(
        bad.losses[0], 1.0
    )  # stopped above the threshold, before overflow
    huge = solve(ls, GradientDescent(1e6), np.zeros(10), max_steps=1000)
    assert huge.status == "diverged" and np.all(np.isfinite(huge.gaps))


def test_general_problem_without_gap_fast_path():
    u = np.array([0.5, -0.3])
    hs = GaussianHalfspace.from_moments(u, np.eye(2))
    res = solve(hs, GradientDescent(1.0), np.zeros(2), max_steps=2000, tol=1e-8)
    assert_converges(res)
    assert res.gaps is not None and res.gaps[-1] < 1e-12


def test_result_shapes_and_frozen():
    ls = LeastSquares.ill_conditioned(5, 5, rng=0)
    res = solve(ls, GradientDescent(0.5), np.ones(5), max_steps=7, tol=0.0)
    assert res.status == "max_steps" and res.n_steps == 7
    assert len(res.losses) == len(res.gaps) == len(res.grad_norms) == 8
    with pytest.raises(AttributeError):
        res.status = "x"


def test_bad_input():
    ls = LeastSquares.ill_conditioned(5, 5, rng=0)
    with pytest.raises(ValueError, match="lr"):
        GradientDescent(0.0)
    with pytest.raises(ValueError, match="lr"):
        GradientDescent(-1.0)
    with pytest.raises(ValueError, match="lr"):
        GradientDescent("1/mu")
    with pytest.raises(ValueError, match="x0"):
        solve(ls, GradientDescent(0.1), np.ones(4))
    with pytest.raises(ValueError, match="x0"):
        solve(ls, GradientDescent(0.1), np.array([1.0, np.nan, 0, 0, 0]))
    with pytest.raises(ValueError, match="max_steps"):
        solve(ls, GradientDescent(0.1), np.ones(5), max_steps=-1)
    hs = GaussianHalfspace.from_moments(np.ones(2), np.eye(2))
    with pytest.raises(ValueError, match="lr"):
        solve(hs, GradientDescent("1/L"), np.zeros(2))


def test_solve_names_bad_problem_and_complex_x0():
    import warnings

    with pytest.raises(TypeError, match="problem"):
        solve(None, GradientDescent(0.1), [1.0])
    ls = LeastSquares(np.eye(3), np.zeros(3), 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="x0 must be real"):
            solve(ls, GradientDescent(0.1), np.ones(3) + 1j)
