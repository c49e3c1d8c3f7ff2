"""The MNIST experiments and the claims that share their runs: seeds shared with the ledger,
the persistent sweep store, missing data as a status (never a substitute)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from bntheory.claims import core
from bntheory.claims.core import Unavailable
from bntheory.experiments import ioffe_fig1_mnist as E
from bntheory.nets import data


def test_ledger_seeds_are_the_claims_seeds():
    """The experiment's seeds for --seed K equal what measurement_seeds gives the claims
    inside a ledger run with master seed K (independent reference: SeedSequence.spawn)."""
    token = core._MASTER_SEED.set(7)
    try:
        got = core.measurement_seeds(E.LEDGER_KEY, False, np.random.default_rng(0), n=3)
    finally:
        core._MASTER_SEED.reset(token)
    assert tuple(E.ledger_seeds(7, 3)) == got
    ref = np.random.SeedSequence([7, zlib.crc32(b"ioffe-fig1-mnist")]).spawn(3)
    assert E.ledger_seeds(7, 3) == [int(c.generate_state(1)[0]) for c in ref]
    assert E.ledger_seeds(8, 3) != E.ledger_seeds(7, 3)


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_ledger_seeds_bad_master(bad):
    with pytest.raises(ValueError, match="master"):
        E.ledger_seeds(bad, 3)


def test_sweep_store_location_and_bad_names(tmp_path, monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    assert data.sweep_store("ioffe_fig1_mnist") == tmp_path / "sweeps" / "ioffe_fig1_mnist"
    for bad in ("", "..", "a/b", 3):
        with pytest.raises(ValueError, match="name"):
            data.sweep_store(bad)


def test_claims_without_mnist_are_not_testable(monkeypatch):
    """ics-02 / cs-08 full mode: a missing MNIST is Unavailable naming the install command."""
    from bntheory.claims import _netexp

    def missing(*a, **k):
        raise data.DataUnavailable("MNIST is not installed: run `bntheory data install mnist`")

    monkeypatch.setattr(data, "load_mnist", missing)
    with pytest.raises(Unavailable, match="bntheory data install mnist"):
        _netexp.ioffe_mnist_rows(np.random.default_rng(0))


def test_gradflow_full_mode_requires_mnist(monkeypatch):
    """gf-06 / gf-07: full mode never runs the digits fallback under the article's label."""
    from bntheory.claims import gradflow
    from bntheory.nets import depth

    monkeypatch.setattr(depth, "permutation_invariant_data", lambda n: (None, None, "digits"))
    with pytest.raises(Unavailable, match="MNIST"):
        gradflow._require_data(False)
    gradflow._require_data(True)  # quick: the labelled fallback is allowed


def test_experiment_exits_with_one_line_reason(monkeypatch, tmp_path):
    def missing(*a, **k):
        raise data.DataUnavailable("MNIST is not installed: run `bntheory data install mnist`")

    monkeypatch.setattr(data, "load_mnist", missing)
    with pytest.raises(SystemExit, match="ioffe_fig1_mnist: MNIST is not installed"):
        E.main(["--quick", "--out", str(tmp_path)])


@pytest.mark.slow
def test_runs_are_cached_in_the_store(tmp_path, monkeypatch):
    """A second call reads the cells written by the first (no recomputation), and the record
    carries the per-layer drifts the claims use."""
    try:
        data.load_mnist()
    except data.DataUnavailable as exc:
        pytest.skip(f"MNIST not installed: {exc}")
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    import bntheory.nets.ioffe2015 as I

    monkeypatch.setattr(I, "QUICK_STEPS", 40)
    monkeypatch.setattr(I, "QUICK_EVAL_EVERY", 20)
    a = E.runs([3], quick=True)
    assert [r["bn"] for r in a] == [False, True]
    assert all(np.asarray(r["layer_drift_median"]).shape == (3,) for r in a)
    assert len(list((tmp_path / "sweeps" / E.NAME / "cells").glob("*.json"))) == 2

    def boom(*args, **kw):
        raise AssertionError("recomputed a cached cell")

    monkeypatch.setattr(I, "ioffe_figure1_mnist", boom)
    b = E.runs([3], quick=True)
    np.testing.assert_array_equal(a[1]["test_accuracy"], b[1]["test_accuracy"])


def _need(loader_name: str) -> None:
    try:
        getattr(data, loader_name)()
    except data.DataUnavailable as exc:
        pytest.skip(f"data not installed: {exc}")


def _tamper_yang(d):
    for c in d["cells"]:
        if c["depth"] == min(d["setup"]["depths"]):
            c["test_accuracy"] = 0.05  # the shallowest net below chance: did not learn


def _tamper_fashion(d):
    d["runs"][0]["landscape_status"] = "diverged"


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, loader, tamper",
    [
        ("yang_mnist", "load_mnist", _tamper_yang),
        ("fashion_mnist", "load_fashion_mnist", _tamper_fashion),
    ],
)
def test_quick_run_checks_and_replots(name, loader, tamper, quick_runs, monkeypatch):
    """Quick mode (500-image slices) writes strict JSON, PDF and PNG, passes its CHECK, the
    CHECK fails on tampered data, and --replot redraws without recomputing."""
    import copy
    import json

    from .conftest import assert_replot_without_recompute, reject_constant

    _need(loader)
    mod, out, code = quick_runs(name)
    assert code == 0
    d = json.loads((out / "data" / f"{name}.json").read_text(), parse_constant=reject_constant)
    assert d["setup"]["quick"] is True
    assert mod.CHECK(d)[0]
    bad = copy.deepcopy(d)
    tamper(bad)
    assert not mod.CHECK(bad)[0]
    assert_replot_without_recompute(mod, out, name, monkeypatch)


def test_yang_xi_is_the_inverse_log_rate():
    """xi(B) = 1 / log(rate): against Yang et al.'s large-B ReLU limit pi / (pi - 1)."""
    from bntheory.experiments import yang_mnist as Y

    assert Y.xi(10**6) == pytest.approx(1 / np.log(np.pi / (np.pi - 1)), rel=1e-3)
    assert Y.xi(8) < Y.xi(128)  # smaller batches explode faster


def test_new_experiments_exit_with_one_line_reason(monkeypatch, tmp_path):
    from bntheory.experiments import fashion_mnist, yang_mnist

    def missing(*a, **k):
        raise data.DataUnavailable("not installed: run `bntheory data install ...`")

    monkeypatch.setattr(data, "load_mnist", missing)
    monkeypatch.setattr(data, "load_fashion_mnist", missing)
    for mod in (yang_mnist, fashion_mnist):
        with pytest.raises(SystemExit, match=f"{mod.NAME}: not installed"):
            mod.main(["--quick", "--out", str(tmp_path)])
