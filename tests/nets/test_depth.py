"""Gradient-norm profiles of very deep nets (bntheory.nets.depth)."""

from __future__ import annotations

import numpy as np
import pytest

from bntheory.nets import data
from bntheory.nets.depth import NORM_FLOOR, depth_profile, permutation_invariant_data


def test_data_are_labelled_by_their_source(monkeypatch):
    permutation_invariant_data.cache_clear()

    def missing(*a, **k):
        raise data.DataUnavailable("no MNIST here")

    monkeypatch.setattr(data, "load_mnist", missing, raising=False)
    try:
        X, y, name = permutation_invariant_data(64)
    except data.DataUnavailable:
        pytest.skip("scikit-learn not installed")
    finally:
        permutation_invariant_data.cache_clear()
    assert name == "digits" and X.shape == (64, 64) and y.shape == (64,)


def test_profile_shapes_and_floor():
    try:
        p = depth_profile("tanh", True, 6, 8, steps=3, lr=0.01, batch_size=16, n_train=32, rng=0)
    except data.DataUnavailable:
        pytest.skip("neither MNIST nor scikit-learn's digits is available")
    assert p.init.shape == p.trained.shape == (7,)
    assert p.status == "completed" and p.dataset in ("MNIST", "digits")
    expect = np.log10(max(p.init[0], NORM_FLOOR) / max(p.init[5], NORM_FLOOR))
    assert p.log10_first_over_last_init == pytest.approx(expect)
    assert np.isfinite(p.loss_init) and np.isfinite(p.loss_trained)


def test_profile_is_deterministic_in_the_seed():
    a = depth_profile("relu", False, 5, 8, steps=2, lr=0.01, batch_size=16, n_train=32, rng=3)
    b = depth_profile("relu", False, 5, 8, steps=2, lr=0.01, batch_size=16, n_train=32, rng=3)
    np.testing.assert_array_equal(a.trained, b.trained)


def test_bad_n():
    with pytest.raises(ValueError, match="n must"):
        permutation_invariant_data(1)
