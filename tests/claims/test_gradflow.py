"""Mutation tests of the gradient-flow claims, and the library identities that used to be
claims (a projection never increases a norm; BN's output moments are fixed by construction)."""

from __future__ import annotations

import numpy as np
import pytest

import bntheory.bn as bn
import bntheory.nets as nets
import bntheory.nets.mlp as mlp
from tests.claims._mutation import assert_flips, mutation_params

_forward = bn.batch_norm_forward
_MLP = nets.MLP
_activation = mlp._activation


def _no_bn_mlp(*args, **kwargs):
    """A net without BN labelled as with BN."""
    kwargs["bn"] = False
    return _MLP(*args, **kwargs)


def _without_bn(mp):
    mp.setattr(nets, "MLP", _no_bn_mlp)


def _relu_derivative_scaled(mp):
    def act(name, z):
        a, d1, d2 = _activation(name, z)
        return (a, 0.8 * d1, d2) if name == "relu" else (a, d1, d2)

    mp.setattr(mlp, "_activation", act)


def _gamma_squared(mp):
    def forward(x, gamma, beta, eps=1e-5):
        return _forward(x, np.square(gamma), beta, eps=eps)

    mp.setattr(bn, "batch_norm_forward", forward)


def _divide_by_variance(mp):
    """A forward pass that divides by sigma^2 instead of sigma."""

    def forward(x, gamma, beta, eps=1e-5):
        y, cache = _forward(x, gamma, beta, eps=eps)
        x = np.asarray(x, dtype=float)
        sd = np.sqrt(x.var(axis=0) + eps)
        return (y - beta) / sd + beta, cache

    mp.setattr(bn, "batch_norm_forward", forward)


MUTATIONS = {
    "gf-01": _without_bn,
    "gf-02": _relu_derivative_scaled,
    "gf-03": _gamma_squared,
    "gf-04": _divide_by_variance,
    "gf-05": _without_bn,
    "gf-06": _without_bn,
    "gf-07": _without_bn,
}


@pytest.mark.parametrize("claim_id", mutation_params(MUTATIONS, slow={"gf-06", "gf-07"}))
def test_mutation_flips_verdict(claim_id, monkeypatch):
    assert_flips(claim_id, MUTATIONS[claim_id], monkeypatch)


@pytest.mark.parametrize("eps", [0.0, 1e-3])
def test_bn_input_gradient_is_gamma_over_sigma_times_a_projection(eps):
    """Formerly gf-04's measured part (true by construction): dL/dx = (gamma/sigma) P dL/dy
    with P the orthogonal projection off 1 and x_hat (at eps = 0), so ||dL/dx|| never
    exceeds gamma ||dL/dy|| / sigma (Santurkar et al. 2018, Fact C.1)."""
    rng = np.random.default_rng(0)
    m, gamma = 32, 1.5
    x = rng.normal(size=(m, 1)) * 4 + 2
    _, cache = bn.batch_norm_forward(x, gamma, 0.0, eps=eps)
    s = float(np.sqrt(cache.var[0] + eps))
    xh = cache.x_hat[:, 0]
    P = np.eye(m) - np.ones((m, m)) / m - np.outer(xh, xh) / m
    for _ in range(20):
        dy = rng.normal(size=(m, 1))
        dx = bn.batch_norm_backward(dy, cache)[0][:, 0]
        np.testing.assert_allclose(dx, gamma / s * P @ dy[:, 0], rtol=1e-12, atol=1e-14)
        assert np.linalg.norm(dx) <= gamma / s * np.linalg.norm(dy) * (1 + 1e-12)
    if eps == 0.0:
        np.testing.assert_allclose(P @ P, P, atol=1e-12)  # a projection


def test_bn_net_preactivations_have_fixed_rms_by_construction():
    """Formerly gf-05's measured part: with BN every hidden pre-activation feature has zero
    batch mean and unit variance, whatever the weight scale (eps = 0)."""
    from bntheory.nets import MLP

    rng = np.random.default_rng(1)
    for s2 in (0.25, 4.0):
        net = MLP([16] * 12, "relu", bn=True, eps=0.0, sigma_w2=s2, train_affine=False,
                  bias=False, loss="linear", rng=rng)  # fmt: skip
        tr = net.trace(rng.normal(size=(32, 16)), rng.normal(size=(32, 16)))
        for k in range(10):
            z = tr.x_hat[k]
            np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
            np.testing.assert_allclose(z.var(axis=0), 1.0, rtol=1e-10)
