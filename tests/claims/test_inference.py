"""Mutation tests of the inference claims (tests/claims/_mutation.py): Algorithm 2 without
the m/(m-1) factor, source facts with the other convention, an eval mode that uses batch
statistics, and a train mode with fixed statistics."""

from __future__ import annotations

import numpy as np
import pytest

import bntheory.bn as bn
from bntheory.claims import inference
from bntheory.claims.core import SourceFact
from tests.claims._mutation import assert_flips, mutation_params


def _no_bessel_factor(mp):
    """Population variance as the plain mean of the biased batch variances."""
    orig = bn.population_statistics

    def broken(batches):
        batches = list(batches)
        mean, var = orig(batches)
        m = np.asarray(batches[0]).size // np.asarray(batches[0]).shape[1]
        return mean, var * (m - 1) / m

    mp.setattr(bn, "population_statistics", broken)


def _pytorch_weights_old(mp):
    f = dict(inference.PYTORCH_BN.values, pytorch_momentum_weights="old value")
    mp.setattr(inference, "PYTORCH_BN", SourceFact("mutated", f))


def _alg2_running_averages(mp):
    f = dict(
        inference.ALGORITHM_2.values,
        alg2_population_statistics="running averages during training",
    )
    mp.setattr(inference, "ALGORITHM_2", SourceFact("mutated", f))


class _BatchStatsInEval(bn.BatchNorm):
    """A BatchNorm whose eval mode normalises with the statistics of the current batch."""

    def forward(self, x, training=True):
        if training:
            return super().forward(x, training=True)
        y, _ = bn.batch_norm_forward(x, self.gamma, self.beta, self.eps)
        return y


def _eval_uses_batch_stats(mp):
    mp.setattr(bn, "BatchNorm", _BatchStatsInEval)


def _train_with_fixed_stats(mp):
    """Train mode normalising with fixed statistics (mean 0, variance 1): no batch noise."""
    orig = bn.batch_norm_forward

    def broken(x, gamma, beta, eps=1e-5):
        _, cache = orig(x, gamma, beta, eps)
        return np.asarray(gamma) * np.asarray(x) / np.sqrt(1.0 + eps) + np.asarray(beta), cache

    mp.setattr(bn, "batch_norm_forward", broken)


class _MomentumOnOld(bn.BatchNorm):
    """The article's (Keras) momentum plugged into PyTorch's convention: 0.9 on the NEW batch."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__(num_features, eps=eps, momentum=1.0 - momentum)


def _momentum_on_new_batch(mp):
    mp.setattr(bn, "BatchNorm", _MomentumOnOld)


def _ln_over_batch_axis(mp):
    """An 'LN' that normalizes each feature over the batch (i.e. BN labelled LN)."""

    def broken(x, gamma, beta, eps=1e-5):
        x = np.asarray(x, float)
        mu = x.mean(axis=0, keepdims=True)
        return gamma * (x - mu) / np.sqrt(x.var(axis=0, keepdims=True) + eps) + beta

    mp.setattr(inference, "_layer_norm", broken)


def _unbiased_batch_variance(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, float)
    m = x.shape[0]
    with np.errstate(all="ignore"):
        mu = x.sum(axis=0) / m
        var = np.sum((x - mu) ** 2, axis=0) / (m - 1)
        return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _bn_unbiased_variance(mp):
    """Train-mode BN normalizing with the unbiased 1/(m-1) variance (NaN at m = 1)."""
    mp.setattr(inference, "_alg1_forward", _unbiased_batch_variance)
    mp.setattr(
        bn,
        "batch_norm_forward",
        lambda x, gamma, beta, eps=1e-5: (_unbiased_batch_variance(x, gamma, beta, eps), None),
    )


MUTATIONS = {
    "inf-01": _no_bessel_factor,
    "inf-02": _no_bessel_factor,
    "inf-03": _pytorch_weights_old,
    "inf-04": _alg2_running_averages,
    "inf-05": _eval_uses_batch_stats,
    "inf-06": _train_with_fixed_stats,
    "inf-07": _momentum_on_new_batch,
    "inf-08": _ln_over_batch_axis,
    "inf-09": _bn_unbiased_variance,
}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)
