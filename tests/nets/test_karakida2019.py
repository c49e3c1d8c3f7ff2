"""The closed-form Fisher information of :mod:`bntheory.nets.karakida2019` against the
MLP's per-column VJP/JVP implementation (:func:`bntheory.nets.measurements.fisher_spectrum`)."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.nets import MLP, karakida2019
from bntheory.nets.measurements import fisher_spectrum


@pytest.mark.parametrize(("bn", "norm"), [("none", "none"), ("output", "bn")])
def test_gram_spectrum_matches_mlp(bn, norm):
    X = np.random.default_rng(0).normal(size=(16, 6))
    net = MLP([6, 10, 10, 1], "relu", bn=bn, bias=False, train_affine=False, rng=3, eps=1e-5)
    Ws = [net.params(k)["W"] for k in range(3)]
    ref = fisher_spectrum(net, X).gram_eigenvalues
    got = np.sort(np.linalg.eigvalsh(karakida2019.fisher_gram(Ws, X, norm, eps=1e-5)))[::-1]
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * ref[0])


def test_fast_projection_matches_explicit_jacobian():
    rng = np.random.default_rng(1)
    Ws = karakida2019.relu_weights([12, 12, 12, 1], rng)
    X = rng.normal(size=(9, 12))
    fast = karakida2019.fisher_lambda_max_all(Ws, X, eps=1e-3)
    for norm in karakida2019.OUTPUT_NORMS:
        slow = karakida2019.fisher_lambda_max(Ws, X, norm, eps=1e-3)
        assert fast[norm] == pytest.approx(slow, rel=1e-12)


def test_centring_removes_the_mean_direction():
    # the Gram matrix after mean subtraction annihilates the all-ones vector
    rng = np.random.default_rng(2)
    Ws = karakida2019.relu_weights([8, 8, 1], rng)
    X = rng.normal(size=(7, 8))
    K = karakida2019.fisher_gram(Ws, X, "center")
    assert np.max(np.abs(K @ np.ones(7))) < 1e-12 * np.max(np.abs(K))


def test_bad_input():
    with pytest.raises(ValueError, match="one output unit"):
        karakida2019.relu_weights([4, 4, 2], np.random.default_rng(0))
    with pytest.raises(ValueError, match="norm must be"):
        karakida2019.output_norm_jacobian(np.ones(3), "layer")
