"""Mutation tests of the training-practice claims (head-06..08): each swaps one ingredient of
the check for a broken one and asserts that the verdict changes."""

from __future__ import annotations

import pytest

import bntheory.nets.mlp as mlp_mod
from tests.claims._mutation import assert_flips, mutation_params


def _no_bn_labelled_bn(mp):
    """Every net built by the checks is built without BN, whatever it is labelled."""
    real = mlp_mod.MLP

    class NoBN(real):  # a subclass, so isinstance checks of the library still pass
        def __init__(self, *args, **kwargs):
            kwargs["bn"] = False
            super().__init__(*args, **kwargs)

    mp.setattr(mlp_mod, "MLP", NoBN)


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


# --------------------------------------------------------------------------- MNIST (full mode)
@pytest.mark.parametrize("claim_id", ["head-06", "head-07", "head-08"])
def test_full_mode_without_mnist_is_not_testable_never_digits(claim_id, monkeypatch):
    """Full mode runs MNIST; without it the claim is not-testable-here with the install
    command, and no digits run (the quick protocol) stands in for it."""
    from bntheory.claims import get_claim, practice, run_claim
    from bntheory.claims.rule import Verdict
    from bntheory.nets import data

    def missing(*args, **kwargs):
        raise data.DataUnavailable("MNIST not found; run: bntheory data install mnist")

    def no_digits(*args, **kwargs):
        raise AssertionError("the digits were loaded in full mode")

    practice._mnist_full.cache_clear()
    monkeypatch.setattr(data, "load_mnist", missing)
    monkeypatch.setattr(practice, "_digits", no_digits)
    r = run_claim(get_claim(claim_id), quick=False, seed=0)
    assert r.verdict is Verdict.NOT_TESTABLE, (r.status, r.error)
    assert "bntheory data install mnist" in r.outcome.note


def test_mnist_protocol_data_is_a_seeded_subset_of_the_training_set(monkeypatch):
    """The MNIST split of a seed: MNIST_TRAIN distinct training images (rows of the loaded
    training set, with their labels), the whole test set, reproducible per seed and
    different across seeds. A synthetic 'MNIST' stands in for the loader (no data needed)."""
    import numpy as np

    from bntheory.claims import practice
    from bntheory.nets.data import Dataset

    rng = np.random.default_rng(5)
    n, n_test = 12_000, 300
    Xtr = np.arange(n, dtype=float)[:, None] * np.ones((1, 3))
    Ytr = rng.integers(0, 10, n)
    fake = Dataset(Xtr, Ytr, rng.random((n_test, 3)), rng.integers(0, 10, n_test), 10, "mnist")
    monkeypatch.setattr(practice, "_mnist_full", lambda: fake)
    a, b, c = practice._mnist(1), practice._mnist(1), practice._mnist(2)
    rows = a.X_train[:, 0].astype(int)
    assert a.X_train.shape == (practice.MNIST_TRAIN, 3)
    assert len(np.unique(rows)) == practice.MNIST_TRAIN  # without replacement
    np.testing.assert_array_equal(a.Y_train, Ytr[rows])  # labels travel with their images
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    assert a.X_test is fake.X_test and a.Y_test is fake.Y_test


def test_quick_mode_stays_on_the_digits_and_says_so():
    """Quick mode keeps the digits protocol, labelled in the measured text and quick_note."""
    from bntheory.claims import get_claim, run_claim

    c = get_claim("head-07")
    assert "digits" in c.quick_note and "MNIST" in c.quick_note
    r = run_claim(c, quick=True, seed=0)
    assert r.measurement.values["dataset"] == "digits"
    assert r.measurement.measured.startswith("digits MLP")
