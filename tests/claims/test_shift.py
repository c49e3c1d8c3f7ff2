"""Mutation tests of the covariate-shift-quantification claims (the rule's item 4); the
helpers (fresh caches, swapped BN labels, the BN run's step divided) are those of
tests/claims/test_ics.py."""

from __future__ import annotations

import pytest

from bntheory.claims import ics, shift
from bntheory.claims.core import SourceFact
from tests.claims._mutation import assert_flips, mutation_params
from tests.claims.test_ics import SwappedBN, bn_step_divided, fresh_caches, patch_mlp


def _fig1_fact(mp, **kw):
    mp.setattr(ics, "IOFFE_FIG1", SourceFact("mutated", dict(ics.IOFFE_FIG1.values, **kw)))


def _histograms(mp):
    _fig1_fact(mp, plot="histograms of layer inputs")


def _early_layers_shown(mp):
    _fig1_fact(mp, layer_shown="early hidden layers")


def _moment_measure(mp):
    f = dict(
        shift.SANTURKAR_ICS_MEASURE.values, ics_measure="l2 difference of layer-input mean and std"
    )
    mp.setattr(shift, "SANTURKAR_ICS_MEASURE", SourceFact("mutated", f))


def _comparable_bn_tiny_step(mp):
    bn_step_divided(mp)


def _speed_bn_tiny_step(mp):
    # the BN runs barely move: tiny ICS and tiny speed together -> a strong correlation
    bn_step_divided(mp)


def _layers_swapped(mp):
    patch_mlp(mp, SwappedBN)
    fresh_caches(mp, "sigmoid_drift_layers")


MUTATIONS = {
    "cs-02": _histograms,
    "cs-03": _early_layers_shown,
    "cs-04": _moment_measure,
    "cs-06": _comparable_bn_tiny_step,
    "cs-07": _speed_bn_tiny_step,
    "cs-08": _layers_swapped,
}

SLOW = {"cs-06", "cs-07"}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS, slow=SLOW))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)
