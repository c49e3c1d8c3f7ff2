"""Mutation tests of the internal-covariate-shift claims (the rule's item 4).

Source claims: the source fact is swapped for the article's version. Measured claims: one
ingredient is broken (a net without BN labelled as BN, BN and no-BN labels swapped, the BN
run's step size divided by 1000, a saturation meter that calls every unit saturated). The
per-process caches of :mod:`bntheory.claims._netexp` are replaced by fresh ones for the
mutated run, so neither run sees the other's results.
"""

from __future__ import annotations

from functools import lru_cache

import pytest

from bntheory.claims import _netexp, ics
from bntheory.claims.core import SourceFact
from bntheory.nets import MLP
from tests.claims._mutation import assert_flips, mutation_params


# ----------------------------------------------------------------- helpers (used by test_shift)
def fresh_caches(mp, *names: str) -> None:
    """Replace the lru-cached ``_netexp`` functions ``names`` by uncached-so-far copies."""
    for name in names:
        mp.setattr(_netexp, name, lru_cache(maxsize=64)(getattr(_netexp, name).__wrapped__))


class NoBN(MLP):
    """A network without BN that is labelled as having it."""

    def __init__(self, sizes, activation="relu", *, bn=True, **kw):
        super().__init__(sizes, activation, bn=False, **kw)


class SwappedBN(MLP):
    """BN and no BN swapped: the 'BN' net has none and the 'plain' net has BN everywhere."""

    def __init__(self, sizes, activation="relu", *, bn=True, **kw):
        super().__init__(sizes, activation, bn=not bn if isinstance(bn, bool) else bn, **kw)


def patch_mlp(mp, cls) -> None:
    """Use ``cls`` wherever the measurements build an ``MLP``."""
    import bntheory.nets
    import bntheory.nets.measurements as meas

    mp.setattr(bntheory.nets, "MLP", cls)
    mp.setattr(meas, "MLP", cls)


def bn_step_divided(mp, factor: float = 1e-3) -> None:
    """``internal_covariate_shift`` with the BN run's SGD step divided by 1000 (both the
    training step and the earlier layers' update inside Def. 2.1)."""
    import bntheory.nets.measurements as meas

    orig = meas.internal_covariate_shift

    def broken(net, X, Y, *, lr, **kw):
        return orig(net, X, Y, lr=lr * factor if net.bn_layers else lr, **kw)

    mp.setattr(meas, "internal_covariate_shift", broken)
    fresh_caches(mp, "dln_ics")


# ----------------------------------------------------------------- mutations
def _fig1_on_imagenet(mp):
    f = dict(ics.IOFFE_FIG1.values, dataset="ImageNet")
    mp.setattr(ics, "IOFFE_FIG1", SourceFact("mutated", f))


def _fig1_without_bn(mp):
    patch_mlp(mp, NoBN)
    fresh_caches(mp, "ioffe_fig1")


def _ics_bn_tiny_step(mp):
    bn_step_divided(mp)


def _ablation_as_stated(mp):
    f = dict(
        ics.SANTURKAR_ABLATION.values,
        ablation_network_has_bn=False,
        ablation_distributions="stabilized",
    )
    mp.setattr(ics, "SANTURKAR_ABLATION", SourceFact("mutated", f))


def _hessian_swapped(mp):
    patch_mlp(mp, SwappedBN)
    fresh_caches(mp, "hessian_isotropy_bn")


def _separation_swapped(mp):
    patch_mlp(mp, SwappedBN)
    fresh_caches(mp, "representation_separation")


def _lr_swapped(mp):
    patch_mlp(mp, SwappedBN)
    fresh_caches(mp, "lr_sweep")


def _everything_saturated_without_bn(mp):
    import bntheory.nets.activation_stats as stats

    orig = stats.saturated_fraction
    mp.setattr(
        stats, "saturated_fraction", lambda net, X, at: orig(net, X, at) if net.bn_layers else 1.0
    )
    fresh_caches(mp, "sigmoid_saturation", "ioffe_fig1")


MUTATIONS = {
    "ics-01": _fig1_on_imagenet,
    "ics-02": _fig1_without_bn,
    "ics-03": _ics_bn_tiny_step,
    "ics-04": _ablation_as_stated,
    "ics-06": _hessian_swapped,
    "ics-07": _separation_swapped,
    "ics-08": _lr_swapped,
    "ics-09": _everything_saturated_without_bn,
    "ics-10": _ics_bn_tiny_step,
}

SLOW = {"ics-03", "ics-10"}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS, slow=SLOW))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)


def test_missing_scikit_learn_is_unavailable(monkeypatch):
    """Without scikit-learn the digits substitutes are not run on other data."""
    import importlib.util

    from bntheory.claims.core import Unavailable

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a)
    )
    for fn in (_netexp.representation_separation, _netexp.sigmoid_saturation):
        with pytest.raises(Unavailable, match=r"bntheory\[data\]"):
            fn.__wrapped__(1)
    with pytest.raises(Unavailable, match=r"bntheory\[data\]"):
        _netexp.ioffe_fig1.__wrapped__(1, True)
