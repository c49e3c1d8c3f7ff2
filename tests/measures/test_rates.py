from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bntheory.measures import RateFit, fit_linear_rate, sequence_of

from ._problems import random_spd


def _synthetic(r, n, rng, *, transient=5.0, rho=None, floor=1e-16, noise=1e-4):
    """r^k with a faster-decaying transient mode (rate rho, default r/2), multiplicative
    log-normal noise and a noisy floor at ``floor * y_0``."""
    k = np.arange(n)
    rho = 0.5 * r if rho is None else rho
    y = r**k * (1.0 + transient * (rho / r) ** k) * np.exp(noise * rng.standard_normal(n))
    fl = floor * y[0] * np.abs(1.0 + 0.5 * rng.standard_normal(n))
    return np.where(y > fl, y, fl)


@pytest.mark.parametrize("r", [0.5, 0.9, 0.97, 0.995])
@pytest.mark.parametrize("floor", [1e-16, 1e-9])
def test_recovers_known_rate_with_transient_and_floor(r, floor):
    rng = np.random.default_rng(int(1000 * r))
    n = int(min(4000, 60 / -np.log(r)))
    fit = fit_linear_rate(_synthetic(r, n, rng, floor=floor))
    assert isinstance(fit, RateFit)
    assert abs(fit.rate - r) < 1e-3
    assert fit.ci_low <= r <= fit.ci_high
    assert fit.ci_low < fit.rate < fit.ci_high
    # the window starts after the transient (mode ratio 0.6^k below 5e-3 * ... ) and ends before the floor
    assert fit.window[0] >= 5
    k_floor = np.log(floor) / np.log(r)
    assert fit.window[1] <= k_floor + 2
    assert fit.n_points == fit.window[1] - fit.window[0] >= 0.5 * min(k_floor, n) - 20


def test_slow_transient_short_phase_still_within_1e_3():
    # r = 0.5 with a transient decaying at 0.3 (ratio 0.6) and the floor cut at k ~ 41: only
    # ~20 points are asymptotic and the transient is still 3-5 noise sigmas at the window
    # start, so the slope carries a small bias (~5e-6) comparable to its standard error:
    # the CI (statistical error only) need not cover r here, the rate is still accurate.
    fit = fit_linear_rate(_synthetic(0.5, 86, np.random.default_rng(500), rho=0.3))
    assert abs(fit.rate - 0.5) < 1e-3


def test_smooth_floor_bend_is_excluded():
    # y = r^k + c flattens smoothly into c = 1e-9 (cancellation floor): the fit must stop before
    k = np.arange(700)
    r = 0.95
    y = r**k + 1e-9
    fit = fit_linear_rate(y)
    assert abs(fit.rate - r) < 1e-3
    assert fit.ci_low <= r * (1 + 1e-6)  # noiseless: CI is tiny; bias from the bend must be < 1e-6


def test_prefers_last_stretch_after_growth_phase():
    # BNGD-like (THEORY.md Sec. 2): the gap grows by 1.07 per step while the effective step
    # settles, then contracts by 0.92 per step
    rng = np.random.default_rng(3)
    grow = 1.07 ** np.arange(60)
    contract = grow[-1] * 1.07 * 0.92 ** np.arange(300)
    y = np.concatenate([grow, contract]) * np.exp(1e-4 * rng.standard_normal(360))
    fit = fit_linear_rate(y)
    assert abs(fit.rate - 0.92) < 1e-3
    assert fit.ci_low <= 0.92 <= fit.ci_high
    assert fit.window[0] >= 60


def test_two_linear_phases_prefers_the_last_long_one():
    # fast phase (0.8) for 100 steps, then a slower asymptotic phase (0.95) for 300 steps
    y1 = 0.8 ** np.arange(100)
    y2 = y1[-1] * 0.8 * 0.95 ** np.arange(300)
    fit = fit_linear_rate(np.concatenate([y1, y2]))
    assert abs(fit.rate - 0.95) < 1e-3
    assert fit.window[0] >= 100


def test_ci_coverage_over_seeds():
    # log-normal noise: the slope's t-interval is exact, so coverage should be ~95 %
    r, n = 0.97, 600
    hits = 0
    for seed in range(60):
        y = _synthetic(r, n, np.random.default_rng(seed), transient=0.0, noise=1e-3, floor=0.0)
        fit = fit_linear_rate(y, tol=1e-2)
        hits += fit.ci_low <= r <= fit.ci_high
    # Binomial(60, 0.95): P(hits < 51) ~ 1 %
    assert hits >= 51


def _gd_gaps(x0, H, w_star, lr, n):
    x, gaps = x0.copy(), []
    for _ in range(n):
        e = x - w_star
        gaps.append(0.5 * e @ H @ e)  # gap without cancellation (floor ~1e-31, not 1e-16)
        x = x - lr * (H @ e)
    return np.array(gaps)


def test_gd_on_quadratic_rate_matches_theory():
    # GD with step 0.1 on spectrum 1..10: the gap contracts asymptotically by (1 - 0.1)^2 per step
    rng = np.random.default_rng(4)
    H, lam = random_spd(10, rng, spectrum=np.linspace(1.0, 10.0, 10))
    w_star = rng.standard_normal(10)
    fit = fit_linear_rate(_gd_gaps(w_star + rng.standard_normal(10), H, w_star, 0.1, 300))
    assert fit.rate == pytest.approx(0.81, abs=1e-6)
    # from x0 = 0 the slow mode starts tiny: the 0.64-phase lasts until the gap is ~1e-12 of
    # its start; a hard floor cut at 1e-13 would leave only the pre-asymptotic phase
    gaps = _gd_gaps(np.zeros(10), H, w_star, 0.1, 400)
    assert fit_linear_rate(gaps).rate == pytest.approx(0.81, abs=1e-6)
    assert abs(fit_linear_rate(gaps, floor_rtol=1e-13).rate - 0.81) > 1e-6


def test_cancellation_floor_of_loss_minus_optimum():
    # gap = (J* + g) - J* with J* = 1: quantised at 1.1e-16, exactly 0 once g < 5.5e-17
    k = np.arange(500)
    gaps = (1.0 + 0.9**k) - 1.0
    fit = fit_linear_rate(gaps)
    # rounding noise eps / g_k grows geometrically along the window (not the homoscedastic
    # noise the t-interval assumes), so only the accuracy is asserted, not CI coverage
    assert abs(fit.rate - 0.9) < 1e-9
    assert fit.window[1] <= np.log(1e-16) / np.log(0.9)


def _bngd_gaps(H, u, lr, n, rng):
    """BNGD on OLS (THEORY.md Sec. 2, lr_a = 1); gap without cancellation and final eps_hat."""
    w_star = np.linalg.solve(H, u)
    q = u @ w_star
    Lt = np.linalg.cholesky(H).T
    b = Lt @ w_star
    w, a, gaps = rng.standard_normal(H.shape[0]), 0.0, []
    for _ in range(n):
        c = Lt @ w
        r = b - (c @ b) / (c @ c) * c
        gaps.append(0.5 * r @ r)  # J - J* with a at its optimum = 1/2 min_g ||w* - g w||_H^2
        nh = np.sqrt(w @ H @ w)
        g = -(a / nh) * (u - (w @ u) / nh**2 * (H @ w))
        a = (w @ u) / nh
        w = w - lr * g
    return np.array(gaps), lr * q / (w @ H @ w), w_star


@pytest.mark.parametrize("lr", [1.0, 100.0])
def test_bngd_rate_matches_linearisation(lr):
    # Cai, Li & Shen (2019), Sec. 3 linearisation: once eps_hat has settled the gap contracts
    # by max_{lambda in spec+(H*)} |1 - eps_hat lambda|^2 per step; the loss is not monotone
    # before (the gap grows while ||w|| inflates), the fit must use the late stretch
    rng = np.random.default_rng(11)
    H, _ = random_spd(12, rng, lo=1.0, hi=30.0)
    u = rng.standard_normal(12)
    gaps, eps_hat, w_star = _bngd_gaps(H, u, lr, 1500, rng)
    from bntheory.measures import effective_spectrum

    pred = np.max(np.abs(1.0 - eps_hat * effective_spectrum(H, w_star))) ** 2
    fit = fit_linear_rate(gaps)
    assert abs(fit.rate - pred) < 1e-5  # eps_hat still drifts by ~1e-7 inside the window


def test_result_duck_type_and_quantities():
    k = np.arange(200)
    gaps = 3.0 * 0.9**k
    res = SimpleNamespace(
        losses=1.0 + gaps, gaps=gaps, grad_norms=0.95**k, status="converged", history={}, x=None
    )
    assert fit_linear_rate(res).rate == pytest.approx(0.9, abs=1e-9)
    assert fit_linear_rate(res, quantity="grad_norms").rate == pytest.approx(0.95, abs=1e-9)
    # gaps None -> losses - min(losses); the minimum becomes the floor
    res2 = SimpleNamespace(losses=1.0 + gaps, gaps=None, grad_norms=None)
    np.testing.assert_allclose(sequence_of(res2), gaps - gaps[-1], rtol=1e-12, atol=1e-15)
    assert fit_linear_rate(res2).rate == pytest.approx(0.9, abs=1e-3)
    fit = fit_linear_rate(gaps, window=(10, 50))
    assert fit.window == (10, 50) and fit.n_points == 40
    assert fit.rate == pytest.approx(0.9, abs=1e-12)


def test_sequence_of_history_keys_and_gap_fallback():
    """One extractor for measures and bntheory.testing: history keys, and no silent
    ``losses - min`` stand-in for gaps when ``gap_fallback=False``."""
    k = np.arange(50)
    hist = {"rho_gap": 0.8**k}
    res = SimpleNamespace(losses=1.0 + 0.5**k, gaps=None, grad_norms=0.7**k, history=hist)
    np.testing.assert_array_equal(sequence_of(res, "rho_gap"), 0.8**k)
    assert fit_linear_rate(res, quantity="rho_gap").rate == pytest.approx(0.8, abs=1e-12)
    with pytest.raises(ValueError, match="gaps"):
        sequence_of(res, "gaps", gap_fallback=False)
    with pytest.raises(ValueError, match="'nope'"):
        sequence_of(res, "nope")
    with pytest.raises(ValueError, match="quantity"):
        sequence_of(0.5**k, "nope")
    with pytest.raises(TypeError, match="quantity"):
        sequence_of(res, 3)
    with pytest.raises(TypeError, match="history"):
        sequence_of(SimpleNamespace(losses=[1.0], history={"z": [1j]}), "z")


def test_long_sequence_is_thinned_but_fit_on_all_points():
    r = 0.9995
    y = _synthetic(r, 30000, np.random.default_rng(5), noise=1e-5)
    fit = fit_linear_rate(y)
    assert abs(fit.rate - r) < 1e-5
    assert fit.ci_low <= r <= fit.ci_high


@pytest.mark.parametrize(
    ("values", "kwargs", "name"),
    [
        (np.array([1.0, np.nan, 0.5, 0.25]), {}, "result_or_values"),
        (np.ones((3, 3)), {}, "result_or_values"),
        (np.array([1.0, 0.5]), {}, "result_or_values"),
        (0.5 ** np.arange(20), {"window": (5, 40)}, "window"),
        (0.5 ** np.arange(20), {"window": (5, 6)}, "window"),
        (0.5 ** np.arange(20), {"quantity": "loss"}, "quantity"),
        (0.5 ** np.arange(20), {"tol": 0.0}, "tol"),
        (0.5 ** np.arange(20), {"confidence": 1.5}, "confidence"),
        (np.zeros(20), {}, "result_or_values"),
        (np.ones(50), {}, "result_or_values"),
        (np.abs(np.random.default_rng(0).standard_normal(100)), {}, "result_or_values"),
    ],
)
def test_bad_input(values, kwargs, name):
    with pytest.raises(ValueError, match=name):
        fit_linear_rate(values, **kwargs)
