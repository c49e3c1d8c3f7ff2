"""BNGD (Cai, Li & Shen 2019) on OLS: robustness to lr, norm growth, scaling law, local rate."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.bounds import (
    bngd_local_iterate_rate,
    bngd_spectrum,
    bngd_stability_threshold,
    kappa_star,
)
from bntheory.problems import LeastSquares
from bntheory.solvers import BNGD, GradientDescent, solve
from bntheory.testing import assert_converges, assert_rate_close


def _w0(d, seed=8):
    w = np.random.default_rng(seed).standard_normal(d)
    return w / np.linalg.norm(w)


@pytest.fixture(scope="module")
def ls():
    return LeastSquares.ill_conditioned(10, 10, rng=7)


@pytest.mark.parametrize("lr", [1e-3, 1e-2, 1e-1, 1.0, 10.0, 1e2, 1e3, 1e4])
def test_converges_for_any_lr_where_gd_diverges(ls, lr):
    res = solve(ls, BNGD(lr), (1.0, _w0(10)), max_steps=12000)
    assert res.status != "diverged"
    # Slow for the extreme rates (the effective step is ~lr or ~1/lr), but the gap falls
    # at least 100-fold within 12000 steps everywhere; the limit effective step is stable.
    assert res.gaps[-1] < 1e-2 * res.gaps[0], (res.gaps[0], res.gaps[-1])
    assert res.history["eps_hat"][-1] < bngd_stability_threshold(ls.H, ls.w_star)
    w_norm = res.history["w_norm"]
    # ||w_{k+1}||^2 = ||w_k||^2 + lr^2 ||grad||^2 (THEORY.md Sec. 2 (i)): never decreases
    # (up to round-off of the norm itself).
    assert np.all(np.diff(w_norm) >= -1e-14 * w_norm[1:])
    if lr > 2 / np.linalg.eigvalsh(ls.H)[-1]:
        assert solve(ls, GradientDescent(lr), np.zeros(10), max_steps=12000).status == "diverged"


def test_moderate_lr_converges_to_machine_precision(ls):
    res = solve(ls, BNGD(1.0), (1.0, _w0(10)), max_steps=5000)
    assert_converges(res, gap_tol=1e-20)
    np.testing.assert_allclose(res.x, ls.w_star, rtol=1e-9)


def test_norm_identity(ls):
    # Exact identity ||w_{k+1}||^2 = ||w_k||^2 + lr^2 ||grad_w J||^2 (w is orthogonal to grad_w J).
    lr = 3.0
    res = solve(ls, BNGD(lr), (0.5, _w0(10)), max_steps=50, tol=0.0)
    w2 = res.history["w_norm"] ** 2
    # atol: np.diff of two O(1) squared norms carries ~1e-16 * ||w||^2 of round-off.
    np.testing.assert_allclose(
        np.diff(w2), lr**2 * res.history["grad_w_norm"][:-1] ** 2, rtol=1e-8, atol=1e-14 * w2.max()
    )


@pytest.mark.parametrize("c", [1e-3, 0.1, 10.0, 1e3])
def test_scaling_law(ls, c):
    # Run from (a0, c w0) with c^2 lr equals (a_k, c w_k) of the run from (a0, w0) with lr.
    lr, w0 = 0.7, _w0(10)
    base = solve(ls, BNGD(lr), (0.3, w0), max_steps=200, tol=0.0)
    scaled = solve(ls, BNGD(c * c * lr), (0.3, c * w0), max_steps=200, tol=0.0)
    np.testing.assert_allclose(scaled.history["a"], base.history["a"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scaled.params[1:], c * base.params[1:], rtol=1e-10)
    np.testing.assert_allclose(scaled.history["w_norm"], c * base.history["w_norm"], rtol=1e-10)
    np.testing.assert_allclose(scaled.x, base.x, rtol=1e-10)


@pytest.mark.parametrize("spectrum", ["geometric", "two-cluster"])
@pytest.mark.parametrize("lr", [1.0, 10.0])
def test_local_rate_matches_linearization(spectrum, lr):
    ls = LeastSquares.ill_conditioned(20, 30, spectrum, rng=3)
    res = solve(ls, BNGD(lr), (1.0, _w0(20, 5)), max_steps=4000, tol=0.0)
    eh = res.history["eps_hat"]
    gaps = res.gaps
    # Window: after the effective step has settled (relative change < 1e-9 per step, THEORY.md
    # Sec. 2 [D+]) and before the gap reaches 1e-26 of its start (round-off floor).
    settled = int(np.argmax(np.abs(np.diff(eh)) / eh[1:] < 1e-9)) + 1
    stop = int(np.nonzero(gaps > 1e-26 * gaps[0])[0][-1])
    assert stop - settled > 50
    pred = bngd_local_iterate_rate(ls.H, ls.w_star, eh[stop]) ** 2  # gap rate = iterate rate^2
    # The brief asks for 5 %; the linearization is exact asymptotically, so 0.1 % is required here.
    assert_rate_close(
        res, pred, rtol=1e-3, window=(settled, stop), allow_status=("converged", "max_steps")
    )


def test_kappa_star_at_most_kappa():
    for seed in range(5):
        for spectrum in ("geometric", "linear", "two-cluster", "spiked"):
            for align in (None, "top", "bottom", "extremes", 0.5):
                ls = LeastSquares.ill_conditioned(12, 100, spectrum, align=align, rng=seed)
                lam = np.linalg.eigvalsh(ls.H)
                ks = kappa_star(ls.H, ls.w_star)
                assert ks <= lam[-1] / lam[0] * (1 + 1e-10)
                # Cauchy interlacing (THEORY.md Sec. 2 (iii)): lambda_i(H) <= lambda_{i+1}(H*) <= lambda_{i+1}(H)
                spec = bngd_spectrum(ls.H, ls.w_star)
                assert np.all(lam[:-1] <= spec * (1 + 1e-9)) and np.all(
                    spec <= lam[1:] * (1 + 1e-9)
                )
    aligned = LeastSquares.ill_conditioned(12, 1000, "spiked", align="top", rng=0)
    assert kappa_star(aligned.H, aligned.w_star) < 0.02 * 1000


def test_minibatch_runs_and_approaches_optimum():
    gen = np.random.default_rng(0)
    X = gen.standard_normal((400, 5)) * np.array([1, 2, 4, 8, 16])
    y = X @ gen.standard_normal(5) + 0.1 * gen.standard_normal(400)
    ls = LeastSquares.from_samples(X, y, center=True)
    res = solve(ls, BNGD(0.5, batch_size=64, rng=1), (1.0, np.ones(5)), max_steps=800, tol=0.0)
    assert res.status == "max_steps"
    # Batch noise keeps the gap above 0, but it falls well below the start.
    assert np.median(res.gaps[-100:]) < 0.05 * res.gaps[0]
    with pytest.raises(ValueError, match="batch_size"):
        solve(ls, BNGD(0.5, batch_size=1000), (1.0, np.ones(5)))
    with pytest.raises(ValueError, match="batch_size"):
        solve(LeastSquares.ill_conditioned(5, 5, rng=0), BNGD(0.5, batch_size=8), (1.0, np.ones(5)))


def test_bad_input(ls):
    with pytest.raises(ValueError, match="lr_w"):
        BNGD(0.0)
    with pytest.raises(ValueError, match="lr_a"):
        BNGD(1.0, lr_a=-1.0)
    with pytest.raises(ValueError, match="batch_size"):
        BNGD(1.0, batch_size=1)
    with pytest.raises(ValueError, match="w0"):
        solve(ls, BNGD(1.0), (1.0, np.zeros(10)))
    with pytest.raises(ValueError, match="w0"):
        solve(ls, BNGD(1.0), (1.0, np.ones(9)))
    with pytest.raises(ValueError, match="x0"):
        solve(ls, BNGD(1.0), np.r_[1.0, np.nan, np.ones(9)])
