"""Tests of the training loop and the data sets."""

from __future__ import annotations

import builtins
import warnings

import numpy as np
import pytest

from bntheory.nets import MLP, gaussian_mixture, load_digits_split, teacher_student, train
from bntheory.nets import data as nets_data


def test_gd_decreases_loss_and_records_per_layer_norms():
    d = teacher_student(64, 16, 5, 1, rng=0)
    net = MLP([5, 16, 16, 1], "tanh", bn=True, rng=0)
    r = train(net, d.X_train, d.Y_train, lr=0.05, steps=50, X_test=d.X_test, Y_test=d.Y_test)
    assert r.status == "completed" and r.steps == 50
    assert r.losses[-1] < 0.5 * r.losses[0]
    assert r.grad_norms.shape == (50, 3) and np.all(r.grad_norms > 0)
    # per-layer norms recombine to the full gradient norm
    net.set_flat(r.theta)
    np.testing.assert_allclose(r.eval_steps, [0, 50])


def test_sgd_records_probe_activations_and_accuracy():
    d = gaussian_mixture(120, 60, 4, 3, separation=4.0, rng=1)
    net = MLP([4, 10, 10, 3], "sigmoid", bn=True, loss="cross_entropy", rng=0)
    r = train(
        net, d.X_train, d.Y_train, lr=0.5, steps=40, batch_size=20, rng=0,
        X_test=d.X_test, Y_test=d.Y_test, eval_every=10, probe=[(1, 0)],
    )  # fmt: skip
    np.testing.assert_array_equal(r.eval_steps, [0, 10, 20, 30, 40])
    assert r.activations[(1, 0)].shape == (5, 60)
    assert r.test_accuracy[-1] > 0.8  # well separated mixture


def test_divergence_is_a_status_without_warnings():
    d = teacher_student(32, 8, 3, 1, rng=0)
    net = MLP([3, 8, 8, 1], "relu", bn=False, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = train(net, d.X_train, d.Y_train, lr=1e4, steps=100)
    assert r.status == "diverged" and r.steps < 100
    assert np.all(np.isfinite(r.theta)) and np.all(np.isfinite(r.losses))


def test_train_bad_input():
    net = MLP([3, 4, 1], rng=0)
    X, Y = np.ones((6, 3)), np.ones((6, 1))
    with pytest.raises(ValueError, match="lr"):
        train(net, X, Y, lr=-1.0, steps=1)
    with pytest.raises(ValueError, match="batch_size"):
        train(net, X, Y, lr=0.1, steps=1, batch_size=1)
    with pytest.raises(ValueError, match="steps"):
        train(net, X, Y, lr=0.1, steps=-2)


def test_digits_loads():
    pytest.importorskip("sklearn", reason="the digits data set needs scikit-learn")
    d = load_digits_split(rng=0)
    assert d.X_train.shape[1] == 64 and d.n_classes == 10
    assert d.X_train.shape[0] + d.X_test.shape[0] == 1797
    assert 0.0 <= d.X_train.min() and d.X_train.max() <= 1.0


def test_missing_sklearn_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("no sklearn")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    # data.DataUnavailable (deliberately not an ImportError) where the data module has it
    missing = getattr(nets_data, "DataUnavailable", ImportError)
    with pytest.raises(missing, match=r"bntheory\[data\]"):
        load_digits_split()


def test_sgd_with_dropout_keeps_the_batch_order_and_evaluates_without_dropout():
    d = gaussian_mixture(96, 32, 4, 3, separation=3.0, rng=2)
    seen = {}

    class Recording(MLP):
        def loss_and_grad(self, X, Y, *, update_stats=False, masks=None):
            seen.setdefault(self.dropout, []).append((X.copy(), masks))
            return super().loss_and_grad(X, Y, update_stats=update_stats, masks=masks)

    kw = dict(lr=0.2, steps=12, batch_size=16, rng=7, X_test=d.X_test, Y_test=d.Y_test)
    nets = [
        Recording([4, 8, 8, 3], "relu", loss="cross_entropy", dropout=p, rng=0) for p in (0, 0.5)
    ]
    r0, r1 = (train(n, d.X_train, d.Y_train, **kw) for n in nets)
    # same mini-batches with and without dropout (the mask stream is a spawned child)
    for (xa, ma), (xb, mb) in zip(seen[0.0], seen[0.5], strict=True):
        np.testing.assert_array_equal(xa, xb)
        assert ma is None and mb[0].shape == (16, 8) and mb[-1] is None
    # dropout changes training; evaluation (step 0, same weights) has no dropout
    assert not np.allclose(r0.losses, r1.losses)
    assert r0.test_loss[0] == r1.test_loss[0]
    # reproducible, and the mask seed can be set on its own
    again = Recording([4, 8, 8, 3], "relu", loss="cross_entropy", dropout=0.5, rng=0)
    np.testing.assert_array_equal(train(again, d.X_train, d.Y_train, **kw).losses, r1.losses)
    other = Recording([4, 8, 8, 3], "relu", loss="cross_entropy", dropout=0.5, rng=0)
    r2 = train(other, d.X_train, d.Y_train, dropout_rng=123, **kw)
    assert not np.allclose(r2.losses, r1.losses)


@pytest.mark.parametrize("eval_every", [0, 1])
def test_an_evaluation_on_overflowing_weights_ends_the_run_as_diverged(eval_every):
    """Regression: an eval-mode evaluation whose BN output overflows (weights grown to
    ~1e300 with the training loss still finite, as BN normalizes them away) raised
    ValueError; it now ends the run as diverged, with the records aligned."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 3)), rng.integers(0, 2, 16)
    net = MLP([3, 4, 2], "sigmoid", bn=True, loss="cross_entropy", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = train(
            net, X, y, lr=1e300, steps=2, batch_size=8, X_test=X, Y_test=y,
            eval_every=eval_every, rng=0,
        )  # fmt: skip
    assert r.status == "diverged"
    if eval_every:  # else the loss overflows first
        assert "overflowing weights" in r.message
    assert len(r.eval_steps) == len(r.test_loss) == len(r.test_accuracy) >= 1
    assert r.eval_steps[0] == 0


def test_eval_mode_overflow_names_X_and_the_layer():
    net = MLP([3, 4, 2], bn=True, rng=0)
    net.batchnorms[0].gamma = np.full(4, 1e10)
    X = np.full((5, 3), 1e300)
    with pytest.raises(ValueError, match="X: pre-activation of layer 0: x: values too large"):
        net.forward_trace(X, training=False)
    net.batchnorms[0].running_var = np.zeros(4)  # fold's own error still names the statistics
    net.eps = 0.0
    net.batchnorms[0].eps = 0.0
    with pytest.raises(ValueError, match="running_var"):
        net.forward_trace(np.ones((5, 3)), training=False)


def test_integer_labels_become_one_hot_rows_without_a_d_out_squared_identity():
    """Regression: labels were one-hot encoded as ``np.eye(d_out)[labels]`` (memory d_out^2:
    7.3 TiB for 10^6 classes); now n x d_out, equal to the identity rows."""
    import tracemalloc

    labels = np.array([2, 0, 1, 2, 4])
    net = MLP([3, 4, 5], loss="cross_entropy", rng=0)
    np.testing.assert_array_equal(net.check_Y(labels, 5), np.eye(5)[labels])
    wide = MLP([2, 3, 200_000], loss="cross_entropy", rng=0)
    tracemalloc.start()
    Y = wide.check_Y(np.array([199_999, 0]), 2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert Y.shape == (2, 200_000) and Y[0, -1] == Y[1, 0] == 1.0 and Y.sum() == 2.0
    assert peak < 10 * Y.nbytes  # an identity of 200,000^2 would be 320 GB
