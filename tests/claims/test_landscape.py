"""Mutation tests of the loss-landscape claims (each broken ingredient must flip the verdict)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import bntheory.bn as bn
import bntheory.claims._netexp as netexp
import bntheory.nets as nets
import bntheory.nets.measurements as measurements
from bntheory.claims import landscape
from bntheory.claims.core import SourceFact
from bntheory.nets.bnquad import BNQuadratic
from tests.claims._mutation import assert_flips, mutation_params

_backward = bn.batch_norm_backward
_forward = bn.batch_norm_forward
_MLP = nets.MLP


def _backward_wrong_sign(dy, cache):
    """BN backward with the sign of the x_hat term flipped."""
    dx, dgamma, dbeta = _backward(dy, cache)
    k = np.asarray(cache.gamma, dtype=float) * cache.inv_std
    return dx + 2 * cache.x_hat * (k * dgamma / cache.m), dgamma, dbeta


def _bad_backward(mp):
    mp.setattr(bn, "batch_norm_backward", _backward_wrong_sign)


def _no_bn_mlp(*args, **kwargs):
    """A net without BN labelled as with BN."""
    kwargs["bn"] = False
    return _MLP(*args, **kwargs)


def _dln_without_bn(mp):
    mp.setattr(nets, "MLP", _no_bn_mlp)
    mp.setattr(netexp, "dln_landscape", netexp.dln_landscape.__wrapped__)  # no stale cache


def _bn_loss_range_shrunk(mp):
    """The BN net's landscape probe reports a loss range 100x too small."""
    orig = measurements.santurkar_landscape

    def broken(net, *a, **k):
        r = orig(net, *a, **k)
        return dataclasses.replace(r, loss_range=r.loss_range / 100) if net.bn_layers else r

    mp.setattr(measurements, "santurkar_landscape", broken)
    mp.setattr(netexp, "dln_landscape", netexp.dln_landscape.__wrapped__)


def _hvp_first_order_only(mp):
    """The BN-composed HVP without its second-order (curvature of BN) terms."""

    def hvp(self, y, v):
        y = np.asarray(y, dtype=float)
        sigma, xh = self._stats(y)
        dxh = self._project(np.asarray(v, dtype=float), xh) / sigma
        return self.gamma / sigma * self._project(self.H @ (self.gamma * dxh), xh)

    mp.setattr(BNQuadratic, "hvp", hvp)


def _lr_sweep_without_bn(mp):
    mp.setattr(nets, "MLP", _no_bn_mlp)
    mp.setattr(netexp, "lr_sweep", netexp.lr_sweep.__wrapped__)


def _forward_ignores_eps(mp):
    def forward(x, gamma, beta, eps=1e-5):
        return _forward(x, gamma, beta, eps=0.0)

    mp.setattr(bn, "batch_norm_forward", forward)


def _ioffe_post_activation(mp):
    f = dict(landscape.IOFFE_PLACEMENT.values, placement="post-activation")
    mp.setattr(landscape, "IOFFE_PLACEMENT", SourceFact("mutated", f))


MUTATIONS = {
    "land-01": _bad_backward,
    "land-02": _dln_without_bn,
    "land-03": _bad_backward,
    "land-04": _hvp_first_order_only,
    "land-05": _bn_loss_range_shrunk,
    "land-06": _lr_sweep_without_bn,
    "land-07": _forward_ignores_eps,
    "land-08": _ioffe_post_activation,
}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS, slow={"land-06"}))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)
