"""Mutation tests of the parameter-decoupling claims (the rule's item 4): each swaps one
ingredient of the check for a broken one and asserts that the verdict changes."""

from __future__ import annotations

import numpy as np
import pytest

import bntheory.bn as bn
from bntheory.nets import karakida2019
from tests.claims._mutation import assert_flips, mutation_params


def _bn_per_sample_norm(mp):
    """A 'BN' that divides each sample's vector Wx by its own norm (the article's formula)."""

    def forward(x, gamma, beta, eps=1e-5):
        x = np.asarray(x, float)
        return gamma * x / np.linalg.norm(x, axis=1, keepdims=True) + beta, None

    mp.setattr(bn, "batch_norm_forward", forward)


def _bn_centre_only(mp):
    """A 'BN' that subtracts the batch mean but never divides by the batch std."""

    def forward(x, gamma, beta, eps=1e-5):
        x = np.asarray(x, float)
        return gamma * (x - x.mean(axis=0)) + beta, None

    mp.setattr(bn, "batch_norm_forward", forward)


def _bn_backward_without_projection(mp):
    """BN backward that forgets the x_hat term (the gradient is no longer orthogonal to w)."""
    real = bn.batch_norm_backward

    def backward(dy, cache):
        dx, dgamma, dbeta = real(dy, cache)
        k = np.asarray(cache.gamma, float) * cache.inv_std
        return dx + cache.x_hat * (k * dgamma / cache.m), dgamma, dbeta

    mp.setattr(bn, "batch_norm_backward", backward)


def _output_bn_missing(mp):
    """A network without output BN labelled as one: the projection is the identity."""
    mp.setattr(karakida2019, "_project", lambda K, a, norm, eps: K)


def _bn_net_without_bn(mp):
    """The 'BN' network of dec-06 built with bn="none" (labelled BN)."""
    from bntheory.nets import mlp

    real = mlp.MLP

    def fake(sizes, activation="relu", *, bn=True, **kw):
        return real(sizes, activation, bn="none", **kw)

    mp.setattr(mlp, "MLP", fake)


MUTATIONS = {
    "dec-01": _bn_per_sample_norm,
    "dec-02": _bn_centre_only,
    "dec-03": _bn_centre_only,
    "dec-04": _bn_backward_without_projection,
    "dec-05": _output_bn_missing,
    "dec-06": _bn_net_without_bn,
}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS, slow={"dec-05"}))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)
