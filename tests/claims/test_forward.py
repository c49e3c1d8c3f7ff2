"""Mutation tests of the forward-pass claims: each swaps one ingredient of the check for a
deliberately broken one and asserts that the verdict changes (tests/claims/_mutation.py)."""

from __future__ import annotations

import numpy as np
import pytest

import bntheory.bn as bn
from tests.claims._mutation import assert_flips, mutation_params

_ORIG = bn.batch_norm_forward


def _unbiased_variance(mp):
    """Algorithm 1 with the 1/(m-1) variance instead of 1/m."""

    def broken(x, gamma, beta, eps=1e-5):
        x = np.asarray(x, dtype=float)
        _, cache = _ORIG(x, gamma, beta, eps)
        mu = x.mean(axis=0)
        var = x.var(axis=0, ddof=1)
        return gamma * (x - mu) / np.sqrt(var + eps) + beta, cache

    mp.setattr(bn, "batch_norm_forward", broken)


def _eps_ignored(mp):
    """x_hat computed without eps (the statistics still report the real variance)."""

    def broken(x, gamma, beta, eps=1e-5):
        y, cache = _ORIG(x, gamma, beta, eps)
        xh = (np.asarray(x) - cache.mean) / np.sqrt(cache.var)
        return np.asarray(gamma) * xh + np.asarray(beta), cache

    mp.setattr(bn, "batch_norm_forward", broken)


def _beta_inside(mp):
    """y = gamma (x_hat + beta): the shift applied before the scale."""

    def broken(x, gamma, beta, eps=1e-5):
        y, cache = _ORIG(x, gamma, beta, eps)
        return cache.gamma * (cache.x_hat + np.asarray(beta)), cache

    mp.setattr(bn, "batch_norm_forward", broken)


def _per_location(mp):
    """Convolutional BN with statistics per location (over the batch only)."""

    def broken(x, gamma, beta, eps=1e-5):
        x = np.asarray(x, dtype=float)
        n, c = x.shape[:2]
        flat = x.reshape(n, -1)
        reps = flat.shape[1] // c
        g = np.repeat(np.broadcast_to(gamma, (c,)), reps)
        b = np.repeat(np.broadcast_to(beta, (c,)), reps)
        y, cache = _ORIG(flat, g, b, eps)
        return y.reshape(x.shape), cache

    mp.setattr(bn, "batch_norm_forward", broken)


def _no_eps_naive(mp):
    """A forward pass without eps: a constant batch divides 0 by 0."""

    def broken(x, gamma, beta, eps=1e-5):
        x = np.asarray(x, dtype=float)
        mu, var = x.mean(axis=0), x.var(axis=0)
        return gamma * (x - mu) / np.sqrt(var) + beta, None

    mp.setattr(bn, "batch_norm_forward", broken)


def _no_centering(mp):
    """A 'BN' that divides by the batch std but does not subtract the batch mean."""

    def broken(x, gamma, beta, eps=1e-5):
        y, cache = _ORIG(x, gamma, beta, eps)
        return gamma * np.asarray(x) * cache.inv_std + beta, cache

    mp.setattr(bn, "batch_norm_forward", broken)


MUTATIONS = {
    "fwd-01": _unbiased_variance,
    "fwd-02": _eps_ignored,
    "fwd-03": _beta_inside,
    "fwd-04": _per_location,
    "fwd-05": _no_eps_naive,
    "fwd-06": _no_centering,
}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)
