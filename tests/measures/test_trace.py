from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

from bntheory.measures import TraceEstimate, hutchinson_trace, hutchinson_variance

from ._problems import random_spd


def test_hutchinson_within_three_standard_errors_and_se_matches_theory():
    rng = np.random.default_rng(0)
    d, n = 100, 60
    H, lam = random_spd(d, rng, lo=0.1, hi=10.0)
    tr = lam.sum()  # exact trace from the constructed spectrum
    # Hutchinson (1990): Var z^T H z = 2 (||H||_F^2 - sum H_ii^2) for Rademacher z
    var_ref = 2.0 * (np.sum(lam**2) - np.sum(np.diag(H) ** 2))
    assert hutchinson_variance(H) == pytest.approx(var_ref, rel=1e-10)
    se_theory = np.sqrt(var_ref / n)
    z, se = [], []
    for seed in range(30):
        est = hutchinson_trace(aslinearoperator(H), n, rng=seed, block=16)
        assert isinstance(est, TraceEstimate) and est.n_samples == n and est.samples.shape == (n,)
        z.append((est.estimate - tr) / est.standard_error)
        se.append(est.standard_error)
    z = np.abs(np.array(z))
    # P(|z| > 3) ~ 0.4 % per seed for an unbiased estimator: allow at most one of 30
    assert np.sum(z > 3) <= 1
    # a bias of one theoretical SE would push the mean |z| to ~1.2; unbiased gives ~0.8
    assert 0.5 < z.mean() < 1.05
    # sample SE vs theoretical SE: each has ~9 % relative spread for n = 60 (near-Gaussian
    # quadratic forms), the average over 30 seeds ~2 %; allow 10 %
    assert np.mean(se) == pytest.approx(se_theory, rel=0.10)


def test_hutchinson_exact_for_diagonal_matrix():
    # z_i^2 = 1 for Rademacher z, so every sample equals tr(D) and the SE is 0
    D = np.diag(np.arange(1.0, 21.0))
    est = hutchinson_trace(D, 5, rng=1)
    assert est.estimate == pytest.approx(210.0, rel=1e-14)
    assert est.standard_error == pytest.approx(0.0, abs=1e-12)


def test_hutchinson_reproducible():
    H, _ = random_spd(30, np.random.default_rng(2))
    a = hutchinson_trace(H, 40, rng=3, block=40)
    b = hutchinson_trace(H, 40, rng=3, block=40)
    assert a.estimate == b.estimate


@pytest.mark.parametrize(
    ("op", "n", "name"),
    [
        (np.eye(3), 1, "n_samples"),
        (np.ones((2, 3)), 10, "op"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), 10, "op"),
    ],
)
def test_hutchinson_bad_input(op, n, name):
    with pytest.raises(ValueError, match=name):
        hutchinson_trace(op, n)
