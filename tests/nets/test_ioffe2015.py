"""Tests of :mod:`bntheory.nets.ioffe2015` (Ioffe & Szegedy 2015, Fig. 1 on MNIST).

Fixtures: a synthetic 10-class Gaussian mixture (always runs) and a 500-image slice of the
real MNIST (skipped when MNIST is not installed). Every run here is a few dozen SGD steps.
The percentiles and population statistics are checked against an independent NumPy
re-implementation of Alg. 1 / Alg. 2 written in this file, not against the module's output.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from bntheory.nets import ioffe2015 as I
from bntheory.nets.data import Dataset, DataUnavailable, gaussian_mixture

REPO = Path(__file__).resolve().parents[2]
EPS = 1e-5  # the MLP's BN epsilon (Ioffe & Szegedy 2015, Alg. 1)


@pytest.fixture(scope="module")
def synthetic() -> Dataset:
    return gaussian_mixture(240, 150, 30, 10, separation=3.0, rng=1)


@pytest.fixture(scope="module")
def mnist_slice() -> Dataset:
    from bntheory.nets.data import load_mnist

    try:
        d = load_mnist(dtype=np.float32)
    except DataUnavailable as exc:
        pytest.skip(str(exc))
    return Dataset(
        d.X_train[:500].astype(np.float64),
        d.Y_train[:500],
        d.X_test[:500].astype(np.float64),
        d.Y_test[:500],
        10,
        "mnist",
        source=d.source,
    )


@pytest.fixture(scope="module")
def runs(synthetic) -> dict[bool, I.IoffeFig1Run]:
    return {
        bn: I.ioffe_figure1_mnist(bn=bn, steps=60, eval_every=20, seed=3, data=synthetic)
        for bn in (False, True)
    }


# ----------------------------------------------------------------- independent reference
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _layers(run):
    """Per dense layer: (W, b or None, gamma or None, beta or None), read from the run's
    flat parameters through the MLP's parameter views."""
    net = I.inference_network(run)
    out = []
    for k in range(len(run.sizes) - 1):
        p = net.params(k)
        out.append((p["W"], p.get("b"), p.get("gamma"), p.get("beta")))
    return out


def _reference(run, data: Dataset):
    """Alg. 2 by hand: population statistics from the training network's batch statistics
    over ``run.pop_index``, then the inference network on the test set. Returns
    ``(pop_mean, pop_var, z_last_hidden, logits, z_every_hidden_layer)``."""
    layers = _layers(run)
    hidden = len(layers) - 1
    mus, vs = [[] for _ in range(hidden)], [[] for _ in range(hidden)]
    if run.bn:
        for idx in run.pop_index:
            h = data.X_train[idx]
            for k in range(hidden):
                W, _, g, b = layers[k]
                a = h @ W
                mu, var = a.mean(axis=0), a.var(axis=0)  # biased (Alg. 1)
                mus[k].append(mu)
                vs[k].append(var)
                h = _sigmoid(g * (a - mu) / np.sqrt(var + EPS) + b)
    m = run.pop_index.shape[1]
    E = [np.mean(x, axis=0) for x in mus] if run.bn else []
    V = [m / (m - 1) * np.mean(x, axis=0) for x in vs] if run.bn else []
    h, zs = data.X_test, []
    for k in range(hidden):
        W, bias, g, b = layers[k]
        a = h @ W
        zs.append(g * (a - E[k]) / np.sqrt(V[k] + EPS) + b if run.bn else a + bias)
        h = _sigmoid(zs[-1])
    W, bias, _, _ = layers[-1]
    return np.array(E), np.array(V), zs[-1], h @ W + bias, zs


# ----------------------------------------------------------------- shapes and labels
def test_shapes(runs, synthetic):
    for bn, r in runs.items():
        assert r.status == "completed" and r.steps == 60
        np.testing.assert_array_equal(r.eval_steps, [0, 20, 40, 60])
        assert r.test_accuracy.shape == r.test_loss.shape == (4,)
        assert r.percentiles.shape == (4, 3)
        assert r.unit_percentiles.shape == (4, 3, I.HIDDEN[-1])
        np.testing.assert_array_equal(r.percentiles, r.unit_percentiles[:, :, r.unit])
        assert r.train_loss.shape == (60,) and np.all(np.isfinite(r.train_loss))
        assert r.sizes == (30, 100, 100, 100, 10) and r.layer == 2
        n_pop = min(I.POP_BATCHES, synthetic.X_train.shape[0] // I.BATCH)
        assert r.pop_index.shape == (n_pop, I.BATCH)
        assert len(np.unique(r.pop_index)) == r.pop_index.size  # distinct training images
        assert r.pop_mean.shape == r.pop_var.shape == ((3, 100) if bn else (0, 100))
        assert r.hidden_percentiles.shape == (0,)  # only with all_layers=True
        assert np.all((r.test_accuracy >= 0) & (r.test_accuracy <= 1))
        assert r.seconds > 0 and r.seconds_per_step > 0 and r.cpu_seconds_per_step >= 0


def test_percentiles_are_ordered(runs):
    for r in runs.values():
        assert np.all(np.diff(r.unit_percentiles, axis=1) >= 0)


def test_protocol_labels(runs, synthetic):
    assert all(r.protocol == I.CUSTOM_LABEL and not r.quick for r in runs.values())
    q = I.ioffe_figure1_mnist(bn=True, quick=True, steps=20, data=synthetic)
    assert q.protocol == I.QUICK_LABEL and q.quick
    # the paper's label needs the full MNIST, 50,000 steps and batches of 60
    full = Dataset(
        np.broadcast_to(0.0, (60_000, 784)),  # shape only, no memory
        np.zeros(60_000, int),
        np.broadcast_to(0.0, (10_000, 784)),
        np.zeros(10_000, int),
        10,
        "mnist",
    )
    assert I.protocol_label(quick=False, steps=50_000, batch=60, data=full) == I.PAPER_LABEL
    assert I.protocol_label(quick=True, steps=50_000, batch=60, data=full) == I.QUICK_LABEL
    assert I.protocol_label(quick=False, steps=3_000, batch=60, data=full) == I.CUSTOM_LABEL
    assert I.protocol_label(quick=False, steps=50_000, batch=32, data=full) == I.CUSTOM_LABEL
    other = Dataset(full.X_train, full.Y_train, full.X_test, full.Y_test, 10, "fashion-mnist")
    assert I.protocol_label(quick=False, steps=50_000, batch=60, data=other) == I.CUSTOM_LABEL


# ----------------------------------------------------------------- independent recomputation
@pytest.mark.parametrize("bn", [True, False])
def test_last_checkpoint_matches_reference(runs, synthetic, bn):
    r = runs[bn]
    E, V, z, logits, _ = _reference(r, synthetic)
    if bn:
        np.testing.assert_allclose(r.pop_mean, E, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(r.pop_var, V, rtol=1e-10, atol=1e-12)
    pct = np.percentile(z[:, r.unit], [15, 50, 85])
    np.testing.assert_allclose(r.percentiles[-1], pct, rtol=1e-10, atol=1e-12)
    acc = np.mean(np.argmax(logits, axis=1) == synthetic.Y_test)
    assert r.test_accuracy[-1] == pytest.approx(acc, abs=1e-12)
    m = logits.max(axis=1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    ce = -np.mean(logp[np.arange(len(logp)), synthetic.Y_test])
    assert r.test_loss[-1] == pytest.approx(ce, rel=1e-10)


@pytest.mark.parametrize("bn", [True, False])
def test_all_layers_match_reference(synthetic, bn):
    r = I.ioffe_figure1_mnist(
        bn=bn, steps=20, eval_every=10, seed=5, data=synthetic, all_layers=True
    )
    assert r.hidden_percentiles.shape == (3, 3, 3, 100)
    np.testing.assert_array_equal(r.hidden_percentiles[:, -1], r.unit_percentiles)
    zs = _reference(r, synthetic)[4]
    for k, z in enumerate(zs):
        np.testing.assert_allclose(
            r.hidden_percentiles[-1, k],
            np.percentile(z, [15, 50, 85], axis=0),
            rtol=1e-10,
            atol=1e-12,
        )


def test_mnist_slice_bn_percentiles_match_reference(mnist_slice):
    r = I.ioffe_figure1_mnist(bn=True, steps=30, eval_every=10, seed=0, data=mnist_slice)
    assert r.dataset == "mnist" and r.protocol == I.CUSTOM_LABEL  # a slice is not the paper's
    assert r.sizes == (784, 100, 100, 100, 10)
    E, V, z, _, _ = _reference(r, mnist_slice)
    np.testing.assert_allclose(r.pop_mean, E, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.pop_var, V, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        r.unit_percentiles[-1], np.percentile(z, [15, 50, 85], axis=0), rtol=1e-10, atol=1e-12
    )
    assert np.all(np.diff(r.percentiles, axis=1) >= 0)


# ----------------------------------------------------------------- the BN switch matters
def _normalized_at_init(run) -> bool:
    """At step 0 a BN layer's output (gamma 1, beta 0, population statistics from the same
    distribution) is standardized: across units, the median 15-85 spread is near the
    standard normal's 2.07 and the median |50th percentile| near 0. Tolerances: a unit's
    input is not exactly Gaussian and the statistics come from at most 3,000 images; without
    BN the spread is 0.1 or less (weights N(0, 1/fan_in) on sigmoid outputs in (0, 1))."""
    P = run.unit_percentiles[0]
    spread = np.median(P[2] - P[0])
    return bool(1.5 < spread < 2.6 and np.median(np.abs(P[1])) < 0.3)


def test_bn_switch_changes_the_network(runs, synthetic, monkeypatch):
    assert _normalized_at_init(runs[True])
    assert not _normalized_at_init(runs[False])
    assert runs[True].theta.size != runs[False].theta.size  # gamma/beta instead of biases
    # same seed: both networks start from the same weight matrices
    w0 = {
        bn: [W for W, *_ in _layers(I.ioffe_figure1_mnist(bn=bn, steps=0, data=synthetic))]
        for bn in (False, True)
    }
    for a, b in zip(w0[False], w0[True], strict=True):
        np.testing.assert_array_equal(a, b)

    # mutation: a network without BN labelled as BN must fail the check above
    real = I.MLP

    def no_bn(*args, **kw):
        kw["bn"] = False
        return real(*args, **kw)

    monkeypatch.setattr(I, "MLP", no_bn)
    fake = I.ioffe_figure1_mnist(bn=True, steps=20, eval_every=20, seed=3, data=synthetic)
    assert fake.bn and not _normalized_at_init(fake)


# ----------------------------------------------------------------- drift and validation
def test_percentile_drift_by_hand():
    P = np.array([[-1.0, 0.0, 1.0], [-1.0, 0.5, 1.0], [-2.0, 0.0, 1.0]])
    assert I.percentile_drift(P) == pytest.approx(1.0 / 2.0)  # max move 1, initial spread 2
    assert I.percentile_drift(P, reference="mean") == pytest.approx(1.0 / (7.0 / 3.0))
    U = np.stack([P, 2 * P], axis=2)
    np.testing.assert_allclose(I.percentile_drift(U), [0.5, 0.5])
    with pytest.raises(ValueError, match="reference"):
        I.percentile_drift(P, reference="final")
    with pytest.raises(ValueError, match="percentiles"):
        I.percentile_drift(P[:, :2])


def test_bad_arguments(synthetic):
    with pytest.raises(TypeError, match="bn"):
        I.ioffe_figure1_mnist(bn=1, steps=1, data=synthetic)
    with pytest.raises(ValueError, match="steps"):
        I.ioffe_figure1_mnist(bn=True, steps=-1, data=synthetic)
    with pytest.raises(ValueError, match="lr"):
        I.ioffe_figure1_mnist(bn=True, steps=1, lr=0.0, data=synthetic)
    with pytest.raises(TypeError, match="data"):
        I.ioffe_figure1_mnist(bn=True, steps=1, data=(synthetic.X_train, synthetic.Y_train))
    with pytest.raises(ValueError, match="unit"):
        I.ioffe_figure1_mnist(bn=True, steps=1, unit=100, data=synthetic)


# ----------------------------------------------------------------- the experiment script
def _script():
    return importlib.import_module("bntheory.experiments.ioffe_fig1_mnist")


def test_script_exits_with_the_data_message(monkeypatch, capsys):
    import bntheory.nets.data as D

    msg = "MNIST is not installed: run `bntheory data install mnist`"

    def missing(*a, **k):
        raise DataUnavailable(msg)

    monkeypatch.setattr(D, "load_mnist", missing)
    with pytest.raises(SystemExit) as exc:
        _script().main(["--quick", "--out", "/nonexistent-never-written"])
    text = str(exc.value)
    assert msg in text and "\n" not in text


def test_script_quick_labels(synthetic, monkeypatch):
    mod = _script()
    r = {
        bn: I.ioffe_figure1_mnist(bn=bn, quick=True, steps=20, data=synthetic)
        for bn in (False, True)
    }
    data = {
        "setup": {"quick": True, "n_train": 240, "n_test": 150, "batch": 60, "steps": 20,
                  "lr": I.LR, "unit": 0, "seeds": [0], "dataset": "mnist"},
        "runs": [mod.C.to_jsonable(mod._summary(r[bn])) for bn in (False, True)],
    }  # fmt: skip
    assert all(x["protocol"] == I.QUICK_LABEL for x in data["runs"])
    titles = []
    monkeypatch.setattr(mod.C, "save_figure", lambda fig, *a: titles.append(fig._suptitle))
    with mod.C.style():
        mod.plot(data, Path("/nonexistent-never-written"))
    assert "quick (shortened protocol)" in titles[0].get_text()
    for x in data["runs"]:  # this tiny run need not learn; the check's other conditions must
        x["test_accuracy"][-1] = 0.9
    ok, message = mod.CHECK(data)
    assert ok, message
    assert message.startswith(I.QUICK_LABEL)
    data["setup"]["quick"] = False  # a quick run presented as the paper's fails the check
    assert not mod.CHECK(data)[0]
