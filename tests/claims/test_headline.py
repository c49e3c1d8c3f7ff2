"""Mutation tests of the headline claims (source evidence: mutate the source facts)."""

from __future__ import annotations

import pytest

from bntheory.claims import headline
from bntheory.claims.core import SourceFact
from tests.claims._mutation import assert_flips, mutation_params


def _steps_bn_x5_slower(mp):
    f = dict(headline.STEPS_TO_INCEPTION_ACCURACY.values, steps_bn_x5_M=2.7)  # BN-x30's steps
    mp.setattr(headline, "STEPS_TO_INCEPTION_ACCURACY", SourceFact("mutated", f))


def _single_model(mp):
    f = dict(headline.TOP5_RESULT.values, model="single")
    mp.setattr(headline, "TOP5_RESULT", SourceFact("mutated", f))


def _baseline_no_better(mp):
    f = dict(headline.INCEPTION_VARIANTS.values, max_acc_bn_baseline=72.2)
    mp.setattr(headline, "INCEPTION_VARIANTS", SourceFact("mutated", f))


MUTATIONS = {
    "head-01": _steps_bn_x5_slower,
    "head-02": _single_model,
    "head-09": _baseline_no_better,
}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)
