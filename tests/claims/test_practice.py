"""Mutation tests of the training-practice claims (head-06..08): each swaps one ingredient of
the check for a broken one and asserts that the verdict changes."""

from __future__ import annotations

import pytest

import bntheory.nets.mlp as mlp_mod
from tests.claims._mutation import assert_flips, mutation_params


def _no_bn_labelled_bn(mp):
    """Every net built by the checks is built without BN, whatever it is labelled."""
    real = mlp_mod.MLP

    def factory(*args, **kwargs):
        kwargs["bn"] = False
        return real(*args, **kwargs)

    mp.setattr(mlp_mod, "MLP", factory)


MUTATIONS = {
    # BN without dropout == no BN: every difference is exactly 0, so "narrows the gap by at
    # least one test image" is refuted (flipping the sign of the x_hat term of BN's backward
    # is no mutation here: that term only moves the norm of the scale-invariant weights)
    "head-06": _no_bn_labelled_bn,
    "head-07": _no_bn_labelled_bn,
    "head-08": _no_bn_labelled_bn,
}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS, slow=set(MUTATIONS)))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)
