"""Fuzzing of the last public entry points no other fuzz test calls (issue 10): Ioffe &
Szegedy's (2015) Fig. 1 drivers (the MNIST protocol on tiny synthetic data, its inference
network, the digits analogue), the Fashion-MNIST loader (Xiao, Rasul & Vollgraf, 2017),
the worker-process initializers, the CLI's experiment runner and the experiments' shared
command-line driver.

References: a NumPy re-implementation of the network from the documented flat-parameter
layout (batch normalization, Ioffe & Szegedy 2015, Alg. 1 for training and Alg. 2 for the
population statistics and the inference network), the published class balance of
Fashion-MNIST (6,000 training and 1,000 test images per class), the environment a child
process actually sees, and the files a child actually writes. Bad input must raise a
``ValueError``/``TypeError`` naming the argument (a missing data set: ``DataUnavailable``
naming the install command), with no NaN for finite input and no leaked warning.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from scipy.special import expit

from ._harness import (
    assert_no_nan_fields,
    expect_valid_or_named_error,
    fuzz_settings,
    ints_any,
    no_warnings,
    scalars_any,
)

EPS = 1e-5  # the BN epsilon of the Ioffe & Szegedy protocol (bntheory.nets.ioffe2015)


# ----------------------------------------------------------------------------- helpers
def _dataset(seed: int = 0, n: int = 24, n_test: int = 9, d: int = 4, k: int = 3, scale=1.0):
    from bntheory.nets.data import Dataset

    g = np.random.default_rng(seed)
    return Dataset(
        scale * g.standard_normal((n, d)),
        g.integers(0, k, n),
        scale * g.standard_normal((n_test, d)),
        g.integers(0, k, n_test),
        k,
        "synthetic",
    )


@functools.cache
def _small_data():
    return _dataset()


def _unpack(theta: np.ndarray, sizes: tuple[int, ...], bn: bool) -> list[dict]:
    """The documented flat layout (``MLP.get_flat``): per dense layer ``W`` (in, out), then
    ``b`` (layers without BN) or ``gamma, beta`` (BN layers)."""
    out, off = [], 0
    L = len(sizes) - 1
    for k in range(L):
        p = {"W": theta[off : off + sizes[k] * sizes[k + 1]].reshape(sizes[k], sizes[k + 1])}
        off += sizes[k] * sizes[k + 1]
        keys = ("gamma", "beta") if bn and k < L - 1 else ("b",)
        for key in keys:
            p[key] = theta[off : off + sizes[k + 1]]
            off += sizes[k + 1]
        out.append(p)
    assert off == theta.size
    return out


def _forward(X: np.ndarray, params: list[dict], bn: bool, stats=None):
    """Logits and the sigmoid inputs of every hidden layer: BN with the batch's statistics
    (Alg. 1) when ``stats`` is None, else with the given ``(mean, var)`` per layer (Alg. 2)."""
    h, zs, acts = X, [], []
    L = len(params)
    for k, p in enumerate(params):
        a = h @ p["W"]
        if bn and k < L - 1:
            mu, var = (a.mean(axis=0), a.var(axis=0)) if stats is None else stats[k]
            z = p["gamma"] * (a - mu) / np.sqrt(var + EPS) + p["beta"]
        else:
            z = a + p["b"]
        acts.append(a)
        if k < L - 1:
            zs.append(z)
            h = expit(z)  # SciPy's logistic function (no overflow warning)
        else:
            h = z
    return h, zs, acts


# ------------------------------------------------------ Ioffe & Szegedy, MNIST protocol
@st.composite
def _runs(draw):
    seed = draw(st.integers(0, 2**16))
    n = draw(st.integers(4, 30))
    data = _dataset(
        seed,
        n=n,
        n_test=draw(st.integers(1, 10)),
        d=draw(st.integers(1, 5)),
        k=draw(st.integers(2, 4)),
        scale=10.0 ** draw(st.floats(-3, 3)),
    )
    kw = dict(
        bn=draw(st.booleans()),
        steps=draw(st.integers(0, 4)),
        batch=draw(st.integers(2, n)),
        eval_every=draw(st.integers(1, 3)),
        lr=draw(st.floats(1e-3, 2.0)),
        seed=seed,
        quick=draw(st.booleans()),
        unit=draw(st.integers(0, 99)),
        pop_batches=draw(st.integers(1, 3)),
        all_layers=draw(st.booleans()),
    )
    return data, kw


@fuzz_settings(15)
@given(_runs())
def test_ioffe_mnist_protocol_against_numpy_reference(case):
    from bntheory.nets.ioffe2015 import (
        CUSTOM_LABEL,
        QUICK_LABEL,
        IoffeFig1Run,
        inference_network,
        ioffe_figure1_mnist,
    )
    from bntheory.status import Status

    data, kw = case
    run = expect_valid_or_named_error(ioffe_figure1_mnist, (), data=data, **kw)
    assert isinstance(run, IoffeFig1Run)
    assert run.quick is kw["quick"] and run.protocol == (
        QUICK_LABEL if kw["quick"] else CUSTOM_LABEL
    )
    assert run.eval_steps[0] == 0 and np.all(np.diff(run.eval_steps) > 0)
    event(f"{run.status} bn={kw['bn']}")
    if run.status != Status.COMPLETED:  # divergence is a status, recorded with NaN rows
        assert run.status == Status.DIVERGED and run.message
        return
    assert run.steps == kw["steps"] and run.eval_steps[-1] == kw["steps"]
    assert_no_nan_fields(run)
    assert np.all((run.test_accuracy >= 0) & (run.test_accuracy <= 1))
    P = run.unit_percentiles
    assert np.all(P[:, 0] <= P[:, 1]) and np.all(P[:, 1] <= P[:, 2])
    # independent reference: the final network re-implemented from the flat layout
    params = _unpack(run.theta, run.sizes, kw["bn"])
    X, X_test = data.X_train, data.X_test
    stats = None
    if kw["bn"]:  # Alg. 2: E[x] = E_B[mu_B], Var[x] = m/(m-1) E_B[sigma_B^2]
        per_batch = [_forward(X[idx], params, True)[2] for idx in run.pop_index]
        m = kw["batch"]
        mean = [np.mean([a[k].mean(axis=0) for a in per_batch], axis=0) for k in range(3)]
        var = [
            m / (m - 1) * np.mean([a[k].var(axis=0) for a in per_batch], axis=0) for k in range(3)
        ]
        np.testing.assert_allclose(run.pop_mean, mean, rtol=1e-9, atol=1e-12 * np.max(np.abs(mean)))
        np.testing.assert_allclose(run.pop_var, var, rtol=1e-8, atol=1e-300)
        stats = list(zip(mean, var, strict=True))
    else:
        assert run.pop_mean.shape == (0, 100)
    logits, zs, _ = _forward(X_test, params, kw["bn"], stats)
    ref_pct = np.percentile(zs[-1], [15, 50, 85], axis=0)
    scale = max(1.0, float(np.max(np.abs(ref_pct))))
    np.testing.assert_allclose(run.unit_percentiles[-1], ref_pct, rtol=1e-7, atol=1e-9 * scale)
    top2 = np.sort(logits, axis=1)[:, -2:]
    if np.all(top2[:, 1] - top2[:, 0] > 1e-9 * (1 + np.abs(top2[:, 1]))):  # no near-ties
        acc = np.mean(np.argmax(logits, axis=1) == data.Y_test)
        assert run.test_accuracy[-1] == pytest.approx(acc, abs=1e-12)
    net = inference_network(run)  # Alg. 2's inference network reproduces the last checkpoint
    out = net.forward_trace(X_test, False).out
    np.testing.assert_allclose(out, logits, rtol=1e-7, atol=1e-9 * max(1.0, np.abs(logits).max()))


_IOFFE_NAMES = ("steps", "batch", "eval_every", "lr", "seed", "unit", "pop_batches", "bn", "quick")


@fuzz_settings(80)
@given(
    st.sampled_from(_IOFFE_NAMES + ("all_layers",)),
    st.one_of(ints_any, scalars_any),
)
def test_ioffe_mnist_bad_arguments(name, value):
    from bntheory.nets.ioffe2015 import ioffe_figure1_mnist
    from bntheory.status import Status

    kw = dict(bn=True, steps=2, batch=6, eval_every=1, pop_batches=2, data=_small_data())
    if name in ("steps", "eval_every", "pop_batches") and isinstance(value, int) and value > 6:
        value = 6  # keep a valid run tiny (eval_every/pop_batches beyond the run are valid)
    kw[name] = value
    run = expect_valid_or_named_error(ioffe_figure1_mnist, (name,), **kw)
    if run is not None and run.status == Status.COMPLETED:
        assert_no_nan_fields(run)


def _corrupt(kind: str):
    from bntheory.nets.data import Dataset

    d = _small_data()
    f = {fld.name: getattr(d, fld.name) for fld in dataclasses.fields(d)}
    bad = {
        "X_test columns": dict(X_test=d.X_test[:, :2]),
        "X_test inf": dict(X_test=np.full_like(d.X_test, np.inf)),
        "X_train nan": dict(X_train=np.where(d.X_train > 1, np.nan, d.X_train)),
        "X_train complex": dict(X_train=d.X_train + 1j),
        "X_train str": dict(X_train="abc"),
        "X_train 1-D": dict(X_train=d.X_train[:, 0]),
        "X_train no columns": dict(X_train=d.X_train[:, :0], X_test=d.X_test[:, :0]),
        "Y_train float": dict(Y_train=d.Y_train + 0.5),
        "Y_train one-hot": dict(Y_train=np.eye(3)[d.Y_train]),
        "Y_train short": dict(Y_train=d.Y_train[:5]),
        "Y_train negative": dict(Y_train=d.Y_train - 1),
        "Y_train None": dict(Y_train=None),
        "Y_test short": dict(Y_test=d.Y_test[:2]),
        "Y_test out of range": dict(Y_test=d.Y_test + 7),
        "n_classes float": dict(n_classes=3.5),
        "n_classes str": dict(n_classes="3"),
        "n_classes huge": dict(n_classes=10**6),
        "n_classes one": dict(n_classes=1),
    }[kind]
    return Dataset(**{**f, **bad})


_CORRUPTIONS = [
    "X_test columns", "X_test inf", "X_train nan", "X_train complex", "X_train str",
    "X_train 1-D", "X_train no columns", "Y_train float", "Y_train one-hot", "Y_train short",
    "Y_train negative", "Y_train None", "Y_test short", "Y_test out of range",
    "n_classes float", "n_classes str", "n_classes huge", "n_classes one",
]  # fmt: skip


@pytest.mark.parametrize("kind", _CORRUPTIONS)
def test_ioffe_mnist_bad_data_is_a_named_error(kind):
    """Regression: a test set with other columns, NaN/inf inputs, a label vector of the
    wrong length or out of range, or a non-int ``n_classes`` used to give a "completed" run
    with NaN accuracies, an IndexError, a MemoryError or an unnamed TypeError."""
    from bntheory.nets.ioffe2015 import ioffe_figure1_mnist

    with no_warnings(), pytest.raises((TypeError, ValueError), match="data"):
        ioffe_figure1_mnist(bn=True, steps=2, batch=4, data=_corrupt(kind))


def test_ioffe_mnist_missing_mnist_is_named(monkeypatch, tmp_path):
    """``data=None`` reads MNIST; without it the error names the install command."""
    import bntheory.nets.mnist as mnist
    from bntheory.nets.data import DataUnavailable
    from bntheory.nets.ioffe2015 import ioffe_figure1_mnist

    monkeypatch.setenv("BNTHEORY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BNTHEORY_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(mnist, "_package_file", lambda name: None)
    with pytest.raises(DataUnavailable, match="bntheory data install mnist"):
        ioffe_figure1_mnist(bn=True, steps=1)
    with pytest.raises(ValueError, match="steps"):  # arguments are checked before any loading
        ioffe_figure1_mnist(bn=True, steps=-1)


@functools.cache
def _small_run(bn: bool = True):
    from bntheory.nets.ioffe2015 import ioffe_figure1_mnist

    return ioffe_figure1_mnist(bn=bn, steps=2, batch=6, eval_every=1, data=_small_data())


_RUN_FIELDS = ("theta", "pop_mean", "pop_var", "sizes", "bn")


_TAMPER = {
    "short": lambda a: a[..., :-1],
    "nan": lambda a: a * np.nan,
    "neg": lambda a: -a - 1.0,
    "2 rows": lambda a: a[:2],
    "5 cols": lambda a: a[..., :5],
    "list": lambda a: a.tolist(),
    "T": lambda a: a.T,
    "big": lambda a: a * 1e300,
}


@fuzz_settings(60)
@given(
    st.sampled_from(_RUN_FIELDS),
    st.one_of(scalars_any, st.sampled_from(sorted(_TAMPER))),
    st.booleans(),
)
def test_inference_network_tampered_run(field, value, bn):
    """Regression: population statistics of the wrong shape, negative, NaN or None used to
    raise an unnamed broadcasting ValueError, an IndexError or a TypeError."""
    from bntheory.nets.ioffe2015 import inference_network

    run = _small_run(bn)
    if field != "bn" and isinstance(value, str) and value in _TAMPER:
        value = _TAMPER[value](np.asarray(getattr(run, field), dtype=float))
    net = expect_valid_or_named_error(
        inference_network, ("run",), dataclasses.replace(run, **{field: value})
    )
    if net is not None:
        # huge weights: eval-mode BN names its own input "x" (MLP.forward_trace passes it on)
        out = expect_valid_or_named_error(
            net.forward_trace, ("X", "x:"), _small_data().X_test, False
        )
        assert out is None or np.all(np.isfinite(out.out))


def test_inference_network_not_a_run():
    from bntheory.nets.ioffe2015 import inference_network

    for bad in (None, {}, "run", _small_data()):
        with pytest.raises(TypeError, match="run"):
            inference_network(bad)


# --------------------------------------------------------- Ioffe & Szegedy, digits analogue
_DIGITS_NAMES = (
    "steps", "lr", "batch_size", "eval_every", "unit", "hidden", "rng", "use_digits",
    "saturated_at",
)  # fmt: skip


@fuzz_settings(60)
@given(st.sampled_from(_DIGITS_NAMES), st.one_of(ints_any, scalars_any))
def test_ioffe_figure1_bad_arguments(name, value):
    """Regression: a non-number ``lr``/``saturated_at``, a float ``unit``, a non-bool
    ``use_digits`` or an error naming ``sizes`` instead of ``hidden`` (issue 10)."""
    from bntheory.nets.ioffe2015_digits import ioffe_figure1
    from bntheory.status import Status

    kw = dict(steps=2, batch_size=8, eval_every=1, hidden=4, unit=1, use_digits=False, rng=0)
    if name == "use_digits" and value is True:
        value = False  # the digits (scikit-learn) path costs a second: tested once
    if name in ("steps", "hidden", "batch_size") and isinstance(value, int) and value > 8:
        value = 8
    if name == "lr" and isinstance(value, (int, float)) and 1e200 < value < np.inf:
        value = 1e10  # overflowing weights: see test_ioffe_figure1_overflowing_evaluation
    kw[name] = value
    r = expect_valid_or_named_error(ioffe_figure1, (name, "rng"), **kw)
    if r is None:
        return
    for sat, status in ((r.saturation_plain, r.status_plain), (r.saturation_bn, r.status_bn)):
        ok = np.isfinite(sat) | (status == Status.DIVERGED)
        assert np.all(ok) and np.all((sat[np.isfinite(sat)] >= 0) & (sat[np.isfinite(sat)] <= 1))


def test_ioffe_figure1_overflowing_evaluation():
    """Regression: an evaluation checkpoint on overflowing weights raised ValueError('x: ...
    overflows') instead of ending the run as diverged."""
    from bntheory.nets.ioffe2015_digits import ioffe_figure1
    from bntheory.status import Status

    f = ioffe_figure1(steps=2, lr=1e300, batch_size=8, eval_every=1, hidden=4, unit=1, rng=0,
                      use_digits=False)  # fmt: skip
    assert f.status_bn == Status.DIVERGED


def test_ioffe_figure1_digits_once():
    """The default data: scikit-learn's 8x8 digits (1,797 images; 449 in the test split)."""
    pytest.importorskip("sklearn")
    from bntheory.nets.ioffe2015_digits import ioffe_figure1

    f = expect_valid_or_named_error(ioffe_figure1, (), steps=2, eval_every=1, hidden=4, rng=0)
    assert f.dataset == "digits" and f.eval_steps.tolist() == [0, 1, 2]
    assert_no_nan_fields(f)
    assert f.grad_norms_bn.shape == (2, 4) and np.all(f.grad_norms_bn > 0)
    for acc in (f.accuracy_plain, f.accuracy_bn):
        assert np.all((acc >= 0) & (acc <= 1)) and np.allclose(acc * 449, np.round(acc * 449))


@fuzz_settings(10)
@given(st.floats(1e-3, 1.0), st.integers(1, 6), st.integers(0, 2**16))
def test_ioffe_figure1_saturation_closed_forms(lr, hidden, seed):
    """``|z| > 1e-300`` holds for every finite nonzero sigmoid input (fraction 1) and
    ``|z| > 1e300`` for none (fraction 0)."""
    from bntheory.nets.ioffe2015_digits import ioffe_figure1

    kw = dict(steps=2, lr=lr, batch_size=8, eval_every=1, hidden=hidden, unit=0)
    lo = ioffe_figure1(**kw, rng=seed, use_digits=False, saturated_at=1e-300)
    hi = ioffe_figure1(**kw, rng=seed, use_digits=False, saturated_at=1e300)
    for f in (lo, hi):
        assert f.dataset == "gaussian_mixture" and f.eval_steps.tolist() == [0, 1, 2]
        assert_no_nan_fields(f)
    np.testing.assert_array_equal(lo.saturation_plain, [1.0, 1.0])
    np.testing.assert_array_equal(hi.saturation_bn, [0.0, 0.0])
    np.testing.assert_array_equal(lo.accuracy_bn, hi.accuracy_bn)  # the threshold only


def test_ioffe_figure1_divergence_is_a_status():
    """Regression: a diverging learning rate used to crash in the final saturation measure
    (``ValueError: X: ... the batch variance overflows``) instead of reporting DIVERGED."""
    from bntheory.nets.ioffe2015_digits import ioffe_figure1
    from bntheory.status import Status

    f = expect_valid_or_named_error(
        ioffe_figure1, (), steps=3, lr=1e300, batch_size=8, eval_every=2, hidden=4,
        use_digits=False, rng=0,
    )  # fmt: skip
    assert f.status_bn == Status.DIVERGED and f.status_plain == Status.DIVERGED
    for sat in (f.saturation_plain, f.saturation_bn):  # before training: a fraction
        assert 0 <= sat[0] <= 1 and (np.isnan(sat[1]) or 0 <= sat[1] <= 1)


# ------------------------------------------------------------------------- Fashion-MNIST
@functools.cache
def _fashion():
    from bntheory.nets.data import DataUnavailable, load_fashion_mnist

    try:  # cache=False: never writes the user's cache (it is read when present)
        return load_fashion_mnist(dtype=np.float32, validation=True, cache=False)
    except DataUnavailable as exc:
        return exc


def test_load_fashion_mnist_installed_or_named():
    """Xiao, Rasul & Vollgraf (2017): 60,000 + 10,000 28x28 images, 10 balanced classes
    (6,000 training and 1,000 test images each); pixels ``uint8 / 255``."""
    d = _fashion()
    if isinstance(d, Exception):  # not installed here: the error names the install command
        assert "bntheory data install fashion-mnist" in str(d)
        pytest.skip(f"Fashion-MNIST not installed: {d}")
    assert d.n_classes == 10 and d.name == "fashion-mnist" and "verified" in d.source
    X = np.concatenate([d.X_train, d.X_val])
    Y = np.concatenate([d.Y_train, d.Y_val])
    assert d.X_train.shape == (50_000, 784) and d.X_val.shape == (10_000, 784)
    assert d.X_test.shape == (10_000, 784) and d.X_train.dtype == np.float32
    assert Y.dtype == np.int64 and d.Y_test.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(Y, minlength=10), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(d.Y_test, minlength=10), np.full(10, 1000))
    for A in (X[:2000], d.X_test[:2000]):
        assert A.min() >= 0 and A.max() <= 1
        k = A.astype(np.float64) * 255
        np.testing.assert_allclose(k, np.round(k), atol=1e-4)  # uint8 levels
    assert X.max() == 1.0  # some pixel is white


@fuzz_settings(60)
@given(
    st.sampled_from(["path", "dtype", "validation", "cache"]),
    st.one_of(
        scalars_any,
        st.sampled_from(
            [b"/tmp", "", "abc", np.float16, np.int64, "float64", [("a", float)], ["x"], 0]
        ),
    ),
)
def test_load_fashion_mnist_bad_arguments(tmp_path_factory, name, value):
    """Regression: ``path=123``, ``dtype='abc'`` or ``cache='x'`` used to give an unnamed
    TypeError from pathlib/NumPy or be ignored. An empty folder is ``DataUnavailable``."""
    from bntheory.nets.data import DataUnavailable, load_fashion_mnist

    empty = tmp_path_factory.mktemp("empty")
    if name == "path" and value is None:
        value = empty  # None would read the installed data set (tested above)
    kw = {"path": empty, "cache": False, name: value}
    try:
        d = expect_valid_or_named_error(load_fashion_mnist, (name,), **kw)
    except DataUnavailable as exc:  # a valid argument: the folder holds no data
        assert "fashion-mnist" in str(exc) and "path=" in str(exc)
        return
    assert d is None, "an empty folder cannot yield a data set"


def test_load_fashion_mnist_missing_everywhere(monkeypatch, tmp_path):
    """No source at all: ``DataUnavailable`` naming the install command, nothing written."""
    import bntheory.nets.mnist as mnist
    from bntheory.nets.data import DataUnavailable, load_fashion_mnist

    monkeypatch.setenv("BNTHEORY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BNTHEORY_DATA", str(tmp_path))
    monkeypatch.setattr(mnist, "_package_file", lambda name: None)
    with pytest.raises(DataUnavailable, match="bntheory data install fashion-mnist"):
        load_fashion_mnist()
    with pytest.raises(DataUnavailable, match="does not exist"):
        load_fashion_mnist(tmp_path / "nope")
    assert not (tmp_path / "cache").exists()


# ------------------------------------------------------------- worker processes, signals
_CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from bntheory.sweep.processes import die_with_parent, worker_init
    out = []
    for fn, args in eval(sys.argv[1], {"nan": float("nan")}):  # the test's own repr
        f = {"worker_init": worker_init, "die_with_parent": die_with_parent}[fn]
        try:
            f(*args)
            out.append(["ok", ""])
        except BaseException as exc:
            out.append([type(exc).__name__, str(exc)])
    untouched = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    worker_init(os.getppid(), int(sys.argv[2]))  # a valid call never ends the caller
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    omp = os.environ.get("OMP_NUM_THREADS")
    print(json.dumps({"results": out, "omp": omp, "untouched": untouched, "ignored": ignored}))
    """
)

_bad_pids = st.one_of(
    st.integers(-(2**40), 0),
    st.integers(2**31, 2**80),
    st.sampled_from([None, "1", 1.5, True, False, [1], "pid"]),
)
_bad_threads = st.one_of(
    st.integers(-5, 0),
    st.integers(2**31, 2**80),
    st.sampled_from([None, "2", 2.5, True, [1], float("nan")]),
)
_bad_sigs = st.one_of(
    st.integers(-5, 0),
    st.integers(200, 2**40),
    st.sampled_from([None, "KILL", 9.0, True, [9]]),
)


@st.composite
def _bad_process_calls(draw):
    kind = draw(st.sampled_from(["pid", "threads", "sig"]))
    if kind == "pid":
        return ("worker_init", (draw(_bad_pids),)), "parent_pid"
    if kind == "threads":
        return ("worker_init", ("PPID", draw(_bad_threads))), "blas_threads"
    return ("die_with_parent", ("PPID", draw(_bad_sigs))), "sig"


@fuzz_settings(4)
@given(st.lists(_bad_process_calls(), min_size=4, max_size=12), st.integers(1, 8))
def test_worker_init_and_die_with_parent_in_a_child(calls, threads):
    """Regression: a non-int or non-positive ``parent_pid`` made the process SIGKILL itself
    (it looked like an orphan), a bad ``blas_threads`` raised only after the signal
    handlers had changed, and a huge one an OverflowError from ctypes."""
    ppid = os.getpid()  # the child's parent

    def fill(args):
        return tuple(ppid if a == "PPID" else a for a in args)

    spec = repr([(fn, fill(args)) for (fn, args), _ in calls])
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, spec, str(threads)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONWARNINGS": "error"},
    )  # fmt: skip
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-500:])
    rep = json.loads(proc.stdout.strip().splitlines()[-1])
    for (kind, msg), (_, name) in zip(rep["results"], calls, strict=True):
        assert kind in ("TypeError", "ValueError") and name in msg, (kind, msg, name)
    assert rep["untouched"]  # a rejected call changed no signal handler
    assert rep["ignored"] and rep["omp"] == str(threads)  # what the valid call set up


def test_die_with_parent_when_parent_is_gone():
    """Documented: a ``parent_pid`` that is not this process's parent means the parent is
    gone, and ``sig`` arrives at once."""
    code = (
        "import os, signal\nfrom bntheory.sweep.processes import die_with_parent\n"
        "die_with_parent(os.getppid() + 10**6, signal.SIGTERM)\nimport time; time.sleep(30)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGTERM


# ------------------------------------------------------------------ CLI experiment runner
_WRITER = (
    "import json, sys; a = sys.argv[1:]; "
    "json.dump(a, open(a[a.index('--out') + 1] + '/argv.json', 'w'))"
)


def _experiment(command=None):
    from bntheory.cli.experiments import Experiment

    cmd = (sys.executable, "-c", _WRITER) if command is None else command
    return Experiment("tiny", "A tiny experiment.", "test", cmd)


@fuzz_settings(6)
@given(st.booleans(), st.booleans(), st.integers(0, 3))
def test_run_experiment_valid(tmp_path_factory, quick, replot, code):
    """The child sees exactly ``--quick`` / ``--out`` / ``--replot``; its exit code is returned."""
    from bntheory.cli.experiments import run_experiment

    out = tmp_path_factory.mktemp("out")
    script = _WRITER + f"; sys.exit({code})"
    name, rc, secs = run_experiment(_experiment((sys.executable, "-c", script)), quick, out, replot)
    assert (name, rc) == ("tiny", code) and secs > 0
    expect = (["--quick"] if quick else []) + ["--out", str(out)] + (["--replot"] if replot else [])
    assert json.loads((out / "argv.json").read_text()) == expect


@fuzz_settings(60)
@given(
    st.sampled_from(["exp", "quick", "out", "replot", "command"]),
    st.one_of(scalars_any, st.sampled_from([(), ("",), ("python", 3), "python", "a\0b", b"/x"])),
)
def test_run_experiment_bad_arguments(tmp_path_factory, name, value):
    """Regression: ``out=None`` ran the experiment into a folder named "None", a non-bool
    ``quick`` was taken for True, a non-Experiment raised AttributeError. Nothing starts."""
    from bntheory.cli.experiments import run_experiment

    out = tmp_path_factory.mktemp("out")
    kw = dict(exp=_experiment(), quick=False, out=out, replot=False)
    if name == "command":
        kw["exp"] = _experiment(value)
    elif name == "out" and isinstance(value, str) and value and "\0" not in value:
        kw["out"] = out / value  # a valid relative folder: inside the test's folder
    else:
        kw[name] = value
    names = ("exp", "exp.command") if name == "command" else (name,)
    try:
        r = expect_valid_or_named_error(run_experiment, names, **kw)
    except FileNotFoundError:  # a command whose program does not exist: the OS names it
        assert name == "command"
        return
    if r is None:
        assert not (out / "argv.json").exists()  # no child was started


def test_cli_run_unknown_experiment(tmp_path, capsys):
    from bntheory.cli import main

    assert main(["run", "no_such_experiment", "--out", str(tmp_path)]) == 2
    assert "unknown experiment 'no_such_experiment'" in capsys.readouterr().err


@fuzz_settings(30)
@given(st.one_of(scalars_any, st.sampled_from([b"/x", ["a"], 0])))
def test_discover_experiments_bad_root(root):
    from bntheory.cli.experiments import discover_experiments

    found = expect_valid_or_named_error(discover_experiments, ("root",), root)
    if found is not None:
        assert isinstance(found, dict)  # a str root: the shipped experiments at least


# ------------------------------------------------------------ experiments' shared driver
@contextlib.contextmanager
def _run_context():
    """The experiments' driver module, with its run settings (a module-level dict that
    :func:`run` updates) and the launcher variable restored afterwards."""
    import bntheory.experiments._common as C

    saved = dict(C.RUN_CONTEXT)
    launcher = os.environ.pop("BNTHEORY_PARENT_PID", None)
    C.RUN_CONTEXT.update(out=None, executor="serial")
    try:
        yield C
    finally:
        C.RUN_CONTEXT.clear()
        C.RUN_CONTEXT.update(saved)
        if launcher is not None:
            os.environ["BNTHEORY_PARENT_PID"] = launcher


def _compute(quick, seed):
    return {"x": [float(seed), float("nan")], "quick": quick}


@fuzz_settings(15)
@given(
    st.booleans(),
    st.one_of(st.integers(0, 10**6), st.integers(-5, -1), st.sampled_from(["abc", "1.5"])),
    st.booleans(),
)
def test_common_run_valid_and_bad_seeds(tmp_path_factory, quick, seed, ok):
    out = tmp_path_factory.mktemp("out")
    argv = (["--quick"] if quick else []) + ["--out", str(out), "--seed", str(seed)]
    if not isinstance(seed, int) or seed < 0:
        with _run_context() as C, pytest.raises(SystemExit) as e:  # argparse: exit code 2
            C.run("tiny", _compute, lambda d, o: None, lambda d: (ok, "m"), argv)
        assert e.value.code == 2 and not (out / "data").exists()
        return
    with _run_context() as C:
        rc = C.run("tiny", _compute, lambda d, o: None, lambda d: (ok, "m"), argv)
    assert rc == (0 if ok else 1)
    stored = json.loads((out / "data" / "tiny.json").read_text())
    assert stored["x"] == [float(seed), None]  # NaN stored as null, never as NaN
    assert stored["meta"]["seed"] == seed and stored["meta"]["quick"] is quick


@fuzz_settings(60)
@given(
    st.sampled_from(["name", "compute", "plot", "check", "argv", "doc", "returns"]),
    st.one_of(scalars_any, st.sampled_from(["../escape", "", ".", "a/b", "ok", ["--quick", 1]])),
)
def test_common_run_bad_arguments(tmp_path_factory, name, value):
    """Regression: a name with a path separator wrote outside ``<out>/data``, ``--out ''``
    wrote into the working directory, and a bad callable/``argv``/``doc`` or a ``compute``
    returning a list raised AttributeError/IndexError/unpacking errors."""
    out = tmp_path_factory.mktemp("out")
    kw = dict(
        name="tiny",
        compute=_compute,
        plot=lambda d, o: None,
        check=lambda d: (True, "m"),
        argv=["--out", str(out)],
        doc=None,
    )
    if name == "argv" and (
        value is None or isinstance(value, (list, tuple)) and all(isinstance(a, str) for a in value)
    ):  # a valid argv: never without --out (that would write into the checkout's figures/)
        value = ["--out", str(out), *(value or [])]
    if name == "returns":
        kw["compute"], names = (lambda q, s: value), ("compute",)
    else:
        kw[name], names = value, (name,)
    try:
        with _run_context() as C:
            rc = expect_valid_or_named_error(C.run, names, **kw)
    except SystemExit as e:  # argparse usage error on a bad argv
        assert name == "argv" and e.code == 2
        rc = None
    written = {p.relative_to(out).as_posix() for p in out.rglob("*.json")}
    assert written <= {f"data/{kw['name']}.json"}  # nothing outside <out>/data
    if rc is not None:
        assert rc == 0 and written == {f"data/{kw['name']}.json"}


def test_common_run_empty_out_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with _run_context() as C, pytest.raises(SystemExit):
        C.run("tiny", _compute, lambda d, o: None, lambda d: (True, ""), ["--out", ""])
    assert not list(tmp_path.rglob("*.json"))


def _cell(a, rng):
    return {"y": 2.0 * a, "u": float(rng.random())}


@fuzz_settings(20)
@given(
    st.one_of(st.just("cells"), scalars_any, st.sampled_from(["../x", ""])),
    st.lists(st.integers(-3, 3), min_size=1, max_size=3, unique=True),
    st.one_of(st.integers(1, 2), ints_any),
)
def test_common_sweep(name, values, seeds):
    with _run_context() as C:  # outside a run: no cell cache, serial executor
        res = expect_valid_or_named_error(
            C.sweep, ("name", "seeds"), name, _cell, {"a": values}, seeds=seeds
        )
    if res is None:
        return
    assert len(res.records) == len(values) * seeds and res.n_failed == 0
    for r in res.records:
        assert r["value"]["y"] == 2.0 * r["params"]["a"] and 0 <= r["value"]["u"] < 1


# --------------------------------------------------- claims' private Ioffe helpers (low)
@fuzz_settings(30)
@given(st.integers(1, 40), st.integers(0, 2**16))
def test_netexp_attenuation_closed_form(steps, seed):
    from bntheory.claims._netexp_ioffe import _attenuation

    g = np.random.default_rng(seed).uniform(0.1, 10.0, (steps, 4))
    k = max(1, steps // 10)
    a = g[:, 0] / g[:, 3]
    assert _attenuation(g) == pytest.approx(np.mean(a[-k:]) / np.mean(a[:k]), rel=1e-12)


def test_netexp_digits_or_unavailable(monkeypatch):
    import importlib.util

    from bntheory.claims import _netexp_ioffe
    from bntheory.claims.core import Unavailable

    if importlib.util.find_spec("sklearn") is not None:
        assert _netexp_ioffe._digits_or_unavailable() is None
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(Unavailable, match="scikit-learn"):
        _netexp_ioffe._digits_or_unavailable()
